"""EEG preprocessing for the DEAP chapter, with MNE: baseline, windows, log band powers.

DEAP's preprocessed EEG is already band-passed to 4-45 Hz, cleaned of eye artefacts and
re-referenced to the common average, so no further filtering is done here. Each 63-s trial
loses its 3-s pre-video baseline, is cut into overlapping windows, and every window becomes
32 channels x 4 bands of log10 band power, standardised within each participant
(:func:`features`). Published per-trial features (``data.deap_features``) become the same
:class:`Features`, one row per trial, by :func:`trial_features`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import mne
import numpy as np
import torch
from torch import Tensor

from .data.deap import BASELINE_S, EEG_CHANNELS, MONTAGE, SFREQ, DeapData, montage
from .data.deap_features import DeapFeatures

BANDS = {"theta": (4, 8), "alpha": (8, 13), "beta": (13, 30), "gamma": (30, 45)}  # Hz, [lo, hi)
__all__ = ["BANDS", "MONTAGE", "montage", "info", "make_raw", "remove_baseline", "windows", "band_powers",
           "windowed_band_powers", "Features", "features", "trial_features", "per_trial", "feature_maps"]


def info() -> mne.Info:
    """MNE ``Info`` of DEAP's 32 EEG channels (DEAP's order, 128 Hz) with 10-20 positions;
    usable as ``mne.viz.plot_topomap(values, info())`` for one value per channel."""
    out = mne.create_info(list(EEG_CHANNELS), SFREQ, ch_types="eeg")
    out.set_montage(montage())
    return out


def make_raw(trial_data: np.ndarray) -> mne.io.RawArray:
    """``RawArray`` of one trial, ``trial_data`` (32, n) in microvolts (converted to volts)."""
    trial_data = np.asarray(trial_data)
    if trial_data.ndim != 2 or trial_data.shape[0] != len(EEG_CHANNELS):
        raise ValueError(f"trial_data must be (32, n_samples) EEG in DEAP's channel order; got "
                         f"{trial_data.shape} (take data[..., :32, :] for the EEG channels)")
    return mne.io.RawArray(trial_data * 1e-6, info(), verbose=False)


def remove_baseline(data: np.ndarray) -> np.ndarray:
    """Drop the 3-s pre-video baseline: (..., C, 8064) -> (..., C, 7680).

    Each channel's mean over the baseline is subtracted first. The baseline (a fixation cross
    before the video) is not stimulus-driven, so it is not part of the response; after DEAP's
    4-45 Hz band-pass its mean is close to zero, and subtracting it only removes any residual
    per-trial offset.
    """
    n = BASELINE_S * SFREQ
    if data.shape[-1] <= n:
        raise ValueError(f"data must have more than {n} samples (3 s of baseline at 128 Hz) "
                         f"on its last axis; got shape {data.shape}")
    return data[..., n:] - data[..., :n].mean(-1, keepdims=True)


def windows(data: np.ndarray, length_s: float = 4.0, step_s: float = 2.0) -> np.ndarray:
    """Cut (..., C, T) into windows (..., W, C, L), L = length_s * 128, step step_s * 128.

    4-s windows with a 2-s step give 29 windows per 60-s trial; each window holds seven
    half-overlapping 1-s Welch segments, so its spectrum (1-Hz resolution) averages enough
    segments to be stable while the window is still short. Overlapping windows of one trial
    are not independent: split train/test by trial, not by window.
    """
    length, step = round(length_s * SFREQ), round(step_s * SFREQ)
    if not 0 < length <= data.shape[-1] or step <= 0:
        raise ValueError(f"windows: need 0 < length_s <= {data.shape[-1] / SFREQ} s and "
                         f"step_s > 0; got length_s={length_s}, step_s={step_s}")
    view = np.lib.stride_tricks.sliding_window_view(data, length, axis=-1)[..., ::step, :]
    return np.moveaxis(view, -2, -3)  # (..., C, W, L) -> (..., W, C, L)


def _welch(data: np.ndarray, n_fft: int, fmin: float, fmax: float, average: str | None):
    return mne.time_frequency.psd_array_welch(
        np.asarray(data, dtype=np.float64), SFREQ, fmin=fmin, fmax=fmax, n_fft=n_fft,
        n_per_seg=n_fft, n_overlap=n_fft // 2, window="hann", average=average, verbose=False)


def _sum_bands(psd: np.ndarray, freqs: np.ndarray, bands: Mapping[str, tuple[float, float]],
               n_fft: int) -> np.ndarray:
    """log10 band powers from a PSD (..., F) -> (..., n_bands)."""
    masks = [(freqs >= lo) & (freqs < hi) for lo, hi in bands.values()]
    power = np.stack([psd[..., m].sum(-1) for m in masks], -1)
    return np.log10(np.maximum(power * SFREQ / n_fft, np.finfo(np.float64).tiny))


def band_powers(data: np.ndarray, bands: Mapping[str, tuple[float, float]] = BANDS, *,
                n_fft: int = 128) -> np.ndarray:
    """log10 band power (..., C, T) -> (..., C, n_bands), in log10(uV^2) for data in uV.

    Welch's method (``mne.time_frequency.psd_array_welch``, Hann windows of ``n_fft`` samples
    = 1 s, half-overlapping, 1-Hz resolution); a band's power is the PSD summed over the bins
    with lo <= f < hi times the bin width. Logs, because EEG power is roughly log-normal
    across windows: the logs are closer to Gaussian and effects become additive.
    """
    lo, hi = min(b[0] for b in bands.values()), max(b[1] for b in bands.values())
    psd, freqs = _welch(data, n_fft, lo, hi, "mean")
    return _sum_bands(psd, freqs, bands, n_fft)


def windowed_band_powers(data: np.ndarray, length_s: float = 4.0, step_s: float = 2.0,
                         bands: Mapping[str, tuple[float, float]] = BANDS, *,
                         n_fft: int = 128) -> np.ndarray:
    """``band_powers(windows(data, length_s, step_s))``, (..., C, T) -> (..., W, C, n_bands).

    Same numbers, computed faster: when windows start on Welch segment boundaries (length and
    step multiples of n_fft / 2 samples), each Welch segment is transformed once and shared by
    the overlapping windows that contain it.
    """
    hop, length, step = n_fft // 2, round(length_s * SFREQ), round(step_s * SFREQ)
    if length % hop or step % hop or length < n_fft:
        return band_powers(windows(data, length_s, step_s), bands, n_fft=n_fft)
    n_win = (data.shape[-1] - length) // step + 1
    if n_win < 1:
        raise ValueError(f"windows: length_s={length_s} is longer than the data "
                         f"({data.shape[-1] / SFREQ} s)")
    lo, hi = min(b[0] for b in bands.values()), max(b[1] for b in bands.values())
    usable = data[..., : (n_win - 1) * step + length]
    seg_psd, freqs = _welch(usable, n_fft, lo, hi, None)  # (..., C, F, n_segments)
    per_window = (length - n_fft) // hop + 1
    groups = np.lib.stride_tricks.sliding_window_view(seg_psd, per_window, axis=-1)
    psd = groups[..., :: step // hop, :].mean(-1)  # (..., C, F, W)
    psd = np.moveaxis(psd, -1, -3)  # (..., W, C, F)
    return _sum_bands(psd, freqs, bands, n_fft)


class Features(NamedTuple):
    """Window (or trial) features: ``x`` (N, C * n_bands) float32 band powers (z-scored per
    participant if asked), columns named by ``feature_names`` ("F3-alpha"; channel-major from
    :func:`features`, band-major from :func:`trial_features`); ``subject``, ``trial`` (video,
    1-40), ``window`` (N,) int64; ``ratings`` (N, 4) float32 of the trial (None when unknown);
    ``source`` and ``standin`` as loaded (see ``vaemi_nb.data.load_deap``); ``labels`` (N, 2)
    int64 high (1) or low (0) valence and arousal of the trial; ``bands`` the band names."""

    x: Tensor
    subject: Tensor
    trial: Tensor
    window: Tensor
    ratings: Tensor | None
    feature_names: list[str]
    n_bands: int
    source: str = ""
    standin: bool = False
    labels: Tensor | None = None
    bands: tuple[str, ...] = tuple(BANDS)


def features(deap: DeapData, *, length_s: float = 4.0, step_s: float = 2.0,
             bands: Mapping[str, tuple[float, float]] = BANDS,
             standardise: bool = True) -> Features:
    """Band-power features of every window of every trial of ``deap`` (EEG channels).

    Per participant: remove the baseline, cut windows, take log10 band powers; then, with
    ``standardise``, z-score every feature within each participant. That removes the large
    between-participant differences in overall power (skull, electrode contact) that would
    otherwise dominate, the usual step for cross-participant EEG models.
    """
    bad = [c for c in deap.channels if c not in EEG_CHANNELS]
    if bad:
        raise ValueError(f"features needs EEG channels only; load with channels='eeg' "
                         f"(found {bad})")
    per_subject = []
    for data in deap.data:  # (40, C, 8064)
        bp = windowed_band_powers(remove_baseline(data), length_s, step_s, bands)  # (40, W, C, B)
        if standardise:  # over all windows of all trials of this participant
            sd = bp.std((0, 1))
            bp = (bp - bp.mean((0, 1))) / np.where(sd > 0, sd, 1)
        per_subject.append(bp)
    bp = np.stack(per_subject)  # (S, 40, W, C, B)
    s, t, w = bp.shape[:3]
    grid = np.meshgrid(np.arange(s), np.arange(t), np.arange(w), indexing="ij")
    ratings = torch.from_numpy(deap.labels[grid[0].ravel(), grid[1].ravel()].astype(np.float32))
    return Features(
        x=torch.from_numpy(bp.reshape(s * t * w, -1).astype(np.float32)),
        subject=torch.as_tensor(np.asarray(deap.subjects)[grid[0].ravel()]),
        trial=torch.from_numpy(grid[1].ravel() + 1),
        window=torch.from_numpy(grid[2].ravel()),
        ratings=ratings,
        feature_names=[f"{c}-{b}" for c in deap.channels for b in bands],
        n_bands=len(bands),
        source=deap.source,
        standin=deap.standin,
        labels=(ratings[:, :2] >= 5).long(),  # as the published labels: high means a rating >= 5
        bands=tuple(bands),
    )


def trial_features(data: DeapFeatures, *, standardise: bool = True) -> Features:
    """Published per-trial features (``vaemi_nb.data.load_deap_features``) as :class:`Features`,
    one row per trial (``window`` 0), in the files' row order.

    With ``standardise``, every one of the 160 features is z-scored over each participant's
    trials, as :func:`features` does for windows: it removes each head's overall level in every
    band and electrode, so that a model sees changes between one participant's trials.
    """
    x = data.x.astype(np.float64)
    if standardise:
        for p in np.unique(data.participant):
            rows = data.participant == p
            sd = x[rows].std(0)
            x[rows] = (x[rows] - x[rows].mean(0)) / np.where(sd > 0, sd, 1)
    return Features(
        x=torch.from_numpy(x.astype(np.float32)),
        subject=torch.from_numpy(data.participant),
        trial=torch.from_numpy(data.video),
        window=torch.zeros(len(x), dtype=torch.int64),
        ratings=None if data.ratings is None else torch.from_numpy(data.ratings),
        feature_names=[f"{c}-{b}" for b in data.bands for c in data.channels],
        n_bands=len(data.bands),
        source=data.source,
        standin=data.standin,
        labels=torch.from_numpy(data.labels),
        bands=tuple(data.bands),
    )


def feature_maps(values: Tensor, feats: Features) -> Tensor:
    """Rearrange per-feature ``values`` (..., n_features), in the column order of ``feats.x``,
    into scalp maps (..., 32, n_bands): DEAP's 32 electrodes in DEAP's order, bands as
    ``feats.bands``. Works for either column order, by the feature names."""
    where = {name: i for i, name in enumerate(feats.feature_names)}
    missing = [f"{c}-{b}" for c in EEG_CHANNELS for b in feats.bands if f"{c}-{b}" not in where]
    if missing or values.shape[-1] != len(feats.feature_names):
        raise ValueError(f"feature_maps needs one value per feature ({len(feats.feature_names)}) for all 32 "
                         f"electrodes x {len(feats.bands)} bands; got {values.shape[-1]} values, "
                         f"missing {missing[:3]}")
    index = torch.tensor([[where[f"{c}-{b}"] for b in feats.bands] for c in EEG_CHANNELS])
    return values[..., index]


def per_trial(values: Tensor, feats: Features) -> tuple[Tensor, Tensor, Tensor]:
    """Average window-level ``values`` (N, k) over the windows of each trial.

    Returns (trial means (T, k), ratings (T, 4) or None when ``feats`` has none, participant
    (T,)), trials ordered by participant, then video.
    """
    if values.shape[0] != feats.x.shape[0]:
        raise ValueError(f"values has {values.shape[0]} rows but there are {feats.x.shape[0]} windows")
    key = feats.subject.long() * 1000 + feats.trial.long()
    uniq, inverse = torch.unique(key, return_inverse=True)
    counts = torch.bincount(inverse, minlength=len(uniq)).to(values.dtype)[:, None]
    means = torch.zeros(len(uniq), values.shape[1], dtype=values.dtype).index_add_(0, inverse, values) / counts
    ratings = None
    if feats.ratings is not None:
        ratings = torch.zeros(len(uniq), feats.ratings.shape[1]).index_add_(0, inverse, feats.ratings) / counts.float()
    return means, ratings, uniq // 1000
