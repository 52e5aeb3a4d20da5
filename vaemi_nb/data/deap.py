"""DEAP (Koelstra et al. 2012): EEG of 32 participants watching 40 one-minute music videos.

The "preprocessed Python" release has one pickle per participant, ``s01.dat`` ... ``s32.dat``:
a dict with ``data`` (40 trials x 40 channels x 8,064 samples at 128 Hz, float64; 3 s of
pre-trial baseline, then 60 s of video; EEG in microvolts, band-passed 4-45 Hz, EOG removed,
common-average referenced) and ``labels`` (40 x 4 ratings on 1-9: valence, arousal, dominance,
liking). Trials are in video order (Experiment_id), not presentation order.

DEAP needs a signed licence, so the book cannot download it. ``deap_standin.write_standin``
writes a synthetic EEG stand-in in exactly the same format with known, planted rating effects,
so the chapter runs everywhere; :func:`load_deap` says in ``source`` and ``standin`` which one
it loaded.
"""
from __future__ import annotations

import csv
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import mne
import numpy as np

from ._common import default_root

EEG_CHANNELS = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1",
    "Oz", "Pz", "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2",
    "P4", "P8", "PO4", "O2",
)
PERIPHERAL_CHANNELS = ("hEOG", "vEOG", "zEMG", "tEMG", "GSR", "Respiration", "Plethysmograph",
                       "Temperature")
CHANNELS = EEG_CHANNELS + PERIPHERAL_CHANNELS
# Electrode groups (10-20 names as in DEAP) used by the DEAP chapter and the stand-in's planted effects.
RIGHT_FRONTAL = ("Fp2", "AF4", "F4", "F8", "FC6")
LEFT_FRONTAL = ("Fp1", "AF3", "F3", "F7", "FC5")
POSTERIOR = ("P3", "P4", "P7", "P8", "Pz", "PO3", "PO4", "O1", "O2", "Oz")
CENTRO_POSTERIOR = POSTERIOR + ("C3", "C4", "Cz", "CP1", "CP2", "CP5", "CP6")
FRONTAL_MIDLINE = ("Fz", "FC1", "FC2", "AF3", "AF4", "F3", "F4", "Cz")
SFREQ = 128  # Hz
BASELINE_S = 3  # seconds of pre-trial baseline at the start of every trial
N_SUBJECTS = 32
N_TRIALS = 40
N_SAMPLES = 8064  # (3 + 60) s x 128 Hz
LABELS = ("valence", "arousal", "dominance", "liking")
STANDIN_MARKER = "STANDIN.txt"
DEAP_URL = "https://www.eecs.qmul.ac.uk/mmv/datasets/deap/"
HOW_TO_GET = (
    f"DEAP needs a signed end-user licence agreement, so it cannot be downloaded for you: "
    f"request access at {DEAP_URL}, download data_preprocessed_python.zip and put s01.dat ... "
    "s32.dat in <root>/data_preprocessed_python/ or in <root>/ (root defaults to "
    "default_root()/'deap'). Without it, use the synthetic stand-in: "
    "load_deap(vaemi_nb.data.ensure_deap_standin())."
)
_RATING_COLUMNS = ("Valence", "Arousal", "Dominance", "Liking")


class DeapData(NamedTuple):
    """DEAP trials: ``data`` (S, 40, C, 8064) float32 in microvolts (C = len(channels)),
    ``labels`` (S, 40, 4) float32 ratings in [1, 9] (columns as in LABELS), trials in video
    order; ``source`` says in plain words what was loaded."""

    data: np.ndarray
    labels: np.ndarray
    subjects: tuple[int, ...]
    channels: tuple[str, ...]
    source: str
    standin: bool = False  # True: the synthetic stand-in (deap_standin), not DEAP


def _subject_ids(subjects: int | Iterable[int]) -> tuple[int, ...]:
    if isinstance(subjects, (int, np.integer)):
        subjects = (subjects,)
    if not isinstance(subjects, Iterable):
        raise ValueError(f"subjects must be a participant number 1..{N_SUBJECTS} or a list of "
                         f"them; got {subjects!r}")
    ids = tuple(subjects)
    bad = [s for s in ids if isinstance(s, bool) or not isinstance(s, (int, np.integer))
           or not 1 <= s <= N_SUBJECTS]
    if bad or not ids:
        raise ValueError(f"subjects must be participant numbers 1..{N_SUBJECTS}; "
                         f"got {bad or ids!r}")
    if len(set(ids)) != len(ids):
        raise ValueError(f"subjects lists a participant twice: {ids!r}")
    return tuple(int(s) for s in ids)


