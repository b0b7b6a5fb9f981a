"""The whole cohort analysis in one call, laid out as a registry posting and set beside the
publication.

:func:`analyse_cohort` runs every engine of :mod:`studylib.analysis` on a loaded trial folder;
:func:`registry_results` lays the results out like a ClinicalTrials.gov results posting
(outcome measure, arms, participants analysed, counts, statistical analysis);
:func:`workbook_figures` names the workbook's figures by the keys of
:data:`studylib.analysis.publication.PUBLISHED` for :func:`compare_with_publication`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib.analysis.arms import arm_label, compared_arms
from studylib.analysis.courses import first_il2_dose, patient_courses, response_course
from studylib.analysis.endpoints import (
    CATEGORIES,
    CrossoverEndpoint,
    PrimaryEndpoint,
    crossover_endpoint,
    primary_endpoint,
)
from studylib.analysis.flow import ParticipantFlow, participant_flow
from studylib.analysis.local import local_control_by_arm
from studylib.analysis.publication import (
    PUBLISHED_ARMS,
    PUBLISHED_TRIAL,
    compare_with_publication,
)
from studylib.analysis.survival import SurvivalAnalysis, survival_by_arm, survival_times
from studylib.protocol import Protocol, resolve_protocol
from studylib.wording import criteria, days, or_list, weeks, years

__all__ = [
    "CohortAnalysis",
    "alternative_text",
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
    protocol
        The protocol the analysis followed (the cohort's own).
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
    protocol: Protocol = field(repr=False)

    def comparison(self) -> pd.DataFrame:
        """Each published figure, the workbook's figure and the difference; no rows for a
        trial other than the one the figures were published for (a sister trial's protocol:
        NCT01416831's figures are not its results)."""
        if self.protocol.trial.get("nct_id") != PUBLISHED_TRIAL:
            return compare_with_publication({}).iloc[0:0]
        return compare_with_publication(workbook_figures(self))

    def registry(self) -> pd.DataFrame:
        """The results laid out like a registry results posting."""
        return registry_results(self)

    def key_results(self) -> dict[str, int | float | None]:
        """The headline numbers as JSON-native values for ``studylib.record.record``.

        Per arm, the keys end in the arm's code (``n_A``, ``orr_B``); the p-values are those of
        ``[analysis].comparison_alternative`` (``fisher_p_two_sided``, whatever the protocol's
        alternative) and ``secondary_alternative`` (``fisher_p_one_sided``).

        Counts are ints; rates, p-values and ratios floats rounded to 4 decimals; a value that
        is not estimable (an infinite odds ratio, a survival estimate beyond follow-up) is
        ``None``.
        """
        t = self.primary.table
        arms = list(t.index)
        values: dict[str, float] = {}
        for name in ("n", "responders", "orr"):
            values.update({f"{name}_{arm}": t.loc[arm, name] for arm in arms})
        values.update(
            {
                "fisher_p_two_sided": self.primary.p_value,
                "fisher_p_one_sided": self.primary.p_value_one_sided,
                "odds_ratio": self.primary.odds_ratio,
                "crossover_responders": self.crossover.counts["responders"],
                "crossover_n": self.crossover.counts["n"],
                "pfs_logrank_p": self.pfs.logrank_p,
                "os_logrank_p": self.os.logrank_p,
            }
        )
        landmark = self.os.summary["landmark_survival"]
        values.update({f"os_landmark_{arm}": landmark.loc[arm] for arm in arms})
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
    """Run the whole cohort analysis on a loaded trial folder, under its own protocol.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort` (with ``followup`` for survival); its ``protocol``
        gives every rule, the arms and the direction of the comparisons.
    ruleset
        Response ruleset; default the protocol's primary ruleset.

    Returns
    -------
    CohortAnalysis
    """
    from studylib.recist.timepoint import best_percent_change

    protocol = cohort.protocol
    primary = primary_endpoint(cohort, ruleset=ruleset)
    crossover = crossover_endpoint(cohort, ruleset=ruleset)
    times = survival_times(cohort.randomization, cohort.followup, protocol=protocol)
    analysed = primary.table["n"].to_dict()
    flow = participant_flow(
        cohort.screening, cohort.randomization, analysed=analysed, protocol=protocol
    )
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
        pfs=survival_by_arm(times, "pfs", protocol=protocol),
        os=survival_by_arm(times, "os", protocol=protocol),
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
            protocol=protocol,
        ),
        best_change=best_change,
        changes=response_course(primary.responses, first_il2_dose(cohort.dosing), arms, bor),
        ruleset=ruleset or protocol.response.primary_ruleset,
        protocol=protocol,
    )


