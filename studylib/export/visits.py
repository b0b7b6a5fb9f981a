"""Each scan's visit (``VISIT``, ``VISITNUM``) from the protocol's assessment timepoints.

- A patient's first scan, on or before the reference day (the first IL-2 dose,
  ``[assessments].reference``; a patient never dosed has none), is ``BASELINE``, visit 0.
- A scan from the planned day of a timepoint (``week`` weeks after the reference) up to the
  end of its window (``[assessments].window`` later, the protocol's reading) is that
  timepoint's visit, named in capitals (``WEEK 7``) and numbered by its week; a second scan in
  the same window is unscheduled.
- Any other scan is unscheduled and numbered after the visit before it, in tenths
  (``UNSCHEDULED 7.1``, ``7.2``; in hundredths when more than nine follow one visit), the
  SDTMIG convention: every scan date of a patient gets its own visit.

>>> from studylib.protocol import load_protocol
>>> scans = pd.DataFrame({"patient_id": "P1", "date": pd.to_datetime(
...     ["2024-01-02", "2024-02-28", "2024-03-20", "2024-04-16"])})
>>> out = scan_visits(scans, pd.Series({"P1": pd.Timestamp("2024-01-08")}), load_protocol())
>>> out[["visit", "visitnum"]].values.tolist()
[['BASELINE', 0.0], ['WEEK 7', 7.0], ['UNSCHEDULED 7.1', 7.1], ['WEEK 14', 14.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.wording import whole_days

__all__ = ["BASELINE", "UNSCHEDULED", "scan_visits"]

BASELINE = "BASELINE"
UNSCHEDULED = "UNSCHEDULED"


def scan_visits(scans: pd.DataFrame, references: pd.Series, protocol) -> pd.DataFrame:
    """The visit of every scan date of every patient.

    Parameters
    ----------
    scans
        ``patient_id`` and ``date`` (repeated rows are read once).
    references
        The reference day of each patient (first IL-2 dose), indexed by ``patient_id``;
        a patient missing from it has only a baseline and unscheduled scans.
    protocol
        The trial's protocol: ``[[assessments.timepoints]]`` and ``[assessments].window``.

    Returns
    -------
    DataFrame
        ``patient_id``, ``date``, ``visit``, ``visitnum``; one row per patient and date, sorted.
    """
    out = (
        scans[["patient_id", "date"]]
        .assign(date=lambda f: pd.to_datetime(f["date"]).dt.normalize())
        .drop_duplicates()
        .sort_values(["patient_id", "date"])
        .reset_index(drop=True)
    )
    reference = out["patient_id"].map(pd.to_datetime(references).dt.normalize())
    first = out.groupby("patient_id")["date"].transform("min")
    baseline = (out["date"] == first) & (reference.isna() | (out["date"] <= reference))
    window = pd.Timedelta(days=whole_days(protocol.assessments.window))
    visit = pd.Series(np.where(baseline, BASELINE, None), index=out.index, dtype=object)
    number = pd.Series(np.where(baseline, 0.0, np.nan), index=out.index)
    for timepoint in protocol.assessments.timepoints:
        planned = reference + pd.Timedelta(weeks=timepoint.week)
        inside = visit.isna() & (out["date"] >= planned) & (out["date"] <= planned + window)
        # the first scan in the window is the visit; a repeat scan is unscheduled
        first_inside = inside & ~inside.groupby(out["patient_id"]).cumsum().gt(1)
        visit[first_inside] = timepoint.name.upper()
        number[first_inside] = float(timepoint.week)
    scheduled = number.notna()
    # Unscheduled scans take the number of the visit before them plus tenths (or hundredths).
    before = number.groupby(out["patient_id"]).ffill().fillna(0.0)
    gap = scheduled.groupby(out["patient_id"]).cumsum()
    order = (~scheduled).groupby([out["patient_id"], gap]).cumsum()
    most = order.groupby([out["patient_id"], gap]).transform("max")
    step = np.where(most > 9, 0.01, 0.1)
    unscheduled_number = (before + order * step).round(2)
    number = number.where(scheduled, unscheduled_number)
    label = unscheduled_number.map(lambda n: f"{UNSCHEDULED} {n:g}")
    out["visit"] = visit.where(scheduled, label)
    out["visitnum"] = number.astype(float)
    return out
