"""Local control of irradiated (SBRT) lesions, assessed apart from the primary response.

The paper applied RECIST 1.1 to non-irradiated lesions; the irradiated ones are followed here,
each on its own, with the primary ruleset's thresholds (the protocol's
``[response].reading_local_control``; RECIST itself defines no per-lesion response):

- reference: the lesion's last scan on or before its irradiation date (the first scan when
  the date is not recorded);
- local CR: 0 mm (a node below the pathological short axis); local PR: at or below the
  ruleset's PR change from the reference; local failure (PD): at or above the PD change and
  the minimum absolute increase over the lesion's smallest earlier size, the reference
  included (over the reference itself under a ruleset that measures progression from
  baseline); otherwise SD; NE when not measured;
- a non-target irradiated lesion: CR when absent, PD on unequivocal progression, else
  NON-CR/NON-PD.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from studylib.protocol import Protocol, Ruleset, resolve_protocol
from studylib.recist.lesions import prepare_assessments, prepare_lesions
from studylib.recist.rulesets import thresholds
from studylib.recist.timepoint import _at_least, _at_most, _percent
from studylib.recist.variants import _dates
from studylib.vocabulary import BOR_ORDER

__all__ = ["local_control", "local_control_summary"]

#: Best first, in the vocabulary's order of best overall responses.
_RANK = {code: rank for rank, code in enumerate(BOR_ORDER)}


def local_control(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    until: pd.Series | Mapping[str, Any] | None = None,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """The local response of each irradiated lesion at each scan after its reference scan.

    Parameters
    ----------
    lesions, assessments
        Frames in the shape of ``lesions.csv`` and ``assessments.csv``.
    ruleset
        Default: the protocol's primary ruleset.
    until
        Optional last date to count per patient (e.g. the end of the first course).
    protocol
        The :class:`~studylib.protocol.Protocol` holding the ruleset (default: the bundled
        one).

    Returns
    -------
    DataFrame
        One row per irradiated lesion and later scan: ``patient_id, lesion_id, role, site,
        nodal, irradiated_on, reference_date, reference_mm, date, diameter_mm, nadir_mm,
        pct_change_reference, change_nadir_mm, pct_change_nadir, state, local_response,
        reason``.
    """
    protocol = resolve_protocol(protocol)
    t = thresholds(ruleset or protocol.response.primary_ruleset, protocol)
    les = prepare_lesions(lesions)
    les = les[les["irradiated"] & les["role"].isin(["target", "non_target"])]
    rows = assessments[
        assessments["patient_id"].astype(str).str.strip().isin(les["patient_id"].unique())
    ]
    asm = prepare_assessments(rows, prepare_lesions(lesions))
    key = ["patient_id", "lesion_id"]
    asm = asm.merge(les[key], on=key, how="inner")
    if until is not None:
        last = _dates(until, "until")
        asm = asm[asm["date"] <= asm["patient_id"].map(last)]
    asm = asm.sort_values(key + ["date"], kind="stable").reset_index(drop=True)
    size = np.where(
        asm["diameter_mm"].isna() & (asm["state"] == "too_small"),
        t.too_small_default_mm,
        asm["diameter_mm"],
    ).astype(float)
    asm["size_mm"] = size

    # Reference scan: the last one on or before irradiation (else the first one).
    on = asm["irradiated_on"]
    first_date = asm.groupby(key)["date"].transform("min")
    before = asm["date"].where(asm["date"] <= on)
    last_before = before.groupby([asm[k] for k in key]).transform("max")
    asm["reference_date"] = last_before.where(on.notna()).fillna(first_date)
    ref_rows = asm[asm["date"] == asm["reference_date"]].set_index(key)["size_mm"]
    asm["reference_mm"] = ref_rows.reindex(pd.MultiIndex.from_frame(asm[key])).to_numpy()
    follow = asm[asm["date"] >= asm["reference_date"]].reset_index(drop=True)

    lesion_code = follow.groupby(key, sort=False).ngroup().to_numpy()
    start = np.r_[True, lesion_code[1:] != lesion_code[:-1]] if len(follow) else np.zeros(0, bool)
    running = pd.Series(follow["size_mm"].to_numpy()).groupby(lesion_code).cummin()
    running = running.groupby(lesion_code).ffill().to_numpy()
    nadir = np.r_[np.nan, running[:-1]] if len(follow) else running
    nadir[start] = np.nan
    size = follow["size_mm"].to_numpy()
    reference = follow["reference_mm"].to_numpy()
    pd_reference = reference if t.pd_reference == "baseline" else nadir
    change_ref = size - pd_reference
    pct_ref = _percent(size, pd_reference)
    pct_reference = _percent(size, reference)
    nodal = follow["nodal"].to_numpy(dtype=bool)
    state = follow["state"].to_numpy(dtype=object)
    target = (follow["role"] == "target").to_numpy()
    measured = ~np.isnan(size)
    gone = np.where(nodal, size < t.node_pathological_min_mm, size == 0)
    is_pd = (
        measured
        & _at_least(change_ref, t.pd_min_increase_mm)
        & (change_ref > 0)
        & ((pd_reference == 0) | _at_least(pct_ref, t.pd_change_pct))
    )
    is_pr = measured & _at_most(pct_reference, t.pr_change_from_baseline_pct)
    response = np.select(
        [
            target & ~measured,
            target & measured & gone,
            target & is_pd,
            target & is_pr,
            target,
            state == "unequivocal_progression",
            state == "absent",
            (state == "present") & nodal & (size < t.node_pathological_min_mm),
            state == "present",
        ],
        ["NE", "CR", "PD", "PR", "SD", "PD", "CR", "CR", "NON-CR/NON-PD"],
        "NE",
    ).astype(object)

    def fmt(values, signed=False):
        s = pd.Series(np.round(values.astype(float), 1))
        return s.map(("{:+.1f}" if signed else "{:.1f}").format).where(s.notna(), "?")

    ref_name = "reference" if t.pd_reference == "baseline" else "nadir"
    measured_text = (
        fmt(size)
        + " mm, "
        + fmt(pct_reference, signed=True)
        + "% from reference "
        + fmt(reference)
        + " mm, "
        + fmt(change_ref, signed=True)
        + f" mm from {ref_name}"
    )
    reason = pd.Series(
        np.select(
            [target & ~measured, target, state == ""],
            ["not measured", measured_text, "not evaluated"],
            "non-target state: " + pd.Series(state).astype(str),
        ),
        dtype=object,
    )
    out = pd.DataFrame(
        {
            "patient_id": follow["patient_id"],
            "lesion_id": follow["lesion_id"],
            "role": follow["role"],
            "site": follow["site"],
            "nodal": follow["nodal"],
            "irradiated_on": follow["irradiated_on"],
            "reference_date": follow["reference_date"],
            "reference_mm": reference,
            "date": follow["date"],
            "diameter_mm": size,
            "nadir_mm": nadir,
            "pct_change_reference": pct_reference,
            "change_nadir_mm": size - nadir,
            "pct_change_nadir": _percent(size, nadir),
            "state": follow["state"],
            "local_response": response,
            "reason": "local " + pd.Series(response) + ": " + reason,
        }
    )
    return out[~start].reset_index(drop=True)


def local_control_summary(local: pd.DataFrame) -> pd.DataFrame:
    """One row per irradiated lesion: controlled or not, and when control was lost.

    Parameters
    ----------
    local
        The output of :func:`local_control`.

    Returns
    -------
    DataFrame
        ``patient_id, lesion_id, site, reference_date, reference_mm, scans, last_date,
        last_response, best_response, failure_date, controlled``; a lesion is controlled
        when no scan showed local failure (PD), and ``controlled`` is missing when it has
        no evaluable scan after its reference.
    """
    key = ["patient_id", "lesion_id"]
    rows = local.sort_values(key + ["date"], kind="stable")
    rank = rows["local_response"].map(_RANK)
    evaluable = rows[rows["local_response"] != "NE"]
    grouped = rows.groupby(key, sort=True)
    out = grouped.agg(
        site=("site", "first"),
        reference_date=("reference_date", "first"),
        reference_mm=("reference_mm", "first"),
        scans=("date", "size"),
        last_date=("date", "max"),
        last_response=("local_response", "last"),
    )
    best = rows.assign(rank=rank).sort_values(key + ["rank", "date"]).groupby(key).first()
    out["best_response"] = best["local_response"]
    failures = rows[rows["local_response"] == "PD"].groupby(key)["date"].min()
    out["failure_date"] = failures.reindex(out.index)
    has_evaluable = evaluable.groupby(key).size().reindex(out.index).fillna(0) > 0
    controlled = pd.Series(out["failure_date"].isna().to_numpy(), index=out.index, dtype="boolean")
    controlled[~has_evaluable.to_numpy()] = pd.NA
    out["controlled"] = controlled
    return out.reset_index()
