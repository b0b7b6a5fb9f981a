"""iRECIST timepoint responses from lesion measurements (Seymour et al., Lancet Oncol 2017).

iRECIST keeps RECIST 1.1's measurements and adds a state to them: the first RECIST 1.1
progression is *unconfirmed* (iUPD), and the patient's next assessments either confirm it
(iCPD), leave it unconfirmed (iUPD again) or reset it (iSD, iPR, iCR). The rules, each a
sentence of ``[response.irecist]`` in the protocol file:

- **Opening an iUPD.** With no iUPD open, a timepoint is iUPD when RECIST 1.1 (the base
  ruleset, :func:`~studylib.recist.timepoint.timepoint_responses`) finds progression of the
  target lesions (from the nadir), unequivocal progression of the non-target lesions, or a new
  lesion; after a reset also when the new target lesions' sum progresses as RECIST 1.1 defines
  it. Otherwise the RECIST 1.1 response is renamed (iCR, iPR, iSD, NON-iCR/NON-iUPD, NE, ND);
  new lesions still present after a reset keep it from being iCR.
- **Confirming it (iCPD)** at a later assessment, measured from the timepoint that opened the
  iUPD (increases are additive): the target sum rose by at least ``confirm_min_increase`` when
  the targets opened the iUPD, or the targets now progress when they did not; the new target
  lesions' sum rose by at least ``confirm_min_increase``; a non-target lesion or a new
  non-target lesion grew (measured larger, or a non-target lesion newly recorded as
  progressing); or another new lesion appeared. Growth confirms only on a scan at least
  ``confirmation_window_min`` after the iUPD; another new lesion on any scan.
- **Leaving it unconfirmed (iUPD).** Nothing grew further and some category is still in
  progression: targets progressing from the nadir, non-target progression, or new lesions
  present while the measured disease has not shrunk since the iUPD.
- **Resetting it** when the timepoint is iSD, iPR or iCR (NON-iCR/NON-iUPD without targets):
  targets and non-target lesions evaluable and not progressing, and the new lesions gone or the
  measured disease (targets plus new targets) smaller than at the iUPD. A later progression is
  then judged afresh, from the nadir.
- A timepoint that can be none of these while an iUPD is open is NE; the iUPD stays open.
  After iCPD every later timepoint stays iCPD.

New lesions are followed as new target and new non-target lesions
(:mod:`studylib.recist.new_lesions`), kept out of the original target sum.

The engine steps through the assessments in order, every patient at once: the k-th timepoint
of the whole cohort is decided in one set of array operations, so the loop runs over visit
numbers, not patients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.errors import ProtocolError
from studylib.protocol import IRecistRules, Protocol, resolve_protocol
from studylib.recist.lesions import prepare_assessments, prepare_lesions
from studylib.recist.new_lesions import followed_rows, new_lesion_table, new_lesion_timepoints
from studylib.recist.rulesets import Thresholds, thresholds
from studylib.recist.timepoint import _at_least, _table, _timepoints
from studylib.vocabulary import IRECIST_OF_RECIST
from studylib.wording import days, whole_days

__all__ = ["IRECIST", "RULES", "irecist_rules", "irecist_timepoints"]

#: The ruleset name that asks :func:`~studylib.recist.timepoint.timepoint_responses` for
#: iRECIST.
IRECIST = "irecist"

#: The rule behind each timepoint (column ``rule``), in words.
RULES = {
    "baseline": "baseline scan: nothing is compared",
    "no_progression": "no iUPD open: the RECIST 1.1 response, renamed",
    "not_evaluable": "no iUPD open and RECIST 1.1 cannot evaluate the timepoint",
    "no_disease": "nothing to assess",
    "iupd": "first RECIST 1.1 progression (or the first after a reset): unconfirmed",
    "confirm_new_lesion": "another new lesion confirms the iUPD",
    "confirm_target_sum": "the target sum rose further by the confirming increase",
    "confirm_target_progression": "the targets now progress, which they did not at the iUPD",
    "confirm_new_target_sum": "the new target lesions' sum rose by the confirming increase",
    "confirm_nontarget": "a non-target lesion grew since the iUPD",
    "confirm_new_nontarget": "a new non-target lesion grew since the iUPD",
    "iupd_unchanged": "no further growth, progression still shown: the iUPD stays open",
    "iupd_not_evaluable": "iUPD open, the timepoint cannot be evaluated: it stays open",
    "reset": "iSD, iPR or iCR after an iUPD: the iUPD is reset",
    "after_icpd": "progression was confirmed earlier: iCPD stands",
}

#: Relative tolerance at thresholds, as in the timepoint layer (sums are binary floats).
_EPS = 1e-9


def irecist_rules(protocol: Protocol | None = None) -> IRecistRules:
    """The protocol's ``[response.irecist]`` rules.

    Raises
    ------
    studylib.errors.ProtocolError
        When the protocol file has no ``[response.irecist]`` section.
    """
    protocol = resolve_protocol(protocol)
    if protocol.response.irecist is None:
        raise ProtocolError(
            f"{protocol.path}: has no [response.irecist] section, so iRECIST cannot be applied "
            "(see studylib/protocol.toml for one)"
        )
    return protocol.response.irecist


def irecist_timepoints(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    exclude_irradiated: bool | None = None,
    continued_pr: bool = False,
    backdate_new_lesions: bool = True,
    include_baseline: bool = False,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """iRECIST response at every timepoint after baseline (Seymour et al. 2017, Table 2).

    Also reached as ``timepoint_responses(lesions, assessments, ruleset="irecist")``.

    Parameters
    ----------
    lesions, assessments
        Frames in the shape of ``lesions.csv`` and ``assessments.csv``; new lesions are rows
        with role ``new``, measured (``diameter_mm``) when measurable.
    exclude_irradiated, continued_pr, backdate_new_lesions, include_baseline
        As for :func:`~studylib.recist.timepoint.timepoint_responses` (they apply to the RECIST
        1.1 layer underneath); ``exclude_irradiated`` defaults to the protocol's
        ``[response].exclude_irradiated``.
    protocol
        The :class:`~studylib.protocol.Protocol` whose ``[response.irecist]`` and base ruleset
        apply; ``None`` means the bundled protocol.

    Returns
    -------
    DataFrame
        The columns of :func:`~studylib.recist.timepoint.timepoint_responses` (sums, changes,
        and the RECIST 1.1 target, non-target and new-lesion responses underneath), with
        ``overall_response`` the iRECIST response (iCR, iPR, iSD, NON-iCR/NON-iUPD, iUPD, iCPD,
        NE or ND) and also ``recist_response`` (the RECIST 1.1 overall response),
        ``rule`` (a key of :data:`RULES`), ``iupd_date`` (the scan that opened the iUPD
        in force, for iUPD and iCPD), ``new_present``, ``new_targets_expected``,
        ``new_targets_measured``, ``new_target_sum_mm``, ``new_not_evaluated`` (new lesions
        seen before and not assessed) and ``reason`` (which rule, with the numbers compared).

    Raises
    ------
    studylib.errors.DataError
        Listing every invalid value of the input (as the timepoint layer does).
    studylib.errors.ProtocolError
        When the protocol has no ``[response.irecist]``.
    """
    protocol = resolve_protocol(protocol)
    rules = irecist_rules(protocol)
    base = protocol.response.ruleset(rules.base_ruleset)
    t = thresholds(base)
    if exclude_irradiated is None:
        exclude_irradiated = protocol.response.exclude_irradiated
    les = prepare_lesions(lesions)
    asm = prepare_assessments(assessments, les)
    # The RECIST 1.1 layer underneath (timepoint_responses without checking the input again).
    recist = _timepoints(les, asm, t, exclude_irradiated, continued_pr, backdate_new_lesions)
    table, rows = new_lesion_table(
        les, asm, base, rules, exclude_irradiated=exclude_irradiated, backdate=backdate_new_lesions
    )
    new = new_lesion_timepoints(table, rows, recist)
    nontarget = followed_rows(les, asm, "non_target", exclude_irradiated)
    nontarget = nontarget[nontarget["state"] != ""]
    new_nontarget = rows[(rows["category"] == "new_non_target") & rows["diameter_mm"].notna()]
    out = recist.rename(columns={"overall_response": "recist_response"})
    for column in new.columns.drop(["patient_id", "date"]):
        out[column] = new[column].to_numpy()
    decided = _StateMachine(out, t, rules, nontarget, new_nontarget).run()
    out.insert(out.columns.get_loc("recist_response"), "overall_response", decided["code"])
    out["rule"] = decided["rule"]
    out["iupd_date"] = decided["iupd_date"]
    out["reason"] = decided["reason"]
    out = out.drop(columns=["new_first_seen", "new_first_ids"])
    if include_baseline:
        return out
    return out[out["date"] != out["baseline_date"]].reset_index(drop=True)


class _StateMachine:
    """The iUPD state of every patient, stepped through their timepoints in order."""

    def __init__(
        self,
        tp: pd.DataFrame,
        t: Thresholds,
        rules: IRecistRules,
        nontarget: pd.DataFrame,
        new_nontarget: pd.DataFrame,
    ) -> None:
        self.tp = tp
        self.t = t
        self.increase = float(rules.confirm_min_increase.to("mm").magnitude)
        self.window_min = pd.Timedelta(days=whole_days(rules.confirmation_window_min))
        self.window_max = pd.Timedelta(days=whole_days(rules.confirmation_window_max))
        self.window_text = (
            f"{whole_days(rules.confirmation_window_min)} to {days(rules.confirmation_window_max)}"
        )
        self.nontarget = nontarget
        self.new_nontarget = new_nontarget
        n = len(tp)
        self.code = np.full(n, None, dtype=object)
        self.rule = np.full(n, "baseline", dtype=object)
        self.reason = np.full(n, "", dtype=object)
        self.iupd_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.patient, _ = pd.factorize(tp["patient_id"])
        self.step = tp.groupby("patient_id", sort=False).cumcount().to_numpy()
        m = self.patient.max() + 1 if n else 0
        self.open = np.zeros(m, dtype=bool)
        self.confirmed = np.zeros(m, dtype=bool)
        self.open_date = np.full(m, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.icpd_date = np.full(m, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.ref_sum = np.full(m, np.nan)
        self.ref_target_pd = np.zeros(m, dtype=bool)
        self.ref_new_sum = np.full(m, np.nan)
        self.ref_new_count = np.zeros(m, dtype=int)
        self.ref_burden = np.full(m, np.nan)
        # New target lesions' own reference for a fresh progression after a reset: the first
        # complete sum of the current set of new targets, and its smallest complete sum.
        self.new_first = np.full(m, np.nan)
        self.new_nadir = np.full(m, np.nan)
        self.new_set = np.zeros(m, dtype=int)
        self.last_date = np.full(m, np.datetime64("NaT"), dtype="datetime64[ns]")

    def run(self) -> dict[str, np.ndarray]:
        baseline = self.step == 0
        self.reason[baseline] = self.tp["reason"].to_numpy()[baseline]
        self.last_date[self.patient[baseline]] = self.tp["date"].to_numpy()[baseline]
        for step in range(1, int(self.step.max()) + 1 if len(self.step) else 1):
            self._decide(np.flatnonzero(self.step == step))
        return {
            "code": self.code,
            "rule": self.rule,
            "iupd_date": self.iupd_date,
            "reason": self.reason,
        }

    # -- one visit number for the whole cohort --------------------------------------------

    def _decide(self, idx: np.ndarray) -> None:
        tp = self.tp
        p = self.patient[idx]
        date = tp["date"].to_numpy()[idx].astype("datetime64[ns]")
        target = tp["target_response"].to_numpy(dtype=object)[idx]
        nontarget = tp["nontarget_response"].to_numpy(dtype=object)[idx]
        total = tp["sum_mm"].to_numpy(dtype=float)[idx]
        complete = tp["targets_measured"].to_numpy()[idx] == tp["targets_expected"].to_numpy()[idx]
        has_targets = tp["targets_expected"].to_numpy()[idx] > 0
        new_present = tp["new_present"].to_numpy()[idx]
        new_missing = tp["new_not_evaluated"].to_numpy()[idx] > 0
        new_first = tp["new_first_seen"].to_numpy()[idx]
        new_ids = tp["new_first_ids"].to_numpy(dtype=object)[idx]
        new_sum = tp["new_target_sum_mm"].to_numpy(dtype=float)[idx]
        new_expected = tp["new_targets_expected"].to_numpy()[idx]
        new_complete = tp["new_targets_measured"].to_numpy()[idx] == new_expected
        burden = _burden(total, complete, has_targets, new_sum, new_complete, new_expected)

        after = self.confirmed[p]
        is_open = self.open[p] & ~after
        fresh = ~self.open[p] & ~after

        # --- fresh progression of the new target lesions (only after a reset) ---------------
        same_set = (new_expected == self.new_set[p]) & (new_expected > 0)
        reference = self.new_first[p] if self.t.pd_reference == "baseline" else self.new_nadir[p]
        change = new_sum - reference
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(reference > 0, change / reference * 100.0, np.nan)
        new_progress = (
            same_set
            & new_complete
            & (change > _EPS)
            & _at_least(change, self.t.pd_min_increase_mm)
            & ((reference == 0) | _at_least(pct, self.t.pd_change_pct))
        )

        # --- no iUPD open ---------------------------------------------------------------------
        pd_target = target == "PD"
        pd_nontarget = nontarget == "PD"
        pd_new = new_first > 0
        opens = fresh & (pd_target | pd_nontarget | pd_new | new_progress)
        renamed = _renamed(target, nontarget, new_present)
        renamed = np.where(new_missing & (renamed != "ND"), "NE", renamed).astype(object)

        # --- an iUPD open: confirmation -------------------------------------------------------
        since = date - self.open_date[p]
        in_window = since >= self.window_min
        # Late only when no scan came between: an iUPD left open is confirmed at a later scan.
        late = (since > self.window_max) & (self.last_date[p] == self.open_date[p])
        ref_sum = self.ref_sum[p]
        grew_target = self.ref_target_pd[p] & _at_least(total - ref_sum, self.increase)
        target_now = ~self.ref_target_pd[p] & pd_target
        grew_new = (self.ref_new_count[p] > 0) & _at_least(
            new_sum - self.ref_new_sum[p], self.increase
        )
        grown_nt, grown_nt_ids = self._grown(self.nontarget, idx, p, date, states=True)
        grown_nnt, grown_nnt_ids = self._grown(self.new_nontarget, idx, p, date, states=False)
        criteria = [
            ("confirm_new_lesion", pd_new),
            ("confirm_target_sum", in_window & grew_target),
            ("confirm_target_progression", in_window & target_now),
            ("confirm_new_target_sum", in_window & grew_new),
            ("confirm_nontarget", in_window & (grown_nt > 0)),
            ("confirm_new_nontarget", in_window & (grown_nnt > 0)),
        ]
        confirms = is_open & np.logical_or.reduce([hit for _, hit in criteria])
        first_rule = np.select([hit for _, hit in criteria], [name for name, _ in criteria], "")

        # --- an iUPD open: reset, unchanged or not evaluable -------------------------------
        with np.errstate(invalid="ignore"):
            shrunk = self.ref_burden[p] - burden > _EPS
        # A new lesion seen before and not assessed now may have grown or gone: like a
        # non-target lesion not assessed, it leaves the timepoint not evaluable.
        evaluable = (target != "NE") & (nontarget != "NE") & ~new_missing
        new_ok = (new_present == 0) | shrunk
        resets = is_open & ~confirms & evaluable & ~pd_target & ~pd_nontarget & new_ok
        still = pd_target | pd_nontarget | ((new_present > 0) & ~shrunk)
        unchanged = is_open & ~confirms & ~resets & still
        not_evaluable = is_open & ~confirms & ~resets & ~still

        code = np.select(
            [after, confirms, unchanged, not_evaluable, resets, opens],
            ["iCPD", "iCPD", "iUPD", "NE", renamed, "iUPD"],
            renamed,
        ).astype(object)
        rule = np.select(
            [after, confirms, unchanged, not_evaluable, resets, opens, renamed == "NE"],
            [
                "after_icpd",
                first_rule,
                "iupd_unchanged",
                "iupd_not_evaluable",
                "reset",
                "iupd",
                "not_evaluable",
            ],
            np.where(renamed == "ND", "no_disease", "no_progression"),
        ).astype(object)
        self.code[idx] = code
        self.rule[idx] = rule

        words = _Words(self, idx, p, date, since, late, total, complete, new_sum, burden)
        words.say(
            opens=opens,
            pd_parts=(pd_target, pd_nontarget, pd_new, new_progress),
            new_ids=new_ids,
            pct=pct,
            criteria=criteria,
            grown_ids=(grown_nt_ids, grown_nnt_ids),
            in_window=in_window,
            confirms=confirms,
            unchanged=unchanged,
            resets=resets,
            not_evaluable=not_evaluable,
        )

        # --- the new state ----------------------------------------------------------------
        self.iupd_date[idx] = np.select(
            [opens, after | (is_open & ~resets)],
            [date, self.open_date[p]],
            np.datetime64("NaT"),
        )
        self.confirmed[p[confirms]] = True
        self.icpd_date[p[confirms]] = date[confirms]
        self.open[p[resets]] = False
        o = opens
        self.open[p[o]] = True
        self.open_date[p[o]] = date[o]
        self.ref_sum[p[o]] = np.where(complete[o], total[o], np.nan)
        self.ref_target_pd[p[o]] = pd_target[o]
        self.ref_new_count[p[o]] = new_expected[o]
        self.ref_new_sum[p[o]] = np.where(new_complete[o], np.nan_to_num(new_sum[o]), np.nan)
        self.ref_burden[p[o]] = burden[o]
        # The new target lesions' references follow every complete measurement of one set.
        measured = new_complete & (new_expected > 0)
        restart = measured & ~same_set
        self.new_set[p[restart]] = new_expected[restart]
        self.new_first[p[restart]] = new_sum[restart]
        self.new_nadir[p[restart]] = new_sum[restart]
        keep = measured & same_set
        self.new_nadir[p[keep]] = np.fmin(self.new_nadir[p[keep]], new_sum[keep])
        self.last_date[p] = date

    def _grown(
        self, rows: pd.DataFrame, idx: np.ndarray, p: np.ndarray, date: np.ndarray, *, states: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lesions of ``rows`` grown since the iUPD opened: count and ids per timepoint.

        A lesion's reference is its last assessment on or before the scan that opened the
        iUPD; it has grown when measured larger now, or (``states``) when recorded as
        unequivocal progression now and not then.
        """
        n = len(idx)
        count, ids = np.zeros(n, dtype=int), np.full(n, "", dtype=object)
        opened = self.open[p] & ~self.confirmed[p]
        if not opened.any() or rows.empty:
            return count, ids
        at = pd.DataFrame(
            {
                "slot": np.flatnonzero(opened),
                "patient_id": self.tp["patient_id"].to_numpy()[idx][opened],
                "date": date[opened],
                "since": self.open_date[p][opened],
            }
        )
        now = rows.merge(at, on=["patient_id", "date"])
        if now.empty:
            return count, ids
        before = rows[["patient_id", "lesion_id", "date", "diameter_mm", "state"]].rename(
            columns={"date": "then", "diameter_mm": "then_mm", "state": "then_state"}
        )
        paired = pd.merge_asof(
            now.sort_values("since"),
            before.sort_values("then"),
            left_on="since",
            right_on="then",
            by=["patient_id", "lesion_id"],
            direction="backward",
        )
        grown = paired["diameter_mm"] > paired["then_mm"]
        if states:
            newly = (paired["state"] == "unequivocal_progression") & paired["then_state"].isin(
                ["present", "absent"]
            )
            grown = grown | newly
        hit = paired[grown.to_numpy()]
        counted = hit.groupby("slot")["lesion_id"]
        count[counted.size().index] = counted.size().to_numpy()
        joined = counted.agg(lambda s: ", ".join(sorted(s)))
        ids[joined.index] = joined.to_numpy()
        return count, ids


