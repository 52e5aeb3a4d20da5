"""Per-trial EEG band-power features of DEAP in a three-file text layout.

Some public repositories publish DEAP-derived features instead of the EULA-protected signals,
as three whitespace-separated text files whose row i describes the same trial:

- ``EEG_feature.txt``: 160 values per trial: theta (columns 1-32), slow alpha (33-64), alpha
  (65-96), beta (97-128), gamma (129-160), each over DEAP's 32 EEG electrodes, presumably in
  DEAP's channel order (``deap.EEG_CHANNELS``; the publishers do not say). The publishers do not
  document the units or the estimator either (log band power or differential entropy are the
  usual choices for this layout).
- ``subject_video.txt``: participant (1-32) and video (DEAP's Experiment_id, 1-40).
- ``valence_arousal_label.txt``: valence (1 = positive, 2 = negative) and arousal (1 = high,
  2 = low).

The features are derived from DEAP's recordings, so DEAP's EULA governs them (research use, no
redistribution). :func:`load_deap_features` reads any folder in this layout, checks every line,
and drops or reorders nothing.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .deap import EEG_CHANNELS, read_rating_rows

FEATURE_FILE = "EEG_feature.txt"
TRIAL_FILE = "subject_video.txt"
LABEL_FILE = "valence_arousal_label.txt"
FEATURE_BANDS = ("theta", "slow alpha", "alpha", "beta", "gamma")  # column blocks of 32, in file order
N_FEATURES = len(FEATURE_BANDS) * len(EEG_CHANNELS)  # 160


class DeapFeatures(NamedTuple):
    """DEAP trials as per-trial features, rows in the files' order.

    ``x`` (n, 160) float32, the file's values and column order (band-major: column
    ``b * 32 + c`` is band ``bands[b]`` at electrode ``channels[c]``); ``participant``,
    ``video`` (n,) int64 (video: DEAP's Experiment_id); ``labels`` (n, 2) int64 in {0, 1}
    (column 0: 1 = positive valence, column 1: 1 = high arousal); ``ratings`` (n, 4) float32
    valence, arousal, dominance, liking on 1-9 when a ratings table was given, else None.
    """

    x: np.ndarray
    participant: np.ndarray
    video: np.ndarray
    labels: np.ndarray
    ratings: np.ndarray | None
    bands: tuple[str, ...]
    channels: tuple[str, ...]
    source: str
    standin: bool = False


def _read_rows(path: Path, width: int, what: str) -> np.ndarray:
    """Every line of a whitespace-separated numeric file as a (lines, width) float64 array.

    Trailing blank lines are allowed; any other line must hold exactly ``width`` finite numbers,
    else the error names the file and the line.
    """
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    out = np.empty((len(lines), width))
    for i, line in enumerate(lines):
        where = f"{path}, line {i + 1}"
        tokens = line.split()
        if len(tokens) != width:
            raise ValueError(f"{where}: {len(tokens)} values, expected {width} ({what}); the file is "
                             f"truncated or not in this layout")
        try:
            values = [float(t) for t in tokens]
        except ValueError as err:
            raise ValueError(f"{where}: not a number ({err}); expected {width} numbers ({what})") from err
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"{where}: NaN or Inf among the values ({what}); every value must be finite")
        out[i] = values
    return out


def _integers(values: np.ndarray, path: Path, what: str, allowed: str, ok) -> np.ndarray:
    """Check a column of whole numbers; the first bad one names its file and line."""
    bad = np.flatnonzero((values != np.round(values)) | ~ok(values))
    if len(bad):
        raise ValueError(f"{path}, line {bad[0] + 1}: {what} {values[bad[0]]:g} is not {allowed}")
    return values.astype(np.int64)


def load_deap_features(folder: str | Path, ratings: str | Path | None = None) -> DeapFeatures:
    """Read DEAP per-trial features from ``folder`` (the three-file layout of this module).

    ``ratings``: optionally a CSV in the format of DEAP's ``participant_ratings.csv``, joined on
    participant and Experiment_id to fill ``ratings``; a trial without a matching row is an
    error. Bad input raises naming the file (and line): a missing file, a row that is short,
    long or not numeric, NaN or Inf, files with different numbers of rows, a label other than
    1 or 2, a participant or video that is not a whole number in range, a repeated trial.
    """
    folder = Path(folder)
    paths = {name: folder / name for name in (FEATURE_FILE, TRIAL_FILE, LABEL_FILE)}
    for name, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"{name} is missing from the DEAP features folder {folder}: it needs "
                                    f"{FEATURE_FILE}, {TRIAL_FILE} and {LABEL_FILE} (see "
                                    f"vaemi_nb.data.deap_features)")
    x = _read_rows(paths[FEATURE_FILE], N_FEATURES, "5 bands x 32 electrodes")
    trials = _read_rows(paths[TRIAL_FILE], 2, "participant, video")
    labels = _read_rows(paths[LABEL_FILE], 2, "valence, arousal labels")
    counts = {name: len(a) for name, a in zip(paths, (x, trials, labels))}
    for name in (TRIAL_FILE, LABEL_FILE):
        if counts[name] != counts[FEATURE_FILE]:
            raise ValueError(f"the DEAP features files in {folder} disagree: {FEATURE_FILE} has "
                             f"{counts[FEATURE_FILE]} rows but {name} has {counts[name]}; row i of every "
                             f"file must describe the same trial")
    if not len(x):
        raise ValueError(f"{paths[FEATURE_FILE]} has no rows")
    participant = _integers(trials[:, 0], paths[TRIAL_FILE], "participant", "a whole number >= 1",
                            lambda v: v >= 1)
    video = _integers(trials[:, 1], paths[TRIAL_FILE], "video (Experiment_id)", "a whole number in 1..40",
                      lambda v: (v >= 1) & (v <= 40))
    for k, name in enumerate(("valence", "arousal")):
        _integers(labels[:, k], paths[LABEL_FILE], f"{name} label", "1 or 2", lambda v: (v == 1) | (v == 2))
    seen: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(participant.tolist(), video.tolist())):
        if key in seen:
            raise ValueError(f"{paths[TRIAL_FILE]}, line {i + 1}: participant {key[0]}, video {key[1]} "
                             f"already appears on line {seen[key] + 1}")
        seen[key] = i
    table = None
    if ratings is not None:
        rows = read_rating_rows(ratings)
        missing = [i for i, key in enumerate(seen) if key not in rows]
        if missing:
            i = missing[0]
            raise ValueError(f"{paths[TRIAL_FILE]}, line {i + 1}: participant {participant[i]}, video "
                             f"{video[i]} has no row in the ratings file {ratings} ({len(missing)} "
                             f"trials lack one)")
        table = np.array([rows[key] for key in seen], dtype=np.float32)
    n_p = len(np.unique(participant))
    source = (f"DEAP (real): per-trial EEG band-power features of {n_p} participants, {len(x):,} trials "
              f"(5 bands x 32 electrodes; units and estimator not documented by the publisher) from "
              f"the folder {Path(folder).name}/; " + (f"ratings (1-9) from {Path(ratings).name}" if table is not None
                               else "binary valence/arousal labels only (no ratings table given)"))
    return DeapFeatures(x=x.astype(np.float32), participant=participant, video=video,
                        labels=(labels == 1).astype(np.int64), ratings=table, bands=FEATURE_BANDS,
                        channels=EEG_CHANNELS, source=source)

