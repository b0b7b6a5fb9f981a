"""Safety figures: dose delivery by arm, and a patient's dose slots and lab grades over time.

Each function takes the tables of :mod:`studylib.safety` (no rule is applied here) and returns
a :class:`matplotlib.figure.Figure` built without pyplot. The maximum doses drawn come from the
protocol the tables were made with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from studylib.plots.colours import ACTION_COLOURS, GRADE_COLOURS, arm_colours
from studylib.protocol import Protocol, resolve_protocol
from studylib.safety.delivery import DoseDelivery

__all__ = ["dose_delivery_figure", "patient_safety_figure"]


def dose_delivery_figure(delivery: DoseDelivery, *, protocol: Protocol | None = None) -> Figure:
    """Doses given in each IL-2 cycle by arm (one dot per patient, the median as a bar), and
    why doses were held and cycles stopped, by arm.

    Parameters
    ----------
    delivery
        :func:`studylib.safety.dose_delivery`.
    protocol
        The protocol the delivery was computed with (its arms and maximum doses per cycle).
    """
    protocol = resolve_protocol(protocol)
    colours = arm_colours(protocol)
    arms = [a for a in protocol.arm_codes if a in set(delivery.cycles["arm"])]
    fig = Figure(figsize=(12, 5), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.2])
    rng = np.random.default_rng(0)  # jitter only: the same picture every run
    width = 0.8 / max(len(arms), 1)
    for k, arm in enumerate(arms):
        rows = delivery.cycles[delivery.cycles["arm"] == arm]
        x = rows["cycle"].to_numpy(float) + (k - (len(arms) - 1) / 2) * width
        left.scatter(
            x + rng.uniform(-width / 4, width / 4, len(x)),
            rows["given"],
            s=14,
            color=colours[arm],
            alpha=0.6,
            label=f"Arm {arm}: {protocol.arm(arm).name}",
        )
        medians = rows.groupby("cycle")["given"].median()
        offset = (k - (len(arms) - 1) / 2) * width
        left.hlines(
            medians,
            medians.index + offset - width / 2,
            medians.index + offset + width / 2,
            color=colours[arm],
            linewidth=3,
        )
    left.axhline(
        protocol.il2.max_doses_per_cycle,
        color="#555555",
        linestyle="--",
        linewidth=1,
        label=f"Maximum: {protocol.il2.max_doses_per_cycle} doses per cycle",
    )
    left.set_xlabel("IL-2 cycle")
    left.set_ylabel("Doses given")
    left.set_xticks(sorted(delivery.cycles["cycle"].unique()))
    left.set_ylim(0, protocol.il2.max_doses_per_cycle + 1)
    left.set_title("Doses given per cycle (dots: patients; bars: median)")
    left.legend(loc="lower left", fontsize=8)
    _hold_bars(right, delivery.hold_reasons, arms, colours)
    fig.suptitle(f"IL-2 dose delivery ({delivery.protocol})", fontsize=11)
    return fig


def _hold_bars(ax, reasons: pd.DataFrame, arms: list[str], colours: dict[str, str]) -> None:
    if reasons.empty:
        ax.text(0.5, 0.5, "No dose held", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    label = np.where(reasons["kind"] == "stopped", "cycle stopped: ", "dose held: ")
    table = reasons.assign(label=label + reasons["reason"]).pivot_table(
        index="label", columns="arm", values="events", aggfunc="sum", fill_value=0
    )
    table = table.loc[table.sum(axis=1).sort_values().index]
    y = np.arange(len(table))
    height = 0.8 / max(len(arms), 1)
    for k, arm in enumerate(arms):
        values = table[arm] if arm in table else np.zeros(len(table))
        ax.barh(
            y + (k - (len(arms) - 1) / 2) * height,
            values,
            height,
            color=colours[arm],
            label=f"Arm {arm}",
        )
    ax.set_yticks(y, table.index, fontsize=8)
    ax.set_xlabel("Doses held, or cycles stopped")
    ax.set_title("Why doses were held and cycles stopped")
    ax.legend(fontsize=8, loc="lower right")


def patient_safety_figure(slots: pd.DataFrame, grades: pd.DataFrame, patient_id: str) -> Figure:
    """A patient's IL-2 cycles side by side (each from its first dose, a week wide): the dose
    slots (what the criteria said: give, hold, stop; the slots of a stopped cycle in grey)
    above the CTCAE grades of the laboratory values of that week.

    Parameters
    ----------
    slots
        :func:`studylib.safety.judge_slots` (any patients; this one is drawn).
    grades
        :func:`studylib.safety.lab_grades` (any patients; this one is drawn).
    patient_id
        Whose figure.
    """
    mine = slots[slots["patient_id"] == patient_id]
    labs = grades[(grades["patient_id"] == patient_id) & grades["grade"].notna()]
    terms = sorted(labs["term"].unique())
    starts = mine.groupby("cycle")["scheduled_at"].min().dt.normalize()
    width = 7.0  # days shown of each cycle
    fig = Figure(figsize=(2.5 + 1.6 * max(len(starts), 1), 2.2 + 0.28 * max(len(terms), 1)))
    top, bottom = fig.subplots(
        2, 1, sharex=True, height_ratios=[1, max(len(terms), 1)], gridspec_kw={"hspace": 0.08}
    )

    def position(cycle: pd.Series, when: pd.Series) -> np.ndarray:
        start = cycle.map(starts)
        offset = cycle.map({c: i for i, c in enumerate(starts.index)})
        return (offset * (width + 1) + (when - start) / pd.Timedelta(days=1)).to_numpy(float)

    action = np.where(mine["action"] != "", mine["action"], mine["recorded"])
    top.scatter(
        position(mine["cycle"], mine["scheduled_at"]),
        np.zeros(len(mine)),
        marker="s",
        s=30,
        color=[ACTION_COLOURS[a] for a in action],
    )
    top.set_yticks([])
    cycle_of = pd.Series(pd.NA, index=labs.index, dtype=object)
    for cycle, start in starts.items():
        inside = labs["collected_at"].between(
            start - pd.Timedelta(hours=12), start + pd.Timedelta(days=width)
        )
        cycle_of[inside] = cycle
    drawn = labs[cycle_of.notna()]
    row = {term: i for i, term in enumerate(terms)}
    bottom.scatter(
        position(cycle_of[cycle_of.notna()], drawn["collected_at"]),
        drawn["term"].map(row),
        s=36,
        edgecolors="#555555",
        color=[GRADE_COLOURS[int(g)] for g in drawn["grade"]],
    )
    bottom.set_yticks(range(len(terms)), terms, fontsize=8)
    bottom.set_ylim(-0.7, max(len(terms), 1) - 0.3)
    centres = [i * (width + 1) + width / 2 for i in range(len(starts))]
    bottom.set_xticks(centres, [f"cycle {c}\n{s:%Y-%m-%d}" for c, s in starts.items()], fontsize=8)
    for i in range(1, len(starts)):
        for ax in (top, bottom):
            ax.axvline(i * (width + 1) - 0.5, color="#999999", linewidth=0.8, linestyle=":")
    bottom.set_xlim(-0.5, max(len(starts), 1) * (width + 1) - 0.5)
    handles = [Patch(color=c, label=a) for a, c in ACTION_COLOURS.items()]
    handles += [Patch(color=c, label=f"grade {g}") for g, c in GRADE_COLOURS.items()]
    fig.legend(handles=handles, ncols=9, fontsize=8, loc="lower center", frameon=False)
    top.set_title(
        f"{patient_id}: IL-2 dose slots (decision of the criteria) and lab grades,"
        " each cycle from its first dose",
        fontsize=10,
    )
    fig.subplots_adjust(left=0.22, right=0.98, top=0.9, bottom=0.22)
    return fig
