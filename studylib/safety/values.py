"""How the safety engine shows and compares clinical values: one way for grades and decisions.

>>> from studylib.units import parse_quantity
>>> show(parse_quantity("75000/uL").to("G_per_L"))
'75 x10^9/L'
>>> beyond(2.5, 2.5, "increased", inclusive=True), beyond(2.5, 2.5, "increased", inclusive=False)
(True, False)
"""

from __future__ import annotations

import math

import numpy as np
import pint

from studylib.units import format_quantity, parse_quantity

__all__ = ["show", "as_written", "equal", "beyond", "beyond_array"]

# Magnitudes converted between units differ from a printed limit by rounding only (95 g/L is
# 9.5 g/dL to 1e-15): a value equal to a limit within this tolerance is equal to it.
_REL_TOL = 1e-9


def show(quantity: pint.Quantity) -> str:
    """``"75 x10^9/L"``, ``"2.1 mg/dL"``, ``"110 bpm"``: a value as clinicians write it, to the
    four significant digits a laboratory reports."""
    return format_quantity(quantity, 4)


def as_written(text: object, quantity: pint.Quantity) -> str:
    """The value as written, and in the unit it is judged in when that is another unit:
    ``"176 µmol/L (1.991 mg/dL)"``, ``"2.1 mg/dL"``."""
    if not isinstance(text, str):
        return show(quantity)
    if parse_quantity(text).units == quantity.units:
        return text.strip()
    return f"{text.strip()} ({show(quantity)})"


def equal(a: float, b: float) -> bool:
    """Whether two magnitudes are the same value, up to unit-conversion rounding."""
    return math.isclose(a, b, rel_tol=_REL_TOL)


def beyond(a: float, b: float, direction: str, *, inclusive: bool) -> bool:
    """``a > b`` (direction ``"increased"``) or ``a < b`` (``"decreased"``); a value equal to
    the limit counts only when ``inclusive``."""
    if equal(a, b):
        return inclusive
    return a > b if direction == "increased" else a < b


def beyond_array(
    values: np.ndarray, limit: float, direction: str, *, inclusive: bool
) -> np.ndarray:
    """:func:`beyond` for an array of values against one limit (NaN is never beyond)."""
    same = np.isclose(values, limit, rtol=_REL_TOL, atol=0.0)
    past = values > limit if direction == "increased" else values < limit
    return np.where(same, inclusive, past) & ~np.isnan(values)
