"""How the panels look: colours for statuses and responses, and small HTML helpers.

Presentation only: which status or response a value has is always decided by an engine.
"""

from __future__ import annotations

import html
import io
import re

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["COLOURS", "badge", "table_html", "message_html", "figure_png"]

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
    # iRECIST: unconfirmed progression between stable disease and confirmed progression.
    "iCR": "#d9f0d3",
    "iPR": "#d9f0d3",
    "iSD": "#fff2cc",
    "NON-iCR/NON-iUPD": "#fff2cc",
    "iUPD": "#fce5cd",
    "iCPD": "#f4cccc",
}

# pre-line: a line break in a value (the design table's phrases) shows as one.
_CELL = (
    "border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top;white-space:pre-line"
)


def _slug(text: str) -> str:
    """A CSS class from a value: ``"week 21"`` -> ``"week-21"``, ``"EXCL08"`` unchanged."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def badge(text: str, status: str | None = None) -> str:
    """``text`` in a coloured pill, coloured by ``status`` (default: the text itself)."""
    colour = COLOURS.get(status or text, "#ffffff")
    return (
        f'<span style="background:{colour};border-radius:4px;padding:1px 6px;'
        f'font-weight:bold">{html.escape(str(text))}</span>'
    )


def table_html(
    frame: pd.DataFrame,
    *,
    colour_by: dict[str, str] | None = None,
    css_class: str = "studylib-table",
    row_class: str | None = None,
) -> str:
    """A small HTML table of ``frame`` (escaped), colouring cells by their value.

    Parameters
    ----------
    frame
        What to show; the columns are shown as they are named.
    colour_by
        Columns whose cells are coloured by their own value (``{"status": "status"}``) or
        by another column's value (``{"reason": "status"}``).
    css_class
        Class of the ``<table>``, for the browser test and for styling.
    row_class
        A column whose value, prefixed with ``row-``, becomes each row's class.
    """
    colour_by = colour_by or {}
    head = "".join(f'<th style="{_CELL};background:#f0f0f0">{html.escape(c)}</th>' for c in frame)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for column in frame.columns:
            value = row[column]
            shown = "" if pd.isna(value) else str(value)
            colour = COLOURS.get(str(row[colour_by[column]]), "") if column in colour_by else ""
            background = f";background:{colour}" if colour else ""
            cells.append(f'<td style="{_CELL}{background}">{html.escape(shown)}</td>')
        cls = f' class="row-{_slug(str(row[row_class]))}"' if row_class else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (
        f'<table class="{css_class}" style="border-collapse:collapse;font-size:90%;'
        'line-height:1.3">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def message_html(text: str, status: str = "error") -> str:
    """A boxed message (for input the engine could not read), coloured by ``status``."""
    return (
        f'<div style="background:{COLOURS.get(status, "#fff")};padding:6px;border-radius:4px;'
        f'white-space:pre-wrap">{html.escape(text)}</div>'
    )


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes: shown the same way in a widget, Voilà, or any matplotlib backend."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
