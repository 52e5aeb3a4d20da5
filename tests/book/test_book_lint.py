"""The built book's text as readers see it (tools/book_lint.py): no raw LaTeX outside typeset math,
no literal MyST roles, no table rows that lose cells, no machine paths, no words about how the book
was produced.

Reads ``_build/html`` and ``_build/jupyter_execute`` (another build: ``VAEMI_BOOK_HTML``, as for the
browser check); without a built book the check is skipped, with the reason in pytest's summary.
The tests on hand-made pages and Markdown below show that each kind of defect is caught.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import book_lint as bl

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("VAEMI_BOOK_HTML", ROOT / "_build" / "html"))
BUILD = HTML.parent
NOT_BUILT = f"book not built ({HTML / 'index.html'} missing): run `make book` first"


# ---------------------------------------------------------------------------- the built book

def test_built_book_reads_cleanly():
    if not (HTML / "index.html").is_file():
        pytest.skip(NOT_BUILT)
    if not (BUILD / "jupyter_execute").is_dir():
        pytest.skip(f"no executed notebooks in {BUILD / 'jupyter_execute'}: run `make book` first")
    problems = bl.lint_build(BUILD)
    assert not problems, f"{bl.summary(problems)}:\n  " + "\n  ".join(map(str, problems))


# ------------------------------------------------- the sources: words about how the book was made

@pytest.mark.parametrize("path", ["book/intro.md", "book/reproduce.md", "book/notation.md", "results/README.md",
                                  "data/README.md"])
def test_sources_speak_of_the_book_not_its_production(path):
    """The Markdown around the book (results/README.md is not a page, so the build check never reads it)."""
    file = ROOT / path
    if not file.is_file():
        pytest.skip(f"{path} not in this checkout")
    found = [m.group(0) for m in bl.PRODUCTION_RE.finditer(file.read_text())]
    assert not found, f"{path}: words about how the book was produced: {found}"


# --------------------------------------------------------- the checker itself, on hand-made input

PAGE = """<!DOCTYPE html><html><head><script>var x = "\\\\frac{a}{b} /home/u";</script></head><body>
<nav><p>{prf:ref} in the navigation is not the article</p></nav>
<article class="bd-article">{body}</article></body></html>"""


def _page(tmp_path: Path, body: str) -> list[bl.Problem]:
    path = tmp_path / "page.html"
    path.write_text(PAGE.replace("{body}", body))
    return bl.page_problems(path, "page.html")


def test_a_clean_page_passes(tmp_path):
    body = ('<p>Math <span class="math notranslate nohighlight">\\(\\mathbb E_x \\frac12 \\sum_j\\)</span></p>'
            '<div class="math notranslate nohighlight">\\[\\mathrm{KL}(q \\,\\|\\, p)\\]</div>'
            '<p>Code <code class="docutils literal">r"\\sigma"</code>; see ~/.cache/vaemi_nb or /path/to/celeba, '
            'https://example.org/home/x.</p>'
            '<div class="cell docutils container"><div class="cell_input docutils container"><div class="highlight">'
            '<pre>open("/tmp/x")  # \\frac {doc}</pre></div></div></div>'
            '<div class="highlight-bash notranslate"><div class="highlight"><pre>echo "\\mathbb"</pre></div></div>'
            '<p>The quick profile runs offline on two CPU cores; a GPU helps the full profile.</p>')
    assert _page(tmp_path, body) == []


def test_raw_latex_outside_math_is_caught(tmp_path):
    # the KL decomposition's proof as Markdown broke it: "+ \mathbb E..." became a bullet list
    body = ("<p>insert $\\pm \\log q(z_j)$: $\\mathbb E_x \\mathbb E_{q(z_j\\mid x)}[\\log q]</p>"
            "<ul><li><p>\\mathbb E_{q(z_j)}[\\log q(z_j) - \\log p(z_j)]$, where</p></li></ul>"
            '<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi">'
            '<div class="highlight"><pre>bound: \\frac{1}{2}</pre></div></div></div>')
    problems = _page(tmp_path, body)
    assert {p.kind for p in problems} == {"latex"}, problems
    assert len(problems) >= 3 and any("\\frac{1}{2}" in p.text for p in problems), problems


def test_literal_roles_are_caught(tmp_path):
    body = ('<p>The first term is ({prf:ref}<code>prop-mi-kl</code>), see {doc}<code>01_measuring_mi</code>.</p>'
            '<p><span class="math notranslate nohighlight">\\(x {cite}\\)</span></p>')
    problems = _page(tmp_path, body)
    assert [p.kind for p in problems] == ["role"] * 3, problems
    assert "{prf:ref}" in problems[0].text


def test_machine_paths_are_caught(tmp_path):
    body = ('<div class="cell_output docutils container"><pre>Data: /home/runner/work/vaemi-book/data/mnist.npz\n'
            '/work/main/.venv/lib/python3.11/site-packages/torch/nn/x.py:12: UserWarning\n'
            'C:\\Users\\me\\data</pre></div><p>saved in /tmp/abc.</p>')
    problems = _page(tmp_path, body)  # one problem per text node and kind, counting the further matches
    assert [p.kind for p in problems] == ["path"] * 2, problems
    assert "/home/runner/" in problems[0].text and "(and 2 more in this text)" in problems[0].text


def test_words_about_production_are_caught(tmp_path):
    body = ("<p>No full-profile run has been recorded yet: the sessions that built this book had no GPU.</p>"
            "<h2>Execution times of this build</h2><p>the build machine</p>")
    problems = _page(tmp_path, body)
    assert [p.kind for p in problems] == ["production"] * 3, problems
    assert "(and 1 more in this text)" in problems[0].text


def test_table_rows_that_lose_cells_are_caught():
    md = ("| case | exact | error, c = 0.5 | error, c = 0.7 |\n|---|---|---|---|\n"
          "| wide | 1.2 | 0.001 | 0.002 |\n"
          "| narrow multimodal, |mu| up to 20 | 2.3 | 0.001 | 0.002 |\n"
          "| a \\| b | 1 | 2 | 3 |\n")
    problems = bl.table_problems(md, "t")
    assert len(problems) == 1 and "6 cells in a table of 4 columns" in problems[0].text, problems


def test_norm_bars_inside_table_math_are_caught():
    md = ("| symbol | meaning |\n|---|---|\n| $\\mathrm{KL}(q \\,\\|\\, p)$ | Kullback–Leibler |\n"
          "| $\\mathrm{KL}(q \\Vert p)$ | fine |\n")
    problems = bl.table_problems(md, "notation.md")
    assert len(problems) == 1 and "\\|" in problems[0].text, problems


def test_tables_in_code_blocks_are_not_tables_but_directives_are_read():
    md = ("```text\n| a | b |\n|---|---|\n| 1 | 2 | 3 |\n```\n\n"
          "```{exercise} T\n:label: ex\n\n| a | b |\n|---|---|\n| 1 | 2 | 3 |\n```\n")
    problems = bl.table_problems(md, "t")
    assert len(problems) == 1, problems


def test_a_build_is_read_pages_sources_and_executed_notebooks(tmp_path):
    html = tmp_path / "html"
    (html / "_sources" / "book").mkdir(parents=True)
    (html / "_static").mkdir()
    (html / "index.html").write_text(PAGE.replace("{body}", "<p>fine</p>"))
    (html / "search.html").write_text(PAGE.replace("{body}", "<p>{doc}</p>"))  # generated, not read
    (html / "_static" / "x.html").write_text(PAGE.replace("{body}", "<p>{doc}</p>"))  # an asset, not read
    (html / "ch.html").write_text(PAGE.replace("{body}", "<p>see {doc}</p>"))
    (html / "_sources" / "book" / "notation.md").write_text("| a | b |\n|--|--|\n| $q \\| p$ | x |\n")
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/markdown": ["| a | b |\n", "|---|---|\n", "| 1 | 2 | 3 |\n"]}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "jupyter_execute" / "notebooks").mkdir(parents=True)
    (tmp_path / "jupyter_execute" / "notebooks" / "02.ipynb").write_text(json.dumps(nb))
    problems = bl.lint_build(tmp_path)
    assert sorted((p.kind, p.where) for p in problems) == [
        ("role", "html/ch.html"),
        ("table", "html/_sources/book/notation.md"),
        ("table", "jupyter_execute/notebooks/02.ipynb cell 0 (output)")], problems
    assert bl.main([str(tmp_path)]) == 1
    assert bl.main([str(tmp_path / "nowhere")]) == 2
