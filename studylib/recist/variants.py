"""Layer 4: the trial's response analyses, primary and crossover (protocol.toml ``[response]``).

- **Primary response.** Every patient's response counts assessments up to the end of cycle 2:
  the scan of week ``primary_timepoint_week`` after the first IL-2 dose and its window
  (``[assessments].window``). Crossover patients keep this response: for them nothing after
  their first crossover SBRT fraction is counted (``[analysis].crossover_reading``), even
  when that fraction comes before the end of the window.
- **Crossover response** (secondary endpoint, arm A patients who progressed and received SBRT
  before cycle 3): a new baseline, the last scan on or before the first IL-2 dose of cycle 3,
  and the scans up to ``[crossover].response_assessment_after`` (7 weeks) after that dose plus
  the window. Lesions irradiated at crossover are left out, as at the primary baseline
  (``reading_irradiated``); new lesions already unequivocal at the new baseline are existing
  disease by then and are followed as non-target lesions (``reading_crossover_baseline``).

Both return the frame of :func:`studylib.recist.timepoint.timepoint_responses` restricted to
the analysis window, with the window's ``cutoff_date``; pass it to
:func:`studylib.recist.bor.best_overall_response` for the best response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from studylib.protocol import PROTOCOL, Ruleset
from studylib.recist.lesions import prepare_assessments, prepare_lesions
from studylib.recist.rulesets import get_ruleset
from studylib.recist.timepoint import timepoint_responses

__all__ = [
    "cycle_starts",
    "crossover_sbrt_starts",
    "primary_cutoffs",
    "primary_response",
    "crossover_baselines",
    "crossover_cutoffs",
    "crossover_response",
]


def _days(quantity) -> pd.Timedelta:
    return pd.Timedelta(days=float(quantity.to("day").magnitude))


def _dates(values: pd.Series | Mapping[str, Any], name: str) -> pd.Series:
    """Per-patient dates as a datetime Series indexed by patient id (missing dropped)."""
    series = values.copy() if isinstance(values, pd.Series) else pd.Series(dict(values))
    series.index = series.index.astype(str)
    parsed = pd.to_datetime(series, errors="coerce")
    bad = parsed.isna() & series.notna()
    if bad.any():
        raise ValueError(f"{name}: not dates for {sorted(series.index[bad])}: {list(series[bad])}")
    return parsed.dropna().dt.normalize().astype("datetime64[ns]").rename(name)


def cycle_starts(dosing: pd.DataFrame, cycle: int) -> pd.Series:
    """The date of the first IL-2 dose given in ``cycle``, per patient (``dosing.csv``).

    Patients with no IL-2 dose given in that cycle are absent from the result.
    """
    rows = dosing[
        (dosing["treatment"].astype(str) == "il2")
        & (dosing["cycle"] == cycle)
        & (dosing["status"].astype(str) == "given")
    ]
    given = pd.to_datetime(rows["given_at"])
    return (
        given.groupby(rows["patient_id"].astype(str))
        .min()
        .dt.normalize()
        .rename(f"cycle{cycle}_start")
    )


def crossover_sbrt_starts(dosing: pd.DataFrame, randomization: pd.DataFrame) -> pd.Series:
    """The day of the first SBRT fraction given to each patient who crossed over.

    Parameters
    ----------
    dosing, randomization
        ``dosing.csv`` and ``randomization.csv`` as :func:`studylib.data.load_cohort` reads
        them (``crossover`` a yes/no boolean).

    Returns
    -------
    Series
        Indexed by patient: patients of ``[crossover].from_arm`` with ``crossover`` = yes and a
        given SBRT fraction (their arm has no SBRT before the crossover).
    """
    crossed = randomization[
        randomization["crossover"].fillna(False).astype(bool)
        & (randomization["arm"].astype(str) == PROTOCOL.crossover.from_arm)
    ]["patient_id"].astype(str)
    rows = dosing[
        (dosing["treatment"].astype(str) == "sbrt")
        & (dosing["status"].astype(str) == "given")
        & dosing["patient_id"].astype(str).isin(crossed)
    ]
    given = pd.to_datetime(rows["given_at"])
    first = given.groupby(rows["patient_id"].astype(str)).min().dt.normalize()
    return first.rename("crossover_sbrt")


def primary_cutoffs(
    treatment_starts: pd.Series | Mapping[str, Any],
    crossover_sbrt: pd.Series | Mapping[str, Any] | None = None,
) -> pd.Series:
    """Last date counted for the primary endpoint: week 14 after the first IL-2 dose + window.

    Reads ``[response].primary_timepoint_week`` and ``[assessments].window``. For a patient in
    ``crossover_sbrt`` (:func:`crossover_sbrt_starts`) the cut-off is that day instead when it
    comes earlier: scans after the crossover SBRT belong to the crossover response.
    """
    starts = _dates(treatment_starts, "treatment_start")
    weeks = pd.Timedelta(weeks=PROTOCOL.response.primary_timepoint_week)
    cutoff = (starts + weeks + _days(PROTOCOL.assessments.window)).rename("cutoff_date")
    if crossover_sbrt is not None:
        sbrt = _dates(crossover_sbrt, "crossover_sbrt").reindex(cutoff.index)
        cutoff = cutoff.where(~(sbrt < cutoff), sbrt)
    return cutoff


def primary_response(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    treatment_starts: pd.Series | Mapping[str, Any],
    *,
    ruleset: str | Ruleset | None = None,
    exclude_irradiated: bool | None = None,
    crossover_sbrt: pd.Series | Mapping[str, Any] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Timepoint responses of the primary endpoint (assessments up to the end of cycle 2).

    Parameters
    ----------
    lesions, assessments
        The cohort's ``lesions`` and ``assessments`` frames.
    treatment_starts
        Date of the first IL-2 dose per patient (Series or mapping, e.g.
        ``cycle_starts(cohort.dosing, 1)``); patients without one are left out.
    ruleset, exclude_irradiated
        Default to the protocol's ``primary_ruleset`` and ``exclude_irradiated``.
    crossover_sbrt
        First crossover SBRT day of the patients who crossed over
        (:func:`crossover_sbrt_starts`): nothing later is counted for them.
    **options
        Passed to :func:`~studylib.recist.timepoint.timepoint_responses`.

    Returns
    -------
    DataFrame
        The timepoint responses up to each patient's ``cutoff_date`` (a column).
    """
    rules = get_ruleset(ruleset or PROTOCOL.response.primary_ruleset)
    if exclude_irradiated is None:
        exclude_irradiated = PROTOCOL.response.exclude_irradiated
    cutoff = primary_cutoffs(treatment_starts, crossover_sbrt)
    les, asm = _patients(lesions, assessments, cutoff.index)
    asm = asm[asm["date"] <= asm["patient_id"].map(cutoff)]
    out = timepoint_responses(
        les, asm, ruleset=rules, exclude_irradiated=exclude_irradiated, **options
    )
    out["cutoff_date"] = out["patient_id"].map(cutoff)
    return out


