"""The treatment calendar: SBRT fractions, IL-2 doses and scans, each with the rule behind it.

:func:`plan_treatment` plans a randomised patient's first course (arm B's SBRT, IL-2 cycles 1
and 2, optionally the responders' four further cycles, and the scans at weeks 7, 14 and 21);
:func:`plan_crossover` plans an arm A patient's crossover (SBRT, cycles 3 and 4, and the
crossover response scan); :func:`crossover_start` finds the crossover's Monday. Every date in
:attr:`TreatmentPlan.events` carries the protocol rule (and reading) that produced it, and
every number comes from ``PROTOCOL`` (``[il2]``, ``[sbrt]``, ``[crossover]``,
``[assessments]``).

Times are local wall-clock times without a time zone. SBRT fractions and scans are planned
for a day (at midnight); IL-2 doses for a time.

References
----------
ClinicalTrials.gov NCT01416831, arms and interventions (quoted in ``protocol.toml``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from numbers import Integral

import numpy as np
import pandas as pd
import pint

from studylib.dosing import IL2Dose, il2_dose
from studylib.protocol import PROTOCOL, WEEKDAYS, Fractionation
from studylib.units import format_quantity
from studylib.vocabulary import yes_no

__all__ = [
    "EVENT_COLUMNS",
    "TreatmentPlan",
    "plan_treatment",
    "plan_crossover",
    "crossover_start",
    "plan_for_patient",
    "parse_il2_start",
    "protocol_rules",
    "registry_phrase",
]

#: Columns of :attr:`TreatmentPlan.events`, in order.
EVENT_COLUMNS = [
    "event",
    "cycle",
    "number",
    "planned_at",
    "latest_at",
    "amount",
    "unit",
    "label",
    "rule",
]

_EVENT_ORDER = {"sbrt_fraction": 0, "il2_dose": 1, "assessment": 2}


def _days(quantity: pint.Quantity) -> int:
    return int(round(quantity.to("day").magnitude))


def _hours(quantity: pint.Quantity) -> float:
    return float(quantity.to("hour").magnitude)


def _weekday_number(name: str) -> int:
    return WEEKDAYS.index(name)


def _day(date: pd.Timestamp) -> str:
    """``"Mon 2024-03-04"``: the weekday, so that a reader checks the rule at a glance."""
    return f"{date:%a %Y-%m-%d}"


def _range(rule: Fractionation) -> str:
    last = rule.last_enrollment_number
    return (
        f"{rule.first_enrollment_number}-{last}" if last else f"{rule.first_enrollment_number} on"
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


#: The registry's wording of the interval before a course's second cycle, found in its quotes
#: (so that no number of it is typed here): "planned 16 days after cycle 1".
SECOND_CYCLE_PHRASE = r"planned \d+ days? after cycle \d+"


def registry_phrase(quote: str, pattern: str = SECOND_CYCLE_PHRASE) -> str:
    """The words of a registry quote matching ``pattern``, to cite a rule the workbook reads.

    >>> registry_phrase(PROTOCOL.il2.quote)
    'planned 16 days after cycle 1'
    """
    found = re.search(pattern, quote, flags=re.IGNORECASE)
    if found is None:
        raise ValueError(f"no {pattern!r} in the registry quote {quote!r}")
    return found.group(0)


def _fraction_rules() -> str:
    """``"1-20: 1 fraction, 21 on: 2 fractions"``."""
    return ", ".join(
        f"{_range(rule)}: {_plural(rule.fractions, 'fraction')}"
        for rule in PROTOCOL.sbrt.fractionation
    )


def protocol_rules() -> pd.DataFrame:
    """The scheduling and dosing rules as the workbook applies them, worded from ``PROTOCOL``.

    For notebooks and readers: one row per subject (``what``), the ``rule`` with the
    protocol's numbers, and its ``source`` (``registry``, ``reading`` for the workbook's
    interpretation of an ambiguous sentence, or ``label`` for the Proleukin label).
    """
    il2, sbrt, crossover = PROTOCOL.il2, PROTOCOL.sbrt, PROTOCOL.crossover
    monday = il2.start_weekday
    interval, delay = _days(il2.cycle_interval), _days(il2.allowed_delay)
    per_course = il2.cycles_in_first_course
    weeks = [t.week for t in PROTOCOL.assessments.timepoints]
    shown_weeks = ", ".join(str(w) for w in weeks[:-1]) + f" and {weeks[-1]}"
    fractions = "; ".join(
        f"enrollment {_range(rule)}: {_plural(rule.fractions, 'fraction')} on the"
        f" {' and '.join(rule.weekdays)} before the {monday} IL-2 start"
        for rule in sbrt.fractionation
    )
    after = crossover.response_assessment_after.to("week").magnitude
    rows = [
        (
            "IL-2",
            f"starts on a {monday}; {format_quantity(il2.dose_per_kg)} of actual body weight"
            f" every {format_quantity(il2.dose_interval)}, at most {il2.max_doses_per_cycle}"
            f" doses per cycle and {il2.max_doses_first_course} over {per_course} cycles",
            "registry",
        ),
        (
            "cycle 2",
            f"the registry's '{registry_phrase(il2.quote)}' is planned on the {monday}"
            f" {interval} days after cycle 1 starts, and may start up to {delay} days later",
            "reading",
        ),
        (
            "responders",
            f"up to {il2.additional_cycles_for_responders} more cycles (registry), planned as"
            f" courses of {per_course} cycles from the {monday} each scan window closes",
            "reading",
        ),
        (
            "SBRT",
            f"arm B, and arm {crossover.from_arm} on crossover:"
            f" {format_quantity(sbrt.dose_per_fraction)} per fraction; {fractions}",
            "registry",
        ),
        (
            "crossover",
            f"arm {crossover.from_arm} patients progressing after cycle {crossover.after_cycle}:"
            f" SBRT by the same rule, cycle {crossover.first_cycle} on the {monday} after the"
            f" last fraction, cycle {crossover.first_cycle + 1} as cycle 2, response scan"
            f" {after:g} weeks after cycle {crossover.first_cycle} starts",
            "registry",
        ),
        (
            "scans",
            f"weeks {shown_weeks} after the first IL-2 dose (registry); each may be done up to"
            f" {_days(PROTOCOL.assessments.window)} days after its planned day",
            "reading",
        ),
        (
            "dose preparation",
            f"{format_quantity(il2.activity_per_mass_iu)} ="
            f" {format_quantity(il2.activity_per_mass_mg)};"
            f" {format_quantity(il2.reconstituted_concentration)} after reconstitution;"
            f" whole single-dose vials of {format_quantity(il2.vial_content)}",
            "label",
        ),
        (
            "dose given",
            "a dose given more than"
            f" {format_quantity(il2.dose_tolerance)} from the dose for the screening weight"
            " is reported as a deviation",
            "reading",
        ),
    ]
    return pd.DataFrame(rows, columns=["what", "rule", "source"])


# ---------------------------------------------------------------------------------------------
# Validation of what a user passes in


def _check_arm(arm: str) -> str:
    if not isinstance(arm, str):
        raise ValueError(f"arm {arm!r} is not valid; use 'A' or 'B'")
    PROTOCOL.arm(arm)
    return arm


def _check_enrollment(enrollment_number: int) -> int:
    first = min(rule.first_enrollment_number for rule in PROTOCOL.sbrt.fractionation)
    if isinstance(enrollment_number, bool) or not isinstance(enrollment_number, Integral):
        raise ValueError(
            f"enrollment number {enrollment_number!r} is not valid; give a whole number"
            f" from {first} (the order of enrollment)"
        )
    if enrollment_number < first:
        raise ValueError(
            f"enrollment number {enrollment_number} is not valid; give a whole number from"
            f" {first} (the order of enrollment)"
        )
    return int(enrollment_number)


def _check_responder_cycles(count: int) -> int:
    extra = PROTOCOL.il2.additional_cycles_for_responders
    if isinstance(count, bool) or not isinstance(count, Integral) or not 0 <= count <= extra:
        raise ValueError(
            f"responder cycles {count!r} is not valid; give a whole number from 0 to {extra}"
            f" (registry: 'Patients who respond after two cycles can receive {extra} more"
            " cycles of IL-2')"
        )
    return int(count)


def _checked(*checks):
    """Run every check and report all the invalid inputs at once, not the first only."""
    results, problems = [], []
    for check in checks:
        try:
            results.append(check())
        except ValueError as error:
            problems.append(str(error))
    if len(problems) == 1:
        raise ValueError(problems[0])
    if problems:
        raise ValueError(
            f"{len(problems)} problems with the plan's input:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    return results


def _nearest(date: pd.Timestamp, weekday: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The last ``weekday`` before ``date`` and the first one after it."""
    back = (date.weekday() - _weekday_number(weekday)) % 7 or 7
    before = date - pd.Timedelta(days=back)
    return before, before + pd.Timedelta(days=7)


