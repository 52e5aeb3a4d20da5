"""DEAP: the stand-in's format and planted effects, load_deap's checks, the ratings table."""
import csv
import pickle
import re

import numpy as np
import pytest

from shared_data import shared_path
from vaemi_nb import eeg
from vaemi_nb.data import deap, deap_standin

RATINGS_CSV = shared_path("VAEMI_DEAP_RATINGS", "deap/participant_ratings.csv")
CED = RATINGS_CSV.parent / "DEAP.ced"
needs_csv = pytest.mark.skipif(not RATINGS_CSV.is_file(),
                               reason=f"DEAP's ratings table is not at {RATINGS_CSV}")


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """Stand-in for participants 1-4 (ratings: the real table when it is present)."""
    ratings = RATINGS_CSV if RATINGS_CSV.is_file() else None
    return deap_standin.write_standin(tmp_path_factory.mktemp("deap"), range(1, 5), ratings=ratings)


@pytest.fixture(scope="module")
def loaded(standin):
    return deap.load_deap(standin, range(1, 5))


def _write(path, content):
    with open(path, "wb") as f:
        pickle.dump(content, f, protocol=4)
    return path


def _good():
    return {"data": np.zeros((40, 40, 8064), np.float32), "labels": np.full((40, 4), 5.0)}


# --- stand-in and load_deap ---------------------------------------------------------------

def test_standin_round_trip(loaded):
    assert loaded.data.shape == (4, 40, 32, 8064) and loaded.data.dtype == np.float32
    assert loaded.labels.shape == (4, 40, 4) and loaded.labels.dtype == np.float32
    assert loaded.labels.min() >= 1 and loaded.labels.max() <= 9
    assert loaded.subjects == (1, 2, 3, 4) and loaded.channels == deap.EEG_CHANNELS
    assert "stand-in" in loaded.source and "not DEAP" in loaded.source
    rms = loaded.data[..., 384:].std(-1)
    assert 3 < rms.mean() < 50  # microvolts, like DEAP's EEG


def test_standin_file_has_deaps_format(standin):
    with open(standin / "s01.dat", "rb") as f:
        content = pickle.load(f, encoding="latin1")
    assert set(content) == {"data", "labels"}
    assert content["data"].shape == (40, 40, 8064) and content["data"].dtype == np.float64
    assert content["labels"].shape == (40, 4) and content["labels"].dtype == np.float64
    eeg_part = content["data"][:, :32]
    np.testing.assert_allclose(eeg_part.mean(1), 0, atol=1e-9)  # common average reference
    marker = (standin / "STANDIN.txt").read_text()
    assert "NOT DEAP" in marker and "valence" in marker and "seed: 0" in marker


def test_channel_groups(standin):
    everything = deap.load_deap(standin, 2, channels="all")
    assert everything.data.shape == (1, 40, 40, 8064) and everything.channels == deap.CHANNELS
    some = deap.load_deap(standin, [2], channels=["O2", "GSR"])
    np.testing.assert_array_equal(some.data[0, :, 0], everything.data[0, :, 31])
    np.testing.assert_array_equal(some.data[0, :, 1], everything.data[0, :, 36])
    assert deap.load_deap(standin, 2, channels="peripheral").channels == deap.PERIPHERAL_CHANNELS
    with pytest.raises(ValueError, match="channels"):
        deap.load_deap(standin, 2, channels="EEG")
    with pytest.raises(ValueError, match="Cz2"):
        deap.load_deap(standin, 2, channels=["Cz2"])


def test_each_file_depends_only_on_seed_and_participant(standin, tmp_path):
    deap_standin.write_standin(tmp_path, [3], ratings=RATINGS_CSV if RATINGS_CSV.is_file() else None)
    one, alone = (deap.load_deap(r, 3, channels="all").data for r in (standin, tmp_path))
    np.testing.assert_array_equal(one, alone)


def test_folder_layouts_and_real_source(standin, tmp_path):
    sub = tmp_path / "data_preprocessed_python"
    sub.mkdir()
    (sub / "s02.dat").symlink_to(standin / "s02.dat")  # no STANDIN.txt: looks like DEAP
    got = deap.load_deap(tmp_path, [2])
    assert got.source.startswith("DEAP (real)") and "stand-in" not in got.source


