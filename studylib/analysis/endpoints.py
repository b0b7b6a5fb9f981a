"""The trial's response endpoints by arm: primary (end of the primary window) and crossover.

The RECIST engine decides every patient's response
(:func:`studylib.recist.variants.primary_best_response` and
:func:`~studylib.recist.variants.crossover_best_response`, the same functions the per-patient
view uses); this module only counts the patients of each arm in the categories of
``[analysis]`` and hands the counts to :mod:`studylib.analysis.rates`. The protocol is the
cohort's own (``cohort.protocol``): the arms, their names and order, the windows and the
direction of the comparison (:mod:`studylib.analysis.arms`) are read from it.

Primary endpoint (``[response]``, ``[analysis]``): best overall response on non-irradiated
lesions by the primary ruleset, counting scans up to week ``primary_timepoint_week`` after the
first IL-2 dose plus the assessment window. Every randomised patient is in the denominator of
the arm they were randomised to; a patient who crossed over keeps the response they had
before the crossover, and, when ``[analysis].primary_excludes_crossover`` says so, nothing
after their first crossover SBRT fraction is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib.analysis.arms import compared_arms
from studylib.analysis.rates import RateComparison, compare_rates, response_rate
from studylib.protocol import AnalysisRules, Protocol, resolve_protocol

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


def response_category(
    bor: pd.Series, rules: AnalysisRules | None = None, *, protocol: Protocol | None = None
) -> pd.Series:
    """The table category of each best overall response (``[analysis].categories_reading``).

    NON-CR/NON-PD counts as SD; NE, ND and MISSING (no assessment) as NE (as the protocol's
    ``counted_as_sd`` and ``not_evaluable`` say; ``rules`` default: those of ``protocol``,
    default the bundled one).

    Raises
    ------
    ValueError
        Naming any response code the protocol does not place in a category.
    """
    rules = rules if rules is not None else resolve_protocol(protocol).analysis
    mapping = {code: code for code in CATEGORIES}
    mapping.update({code: "SD" for code in rules.counted_as_sd})
    mapping.update({code: "NE" for code in rules.not_evaluable})
    category = bor.map(mapping)
    unknown = sorted(set(bor[category.isna()].astype(str)))
    if unknown:
        raise ValueError(f"best overall responses {unknown} have no category in [analysis]")
    return category


def count_by_arm(
    patients: pd.DataFrame,
    rules: AnalysisRules | None = None,
    arms=None,
    *,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Counts and rates per arm from one row per patient.

    Parameters
    ----------
    patients
        ``arm`` and ``bor`` (best overall response) of every patient in the denominator.
    rules
        The protocol's ``[analysis]`` rules (default: those of ``protocol``).
    arms
        Rows of the table, in this order (default: the protocol's arms, in file order).
    protocol
        The :class:`~studylib.protocol.Protocol` naming the arms (default: the bundled one).

    Returns
    -------
    DataFrame
        Indexed by ``arm``: ``arm_name``, ``n``, ``cr``, ``pr``, ``sd``, ``pd``, ``ne``,
        ``responders`` (CR or PR), ``orr`` with ``ci_low`` and ``ci_high`` (exact interval),
        ``cr_rate`` with ``cr_ci_low`` and ``cr_ci_high``, ``disease_control`` (CR, PR, SD or
        NON-CR/NON-PD), ``dcr`` with ``dcr_ci_low`` and ``dcr_ci_high``. Rates are fractions
        (0 to 1).
    """
    protocol = resolve_protocol(protocol)
    rules = rules if rules is not None else protocol.analysis
    arms = tuple(protocol.arm_codes if arms is None else arms)
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
        row = {"arm": arm, "arm_name": protocol.arm(arm).name, "n": n}
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
    """Best overall response by the end of the primary window, by arm, and the comparison.

    Attributes
    ----------
    table
        One row per arm (index: the protocol's arm codes, in file order): see
        :func:`count_by_arm` (``n``, ``cr``, ``pr``, ``sd``, ``pd``, ``ne``, ``responders``,
        ``orr``, ``ci_low``, ``ci_high``, CR and disease-control rates).
    p_value
        Fisher's exact test of the objective response rate, the experimental arm against the
        comparator, as ``[analysis].comparison_alternative`` says (bundled: two-sided).
    odds_ratio
        Sample odds ratio of responding, the experimental arm against the comparator.
    p_value_one_sided
        The same test as ``[analysis].secondary_alternative`` says: a secondary figure.
    orr_comparison, cr_comparison, dcr_comparison
        The full comparisons (:class:`~studylib.analysis.rates.RateComparison`) of the
        objective response, complete response and disease control rates.
    patients
        One row per randomised patient: ``patient_id``, ``arm``, ``crossover``,
        ``first_il2_dose``, ``cutoff_date``, ``crossover_sbrt``, ``bor``, ``date``, ``reason``
        (from the RECIST engine: which scan and which rule), ``category``, ``responder``.
    responses
        The RECIST timepoint responses counted (up to each patient's cut-off).
    experimental, comparator
        The arms compared (:func:`studylib.analysis.arms.compared_arms`).
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
    experimental: str
    comparator: str


def _analysed(cohort, derive, ruleset: str | None):
    """The engine's best responses of ``cohort`` (``derive``: primary or crossover), each
    patient with the table ``category`` and ``responder`` of ``[analysis]``."""
    rules = cohort.protocol.analysis
    analysed = derive(
        cohort.randomization,
        cohort.dosing,
        cohort.lesions,
        cohort.assessments,
        ruleset=ruleset,
        protocol=cohort.protocol,
    )
    patients = analysed.patients
    patients["category"] = response_category(patients["bor"], rules).to_numpy()
    patients["responder"] = patients["bor"].isin(rules.responders)
    return analysed


def _compare(table: pd.DataFrame, column: str, protocol: Protocol) -> RateComparison:
    experimental, comparator = compared_arms(protocol)
    x, c = table.loc[experimental], table.loc[comparator]
    return compare_rates(x[column], x["n"], c[column], c["n"], protocol.analysis)


def primary_endpoint(cohort, *, ruleset: str | None = None) -> PrimaryEndpoint:
    """The primary endpoint of the trial from a loaded trial folder, under its protocol.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort` (``randomization``, ``dosing``, ``lesions``,
        ``assessments``, and ``protocol``, whose rules apply).
    ruleset
        Response ruleset; default the protocol's ``primary_ruleset``. The others (bundled:
        ``recist1.0``, ``protocol``) show how the readings change the result.

    Returns
    -------
    PrimaryEndpoint
    """
    from studylib.recist.variants import primary_best_response

    protocol = cohort.protocol
    primary = _analysed(cohort, primary_best_response, ruleset)
    patients = primary.patients
    table = count_by_arm(patients, protocol.analysis, protocol=protocol)
    orr = _compare(table, "responders", protocol)
    experimental, comparator = compared_arms(protocol)
    return PrimaryEndpoint(
        table=table,
        p_value=orr.p_value,
        odds_ratio=orr.odds_ratio,
        p_value_one_sided=orr.p_value_one_sided,
        orr_comparison=orr,
        cr_comparison=_compare(table, "cr", protocol),
        dcr_comparison=_compare(table, "disease_control", protocol),
        patients=patients,
        responses=primary.responses,
        experimental=experimental,
        comparator=comparator,
    )


@dataclass(frozen=True)
class CrossoverEndpoint:
    """Response in patients who crossed over, after SBRT (secondary endpoint).

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
    """Response rate in crossover patients, after the IL-2 course that followed SBRT.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort` (its ``protocol`` applies).
    ruleset
        Default the protocol's ``primary_ruleset``.

    Returns
    -------
    CrossoverEndpoint
        Every patient of ``[crossover].from_arm`` with ``crossover`` = yes is in the
        denominator; one without a crossover IL-2 dose is not evaluable.
    """
    from studylib.recist.variants import crossover_best_response

    crossover = _analysed(cohort, crossover_best_response, ruleset)
    patients = crossover.patients
    counts = {"n": len(patients)}
    counts.update({c.lower(): int((patients["category"] == c).sum()) for c in CATEGORIES})
    counts["responders"] = int(patients["responder"].sum())
    return CrossoverEndpoint(
        counts=counts,
        rate=response_rate(counts["responders"], counts["n"], cohort.protocol.analysis),
        patients=patients,
        responses=crossover.responses,
    )
