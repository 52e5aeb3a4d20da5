"""vaemi_nb: which latent factors of a VAE carry information? Per-factor MI, in nats."""
from . import data, mi, models, plotting, profiles, synthetic, train
from .mi import encode_dataset, factor_mi
from .models import VAE
from .profiles import get_profile

__version__ = "0.1.0"
__all__ = ["VAE", "data", "encode_dataset", "factor_mi", "get_profile", "mi", "models",
           "plotting", "profiles", "synthetic", "train"]
