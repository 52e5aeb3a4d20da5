"""Shared pieces of the data loaders."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from torch import Tensor


class Split(NamedTuple):
    """One split of a data set; ``source`` says in plain words what was loaded, ``standin``
    whether it is a generated stand-in rather than the named data set."""

    images: Tensor
    labels: Tensor
    source: str
    standin: bool = False


class AttributeSplit(NamedTuple):
    """A split with multi-label ``labels`` (N, K) whose columns ``names`` names (e.g. CelebA's 40)."""

    images: Tensor
    labels: Tensor
    source: str
    names: tuple[str, ...]
    standin: bool = False


def default_root() -> Path:
    """Dataset cache: $VAEMI_DATA, else ~/.cache/vaemi_nb. (The book's Makefile and CI set
    VAEMI_DATA to the checkout's data/ folder; the package never looks for the checkout.)"""
    if os.environ.get("VAEMI_DATA"):
        return Path(os.environ["VAEMI_DATA"])
    return Path.home() / ".cache" / "vaemi_nb"
