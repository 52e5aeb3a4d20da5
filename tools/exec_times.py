"""Print each chapter's execution time in the last book build (from the reproduce page's
``{nb-exec-table}``), for CI logs:

    python tools/exec_times.py [_build/html]
"""
from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def exec_table(html_dir: Path) -> list[list[str]]:
    """Rows (header first) of the execution-statistics table on book/reproduce.html."""
    page = html_dir / "book" / "reproduce.html"
    if not page.is_file():
        raise SystemExit(f"{page} not found: build the book first (make book)")
    parser = _Tables()
    parser.feed(page.read_text(encoding="utf-8"))
    for table in parser.tables:
        if table and any("Run Time" in c or "run time" in c.lower() for c in table[0]):
            return table
    raise SystemExit(f"{page} has no execution-statistics table")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rows = exec_table(Path(argv[0] if argv else "_build/html"))
    header = rows[0]
    doc, run = header.index(next(c for c in header if "Document" in c)), \
        header.index(next(c for c in header if "Run Time" in c))
    total = 0.0
    for row in rows[1:]:
        seconds = float(row[run]) if row[run].replace(".", "", 1).isdigit() else 0.0
        total += seconds
        print(f"  {row[doc]:<40} {seconds:7.1f} s")
    print(f"  {'all chapters':<40} {total:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
