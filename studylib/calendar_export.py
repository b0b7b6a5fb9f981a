"""A treatment plan as a CSV table and as an iCalendar (.ics) file for a calendar program.

The calendar has one event per SBRT fraction, one per IL-2 cycle, and one per scan:

- **SBRT fraction**: an all-day event on its day (radiation oncology sets the hour).
- **IL-2 cycle**: one event from the first to the last dose slot. The research nurse books the
  admission, the bed and the pharmacy per cycle, and the ward gives and records each dose on
  its own medication record; fourteen 8-hourly events per cycle (a third of them at midnight)
  would bury the calendar. The event's description lists every dose time, the dose in IU, MIU,
  mg and mL, the vials to prepare, and the latest day the cycle may start.
- **Scan**: an all-day event spanning its window, from the planned day to the last allowed
  day, so that the booking can be made anywhere in it.

Event ids are deterministic (patient, event, cycle, number), so importing an updated plan for
the same patient replaces its events instead of duplicating them. Times are floating local
times (no time zone), which calendar programs show in the user's own zone.

References
----------
RFC 5545 (iCalendar); the ``icalendar`` package.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import icalendar
import pandas as pd

from studylib.schedule import TreatmentPlan

__all__ = ["plan_table", "plan_to_csv", "plan_to_calendar", "plan_to_ics"]


def _trial(plan: TreatmentPlan) -> str:
    """The registry number of the plan's protocol (``NCT01416831``, ``NCT02306954``)."""
    return str(plan.protocol.trial.get("nct_id", "protocol"))


def _who(plan: TreatmentPlan) -> str:
    return plan.patient_id or f"enrollment {plan.enrollment_number}"


def _uid(plan: TreatmentPlan, what: str) -> str:
    """An event's UID, unique to the patient, the event and the trial."""
    return f"{_slug(_who(plan))}-{what}@studylib.{_slug(_trial(plan))}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def plan_table(plan: TreatmentPlan) -> pd.DataFrame:
    """The plan's events with the patient, arm and enrollment number, times as ISO text."""
    events = plan.events.copy()
    for column in ("planned_at", "latest_at"):
        events[column] = events[column].dt.strftime("%Y-%m-%dT%H:%M")
    events.insert(0, "enrollment_number", plan.enrollment_number)
    events.insert(0, "arm", plan.arm)
    events.insert(0, "patient_id", plan.patient_id or "")
    return events


def _write_atomically(path: Path, data: bytes) -> None:
    # A file appears only when complete, so an interrupted batch leaves no half calendar.
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# A spreadsheet runs a cell that starts with one of these as a formula ('=HYPERLINK(...)' in a
# patient id would open a link on a click): such text is written after an apostrophe, which
# spreadsheets show as text and do not display (OWASP, CSV injection).
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d*)?$")


def _as_text(value: object) -> object:
    if isinstance(value, str) and _FORMULA_START.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def plan_to_csv(plan: TreatmentPlan, path: str | Path | None = None) -> str:
    """The plan as CSV text (one row per event, with its rule); written to ``path`` if given.

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is
    written after an apostrophe, so that opening the file never runs it.
    """
    table = plan_table(plan)
    text_columns = table.select_dtypes(exclude=["number", "datetime", "bool"]).columns
    table[text_columns] = table[text_columns].map(_as_text)
    text = table.to_csv(index=False, lineterminator="\n")
    if path is not None:
        _write_atomically(Path(path), text.encode("utf-8"))
    return text


def _event(uid: str, summary: str, start, end, description: str, category: str, stamp):
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("categories", [category])
    return event


def _sbrt_events(plan: TreatmentPlan, rows: pd.DataFrame, stamp) -> list[icalendar.Event]:
    who = _who(plan)
    events = []
    for row in rows.itertuples(index=False):
        day = row.planned_at.date()
        events.append(
            _event(
                _uid(plan, f"sbrt-c{row.cycle}-n{row.number}"),
                f"{who}: {row.label}",
                day,
                day + dt.timedelta(days=1),
                f"{row.label}, before IL-2 cycle {row.cycle}.\nRule: {row.rule}",
                "SBRT",
                stamp,
            )
        )
    return events


