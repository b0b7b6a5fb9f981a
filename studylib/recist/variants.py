"""Layer 4: the trial's response analyses, primary and crossover (the protocol's ``[response]``).

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
the analysis window, with the window's ``cutoff_date``. :func:`primary_best_response` and
:func:`crossover_best_response` add each patient's best overall response: they are the one
place where a patient's primary (and crossover) response is decided, for the patient view
(:func:`studylib.recist.patient.patient_response`) and the cohort analysis
(:mod:`studylib.analysis.endpoints`) alike.

Every function takes ``protocol=`` (default: the bundled protocol); the windows, the ruleset
and the crossover arm are read from it. The primary response also takes ``ruleset="irecist"``
(:mod:`studylib.recist.irecist`): the same window and reference date, iRECIST timepoints and
the iRECIST best overall response (:func:`~studylib.recist.irecist_bor.irecist_best_response`),
for the sensitivity analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from studylib.protocol import Protocol, Ruleset, resolve_protocol
from studylib.recist.bor import best_overall_response
from studylib.recist.irecist import IRECIST
from studylib.recist.irecist_bor import irecist_best_response
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
    "AnalysedResponse",
    "primary_best_response",
    "crossover_best_response",
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


def _crossed_over(randomization: pd.DataFrame, protocol: Protocol) -> pd.Series:
    """Which rows of ``randomization.csv`` crossed over: ``crossover`` = yes in the arm the
    protocol lets cross over (``[crossover].from_arm``)."""
    return randomization["crossover"].fillna(False).astype(bool) & (
        randomization["arm"].astype(str) == protocol.crossover.from_arm
    )


def crossover_sbrt_starts(
    dosing: pd.DataFrame, randomization: pd.DataFrame, *, protocol: Protocol | None = None
) -> pd.Series:
    """The day of the first SBRT fraction given to each patient who crossed over.

    Parameters
    ----------
    dosing, randomization
        ``dosing.csv`` and ``randomization.csv`` as :func:`studylib.data.load_cohort` reads
        them (``crossover`` a yes/no boolean).
    protocol
        Whose ``[crossover].from_arm`` may cross over (default: the bundled protocol).

    Returns
    -------
    Series
        Indexed by patient: patients of ``[crossover].from_arm`` with ``crossover`` = yes and a
        given SBRT fraction (their arm has no SBRT before the crossover).
    """
    crossed = randomization.loc[
        _crossed_over(randomization, resolve_protocol(protocol)), "patient_id"
    ].astype(str)
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
    *,
    protocol: Protocol | None = None,
) -> pd.Series:
    """Last date counted for the primary endpoint: the primary week after the first IL-2 dose,
    plus the assessment window.

    Reads ``[response].primary_timepoint_week`` and ``[assessments].window`` of ``protocol``
    (default: the bundled one). For a patient in ``crossover_sbrt``
    (:func:`crossover_sbrt_starts`) the cut-off is that day instead when it comes earlier:
    scans after the crossover SBRT belong to the crossover response.
    """
    protocol = resolve_protocol(protocol)
    starts = _dates(treatment_starts, "treatment_start")
    weeks = pd.Timedelta(weeks=protocol.response.primary_timepoint_week)
    cutoff = (starts + weeks + _days(protocol.assessments.window)).rename("cutoff_date")
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
    protocol: Protocol | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Timepoint responses of the primary endpoint (assessments up to the primary window's end).

    Parameters
    ----------
    lesions, assessments
        The cohort's ``lesions`` and ``assessments`` frames.
    treatment_starts
        Date of the first IL-2 dose per patient (Series or mapping, e.g.
        ``cycle_starts(cohort.dosing, 1)``); patients without one are left out.
    ruleset, exclude_irradiated
        Default to the protocol's ``primary_ruleset`` and ``exclude_irradiated``; ``ruleset``
        may also be ``"irecist"``.
    crossover_sbrt
        First crossover SBRT day of the patients who crossed over
        (:func:`crossover_sbrt_starts`): nothing later is counted for them.
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).
    **options
        Passed to :func:`~studylib.recist.timepoint.timepoint_responses`.

    Returns
    -------
    DataFrame
        The timepoint responses up to each patient's ``cutoff_date`` (a column).
    """
    protocol = resolve_protocol(protocol)
    rules = _primary_rules(ruleset, protocol)
    cutoff = primary_cutoffs(treatment_starts, crossover_sbrt, protocol=protocol)
    les, asm = _patients(lesions, assessments, cutoff.index)
    asm = asm[asm["date"] <= asm["patient_id"].map(cutoff)]
    out = timepoint_responses(
        les,
        asm,
        ruleset=rules,
        exclude_irradiated=exclude_irradiated,
        protocol=protocol,
        **options,
    )
    out["cutoff_date"] = out["patient_id"].map(cutoff)
    return out


