"""CelebA loading: the procedural stand-in, partial presence, errors, the cache, and the real sample."""
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from shared_data import shared_path
from vaemi_nb.data import CELEBA_ATTRIBUTES, celeba, ensure_standin, load_celeba, write_standin
from vaemi_nb.data import celeba_standin as faces

REAL = shared_path("VAEMI_CELEBA", "celeba")
N = 120  # stand-in size: 96 train / 12 val / 12 test


def attribute_rows(path: Path) -> dict[str, list[int]]:
    """The +-1 rows of a list_attr_celeba.txt, parsed independently of the loader."""
    lines = path.read_text().splitlines()[2:]
    return {line.split()[0]: [int(v) for v in line.split()[1:]] for line in lines if line.strip()}


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Path:
    return write_standin(tmp_path_factory.mktemp("standin"), N, seed=0)


@pytest.fixture
def copy(standin, tmp_path) -> Path:
    """A private copy of the stand-in, free to damage."""
    return Path(shutil.copytree(standin, tmp_path / "celeba", ignore=shutil.ignore_patterns("cache")))


@pytest.fixture(autouse=True)
def private_default_root(tmp_path, monkeypatch):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path / "default_root"))


# ---------------------------------------------------------------------------- stand-in

def test_standin_round_trip(standin):
    parts = {s: load_celeba(standin, s) for s in ("train", "val", "test", "all")}
    rows = attribute_rows(standin / "list_attr_celeba.txt")
    assert [len(parts[s].images) for s in ("train", "val", "test")] == [96, 12, 12]
    for sp in parts.values():
        assert sp.standin
        assert sp.images.dtype == torch.float32 and sp.images.shape[1:] == (3, 64, 64)
        assert 0.0 <= sp.images.min() and sp.images.max() <= 1.0 and sp.images.std() > 0.1
        assert sp.labels.dtype == torch.int64 and sp.labels.shape == (len(sp.images), 40)
        assert sp.names == CELEBA_ATTRIBUTES
        assert "stand-in" in sp.source and "not CelebA" in sp.source and f"{len(sp.images)} of" in sp.source
    expected = torch.tensor([rows[f"{i:06d}.jpg"] for i in range(1, N + 1)]) > 0
    assert torch.equal(parts["all"].labels, expected.long())
    # the 80/10/10 split by index: train, val, test in order are exactly "all"
    joined = torch.cat([parts[s].images for s in ("train", "val", "test")])
    assert torch.equal(joined, parts["all"].images)
    assert load_celeba(standin, "val", image_size=32).images.shape == (12, 3, 32, 32)


def test_standin_is_deterministic(standin, tmp_path):
    again = write_standin(tmp_path / "again", N, seed=0)
    other = write_standin(tmp_path / "other", 12, seed=1)
    for name in ("list_attr_celeba.txt", "list_eval_partition.txt", "standin_factors.csv"):
        assert (again / name).read_bytes() == (standin / name).read_bytes()
    for i in (1, 7, 12):
        name = f"img_align_celeba/{i:06d}.jpg"
        pixels = [np.asarray(Image.open(r / name)) for r in (standin, again, other)]
        assert pixels[0].shape == (218, 178, 3)
        assert np.array_equal(pixels[0], pixels[1]) and not np.array_equal(pixels[0], pixels[2])


def test_standin_file_format(standin):
    raw = (standin / "list_attr_celeba.txt").read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[0] == str(N).encode() and lines[1].decode().split() == list(CELEBA_ATTRIBUTES)
    assert re.fullmatch(rb"000001\.jpg( (-1| 1)){40}", lines[2])  # the real file's padding
    assert "NOT CelebA" in (standin / "STANDIN.txt").read_text()
    factors = (standin / "standin_factors.csv").read_text().splitlines()
    assert len(factors) == N + 1 and factors[0].startswith("image_id,yaw,skin_tone,background_hue")


