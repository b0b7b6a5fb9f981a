"""What was given against what the protocol plans: doses per cycle, delays and deviations.

:func:`review_dosing` reads the dosing records of a whole cohort (``dosing.csv``) with the
randomisation (arm, enrollment number, crossover) and, optionally, the screening weights, and
returns a :class:`DosingReview`:

- ``cycles``: one row per patient and IL-2 cycle, with its planned and actual start, the delay,
  and the doses given and held;
- ``fractions``: one row per SBRT fraction, with the day the protocol gives it;
- ``deviations``: every departure from the protocol, each with the rule it breaks (numbers
  from the protocol passed in), what happened, and the registry's sentence.

The review is "actual against rules": each date it expects comes from
:mod:`studylib.calendar_rules`, applied to what actually happened before it (the cycle's
real start), and is worded by the same rule sentences as the plan.

A cycle starts with its first dose given (the same definition as the response engine's). Days
are compared as calendar days, so a cycle begun late in the morning of the last allowed day
is within its window. The checks are those the registry states: a Monday start, the interval
and allowed delay of a course's second cycle, at most 14 doses a cycle and 28 over two
cycles, at most 2 + 4 cycles, SBRT's fractions, weekdays and dose, and the IL-2 dose for the
screening weight (within ``[il2].dose_tolerance``, a reading). It does not judge holds: the
registry names no hold rule.

References
----------
ClinicalTrials.gov NCT01416831, interventions (quoted in ``protocol.toml`` ``[il2]``,
``[sbrt]``, ``[crossover]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib import calendar_rules as rules
from studylib.calendar_rules import sentence_with
from studylib.protocol import Protocol, resolve_protocol
from studylib.units import parse_quantities
from studylib.vocabulary import yes_no_series
from studylib.wording import day_labels, whole_days

__all__ = ["DEVIATION_COLUMNS", "DEVIATION_KINDS", "DosingReview", "review_dosing"]

#: Columns of :attr:`DosingReview.deviations`.
DEVIATION_COLUMNS = [
    "patient_id",
    "arm",
    "treatment",
    "cycle",
    "number",
    "on",
    "kind",
    "rule",
    "detail",
    "quote",
]

#: Deviation kinds, in the order a report lists them for one day.
DEVIATION_KINDS = (
    "sbrt_fractions",
    "sbrt_day",
    "sbrt_dose",
    "il2_weekday",
    "cycle_window",
    "doses_per_cycle",
    "doses_per_course",
    "too_many_cycles",
    "il2_dose",
)


_day = day_labels


def _datetimes(values: pd.Series) -> pd.Series:
    """Datetimes from the loader's column, or from ISO text (an empty cell is missing)."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        filled = values.astype("string").str.strip().ne("").fillna(False).astype(bool)
        values = pd.to_datetime(values.where(filled), format="ISO8601")
    return values.astype("datetime64[us]")


