"""Shared pieces of the data loaders."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from torch import Tensor


class Split(NamedTuple):
    """One split of a data set; ``source`` says in plain words what was loaded.

    ``names`` names the label columns when ``labels`` is (N, K) multi-label (e.g. CelebA's 40
    attributes); None for single-label data such as MNIST.
    """

    images: Tensor
    labels: Tensor
    source: str
    names: tuple[str, ...] | None = None


def default_root() -> Path:
    """Dataset cache: $VAEMI_DATA, else the checkout's data/ folder, else ~/.cache/vaemi_nb."""
    if os.environ.get("VAEMI_DATA"):
        return Path(os.environ["VAEMI_DATA"])
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "README.md").is_file():
        return checkout
    return Path.home() / ".cache" / "vaemi_nb"
