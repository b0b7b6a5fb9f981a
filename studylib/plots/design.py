"""The trial at a glance: a schematic of the trial drawn from its protocol file.

Every number, weekday and arm on the figure is read from the protocol passed in (default: the
bundled NCT01416831; ``[randomization]``, ``[[arms]]``, ``[sbrt]``, ``[il2]``,
``[assessments]``, ``[crossover]``), so the diagram changes when ``protocol.toml`` does.
The figure is a flow chart, not a calendar: boxes are in the order things happen, not to
scale (the schedule explorer gives real dates).
"""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from studylib.protocol import Protocol, resolve_protocol
from studylib.units import format_quantity
from studylib.wording import days, fraction_group, weeks

__all__ = ["trial_design", "design_labels", "design_table"]

# Colours: arm B (SBRT + IL-2) warm, arm A (IL-2 alone) cool, shared steps grey.
_SBRT = "#f4a582"
_IL2 = "#92c5de"
_SCAN = "#d9d9d9"
_CROSS = "#fddbc7"
_EDGE = "#404040"


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def design_labels(protocol: Protocol | None = None) -> dict[str, str]:
    """The text of every box of the diagram, written from the protocol.

    Parameters
    ----------
    protocol
        The protocol to draw (default: the shipped one).

    Returns
    -------
    dict
        Box name (``screening``, ``randomization``, ``sbrt``, ``no_sbrt``, ``cycle1``,
        ``cycle2``, ``scans``, ``responders``, ``crossover``, ``arm_A``, ``arm_B``) to its text.
    """
    protocol = resolve_protocol(protocol)
    il2, sbrt, cross = protocol.il2, protocol.sbrt, protocol.crossover
    elig = protocol.eligibility
    n_incl = sum(c.kind == "inclusion" for c in elig.criteria)
    n_excl = sum(c.kind == "exclusion" for c in elig.criteria)
    groups = [
        fraction_group(
            r.first_enrollment_number, r.last_enrollment_number, template="patients {numbers}"
        )
        for r in sbrt.fractionation
    ]
    fractions = "\n".join(
        f"{group}: {rule.fractions} ({', '.join(d[:3] for d in rule.weekdays)})"
        for group, rule in zip(groups, sbrt.fractionation, strict=True)
    )
    by_number = "" if groups == ["every patient"] else " by enrolment number"
    scans = ", ".join(
        f"{t.week}{'*' if t.primary else ''}" for t in protocol.assessments.timepoints
    )
    sbrt_arm = next(a for a in protocol.arms if a.receives_sbrt)
    plain_arm = next(a for a in protocol.arms if not a.receives_sbrt)
    last_cross = cross.first_cycle + cross.cycles - 1
    per_course = il2.cycles_in_first_course
    later = "cycle 2" if per_course == 2 else f"cycles 2-{per_course}"
    return {
        "screening": (
            f"Screening\n{n_incl} inclusion +\n{n_excl} exclusion criteria;\nscans within "
            f"{days(protocol.assessments.baseline_within)}"
        ),
        "randomization": f"Randomise\n{protocol.randomization_ratio}\n"
        f"({protocol.trial['planned_enrollment']} patients)",
        f"arm_{sbrt_arm.code}": f"Arm {sbrt_arm.code}\n{sbrt_arm.name}",
        f"arm_{plain_arm.code}": f"Arm {plain_arm.code}\n{plain_arm.name}",
        "sbrt": (
            f"SBRT {format_quantity(sbrt.dose_per_fraction)} per fraction\n"
            f"fractions{by_number}:\n{fractions}\n"
            f"last one on the {sbrt.last_fraction_weekday} before IL-2\n"
            f"≤ {sbrt.max_treated_sites} sites, each ≤ {format_quantity(sbrt.max_site_diameter)}"
        ),
        "no_sbrt": "no radiation",
        "cycle1": (
            f"IL-2 cycle 1\nstarts on a {il2.start_weekday}\n"
            f"{format_quantity(il2.dose_per_kg)}\nevery {format_quantity(il2.dose_interval)}, "
            f"≤ {il2.max_doses_per_cycle} doses"
        ),
        "cycle2": (
            f"IL-2 {later}\n{days(il2.cycle_interval)} after the one before\n"
            f"may slip {days(il2.allowed_delay)}\n≤ {il2.max_doses_first_course} doses "
            f"in {il2.cycles_in_first_course} cycles"
        ),
        "scans": f"Scans (RECIST)\nweeks {scans}\nafter the first\nIL-2 dose\n* primary endpoint",
        "responders": f"Responders:\nup to {il2.additional_cycles_for_responders}\nmore cycles",
        "crossover": (
            f"Crossover (arm {cross.from_arm} only): progression after cycle "
            f"{cross.after_cycle}\n→ SBRT as in arm {sbrt_arm.code}, then IL-2 cycles "
            f"{cross.first_cycle}-{last_cross}\nresponse read "
            f"{weeks(cross.response_assessment_after)} after cycle {cross.first_cycle} starts"
        ),
    }


