"""Where the tests find the real validation data of ../shared/data (see its README): the
environment variable CI sets, else ../shared/data beside the checkout. Tests using it skip
cleanly when it is absent; the package itself never looks for ../shared."""
import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_path(env: str, relative: str) -> Path:
    """$env if set, else ../shared/data/<relative> (which may not exist)."""
    return Path(os.environ[env]) if os.environ.get(env) else SHARED / relative
