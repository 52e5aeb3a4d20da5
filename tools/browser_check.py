"""Check the built book in a headless browser: images, math, links, widgets, console errors.

Used by ``tests/book/test_browser.py``. Every page of ``_build/html`` is served from a local HTTP
server and opened in headless Chromium (Debian's ``chromium`` and ``chromium-driver`` packages,
driven by Selenium; nothing is downloaded). :func:`check_page` returns a list of problems, one
readable line each; an empty list means the page passed. The browser resolves no host names
other than the local server's, so a page that needs anything from the internet (a CDN script, a
web font) fails here as it would for a reader offline.
"""
from __future__ import annotations

import contextlib
import functools
import html.parser
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

#: Where Debian's packages put the browser and its driver (other names tried after these).
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMEDRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")

#: Folders of a Sphinx build that hold assets, not pages.
ASSET_DIRS = ("_static", "_sources", "_images", "_sphinx_design_static", "_panels_static")

#: Text that MathJax (2 or 3) shows in place of math it could not typeset: searched in the whole
#: page, and (the TeX parser's messages, which prose may quote) inside math only.
PAGE_ERROR_TEXT = ("Math input error", "Math Processing Error")
MATH_ERROR_TEXT = ("Undefined control sequence", "Missing open brace", "Missing close brace",
                   "Extra close brace", "Misplaced &", "Unknown environment")

#: Text representations of widgets: what a widget output looks like when nothing rendered it.
WIDGET_REPRS = ("VBox(children=", "HBox(children=", "interactive(children=", "Output()",
                "FloatSlider(value=", "IntSlider(value=")


def find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or a string saying what is missing."""
    browser = next((p for p in CHROMIUM_PATHS if os.access(p, os.X_OK)), None) or shutil.which("chromium")
    driver = next((p for p in CHROMEDRIVER_PATHS if os.access(p, os.X_OK)), None) or shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if missing:
        return (f"no {' or '.join(missing)} on this machine: install Debian's `chromium chromium-driver` "
                "(.ci/run does) to run the browser check")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed (pip install -e '.[test]')"
    return browser, driver


def pages(html_root: str | os.PathLike) -> list[str]:
    """Every HTML page of a built book, as paths relative to ``html_root`` (assets excluded)."""
    root = Path(html_root)
    found = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] in ASSET_DIRS or rel.parts[0].startswith("."):
            continue
        found.append(rel.as_posix())
    return found


class _IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if value and (key == "id" or (key == "name" and tag == "a")):
                self.ids.add(value)


@functools.lru_cache(maxsize=256)
def _anchors_cached(path: str, mtime: float) -> frozenset[str]:
    parser = _IdCollector()
    parser.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def anchors(path: str | os.PathLike) -> frozenset[str]:
    """The ids (and ``<a name>``s) in an HTML file: the fragments a link to it may name."""
    path = Path(path)
    return _anchors_cached(str(path), path.stat().st_mtime)


class _RefreshFinder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.target: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh" and self.target is None:
            content = attrs.get("content") or ""
            _, _, rest = content.partition(";")
            self.target = rest.strip().removeprefix("url=").removeprefix("URL=").strip("'\" ") or None


def redirect_target(path: str | os.PathLike) -> str | None:
    """The URL a page sends the browser to with ``<meta http-equiv="refresh">``, if it does."""
    finder = _RefreshFinder()
    finder.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return finder.target


def link_target(href: str, page_url: str, site_url: str, html_root: str | os.PathLike):
    """Resolve a link's absolute ``href`` (as the browser resolved it) inside the site.

    Returns None for links that leave the site (another host, mailto:, javascript:), else
    (file path, fragment) with the file the server would send (``dir/`` means ``dir/index.html``).
    """
    if not href.startswith(site_url.rstrip("/") + "/") and href != site_url.rstrip("/"):
        return None
    url, fragment = urldefrag(href)
    path = unquote(urlsplit(url).path).lstrip("/")
    target = Path(html_root) / path
    if path == "" or path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(fragment)


def check_links(links: list[dict], page_url: str, site_url: str, html_root, live_ids=()) -> list[str]:
    """Problems with the internal links of one page.

    ``links``: dicts with ``href`` (the browser's resolved URL) and ``raw`` (the attribute as
    written). A link inside the site must name an existing file, and its ``#fragment`` must be an
    id on that page. ``live_ids``: ids of the page as rendered (for links within the page).
    """
    problems, seen = [], set()
    page_file = link_target(page_url, page_url, site_url, html_root)[0]
    for link in links:
        href = link["href"]
        if not href or href in seen:
            continue
        seen.add(href)
        resolved = link_target(href, page_url, site_url, html_root)
        if resolved is None:
            continue
        target, fragment = resolved
        if not target.is_file():
            problems.append(f"broken link {link['raw']!r}: {target.relative_to(html_root).as_posix()} does not exist")
            continue
        if fragment and target.suffix == ".html":
            ids = anchors(target)
            if target == page_file:
                ids = ids | set(live_ids)
            if fragment not in ids:
                problems.append(f"broken link {link['raw']!r}: no id {fragment!r} on "
                                f"{target.relative_to(html_root).as_posix()}")
    return problems


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files; records every request's path and status instead of printing them."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def log_request(self, code="-", size="-"):
        status = getattr(code, "value", code)
        self.server.requests.append((unquote(urlsplit(self.path).path), int(status) if str(status).isdigit() else 0))

    def end_headers(self):  # never let the browser cache between pages or runs
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@contextlib.contextmanager
def serve(html_root: str | os.PathLike):
    """Serve ``html_root`` on a free local port in a thread; yields the server (``.url``, ``.requests``)."""
    handler = functools.partial(_QuietHandler, directory=str(html_root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.requests = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_driver(browser: str, driver: str, width: int = 1280, height: int = 1000):
    """Headless Chromium under Selenium, with the browser console log enabled; offline but for 127.0.0.1."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=driver), options=opts)
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(40)
    return drv