def _primary_rules(ruleset: str | Ruleset | None, protocol: Protocol) -> str | Ruleset:
    """The ruleset asked for, or the protocol's primary one; iRECIST, a response model on top
    of a ruleset rather than a ruleset, passes by name."""
    if isinstance(ruleset, str) and ruleset == IRECIST:
        return ruleset
    return get_ruleset(ruleset or protocol.response.primary_ruleset, protocol)


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


def crossover_cutoffs(
    crossover_starts: pd.Series | Mapping[str, Any], *, protocol: Protocol | None = None
) -> pd.Series:
    """Last date counted for the crossover response: the crossover assessment interval after
    the crossover course starts, plus the assessment window.

    Reads ``[crossover].response_assessment_after`` and ``[assessments].window`` of
    ``protocol`` (default: the bundled one).
    """
    protocol = resolve_protocol(protocol)
    starts = _dates(crossover_starts, "crossover_start")
    after = _days(protocol.crossover.response_assessment_after)
    return (starts + after + _days(protocol.assessments.window)).rename("cutoff_date")


def crossover_response(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    crossover_starts: pd.Series | Mapping[str, Any],
    *,
    baseline_dates: pd.Series | Mapping[str, Any] | None = None,
    ruleset: str | Ruleset | None = None,
    protocol: Protocol | None = None,
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
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).
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
    protocol = resolve_protocol(protocol)
    rules = get_ruleset(ruleset or protocol.response.primary_ruleset, protocol)
    cutoff = crossover_cutoffs(crossover_starts, protocol=protocol)
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
    out = timepoint_responses(
        les, asm, ruleset=rules, exclude_irradiated=True, protocol=protocol, **options
    )
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


# --------------------------------------------------------------------------------------------
# Each patient's best response: the one derivation the patient view and the analysis share


@dataclass(frozen=True)
class AnalysedResponse:
    """Best overall responses of an analysis window and the timepoints they come from.

    Attributes
    ----------
    patients
        One row per patient in the analysis (see :func:`primary_best_response`,
        :func:`crossover_best_response`), with ``bor``, ``date`` and ``reason``.
    responses
        The timepoint responses counted (:func:`primary_response` or
        :func:`crossover_response`).
    """

    patients: pd.DataFrame
    responses: pd.DataFrame


def _best(
    responses: pd.DataFrame,
    references: pd.Series,
    cutoffs: pd.Series | None,
    protocol: Protocol,
    *,
    irecist: bool = False,
) -> pd.DataFrame:
    """Unconfirmed best overall response with the protocol's SD minimum, stopping at the
    first PD (``[response].reading``: no confirmation in this randomised trial); with
    ``irecist``, the iRECIST best response (Seymour et al. 2017, Table 3), in column ``bor``."""
    counted = responses.loc[responses["overall_response"].notna()]
    if irecist:
        best = irecist_best_response(counted, references, cutoff_dates=cutoffs, protocol=protocol)
        return best.rename(columns={"ibor": "bor"})
    return best_overall_response(
        counted,
        references,
        confirm=False,
        cutoff_dates=cutoffs,
        pd_cutoff=True,
        protocol=protocol,
    )


