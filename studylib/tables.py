"""Tables as reports show them: HTML that wraps between words, never inside one.

JupyterLab lays out a table's columns at fixed widths and lets text break anywhere, and text
printed as a table is cut at the width of the page: either way a reader gets "2 per orga" and
"n" on the next line. :func:`table_html` writes a table whose columns size to their content,
whose short cells never wrap, and whose long cells wrap only between words, inside a box that
scrolls sideways when the page is narrow. :class:`Table` is such a table for a notebook, with
the rule that produced its rows said once above it (not repeated on every row), and a stable
id so that re-running a notebook gives the same output.

Presentation only: every value shown comes from an engine.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import pandas as pd

__all__ = ["COLOURS", "table_html", "Table", "table", "Lines", "lines", "warnings_table"]

#: Background colours by status (eligibility) or response code (RECIST).
COLOURS: dict[str, str] = {
    "pass": "#d9f0d3",
    "eligible": "#d9f0d3",
    "CR": "#d9f0d3",
    "PR": "#d9f0d3",
    "fail": "#f4cccc",
    "ineligible": "#f4cccc",
    "PD": "#f4cccc",
    "review": "#fff2cc",
    "needs_review": "#fff2cc",
    "SD": "#fff2cc",
    "NON-CR/NON-PD": "#fff2cc",
    "missing": "#e0e0e0",
    "incomplete": "#e0e0e0",
    "NE": "#e0e0e0",
    "not_applicable": "#f3f3f3",
    "ND": "#f3f3f3",
    "error": "#f4cccc",
    "warning": "#fff2cc",
    # iRECIST: unconfirmed progression between stable disease and confirmed progression.
    "iCR": "#d9f0d3",
    "iPR": "#d9f0d3",
    "iSD": "#fff2cc",
    "NON-iCR/NON-iUPD": "#fff2cc",
    "iUPD": "#fce5cd",
    "iCPD": "#f4cccc",
}

#: A cell this long or shorter stays on one line (dates, ids, numbers, codes).
SHORT = 32

# Wrap only between words: Lab's own table style breaks words to fit fixed columns.
_CELL = (
    "border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top;"
    "word-break:normal;overflow-wrap:normal;hyphens:manual"
)
_SHORT_CELL = _CELL + ";white-space:nowrap"
# pre-line: a line break in a value (the design table's phrases) shows as one.
_LONG_CELL = _CELL + ";white-space:pre-line;min-width:18em"


def _slug(text: str) -> str:
    """A CSS class from a value: ``"week 21"`` -> ``"week-21"``, ``"EXCL08"`` unchanged."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def _text(value: object) -> str:
    if isinstance(value, list | tuple | dict | set):
        return str(value)
    return "" if pd.isna(value) else str(value)


def table_html(
    frame: pd.DataFrame,
    *,
    colour_by: Mapping[str, str] | None = None,
    css_class: str = "studylib-table",
    row_class: str | None = None,
    table_id: str | None = None,
) -> str:
    """An HTML table of ``frame`` (escaped) that never breaks a word, colouring cells by value.

    Parameters
    ----------
    frame
        What to show; the columns are shown as they are named, without the index.
    colour_by
        Columns whose cells are coloured by their own value (``{"status": "status"}``) or
        by another column's value (``{"reason": "status"}``), with :data:`COLOURS`.
    css_class
        Class of the ``<table>``, for the browser test and for styling.
    row_class
        A column whose value, prefixed with ``row-``, becomes each row's class.
    table_id
        The ``id`` of the table (a fixed one keeps a notebook's output the same run to run).
    """
    colour_by = colour_by or {}
    texts = frame.map(_text) if len(frame.columns) else frame
    long = {c for c in frame.columns if len(texts) and texts[c].str.len().max() > SHORT}
    head = "".join(
        f'<th style="{_SHORT_CELL};background:#f0f0f0">{html.escape(str(c))}</th>' for c in frame
    )
    rows = []
    for index in range(len(frame)):
        cells = []
        for column in frame.columns:
            shown = texts[column].iloc[index]
            style = _LONG_CELL if column in long else _SHORT_CELL
            if column in colour_by:
                colour = COLOURS.get(str(frame[colour_by[column]].iloc[index]), "")
                style += f";background:{colour}" if colour else ""
            cells.append(f'<td style="{style}">{html.escape(shown)}</td>')
        cls = f' class="row-{_slug(str(frame[row_class].iloc[index]))}"' if row_class else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    return (
        '<div style="overflow-x:auto;max-width:100%">'
        f'<table{ident} class="{css_class}" style="border-collapse:collapse;table-layout:auto;'
        'width:auto;margin:0;font-size:90%;line-height:1.3">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class Table:
    """A table for a notebook: HTML in JupyterLab and reports, plain text elsewhere.

    Parameters
    ----------
    frame
        The rows to show.
    name
        A fixed id for the table (``studylib-<name>``).
    rule
        The rule every row follows, said once above the table instead of on each row.
    colour_by, row_class
        As in :func:`table_html`.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        name: str,
        *,
        rule: str | None = None,
        colour_by: Mapping[str, str] | None = None,
        row_class: str | None = None,
    ) -> None:
        self.frame = frame.reset_index(drop=True)
        self.name = name
        self.rule = rule
        self.colour_by = dict(colour_by or {})
        self.row_class = row_class

    def _repr_html_(self) -> str:
        rule = f'<p style="margin:0 0 4px 0">{html.escape(self.rule)}</p>' if self.rule else ""
        return rule + table_html(
            self.frame,
            colour_by=self.colour_by,
            row_class=self.row_class,
            table_id=f"studylib-{_slug(self.name)}",
        )

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False, na_rep="-") if len(self.frame) else "(no rows)"
        return f"{self.rule}\n{text}" if self.rule else text


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    rule: str | None = None,
    colour_by: Mapping[str, str] | None = None,
    row_class: str | None = None,
) -> Table:
    """A :class:`Table` to display (the last line of a cell, or ``display(table(...))``)."""
    return Table(frame, name, rule=rule, colour_by=colour_by, row_class=row_class)


class Lines:
    """Sentences for a report: one paragraph each, wrapped between words (printed text in
    JupyterLab and in the HTML reports breaks inside words at the edge of the page)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = [str(text) for text in texts]

    def _repr_html_(self) -> str:
        paragraphs = "".join(
            f'<p style="margin:0 0 2px 0;white-space:pre-line;word-break:normal;'
            f'overflow-wrap:normal">{html.escape(text)}</p>'
            for text in self.texts
        )
        return f"<div>{paragraphs}</div>"

    def __repr__(self) -> str:
        return "\n".join(self.texts)


def lines(texts) -> Lines | None:
    """A :class:`Lines` of ``texts`` (a list, or one text); ``None`` when there are none."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    return Lines(texts) if texts else None


def warnings_table(problems, name: str = "warnings") -> Table | None:
    """What a trial folder's load noticed without refusing it (``Cohort.warnings``), as a
    table of file, column and what it costs; ``None`` when there is nothing to say."""
    if not problems:
        return None
    rows = pd.DataFrame(
        {
            "file": [p.file for p in problems],
            "column": [p.column or "" for p in problems],
            "what it costs": [p.expected for p in problems],
        }
    )
    return Table(
        rows,
        name,
        rule="The trial folder loaded, but lacks what these rows name (data/README.md):",
    )
