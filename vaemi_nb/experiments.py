"""The trained models the chapters share, built once per profile and cached."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from . import paper, train
from .data import AttributeSplit, Split, load_mnist
from .models import VAE
from .profiles import Profile


def mnist_splits(profile: Profile) -> dict[str, Split]:
    """MNIST train/val/test for a profile; quick caps them at the offline subset's sizes."""
    splits = {s: load_mnist(s, download=profile.full_data) for s in ("train", "val", "test")}
    if profile.mnist_train is not None:  # quick: same sizes whatever files are present
        caps = {"train": profile.mnist_train, "val": 500, "test": 500}
        splits = {s: sp._replace(images=sp.images[: caps[s]], labels=sp.labels[: caps[s]]) for s, sp in splits.items()}
    return splits


def mnist_vae(profile: Profile, *, splits: dict[str, Split] | None = None, seed: int = 0, device=None,
              progress: bool = False):
    """The authors' MNIST beta-VAE (paper.MNIST_SETTINGS), trained for the profile's epochs.

    ``splits`` defaults to :func:`mnist_splits`; ``seed`` sets the initial weights and the
    batch order. Returns (model, history, splits). Training is cached (``train.fit_cached``), so chapters
    sharing this model train it once.
    """
    splits = splits if splits is not None else mnist_splits(profile)
    cfg = paper.MNIST_SETTINGS
    torch.manual_seed(seed)  # the initial weights; fit() seeds the rest
    model = VAE((1, 28, 28), cfg["latent_dim"], likelihood=cfg["likelihood"], beta=cfg["beta"])
    history = train.fit_cached(model, splits["train"].images, name=f"mnist-{profile.name}-seed{seed}",
                               epochs=profile.mnist_epochs, batch_size=cfg["batch_size"], lr=cfg["lr"],
                               seed=seed, device=train.pick_device(device), progress=progress)
    return model, history, splits


#: Our CelebA design (the paper's CelebA settings are not available): the conv VAE of
#: ``models`` for 64x64x3 images, 64 factors, and the MNIST chapter's objective (Gaussian
#: likelihood with a learnable sigma, beta = 6) so that the two chapters compare.
CELEBA_SETTINGS = dict(latent_dim=64, beta=6.0, likelihood="gaussian", lr=1e-3, batch_size=64, image_size=64)


def celeba_root(root: str | os.PathLike | None = None, *, full_data: bool = False) -> Path:
    """Where the CelebA chapter reads faces from: ``root`` (the chapter's ``CELEBA``), else
    (``full_data``) ``<data root>/celeba``, else the procedural stand-in, written on first use.
    The loader's ``standin`` and ``source`` say which one it was."""
    from .data import default_root, ensure_standin

    if root:
        return Path(root)
    if full_data:
        return default_root() / "celeba"
    return ensure_standin()


def celeba_splits(root: str | os.PathLike | None = None, *, full_data: bool = False, n_train: int | None = None,
                  n_eval: int | None = None) -> dict[str, AttributeSplit]:
    """CelebA train/val/test at 64x64 (see :func:`celeba_root`), the first ``n_train`` training and
    ``n_eval`` validation and test images (None: all)."""
    from .data import load_celeba

    where = celeba_root(root, full_data=full_data)
    caps = {"train": n_train, "val": n_eval, "test": n_eval}
    return {s: load_celeba(where, s, CELEBA_SETTINGS["image_size"], max_images=caps[s])
            for s in ("train", "val", "test")}


def celeba_vae(splits: dict[str, Split], *, epochs: int, seed: int = 0, device=None, progress: bool = False):
    """The CelebA conv VAE (``CELEBA_SETTINGS``), trained for ``epochs`` and cached.

    ``seed`` sets the initial weights and the batch order. Returns (model, history). The cache
    key includes the training images, so real faces and the stand-in never share a checkpoint.
    """
    cfg = CELEBA_SETTINGS
    torch.manual_seed(seed)  # the initial weights; fit() seeds the rest
    model = VAE((3, cfg["image_size"], cfg["image_size"]), cfg["latent_dim"], likelihood=cfg["likelihood"],
                beta=cfg["beta"])
    history = train.fit_cached(model, splits["train"].images, name=f"celeba-e{epochs}-seed{seed}",
                               epochs=epochs, batch_size=cfg["batch_size"], lr=cfg["lr"],
                               seed=seed, device=train.pick_device(device), progress=progress)
    return model, history


#: Our DEAP design (the paper's DEAP settings are not available): an MLP VAE on the 128
#: standardised log band powers (32 channels x 4 bands) of each 4-s window, 16 factors,
#: a Gaussian likelihood with a learnable sigma and beta = 4.
DEAP_SETTINGS = dict(latent_dim=16, hidden=(256, 128), beta=4.0, likelihood="gaussian", lr=1e-3, batch_size=128)

