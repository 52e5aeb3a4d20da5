"""Which data each experiment chapter reads: its argument, else the full data or the stand-in."""
from pathlib import Path

import pytest

from vaemi_nb import experiments


def test_celeba_root_follows_argument_then_profile(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    monkeypatch.setenv("VAEMI_CELEBA", str(tmp_path / "ignored"))  # the chapter reads it, not the package
    assert experiments.celeba_root(tmp_path / "arg") == tmp_path / "arg"
    assert experiments.celeba_root(None, full_data=True) == tmp_path / "celeba"  # real data, no stand-in


def test_deap_root_full_profile_never_falls_back_to_the_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    assert experiments.deap_root(None, full_data=True) == tmp_path / "deap"
    with pytest.raises(FileNotFoundError, match="DEAP"):
        experiments.deap_features(range(1, 33), full_data=True)


def test_quick_profile_writes_and_labels_the_celeba_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    root = experiments.celeba_root(None)
    assert Path(root) == tmp_path / "celeba-standin" and (root / "STANDIN.txt").is_file()
    splits = experiments.celeba_splits(None, n_train=8, n_eval=4)
    assert all(sp.standin and "stand-in" in sp.source for sp in splits.values())
    assert [len(sp.images) for sp in splits.values()] == [8, 4, 4]


@pytest.mark.parametrize("arch", ["conv", "mlp"])
def test_dsprites_vae_trains_on_float_or_uint8_images_and_encodes_lazily(monkeypatch, tmp_path, arch):
    import torch

    from vaemi_nb.data import dsprites, load_dsprites

    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    data = load_dsprites(64, seed=0)
    model, history = experiments.dsprites_vae(data.images.to(torch.uint8), epochs=1, arch=arch, seed=0, device="cpu")
    assert model.latent_dim == 10 and model.likelihood == "bernoulli" and len(history["loss"]) == 1
    lazy = dsprites.LazyImages(data.index[:40])
    mu, logvar = experiments.encode_images(model, lazy, batch_size=16)
    mu_t, _ = experiments.encode_images(model, data.images[:40])
    assert mu.shape == logvar.shape == (40, 10) and torch.allclose(mu, mu_t, atol=1e-5)
