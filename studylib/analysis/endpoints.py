"""The trial's response endpoints by arm: primary (end of cycle 2) and crossover (week 21).

The RECIST engine decides every patient's response (:mod:`studylib.recist.variants` for the
analysis windows, :func:`studylib.recist.bor.best_overall_response` for the best response, with
the protocol's SD minimum and no confirmation); this module only counts the patients of each
arm in the categories of ``[analysis]`` and hands the counts to :mod:`studylib.analysis.rates`.

Primary endpoint (``[response]``, ``[analysis]``): best overall response by RECIST 1.1 on
non-irradiated lesions, counting scans up to week ``primary_timepoint_week`` after the first
IL-2 dose plus the assessment window. Every randomised patient is in the denominator of the
arm they were randomised to; an arm A patient who crossed over keeps the response they had
before the crossover, and nothing after their first crossover SBRT fraction is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib.analysis.rates import RateComparison, compare_rates, response_rate
from studylib.protocol import PROTOCOL, AnalysisRules

__all__ = [
    "CATEGORIES",
    "PrimaryEndpoint",
    "CrossoverEndpoint",
    "response_category",
    "count_by_arm",
    "primary_endpoint",
    "crossover_endpoint",
]

#: The categories of the response tables, as the paper reports them, plus not evaluable.
CATEGORIES = ("CR", "PR", "SD", "PD", "NE")


def response_category(bor: pd.Series, rules: AnalysisRules | None = None) -> pd.Series:
    """The table category of each best overall response (``[analysis].categories_reading``).

    NON-CR/NON-PD counts as SD; NE, ND and MISSING (no assessment) as NE.

    Raises
    ------
    ValueError
        Naming any response code the protocol does not place in a category.
    """
    rules = rules or PROTOCOL.analysis
    mapping = {code: code for code in CATEGORIES}
    mapping.update({code: "SD" for code in rules.counted_as_sd})
    mapping.update({code: "NE" for code in rules.not_evaluable})
    category = bor.map(mapping)
    unknown = sorted(set(bor[category.isna()].astype(str)))
    if unknown:
        raise ValueError(f"best overall responses {unknown} have no category in [analysis]")
    return category


def count_by_arm(
    patients: pd.DataFrame, rules: AnalysisRules | None = None, arms=("A", "B")
) -> pd.DataFrame:
    """Counts and rates per arm from one row per patient.

    Parameters
    ----------
    patients
        ``arm`` and ``bor`` (best overall response) of every patient in the denominator.
    rules
        The protocol's ``[analysis]`` rules (default ``PROTOCOL.analysis``).
    arms
        Rows of the table, in this order.

    Returns
    -------
    DataFrame
        Indexed by ``arm``: ``arm_name``, ``n``, ``cr``, ``pr``, ``sd``, ``pd``, ``ne``,
        ``responders`` (CR or PR), ``orr`` with ``ci_low`` and ``ci_high`` (exact interval),
        ``cr_rate`` with ``cr_ci_low`` and ``cr_ci_high``, ``disease_control`` (CR, PR, SD or
        NON-CR/NON-PD), ``dcr`` with ``dcr_ci_low`` and ``dcr_ci_high``. Rates are fractions
        (0 to 1).
    """
    rules = rules or PROTOCOL.analysis
    category = response_category(patients["bor"], rules)
    counts = pd.crosstab(
        pd.Categorical(patients["arm"], categories=list(arms)),
        pd.Categorical(category, categories=list(CATEGORIES)),
        dropna=False,
    )
    rows = []
    for arm in arms:
        in_arm = patients["arm"] == arm
        n = int(in_arm.sum())
        responders = int((in_arm & patients["bor"].isin(rules.responders)).sum())
        complete = int((in_arm & (patients["bor"] == "CR")).sum())
        controlled = int((in_arm & patients["bor"].isin(rules.disease_control)).sum())
        orr, cr, dcr = (response_rate(k, n, rules) for k in (responders, complete, controlled))
        row = {"arm": arm, "arm_name": PROTOCOL.arm(arm).name, "n": n}
        row.update({c.lower(): int(counts.loc[arm, c]) for c in CATEGORIES})
        row.update(
            {
                "responders": responders,
                "orr": orr.rate,
                "ci_low": orr.ci_low,
                "ci_high": orr.ci_high,
                "cr_rate": cr.rate,
                "cr_ci_low": cr.ci_low,
                "cr_ci_high": cr.ci_high,
                "disease_control": controlled,
                "dcr": dcr.rate,
                "dcr_ci_low": dcr.ci_low,
                "dcr_ci_high": dcr.ci_high,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


@dataclass(frozen=True)
class PrimaryEndpoint:
    """Best overall response by the end of cycle 2, by arm, and the comparison of the arms.

    Attributes
    ----------
    table
        One row per arm (index ``A``, ``B``): see :func:`count_by_arm` (``n``, ``cr``, ``pr``,
        ``sd``, ``pd``, ``ne``, ``responders``, ``orr``, ``ci_low``, ``ci_high``, CR and
        disease-control rates).
    p_value
        Fisher's exact test of the objective response rate, arm B against arm A, two-sided.
    odds_ratio
        Sample odds ratio of responding, arm B against arm A.
    p_value_one_sided
        The same test, one-sided (arm B greater): a secondary figure.
    orr_comparison, cr_comparison, dcr_comparison
        The full comparisons (:class:`~studylib.analysis.rates.RateComparison`) of the
        objective response, complete response and disease control rates.
    patients
        One row per randomised patient: ``patient_id``, ``arm``, ``crossover``,
        ``first_il2_dose``, ``cutoff_date``, ``bor``, ``category``, ``responder``, ``date``
        and ``reason`` (from the RECIST engine: which scan and which rule).
    responses
        The RECIST timepoint responses counted (up to each patient's cut-off).
    """

    table: pd.DataFrame
    p_value: float
    odds_ratio: float
    p_value_one_sided: float
    orr_comparison: RateComparison
    cr_comparison: RateComparison
    dcr_comparison: RateComparison
    patients: pd.DataFrame
    responses: pd.DataFrame


def _compare(table: pd.DataFrame, column: str, rules: AnalysisRules) -> RateComparison:
    b, a = table.loc["B"], table.loc["A"]
    return compare_rates(b[column], b["n"], a[column], a["n"], rules)


def _best_response(responses, references, cutoffs) -> pd.DataFrame:
    """Unconfirmed best overall response with the protocol's SD minimum, stopping at the
    first PD ([response].reading: no confirmation in this randomised trial)."""
    from studylib.recist.bor import best_overall_response, protocol_bor_options

    return best_overall_response(
        responses,
        references,
        confirm=False,
        sd_min_days=protocol_bor_options()["sd_min_days"],
        cutoff_dates=cutoffs,
        pd_cutoff=True,
    )


def primary_endpoint(cohort, *, ruleset: str | None = None) -> PrimaryEndpoint:
    """The primary endpoint of the trial from a loaded trial folder.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort` (``randomization``, ``dosing``, ``lesions``,
        ``assessments``).
    ruleset
        Response ruleset; default the protocol's ``primary_ruleset`` (RECIST 1.1). The
        others (``recist1.0``, ``protocol``) show how the readings change the result.

    Returns
    -------
    PrimaryEndpoint
    """
    from studylib.recist.variants import (
        crossover_sbrt_starts,
        cycle_starts,
        primary_cutoffs,
        primary_response,
    )

    rules = PROTOCOL.analysis
    randomized = cohort.randomization[["patient_id", "arm", "crossover"]].copy()
    randomized["crossover"] = randomized["crossover"].fillna(False).astype(bool)
    ids = randomized["patient_id"].astype(str)
    first_dose = cycle_starts(cohort.dosing, 1).reindex(ids)
    # A patient never dosed has no scan on treatment: their reference is randomisation, and
    # they stay in the denominator as not evaluable (intention to treat).
    randomized_on = cohort.randomization.set_index("patient_id")["randomized_on"]
    reference = first_dose.fillna(randomized_on.reindex(ids)).dt.normalize()
    # Nothing after a crossover patient's first crossover SBRT fraction counts: the window's
    # timepoints (waterfall, spider) and the best response stop there.
    crossover_sbrt = (
        crossover_sbrt_starts(cohort.dosing, cohort.randomization)
        if rules.primary_excludes_crossover
        else None
    )
    cutoff = primary_cutoffs(first_dose.dropna(), crossover_sbrt).reindex(ids)
    responses = primary_response(
        cohort.lesions,
        cohort.assessments,
        first_dose.dropna(),
        ruleset=ruleset,
        crossover_sbrt=crossover_sbrt,
    )
    bor = _best_response(responses, reference, cutoff.dropna())
    patients = randomized.merge(
        bor[["patient_id", "bor", "date", "reason"]], on="patient_id", how="left"
    )
    patients.insert(3, "first_il2_dose", first_dose.to_numpy())
    patients.insert(4, "cutoff_date", cutoff.to_numpy())
    patients["category"] = response_category(patients["bor"], rules).to_numpy()
    patients["responder"] = patients["bor"].isin(rules.responders)
    table = count_by_arm(patients, rules)
    orr = _compare(table, "responders", rules)
    return PrimaryEndpoint(
        table=table,
        p_value=orr.p_value,
        odds_ratio=orr.odds_ratio,
        p_value_one_sided=orr.p_value_one_sided,
        orr_comparison=orr,
        cr_comparison=_compare(table, "cr", rules),
        dcr_comparison=_compare(table, "disease_control", rules),
        patients=patients,
        responses=responses,
    )


@dataclass(frozen=True)
class CrossoverEndpoint:
    """Response in arm A patients who crossed over, after SBRT (secondary endpoint).

    Attributes
    ----------
    counts
        ``n``, ``cr``, ``pr``, ``sd``, ``pd``, ``ne``, ``responders``.
    rate
        The response rate with its exact interval (:class:`~studylib.analysis.rates.Rate`).
    patients
        One row per crossover patient: ``patient_id``, ``crossover_start`` (first IL-2 dose of
        the crossover course), ``bor``, ``category``, ``responder``, ``date``, ``reason``.
    responses
        The RECIST timepoint responses from the crossover baseline.
    """

    counts: dict[str, int]
    rate: object
    patients: pd.DataFrame
    responses: pd.DataFrame


def crossover_endpoint(cohort, *, ruleset: str | None = None) -> CrossoverEndpoint:
    """Response rate in crossover patients, 7 weeks after the IL-2 course that followed SBRT.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort`.
    ruleset
        Default the protocol's ``primary_ruleset``.

    Returns
    -------
    CrossoverEndpoint
        Every patient of the crossover arm with ``crossover`` = yes is in the denominator; one
        without a crossover IL-2 dose is not evaluable.
    """
    from studylib.recist.variants import crossover_response, cycle_starts

    rules = PROTOCOL.analysis
    rand = cohort.randomization
    crossed = rand[
        rand["crossover"].fillna(False).astype(bool) & (rand["arm"] == PROTOCOL.crossover.from_arm)
    ]
    ids = crossed["patient_id"].astype(str)
    starts = cycle_starts(cohort.dosing, PROTOCOL.crossover.first_cycle).reindex(ids)
    reference = starts.fillna(crossed.set_index("patient_id")["randomized_on"].reindex(ids))
    responses = crossover_response(
        cohort.lesions, cohort.assessments, starts.dropna(), ruleset=ruleset
    )
    cutoff = responses.groupby("patient_id")["cutoff_date"].first()
    bor = _best_response(responses, reference.dt.normalize(), cutoff)
    patients = pd.DataFrame({"patient_id": ids.to_numpy(), "crossover_start": starts.to_numpy()})
    patients = patients.merge(bor[["patient_id", "bor", "date", "reason"]], on="patient_id")
    patients["category"] = response_category(patients["bor"], rules).to_numpy()
    patients["responder"] = patients["bor"].isin(rules.responders)
    counts = {"n": len(patients)}
    counts.update({c.lower(): int((patients["category"] == c).sum()) for c in CATEGORIES})
    counts["responders"] = int(patients["responder"].sum())
    return CrossoverEndpoint(
        counts=counts,
        rate=response_rate(counts["responders"], counts["n"], rules),
        patients=patients,
        responses=responses,
    )