#: Our design for the published per-trial features (``data.deap_features``): 1,216 vectors of
#: 160 band powers, so a smaller MLP (160 -> 128 -> 64 -> 16 factors, mirrored decoder), with the
#: same likelihood, beta and optimiser as ``DEAP_SETTINGS``.
DEAP_TRIAL_SETTINGS = dict(latent_dim=16, hidden=(128, 64), beta=4.0, likelihood="gaussian", lr=1e-3,
                           batch_size=128)


def deap_root(root: str | os.PathLike | None = None, *, subjects=range(1, 33), full_data: bool = False) -> Path:
    """Where the DEAP chapter reads EEG from: ``root`` (the chapter's ``DEAP``), else
    (``full_data``) ``<data root>/deap``, else the synthetic stand-in for ``subjects``, written on
    first use."""
    from .data import default_root, ensure_deap_standin

    if root:
        return Path(root)
    if full_data:
        return default_root() / "deap"
    return ensure_deap_standin(subjects=subjects)


def deap_features(subjects, root: str | os.PathLike | None = None, *, full_data: bool = False):
    """Band-power features (``eeg.Features``, with ``source`` and ``standin``) of ``subjects``
    (see :func:`deap_root`)."""
    from . import eeg
    from .data import load_deap

    return eeg.features(load_deap(deap_root(root, subjects=subjects, full_data=full_data), subjects=subjects))


def deap_vae(x: torch.Tensor, *, epochs: int, seed: int = 0, trials: bool = False, device=None,
             progress: bool = False):
    """The DEAP VAE trained on features ``x`` (N, F) for ``epochs`` from ``seed``; cached.

    ``DEAP_SETTINGS`` for window features, ``DEAP_TRIAL_SETTINGS`` with ``trials`` (one row per
    trial, e.g. the published 160 features). Returns (model, history)."""
    cfg = DEAP_TRIAL_SETTINGS if trials else DEAP_SETTINGS
    torch.manual_seed(seed)  # the initial weights; fit() seeds the rest
    model = VAE((x.shape[1],), cfg["latent_dim"], arch="mlp", hidden=cfg["hidden"],
                likelihood=cfg["likelihood"], beta=cfg["beta"])
    history = train.fit_cached(model, x, name=f"deap{'-trials' * trials}-e{epochs}-seed{seed}", epochs=epochs,
                               batch_size=cfg["batch_size"], lr=cfg["lr"], seed=seed,
                               device=train.pick_device(device), progress=progress)
    return model, history


#: The common dSprites setting (Higgins et al. 2017; Burgess et al. 2018): a conv beta-VAE with 10
#: latents and a Bernoulli likelihood on the 64x64 binary images, beta = 4; Adam at 1e-3 (their
#: 5e-4 or 1e-4 with many more steps than the quick profile can afford), batches of 64. The MLP
#: variant (hidden 512, 256) is the cheap model of the quick profile's seeds and beta sweep.
DSPRITES_SETTINGS = dict(latent_dim=10, beta=4.0, likelihood="bernoulli", lr=1e-3, batch_size=64,
                         mlp_hidden=(512, 256))


def dsprites_vae(images: torch.Tensor, *, epochs: int, beta: float = DSPRITES_SETTINGS["beta"], arch: str = "conv",
                 seed: int = 0, device=None, progress: bool = False):
    """A beta-VAE (``DSPRITES_SETTINGS``) trained on dSprites ``images`` (n, 1, 64, 64), float32 or
    uint8, for ``epochs`` from ``seed``; cached. ``arch="mlp"`` flattens the images. Returns (model, history)."""
    cfg = DSPRITES_SETTINGS
    torch.manual_seed(seed)  # the initial weights; fit() seeds the rest
    if arch == "conv":
        model = VAE((1, 64, 64), cfg["latent_dim"], likelihood=cfg["likelihood"], beta=beta)
        x = images
    else:
        model = VAE((64 * 64,), cfg["latent_dim"], arch="mlp", hidden=cfg["mlp_hidden"], likelihood=cfg["likelihood"],
                    beta=beta)
        x = images.flatten(1)
    history = train.fit_cached(model, x, name=f"dsprites-{arch}-b{beta:g}-e{epochs}-seed{seed}", epochs=epochs,
                               batch_size=cfg["batch_size"], lr=cfg["lr"], seed=seed,
                               device=train.pick_device(device), progress=progress)
    return model, history


@torch.no_grad()
def encode_images(model: VAE, images, *, batch_size: int = 1024, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, logvar), each (n, d), of a tensor of images or a ``LazyImages`` (rendered chunk by chunk,
    so the full grid needs no more memory than its posteriors); flattened for an MLP model."""
    from .mi import encode_dataset

    device = device if device is not None else next(model.parameters()).device
    flat = len(model.input_shape) == 1
    mus, logvars = [], []
    chunks = images.chunks(batch_size) if hasattr(images, "chunks") else images.split(batch_size)
    for chunk in chunks:
        mu, logvar = encode_dataset(model, chunk.flatten(1) if flat else chunk, batch_size=batch_size, device=device)
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    return torch.cat(mus), torch.cat(logvars)
