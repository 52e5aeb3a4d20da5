"""The built book in a headless browser: every page loads without a missing image, a MathJax
error, a broken internal link, an empty widget or a console error; a screenshot of each page is
saved under _build/screenshots/.

Needs Debian's chromium and chromium-driver (.ci/run installs them) and a built book (`make book`;
.ci/run builds it before the tests). Without either the checks are skipped, with the reason shown
in pytest's summary. The tests on hand-made pages at the end show that each failure is caught.
"""
from __future__ import annotations

import os
import shutil
import zlib
from pathlib import Path

import pytest

import browser_check as bc

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("VAEMI_BOOK_HTML", ROOT / "_build" / "html"))
SHOTS = HTML.parent / "screenshots"  # _build/screenshots for the default _build/html
NOT_BUILT = "book not built: run `make book` first"

BROWSER = bc.find_browser()
NO_BROWSER = BROWSER if isinstance(BROWSER, str) else None
PAGES = bc.pages(HTML) if (HTML / "index.html").is_file() else []


@pytest.fixture(scope="module")
def driver():
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    drv = bc.make_driver(*BROWSER)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def book_server():
    shutil.rmtree(SHOTS, ignore_errors=True)  # only this run's screenshots
    with bc.serve(HTML) as server:
        yield server


# ---------------------------------------------------------------------------- the built book

@pytest.mark.parametrize("page", PAGES or [pytest.param(None, marks=pytest.mark.skip(reason=NOT_BUILT), id="book")],
                         ids=lambda p: p[:-5] if isinstance(p, str) and p.endswith(".html") else p)
def test_page_renders_cleanly(page, driver, book_server):
    report = bc.check_page(driver, book_server, HTML, page, screenshot_dir=SHOTS)
    assert not report.problems, f"{page}: {len(report.problems)} problem(s):\n  " + "\n  ".join(report.problems)


def test_book_has_the_expected_pages():
    if not PAGES:
        pytest.skip(NOT_BUILT)
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    missing = [f for f in files if f"{f}.html" not in PAGES]
    assert not missing, f"pages in _toc.yml that were not built: {missing}"


# --------------------------------------------------------- the checker itself, on hand-made pages

