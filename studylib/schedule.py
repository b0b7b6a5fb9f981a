"""The treatment calendar of one patient: SBRT fractions, IL-2 doses and scans, with their rules.

:func:`plan_treatment` plans a randomised patient's first course (SBRT for the arm that
receives it, the first course's IL-2 cycles, optionally a responder's further cycles, and the
scheduled scans); :func:`plan_crossover` plans a crossover (SBRT, the crossover's cycles and
its response scan); :func:`crossover_start` finds the crossover's first IL-2 day. The plan is
"the rules applied": every date comes from :mod:`studylib.calendar_rules`, with the sentence of
the rule (and reading) that produced it, and every number from the protocol passed in
(``[il2]``, ``[sbrt]``, ``[crossover]``, ``[assessments]``; default: the bundled protocol).

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

from studylib import calendar_rules as rules
from studylib.calendar_rules import registry_phrase
from studylib.columns import ID_PATTERN
from studylib.dosing import IL2Dose, il2_dose
from studylib.protocol import Protocol, resolve_protocol
from studylib.rulebook import rulebook
from studylib.vocabulary import yes_no
from studylib.wording import and_list, day_label, hours, weeks

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


def protocol_rules(protocol: Protocol | None = None) -> pd.DataFrame:
    """The scheduling and dosing rules as the workbook applies them, worded from the protocol.

    The ``treatment`` rules of :func:`studylib.rulebook.rulebook`: one row per subject
    (``what``), the ``rule`` with the protocol's numbers, and its ``source`` (``registry``,
    ``reading`` for the workbook's interpretation of an ambiguous sentence, or ``label`` for
    the Proleukin label).
    """
    book = rulebook(protocol)
    return book[book["topic"] == "treatment"][["what", "rule", "source"]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Validation of what a user passes in


def _check_arm(arm: str, protocol: Protocol) -> str:
    if not isinstance(arm, str):
        valid = " or ".join(repr(code) for code in protocol.arm_codes)
        raise ValueError(f"arm {arm!r} is not valid; use {valid}")
    protocol.arm(arm)
    return arm


def _check_enrollment(enrollment_number: int, protocol: Protocol) -> int:
    first = min(rule.first_enrollment_number for rule in protocol.sbrt.fractionation)
    if (
        isinstance(enrollment_number, bool)
        or not isinstance(enrollment_number, Integral)
        or enrollment_number < first
    ):
        raise ValueError(
            f"enrollment number {enrollment_number!r} is not valid; give a whole number from"
            f" {first} (the order of enrollment)"
        )
    return int(enrollment_number)


def _check_responder_cycles(count: int, protocol: Protocol) -> int:
    extra = protocol.il2.additional_cycles_for_responders
    if isinstance(count, bool) or not isinstance(count, Integral) or not 0 <= count <= extra:
        raise ValueError(
            f"responder cycles {count!r} is not valid; give a whole number from 0 to {extra}"
            f" (registry: '{rules.sentence_with(protocol.il2.quote, 'respond')}')"
        )
    return int(count)


def _check_patient_id(patient_id: str | None) -> str | None:
    """A patient id names calendar events and files: letters, digits, '-' and '_' only."""
    if patient_id is not None and (
        not isinstance(patient_id, str) or not ID_PATTERN.match(patient_id)
    ):
        raise ValueError(
            f"patient id {patient_id!r} is not valid; use letters, digits, '-' or '_' (at most"
            " 64 characters), as in the trial folder"
        )
    return patient_id


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
    before = pd.Timestamp(rules.last_before(pd.Series([date]), weekday).iloc[0])
    return before, before + pd.Timedelta(days=7)


def parse_il2_start(
    il2_start: str | dt.date | dt.datetime | pd.Timestamp, protocol: Protocol | None = None
) -> pd.Timestamp:
    """Read the first IL-2 dose's date or date and time, and check its weekday.

    A date alone (``"2024-03-04"`` or a :class:`datetime.date`) gets the protocol's default
    time of the first dose (``[il2].first_dose_time``); a datetime keeps its time.

    Raises
    ------
    ValueError
        When the text is not a date, or the day is not the protocol's ``[il2].start_weekday``;
        the message names the nearest days before and after that are.
    """
    protocol = resolve_protocol(protocol)
    first_dose = protocol.il2.first_dose_time
    example = "give an ISO date such as '2024-03-04'"
    if isinstance(il2_start, pd.Timestamp | dt.date):
        try:
            start = (
                pd.Timestamp(il2_start)
                if isinstance(il2_start, pd.Timestamp | dt.datetime)
                else pd.Timestamp(dt.datetime.combine(il2_start, first_dose))
            )
        except (ValueError, OverflowError) as error:
            raise ValueError(
                f"IL-2 start {il2_start!r} is not a date that can be planned; {example}"
            ) from error
    elif isinstance(il2_start, str):
        # Only ISO 8601: '03/04/2024' is 4 March in the United States and 3 April in Europe,
        # and 'now' or 'today' would plan from whenever the notebook happens to run.
        if not _ISO_START.fullmatch(il2_start.strip()):
            raise ValueError(
                f"IL-2 start {il2_start!r} is not an ISO 8601 date (year-month-day); {example}"
                " or a date and time such as '2024-03-04T08:00'"
            )
        try:
            start = pd.Timestamp(il2_start.strip())
        except (ValueError, OverflowError) as error:
            raise ValueError(
                f"IL-2 start {il2_start!r} is not a date that can be planned; {example}"
            ) from error
        if _date_only(il2_start) and not pd.isna(start):
            start = pd.Timestamp(dt.datetime.combine(start.date(), first_dose))
    else:
        raise ValueError(f"IL-2 start {il2_start!r} is not a date; {example}")
    if pd.isna(start):
        raise ValueError(f"IL-2 start {il2_start!r} is empty; {example}")
    if start.tzinfo is not None:
        start = start.tz_localize(None)
    # A plan runs for months after its start; pandas holds dates up to 2262-04-11.
    last = (pd.Timestamp.max - pd.DateOffset(years=10)).normalize()
    if not pd.Timestamp.min < start < last:
        raise ValueError(
            f"IL-2 start {il2_start!r} cannot be planned: a plan must start by {last.date()}"
            f" (dates up to {pd.Timestamp.max.date()} can be held); {example}"
        )
    weekday = protocol.il2.start_weekday
    if start.day_name() != weekday:
        before, after = _nearest(start.normalize(), weekday)
        raise ValueError(
            f"IL-2 start {day_label(start)} is a {start.day_name()}, but IL-2 starts on a"
            f" {weekday} ({rules.start_weekday_rule(protocol)}); the nearest"
            f" {weekday}s are {before.date()} and {after.date()}"
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
        The arm's code in the protocol.
    enrollment_number
        Order of enrollment (decides the number of SBRT fractions).
    il2_start
        First IL-2 dose of the plan (cycle 1, or the crossover's first cycle).
    dose
        The IL-2 dose for the patient's weight (:class:`studylib.dosing.IL2Dose`).
    fractions
        SBRT fractions in the plan (0 for an arm without SBRT's first course).
    events
        One row per event, columns :data:`EVENT_COLUMNS`: ``event`` (``sbrt_fraction``,
        ``il2_dose``, ``assessment``), ``cycle`` (Int64; for SBRT the cycle it precedes; empty
        for scans), ``number`` (fraction, dose or scan number), ``planned_at``, ``latest_at``
        (end of the allowed window), ``amount`` (Gy or IU; NaN for scans), ``unit``, ``label``
        and ``rule`` (the protocol rule behind the date).
    patient_id
        The patient, when known (used in labels and calendar ids).
    notes
        Remarks on how the plan was made (a default time, a start moved to its weekday).
    protocol
        The protocol the plan follows.
    """

    arm: str
    enrollment_number: int
    il2_start: pd.Timestamp
    dose: IL2Dose
    fractions: int
    events: pd.DataFrame
    patient_id: str | None = None
    notes: tuple[str, ...] = field(default=())
    protocol: Protocol = field(default_factory=lambda: resolve_protocol(None), repr=False)

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
        every = hours(self.protocol.il2.dose_interval)
        cycle_rows = pd.DataFrame(
            {
                "event": "il2_cycle",
                "cycle": cycles["cycle"],
                "what": [
                    f"IL-2 cycle {c}: up to {n} doses of {self.dose.miu:.1f} MIU every"
                    f" {every}, last slot {day_label(last)} {last:%H:%M}"
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
                f"{label.split(':')[0]} ({day_label(day)})"
                for label, day in zip(
                    mine.loc[superseded, "label"], mine.loc[superseded, "planned_at"], strict=True
                )
            ]
            crossover = other.events["cycle"].min() == self.protocol.crossover.first_cycle
            nxt = "the crossover" if crossover else "the next plan"
            notes += (
                f"Left out: {and_list(left_out)} of the first course, due on or after"
                f" {day_label(begins)} when {nxt} begins; {nxt}'s own scans replace them.",
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


def _frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    events = pd.concat([part[EVENT_COLUMNS] for part in parts if len(part)], ignore_index=True)
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


def _sbrt_events(number: int, il2_start: pd.Timestamp, cycle: int, protocol: Protocol):
    """The fractions the rules give before the cycle starting at ``il2_start``."""
    table = rules.fraction_days([number], pd.Series([il2_start]), protocol, cycle=cycle)
    gy = float(protocol.sbrt.dose_per_fraction.to("Gy").magnitude)
    day = pd.to_datetime(table["planned_on"])
    return pd.DataFrame(
        {
            "event": "sbrt_fraction",
            "cycle": cycle,
            "number": table["number"],
            "planned_at": day,
            "latest_at": day,
            "amount": gy,
            "unit": "Gy",
            "label": [
                f"SBRT fraction {k} of {n}: {gy:g} Gy"
                for k, n in zip(table["number"], table["fractions"], strict=True)
            ],
            "rule": table["rule"],
        }
    )


def _cycle_events(
    cycle: int, start: pd.Timestamp, delay: pd.Timedelta, dose: IL2Dose, why: str, protocol
) -> pd.DataFrame:
    """The dose slots of one cycle (registry: every 8 hours, up to 14 doses each cycle)."""
    slots = rules.dose_times([start], protocol)
    il2 = protocol.il2
    count = il2.max_doses_per_cycle
    rule = f"{why}; doses every {hours(il2.dose_interval)}, up to {count} per cycle (registry)"
    return pd.DataFrame(
        {
            "event": "il2_dose",
            "cycle": cycle,
            "number": slots["number"],
            "planned_at": slots["planned_at"],
            "latest_at": slots["planned_at"] + delay,
            "amount": dose.iu,
            "unit": "IU",
            "label": [
                f"IL-2 cycle {cycle}, dose {k} of {count}: {dose.miu:.1f} MIU"
                for k in slots["number"]
            ],
            "rule": rule,
        }
    )


def _scan_events(numbers, planned, latest, labels, rule_texts) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event": "assessment",
            "cycle": pd.NA,
            "number": numbers,
            "planned_at": pd.to_datetime(planned),
            "latest_at": pd.to_datetime(latest),
            "amount": np.nan,
            "unit": "",
            "label": labels,
            "rule": rule_texts,
        }
    )


def plan_treatment(
    arm: str,
    enrollment_number: int,
    il2_start: str | dt.date | dt.datetime | pd.Timestamp,
    weight: str | pint.Quantity,
    *,
    responder_cycles: int = 0,
    patient_id: str | None = None,
    protocol: Protocol | None = None,
) -> TreatmentPlan:
    """Plan the first course: SBRT (for an arm that receives it), IL-2 cycles and the scans.

    Parameters
    ----------
    arm
        An arm code of the protocol (``"A"``: IL-2 monotherapy, ``"B"``: SBRT + IL-2 in the
        bundled protocol).
    enrollment_number
        Order of enrollment, from 1: decides the SBRT fractions (``[[sbrt.fractionation]]``).
    il2_start
        Date (or date and time) of the first IL-2 dose, on ``[il2].start_weekday``.
    weight
        Actual body weight with its unit (``"72 kg"``, ``"176 lb"``).
    responder_cycles
        Further cycles to plan for a responder, 0 to ``[il2].additional_cycles_for_responders``;
        see ``[il2].responder_courses_reading`` for their dates.
    patient_id
        Shown in labels and used for calendar ids.
    protocol
        The protocol to plan by (default: the bundled one).

    Returns
    -------
    TreatmentPlan

    Raises
    ------
    ValueError
        Naming what would be valid: an arm the protocol does not have, an enrollment number
        that is not a whole number from 1, a start on another weekday (with the nearest valid
        days), a weight without a unit, not a mass, or outside the plausible range, or too
        many responder cycles.
    """
    protocol = resolve_protocol(protocol)
    arm, number, dose, start, extra, _ = _checked(
        lambda: _check_arm(arm, protocol),
        lambda: _check_enrollment(enrollment_number, protocol),
        lambda: il2_dose(weight, protocol=protocol),
        lambda: parse_il2_start(il2_start, protocol),
        lambda: _check_responder_cycles(responder_cycles, protocol),
        lambda: _check_patient_id(patient_id),
    )
    il2 = protocol.il2
    delay = pd.Timedelta(days=rules.whole_days(il2.allowed_delay))
    per_course = il2.cycles_in_first_course
    parts: list[pd.DataFrame] = []
    fractions = 0
    if protocol.arm(arm).receives_sbrt:
        parts.append(_sbrt_events(number, start, 1, protocol))
        fractions = protocol.sbrt.fractionation_for(number).fractions
    cycle_starts = {1: start}
    parts.append(
        _cycle_events(1, start, pd.Timedelta(0), dose, rules.first_cycle_rule(protocol), protocol)
    )
    scans = rules.scan_days([start], protocol)
    first_dose_time = start - start.normalize()
    for cycle in range(2, per_course + extra + 1):
        if (cycle - 1) % per_course:
            previous = cycle - 1
            planned, _ = rules.next_cycle(pd.Series([cycle_starts[previous]]), protocol)
            cycle_start = planned.iloc[0] + first_dose_time
            why = rules.next_cycle_rule(cycle, previous, protocol)
            if cycle > per_course:
                why += " (reading: a responder course's cycles follow as in the first course)"
        else:
            course = (cycle - 1) // per_course  # the course this cycle begins, counted from 0
            scan = scans.iloc[course - 1]
            monday = rules.responder_course_start([start], [scan["week"]], protocol)
            cycle_start = pd.Timestamp(monday[0]) + first_dose_time
            why = rules.responder_cycle_rule(cycle, scan["name"], protocol)
        cycle_starts[cycle] = cycle_start
        parts.append(_cycle_events(cycle, cycle_start, delay, dose, why, protocol))
    parts.append(
        _scan_events(
            scans["number"],
            scans["planned_on"],
            scans["latest_on"],
            "Scan " + scans["name"] + ": " + scans["purpose"],
            scans["rule"],
        )
    )
    return TreatmentPlan(
        arm=arm,
        enrollment_number=number,
        il2_start=start,
        dose=dose,
        fractions=fractions,
        events=_frame(parts),
        patient_id=patient_id,
        notes=_time_notes(il2_start, start),
        protocol=protocol,
    )


_ISO_START = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
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
    protocol: Protocol | None = None,
) -> TreatmentPlan:
    """Plan a crossover: SBRT, the crossover's IL-2 cycles and its response scan.

    Parameters
    ----------
    enrollment_number
        Order of enrollment: the same fraction rule as the first course's SBRT arm.
    il2_start
        First dose of the crossover's first cycle: the start weekday after the last fraction
        (see :func:`crossover_start`).
    weight
        Actual body weight with its unit.
    patient_id
        Shown in labels and used for calendar ids.
    protocol
        The protocol to plan by (default: the bundled one).

    Raises
    ------
    ValueError
        As :func:`plan_treatment`.
    """
    protocol = resolve_protocol(protocol)
    number, dose, start, _ = _checked(
        lambda: _check_enrollment(enrollment_number, protocol),
        lambda: il2_dose(weight, protocol=protocol),
        lambda: parse_il2_start(il2_start, protocol),
        lambda: _check_patient_id(patient_id),
    )
    crossover = protocol.crossover
    first = crossover.first_cycle
    delay = pd.Timedelta(days=rules.whole_days(protocol.il2.allowed_delay))
    parts = [
        _sbrt_events(number, start, first, protocol),
        _cycle_events(
            first, start, pd.Timedelta(0), dose, rules.crossover_cycle_rule(protocol), protocol
        ),
    ]
    cycle_start = start
    for cycle in range(first + 1, first + crossover.cycles):
        planned, _ = rules.next_cycle(pd.Series([cycle_start]), protocol)
        cycle_start = planned.iloc[0] + (start - start.normalize())
        why = rules.next_cycle_rule(cycle, cycle - 1, protocol, crossover=True)
        parts.append(_cycle_events(cycle, cycle_start, delay, dose, why, protocol))
    after = crossover.response_assessment_after
    planned = start.normalize() + pd.Timedelta(days=rules.whole_days(after))
    window = pd.Timedelta(days=rules.whole_days(protocol.assessments.window))
    parts.append(
        _scan_events(
            [1],
            [planned],
            [planned + window],
            [f"Scan crossover response: {weeks(after)} after the start of cycle {first}"],
            [rules.crossover_scan_rule(protocol)],
        )
    )
    return TreatmentPlan(
        arm=crossover.from_arm,
        enrollment_number=number,
        il2_start=start,
        dose=dose,
        fractions=protocol.sbrt.fractionation_for(number).fractions,
        events=_frame(parts),
        patient_id=patient_id,
        notes=_time_notes(il2_start, start),
        protocol=protocol,
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
    protocol: Protocol | None = None,
) -> dt.date:
    """The crossover's IL-2 start: the start weekday after the last SBRT fraction.

    Give either the date of the last fraction (which must fall on the protocol's last-fraction
    weekday), or the date progression was found together with the enrollment number: then the
    fractions are planned on the first days after progression that fit the fraction rule
    (one Friday; or Wednesday and Friday of one week, in the bundled protocol), and the start
    after them returned.

    Returns
    -------
    datetime.date
        A date, so that :func:`plan_crossover` gives it the default time of the first dose.

    Raises
    ------
    ValueError
        When neither or both dates are given, the last fraction is on another weekday (naming
        the valid days around it), or ``progressed_on`` comes without an enrollment number.
    """
    protocol = resolve_protocol(protocol)
    if (last_fraction_on is None) == (progressed_on is None):
        raise ValueError(
            "give either last_fraction_on (the date of the last SBRT fraction) or progressed_on"
            " (the date progression was found) with enrollment_number"
        )
    last_day = protocol.sbrt.last_fraction_weekday
    if last_fraction_on is not None:
        last = _as_date(last_fraction_on, "last fraction")
        if last.day_name() != last_day:
            before, after = _nearest(last, last_day)
            raise ValueError(
                f"last SBRT fraction {day_label(last)} is a {last.day_name()}; the last fraction"
                f" is given on a {last_day} (registry), such as {before.date()} or {after.date()}"
            )
    else:
        if enrollment_number is None:
            raise ValueError(
                f"progressed_on needs enrollment_number ({rules.fraction_ranges(protocol)})"
            )
        rule = protocol.sbrt.fractionation_for(_check_enrollment(enrollment_number, protocol))
        progressed = _as_date(progressed_on, "progression date")
        lead = (rules.weekday_number(last_day) - rules.weekday_number(rule.weekdays[0])) % 7
        # the first fraction must fall after the day progression was found
        earliest_last = progressed + pd.Timedelta(days=lead + 1)
        last = pd.Timestamp(rules.first_on_or_after(pd.Series([earliest_last]), last_day).iloc[0])
    return pd.Timestamp(rules.il2_start_after(pd.Series([last]), protocol).iloc[0]).date()


