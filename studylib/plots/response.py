"""Tumour response figures: a spider plot of one patient and a waterfall of the cohort.

The reference lines are the ruleset's own thresholds (from the protocol given,
``protocol=None``: the bundled ``protocol.toml``): the partial-response
line is a change from baseline; the progression line is drawn at the same percentage from
baseline as a guide only, because progression is judged from the nadir (from the baseline sum
under the registry's ``protocol`` ruleset) and also needs an absolute increase (RECIST 1.1
§4.3.1), which the figure's legend says.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from studylib.plots.colours import RESPONSE_COLOURS
from studylib.protocol import Protocol, Ruleset
from studylib.recist.rulesets import thresholds

__all__ = ["RESPONSE_COLOURS", "spider_plot", "waterfall_plot"]


def _reference_lines(ax, t) -> list[Line2D]:
    pr = ax.axhline(t.pr_change_from_baseline_pct, color=RESPONSE_COLOURS["PR"], ls="--", lw=1.2)
    pd_line = ax.axhline(t.pd_change_pct, color=RESPONSE_COLOURS["PD"], ls="--", lw=1.2)
    ax.axhline(0, color="#404040", lw=0.8)
    pr.set_label(f"PR: {t.pr_change_from_baseline_pct:g}% from baseline")
    reference = "the nadir" if t.pd_reference == "nadir" else "the baseline sum"
    pd_line.set_label(
        f"{t.pd_change_pct:+g}%: PD is judged from {reference}"
        + (f" and needs +{t.pd_min_increase_mm:g} mm" if t.pd_min_increase_mm else "")
    )
    return [pr, pd_line]


def spider_plot(
    measurements: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    patient_id: str | None = None,
    ruleset: str | Ruleset | None = None,
    protocol: Protocol | None = None,
) -> Figure:
    """Each target lesion and the sum of diameters, as % change from baseline over time.

    Parameters
    ----------
    measurements
        Per-lesion rows from :func:`studylib.recist.lesions.lesion_measurements`.
    responses
        Rows from :func:`studylib.recist.timepoint.timepoint_responses` (the sum; its
        overall response is written above each point).
    patient_id
        The patient to draw (default: the only one in ``measurements``).
    ruleset
        Whose thresholds the reference lines show (default: the protocol's default ruleset).
    protocol
        The :class:`~studylib.protocol.Protocol` holding the ruleset (default: the bundled one).

    Returns
    -------
    matplotlib.figure.Figure
        Irradiated lesions are dashed (they are not part of the response).
    """
    t = thresholds(ruleset, protocol)
    if patient_id is None:
        patients = measurements["patient_id"].unique()
        if len(patients) != 1:
            raise ValueError(f"several patients {list(patients)[:5]}...; pass patient_id")
        patient_id = patients[0]
    lesions = measurements[measurements["patient_id"] == patient_id]
    points = responses[responses["patient_id"] == patient_id].sort_values("date")
    fig = Figure(figsize=(8, 4.8))
    ax = fig.subplots()
    handles = _reference_lines(ax, t)
    for lesion_id, rows in lesions.groupby("lesion_id", sort=True):
        rows = rows.sort_values("days_from_baseline")
        irradiated = bool(rows["irradiated"].iloc[0])
        (line,) = ax.plot(
            rows["days_from_baseline"],
            rows["pct_change_baseline"],
            marker="o",
            ms=3,
            lw=1,
            alpha=0.8,
            ls="--" if irradiated else "-",
            label=f"{lesion_id}{' (SBRT, not in response)' if irradiated else ''}",
        )
        handles.append(line)
    if len(points):
        start = points["baseline_date"].iloc[0]
        days = np.r_[0, (points["date"] - start).dt.days.to_numpy()]
        change = np.r_[0.0, points["pct_change_baseline"].to_numpy(dtype=float)]
        (total,) = ax.plot(
            days, change, color="black", lw=2.5, marker="s", ms=6, label="sum of diameters"
        )
        handles.append(total)
        for x, y, code in zip(days[1:], change[1:], points["overall_response"], strict=True):
            if code is not None and np.isfinite(y):
                ax.annotate(
                    str(code),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 8),
                    ha="center",
                    fontsize=8,
                    fontweight="bold",
                )
    ax.set_xlabel("days from baseline scan")
    ax.set_ylabel("change from baseline (%)")
    ax.set_title(f"Patient {patient_id}: target lesions ({t.name})")
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def waterfall_plot(
    best: pd.DataFrame,
    bor: pd.DataFrame | Mapping[str, str] | pd.Series,
    *,
    ruleset: str | Ruleset | None = None,
    title: str = "Best change in the sum of target diameters",
    protocol: Protocol | None = None,
) -> Figure:
    """One bar per patient: best % change of the sum from baseline, coloured by response.

    Parameters
    ----------
    best
        :func:`studylib.recist.timepoint.best_percent_change` output.
    bor
        Each patient's best overall response: a frame with ``patient_id`` and ``bor``
        (:func:`studylib.recist.bor.best_overall_response`), a Series or a mapping.
    ruleset
        Whose thresholds the reference lines show (default: the protocol's default ruleset).
    protocol
        The :class:`~studylib.protocol.Protocol` holding the ruleset (default: the bundled one).
    """
    t = thresholds(ruleset, protocol)
    if isinstance(bor, pd.DataFrame):
        category = bor.set_index("patient_id")["bor"]
    else:
        category = pd.Series(bor)
    rows = best.sort_values("best_pct_change_baseline", ascending=False).reset_index(drop=True)
    codes = rows["patient_id"].map(category).fillna("MISSING")
    unknown = sorted(set(codes) - set(RESPONSE_COLOURS))
    if unknown:
        raise ValueError(
            f"unknown response categories {unknown}; expected {list(RESPONSE_COLOURS)}"
        )
    fig = Figure(figsize=(max(6, 0.25 * len(rows) + 2), 4.5))
    ax = fig.subplots()
    ax.bar(
        range(len(rows)),
        rows["best_pct_change_baseline"],
        color=[RESPONSE_COLOURS[c] for c in codes],
        edgecolor="#404040",
        lw=0.5,
    )
    lines = _reference_lines(ax, t)
    ax.set_xticks(range(len(rows)), rows["patient_id"], rotation=90, fontsize=7)
    ax.set_ylabel("best change from baseline (%)")
    ax.set_title(title)
    present = [c for c in RESPONSE_COLOURS if c in set(codes)]
    patches = [Patch(color=RESPONSE_COLOURS[c], label=c) for c in present]
    ax.legend(handles=patches + lines, fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig
