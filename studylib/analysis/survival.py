"""Progression-free and overall survival by arm: Kaplan-Meier, log-rank, Cox.

Times come from ``randomization.csv`` (the origin, ``[analysis].survival_origin``) and
``followup.csv`` (first progression, death, last contact). Every estimate is lifelines':
``KaplanMeierFitter`` (product-limit estimate, Greenwood exponential intervals), its median
and the median's interval (``lifelines.utils.median_survival_times``), ``logrank_test``, and a
one-covariate ``CoxPHFitter`` for the hazard ratio. How the times are built is a reading of
the protocol (``[analysis].survival_reading``): the paper's methods were not available.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times

from studylib.analysis.arms import compared_arms
from studylib.errors import DataError, Problem
from studylib.protocol import AnalysisRules, Protocol, resolve_protocol
from studylib.units import Q_

__all__ = ["ENDPOINTS", "SurvivalAnalysis", "survival_times", "survival_by_arm"]

#: The survival endpoints: column prefix -> name shown to readers.
ENDPOINTS = {"pfs": "Progression-free survival", "os": "Overall survival"}


def _months_per_day(rules: AnalysisRules) -> float:
    return float(Q_(1, "day").to(rules.survival_time_unit).magnitude)


def survival_times(
    randomization: pd.DataFrame,
    followup: pd.DataFrame,
    rules: AnalysisRules | None = None,
    *,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """One row per randomised patient with the times and events of PFS and OS.

    Parameters
    ----------
    randomization
        ``patient_id``, ``arm``, ``crossover`` and the origin column
        (``[analysis].survival_origin``, ``randomized_on``).
    followup
        ``patient_id``, ``progressed_on``, ``died_on``, ``last_contact_on``.
    rules
        The protocol's ``[analysis]`` rules (default: those of ``protocol``).
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    DataFrame
        ``patient_id``, ``arm``, ``crossover``, ``origin``, ``pfs_event`` (progression or
        death), ``pfs_date``, ``pfs_months``, ``pfs_rule``, ``os_event`` (death), ``os_date``,
        ``os_months``, ``os_rule``; ``*_rule`` says which date ended the time
        (``progression``, ``death`` or ``censored at last contact``). Months are
        ``[analysis].survival_time_unit`` converted from days by the unit registry.

    Raises
    ------
    DataError
        Listing every randomised patient without a follow-up row, and every time that would be
        negative.
    """
    rules = rules if rules is not None else resolve_protocol(protocol).analysis
    origin = rules.survival_origin
    base = randomization[["patient_id", "arm", "crossover", origin]].rename(
        columns={origin: "origin"}
    )
    follow = followup[["patient_id", "progressed_on", "died_on", "last_contact_on"]]
    frame = base.merge(follow, on="patient_id", how="left", indicator=True)
    problems = [
        Problem(
            "followup.csv",
            None,
            "patient_id",
            patient,
            f"a follow-up row for randomised patient {patient}",
            patient_id=patient,
        )
        for patient in frame.loc[frame["_merge"] == "left_only", "patient_id"]
    ]
    died = frame["died_on"].notna()
    progressed = frame["progressed_on"].notna()
    first_event = frame[["progressed_on", "died_on"]].min(axis=1)
    out = pd.DataFrame(
        {
            "patient_id": frame["patient_id"],
            "arm": frame["arm"],
            "crossover": frame["crossover"],
            "origin": frame["origin"],
            "pfs_event": (progressed | died).astype(bool),
            "pfs_date": first_event.where(progressed | died, frame["last_contact_on"]),
            "pfs_rule": np.select(
                [progressed & (~died | (frame["progressed_on"] <= frame["died_on"])), died],
                ["progression", "death"],
                "censored at last contact",
            ),
            "os_event": died.astype(bool),
            "os_date": frame["died_on"].where(died, frame["last_contact_on"]),
            "os_rule": np.where(died, "death", "censored at last contact"),
        }
    )
    for column in ("progressed_on", "died_on", "last_contact_on"):
        early = frame[column] < frame["origin"]
        for index in early[early].index:
            patient = frame.at[index, "patient_id"]
            problems.append(
                Problem(
                    "followup.csv",
                    None,
                    column,
                    str(frame.at[index, column].date()),
                    f"for patient {patient}, a date on or after {origin}"
                    f" ({frame.at[index, 'origin'].date()})",
                    patient_id=patient,
                )
            )
    per_day = _months_per_day(rules)
    for endpoint in ENDPOINTS:
        days = (out[f"{endpoint}_date"] - out["origin"]).dt.days
        out[f"{endpoint}_months"] = days * per_day
    if problems:
        raise DataError(problems, context="survival times")
    columns = ["patient_id", "arm", "crossover", "origin"] + [
        f"{e}_{c}" for e in ENDPOINTS for c in ("event", "date", "months", "rule")
    ]
    return out[columns].reset_index(drop=True)


@dataclass(frozen=True)
class SurvivalAnalysis:
    """Kaplan-Meier estimates of one endpoint by arm, with the log-rank test.

    Attributes
    ----------
    endpoint
        ``"pfs"`` or ``"os"``.
    fitters
        The fitted ``lifelines.KaplanMeierFitter`` of each arm, by arm code (for plots).
    summary
        One row per arm: ``n``, ``events``, ``median_months``, ``median_ci_low``,
        ``median_ci_high`` (NaN where the curve or its bound never reaches 50%),
        ``landmark_survival``, ``landmark_ci_low``, ``landmark_ci_high`` (at
        ``landmark_months``; NaN when the arm's follow-up ends before it).
    logrank_p, logrank_statistic
        The log-rank test between the arms (lifelines ``logrank_test``).
    hazard_ratio, hazard_ratio_ci_low, hazard_ratio_ci_high
        Cox model hazard ratio of the experimental arm against the comparator (lifelines
        ``CoxPHFitter``); NaN when the model cannot be fitted (no event in an arm).
    time_unit
        The unit of the ``*_months`` times (``[analysis].survival_time_unit``: months in the
        bundled protocol).
    """

    endpoint: str
    fitters: dict[str, KaplanMeierFitter]
    summary: pd.DataFrame
    landmark_months: float
    level: float
    logrank_p: float
    logrank_statistic: float
    hazard_ratio: float
    hazard_ratio_ci_low: float
    hazard_ratio_ci_high: float
    time_unit: str = "month"

    @property
    def name(self) -> str:
        """The endpoint's name for readers."""
        return ENDPOINTS[self.endpoint]


def _at(frame: pd.DataFrame, months: float) -> pd.Series:
    """The step function's value at ``months`` (last row at or before it)."""
    return frame.loc[frame.index <= months].iloc[-1]


def _hazard_ratio(data: pd.DataFrame, alpha: float) -> tuple[float, float, float]:
    """Cox hazard ratio of ``treated`` with its interval; NaN when lifelines cannot fit it
    (no event in an arm, or complete separation: the estimate would be meaningless)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            cox = CoxPHFitter(alpha=alpha).fit(data, duration_col="duration", event_col="event")
        except (ConvergenceWarning, ConvergenceError):
            return (np.nan, np.nan, np.nan)
    row = cox.summary.loc["treated"]
    low, high = (
        row[row.index.str.startswith(f"exp(coef) {side}")].iloc[0] for side in ("lower", "upper")
    )
    return float(row["exp(coef)"]), float(low), float(high)


def survival_by_arm(
    times: pd.DataFrame,
    endpoint: str,
    rules: AnalysisRules | None = None,
    arms: tuple[str, str] | None = None,
    *,
    protocol: Protocol | None = None,
) -> SurvivalAnalysis:
    """Kaplan-Meier estimates, medians, landmark survival and log-rank test by arm.

    Parameters
    ----------
    times
        As returned by :func:`survival_times`.
    endpoint
        ``"pfs"`` or ``"os"``.
    rules
        The protocol's ``[analysis]`` rules (default: those of ``protocol``): confidence level,
        time unit and the landmark (``os_landmark``, used for both endpoints).
    arms
        The comparator and the experimental arm, in that order (default: the protocol's,
        :func:`studylib.analysis.arms.compared_arms`).
    protocol
        The :class:`~studylib.protocol.Protocol` naming the arms (default: the bundled one).

    Returns
    -------
    SurvivalAnalysis
    """
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint {endpoint!r}: use one of {sorted(ENDPOINTS)}")
    protocol = resolve_protocol(protocol)
    rules = rules if rules is not None else protocol.analysis
    if arms is None:
        experimental, comparator = compared_arms(protocol)
        arms = (comparator, experimental)
    alpha = 1 - rules.confidence_level
    landmark = float(rules.os_landmark.to(rules.survival_time_unit).magnitude)
    duration, event = f"{endpoint}_months", f"{endpoint}_event"
    fitters: dict[str, KaplanMeierFitter] = {}
    rows = []
    for arm in arms:
        part = times[times["arm"] == arm]
        if part.empty:
            raise ValueError(f"no patient in arm {arm!r}: survival needs both arms {arms}")
        kmf = KaplanMeierFitter(alpha=alpha).fit(
            part[duration], part[event], label=f"{protocol.arm(arm).name} (arm {arm})"
        )
        fitters[arm] = kmf
        median_ci = median_survival_times(kmf.confidence_interval_)
        within = landmark <= part[duration].max()
        at_landmark = _at(kmf.survival_function_, landmark).iloc[0]
        ci = _at(kmf.confidence_interval_survival_function_, landmark)
        rows.append(
            {
                "arm": arm,
                "n": len(part),
                "events": int(part[event].sum()),
                "median_months": float(kmf.median_survival_time_),
                "median_ci_low": float(median_ci.iloc[0, 0]),
                "median_ci_high": float(median_ci.iloc[0, 1]),
                "landmark_survival": float(at_landmark) if within else np.nan,
                "landmark_ci_low": float(ci.iloc[0]) if within else np.nan,
                "landmark_ci_high": float(ci.iloc[1]) if within else np.nan,
            }
        )
    summary = pd.DataFrame(rows).set_index("arm")
    summary = summary.replace([np.inf, -np.inf], np.nan)
    control, treated = (times[times["arm"] == arm] for arm in arms)
    test = logrank_test(
        control[duration],
        treated[duration],
        event_observed_A=control[event],
        event_observed_B=treated[event],
    )
    cox_data = pd.DataFrame(
        {
            "duration": times[duration].astype(float),
            "event": times[event].astype(int),
            "treated": (times["arm"] == arms[1]).astype(int),
        }
    )
    hr, hr_low, hr_high = _hazard_ratio(cox_data, alpha)
    return SurvivalAnalysis(
        endpoint=endpoint,
        fitters=fitters,
        summary=summary,
        landmark_months=landmark,
        level=rules.confidence_level,
        logrank_p=float(test.p_value),
        logrank_statistic=float(test.test_statistic),
        hazard_ratio=hr,
        hazard_ratio_ci_low=hr_low,
        hazard_ratio_ci_high=hr_high,
        time_unit=rules.survival_time_unit,
    )
