"""vaemi_nb: which latent factors of a VAE carry information? Per-factor MI, in nats."""
import time

STARTED = time.perf_counter()  # first import in this process: a chapter's run time starts here

from . import data, mi, models, plotting, profiles, synthetic, train  # noqa: E402 (after STARTED)
from .mi import encode_dataset, factor_mi  # noqa: E402
from .models import VAE  # noqa: E402
from .profiles import get_profile  # noqa: E402

__version__ = "0.1.0"
__all__ = ["VAE", "data", "encode_dataset", "factor_mi", "get_profile", "mi", "models",
           "plotting", "profiles", "synthetic", "train"]
