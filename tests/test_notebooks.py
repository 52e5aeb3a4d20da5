"""Committed notebooks: no outputs, a `parameters` cell reading VAEMI_PROFILE and VAEMI_SEED, listed in the TOC."""
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _toc_files(entries):
    for e in entries:
        if "file" in e:
            yield e["file"]
        for key in ("chapters", "sections", "parts"):
            yield from _toc_files(e.get(key, []))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_reads_profile_and_seed(path):
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    assert 'PROFILE = os.environ.get("VAEMI_PROFILE", "quick")' in params[0].source
    assert 'SEED = int(os.environ.get("VAEMI_SEED", 0))' in params[0].source, \
        f"{path.name}: the parameters cell must read the seed from VAEMI_SEED"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_fixed_seeds(path):
    """Every random choice follows from SEED: no seed is a bare literal (seed=0, manual_seed(1))."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    fixed = re.findall(r"(?:manual_seed\(\s*\d+\s*\)|\bseed\s*=\s*\d+\s*(?=[,)\n]))", code)
    assert not fixed, f"{path.name}: seeds not derived from SEED: {fixed}"


def test_every_notebook_is_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = set(_toc_files([toc] + toc.get("parts", [])))
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"
