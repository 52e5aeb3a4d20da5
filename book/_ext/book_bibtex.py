"""Citations in author-year form, in the text and in the bibliography, loaded through ``sphinx.local_extensions``.

sphinxcontrib-bibtex's ``author_year`` reference style cites "[Liu et al., 2020]" in the text,
but its default formatting style (pybtex's ``alpha``) labels the entries of the bibliography page
"[LLZ+20]", so a reader cannot match one to the other. Two styles are registered here:

- ``authoryear`` (``bibtex_default_style`` in _config.yml) labels each entry of the bibliography
  as the text cites it ("Liu et al., 2020", "Kingma and Welling, 2014", "Silverman, 1982") and
  sorts the list by author, year and title;
- ``author_year_round`` (``bibtex_reference_style``) is ``author_year`` with round brackets:
  ``{cite}`` gives "(Liu et al., 2020)" (several: "(Alemi et al., 2018; Liu et al., 2020)"),
  ``{cite:t}`` gives "Liu et al. (2020)".
"""
from __future__ import annotations

import dataclasses
from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _surname(person) -> str:
    """A person's surname as plain text (BibTeX accents such as M{\\"u}hl decoded)."""
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


def author_year(entry) -> str:
    """'Silverman, 1982', 'Kingma and Welling, 2014' or 'Liu et al., 2020'."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    if not people:
        names = entry.fields.get("title", "Anonymous")
    elif len(people) == 1:
        names = _surname(people[0])
    elif len(people) == 2:
        names = f"{_surname(people[0])} and {_surname(people[1])}"
    else:
        names = f"{_surname(people[0])} et al."
    return f"{names}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [author_year(entry) for entry in sorted_entries]
        repeated, seen = Counter(labels), Counter()
        for label in labels:  # two entries with one label: "Smith, 2020a", "Smith, 2020b"
            if repeated[label] > 1:
                seen[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = "author_year_title"


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")  # "(McAllester and Stratos, 2020; Poole et al., 2019)"


@dataclasses.dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    bracket_textual: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_author: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_label: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_year: BracketStyle = dataclasses.field(default_factory=_round)


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round",
                           RoundAuthorYearReferenceStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
