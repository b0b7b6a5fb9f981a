"""Response rates, exact intervals and Fisher's exact test, against independent computations."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.stats import binomtest, hypergeom

from studylib.analysis.rates import compare_rates, response_rate
from studylib.protocol import PROTOCOL


def _fisher_by_enumeration(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher p-value summed over every table with the same margins (hypergeometric)."""
    total, treated, events = a + b + c + d, a + b, a + c
    dist = hypergeom(total, events, treated)
    observed = dist.pmf(a)
    low, high = max(0, treated + events - total), min(treated, events)
    pmfs = np.array([dist.pmf(k) for k in range(low, high + 1)])
    return float(pmfs[pmfs <= observed * (1 + 1e-7)].sum())


@pytest.mark.parametrize("events,n", [(13, 24), (7, 20), (0, 10), (10, 10), (1, 7), (3, 7)])
def test_clopper_pearson_matches_scipy_exact_interval(events, n):
    """The statsmodels 'beta' interval equals scipy's exact binomial interval."""
    rate = response_rate(events, n)
    expected = binomtest(events, n).proportion_ci(confidence_level=0.95, method="exact")
    assert rate.rate == pytest.approx(events / n)
    assert rate.ci_low == pytest.approx(expected.low, abs=1e-9)
    assert rate.ci_high == pytest.approx(expected.high, abs=1e-9)


def test_interval_of_the_derived_counts():
    """13/24 and 7/20 give 32.8%-74.4% and 15.4%-59.2% (NCT01416831.md §2.4, computed check)."""
    b, a = response_rate(13, 24), response_rate(7, 20)
    assert (round(100 * b.ci_low, 1), round(100 * b.ci_high, 1)) == (32.8, 74.4)
    assert (round(100 * a.ci_low, 1), round(100 * a.ci_high, 1)) == (15.4, 59.2)
    assert str(b) == "13/24 = 54.2% (95% CI 32.8% to 74.4%)"


def test_confidence_level_is_read_from_the_protocol():
    """A 90% level from [analysis] gives a narrower interval, equal to scipy's at 90%."""
    rules = dataclasses.replace(PROTOCOL.analysis, confidence_level=0.90)
    rate = response_rate(13, 24, rules)
    expected = binomtest(13, 24).proportion_ci(confidence_level=0.90, method="exact")
    assert rate.ci_low == pytest.approx(expected.low)
    assert rate.ci_high == pytest.approx(expected.high)


def test_empty_denominator_is_not_estimable():
    """No patient: the rate and its interval are NaN, not zero."""
    rate = response_rate(0, 0)
    assert rate.n == 0 and math.isnan(rate.rate) and math.isnan(rate.ci_low)
    assert str(rate) == "0/0: not estimable (no patient to count)"


@pytest.mark.parametrize("events,n", [(5, 4), (-1, 4), (1.5, 4)])
def test_impossible_counts_are_refused(events, n):
    """Events above n, negative or fractional counts raise, naming the counts."""
    with pytest.raises(ValueError, match="not a count of patients"):
        response_rate(events, n)


@pytest.mark.parametrize(
    "table", [(13, 24, 7, 20), (5, 24, 3, 20), (3, 7, 0, 7), (10, 12, 2, 12), (1, 20, 8, 20)]
)
def test_fisher_two_sided_matches_hypergeometric_enumeration(table):
    """Fisher's two-sided p equals the sum over tables no more likely than the one observed."""
    te, tn, ce, cn = table
    result = compare_rates(te, tn, ce, cn)
    expected = _fisher_by_enumeration(te, tn - te, ce, cn - ce)
    assert result.p_value == pytest.approx(expected, rel=1e-9)
    assert result.table == ((te, tn - te), (ce, cn - ce))


def test_fisher_one_sided_is_the_upper_tail():
    """One-sided 'greater' p is P(X >= observed responders in arm B) under the hypergeometric."""
    result = compare_rates(13, 24, 7, 20)
    expected = hypergeom(44, 20, 24).sf(13 - 1)
    assert result.p_value_one_sided == pytest.approx(expected)
    assert result.one_sided_alternative == "greater"


def test_derived_counts_give_the_computed_check_values():
    """13/24 vs 7/20: p 0.238 two-sided, 0.167 one-sided, odds ratio 2.19 (NCT01416831.md §2.4)."""
    result = compare_rates(13, 24, 7, 20)
    assert round(result.p_value, 3) == 0.238
    assert round(result.p_value_one_sided, 3) == 0.167
    assert round(result.odds_ratio, 2) == 2.19
    assert round(compare_rates(5, 24, 3, 20).p_value, 2) == 0.71


def test_odds_ratio_is_the_cross_product_and_has_an_exact_interval():
    """The sample odds ratio is ad/bc; the conditional estimate lies inside its own interval."""
    result = compare_rates(13, 24, 7, 20)
    assert result.odds_ratio == pytest.approx((13 * 13) / (11 * 7))
    assert result.odds_ratio_ci_low < result.conditional_odds_ratio < result.odds_ratio_ci_high
    assert result.odds_ratio_ci_low < 1 < result.odds_ratio_ci_high


def test_no_responder_in_either_arm_leaves_the_odds_ratio_undefined():
    """With an empty margin the test gives p = 1 and the conditional estimate is NaN."""
    result = compare_rates(0, 24, 0, 20)
    assert result.p_value == 1.0
    assert math.isnan(result.conditional_odds_ratio)


def test_only_fisher_is_implemented():
    """Another test named in [analysis] is refused, not silently replaced."""
    rules = dataclasses.replace(PROTOCOL.analysis, comparison="chi2")
    with pytest.raises(ValueError, match="only 'fisher_exact'"):
        compare_rates(13, 24, 7, 20, rules)