def _channel_index(channels: str | Sequence[str]) -> list[int]:
    groups = {"eeg": EEG_CHANNELS, "peripheral": PERIPHERAL_CHANNELS, "all": CHANNELS}
    if isinstance(channels, str):
        if channels not in groups:
            raise ValueError(f"channels must be 'eeg', 'peripheral', 'all' or a list of names "
                             f"from CHANNELS; got {channels!r}")
        channels = groups[channels]
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        raise ValueError(f"channels {unknown or channels!r} are not DEAP channel names; "
                         f"choose from CHANNELS")
    return [CHANNELS.index(c) for c in channels]


def _find_file(root: Path, subject: int) -> Path:
    name = f"s{subject:02d}.dat"
    for folder in (root / "data_preprocessed_python", root):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"DEAP file {name} is not in {root / 'data_preprocessed_python'} "
                            f"or {root}. {HOW_TO_GET}")


def _read_subject(path: Path, index: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Read and check one sNN.dat; returns (data (40, len(index), 8064), labels (40, 4))."""
    redo = f"replace it with the original from data_preprocessed_python.zip ({DEAP_URL})"
    try:
        with open(path, "rb") as f:
            content = pickle.load(f, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError, OSError) as err:
        raise ValueError(f"DEAP file {path} is truncated or corrupt and cannot be unpickled "
                         f"({type(err).__name__}: {err}); {redo}. {HOW_TO_GET}") from err
    if not isinstance(content, dict) or not {"data", "labels"} <= content.keys():
        keys = sorted(content) if isinstance(content, dict) else type(content).__name__
        raise ValueError(f"DEAP file {path} should hold a dict with keys 'data' and 'labels', "
                         f"found {keys}; {redo}")
    data, labels = np.asarray(content["data"]), np.asarray(content["labels"])
    for what, arr, shape in (("data", data, (N_TRIALS, len(CHANNELS), N_SAMPLES)),
                             ("labels", labels, (N_TRIALS, len(LABELS)))):
        if arr.shape != shape or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"DEAP file {path}: '{what}' is {arr.dtype} {arr.shape}, expected "
                             f"numbers of shape {shape}; {redo}")
    data = data[:, index]
    if not np.isfinite(data).all():
        trial, chan = np.argwhere(~np.isfinite(data).all(-1))[0]
        raise ValueError(f"DEAP file {path}: trial {trial + 1}, channel "
                         f"{CHANNELS[index[chan]]} has NaN or Inf values; {redo}")
    if not (np.isfinite(labels).all() and labels.min() >= 1 and labels.max() <= 9):
        raise ValueError(f"DEAP file {path}: 'labels' must be ratings in [1, 9], found values "
                         f"from {np.nanmin(labels)} to {np.nanmax(labels)}; {redo}")
    return data, labels


def _standin_note(folder: Path) -> str | None:
    """The 'ratings:' line of a stand-in marker in ``folder`` ('' if none), or None if no marker."""
    marker = folder / STANDIN_MARKER
    if not marker.is_file():
        return None
    lines = marker.read_text(encoding="utf-8").splitlines()
    return next((ln.strip() for ln in lines if ln.startswith("ratings:")), "")


def load_deap(root: str | Path | None = None, subjects: int | Iterable[int] = range(1, 33), *,
              channels: str | Sequence[str] = "eeg") -> DeapData:
    """Load DEAP's preprocessed Python files (or the stand-in written by :func:`write_standin`).

    ``root`` (default ``default_root()/'deap'``) holds ``s01.dat`` ... directly or in
    ``data_preprocessed_python/``. ``channels``: 'eeg' (32), 'peripheral' (8), 'all' (40) or a
    list of names from CHANNELS. Every file is checked (keys, shapes, finite values, ratings in
    [1, 9]); a problem raises naming the file and what to do. Only load files you trust:
    they are pickles.
    """
    ids, index = _subject_ids(subjects), _channel_index(channels)
    root = Path(root) if root is not None else default_root() / "deap"
    if not root.is_dir():
        raise FileNotFoundError(f"DEAP folder {root} does not exist. {HOW_TO_GET}")
    data = np.empty((len(ids), N_TRIALS, len(index), N_SAMPLES), dtype=np.float32)
    labels = np.empty((len(ids), N_TRIALS, len(LABELS)), dtype=np.float32)
    notes = set()
    for i, subject in enumerate(ids):
        path = _find_file(root, subject)
        data[i], labels[i] = _read_subject(path, index)
        notes.add(_standin_note(path.parent))
    who = f"{len(ids)} participant{'s' * (len(ids) > 1)} ({', '.join(map(str, ids))})"
    if notes == {None}:
        source = f"DEAP (real): preprocessed EEG of {who} from the folder {Path(root).name}/"
    else:
        ratings = "; ".join(sorted(n for n in notes if n))
        source = (f"synthetic EEG stand-in in DEAP's format, not DEAP: {who} from the folder {Path(root).name}/"
                  + (f" ({ratings})" if ratings else ""))
        if None in notes:
            source += "; WARNING: the folder mixes stand-in and other files"
    return DeapData(data, labels, ids, tuple(CHANNELS[k] for k in index), source, standin=notes != {None})


# MNE 1.13 renamed 'standard_1020' to 'colin27_1020' (same positions); use whichever exists.
MONTAGE = ("colin27_1020" if "colin27_1020" in mne.channels.get_builtin_montages()
           else "standard_1020")


def montage() -> mne.channels.DigMontage:
    """MNE's template 10-20 montage, which has all 32 DEAP electrodes under their DEAP names."""
    return mne.channels.make_standard_montage(MONTAGE)


# ---------------------------------------------------------------------------------------------
# Ratings table


def read_rating_rows(path: str | Path) -> dict[tuple[int, int], tuple[float, float, float, float]]:
    """The rows of a ratings CSV in the format of DEAP's ``participant_ratings.csv``:
    {(Participant_id, Experiment_id): (valence, arousal, dominance, liking)}, every rating in
    [1, 9]. A bad row (unparsable, out of range, repeated) raises naming the file and line.
    The table need not be complete; :func:`read_ratings` asks for all 32 x 40 rows."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ratings file {path} does not exist; it is "
                                f"metadata_csv/participant_ratings.csv of DEAP ({DEAP_URL})")
    out: dict[tuple[int, int], tuple[float, float, float, float]] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.DictReader(f)
        missing = [c for c in ("Participant_id", "Experiment_id", *_RATING_COLUMNS)
                   if c not in (rows.fieldnames or [])]
        if missing:
            raise ValueError(f"ratings file {path} lacks the columns {missing}; expected DEAP's "
                             f"participant_ratings.csv header")
        for row in rows:
            where = f"ratings file {path}, line {rows.line_num}"
            try:
                p, e = int(row["Participant_id"]), int(row["Experiment_id"])
                values = tuple(float(row[c]) for c in _RATING_COLUMNS)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{where}: cannot parse {dict(row)} ({err}); fix or "
                                 f"re-download the file") from err
            if not (1 <= p <= N_SUBJECTS and 1 <= e <= N_TRIALS):
                raise ValueError(f"{where}: Participant_id {p} / Experiment_id {e} outside "
                                 f"1..{N_SUBJECTS} / 1..{N_TRIALS}")
            if not all(1 <= v <= 9 for v in values):
                raise ValueError(f"{where}: ratings {list(values)} outside [1, 9]")
            if (p, e) in out:
                raise ValueError(f"{where}: participant {p}, video {e} appears twice")
            out[p, e] = values
    return out


def read_ratings(path: str | Path) -> np.ndarray:
    """DEAP's ``participant_ratings.csv`` as an array (32, 40, 4) of valence, arousal, dominance,
    liking, indexed [participant - 1, Experiment_id - 1] (video order, as in the .dat files)."""
    rows = read_rating_rows(path)
    out = np.full((N_SUBJECTS, N_TRIALS, len(LABELS)), np.nan)
    for (p, e), values in rows.items():
        out[p - 1, e - 1] = values
    if np.isnan(out).any():
        p, e = np.argwhere(np.isnan(out[..., 0]))[0] + 1
        raise ValueError(f"ratings file {path} has no row for participant {p}, Experiment_id "
                         f"{e}; it needs all {N_SUBJECTS} x {N_TRIALS} rows")
    return out