def _pct(value: float) -> float:
    return float(100 * value)


def workbook_figures(analysis: CohortAnalysis) -> dict[str, float]:
    """The workbook's figures, named by the keys of the published figures.

    The publication's arms are matched by their role in the comparison
    (:data:`~studylib.analysis.publication.PUBLISHED_ARMS`: its experimental arm with the
    protocol's experimental arm). Percentages are in percent; the 5-year survival is the
    Kaplan-Meier estimate at ``[analysis].os_landmark``.
    """
    t = analysis.primary.table
    c = analysis.flow.counts
    arms = compared_arms(analysis.protocol)._asdict()
    figures: dict[str, float] = {
        key: c[key] for key in ("screened", "consented", "excluded", "randomized")
    }
    figures["crossover"] = c["crossover"]
    figures["analysed"] = int(t["n"].sum())
    for role, published in PUBLISHED_ARMS.items():
        arm = arms[role]
        row = t.loc[arm]
        figures[f"arm_{published}"] = c[f"arm_{arm}"]
        figures[f"orr_pct_{published}"] = _pct(row["orr"])
        figures[f"responders_{published}"] = int(row["responders"])
        for what in ("cr", "pr", "sd", "pd"):
            figures[f"{what}_{published}"] = int(row[what])
            figures[f"{what}_pct_{published}"] = _pct(row[what] / row["n"]) if row["n"] else np.nan
        figures[f"orr_ci_low_pct_{published}"] = _pct(row["ci_low"])
        figures[f"orr_ci_high_pct_{published}"] = _pct(row["ci_high"])
        figures[f"os_5y_pct_{published}"] = _pct(analysis.os.summary.loc[arm, "landmark_survival"])
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


def _median(value: float, low: float, high: float, level: float) -> str:
    def show(x: float) -> str:
        return "NR" if np.isnan(x) else f"{x:.1f}"

    return f"{show(value)} ({round(100 * level)}% CI {show(low)} to {show(high)})"


def alternative_text(alternative: str, experimental: str) -> str:
    """A test's alternative as the results say it: ``two-sided``, ``one-sided (B greater)``.

    >>> alternative_text("two-sided", "B"), alternative_text("greater", "R")
    ('two-sided', 'one-sided (R greater)')
    """
    if alternative == "two-sided":
        return alternative
    return f"one-sided ({experimental} {alternative})"


def _first_course_end(protocol: Protocol) -> str:
    """``"end of cycle 2 (week 14)"``: the end of the primary window in words."""
    return (
        f"end of cycle {protocol.il2.cycles_in_first_course} "
        f"(week {protocol.response.primary_timepoint_week})"
    )


