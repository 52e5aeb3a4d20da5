"""dSprites (Matthey et al. 2017): every combination of 5 known factors, rendered here or read from the file.

The data set is 737,280 binary 64x64 images, one for each combination of shape (square, ellipse,
heart), scale (6 values linearly spaced in [0.5, 1]), orientation (40 values linearly spaced in
[0, 2 pi], both ends included, as in the original's ``latents_values``), position x and position
y (32 values each, linearly spaced in [0, 1]). Its download is often broken, so
:func:`load_dsprites` renders the same factor grid itself, deterministically, and serves the
original ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` instead when it is present.

How our rendering matches the original, and what it cannot:

* **Same grid, same order.** Factor classes, their values and the row order of the original file
  (position y varies fastest, then position x, orientation, scale, shape) are reproduced exactly
  (:func:`grid_factors`, :func:`grid_index`), so an index means the same factors in both.
* **Outlines.** Each shape is a filled binary mask, one pixel on where the pixel's centre lies
  inside the shape: a square, an ellipse with axes 2:1 and a heart (the implicit curve
  (x^2 + y^2 - 1)^3 = x^2 y^3). The original drew vector shapes with Love2D and rasterised them
  (its author, dsprites-dataset issue #2); its heart is a different curve, and its rasteriser's
  rule on edge pixels is not documented.
* **Scale -> size.** Every shape's size is proportional to its scale: at scale 1 the square's side
  is 12.5 pixels, the ellipse 17 x 8 pixels and the heart about 17 x 17 pixels (at 0.5 half that).
  These absolute sizes are our choice; the original's are not documented.
* **Rotation about the centre.** The orientation turns the shape about its own centre
  (counter-clockwise as displayed), so a square repeats every pi/2 and an ellipse every pi, and
  orientations 0 and 2 pi give the same image, as in the original.
* **Position range.** Positions 0..1 move the shape's centre linearly from 20% to 80% of the
  canvas (pixel 12.8 to 51.2; x along columns, y along rows, downwards), 1.24 pixels per step, so
  that every shape stays inside the canvas at every position. The original's margin and the
  direction of its y axis are not documented.

Without the original file nothing here can be compared pixel by pixel. With it (``root`` or
$VAEMI_DSPRITES) the loader serves the file's images for the same grid points, and
``agreement(data.images, render(data.factors))`` measures, image by image, the overlap of the
original's sprite pixels with ours.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
LEVELS = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
FILE_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
SIZE = 64  # pixels per side
SPRITE = 0.13  # the shapes' unit length at scale 1, as a fraction of the canvas
MARGIN = 0.2  # the centre's distance from the canvas edge at positions 0 and 1, same units
CHUNK = 4096  # images rendered at once (about 100 MiB of scratch memory)
HOW_TO_GET = (f"the original file is {FILE_NAME} from https://github.com/deepmind/dsprites-dataset; "
              "pass its folder as root= or in $VAEMI_DSPRITES, or pass neither to render the grid here")


def grid_size() -> int:
    """Number of factor combinations, 737,280."""
    return math.prod(LEVELS)


def factor_values() -> list[Tensor]:
    """The value of each level of each factor (float64): shape 1, 2, 3 (as in the original file),
    scale in [0.5, 1], orientation in [0, 2 pi] radians, positions in [0, 1]."""
    return [torch.arange(1, LEVELS[0] + 1, dtype=torch.float64), torch.linspace(0.5, 1.0, LEVELS[1], dtype=torch.float64),
            torch.linspace(0.0, 2 * math.pi, LEVELS[2], dtype=torch.float64),
            torch.linspace(0.0, 1.0, LEVELS[3], dtype=torch.float64), torch.linspace(0.0, 1.0, LEVELS[4], dtype=torch.float64)]


def grid_factors(index: Tensor) -> Tensor:
    """Factor classes (n, 5) int64 of grid rows ``index`` (n,), in the original file's order."""
    index = torch.as_tensor(index, dtype=torch.int64)
    out = torch.empty(index.shape + (len(LEVELS),), dtype=torch.int64)
    rest = index.clone()
    for k in reversed(range(len(LEVELS))):
        out[..., k] = rest % LEVELS[k]
        rest = rest // LEVELS[k]
    return out


def grid_index(factors: Tensor) -> Tensor:
    """Grid rows (n,) of factor classes ``factors`` (n, 5): the inverse of :func:`grid_factors`."""
    factors = torch.as_tensor(factors, dtype=torch.int64)
    index = torch.zeros(factors.shape[:-1], dtype=torch.int64)
    for k, level in enumerate(LEVELS):
        index = index * level + factors[..., k]
    return index


def values_of(factors: Tensor) -> Tensor:
    """Factor values (n, 5) float32 of factor classes (n, 5)."""
    vals = factor_values()
    return torch.stack([vals[k][factors[:, k]] for k in range(len(LEVELS))], 1).float()