def test_standin_baseline_has_no_effect_but_video_has(loaded):
    ch = list(deap.EEG_CHANNELS)
    right = [ch.index(c) for c in ("Fp2", "AF4", "F4", "F8", "FC6")]
    left = [ch.index(c) for c in ("Fp1", "AF3", "F3", "F7", "FC5")]

    def asym(part):
        alpha = eeg.band_powers(part)[..., 1]  # (4, 40, 32)
        a = alpha[..., right].mean(-1) - alpha[..., left].mean(-1)
        a = a - a.mean(1, keepdims=True)
        return np.corrcoef(a.ravel(), loaded.labels[..., 0].ravel())[0, 1]

    assert abs(asym(loaded.data[..., :384])) < 0.2
    assert asym(loaded.data[..., 384 + 128:384 + 512]) > 0.4


def test_ensure_standin_writes_only_what_is_missing(standin, tmp_path, monkeypatch):
    monkeypatch.setattr(deap_standin, "default_root", lambda: tmp_path)
    monkeypatch.delenv("VAEMI_DEAP_RATINGS", raising=False)
    root = deap_standin.ensure_standin(subjects=[1])
    assert root == tmp_path / "deap-standin" and (root / "s01.dat").is_file()
    stamp = (root / "s01.dat").stat().st_mtime_ns
    deap_standin.ensure_standin(subjects=[1, 2])
    assert (root / "s01.dat").stat().st_mtime_ns == stamp and (root / "s02.dat").is_file()
    deap_standin.ensure_standin(subjects=[2], seed=1)  # other settings: old files go
    assert not (root / "s01.dat").exists() and "seed: 1" in (root / "STANDIN.txt").read_text()


def test_write_standin_refuses_a_real_looking_folder(tmp_path):
    (tmp_path / "s01.dat").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="real DEAP"):
        deap_standin.write_standin(tmp_path, [2])


def test_generated_ratings_when_no_table(tmp_path, monkeypatch):
    monkeypatch.delenv("VAEMI_DEAP_RATINGS", raising=False)
    table, note = deap_standin._standin_ratings(None, seed=0)
    assert "generated" in note and table.shape == (32, 40, 4)
    assert table.min() >= 1 and table.max() <= 9 and 1.5 < table.std() < 2.5
    monkeypatch.setenv("VAEMI_DEAP_RATINGS", str(tmp_path / "nope.csv"))
    with pytest.raises(FileNotFoundError, match="VAEMI_DEAP_RATINGS.*nope.csv"):
        deap_standin._standin_ratings(None, seed=0)


@needs_csv
def test_standin_labels_are_the_real_ratings_in_video_order(loaded):
    assert "real DEAP participant ratings" in loaded.source
    # participant 1 saw Experiment_id 5 first; its ratings: valence, arousal, dominance, liking
    np.testing.assert_allclose(loaded.labels[0, 4], [6.96, 3.92, 7.19, 6.05], rtol=1e-6)


# --- load_deap's checks ----------------------------------------------------------------------

def test_missing_root_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "nowhere"))):
        deap.load_deap(tmp_path / "nowhere", [1])
    with pytest.raises(FileNotFoundError, match=r"s03\.dat .*data_preprocessed_python.*signed"):
        deap.load_deap(tmp_path, [3])


def test_truncated_file(standin, tmp_path):
    path = tmp_path / "s01.dat"
    path.write_bytes((standin / "s01.dat").read_bytes()[:100_000])
    with pytest.raises(ValueError, match=re.escape(str(path)) + " is truncated or corrupt"):
        deap.load_deap(tmp_path, [1])
    path.write_bytes(b"not a pickle at all")
    with pytest.raises(ValueError, match="s01.dat is truncated or corrupt"):
        deap.load_deap(tmp_path, [1])


