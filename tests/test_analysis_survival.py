"""Survival times from follow-up dates, Kaplan-Meier by arm, log-rank and Cox, checked against
a worked example and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from studylib.analysis.survival import survival_by_arm, survival_times
from studylib.errors import DataError


def _times(months_a, events_a, months_b, events_b, endpoint="os") -> pd.DataFrame:
    arms = ["A"] * len(months_a) + ["B"] * len(months_b)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(len(arms))],
            "arm": arms,
            f"{endpoint}_months": np.array(list(months_a) + list(months_b), dtype=float),
            f"{endpoint}_event": np.array(list(events_a) + list(events_b), dtype=bool),
        }
    )


# A worked Kaplan-Meier example (months): deaths at 12, 36, 48; censored at 24, 72, 84.
# S(12) = 5/6, S(36) = 5/6 * 3/4 = 0.625, S(48) = 0.625 * 2/3 = 0.41667; median 48 months.
WORKED = ([12, 24, 36, 48, 72, 84], [1, 0, 1, 1, 0, 0])
OTHER = ([6, 9, 15, 20, 30, 66, 70], [1, 1, 1, 0, 1, 1, 0])


def test_kaplan_meier_matches_the_worked_example():
    """Arm A's curve is 5/6, 0.625 and 0.4167 after the deaths at 12, 36 and 48 months."""
    result = survival_by_arm(_times(*WORKED, *OTHER), "os")
    curve = result.fitters["A"].survival_function_.iloc[:, 0]
    assert curve.loc[12.0] == pytest.approx(5 / 6)
    assert curve.loc[36.0] == pytest.approx(0.625)
    assert curve.loc[48.0] == pytest.approx(0.625 * 2 / 3)
    assert result.summary.loc["A", "median_months"] == 48.0
    assert result.summary.loc["A", ["n", "events"]].tolist() == [6, 3]


def test_five_year_estimate_is_read_at_sixty_months():
    """The 5-year landmark ([analysis].os_landmark) reads the curve at 60 months: 0.4167."""
    result = survival_by_arm(_times(*WORKED, *OTHER), "os")
    assert result.landmark_months == pytest.approx(60.0)
    assert result.summary.loc["A", "landmark_survival"] == pytest.approx(0.625 * 2 / 3)
    low, high = result.summary.loc["A", ["landmark_ci_low", "landmark_ci_high"]]
    assert low < 0.625 * 2 / 3 < high


def test_kaplan_meier_and_interval_match_statsmodels():
    """lifelines' curve and log-log interval equal statsmodels' SurvfuncRight on the same data."""
    result = survival_by_arm(_times(*WORKED, *OTHER), "os")
    months, events = OTHER
    reference = SurvfuncRight(np.array(months, float), np.array(events, float))
    curve = result.fitters["B"].survival_function_.iloc[:, 0]
    band = result.fitters["B"].confidence_interval_survival_function_
    for time, prob in zip(reference.surv_times, reference.surv_prob, strict=True):
        assert curve.loc[time] == pytest.approx(prob)
    ci_low, ci_high = _statsmodels_interval(reference)
    for time, lo, hi in zip(reference.surv_times, ci_low, ci_high, strict=True):
        if np.isfinite(lo) and 0 < curve.loc[time] < 1:
            assert band.loc[time].iloc[0] == pytest.approx(lo, abs=1e-6)
            assert band.loc[time].iloc[1] == pytest.approx(hi, abs=1e-6)


def _statsmodels_interval(fit: SurvfuncRight):
    """Pointwise log(-log) interval from statsmodels' Greenwood standard errors."""
    from scipy.stats import norm

    z = norm.ppf(0.975)
    s, se = fit.surv_prob, fit.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = se / (s * np.abs(np.log(s)))
        low = s ** np.exp(z * sd)
        high = s ** np.exp(-z * sd)
    return low, high


def test_logrank_matches_statsmodels_survdiff():
    """The log-rank statistic and p-value equal statsmodels' survdiff."""
    times = _times(*WORKED, *OTHER)
    result = survival_by_arm(times, "os")
    chisq, p = survdiff(
        times["os_months"].to_numpy(), times["os_event"].to_numpy(float), times["arm"].to_numpy()
    )
    assert result.logrank_statistic == pytest.approx(chisq)
    assert result.logrank_p == pytest.approx(p)