def registry_results(analysis: CohortAnalysis) -> pd.DataFrame:
    """The results laid out like a ClinicalTrials.gov results posting.

    Returns
    -------
    DataFrame
        Columns ``outcome`` (the outcome measure), ``row`` (what the row reports), one column
        per arm of the protocol, in file order (bundled: ``Arm A: IL-2 monotherapy``, ``Arm B:
        SBRT + IL-2``) and ``comparison`` (the statistical analysis, the experimental arm
        against the comparator). Cells are text: counts with percentages, rates with exact
        intervals, medians in the protocol's survival time unit with intervals (``NR``: not
        reached).
    """
    protocol = analysis.protocol
    arms = protocol.arm_codes
    experimental, comparator = compared_arms(protocol)
    columns = {arm: arm_label(protocol, arm) for arm in arms}
    rules = protocol.analysis
    level = rules.confidence_level
    rows: list[dict[str, str]] = []

    def add(outcome: str, row: str, cells, comparison: str = "") -> None:
        """``cells``: the text of each arm, by arm code."""
        line = {"outcome": outcome, "row": row}
        line.update({columns[arm]: cells.get(arm, "") for arm in arms})
        line["comparison"] = comparison
        rows.append(line)

    def sided(alternative: str) -> str:
        return alternative_text(alternative, experimental)

    def per_arm(show) -> dict[str, str]:
        return {arm: show(arm) for arm in arms}

    p = analysis.primary
    t = p.table
    lesions = "non-irradiated lesions" if protocol.response.exclude_irradiated else "all lesions"
    primary = (
        f"Best overall response by {_first_course_end(protocol)}, "
        f"{criteria(analysis.ruleset)}, {lesions}"
    )
    add(primary, "Participants analysed", per_arm(lambda a: str(t.loc[a, "n"])))
    for code, words in (
        ("cr", "Complete response (CR)"),
        ("pr", "Partial response (PR)"),
        ("sd", "Stable disease (SD)"),
        ("pd", "Progressive disease (PD)"),
        ("ne", "Not evaluable (NE)"),
    ):
        add(primary, words, per_arm(lambda a, c=code: _count(t.loc[a, c], t.loc[a, "n"])))

    def rates(rate: str, low: str, high: str) -> dict[str, str]:
        return per_arm(lambda a: _rate(t.loc[a, rate], t.loc[a, low], t.loc[a, high], level))

    orr = p.orr_comparison
    add(
        primary,
        "Objective response rate (CR + PR), exact CI",
        rates("orr", "ci_low", "ci_high"),
        f"Fisher's exact test, {sided(orr.alternative)} p = {orr.p_value:.3f}; "
        f"{sided(orr.one_sided_alternative)} p = {orr.p_value_one_sided:.3f}; "
        f"odds ratio {orr.odds_ratio:.2f}",
    )
    cr = p.cr_comparison
    add(
        primary,
        "Complete response rate, exact CI",
        rates("cr_rate", "cr_ci_low", "cr_ci_high"),
        f"Fisher's exact test, {sided(cr.alternative)} p = {cr.p_value:.3f}; "
        f"odds ratio {cr.odds_ratio:.2f}",
    )
    dcr = p.dcr_comparison
    add(
        f"Disease control rate (CR + PR + SD) by end of cycle "
        f"{protocol.il2.cycles_in_first_course}",
        "Disease control, exact CI",
        rates("dcr", "dcr_ci_low", "dcr_ci_high"),
        f"Fisher's exact test, {sided(dcr.alternative)} p = {dcr.p_value:.3f}",
    )
    x = analysis.crossover
    crossover = (
        "Response rate in crossover patients, "
        f"{weeks(protocol.crossover.response_assessment_after)}"
        " after the IL-2 course that followed SBRT"
    )
    absent = {experimental: "not applicable"}
    add(crossover, "Participants analysed", {comparator: str(x.counts["n"]), **absent})
    add(
        crossover,
        "CR / PR / SD / PD / NE",
        {
            comparator: " / ".join(str(x.counts[c.lower()]) for c in CATEGORIES),
            **absent,
        },
    )
    add(
        crossover,
        "Response rate (CR + PR), exact CI",
        {comparator: _rate(x.rate.rate, x.rate.ci_low, x.rate.ci_high, level), **absent},
    )
    lc = analysis.local_control
    local = "SBRT local control (irradiated lesions without local failure)"
    add(
        local,
        "Irradiated lesions evaluable",
        {
            comparator: f"{lc.loc[comparator, 'evaluable']} (crossover patients)",
            experimental: str(lc.loc[experimental, "evaluable"]),
        },
    )
    add(
        local,
        "Lesions controlled, exact CI",
        {
            arm: _rate(lc.loc[arm, "rate"], lc.loc[arm, "ci_low"], lc.loc[arm, "ci_high"], level)
            for arm in (comparator, experimental)
        },
    )
    unit = f"{rules.survival_time_unit}s"
    median = ["median_months", "median_ci_low", "median_ci_high"]
    landmark = ["landmark_survival", "landmark_ci_low", "landmark_ci_high"]
    for surv in (analysis.pfs, analysis.os):
        s = surv.summary
        outcome = f"{surv.name} ({unit} from randomisation)"
        add(outcome, "Participants analysed", per_arm(lambda a, s=s: str(s.loc[a, "n"])))
        add(outcome, "Events", per_arm(lambda a, s=s: str(s.loc[a, "events"])))
        add(
            outcome,
            f"Median, {unit}",
            per_arm(lambda a, s=s: _median(*s.loc[a, median], level)),
            f"Log-rank p = {surv.logrank_p:.3f}; hazard ratio {experimental} vs {comparator} "
            f"{surv.hazard_ratio:.2f} ({round(100 * level)}% CI {surv.hazard_ratio_ci_low:.2f} "
            f"to {surv.hazard_ratio_ci_high:.2f})",
        )
        add(
            outcome,
            f"Kaplan-Meier estimate at {years(rules.os_landmark)}",
            per_arm(lambda a, s=s: _rate(*s.loc[a, landmark], level)),
        )
    return pd.DataFrame(rows)


