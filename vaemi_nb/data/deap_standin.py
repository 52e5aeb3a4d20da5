"""A synthetic EEG stand-in for DEAP, in DEAP's exact file format, with planted rating effects.

DEAP needs a signed licence, so the book cannot download it; this stand-in lets the DEAP
chapter run everywhere. Its EEG is Gaussian noise shaped like EEG (1/f background, posterior
alpha, frontal theta, centro-posterior beta, spatially smoothed, common-average referenced);
valence and arousal change chosen band powers by known amounts (see :func:`_marker_text`).
Ratings: the real DEAP table when given (or named by $VAEMI_DEAP_RATINGS), else a generated
one. :func:`vaemi_nb.data.load_deap` reads the files and reports ``standin=True``.
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._common import default_root
from .deap import (BASELINE_S, DEAP_URL, EEG_CHANNELS, LABELS, N_SAMPLES, N_SUBJECTS, N_TRIALS,
                   PERIPHERAL_CHANNELS, SFREQ, STANDIN_MARKER, _subject_ids, montage, read_ratings)
from .deap import CENTRO_POSTERIOR, FRONTAL_MIDLINE, LEFT_FRONTAL, POSTERIOR, RIGHT_FRONTAL

_RATINGS_ENV = "VAEMI_DEAP_RATINGS"


def _generated_ratings(seed: int) -> np.ndarray:
    """A made-up (32, 40, 4) ratings table with DEAP's design and spread (not real ratings).

    Videos 1-10, 11-20, 21-30, 31-40 aim at high/low valence and arousal quadrants like DEAP's
    (HVHA, HVLA, LVLA, LVHA); per-participant spread about 1.8 points; dominance and liking
    follow valence (r about 0.5 and 0.6, as in the real table); values clipped to [1, 9].
    """
    rng = np.random.default_rng([seed, 999])
    quad = np.repeat(np.arange(4), 10)
    valence = np.array([6.8, 6.6, 4.0, 3.8])[quad] + rng.normal(0, 0.5, N_TRIALS)
    arousal = np.array([5.8, 4.5, 4.1, 5.7])[quad] + rng.normal(0, 0.5, N_TRIALS)
    v = valence + rng.normal(0, 1.8, (N_SUBJECTS, N_TRIALS))
    a = arousal + rng.normal(0, 1.7, (N_SUBJECTS, N_TRIALS))
    d = 5.4 + 0.5 * (v - 5.2) + rng.normal(0, 1.7, v.shape)
    like = 5.5 + 0.65 * (v - 5.2) + rng.normal(0, 1.7, v.shape)
    return np.clip(np.stack([v, a, d, like], -1), 1, 9).round(2)


def _standin_ratings(ratings: np.ndarray | str | Path | None, seed: int) -> tuple[np.ndarray, str]:
    if ratings is not None and not isinstance(ratings, (str, Path)):
        table = np.asarray(ratings, dtype=np.float64)
        if table.shape != (N_SUBJECTS, N_TRIALS, len(LABELS)) or not (
                np.isfinite(table).all() and table.min() >= 1 and table.max() <= 9):
            raise ValueError(f"ratings must be an array (32, 40, 4) of values in [1, 9] "
                             f"(see read_ratings); got shape {table.shape}")
        return table, "ratings: given by the caller"
    if ratings is None and os.environ.get(_RATINGS_ENV):
        ratings = os.environ[_RATINGS_ENV]
        if not Path(ratings).is_file():
            raise FileNotFoundError(f"${_RATINGS_ENV} names {ratings}, which does not exist; "
                                    f"point it to DEAP's participant_ratings.csv or unset it")
    if ratings is not None:
        return read_ratings(ratings), f"ratings: real DEAP participant ratings from {Path(ratings).name}"
    return _generated_ratings(seed), (f"ratings: generated table (seed {seed}), not DEAP's; "
                                      f"set ${_RATINGS_ENV} to participant_ratings.csv to use "
                                      "the real one")


# Planted effects: log10 band-power change per unit of (rating - 5) / 4 (+-1 at the scale ends).
VALENCE_ASYMMETRY = 0.8  # right minus left frontal alpha
AROUSAL_BETA = 0.8  # centro-posterior beta
AROUSAL_ALPHA = -0.7  # posterior alpha
TRIAL_NOISE = 0.4  # sd of per-trial log10 gains unrelated to the ratings


def _weights(names: Sequence[str], value: float, default: float = 0.0) -> np.ndarray:
    return np.array([value if c in names else default for c in EEG_CHANNELS])


def _mixing() -> np.ndarray:
    """(32, 32) spatial smoothing: channel i sums unit-variance sources near it (sd 3 cm)."""
    pos = montage().get_positions()["ch_pos"]
    xyz = np.array([pos[c] for c in EEG_CHANNELS])
    d2 = ((xyz[:, None] - xyz[None]) ** 2).sum(-1)
    mix = np.exp(-d2 / (2 * 0.03 ** 2))
    return mix / np.linalg.norm(mix, axis=1, keepdims=True)


class _Subject(NamedTuple):
    level: np.ndarray  # (32,) log10 power offset per channel
    exponent: float  # background power ~ 1/f**exponent
    alpha_hz: float
    trait_asymmetry: float


def _spectra(freqs: np.ndarray, subj: _Subject, g_alpha: np.ndarray, g_beta: np.ndarray,
             g_theta: np.ndarray) -> np.ndarray:
    """Power spectral densities (T, 32, F) in uV^2/Hz; ``g_*`` (T, 32) multiply the power in
    the theta (4-8 Hz), alpha (8-13 Hz) and beta (13-30 Hz) bands by 10**g."""
    f = np.maximum(freqs, 0.5)
    passband = 1 / (1 + (4 / f) ** 8) / (1 + (f / 45) ** 16)  # DEAP's 4-45 Hz band-pass
    bump = lambda mu, sd: np.exp(-0.5 * ((f - mu) / sd) ** 2)  # noqa: E731
    edge = lambda x: 1 / (1 + np.exp(-x / 0.3))  # noqa: E731  (0.3-Hz soft band edges)
    band = lambda lo, hi: edge(f - lo) * edge(hi - f)  # noqa: E731
    psd = (40 * f ** -subj.exponent
           + 30 * _weights(POSTERIOR, 1.0, 0.3)[:, None] * bump(subj.alpha_hz, 1.0)
           + 6 * _weights(FRONTAL_MIDLINE, 1.0, 0.3)[:, None] * bump(6.0, 1.0)
           + 0.6 * _weights(CENTRO_POSTERIOR, 1.0, 0.5)[:, None] * bump(20.0, 5.0))
    gain = (g_alpha[..., None] * band(8, 13) + g_beta[..., None] * band(13, 30)
            + g_theta[..., None] * band(4, 8))
    return psd * 10 ** (gain + subj.level[:, None]) * passband


def _coloured(rng: np.random.Generator, psd: np.ndarray, n: int, mix: np.ndarray) -> np.ndarray:
    """Gaussian signals (T, 32, n) with spectra ``psd`` (T, 32, n//2+1) and spatial mixing."""
    t, c, f = psd.shape
    z = mix @ rng.standard_normal((c, 2 * t * f))  # one large product: fast
    z = z.reshape(c, 2, t, f).transpose(1, 2, 0, 3)
    spec = (z[0] + 1j * z[1]) * np.sqrt(psd * SFREQ * n / 4)  # E|spec|^2 = psd * SFREQ * n / 2
    return np.fft.irfft(spec, n=n, axis=-1)


def _slow(rng: np.random.Generator, shape: tuple[int, ...], n: int, fmax: float) -> np.ndarray:
    """Unit-variance Gaussian noise (..., n) with power only below ``fmax`` Hz."""
    freqs = np.fft.rfftfreq(n, 1 / SFREQ)
    z = rng.standard_normal((*shape, len(freqs))) + 1j * rng.standard_normal((*shape, len(freqs)))
    x = np.fft.irfft(z * (freqs <= fmax) * (freqs > 0), n=n, axis=-1)
    return x / x.std(-1, keepdims=True)


def _peripheral(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible (40, 8, n) peripheral signals: EOG, EMG, GSR, respiration, pulse, temperature."""
    t = np.arange(n) / SFREQ
    out = np.empty((N_TRIALS, len(PERIPHERAL_CHANNELS), n))
    out[:, 0] = 40 * _slow(rng, (N_TRIALS,), n, 1.0)  # hEOG, uV
    blinks = rng.random((N_TRIALS, n)) < 0.25 / SFREQ  # ~15 blinks a minute
    kernel = np.exp(-0.5 * (np.arange(-32, 33) / 6) ** 2) * 150
    out[:, 1] = 20 * _slow(rng, (N_TRIALS,), n, 1.0) + np.array(
        [np.convolve(b, kernel, mode="same") for b in blinks])  # vEOG, uV
    envelope = 5 + 2 * np.abs(_slow(rng, (N_TRIALS, 2), n, 0.5))
    out[:, 2:4] = rng.standard_normal((N_TRIALS, 2, n)) * envelope  # zEMG, tEMG, uV
    out[:, 4] = 5000 * np.exp(0.05 * _slow(rng, (N_TRIALS,), n, 0.05))  # GSR, skin resistance
    rate = 0.25 + 0.03 * _slow(rng, (N_TRIALS,), n, 0.05)  # breaths per second
    out[:, 5] = 500 * np.sin(2 * np.pi * np.cumsum(rate, -1) / SFREQ)  # respiration belt
    beat = 2 * np.pi * np.cumsum(1.15 + 0.08 * _slow(rng, (N_TRIALS,), n, 0.1), -1) / SFREQ
    out[:, 6] = 800 * (np.sin(beat) + 0.4 * np.sin(2 * beat + 1.0))  # plethysmograph
    out[:, 7] = 32 + rng.normal(0, 0.5, (N_TRIALS, 1)) + 0.02 * t / 60  # temperature, deg C
    return out


def _subject_file(subject: int, ratings: np.ndarray, seed: int, mix: np.ndarray) -> dict:
    """The content of one stand-in sNN.dat: {'data': (40, 40, 8064), 'labels': (40, 4)}."""
    rng = np.random.default_rng([seed, subject])
    subj = _Subject(level=rng.normal(0, 0.15) + rng.normal(0, 0.05, len(EEG_CHANNELS)),
                    exponent=rng.uniform(0.9, 1.1), alpha_hz=rng.uniform(9.0, 11.0),
                    trait_asymmetry=rng.normal(0, 0.1))
    zv, za = ((ratings[:, :2] - 5) / 4).T[..., None]  # (40, 1) each
    noise = lambda: rng.normal(0, TRIAL_NOISE, (N_TRIALS, 1))  # noqa: E731
    side = _weights(RIGHT_FRONTAL, 0.5) - _weights(LEFT_FRONTAL, 0.5)
    g_alpha = (side * (VALENCE_ASYMMETRY * zv + subj.trait_asymmetry + noise())
               + _weights(POSTERIOR, 1.0) * (AROUSAL_ALPHA * za + noise()))
    g_beta = _weights(CENTRO_POSTERIOR, 1.0) * (AROUSAL_BETA * za + noise())
    g_theta = np.zeros_like(g_alpha) + noise()
    freqs = np.fft.rfftfreq(N_SAMPLES, 1 / SFREQ)
    eeg = _coloured(rng, _spectra(freqs, subj, g_alpha, g_beta, g_theta), N_SAMPLES, mix)
    # The 3-s baseline precedes the video: resting EEG without the rating effects, joined by a
    # 0.5-s equal-power crossfade.
    n_base, n_fade = BASELINE_S * SFREQ, SFREQ // 2
    rest = np.zeros_like(g_alpha) + side * subj.trait_asymmetry
    base = _coloured(rng, _spectra(np.fft.rfftfreq(512, 1 / SFREQ), subj, rest, 0 * rest, 0 * rest),
                     512, mix)
    w = np.clip((np.arange(512) - (n_base - n_fade / 2)) / n_fade, 0, 1)
    eeg[..., :512] = np.cos(w * np.pi / 2) * base + np.sin(w * np.pi / 2) * eeg[..., :512]
    eeg -= eeg.mean(1, keepdims=True)  # common average reference, as in DEAP
    data = np.concatenate([eeg, _peripheral(rng, N_SAMPLES)], axis=1)
    return {"data": data, "labels": ratings.astype(np.float64)}


def write_standin(root: str | Path, subjects: int | Iterable[int] = range(1, 33), *,
                  ratings: np.ndarray | str | Path | None = None, seed: int = 0) -> Path:
    """Write a synthetic EEG stand-in for DEAP into ``root``; returns ``root``.

    Files ``sNN.dat`` match DEAP's exactly (pickled dict, 'data' float64 (40, 40, 8064) at
    128 Hz in DEAP's channel order, 'labels' float64 (40, 4)), about 103 MB each, plus
    STANDIN.txt describing them. Ratings: ``ratings`` (array (32, 40, 4) or a CSV path), else
    the real participant_ratings.csv named by $VAEMI_DEAP_RATINGS, else
    a generated table. Each participant's file depends only on (seed, ratings, participant);
    files of an earlier stand-in with other settings in ``root`` are deleted. Refuses a folder
    that holds sNN.dat files without a STANDIN.txt (real DEAP, perhaps).
    """
    ids = _subject_ids(subjects)
    table, ratings_note = _standin_ratings(ratings, seed)
    root = Path(root)
    marker, text = root / STANDIN_MARKER, _marker_text(ratings_note, seed)
    existing = sorted(root.glob("s[0-9][0-9].dat"))
    if existing and not marker.is_file():
        raise FileExistsError(f"{root} holds {existing[0].name} but no {STANDIN_MARKER}: it may be "
                              f"real DEAP; write the stand-in into another folder")
    if marker.is_file() and marker.read_text(encoding="utf-8") != text:
        for path in existing:
            path.unlink()  # made with other settings
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text(text, encoding="utf-8")
    mix = _mixing()
    for subject in ids:
        content = _subject_file(subject, table[subject - 1], seed, mix)
        tmp = root / f".s{subject:02d}.dat.partial"
        with open(tmp, "wb") as f:
            pickle.dump(content, f, protocol=4)
        tmp.replace(root / f"s{subject:02d}.dat")
    return root


def ensure_standin(root: str | Path | None = None, subjects: int | Iterable[int] = range(1, 33),
                   *, seed: int = 0) -> Path:
    """Write the stand-in into ``root`` (default ``default_root()/'deap-standin'``) unless the
    requested files are already there with the same seed and ratings; returns ``root``."""
    ids = _subject_ids(subjects)
    root = Path(root) if root is not None else default_root() / "deap-standin"
    marker = root / STANDIN_MARKER
    same = marker.is_file() and marker.read_text(encoding="utf-8") == _marker_text(
        _standin_ratings(None, seed)[1], seed)
    todo = [s for s in ids if not (same and (root / f"s{s:02d}.dat").is_file())]
    if todo:
        write_standin(root, todo, seed=seed)
    return root


def _marker_text(ratings_note: str, seed: int) -> str:
    return f"""Synthetic EEG stand-in in DEAP's format -- NOT DEAP.
{ratings_note}
seed: {seed}

Written by vaemi_nb.data.deap_standin.write_standin because DEAP needs a signed licence ({DEAP_URL}).
Files sNN.dat have DEAP's preprocessed-Python format: a pickled dict with 'data' (40 trials x
40 channels x 8064 samples, float64, 128 Hz, 3 s baseline + 60 s) and 'labels' (40 x 4:
valence, arousal, dominance, liking in [1, 9]); trials in video order (Experiment_id).

EEG (channels 1-32, DEAP's order, microvolts): Gaussian signals with a 1/f background
(exponent 0.9-1.1 per participant), a posterior alpha rhythm (peak 9-11 Hz per participant),
frontal-midline theta and centro-posterior beta, band-limited to 4-45 Hz, spatially smoothed
between neighbouring electrodes (3 cm) and re-referenced to the common average. Each
participant has its own overall power and per-channel offsets.

Planted effects, during the 60 s of video only (the 3-s baseline is resting EEG without them).
With z = (rating - 5) / 4 (-1..+1 over the scale), the power in a band is multiplied by 10**(k z):
- valence: right-frontal (Fp2 AF4 F4 F8 FC6) minus left-frontal (Fp1 AF3 F3 F7 FC5) alpha
  (8-13 Hz), k = {VALENCE_ASYMMETRY:+} in log10 power, split evenly between the sides: higher
  valence = relatively less left-frontal alpha, i.e. more left-frontal activity, the direction
  of the frontal-asymmetry literature;
- arousal: centro-posterior beta (13-30 Hz) k = {AROUSAL_BETA:+}; posterior alpha
  k = {AROUSAL_ALPHA:+}.
Per-trial log10 gains unrelated to the ratings (sd {TRIAL_NOISE}, also on theta) and a
per-participant trait asymmetry (sd 0.1) blur the effects: per-trial correlations of the
matching band-power features with the ratings are about 0.6-0.7, not 1. Dominance and liking
have no planted effect (they correlate with valence in the ratings themselves).

Peripheral channels 33-40 (hEOG, vEOG with blinks, zEMG, tEMG, GSR, respiration,
plethysmograph, temperature) are plausible slow or noisy signals without any effects.
"""