def _check_factors(factors: Tensor) -> Tensor:
    factors = torch.as_tensor(factors)
    if factors.dim() != 2 or factors.shape[1] != len(LEVELS) or factors.is_floating_point():
        raise ValueError(f"factors must be an (n, {len(LEVELS)}) integer tensor of classes {NAMES}, "
                         f"got {tuple(factors.shape)} {factors.dtype}")
    high = torch.tensor(LEVELS)
    if len(factors) and ((factors < 0) | (factors >= high)).any():
        k = int(((factors < 0) | (factors >= high)).any(0).nonzero()[0, 0])
        raise ValueError(f"factor {NAMES[k]!r} has classes outside 0..{LEVELS[k] - 1}")
    return factors.long()


@torch.no_grad()
def render(factors: Tensor, *, device: str | torch.device = "cpu") -> Tensor:
    """Images (n, 1, 64, 64) float32 in {0, 1} of factor classes ``factors`` (n, 5), in chunks of ``CHUNK``."""
    factors = _check_factors(factors)
    out = torch.empty((len(factors), 1, SIZE, SIZE), dtype=torch.float32)
    for i in range(0, len(factors), CHUNK):
        out[i : i + CHUNK] = _render_chunk(factors[i : i + CHUNK].to(device)).cpu()
    return out


def _render_chunk(factors: Tensor) -> Tensor:
    """One chunk: evaluate each shape's inside test at every pixel centre of its images (float32)."""
    dev = factors.device
    vals = [v.to(dev) for v in factor_values()]
    scale, theta = vals[1][factors[:, 1]], vals[2][factors[:, 2]]
    cx = MARGIN + (1 - 2 * MARGIN) * vals[3][factors[:, 3]]
    cy = MARGIN + (1 - 2 * MARGIN) * vals[4][factors[:, 4]]
    pix = (torch.arange(SIZE, dtype=torch.float64, device=dev) + 0.5) / SIZE
    unit = SPRITE * scale
    # shape coordinates (u, v) of every pixel centre: undo the shift, the rotation (counter-clockwise
    # as displayed) and the scale; v points downwards like the rows
    dx = ((pix[None, :] - cx[:, None]) / unit[:, None]).float()[:, None, :]  # (n, 1, W): columns
    dy = ((pix[None, :] - cy[:, None]) / unit[:, None]).float()[:, :, None]  # (n, H, 1): rows
    c, s = theta.cos().float()[:, None, None], theta.sin().float()[:, None, None]
    img = torch.zeros((len(factors), SIZE, SIZE), dtype=torch.bool, device=dev)
    for shape in range(len(SHAPES)):
        sel = (factors[:, 0] == shape).nonzero()[:, 0]
        if not len(sel):
            continue
        u = c[sel] * dx[sel] - s[sel] * dy[sel]
        v = s[sel] * dx[sel] + c[sel] * dy[sel]
        if shape == 0:  # square, side 1.5 units
            inside = (u.abs() <= 0.75) & (v.abs() <= 0.75)
        elif shape == 1:  # ellipse, axes 2 x 1 units
            inside = u.square() + (2 * v).square() <= 1.0
        else:  # heart (x^2 + y^2 - 1)^3 <= x^2 y^3, y upwards, centred on its bounding box, 2 x 2 units
            hx2, hy = (1.14 * u).square(), 0.118 - 1.12 * v
            inside = (hx2 + hy.square() - 1).pow(3) <= hx2 * hy.pow(3)
        img[sel] = inside
    return img.float()[:, None]


class LazyImages(torch.utils.data.Dataset):
    """The images of grid rows ``index``, rendered (or read from the original's uint8 array) on access.

    ``images[i]`` is one (1, 64, 64) float32 image; ``images[a:b]`` or ``images[tensor]`` a batch.
    Holds only the indices (8 bytes per image), so the full grid costs 6 MB until rendered;
    :meth:`chunks` yields it batch by batch and :meth:`materialize` builds it whole
    (``torch.uint8``: 3 GB for the full grid).
    """

    def __init__(self, index: Tensor, array: np.ndarray | None = None, *, device: str | torch.device = "cpu"):
        self.index, self.array, self.device = index, array, device

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self), 1, SIZE, SIZE)

    def __getitem__(self, key) -> Tensor:
        single = isinstance(key, int)
        rows = self.index[key : key + 1] if single else self.index[key]
        if self.array is not None:
            imgs = torch.from_numpy(np.ascontiguousarray(self.array[rows.numpy()])).float()[:, None]
        else:
            imgs = render(grid_factors(rows), device=self.device)
        return imgs[0] if single else imgs

    def chunks(self, size: int = CHUNK) -> Iterator[Tensor]:
        """The images in order, ``size`` at a time, each (<= size, 1, 64, 64) float32."""
        for i in range(0, len(self), size):
            yield self[i : i + size]

    def materialize(self, dtype: torch.dtype = torch.uint8) -> Tensor:
        """All images as one (n, 1, 64, 64) tensor of ``dtype`` (uint8: 4 KiB per image)."""
        out = torch.empty(self.shape, dtype=dtype)
        for i, chunk in enumerate(self.chunks()):
            out[i * CHUNK : i * CHUNK + len(chunk)] = chunk.to(dtype)
        return out


