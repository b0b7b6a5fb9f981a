"""New lesions followed as iRECIST asks: new target and new non-target lesions.

RECIST 1.1 stops at the first new lesion (progression). iRECIST (Seymour et al., Lancet Oncol
2017) keeps measuring: each new lesion is judged measurable or not by the RECIST 1.1 size rules
of the base ruleset (:func:`studylib.recist.lesions.measurability`), and up to
``new_target_max`` measurable ones, at most ``new_target_max_per_organ`` per organ (all lymph
nodes one organ), become *new target* lesions, taken in the order they appeared (largest first
on the same scan); every other new lesion is a *new non-target* lesion. Their measurements stay
out of the sum of the original target lesions (``[response.irecist]`` of the protocol file).

A new lesion is present on a scan when it is recorded ``unequivocal`` (or equivocal on a scan
before one that confirms it, when progression is backdated, RECIST 1.1 section 4.3.2), and it
is not 0 mm or, for a lymph node, below the pathological short axis (then it has resolved, or
is no lesion at all).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.protocol import IRecistRules, Ruleset
from studylib.recist.lesions import irradiation_status, measurability
from studylib.recist.rulesets import thresholds
from studylib.recist.timepoint import _confirmed_later

__all__ = ["followed_rows", "new_lesion_table", "new_lesion_timepoints"]


def _organ(frame: pd.DataFrame) -> pd.Series:
    """The organ a lesion counts for in the per-organ limit: all lymph nodes are one organ."""
    return frame["site"].where(~frame["nodal"], "lymph nodes")


def followed_rows(
    les: pd.DataFrame, asm: pd.DataFrame, role: str, exclude_irradiated: bool
) -> pd.DataFrame:
    """The assessment rows of lesions of one role that count for the response.

    As in the timepoint layer, a lesion irradiated before the first follow-up scan is left out
    and one irradiated on study is not evaluable from its irradiation date
    (:func:`~studylib.recist.lesions.irradiation_status`).
    """
    rows = asm[asm["role"] == role].copy()
    if exclude_irradiated and les["irradiated"].any():
        status = irradiation_status(les, asm).set_index(["patient_id", "lesion_id"])
        key = pd.MultiIndex.from_frame(rows[["patient_id", "lesion_id"]])
        irradiation = status["irradiation"].reindex(key).to_numpy()
        censored_from = status["censored_from"].reindex(key).to_numpy()
        with np.errstate(invalid="ignore"):
            dropped = (irradiation == "excluded") | (rows["date"].to_numpy() >= censored_from)
        rows = rows[~dropped]
    return rows


def _new_rows(
    les: pd.DataFrame, asm: pd.DataFrame, base: Ruleset, exclude_irradiated: bool, backdate: bool
) -> pd.DataFrame:
    """The assessment rows of new lesions, with ``present`` and ``evaluated`` per row."""
    t = thresholds(base)
    rows = followed_rows(les, asm, "new", exclude_irradiated)
    diameter = rows["diameter_mm"].to_numpy(dtype=float)
    nodal = rows["nodal"].to_numpy(dtype=bool)
    state = rows["state"].to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        resolved = (diameter == 0) | (nodal & (diameter < t.node_pathological_min_mm))
    unequivocal = (state == "unequivocal") & ~resolved
    equivocal = (state == "equivocal") & ~resolved
    if backdate and unequivocal.any():
        _, confirmed = _confirmed_later(rows, equivocal, unequivocal)
        unequivocal = unequivocal | confirmed
    rows["present"] = unequivocal
    rows["evaluated"] = (state != "") | ~np.isnan(diameter)
    return rows.reset_index(drop=True)


def new_lesion_table(
    les: pd.DataFrame,
    asm: pd.DataFrame,
    base: Ruleset,
    rules: IRecistRules,
    *,
    exclude_irradiated: bool = True,
    backdate: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which new lesions are new target lesions, and the rows that follow them.

    Parameters
    ----------
    les, asm
        Prepared lesions and assessments (:func:`~studylib.recist.lesions.prepare_lesions`,
        :func:`~studylib.recist.lesions.prepare_assessments`).
    base
        The RECIST ruleset whose size rules judge measurability.
    rules
        The protocol's iRECIST rules (new target limits).
    exclude_irradiated, backdate
        As for :func:`~studylib.recist.timepoint.timepoint_responses`.

    Returns
    -------
    (DataFrame, DataFrame)
        The new lesions that ever were present, one row each: ``patient_id, lesion_id, site,
        nodal, first_seen`` (first scan on which it was present), ``first_mm`` (its first
        measurement while present), ``measurability`` and ``category`` (``new_target`` or
        ``new_non_target``); and the assessment rows of new lesions with ``present``,
        ``evaluated`` and ``category``.
    """
    rows = _new_rows(les, asm, base, exclude_irradiated, backdate)
    present = rows[rows["present"]]
    first = present.groupby(["patient_id", "lesion_id"], sort=False)["date"].min()
    measured = present[present["diameter_mm"].notna()]
    first_mm = (
        measured.sort_values("date").groupby(["patient_id", "lesion_id"], sort=False)["diameter_mm"]
    ).first()
    table = (
        les.set_index(["patient_id", "lesion_id"])
        .loc[first.index, ["site", "nodal"]]
        .assign(first_seen=first, first_mm=first_mm.reindex(first.index))
        .reset_index()
    )
    table["measurability"] = measurability(table["first_mm"], table["nodal"], base)
    table["organ"] = _organ(table)
    order = table.assign(size=-table["first_mm"].fillna(0)).sort_values(
        ["patient_id", "first_seen", "size", "lesion_id"], kind="stable"
    )
    candidate = order[order["measurability"] == "measurable"]
    in_organ = candidate.groupby(["patient_id", "organ"]).cumcount() < (
        rules.new_target_max_per_organ
    )
    chosen = candidate[in_organ]
    chosen = chosen[chosen.groupby("patient_id").cumcount() < rules.new_target_max]
    table["category"] = np.where(
        table.index.isin(chosen.index), "new_target", "new_non_target"
    ).astype(object)
    table = table.drop(columns="organ").sort_values(["patient_id", "first_seen", "lesion_id"])
    table = table.reset_index(drop=True)
    key = pd.MultiIndex.from_frame(rows[["patient_id", "lesion_id"]])
    category = table.set_index(["patient_id", "lesion_id"])["category"].reindex(key)
    rows["category"] = category.to_numpy()
    return table, rows


