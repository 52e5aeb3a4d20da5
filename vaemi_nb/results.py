"""Recorded results: small JSON summaries of full-profile runs, kept in the checkout's results/."""
from __future__ import annotations

import json
import os
from pathlib import Path


def results_dir() -> Path:
    """$VAEMI_RESULTS, else the checkout's results/ folder."""
    if os.environ.get("VAEMI_RESULTS"):
        return Path(os.environ["VAEMI_RESULTS"])
    return Path(__file__).resolve().parents[1] / "results"


def save_summary(name: str, summary: dict) -> Path:
    """Write ``summary`` (JSON-serialisable) to results/<name>.json; returns the path."""
    path = results_dir() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return path


def load_summary(name: str) -> dict | None:
    """The recorded summary results/<name>.json, or None if there is none.

    A file that exists but is not valid JSON raises ValueError naming it.
    """
    path = results_dir() / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"recorded result {path} is not valid JSON ({err}); re-run the chapter "
                         "with VAEMI_PROFILE=full to regenerate it") from err
