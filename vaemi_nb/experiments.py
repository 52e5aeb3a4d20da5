"""The trained models the chapters share, built once per profile and cached."""
from __future__ import annotations

import torch

from . import paper, train
from .data import Split, load_mnist
from .models import VAE
from .profiles import Profile


def mnist_splits(profile: Profile) -> dict[str, Split]:
    """MNIST train/val/test for a profile; quick caps them at the offline subset's sizes."""
    splits = {s: load_mnist(s, download=profile.full_data) for s in ("train", "val", "test")}
    if profile.mnist_train is not None:  # quick: same sizes whatever files are present
        caps = {"train": profile.mnist_train, "val": 500, "test": 500}
        splits = {s: Split(sp.images[: caps[s]], sp.labels[: caps[s]], sp.source) for s, sp in splits.items()}
    return splits


def mnist_vae(profile: Profile, *, splits: dict[str, Split] | None = None, device=None,
              progress: bool = False):
    """The authors' MNIST beta-VAE (paper.MNIST_SETTINGS), trained for the profile's epochs.

    ``splits`` defaults to :func:`mnist_splits`. Returns (model, history, splits). Training is cached (``train.fit_cached``), so chapters
    sharing this model train it once.
    """
    splits = splits if splits is not None else mnist_splits(profile)
    cfg = paper.MNIST_SETTINGS
    torch.manual_seed(0)  # the initial weights; fit() seeds the rest
    model = VAE((1, 28, 28), cfg["latent_dim"], likelihood=cfg["likelihood"], beta=cfg["beta"])
    history = train.fit_cached(model, splits["train"].images, name=f"mnist-{profile.name}",
                               epochs=profile.mnist_epochs, batch_size=cfg["batch_size"], lr=cfg["lr"],
                               seed=0, device=train.pick_device(device), progress=progress)
    return model, history, splits
