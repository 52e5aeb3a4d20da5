"""Run profiles: ``quick`` (offline, 2 CPU cores, minutes) and ``full`` (the paper's settings, GPU)."""
from __future__ import annotations

import os
from dataclasses import dataclass

PROFILES = ("quick", "full")


@dataclass(frozen=True)
class Profile:
    """Sizes shared by several chapters: the MNIST model three chapters share and the MI sample
    sizes. A chapter's own sizes are plain values in its ``parameters`` cell."""

    name: str
    mi_points: int  # data points for MI estimates
    mi_sweep: tuple[int, ...]  # N values for convergence plots
    mi_repeats: int  # independent repeats per N
    mnist_epochs: int  # VAE training epochs on MNIST
    batch_size: int
    full_data: bool  # True: the full data sets (downloaded where possible); False: offline stand-ins
    mnist_train: int | None  # cap on MNIST training images (None: all 50,000)


_SIZES = {
    "quick": Profile("quick", mi_points=10_000, mi_sweep=(250, 500, 1000, 2000, 4000),
                     mi_repeats=3, mnist_epochs=80, batch_size=100, full_data=False, mnist_train=4000),
    "full": Profile("full", mi_points=20_000, mi_sweep=(250, 500, 1000, 2000, 4000, 8000, 16000, 32000),
                    mi_repeats=5, mnist_epochs=100, batch_size=100, full_data=True, mnist_train=None),
}


def get_profile(name: str | None = None) -> Profile:
    """The sizes for profile ``name`` (default: $VAEMI_PROFILE, else "quick")."""
    name = name or os.environ.get("VAEMI_PROFILE", "quick")
    if name not in _SIZES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)} "
                         "(set VAEMI_PROFILE or pass the name)")
    return _SIZES[name]
