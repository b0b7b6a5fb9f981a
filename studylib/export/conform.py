"""Every value checked against its variable's type and length before anything is written.

SAS transport version 5 holds ASCII text of at most 200 characters and 8-byte numbers; the
metadata table declares each variable's type and length (:mod:`.metadata`). A value that does
not fit is an error naming the dataset, the variable, the subject and the value, never a
silent truncation or conversion; problems are collected over the whole dataset and reported
together (:class:`studylib.errors.DataError`).

Conformed frames hold text as Python ``str`` (``None`` when missing), integers as ``Int64``,
floats as ``float64`` and numeric dates as ``datetime64`` days; ISO 8601 dates stay text.

>>> from studylib.export.metadata import dataset
>>> frame = pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["PR"], "USUBJID": ["S-1"],
...     "PRSEQ": [1], "PRLNKID": ["T01"], "PRTRT": ["SBRT"], "PRLOC": ["LUNG"],
...     "PRSTDTC": ["2012-03-16"]})
>>> conform(frame, dataset("PR"))["PRSEQ"].dtype
Int64Dtype()
>>> conform(frame.assign(PRLOC="L" * 101), dataset("PR"))
Traceback (most recent call last):
...
studylib.errors.DataError: 1 problem in the PR dataset:
  - PR, column 'PRLOC': 'LLLLLLLLLLLLLLLLLLLL...': at most 100 characters, got 101 (patient S-1)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from studylib.errors import DataError, Problem
from studylib.export.metadata import Dataset, Variable

__all__ = ["conform"]

_ISO = {
    "date": re.compile(r"\d{4}(-\d{2}(-\d{2})?)?"),
    "datetime": re.compile(
        r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?"
    ),
}
_SHOWN = 20


def _shown(value) -> str:
    text = str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _check(value, variable: Variable) -> str | None:
    """What is wrong with one present value, or ``None`` when it fits."""
    if variable.type == "string" or variable.iso_text:
        if not isinstance(value, str):
            return f"text, got {type(value).__name__}"
        if not value.isascii():
            return "ASCII text (SAS transport version 5 holds no other characters)"
        if len(value) > variable.length:
            return f"at most {variable.length} characters, got {len(value)}"
        if variable.iso_text and not _ISO[variable.type].fullmatch(value):
            return f"an ISO 8601 {variable.type}"
        return None
    if variable.format:  # a numeric date
        if not isinstance(value, pd.Timestamp | np.datetime64):
            return f"a date, got {type(value).__name__}"
        if pd.Timestamp(value) != pd.Timestamp(value).normalize():
            return "a date without a time of day"
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return f"a number, got {type(value).__name__}"
    if not np.isfinite(value):
        return "a finite number"
    if variable.type == "integer" and float(value) != int(value):
        return "a whole number"
    return None


def _typed(values: pd.Series, variable: Variable) -> pd.Series:
    if variable.type == "string" or variable.iso_text:
        return values.astype(object).where(values.notna(), None)
    if variable.format:
        return pd.to_datetime(values).astype("datetime64[ns]")
    if variable.type == "integer":
        return values.astype("Int64")
    return values.astype("float64")


def conform(frame: pd.DataFrame, meta: Dataset) -> pd.DataFrame:
    """The dataset with exactly the metadata's variables, in order, each value checked.

    Raises
    ------
    DataError
        Listing every value that does not fit its variable (dataset, variable, value, what
        was expected, subject); a variable seen several times with one problem is listed
        once, with the number of records and the first subject.
    ValueError
        When the frame's columns are not the metadata's (a builder's mistake).
    """
    if list(frame.columns) != meta.names:
        missing = [n for n in meta.names if n not in frame.columns]
        extra = [c for c in frame.columns if c not in meta.names]
        raise ValueError(
            f"{meta.name}: columns differ from the metadata (missing {missing}, not in the "
            f"metadata {extra}, or out of order)"
        )
    frame = frame.reset_index(drop=True)
    subjects = frame["USUBJID"] if "USUBJID" in frame.columns else pd.Series(None, frame.index)
    problems: list[Problem] = []
    out = {}
    for variable in meta.variables:
        values = frame[variable.name]
        found: dict[str, list] = {}
        for index, value in values.items():
            if _missing(value):
                continue
            wrong = _check(value, variable)
            if wrong:
                found.setdefault(wrong, []).append((index, value))
        for wrong, hits in found.items():
            index, value = hits[0]
            more = f" ({len(hits)} records, the first shown)" if len(hits) > 1 else ""
            problems.append(
                Problem(
                    meta.name,
                    None,
                    variable.name,
                    _shown(value),
                    f"{wrong}{more}",
                    subjects.get(index),
                )
            )
        if not found:
            out[variable.name] = _typed(values, variable)
    if problems:
        raise DataError(problems, context=f"the {meta.name} dataset")
    return pd.DataFrame(out, index=frame.index)
