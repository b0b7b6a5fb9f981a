"""Response rates with exact intervals, and their comparison between arms.

Every number comes from a library: the interval from statsmodels
(``proportion_confint``, Clopper-Pearson when the protocol's ``[analysis].rate_interval`` is
``"beta"``), the test and the sample odds ratio from scipy (``fisher_exact``), and the
conditional maximum-likelihood odds ratio with its exact interval from scipy
(``contingency.odds_ratio``). The choices are readings of the protocol (``[analysis]``),
because the paper's statistical methods were not available (``[analysis].comparison_reading``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import fisher_exact
from scipy.stats.contingency import odds_ratio as scipy_odds_ratio
from statsmodels.stats.proportion import proportion_confint

from studylib.protocol import AnalysisRules, Protocol, resolve_protocol

__all__ = ["Rate", "RateComparison", "response_rate", "compare_rates"]


@dataclass(frozen=True)
class Rate:
    """A proportion of patients with its confidence interval.

    Attributes
    ----------
    events, n
        Patients with the outcome, and patients in the denominator.
    rate
        ``events / n`` (a fraction, 0 to 1); NaN when ``n`` is 0.
    ci_low, ci_high
        The interval at ``level`` by ``method`` (statsmodels' method name).
    """

    events: int
    n: int
    rate: float
    ci_low: float
    ci_high: float
    level: float
    method: str

    def __str__(self) -> str:
        if self.n == 0:
            return "0/0: not estimable (no patient to count)"
        pct = round(100 * self.level)
        return (
            f"{self.events}/{self.n} = {100 * self.rate:.1f}% "
            f"({pct}% CI {100 * self.ci_low:.1f}% to {100 * self.ci_high:.1f}%)"
        )


@dataclass(frozen=True)
class RateComparison:
    """Fisher's exact test of two rates (``treated`` against ``control``).

    Attributes
    ----------
    table
        The 2x2 table ``[[treated events, treated non-events], [control events, control
        non-events]]``, as given to ``scipy.stats.fisher_exact``.
    p_value
        Two-sided p-value (or as ``[analysis].comparison_alternative`` says).
    p_value_one_sided
        One-sided p-value for ``[analysis].secondary_alternative`` (``"greater"``: the treated
        arm has the higher rate).
    odds_ratio
        Sample odds ratio of the table (scipy's ``fisher_exact`` statistic); infinite or 0 when
        a cell is empty.
    conditional_odds_ratio, odds_ratio_ci_low, odds_ratio_ci_high
        Conditional maximum-likelihood odds ratio and its exact interval (scipy
        ``contingency.odds_ratio(kind="conditional")``), the estimate that matches the test.
    """

    table: tuple[tuple[int, int], tuple[int, int]]
    p_value: float
    alternative: str
    p_value_one_sided: float
    one_sided_alternative: str
    odds_ratio: float
    conditional_odds_ratio: float
    odds_ratio_ci_low: float
    odds_ratio_ci_high: float
    level: float


def _check_counts(events: int, n: int, what: str) -> tuple[int, int]:
    if int(events) != events or int(n) != n or not 0 <= events <= n:
        raise ValueError(f"{what}: {events} of {n} is not a count of patients (0 <= events <= n)")
    return int(events), int(n)


def _rules(rules: AnalysisRules | None, protocol: Protocol | None) -> AnalysisRules:
    """``rules`` when given, else the ``[analysis]`` rules of ``protocol`` (default: bundled)."""
    return rules if rules is not None else resolve_protocol(protocol).analysis


def response_rate(
    events: int, n: int, rules: AnalysisRules | None = None, *, protocol: Protocol | None = None
) -> Rate:
    """The proportion ``events / n`` with its exact confidence interval.

    Parameters
    ----------
    events, n
        Patients with the outcome and patients analysed (whole numbers, ``0 <= events <= n``).
    rules
        The protocol's ``[analysis]`` rules: confidence level and interval method (``"beta"``
        is Clopper-Pearson). Default: those of ``protocol``.
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    Rate
        With NaN rate and interval when ``n`` is 0 (no patient to count).
    """
    rules = _rules(rules, protocol)
    events, n = _check_counts(events, n, "response_rate")
    if n == 0:
        nan = float("nan")
        return Rate(0, 0, nan, nan, nan, rules.confidence_level, rules.rate_interval)
    low, high = proportion_confint(
        events, n, alpha=1 - rules.confidence_level, method=rules.rate_interval
    )
    return Rate(
        events=events,
        n=n,
        rate=events / n,
        ci_low=float(low),
        ci_high=float(high),
        level=rules.confidence_level,
        method=rules.rate_interval,
    )


def compare_rates(
    treated_events: int,
    treated_n: int,
    control_events: int,
    control_n: int,
    rules: AnalysisRules | None = None,
    *,
    protocol: Protocol | None = None,
) -> RateComparison:
    """Fisher's exact test of a rate in the treated arm against the control arm.

    Parameters
    ----------
    treated_events, treated_n
        The experimental arm (:func:`studylib.analysis.arms.compared_arms`): patients with the
        outcome, patients analysed.
    control_events, control_n
        The comparator arm.
    rules
        The protocol's ``[analysis]`` rules (default: those of ``protocol``).
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    RateComparison
        Two-sided and one-sided p-values and the odds ratio (treated vs control).
    """
    rules = _rules(rules, protocol)
    if rules.comparison != "fisher_exact":
        raise ValueError(
            f"[analysis].comparison = {rules.comparison!r}: only 'fisher_exact' is implemented"
        )
    te, tn = _check_counts(treated_events, treated_n, "treated arm")
    ce, cn = _check_counts(control_events, control_n, "control arm")
    table = ((te, tn - te), (ce, cn - ce))
    array = np.array(table)
    sample_or, p_value = fisher_exact(array, alternative=rules.comparison_alternative)
    _, p_one = fisher_exact(array, alternative=rules.secondary_alternative)
    if tn and cn and (te + ce) and (tn - te + cn - ce):
        conditional = scipy_odds_ratio(array, kind="conditional")
        interval = conditional.confidence_interval(confidence_level=rules.confidence_level)
        cond, low, high = float(conditional.statistic), float(interval.low), float(interval.high)
    else:
        # An empty row or column: the conditional estimate is undefined (scipy would warn).
        cond = low = high = float("nan")
    return RateComparison(
        table=table,
        p_value=float(p_value),
        alternative=rules.comparison_alternative,
        p_value_one_sided=float(p_one),
        one_sided_alternative=rules.secondary_alternative,
        odds_ratio=float(sample_or),
        conditional_odds_ratio=cond,
        odds_ratio_ci_low=low,
        odds_ratio_ci_high=high,
        level=rules.confidence_level,
    )
