"""Check the built book as its readers see it: what the text of its pages shows, not whether they load.

Usage: ``python tools/book_lint.py _build`` (the build folder, holding ``html/`` and
``jupyter_execute/``); exit status 1 and one line per problem when something is wrong. Used by
``tests/book/test_book_lint.py``. The browser check (``tools/browser_check.py``) asks whether each
page loads cleanly; this one reads the text a page shows and fails on five kinds of defect:

``latex``
    raw LaTeX outside typeset math: a LaTeX command from :data:`LATEX_COMMANDS` in a text node of
    a page's article that is not inside a ``math`` element (``span.math``, ``div.math``), e.g. a
    proof line that Markdown turned into a bullet list, so that its ``$...$`` no longer pairs up.
    Code (``code`` elements, code cells' sources, code blocks in prose) is not read; printed cell
    outputs are.
``role``
    a MyST role or directive shown literally (:data:`ROLE_RE`: ``{prf:ref}``, ``{doc}``,
    ``{cite}``, ``{exercise}``, ...), anywhere in a page's article, math included.
``table``
    a Markdown table row whose number of cells differs from its header's (Markdown drops the extra
    cells or pads the missing ones without a word), or a ``\\|`` inside math in a table row (the
    table splits or unescapes it, so the norm or divergence bar renders as ``|``). Read in the
    Markdown the pages were built from: the ``.md`` pages' sources (``html/_sources``), and the
    executed notebooks' Markdown cells and Markdown outputs (``jupyter_execute``), where tables
    printed by code live.
``path``
    an absolute path of the machine that built the book (:data:`PATH_RE`: ``/home/...``,
    ``/work/...``, ``/tmp/...``, ``/root/...``, ``/Users/...``, ``site-packages``, ``C:\\...``),
    anywhere in a page's article except code cells' sources.
``production``
    words about how the book happened to be produced rather than about what it shows
    (:data:`PRODUCTION_PHRASES`): the book speaks of itself, its data and its runs.

Only each page's article is read (``<article>``, else ``<body>``), so the navigation, repeated on
every page, is not reported once per page. Assets (``_static``, ``_sources``, ...) and Sphinx's
generated pages (search, index) are not pages.
"""
from __future__ import annotations

import argparse
import html.parser
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from browser_check import pages

#: LaTeX commands that only mean something inside math; seen in plain text they are raw LaTeX.
LATEX_COMMANDS = (
    "mathbb", "mathrm", "mathcal", "mathbf", "mathsf", "operatorname", "frac", "tfrac", "dfrac", "sqrt",
    "sum", "prod", "int", "log", "exp", "det", "min", "max", "inf", "sup", "lim", "left", "right",
    "big", "Big", "bigg", "Bigg", "le", "ge", "leq", "geq", "ne", "neq", "approx", "sim", "mid", "cdot",
    "cdots", "ldots", "dots", "times", "infty", "partial", "nabla", "hat", "bar", "tilde", "overline",
    "underline", "lfloor", "rfloor", "lceil", "rceil", "lVert", "rVert", "Vert", "langle", "rangle",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "theta", "lambda", "mu", "nu", "pi",
    "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega", "Sigma", "Delta", "Omega",
    "begin", "end", "text", "quad", "qquad", "iff", "implies", "to", "in", "subset", "top", "ell",
)
LATEX_RE = re.compile(r"\\(?:" + "|".join(sorted(LATEX_COMMANDS, key=len, reverse=True)) + r")(?![A-Za-z])"
                      r"|\\[,;!|{}]|\$\$")

#: MyST roles and directives by name, as they look when MyST did not parse them.
ROLE_NAMES = ("prf:[a-z-]+", "doc", "cite(?::[a-z]+)?", "ref", "numref", "eq", "math", "term", "download",
              "glue(?::[a-z]+)?", "bibliography", "nb-exec-table", "exercise", "solution", "dropdown",
              "admonition", "note", "tip", "warning", "important", "figure", "code-cell", "toggle")