def parse_il2_start(il2_start: str | dt.date | dt.datetime | pd.Timestamp) -> pd.Timestamp:
    """Read the first IL-2 dose's date or date and time, and check it is a Monday.

    A date alone (``"2024-03-04"`` or a :class:`datetime.date`) gets the protocol's default
    time of the first dose (``[il2].first_dose_time``); a datetime keeps its time.

    Raises
    ------
    ValueError
        When the text is not a date, or the day is not ``PROTOCOL.il2.start_weekday``; the
        message names the nearest Mondays before and after.
    """
    first_dose = PROTOCOL.il2.first_dose_time
    if isinstance(il2_start, pd.Timestamp | dt.datetime):
        start = pd.Timestamp(il2_start)
    elif isinstance(il2_start, dt.date):
        start = pd.Timestamp(dt.datetime.combine(il2_start, first_dose))
    elif isinstance(il2_start, str):
        try:
            start = pd.Timestamp(il2_start.strip())
        except ValueError as error:
            raise ValueError(
                f"IL-2 start {il2_start!r} is not a date; give an ISO date such as '2024-03-04'"
                " or a date and time such as '2024-03-04T08:00'"
            ) from error
        if _date_only(il2_start) and not pd.isna(start):
            start = pd.Timestamp(dt.datetime.combine(start.date(), first_dose))
    else:
        raise ValueError(
            f"IL-2 start {il2_start!r} is not a date; give an ISO date such as '2024-03-04'"
        )
    if pd.isna(start):
        raise ValueError(
            f"IL-2 start {il2_start!r} is empty; give an ISO date such as '2024-03-04'"
        )
    if start.tzinfo is not None:
        start = start.tz_localize(None)
    monday = PROTOCOL.il2.start_weekday
    if start.day_name() != monday:
        before, after = _nearest(start.normalize(), monday)
        raise ValueError(
            f"IL-2 start {_day(start)} is a {start.day_name()}, but IL-2 starts on a {monday}"
            f" (registry: 'IL-2 will be given on a {monday}'); the nearest {monday}s are"
            f" {before.date()} and {after.date()}"
        )
    return start.as_unit("us")


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class TreatmentPlan:
    """A patient's planned SBRT fractions, IL-2 doses and scans.

    Attributes
    ----------
    arm
        ``"A"`` or ``"B"``.
    enrollment_number
        Order of enrollment (decides one or two SBRT fractions).
    il2_start
        First IL-2 dose of the plan (cycle 1, or cycle 3 for a crossover plan).
    dose
        The IL-2 dose for the patient's weight (:class:`studylib.dosing.IL2Dose`).
    fractions
        SBRT fractions in the plan (0 for arm A's first course).
    events
        One row per event, columns :data:`EVENT_COLUMNS`: ``event`` (``sbrt_fraction``,
        ``il2_dose``, ``assessment``), ``cycle`` (Int64; for SBRT the cycle it precedes; empty
        for scans), ``number`` (fraction, dose or scan number), ``planned_at``, ``latest_at``
        (end of the allowed window), ``amount`` (Gy or IU; NaN for scans), ``unit``, ``label``
        and ``rule`` (the protocol rule behind the date).
    patient_id
        The patient, when known (used in labels and calendar ids).
    notes
        Remarks on how the plan was made (a default time, a start moved to its Monday).
    """

    arm: str
    enrollment_number: int
    il2_start: pd.Timestamp
    dose: IL2Dose
    fractions: int
    events: pd.DataFrame
    patient_id: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def weight(self) -> pint.Quantity:
        """Actual body weight the dose was computed for, in kg."""
        return self.dose.weight

    def cycles(self) -> pd.DataFrame:
        """One row per IL-2 cycle: planned start, latest start, last dose slot, rule."""
        doses = self.events[self.events["event"] == "il2_dose"]
        grouped = doses.groupby("cycle", sort=True)
        table = pd.DataFrame(
            {
                "planned_start": grouped["planned_at"].min(),
                "latest_start": grouped["latest_at"].min(),
                "last_dose_at": grouped["planned_at"].max(),
                "doses": grouped["number"].count().astype("int64"),
                "rule": grouped["rule"].first(),
            }
        )
        return table.reset_index()

    def overview(self) -> pd.DataFrame:
        """The plan at a glance: one row per SBRT fraction, IL-2 cycle and scan.

        Columns ``event`` (``sbrt_fraction``, ``il2_cycle``, ``assessment``), ``cycle``,
        ``what``, ``planned_at``, ``latest_at`` (for a cycle: of its first dose) and ``rule``.
        """
        events = self.events
        cycles = self.cycles()
        interval = _hours(PROTOCOL.il2.dose_interval)
        cycle_rows = pd.DataFrame(
            {
                "event": "il2_cycle",
                "cycle": cycles["cycle"],
                "what": [
                    f"IL-2 cycle {c}: up to {n} doses of {self.dose.miu:.1f} MIU every"
                    f" {interval:g} h, last slot {_day(last)} {last:%H:%M}"
                    for c, n, last in zip(
                        cycles["cycle"], cycles["doses"], cycles["last_dose_at"], strict=True
                    )
                ],
                "planned_at": cycles["planned_start"],
                "latest_at": cycles["latest_start"],
                "rule": cycles["rule"],
            }
        )
        others = events[events["event"] != "il2_dose"].rename(columns={"label": "what"})
        table = pd.concat([others[cycle_rows.columns], cycle_rows], ignore_index=True).sort_values(
            "planned_at", kind="stable"
        )
        return table.reset_index(drop=True)

    def preparation_table(self) -> pd.DataFrame:
        """The dose preparation table (see :meth:`studylib.dosing.IL2Dose.preparation_table`)."""
        return self.dose.preparation_table()

    def combined_with(self, other: TreatmentPlan) -> TreatmentPlan:
        """This plan followed by another of the same patient (first course, then crossover).

        The scans of this plan due on or after the first event of ``other`` (for a crossover,
        its first SBRT fraction) are left out, with a note: the patient is then on the next
        plan, whose own scans (the crossover response scan) replace them, so that a calendar
        does not book two scans for one purpose.
        """
        if other.enrollment_number != self.enrollment_number:
            raise ValueError(
                f"cannot combine plans of enrollment numbers {self.enrollment_number} and"
                f" {other.enrollment_number}: they are different patients"
            )
        begins = other.events["planned_at"].min()
        mine = self.events
        superseded = (mine["event"] == "assessment") & (mine["planned_at"] >= begins)
        notes = self.notes + other.notes
        if superseded.any():
            left_out = [
                f"{label.split(':')[0]} ({_day(day)})"
                for label, day in zip(
                    mine.loc[superseded, "label"], mine.loc[superseded, "planned_at"], strict=True
                )
            ]
            crossover = other.events["cycle"].min() == PROTOCOL.crossover.first_cycle
            nxt = "the crossover" if crossover else "the next plan"
            notes += (
                f"Left out: {' and '.join(left_out)} of the first course, due on or after"
                f" {_day(begins)} when {nxt} begins; {nxt}'s own scans replace them.",
            )
        events = _sorted(pd.concat([mine[~superseded], other.events], ignore_index=True))
        return replace(
            self,
            fractions=self.fractions + other.fractions,
            events=events,
            notes=tuple(dict.fromkeys(notes)),
        )


