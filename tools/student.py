"""Student versions of the chapters, as an nbgrader course.

    python tools/student.py                      # notebooks/*.ipynb -> student/ (an nbgrader course)
    python tools/student.py --src notebooks --out somewhere

Every notebook with exercises becomes one nbgrader assignment, named after the notebook, in
``<out>/source/<name>/<name>.ipynb``; then ``nbgrader generate_assignment`` writes the student
versions to ``<out>/release/<name>/<name>.ipynb``. In the source version:

- a code cell tagged ``solution`` (last statements ``assert``\\ s; its hint is in the exercise statement)
  becomes an autograded answer, ``### BEGIN SOLUTION`` / ``### END SOLUTION``
  around the code (a first line ``# hint: ...``, if any, stays above them), followed by a locked
  autograder test cell of ``POINTS`` points holding the
  asserts (with the tolerances they alone use, see ``split_solution``);
- each ``{solution}`` block of the markdown becomes a manually graded answer cell of ``POINTS``
  points, its text between the same markers;
- every other cell is kept, read-only (nbgrader ``locked``); outputs are cleared, and the Colab
  badge (it opens the version with solutions) becomes a note.

Grade ids derive from the exercise labels: ``<label>-answer``, ``<label>-test``, ``<label>-written``.
"""
from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
POINTS = 1  # of every autograder test cell and every written answer
_POINTS = f"{POINTS} point{'s' * (POINTS != 1)}"
COURSE_ID = "vaemi-book"
BADGE_NOTE = ("*Student version, without solutions: open it in Jupyter, or upload it to Colab "
              "(File → Upload notebook).*")
_EXERCISE = re.compile(r"^[`:]{3,}\{exercise\}[ \t]*([^\n]*)\n((?::[^\n]*\n)*)", re.M)
_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
_SOLUTION_OPEN = re.compile(r"^\s*(`{3,}|:{3,})\{solution\}[ \t]*(\S*)")
_OPTION = re.compile(r"^\s*:[\w-]+:")

NBGRADER_CONFIG = f'''"""nbgrader configuration of the course written by tools/student.py (see README.md)."""
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                    ClearSolutions, ComputeChecksums, IncludeHeaderFooter, LockCells,
                                    SaveCells)

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{COURSE_ID}"

# generate_assignment: nbgrader's default steps less InstantiateTests (### AUTOTEST), so that
# writing the release never starts a kernel nor executes a chapter.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
    SaveCells, ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata,
]

# autograde executes the whole chapter: its cells train models for minutes (nbgrader's default
# limit is 30 s per cell; the book's tests allow 900 s).
c.Execute.timeout = 900
'''


def exercises(markdown: str) -> list[tuple[str, str]]:
    """(label, title) of every ``{exercise}`` directive in ``markdown``."""
    found = []
    for m in _EXERCISE.finditer(markdown):
        label = _LABEL.search(m.group(2))
        found.append((label.group(1) if label else "", m.group(1).strip()))
    return found


def split_solutions(markdown: str) -> list[tuple[str, str, str]]:
    """``markdown`` cut into ("text", "", text) and ("solution", label, body) parts.

    A solution part is one ``{solution}`` block, from its opening to its closing fence; its body
    is the block without the fences and the directive's options; its label is the exercise it
    names (empty if none).
    """
    parts, kept, body, fence, label = [], [], [], None, ""
    for line in markdown.splitlines(keepends=True):
        if fence is None:
            opening = _SOLUTION_OPEN.match(line)
            if opening:
                parts.append(("text", "", "".join(kept)))
                kept, body, fence, label = [], [], opening.group(1), opening.group(2)
            else:
                kept.append(line)
        elif set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
            parts.append(("solution", label, "".join(body)))
            fence = None
        elif body or not _OPTION.match(line):
            body.append(line)
    if fence is not None:
        raise ValueError(f"unclosed {{solution}} block in:\n{markdown}")
    parts.append(("text", "", "".join(kept)))
    return [(kind, lab, text.strip("\n")) for kind, lab, text in parts if text.strip()]


def strip_solutions(markdown: str) -> str:
    """``markdown`` without its ``{solution}`` blocks."""
    return "\n".join(text for kind, _, text in split_solutions(markdown) if kind == "text")