ROLE_RE = re.compile(r"\{(?:" + "|".join(ROLE_NAMES) + r")\}")

#: Absolute paths of a machine (folders of users, build and temporary directories, installed
#: packages, Windows drives). ``~/...`` and ``/path/to/...`` are a reader's, not a machine's.
PATH_RE = re.compile(r"(?<![\w.~:/-])/(?:home|work|tmp|root|Users|private|mnt|scratch|var/folders)/\S*"
                     r"|\S*(?:site|dist)-packages\S*"
                     r"|(?<![\w$])[A-Z]:\\(?:Users|Windows|Program Files|ProgramData|[\w.-]+\\)\S*")

#: Words about how the book happened to be produced (who or what built it, with which hardware)
#: rather than about what it shows. Each is a regular expression, matched case-insensitively.
PRODUCTION_PHRASES = (
    r"\b(?:had|have|has) no GPU\b",                        # "... that built this book had no GPU"
    r"\bno GPU (?:was|is) available\b",
    r"\bwithout (?:a|any) GPU (?:at hand|available)\b",
    r"\b(?:machines?|sessions?|computers?|runners?) (?:that|which) built\b",
    r"\b(?:that|which|who) built (?:this|the) (?:book|site|page)s?\b",
    r"\bbuild machine\b",
    r"\bthis build\b",
    r"\bsandbox\b",
    r"\bworktree\b",
)
PRODUCTION_RE = re.compile("|".join(PRODUCTION_PHRASES), re.IGNORECASE)

#: Sphinx's generated pages: no book text on them.
GENERATED_PAGES = ("genindex.html", "search.html", "py-modindex.html")

KINDS = ("latex", "role", "table", "path", "production")


@dataclass(frozen=True)
class Problem:
    kind: str   # one of KINDS
    where: str  # page or notebook (and cell), relative to the build folder
    text: str   # the offending text, with some context

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.text}"


def _context(text: str, match: re.Match, width: int = 50) -> str:
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    snippet = " ".join(text[start:end].split())
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


# ------------------------------------------------------------------------------------- HTML pages

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(html.parser.HTMLParser):
    """Text nodes of a page's article, each with where it sits: in math, in code, in a code cell's source."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []  # (tag, flags)
        self.nodes: list[tuple[str, set[str]]] = []  # (text, flags of its innermost element)
        self.has_article = False

    def _flags(self, tag: str, attrs) -> set[str]:
        flags = set(self.stack[-1][1]) if self.stack else set()
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "article":
            flags.add("article")
            self.has_article = True
        if tag == "body":
            flags.add("body")
        if tag in ("script", "style", "template"):
            flags.add("hidden")
        if "math" in classes:
            flags.add("math")
        if "cell_input" in classes:
            flags.add("source")
        if "cell_output" in classes:
            flags.add("output")
        if tag == "code" or ("highlight" in classes and "output" not in flags):
            flags.add("code")
        return flags

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, self._flags(tag, attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed inner elements
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if data.strip() and self.stack:
            self.nodes.append((data, self.stack[-1][1]))


def page_problems(path: Path, where: str) -> list[Problem]:
    """The defects in the text one built HTML page shows."""
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    scope = "article" if parser.has_article else "body"
    problems = []
    for text, flags in parser.nodes:
        if scope not in flags or "hidden" in flags or "source" in flags:
            continue
        checks = [("role", ROLE_RE), ("path", PATH_RE), ("production", PRODUCTION_RE)]
        if not flags & {"math", "code"}:
            checks.insert(0, ("latex", LATEX_RE))
        for kind, pattern in checks:  # one problem per text node and kind: the first match, and how many
            matches = list(pattern.finditer(text))
            if matches:
                more = f" (and {len(matches) - 1} more in this text)" if len(matches) > 1 else ""
                problems.append(Problem(kind, where, _context(text, matches[0]) + more))
    return problems


# ------------------------------------------------------------------------------- Markdown tables

_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$")


def table_cells(row: str) -> list[str]:
    """The cells of one Markdown table row (pipes split cells unless escaped as ``\\|``)."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return re.split(r"(?<!\\)\|", row)