def _png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size (no image library needed)."""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _mathjax_dir() -> Path | None:
    """A local MathJax 3 (the copy the book build ships, else the sphinx-mathjax-offline package's)."""
    built = HTML / "_static" / "mathjax"
    if (built / "tex-chtml.js").is_file():
        return built
    try:
        import importlib.util

        spec = importlib.util.find_spec("sphinx-mathjax-offline")
    except (ImportError, ValueError):
        spec = None
    if spec and spec.origin:
        local = Path(spec.origin).parent / "static" / "mathjax"
        if (local / "tex-chtml.js").is_file():
            return local
    return None


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>
<link rel="icon" href="data:,">{head}</head><body><h1 id="top">Test page</h1>{body}</body></html>"""


@pytest.fixture
def site(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ok.png").write_bytes(_png(8, 6))
    (tmp_path / "img" / "corrupt.png").write_bytes(b"not a png")
    (tmp_path / "other.html").write_text(PAGE.format(head="", body='<p id="there">other</p>'))
    return tmp_path


def _write(site: Path, body: str, math: bool = False) -> str:
    head = ""
    if math:
        mj = _mathjax_dir()
        if mj is None:
            pytest.skip("no local MathJax (build the book, or pip install sphinx-mathjax-offline)")
        (site / "mathjax").symlink_to(mj, target_is_directory=True)
        head = '<script defer src="mathjax/tex-chtml.js"></script>'
    (site / "page.html").write_text(PAGE.format(head=head, body=body))
    return "page.html"


def _check(driver, site: Path, page: str) -> list[str]:
    with bc.serve(site) as server:
        return bc.check_page(driver, server, site, page, screenshot_dir=site / "shots").problems


def test_a_clean_page_passes(driver, site):
    page = _write(site, '<figure><img src="img/ok.png" width="80"></figure>'
                        '<a href="other.html#there">a</a> <a href="#top">b</a> <a href="./">c</a>'
                        '<a href="https://example.org/x">external links are not followed</a>'
                        '<p>Math <span class="math notranslate nohighlight">\\(\\sum_j I(x; z_j)\\)</span></p>'
                        '<div class="math notranslate nohighlight">\\[\\mathbb{E}_x \\mathrm{KL}\\]</div>', math=True)
    (site / "index.html").write_text(PAGE.format(head="", body=""))
    problems = _check(driver, site, page)
    assert problems == []
    assert (site / "shots" / "page.png").stat().st_size > 0


def test_broken_links_are_caught(driver, site):
    page = _write(site, '<a href="missing.html">x</a> <a href="other.html#nowhere">y</a> <a href="#gone">z</a>')
    problems = _check(driver, site, page)
    assert any("'missing.html'" in p and "does not exist" in p for p in problems), problems
    assert any("'other.html#nowhere'" in p and "no id 'nowhere'" in p for p in problems), problems
    assert any("'#gone'" in p for p in problems), problems


def test_missing_and_broken_images_are_caught(driver, site):
    page = _write(site, '<img src="img/absent.png"> <figure><img src="img/corrupt.png"></figure>'
                        '<figure><img src="img/ok.png" style="width:0"></figure>')
    problems = _check(driver, site, page)
    assert any("missing image 'img/absent.png'" in p for p in problems), problems
    assert any("did not load 'img/corrupt.png'" in p for p in problems), problems
    assert any("zero size 'img/ok.png'" in p for p in problems), problems
    assert any("HTTP 404 for /img/absent.png" in p for p in problems), problems


def test_math_errors_are_caught(driver, site):
    page = _write(site, '<p><span class="math notranslate nohighlight">\\(\\undefinedmacro x\\)</span>'
                        '<span class="math notranslate nohighlight">\\(\\left( x\\)</span></p>', math=True)
    problems = _check(driver, site, page)
    assert any("undefined control sequence \\undefinedmacro" in p for p in problems), problems
    assert any(p.startswith("MathJax error") for p in problems), problems


def test_untypeset_math_is_caught(driver, site):
    page = _write(site, '<p><span class="math notranslate nohighlight">\\(x^2\\)</span></p>')  # no MathJax at all
    problems = _check(driver, site, page)
    assert any("not typeset" in p for p in problems), problems


def test_console_errors_and_offline_resources_are_caught(driver, site):
    page = _write(site, '<script>console.error("boom from the page")</script>'
                        '<script src="https://cdn.example.invalid/lib.js"></script>')
    problems = _check(driver, site, page)
    assert any("console error" in p and "boom from the page" in p for p in problems), problems
    assert any("console error" in p and "cdn.example.invalid" in p for p in problems), problems


def test_empty_widgets_are_caught(driver, site):
    page = _write(site, '<div class="cell_output"><div class="output text_html">'
                        '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "abc", '
                        '"version_major": 2, "version_minor": 0}</script></div></div>'
                        '<div class="widget-area"></div>'
                        '<div class="cell_output"><pre>VBox(children=(FloatSlider(value=0.0),))</pre></div>')
    problems = _check(driver, site, page)
    assert any("widget view abc rendered as nothing" in p for p in problems), problems
    assert any("empty widget: widget-area" in p for p in problems), problems
    assert any("text repr" in p for p in problems), problems


# ------------------------------------------------------------- link resolution, without a browser

def test_link_resolution(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<p id="x"></p><a name="old"></a>')
    (tmp_path / "b.html").write_text('<h2 id="sec-1">s</h2>')
    site = "http://127.0.0.1:8000/"
    page = site + "b.html"
    assert bc.link_target("https://example.org/a", page, site, tmp_path) is None
    assert bc.link_target(site + "a/#x", page, site, tmp_path) == (tmp_path / "a" / "index.html", "x")
    assert bc.anchors(tmp_path / "a" / "index.html") == {"x", "old"}
    links = [{"href": site + "a/#x", "raw": "a/#x"}, {"href": site + "a/#old", "raw": "a/#old"},
             {"href": site + "b.html#sec-1", "raw": "#sec-1"}, {"href": site + "b.html#live", "raw": "#live"},
             {"href": site + "c.html", "raw": "c.html"}, {"href": site + "b.html#nope", "raw": "#nope"},
             {"href": "mailto:someone@example.org", "raw": "mailto:someone@example.org"}]
    problems = bc.check_links(links, page, site, tmp_path, live_ids=["live"])
    assert problems == ["broken link 'c.html': c.html does not exist", "broken link '#nope': no id 'nope' on b.html"]


def test_pages_lists_html_but_not_assets(tmp_path):
    for rel in ("index.html", "book/intro.html", "_static/x.html", "_sources/y.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<html></html>")
    assert bc.pages(tmp_path) == ["book/intro.html", "index.html"]


def test_missing_browser_is_reported_not_passed(monkeypatch):
    monkeypatch.setattr(bc, "CHROMIUM_PATHS", ("/nonexistent/chromium",))
    monkeypatch.setattr(bc.shutil, "which", lambda name: None)
    reason = bc.find_browser()
    assert isinstance(reason, str) and "chromium" in reason


def test_redirect_pages_are_checked_for_their_target(tmp_path):
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />')
    (tmp_path / "old.html").write_text('<meta http-equiv="refresh" content="0; URL=gone.html">')
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.html").write_text("<p>intro</p>")
    assert bc.redirect_target(tmp_path / "index.html") == "book/intro.html"
    with bc.serve(tmp_path) as server:  # a redirect page is not opened in the browser: no driver needed
        assert bc.check_page(None, server, tmp_path, "index.html").problems == []
        assert bc.check_page(None, server, tmp_path, "old.html").problems == [
            "broken link 'gone.html': gone.html does not exist"]
