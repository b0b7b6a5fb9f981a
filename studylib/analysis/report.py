"""The whole cohort analysis in one call, laid out as a registry posting and set beside the
publication.

:func:`analyse_cohort` runs every engine of :mod:`studylib.analysis` on a loaded trial folder;
:func:`registry_results` lays the results out like a ClinicalTrials.gov results posting
(outcome measure, arms, participants analysed, counts, statistical analysis);
:func:`workbook_figures` names the workbook's figures by the keys of
:data:`studylib.analysis.publication.PUBLISHED` for :func:`compare_with_publication`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.analysis.courses import first_il2_dose, patient_courses, response_course
from studylib.analysis.endpoints import (
    CrossoverEndpoint,
    PrimaryEndpoint,
    crossover_endpoint,
    primary_endpoint,
)
from studylib.analysis.flow import ParticipantFlow, participant_flow
from studylib.analysis.local import local_control_by_arm
from studylib.analysis.publication import compare_with_publication
from studylib.analysis.survival import SurvivalAnalysis, survival_by_arm, survival_times
from studylib.protocol import PROTOCOL

__all__ = [
    "CohortAnalysis",
    "analyse_cohort",
    "analysis_settings",
    "registry_results",
    "workbook_figures",
]


@dataclass(frozen=True)
class CohortAnalysis:
    """Every result of the cohort analysis.

    Attributes
    ----------
    primary, crossover
        The response endpoints (:mod:`studylib.analysis.endpoints`).
    pfs, os
        Survival by arm (:mod:`studylib.analysis.survival`).
    flow
        The CONSORT participant flow.
    local_control, local_lesions
        SBRT local control by group, and per irradiated lesion.
    times
        Survival times per patient.
    courses
        Each patient's course as tidy events (swimmer plot).
    best_change
        Per patient: ``arm``, ``best_pct_change`` (percent from baseline, primary window),
        ``bor`` (waterfall plot).
    changes
        Per patient and scan: ``week``, ``pct_change_baseline``, ``bor`` (spider plot).
    ruleset
        The name of the response ruleset the endpoints were derived with.
    """

    primary: PrimaryEndpoint
    crossover: CrossoverEndpoint
    pfs: SurvivalAnalysis
    os: SurvivalAnalysis
    flow: ParticipantFlow
    local_control: pd.DataFrame
    local_lesions: pd.DataFrame
    times: pd.DataFrame
    courses: pd.DataFrame
    best_change: pd.DataFrame
    changes: pd.DataFrame
    ruleset: str

    def comparison(self) -> pd.DataFrame:
        """Each published figure, the workbook's figure and the difference."""
        return compare_with_publication(workbook_figures(self))

    def registry(self) -> pd.DataFrame:
        """The results laid out like a registry results posting."""
        return registry_results(self)

    def key_results(self) -> dict[str, int | float | None]:
        """The headline numbers as JSON-native values for ``studylib.record.record``.

        Counts are ints; rates, p-values and ratios floats rounded to 4 decimals; a value that
        is not estimable (an infinite odds ratio, a survival estimate beyond follow-up) is
        ``None``.
        """
        t = self.primary.table
        values: dict[str, float] = {
            "n_A": t.loc["A", "n"],
            "n_B": t.loc["B", "n"],
            "responders_A": t.loc["A", "responders"],
            "responders_B": t.loc["B", "responders"],
            "orr_A": t.loc["A", "orr"],
            "orr_B": t.loc["B", "orr"],
            "fisher_p_two_sided": self.primary.p_value,
            "fisher_p_one_sided": self.primary.p_value_one_sided,
            "odds_ratio": self.primary.odds_ratio,
            "crossover_responders": self.crossover.counts["responders"],
            "crossover_n": self.crossover.counts["n"],
            "pfs_logrank_p": self.pfs.logrank_p,
            "os_logrank_p": self.os.logrank_p,
            "os_landmark_A": self.os.summary.loc["A", "landmark_survival"],
            "os_landmark_B": self.os.summary.loc["B", "landmark_survival"],
        }
        values.update({f"flow_{k}": v for k, v in self.flow.counts.items()})
        out: dict[str, int | float | None] = {}
        for name, value in values.items():
            if isinstance(value, (int, np.integer)):
                out[name] = int(value)
            elif value is None or not np.isfinite(value):
                out[name] = None
            else:
                out[name] = round(float(value), 4)
        return out


