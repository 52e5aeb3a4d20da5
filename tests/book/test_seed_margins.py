"""The committed seed sweep (tests/seed_margins.md, by tools/seed_sweep.py) is complete and current:
every chapter passed seeds 0-4, every check held on every seed, and every check a chapter makes
(with a literal name) appears in the table."""
import ast
import re
from pathlib import Path

import nbformat
import pytest

import seed_sweep

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "seed_margins.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SEEDS = "0, 1, 2, 3, 4"


def _rows(section: str) -> list[list[str]]:
    text = TABLE.read_text()
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in part.splitlines() if line.startswith("| ") and not line.startswith("|---")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in rows[1:]]


def _calls(node, conditional=False):
    """(call, inside an if?) for every call below node."""
    for child in ast.iter_child_nodes(node):
        inside = conditional or isinstance(node, ast.If)
        if isinstance(child, ast.Call):
            yield child, inside
        yield from _calls(child, inside)


def _check_names(path: Path) -> set[str]:
    """Literal names of the check(...) / check_all(...) calls that every run makes (those outside an
    ``if``: a conditional check, e.g. on a recorded full-profile run, may not run in the sweep)."""
    nb = nbformat.read(path, as_version=4)
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node, conditional in _calls(ast.parse(src)):
            if (not conditional and getattr(node.func, "id", getattr(node.func, "attr", None))
                    in ("check", "check_all") and node.args and isinstance(node.args[0], ast.Constant)):
                names.add(node.args[0].value)
    return names


def test_table_exists_and_names_the_machine():
    text = TABLE.read_text()
    assert f"over seeds {SEEDS}" in text and "Measured " in text and " cores" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_passed_every_seed(path):
    runs = [r for r in _rows("Runs") if r[0] == path.stem]
    assert runs, f"{path.name} is missing from {TABLE.name}: run tools/seed_sweep.py"
    now = seed_sweep.digest(path)  # the chapter's code cells as they are, not as the table was written
    for chapter, data, passed, _, current, code, *_ in runs:
        assert passed.startswith("5 of 5"), f"{chapter} ({data}): {passed} seeds passed"
        assert current == "yes" and code == now, (
            f"{chapter} ({data}) changed since it was swept (code {code}, now {now}): "
            f"re-run tools/seed_sweep.py --notebooks {chapter[:2]}")


def test_celeba_was_swept_on_real_faces_too():
    assert any("celeba" in r[0] and r[1] == "real" for r in _rows("Runs"))


def test_deap_was_swept_on_real_features_too():
    assert any("deap" in r[0] and r[1] == "real" for r in _rows("Runs"))


def test_every_check_held_on_every_seed_it_ran():
    """Unconditional checks run on all 5 seeds (test_the_table_is_current); a conditional one (e.g.
    only when a model finds both kinds of code) on those where its condition held."""
    bad = [r for r in _rows("Checks") if r[-1].split("/")[0] != r[-1].split("/")[1]]
    assert not bad, f"checks that failed on some seed: {bad}"
    unconditional = set().union(*(_check_names(p) for p in NOTEBOOKS))
    partial = [r for r in _rows("Checks") if r[2].replace("\\|", "|") in unconditional and r[-1] != "5/5"]
    assert not partial, f"unconditional checks that did not run on all 5 seeds: {partial}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_table_is_current(path):
    listed = {r[2].replace("\\|", "|") for r in _rows("Checks") if r[0] == path.stem}
    missing = _check_names(path) - listed
    assert not missing, f"{path.name}: checks not in {TABLE.name} (re-run tools/seed_sweep.py): {sorted(missing)}"


def test_a_rebuild_without_logs_keeps_the_rows_and_rechecks_them(tmp_path, monkeypatch):
    """Logs stay on the machine that ran them: rebuilding the table elsewhere keeps every row, and
    "current" is decided again against the chapters' code as it is now."""
    monkeypatch.setattr(seed_sweep, "LOGS", tmp_path / "no-logs")
    monkeypatch.setattr(seed_sweep, "machine", lambda: "another machine")
    out = tmp_path / "table.md"
    text = TABLE.read_text()
    first = _rows("Runs")[0]
    out.write_text(text.replace(f"| {first[5]} |", "| 000000000000 |", 1))  # as if that chapter had changed
    seed_sweep.table(out, [0, 1, 2, 3, 4])
    again = out.read_text()
    kept = [r for r in again.splitlines() if r.startswith("| ") and "|---" not in r]
    assert len(kept) == len([r for r in text.splitlines() if r.startswith("| ") and "|---" not in r])
    assert f"| {first[0]} | {first[1]} | {first[2]} | {first[3]} | NO: re-run | 000000000000 |" in again
    assert "were measured on" in again and "another machine" in again
