"""Chapter numbers follow the file numbers: the k-th numbered chapter of _toc.yml is notebooks/kk_*.

_toc.yml numbers every part (``defaults: numbered: 1``) except those that say ``numbered: false``,
and Jupyter Book's sphinx-multitoc-numbering continues the count across parts, so the title of
notebooks/03_mnist.ipynb reads "3. ..." and its exercises "Exercise 3.1", "Exercise 3.2", ...
(numfig_secnum_depth: 1 in _config.yml). With a built book, the rendered numbers are checked too.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("VAEMI_BOOK_HTML", ROOT / "_build" / "html"))


def numbered_chapters(toc: dict) -> list[str]:
    """The files of the numbered parts' chapters, in reading order (what the build numbers 1, 2, ...)."""
    default = toc.get("defaults", {}).get("numbered", False)
    return [c["file"] for part in toc.get("parts", []) if part.get("numbered", default)
            for c in part.get("chapters", [])]


TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = numbered_chapters(TOC)


def test_chapter_numbers_are_the_file_numbers():
    assert CHAPTERS, "_toc.yml numbers no chapter"
    for k, file in enumerate(CHAPTERS, start=1):
        assert re.fullmatch(rf"notebooks/{k:02d}_\w+", file), \
            f"chapter {k} in _toc.yml is {file}; numbered chapters must be notebooks/{k:02d}_*, in order"


def test_every_notebook_is_a_numbered_chapter():
    notebooks = sorted(f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(CHAPTERS) == notebooks


def test_front_and_back_matter_are_not_numbered():
    assert not [f for f in CHAPTERS if not f.startswith("notebooks/")]


def test_config_numbers_exercises_per_chapter():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert config.get("numfig_secnum_depth", 1) == 1 and config.get("numfig", True)


@pytest.mark.parametrize("k,file", list(enumerate(CHAPTERS, start=1)), ids=lambda x: str(x))
def test_built_titles_and_exercises_carry_the_chapter_number(k, file):
    page = HTML / f"{file}.html"
    if not page.is_file():
        pytest.skip(f"{page} not built: run `make book` first")
    text = page.read_text(encoding="utf-8")
    titles = re.findall(r"<h1>(.*?)</h1>", text, re.S)  # the page's title (a print-only copy has no number)
    assert any(t.startswith(f'<span class="section-number">{k}. </span>') for t in titles), \
        f"{file}: the title is not numbered {k}: {[t[:80] for t in titles]}"
    numbers = re.findall(r"Exercise (\d+)\.(\d+)", text)
    assert all(int(n) == k for n, _ in numbers), f"{file}: exercises numbered {sorted(set(numbers))}"


def test_intro_chapter_map_lists_every_chapter_with_its_number():
    """book/intro.md's chapter map: one row per numbered chapter, "| k | {doc}`../notebooks/kk_...` | ..."."""
    rows = re.findall(r"^\| (\d+) \| \{doc\}`\.\./(notebooks/\w+)`", (ROOT / "book" / "intro.md").read_text(), re.M)
    assert [(int(k), f) for k, f in rows] == list(enumerate(CHAPTERS, start=1)), \
        "the chapter map in book/intro.md must list every numbered chapter of _toc.yml, in order, with its number"
