"""Data loaders, one module per data set, each stand-in beside its loader: ``mnist``;
``celeba`` + ``celeba_standin`` (procedural faces); ``deap`` (loader, ratings) + ``deap_standin``
(synthetic EEG); ``deap_features`` (real per-trial DEAP features in a three-file text layout);
``dsprites`` (the dSprites factor grid, rendered here, or the original file). MNIST returns
``Split(images, labels, source, standin)``, CelebA ``AttributeSplit(images, labels, source, names,
standin)``, DEAP ``DeapData(..., source, standin)`` and ``DeapFeatures(..., source, standin)``,
dSprites ``DSprites(images, factors, values, names, source, standin, index)``: ``source`` says in
plain words what was loaded, ``standin`` whether it is a stand-in."""
from . import celeba_standin, deap, deap_features, deap_standin, dsprites
from ._common import AttributeSplit, Split, default_root
from .celeba import CELEBA_ATTRIBUTES, load_celeba
from .celeba_standin import ensure_standin, write_standin
from .deap import DeapData, load_deap, read_ratings
from .deap_features import DeapFeatures, load_deap_features
from .deap_standin import ensure_standin as ensure_deap_standin
from .deap_standin import write_standin as write_deap_standin
from .dsprites import DSprites, load_dsprites
from .mnist import load_mnist

__all__ = ["AttributeSplit", "CELEBA_ATTRIBUTES", "DSprites", "DeapData", "DeapFeatures", "Split", "celeba_standin",
           "deap", "deap_features", "deap_standin", "default_root", "dsprites", "ensure_deap_standin", "ensure_standin",
           "load_celeba", "load_deap", "load_deap_features", "load_dsprites", "load_mnist", "read_ratings",
           "write_deap_standin", "write_standin"]