@pytest.mark.parametrize("change, message", [
    (lambda c: c.pop("labels"), "keys 'data' and 'labels'"),
    (lambda c: c.update(data=c["data"][:, :, :8000]), r"'data' is float32 \(40, 40, 8000\)"),
    (lambda c: c.update(labels=c["labels"][:39]), r"'labels' is float64 \(39, 4\)"),
    (lambda c: c["data"].__setitem__((7, 2, 100), np.nan), "trial 8, channel F3 has NaN"),
    (lambda c: c["labels"].__setitem__((0, 1), 9.5), r"ratings in \[1, 9\]"),
    (lambda c: c["labels"].__setitem__((0, 1), 0.0), r"ratings in \[1, 9\]"),
], ids=["no-labels", "short-data", "short-labels", "nan", "label-high", "label-low"])
def test_bad_content_is_named(tmp_path, change, message):
    content = _good()
    change(content)
    path = _write(tmp_path / "s05.dat", content)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + message):
        deap.load_deap(tmp_path, [5])


def test_nan_in_an_unloaded_channel_is_ignored(tmp_path):
    content = _good()
    content["data"][0, 39, 0] = np.nan  # temperature channel
    _write(tmp_path / "s05.dat", content)
    assert deap.load_deap(tmp_path, 5).data.shape == (1, 40, 32, 8064)
    with pytest.raises(ValueError, match="channel Temperature"):
        deap.load_deap(tmp_path, 5, channels="all")


@pytest.mark.parametrize("subjects", [0, 33, [1, 1], [], ["1"], [True], 2.0])
def test_bad_subject_ids(tmp_path, subjects):
    with pytest.raises(ValueError, match="subjects"):
        deap.load_deap(tmp_path, subjects)


# --- ratings table ---------------------------------------------------------------------------

@needs_csv
def test_read_real_ratings():
    table = deap.read_ratings(RATINGS_CSV)
    assert table.shape == (32, 40, 4) and table.min() >= 1 and table.max() <= 9
    np.testing.assert_allclose(table[0, 4], [6.96, 3.92, 7.19, 6.05])  # first row of the CSV
    np.testing.assert_allclose(table[0, 17], [7.23, 7.15, 6.94, 8.01])  # second row


def _ratings_csv(path, rows=None):
    table = deap_standin._generated_ratings(0)
    if rows is None:
        rows = [[p, e, e, 0, *table[p - 1, e - 1], 3] for p in range(1, 33) for e in range(1, 41)]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Participant_id", "Trial", "Experiment_id", "Start_time", "Valence",
                      "Arousal", "Dominance", "Liking", "Familiarity"])
        out.writerows(rows)
    return path, table, rows


def test_read_ratings_round_trip_and_errors(tmp_path):
    path, table, rows = _ratings_csv(tmp_path / "r.csv")
    np.testing.assert_allclose(deap.read_ratings(path), table)
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        deap.read_ratings(tmp_path / "absent.csv")
    bad = [
        (rows[:-1], "no row for participant 32, Experiment_id 40"),
        (rows + [rows[0]], "line 1282: participant 1, video 1 appears twice"),
        ([rows[0][:4] + ["x"] + rows[0][5:]] + rows[1:], "line 2: cannot parse"),
        ([rows[0][:4] + [9.5] + rows[0][5:]] + rows[1:], r"line 2: ratings .* outside \[1, 9\]"),
        ([[33] + rows[0][1:]] + rows[1:], "line 2: Participant_id 33"),
    ]
    for i, (content, message) in enumerate(bad):
        broken, _, _ = _ratings_csv(tmp_path / f"bad{i}.csv", content)
        with pytest.raises(ValueError, match=f"bad{i}.csv.*{message}"):
            deap.read_ratings(broken)
    (tmp_path / "cols.csv").write_text("Participant_id,Experiment_id,Valence\n1,1,5\n")
    with pytest.raises(ValueError, match=r"cols.csv lacks the columns \['Arousal'"):
        deap.read_ratings(tmp_path / "cols.csv")


@pytest.mark.skipif(not CED.is_file(), reason=f"DEAP's channel file is not at {CED}")
def test_channel_order_matches_deaps_locations_file():
    rows = [line.split("\t") for line in CED.read_text().splitlines()[1:] if line.strip()]
    assert tuple(r[1].strip() for r in rows) == deap.EEG_CHANNELS