def _burden(total, complete, has_targets, new_sum, new_complete, new_expected) -> np.ndarray:
    """Original target sum plus new target sum, when both are fully measured (else NaN)."""
    targets = np.where(has_targets, np.where(complete, total, np.nan), 0.0)
    new = np.where(new_expected > 0, np.where(new_complete, new_sum, np.nan), 0.0)
    value = targets + new
    return np.where(has_targets | (new_expected > 0), value, np.nan)


def _renamed(target: np.ndarray, nontarget: np.ndarray, new_present: np.ndarray) -> np.ndarray:
    """The RECIST 1.1 table without new-lesion progression, in iRECIST's names.

    New lesions still present (after a reset) keep a complete response from being complete:
    iPR with target disease, NON-iCR/NON-iUPD without.
    """
    if len(target) == 0:
        return np.zeros(0, dtype=object)
    # Progression is decided by the caller; the table is asked only what is not progression.
    safe_target = np.where(target == "PD", "SD", target).astype(object)
    safe_nontarget = np.where(nontarget == "PD", "NON-CR/NON-PD", nontarget).astype(object)
    table = _table(safe_target, safe_nontarget, np.full(len(target), "none", dtype=object))
    with_new = new_present > 0
    table = np.where(with_new & (table == "CR") & (target != "ND"), "PR", table)
    table = np.where(with_new & (table == "CR"), "NON-CR/NON-PD", table)
    table = np.where(with_new & (table == "ND"), "NON-CR/NON-PD", table)
    return np.array([IRECIST_OF_RECIST[c] for c in table], dtype=object)