def _cycle_events(plan: TreatmentPlan, doses: pd.DataFrame, stamp) -> list[icalendar.Event]:
    who, dose = _who(plan), plan.dose
    vial = plan.protocol.il2.vial_content.to("MIU").magnitude
    events = []
    for cycle, rows in doses.groupby("cycle", sort=True):
        first, last = rows.iloc[0], rows.iloc[-1]
        latest = first["latest_at"]
        times = ", ".join(
            f"{number} {when:%a %H:%M}"
            for number, when in zip(rows["number"], rows["planned_at"], strict=True)
        )
        start_line = f"Planned start: {first['planned_at']:%a %Y-%m-%d %H:%M}"
        if latest > first["planned_at"]:
            start_line += f"; may start as late as {latest:%a %Y-%m-%d %H:%M} (allowed delay)"
        description = "\n".join(
            [
                start_line,
                f"Dose: {dose.shown_iu} = {dose.miu:.1f} MIU = {dose.mg:.2f} mg ="
                f" {dose.volume.to('mL').magnitude:.2f} mL reconstituted, for"
                f" {dose.shown_weight}; prepare {dose.vials} vial(s) of"
                f" {vial:g} MIU per dose.",
                f"Dose times (up to {len(rows)}): {times}.",
                f"Rule: {first['rule']}",
            ]
        )
        events.append(
            _event(
                _uid(plan, f"il2-c{cycle}"),
                f"{who}: IL-2 cycle {cycle}, up to {len(rows)} doses of {dose.miu:.1f} MIU",
                first["planned_at"].to_pydatetime(),
                last["planned_at"].to_pydatetime(),
                description,
                "IL-2",
                stamp,
            )
        )
    return events


def _scan_events(plan: TreatmentPlan, rows: pd.DataFrame, stamp) -> list[icalendar.Event]:
    who = _who(plan)
    events = []
    for row in rows.itertuples(index=False):
        name = row.label.split(":")[0]
        events.append(
            _event(
                _uid(plan, _slug(name)),
                f"{who}: {name} (by {row.latest_at:%a %Y-%m-%d})",
                row.planned_at.date(),
                row.latest_at.date() + dt.timedelta(days=1),
                f"{row.label}.\nPlanned {row.planned_at:%a %Y-%m-%d}, at the latest"
                f" {row.latest_at:%a %Y-%m-%d}.\nRule: {row.rule}",
                "Imaging",
                stamp,
            )
        )
    return events


def plan_to_calendar(
    plan: TreatmentPlan, *, stamp: dt.datetime | None = None
) -> icalendar.Calendar:
    """The plan as an :class:`icalendar.Calendar` (see the module notes for its events).

    Parameters
    ----------
    plan
        From :func:`studylib.schedule.plan_treatment` or :func:`~studylib.schedule.plan_crossover`.
    stamp
        When the calendar was made (``DTSTAMP``); default now, in UTC. Give a fixed value for a
        byte-identical file.
    """
    stamp = stamp or dt.datetime.now(dt.UTC)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//studylib//{_trial(plan)} treatment plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{_who(plan)}: treatment plan ({_trial(plan)})")
    events = plan.events
    kinds = (
        (_sbrt_events, "sbrt_fraction"),
        (_cycle_events, "il2_dose"),
        (_scan_events, "assessment"),
    )
    for build, kind in kinds:
        for event in build(plan, events[events["event"] == kind], stamp):
            calendar.add_component(event)
    return calendar


def plan_to_ics(
    plan: TreatmentPlan, path: str | Path | None = None, *, stamp: dt.datetime | None = None
) -> bytes:
    """The plan as the bytes of an .ics file; written to ``path`` if given."""
    data = plan_to_calendar(plan, stamp=stamp).to_ical()
    if path is not None:
        _write_atomically(Path(path), data)
    return data
