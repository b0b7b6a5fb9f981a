"""The schedule explorer: pick arm, enrolment number, start date and weight; see the calendar.

The panel calls :func:`studylib.schedule.plan_treatment` and shows what it planned: a month
calendar of the SBRT fractions, IL-2 doses and scans, the dose and vials of
:mod:`studylib.dosing`, and every event with the rule that dated it. Two rules are marked on
the calendar because staff get them wrong most: IL-2 cycles start on a Monday, and the last
SBRT fraction falls on the Friday before (the weekdays of the protocol given). The panel only
marks the events the engine planned (the first dose of each cycle, the last fraction); a
start on another weekday is refused by the engine, and its message, with the nearest valid
days, is shown as it is.
"""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as widgets
import pandas as pd

from studylib import calendar_rules as rules
from studylib.protocol import Protocol, resolve_protocol
from studylib.schedule import TreatmentPlan, plan_treatment
from studylib.widgets.style import message_html, table_html

__all__ = ["ScheduleExplorer", "calendar_html", "demo_start", "demo_enrollment_number"]

#: The tour's example week: its first IL-2 dose is the protocol's start weekday on or after.
_DEMO_WEEK = dt.date(2012, 3, 5)


def demo_start(protocol: Protocol | None = None) -> dt.date:
    """The tour's default first IL-2 dose: a day the protocol allows (a Monday in the bundled
    protocol: Monday 5 March 2012)."""
    day = rules.first_on_or_after(
        pd.Series([pd.Timestamp(_DEMO_WEEK)]), resolve_protocol(protocol).il2.start_weekday
    )
    return day.iloc[0].date()


def demo_enrollment_number(protocol: Protocol | None = None) -> int:
    """The tour's default enrolment number: the first of the last fractionation range, so that
    the example shows the most SBRT fractions (21 in the bundled protocol: two fractions)."""
    return resolve_protocol(protocol).sbrt.fractionation[-1].first_enrollment_number


_SBRT = "#f4a582"
_IL2 = "#92c5de"
_SCAN = "#d9d9d9"
_WINDOW = "#eef5fb"
_MARK = "3px solid #b2182b"


def _day_events(events: pd.DataFrame) -> dict[pd.Timestamp, list[str]]:
    """What happens on each day, one short line per kind of event, in HTML."""
    lines: dict[pd.Timestamp, list[str]] = {}
    day = events["planned_at"].dt.normalize()
    for (date, kind), group in events.groupby([day, "event"], sort=True):
        if kind == "il2_dose":
            cycle = int(group["cycle"].iloc[0])
            numbers = group["number"]
            span = f"{numbers.min()}" if len(group) == 1 else f"{numbers.min()}-{numbers.max()}"
            times = ", ".join(group["planned_at"].dt.strftime("%H:%M"))
            text = f"IL-2 c{cycle} dose {span}<br><small>{times}</small>"
            colour = _IL2
        elif kind == "sbrt_fraction":
            text = "<br>".join(html.escape(label) for label in group["label"])
            colour = _SBRT
        else:
            text = "<br>".join(html.escape(label) for label in group["label"])
            colour = _SCAN
        lines.setdefault(date, []).append(
            f'<div style="background:{colour};border-radius:3px;padding:1px 3px;margin:1px 0">'
            f"{text}</div>"
        )
    return lines


def _marks(events: pd.DataFrame, protocol: Protocol) -> dict[pd.Timestamp, str]:
    """The days to outline: each cycle's first dose (the Monday rule) and the last SBRT
    fraction (the Friday rule), named as staff name them. The weekday in brackets is the day
    the engine planned."""
    start_day = protocol.il2.start_weekday
    last_fraction_day = protocol.sbrt.last_fraction_weekday
    marks: dict[pd.Timestamp, str] = {}
    firsts = events[(events["event"] == "il2_dose") & (events["number"] == 1)]
    for _, row in firsts.iterrows():
        day = row["planned_at"].normalize()
        marks[day] = f"{start_day} rule: cycle {int(row['cycle'])} starts ({day:%A})"
    fractions = events[events["event"] == "sbrt_fraction"]
    if len(fractions):
        last = fractions.loc[fractions["planned_at"].idxmax(), "planned_at"].normalize()
        marks[last] = f"{last_fraction_day} rule: last SBRT fraction ({last:%A})"
    return marks