def analyse_cohort(cohort, *, ruleset: str | None = None) -> CohortAnalysis:
    """Run the whole cohort analysis on a loaded trial folder.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort` (with ``followup`` for survival).
    ruleset
        Response ruleset; default the protocol's primary ruleset.

    Returns
    -------
    CohortAnalysis
    """
    from studylib.recist.timepoint import best_percent_change

    primary = primary_endpoint(cohort, ruleset=ruleset)
    crossover = crossover_endpoint(cohort, ruleset=ruleset)
    times = survival_times(cohort.randomization, cohort.followup)
    analysed = primary.table["n"].to_dict()
    flow = participant_flow(cohort.screening, cohort.randomization, analysed=analysed)
    local, lesions = local_control_by_arm(cohort, ruleset=ruleset)
    bor = primary.patients.set_index("patient_id")["bor"]
    arms = primary.patients.set_index("patient_id")["arm"]
    best = best_percent_change(primary.responses).set_index("patient_id")
    best_change = pd.DataFrame(
        {
            "patient_id": arms.index,
            "arm": arms.to_numpy(),
            "best_pct_change": best["best_pct_change_baseline"].reindex(arms.index).to_numpy(),
            "bor": bor.to_numpy(),
        }
    )
    return CohortAnalysis(
        primary=primary,
        crossover=crossover,
        pfs=survival_by_arm(times, "pfs"),
        os=survival_by_arm(times, "os"),
        flow=flow,
        local_control=local,
        local_lesions=lesions,
        times=times,
        courses=patient_courses(
            cohort.randomization,
            cohort.dosing,
            cohort.followup,
            pd.concat(
                [r for r in (primary.responses, crossover.responses) if not r.empty],
                ignore_index=True,
            )
            if not primary.responses.empty
            else None,
        ),
        best_change=best_change,
        changes=response_course(primary.responses, first_il2_dose(cohort.dosing), arms, bor),
        ruleset=ruleset or PROTOCOL.response.primary_ruleset,
    )


def _pct(value: float) -> float:
    return float(100 * value)


def workbook_figures(analysis: CohortAnalysis) -> dict[str, float]:
    """The workbook's figures, named by the keys of the published figures.

    Percentages are in percent; the 5-year survival is the Kaplan-Meier estimate at
    ``[analysis].os_landmark``.
    """
    t = analysis.primary.table
    c = analysis.flow.counts
    figures: dict[str, float] = {
        key: c[key] for key in ("screened", "consented", "excluded", "randomized", "arm_A", "arm_B")
    }
    figures["crossover"] = c["crossover"]
    figures["analysed"] = int(t["n"].sum())
    for arm in ("A", "B"):
        row = t.loc[arm]
        figures[f"orr_pct_{arm}"] = _pct(row["orr"])
        figures[f"responders_{arm}"] = int(row["responders"])
        for what in ("cr", "pr", "sd", "pd"):
            figures[f"{what}_{arm}"] = int(row[what])
            figures[f"{what}_pct_{arm}"] = _pct(row[what] / row["n"]) if row["n"] else np.nan
        figures[f"orr_ci_low_pct_{arm}"] = _pct(row["ci_low"])
        figures[f"orr_ci_high_pct_{arm}"] = _pct(row["ci_high"])
        figures[f"os_5y_pct_{arm}"] = _pct(analysis.os.summary.loc[arm, "landmark_survival"])
    x = analysis.crossover
    figures.update(
        {
            "crossover_cr": x.counts["cr"],
            "crossover_pr": x.counts["pr"],
            "crossover_responders": x.counts["responders"],
            "crossover_orr_pct": _pct(x.rate.rate),
            "fisher_p": analysis.primary.p_value,
            "fisher_odds_ratio": analysis.primary.odds_ratio,
            "fisher_p_one_sided": analysis.primary.p_value_one_sided,
            "cr_fisher_p": analysis.primary.cr_comparison.p_value,
        }
    )
    return {k: float(v) for k, v in figures.items()}


def _count(k: int, n: int) -> str:
    return f"{k} ({100 * k / n:.1f}%)" if n else f"{k}"


def _rate(rate: float, low: float, high: float, level: float) -> str:
    if np.isnan(rate):
        return "not estimable"
    pct = round(100 * level)
    return f"{100 * rate:.1f}% ({pct}% CI {100 * low:.1f} to {100 * high:.1f})"


def _months(value: float, low: float, high: float, level: float) -> str:
    def show(x: float) -> str:
        return "NR" if np.isnan(x) else f"{x:.1f}"

    return f"{show(value)} ({round(100 * level)}% CI {show(low)} to {show(high)})"


