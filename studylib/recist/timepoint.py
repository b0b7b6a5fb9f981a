"""Layer 2 of the RECIST engine: the response at each timepoint.

:func:`timepoint_responses` turns lesion assessments into, for each patient and assessment
date after baseline, the sum of target diameters, its baseline and nadir, the changes, the
target, non-target and new-lesion responses and the overall response (RECIST 1.1 §4.3-4.4,
Tables 1 and 2). :func:`overall_response` is Tables 1 and 2 alone. Everything is computed for
the whole cohort at once with array operations; thresholds come from the ruleset of the
protocol given (``protocol=None``: the bundled ``protocol.toml``).

Response codes: ``CR``, ``PR``, ``SD``, ``PD``, ``NE`` (not evaluable), ``NON-CR/NON-PD``
(non-target only) and ``ND`` (no disease of that kind at baseline: nothing to assess).
New lesions: ``none``, ``equivocal`` (not progression) or ``unequivocal`` (progression).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.errors import ResponseError
from studylib.protocol import Protocol, Ruleset, resolve_protocol
from studylib.recist.lesions import irradiation_status, prepare_assessments, prepare_lesions
from studylib.recist.rulesets import Thresholds, thresholds
from studylib.vocabulary import LESION_STATES, NONTARGET_CODES, RESPONSE_CODES, TARGET_CODES

__all__ = [
    "TARGET_CODES",
    "NONTARGET_CODES",
    "NEW_LESION_CODES",
    "OVERALL_CODES",
    "overall_response",
    "timepoint_responses",
    "best_percent_change",
]

#: A timepoint's new lesions: none, or the worst state recorded for a new lesion.
NEW_LESION_CODES = ("none", *LESION_STATES["new"])
OVERALL_CODES = RESPONSE_CODES

#: Spellings accepted for the new-lesion argument of :func:`overall_response`.
_NEW_ALIASES = {
    "none": "none",
    "no": "none",
    "n": "none",
    "false": "none",
    "equivocal": "equivocal",
    "unequivocal": "unequivocal",
    "yes": "unequivocal",
    "y": "unequivocal",
    "true": "unequivocal",
}
#: Relative tolerance for comparisons at a threshold: sums such as 0.7 x 30 or 25.2 - 21 are
#: not exact in binary floating point, and "exactly -30%" must count as -30%.
_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# Tables 1 and 2


def _codes(values, allowed, what: str, aliases: dict[str, str] | None = None) -> np.ndarray:
    """Normalised codes as an object array; unknown or missing codes raise ResponseError."""
    raw = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if aliases is None:
        text = raw.map(lambda v: v.strip().upper() if isinstance(v, str) else v)
        norm = text
    else:
        text = raw.map(
            lambda v: str(v).strip().lower() if isinstance(v, str | bool | np.bool_) else v
        )
        norm = text.map(aliases)
    bad = norm.isna() | ~norm.isin(list(allowed))
    if bad.any():
        shown = sorted({repr(v) for v in raw[bad]})
        raise ResponseError(
            f"unknown {what} code(s): {', '.join(shown)}; expected one of {list(allowed)}"
            + (f" (also {sorted(set(aliases) - set(allowed))})" if aliases else "")
        )
    return norm.to_numpy(dtype=object)


def overall_response(target, nontarget, new_lesions):
    """The overall response at a timepoint (RECIST 1.1 Tables 1 and 2).

    Parameters
    ----------
    target
        Target-lesion response: CR, PR, SD, PD, NE, or ND when the patient has no target
        lesion (then Table 2, non-target disease only, applies).
    nontarget
        Non-target response: CR, NON-CR/NON-PD, PD, NE, or ND when there is no non-target
        lesion (which counts as CR in Table 1: nothing is left).
    new_lesions
        ``none``, ``equivocal`` or ``unequivocal`` (also ``True``/``False``, ``Y``/``N``).
        An equivocal new lesion is not progression (RECIST 1.1 §4.3.2).

    Each argument is a scalar or a Series (Series align on the index; scalars broadcast).
    Codes are case-insensitive.

    Returns
    -------
    str or Series
        CR, PR, SD, NON-CR/NON-PD, PD, NE or ND (no disease to assess, no new lesion).

    Raises
    ------
    studylib.errors.ResponseError
        (a ``ValueError``) listing every unknown or missing code.
    """
    series = [x for x in (target, nontarget, new_lesions) if isinstance(x, pd.Series)]
    index = series[0].index if series else None
    n = len(index) if index is not None else 1

    def as_series(x):
        if isinstance(x, pd.Series):
            return x.reindex(index)
        return pd.Series([x] * n, index=index, dtype=object)

    t = _codes(as_series(target), TARGET_CODES, "target response")
    nt = _codes(as_series(nontarget), NONTARGET_CODES, "non-target response")
    new = _codes(as_series(new_lesions), NEW_LESION_CODES, "new lesion", _NEW_ALIASES)
    result = _table(t, nt, new)
    if index is None:
        return str(result[0])
    return pd.Series(result, index=index, name="overall_response", dtype=object)


def _table(t: np.ndarray, nt: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Tables 1 and 2 on normalised code arrays."""
    no_target = t == "ND"
    nt_ok = (nt == "CR") | (nt == "ND")
    return np.select(
        [
            (t == "PD") | (nt == "PD") | (new == "unequivocal"),
            # Table 2: non-target disease only
            no_target & (nt == "ND"),
            no_target,
            # Table 1: target disease
            (t == "CR") & nt_ok,
            t == "CR",
            t == "PR",
            t == "SD",
        ],
        ["PD", "ND", nt, "CR", "PR", "PR", "SD"],
        "NE",
    ).astype(object)


