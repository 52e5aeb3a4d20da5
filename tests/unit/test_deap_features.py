"""load_deap_features: the three-file layout of published per-trial DEAP features, every error
it must name, and (when present) the real folder of ../shared/data/deap/features."""
import csv

import numpy as np
import pytest
import torch

from shared_data import shared_path
from vaemi_nb import eeg
from vaemi_nb.data import deap, deap_features, load_deap_features

FEATURES = shared_path("VAEMI_DEAP_FEATURES", "deap/features")
RATINGS_CSV = shared_path("VAEMI_DEAP_RATINGS", "deap/participant_ratings.csv")
needs_real = pytest.mark.skipif(not (FEATURES / deap_features.FEATURE_FILE).is_file(),
                                reason=f"the real DEAP features are not at {FEATURES}")

TRIALS = [(1, 5), (1, 3), (1, 40), (2, 3), (2, 1), (2, 7)]  # (participant, video), presentation order


def _folder(path, *, crlf=False, seed=0):
    """A small folder in the layout: the trials of TRIALS, random features, labels from _rating()."""
    n = len(TRIALS)
    rng = np.random.default_rng(seed)
    x = rng.uniform(1.6, 10.7, (n, 160))
    end = "\r\n" if crlf else "\n"
    path.mkdir(parents=True, exist_ok=True)
    (path / "EEG_feature.txt").write_text(end.join("\t".join(f"{v:.14f}" for v in row) for row in x))
    (path / "subject_video.txt").write_text(end.join(f"{p}\t{v}" for p, v in TRIALS[:n]) + end)
    labels = [(1 if _rating(p, v)[0] >= 5 else 2, 1 if _rating(p, v)[1] >= 5 else 2) for p, v in TRIALS[:n]]
    (path / "valence_arousal_label.txt").write_text(end.join(f"{a}\t{b}" for a, b in labels) + end)
    return x


def _rating(p, v):
    return (1 + (p * 7 + v * 3) % 9, 1 + (p * 5 + v) % 9, 5.0, 6.0)


def _ratings_csv(path, trials=TRIALS):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Participant_id", "Trial", "Experiment_id", "Start_time", "Valence", "Arousal", "Dominance",
                      "Liking", "Familiarity"])
        for t, (p, v) in enumerate(trials):
            out.writerow([p, t + 1, v, 0, *_rating(p, v), 3])
    return path