def _windows(events: pd.DataFrame) -> dict[pd.Timestamp, str]:
    """Days after a cycle's planned start up to its latest allowed start (the delay window)."""
    shaded: dict[pd.Timestamp, str] = {}
    firsts = events[(events["event"] == "il2_dose") & (events["number"] == 1)]
    for _, row in firsts.iterrows():
        planned, latest = row["planned_at"].normalize(), row["latest_at"].normalize()
        for day in pd.date_range(planned + pd.Timedelta(days=1), latest, freq="D"):
            shaded[day] = f"cycle {int(row['cycle'])} may still start (latest {latest:%a %d %b})"
    return shaded


def _quiet_row(weeks: int) -> str:
    text = f"{weeks} week{'s' if weeks > 1 else ''} with no treatment and no scan"
    return (
        f'<tr><td colspan="7" style="text-align:center;color:#888;border:1px dashed #ccc">'
        f"⋯ {text} ⋯</td></tr>"
    )


def calendar_html(plan: TreatmentPlan, until: pd.Timestamp | None = None) -> str:
    """A Monday-first calendar of the plan's events, with the Monday and Friday rules outlined.

    Parameters
    ----------
    plan
        What :func:`studylib.schedule.plan_treatment` returned.
    until
        Last day to draw (default: the last day any event of the plan may happen).
    """
    events = plan.events
    first = events["planned_at"].min().normalize()
    last = until if until is not None else events["latest_at"].max().normalize()
    start = first - pd.Timedelta(days=first.weekday())
    days = pd.date_range(start, last + pd.Timedelta(days=6 - last.weekday()), freq="D")
    lines, marks, windows = _day_events(events), _marks(events, plan.protocol), _windows(events)
    head = "".join(
        f'<th style="padding:2px 4px;background:#f0f0f0">{d.strftime("%a")}</th>' for d in days[:7]
    )
    rows: list[str] = []
    quiet = 0  # weeks in a row with nothing planned: folded into one line
    for week in range(0, len(days), 7):
        week_days = days[week : week + 7]
        if not any(d in lines or d in windows or d in marks for d in week_days):
            quiet += 1
            continue
        if quiet:
            rows.append(_quiet_row(quiet))
            quiet = 0
        cells = []
        for day in week_days:
            style = "border:1px solid #ccc;vertical-align:top;width:118px;height:44px;padding:2px"
            title = ""
            if day in windows:
                style += f";background:{_WINDOW}"
                title = windows[day]
            note = ""
            if day in marks:
                style += f";outline:{_MARK};outline-offset:-3px"
                title = marks[day]
                note = f'<div style="color:#b2182b;font-size:80%"><b>{marks[day]}</b></div>'
            body = "".join(lines.get(day, []))
            cells.append(
                f'<td style="{style}" title="{html.escape(title)}">'
                f'<div style="color:#666;font-size:80%">{day:%d %b}</div>{note}{body}</td>'
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<table class="studylib-calendar" '
        'style="border-collapse:collapse;font-size:80%;line-height:1.25">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


class ScheduleExplorer(widgets.VBox):
    """Arm, enrolment number, IL-2 start and weight in; the engine's plan out, as a calendar.

    Parameters
    ----------
    arm, enrollment_number, il2_start, weight
        Starting values (default: the first arm with SBRT, :func:`demo_enrollment_number`,
        :func:`demo_start`, 70 kg; in the bundled protocol arm B, patient 21, Monday 5 March
        2012).
    protocol
        The protocol the explorer plans by (default: the bundled one).

    Attributes
    ----------
    arm, enrollment_number, il2_start, weight
        The controls (Dropdown, IntText, DatePicker, Text).
    summary
        One paragraph: fractions, cycle starts, dose and vials (class
        ``studylib-schedule-summary``), or the engine's message for invalid input.
    calendar
        The calendar (class ``studylib-calendar``).
    dose_table
        The dose preparation table of :mod:`studylib.dosing`.
    events_table
        Every fraction, dose and scan with its window and rule.
    plan
        The engine's :class:`~studylib.schedule.TreatmentPlan`, or ``None`` for invalid input.
    error
        The engine's message for invalid input, else empty.
    """

    def __init__(
        self,
        arm: str | None = None,
        enrollment_number: int | None = None,
        il2_start: dt.date | None = None,
        weight: str = "70 kg",
        *,
        protocol: Protocol | None = None,
    ) -> None:
        self.protocol = protocol = resolve_protocol(protocol)
        if arm is None:
            arm = next((a.code for a in protocol.arms if a.receives_sbrt), protocol.arm_codes[0])
        if enrollment_number is None:
            enrollment_number = demo_enrollment_number(protocol)
        if il2_start is None:
            il2_start = demo_start(protocol)
        self.plan: TreatmentPlan | None = None
        self.error = ""
        wide = {"description_width": "170px"}
        self.arm = widgets.Dropdown(
            options=[(f"{a.code}: {a.name}", a.code) for a in protocol.arms],
            value=arm,
            description="Arm",
            style=wide,
        )
        self.enrollment_number = widgets.IntText(
            value=enrollment_number, description="Enrolment number", style=wide
        )
        self.il2_start = widgets.DatePicker(
            value=il2_start, description="First IL-2 dose on", style=wide
        )
        self.weight = widgets.Text(value=weight, description="Body weight", style=wide)
        self.il2_start.add_class("studylib-il2-start")
        self.weight.add_class("studylib-weight")
        self.summary = widgets.HTML()
        self.summary.add_class("studylib-schedule-summary")
        self.calendar = widgets.HTML()
        self.dose_table = widgets.HTML()
        self.events_table = widgets.HTML()
        details = widgets.Accordion(
            children=[self.dose_table, self.events_table],
            titles=["Dose and vials, step by step", "Every fraction, dose and scan, with its rule"],
            selected_index=None,
        )
        controls = [self.arm, self.enrollment_number, self.il2_start, self.weight]
        for control in controls:
            control.observe(self._update, names="value")
        super().__init__(
            [
                widgets.HBox([widgets.VBox(controls[:2]), widgets.VBox(controls[2:])]),
                self.summary,
                self.calendar,
                details,
            ]
        )
        self.add_class("studylib-schedule")
        self._update()

    def _update(self, _change=None) -> None:
        try:
            plan = plan_treatment(
                self.arm.value,
                self.enrollment_number.value,
                self.il2_start.value,
                self.weight.value,
                protocol=self.protocol,
            )
        except ValueError as error:
            self.plan, self.error = None, str(error)
            self.summary.value = message_html(str(error))
            self.calendar.value = self.dose_table.value = self.events_table.value = ""
            return
        self.plan, self.error = plan, ""
        self.summary.value = summary_html(plan)
        self.calendar.value = calendar_html(plan)
        self.dose_table.value = table_html(
            plan.preparation_table()[["item", "shown", "rule"]].rename(columns={"shown": "value"})
        )
        self.events_table.value = table_html(events_table(plan))

    def static(self) -> list[object]:
        """Summary, calendar and dose table as static output (no front end needed)."""
        from IPython.display import HTML

        return [HTML(self.summary.value), HTML(self.calendar.value), HTML(self.dose_table.value)]


def events_table(plan: TreatmentPlan) -> pd.DataFrame:
    """The plan's events for reading: when, until when, what, and the rule behind the date.

    Only IL-2 doses carry a time of day (their 8-hourly slots); the engine dates SBRT
    fractions and scans by the day, so they are shown without a time rather than at "00:00".
    """
    events = plan.events
    timed = events["event"] == "il2_dose"

    def when(column: str) -> pd.Series:
        day = events[column].dt.strftime("%a %d %b %Y")
        return day.where(~timed, events[column].dt.strftime("%a %d %b %Y %H:%M"))

    return pd.DataFrame(
        {
            "planned": when("planned_at"),
            "latest": when("latest_at"),
            "what": events["label"],
            "rule": events["rule"],
        }
    )


def summary_html(plan: TreatmentPlan) -> str:
    """The plan in two sentences: SBRT days, cycle starts with their latest day, dose, vials."""
    events = plan.events
    fractions = events[events["event"] == "sbrt_fraction"]
    cycles = plan.cycles()
    arm = plan.protocol.arm(plan.arm)
    if len(fractions):
        days = " and ".join(f"{d:%a %d %b}" for d in fractions["planned_at"])
        gy = fractions["amount"].iloc[0]
        sbrt = f"SBRT: {len(fractions)} × {gy:g} Gy on {days}. "
    else:
        sbrt = "No SBRT in this arm. "
    starts = "; ".join(
        f"cycle {row.cycle} on {row.planned_start:%a %d %b %H:%M}"
        + (
            f" (may slip until {row.latest_start:%a %d %b})"
            if row.latest_start != row.planned_start
            else ""
        )
        for row in cycles.itertuples()
    )
    dose = plan.dose
    notes = "".join(f"<br><i>{html.escape(n)}</i>" for n in plan.notes)
    return (
        f"<b>Arm {arm.code} ({html.escape(arm.name)}), enrolment number "
        f"{plan.enrollment_number}.</b> {sbrt}IL-2 {starts}. "
        f"Each dose: {dose.miu:.1f} MIU ({dose.mg:.2f} mg, {dose.volume.to('mL').magnitude:.2f} mL)"
        f" for {plan.weight.to('kg').magnitude:.1f} kg, from {dose.vials} vials.{notes}"
    )