def primary_best_response(
    randomization: pd.DataFrame,
    dosing: pd.DataFrame,
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    include_baseline: bool = False,
    protocol: Protocol | None = None,
) -> AnalysedResponse:
    """Every randomised patient's primary best overall response (``[response]``, ``[analysis]``).

    The reference date is the first IL-2 dose (randomisation for a patient never dosed, who
    stays in the analysis as not evaluable); scans count up to :func:`primary_cutoffs`, and,
    when ``[analysis].primary_excludes_crossover`` is true, no later than a crossover
    patient's first crossover SBRT fraction. The best response is unconfirmed, with the
    protocol's SD minimum, and stops at the first PD.

    Parameters
    ----------
    randomization, dosing, lesions, assessments
        Frames of a trial folder (all patients, or one patient's rows).
    ruleset
        Default: the protocol's ``primary_ruleset``; ``"irecist"`` gives the iRECIST
        timepoints and best response (``bor`` then holds iCR, iPR, iSD, ..., iCPD).
    include_baseline
        Also return each patient's baseline row in ``responses``.
    protocol
        The :class:`~studylib.protocol.Protocol` (default: the bundled one).

    Returns
    -------
    AnalysedResponse
        ``patients``: ``patient_id``, ``arm``, ``crossover``, ``first_il2_dose``,
        ``cutoff_date``, ``crossover_sbrt`` (first crossover SBRT fraction, else empty),
        ``bor``, ``date``, ``reason``, in the order of ``randomization``.
    """
    protocol = resolve_protocol(protocol)
    randomized = randomization[["patient_id", "arm", "crossover"]].copy()
    randomized["crossover"] = randomized["crossover"].fillna(False).astype(bool)
    ids = randomized["patient_id"].astype(str)
    first_dose = cycle_starts(dosing, 1).reindex(ids)
    # A patient never dosed has no scan on treatment: their reference is randomisation, and
    # they stay in the denominator as not evaluable (intention to treat).
    randomized_on = randomization.set_index(randomization["patient_id"].astype(str))
    reference = first_dose.fillna(randomized_on["randomized_on"].reindex(ids)).dt.normalize()
    sbrt = crossover_sbrt_starts(dosing, randomization, protocol=protocol)
    # Nothing after a crossover patient's first crossover SBRT fraction counts when the
    # protocol says so: the window's timepoints (waterfall, spider) and the best response.
    stop_at = sbrt if protocol.analysis.primary_excludes_crossover else None
    cutoff = primary_cutoffs(first_dose.dropna(), stop_at, protocol=protocol).reindex(ids)
    responses = primary_response(
        lesions,
        assessments,
        first_dose.dropna(),
        ruleset=ruleset,
        crossover_sbrt=stop_at,
        include_baseline=include_baseline,
        protocol=protocol,
    )
    irecist = isinstance(ruleset, str) and ruleset == IRECIST
    bor = _best(responses, reference, cutoff.dropna(), protocol, irecist=irecist)
    patients = randomized.assign(
        first_il2_dose=first_dose.to_numpy(),
        cutoff_date=cutoff.to_numpy(),
        crossover_sbrt=sbrt.reindex(ids).to_numpy(),
    ).merge(bor[["patient_id", "bor", "date", "reason"]], on="patient_id", how="left")
    return AnalysedResponse(patients=patients, responses=responses)


def crossover_best_response(
    randomization: pd.DataFrame,
    dosing: pd.DataFrame,
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    include_baseline: bool = False,
    protocol: Protocol | None = None,
) -> AnalysedResponse:
    """The crossover response of every patient who crossed over (secondary endpoint).

    Every patient of ``[crossover].from_arm`` with ``crossover`` = yes is in the analysis;
    the reference is the first IL-2 dose of the crossover course (``[crossover].first_cycle``;
    randomisation when there is none: not evaluable). Scans count from the crossover
    baseline up to :func:`crossover_cutoffs` (:func:`crossover_response`).

    Returns
    -------
    AnalysedResponse
        ``patients``: ``patient_id``, ``crossover_start``, ``bor``, ``date``, ``reason``.
    """
    protocol = resolve_protocol(protocol)
    crossed = randomization.loc[_crossed_over(randomization, protocol)]
    ids = crossed["patient_id"].astype(str)
    starts = cycle_starts(dosing, protocol.crossover.first_cycle).reindex(ids)
    randomized_on = crossed.set_index(ids)["randomized_on"]
    reference = starts.fillna(randomized_on).dt.normalize()
    responses = crossover_response(
        lesions,
        assessments,
        starts.dropna(),
        ruleset=ruleset,
        include_baseline=include_baseline,
        protocol=protocol,
    )
    cutoff = responses.groupby("patient_id")["cutoff_date"].first()
    bor = _best(responses, reference, cutoff, protocol)
    patients = pd.DataFrame({"patient_id": ids.to_numpy(), "crossover_start": starts.to_numpy()})
    patients = patients.merge(bor[["patient_id", "bor", "date", "reason"]], on="patient_id")
    return AnalysedResponse(patients=patients, responses=responses)
