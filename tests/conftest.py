"""Shared test set-up: the checkout's data/ folder is the cache (as `make` sets it), and the real
validation data of ../shared, when CI passes its paths in environment variables."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("VAEMI_DATA", str(ROOT / "data"))
