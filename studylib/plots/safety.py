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
    """A patient's IL-2 cycles side by side: the dose slots (what the criteria said: give,
    hold, stop; the slots of a stopped cycle in grey) above the CTCAE grades of the laboratory
    values of that cycle.

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
    cycles = sorted(mine["cycle"].unique()) or [1]
    terms = sorted(labs["term"].unique())
    fig = Figure(
        figsize=(3 + 2.2 * len(cycles), 2.4 + 0.3 * max(len(terms), 1)), layout="constrained"
    )
    axes = fig.subplots(
        2, len(cycles), sharey="row", squeeze=False, height_ratios=[1, max(len(terms), 1)]
    )
    shown = np.where(mine["action"] != "", mine["action"], mine["recorded"])
    for k, cycle in enumerate(cycles):
        top, bottom = axes[0, k], axes[1, k]
        pick = (mine["cycle"] == cycle).to_numpy()
        times = mine.loc[pick, "scheduled_at"]
        start = times.min().normalize() if len(times) else pd.Timestamp(0)
        for action, colour in ACTION_COLOURS.items():
            these = pick & (shown == action)
            top.scatter(
                mine.loc[these, "scheduled_at"],
                np.zeros(these.sum()),
                marker="s",
                s=36,
                color=colour,
                label=action,
            )
        top.set_title(f"cycle {cycle}", fontsize=9)
        top.set_yticks([])
        end = start + pd.Timedelta(days=6)
        rows = labs[labs["collected_at"].between(start - pd.Timedelta(days=1), end)]
        for i, term in enumerate(terms):
            these = rows[rows["term"] == term]
            bottom.scatter(
                these["collected_at"],
                np.full(len(these), i),
                s=40,
                edgecolors="#555555",
                color=[GRADE_COLOURS[int(g)] for g in these["grade"]],
            )
        bottom.set_xlim(start - pd.Timedelta(hours=12), end)
        top.set_xlim(start - pd.Timedelta(hours=12), end)
        ticks = pd.date_range(start, end, freq="2D")
        bottom.set_xticks(ticks, [t.strftime("%m-%d") for t in ticks], fontsize=7)
        top.set_xticks([])
    axes[1, 0].set_yticks(range(len(terms)), terms, fontsize=8)
    axes[1, 0].set_ylim(-0.7, max(len(terms), 1) - 0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles += [Patch(color=c, label=f"grade {g}") for g, c in GRADE_COLOURS.items()]
    fig.legend(handles=handles, ncols=9, fontsize=8, loc="outside lower center", frameon=False)
    fig.suptitle(
        f"{patient_id}: IL-2 dose slots (decision of the criteria) and lab grades", fontsize=10
    )
    return fig