def table_problems(markdown: str, where: str) -> list[Problem]:
    """Table rows whose cell count differs from the header's, and ``\\|`` inside math in a table."""
    lines = markdown.splitlines()
    problems, i = [], 0
    fences: list[tuple[str, bool]] = []  # open fences: (marker, holds Markdown: a ```{directive})
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            marker, info = fence.group(1), fence.group(2).strip()
            top = fences[-1] if fences else None
            if top and not info and marker[0] == top[0][0] and len(marker) >= len(top[0]):
                fences.pop()  # closes the innermost fence
            elif not (top and not top[1]):  # a fence opens, unless we are inside a code block
                fences.append((marker, info.startswith("{")))
            i += 1
            continue
        if fences and not fences[-1][1]:  # inside a code block: no tables there
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and _DELIMITER.match(lines[i + 1]) and "|" in lines[i + 1]:
            n = len(table_cells(lines[i + 1]))
            header = lines[i]
            j = i
            while j < len(lines) and "|" in lines[j]:  # the table ends at a line without a pipe
                row = lines[j]
                if j != i + 1:
                    cells = table_cells(row)
                    if len(cells) != n:
                        problems.append(Problem("table", where, f"{len(cells)} cells in a table of {n} columns "
                                                f"(header: {' '.join(header.split())[:80]}): "
                                                f"{' '.join(row.split())[:160]}"))
                    for m in _INLINE_MATH.finditer(row):
                        if "\\|" in m.group(1):
                            problems.append(Problem("table", where, "'\\|' inside math in a table row renders "
                                                    f"as '|' (write \\Vert): ${m.group(1)}$"))
                j += 1
            i = j
            continue
        i += 1
    return problems


def notebook_problems(path: Path, where: str) -> list[Problem]:
    """Table problems in an executed notebook's Markdown cells and Markdown outputs."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [Problem("table", where, f"cannot read the executed notebook: {err}")]
    problems = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "markdown":
            problems += table_problems("".join(cell.get("source", "")), f"{where} cell {index}")
        for output in cell.get("outputs", []):
            md = output.get("data", {}).get("text/markdown")
            if md is not None:
                text = md if isinstance(md, str) else "".join(md)
                problems += table_problems(text, f"{where} cell {index} (output)")
    return problems


# ------------------------------------------------------------------------------------ the build

def lint_build(build: str | Path) -> list[Problem]:
    """Every problem in a built book (``build`` holds ``html/`` and, for notebooks, ``jupyter_execute/``)."""
    build = Path(build)
    html_root, executed = build / "html", build / "jupyter_execute"
    if not (html_root / "index.html").is_file():
        raise FileNotFoundError(f"{html_root / 'index.html'} not found: build the book first (`make book`)")
    problems = []
    for page in pages(html_root):
        if Path(page).name not in GENERATED_PAGES:
            problems += page_problems(html_root / page, f"html/{page}")
    for source in sorted((html_root / "_sources").rglob("*.md*")):
        where = source.relative_to(build).as_posix()
        problems += table_problems(source.read_text(encoding="utf-8", errors="replace"), where)
    for notebook in sorted(executed.rglob("*.ipynb")) if executed.is_dir() else []:
        if ".ipynb_checkpoints" not in notebook.parts:
            problems += notebook_problems(notebook, notebook.relative_to(build).as_posix())
    return problems


def summary(problems: list[Problem]) -> str:
    counts = Counter(p.kind for p in problems)
    return ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]) or "no problems"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", default="_build", help="the build folder (default: _build)")
    args = parser.parse_args(argv)
    try:
        problems = lint_build(args.build)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    print(f"book_lint: {summary(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