def _criteria(ruleset: str) -> str:
    """The response criteria as a reader names them: ``RECIST 1.1``, or the ruleset's name."""
    prefix = "recist"
    return (
        f"RECIST {ruleset[len(prefix) :]}" if ruleset.startswith(prefix) else ruleset + " ruleset"
    )


def registry_results(analysis: CohortAnalysis) -> pd.DataFrame:
    """The results laid out like a ClinicalTrials.gov results posting.

    Returns
    -------
    DataFrame
        Columns ``outcome`` (the outcome measure), ``row`` (what the row reports), one column
        per arm (``Arm A: IL-2 monotherapy``, ``Arm B: SBRT + IL-2``) and ``comparison``
        (the statistical analysis, B vs A). Cells are text: counts with percentages, rates
        with exact intervals, medians in months with intervals (``NR``: not reached).
    """
    a_col, b_col = (f"Arm {a}: {PROTOCOL.arm(a).name}" for a in ("A", "B"))
    rules = PROTOCOL.analysis
    level = rules.confidence_level
    rows: list[dict[str, str]] = []

    def add(outcome: str, row: str, a: str = "", b: str = "", comparison: str = "") -> None:
        rows.append({"outcome": outcome, "row": row, a_col: a, b_col: b, "comparison": comparison})

    p = analysis.primary
    t = p.table
    primary = (
        f"Best overall response by end of cycle 2 (week {PROTOCOL.response.primary_timepoint_week})"
        f", {_criteria(analysis.ruleset)}, non-irradiated lesions"
    )
    add(primary, "Participants analysed", str(t.loc["A", "n"]), str(t.loc["B", "n"]))
    for code, words in (
        ("cr", "Complete response (CR)"),
        ("pr", "Partial response (PR)"),
        ("sd", "Stable disease (SD)"),
        ("pd", "Progressive disease (PD)"),
        ("ne", "Not evaluable (NE)"),
    ):
        add(
            primary,
            words,
            _count(t.loc["A", code], t.loc["A", "n"]),
            _count(t.loc["B", code], t.loc["B", "n"]),
        )
    orr = p.orr_comparison
    add(
        primary,
        "Objective response rate (CR + PR), exact CI",
        _rate(t.loc["A", "orr"], t.loc["A", "ci_low"], t.loc["A", "ci_high"], level),
        _rate(t.loc["B", "orr"], t.loc["B", "ci_low"], t.loc["B", "ci_high"], level),
        f"Fisher's exact test, two-sided p = {orr.p_value:.3f}; one-sided (B greater) "
        f"p = {orr.p_value_one_sided:.3f}; odds ratio {orr.odds_ratio:.2f}",
    )
    cr = p.cr_comparison
    add(
        primary,
        "Complete response rate, exact CI",
        _rate(t.loc["A", "cr_rate"], t.loc["A", "cr_ci_low"], t.loc["A", "cr_ci_high"], level),
        _rate(t.loc["B", "cr_rate"], t.loc["B", "cr_ci_low"], t.loc["B", "cr_ci_high"], level),
        f"Fisher's exact test, two-sided p = {cr.p_value:.3f}; odds ratio {cr.odds_ratio:.2f}",
    )
    dcr = p.dcr_comparison
    add(
        "Disease control rate (CR + PR + SD) by end of cycle 2",
        "Disease control, exact CI",
        _rate(t.loc["A", "dcr"], t.loc["A", "dcr_ci_low"], t.loc["A", "dcr_ci_high"], level),
        _rate(t.loc["B", "dcr"], t.loc["B", "dcr_ci_low"], t.loc["B", "dcr_ci_high"], level),
        f"Fisher's exact test, two-sided p = {dcr.p_value:.3f}",
    )
    x = analysis.crossover
    crossover = (
        "Response rate in crossover patients, "
        f"{PROTOCOL.crossover.response_assessment_after.to('week').magnitude:g} weeks"
        " after the IL-2 course that followed SBRT"
    )
    add(crossover, "Participants analysed", str(x.counts["n"]), "not applicable")
    add(
        crossover,
        "CR / PR / SD / PD / NE",
        " / ".join(str(x.counts[c]) for c in ("cr", "pr", "sd", "pd", "ne")),
        "not applicable",
    )
    add(
        crossover,
        "Response rate (CR + PR), exact CI",
        _rate(x.rate.rate, x.rate.ci_low, x.rate.ci_high, level),
        "not applicable",
    )
    lc = analysis.local_control
    local = "SBRT local control (irradiated lesions without local failure)"
    add(
        local,
        "Irradiated lesions evaluable",
        f"{lc.loc['A', 'evaluable']} (crossover patients)",
        str(lc.loc["B", "evaluable"]),
    )
    add(
        local,
        "Lesions controlled, exact CI",
        _rate(lc.loc["A", "rate"], lc.loc["A", "ci_low"], lc.loc["A", "ci_high"], level),
        _rate(lc.loc["B", "rate"], lc.loc["B", "ci_low"], lc.loc["B", "ci_high"], level),
    )
    for surv in (analysis.pfs, analysis.os):
        s = surv.summary
        outcome = f"{surv.name} (months from randomisation)"
        add(outcome, "Participants analysed", str(s.loc["A", "n"]), str(s.loc["B", "n"]))
        add(outcome, "Events", str(s.loc["A", "events"]), str(s.loc["B", "events"]))
        add(
            outcome,
            "Median, months",
            _months(*s.loc["A", ["median_months", "median_ci_low", "median_ci_high"]], level),
            _months(*s.loc["B", ["median_months", "median_ci_low", "median_ci_high"]], level),
            f"Log-rank p = {surv.logrank_p:.3f}; hazard ratio B vs A {surv.hazard_ratio:.2f} "
            f"({round(100 * level)}% CI {surv.hazard_ratio_ci_low:.2f} to "
            f"{surv.hazard_ratio_ci_high:.2f})",
        )
        years = rules.os_landmark.to("year").magnitude
        add(
            outcome,
            f"Kaplan-Meier estimate at {years:g} years",
            _rate(*s.loc["A", ["landmark_survival", "landmark_ci_low", "landmark_ci_high"]], level),
            _rate(*s.loc["B", ["landmark_survival", "landmark_ci_low", "landmark_ci_high"]], level),
        )
    return pd.DataFrame(rows)


