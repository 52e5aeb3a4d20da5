"""Data loaders. MNIST returns ``Split(images, labels, source)``, CelebA ``AttributeSplit(images,
labels, source, names)``; ``source`` says in plain words what was loaded (real data, a subset, or a stand-in)."""
from . import deap
from ._common import AttributeSplit, Split, default_root
from .celeba import CELEBA_ATTRIBUTES, load_celeba
from .deap import DeapData, load_deap, read_ratings
from .deap import ensure_standin as ensure_deap_standin
from .deap import write_standin as write_deap_standin
from .faces import ensure_standin, write_standin
from .mnist import load_mnist

__all__ = ["AttributeSplit", "CELEBA_ATTRIBUTES", "DeapData", "Split", "deap", "default_root", "ensure_deap_standin",
           "ensure_standin", "load_celeba", "load_deap", "load_mnist", "read_ratings", "write_deap_standin",
           "write_standin"]