def new_lesion_timepoints(
    table: pd.DataFrame, rows: pd.DataFrame, timepoints: pd.DataFrame
) -> pd.DataFrame:
    """What the new lesions show at each timepoint, for the iRECIST state machine.

    Parameters
    ----------
    table, rows
        From :func:`new_lesion_table`.
    timepoints
        ``patient_id`` and ``date`` of every timepoint, in order.

    Returns
    -------
    DataFrame
        Aligned with ``timepoints``: ``new_present`` (new lesions present), ``new_first_seen``
        (new lesions present for the first time) and ``new_first_ids`` (their ids),
        ``new_target_sum_mm`` (sum of the new target lesions measured that day; NaN when none
        was), ``new_targets_expected`` (new target lesions seen so far),
        ``new_targets_measured`` and ``new_not_evaluated`` (new lesions seen on an earlier scan
        and not assessed on this one).
    """
    key = ["patient_id", "date"]
    out = timepoints[key].copy()
    first = table[["patient_id", "lesion_id", "first_seen"]]
    follow = rows.merge(first, on=["patient_id", "lesion_id"], how="inner")
    follow = follow[follow["date"] >= follow["first_seen"]]
    is_target = follow["category"] == "new_target"
    measured_target = follow[is_target & follow["diameter_mm"].notna()]
    first_here = first.rename(columns={"first_seen": "date"})

    def per_timepoint(frame: pd.DataFrame, value: str, how: str) -> pd.Series:
        counted = frame.groupby(key)[value].agg(how)
        return counted.reindex(pd.MultiIndex.from_frame(out[key])).to_numpy()

    def ids(frame: pd.DataFrame) -> np.ndarray:
        joined = frame.sort_values("lesion_id").groupby(key)["lesion_id"].agg(", ".join)
        return joined.reindex(pd.MultiIndex.from_frame(out[key])).fillna("").to_numpy()

    out["new_present"] = np.nan_to_num(
        per_timepoint(follow[follow["present"]], "lesion_id", "size")
    )
    out["new_first_seen"] = np.nan_to_num(per_timepoint(first_here, "lesion_id", "size"))
    out["new_first_ids"] = ids(first_here)
    out["new_target_sum_mm"] = per_timepoint(measured_target, "diameter_mm", "sum")
    out["new_targets_measured"] = np.nan_to_num(
        per_timepoint(measured_target, "diameter_mm", "size")
    )
    out["new_targets_expected"] = _seen_by(out, table[table["category"] == "new_target"])
    earlier = follow[follow["evaluated"] & (follow["date"] > follow["first_seen"])]
    out["new_not_evaluated"] = _seen_by(out, table, strictly=True) - np.nan_to_num(
        per_timepoint(earlier, "lesion_id", "size")
    )
    for column in ("new_present", "new_first_seen", "new_targets_measured", "new_not_evaluated"):
        out[column] = out[column].astype(int)
    return out.reset_index(drop=True)


def _seen_by(out: pd.DataFrame, lesions: pd.DataFrame, *, strictly: bool = False) -> np.ndarray:
    """How many of ``lesions`` each timepoint's patient had seen by then (or before it)."""
    pairs = out[["patient_id", "date"]].merge(
        lesions[["patient_id", "first_seen"]], on="patient_id", how="left"
    )
    seen = pairs["first_seen"] < pairs["date"] if strictly else pairs["first_seen"] <= pairs["date"]
    counted = seen.groupby([pairs["patient_id"], pairs["date"]], sort=False).sum()
    return counted.reindex(pd.MultiIndex.from_frame(out[["patient_id", "date"]])).to_numpy()
