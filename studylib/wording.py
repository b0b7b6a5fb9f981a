"""One way to word a rule for people: durations, counts, dates and enrollment ranges.

Every report, widget, figure label and calendar note that puts a protocol number into words
uses these phrases, so that "14 days", "1-20" and "Mon 2024-03-04" read the same everywhere
and a protocol file's numbers reach the page unchanged.

>>> from studylib.units import Q_
>>> days(Q_(2, "week")), weeks(Q_(49, "day")), hours(Q_(8, "hour"))
('14 days', '7 weeks', '8 hours')
>>> plural(1, "fraction"), plural(2, "fraction")
('1 fraction', '2 fractions')
>>> and_list(["Wednesday", "Friday"]), and_list(["7", "14", "21"])
('Wednesday and Friday', '7, 14 and 21')
>>> or_list(["lung", "liver", "bone"]), plural(2, "focus", "foci")
('lung, liver or bone', '2 foci')
>>> day_label(pd.Timestamp("2024-03-04"))
'Mon 2024-03-04'
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pint

__all__ = [
    "whole_days",
    "whole_hours",
    "days",
    "weeks",
    "hours",
    "years",
    "plural",
    "and_list",
    "or_list",
    "day_label",
    "day_labels",
    "enrollment_range",
    "fraction_group",
    "criteria",
]


def whole_days(quantity: pint.Quantity) -> int:
    """A protocol duration in whole days (``14 day`` -> 14, ``7 week`` -> 49)."""
    return int(round(float(quantity.to("day").magnitude)))


def whole_hours(quantity: pint.Quantity) -> float:
    """A protocol duration in hours, as a float (``8 h`` -> 8.0)."""
    return float(quantity.to("hour").magnitude)


def _number(value: float) -> str:
    return f"{value:g}"


def days(quantity: pint.Quantity) -> str:
    """``"14 days"``, ``"1 day"``."""
    return plural(whole_days(quantity), "day")


def weeks(quantity: pint.Quantity) -> str:
    """``"7 weeks"`` (``"6.5 weeks"`` when not whole)."""
    value = float(quantity.to("week").magnitude)
    shown = _number(round(value, 1))
    return f"{shown} week{'' if shown == '1' else 's'}"


def hours(quantity: pint.Quantity) -> str:
    """``"8 hours"``, ``"72 hours"``."""
    shown = _number(round(whole_hours(quantity), 2))
    return f"{shown} hour{'' if shown == '1' else 's'}"


def years(quantity: pint.Quantity) -> str:
    """``"5 years"`` (``"2.5 years"`` when not whole), e.g. a survival landmark.

    >>> from studylib.units import Q_
    >>> years(Q_(5, "year")), years(Q_(1, "year"))
    ('5 years', '1 year')
    """
    shown = _number(round(float(quantity.to("year").magnitude), 1))
    return f"{shown} year{'' if shown == '1' else 's'}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 fraction"``, ``"2 fractions"``; ``many`` for an irregular plural (``"foci"``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def _joined(items: Iterable[object], conjunction: str) -> str:
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} {words[-1]}"


def and_list(items: Iterable[object]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return _joined(items, "and")


def or_list(items: Iterable[object]) -> str:
    """``"a"``, ``"a or b"``, ``"a, b or c"``: alternatives, as a rule lists them."""
    return _joined(items, "or")


def day_label(date: pd.Timestamp) -> str:
    """``"Mon 2024-03-04"``: the weekday with the date, so a reader checks a rule at a glance."""
    return f"{pd.Timestamp(date):%a %Y-%m-%d}"


def day_labels(dates: pd.Series) -> pd.Series:
    """:func:`day_label` for a column of dates (empty text where missing)."""
    return pd.to_datetime(dates).dt.strftime("%a %Y-%m-%d").fillna("")


def enrollment_range(first: int, last: int | None, *, open_end: str = "on") -> str:
    """``"1-20"``, or ``"21 on"`` for a range without an end (``open_end`` words it).

    >>> enrollment_range(1, 20), enrollment_range(21, None)
    ('1-20', '21 on')
    """
    return f"{first}-{last}" if last is not None else f"{first} {open_end}"


def fraction_group(
    first: int, last: int | None, *, template: str = "enrollment {numbers}", open_end: str = "on"
) -> str:
    """Whom a fractionation rule covers: ``template`` with its enrollment numbers, or
    ``"every patient"`` for a rule from the first patient without an end (one rule for all,
    as in NCT02306954).

    >>> fraction_group(1, 20), fraction_group(21, None), fraction_group(1, None)
    ('enrollment 1-20', 'enrollment 21 on', 'every patient')
    """
    if first == 1 and last is None:
        return "every patient"
    return template.format(numbers=enrollment_range(first, last, open_end=open_end))


def criteria(ruleset: str) -> str:
    """A response ruleset as a reader names it: ``RECIST 1.1`` for ``recist1.1``, else the
    ruleset's name with the word ruleset.

    >>> criteria("recist1.1"), criteria("protocol")
    ('RECIST 1.1', 'protocol ruleset')
    """
    prefix = "recist"
    if ruleset.startswith(prefix):
        return f"RECIST {ruleset[len(prefix) :]}"
    return f"{ruleset} ruleset"
