"""Exercises in every chapter, and the nbgrader course of student versions (tools/student.py).

The course of the book's chapters is written and released once per module (nbgrader
generate_assignment, which executes nothing); a toy course is also autograded end to end.
"""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import student

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
READ = {p: nbformat.read(p, as_version=4) for p in NOTEBOOKS}


def _solution_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and student.SOLUTION_TAG in c.metadata.get("tags", [])]


def _labels(nb):
    return [lab for c in nb.cells if c.cell_type == "markdown" for lab, _ in student.exercises(c.source)]


def _coding_exercises(nb):
    """(label, statement) of every exercise followed by a solution code cell."""
    found, last = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and student.exercises(cell.source):
            last = (student.exercises(cell.source)[-1][0], cell.source)
        elif cell.cell_type == "code" and student.SOLUTION_TAG in cell.metadata.get("tags", []) and last:
            found.append(last)
    return found


CHAPTERS = [p for p in NOTEBOOKS if _labels(READ[p])]  # the notebooks with exercises: one assignment each


def _kind(cell):
    """'answer', 'test', 'written' or 'locked': the nbgrader role of a course cell."""
    m = cell.metadata["nbgrader"]
    return {(True, False): "answer", (False, True): "test", (True, True): "written"}.get(
        (m["solution"], m["grade"]), "locked" if m["locked"] else "none")


def _regions(nb):
    """The lines between ### BEGIN SOLUTION and ### END SOLUTION in ``nb``."""
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if line.strip() in (student.BEGIN, student.END):
                inside = line.strip() == student.BEGIN
            elif inside:
                lines.append(line)
    return lines


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    student.write_course(ROOT / "notebooks", out)
    student.generate(out)
    return out


def _versions(course, path):
    name = f"{path.stem}/{path.name}"
    return (nbformat.read(course / "source" / name, as_version=4),
            nbformat.read(course / "release" / name, as_version=4))