def _days(quantity) -> str:
    return f"{quantity.to('day').magnitude:g} days"


def analysis_settings() -> pd.DataFrame:
    """How the endpoints are derived, read from the protocol, for a reader of the results.

    Returns
    -------
    DataFrame
        ``setting``, ``value`` and ``source`` (the protocol section that holds it).
    """
    r, a = PROTOCOL.response, PROTOCOL.analysis
    level = f"{100 * a.confidence_level:g}%"
    rows = [
        ("Response criteria", r.primary_ruleset, "[response].primary_ruleset"),
        (
            "Irradiated lesions",
            "left out of the response" if r.exclude_irradiated else "counted",
            "[response].exclude_irradiated",
        ),
        (
            "Primary endpoint: scans counted",
            f"up to week {r.primary_timepoint_week} after the first IL-2 dose, plus "
            f"{_days(PROTOCOL.assessments.window)}",
            "[response].primary_timepoint_week, [assessments].window",
        ),
        ("Confirmation of CR/PR", "not required (randomised trial)", "[response].reading"),
        (
            "Stable disease minimum",
            f"{_days(r.sd_min_interval)} after the first IL-2 dose",
            "[response].sd_min_interval",
        ),
        (
            "Crossover patients",
            f"counted in arm {PROTOCOL.crossover.from_arm} with their response before SBRT",
            "[analysis].crossover_reading",
        ),
        (
            "Crossover response: scans counted",
            f"up to {PROTOCOL.crossover.response_assessment_after.to('week').magnitude:g} weeks"
            " after the first IL-2 "
            f"dose of cycle {PROTOCOL.crossover.first_cycle}, plus "
            f"{_days(PROTOCOL.assessments.window)}",
            "[crossover].response_assessment_after",
        ),
        ("Responders", " or ".join(a.responders), "[analysis].responders"),
        ("Disease control", ", ".join(a.disease_control), "[analysis].disease_control"),
        (
            "Rate intervals",
            f"{level}, exact (Clopper-Pearson, statsmodels '{a.rate_interval}')",
            "[analysis].rate_interval",
        ),
        (
            "Comparison of arms",
            f"Fisher's exact test, {a.comparison_alternative}; {a.secondary_alternative} "
            "(arm B better) as a secondary figure",
            "[analysis].comparison",
        ),
        (
            "Survival",
            f"from {a.survival_origin}, in {a.survival_time_unit}s; Kaplan-Meier, log-rank, "
            f"Cox; landmark {a.os_landmark.to('year').magnitude:g} years",
            "[analysis].survival_reading",
        ),
    ]
    return pd.DataFrame(rows, columns=["setting", "value", "source"])
