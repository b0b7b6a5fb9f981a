"""How screening reasons show numbers, units, dates and comparisons.

Durations, counts and lists are worded by :mod:`studylib.wording`, as everywhere else.

A reason must let a coordinator check the verdict by eye: the value compared, in the unit of
the protocol's threshold, the threshold itself, and what the laboratory wrote when it used
another unit. Comparisons are exactly as printed in the registry ("< 3.0" fails below 3.0),
with a tolerance of a billionth so that a conversion such as 3,000/µL -> 2.9999999999
x10^9/L still meets the limit it equals ([eligibility].reading_comparisons).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pint

from studylib.units import unit_label

__all__ = [
    "number",
    "amount",
    "threshold",
    "date_text",
    "datetime_text",
    "is_below",
    "below",
    "above",
]

_TOLERANCE = 1e-9


def _sig(value: float, digits: int, decimal: bool = True) -> str:
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        text = f"{value:,.0f}"
    if decimal and "." not in text and abs(value) < 10:
        text += ".0"
    if abs(value) >= 1000 and "." not in text and "," not in text:
        text = f"{value:,.0f}"
    return text


def number(value: float, against: float | None = None, decimal: bool = True) -> str:
    """A magnitude rounded for reading (``2.9``, ``3.0``, ``170``, ``2,900``).

    With ``against`` (the threshold it is compared with), digits are added until a value that
    differs from the threshold does not print as the threshold: never "3.0 is below 3.0".
    ``decimal`` keeps one decimal on whole numbers below 10, as laboratories print them
    ("3.0"); sizes and percentages are written without it ("7 cm").
    """
    value = float(value)
    text = _sig(value, 3, decimal)
    if against is None or math.isclose(value, against, rel_tol=_TOLERANCE):
        return text
    for digits in range(3, 10):
        text = _sig(value, digits, decimal)
        if text != _sig(float(against), digits, decimal):
            return text
    return repr(value)


def amount(
    value: float, unit: str | pint.Unit, against: float | None = None, decimal: bool = True
) -> str:
    """A magnitude with its unit: ``"2.9 x10^9/L"``, ``"65%"``, ``"7 cm"``."""
    label = unit_label(unit)
    joiner = "" if label == "%" else " "
    return f"{number(value, against, decimal)}{joiner}{label}"


def threshold(quantity: pint.Quantity, decimal: bool = True) -> str:
    """A protocol threshold as people write it: ``"3.0 x10^9/L"``, ``"1.9 mg/dL"``, ``"7 cm"``."""
    return amount(float(quantity.magnitude), quantity.units, decimal=decimal)


def date_text(value: pd.Timestamp) -> str:
    """``"2024-03-04"``."""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def datetime_text(value: pd.Timestamp) -> str:
    """``"2024-03-04 08:00"`` (with the time zone when one was given)."""
    stamp = pd.Timestamp(value)
    zone = f" {stamp.tzname()}" if stamp.tzinfo is not None else ""
    return stamp.strftime("%Y-%m-%d %H:%M") + zone


def _known(values: pd.Series) -> np.ndarray:
    return values.notna().to_numpy(dtype=bool)


def is_below(value: float, limit: float) -> bool:
    """One value strictly below ``limit`` (equal, within 1e-9, is not)."""
    return value < limit and not math.isclose(value, limit, rel_tol=_TOLERANCE)


def below(values: pd.Series, limit: float) -> pd.Series:
    """True where a known value is strictly below ``limit`` (equal, within 1e-9, is not)."""
    numbers = values.astype("float64").to_numpy()
    known = _known(values)
    with np.errstate(invalid="ignore"):
        result = known & (numbers < limit) & ~np.isclose(numbers, limit, rtol=_TOLERANCE, atol=0)
    return pd.Series(result, index=values.index)


def above(values: pd.Series, limit: float) -> pd.Series:
    """True where a known value is strictly above ``limit`` (equal, within 1e-9, is not)."""
    numbers = values.astype("float64").to_numpy()
    known = _known(values)
    with np.errstate(invalid="ignore"):
        result = known & (numbers > limit) & ~np.isclose(numbers, limit, rtol=_TOLERANCE, atol=0)
    return pd.Series(result, index=values.index)
