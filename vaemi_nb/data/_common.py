"""Shared pieces of the data loaders."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from torch import Tensor


class Split(NamedTuple):
    """One split of a data set; ``source`` says in plain words what was loaded."""

    images: Tensor
    labels: Tensor
    source: str


class AttributeSplit(NamedTuple):
    """A split with multi-label ``labels`` (N, K) whose columns ``names`` names (e.g. CelebA's 40)."""

    images: Tensor
    labels: Tensor
    source: str
    names: tuple[str, ...]


def default_root() -> Path:
    """Dataset cache: $VAEMI_DATA, else the checkout's data/ folder, else ~/.cache/vaemi_nb."""
    if os.environ.get("VAEMI_DATA"):
        return Path(os.environ["VAEMI_DATA"])
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "README.md").is_file():
        return checkout
    return Path.home() / ".cache" / "vaemi_nb"
