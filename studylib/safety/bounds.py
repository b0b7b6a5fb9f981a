"""Where each dose criterion is met, in numbers: for making examples that meet it or not.

The synthetic cohort records observations that hold, stop or let a dose through, and the tour
shows a nurse such observations; both take the values from the protocol's ``[safety]``
criteria through this module, so that an example follows the protocol it is made for. The
typical values and resolutions below are not rules: they say where a healthy patient's value
lies (the side of every bound a dose given stays on) and how finely a ward writes it.

>>> from studylib.protocol import load_protocol
>>> safety = load_protocol().safety
>>> c = safety.criterion("REL-HR")
>>> met_interval(c, "heart_rate")
(100.0, 130.0)
>>> healthy_range(safety.criteria, "heart_rate")
(-inf, 98.0)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from studylib.protocol import SafetyCriterion
from studylib.units import convert

__all__ = ["TYPICAL", "met_interval", "healthy_range", "inside", "edge"]

#: Observations an example can set: the unit it is drawn in, a healthy value, and the
#: resolution a ward writes it to (a drawn value keeps two resolutions off a bound, so that
#: rounding never crosses it). Weight is a change from the baseline weight, in percent.
TYPICAL = {
    "heart_rate": ("1/min", 80.0, 1.0),
    "systolic_bp": ("mmHg", 120.0, 1.0),
    "o2_saturation": ("percent", 97.0, 1.0),
    "urine_output_8h": ("mL", 600.0, 5.0),
    "weight": ("percent", 0.0, 0.4),
    "mental_status_change": ("", 0.0, 0.0),
    "creatinine": ("mg/dL", 1.0, 0.04),
    "platelets": ("G_per_L", 250.0, 1.5),
    "bilirubin": ("mg/dL", 0.6, 0.15),
    "bicarbonate": ("mmol/L", 25.0, 1.5),
}

_ANALYTES = ("creatinine", "bilirubin")


def met_interval(c: SafetyCriterion, key: str) -> tuple[float, float]:
    """The values of observation ``key`` (in its :data:`TYPICAL` unit) where criterion ``c``
    is met, as ``(low, high)``; an open side is infinite."""
    unit = TYPICAL[key][0]
    low, high = -np.inf, np.inf
    for name, bound in c.bounds.items():
        value = float(convert(bound, unit, key if key in _ANALYTES else None).magnitude)
        if name in ("at_least", "above"):
            low = value
        else:
            high = value
    return low, high


def healthy_range(criteria: Iterable[SafetyCriterion], key: str) -> tuple[float, float]:
    """The interval around the healthy value of ``key`` where no criterion is met, kept two
    resolutions off each bound."""
    _, healthy, step = TYPICAL[key]
    low, high = -np.inf, np.inf
    for c in criteria:
        if c.observation != key or c.when is not None:
            continue
        a, b = met_interval(c, key)
        if b <= healthy:
            low = max(low, b)
        elif a >= healthy:
            high = min(high, a)
    return low + 2 * step, high - 2 * step


def inside(c: SafetyCriterion, key: str, where: float | np.ndarray = 0.5):
    """A value of ``key`` that meets criterion ``c``: ``where`` (0 to 1) places it between
    the criterion's bounds, two resolutions off each; an open side reaches 15% (above) or 10%
    (below) past the bound."""
    _, _, step = TYPICAL[key]
    if c.when is not None:
        return 1.0 if c.when else 0.0
    a, b = met_interval(c, key)
    if np.isinf(b):
        b = a * 1.15 + 6 * step
    if np.isinf(a):
        a = max(b - max(0.1 * b, 8 * step), 0.0)
    return a + 2 * step + np.asarray(where) * (b - a - 4 * step)


def edge(criteria: Iterable[SafetyCriterion], key: str) -> float:
    """The value of ``key`` nearest a bound on the healthy side that no criterion meets (a
    systolic pressure of exactly 90 mmHg against "below 90 mmHg"): where a nurse must read
    the criterion's words to the letter."""
    _, healthy, step = TYPICAL[key]
    best, distance = healthy, np.inf
    criteria = [c for c in criteria if c.observation == key and c.when is None]
    for c in criteria:
        for name, bound in c.bounds.items():
            unit = TYPICAL[key][0]
            value = float(convert(bound, unit, key if key in _ANALYTES else None).magnitude)
            candidate = (
                value
                if name in ("above", "below")
                else (value - step if name == "at_least" else value + step)
            )
            met = any(_meets(other, key, candidate) for other in criteria)
            if not met and abs(candidate - healthy) < distance:
                best, distance = candidate, abs(candidate - healthy)
    return best


def _meets(c: SafetyCriterion, key: str, value: float) -> bool:
    a, b = met_interval(c, key)
    names = c.bounds
    low_ok = value > a or ("at_least" in names and value == a) if np.isfinite(a) else True
    high_ok = value < b or ("at_most" in names and value == b) if np.isfinite(b) else True
    return bool(low_ok and high_ok)