def test_at_most_one_page_without_exercises():
    """Every notebook but the results page has exercises (so a chapter cannot lose them all unseen)."""
    assert len(NOTEBOOKS) - len(CHAPTERS) <= 1, sorted(p.name for p in NOTEBOOKS if p not in CHAPTERS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_exercises_and_a_coding_solution(path):
    nb = READ[path]
    labels = _labels(nb)
    assert len(labels) >= 2, f"{path.name}: needs at least 2 exercises, has {labels}"
    assert all(re.fullmatch(r"ex-\d\d-\d+", lab) for lab in labels), labels
    solutions = _solution_cells(nb)
    assert solutions, f"{path.name}: needs a code cell tagged 'solution'"
    for cell in solutions:
        assert isinstance(ast.parse(cell.source).body[-1], ast.Assert), \
            f"{path.name}: a solution cell must end by checking its result with an assert"
    for label, statement in _coding_exercises(nb):  # the hint sits in the statement, collapsed
        assert re.search(r"^:::\{hint\}[^\n]*\n:class: dropdown$", statement, re.M), \
            f"{path.name}: exercise {label} has a solution cell but no collapsed hint in its statement " \
            "(:::{hint} with :class: dropdown)"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Exercises" in text
    for block in re.findall(r"`{3,}\{solution\}[^\n]*\n((?::[^\n]*\n)*)", text):
        assert ":class: dropdown" in block, f"{path.name}: solutions must render collapsed"


def test_exercise_labels_are_unique_across_the_book():
    labels = [lab for p in NOTEBOOKS for lab in _labels(READ[p])]
    assert len(labels) == len(set(labels)), sorted(lab for lab in labels if labels.count(lab) > 1)


def test_course_layout(course):
    assert sorted(p.name for p in (course / "source").iterdir()) == [p.stem for p in CHAPTERS]
    assert sorted(p.relative_to(course / "release").as_posix() for p in (course / "release").glob("*/*")) == \
        [f"{p.stem}/{p.name}" for p in CHAPTERS]
    assert (course / "gradebook.db").exists()
    config = (course / "nbgrader_config.py").read_text()
    assert "InstantiateTests" not in config.split("c.GenerateAssignment.preprocessors")[1], \
        "generate_assignment must not be able to start a kernel"
    assert "c.Execute.timeout = 900" in config
    readme = (course / "README.md").read_text()
    for word in ("generate_assignment", "autograde", "points", student.BEGIN, "ex-01-1"):
        assert word in readme, word


def test_grade_ids_are_unique_across_the_course(course):
    ids = [c.metadata["nbgrader"]["grade_id"] for p in CHAPTERS for c in _versions(course, p)[1].cells
           if _kind(c) != "locked"]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_release_holds_no_solution(path, course):
    chapter, (source, release) = READ[path], _versions(course, path)
    nbformat.validate(release)
    regions = _regions(source)
    covered = set(regions) | {line for c in source.cells if _kind(c) == "test" for line in c.source.splitlines()}
    for cell in _solution_cells(chapter):  # every line of the chapter's solutions is in a region (or a test)
        for line in cell.source.splitlines()[1:]:
            assert line in covered, f"{path.name}: solution line neither in a solution region nor a test: {line!r}"
    for cell in chapter.cells:
        for kind, _, body in student.split_solutions(cell.source) if cell.cell_type == "markdown" else []:
            if kind == "solution":
                assert set(body.splitlines()) <= set(regions), f"{path.name}: {{solution}} text outside the regions"
    shown = {line.strip() for c in release.cells for line in c.source.splitlines()}
    solutions = {c.id for c in _solution_cells(chapter)}
    elsewhere = {line.strip() for c in chapter.cells if c.id not in solutions  # the chapter's other lines
                 for line in student.strip_solutions(c.source).splitlines()}
    leaked = [line for line in regions if line.strip() and line.strip() in shown - elsewhere
              and not re.match(r"(import|from) \w", line.strip())]  # imports are copied into the test cells
    assert not leaked, f"{path.name}: solution lines in the release: {leaked}"
    everything = "\n".join(c.source for c in release.cells)
    for marker in ("{solution}", "BEGIN SOLUTION", "END SOLUTION"):
        assert marker not in everything, f"{path.name}: {marker!r} in the release"
    answers = [c for c in release.cells if _kind(c) == "answer"]
    assert len(answers) == len(_solution_cells(chapter))
    for cell in answers:
        assert cell.cell_type == "code" and cell.metadata.get("editable", True)
        with pytest.raises(NotImplementedError):
            exec(cell.source, {})
    for cell in release.cells:
        assert student.SOLUTION_TAG not in cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
        if _kind(cell) == "written":
            assert cell.source.endswith("YOUR ANSWER HERE"), cell.source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_release_has_graded_exercises(path, course):
    chapter, (_, release) = READ[path], _versions(course, path)
    labels = _labels(chapter)
    assert len(labels) >= 2
    tests = [c for c in release.cells if _kind(c) == "test"]
    assert len(tests) >= 1, f"{path.name}: needs an autograded exercise"
    assert len(tests) == len(_solution_cells(chapter))
    for cell in tests:
        m = cell.metadata["nbgrader"]
        assert cell.cell_type == "code" and m["points"] > 0 and m["locked"] and cell.metadata["editable"] is False
        assert re.fullmatch(r"(ex-\d\d-\d+)-test", m["grade_id"]) and m["grade_id"][:-5] in labels, m["grade_id"]
    asserts = {ast.unparse(s) for c in _solution_cells(chapter) for s in ast.parse(c.source).body
               if isinstance(s, ast.Assert)}
    assert asserts == {ast.unparse(s) for c in tests for s in ast.parse(c.source).body if isinstance(s, ast.Assert)}, \
        f"{path.name}: the test cells must hold the asserts of the chapter's solutions"
    n_blocks = sum(kind == "solution" for c in chapter.cells if c.cell_type == "markdown"
                   for kind, _, _ in student.split_solutions(c.source))
    written = [c for c in release.cells if _kind(c) == "written"]
    assert len(written) == n_blocks and all(c.metadata["nbgrader"]["points"] > 0 for c in written)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in release.cells]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_release_keeps_the_other_cells(path, course):
    chapter, (_, release) = READ[path], _versions(course, path)
    solutions = {c.id for c in _solution_cells(chapter)}
    kept = [c for c in chapter.cells if c.id not in solutions and "{solution}" not in c.source]
    by_id = {c.id: c for c in release.cells}
    assert [c.id for c in release.cells if c.id in {k.id for k in kept}] == [c.id for c in kept]
    for cell in kept:
        copy = by_id[cell.id]
        assert copy.cell_type == cell.cell_type and _kind(copy) == "locked"
        assert copy.metadata["editable"] is False and copy.metadata["deletable"] is False
        if "colab-badge" in cell.metadata.get("tags", []):
            assert copy.source == student.BADGE_NOTE
        else:
            assert copy.source == cell.source, f"{path.name}: cell {cell.id} changed"
    others = [c for c in release.cells if c.id not in {k.id for k in kept}]
    assert all(_kind(c) in ("answer", "test", "written") for c in others), [c.id for c in others]