def plan_for_patient(
    randomization: dict,
    weight: str | pint.Quantity,
    dosing: pd.DataFrame,
    *,
    planned_start_at: dt.datetime | pd.Timestamp | None = None,
    protocol: Protocol | None = None,
) -> TreatmentPlan:
    """The protocol's plan for an enrolled patient of a trial folder, to compare with the
    records.

    The plan starts where the site scheduled IL-2 cycle 1 (the ``scheduled_at`` of its first
    slot in ``dosing.csv``), or, without dosing records, at ``planned_start_at`` (screening):
    the start itself for an arm without SBRT, the start weekday after it for an arm with SBRT
    (whose first treatment is SBRT). A start on another weekday is moved to the start weekday
    of its week, with a note, so that the protocol's plan can still be drawn; the deviation
    report flags the start. Cycles beyond the first course that are not a crossover are
    planned as responder cycles. A patient who crossed over gets the crossover plan from the
    scheduled start of the crossover's first cycle (or the start weekday after the last
    crossover fraction).

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
    protocol
        The protocol to plan by (default: the bundled one; a trial folder's is
        ``Cohort.protocol``).

    Raises
    ------
    ValueError
        When no start can be found, or the arm, enrollment number or weight is invalid.
    """
    protocol = resolve_protocol(protocol)
    patient = str(randomization["patient_id"])
    arm = str(randomization["arm"])
    number = randomization["enrollment_number"]
    number = int(number) if isinstance(number, Integral | np.integer) else number
    notes: list[str] = []
    il2 = dosing[dosing["treatment"] == "il2"]
    first_course = protocol.il2.cycles_in_first_course
    crossed = bool(yes_no(randomization.get("crossover"))) and arm == protocol.crossover.from_arm
    first_crossover = protocol.crossover.first_cycle

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
        if protocol.arm(arm).receives_sbrt:
            start = start + (
                pd.Timestamp(rules.il2_start_after(pd.Series([start]), protocol).iloc[0])
                - start.normalize()
            )
        notes.append("No IL-2 doses recorded yet: planned from screening's planned start.")
    start = _weekday_of(start, "IL-2 cycle 1", notes, protocol)
    cycles = il2["cycle"].dropna()
    last_cycle = int(cycles.max()) if len(cycles) else 1
    extra = 0 if crossed else max(0, last_cycle - first_course)
    extra = min(extra, protocol.il2.additional_cycles_for_responders)
    plan = plan_treatment(
        arm, number, start, weight, responder_cycles=extra, patient_id=patient, protocol=protocol
    )
    if crossed:
        cross_start = scheduled(first_crossover)
        if cross_start is None:
            fractions = dosing[
                (dosing["treatment"] == "sbrt") & (dosing["cycle"] == first_crossover)
            ]["scheduled_at"].dropna()
            if not len(fractions):
                return replace(plan, notes=tuple(notes) + plan.notes)
            cross_start = pd.Timestamp(
                rules.il2_start_after(pd.Series([fractions.max()]), protocol).iloc[0]
            )
        cross_start = _weekday_of(cross_start, f"IL-2 cycle {first_crossover}", notes, protocol)
        plan = plan.combined_with(
            plan_crossover(number, cross_start, weight, patient_id=patient, protocol=protocol)
        )
    return replace(plan, notes=tuple(notes) + plan.notes)


def _weekday_of(
    start: pd.Timestamp, what: str, notes: list[str], protocol: Protocol
) -> pd.Timestamp:
    """``start``, or the start weekday of its week (with a note) when it falls on another day."""
    start = pd.Timestamp(start)
    weekday = protocol.il2.start_weekday
    if start.day_name() == weekday:
        return start
    back = (start.weekday() - rules.weekday_number(weekday)) % 7
    moved = start - pd.Timedelta(days=back)
    notes.append(
        f"{what} was scheduled on {day_label(start)}, not a {weekday}; the protocol's plan is"
        f" drawn from {day_label(moved)}, the {weekday} of that week."
    )
    return moved