class DSprites(NamedTuple):
    """dSprites images with their known factors.

    ``images``: (n, 1, 64, 64) float32 in {0, 1} (a :class:`LazyImages` for the full grid);
    ``factors``: (n, 5) int64 class indices in ``names`` order, with ``LEVELS`` levels;
    ``values``: (n, 5) float32 factor values; ``index``: (n,) rows of the full grid (the original
    file's order); ``source`` says in plain words what was loaded, ``standin`` whether it is our
    rendering rather than the original images.
    """

    images: Tensor | LazyImages
    factors: Tensor
    values: Tensor
    names: tuple[str, ...]
    source: str
    standin: bool
    index: Tensor


def _find_file(root) -> Path | None:
    root = root if root is not None else os.environ.get("VAEMI_DSPRITES") or None
    if root is None:
        return None
    path = Path(root)
    path = path / FILE_NAME if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no dSprites file at {path} (from {'root' if root is not None else '$VAEMI_DSPRITES'}); "
                                f"{HOW_TO_GET}")
    return path


def read_npz(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The original file's ``imgs`` (N, 64, 64) uint8, ``latents_classes`` and ``latents_values``
    (N, 6), checked: keys, shapes, dtypes and the grid order; a ValueError names the file."""
    path = Path(path)
    n = grid_size()
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("imgs", "latents_classes", "latents_values") if k not in z.files]
            if missing:
                raise ValueError(f"dSprites file {path} lacks the arrays {missing} (it has {z.files}); {HOW_TO_GET}")
            imgs, classes, values = z["imgs"], z["latents_classes"], z["latents_values"]
    except (OSError, EOFError, ValueError) as err:
        if isinstance(err, ValueError) and str(err).startswith("dSprites file"):
            raise
        raise ValueError(f"dSprites file {path} cannot be read as an .npz archive ({err}); {HOW_TO_GET}") from err
    expect = {"imgs": (imgs, (n, SIZE, SIZE), "uint8"), "latents_classes": (classes, (n, 6), "int"),
              "latents_values": (values, (n, 6), "float")}
    for key, (arr, shape, kind) in expect.items():
        ok_kind = arr.dtype == np.uint8 if kind == "uint8" else np.issubdtype(arr.dtype, np.integer if kind == "int" else np.floating)
        if arr.shape != shape or not ok_kind:
            raise ValueError(f"dSprites file {path}: {key} has shape {arr.shape} and dtype {arr.dtype}, expected "
                             f"{shape} and {kind}; {HOW_TO_GET}")
    if imgs.max(initial=0) > 1:
        raise ValueError(f"dSprites file {path}: imgs holds values up to {imgs.max()}, expected 0 or 1")
    expected = grid_factors(torch.arange(n)).numpy()
    bad = np.flatnonzero((classes[:, 1:] != expected).any(1))
    if len(bad):
        raise ValueError(f"dSprites file {path}: latents_classes of row {bad[0]} is {classes[bad[0], 1:].tolist()}, "
                         f"expected {expected[bad[0]].tolist()} (the grid order: pos_y fastest, then pos_x, "
                         "orientation, scale, shape)")
    return imgs, classes, values


def load_dsprites(n: int | None = None, *, seed: int = 0, root: str | os.PathLike | None = None,
                  device: str | torch.device = "cpu") -> DSprites:
    """``n`` distinct grid points drawn for ``seed`` (``n=None``: the whole grid, in order, lazily).

    Renders the grid (``standin=True``) unless the original file is present: ``root`` (its
    folder or the file itself) or $VAEMI_DSPRITES, whose file is then checked
    (:func:`read_npz`) and served with the same API (``standin=False``). ``device`` renders there
    (a GPU renders the full grid in seconds).
    """
    total = grid_size()
    if n is not None and not 1 <= n <= total:
        raise ValueError(f"n must be between 1 and {total:,} (or None for the whole grid), got {n}")
    index = torch.arange(total) if n is None else \
        torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values
    factors = grid_factors(index)
    path = _find_file(root)
    if path is not None:
        imgs, classes, values = read_npz(path)
        lazy = LazyImages(index, imgs)
        vals = torch.from_numpy(values[index.numpy(), 1:]).float()
        source = f"dSprites (Matthey et al. 2017), the original file {path}"
        standin = False
    else:
        lazy = LazyImages(index, device=device)
        vals = values_of(factors)
        source = ("procedural dSprites: the dSprites factor grid rendered by vaemi_nb (our outlines, sizes and margins; "
                  "not the original images)")
        standin = True
    what = "the whole grid" if n is None else f"{n:,} grid points drawn with seed {seed}"
    images = lazy if n is None else lazy[:]
    return DSprites(images, factors, vals, NAMES, f"{source}, {what}", standin, index)


def agreement(a: Tensor, b: Tensor) -> Tensor:
    """Intersection over union of the "on" pixels of two image batches (n, 1, 64, 64); shape (n,)."""
    a, b = a.flatten(1) > 0.5, b.flatten(1) > 0.5
    return (a & b).sum(1) / (a | b).sum(1).clamp_min(1)
