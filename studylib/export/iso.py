"""ISO 8601 text for SDTM ``--DTC`` variables, from the loader's dates and date-times.

A date-time is written to the minute, with seconds only when recorded, and with its UTC offset
when the trial folder gave one (SDTMIG 3.4 section 4.4: ISO 8601 extended format).

>>> iso_date(pd.Series([pd.Timestamp("2011-09-16 10:23"), pd.NaT])).tolist()
['2011-09-16', None]
>>> iso_datetime(pd.Series([pd.Timestamp("2011-09-16 10:23"),
...                         pd.Timestamp("2011-09-16 10:23:05")])).tolist()
['2011-09-16T10:23', '2011-09-16T10:23:05']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["iso_date", "iso_datetime"]


def iso_date(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` of each date or date-time (its own calendar day); ``None`` when missing."""
    return values.map(lambda v: None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d"))


def _stamp(value) -> str | None:
    if pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    exact = stamp.second or stamp.microsecond
    return stamp.isoformat(timespec="seconds" if exact else "minutes")


def iso_datetime(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DDThh:mm`` (``:ss`` when recorded, ``+hh:mm`` when zoned); ``None`` when
    missing."""
    return values.map(_stamp)
