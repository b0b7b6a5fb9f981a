"""Report tables are HTML that never breaks a word, with their rule said once."""

from __future__ import annotations

import re

import pandas as pd

from studylib.errors import Problem
from studylib.tables import Table, table, table_html, warnings_table

FRAME = pd.DataFrame(
    {
        "date": ["2024-03-04", "2024-03-05"],
        "label": ["IL-2 dose 1 of 14", "IL-2 dose 2 of 14"],
        "why": ["a long sentence " * 4, "x"],
    }
)


def _cells(markup: str) -> list[str]:
    return re.findall(r'<t[dh] style="([^"]*)"', markup)


def test_no_cell_breaks_a_word_and_the_table_sizes_to_its_content():
    """Every cell wraps only between words; the table is laid out by its content and scrolls."""
    markup = table_html(FRAME)
    assert all("word-break:normal" in c and "overflow-wrap:normal" in c for c in _cells(markup))
    assert "table-layout:auto" in markup and "overflow-x:auto" in markup


def test_short_cells_stay_on_one_line_and_long_ones_wrap_between_words():
    """Dates and labels never wrap; a long reason wraps at spaces only."""
    styles = _cells(table_html(FRAME))
    body = styles[3:]  # after the three headings
    assert "white-space:nowrap" in body[0] and "white-space:nowrap" in body[1]
    assert "white-space:pre-line" in body[2]


def test_a_rule_is_said_once_above_the_table():
    """The rule every row follows is one sentence, not a column repeated on each row."""
    shown = table(FRAME[["date", "label"]], "slots", rule="Every dose 8 hours apart.")
    markup = shown._repr_html_()
    assert markup.count("Every dose 8 hours apart.") == 1
    assert markup.index("Every dose") < markup.index("<table")
    assert 'id="studylib-slots"' in markup
    assert repr(shown).splitlines()[0] == "Every dose 8 hours apart."


def test_values_are_escaped_and_missing_values_empty():
    """Markup in a value is shown as text; a missing value is an empty cell."""
    markup = table_html(pd.DataFrame({"a": ["<b>x</b>", None]}))
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and "<td style" in markup and "None" not in markup


def test_same_table_same_markup():
    """A fixed id: re-running a notebook gives the same output."""
    assert Table(FRAME, "x")._repr_html_() == Table(FRAME, "x")._repr_html_()


def test_warnings_table():
    """Nothing to say is nothing shown; a warning shows its file, column and cost."""
    assert warnings_table([]) is None
    shown = warnings_table([Problem("screening.csv", 2, "hgb", None, "EXCL09 missing")])
    assert shown.frame.to_dict("records") == [
        {"file": "screening.csv", "column": "hgb", "what it costs": "EXCL09 missing"}
    ]


def test_lines_are_paragraphs_that_do_not_break_words():
    """Sentences are paragraphs (printed text breaks inside words); none is nothing."""
    from studylib.tables import lines

    assert lines([]) is None
    shown = lines(["Patient P001: eligible", "All criteria pass."])
    assert shown._repr_html_().count("<p ") == 2 and "word-break:normal" in shown._repr_html_()
    assert repr(shown) == "Patient P001: eligible\nAll criteria pass."
