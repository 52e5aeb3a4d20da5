"""Data loaders. Each returns ``Split(images, labels, source)``; ``source`` says what was loaded."""
from ._common import Split, default_root
from .mnist import load_mnist

__all__ = ["Split", "default_root", "load_mnist"]
