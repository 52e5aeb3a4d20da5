"""Run profiles: ``quick`` (offline, 2 CPU cores, minutes) and ``full`` (the paper's settings, GPU)."""
from __future__ import annotations

import os
from dataclasses import dataclass

PROFILES = ("quick", "full")


@dataclass(frozen=True)
class Profile:
    """Sizes shared by the chapters."""

    name: str
    mi_points: int  # data points for MI estimates
    mi_sweep: tuple[int, ...]  # N values for convergence plots
    mi_repeats: int  # independent repeats per N
    mnist_epochs: int  # VAE training epochs on MNIST
    batch_size: int
    full_data: bool  # True: the full data sets (downloaded where possible); False: offline stand-ins
    mnist_train: int | None  # cap on MNIST training images (None: all 50,000)
    celeba_epochs: int  # conv VAE training epochs on CelebA (or its stand-in)
    celeba_train: int | None  # cap on CelebA training images (None: all 162,770)
    celeba_eval: int | None  # cap on CelebA validation and test images (None: all)
    deap_subjects: tuple[int, ...]  # DEAP participants used
    deap_epochs: int  # VAE training epochs on the DEAP band-power features


_SIZES = {
    "quick": Profile("quick", mi_points=10_000, mi_sweep=(250, 500, 1000, 2000, 4000),
                     mi_repeats=3, mnist_epochs=80, batch_size=100, full_data=False, mnist_train=4000,
                     celeba_epochs=25, celeba_train=4800, celeba_eval=600,
                     deap_subjects=tuple(range(1, 13)), deap_epochs=30),
    "full": Profile("full", mi_points=20_000, mi_sweep=(250, 500, 1000, 2000, 4000, 8000, 16000, 32000),
                    mi_repeats=5, mnist_epochs=100, batch_size=100, full_data=True, mnist_train=None,
                    celeba_epochs=30, celeba_train=None, celeba_eval=None,
                    deap_subjects=tuple(range(1, 33)), deap_epochs=100),
}


def get_profile(name: str | None = None) -> Profile:
    """The sizes for profile ``name`` (default: $VAEMI_PROFILE, else "quick")."""
    name = name or os.environ.get("VAEMI_PROFILE", "quick")
    if name not in _SIZES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)} "
                         "(set VAEMI_PROFILE or pass the name)")
    return _SIZES[name]