def _prepare(dosing: pd.DataFrame, randomization: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Dosing rows with typed columns and the patient's arm, enrollment number and crossover."""
    rows = dosing.copy()
    rows["patient_id"] = rows["patient_id"].astype(str)
    rows["treatment"] = rows["treatment"].astype(str)
    rows["status"] = rows["status"].astype(str)
    rows["cycle"] = pd.to_numeric(rows["cycle"]).astype("Int64")
    rows["number"] = pd.to_numeric(rows["number"]).astype("Int64")
    for column in ("scheduled_at", "given_at"):
        rows[column] = _datetimes(rows[column])
    patients = randomization[["patient_id", "arm", "enrollment_number"]].copy()
    patients["patient_id"] = patients["patient_id"].astype(str)
    patients["arm"] = patients["arm"].astype(str)
    patients["enrollment_number"] = pd.to_numeric(patients["enrollment_number"]).astype("Int64")
    patients["crossed_over"] = (
        yes_no_series(randomization["crossover"])[0].fillna(False).to_numpy(dtype=bool)
        & (patients["arm"] == protocol.crossover.from_arm).to_numpy()
    )
    return rows.merge(patients, on="patient_id", how="left")


# ---------------------------------------------------------------------------------------------
# IL-2 cycles


def _cycles(rows: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """One row per patient and IL-2 cycle: starts, delays, doses given and held."""
    il2 = protocol.il2
    doses = rows[rows["treatment"] == "il2"]
    given = doses["status"] == "given"
    key = ["patient_id", "cycle"]
    table = (
        doses.assign(
            given_at=doses["given_at"].where(given),
            is_given=given.astype(int),
            is_held=(~given).astype(int),
        )
        .groupby(key, sort=True)
        .agg(
            arm=("arm", "first"),
            crossed_over=("crossed_over", "first"),
            scheduled_start=("scheduled_at", "min"),
            started_at=("given_at", "min"),
            last_given_at=("given_at", "max"),
            doses_given=("is_given", "sum"),
            doses_held=("is_held", "sum"),
        )
        .reset_index()
    )
    table["started_on"] = table["started_at"].dt.normalize()
    per_course = il2.cycles_in_first_course
    position = (table["cycle"] - 1) % per_course
    table["course"] = ((table["cycle"] - 1) // per_course + 1).astype("Int64")
    previous = table[key + ["started_on"]].rename(columns={"started_on": "previous_start"})
    previous["cycle"] = previous["cycle"] + 1
    table = table.merge(previous, on=key, how="left")

    # A course's later cycle: the rules' window from the previous cycle's actual start.
    second = (position > 0).to_numpy()
    next_planned, next_latest = rules.next_cycle(table["previous_start"], protocol)
    planned = table["scheduled_start"].dt.normalize().where(~second, next_planned)
    latest = next_latest.where(second)
    planned_by = pd.Series("as the site scheduled it", index=table.index)
    planned_by[second] = [
        rules.next_cycle_rule(int(cycle), int(cycle) - 1, protocol, crossover=bool(crossed))
        for cycle, crossed in zip(
            table.loc[second, "cycle"], table.loc[second, "crossed_over"], strict=True
        )
    ]
    # The crossover's first cycle: the rules' start weekday after the last fraction given.
    crossover = protocol.crossover.first_cycle
    fractions = rows[
        (rows["treatment"] == "sbrt") & (rows["status"] == "given") & (rows["cycle"] == crossover)
    ]
    last_fraction = fractions.groupby("patient_id")["given_at"].max()
    after_sbrt = rules.il2_start_after(last_fraction, protocol)
    first_crossover = (
        (table["crossed_over"] & (table["cycle"] == crossover)).fillna(False).astype(bool)
    )
    planned = planned.where(~first_crossover, table["patient_id"].map(after_sbrt))
    planned_by[first_crossover] = f"the {il2.start_weekday} after the last SBRT fraction"
    table["planned_start"] = planned.astype("datetime64[us]")
    table["latest_start"] = latest.astype("datetime64[us]")
    table["planned_by"] = planned_by
    table["delay_days"] = ((table["started_on"] - table["planned_start"]).dt.days).astype("Int64")
    within = (table["started_on"] >= table["planned_start"]) & (
        table["started_on"] <= table["latest_start"]
    )
    table["within_window"] = within.astype("boolean").where(
        second & table["started_on"].notna() & table["planned_start"].notna()
    )
    table["doses_allowed"] = il2.max_doses_per_cycle
    columns = [
        "patient_id",
        "arm",
        "cycle",
        "course",
        "planned_start",
        "latest_start",
        "planned_by",
        "scheduled_start",
        "started_at",
        "delay_days",
        "within_window",
        "doses_given",
        "doses_held",
        "doses_allowed",
        "last_given_at",
        "crossed_over",
    ]
    return table[columns]


def _rows(frame: pd.DataFrame, kind: str, rule: str, detail: pd.Series, quote: str, **cols):
    out = pd.DataFrame(
        {
            "patient_id": frame["patient_id"],
            "arm": frame["arm"],
            "treatment": cols.get("treatment", "il2"),
            "cycle": frame["cycle"],
            "number": pd.array(cols.get("number", [pd.NA] * len(frame)), dtype="Int64"),
            "on": cols["on"],
            "kind": kind,
            "rule": rule,
            "detail": detail,
            "quote": quote,
        },
        index=frame.index,
    )
    return out


def _cycle_deviations(cycles: pd.DataFrame, protocol: Protocol) -> list[pd.DataFrame]:
    il2 = protocol.il2
    quote = il2.quote
    monday = il2.start_weekday
    started = cycles[cycles["started_at"].notna()]
    found = []

    wrong_day = started[started["started_at"].dt.day_name() != monday]
    found.append(
        _rows(
            wrong_day,
            "il2_weekday",
            f"IL-2 starts on a {monday}",
            "IL-2 cycle "
            + wrong_day["cycle"].astype(str)
            + " started on "
            + _day(wrong_day["started_at"]),
            sentence_with(quote, "on a " + monday),
            on=wrong_day["started_at"].dt.normalize(),
        )
    )

    outside = started[started["within_window"].eq(False).fillna(False).astype(bool)]
    interval = whole_days(il2.cycle_interval)
    crossover_cycles = outside["crossed_over"] & (
        outside["cycle"] > protocol.crossover.first_cycle - 1
    )
    quotes = np.where(
        crossover_cycles,
        sentence_with(protocol.crossover.quote, "Another cycle"),
        sentence_with(quote, "second cycle"),
    )
    gap = (outside["started_at"].dt.normalize() - outside["planned_start"]).dt.days + interval
    found.append(
        _rows(
            outside,
            "cycle_window",
            outside["planned_by"],
            "IL-2 cycle "
            + outside["cycle"].astype(str)
            + " started on "
            + _day(outside["started_at"])
            + ", "
            + gap.astype(str)
            + " days after the start of cycle "
            + (outside["cycle"] - 1).astype(str)
            + "; allowed from "
            + _day(outside["planned_start"])
            + " to "
            + _day(outside["latest_start"]),
            "",
            on=outside["started_at"].dt.normalize(),
        ).assign(quote=quotes)
    )

    most = il2.max_doses_per_cycle
    over = cycles[cycles["doses_given"] > most]
    found.append(
        _rows(
            over,
            "doses_per_cycle",
            f"At most {most} IL-2 doses per cycle",
            over["doses_given"].astype(str)
            + " doses given in cycle "
            + over["cycle"].astype(str)
            + f" (at most {most})",
            sentence_with(quote, f"up to {most} doses"),
            on=over["last_given_at"].dt.normalize(),
        )
    )

    per_course = il2.cycles_in_first_course
    course_most = il2.max_doses_first_course
    courses = (
        cycles.groupby(["patient_id", "course"], sort=True)
        .agg(
            arm=("arm", "first"),
            cycle=("cycle", "max"),
            first_cycle=("cycle", "min"),
            doses_given=("doses_given", "sum"),
            on=("last_given_at", "max"),
        )
        .reset_index()
    )
    heavy = courses[courses["doses_given"] > course_most]
    first_of = (heavy["course"] - 1) * per_course + 1
    found.append(
        _rows(
            heavy,
            "doses_per_course",
            f"At most {course_most} IL-2 doses over {per_course} cycles",
            heavy["doses_given"].astype(str)
            + " doses given in cycles "
            + first_of.astype(str)
            + "-"
            + (first_of + per_course - 1).astype(str)
            + f" (at most {course_most})",
            sentence_with(quote, f"{course_most} doses"),
            on=heavy["on"].dt.normalize(),
        )
    )

    most_cycles = per_course + il2.additional_cycles_for_responders
    extra = started[started["cycle"] > most_cycles]
    found.append(
        _rows(
            extra,
            "too_many_cycles",
            f"At most {most_cycles} IL-2 cycles ({per_course}, then"
            f" {il2.additional_cycles_for_responders} more for responders)",
            "IL-2 cycle " + extra["cycle"].astype(str) + f" given (at most {most_cycles})",
            sentence_with(quote, "more cycles"),
            on=extra["started_at"].dt.normalize(),
        )
    )
    return found


# ---------------------------------------------------------------------------------------------
# SBRT


def _expected_fractions(patients: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Fractions the protocol gives before each cycle: the SBRT arm's before cycle 1, the
    crossover's before its first cycle (same rule by enrollment number)."""
    sbrt_arms = [arm.code for arm in protocol.arms if arm.receives_sbrt]
    count = pd.Series(
        rules.fractions_due(patients["enrollment_number"], protocol), index=patients.index
    )
    first_course = patients.assign(
        cycle=1, expected=count.where(patients["arm"].isin(sbrt_arms), 0)
    )
    crossover = patients[patients["crossed_over"]].assign(
        cycle=protocol.crossover.first_cycle, expected=count[patients["crossed_over"]]
    )
    return pd.concat([first_course, crossover], ignore_index=True)[
        ["patient_id", "cycle", "expected"]
    ]


def _fraction_days(fractions: pd.DataFrame, cycles: pd.DataFrame, protocol) -> pd.DataFrame:
    """Each SBRT fraction with the day the rules give it, from the actual start of its cycle."""
    starts = cycles[["patient_id", "cycle", "started_at"]].rename(
        columns={"started_at": "cycle_started_at"}
    )
    table = fractions.merge(starts, on=["patient_id", "cycle"], how="left")
    due = rules.fraction_days(
        table["enrollment_number"], table["cycle_started_at"], protocol
    ).rename(columns={"weekday": "expected_weekday", "fractions": "fractions_due"})
    due = due[due["number"].to_numpy() == table["number"].to_numpy()[due["row"].to_numpy()]]
    due = due.set_index("row")
    table["expected_weekday"] = due["expected_weekday"].reindex(table.index).astype("string")
    table["fractions_due"] = due["fractions_due"].reindex(table.index).astype("Int64")
    table["expected_on"] = pd.to_datetime(due["planned_on"].reindex(table.index)).astype(
        "datetime64[us]"
    )
    return table


def _sbrt_deviations(
    rows: pd.DataFrame, cycles: pd.DataFrame, protocol: Protocol
) -> tuple[pd.DataFrame, list]:
    sbrt = protocol.sbrt
    fractions = rows[rows["treatment"] == "sbrt"]
    given = fractions[fractions["status"] == "given"].reset_index(drop=True)
    table = _fraction_days(given, cycles, protocol)
    found = []

    patients = rows.drop_duplicates("patient_id")[
        ["patient_id", "arm", "enrollment_number", "crossed_over"]
    ]
    expected = _expected_fractions(patients, protocol)
    counted = given.groupby(["patient_id", "cycle"]).size().rename("given").reset_index()
    started = cycles.loc[cycles["started_at"].notna(), ["patient_id", "cycle"]]
    # Only cycles that began, or that SBRT was given for, are judged: a patient who left the
    # study before a cycle has not deviated by missing its SBRT.
    judged = pd.concat([started, counted[["patient_id", "cycle"]]]).drop_duplicates()
    compare = judged.merge(expected, on=["patient_id", "cycle"], how="left").merge(
        counted, on=["patient_id", "cycle"], how="left"
    )
    compare = compare.merge(patients[["patient_id", "arm", "enrollment_number"]], on="patient_id")
    compare["expected"] = compare["expected"].fillna(0).astype(int)
    compare["given"] = compare["given"].fillna(0).astype(int)
    wrong = compare[compare["expected"] != compare["given"]]
    first = given.groupby(["patient_id", "cycle"])["given_at"].min().rename("first_given")
    wrong = wrong.merge(first.reset_index(), on=["patient_id", "cycle"], how="left").merge(
        cycles[["patient_id", "cycle", "started_at"]], on=["patient_id", "cycle"], how="left"
    )
    found.append(
        _rows(
            wrong,
            "sbrt_fractions",
            wrong.apply(_fraction_rule, axis=1, protocol=protocol) if len(wrong) else "",
            wrong["given"].astype(str)
            + " SBRT fraction(s) given before IL-2 cycle "
            + wrong["cycle"].astype(str)
            + "; the rule gives "
            + wrong["expected"].astype(str),
            wrong.apply(_fraction_quote, axis=1, protocol=protocol) if len(wrong) else "",
            treatment="sbrt",
            on=wrong["first_given"].fillna(wrong["started_at"]).dt.normalize(),
        )
    )

    gave_on = table["given_at"].dt.normalize()
    known = table["expected_on"].notna()
    off_day = table[known & (gave_on != table["expected_on"])]
    weekday_only = table[
        ~known
        & table["expected_weekday"].notna()
        & (table["given_at"].dt.day_name() != table["expected_weekday"])
    ]
    monday = protocol.il2.start_weekday
    for frame, relative in ((off_day, True), (weekday_only, False)):
        last = (frame["number"] == frame["fractions_due"]).fillna(False).astype(bool)
        which = ("fraction " + frame["number"].astype(str)).where(~last, "the last fraction")
        rule = (
            "SBRT: "
            + which
            + " on the "
            + frame["expected_weekday"].astype(str)
            + f" before the {monday} IL-2 start"
        )
        detail = (
            "SBRT fraction " + frame["number"].astype(str) + " given on " + _day(frame["given_at"])
        )
        if relative:
            detail = (
                detail
                + "; expected "
                + _day(frame["expected_on"])
                + ", as IL-2 cycle "
                + frame["cycle"].astype(str)
                + " started on "
                + _day(frame["cycle_started_at"])
            )
        found.append(
            _rows(
                frame,
                "sbrt_day",
                rule,
                detail,
                frame["expected_weekday"].map(lambda day: sentence_with(sbrt.quote, day)),
                treatment="sbrt",
                number=frame["number"],
                on=frame["given_at"].dt.normalize(),
            )
        )

    gy = float(sbrt.dose_per_fraction.to("Gy").magnitude)
    dose = parse_quantities(given["dose"], "Gy", to="Gy")["magnitude"]
    off_dose = given[dose.notna() & ~np.isclose(dose.fillna(gy), gy)]
    found.append(
        _rows(
            off_dose,
            "sbrt_dose",
            f"SBRT: {gy:g} Gy per fraction",
            "SBRT fraction "
            + off_dose["number"].astype(str)
            + " given as "
            + off_dose["dose"].astype(str),
            sentence_with(sbrt.quote, "per fraction"),
            treatment="sbrt",
            number=off_dose["number"],
            on=off_dose["given_at"].dt.normalize(),
        )
    )
    return table, found


def _fraction_rule(row: pd.Series, protocol: Protocol) -> str:
    sbrt_arms = [arm.code for arm in protocol.arms if arm.receives_sbrt]
    cycle = int(row["cycle"])
    crossover = protocol.crossover
    if row["expected"] == 0:
        if cycle == 1 and row["arm"] not in sbrt_arms:
            name = protocol.arm(row["arm"]).name
            return f"No SBRT before IL-2 cycle 1 in arm {row['arm']} ({name})"
        if cycle == crossover.first_cycle:
            return (
                f"SBRT before cycle {cycle} only for arm {crossover.from_arm} patients who cross"
                " over"
            )
        return f"No SBRT before IL-2 cycle {cycle}"
    rule = protocol.sbrt.fractionation_for(int(row["enrollment_number"]))
    return rules.fraction_count_rule(rule, cycle)


def _fraction_quote(row: pd.Series, protocol: Protocol) -> str:
    if row["expected"] == 0:
        if int(row["cycle"]) == protocol.crossover.first_cycle:
            return sentence_with(protocol.crossover.quote, "eligible to receive SBRT")
        return protocol.arm(row["arm"]).quote
    return protocol.sbrt.fractionation_for(int(row["enrollment_number"])).quote


# ---------------------------------------------------------------------------------------------
# IL-2 dose for the screening weight


def _dose_deviations(
    rows: pd.DataFrame, screening: pd.DataFrame | None, protocol: Protocol
) -> list[pd.DataFrame]:
    if screening is None or "weight" not in screening.columns:
        return []
    il2 = protocol.il2
    weights = screening[["patient_id", "weight"]].copy()
    weights["patient_id"] = weights["patient_id"].astype(str)
    weights["weight_kg"] = parse_quantities(weights["weight"], "kg", to="kg")["magnitude"]
    doses = rows[(rows["treatment"] == "il2") & (rows["status"] == "given")].merge(
        weights[["patient_id", "weight_kg"]], on="patient_id", how="left"
    )
    per_kg = float(il2.dose_per_kg.to("IU/kg").magnitude)
    doses["expected_iu"] = doses["weight_kg"] * per_kg
    doses["given_iu"] = parse_quantities(doses["dose"], "IU", to="IU")["magnitude"].to_numpy()
    tolerance = float(il2.dose_tolerance.to("dimensionless").magnitude)
    doses["on"] = doses["given_at"].dt.normalize()
    change = doses["given_iu"] / doses["expected_iu"] - 1
    off = doses[(change.abs() > tolerance).fillna(False).astype(bool)]
    if off.empty:
        return []
    per_cycle = (
        off.groupby(["patient_id", "cycle"], sort=True)
        .agg(
            arm=("arm", "first"),
            count=("number", "size"),
            low=("given_iu", "min"),
            high=("given_iu", "max"),
            expected=("expected_iu", "first"),
            weight_kg=("weight_kg", "first"),
            on=("on", "min"),
        )
        .reset_index()
    )
    shown = (per_cycle["low"] / 1e6).map("{:.1f}".format)
    spread = per_cycle["high"] > per_cycle["low"]
    shown = shown.where(~spread, shown + "-" + (per_cycle["high"] / 1e6).map("{:.1f}".format))
    # By how much, so that the reader checks the tolerance: "+10.2%", "-12.0% to +11.5%".
    low = ((per_cycle["low"] / per_cycle["expected"] - 1) * 100).map("{:+.1f}%".format)
    high = ((per_cycle["high"] / per_cycle["expected"] - 1) * 100).map("{:+.1f}%".format)
    change = low.where(~spread, low + " to " + high)
    return [
        _rows(
            per_cycle,
            "il2_dose",
            f"IL-2: {per_kg:,.0f} IU/kg x actual body weight, within"
            f" {il2.dose_tolerance.to('percent').magnitude:g}% (reading)",
            per_cycle["count"].astype(str)
            + " dose(s) of cycle "
            + per_cycle["cycle"].astype(str)
            + " given as "
            + shown
            + " MIU; "
            + (per_cycle["expected"] / 1e6).map("{:.1f}".format)
            + " MIU for the screening weight of "
            + per_cycle["weight_kg"].map("{:.1f}".format)
            + " kg ("
            + change
            + ")",
            sentence_with(il2.quote, "per kilogram"),
            on=per_cycle["on"],
        )
    ]


# ---------------------------------------------------------------------------------------------
# The review


@dataclass(frozen=True)
class DosingReview:
    """Actual against planned for a cohort (or one patient).

    Attributes
    ----------
    cycles
        One row per patient and IL-2 cycle: ``planned_start`` (the protocol's date for a
        course's second cycle; the site's schedule otherwise), ``latest_start`` (end of the
        allowed delay), ``planned_by``, ``started_at`` (first dose given), ``delay_days``,
        ``within_window``, ``doses_given``, ``doses_held``, ``doses_allowed``.
    fractions
        One row per SBRT fraction given, with ``expected_on`` (the day the rule gives, from
        the start of the cycle it precedes) and ``expected_weekday``.
    deviations
        One row per deviation, columns :data:`DEVIATION_COLUMNS`: ``kind`` (one of
        :data:`DEVIATION_KINDS`), ``rule`` (the rule broken, with the protocol's numbers),
        ``detail`` (what happened), ``quote`` (the registry's sentence).
    """

    cycles: pd.DataFrame
    fractions: pd.DataFrame
    deviations: pd.DataFrame

    def for_patient(self, patient_id: str) -> DosingReview:
        """The part of the review about one patient."""
        return DosingReview(
            *(
                frame[frame["patient_id"] == patient_id].reset_index(drop=True)
                for frame in (self.cycles, self.fractions, self.deviations)
            )
        )

    def summary(self) -> pd.DataFrame:
        """One row per patient: arm, fractions given, cycles, doses given and deviations."""
        cycles = self.cycles.groupby("patient_id").agg(
            arm=("arm", "first"),
            cycles_started=("started_at", "count"),
            doses_given=("doses_given", "sum"),
            doses_held=("doses_held", "sum"),
        )
        fractions = self.fractions.groupby("patient_id").size().rename("fractions_given")
        deviations = self.deviations.groupby("patient_id").size().rename("deviations")
        table = cycles.join(fractions, how="outer").join(deviations, how="outer")
        for column in ("fractions_given", "deviations", "cycles_started"):
            table[column] = table[column].fillna(0).astype(int)
        return table.reset_index()


def review_dosing(
    dosing: pd.DataFrame,
    randomization: pd.DataFrame,
    screening: pd.DataFrame | None = None,
    *,
    protocol: Protocol | None = None,
) -> DosingReview:
    """Compare every patient's dosing records with the protocol.

    Parameters
    ----------
    dosing
        ``dosing.csv`` as loaded by :func:`studylib.data.load_cohort` (or text in the same
        columns): ``patient_id``, ``treatment``, ``cycle``, ``number``, ``scheduled_at``,
        ``given_at``, ``status``, ``dose``, ``hold_reason``.
    randomization
        ``patient_id``, ``arm``, ``enrollment_number``, ``crossover``.
    screening
        Optional, with ``patient_id`` and ``weight``: enables the IL-2 dose check.
    protocol
        The protocol to review against (default: the bundled one; a trial folder's is
        ``Cohort.protocol``).

    Returns
    -------
    DosingReview
    """
    protocol = resolve_protocol(protocol)
    rows = _prepare(dosing, randomization, protocol)
    cycles = _cycles(rows, protocol)
    fractions, sbrt_found = _sbrt_deviations(rows, cycles, protocol)
    found = (
        sbrt_found
        + _cycle_deviations(cycles, protocol)
        + _dose_deviations(rows, screening, protocol)
    )
    found = [frame for frame in found if len(frame)]
    if found:
        deviations = pd.concat(found, ignore_index=True)
    else:
        deviations = pd.DataFrame({column: [] for column in DEVIATION_COLUMNS})
    deviations = deviations.astype({"cycle": "Int64", "number": "Int64"})
    deviations["on"] = pd.to_datetime(deviations["on"]).astype("datetime64[us]")
    order = deviations["kind"].map({kind: i for i, kind in enumerate(DEVIATION_KINDS)})
    deviations = (
        deviations.assign(_order=order)
        .sort_values(["patient_id", "on", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)[DEVIATION_COLUMNS]
    )
    fraction_columns = [
        "patient_id",
        "arm",
        "cycle",
        "number",
        "scheduled_at",
        "given_at",
        "dose",
        "expected_weekday",
        "expected_on",
        "cycle_started_at",
    ]
    fractions = fractions[fraction_columns].sort_values(["patient_id", "given_at"])
    return DosingReview(
        cycles=cycles.reset_index(drop=True),
        fractions=fractions.reset_index(drop=True),
        deviations=deviations,
    )
