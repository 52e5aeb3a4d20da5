"""EEG preprocessing: montage, baseline, windows, band powers (no DEAP files needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mne  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vaemi_nb import eeg  # noqa: E402
from vaemi_nb.data.deap import EEG_CHANNELS  # noqa: E402

T = np.arange(8064) / 128


def test_montage_has_every_deap_electrode():
    assert set(EEG_CHANNELS) <= set(eeg.montage().ch_names)
    info = eeg.info()
    assert info.ch_names == list(EEG_CHANNELS) and info["sfreq"] == 128
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    assert np.isfinite(pos).all() and (np.linalg.norm(pos, axis=1) > 0.05).all()
    # left-hemisphere electrodes have x < 0, right ones x > 0
    assert pos[EEG_CHANNELS.index("F3"), 0] < 0 < pos[EEG_CHANNELS.index("F4"), 0]


def test_topomap_draws_headless():
    fig, ax = plt.subplots()
    im, _ = mne.viz.plot_topomap(np.arange(32.0), eeg.info(), axes=ax, show=False)
    assert im is not None
    plt.close(fig)


def test_make_raw():
    raw = eeg.make_raw(np.ones((32, 256)))
    assert raw.get_data().shape == (32, 256) and np.allclose(raw.get_data(), 1e-6)  # uV -> V
    with pytest.raises(ValueError, match=r"\(32, n_samples\)"):
        eeg.make_raw(np.ones((40, 256)))


@pytest.mark.parametrize("hz, band", [(6, "theta"), (10, "alpha"), (20, "beta"), (37, "gamma")])
def test_band_powers_of_a_sinusoid(hz, band):
    x = np.sin(2 * np.pi * hz * T[:512])[None] * 10  # (1, 512), amplitude 10 uV
    bp = eeg.band_powers(x)[0]
    assert list(eeg.BANDS)[int(np.argmax(bp))] == band
    assert abs(10 ** bp.max() - 50) < 10  # power of a sinusoid: amplitude^2 / 2


def test_remove_baseline():
    rng = np.random.default_rng(0)
    offset = rng.normal(0, 50, (2, 3, 1))
    x = offset + np.sin(2 * np.pi * 10 * T)  # 3 s of 10 Hz averages to zero
    out = eeg.remove_baseline(x)
    assert out.shape == (2, 3, 7680)
    np.testing.assert_allclose(out, np.sin(2 * np.pi * 10 * T[384:]) + 0 * offset, atol=1e-9)
    with pytest.raises(ValueError, match="384"):
        eeg.remove_baseline(x[..., :300])


def test_windows():
    x = np.arange(2 * 7680.0).reshape(2, 7680)
    w = eeg.windows(x)
    assert w.shape == (28 + 1, 2, 512)
    np.testing.assert_array_equal(w[3], x[:, 3 * 256: 3 * 256 + 512])
    assert eeg.windows(x, 6, 6).shape == (10, 2, 768)
    with pytest.raises(ValueError, match="length_s"):
        eeg.windows(x, 61)


@pytest.mark.parametrize("length_s, step_s", [(4, 2), (6, 6), (5, 1.3)])
def test_windowed_band_powers_shortcut(length_s, step_s):
    x = np.random.default_rng(1).normal(size=(3, 2, 7680))
    fast = eeg.windowed_band_powers(x, length_s, step_s)
    slow = eeg.band_powers(eeg.windows(x, length_s, step_s))
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=1e-10)


def test_per_trial_averages_windows_of_each_trial():
    import torch

    from vaemi_nb.eeg import Features, per_trial

    subject = torch.tensor([1, 1, 1, 2, 2, 2])
    trial = torch.tensor([1, 1, 2, 1, 1, 1])
    ratings = torch.tensor([[1.0, 2, 3, 4]] * 3 + [[5.0, 6, 7, 8]] * 3)
    f = Features(torch.zeros(6, 2), subject, trial, torch.zeros(6), ratings, ["a", "b"], 1)
    v = torch.arange(12.0).reshape(6, 2)
    means, r, s = per_trial(v, f)
    assert torch.equal(means, torch.tensor([[1.0, 2], [4, 5], [8, 9]]))
    assert torch.equal(s, torch.tensor([1, 1, 2]))
    assert torch.equal(r[2], torch.tensor([5.0, 6, 7, 8]))
    with pytest.raises(ValueError, match="5 rows but there are 6 windows"):
        per_trial(v[:5], f)