def design_table(protocol: Protocol | None = None) -> pd.DataFrame:
    """The diagram as a table: each step in words beside the registry's own wording.

    Parameters
    ----------
    protocol
        The protocol to describe (default: the shipped one).

    Returns
    -------
    pandas.DataFrame
        Columns ``step``, ``what happens`` (the diagram's text, with its line breaks: the
        lines are phrases, and run together they misread, e.g. "per fraction fractions") and
        ``registry wording``.
    """
    protocol = resolve_protocol(protocol)
    labels = design_labels(protocol)
    sbrt_arm = next(a for a in protocol.arms if a.receives_sbrt)
    plain_arm = next(a for a in protocol.arms if not a.receives_sbrt)
    rows = [
        ("Screening", labels["screening"], protocol.assessments.quote),
        # The protocol keeps the ratio but no registry sentence for it (the ratio is the paper's).
        ("Randomisation", labels["randomization"], ""),
        (f"Arm {plain_arm.code}", labels[f"arm_{plain_arm.code}"], plain_arm.quote),
        (f"Arm {sbrt_arm.code}", labels[f"arm_{sbrt_arm.code}"], sbrt_arm.quote),
        ("SBRT", labels["sbrt"], protocol.sbrt.quote),
        ("IL-2 cycle 1", labels["cycle1"], protocol.il2.quote),
        ("IL-2 cycle 2", labels["cycle2"], protocol.il2.quote),
        ("Scans", labels["scans"], protocol.assessments.quote),
        ("Crossover", labels["crossover"], protocol.crossover.quote),
    ]
    return pd.DataFrame(rows, columns=["step", "what happens", "registry wording"])


def _box(ax, x, y, w, h, text, colour, *, dashed=False, size=8.5, bold=False):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=colour,
            edgecolor=_EDGE,
            linestyle="--" if dashed else "-",
            linewidth=1.0,
        )
    )
    ax.text(
        x, y, text, ha="center", va="center", fontsize=size, weight="bold" if bold else "normal"
    )


def _arrow(ax, start, end, *, colour=_EDGE, style="-|>", rad=0.0, dashed=False):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=12,
            color=colour,
            linewidth=1.2,
            linestyle="--" if dashed else "-",
            connectionstyle=f"arc3,rad={rad}",
        )
    )


def trial_design(protocol: Protocol | None = None) -> Figure:
    """Draw the design: screening, 1:1 randomisation, the two arms, SBRT, IL-2, scans, crossover.

    Parameters
    ----------
    protocol
        The protocol to draw (default: the shipped one).

    Returns
    -------
    matplotlib.figure.Figure
        A flow chart, one lane per arm (the SBRT arm on top), labelled with the protocol's
        numbers; see :func:`design_labels` for the text of each box.
    """
    protocol = resolve_protocol(protocol)
    labels = design_labels(protocol)
    sbrt_arm = next(a for a in protocol.arms if a.receives_sbrt)
    plain_arm = next(a for a in protocol.arms if not a.receives_sbrt)

    # A bare Figure, not pyplot: notebooks and widgets decide when it is shown.
    fig = Figure(figsize=(14, 6))
    ax = fig.add_subplot()
    ax.set_xlim(0, 14)
    ax.set_ylim(0, 6)
    ax.axis("off")
    top, bottom, middle = 4.25, 1.85, 3.05
    cycle_w, cycle_h = 1.8, 1.2

    _box(ax, 0.9, middle, 1.6, 1.2, labels["screening"], "white", size=8)
    _box(ax, 2.55, middle, 1.3, 1.0, labels["randomization"], "white", bold=True, size=8.5)
    _arrow(ax, (1.7, middle), (1.9, middle))
    for y, arm in ((top, sbrt_arm), (bottom, plain_arm)):
        _box(ax, 4.15, y, 1.6, 0.7, labels[f"arm_{arm.code}"], "white", bold=True, size=8.5)
        _arrow(ax, (3.2, middle), (3.35, y))

    # SBRT (arm B) or nothing (arm A) before IL-2 cycle 1.
    _box(ax, 6.45, top, 2.6, 1.6, labels["sbrt"], _SBRT, size=7.8)
    _box(ax, 6.45, bottom, 1.4, 0.5, labels["no_sbrt"], "white", dashed=True, size=8)
    _arrow(ax, (4.95, top), (5.15, top))
    _arrow(ax, (4.95, bottom), (5.75, bottom))
    _arrow(ax, (7.75, top), (7.95, top))
    _arrow(ax, (7.15, bottom), (7.95, bottom))
    for y in (top, bottom):
        _box(ax, 8.85, y, cycle_w, cycle_h, labels["cycle1"], _IL2, size=7.8)
        _box(ax, 10.85, y, cycle_w, cycle_h, labels["cycle2"], _IL2, size=7.8)
        _arrow(ax, (9.75, y), (9.95, y))
        _arrow(ax, (11.75, y), (12.2, middle + (0.4 if y == top else -0.4)))

    _box(ax, 13.05, middle, 1.6, 1.35, labels["scans"], _SCAN, size=7.5)
    _box(ax, 13.05, 5.35, 1.4, 0.8, labels["responders"], "white", size=7.5)
    _arrow(ax, (13.05, middle + 0.68), (13.05, 4.95))

    # Crossover: arm A patients who progress after cycle 2 get SBRT and two more cycles.
    _box(ax, 9.85, 0.5, 4.2, 0.85, labels["crossover"], _CROSS, dashed=True, size=7.8)
    _arrow(ax, (13.05, middle - 0.68), (11.95, 0.6), dashed=True, rad=-0.3)

    ax.text(0.05, 5.95, protocol.trial["nct_id"], fontsize=10, weight="bold", va="top")
    ax.text(0.05, 5.65, _wrap(protocol.trial["title"], 60), fontsize=8, va="top")
    ax.text(0.05, 0.05, f"Drawn from {protocol.path}; not to scale.", fontsize=7, color="#606060")
    fig.tight_layout()
    return fig
