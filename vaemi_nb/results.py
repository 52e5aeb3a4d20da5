"""Recorded results: small JSON summaries of full-profile runs, kept in the checkout's results/."""
from __future__ import annotations

import json
import os
from pathlib import Path


#: Said where the recorded summaries cannot be read: outside a checkout (Colab, pip install).
NOT_AVAILABLE = ("The recorded full-profile summaries are not available here: they are JSON files in the "
                 "book's repository (folder results/), and this notebook runs without a checkout of it "
                 "(in Colab only the notebook and the installed package are on disk). Read them on the "
                 "results page of the online book, or set VAEMI_RESULTS to a folder that holds them.")


def results_dir() -> Path | None:
    """$VAEMI_RESULTS, else the checkout's results/ folder; None outside a checkout (e.g. in Colab)."""
    if os.environ.get("VAEMI_RESULTS"):
        return Path(os.environ["VAEMI_RESULTS"])
    folder = Path(__file__).resolve().parents[1] / "results"
    return folder if folder.is_dir() else None


def available() -> bool:
    """Whether recorded summaries can be read here (see :data:`NOT_AVAILABLE` when not)."""
    return results_dir() is not None


def save_summary(name: str, summary: dict) -> Path:
    """Write ``summary`` (JSON-serialisable) to results/<name>.json; returns the path.

    Outside a checkout (no results/ folder, $VAEMI_RESULTS unset) it writes to ./results/ and
    says so.
    """
    folder = results_dir()
    if folder is None:
        folder = Path.cwd() / "results"
        print(f"no checkout of the book here: writing the summary to {folder} (copy it into the "
              "repository's results/ folder to record it)")
    path = folder / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return path


def load_summary(name: str) -> dict | None:
    """The recorded summary results/<name>.json, or None if there is none (or no results folder:
    see :func:`available`).

    A file that exists but is not valid JSON raises ValueError naming it.
    """
    folder = results_dir()
    if folder is None:
        return None
    path = folder / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"recorded result {path} is not valid JSON ({err}); re-run the chapter "
                         "with VAEMI_PROFILE=full to regenerate it") from err
