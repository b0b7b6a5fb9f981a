"""Each column of a trial CSV file checked and converted to its type, strictly.

Yes/no columns become nullable booleans, numbers and dates their pandas types, and quantity
columns keep the text the site wrote (after checking that it reads with a unit of the right
dimension). Nothing is guessed: a number is written in digits with a decimal point (``1e0``,
``0,5`` and ``inf`` are refused), a date is ISO 8601 with two-digit month and day
(``2011-9-6`` is refused), and a date-time column holds either UTC offsets on every time or on
none.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from studylib.dictionary import Column, Table
from studylib.plausibility import date_range
from studylib.protocol import Protocol
from studylib.units import parse_quantities, unit_label
from studylib.vocabulary import YES_NO_EXPECTED, yes_no_series

__all__ = ["ColumnChecker", "ID_PATTERN", "strip"]

#: Ids become folder names in batch outputs, so the pattern is also a safety rule.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

_WHOLE = re.compile(r"[-+]?\d+(?:\.0*)?")
_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_UTC_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"

# An example of each unit a quantity column is compared in, as a site writes it.
_EXAMPLES = {
    "G_per_L": "4.1 x10^9/L",
    "g/dL": "13.2 g/dL",
    "U/L": "32 U/L",
    "mg/dL": "0.9 mg/dL",
    "kg": "72 kg",
    "cm": "3.2 cm",
    "bpm": "96 bpm",
    "mmHg": "118 mmHg",
    "percent": "96 %",
    "mL": "420 mL",
    "h": "0 h",
    "mmol/L": "24 mmol/L",
}

#: ``report(mask, column, expected, shown)``: one problem per row in ``mask``.
Report = Callable[..., None]


def _matches(values: pd.Series, pattern: re.Pattern[str]) -> pd.Series:
    """Whether each text matches ``pattern`` whole, tried once per distinct text."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    found = [isinstance(text, str) and pattern.fullmatch(text) is not None for text in uniques]
    return pd.Series(pd.array(found, dtype=bool).take(codes), index=values.index, dtype=bool)


