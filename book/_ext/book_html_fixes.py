"""Sphinx fix-up for the book's HTML, loaded through ``sphinx.local_extensions`` in _config.yml.

Sphinx 7.4 registers an inline ``<script>`` that an extension adds after the builder starts
(sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) once as
``None`` and once as ``""``, so every page carried it twice and the browser reported
"Identifier 'THEBE_JS_URL' has already been declared". Drop the second copy of each script.
The browser check in tests/book/test_browser.py fails on such console errors.
"""


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), getattr(js, "priority", 0), tuple(sorted(attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # the builder restores its own list after each page


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
