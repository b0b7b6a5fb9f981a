"""One patient's treatment timeline: SBRT, IL-2 cycles, doses given and held, scans.

The figure draws the protocol's plan in light colours (planned fractions, dose slots, each
cycle's allowed start window, each scan's window) and what happened on top (fractions given,
doses given and held, scans done). It applies no rule: plan and records come from
:mod:`studylib.schedule` and ``dosing.csv``. Built without pyplot, like every figure of
:mod:`studylib.plots`.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from studylib.protocol import Protocol, resolve_protocol
from studylib.schedule import TreatmentPlan
from studylib.units import format_quantity

__all__ = ["treatment_timeline", "TIMELINE_COLOURS"]

#: Colours (Okabe-Ito, colour-blind safe).
TIMELINE_COLOURS = {
    "planned": "#BBBBBB",
    "window": "#E69F00",
    "sbrt": "#CC79A7",
    "given": "#009E73",
    "held": "#D55E00",
    "scan": "#0072B2",
}


def _rows(plan_events: pd.DataFrame, dosing: pd.DataFrame) -> list[tuple[str, str, int | None]]:
    """The lanes from top to bottom: SBRT before each cycle that has it, each cycle, scans."""
    cycles = set(plan_events.loc[plan_events["event"] == "il2_dose", "cycle"].dropna())
    sbrt = set(plan_events.loc[plan_events["event"] == "sbrt_fraction", "cycle"].dropna())
    if len(dosing):
        cycles |= set(dosing.loc[dosing["treatment"] == "il2", "cycle"].dropna())
        sbrt |= set(dosing.loc[dosing["treatment"] == "sbrt", "cycle"].dropna())
    lanes: list[tuple[str, str, int | None]] = []
    for cycle in sorted(int(c) for c in cycles | sbrt):
        if cycle in sbrt:
            lanes.append((f"SBRT before cycle {cycle}", "sbrt", cycle))
        if cycle in cycles:
            lanes.append((f"IL-2 cycle {cycle}", "il2", cycle))
    lanes.append(("Scans", "scan", None))
    return lanes


def treatment_timeline(
    plan: TreatmentPlan | None = None,
    dosing: pd.DataFrame | None = None,
    scans: pd.Series | list | None = None,
    *,
    title: str | None = None,
    protocol: Protocol | None = None,
) -> Figure:
    """Draw one patient's plan and what was given.

    Parameters
    ----------
    plan
        The protocol's plan (:func:`studylib.schedule.plan_treatment`, possibly combined with
        :func:`~studylib.schedule.plan_crossover`).
    dosing
        The patient's rows of ``dosing.csv``: ``treatment``, ``cycle``, ``scheduled_at``,
        ``given_at``, ``status``.
    scans
        Dates of the scans done (``assessments.csv``).
    title
        Figure title (default: the patient id of the plan).
    protocol
        The protocol, when no plan is given (a plan carries its own).

    Returns
    -------
    matplotlib.figure.Figure
    """
    events = plan.events if plan is not None else pd.DataFrame(columns=_EVENT_COLUMNS)
    dosing = dosing if dosing is not None else pd.DataFrame(columns=_DOSING_COLUMNS)
    lanes = _rows(events, dosing)
    y = {(kind, cycle): len(lanes) - i for i, (_, kind, cycle) in enumerate(lanes)}
    cycles = [cycle for _, kind, cycle in lanes if kind == "il2"]
    figure = Figure(figsize=(11, 0.5 * (len(lanes) + len(cycles)) + 3.6), layout="constrained")
    ax, grid = figure.subplots(2, 1, height_ratios=[len(lanes) + 1.5, max(len(cycles), 1) + 1])
    _draw_plan(ax, events, y)
    _draw_records(ax, dosing, scans, y)
    ax.set_yticks([y[(kind, cycle)] for _, kind, cycle in lanes])
    ax.set_yticklabels([name for name, _, _ in lanes])
    ax.set_ylim(0.3, len(lanes) + 0.8)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", alpha=0.3)
    who = plan.patient_id if plan is not None and plan.patient_id else None
    ax.set_title(title or ("Treatment timeline" + (f" of {who}" if who else "")))
    ax.legend(
        handles=_legend(),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    protocol = plan.protocol if plan is not None else resolve_protocol(protocol)
    _dose_grid(grid, events, dosing, cycles, protocol)
    return figure


_EVENT_COLUMNS = ["event", "cycle", "number", "planned_at", "latest_at", "label"]
_DOSING_COLUMNS = ["treatment", "cycle", "number", "scheduled_at", "given_at", "status"]


def _lane(y: dict, kind: str, cycles: pd.Series) -> list[int]:
    return [y[(kind, int(cycle))] for cycle in cycles]


def _draw_plan(ax, events: pd.DataFrame, y: dict) -> None:
    """Planned fractions and dose slots in grey; the allowed delays and scan windows shaded."""
    colours = TIMELINE_COLOURS
    sbrt = events[events["event"] == "sbrt_fraction"]
    ax.plot(
        sbrt["planned_at"],
        _lane(y, "sbrt", sbrt["cycle"]),
        "s",
        mfc="none",
        mec=colours["planned"],
        ms=11,
        mew=1.5,
        ls="none",
    )
    doses = events[events["event"] == "il2_dose"]
    ax.plot(
        doses["planned_at"],
        _lane(y, "il2", doses["cycle"]),
        "|",
        color=colours["planned"],
        ms=14,
        mew=1.5,
        ls="none",
    )
    starts = doses[(doses["number"] == 1) & (doses["latest_at"] > doses["planned_at"])]
    ax.barh(
        _lane(y, "il2", starts["cycle"]),
        starts["latest_at"] - starts["planned_at"],
        left=starts["planned_at"],
        height=0.7,
        color=colours["window"],
        alpha=0.25,
        lw=0,
    )
    scans = events[events["event"] == "assessment"]
    lane = y[("scan", None)]
    ax.barh(
        np.full(len(scans), lane),
        scans["latest_at"] - scans["planned_at"] + pd.Timedelta(days=1),
        left=scans["planned_at"],
        height=0.6,
        color=colours["scan"],
        alpha=0.2,
        lw=0,
    )
    for index, row in enumerate(scans.itertuples(index=False)):
        # alternate above and below, so that scans close together stay readable
        offset = 0.35 if index % 2 == 0 else -0.5
        name = row.label.split(":")[0].replace("Scan ", "")
        ax.annotate(name, (row.planned_at, lane + offset), fontsize=7, color=colours["scan"])


def _draw_records(ax, dosing: pd.DataFrame, scans, y: dict) -> None:
    """What happened: fractions and doses given, doses held, scans done."""
    colours = TIMELINE_COLOURS
    given = dosing[dosing["status"] == "given"]
    for kind, marker, colour in (("sbrt", "s", colours["sbrt"]), ("il2", "o", colours["given"])):
        rows = given[given["treatment"] == kind]
        ax.plot(
            rows["given_at"], _lane(y, kind, rows["cycle"]), marker, color=colour, ms=6, ls="none"
        )
    held = dosing[(dosing["status"] == "held") & (dosing["treatment"] == "il2")]
    ax.plot(
        held["scheduled_at"],
        _lane(y, "il2", held["cycle"]),
        "x",
        color=colours["held"],
        ms=7,
        mew=2,
        ls="none",
    )
    if scans is not None and len(scans):
        dates = pd.to_datetime(pd.Series(list(scans))).drop_duplicates()
        ax.plot(
            dates,
            np.full(len(dates), y[("scan", None)]),
            "D",
            color=colours["scan"],
            ms=7,
            ls="none",
        )


def _legend() -> list:
    colours = TIMELINE_COLOURS
    return [
        Line2D(
            [], [], marker="s", mfc="none", mec=colours["planned"], ls="none", label="SBRT planned"
        ),
        Line2D([], [], marker="s", color=colours["sbrt"], ls="none", label="SBRT given"),
        Line2D(
            [],
            [],
            marker="|",
            color=colours["planned"],
            ls="none",
            ms=12,
            label="IL-2 dose slot planned",
        ),
        Line2D([], [], marker="o", color=colours["given"], ls="none", label="IL-2 dose given"),
        Line2D([], [], marker="x", color=colours["held"], ls="none", mew=2, label="IL-2 dose held"),
        Patch(color=colours["window"], alpha=0.25, label="Allowed delay of a cycle start"),
        Patch(color=colours["scan"], alpha=0.2, label="Scan window"),
        Line2D([], [], marker="D", color=colours["scan"], ls="none", label="Scan done"),
    ]


def _dose_grid(
    ax, events: pd.DataFrame, dosing: pd.DataFrame, cycles: list[int], protocol: Protocol
) -> None:
    """Each cycle's dose slots side by side: planned (ring), given (dot), held (cross)."""
    colours = TIMELINE_COLOURS
    y = {cycle: len(cycles) - i for i, cycle in enumerate(cycles)}
    planned = events[events["event"] == "il2_dose"]
    ax.plot(
        planned["number"].astype(int),
        [y[int(c)] for c in planned["cycle"]],
        "o",
        mfc="none",
        mec=colours["planned"],
        ms=10,
        ls="none",
    )
    il2 = dosing[dosing["treatment"] == "il2"]
    for status, marker, colour in (
        ("given", "o", colours["given"]),
        ("held", "x", colours["held"]),
    ):
        rows = il2[il2["status"] == status]
        ax.plot(
            rows["number"].astype(int),
            [y[int(c)] for c in rows["cycle"]],
            marker,
            color=colour,
            ms=7,
            mew=2,
            ls="none",
        )
    for cycle in cycles:
        rows = il2[il2["cycle"] == cycle]
        if len(rows):
            given = int((rows["status"] == "given").sum())
            ax.annotate(
                f"{given} given, {len(rows) - given} held",
                (1.0, y[cycle]),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    numbers = [int(n) for n in (*planned["number"].dropna(), *il2["number"].dropna())]
    last = max(numbers, default=1)
    ax.set_xticks(range(1, last + 1))
    ax.set_xlim(0.3, last + 0.7)
    ax.set_yticks([y[c] for c in cycles])
    ax.set_yticklabels([f"IL-2 cycle {c}" for c in cycles])
    ax.set_ylim(0.3, len(cycles) + 0.7)
    every = format_quantity(protocol.il2.dose_interval)
    ax.set_xlabel(f"Dose slot in the cycle (every {every})")
    ax.set_title("Doses by slot: ring = planned, dot = given, cross = held", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