# Runs in the page once it has loaded: waits for the images and for MathJax's first typeset.
_SETTLE_JS = r"""
const done = arguments[arguments.length - 1];
const t0 = Date.now();
const imgs = Array.from(document.images);
imgs.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
const loaded = Promise.all(imgs.map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 15000); })));
const hasMathJaxScript = () => Array.from(document.scripts).some(s => /mathjax/i.test(s.src || ''));
const hasMath = document.querySelector('span.math, div.math') !== null;
function mathjax() {
  return new Promise(resolve => {
    (function poll() {
      const MJ = window.MathJax;
      if (MJ && MJ.startup && MJ.startup.promise) {
        MJ.startup.promise.then(() => resolve('typeset'), e => resolve('failed: ' + e));
      } else if (MJ && MJ.Hub && MJ.Hub.Queue) {           // MathJax 2
        MJ.Hub.Queue(() => resolve('typeset'));
      } else if (!hasMath && !hasMathJaxScript()) {
        resolve('absent');
      } else if (Date.now() - t0 > 20000) {
        resolve(hasMathJaxScript() ? 'did not start within 20 s' : 'is not loaded by the page');
      } else {
        setTimeout(poll, 50);
      }
    })();
  });
}
Promise.all([loaded, mathjax()]).then(([_, mj]) => setTimeout(() => done(mj), 200));
"""

