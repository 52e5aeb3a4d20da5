"""Recorded results: small JSON summaries of full-profile runs (results/*.json) and benchmark
tables (benchmarks/*.csv), kept in the book's repository.

The package never looks for the repository itself. A chapter passes ``root``, the folder of a
checkout (its ``parameters`` cell has ``ROOT``); without one (Colab, pip install) the files are
read from the repository on GitHub (:data:`REPOSITORY`), and offline :class:`Records` says in
plain words that they are not available.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

#: The book's repository and branch; ``tools/colab.py --check`` keeps them equal to _config.yml's.
REPOSITORY = "https://github.com/vaemi-book/vaemi-book"
BRANCH = "main"

#: Said where the recorded files cannot be read: no checkout and no connection to GitHub.
NOT_AVAILABLE = ("The recorded full-profile results are not available here: they are files in the book's "
                 "repository (folders results/ and benchmarks/), this notebook runs without a checkout of it "
                 "(in Colab only the notebook and the installed package are on disk), and the repository "
                 f"could not be reached at {REPOSITORY}. Read them on the results page of the online book, "
                 "or set ROOT in the parameters cell to a checkout.")


def checkout(root: str | os.PathLike | None) -> Path | None:
    """``root`` if it is a checkout of the book (it holds _toc.yml and results/), else None."""
    if root is None:
        return None
    path = Path(root).resolve()
    return path if (path / "_toc.yml").is_file() and (path / "results").is_dir() else None


def raw_url(relative: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """Address of a file of the repository on GitHub's raw-content host."""
    parts = urlsplit(repository)
    if parts.netloc != "github.com":
        return f"{repository.rstrip('/')}/raw/{branch}/{relative}"  # a local or other git web host
    return f"https://raw.githubusercontent.com{parts.path.rstrip('/')}/{branch}/{relative}"


class Records:
    """The repository's recorded files, read from the checkout ``root`` when there is one, else
    from ``repository`` over HTTP (one failed connection stops further tries).

    ``where`` says in plain words where they come from; ``available`` is False only when
    neither worked (then print :data:`NOT_AVAILABLE`).
    """

    def __init__(self, root: str | os.PathLike | None, *, repository: str | None = REPOSITORY,
                 branch: str = BRANCH, timeout: float = 5.0):
        self.root, self.repository, self.branch, self.timeout = checkout(root), repository, branch, timeout
        self._online = self.root is None and repository is not None
        if self.root is not None:
            self.where = "the book's checkout"
        elif self._online:
            self.where = f"the repository {repository} (branch {branch}), read over the network"
        else:
            self.where = "nowhere (no checkout, no repository)"

    @property
    def available(self) -> bool:
        return self.root is not None or self._online

    def text(self, relative: str) -> str | None:
        """The file ``relative`` (e.g. 'results/mnist_full.json'), or None if it is not recorded."""
        if self.root is not None:
            path = self.root / relative
            return path.read_text(encoding="utf-8") if path.is_file() else None
        if not self._online:
            return None
        try:
            with urllib.request.urlopen(raw_url(relative, self.repository, self.branch),
                                        timeout=self.timeout) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            self._offline(err)
        except (urllib.error.URLError, OSError) as err:  # no network, DNS failure, timeout
            self._offline(err)
        return None

    def _offline(self, err: Exception) -> None:
        self._online = False
        self.where = f"nowhere: the repository {self.repository} could not be reached ({err})"

    def summary(self, name: str) -> dict | None:
        """The recorded summary results/<name>.json, or None if there is none.

        A file that exists but is not valid JSON raises ValueError naming it.
        """
        text = self.text(f"results/{name}.json")
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"recorded result results/{name}.json in {self.where} is not valid JSON ({err}); "
                             "re-run the chapter with VAEMI_PROFILE=full to regenerate it") from err


def load_summary(name: str, root: str | os.PathLike | None) -> dict | None:
    """The summary results/<name>.json of the checkout ``root`` (None if absent or no checkout)."""
    return Records(root, repository=None).summary(name)


def save_summary(name: str, summary: dict, root: str | os.PathLike | None) -> Path:
    """Write ``summary`` (JSON-serialisable) to <root>/results/<name>.json; returns the path.

    Without a checkout at ``root`` it writes to ./results/ and says so.
    """
    found = checkout(root)
    folder = found / "results" if found is not None else Path.cwd() / "results"
    if found is None:
        print(f"no checkout of the book at ROOT={root}: writing the summary to {folder} (copy it into the "
              "repository's results/ folder to record it)")
    path = folder / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return path
