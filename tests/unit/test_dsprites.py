"""Procedural dSprites: the grid, its rendering, the lazy full grid and the original file's checks."""
import numpy as np
import pytest
import torch

from vaemi_nb.data import dsprites, load_dsprites


@pytest.fixture(scope="module")
def sample():
    return load_dsprites(300, seed=0)


def test_fields_shapes_dtypes_and_levels(sample):
    assert sample.images.shape == (300, 1, 64, 64) and sample.images.dtype == torch.float32
    assert set(sample.images.unique().tolist()) <= {0.0, 1.0}
    assert sample.factors.shape == (300, 5) and sample.factors.dtype == torch.int64
    assert sample.values.shape == (300, 5) and sample.values.dtype == torch.float32
    assert sample.names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert (sample.factors.min(0).values >= 0).all()
    assert (sample.factors.max(0).values < torch.tensor(dsprites.LEVELS)).all()
    assert sample.standin and "not the original images" in sample.source
    v = sample.values
    assert v[:, 1].min() >= 0.5 and v[:, 1].max() <= 1.0
    assert v[:, 2].min() >= 0 and v[:, 2].max() <= 2 * np.pi + 1e-6
    assert v[:, 3:].min() >= 0 and v[:, 3:].max() <= 1
    assert (sample.images.sum((1, 2, 3)) > 10).all()  # every image shows its shape
    assert dsprites.grid_size() == 737_280


def test_same_seed_same_data_other_seed_other_points(sample):
    again = load_dsprites(300, seed=0)
    assert torch.equal(again.images, sample.images) and torch.equal(again.factors, sample.factors)
    other = load_dsprites(300, seed=1)
    assert not torch.equal(other.factors, sample.factors)
    assert len(torch.unique(sample.index)) == 300  # distinct grid points


def test_grid_order_and_values():
    idx = torch.tensor([0, 1, 32, 1024, 40960, 245760, 737279])
    f = dsprites.grid_factors(idx)
    assert f.tolist() == [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0],
                          [1, 0, 0, 0, 0], [2, 5, 39, 31, 31]]
    assert torch.equal(dsprites.grid_index(f), idx)
    vals = dsprites.factor_values()
    assert [len(v) for v in vals] == [3, 6, 40, 32, 32]
    assert vals[2][-1] == pytest.approx(2 * np.pi)  # the original's orientations include 2 pi


def test_rendering_follows_the_factors():
    base = torch.tensor([[0, 5, 0, 16, 16]]).repeat(6, 1)
    base[1, 1] = 0  # smaller
    base[2, 3] = 31  # to the right
    base[3, 4] = 31  # downwards
    base[4, 2] = 39  # orientation 2 pi: the same image as 0
    base[5, 2] = 10  # a square turned by pi/2 (orientation 10 of 0..39 is 10/39 * 2 pi, not exactly pi/2)
    img = dsprites.render(base)
    area = img.sum((1, 2, 3))
    assert area[1] < 0.4 * area[0]  # scale 0.5 halves the side: a quarter of the area, up to the pixel grid
    cols = lambda im: (im[0].sum(0) > 0).nonzero()[:, 0].float().mean()  # noqa: E731
    rows = lambda im: (im[0].sum(1) > 0).nonzero()[:, 0].float().mean()  # noqa: E731
    assert cols(img[2]) - cols(img[0]) > 15 and abs(rows(img[2]) - rows(img[0])) < 1
    assert rows(img[3]) - rows(img[0]) > 15
    assert torch.equal(img[4], img[0])
    edge = dsprites.render(torch.tensor([[2, 5, 7, 0, 0], [2, 5, 7, 31, 31], [1, 5, 5, 0, 31]]))
    border = torch.cat([edge[:, 0, 0], edge[:, 0, -1], edge[:, 0, :, 0], edge[:, 0, :, -1]], 1)
    assert border.sum() == 0  # the largest shapes stay inside the canvas at the extreme positions
    shapes = dsprites.render(torch.tensor([[s, 5, 0, 16, 16] for s in range(3)]))
    assert len({tuple(im.flatten().tolist()) for im in shapes}) == 3