def test_varied_attributes_are_balanced_and_the_rest_fixed(standin):
    labels = load_celeba(standin, "all").labels
    col = {name: labels[:, k].float() for k, name in enumerate(CELEBA_ATTRIBUTES)}
    for name in ("Smiling", "Eyeglasses", "Male", "Bangs"):
        assert 0.3 < col[name].mean() < 0.7, name
    assert 0.15 < col["Pale_Skin"].mean() < 0.5
    hair = torch.stack([col[h] for h in faces.HAIR_NAMES], 1)
    assert torch.all(hair.sum(1) == 1) and torch.all(hair.mean(0) > 0.1)
    fixed = [k for k, name in enumerate(CELEBA_ATTRIBUTES) if name not in faces.VARIED]
    assert len(fixed) == 31 and labels[:, fixed].sum() == 0


def test_varied_attributes_change_the_pixels(standin):
    sp = load_celeba(standin, "all")
    col = {name: sp.labels[:, k].bool() for k, name in enumerate(CELEBA_ATTRIBUTES)}

    def gap(name: str, rows: slice, cols: slice) -> float:
        """Mean |difference| of the two groups' mean images over a region."""
        patch = sp.images[..., rows, cols]
        return float((patch[col[name]].mean(0) - patch[~col[name]].mean(0)).abs().mean())

    # in the 64 px crop: eyes at row ~32, mouth at row ~48, forehead at rows ~18-28
    assert gap("Smiling", slice(45, 53), slice(26, 38)) > 0.08
    assert gap("Eyeglasses", slice(28, 36), slice(16, 48)) > 0.08
    assert gap("Bangs", slice(18, 27), slice(22, 42)) > 0.08
    assert gap("Male", slice(40, 60), slice(10, 14)) > 0.08  # long hair beside the lower face
    assert gap("Pale_Skin", slice(36, 44), slice(24, 40)) > 0.15
    assert gap("Smiling", slice(0, 10), slice(0, 10)) < 0.05  # background: unrelated
    # causally: flipping one factor changes the picture where that feature is
    f = faces.draw_factors(4, seed=3)
    base = np.asarray(faces.draw_face(f, 0, 3), float)
    f["smile_amount"][0] = 0.9 if f["smile_amount"][0] < 0.5 else 0.1
    diff = np.abs(np.asarray(faces.draw_face(f, 0, 3), float) - base).mean(2)
    assert diff[130:165].mean() > 10 * diff[:120].mean() and diff[130:165].max() > 80


# ---------------------------------------------------------------------------- presence, errors

def test_partial_presence(copy):
    gone = [f"{i:06d}.jpg" for i in (1, 2, 50, 96)]
    for name in gone:
        (copy / "img_align_celeba" / name).unlink()
    sp = load_celeba(copy, "train")
    assert len(sp.images) == 92 and "92 of 96 train images present" in sp.source
    rows = attribute_rows(copy / "list_attr_celeba.txt")
    kept = [f"{i:06d}.jpg" for i in range(1, 97) if f"{i:06d}.jpg" not in gone]
    assert torch.equal(sp.labels, (torch.tensor([rows[n] for n in kept]) > 0).long())
    capped = load_celeba(copy, "train", max_images=5)
    assert torch.equal(capped.images, sp.images[:5]) and "first 5 used" in capped.source


def test_official_ranges_without_partition_file(copy):
    (copy / "list_eval_partition.txt").unlink()
    assert len(load_celeba(copy, "train").images) == N  # images 1..120 are all official "train"
    with pytest.raises(ValueError, match=r"no val images present: .*lists 0"):
        load_celeba(copy, "val")


