"""Colab: every notebook's badge and install cell agree with the repository URL in _config.yml."""
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import colab

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "_config.yml"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
URL, BRANCH = colab.repository_url(CONFIG), colab.repository_branch(CONFIG)

_PROFILE_AT_IMPORT = os.environ.get("VAEMI_PROFILE")


def _tagged(nb, tag):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def _run_install_cell(source, monkeypatch, *, in_colab):
    """Execute the cell as IPython would, with a stub get_ipython; return the magics it called."""
    calls = []

    def get_ipython():
        if not in_colab:
            raise AssertionError("the install cell used IPython outside Colab")
        return type("Shell", (), {"run_line_magic": lambda self, *args: calls.append(args)})()

    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(TransformerManager().transform_cell(source), {"get_ipython": get_ipython})
    return calls


def test_extras_exist_and_only_their_chapters_install_them():
    """A chapter's extra is declared in pyproject.toml; every other chapter installs the plain package."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(colab.EXTRAS.values()) <= set(declared), f"extras {colab.EXTRAS}, pyproject has {sorted(declared)}"
    stems = {p.stem for p in NOTEBOOKS}
    assert set(colab.EXTRAS) <= stems, f"EXTRAS names chapters that do not exist: {set(colab.EXTRAS) - stems}"
    assert colab.install_requirement(URL, BRANCH, "thirdparty") == f"vaemi_nb[thirdparty] @ git+{URL}@{BRANCH}"
    assert colab.install_requirement(URL, BRANCH) == f"vaemi_nb @ git+{URL}@{BRANCH}"


def test_config_has_a_github_repository():
    assert URL.startswith("https://github.com/") and BRANCH


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_is_first_and_installs_from_the_config_url(path):
    nb = nbformat.read(path, as_version=4)
    cells = _tagged(nb, colab.INSTALL_TAG)
    assert len(cells) == 1, f"{path.name}: needs exactly one cell tagged {colab.INSTALL_TAG!r}"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is cells[0], f"{path.name}: the install cell must be the first code cell"
    urls = re.findall(r'git\+(\S+?)@([\w./-]+)"', cells[0].source)
    assert urls == [(URL, BRANCH)], f"{path.name}: installs from {urls}, _config.yml says {URL}@{BRANCH}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_does_nothing_outside_colab(path, monkeypatch):
    monkeypatch.setenv("VAEMI_PROFILE", "unset")  # so that teardown restores the original state
    monkeypatch.delenv("VAEMI_PROFILE")
    source = _tagged(nbformat.read(path, as_version=4), colab.INSTALL_TAG)[0].source
    assert _run_install_cell(source, monkeypatch, in_colab=False) == []
    assert "VAEMI_PROFILE" not in os.environ


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_in_colab_installs_and_picks_a_profile(path, monkeypatch):
    import torch

    monkeypatch.setenv("VAEMI_PROFILE", "unset")  # so that teardown restores the original state
    monkeypatch.delenv("VAEMI_PROFILE")
    for name in colab.FULL_NEEDS.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    source = _tagged(nbformat.read(path, as_version=4), colab.INSTALL_TAG)[0].source
    calls = _run_install_cell(source, monkeypatch, in_colab=True)
    requirement = colab.install_requirement(URL, BRANCH, colab.EXTRAS.get(path.stem))
    assert calls == [("pip", f'install --quiet "{requirement}"')]
    # a GPU means the full profile, unless the chapter's full profile needs a data set that is not set
    assert os.environ["VAEMI_PROFILE"] == ("quick" if path.stem in colab.FULL_NEEDS else "full")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_badge_opens_this_notebook(path):
    nb = nbformat.read(path, as_version=4)
    badges = _tagged(nb, colab.BADGE_TAG)
    assert len(badges) == 1 and nb.cells[1] is badges[0], f"{path.name}: one badge cell, right under the title"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    links = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)]+)\)", badges[0].source)
    owner_repo = URL.removeprefix("https://github.com/")
    assert links == [f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/{path.name}"]
    assert colab.BADGE_IMAGE in badges[0].source
    assert "remove-cell" in badges[0].metadata["tags"], "the offline book must not load the badge image"


def test_check_passes_on_the_repository():
    assert colab.main(["--check", "--config", str(CONFIG)]) == 0


def _copy_book(tmp_path, url=None):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    text = CONFIG.read_text()
    if url:
        assert text.count(URL) == 1, "the URL should be configured once"
        text = text.replace(URL, url)
    (tmp_path / "_config.yml").write_text(text)
    return tmp_path / "_config.yml"


def test_check_fails_when_the_package_points_elsewhere(monkeypatch, capsys):
    from vaemi_nb import results

    monkeypatch.setattr(results, "REPOSITORY", "https://github.com/someone-else/fork")
    assert colab.main(["--check", "--config", str(CONFIG)]) == 1
    assert "vaemi_nb/results.py has REPOSITORY" in capsys.readouterr().out


def test_check_fails_when_the_url_changes_and_sync_repairs_it(tmp_path, capsys, monkeypatch):
    from vaemi_nb import results

    monkeypatch.setattr(results, "REPOSITORY", "https://github.com/someone-else/fork")  # edited with the config
    config = _copy_book(tmp_path, url="https://github.com/someone-else/fork")
    assert colab.main(["--check", "--config", str(config)]) == 1
    assert "01_measuring_mi.ipynb" in capsys.readouterr().out
    assert colab.main(["--config", str(config)]) == 0  # rewrite every notebook
    assert colab.main(["--check", "--config", str(config)]) == 0
    nb = nbformat.read(tmp_path / "notebooks" / "01_measuring_mi.ipynb", as_version=4)
    assert "git+https://github.com/someone-else/fork@" in _tagged(nb, colab.INSTALL_TAG)[0].source
    assert "/github/someone-else/fork/blob/" in _tagged(nb, colab.BADGE_TAG)[0].source


def test_sync_is_idempotent_and_inserts_missing_cells(tmp_path):
    config = _copy_book(tmp_path)
    path = tmp_path / "notebooks" / "01_measuring_mi.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not {colab.BADGE_TAG, colab.INSTALL_TAG} & set(c.metadata.get("tags", []))]
    nbformat.write(nb, path)
    assert colab.main(["--check", "--config", str(config)]) == 1
    colab.main(["--config", str(config)])
    once = path.read_text()
    colab.main(["--config", str(config)])
    assert path.read_text() == once == (ROOT / "notebooks" / path.name).read_text()


def test_zz_install_cell_tests_leave_the_profile_as_they_found_it():
    # runs after the tests above (file order): a leaked VAEMI_PROFILE=full would switch every
    # notebook that nbval runs later in this process to the full profile
    assert os.environ.get("VAEMI_PROFILE") == _PROFILE_AT_IMPORT