# --------------------------------------------------------------------------------------------
# Per-timepoint arithmetic


def _at_least(value: np.ndarray, limit: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return value >= limit - _EPS * max(1.0, abs(limit))


def _at_most(value: np.ndarray, limit: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return value <= limit + _EPS * max(1.0, abs(limit))


def _percent(value: np.ndarray, reference: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (value - reference) / reference * 100.0
    return np.where(reference > 0, pct, np.nan)


def _group_min_before(values: np.ndarray, group_start: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each row, the minimum of ``values`` over earlier rows of its group (NaN ignored)."""
    running = pd.Series(values).groupby(group).cummin().groupby(group).ffill().to_numpy()
    before = np.empty_like(running)
    before[1:] = running[:-1]
    before[group_start] = np.nan
    return before


def timepoint_responses(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    exclude_irradiated: bool | None = None,
    continued_pr: bool = False,
    backdate_new_lesions: bool = True,
    include_baseline: bool = False,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Target, non-target, new-lesion and overall response at every timepoint after baseline.

    A timepoint is a patient and an assessment date; the baseline is the patient's first
    date. Rules (RECIST 1.1 §4.3; numbers from the ruleset in the protocol file):

    - Sum of diameters: longest diameters of non-nodal targets plus short axes of nodal
      targets; "too small to measure" counts as the ruleset's default size, a measured
      value always wins.
    - Nadir: the smallest sum over earlier timepoints at which every target was measured,
      the baseline included.
    - Target CR: every non-nodal target at 0 mm and every nodal target below the
      pathological short axis; the sum may be above 0. PR: the sum at or below the PR change
      from baseline (inclusive). PD: the sum at or above the PD change over the nadir *and*
      at least the minimum absolute increase (from a nadir of 0 the increase decides); it
      may be called with targets missing when the measured ones already show it. NE: a
      target not evaluated and no PD. SD: otherwise.
    - Non-target: PD on unequivocal progression; NE if one was not evaluated; CR when all
      are absent (a node below the pathological short axis counts as absent); otherwise
      NON-CR/NON-PD.
    - New lesions: an unequivocal new lesion is PD; an equivocal one is not. A new node is
      only a lesion at the pathological size or above. With ``backdate_new_lesions`` (RECIST
      1.1 §4.3.2) an equivocal lesion later confirmed is progression from its first scan.
    - Overall: :func:`overall_response`.

    Parameters
    ----------
    lesions, assessments
        Frames in the shape of ``lesions.csv`` and ``assessments.csv``.
    ruleset
        A ruleset of the protocol (default: its ``[response].default_ruleset``), e.g.
        ``"recist1.1"``, ``"recist1.0"``, ``"protocol"``, or a
        :class:`~studylib.protocol.Ruleset`. The bundled ``protocol`` ruleset measures
        progression from the baseline sum and needs a negative PET (no lesion PET-avid, at
        least one PET result on that date) for a complete response. ``"irecist"`` gives
        iRECIST (:func:`studylib.recist.irecist.irecist_timepoints`).
    exclude_irradiated
        Leave out irradiated lesions (see :func:`studylib.recist.lesions.irradiation_status`);
        default: the protocol's ``[response].exclude_irradiated``.
    continued_pr
        EORTC RECIST FAQ convention: once the targets were PR (or CR), a later SD stays PR
        until PD. Off by default (strict per-timepoint classification).
    backdate_new_lesions
        Date progression from the first scan of a new lesion that was equivocal then.
    include_baseline
        Also return each patient's baseline row (its sum; no response, as nothing is
        compared at baseline), e.g. for a table or plot that starts at baseline.
    protocol
        The :class:`~studylib.protocol.Protocol` whose rules apply (default: the bundled one).

    Returns
    -------
    DataFrame
        One row per patient and date after baseline, sorted, with ``patient_id, date,
        sum_mm, baseline_sum_mm, nadir_sum_mm, pct_change_baseline, pct_change_nadir,
        target_response, nontarget_response, new_lesions, overall_response`` and also
        ``baseline_date, change_baseline_mm, change_nadir_mm, targets_measured,
        targets_expected, pet_negative, reason`` (and ``visit`` when the assessments have
        one). ``sum_mm`` adds the targets measured that day; ``pct_change_nadir`` is
        missing when the nadir is 0 mm.

    Raises
    ------
    studylib.errors.DataError
        (a ``ValueError``) listing every unknown code or invalid value in the input.
    """
    # iRECIST builds on this layer, so it is imported here rather than at the top.
    from studylib.recist import irecist

    if isinstance(ruleset, str) and ruleset == irecist.IRECIST:
        return irecist.irecist_timepoints(
            lesions,
            assessments,
            exclude_irradiated=exclude_irradiated,
            continued_pr=continued_pr,
            backdate_new_lesions=backdate_new_lesions,
            include_baseline=include_baseline,
            protocol=protocol,
        )
    protocol = resolve_protocol(protocol)
    t = thresholds(ruleset, protocol)
    if exclude_irradiated is None:
        exclude_irradiated = protocol.response.exclude_irradiated
    les = prepare_lesions(lesions)
    asm = prepare_assessments(assessments, les)
    out = _timepoints(les, asm, t, exclude_irradiated, continued_pr, backdate_new_lesions)
    if include_baseline:
        return out
    return out[out["date"] != out["baseline_date"]].reset_index(drop=True)


def _timepoints(
    les: pd.DataFrame,
    asm: pd.DataFrame,
    t: Thresholds,
    exclude_irradiated: bool,
    continued_pr: bool,
    backdate_new_lesions: bool,
) -> pd.DataFrame:
    # Timepoints come from every assessment, so a scan that saw only irradiated lesions is
    # still a timepoint (with nothing to assess: ND).
    # Rows come sorted by patient and date: a timepoint starts where either changes.
    row_patient = asm["patient_id"].to_numpy(dtype=object)
    row_date = asm["date"].to_numpy()
    starts = np.r_[True, (row_patient[1:] != row_patient[:-1]) | (row_date[1:] != row_date[:-1])]
    # No assessment at all (e.g. a cohort without crossover patients): no timepoint, not an error.
    starts = starts[: len(row_patient)]
    tp_of_row = np.cumsum(starts) - 1
    tp = pd.DataFrame({"patient_id": row_patient[starts], "date": row_date[starts]})
    visit = "visit" in asm.columns
    if visit:
        tp["visit"] = asm.groupby(tp_of_row)["visit"].first().to_numpy()
    n_tp = len(tp)
    patient_codes, patients = pd.factorize(tp["patient_id"])
    group_start = (
        np.r_[True, patient_codes[1:] != patient_codes[:-1]] if n_tp else np.zeros(0, bool)
    )
    first_of_patient = np.flatnonzero(group_start)

    if exclude_irradiated:
        les, keep = _irradiation_filter(les, asm, tp, group_start)
        kept, tp_of_kept = asm[keep], tp_of_row[keep]
    else:
        kept, tp_of_kept = asm, tp_of_row
    role = kept["role"].to_numpy(dtype=object)
    state = kept["state"].to_numpy(dtype=object)
    nodal = kept["nodal"].to_numpy(dtype=bool)
    diameter = kept["diameter_mm"].to_numpy(dtype=float)

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(
            tp_of_kept[mask], weights=None if weights is None else weights[mask], minlength=n_tp
        )

    expected_by_patient = (
        les.groupby(["patient_id", "role"])
        .size()
        .unstack(fill_value=0)
        .reindex(patients, fill_value=0)
    )

    def expected(role_name: str) -> np.ndarray:
        if role_name not in expected_by_patient.columns:
            return np.zeros(n_tp, dtype=int)
        return expected_by_patient[role_name].to_numpy()[patient_codes]

    # --- target lesions ---------------------------------------------------------------------
    is_target = role == "target"
    value = np.where(np.isnan(diameter) & (state == "too_small"), t.too_small_default_mm, diameter)
    measured_row = is_target & ~np.isnan(value)
    targets_expected = expected("target")
    targets_measured = count(measured_row).astype(int)
    sum_mm = np.where(targets_measured > 0, count(measured_row, value), np.nan)
    left_nonnodal = count(measured_row & ~nodal & (value > 0))
    left_nodes = count(measured_row & nodal & _at_least(value, t.node_pathological_min_mm))
    complete = (targets_measured == targets_expected) & (targets_expected > 0)

    baseline_complete = complete[first_of_patient][patient_codes]
    baseline_sum = np.where(baseline_complete, sum_mm[first_of_patient][patient_codes], np.nan)
    nadir = _group_min_before(np.where(complete, sum_mm, np.nan), group_start, patient_codes)
    reference = baseline_sum if t.pd_reference == "baseline" else nadir
    change_baseline = sum_mm - baseline_sum
    change_nadir = sum_mm - nadir
    change_reference = sum_mm - reference
    pct_baseline = _percent(sum_mm, baseline_sum)
    pct_nadir = _percent(sum_mm, nadir)
    pct_reference = _percent(sum_mm, reference)

    pet_avid = kept["pet_avid"]
    pet_known = count(pet_avid.notna().to_numpy())
    pet_positive = count(pet_avid.fillna(False).to_numpy(dtype=bool))
    pet_negative = (pet_known > 0) & (pet_positive == 0)
    pet_ok = pet_negative if t.cr_requires_negative_pet else np.ones(n_tp, dtype=bool)

    is_cr = complete & (left_nonnodal == 0) & (left_nodes == 0)
    is_pd = (
        (targets_measured > 0)
        & _at_least(change_reference, t.pd_min_increase_mm)
        & (change_reference > _EPS)
        & ((reference == 0) | _at_least(pct_reference, t.pd_change_pct))
    )
    is_pr = complete & _at_most(pct_baseline, t.pr_change_from_baseline_pct)
    target = np.select(
        [
            targets_expected == 0,
            ~baseline_complete,
            is_cr & pet_ok,
            is_pd,
            ~complete,
            is_pr,
        ],
        ["ND", "NE", "CR", "PD", "NE", "PR"],
        "SD",
    ).astype(object)
    if continued_pr:
        target = _continue_pr(target, patient_codes, group_start)

    # --- non-target lesions -----------------------------------------------------------------
    is_nt = role == "non_target"
    nt_gone = is_nt & (
        (state == "absent")
        | ((state == "present") & nodal & (diameter < t.node_pathological_min_mm))
    )
    nt_expected = expected("non_target")
    nt_evaluated = count(is_nt & (state != ""))
    nt_progressed = count(is_nt & (state == "unequivocal_progression"))
    nt_absent = count(nt_gone)
    nontarget = np.select(
        [
            nt_expected == 0,
            nt_progressed > 0,
            nt_evaluated < nt_expected,
            (nt_absent == nt_expected) & pet_ok,
        ],
        ["ND", "PD", "NE", "CR"],
        "NON-CR/NON-PD",
    ).astype(object)

    # --- new lesions ------------------------------------------------------------------------
    is_new = role == "new"
    too_small_node = nodal & (diameter < t.node_pathological_min_mm)
    unequivocal = is_new & (state == "unequivocal") & ~too_small_node
    equivocal = is_new & (state == "equivocal") & ~too_small_node
    if backdate_new_lesions and unequivocal.any():
        equivocal, confirmed = _confirmed_later(kept, equivocal, unequivocal)
        unequivocal = unequivocal | confirmed
    else:
        confirmed = np.zeros(len(kept), dtype=bool)
    new_count = count(unequivocal)
    new_lesions = np.select(
        [new_count > 0, count(equivocal) > 0], ["unequivocal", "equivocal"], "none"
    ).astype(object)
    backdated = count(confirmed) > 0

    overall = _table(target, nontarget, new_lesions)

    out = pd.DataFrame(
        {
            "patient_id": tp["patient_id"].to_numpy(),
            "date": tp["date"].to_numpy(),
            "sum_mm": sum_mm,
            "baseline_sum_mm": baseline_sum,
            "nadir_sum_mm": nadir,
            "pct_change_baseline": pct_baseline,
            "pct_change_nadir": pct_nadir,
            "target_response": target,
            "nontarget_response": nontarget,
            "new_lesions": new_lesions,
            "overall_response": overall,
            "baseline_date": tp["date"].to_numpy()[first_of_patient][patient_codes],
            "change_baseline_mm": change_baseline,
            "change_nadir_mm": change_nadir,
            "targets_measured": targets_measured,
            "targets_expected": targets_expected,
            "pet_negative": pet_negative,
        }
    )
    out["reason"] = np.array(
        _reasons(
            out, t, baseline_complete, is_cr, pet_ok, change_reference, pct_reference, backdated
        ),
        dtype=object,
    )
    if visit:
        out.insert(2, "visit", tp["visit"].to_numpy())
    for column in ("target_response", "nontarget_response", "new_lesions", "overall_response"):
        out.loc[group_start, column] = None
    out.loc[group_start, "reason"] = [f"baseline: sum {x:.1f} mm" for x in sum_mm[group_start]]
    return out


def _irradiation_filter(
    les: pd.DataFrame,
    asm: pd.DataFrame,
    tp: pd.DataFrame,
    group_start: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Lesions that stay in the response, and the assessment rows that count.

    Same rule as :func:`studylib.recist.lesions.irradiation_status`: irradiated before the
    patient's first follow-up scan, a lesion is left out; irradiated later, it is not
    evaluable from its irradiation date.
    """
    if not les["irradiated"].any():
        return les, np.ones(len(asm), dtype=bool)
    first = np.flatnonzero(group_start)
    second = first + 1
    has_follow_up = second < len(tp)
    has_follow_up[has_follow_up] = ~group_start[second[has_follow_up]]
    follow_up = pd.Series(
        tp["date"].to_numpy()[second[has_follow_up]],
        index=tp["patient_id"].to_numpy()[first[has_follow_up]],
    )
    status = irradiation_status(les, asm, follow_up=follow_up)
    excluded = status["irradiation"].to_numpy() == "excluded"
    row_first_follow_up = asm["patient_id"].map(follow_up)
    on = asm["irradiated_on"]
    row_early = (
        asm["irradiated"].to_numpy(dtype=bool)
        & (on.isna() | row_first_follow_up.isna() | (on <= row_first_follow_up)).to_numpy()
    )
    row_censored = (
        asm["irradiated"].to_numpy(dtype=bool) & ~row_early & (asm["date"] >= on).to_numpy()
    )
    return les[~excluded], ~(row_early | row_censored)


def _continue_pr(
    target: np.ndarray, patient_codes: np.ndarray, group_start: np.ndarray
) -> np.ndarray:
    """SD after a PR or CR, with no PD since, stays PR (EORTC RECIST FAQ, continued PR)."""
    frame = pd.DataFrame({"p": patient_codes, "t": target})
    # A new segment starts at each PD: the convention ends with progression.
    segment = (frame["t"] == "PD").groupby(frame["p"]).cumsum()
    responded = frame["t"].isin(["PR", "CR"]).groupby([frame["p"], segment]).cummax()
    return np.where((target == "SD") & responded.to_numpy(), "PR", target).astype(object)


def _confirmed_later(
    kept: pd.DataFrame, equivocal: np.ndarray, unequivocal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split equivocal new-lesion rows into still equivocal and confirmed at a later scan."""
    lesion_key = kept["patient_id"].astype(str) + "\x1f" + kept["lesion_id"].astype(str)
    first_unequivocal = kept["date"].where(unequivocal).groupby(lesion_key).transform("min")
    confirmed = equivocal & (kept["date"] < first_unequivocal).to_numpy()
    return equivocal & ~confirmed, confirmed


def _reasons(
    out: pd.DataFrame,
    t: Thresholds,
    baseline_complete: np.ndarray,
    is_cr: np.ndarray,
    pet_ok: np.ndarray,
    change_reference: np.ndarray,
    pct_reference: np.ndarray,
    backdated: np.ndarray,
) -> list[str]:
    """A sentence per timepoint saying how each part of the response was reached.

    The numbers are only formatted here (one f-string per row, the cheapest way to build
    text); every decision was taken above on whole arrays.
    """
    by_baseline = t.pd_reference == "baseline"
    ref_name = "baseline" if by_baseline else "nadir"
    ref = (out["baseline_sum_mm"] if by_baseline else out["nadir_sum_mm"]).to_numpy()
    pd_rule = f"PD needs >= {t.pd_change_pct:+g}% and >= {t.pd_min_increase_mm:g} mm"
    pr_rule = f"PR at <= {t.pr_change_from_baseline_pct:g}%"
    cr_rule = f"non-nodal targets 0 mm, nodes < {t.node_pathological_min_mm:g} mm"
    no_pet = " (CR on CT but no negative PET, which this ruleset needs)"
    continued = " (continued PR: PR earlier and no PD since)"
    new_text = {
        "unequivocal": "unequivocal new lesion",
        "equivocal": "equivocal new lesion (not PD until confirmed)",
        "none": "no new lesion",
    }
    backdated_text = "new lesion equivocal here, confirmed at a later scan: PD from this date"
    continued_pr = (out["target_response"].to_numpy() == "PR") & ~_at_most(
        out["pct_change_baseline"].to_numpy(), t.pr_change_from_baseline_pct
    )
    columns = [
        out["target_response"],
        out["sum_mm"],
        out["pct_change_baseline"],
        out["baseline_sum_mm"],
        change_reference,
        pct_reference,
        ref,
        out["targets_measured"],
        out["targets_expected"],
        baseline_complete,
        is_cr & ~pet_ok,
        continued_pr,
        out["nontarget_response"],
        out["new_lesions"],
        backdated,
        out["overall_response"],
    ]
    reasons = []
    # Python floats format several times faster than numpy scalars, hence tolist().
    for row in zip(*(np.asarray(c).tolist() for c in columns), strict=True):
        (target, total, pct_base, base, change, pct, reference, measured, expected) = row[:9]
        (complete, pet_missing, is_continued, nontarget, new, was_backdated, overall) = row[9:]
        versus_ref = f"{change:+.1f} mm, {_pct(pct)} from {ref_name} {reference:.1f} mm"
        if target == "ND":
            text = "targets ND: no target lesion"
        elif not complete:
            text = "targets NE: a target lesion was not measured at baseline"
        elif target == "CR":
            text = f"targets CR: sum {total:.1f} mm, {cr_rule}"
        elif target == "PD":
            text = f"targets PD: sum {total:.1f} mm, {versus_ref} ({pd_rule})"
        elif target == "NE" and measured == 0:
            text = f"targets NE: none of {expected} target lesions evaluated"
        elif target == "NE":
            text = (
                f"targets NE: {expected - measured} of {expected} target lesions not evaluated;"
                f" the measured ones do not show PD (sum {total:.1f} mm, {versus_ref})"
            )
        else:
            text = (
                f"targets {target}: sum {total:.1f} mm, {pct_base:+.1f}% from baseline "
                f"{base:.1f} mm" + (f" ({pr_rule})" if target == "PR" else f", {versus_ref}")
            )
            if is_continued:
                text += continued
        if pet_missing:
            text += no_pet
        lesions_text = backdated_text if was_backdated else new_text[new]
        reasons.append(f"{text}; non-target {nontarget}; {lesions_text} -> {overall}")
    return reasons


def _pct(value: float) -> str:
    """A percent change, or 'n/a %' from a 0 mm reference (undefined)."""
    return "n/a %" if value != value else f"{value:+.1f}%"


def best_percent_change(responses: pd.DataFrame) -> pd.DataFrame:
    """Each patient's largest shrinkage (or smallest growth) of the sum from baseline.

    Only follow-up timepoints at which every target lesion was measured count, as in a
    waterfall plot. ``responses`` is the output of :func:`timepoint_responses` (a baseline
    row, with ``include_baseline``, is not a result).

    Returns
    -------
    DataFrame
        ``patient_id, best_pct_change_baseline, date`` (earliest date of the best value),
        one row per patient with a complete follow-up of target lesions.
    """
    full = responses[
        (responses["targets_measured"] == responses["targets_expected"])
        & responses["pct_change_baseline"].notna()
        & (responses["date"] > responses["baseline_date"])
    ]
    best = full.sort_values(["patient_id", "pct_change_baseline", "date"]).drop_duplicates(
        "patient_id"
    )
    return (
        best[["patient_id", "pct_change_baseline", "date"]]
        .rename(columns={"pct_change_baseline": "best_pct_change_baseline"})
        .reset_index(drop=True)
    )
