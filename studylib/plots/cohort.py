"""Cohort figures: waterfall, spider, swimmer, Kaplan-Meier and CONSORT flow.

Each function takes the tables of :mod:`studylib.analysis` (no rules are applied here) and
returns a :class:`matplotlib.figure.Figure` built without pyplot, so that figures are not kept
alive by a global registry and notebooks display exactly what is returned. The response
thresholds drawn as reference lines are read from the protocol's primary ruleset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines.plotting import add_at_risk_counts
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from studylib.protocol import PROTOCOL

__all__ = [
    "RESPONSE_COLOURS",
    "ARM_COLOURS",
    "waterfall",
    "spider",
    "swimmer",
    "kaplan_meier",
    "consort",
]

#: Colour of each best-overall-response category (colour-blind safe, Okabe-Ito).
RESPONSE_COLOURS = {
    "CR": "#009E73",
    "PR": "#56B4E9",
    "SD": "#F0E442",
    "NON-CR/NON-PD": "#E69F00",
    "PD": "#D55E00",
    "NE": "#999999",
    "ND": "#BBBBBB",
    "MISSING": "#DDDDDD",
}
#: Colour of each arm.
ARM_COLOURS = {"A": "#0072B2", "B": "#CC79A7"}

# Swimmer-plot markers: event kind -> (marker, colour, legend label).
_SWIMMER_MARKERS = {
    "sbrt": ("*", "#000000", "SBRT fraction"),
    "il2_cycle": ("|", "#555555", "IL-2 cycle start"),
    "CR": ("o", RESPONSE_COLOURS["CR"], "CR"),
    "PR": ("o", RESPONSE_COLOURS["PR"], "PR"),
    "progression": ("X", RESPONSE_COLOURS["PD"], "Progression"),
    "crossover": ("D", "#E69F00", "Crossover (SBRT + IL-2)"),
    "death": ("s", "#000000", "Death"),
    "alive": (">", "#777777", "Alive at last contact"),
}


def _arm_title(arm: str) -> str:
    return f"Arm {arm}: {PROTOCOL.arm(arm).name}"


def _thresholds(ruleset: str | None) -> tuple[float, float]:
    rules = PROTOCOL.response.ruleset(ruleset or PROTOCOL.response.primary_ruleset)
    return rules.pr_change_from_baseline, rules.pd_change_from_nadir


def _reference_lines(ax, ruleset: str | None) -> None:
    pr, pd_ = _thresholds(ruleset)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axhline(pr, color="#555555", linestyle="--", linewidth=1, label=f"PR: {pr:+g}%")
    ax.axhline(pd_, color="#555555", linestyle=":", linewidth=1, label=f"PD: {pd_:+g}%")


def _response_legend(fig: Figure, categories) -> None:
    handles = [
        Patch(color=RESPONSE_COLOURS[c], label=c) for c in RESPONSE_COLOURS if c in categories
    ]
    fig.legend(handles=handles, title="Best overall response", loc="outside right upper")


def waterfall(best: pd.DataFrame, *, ruleset: str | None = None, arms=("A", "B")) -> Figure:
    """Waterfall plot of each patient's best change in the sum of target diameters.

    Parameters
    ----------
    best
        One row per patient: ``patient_id``, ``arm``, ``best_pct_change`` (percent from
        baseline) and ``bor`` (best overall response, for the colour). Patients without a
        value are left out (they have no complete target measurement after baseline).
    ruleset
        The ruleset whose PR and PD thresholds are drawn (default: the primary ruleset).
    arms
        One panel per arm, in this order.

    Returns
    -------
    Figure
        One bar per patient, coloured by best overall response, largest growth on the left;
        dashed line at the PR threshold, dotted at the PD threshold.
    """
    data = best.dropna(subset=["best_pct_change"])
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, len(arms), sharey=True, squeeze=False)[0]
    for ax, arm in zip(axes, arms, strict=True):
        part = data[data["arm"] == arm].sort_values("best_pct_change", ascending=False)
        ax.bar(
            np.arange(len(part)),
            part["best_pct_change"],
            color=[RESPONSE_COLOURS.get(c, "#DDDDDD") for c in part["bor"]],
            edgecolor="black",
            linewidth=0.4,
        )
        _reference_lines(ax, ruleset)
        ax.set_xticks(np.arange(len(part)), part["patient_id"], rotation=90, fontsize=7)
        ax.set_title(f"{_arm_title(arm)} (n = {len(part)})")
        ax.set_xlabel("Patient")
    axes[0].set_ylabel("Best change in sum of diameters from baseline (%)")
    axes[0].legend(loc="lower left", fontsize=8)
    _response_legend(fig, set(data["bor"]))
    fig.suptitle("Best change in non-irradiated target lesions (RECIST)")
    return fig


def spider(changes: pd.DataFrame, *, ruleset: str | None = None, arms=("A", "B")) -> Figure:
    """Spider plot: change in the sum of target diameters over time, one line per patient.

    Parameters
    ----------
    changes
        One row per patient and scan: ``patient_id``, ``arm``, ``week`` (weeks since the
        first IL-2 dose), ``pct_change_baseline``, and ``bor`` for the colour. The baseline
        (week of the baseline scan, 0%) may be included; it is added at week 0 otherwise.
    ruleset
        The ruleset whose PR and PD thresholds are drawn (default: the primary ruleset).
    arms
        One panel per arm.

    Returns
    -------
    Figure
        One line per patient per panel, coloured by best overall response.
    """
    data = changes.dropna(subset=["pct_change_baseline"])
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, len(arms), sharey=True, squeeze=False)[0]
    for ax, arm in zip(axes, arms, strict=True):
        part = data[data["arm"] == arm]
        for patient, rows in part.groupby("patient_id", sort=True):
            rows = rows.sort_values("week")
            weeks = np.concatenate([[0.0], rows["week"].to_numpy(float)])
            values = np.concatenate([[0.0], rows["pct_change_baseline"].to_numpy(float)])
            ax.plot(
                weeks,
                values,
                marker="o",
                markersize=3,
                linewidth=1.2,
                color=RESPONSE_COLOURS.get(rows["bor"].iloc[0], "#DDDDDD"),
                label=patient,
            )
        _reference_lines(ax, ruleset)
        ax.set_title(f"{_arm_title(arm)} (n = {part['patient_id'].nunique()})")
        ax.set_xlabel("Weeks since first IL-2 dose")
    axes[0].set_ylabel("Change in sum of diameters from baseline (%)")
    _response_legend(fig, set(data["bor"]))
    fig.suptitle("Change in non-irradiated target lesions over time")
    return fig


def swimmer(courses: pd.DataFrame, *, arms=("A", "B")) -> Figure:
    """Swimmer plot: each patient's course from randomisation to last contact.

    Parameters
    ----------
    courses
        Tidy events, as :func:`studylib.analysis.courses.patient_courses` returns:
        ``patient_id``, ``arm``, ``event`` (``follow_up`` for the bar's end; ``sbrt``,
        ``il2_cycle``, ``CR``, ``PR``, ``progression``, ``crossover``, ``death``, ``alive``
        for markers) and ``months`` (since randomisation).
    arms
        Patients are grouped by arm, in this order.

    Returns
    -------
    Figure
        One horizontal bar per patient, coloured by arm, with a marker for each event.
    """
    ends = courses[courses["event"] == "follow_up"]
    order = ends.assign(arm_rank=ends["arm"].map({a: i for i, a in enumerate(arms)}))
    order = order.sort_values(["arm_rank", "months"], ascending=[False, True]).reset_index()
    position = dict(zip(order["patient_id"], range(len(order)), strict=True))
    fig = Figure(figsize=(10, max(4.0, 0.17 * len(order) + 1.5)), layout="constrained")
    ax = fig.subplots()
    ax.barh(
        [position[p] for p in order["patient_id"]],
        order["months"],
        color=[ARM_COLOURS.get(a, "#999999") for a in order["arm"]],
        alpha=0.35,
        height=0.7,
    )
    handles = [Patch(color=ARM_COLOURS[a], alpha=0.35, label=_arm_title(a)) for a in arms]
    for kind, (marker, colour, label) in _SWIMMER_MARKERS.items():
        rows = courses[courses["event"] == kind]
        if rows.empty:
            continue
        ax.scatter(
            rows["months"],
            rows["patient_id"].map(position),
            marker=marker,
            color=colour,
            s=28 if marker != "*" else 60,
            zorder=3,
            label=label,
        )
        handles.append(
            Line2D([], [], marker=marker, color=colour, linestyle="", markersize=7, label=label)
        )
    ax.set_yticks(range(len(order)), order["patient_id"], fontsize=6)
    ax.set_ylim(-1, len(order))
    ax.set_xlabel("Months since randomisation")
    ax.set_ylabel("Patient")
    ax.legend(handles=handles, loc="lower right", fontsize=7)
    ax.set_title("Each patient's course: treatment, response, progression, crossover, survival")
    return fig


def kaplan_meier(analysis, *, at_risk: bool = True) -> Figure:
    """Kaplan-Meier curves by arm with confidence bands, censoring ticks and numbers at risk.

    Parameters
    ----------
    analysis
        A :class:`studylib.analysis.survival.SurvivalAnalysis` (one endpoint, both arms).
    at_risk
        Draw the numbers at risk below the axis (lifelines ``add_at_risk_counts``).

    Returns
    -------
    Figure
        One step curve per arm; the medians and the log-rank p-value of the workbook's data
        in the corner.
    """
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.subplots()
    for arm, kmf in analysis.fitters.items():
        kmf.plot_survival_function(
            ax=ax,
            ci_show=True,
            show_censors=True,
            censor_styles={"marker": "|", "ms": 8},
            color=ARM_COLOURS.get(arm),
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_ylabel(f"{analysis.name} (probability)")
    ax.set_xlabel("Months since randomisation")
    ax.axvline(analysis.landmark_months, color="#999999", linewidth=0.8, linestyle=":")
    lines = []
    for arm, row in analysis.summary.iterrows():
        median = "not reached" if np.isnan(row["median_months"]) else f"{row['median_months']:.1f}"
        lines.append(f"Arm {arm}: median {median} months, {row['events']} events / {row['n']}")
    lines.append(f"Log-rank p = {analysis.logrank_p:.3f}")
    ax.text(0.98, 0.98, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=8)
    ax.set_title(analysis.name)
    ax.legend(loc="lower left", fontsize=8)
    if at_risk:
        add_at_risk_counts(
            *analysis.fitters.values(),
            ax=ax,
            fig=fig,
            rows_to_show=["At risk"],
            labels=[f"Arm {a}" for a in analysis.fitters],
        )
    return fig


def consort(flow) -> Figure:
    """CONSORT participant-flow diagram.

    Parameters
    ----------
    flow
        A :class:`studylib.analysis.flow.ParticipantFlow`.

    Returns
    -------
    Figure
        Boxes (text artists with a box) for screening, consent, exclusions with reasons,
        randomisation, allocation per arm, crossover and analysis, joined by arrows.
    """
    c = flow.counts
    reasons = {
        stage: "\n".join(
            f"{row.reason}: {row.n}"
            for row in flow.reasons[flow.reasons["stage"] == stage].itertuples()
        )
        for stage in ("not_consented", "excluded")
    }
    fig = Figure(figsize=(9, 9.5), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.5", "facecolor": "white", "edgecolor": "black"}
    side = {"boxstyle": "round,pad=0.5", "facecolor": "#F2F2F2", "edgecolor": "#777777"}
    boxes = {
        "screened": (0.35, 0.95, f"Assessed for eligibility (screened)\nn = {c['screened']}", box),
        "not_consented": (
            0.78,
            0.86,
            f"Did not sign consent\nn = {c['not_consented']}\n{reasons['not_consented']}",
            side,
        ),
        "consented": (0.35, 0.77, f"Signed consent\nn = {c['consented']}", box),
        "excluded": (
            0.78,
            0.66,
            f"Excluded after consent\nn = {c['excluded']}\n{reasons['excluded']}",
            side,
        ),
        "randomized": (0.35, 0.56, f"Randomised\nn = {c['randomized']}", box),
        "arm_A": (0.18, 0.40, f"{_arm_title('A')}\nn = {c['arm_A']}", box),
        "arm_B": (0.62, 0.40, f"{_arm_title('B')}\nn = {c['arm_B']}", box),
        "crossover": (
            0.18,
            0.23,
            f"Crossed over to SBRT + IL-2\nafter progression\nn = {c['crossover']}",
            side,
        ),
        "analysed_A": (
            0.18,
            0.06,
            f"Analysed\nn = {c['analysed_A']}\n(crossover counted in arm A)",
            box,
        ),
        "analysed_B": (0.62, 0.06, f"Analysed\nn = {c['analysed_B']}", box),
    }
    for name, (x, y, text, style) in boxes.items():
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5, bbox=style, gid=name)
    arrows = [
        ("screened", "consented"),
        ("consented", "randomized"),
        ("randomized", "arm_A"),
        ("randomized", "arm_B"),
        ("arm_A", "crossover"),
        ("crossover", "analysed_A"),
        ("arm_B", "analysed_B"),
    ]
    for start, end in arrows:
        x0, y0 = boxes[start][:2]
        x1, y1 = boxes[end][:2]
        ax.annotate(
            "",
            xy=(x1, y1 + 0.045),
            xytext=(x0, y0 - 0.045),
            arrowprops={"arrowstyle": "->", "color": "black"},
        )
    for start, end in (("screened", "not_consented"), ("consented", "excluded")):
        x0, y0 = boxes[start][:2]
        x1, y1 = boxes[end][:2]
        ax.annotate(
            "",
            xy=(x1 - 0.17, y1),
            xytext=(x0, (y0 + y1) / 2),
            arrowprops={"arrowstyle": "->", "color": "#777777"},
        )
    ax.set_title("Participant flow (CONSORT)")
    return fig