def test_neighbouring_positions_give_different_images():
    f = torch.tensor([[s, 0, 3, x, 12] for s in range(3) for x in range(32)])
    img = dsprites.render(f).flatten(1)
    assert (img[1:] != img[:-1]).any(1)[[i for i in range(len(f) - 1) if (i + 1) % 32]].all()


def test_full_grid_is_lazy_and_renders_in_chunks():
    full = load_dsprites(None)
    assert isinstance(full.images, dsprites.LazyImages)
    assert len(full.images) == 737_280 and full.images.shape == (737_280, 1, 64, 64)
    assert full.factors.shape == (737_280, 5) and full.values.shape == (737_280, 5)
    piece = full.images[245_760:245_760 + 100]
    assert piece.shape == (100, 1, 64, 64)
    assert torch.equal(piece, dsprites.render(full.factors[245_760:245_760 + 100]))
    assert full.images[5].shape == (1, 64, 64)
    chunks = list(dsprites.LazyImages(full.index[:50]).chunks(16))
    assert [len(c) for c in chunks] == [16, 16, 16, 2]
    small = dsprites.LazyImages(full.index[:40]).materialize()
    assert small.dtype == torch.uint8 and torch.equal(small.float(), dsprites.render(full.factors[:40]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be between"):
        load_dsprites(0)
    with pytest.raises(ValueError, match="classes outside"):
        dsprites.render(torch.tensor([[3, 0, 0, 0, 0]]))
    with pytest.raises(FileNotFoundError, match="no dSprites file"):
        load_dsprites(10, root="/nonexistent/dsprites")


def _fake_file(path, levels, **override):
    n = int(np.prod(levels))
    classes = np.zeros((n, 6), dtype=np.int64)
    classes[:, 1:] = dsprites.grid_factors(torch.arange(n)).numpy()
    arrays = {"imgs": (np.arange(n)[:, None, None] % 2 * np.ones((1, 64, 64))).astype(np.uint8),
              "latents_classes": classes, "latents_values": classes.astype(np.float64) / 10}
    arrays.update(override)
    np.savez_compressed(path, **arrays)
    return path


def test_the_original_file_is_served_when_present(tmp_path, monkeypatch):
    levels = (3, 2, 2, 2, 2)  # a 48-image grid stands in for the 737,280 images of the real file
    monkeypatch.setattr(dsprites, "LEVELS", levels)
    _fake_file(tmp_path / dsprites.FILE_NAME, levels)
    data = load_dsprites(10, seed=0, root=tmp_path)
    assert not data.standin and str(tmp_path) in data.source
    assert data.images.shape == (10, 1, 64, 64) and data.images.dtype == torch.float32
    assert torch.equal(data.images[:, 0, 0, 0], (data.index % 2).float())  # row i of the file is grid point i
    assert torch.allclose(data.values, data.factors.float() / 10)
    monkeypatch.setenv("VAEMI_DSPRITES", str(tmp_path / dsprites.FILE_NAME))
    assert torch.equal(load_dsprites(10, seed=0).images, data.images)


@pytest.mark.parametrize("problem, message", [
    ({"imgs": np.zeros((5, 64, 64), dtype=np.uint8)}, "imgs has shape"),
    ({"imgs": np.zeros((48, 64, 64), dtype=np.float32)}, "imgs has shape .* and dtype float32"),
    ({"latents_classes": np.zeros((48, 6), dtype=np.int64)}, "latents_classes of row 1"),
    ({"imgs": np.full((48, 64, 64), 255, dtype=np.uint8)}, "values up to 255"),
])
def test_a_wrong_file_gets_an_error_naming_it(tmp_path, monkeypatch, problem, message):
    levels = (3, 2, 2, 2, 2)
    monkeypatch.setattr(dsprites, "LEVELS", levels)
    path = _fake_file(tmp_path / "bad.npz", levels, **problem)
    with pytest.raises(ValueError, match=message) as err:
        load_dsprites(5, root=path)
    assert str(path) in str(err.value)


def test_a_missing_array_or_a_damaged_file_is_named(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, imgs=np.zeros((2, 64, 64), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"lacks the arrays \['latents_classes', 'latents_values'\]"):
        dsprites.read_npz(path)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=f"{junk}.*cannot be read"):
        dsprites.read_npz(junk)
