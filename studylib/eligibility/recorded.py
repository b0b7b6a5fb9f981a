"""A screening record as entered and as the engine read it, field by field, with units.

Shown to the coordinator beside the checklist, so that a verdict can be traced to the value
behind it: ``2600/uL`` recorded, ``2.6 x10^9/L`` compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES
from studylib.eligibility import text
from studylib.eligibility.values import (
    FIELDS,
    LAB_FIELDS,
    PFT_FIELDS,
    YES_NO_FIELDS,
    field_meaning,
    is_blank,
    lab_thresholds,
    lab_unit,
)
from studylib.protocol import Protocol

__all__ = ["record_table"]


def _asked(field: str, protocol: Protocol) -> bool:
    """Whether the protocol asks for ``field``: one no criterion needs always, one criteria
    need when a criterion of this protocol reads it."""
    column = TABLES["screening"].column(field)
    return not column.needed_by or bool(column.read_by(protocol))


_DATES = ("screening_date", "birth_date")
_DATETIMES = ("pregnancy_test_at", "planned_start_at")


def _as_entered(field: str, value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return text.date_text(value) if field in _DATES else text.datetime_text(value)
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value).strip()


def _as_read(field: str, typed: pd.Series, protocol: Protocol) -> str:
    value = typed[field]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if field in YES_NO_FIELDS:
        return "yes" if value else "no"
    if field in _DATES:
        return text.date_text(value)
    if field in _DATETIMES:
        return text.datetime_text(value) + (" UTC" if typed[f"{field}_utc"] else "")
    if field in PFT_FIELDS:
        return f"{text.amount(value, '%', decimal=False)} of predicted"
    if field in LAB_FIELDS:
        # Printed against its threshold, as in the criteria's reasons: 168 µmol/L of
        # creatinine reads "1.9004 mg/dL", not "1.9 mg/dL" beside a failed "> 1.9 mg/dL".
        unit = lab_unit(field, protocol)
        limit = lab_thresholds(protocol).get(field)
        return text.amount(value, unit, None if limit is None else limit.to(unit).magnitude)
    return str(value)


def record_table(record: dict[str, object], typed: pd.Series, protocol: Protocol) -> pd.DataFrame:
    """Each field of a screening record: ``field``, ``meaning``, ``entered``, ``read_as``.

    ``entered`` is the value as written (empty when missing); ``read_as`` is what the
    criteria compared, in the unit of the protocol's threshold, or ``missing``. A field only
    other protocols' criteria read (NCT02306954's subtype and agreements) is left out when the
    record does not give it.
    """
    fields = [
        f
        for f in FIELDS
        if f != "patient_id" and (_asked(f, protocol) or not is_blank(record.get(f)))
    ]
    return pd.DataFrame(
        {
            "field": fields,
            "meaning": [field_meaning(f) for f in fields],
            "entered": [_as_entered(f, record.get(f)) for f in fields],
            "read_as": [_as_read(f, typed, protocol) for f in fields],
        }
    )