def test_hazard_ratio_matches_statsmodels_cox_model():
    """With no tied times lifelines' and statsmodels' Cox hazard ratios of arm B agree."""
    times = _times(*WORKED, *OTHER)
    result = survival_by_arm(times, "os")
    model = PHReg(
        times["os_months"].to_numpy(),
        (times["arm"] == "B").astype(float).to_numpy()[:, None],
        status=times["os_event"].to_numpy(float),
        ties="efron",
    ).fit()
    assert result.hazard_ratio == pytest.approx(math.exp(model.params[0]), rel=1e-4)
    low, high = np.exp(model.conf_int()[0])
    assert result.hazard_ratio_ci_low == pytest.approx(low, rel=1e-3)
    assert result.hazard_ratio_ci_high == pytest.approx(high, rel=1e-3)


def test_median_not_reached_is_nan():
    """A curve that never falls to 50% has no median (NaN), not the last time."""
    result = survival_by_arm(_times([10, 20, 30, 40], [1, 0, 0, 0], *OTHER), "os")
    assert math.isnan(result.summary.loc["A", "median_months"])


def test_landmark_after_the_last_follow_up_is_not_estimated():
    """An arm followed for less than 5 years has no 5-year estimate (NaN), not a carried value."""
    result = survival_by_arm(_times([10, 20, 30, 40], [1, 0, 1, 0], *WORKED), "os")
    assert math.isnan(result.summary.loc["A", "landmark_survival"])
    assert not math.isnan(result.summary.loc["B", "landmark_survival"])


def test_cox_without_an_event_in_one_arm_is_not_estimable():
    """No death in arm B: the hazard ratio is NaN instead of a meaningless number."""
    result = survival_by_arm(_times(*WORKED, [10, 20, 30], [0, 0, 0]), "os")
    assert math.isnan(result.hazard_ratio)


def test_unknown_endpoint_is_refused():
    """Only 'pfs' and 'os' exist."""
    with pytest.raises(ValueError, match="endpoint 'dfs'"):
        survival_by_arm(_times(*WORKED, *OTHER), "dfs")


def _frames(rows):
    randomization = pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "arm": [r[1] for r in rows],
            "crossover": [False] * len(rows),
            "randomized_on": pd.to_datetime(["2012-01-02"] * len(rows)),
        }
    )
    followup = pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "progressed_on": pd.to_datetime([r[2] for r in rows]),
            "died_on": pd.to_datetime([r[3] for r in rows]),
            "last_contact_on": pd.to_datetime([r[4] for r in rows]),
        }
    )
    return randomization, followup


def test_times_end_at_the_rule_that_produced_them():
    """PFS ends at progression or death, whichever first; OS at death; others are censored."""
    randomization, followup = _frames(
        [
            ("P1", "A", "2012-03-02", "2013-01-02", "2013-01-02"),
            ("P2", "B", None, "2012-07-01", "2012-07-01"),
            ("P3", "B", None, None, "2017-01-02"),
            ("P4", "A", "2012-05-01", None, "2016-01-01"),
        ]
    )
    times = survival_times(randomization, followup).set_index("patient_id")
    assert times["pfs_rule"].tolist() == [
        "progression",
        "death",
        "censored at last contact",
        "progression",
    ]
    assert times["os_rule"].tolist() == [
        "death",
        "death",
        "censored at last contact",
        "censored at last contact",
    ]
    assert times["pfs_event"].tolist() == [True, True, False, True]
    assert times["os_event"].tolist() == [True, True, False, False]
    # pint's month is a twelfth of a Julian year: 365.25 / 12 = 30.4375 days
    assert times.loc["P1", "pfs_months"] == pytest.approx(60 / 30.4375)
    assert times.loc["P3", "os_months"] == pytest.approx(1827 / 30.4375)


def test_missing_follow_up_and_negative_times_are_reported_together():
    """A randomised patient without follow-up and a death before randomisation are both named."""
    randomization, followup = _frames(
        [
            ("P1", "A", None, "2011-12-01", "2011-12-01"),
            ("P2", "B", None, None, "2013-01-01"),
        ]
    )
    randomization.loc[2] = ["P3", "A", False, pd.Timestamp("2012-01-02")]
    with pytest.raises(DataError) as error:
        survival_times(randomization, followup)
    text = str(error.value)
    assert "randomised patient P3" in text
    assert "'died_on': '2011-12-01': for patient P1" in text
    assert "'last_contact_on': '2011-12-01': for patient P1" in text
    assert {p.patient_id for p in error.value.problems} == {"P1", "P3"}