def strip(values: pd.Series) -> pd.Series:
    """Strip surrounding spaces, once per distinct value (columns repeat values heavily)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    stripped = pd.Index(uniques, dtype=object).str.strip()
    return pd.Series(stripped.take(codes), index=values.index, dtype=object)


class ColumnChecker:
    """Converts the columns of one table, reporting each bad value through ``report``."""

    def __init__(self, table: Table, lines: list[int], report: Report, protocol: Protocol):
        self.table = table
        self.lines = lines
        self.report = report
        self.protocol = protocol

    def convert(self, column: Column, values: pd.Series) -> pd.Series:
        raw = strip(values)
        empty = raw == ""
        if column.required:
            self.report(empty, column.name, "a value is required here")
        kind = column.kind
        if kind in ("id", "text"):
            if kind == "id":
                self.report(
                    ~empty & ~raw.str.match(ID_PATTERN),
                    column.name,
                    "an id of letters, digits, '-' or '_' (at most 64 characters)",
                )
            return raw.where(~empty, pd.NA).astype("string")
        if kind in ("choice", "arm"):
            allowed = self.protocol.arm_codes if kind == "arm" else column.allowed
            self.report(~empty & ~raw.isin(allowed), column.name, "one of " + ", ".join(allowed))
            return raw.where(~empty, pd.NA).astype("string")
        if kind == "yes_no":
            result, bad = yes_no_series(raw)
            self.report(bad, column.name, YES_NO_EXPECTED)
            return result
        if kind in ("integer", "number"):
            return self._numbers(column, raw, empty)
        if kind == "date":
            return self._dates(column, raw, empty)
        if kind == "datetime":
            return self._datetimes(column, raw, empty)
        if kind == "quantity":
            self._quantities(column, raw, empty)
            return raw.where(~empty, pd.NA).astype("string")
        raise AssertionError(f"unknown column kind {kind!r} in the data dictionary")

    def _numbers(self, column: Column, raw: pd.Series, empty: pd.Series) -> pd.Series:
        whole = column.kind == "integer"
        pattern = _WHOLE if whole else _DECIMAL
        written = ~empty & _matches(raw, pattern)
        bad = ~empty & ~written
        comma = bad & _matches(raw, _DECIMAL_COMMA)
        expected = (
            "a whole number written in digits, such as 2"
            if whole
            else "a number written in digits with a decimal point, such as 85.5"
        )
        self.report(bad & ~comma, column.name, expected)
        hint = raw.where(comma, "").str.replace(",", ".", regex=False)
        self.report(comma, column.name, expected + "; write " + hint + " if it is a decimal comma")
        numbers = raw.where(written).astype(float)
        in_range = pd.Series(True, index=raw.index)
        if column.minimum is not None:
            in_range &= ~(numbers < column.minimum)
        if column.maximum is not None:
            in_range &= ~(numbers > column.maximum)
        if column.maximum is not None:
            span = f"a value from {column.minimum:g} to {column.maximum:g}"
        else:
            span = f"a value of {column.minimum:g} or more"
        self.report(written & ~in_range, column.name, span)
        valid = numbers.where(written & in_range)
        return valid.astype("Int64" if whole else "Float64")

    def _dates(self, column: Column, raw: pd.Series, empty: pd.Series) -> pd.Series:
        iso = ~empty & _matches(raw, _ISO_DATE)
        with_time = ~empty & ~iso & _matches(raw, _ISO_DATETIME)
        self.report(
            with_time,
            column.name,
            "a date without a time or time zone, such as 2024-03-04 (this column holds dates)",
        )
        self.report(
            ~empty & ~iso & ~with_time,
            column.name,
            "an ISO 8601 date (year-month-day, two-digit month and day), such as 2024-03-04",
        )
        parsed = pd.to_datetime(raw.where(iso), format="%Y-%m-%d", errors="coerce")
        self._unheld(column, raw, iso & parsed.isna(), date.fromisoformat)
        return parsed

    def _datetimes(self, column: Column, raw: pd.Series, empty: pd.Series) -> pd.Series:
        """ISO 8601 date-times; a column is written either with UTC offsets or without.

        A time without an offset among times with one (or the reverse) could be in any time
        zone, so it is reported rather than assumed to be local or UTC. Times with different
        offsets (summer and winter time) keep each its own offset.
        """
        name = column.name
        iso = ~empty & _matches(raw, _ISO_DATETIME)
        self.report(
            ~empty & ~iso,
            name,
            "an ISO 8601 date and time, such as 2024-03-04T08:00 (or 2024-03-04T08:00-08:00)",
        )
        raw, empty = raw.where(iso, ""), ~iso
        zoned = raw.str.contains(_UTC_OFFSET, regex=True) & iso
        if zoned.any() and (~zoned & iso).any():
            first = raw[iso].index[0]
            style = "with" if zoned[first] else "without"
            odd = iso & (zoned != zoned[first])
            self.report(
                odd,
                name,
                f"a date and time {style} a UTC offset, as on line {self.lines[first]}"
                f" ({raw[first]!r}): a column mixing both leaves the time zone unknown",
            )
            raw, empty = raw.where(~odd, ""), empty | odd
        values = raw.where(~empty)
        offsets = set(raw[~empty].str.extract(f"({_UTC_OFFSET})", expand=False).dropna())
        if len(offsets) > 1:
            parsed = values.map(_timestamp, na_action="ignore").astype(object)
            parsed = parsed.where(parsed.notna(), pd.NaT)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
        self._unheld(column, raw, ~empty & parsed.isna(), datetime.fromisoformat)
        return parsed

    def _unheld(self, column: Column, raw: pd.Series, failed: pd.Series, read) -> None:
        """Dates written correctly that did not convert: not a calendar date (2011-02-30), or
        a date beyond what pandas holds (years before 1677 or after 2262)."""
        if not failed.any():
            return
        real = pd.Series(False, index=raw.index)
        for index in failed[failed].index:
            try:
                read(raw[index])
                real[index] = True
            except ValueError:
                pass
        self.report(
            failed & ~real,
            column.name,
            "a date of the calendar (month 01-12, a day the month has), such as 2024-03-04",
        )
        self.report(failed & real, column.name, date_range(self.protocol, future=column.future))

    def _quantities(self, column: Column, raw: pd.Series, empty: pd.Series) -> None:
        parsed = parse_quantities(raw.where(~empty, ""), column.unit or None)
        reason = parsed["error"].str.replace(r"^'.*?': ", "", regex=True)
        if column.unit:
            example = _EXAMPLES.get(column.unit, f"1 {unit_label(column.unit)}")
            expected = (
                f"a number with a unit convertible to {unit_label(column.unit)}, such as"
                f" '{example}'; " + reason
            )
        else:
            expected = "a number with its unit; " + reason
        self.report(parsed["error"] != "", column.name, expected)


def _timestamp(text: str):
    """One date-time with its own UTC offset, or NaT when it cannot be held."""
    try:
        return pd.Timestamp(datetime.fromisoformat(text))
    except ValueError:
        return pd.NaT
