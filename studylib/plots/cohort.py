"""Cohort figures: waterfall, spider, swimmer, Kaplan-Meier and CONSORT flow.

Each function takes the tables of :mod:`studylib.analysis` (no rules are applied here) and
returns a :class:`matplotlib.figure.Figure` built without pyplot, so that figures are not kept
alive by a global registry and notebooks display exactly what is returned. The arms, their
names, their order (and so their colours) and the response thresholds drawn as reference lines
are read from the protocol given (``protocol=None``: the bundled one; a
:class:`~studylib.analysis.report.CohortAnalysis` carries the cohort's own).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines.plotting import add_at_risk_counts
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from studylib.analysis.arms import arm_label, compared_arms
from studylib.plots.colours import ARM_PALETTE, RESPONSE_COLOURS, arm_colours
from studylib.protocol import Protocol, resolve_protocol
from studylib.units import Q_
from studylib.wording import years

__all__ = [
    "RESPONSE_COLOURS",
    "ARM_PALETTE",
    "arm_colours",
    "waterfall",
    "spider",
    "swimmer",
    "kaplan_meier",
    "consort",
    "cohort_figures",
    "save_cohort_figures",
]

#: Colour of each best-overall-response category (colour-blind safe, Okabe-Ito).

# Swimmer-plot markers: event kind -> (marker, colour, legend label).
_SWIMMER_MARKERS = {
    "sbrt": ("*", "#000000", "SBRT fraction"),
    "il2_cycle": ("|", "#555555", "IL-2 cycle start"),
    "CR": ("o", RESPONSE_COLOURS["CR"], "CR"),
    "PR": ("o", RESPONSE_COLOURS["PR"], "PR"),
    "progression": ("X", RESPONSE_COLOURS["PD"], "Progression"),
    "crossover": ("D", "#E69F00", "Crossover"),
    "death": ("s", "#000000", "Death"),
    "alive": (">", "#777777", "Alive at last contact"),
}


def _thresholds(ruleset: str | None, protocol: Protocol) -> tuple[float, float]:
    rules = protocol.response.ruleset(ruleset or protocol.response.primary_ruleset)
    return rules.pr_change_from_baseline, rules.pd_change_from_nadir


def _reference_lines(ax, ruleset: str | None, protocol: Protocol) -> None:
    pr, pd_ = _thresholds(ruleset, protocol)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axhline(pr, color="#555555", linestyle="--", linewidth=1, label=f"PR: {pr:+g}%")
    ax.axhline(pd_, color="#555555", linestyle=":", linewidth=1, label=f"PD: {pd_:+g}%")


def _response_legend(fig: Figure, categories) -> None:
    handles = [
        Patch(color=RESPONSE_COLOURS[c], label=c) for c in RESPONSE_COLOURS if c in categories
    ]
    fig.legend(handles=handles, title="Best overall response", loc="outside right upper")


def waterfall(
    best: pd.DataFrame,
    *,
    ruleset: str | None = None,
    arms=None,
    protocol: Protocol | None = None,
) -> Figure:
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
        One panel per arm, in this order (default: the protocol's arms).
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    Figure
        One bar per patient, coloured by best overall response, largest growth on the left;
        dashed line at the PR threshold, dotted at the PD threshold.
    """
    protocol = resolve_protocol(protocol)
    arms = protocol.arm_codes if arms is None else arms
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
        _reference_lines(ax, ruleset, protocol)
        ax.set_xticks(np.arange(len(part)), part["patient_id"], rotation=90, fontsize=7)
        # Say how many patients of the arm have no bar (no complete follow-up measurement).
        total = int((best["arm"] == arm).sum())
        shown = f"{len(part)}" if len(part) == total else f"{len(part)} of {total} measured"
        ax.set_title(f"{arm_label(protocol, arm)} (n = {shown})")
        ax.set_xlabel("Patient")
    axes[0].set_ylabel("Best change in sum of diameters from baseline (%)")
    axes[0].legend(loc="lower left", fontsize=8)
    _response_legend(fig, set(data["bor"]))
    fig.suptitle("Best change in non-irradiated target lesions (RECIST)")
    return fig