def _replace_line(path, line, text):
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("crlf", [False, True])
def test_round_trip_in_file_order(tmp_path, crlf):
    x = _folder(tmp_path, crlf=crlf)
    d = load_deap_features(tmp_path)
    assert d.x.shape == (6, 160) and d.x.dtype == np.float32
    np.testing.assert_allclose(d.x, x.astype(np.float32))  # the file's values, columns and rows
    np.testing.assert_array_equal(d.participant, [1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(d.video, [5, 3, 40, 3, 1, 7])
    assert d.participant.dtype == d.video.dtype == d.labels.dtype == np.int64
    expected = [[int(_rating(p, v)[0] >= 5), int(_rating(p, v)[1] >= 5)] for p, v in TRIALS]
    np.testing.assert_array_equal(d.labels, expected)  # 1 = positive valence / high arousal
    assert d.ratings is None and d.standin is False
    assert d.bands == ("theta", "slow alpha", "alpha", "beta", "gamma") and d.channels == deap.EEG_CHANNELS
    assert "DEAP (real)" in d.source and "not documented" in d.source
    assert f"{tmp_path.name}/" in d.source and str(tmp_path) not in d.source  # the folder by name, no path


def test_ratings_are_joined_on_participant_and_video(tmp_path):
    _folder(tmp_path / "f")
    shuffled = [TRIALS[i] for i in (4, 0, 5, 2, 1, 3)] + [(3, 1)]  # any order, extra rows allowed
    d = load_deap_features(tmp_path / "f", _ratings_csv(tmp_path / "r.csv", shuffled))
    assert d.ratings.shape == (6, 4) and d.ratings.dtype == np.float32
    np.testing.assert_allclose(d.ratings, [_rating(p, v) for p, v in TRIALS])
    assert "from r.csv" in d.source and str(tmp_path) not in d.source


def test_a_trial_without_a_ratings_row_is_named(tmp_path):
    _folder(tmp_path / "f")
    csv_path = _ratings_csv(tmp_path / "r.csv", TRIALS[:4] + TRIALS[5:])  # (2, 1) missing
    with pytest.raises(ValueError, match=r"subject_video.txt, line 5: participant 2, video 1 has no row in "
                                         r"the ratings file .*r.csv"):
        load_deap_features(tmp_path / "f", csv_path)


@pytest.mark.parametrize("name", ["EEG_feature.txt", "subject_video.txt", "valence_arousal_label.txt"])
def test_a_missing_file_names_file_and_folder(tmp_path, name):
    _folder(tmp_path)
    (tmp_path / name).unlink()
    with pytest.raises(FileNotFoundError, match=f"{name} is missing from the DEAP features folder {tmp_path}"):
        load_deap_features(tmp_path)


@pytest.mark.parametrize("name", ["subject_video.txt", "valence_arousal_label.txt"])
def test_different_row_counts_name_both_files_and_counts(tmp_path, name):
    _folder(tmp_path)
    lines = (tmp_path / name).read_text().splitlines()
    (tmp_path / name).write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match=f"EEG_feature.txt has 6 rows but {name} has 5"):
        load_deap_features(tmp_path)


def test_a_longer_feature_file_is_named_too(tmp_path):
    _folder(tmp_path)
    x = (tmp_path / "EEG_feature.txt").read_text().splitlines()
    (tmp_path / "EEG_feature.txt").write_text("\n".join(x + [x[0]]))
    with pytest.raises(ValueError, match="EEG_feature.txt has 7 rows but subject_video.txt has 6"):
        load_deap_features(tmp_path)


@pytest.mark.parametrize("name, line, text, message", [
    ("EEG_feature.txt", 3, "\t".join(["4.5"] * 159), "159 values, expected 160"),
    ("EEG_feature.txt", 2, "\t".join(["4.5"] * 80 + ["abc"] + ["4.5"] * 79), "not a number"),
    ("EEG_feature.txt", 4, "\t".join(["4.5"] * 159 + ["nan"]), "NaN or Inf"),
    ("EEG_feature.txt", 6, "\t".join(["inf"] + ["4.5"] * 159), "NaN or Inf"),
    ("EEG_feature.txt", 1, "", "0 values, expected 160"),
    ("subject_video.txt", 2, "1", "1 values, expected 2"),
    ("subject_video.txt", 3, "1\tx", "not a number"),
    ("subject_video.txt", 3, "1\t41", "video .*41 is not a whole number in 1..40"),
    ("subject_video.txt", 3, "1.5\t4", "participant 1.5 is not a whole number"),
    ("subject_video.txt", 3, "1\t5", "participant 1, video 5 already appears on line 1"),
    ("valence_arousal_label.txt", 5, "1\t3", "arousal label 3 is not 1 or 2"),
    ("valence_arousal_label.txt", 2, "nan\t1", "NaN or Inf"),
])
def test_a_bad_row_names_file_and_line(tmp_path, name, line, text, message):
    _folder(tmp_path)
    _replace_line(tmp_path / name, line, text)
    with pytest.raises(ValueError, match=f"{name}, line {line}: {message}"):
        load_deap_features(tmp_path)


def test_trailing_blank_lines_are_allowed_but_not_inner_ones(tmp_path):
    _folder(tmp_path)
    path = tmp_path / "subject_video.txt"
    path.write_text(path.read_text() + "\n\n")
    assert len(load_deap_features(tmp_path).x) == 6
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + [""] + lines[2:]))
    with pytest.raises(ValueError, match="subject_video.txt, line 3: 0 values"):
        load_deap_features(tmp_path)


def test_trial_features_standardise_within_participant_band_major(tmp_path):
    x = _folder(tmp_path)
    f = eeg.trial_features(load_deap_features(tmp_path))
    assert f.x.shape == (6, 160) and f.labels.shape == (6, 2) and f.ratings is None
    for p in (1, 2):
        rows = f.subject == p
        assert f.x[rows].double().mean(0).abs().max() < 1e-5
        assert (f.x[rows].double().std(0, unbiased=False) - 1).abs().max() < 1e-4
    assert f.feature_names[0] == "Fp1-theta" and f.feature_names[32] == "Fp1-slow alpha"
    assert f.feature_names[159] == "O2-gamma" and f.bands[1] == "slow alpha"
    raw = eeg.trial_features(load_deap_features(tmp_path), standardise=False)
    maps = eeg.feature_maps(raw.x, raw)  # (6, 32 electrodes, 5 bands)
    assert maps.shape == (6, 32, 5)
    c = deap.EEG_CHANNELS.index("Cz")
    np.testing.assert_allclose(maps[:, c, 3].numpy(), x[:, 3 * 32 + c].astype(np.float32))  # beta at Cz
    means, ratings, subj = eeg.per_trial(f.x, f)
    assert ratings is None and torch.equal(subj, torch.tensor([1, 1, 1, 2, 2, 2]))


@needs_real
def test_the_real_features():
    ratings = RATINGS_CSV if RATINGS_CSV.is_file() else None
    d = load_deap_features(FEATURES, ratings)
    assert d.x.shape == (1216, 160) and np.isfinite(d.x).all()
    assert 1.5 < d.x.min() and d.x.max() < 11
    assert sorted(set(d.participant.tolist())) == list(range(1, 33))
    assert np.bincount(d.participant)[1:].tolist() == [38] * 32
    assert not {17, 18} & set(d.video.tolist())
    if ratings is not None:  # the published labels are "rating >= 5" on every trial
        np.testing.assert_array_equal(d.labels, (d.ratings[:, :2] >= 5).astype(np.int64))
        assert d.ratings.min() >= 1 and d.ratings.max() <= 9