def test_kaggle_csv_files(copy):
    rows = attribute_rows(copy / "list_attr_celeba.txt")
    csv = ["image_id," + ",".join(CELEBA_ATTRIBUTES)]
    csv += [f"{name}," + ",".join(map(str, values)) for name, values in rows.items()]
    (copy / "list_attr_celeba.csv").write_text("\n".join(csv) + "\n")
    part = (copy / "list_eval_partition.txt").read_text().split()
    (copy / "list_eval_partition.csv").write_text(
        "image_id,partition\n" + "".join(f"{a},{b}\n" for a, b in zip(part[::2], part[1::2])))
    want = load_celeba(copy, "val", cache=False)
    (copy / "list_attr_celeba.txt").unlink()
    (copy / "list_eval_partition.txt").unlink()
    got = load_celeba(copy, "val", cache=False)
    assert torch.equal(got.labels, want.labels) and got.names == CELEBA_ATTRIBUTES
    lines = (copy / "list_attr_celeba.csv").read_text().splitlines()
    lines[4] = lines[4].replace(",1", ",0", 1) if ",1" in lines[4] else lines[4].replace(",-1", ",0", 1)
    (copy / "list_attr_celeba.csv").write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"list_attr_celeba\.csv, line 5: values must be"):
        load_celeba(copy, "val")