def _sorted(events: pd.DataFrame) -> pd.DataFrame:
    order = events["event"].map(_EVENT_ORDER)
    return (
        events.assign(_order=order)
        .sort_values(["planned_at", "_order", "number"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _frame(rows: list[dict]) -> pd.DataFrame:
    events = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    return _sorted(
        events.astype(
            {
                "event": "str",
                "cycle": "Int64",
                "number": "Int64",
                "planned_at": "datetime64[us]",
                "latest_at": "datetime64[us]",
                "amount": "float64",
                "unit": "str",
                "label": "str",
                "rule": "str",
            }
        )
    )


def _who(patient_id: str | None) -> str:
    return f" ({patient_id})" if patient_id else ""


def _sbrt_rows(rule: Fractionation, il2_start: pd.Timestamp, cycle: int) -> list[dict]:
    """The fractions before the cycle starting at ``il2_start``: the last on the Friday
    immediately before it, the others earlier in that week (Wednesday)."""
    sbrt = PROTOCOL.sbrt
    monday = PROTOCOL.il2.start_weekday
    last_day = sbrt.last_fraction_weekday
    day = il2_start.normalize()
    last = day - pd.Timedelta(
        days=(day.weekday() - _weekday_number(last_day)) % 7 or 7,
    )
    gy = float(sbrt.dose_per_fraction.to("Gy").magnitude)
    rows = []
    for number, weekday in enumerate(rule.weekdays, start=1):
        back = (_weekday_number(last_day) - _weekday_number(weekday)) % 7
        date = last - pd.Timedelta(days=back)
        which = "last fraction" if number == rule.fractions else f"fraction {number}"
        rows.append(
            {
                "event": "sbrt_fraction",
                "cycle": cycle,
                "number": number,
                "planned_at": date,
                "latest_at": date,
                "amount": gy,
                "unit": "Gy",
                "label": f"SBRT fraction {number} of {rule.fractions}: {gy:g} Gy",
                "rule": (
                    f"SBRT: {which} on the {weekday} before the {monday} IL-2 start of cycle"
                    f" {cycle} (registry; enrollment {_range(rule)}:"
                    f" {_plural(rule.fractions, 'fraction')} of {gy:g} Gy)"
                ),
            }
        )
    return rows


def _cycle_rows(
    cycle: int, start: pd.Timestamp, delay: pd.Timedelta, dose: IL2Dose, why: str
) -> list[dict]:
    il2 = PROTOCOL.il2
    count = il2.max_doses_per_cycle
    offsets = pd.to_timedelta(np.arange(count) * _hours(il2.dose_interval), unit="h")
    rule = f"{why}; doses every {_hours(il2.dose_interval):g} h, up to {count} per cycle (registry)"
    return [
        {
            "event": "il2_dose",
            "cycle": cycle,
            "number": number,
            "planned_at": start + offset,
            "latest_at": start + offset + delay,
            "amount": dose.iu,
            "unit": "IU",
            "label": f"IL-2 cycle {cycle}, dose {number} of {count}: {dose.miu:.1f} MIU",
            "rule": rule,
        }
        for number, offset in enumerate(offsets, start=1)
    ]


def _scan_row(number: int, planned: pd.Timestamp, label: str, rule: str) -> dict:
    window = pd.Timedelta(days=_days(PROTOCOL.assessments.window))
    return {
        "event": "assessment",
        "cycle": pd.NA,
        "number": number,
        "planned_at": planned,
        "latest_at": planned + window,
        "amount": np.nan,
        "unit": "",
        "label": label,
        "rule": rule,
    }


def _second_cycle_why(cycle: int, first: int, reading: str) -> str:
    il2 = PROTOCOL.il2
    return (
        f"IL-2 cycle {cycle}: {_days(il2.cycle_interval)} days after the start of cycle {first},"
        f" up to {_days(il2.allowed_delay)} days later ({reading})"
    )


def plan_treatment(
    arm: str,
    enrollment_number: int,
    il2_start: str | dt.date | dt.datetime | pd.Timestamp,
    weight: str | pint.Quantity,
    *,
    responder_cycles: int = 0,
    patient_id: str | None = None,
) -> TreatmentPlan:
    """Plan the first course: SBRT (arm B), IL-2 cycles 1 and 2, and the scans.

    Parameters
    ----------
    arm
        ``"A"`` (IL-2 monotherapy) or ``"B"`` (SBRT + IL-2).
    enrollment_number
        Order of enrollment, from 1: 1-20 get one SBRT fraction, 21 on two.
    il2_start
        Date (or date and time) of the first IL-2 dose: a Monday.
    weight
        Actual body weight with its unit (``"72 kg"``, ``"176 lb"``).
    responder_cycles
        Further cycles to plan for a responder, 0 to
        ``PROTOCOL.il2.additional_cycles_for_responders`` (4); see ``[il2]`` reading
        ``responder_courses_reading`` for their dates.
    patient_id
        Shown in labels and used for calendar ids.

    Returns
    -------
    TreatmentPlan

    Raises
    ------
    ValueError
        Naming what would be valid: an arm other than A or B, an enrollment number that is not
        a whole number from 1, a start that is not a Monday (with the nearest Mondays), a
        weight without a unit, not a mass, or outside 30-300 kg, or too many responder cycles.
    """
    arm, number, dose, start, _ = _checked(
        lambda: _check_arm(arm),
        lambda: _check_enrollment(enrollment_number),
        lambda: il2_dose(weight),
        lambda: parse_il2_start(il2_start),
        lambda: _check_responder_cycles(responder_cycles),
    )
    il2, assessments = PROTOCOL.il2, PROTOCOL.assessments
    interval = pd.Timedelta(days=_days(il2.cycle_interval))
    delay = pd.Timedelta(days=_days(il2.allowed_delay))
    window = pd.Timedelta(days=_days(assessments.window))
    per_course = il2.cycles_in_first_course
    rows: list[dict] = []
    fractions = 0
    if PROTOCOL.arm(arm).receives_sbrt:
        rule = PROTOCOL.sbrt.fractionation_for(number)
        rows += _sbrt_rows(rule, start, cycle=1)
        fractions = rule.fractions
    monday = il2.start_weekday
    cycle_starts = {1: start}
    rows += _cycle_rows(
        1,
        start,
        pd.Timedelta(0),
        dose,
        f"IL-2 cycle 1: starts on the {monday} given (registry: 'IL-2 will be given on a"
        f" {monday}')",
    )
    timepoints = assessments.timepoints
    last_cycle = per_course + int(responder_cycles)
    for cycle in range(2, last_cycle + 1):
        if (cycle - 1) % per_course:
            first = cycle - (cycle - 1) % per_course
            cycle_start = cycle_starts[first] + interval
            reading = (
                f"reading of the registry's '{registry_phrase(il2.quote)}'"
                if first == 1
                else "reading: a responder course's second cycle, as cycle 2"
            )
            why = _second_cycle_why(cycle, first, reading)
        else:
            course = (cycle - 1) // per_course  # the course this cycle begins, counted from 0
            scan = timepoints[course - 1]
            cycle_start = start + pd.Timedelta(weeks=scan.week) + window
            why = (
                f"IL-2 cycle {cycle} (responders): the {monday} the {scan.name} scan window"
                f" closes, up to {_days(il2.allowed_delay)} days later (reading: responder"
                " courses)"
            )
        cycle_starts[cycle] = cycle_start
        rows += _cycle_rows(cycle, cycle_start, delay, dose, why)
    for index, timepoint in enumerate(timepoints, start=1):
        planned = start.normalize() + pd.Timedelta(weeks=timepoint.week)
        rows.append(
            _scan_row(
                index,
                planned,
                f"Scan {timepoint.name}: {timepoint.purpose}",
                f"Scan {timepoint.name}: {timepoint.week} weeks after the first IL-2 dose"
                f" (registry), up to {window.days} days later (reading: window)",
            )
        )
    notes = _time_notes(il2_start, start)
    return TreatmentPlan(
        arm=arm,
        enrollment_number=number,
        il2_start=start,
        dose=dose,
        fractions=fractions,
        events=_frame(rows),
        patient_id=patient_id,
        notes=notes,
    )


def _date_only(given) -> bool:
    """A date without a time of day: a ``datetime.date`` or text without ``HH:MM``."""
    if isinstance(given, pd.Timestamp | dt.datetime):
        return False
    return isinstance(given, dt.date) or (isinstance(given, str) and ":" not in given)


def _time_notes(given, start: pd.Timestamp) -> tuple[str, ...]:
    if not _date_only(given):
        return ()
    return (
        f"Only a date was given for the first IL-2 dose; it is planned at {start:%H:%M}, the"
        " workbook's default ([il2].first_dose_time).",
    )


def plan_crossover(
    enrollment_number: int,
    il2_start: str | dt.date | dt.datetime | pd.Timestamp,
    weight: str | pint.Quantity,
    *,
    patient_id: str | None = None,
) -> TreatmentPlan:
    """Plan an arm A patient's crossover: SBRT, IL-2 cycles 3 and 4, crossover response scan.

    Parameters
    ----------
    enrollment_number
        Order of enrollment: the same fraction rule as arm B (1-20 one, 21 on two).
    il2_start
        First dose of cycle 3: the Monday after the last fraction (see
        :func:`crossover_start`).
    weight
        Actual body weight with its unit.
    patient_id
        Shown in labels and used for calendar ids.

    Raises
    ------
    ValueError
        As :func:`plan_treatment`.
    """
    number, dose, start = _checked(
        lambda: _check_enrollment(enrollment_number),
        lambda: il2_dose(weight),
        lambda: parse_il2_start(il2_start),
    )
    crossover, il2 = PROTOCOL.crossover, PROTOCOL.il2
    first = crossover.first_cycle
    rule = PROTOCOL.sbrt.fractionation_for(number)
    rows = _sbrt_rows(rule, start, cycle=first)
    rows += _cycle_rows(
        first,
        start,
        pd.Timedelta(0),
        dose,
        f"IL-2 cycle {first} (crossover): the {il2.start_weekday} after the last SBRT fraction"
        f" (registry: 'IL-2 will be given on the {il2.start_weekday} following the last dose of"
        " radiation')",
    )
    interval = pd.Timedelta(days=_days(il2.cycle_interval))
    delay = pd.Timedelta(days=_days(il2.allowed_delay))
    for offset in range(1, crossover.cycles):
        cycle = first + offset
        rows += _cycle_rows(
            cycle,
            start + offset * interval,
            delay,
            dose,
            _second_cycle_why(
                cycle,
                cycle - 1,
                f"reading of the registry's '{registry_phrase(crossover.quote)}'",
            ),
        )
    after = crossover.response_assessment_after
    weeks = after.to("week").magnitude
    rows.append(
        _scan_row(
            1,
            start.normalize() + pd.Timedelta(weeks=float(weeks)),
            f"Scan crossover response: {weeks:g} weeks after the start of cycle {first}",
            f"Crossover response scan: {weeks:g} weeks after the start of cycle {first} (registry:"
            f" '{weeks:g} weeks following IL-2 course that was preceded by radiation'), up to"
            f" {_days(PROTOCOL.assessments.window)} days later (reading: window)",
        )
    )
    return TreatmentPlan(
        arm=crossover.from_arm,
        enrollment_number=number,
        il2_start=start,
        dose=dose,
        fractions=rule.fractions,
        events=_frame(rows),
        patient_id=patient_id,
        notes=_time_notes(il2_start, start),
    )


def _as_date(value, name: str) -> pd.Timestamp:
    try:
        date = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} {value!r} is not a date; give an ISO date such as '2024-05-10'"
        ) from error
    if pd.isna(date):
        raise ValueError(f"{name} is empty; give an ISO date such as '2024-05-10'")
    return date.normalize()


def crossover_start(
    *,
    last_fraction_on: str | dt.date | None = None,
    progressed_on: str | dt.date | None = None,
    enrollment_number: int | None = None,
) -> dt.date:
    """The crossover's IL-2 start: the Monday after the last SBRT fraction.

    Give either the date of the last fraction (which must fall on the protocol's last-fraction
    weekday, a Friday), or the date progression was found together with the enrollment number:
    then the fractions are planned on the first days after progression that fit the fraction
    rule (one Friday; or Wednesday and Friday of one week), and the Monday after them returned.

    Returns
    -------
    datetime.date
        A date, so that :func:`plan_crossover` gives it the default time of the first dose.

    Raises
    ------
    ValueError
        When neither or both dates are given, the last fraction is not on a Friday (naming the
        Fridays around it), or ``progressed_on`` comes without an enrollment number.
    """
    if (last_fraction_on is None) == (progressed_on is None):
        raise ValueError(
            "give either last_fraction_on (the date of the last SBRT fraction) or progressed_on"
            " (the date progression was found) with enrollment_number"
        )
    last_day = PROTOCOL.sbrt.last_fraction_weekday
    last_number = _weekday_number(last_day)
    monday = _weekday_number(PROTOCOL.il2.start_weekday)
    if last_fraction_on is not None:
        last = _as_date(last_fraction_on, "last fraction")
        if last.weekday() != last_number:
            before, after = _nearest(last, last_day)
            raise ValueError(
                f"last SBRT fraction {_day(last)} is a {last.day_name()}; the last fraction is"
                f" given on a {last_day} (registry), such as {before.date()} or {after.date()}"
            )
    else:
        if enrollment_number is None:
            raise ValueError(f"progressed_on needs enrollment_number ({_fraction_rules()})")
        rule = PROTOCOL.sbrt.fractionation_for(_check_enrollment(enrollment_number))
        progressed = _as_date(progressed_on, "progression date")
        lead = (last_number - _weekday_number(rule.weekdays[0])) % 7
        # the first fraction must fall after the day progression was found
        earliest_last = progressed + pd.Timedelta(days=lead + 1)
        last = earliest_last + pd.Timedelta(days=(last_number - earliest_last.weekday()) % 7)
    return (last + pd.Timedelta(days=(monday - last.weekday()) % 7 or 7)).date()


def plan_for_patient(
    randomization: dict,
    weight: str | pint.Quantity,
    dosing: pd.DataFrame,
    *,
    planned_start_at: dt.datetime | pd.Timestamp | None = None,
) -> TreatmentPlan:
    """The protocol's plan for an enrolled patient of a trial folder, to compare with the
    records.

    The plan starts where the site scheduled IL-2 cycle 1 (the ``scheduled_at`` of its first
    slot in ``dosing.csv``), or, without dosing records, at ``planned_start_at`` (screening):
    the start itself for arm A, the Monday after it for arm B (whose first treatment is SBRT).
    A start that is not a Monday is moved to the Monday of its week, with a note, so that the
    protocol's plan can still be drawn; the deviation report flags the start. Cycles beyond the
    first course that are not a crossover are planned as responder cycles. A patient who
    crossed over gets the crossover plan from the scheduled start of cycle 3 (or the Monday
    after the last crossover fraction).

    Parameters
    ----------
    randomization
        The patient's row of ``randomization.csv`` (``patient_id``, ``arm``,
        ``enrollment_number``, ``crossover``).
    weight
        Screening weight with its unit.
    dosing
        The patient's rows of ``dosing.csv`` (may be empty).
    planned_start_at
        Screening's planned first treatment, used when there are no dosing records.

    Raises
    ------
    ValueError
        When no start can be found, or the arm, enrollment number or weight is invalid.
    """
    patient = str(randomization["patient_id"])
    arm = str(randomization["arm"])
    number = randomization["enrollment_number"]
    number = int(number) if isinstance(number, Integral | np.integer) else number
    notes: list[str] = []
    il2 = dosing[dosing["treatment"] == "il2"]
    first_course = PROTOCOL.il2.cycles_in_first_course
    crossed = bool(yes_no(randomization.get("crossover"))) and arm == PROTOCOL.crossover.from_arm
    first_crossover = PROTOCOL.crossover.first_cycle

    def scheduled(cycle: int):
        slots = il2.loc[il2["cycle"] == cycle, "scheduled_at"].dropna()
        return slots.min() if len(slots) else None

    start = scheduled(1)
    if start is None:
        if planned_start_at is None or pd.isna(planned_start_at):
            raise ValueError(
                f"{patient}: no IL-2 cycle 1 in dosing.csv and no planned_start_at in"
                " screening.csv, so there is no date to plan from"
            )
        start = pd.Timestamp(planned_start_at)
        if PROTOCOL.arm(arm).receives_sbrt:
            monday = _weekday_number(PROTOCOL.il2.start_weekday)
            start = start + pd.Timedelta(days=(monday - start.weekday()) % 7 or 7)
        notes.append("No IL-2 doses recorded yet: planned from screening's planned start.")
    start = _monday_of(start, "IL-2 cycle 1", notes)
    cycles = il2["cycle"].dropna()
    last_cycle = int(cycles.max()) if len(cycles) else 1
    extra = 0 if crossed else max(0, last_cycle - first_course)
    extra = min(extra, PROTOCOL.il2.additional_cycles_for_responders)
    plan = plan_treatment(arm, number, start, weight, responder_cycles=extra, patient_id=patient)
    if crossed:
        cross_start = scheduled(first_crossover)
        if cross_start is None:
            fractions = dosing[
                (dosing["treatment"] == "sbrt") & (dosing["cycle"] == first_crossover)
            ]["scheduled_at"].dropna()
            if not len(fractions):
                return replace(plan, notes=tuple(notes) + plan.notes)
            last = fractions.max().normalize()
            monday = _weekday_number(PROTOCOL.il2.start_weekday)
            cross_start = last + pd.Timedelta(days=(monday - last.weekday()) % 7 or 7)
        cross_start = _monday_of(cross_start, f"IL-2 cycle {first_crossover}", notes)
        plan = plan.combined_with(plan_crossover(number, cross_start, weight, patient_id=patient))
    return replace(plan, notes=tuple(notes) + plan.notes)


def _monday_of(start: pd.Timestamp, what: str, notes: list[str]) -> pd.Timestamp:
    start = pd.Timestamp(start)
    monday = _weekday_number(PROTOCOL.il2.start_weekday)
    if start.weekday() == monday:
        return start
    moved = start - pd.Timedelta(days=(start.weekday() - monday) % 7)
    notes.append(
        f"{what} was scheduled on {_day(start)}, not a {PROTOCOL.il2.start_weekday}; the"
        f" protocol's plan is drawn from {_day(moved)}, the {PROTOCOL.il2.start_weekday} of that"
        " week."
    )
    return moved