def test_split_solution_keeps_the_answer_and_moves_the_check():
    hint, answer, check = student.split_solution(
        "# hint: square it\nimport math\n\nx = 3 ** 2\nprint(x)\ntol = 1 / math.sqrt(100)  # a tolerance\n"
        "assert abs(x - 9) < tol\nassert x > 0")
    assert hint == "# hint: square it"
    assert answer == "import math\n\nx = 3 ** 2\nprint(x)"
    assert check == "import math\ntol = 1 / math.sqrt(100)  # a tolerance\nassert abs(x - 9) < tol\nassert x > 0"
    # an assignment the asserts need from the answer stays in it
    assert student.split_solution("a = 3 ** 2\nassert a == 9")[1:] == ("a = 3 ** 2", "assert a == 9")
    assert student.split_solution("y = 2\ntol = y / 10\n# check\nassert y < tol")[1:] == (
        "y = 2\ntol = y / 10", "# check\nassert y < tol")
    with pytest.raises(ValueError, match="end in asserts"):
        student.split_solution("# hint: x\nx = 1\nprint(x)")
    with pytest.raises(ValueError, match="answer before"):
        student.split_solution("# hint: x\nassert True")


def test_split_solutions_handles_fences_and_nesting():
    md = ("Before.\n\n````{solution} ex-9-1\n:class: dropdown\n\n```python\nx = 1\n```\nStill hidden.\n````\n"
          "After.\n:::{solution}\nHidden too.\n:::\nEnd.")
    assert student.split_solutions(md) == [
        ("text", "", "Before."), ("solution", "ex-9-1", "```python\nx = 1\n```\nStill hidden."),
        ("text", "", "After."), ("solution", "", "Hidden too."), ("text", "", "End.")]
    assert student.strip_solutions(md) == "Before.\nAfter.\nEnd."
    assert student.exercises("```{exercise} A title\n:label: ex-9-1\n\ntext\n```") == [("ex-9-1", "A title")]


def test_a_toy_course_autogrades(tmp_path):
    """End to end on a toy chapter: the untouched release scores 0, another correct answer full points."""
    from nbgrader.api import Gradebook

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{exercise} Square\n:label: ex-0-1\n\nSquare 3.\n```"),
        nbformat.v4.new_code_cell("# hint: use **\nx = 3 ** 2\ntol = 0.5\nassert abs(x - 9) < tol",
                                  metadata={"tags": ["solution", "hide-cell"]}),
        nbformat.v4.new_markdown_cell("Before.\n```{solution} ex-0-1\n:class: dropdown\n\nNine.\n```"),
        nbformat.v4.new_code_cell("after = 'ran'"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (tmp_path / "src").mkdir()
    nbformat.write(nb, tmp_path / "src" / "toy.ipynb")
    course = tmp_path / "course"
    assert student.make_student_versions(tmp_path / "src", course) == [course / "release/toy/toy.ipynb"]
    source = nbformat.read(course / "source/toy/toy.ipynb", as_version=4)
    assert [_kind(c) for c in source.cells] == ["locked", "answer", "test", "locked", "written", "locked"]
    assert source.cells[2].source.endswith("tol = 0.5\nassert abs(x - 9) < tol")
    release = nbformat.read(course / "release/toy/toy.ipynb", as_version=4)
    solved = nbformat.from_dict(release)
    solved.cells[1].source = "# my answer\nx = 3.0 * 3"
    for who, version in (("lazy", release), ("good", solved)):
        (course / "submitted" / who / "toy").mkdir(parents=True)
        nbformat.write(version, course / "submitted" / who / "toy" / "toy.ipynb")
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "toy", "--log-level=WARN"], cwd=course,
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {who: gb.find_grade("ex-0-1-test", "toy", "toy", who).score for who in ("lazy", "good")}
    assert scores == {"lazy": 0, "good": 1}
    with pytest.raises(SystemExit, match="submissions"):  # regenerating would drop the grades
        student.write_course(tmp_path / "src", course)
