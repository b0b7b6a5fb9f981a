"""Day arithmetic for the generator: dates as whole days since 1970-01-01, times as minutes.

Whole numbers keep the generator vectorised (numpy arrays of a cohort's dates) and exact;
:func:`format_dates` and :func:`format_datetimes` write them as ISO 8601 text. ``-1`` marks a
date that does not exist (a scan not done, a dose held). The protocol's date rules themselves
live in :mod:`studylib.calendar_rules`; :func:`days_of` brings its dates back to day numbers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pint

__all__ = [
    "NONE",
    "MINUTES_PER_DAY",
    "day_number",
    "days_of",
    "minutes",
    "to_workday",
    "format_dates",
    "format_datetimes",
]

NONE = -1
MINUTES_PER_DAY = 24 * 60
_EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    """Whole days from 1970-01-01 to ``date``."""
    return (date - _EPOCH).days


def days_of(dates) -> np.ndarray:
    """Day numbers of dates (``datetime64`` values, or a Series of them)."""
    return np.asarray(dates).astype("datetime64[D]").astype(np.int64)


def minutes(duration: pint.Quantity) -> int:
    """A protocol duration (``"8 h"``) in whole minutes."""
    return int(round(duration.to("minute").magnitude))


def to_workday(day: np.ndarray, *, forward: bool) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday (``forward``) or the previous Friday."""
    day = np.asarray(day)
    wd = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    if forward:
        return np.where(wd >= 5, day + (7 - wd), day)
    return np.where(wd >= 5, day - (wd - 4), day)


def format_dates(day: np.ndarray) -> np.ndarray:
    """ISO 8601 dates (``2012-03-16``); empty text where the day is :data:`NONE`."""
    day = np.asarray(day, dtype=np.int64)
    text = np.datetime_as_string(day.astype("datetime64[D]"), unit="D")
    return np.where(day == NONE, "", text)


def format_datetimes(minute: np.ndarray) -> np.ndarray:
    """ISO 8601 date and time to the minute (``2012-03-19T08:00``); empty where :data:`NONE`."""
    minute = np.asarray(minute, dtype=np.int64)
    text = np.datetime_as_string(minute.astype("datetime64[m]"), unit="m")
    return np.where(minute == NONE, "", text)
