"""Exercises in every chapter, and student versions that keep them but hold no solution."""
import ast
import re
from pathlib import Path

import nbformat
import pytest

import student

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if p.stem != "04_results"]  # the results page has no exercises


def _solution_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and student.SOLUTION_TAG in c.metadata.get("tags", [])]


def _labels(nb):
    return [lab for c in nb.cells if c.cell_type == "markdown" for lab, _ in student.exercises(c.source)]


@pytest.fixture(scope="module")
def students(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    written = student.make_student_versions(ROOT / "notebooks", out)
    return out, written


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_exercises_and_a_coding_solution(path):
    nb = nbformat.read(path, as_version=4)
    labels = _labels(nb)
    assert len(labels) >= 2, f"{path.name}: needs at least 2 exercises, has {labels}"
    assert all(re.fullmatch(r"ex-\d\d-\d+", lab) for lab in labels), labels
    solutions = _solution_cells(nb)
    assert solutions, f"{path.name}: needs a code cell tagged 'solution'"
    for cell in solutions:
        assert cell.source.startswith("# hint: "), f"{path.name}: a solution cell must start with '# hint: ...'"
        assert isinstance(ast.parse(cell.source).body[-1], ast.Assert), \
            f"{path.name}: a solution cell must end by checking its result with an assert"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Exercises" in text
    for block in re.findall(r"`{3,}\{solution\}[^\n]*\n((?::[^\n]*\n)*)", text):
        assert ":class: dropdown" in block, f"{path.name}: solutions must render collapsed"


def test_exercise_labels_are_unique_across_the_book():
    labels = [lab for p in NOTEBOOKS for lab in _labels(nbformat.read(p, as_version=4))]
    assert len(labels) == len(set(labels)), sorted(lab for lab in labels if labels.count(lab) > 1)


def test_every_notebook_gets_a_student_version(students):
    out, written = students
    assert sorted(p.name for p in written) == [p.name for p in NOTEBOOKS]
    readme = (out / "README.md").read_text()
    assert "NotImplementedError" in readme and "ex-01-1" in readme


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_version_holds_no_solution(path, students):
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(students[0] / path.name, as_version=4)
    nbformat.validate(copy)
    assert len(copy.cells) == len(original.cells)
    assert [c.id for c in copy.cells] == [c.id for c in original.cells]
    everything = "\n".join(c.source for c in copy.cells)
    assert "{solution}" not in everything
    for cell in _solution_cells(original):  # the longest line of each solution is a distinctive one
        distinctive = max(cell.source.splitlines()[1:], key=len).strip()
        assert distinctive not in everything, f"{path.name}: solution line leaked: {distinctive!r}"
    for cell in copy.cells:
        assert student.SOLUTION_TAG not in cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
    assert _labels(copy) == _labels(original), "the exercises themselves must stay"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stubs_raise_with_their_exercise_label(path, students):
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(students[0] / path.name, as_version=4)
    solution_ids = {c.id for c in _solution_cells(original)}
    for i, (before, after) in enumerate(zip(original.cells, copy.cells)):
        if before.id not in solution_ids:
            assert after.source == before.source or "{solution}" in before.source or \
                "colab-badge" in before.metadata.get("tags", []), f"{path.name}: cell {before.id} changed"
            continue
        label = student.exercises("\n".join(  # the exercise this solution answers: the last one above it
            c.source for c in original.cells[:i] if c.cell_type == "markdown"))[-1][0]
        assert student.STUB_TAG in after.metadata["tags"]
        with pytest.raises(NotImplementedError, match=f"Exercise {label}: "):
            exec(after.source, {})


def test_strip_solutions_handles_fences_and_nesting():
    md = ("Before.\n\n````{solution} ex-9-1\n:class: dropdown\n\n```python\nx = 1\n```\nStill hidden.\n````\n"
          "After.\n:::{solution} ex-9-2\nHidden too.\n:::\nEnd.")
    assert student.strip_solutions(md) == "Before.\n\nAfter.\nEnd."
    assert student.exercises("```{exercise} A title\n:label: ex-9-1\n\ntext\n```") == [("ex-9-1", "A title")]


def test_a_student_notebook_runs_top_to_bottom(tmp_path):
    """A stub tagged raises-exception does not stop an executed run: later cells still run."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{exercise} Square\n:label: ex-0-1\n\nSquare 3.\n```"),
        nbformat.v4.new_code_cell("# hint: use **\nanswer = 3 ** 2\nassert answer == 9", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("after = 'ran'\nprint(after)"),
    ])
    (tmp_path / "src").mkdir()
    nbformat.write(nb, tmp_path / "src" / "toy.ipynb")
    student.make_student_versions(tmp_path / "src", tmp_path / "out")
    copy = nbformat.read(tmp_path / "out" / "toy.ipynb", as_version=4)
    NotebookClient(copy, timeout=60, kernel_name="python3").execute()
    assert copy.cells[1].outputs[0]["ename"] == "NotImplementedError"
    assert "Exercise ex-0-1: use **" in copy.cells[1].outputs[0]["evalue"]
    assert copy.cells[2].outputs[0]["text"].strip() == "ran"
