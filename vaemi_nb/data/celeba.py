"""CelebA (aligned & cropped faces, 40 binary attributes) from the standard on-disk layout.

Layout under ``root`` (default ``default_root() / "celeba"``)::

    img_align_celeba/000001.jpg ... 202599.jpg   178x218 RGB JPEGs (Kaggle: one folder deeper,
                                                 img_align_celeba/img_align_celeba/)
    list_attr_celeba.txt                         count line, 40 names, then "000001.jpg -1  1 ..."
                                                 (Kaggle ships list_attr_celeba.csv instead)
    list_eval_partition.txt                      optional, "000001.jpg 0" (0 train, 1 val, 2 test;
                                                 Kaggle: list_eval_partition.csv)

Splits: the partition file when present, else the official partition's index ranges, which is
exactly what that file holds: train = images 1-162,770, val = 162,771-182,637,
test = 182,638-202,599. Only the listed images that exist on disk are loaded, so a sample of
CelebA works; ``AttributeSplit.source`` says how many were found.

Preprocessing: centre crop 148x148 (the usual choice for aligned CelebA in VAE papers; it keeps
the face and drops most background), then a PIL bicubic resize (antialiased when shrinking) to
``image_size``. Decoded images are cached as .npz under ``<root>/cache/`` (or, if ``root`` is
read-only, under ``default_root()/cache/``), keyed by everything that changes the result.

A root holding ``STANDIN.txt`` was written by :func:`vaemi_nb.data.celeba_standin.write_standin`:
procedural faces in the same layout, not CelebA; ``source`` says so.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ._common import AttributeSplit, default_root

CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup",
    "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns",
    "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)
SPLITS = ("train", "val", "test", "all")
OFFICIAL_RANGES = {"train": (1, 162_770), "val": (162_771, 182_637), "test": (182_638, 202_599)}
CROP = 148
_CACHE_VERSION = 2  # 2: `source` names the image folder relative to the root

HOW_TO_GET = """\
How to get CelebA (aligned & cropped images and the attribute file):
  * Official page: https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html -> "Align&Cropped Images"
    (img_align_celeba.zip) and Anno/list_attr_celeba.txt (optionally Eval/list_eval_partition.txt).
    Unzip so that <root>/img_align_celeba/000001.jpg and <root>/list_attr_celeba.txt exist.
  * Kaggle (works in Colab, where torchvision's Google Drive download is often refused because
    of download quotas): put your API token in ~/.kaggle/kaggle.json, then
        pip install kaggle
        kaggle datasets download -d jessicali9530/celeba-dataset
        unzip -q celeba-dataset.zip -d <root>
    That layout (img_align_celeba/img_align_celeba/*.jpg, list_attr_celeba.csv,
    list_eval_partition.csv) is read as is.
  * A sample is enough: the loader uses whichever listed images are present.
  * Offline: vaemi_nb.data.ensure_standin() writes procedural stand-in faces in the same layout
    (clearly labelled, not CelebA).
<root> defaults to default_root()/celeba ($VAEMI_DATA/celeba, or data/celeba in the checkout)."""


# ---------------------------------------------------------------------------- finding files

def _image_dir(root: Path) -> Path:
    if not root.is_dir():
        raise FileNotFoundError(f"CelebA folder {root} does not exist.\n{HOW_TO_GET}")
    for cand in (root / "img_align_celeba" / "img_align_celeba", root / "img_align_celeba"):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"no CelebA image folder in {root}: expected {root / 'img_align_celeba'} "
                            f"(or the Kaggle layout img_align_celeba/img_align_celeba).\n{HOW_TO_GET}")


def _first_file(root: Path, stem: str) -> Path | None:
    return next((p for p in (root / f"{stem}.txt", root / f"{stem}.csv") if p.is_file()), None)


def _attribute_file(root: Path) -> Path:
    path = _first_file(root, "list_attr_celeba")
    if path is None:
        raise FileNotFoundError(f"CelebA attribute file {root / 'list_attr_celeba.txt'} is missing "
                                f"(nor is there a Kaggle list_attr_celeba.csv).\n{HOW_TO_GET}")
    return path


# ---------------------------------------------------------------------------- parsing

def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {path} as text ({err}); download it again") from err


def _count_words(text: str) -> int:
    """len(text.split()), without building millions of strings."""
    blank = np.frombuffer(text.encode(), np.uint8) <= 32
    return int(np.count_nonzero(blank[:-1] & ~blank[1:])) + int(len(blank) > 0 and not blank[0])


def _rows(path: Path, text: str, first: int, width: int, allowed: tuple[str, ...],
          what: str) -> tuple[list[str], np.ndarray]:
    """Rows "<file> v1 ... v_{width-1}" from line ``first`` on -> (file names, int8 values).

    Fast path: np.loadtxt, plus a total field count that rules out rows with extra fields.
    On any trouble the slow path walks the lines and names the first bad one.
    """
    sep = "," if path.suffix == ".csv" else None
    kw = dict(skiprows=first - 1, delimiter=sep, comments=None)
    try:
        files = np.loadtxt(path, dtype=str, usecols=0, ndmin=1, **kw)
        values = np.loadtxt(path, dtype=np.int8, usecols=range(1, width), ndmin=2, **kw)
        body = text.split("\n", first - 1)[-1]
        fields = body.count(",") + len(files) if sep else _count_words(body)
        if fields == width * len(files) and np.isin(values, [int(a) for a in allowed]).all():
            return [f.strip() for f in files.tolist()], values
    except ValueError:
        pass
    for i, line in enumerate(text.splitlines()[first - 1:], start=first):
        parts = [p.strip() for p in line.split(sep)]
        if not line.strip():
            continue
        if len(parts) != width:
            problem = f"expected a file name and {width - 1} values, found {len(parts)} fields"
        elif not set(parts[1:]) <= set(allowed):
            problem = f"values must be {' or '.join(allowed)}, found {' '.join(parts[1:])[:80]!r}"
        else:
            continue
        raise ValueError(f"CelebA {what} {path}, line {i}: {problem}; the file is damaged, download it again")
    raise ValueError(f"CelebA {what} {path} cannot be parsed; download it again")


def read_attributes(path: str | Path) -> tuple[tuple[str, ...], list[str], np.ndarray]:
    """Parse list_attr_celeba.txt (or Kaggle's .csv) -> (40 names, file names, values (N, 40) int8 of +-1).

    ValueError naming the file and line for a bad count line, a wrong number of names, or a row
    with the wrong number of values or values other than -1/1. CRLF and extra spaces are fine.
    """
    path = Path(path)
    text = _text(path)
    head = text.splitlines()[:2]

    def bad(lineno: int, problem: str) -> ValueError:
        return ValueError(f"CelebA attribute file {path}, line {lineno}: {problem}; the file is damaged, "
                          "download it again")

    if path.suffix == ".csv":  # Kaggle: header "image_id,5_o_Clock_Shadow,...", no count line
        names_line, count = 1, None
        names = [s.strip() for s in head[0].split(",")][1:] if head else []
    else:
        try:
            count = int(head[0].strip()) if head else None
        except ValueError:
            count = None
        if count is None:
            raise bad(1, f"expected the image count, found {(head or [''])[0][:40]!r}")
        names_line, names = 2, head[1].split() if len(head) > 1 else []
    if len(names) != len(CELEBA_ATTRIBUTES):
        raise bad(names_line, f"expected {len(CELEBA_ATTRIBUTES)} attribute names, found {len(names)}")
    files, values = _rows(path, text, names_line + 1, len(names) + 1, ("-1", "1"), "attribute file")
    if count is not None and count != len(files):
        raise ValueError(f"CelebA attribute file {path}: line 1 says {count:,} images but {len(files):,} "
                         "rows follow (truncated?); download it again")
    return tuple(names), files, values


def _read_partition(path: Path) -> dict[str, int]:
    """list_eval_partition.txt ("000001.jpg 0") or Kaggle's .csv (with a header) -> {file: 0/1/2}."""
    first = 2 if path.suffix == ".csv" else 1
    files, values = _rows(path, _text(path), first, 2, ("0", "1", "2"), "partition file")
    return dict(zip(files, values[:, 0].tolist()))


def _official_split(name: str) -> int:
    try:
        index = int(name.split(".")[0])
    except ValueError:
        return -1
    return next((k for k, (lo, hi) in enumerate(OFFICIAL_RANGES.values()) if lo <= index <= hi), -1)


# ---------------------------------------------------------------------------- images and cache

def _read_image(path: Path, size: int) -> np.ndarray:
    """One JPEG -> centre crop CROP x CROP -> (size, size, 3) uint8."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(f"CelebA image {path} cannot be decoded ({err}); delete it (the loader "
                         "skips missing images) or download it again") from err
    w, h = im.size
    if min(w, h) < CROP:
        raise ValueError(f"CelebA image {path} is {w}x{h}, smaller than the {CROP}-px centre crop; "
                         "expected an aligned 178x218 image")
    left, top = (w - CROP) // 2, (h - CROP) // 2
    im = im.crop((left, top, left + CROP, top + CROP))
    return np.asarray(im.resize((size, size), Image.Resampling.BICUBIC))


def _stat_key(path: Path | None) -> str:
    if path is None:
        return "none"
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


def _cache_dir(root: Path) -> Path:
    """<root>/cache, or a folder under default_root()/cache if root is read-only (by its mode bits,
    which are honoured even when running as the superuser)."""
    if os.access(root, os.W_OK) and root.stat().st_mode & 0o222:
        return root / "cache"
    tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    return default_root() / "cache" / f"celeba-{tag}"


def _load_cache(path: Path, key: str) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in ("key", "images", "labels", "names", "source")}
        n = len(data["images"])
        if str(data["key"]) != key or data["labels"].shape != (n, len(data["names"])):
            raise ValueError("contents do not match")
        return data
    except Exception as err:  # any damage: rebuild rather than trust it
        warnings.warn(f"ignoring damaged CelebA cache {path} ({type(err).__name__}: {err}); rebuilding it")
        return None


def _save_cache(path: Path, **arrays) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(path.name.rsplit("_", 1)[0] + "_" + "?" * 16 + ".npz"):
            old.unlink()  # stale versions for the same split, size and cap
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except OSError as err:
        warnings.warn(f"could not write the CelebA cache {path} ({err}); loading works, just slower")


# ---------------------------------------------------------------------------- loader

def load_celeba(root: str | Path | None = None, split: str = "train", image_size: int = 64, *,
                max_images: int | None = None, cache: bool = True) -> AttributeSplit:
    """Load a CelebA split as ``AttributeSplit(images, labels, source, names)``.

    images: (N, 3, image_size, image_size) float32 in [0, 1]; labels: (N, 40) int64, 1 = attribute
    present, 0 = absent; names: the 40 attribute names from the file header. N counts the listed
    images of ``split`` ("train", "val", "test" or "all") found on disk, sorted by file name,
    capped at ``max_images``. ``cache=False`` neither reads nor writes the decoded-image cache.

    FileNotFoundError (with :data:`HOW_TO_GET`) for a missing folder or attribute file;
    ValueError naming the file for damaged files, and when no image of the split is present.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if max_images is not None and max_images < 1:
        raise ValueError(f"max_images must be a positive number or None, got {max_images}")
    root = Path(root) if root is not None else default_root() / "celeba"
    img_dir = _image_dir(root)
    attr_path = _attribute_file(root)
    part_path = _first_file(root, "list_eval_partition")
    standin = (root / "STANDIN.txt").is_file()

    with os.scandir(img_dir) as it:
        present = {e.name: e.stat() for e in it if e.name.lower().endswith(".jpg")}
    digest = hashlib.sha256()
    for part in (_CACHE_VERSION, split, image_size, max_images, img_dir.resolve(), standin,
                 _stat_key(attr_path), _stat_key(part_path)):
        digest.update(f"{part}\n".encode())
    for name in sorted(present):
        digest.update(f"{name}:{present[name].st_size}:{present[name].st_mtime_ns}\n".encode())
    key = digest.hexdigest()
    cap = f"_max{max_images}" if max_images else ""
    cache_file = _cache_dir(root) / f"celeba_{split}_{image_size}px{cap}_{key[:16]}.npz"
    hit = _load_cache(cache_file, key) if cache else None

    if hit is None:
        names, files, values = read_attributes(attr_path)
        want = SPLITS.index(split)
        if split == "all":
            listed = [True] * len(files)
        elif part_path is not None:
            partition = _read_partition(part_path)
            listed = [partition.get(f) == want for f in files]
        else:
            listed = [_official_split(f) == want for f in files]
        chosen = sorted((f, i) for i, f in enumerate(files) if listed[i] and f in present)
        found, n_listed = len(chosen), sum(listed)
        kind = f"{split} images" if split != "all" else "images (all splits)"
        if not chosen:
            raise ValueError(f"no {kind} present: {attr_path} lists {n_listed:,} of them, and none is among "
                             f"the {len(present):,} JPEGs in {img_dir}; add them, or pick another split")
        chosen = chosen[:max_images]
        images = np.stack([_read_image(img_dir / f, image_size) for f, _ in chosen])
        labels = (values[[i for _, i in chosen]] > 0).astype(np.int8)
        what = "procedural stand-in faces, not CelebA" if standin else "CelebA (real, aligned)"
        where = img_dir.relative_to(root).as_posix()  # relative: readers see it, not the machine's paths
        source = f"{what}: {found:,} of {n_listed:,} {kind} present in {where}"
        if len(chosen) < found:
            source += f"; the first {len(chosen):,} used (max_images)"
        if cache:
            _save_cache(cache_file, key=key, images=images, labels=labels, names=np.array(names),
                        source=np.array(source))
    else:
        images, labels = hit["images"], hit["labels"]
        names, source = tuple(hit["names"].tolist()), str(hit["source"])

    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div_(255.0)
    return AttributeSplit(x, torch.from_numpy(labels.astype(np.int64)), source, tuple(names), standin=standin)