# Collects what the checks need from the rendered page.
_INSPECT_JS = r"""
const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
const out = {};
out.images = Array.from(document.images).map(img => ({
  src: img.currentSrc || img.src, raw: img.getAttribute('src') || '', complete: img.complete,
  naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
  width: img.getBoundingClientRect().width, height: img.getBoundingClientRect().height,
  shown: shown(img), figure: !!img.closest('.cell_output, figure, .figure, .output'),
}));
out.links = Array.from(document.querySelectorAll('a[href]')).map(a => ({href: a.href, raw: a.getAttribute('href')}));
out.ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
// math: every Sphinx math element must hold MathJax's output, and none an error
const mathEls = Array.from(document.querySelectorAll('span.math, div.math'));
out.mathElements = mathEls.length;
out.untypeset = mathEls.filter(e => !e.querySelector('mjx-container, .MathJax, .MathJax_Display'))
                      .map(e => e.textContent.trim().slice(0, 80));
out.mjxContainers = document.querySelectorAll('mjx-container').length;
out.mathErrors = Array.from(document.querySelectorAll('mjx-merror')).map(e =>
    (e.getAttribute('data-mjx-error') || e.getAttribute('title') || e.textContent).slice(0, 120));
out.undefinedMacros = [];
const MJ = window.MathJax;
if (MJ && MJ.startup && MJ.startup.document && MJ.startup.toMML) {
  for (const item of MJ.startup.document.math) {
    let mml = '';
    try { mml = MJ.startup.toMML(item.root); } catch (e) { continue; }
    const tex = String(item.math).trim().slice(0, 80);
    // MathJax 3's noundefined extension shows an undefined macro as red text instead of an error
    const re = /<mtext[^>]*mathcolor="red"[^>]*>(\\[A-Za-z@]+)<\/mtext>/g;
    let m;
    while ((m = re.exec(mml)) !== null) out.undefinedMacros.push(`${m[1]} in \`${tex}\``);
    if (/<merror/.test(mml)) out.mathErrors.push(`error in \`${tex}\``);
  }
}
const mathText = Array.from(document.querySelectorAll('mjx-container, .math, .MathJax_Display, .MathJax'))
    .map(e => e.textContent + ' ' + (e.getAttribute('title') || '')).join('\n');
const pageText = document.body.innerText;
out.mathErrorText = arguments[0].filter(t => pageText.includes(t))
    .concat(arguments[1].filter(t => mathText.includes(t)));
// widgets: a widget view or widget area that shows nothing, or a widget printed as its repr
out.emptyWidgets = [];
for (const el of document.querySelectorAll('.jupyter-widgets, .widget-area, .jupyter-widgets-view')) {
  const r = el.getBoundingClientRect();
  const content = el.innerText.trim() || el.querySelector('img, canvas, svg, input, select, button, video');
  if (r.width === 0 || r.height === 0 || !content)
    out.emptyWidgets.push(`${el.className || el.tagName} (${Math.round(r.width)}x${Math.round(r.height)} px)`);
}
for (const s of document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
  const box = s.parentElement;
  const rendered = Array.from(box.children).filter(c => c !== s && c.tagName !== 'SCRIPT');
  const r = box.getBoundingClientRect();
  if (!rendered.length || r.height === 0) {
    let id = ''; try { id = JSON.parse(s.textContent).model_id; } catch (e) {}
    out.emptyWidgets.push(`widget view ${id} rendered as nothing`);
  }
}
out.widgetReprs = Array.from(document.querySelectorAll('.cell_output pre, .output pre'))
    .map(p => p.textContent.trim()).filter(t => arguments[2].some(w => t.startsWith(w))).map(t => t.slice(0, 60));
out.height = Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);
return out;
"""


@dataclass
class PageReport:
    """What one page check found: ``problems`` (empty when the page passed) and some counts."""

    page: str
    problems: list[str] = field(default_factory=list)
    images: int = 0
    links: int = 0
    math: int = 0
    screenshot: Path | None = None


def _screenshot(drv, path: Path, height: int, max_height: int) -> None:
    """The whole page (up to ``max_height`` CSS pixels) as a PNG, through the DevTools protocol."""
    import base64

    # let the theme's sliding sidebars settle, and freeze any further animation
    drv.execute_script("const s = document.createElement('style'); s.textContent = "
                       "'*, *::before, *::after { transition: none !important; animation: none !important; }'; "
                       "document.head.appendChild(s);")
    time.sleep(0.4)
    width = drv.execute_script("return document.documentElement.clientWidth") or 1280
    try:
        data = drv.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, max_height), "scale": 1}})["data"]
        path.write_bytes(base64.b64decode(data))
    except Exception:  # noqa: BLE001 - fall back to the visible part
        drv.save_screenshot(str(path))