def spider(
    changes: pd.DataFrame,
    *,
    ruleset: str | None = None,
    arms=None,
    protocol: Protocol | None = None,
) -> Figure:
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
        One panel per arm (default: the protocol's arms, in order).
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    Figure
        One line per patient per panel, coloured by best overall response.
    """
    protocol = resolve_protocol(protocol)
    arms = protocol.arm_codes if arms is None else arms
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
        _reference_lines(ax, ruleset, protocol)
        ax.set_title(f"{arm_label(protocol, arm)} (n = {part['patient_id'].nunique()})")
        ax.set_xlabel("Weeks since first IL-2 dose")
    axes[0].set_ylabel("Change in sum of diameters from baseline (%)")
    _response_legend(fig, set(data["bor"]))
    fig.suptitle("Change in non-irradiated target lesions over time")
    return fig


#: Events drawn in the treatment panel of the swimmer plot, and in the follow-up panel.
_TREATMENT_EVENTS = ("sbrt", "il2_cycle", "CR", "PR", "crossover", "progression")
_FOLLOW_UP_EVENTS = ("progression", "crossover", "death", "alive")


def _swim(ax, courses, position, order, kinds, time: str, colours, labels) -> list:
    ends = order[time] if time in order else order["months"]
    ax.barh(
        [position[p] for p in order["patient_id"]],
        ends,
        color=[colours.get(a, "#999999") for a in order["arm"]],
        alpha=0.35,
        height=0.7,
    )
    handles = []
    for kind in kinds:
        marker, colour, label = _SWIMMER_MARKERS[kind]
        label = labels.get(kind, label)
        rows = courses[courses["event"] == kind]
        if rows.empty:
            continue
        ax.scatter(
            rows[time],
            rows["patient_id"].map(position),
            marker=marker,
            color=colour,
            s=60 if marker == "*" else 28,
            zorder=3,
            label=label,
        )
        handles.append(
            Line2D([], [], marker=marker, color=colour, linestyle="", markersize=7, label=label)
        )
    return handles


def swimmer(courses: pd.DataFrame, *, arms=None, protocol: Protocol | None = None) -> Figure:
    """Swimmer plot: each patient's treatment course, then their whole follow-up.

    Parameters
    ----------
    courses
        Tidy events, as :func:`studylib.analysis.courses.patient_courses` returns:
        ``patient_id``, ``arm``, ``event`` (``follow_up`` for the bar's end; ``sbrt``,
        ``il2_cycle``, ``CR``, ``PR``, ``progression``, ``crossover``, ``death``, ``alive``
        for markers), ``weeks`` and ``months`` (since randomisation).
    arms
        Patients are grouped by arm, in this order from the top (default: the protocol's).
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    Figure
        Two panels sharing one bar per patient (coloured by arm): on the left the treatment
        course in weeks (SBRT fractions, IL-2 cycles, CR and PR scans, progression,
        crossover), up to the last dose, response or crossover; on the right the whole follow-up in
        the protocol's survival time unit (bundled: months; progression, crossover, death or
        alive at last contact).
    """
    protocol = resolve_protocol(protocol)
    arms = protocol.arm_codes if arms is None else arms
    colours = arm_colours(protocol)
    experimental = protocol.arm(compared_arms(protocol).experimental).name
    labels = {"crossover": f"Crossover ({experimental})"}
    ends = courses[courses["event"] == "follow_up"]
    order = ends.assign(arm_rank=ends["arm"].map({a: i for i, a in enumerate(arms)}))
    order = order.sort_values(["arm_rank", "months"], ascending=[False, True]).reset_index()
    position = dict(zip(order["patient_id"], range(len(order)), strict=True))
    fig = Figure(figsize=(12, max(4.0, 0.17 * len(order) + 1.5)), layout="constrained")
    treatment_ax, follow_ax = fig.subplots(
        1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 1.4]}
    )
    handles = [Patch(color=colours[a], alpha=0.35, label=arm_label(protocol, a)) for a in arms]
    shown = _swim(
        treatment_ax, courses, position, order, _TREATMENT_EVENTS, "weeks", colours, labels
    )
    # The treatment panel ends a little after the last dose, scan response or crossover;
    # later progressions are shown on the follow-up panel.
    treated = courses[courses["event"].isin(_TREATMENT_EVENTS[:-1])]
    if not treated.empty:
        treatment_ax.set_xlim(0, treated["weeks"].max() * 1.1)
    treatment_ax.set_xlabel("Weeks since randomisation (treatment course)")
    treatment_ax.set_title("Treatment and response")
    more = _swim(follow_ax, courses, position, order, _FOLLOW_UP_EVENTS, "months", colours, labels)
    unit = protocol.analysis.survival_time_unit.capitalize()
    follow_ax.set_xlabel(f"{unit}s since randomisation (whole follow-up)")
    follow_ax.set_title("Progression and survival")
    labels = {h.get_label() for h in shown}
    handles += shown + [h for h in more if h.get_label() not in labels]
    treatment_ax.set_yticks(range(len(order)), order["patient_id"], fontsize=6)
    treatment_ax.set_ylim(-1, len(order))
    treatment_ax.set_ylabel("Patient")
    follow_ax.legend(handles=handles, loc="lower right", fontsize=7)
    fig.suptitle("Each patient's course")
    return fig


def kaplan_meier(
    analysis, *, at_risk: bool = True, protocol: Protocol | None = None, title: str | None = None
) -> Figure:
    """Kaplan-Meier curves by arm with confidence bands, censoring ticks and numbers at risk.

    Parameters
    ----------
    analysis
        A :class:`studylib.analysis.survival.SurvivalAnalysis` (one endpoint, both arms).
    at_risk
        Draw the numbers at risk below the axis (lifelines ``add_at_risk_counts``).
    protocol
        The :class:`~studylib.protocol.Protocol` whose arms give the colours (default: the
        bundled one).
    title
        The endpoint's name on the figure (default: ``analysis.name``), e.g. to mark a
        sensitivity analysis.

    Returns
    -------
    Figure
        One step curve per arm; the medians and the log-rank p-value of the workbook's data
        in the corner.
    """
    colours = arm_colours(protocol)
    unit = getattr(analysis, "time_unit", "month")
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.subplots()
    for arm, kmf in analysis.fitters.items():
        kmf.plot_survival_function(
            ax=ax,
            ci_show=True,
            show_censors=True,
            censor_styles={"marker": "|", "ms": 8},
            color=colours.get(arm),
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    name = title or analysis.name
    ax.set_ylabel(f"{name} (probability)")
    ax.set_xlabel(f"{unit.capitalize()}s since randomisation")
    ax.axvline(analysis.landmark_months, color="#999999", linewidth=0.8, linestyle=":")
    landmark = years(Q_(analysis.landmark_months, unit))
    ax.text(analysis.landmark_months, 0.02, f" {landmark}", color="#777777", fontsize=8)
    lines = []
    for arm, row in analysis.summary.iterrows():
        median = "not reached" if np.isnan(row["median_months"]) else f"{row['median_months']:.1f}"
        lines.append(
            f"Arm {arm}: median {median} {unit}s, {int(row['events'])} events / {int(row['n'])}"
        )
    lines.append(f"Log-rank p = {analysis.logrank_p:.3f}")
    ax.text(0.98, 0.98, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=8)
    ax.set_title(name)
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


def _wrap(text: str, width: int = 64) -> str:
    return textwrap.fill(text, width=width, subsequent_indent="   ")


def consort(flow) -> Figure:
    """CONSORT participant-flow diagram.

    Parameters
    ----------
    flow
        A :class:`studylib.analysis.flow.ParticipantFlow` (its protocol names the arms).

    Returns
    -------
    Figure
        Boxes (text artists with a box, ``gid`` naming the stage: ``arm_<code>``,
        ``analysed_<code>``) for screening, consent, exclusions with their reasons,
        randomisation, allocation per arm (the comparator, whose patients may cross over, on
        the left), crossover and analysis, joined by arrows; the figure grows with the number
        of reasons.
    """
    c = flow.counts
    protocol = flow.protocol
    experimental, comparator = compared_arms(protocol)
    reasons = {
        stage: [
            _wrap(f"{row.reason}: {row.n}")
            for row in flow.reasons[flow.reasons["stage"] == stage].itertuples()
        ]
        for stage in ("not_consented", "excluded")
    }
    side_text = {
        "not_consented": "\n".join(
            [f"Did not sign consent (n = {c['not_consented']})"] + reasons["not_consented"]
        ),
        "excluded": "\n".join(
            [f"Excluded after consent (n = {c['excluded']})"] + reasons["excluded"]
        ),
    }
    side_lines = {k: v.count("\n") + 1 for k, v in side_text.items()}
    # Rows of the layout in text lines, top to bottom: a main box, then room for the side box
    # that branches off below it.
    gap = 3.0
    y = {"screened": 1.0}
    y["consented"] = y["screened"] + gap + side_lines["not_consented"]
    y["randomized"] = y["consented"] + gap + side_lines["excluded"]
    y["arms"] = y["randomized"] + gap + 1
    y["crossover"] = y["arms"] + gap + 1
    y["analysed"] = y["crossover"] + gap + 1
    height = y["analysed"] + 2.5
    fig = Figure(figsize=(9, max(6.0, 0.15 * height + 0.8)), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(height, 0)
    ax.axis("off")
    main = {"boxstyle": "round,pad=0.5", "facecolor": "white", "edgecolor": "black"}
    side = {"boxstyle": "round,pad=0.5", "facecolor": "#F2F2F2", "edgecolor": "#777777"}
    centre, left, right = 0.3, 0.15, 0.6
    boxes = {
        "screened": (centre, y["screened"], f"Assessed for eligibility\nn = {c['screened']}"),
        "consented": (centre, y["consented"], f"Signed consent\nn = {c['consented']}"),
        "randomized": (centre, y["randomized"], f"Randomised\nn = {c['randomized']}"),
        f"arm_{comparator}": (
            left,
            y["arms"],
            f"{arm_label(protocol, comparator)}\nn = {c[f'arm_{comparator}']}",
        ),
        f"arm_{experimental}": (
            right,
            y["arms"],
            f"{arm_label(protocol, experimental)}\nn = {c[f'arm_{experimental}']}",
        ),
        "crossover": (
            left,
            y["crossover"],
            f"Crossed over to {protocol.arm(experimental).name} after progression\n"
            f"n = {c['crossover']}",
        ),
        f"analysed_{comparator}": (
            left,
            y["analysed"],
            f"Analysed\nn = {c[f'analysed_{comparator}']} (crossover counted in arm {comparator})",
        ),
        f"analysed_{experimental}": (
            right,
            y["analysed"],
            f"Analysed\nn = {c[f'analysed_{experimental}']}",
        ),
    }
    artists = {}
    for name, (x, row, text) in boxes.items():
        style = side if name == "crossover" else main
        artists[name] = ax.text(
            x, row, text, ha="center", va="center", fontsize=9, bbox=style, gid=name
        )
    branch = {"not_consented": "screened", "excluded": "consented"}
    for name, parent in branch.items():
        top = y[parent] + 1.5
        artists[name] = ax.text(
            centre + 0.12,
            top,
            side_text[name],
            ha="left",
            va="top",
            fontsize=7.5,
            bbox=side,
            gid=name,
        )
    # Arrows end on the drawn boxes (the text's padded bbox patch), not on the text inside
    # them, so that no arrow crosses a box's border or its words.
    box = {name: text.get_bbox_patch() for name, text in artists.items()}
    arrow = {"arrowstyle": "->", "color": "black", "shrinkA": 0, "shrinkB": 0}
    for start, end in [
        ("screened", "consented"),
        ("consented", "randomized"),
        ("randomized", f"arm_{comparator}"),
        ("randomized", f"arm_{experimental}"),
        (f"arm_{comparator}", "crossover"),
        ("crossover", f"analysed_{comparator}"),
        (f"arm_{experimental}", f"analysed_{experimental}"),
    ]:
        ax.annotate(
            "",
            xy=(0.5, 1.0),
            xycoords=box[end],
            xytext=(0.5, 0.0),
            textcoords=box[start],
            arrowprops=arrow,
        )
    for name, parent in branch.items():
        # Horizontal, from the main line to the side box's left edge.
        ax.annotate(
            "",
            xy=(0.0, y[parent] + 2),
            xycoords=(box[name], "data"),
            xytext=(centre, y[parent] + 2),
            textcoords="data",
            arrowprops={**arrow, "color": "#777777"},
        )
    ax.set_title("Participant flow (CONSORT)")
    return fig


def cohort_figures(analysis) -> dict[str, Figure]:
    """Every cohort figure of a :class:`studylib.analysis.report.CohortAnalysis`, by name:
    ``consort``, ``waterfall``, ``spider``, ``swimmer``, ``km_pfs``, ``km_os``."""
    protocol = analysis.protocol
    return {
        "consort": consort(analysis.flow),
        "waterfall": waterfall(analysis.best_change, ruleset=analysis.ruleset, protocol=protocol),
        "spider": spider(analysis.changes, ruleset=analysis.ruleset, protocol=protocol),
        "swimmer": swimmer(analysis.courses, protocol=protocol),
        "km_pfs": kaplan_meier(analysis.pfs, protocol=protocol),
        "km_os": kaplan_meier(analysis.os, protocol=protocol),
    }


def save_cohort_figures(analysis, folder, *, prefix: str = "cohort_", dpi: int = 110) -> list:
    """Write every cohort figure as ``<folder>/<prefix><name>.png``; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in cohort_figures(analysis).items():
        path = folder / f"{prefix}{name}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths
