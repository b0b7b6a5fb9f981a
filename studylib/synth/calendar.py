"""Day arithmetic for the generator: dates as whole days since 1970-01-01, times as minutes.

Whole numbers keep the generator vectorised (numpy arrays of a cohort's dates) and exact;
:func:`format_dates` and :func:`format_datetimes` write them as ISO 8601 text. ``-1`` marks a
date that does not exist (a scan not done, a dose held).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pint

from studylib.protocol import WEEKDAYS

__all__ = [
    "NONE",
    "MINUTES_PER_DAY",
    "day_number",
    "days",
    "minutes",
    "weekday",
    "weekday_index",
    "on_or_after",
    "days_before",
    "to_workday",
    "format_dates",
    "format_datetimes",
]

NONE = -1
MINUTES_PER_DAY = 24 * 60
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_WEEKDAY = _EPOCH.weekday()  # Monday = 0, as in WEEKDAYS


def day_number(date: dt.date) -> int:
    """Whole days from 1970-01-01 to ``date``."""
    return (date - _EPOCH).days


def days(duration: pint.Quantity) -> int:
    """A protocol duration (``"14 day"``, ``"7 week"``) in whole days."""
    return int(round(duration.to("day").magnitude))


def minutes(duration: pint.Quantity) -> int:
    """A protocol duration (``"8 h"``) in whole minutes."""
    return int(round(duration.to("minute").magnitude))


def weekday_index(name: str) -> int:
    """Monday = 0 ... Sunday = 6, from the weekday's name as the protocol writes it."""
    return WEEKDAYS.index(name)


def weekday(day: np.ndarray) -> np.ndarray:
    """The weekday (Monday = 0) of each day number."""
    return (np.asarray(day) + _EPOCH_WEEKDAY) % 7


def on_or_after(day: np.ndarray, weekday_name: str) -> np.ndarray:
    """The first ``weekday_name`` on or after each day."""
    day = np.asarray(day)
    return day + (weekday_index(weekday_name) - weekday(day)) % 7


def days_before(weekday_name: str, start_weekday: str) -> int:
    """How many days the last ``weekday_name`` before a ``start_weekday`` lies before it.

    The Friday before a Monday is 3 days before it, the Wednesday 5 days.
    """
    gap = (weekday_index(start_weekday) - weekday_index(weekday_name)) % 7
    return gap or 7


def to_workday(day: np.ndarray, *, forward: bool) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday (``forward``) or the previous Friday."""
    day = np.asarray(day)
    wd = weekday(day)
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