def _loaded(nodes) -> set[str]:
    return {n.id for stmt in nodes for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound(nodes) -> set[str]:
    """Names that ``nodes`` assign or define (imports aside)."""
    found = set()
    for node in (n for stmt in nodes for n in ast.walk(stmt)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
    return found


def _imported(stmt) -> set[str]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return set()


def split_solution(source: str) -> tuple[str, str, str]:
    """(hint, answer, check) of a solution cell's ``source``.

    The hint is its first line if that is ``# hint: ...``. The check is its trailing ``assert``
    statements, with the assignments just before them that use nothing the answer computes
    (tolerances such as ``tol = 5 / math.sqrt(n)``), as long as the asserts still read something
    the answer computes; the comment lines just above go with it, and a copy of the answer's
    imports that it uses goes first. The answer is the rest.
    """
    lines = source.rstrip().splitlines()
    n_hint = 1 if lines and lines[0].lower().startswith("# hint:") else 0
    body = ast.parse(source).body
    k = len(body)
    while k and isinstance(body[k - 1], ast.Assert):
        k -= 1
    if k == len(body):
        raise ValueError(f"a solution cell must end in asserts (the check of its answer):\n{source}")
    while k > 1:
        stmt, computed = body[k - 1], _bound(body[:k - 1])
        if not (isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)):
            break
        if _loaded([stmt]) & computed or not _loaded(body[k:]) & computed:
            break
        k -= 1
    if k == 0:
        raise ValueError(f"a solution cell must hold an answer before its check:\n{source}")
    start = body[k].lineno - 1
    while start > n_hint and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    answer = "\n".join(lines[n_hint:start]).strip("\n")
    imports = [ast.get_source_segment(source, s) for s in body[:k] if _imported(s) & _loaded(body[k:])]
    return "\n".join(lines[:n_hint]), answer, "\n".join(imports + lines[start:])


def _nbgrader(cell, grade_id: str, *, solution=False, grade=False, locked=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = POINTS
    cell.metadata["nbgrader"] = meta
    return cell


def source_notebook(nb):
    """The nbgrader source version of notebook ``nb`` (see the module's docstring)."""
    nb = copy.deepcopy(nb)
    cells, ids, label = [], set(), None

    def unique(base: str) -> str:
        name, n = base, 1
        while name in ids:
            n += 1
            name = f"{base}-{n}"
        ids.add(name)
        return name

    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "BEGIN SOLUTION" in cell.source or "END SOLUTION" in cell.source:
            raise ValueError(f"cell {cell.get('id')!r} holds nbgrader's solution markers itself")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type == "markdown":
            label = ([lab for lab, _ in exercises(cell.source)] or [label])[-1]
            if "colab-badge" in tags:
                cell.source = BADGE_NOTE
        if cell.cell_type == "code" and SOLUTION_TAG in tags:
            if not label:
                raise ValueError(f"solution cell {cell.get('id')!r} follows no labelled exercise")
            hint, answer, check = split_solution(cell.source)
            cell.source = "\n".join(filter(None, [hint, BEGIN, answer, END]))
            cell.metadata["tags"] = [t for t in tags if t != SOLUTION_TAG and not t.startswith("hide-")]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
            cell.id = unique(cell.id)
            cells.append(_nbgrader(cell, unique(f"{label}-answer"), solution=True))
            read = sorted(_loaded(ast.parse(check).body) & _bound(ast.parse(answer).body))
            header = f"# Test of exercise {label} ({_POINTS})" + (
                f": it checks {', '.join(read)} from your answer above." if read else ".")
            test = nbformat.v4.new_code_cell(f"{header}\n{check}")
            test.id = unique(f"{label}-test")
            cells.append(_nbgrader(test, test.id, grade=True, locked=True))
        elif cell.cell_type == "markdown" and "{solution}" in cell.source:
            for i, (kind, lab, text) in enumerate(split_solutions(cell.source)):  # one cell per part
                part = copy.deepcopy(cell)
                part.id = unique(cell.id if i == 0 else f"{cell.id}-{i}")
                if kind == "text":
                    part.source = text
                    cells.append(_nbgrader(part, part.id, locked=True))
                    continue
                lab = lab or label
                if not lab:
                    raise ValueError(f"a {{solution}} block of cell {cell.get('id')!r} names no exercise")
                heading = f"**Answer to exercise {lab}** (written, graded by hand, {_POINTS}):"
                part.source = f"{heading}\n\n{BEGIN}\n{text}\n{END}"
                cells.append(_nbgrader(part, unique(f"{lab}-written"), solution=True, grade=True))
        else:
            cell.id = unique(cell.id)
            cells.append(_nbgrader(cell, cell.id, locked=True))
    nb.cells = cells
    return nb


def _readme(listing: list[tuple[str, list[tuple[str, str]], int, int]]) -> str:
    rows = "\n".join(
        f"| `{name}` | " + "<br>".join(f"`{lab}` {title}" for lab, title in found) + f" | {tests} | {written} |"
        for name, found, tests, written in listing)
    return f"""# Student versions of the chapters: an nbgrader course (for instructors)

Generated by `make student` (`python tools/student.py`) from `notebooks/`. Do not edit it: edit
the chapters and regenerate, which rewrites `source/`, `release/` and `gradebook.db` (and refuses
once there are submissions). Git ignores this folder. To teach with it, copy it elsewhere.

This folder is an nbgrader course directory (`nbgrader_config.py`, course id `{COURSE_ID}`), with
one assignment per chapter that has exercises, named after its notebook: chapters are read,
released and graded one at a time, and a chapter's exercises use that chapter's own results.

- `source/<chapter>/<chapter>.ipynb`: the instructor's version, with the solutions;
- `release/<chapter>/<chapter>.ipynb`: the student version, for `nbgrader release_assignment` or
  to hand out as a file (it also runs on Colab: upload it, its first code cell installs the package);
- `gradebook.db`: nbgrader's database (assignments, their graded cells and points).

`make student` has already run `nbgrader generate_assignment`. To run it again, or any nbgrader
command, work here with the book's environment active (nbgrader calls its `alembic` command):

    source ../.venv/bin/activate
    nbgrader generate_assignment "*" --force     # or one chapter: nbgrader generate_assignment <chapter> --force

Writing the release executes nothing: `nbgrader_config.py` leaves out `InstantiateTests`, the one
step of `generate_assignment` that can start a kernel (for `### AUTOTEST` lines, not used here).

## What a chapter becomes

- A coding exercise: an *autograded answer* cell, the hint then the worked solution between
  `{BEGIN}` and `{END}` (in the release: `raise NotImplementedError()`), followed by a
  read-only *autograder test* cell: the asserts that end the book's solution, with the
  tolerances they use; its first line names the variables of the answer it checks.
- A `{{solution}}` block (the written solution of an exercise): a *manually graded answer* cell,
  the model answer between the same markers (in the release: "YOUR ANSWER HERE").
- Every other cell: unchanged and read-only (nbgrader "locked"; autograde restores it), outputs
  cleared; the Colab badge, which opens the book's version with solutions, is a note.

Points: {_POINTS} per autograder test cell and per written answer, in each graded cell's
metadata (`nbgrader.points`), set by `POINTS` in `tools/student.py`. Grade ids come from the
exercise labels: `<label>-answer`, `<label>-test`, `<label>-written`. To change the points of one
course, edit the cells of `source/` in your copy (nbgrader's "Create assignment" toolbar) and
generate again.

## Grading

Put each student's notebook in `submitted/<student>/<chapter>/<chapter>.ipynb` (or use
`nbgrader collect`), then `nbgrader autograde <chapter>`. Autograde runs each submission whole,
the chapter's own cells too, which train models for minutes on a CPU: keep the default
`VAEMI_PROFILE=quick` and set `VAEMI_STATIC=1`, as `make book` does. `nbgrader_config.py`
allows 900 s per cell (nbgrader's default is 30 s). Grade the written answers in
`nbgrader formgrader`, then `nbgrader generate_feedback <chapter>`.

| assignment | exercises (label, title) | autograded tests | written answers |
|---|---|---|---|
{rows}
"""


def write_course(src_dir: str | Path = "notebooks", course_dir: str | Path = "student") -> list[Path]:
    """Write the nbgrader course (config, README, source versions) of ``src_dir`` to ``course_dir``."""
    src, course = Path(src_dir), Path(course_dir)
    for step in ("submitted", "autograded", "feedback"):
        if (course / step).exists():
            raise SystemExit(f"{course}/{step} exists: this course has submissions; regenerate elsewhere")
    for old in ("source", "release"):
        shutil.rmtree(course / old, ignore_errors=True)
    (course / "gradebook.db").unlink(missing_ok=True)
    written, listing = [], []
    for path in sorted(src.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found = [ex for c in nb.cells if c.cell_type == "markdown" for ex in exercises(c.source)]
        if not found:
            continue  # a page without exercises (the results page) is no assignment
        source = source_notebook(nb)
        nbformat.validate(source)
        target = course / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source, target)
        written.append(target)
        kinds = [c.metadata["nbgrader"] for c in source.cells]
        listing.append((path.stem, found, sum(m["grade"] and not m["solution"] for m in kinds),
                        sum(m["grade"] and m["solution"] for m in kinds)))
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    (course / "README.md").write_text(_readme(listing), encoding="utf-8")
    return written


def generate(course_dir: str | Path = "student") -> list[Path]:
    """Run ``nbgrader generate_assignment`` on every assignment of ``course_dir``; the release notebooks."""
    course = Path(course_dir).resolve()
    # nbgrader runs the `alembic` command of its environment, which need not be on PATH
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    run = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force",
                          "--log-level=WARN"], cwd=course, env=env, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{run.stdout}\n{run.stderr}")
    return sorted((course / "release").glob("*/*.ipynb"))


def make_student_versions(src_dir: str | Path = "notebooks", course_dir: str | Path = "student") -> list[Path]:
    """Write the course of ``src_dir`` to ``course_dir`` and generate its release; the release notebooks."""
    write_course(src_dir, course_dir)
    return generate(course_dir)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--src", default="notebooks", help="folder of the chapters (default: notebooks)")
    p.add_argument("--out", default="student", help="the nbgrader course directory (default: student)")
    args = p.parse_args(argv)
    released = make_student_versions(args.src, args.out)
    print(f"wrote the nbgrader course {args.out}/ (README.md): {len(released)} assignments, "
          f"student versions in {args.out}/release/")


if __name__ == "__main__":
    main()
