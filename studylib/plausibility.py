"""Plausibility limits of the protocol file, checked when a trial folder is loaded.

A value outside them is a typing error or a wrong unit, not a patient (``hgb 115 g/dL``,
``wbc 6600 x10^9/L``, a weight of ``0 kg``, an IL-2 dose of ``0 IU``, a scan in 2099, a birth
in 1800). The limits live in the protocol file (``[plausibility]`` and
``[eligibility.plausible_max]``, with units; their ``reading`` says what is checked) and are
read from the protocol the trial folder follows, never from a copy in code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pint

from studylib.dictionary import TABLES
from studylib.protocol import Protocol
from studylib.units import Q_, format_quantity, parse_quantities

__all__ = ["Limit", "limits", "today", "date_range", "check_values", "check_dates"]

# The date it is somewhere on Earth right now (the last time zone to reach midnight is
# UTC+14): a date after it has not happened anywhere yet.
_LATEST_ZONE = timezone(timedelta(hours=14))


def today() -> date:
    """The latest calendar date anywhere on Earth now."""
    return datetime.now(_LATEST_ZONE).date()


#: The treatments of dosing.csv as a report names them.
_TREATMENTS = {"il2": "IL-2", "sbrt": "SBRT"}


@dataclass(frozen=True)
class Limit:
    """The range of one column (for ``dosing.dose``: of the rows of one treatment)."""

    table: str
    column: str
    high: pint.Quantity | None
    source: str
    low: pint.Quantity | None = None
    above_zero: bool = False
    treatment: str = ""

    def expected(self, protocol: Protocol) -> str:
        """What the value should be, and where the limit comes from."""
        if self.low is not None and self.high is not None:
            span = f"from {format_quantity(self.low)} to {format_quantity(self.high)}"
        elif self.high is not None:
            span = f"at most {format_quantity(self.high)}"
            if self.above_zero:
                span = f"more than 0 and {span}"
        else:
            span = "more than 0"
        whose = f" for an {_TREATMENTS[self.treatment]} dose" if self.treatment else ""
        return (
            f"a value {span}{whose} ({self.source} of {protocol.path}); anything else is a"
            " typing error or a wrong unit"
        )


def limits(protocol: Protocol) -> tuple[list[Limit], list[str]]:
    """The protocol's limits by column, and the limits the protocol file does not give.

    Returns
    -------
    (limits, absent)
        ``absent`` names each limit missing from an older protocol file, as
        ``"[plausibility].il2_dose_max"``; the loader warns that it is not checked.
    """
    plaus, top = protocol.plausibility, protocol.eligibility.plausible_max
    found: list[Limit] = []
    absent: list[str] = []

    def maximum(table: str, column: str, key: str, **more) -> None:
        if key in top:
            found.append(
                Limit(table, column, top[key], f"[eligibility.plausible_max].{key}", **more)
            )
        else:
            absent.append(f"[eligibility.plausible_max].{key}")

    for column in TABLES["screening"].columns:
        if column.kind == "quantity" and column.name != "weight":
            uln = column.name.endswith("_uln")
            maximum("screening", column.name, column.name, above_zero=uln)
        elif column.name.startswith("pft_") and column.kind == "number":
            maximum("screening", column.name, "pft")
    found.append(
        Limit(
            "screening",
            "weight",
            plaus.weight_max,
            "[plausibility].weight_min and weight_max",
            low=plaus.weight_min,
        )
    )
    found.append(
        Limit("screening", "ecog", Q_(plaus.ecog_max, "dimensionless"), "[plausibility].ecog_max")
    )
    maximum("sbrt_sites", "longest_diameter", "sbrt_focus", above_zero=True)
    for treatment, key in (("il2", "il2_dose_max"), ("sbrt", "sbrt_dose_max")):
        high = getattr(plaus, key)
        if high is None:
            absent.append(f"[plausibility].{key}")
        found.append(
            Limit(
                "dosing",
                "dose",
                high,
                f"[plausibility].{key}",
                above_zero=True,
                treatment=treatment,
            )
        )
    if plaus.lesion_diameter_max is None:
        absent.append("[plausibility].lesion_diameter_max")
    else:
        found.append(
            Limit(
                "assessments",
                "diameter_mm",
                plaus.lesion_diameter_max,
                "[plausibility].lesion_diameter_max",
            )
        )
    if plaus.earliest_date is None:
        absent.append("[plausibility].earliest_date")
    return found, absent


def date_range(protocol: Protocol, *, future: bool = False) -> str:
    """The dates a column accepts, in words."""
    earliest = protocol.plausibility.earliest_date
    start = f"from {earliest.isoformat()} " if earliest is not None else ""
    end = "" if future else "to today"
    if not start and not end:
        return "a date"
    return f"a date {start}{end}".rstrip() + f" ([plausibility] of {protocol.path})"


def check_values(
    frames: dict[str, pd.DataFrame],
    report: Callable[[str, pd.Series, str, str, pd.Series | None], None],
    protocol: Protocol,
) -> None:
    """Every value against its limit; ``report(table, mask, column, expected, shown)``."""
    for limit in limits(protocol)[0]:
        frame = frames.get(limit.table)
        if frame is None or limit.column not in frame.columns or frame.empty:
            continue
        values = frame[limit.column]
        rows = values.notna()
        if limit.treatment:
            rows &= (frame["treatment"] == limit.treatment).fillna(False).astype(bool)
        if not rows.any():
            continue
        column = TABLES[limit.table].column(limit.column)
        if column.kind == "quantity":
            unit = limit.high.units if limit.high is not None else None
            parsed = parse_quantities(values.where(rows), to=unit, analyte=column.analyte or None)
            magnitude = parsed["magnitude"]
        else:
            unit = column.unit or "dimensionless"
            magnitude = values.astype("Float64").astype(float)
            parsed = None
        high = None if limit.high is None else limit.high.to(unit).magnitude
        low = None if limit.low is None else limit.low.to(unit).magnitude
        outside = pd.Series(False, index=frame.index)
        if high is not None:
            outside |= magnitude > high
        if low is not None:
            outside |= magnitude < low
        if limit.above_zero:
            outside |= magnitude <= 0
        outside &= rows & pd.Series(magnitude, index=frame.index).notna()
        if outside.any():
            shown = None if parsed is None else _converted(values[outside], parsed[outside], unit)
            report(limit.table, outside, limit.column, limit.expected(protocol), shown)


def _converted(values: pd.Series, parsed: pd.DataFrame, unit) -> pd.Series:
    """The value as written, with its value in the limit's unit where it was written in
    another ('9999 umol/L (= 113 mg/dL)')."""
    if unit is None:
        return values
    target = f"{Q_(1, unit).units:~P}"
    written = parse_quantities(values)["unit"]
    shown = [
        text
        if pd.isna(magnitude) or magnitude == 0 or mine == target
        else f"{text} (= {format_quantity(Q_(magnitude, unit))})"
        for text, magnitude, mine in zip(values, parsed["magnitude"], written, strict=True)
    ]
    return pd.Series(shown, index=values.index, dtype=object)


def check_dates(
    frames: dict[str, pd.DataFrame],
    report: Callable[[str, pd.Series, str, str, pd.Series | None], None],
    protocol: Protocol,
    calendar_days: Callable[[pd.Series], pd.Series],
) -> None:
    """Every date from ``earliest_date`` to today (planned ones may lie ahead); a birth date
    at most ``max_age`` before the screening date."""
    earliest = protocol.plausibility.earliest_date
    latest = pd.Timestamp(today())
    for name, frame in frames.items():
        for column in TABLES[name].columns:
            if column.kind not in ("date", "datetime") or column.name not in frame.columns:
                continue
            days = calendar_days(frame[column.name])
            outside = pd.Series(False, index=frame.index)
            if earliest is not None:
                outside |= (days < pd.Timestamp(earliest)).fillna(False).astype(bool)
            if not column.future:
                outside |= (days > latest).fillna(False).astype(bool)
            if outside.any():
                report(name, outside, column.name, date_range(protocol, future=column.future), None)
    if "screening" not in frames:
        return
    screening = frames["screening"]
    oldest = protocol.plausibility.max_age
    years = int(round(oldest.to("year").magnitude))
    born, screened = screening["birth_date"], screening["screening_date"]
    too_old = (born < screened - pd.DateOffset(years=years)).fillna(False).astype(bool)
    if too_old.any():
        report(
            "screening",
            too_old,
            "birth_date",
            f"a birth date at most {years} years before the screening date"
            f" ([plausibility].max_age of {protocol.path})",
            None,
        )
