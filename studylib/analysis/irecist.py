"""iRECIST as a sensitivity analysis of the response and progression endpoints.

Not the trial's primary analysis: the paper judged response by RECIST 1.1 (``[response]``).
IL-2 and SBRT act through the immune system, so tumours may grow before they shrink
(pseudo-progression); iRECIST (Seymour et al., Lancet Oncol 2017) asks that a first
progression be confirmed, and reviewers ask for it beside the primary endpoint. Two results:

- **iBOR by arm**: the best iRECIST response over the primary endpoint's window and reference
  date (:func:`studylib.recist.variants.primary_best_response` with ``ruleset="irecist"``),
  counted per arm in the primary table's categories (iCR, iPR, iSD, iUPD, iCPD, NE) with the
  objective response rate (iCR or iPR) and Fisher's exact test, as ``[analysis]`` says.
- **iPFS by arm**: progression-free survival with the progression seen on the scans judged by
  iRECIST (``[response.irecist].reading_pfs``), estimated as the primary PFS is
  (:mod:`studylib.analysis.survival`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.analysis.arms import compared_arms
from studylib.analysis.rates import RateComparison, compare_rates, response_rate
from studylib.analysis.survival import SurvivalAnalysis, survival_by_arm, survival_times
from studylib.protocol import AnalysisRules, Protocol
from studylib.recist.irecist import IRECIST, irecist_rules
from studylib.recist.irecist_bor import irecist_best_response
from studylib.recist.timepoint import timepoint_responses
from studylib.recist.variants import crossover_sbrt_starts, cycle_starts, primary_best_response
from studylib.vocabulary import IRECIST_OF_RECIST

__all__ = ["LABEL", "ICATEGORIES", "IRecistSensitivity", "irecist_sensitivity", "irecist_pfs"]

#: How every table and figure of this analysis is marked.
LABEL = "Sensitivity analysis (iRECIST, Seymour et al. 2017): not the primary endpoint"
#: The categories of the iRECIST response table, as the primary table's, plus unconfirmed and
#: confirmed progression.
ICATEGORIES = ("iCR", "iPR", "iSD", "iUPD", "iCPD", "NE")


def _irecist_codes(codes: tuple[str, ...]) -> set[str]:
    """``[analysis]``'s RECIST codes (responders, disease control) in iRECIST's names."""
    return {IRECIST_OF_RECIST.get(code, code) for code in codes}


def irecist_category(ibor: pd.Series, rules: AnalysisRules) -> pd.Series:
    """The table category of each iBOR: NON-iCR/NON-iUPD as iSD and NE, ND and MISSING as NE,
    as ``[analysis].counted_as_sd`` and ``not_evaluable`` place their RECIST names.

    Raises
    ------
    ValueError
        Naming any code without a category.
    """
    mapping = {code: code for code in ICATEGORIES}
    mapping.update({code: "iSD" for code in _irecist_codes(rules.counted_as_sd)})
    mapping.update({code: "NE" for code in _irecist_codes(rules.not_evaluable)})
    category = ibor.map(mapping)
    unknown = sorted(set(ibor[category.isna()].astype(str)))
    if unknown:
        raise ValueError(f"iRECIST best responses {unknown} have no category")
    return category


@dataclass(frozen=True)
class IRecistSensitivity:
    """iBOR and iPFS by arm, beside the primary endpoint (see the module's docstring).

    Attributes
    ----------
    label
        :data:`LABEL`, for every table and figure.
    table
        One row per arm (the protocol's arm codes, file order): ``arm_name``, ``n``, ``icr``,
        ``ipr``, ``isd``, ``iupd``, ``icpd``, ``ne``, ``responders`` (iCR or iPR), ``orr`` with
        ``ci_low`` and ``ci_high``, ``disease_control`` and ``dcr``.
    orr_comparison
        Fisher's exact test of the iRECIST response rate, experimental arm against comparator.
    patients
        One row per randomised patient: ``patient_id``, ``arm``, ``bor`` (RECIST 1.1, the
        primary endpoint's), ``ibor``, ``date``, ``reason`` (iRECIST's), ``category``,
        ``responder``, ``changed`` (True where iRECIST and RECIST 1.1 differ beyond the
        renaming: a pseudo-progression, an unconfirmed or a confirmed progression).
    responses
        The iRECIST timepoints of the primary window.
    pfs
        iPFS by arm (:class:`~studylib.analysis.survival.SurvivalAnalysis`).
    times
        iPFS per patient: :func:`irecist_pfs`.
    experimental, comparator
        The arms compared.
    """

    label: str
    table: pd.DataFrame
    orr_comparison: RateComparison
    patients: pd.DataFrame
    responses: pd.DataFrame
    pfs: SurvivalAnalysis
    times: pd.DataFrame
    experimental: str
    comparator: str

    def crosstab(self) -> pd.DataFrame:
        """Patients by RECIST 1.1 best response (rows) and iBOR (columns)."""
        return pd.crosstab(self.patients["bor"], self.patients["ibor"])


def irecist_sensitivity(cohort) -> IRecistSensitivity:
    """iBOR and iPFS by arm for a loaded trial folder, under its protocol.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort`; its ``protocol`` must have ``[response.irecist]``.

    Returns
    -------
    IRecistSensitivity
    """
    protocol = cohort.protocol
    rules = protocol.analysis
    frames = (cohort.randomization, cohort.dosing, cohort.lesions, cohort.assessments)
    recist = primary_best_response(*frames, protocol=protocol).patients
    analysed = primary_best_response(*frames, ruleset=IRECIST, protocol=protocol)
    patients = analysed.patients.rename(columns={"bor": "ibor"})
    patients.insert(patients.columns.get_loc("ibor"), "bor", recist["bor"].to_numpy())
    patients["category"] = irecist_category(patients["ibor"], rules).to_numpy()
    responders = _irecist_codes(rules.responders)
    patients["responder"] = patients["ibor"].isin(responders)
    patients["changed"] = patients["ibor"] != patients["bor"].map(IRECIST_OF_RECIST)
    table = _count_by_arm(patients, protocol)
    experimental, comparator = compared_arms(protocol)
    x, c = table.loc[experimental], table.loc[comparator]
    comparison = compare_rates(x["responders"], x["n"], c["responders"], c["n"], rules)
    times = irecist_pfs(cohort)
    return IRecistSensitivity(
        label=LABEL,
        table=table,
        orr_comparison=comparison,
        patients=patients,
        responses=analysed.responses,
        pfs=survival_by_arm(times, "pfs", protocol=protocol),
        times=times,
        experimental=experimental,
        comparator=comparator,
    )


def _count_by_arm(patients: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    rules = protocol.analysis
    controlled = _irecist_codes(rules.disease_control)
    rows = []
    for arm in protocol.arm_codes:
        part = patients[patients["arm"] == arm]
        n = len(part)
        orr = response_rate(int(part["responder"].sum()), n, rules)
        dcr = response_rate(int(part["ibor"].isin(controlled).sum()), n, rules)
        row = {"arm": arm, "arm_name": protocol.arm(arm).name, "n": n}
        row.update({c.lower(): int((part["category"] == c).sum()) for c in ICATEGORIES})
        row.update(
            {
                "responders": orr.events,
                "orr": orr.rate,
                "ci_low": orr.ci_low,
                "ci_high": orr.ci_high,
                "disease_control": dcr.events,
                "dcr": dcr.rate,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


def irecist_pfs(cohort) -> pd.DataFrame:
    """Progression-free survival times with the scanned progression judged by iRECIST.

    ``[response.irecist].reading_pfs``: a progression in ``followup.csv`` dated on a scan where
    RECIST 1.1 first finds progression is replaced by iRECIST's -- the iUPD that an iCPD
    confirmed, or an iUPD still unconfirmed at the last scan -- and dropped when iRECIST reset
    it and found no progression after; a progression not seen on the scans (after the last
    one) stays. Scans after a crossover patient's first crossover SBRT fraction (a new
    treatment) do not count. Times and censoring are then :func:`survival_times`'.

    Returns
    -------
    DataFrame
        As :func:`~studylib.analysis.survival.survival_times`, with ``pfs_rule`` naming
        ``iRECIST progression`` where the date is iRECIST's, and ``recist_progressed_on``.
    """
    protocol = cohort.protocol
    irecist_rules(protocol)  # a clear error when the protocol has no [response.irecist]
    assessments = cohort.assessments
    sbrt = crossover_sbrt_starts(cohort.dosing, cohort.randomization, protocol=protocol)
    stop = assessments["patient_id"].map(sbrt)
    counted = assessments[~(assessments["date"] >= stop)]
    points = timepoint_responses(cohort.lesions, counted, ruleset=IRECIST, protocol=protocol)
    ids = cohort.randomization["patient_id"].astype(str)
    reference = cycle_starts(cohort.dosing, 1).reindex(ids)
    randomized = cohort.randomization.set_index(ids)["randomized_on"]
    reference = reference.fillna(randomized).dt.normalize()
    best = irecist_best_response(points, reference, protocol=protocol).set_index("patient_id")
    iprogression = best["progression_date"].fillna(best["open_iupd_date"])
    first_pd = points.loc[points["recist_response"] == "PD"].groupby("patient_id")["date"].min()
    followup = cohort.followup.copy()
    pid = followup["patient_id"].astype(str)
    recist = followup["progressed_on"]
    judged = recist.notna() & (recist == pid.map(first_pd))
    followup["progressed_on"] = recist.where(~judged, pid.map(iprogression))
    times = survival_times(cohort.randomization, followup, protocol=protocol)
    by_irecist = times["patient_id"].astype(str).map(dict(zip(pid, judged, strict=True)))
    by_irecist = by_irecist.fillna(False).astype(bool) & (times["pfs_rule"] == "progression")
    times["pfs_rule"] = np.where(by_irecist, "iRECIST progression", times["pfs_rule"])
    times["recist_progressed_on"] = times["patient_id"].map(dict(zip(pid, recist, strict=True)))
    return times
