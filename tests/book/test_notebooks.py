"""Committed notebooks: no outputs, a `parameters` cell reading VAEMI_PROFILE and VAEMI_SEED, listed in the TOC."""
import inspect
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
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


def test_chapters_are_named_in_reading_order():
    """The table of contents reads the chapters 01, 02, ... in file-name order, with none missing."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [f for f in _toc_files([toc]) if f.startswith("notebooks/")]
    assert listed == sorted(listed), f"_toc.yml lists the chapters out of file-name order: {listed}"
    numbers = [int(Path(f).name.split("_", 1)[0]) for f in listed]
    assert numbers == list(range(1, len(listed) + 1)), f"chapter numbers should run 1, 2, ...: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_settings_live_in_the_parameters_cell(path):
    """A chapter's sizes are plain values in its parameters cell: no other cell picks a size by
    profile, and no chapter reads a chapter-specific field of the shared Profile."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
    ternaries = [line.strip() for src in code for line in src.splitlines()
                 if re.search(r"\bif\s+(P\.name|PROFILE)\s*==.*\belse\b", line)]
    assert not ternaries, f"{path.name}: sizes chosen by profile outside the parameters cell: {ternaries}"
    fields = re.findall(r"\bP\.(celeba_\w+|deap_\w+)", "\n".join(code))
    assert not fields, f"{path.name}: reads chapter settings from the shared Profile: {fields}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stand_ins_are_detected_by_the_data_flag(path):
    """Chapters ask the data object (``.standin``), never search its description for a word."""
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert not re.search(r"""["']stand-in["']\s+in\s""", code), f"{path.name}: detects a stand-in by its source text"


def _readme_modules() -> dict[str, str]:
    """Chapter number -> its row of the README's "Chapters and the package" table."""
    text = (ROOT / "README.md").read_text().split("## Chapters and the package", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in text.splitlines() if re.match(r"\| \d\d ", line)]
    return {cells[0].strip()[:2]: cells[1] for cells in rows}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_names_the_modules_each_chapter_imports(path):
    import importlib

    import vaemi_nb

    row = _readme_modules().get(path.name[:2])
    assert row is not None, f"README's chapter table has no row for {path.name}"
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    used = set()
    pattern = r"^from (vaemi_nb(?:\.\w+)*) import (?:\(([^)]*)\)|([\w, ]+))$"
    for module, grouped, names in re.findall(pattern, code, re.M):
        for name in (n.strip() for n in (grouped or names).split(",") if n.strip()):
            parent = importlib.import_module(module)
            obj = getattr(parent, name, None) or importlib.import_module(f"{module}.{name}")
            used.add((obj.__name__ if inspect.ismodule(obj) else obj.__module__).removeprefix("vaemi_nb."))
    used -= {"profiles", "checks", "vaemi_nb"}
    assert vaemi_nb  # the package imports
    missing = sorted(m for m in used if f"`{m}`" not in row)
    assert not missing, f"README's row for {path.name[:2]} lacks {missing}"