def _better(alternative: str, experimental: str) -> str:
    """A test's alternative with what it means: ``greater (arm B better)``."""
    meaning = {"greater": "better", "less": "worse"}.get(alternative)
    return alternative if meaning is None else f"{alternative} (arm {experimental} {meaning})"


def analysis_settings(protocol: Protocol | None = None) -> pd.DataFrame:
    """How the endpoints are derived, read from the protocol, for a reader of the results.

    Parameters
    ----------
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one; a notebook passes
        ``cohort.protocol``).

    Returns
    -------
    DataFrame
        ``setting``, ``value`` and ``source`` (the protocol section that holds it).
    """
    protocol = resolve_protocol(protocol)
    r, a = protocol.response, protocol.analysis
    experimental, comparator = compared_arms(protocol)
    window = days(protocol.assessments.window)
    level = f"{100 * a.confidence_level:g}%"
    crossover_kept = (
        "with their response before SBRT"
        if a.primary_excludes_crossover
        else "with every scan of the primary window, after SBRT too"
    )
    rows = [
        ("Response criteria", r.primary_ruleset, "[response].primary_ruleset"),
        (
            "Irradiated lesions",
            "left out of the response" if r.exclude_irradiated else "counted",
            "[response].exclude_irradiated",
        ),
        (
            "Primary endpoint: scans counted",
            f"up to week {r.primary_timepoint_week} after the first IL-2 dose, plus {window}",
            "[response].primary_timepoint_week, [assessments].window",
        ),
        ("Confirmation of CR/PR", "not required (randomised trial)", "[response].reading"),
        (
            "Stable disease minimum",
            f"{days(r.sd_min_interval)} after the first IL-2 dose",
            "[response].sd_min_interval",
        ),
        (
            "Crossover patients",
            f"counted in arm {comparator} {crossover_kept}",
            "[analysis].crossover_reading",
        ),
        (
            "Crossover response: scans counted",
            f"up to {weeks(protocol.crossover.response_assessment_after)} after the first IL-2 "
            f"dose of cycle {protocol.crossover.first_cycle}, plus {window}",
            "[crossover].response_assessment_after",
        ),
        ("Responders", or_list(a.responders), "[analysis].responders"),
        ("Disease control", ", ".join(a.disease_control), "[analysis].disease_control"),
        (
            "Rate intervals",
            f"{level}, exact (Clopper-Pearson, statsmodels '{a.rate_interval}')",
            "[analysis].rate_interval",
        ),
        (
            "Comparison of arms",
            f"Fisher's exact test, {_better(a.comparison_alternative, experimental)}; "
            f"{_better(a.secondary_alternative, experimental)} as a secondary figure",
            "[analysis].comparison",
        ),
        (
            "Survival",
            f"from {a.survival_origin}, in {a.survival_time_unit}s; Kaplan-Meier, log-rank, "
            f"Cox; landmark {years(a.os_landmark)}",
            "[analysis].survival_reading",
        ),
    ]
    return pd.DataFrame(rows, columns=["setting", "value", "source"])