def check_page(drv, server, html_root: str | os.PathLike, page: str,
               screenshot_dir: str | os.PathLike | None = None, max_shot_height: int = 16000) -> PageReport:
    """Load ``page`` (relative to ``html_root``, served by ``server``) and list what is wrong with it.

    Fails on: an image that did not load (naturalWidth 0) or whose file is missing on the server;
    a figure image rendered with zero size; math that MathJax did not typeset, or typeset as an
    error (an ``mjx-merror``, an undefined macro, MathJax error text); an internal link to a
    missing file or a missing ``#fragment``; an empty widget; any request the server answered
    with 4xx/5xx; any console message of level SEVERE.
    """
    html_root = Path(html_root)
    report = PageReport(page)
    url = server.url + page
    p = report.problems
    refresh = redirect_target(html_root / page)
    if refresh is not None:  # a redirect page (the book's index.html): its target must exist
        report.links = 1
        p += check_links([{"href": urljoin(url, refresh), "raw": refresh}], url, server.url, html_root)
        return report
    drv.get_log("browser")  # drop what earlier pages left
    first_request = len(server.requests)
    drv.get(url)
    deadline = time.monotonic() + 60
    while drv.execute_script("return document.readyState") != "complete":  # get() may return early
        if time.monotonic() > deadline:
            p.append("page did not finish loading within 60 s")
            break
        time.sleep(0.05)
    mathjax = drv.execute_async_script(_SETTLE_JS)
    info = drv.execute_script(_INSPECT_JS, list(PAGE_ERROR_TEXT), list(MATH_ERROR_TEXT), list(WIDGET_REPRS))

    # images
    report.images = len(info["images"])
    for img in info["images"]:
        name = img["raw"] or img["src"]
        if not img["src"]:
            p.append("image with no src")
            continue
        resolved = link_target(img["src"], url, server.url, html_root)
        if resolved is not None and not resolved[0].is_file():
            p.append(f"missing image {name!r}: {resolved[0].relative_to(html_root).as_posix()} does not exist")
        elif img["naturalWidth"] == 0:
            p.append(f"image did not load {name!r} (naturalWidth 0)")
        elif img["figure"] and img["shown"] and (img["width"] == 0 or img["height"] == 0):
            p.append(f"figure image rendered with zero size {name!r} ({img['width']:.0f}x{img['height']:.0f} px)")

    # math
    report.math = info["mathElements"]
    if info["mathElements"]:
        if mathjax != "typeset":
            p.append(f"page has {info['mathElements']} math elements but MathJax {mathjax}")
        if info["untypeset"]:
            p.append(f"{len(info['untypeset'])} of {info['mathElements']} math elements not typeset, "
                     f"e.g. {info['untypeset'][0]!r}")
        if not info["mjxContainers"] and mathjax == "typeset" and info["untypeset"]:
            p.append("no mjx-container on a page with math")
    p += [f"MathJax error: {e}" for e in info["mathErrors"]]
    p += [f"MathJax: undefined control sequence {m}" for m in info["undefinedMacros"]]
    p += [f"MathJax error text on the page: {t!r}" for t in info["mathErrorText"]]

    # links
    report.links = len(info["links"])
    p += check_links(info["links"], url, server.url, html_root, info["ids"])

    # widgets
    p += [f"empty widget: {w}" for w in info["emptyWidgets"]]
    p += [f"widget shown as its text repr, not rendered: {w!r}" for w in info["widgetReprs"]]

    # requests that failed, and the console
    # (the browser asks for /favicon.ico by itself; the book names no icon, so that one 404 is not the page's)
    p += [f"HTTP {status} for {path}" for path, status in server.requests[first_request:]
          if status >= 400 and path != "/favicon.ico"]
    for entry in drv.get_log("browser"):
        if entry.get("level") == "SEVERE" and not entry.get("message", "").startswith(server.url + "favicon.ico "):
            p.append(f"console error: {entry.get('message', '')[:300]}")

    if screenshot_dir is not None:
        shot = Path(screenshot_dir) / (page[:-5] + ".png" if page.endswith(".html") else page + ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        _screenshot(drv, shot, info["height"], max_shot_height)
        report.screenshot = shot
    return report