def test_constants():
    assert len(deap.EEG_CHANNELS) == 32 and len(deap.PERIPHERAL_CHANNELS) == 8
    assert deap.CHANNELS == deap.EEG_CHANNELS + deap.PERIPHERAL_CHANNELS
    assert deap.N_SAMPLES == (deap.BASELINE_S + 60) * deap.SFREQ


# --- features and the planted effects ---------------------------------------------------------

@pytest.fixture(scope="module")
def feats(loaded):
    return eeg.features(loaded)


def test_features_standardised_per_participant(feats, loaded):
    assert feats.x.shape == (4 * 40 * 29, 128) and feats.n_bands == 4
    assert feats.feature_names[:5] == ["Fp1-theta", "Fp1-alpha", "Fp1-beta", "Fp1-gamma",
                                       "AF3-theta"]
    for s in (1, 2, 3, 4):
        x = feats.x[feats.subject == s].double()
        assert x.mean(0).abs().max() < 1e-4 and (x.std(0, unbiased=False) - 1).abs().max() < 1e-4
    assert set(feats.trial.tolist()) == set(range(1, 41)) and feats.window.max() == 28
    row = 5 * 29 + 3  # participant 1, trial 6, window 3
    assert (feats.subject[row], feats.trial[row], feats.window[row]) == (1, 6, 3)
    np.testing.assert_array_equal(feats.ratings[row].numpy(), loaded.labels[0, 5])


def test_features_unstandardised_match_band_powers(loaded):
    one = loaded._replace(data=loaded.data[:1], labels=loaded.labels[:1], subjects=(1,))
    raw = eeg.features(one, standardise=False)
    direct = eeg.band_powers(eeg.windows(eeg.remove_baseline(one.data[0, :5])))  # (5, 29, 32, 4)
    np.testing.assert_allclose(raw.x[:5 * 29].numpy(), direct.reshape(5 * 29, 128), rtol=1e-5)
    with pytest.raises(ValueError, match="channels='eeg'"):
        eeg.features(one._replace(channels=("Fp1", "GSR")))


def _trial_means(feats, names):
    cols = [feats.feature_names.index(n) for n in names]
    v = feats.x[:, cols].double().mean(1).numpy()
    key = feats.subject.numpy() * 100 + feats.trial.numpy()
    _, inv = np.unique(key, return_inverse=True)
    return np.bincount(inv, v) / np.bincount(inv), inv


def test_planted_effects(feats):
    """Per-trial correlations. Measured for participants 1-4 with the real ratings: 0.73
    (asymmetry ~ valence), 0.67 (beta ~ arousal), -0.62 (posterior alpha ~ arousal), 0.15
    (beta ~ valence); with the generated ratings: 0.78, 0.63, -0.63, 0.03."""
    right, _ = _trial_means(feats, [f"{c}-alpha" for c in ("Fp2", "AF4", "F4", "F8", "FC6")])
    left, inv = _trial_means(feats, [f"{c}-alpha" for c in ("Fp1", "AF3", "F3", "F7", "FC5")])
    centro_posterior = ("Pz", "P3", "P4", "O1", "O2", "Cz", "CP1", "CP2")
    beta, _ = _trial_means(feats, [f"{c}-beta" for c in centro_posterior])
    post_alpha, _ = _trial_means(feats, [f"{c}-alpha" for c in ("O1", "O2", "Oz", "PO3", "PO4")])
    ratings = np.stack([np.bincount(inv, feats.ratings[:, k].double().numpy()) / np.bincount(inv)
                        for k in range(2)])
    r = lambda a, b: np.corrcoef(a, b)[0, 1]  # noqa: E731
    assert r(right - left, ratings[0]) > 0.5
    assert r(beta, ratings[1]) > 0.5
    assert r(post_alpha, ratings[1]) < -0.4
    assert abs(r(beta, ratings[0])) < 0.3 and abs(r(right - left, ratings[1])) < 0.3