def _patients(
    lesions: pd.DataFrame, assessments: pd.DataFrame, patients: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The prepared lesion and assessment rows of some patients only."""
    les = prepare_lesions(lesions)
    les = les[les["patient_id"].isin(patients)].copy()
    rows = assessments[assessments["patient_id"].astype(str).str.strip().isin(patients)]
    return les, prepare_assessments(rows, les)


def crossover_baselines(
    assessments: pd.DataFrame, crossover_starts: pd.Series | Mapping[str, Any]
) -> pd.Series:
    """The crossover baseline per patient: the last scan on or before cycle 3's first dose."""
    starts = _dates(crossover_starts, "crossover_start")
    dates = assessments[["patient_id", "date"]].drop_duplicates()
    dates = dates[dates["patient_id"].isin(starts.index)]
    before = dates[dates["date"] <= dates["patient_id"].map(starts)]
    return before.groupby("patient_id")["date"].max().rename("crossover_baseline")


def crossover_cutoffs(crossover_starts: pd.Series | Mapping[str, Any]) -> pd.Series:
    """Last date counted for the crossover response: 7 weeks after cycle 3 starts + window.

    Reads ``[crossover].response_assessment_after`` and ``[assessments].window``.
    """
    starts = _dates(crossover_starts, "crossover_start")
    after = _days(PROTOCOL.crossover.response_assessment_after)
    return (starts + after + _days(PROTOCOL.assessments.window)).rename("cutoff_date")


def crossover_response(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    crossover_starts: pd.Series | Mapping[str, Any],
    *,
    baseline_dates: pd.Series | Mapping[str, Any] | None = None,
    ruleset: str | Ruleset | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Timepoint responses of crossover patients, from the post-SBRT (crossover) baseline.

    Parameters
    ----------
    lesions, assessments
        The cohort's frames (all patients; only those in ``crossover_starts`` are used).
    crossover_starts
        Date of the first IL-2 dose of cycle 3 per crossover patient (e.g.
        ``cycle_starts(cohort.dosing, 3)`` for the crossover patients).
    baseline_dates
        The crossover baseline scan per patient; default :func:`crossover_baselines`.
    ruleset
        Default: the protocol's ``primary_ruleset``.
    **options
        Passed to :func:`~studylib.recist.timepoint.timepoint_responses` (irradiated
        lesions are always excluded here: the crossover response is that of the
        non-irradiated lesions, like the primary one).

    Returns
    -------
    DataFrame
        Timepoint responses after the crossover baseline up to ``cutoff_date``; the
        ``baseline_date`` column is the crossover baseline.
    """
    rules = get_ruleset(ruleset or PROTOCOL.response.primary_ruleset)
    cutoff = crossover_cutoffs(crossover_starts)
    les, asm = _patients(lesions, assessments, cutoff.index)
    if baseline_dates is None:
        baseline = crossover_baselines(asm, crossover_starts)
    else:
        baseline = _dates(baseline_dates, "crossover_baseline")
    asm = asm[
        (asm["date"] >= asm["patient_id"].map(baseline))
        & (asm["date"] <= asm["patient_id"].map(cutoff))
    ].copy()
    les, asm = _new_lesions_as_existing(les, asm, baseline)
    out = timepoint_responses(les, asm, ruleset=rules, exclude_irradiated=True, **options)
    out["cutoff_date"] = out["patient_id"].map(cutoff)
    return out


def _new_lesions_as_existing(
    les: pd.DataFrame, asm: pd.DataFrame, baseline: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New lesions unequivocal at the crossover baseline become non-target lesions."""
    at_base = asm[
        (asm["role"] == "new")
        & (asm["state"] == "unequivocal")
        & (asm["date"] == asm["patient_id"].map(baseline))
    ]
    existing = pd.MultiIndex.from_frame(at_base[["patient_id", "lesion_id"]])
    is_existing_lesion = pd.MultiIndex.from_frame(les[["patient_id", "lesion_id"]]).isin(existing)
    les.loc[is_existing_lesion, "role"] = "non_target"
    rows = pd.MultiIndex.from_frame(asm[["patient_id", "lesion_id"]]).isin(existing)
    recorded = asm["state"].isin(["equivocal", "unequivocal"]).to_numpy()
    asm.loc[rows, "role"] = "non_target"
    asm.loc[rows & recorded, "state"] = "present"
    asm.loc[rows & ~recorded, "state"] = ""
    return les, asm
