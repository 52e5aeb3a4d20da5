"""Keep every chapter's "Open in Colab" badge and Colab install cell in step with _config.yml.

    python tools/colab.py            # rewrite (or insert) the badge and install cell of every notebook
    python tools/colab.py --check    # list the notebooks that disagree with _config.yml; exit 1 if any

The repository's address and branch are configured once, under ``repository:`` in _config.yml.
Each notebook gets, right under its title cell, a markdown cell with the badge (tagged
``colab-badge``, and ``remove-cell`` so the offline book, which has its own Colab launch
button, loads no image from the web), and, as its first code cell, a cell tagged
``colab-install`` that installs ``vaemi_nb`` from that address only when it runs in Colab (with
the optional extra a chapter needs, ``EXTRAS``), and ``remove-cell``: outside Colab it does
nothing, so the book does not show it.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import nbformat
import yaml

BADGE_TAG, INSTALL_TAG = "colab-badge", "colab-install"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

#: Chapters whose full profile needs a data set Colab cannot download by itself (CelebA's
#: images, DEAP's EULA-protected recordings): there Colab defaults to the full profile only
#: when the variable naming the data set's folder is set.
FULL_NEEDS = {"08_celeba": "VAEMI_CELEBA", "09_deap": "VAEMI_DEAP"}

#: Chapters that need an optional extra of the package (pyproject's [project.optional-dependencies]):
#: their install cell installs ``vaemi_nb[extra]``.
EXTRAS = {"11_your_vae": "thirdparty"}


def _repository(config_path: str | Path) -> dict:
    return yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))["repository"]


def repository_url(config_path: str | Path = "_config.yml") -> str:
    """The repository's address from _config.yml, without a trailing slash or ``.git``."""
    return str(_repository(config_path)["url"]).rstrip("/").removesuffix(".git")


def repository_branch(config_path: str | Path = "_config.yml") -> str:
    return str(_repository(config_path).get("branch", "main"))


def install_requirement(url: str, branch: str, extra: str | None = None) -> str:
    """The pip requirement of the install cell: ``vaemi_nb[extra] @ git+url@branch``."""
    return f"vaemi_nb{f'[{extra}]' if extra else ''} @ git+{url}@{branch}"


def install_cell_source(url: str, branch: str, *, data_env: str | None = None, extra: str | None = None) -> str:
    """The Colab install cell: installs vaemi_nb from ``url@branch`` and picks the profile, in Colab only.

    With ``data_env`` (for a chapter whose full profile needs a data set), choosing the full
    profile on a GPU also needs that environment variable set. With ``extra`` it installs that
    optional extra of the package too (e.g. the third-party VAE library of chapter 11).
    """
    if data_env:
        full = [f"    # the full profile needs the data set: set {data_env} to its folder first",
                f'    full = torch.cuda.is_available() and bool(os.environ.get("{data_env}"))']
    else:
        full = ["    full = torch.cuda.is_available()  # a GPU: run the paper's settings"]
    return "\n".join([
        "# Colab only: install the book's package, choose the profile (elsewhere: nothing)",
        "import os",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f'    %pip install --quiet "{install_requirement(url, branch, extra)}"',
        "    import torch",
        "",
        *full,
        '    os.environ.setdefault("VAEMI_PROFILE", "full" if full else "quick")',
    ])


def colab_link(url: str, branch: str, notebook_path: str) -> str:
    """Colab's address for ``notebook_path`` (relative to the repository root) on GitHub."""
    parts = urlsplit(url)
    if parts.netloc.lower() not in ("github.com", "www.github.com"):
        raise ValueError(f"Colab opens notebooks from GitHub; the repository URL is {url!r}")
    return f"https://colab.research.google.com/github/{parts.path.strip('/')}/blob/{branch}/{notebook_path}"


def badge_markdown(url: str, branch: str, notebook_path: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_link(url, branch, notebook_path)})"


def _cells(url: str, branch: str, notebook_path: str) -> tuple:
    stem = PurePosixPath(notebook_path).stem
    badge = nbformat.v4.new_markdown_cell(badge_markdown(url, branch, notebook_path), id=BADGE_TAG,
                                          metadata={"tags": [BADGE_TAG, "remove-cell"]})
    install = nbformat.v4.new_code_cell(install_cell_source(url, branch, data_env=FULL_NEEDS.get(stem),
                                                            extra=EXTRAS.get(stem)),
                                        id=INSTALL_TAG, metadata={"tags": [INSTALL_TAG, "remove-cell"]})
    return badge, install


def sync(nb, url: str, branch: str, notebook_path: str):
    """A copy of ``nb`` with a fresh badge cell right after its title cell and a fresh install
    cell as its first code cell (earlier ones removed)."""
    nb = copy.deepcopy(nb)
    badge, install = _cells(url, branch, notebook_path)
    nb.cells = [c for c in nb.cells if not {BADGE_TAG, INSTALL_TAG} & set(c.metadata.get("tags", []))]
    nb.cells.insert(1, badge)
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, install)
    return nb


def _notebooks(config_path: Path) -> list[tuple[Path, str]]:
    """(file, path inside the repository) of every chapter notebook."""
    root = config_path.parent
    in_repo = PurePosixPath(str(_repository(config_path).get("path_to_book") or "."))
    return [(p, str(in_repo / p.relative_to(root).as_posix())) for p in sorted((root / "notebooks").glob("*.ipynb"))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="only list the notebooks that disagree; exit 1 if any")
    p.add_argument("--config", default="_config.yml", help="the book's _config.yml (default: ./_config.yml)")
    args = p.parse_args(argv)
    config = Path(args.config)
    url, branch = repository_url(config), repository_branch(config)
    stale = []
    for path, in_repo in _notebooks(config):
        nb = nbformat.read(path, as_version=4)
        new = sync(nb, url, branch, in_repo)
        if nbformat.writes(new) == nbformat.writes(nb):
            continue
        stale.append(path)
        if not args.check:
            nbformat.validate(new)
            nbformat.write(new, path)
    verb = "disagree with" if args.check else "updated from"
    print(f"{len(stale)} notebook(s) {verb} {config} ({url}@{branch})" + "".join(f"\n  {p}" for p in stale))
    package = package_repository_mismatch(url, branch)
    if package:
        print(package)
    return 1 if (args.check and stale) or package else 0


def package_repository_mismatch(url: str, branch: str) -> str | None:
    """A message if the package's ``results.REPOSITORY``/``BRANCH`` (where Colab reads the recorded
    results from) disagree with _config.yml's repository, else None."""
    from vaemi_nb import results

    if (results.REPOSITORY, results.BRANCH) == (url, branch):
        return None
    return (f"vaemi_nb/results.py has REPOSITORY = {results.REPOSITORY!r}, BRANCH = {results.BRANCH!r}, "
            f"but _config.yml says {url!r}@{branch!r}: set them to the same")


if __name__ == "__main__":
    sys.exit(main())