def test_missing_folders_and_files(tmp_path, copy):
    nowhere = re.escape(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=rf"{nowhere}(.|\n)*mmlab(.|\n)*kaggle datasets download"):
        load_celeba(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no CelebA image folder .*img_align_celeba"):
        load_celeba(tmp_path / "empty")
    (copy / "list_attr_celeba.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"list_attr_celeba\.txt is missing"):
        load_celeba(copy)
    with pytest.raises(ValueError, match="split must be one of"):
        load_celeba(copy, "validation")


def _damage(copy: Path, lineno: int, new: str | None) -> None:
    path = copy / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    if new is None:
        del lines[lineno - 1]
    else:
        lines[lineno - 1] = new
    path.write_text("\r\n".join(lines) + "\r\n")


@pytest.mark.parametrize("lineno, new, message", [
    (1, "many", r"line 1: expected the image count"),
    (2, " ".join(CELEBA_ATTRIBUTES[:-1]), r"line 2: expected 40 attribute names, found 39"),
    (7, "000005.jpg" + " -1" * 39, r"line 7: expected a file name and 40 values, found 40 fields"),
    (8, "000006.jpg" + " -1" * 41, r"line 8: expected a file name and 40 values, found 42 fields"),
    (9, "000007.jpg  2" + " -1" * 39, r"line 9: values must be -1 or 1"),
    (10, "000008.jpg  x" + " -1" * 39, r"line 10: values must be -1 or 1"),
    (12, None, r"line 1 says 120 images but 119 rows follow"),
])
def test_malformed_attribute_file(copy, lineno, new, message):
    _damage(copy, lineno, new)
    with pytest.raises(ValueError, match=r"list_attr_celeba\.txt(, |: )" + message):
        load_celeba(copy, "val")


def test_malformed_partition_file(copy):
    path = copy / "list_eval_partition.txt"
    lines = path.read_text().splitlines()
    lines[3] = "000004.jpg 7"
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"list_eval_partition\.txt, line 4"):
        load_celeba(copy, "test")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_jpeg(copy, damage):
    path = copy / "img_align_celeba" / "000103.jpg"
    path.write_bytes(b"not a jpeg" if damage == "garbage" else path.read_bytes()[:600])
    with pytest.raises(ValueError, match=r"000103\.jpg cannot be decoded"):
        load_celeba(copy, "val")


def test_no_images_of_the_split(copy):
    for i in range(97, 109):
        (copy / "img_align_celeba" / f"{i:06d}.jpg").unlink()
    with pytest.raises(ValueError, match=r"no val images present: .*lists 12 of them"):
        load_celeba(copy, "val")
    assert len(load_celeba(copy, "test").images) == 12


def test_write_standin_never_overwrites_real_data(tmp_path):
    (tmp_path / "img_align_celeba").mkdir()
    Image.new("RGB", (178, 218)).save(tmp_path / "img_align_celeba" / "000001.jpg")
    with pytest.raises(FileExistsError, match="STANDIN.txt is missing"):
        write_standin(tmp_path, 20)


def test_ensure_standin_writes_once(tmp_path):
    root = ensure_standin(n_images=20)
    assert root == tmp_path / "default_root" / "celeba-standin"
    stamp = (root / "img_align_celeba" / "000001.jpg").stat().st_mtime_ns
    assert ensure_standin(n_images=20) == root
    assert (root / "img_align_celeba" / "000001.jpg").stat().st_mtime_ns == stamp
    (root / "img_align_celeba" / "000020.jpg").unlink()  # incomplete: written again
    ensure_standin(n_images=20)
    assert (root / "img_align_celeba" / "000020.jpg").is_file()


# ---------------------------------------------------------------------------- cache

def test_cache_reuse_invalidation_and_repair(copy, monkeypatch):
    first = load_celeba(copy, "val")
    [cached] = (copy / "cache").glob("celeba_val_64px_*.npz")

    def no_decoding(path, size):
        raise AssertionError("decoded although cached")

    with monkeypatch.context() as m:
        m.setattr(celeba, "_read_image", no_decoding)
        again = load_celeba(copy, "val")
    assert torch.equal(again.images, first.images) and torch.equal(again.labels, first.labels)
    assert again.names == first.names and again.source == first.source

    os.utime(copy / "img_align_celeba" / "000100.jpg")  # touched: rebuilt, old entry replaced
    assert torch.equal(load_celeba(copy, "val").images, first.images)
    [rebuilt] = (copy / "cache").glob("celeba_val_64px_*.npz")
    assert rebuilt != cached
    (copy / "img_align_celeba" / "000100.jpg").unlink()  # removed: 11 images now
    assert len(load_celeba(copy, "val").images) == 11

    [current] = (copy / "cache").glob("celeba_val_64px_*.npz")
    current.write_bytes(current.read_bytes()[:1000])  # corrupt: warned, rebuilt, not trusted
    with pytest.warns(UserWarning, match="damaged CelebA cache"):
        repaired = load_celeba(copy, "val")
    assert torch.equal(repaired.images, first.images[[i for i in range(12) if i != 3]])
    with monkeypatch.context() as m:
        m.setattr(celeba, "_read_image", no_decoding)
        assert torch.equal(load_celeba(copy, "val").images, repaired.images)


def test_cache_off(copy):
    load_celeba(copy, "test", cache=False)
    assert not (copy / "cache").exists()


# ---------------------------------------------------------------------------- the real sample

needs_real = pytest.mark.skipif(not (REAL / "list_attr_celeba.txt").is_file(),
                                reason=f"no real CelebA sample at {REAL}")


@needs_real
def test_real_sample_counts_and_rows():
    counts = {"train": "4,560 of 162,770", "val": "780 of 19,867", "test": "660 of 19,962"}
    for split, text in counts.items():
        sp = load_celeba(REAL, split, max_images=1)
        assert f"CelebA (real, aligned): {text} {split} images present" in sp.source
    val = load_celeba(REAL, "val")
    assert val.images.shape == (780, 3, 64, 64) and val.names == CELEBA_ATTRIBUTES
    assert 0.0 <= val.images.min() and val.images.max() <= 1.0
    train = load_celeba(REAL, "train", max_images=40)
    present = sorted(p.name for p in (REAL / "img_align_celeba").glob("*.jpg"))[:40]
    for name in ("000002.jpg", present[5], present[39]):
        [line] = [ln for ln in (REAL / "list_attr_celeba.txt").open() if ln.startswith(name)]
        expected = [int(int(v) > 0) for v in line.split()[1:]]
        assert train.labels[present.index(name)].tolist() == expected


@needs_real
def test_real_sample_kaggle_layout(tmp_path):
    root = tmp_path / "kaggle"
    (root / "img_align_celeba").mkdir(parents=True)
    (root / "img_align_celeba" / "img_align_celeba").symlink_to(REAL / "img_align_celeba")
    (root / "list_attr_celeba.txt").symlink_to(REAL / "list_attr_celeba.txt")
    got = load_celeba(root, "test", max_images=30)
    want = load_celeba(REAL, "test", max_images=30, cache=False)
    assert torch.equal(got.images, want.images) and torch.equal(got.labels, want.labels)
    assert "660 of 19,962 test images present in" in got.source
    assert "img_align_celeba/img_align_celeba" in got.source