class _Words:
    """The ``reason`` of each timepoint of one visit number: which rule, with its numbers.

    Every decision was taken on whole arrays in :meth:`_StateMachine._decide`; this only
    formats them (one sentence per row).
    """

    def __init__(self, machine, idx, p, date, since, late, total, complete, new_sum, burden):
        self.m = machine
        self.idx = idx
        self.p = p
        self.date = date
        self.since = since
        self.late = late
        self.total = total
        self.complete = complete
        self.new_sum = new_sum
        self.burden = burden
        self.new_present = machine.tp["new_present"].to_numpy()[idx]

    def say(self, **flags) -> None:
        m, idx, p = self.m, self.idx, self.p
        tp = m.tp
        # Python floats and strings format several times faster than numpy scalars.
        columns = {
            name: tp[name].to_numpy()[idx].tolist()
            for name in (
                "target_response",
                "nontarget_response",
                "pct_change_baseline",
                "baseline_sum_mm",
                "nadir_sum_mm",
                "change_nadir_mm",
                "targets_measured",
                "targets_expected",
            )
        }
        pd_target, pd_nontarget, pd_new, new_progress = flags["pd_parts"]
        grown_nt_ids, grown_nnt_ids = flags["grown_ids"]
        hits = {name: hit for name, hit in flags["criteria"]}
        inc = f"{m.increase:g} mm"
        opened_on = _days_text(m.open_date[p])
        confirmed_on = _days_text(m.icpd_date[p])
        since_days = (
            pd.Series(self.since).dt.days.fillna(0).astype(int).tolist() if len(idx) else []
        )
        total = self.total.tolist()
        presents = self.new_present.tolist()
        missing = tp["new_not_evaluated"].to_numpy()[idx].tolist()
        texts = []
        for i in range(len(idx)):
            row = {name: values[i] for name, values in columns.items()}
            code = m.code[idx[i]]
            opened = opened_on[i]
            since = since_days[i]
            targets = _targets_text(row, total[i])
            nontarget = f"non-target {row['nontarget_response']}"
            present = presents[i]
            new = f"{present} new lesion(s) present" if present else "no new lesion present"
            if missing[i]:
                new += f", {missing[i]} seen before not assessed"
            if m.rule[idx[i]] == "after_icpd":
                text = (
                    f"iCPD: progression was confirmed on {confirmed_on[i]} (iUPD of "
                    f"{opened}); iRECIST has no reset after iCPD"
                )
            elif flags["confirms"][i]:
                found = []
                ref_sum = m.ref_sum[p[i]]
                if hits["confirm_new_lesion"][i]:
                    found.append(f"another new lesion ({flags['new_ids'][i]})")
                if hits["confirm_target_sum"][i]:
                    found.append(
                        f"target sum {self.total[i]:.1f} mm, {self.total[i] - ref_sum:+.1f} mm "
                        f"from {ref_sum:.1f} mm at the iUPD (confirms at >= {inc})"
                    )
                if hits["confirm_target_progression"][i]:
                    found.append(f"the targets now progress ({targets})")
                if hits["confirm_new_target_sum"][i]:
                    ref_new = m.ref_new_sum[p[i]]
                    found.append(
                        f"new target sum {self.new_sum[i]:.1f} mm, "
                        f"{self.new_sum[i] - ref_new:+.1f} mm from {ref_new:.1f} mm at the iUPD "
                        f"(confirms at >= {inc})"
                    )
                if hits["confirm_nontarget"][i]:
                    found.append(f"non-target lesion(s) {grown_nt_ids[i]} grew since the iUPD")
                if hits["confirm_new_nontarget"][i]:
                    found.append(f"new non-target lesion(s) {grown_nnt_ids[i]} grew since the iUPD")
                text = f"iCPD: the iUPD of {opened} is confirmed {since} days later: " + "; ".join(
                    found
                )
                if self.late[i]:
                    text += f" (later than the {m.window_text} window after the iUPD)"
            elif flags["unchanged"][i] or flags["not_evaluable"][i]:
                notes = []
                if not flags["in_window"][i]:
                    notes.append(
                        f"scan {since} days after the iUPD, before the confirmation window "
                        f"({m.window_text}) opens: only another new lesion could confirm"
                    )
                ref_sum = m.ref_sum[p[i]]
                if m.ref_target_pd[p[i]] and ref_sum == ref_sum and self.complete[i]:
                    notes.append(
                        f"target sum {self.total[i] - ref_sum:+.1f} mm from the iUPD "
                        f"(confirms at >= {inc})"
                    )
                notes.append("no further new lesion")
                if flags["unchanged"][i]:
                    still = [
                        word
                        for word, hit in (
                            ("targets progressing from the nadir", pd_target[i]),
                            ("non-target progression", pd_nontarget[i]),
                            (
                                "new lesions present, measured disease not smaller than at "
                                "the iUPD",
                                present > 0 and not pd_target[i] and not pd_nontarget[i],
                            ),
                        )
                        if hit
                    ]
                    text = (
                        f"iUPD (open since {opened}, {since} days): not confirmed - "
                        + "; ".join(notes)
                        + "; still in progression: "
                        + ", ".join(still)
                    )
                else:
                    text = (
                        f"NE: {targets}; {nontarget}; {new}: the iUPD of {opened} stays open "
                        "(" + "; ".join(notes) + ")"
                    )
            elif flags["resets"][i]:
                shrink = ""
                if present:
                    shrink = (
                        f" (measured disease {self.burden[i]:.1f} mm, down from "
                        f"{m.ref_burden[p[i]]:.1f} mm at the iUPD)"
                    )
                text = (
                    f"{code}: the iUPD of {opened} is reset - {targets}; {nontarget}; {new}"
                    f"{shrink}; progression is judged afresh from the nadir"
                )
            elif flags["opens"][i]:
                which = []
                if pd_target[i]:
                    which.append(targets)
                if pd_nontarget[i]:
                    which.append("non-target unequivocal progression")
                if pd_new[i]:
                    which.append(f"new lesion(s) {flags['new_ids'][i]}")
                if new_progress[i]:
                    which.append(
                        f"new target sum {self.new_sum[i]:.1f} mm, "
                        f"{flags['pct'][i]:+.1f}% (RECIST 1.1 progression of the new targets)"
                    )
                text = (
                    "iUPD: RECIST 1.1 progression (" + "; ".join(which) + "), unconfirmed: "
                    f"a scan {m.window_text} later confirms or resets it"
                )
            else:
                text = f"{code}: no iUPD open; {targets}; {nontarget}; {new}"
                if present:
                    text += " without further progression"
            texts.append(text)
        m.reason[idx] = np.array(texts, dtype=object)


def _days_text(values: np.ndarray) -> list[str]:
    """Dates as ``YYYY-MM-DD`` (``?`` when missing), formatted at once."""
    return pd.Series(values, dtype="datetime64[ns]").dt.strftime("%Y-%m-%d").fillna("?").tolist()


def _targets_text(row: dict, total: float) -> str:
    response = row["target_response"]
    if response == "ND":
        return "no target lesion"
    if response == "NE":
        return f"targets NE ({row['targets_measured']} of {row['targets_expected']} measured)"
    return (
        f"targets {response}: sum {total:.1f} mm, {row['pct_change_baseline']:+.1f}% from "
        f"baseline {row['baseline_sum_mm']:.1f} mm, {row['change_nadir_mm']:+.1f} mm from "
        f"nadir {row['nadir_sum_mm']:.1f} mm"
    )
