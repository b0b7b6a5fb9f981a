"""One patient's tumour response, every layer at once, for the response notebook.

:func:`patient_response` gathers what a clinician reviews for one patient: the lesion table
(irradiated lesions marked), the baseline checks, each timepoint of the primary analysis window
with its sums, changes and responses, the best overall response with its reason, the crossover
response for an arm A patient who crossed over, and the local control of SBRT-treated lesions.
The rules live in the layers it calls; this module only chooses the protocol's dates:

- reference date of the best response: the first IL-2 dose (randomisation when never dosed),
  as in :func:`studylib.analysis.endpoints.primary_endpoint`;
- primary window: up to week ``primary_timepoint_week`` plus the window, and for a crossover
  patient no later than the first crossover SBRT fraction
  (:func:`~studylib.recist.variants.primary_cutoffs`); crossover window from the first IL-2
  dose of cycle 3 (:func:`~studylib.recist.variants.crossover_response`);
- best response options: the protocol's (``protocol_bor_options``), unconfirmed (randomised
  trial, ``[response].reading``), with the cut-off at the first progression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from studylib.protocol import PROTOCOL, Ruleset
from studylib.recist.lesions import baseline_problems, lesion_measurements, lesion_table
from studylib.recist.local_control import local_control, local_control_summary
from studylib.recist.rulesets import get_ruleset
from studylib.recist.variants import (
    crossover_response,
    crossover_sbrt_starts,
    cycle_starts,
    primary_cutoffs,
    primary_response,
)

__all__ = ["PatientResponse", "patient_response"]


@dataclass(frozen=True)
class PatientResponse:
    """Everything about one patient's response (see :func:`patient_response`).

    Attributes
    ----------
    patient_id, arm, crossover
        Who; ``arm`` is ``None`` for a patient never randomised.
    ruleset
        The ruleset's name.
    first_dose, cutoff_date
        First IL-2 dose and the last date of the primary window (``NaT`` when never dosed).
    crossover_sbrt
        First crossover SBRT fraction (``NaT`` otherwise); when it comes before the end of the
        primary window, the window ends that day.
    lesions, problems
        :func:`~studylib.recist.lesions.lesion_table` and
        :func:`~studylib.recist.lesions.baseline_problems` (``None`` without lesions).
    measurements
        Per-lesion diameters in the primary window (the spider plot's lines).
    timepoints
        The primary window's timepoints, baseline row first.
    bor
        Best overall response: a dict with ``bor``, ``date`` and ``reason``.
    crossover_start, crossover_timepoints, crossover_bor
        First IL-2 dose of cycle 3 and the crossover response (``None``/empty otherwise).
    local_control, local_summary
        Each irradiated lesion per scan, and per lesion (``None`` without one).
    """

    patient_id: str
    arm: str | None
    crossover: bool
    ruleset: str
    first_dose: pd.Timestamp
    cutoff_date: pd.Timestamp
    crossover_sbrt: pd.Timestamp
    lesions: pd.DataFrame | None
    problems: pd.DataFrame | None
    measurements: pd.DataFrame
    timepoints: pd.DataFrame
    bor: dict[str, Any]
    crossover_start: pd.Timestamp
    crossover_timepoints: pd.DataFrame
    crossover_bor: dict[str, Any] | None
    local_control: pd.DataFrame | None
    local_summary: pd.DataFrame | None


def _best(timepoints: pd.DataFrame, patient_id: str, reference, cutoff) -> dict[str, Any]:
    from studylib.recist.bor import best_overall_response, protocol_bor_options

    options = protocol_bor_options()
    responses = timepoints.loc[
        timepoints["overall_response"].notna(), ["patient_id", "date", "overall_response"]
    ].rename(columns={"overall_response": "response"})
    best = best_overall_response(
        responses,
        pd.Series({patient_id: reference}),
        confirm=False,
        sd_min_days=options["sd_min_days"],
        cutoff_dates=None if pd.isna(cutoff) else pd.Series({patient_id: cutoff}),
        pd_cutoff=True,
    ).iloc[0]
    return {"bor": best["bor"], "date": best["date"], "reason": best["reason"]}


def patient_response(
    cohort, patient_id: str, *, ruleset: str | Ruleset | None = None
) -> PatientResponse:
    """Every layer of the RECIST engine for one patient of a loaded trial folder.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort`.
    patient_id
        The patient (``KeyError`` naming similar ids when unknown).
    ruleset
        Default: the protocol's primary ruleset.

    Returns
    -------
    PatientResponse
    """
    rules = get_ruleset(ruleset or PROTOCOL.response.primary_ruleset)
    rows = cohort.patient(patient_id)
    lesions, assessments = rows["lesions"], rows["assessments"]
    randomization = rows["randomization"]
    arm = None if randomization.empty else str(randomization["arm"].iloc[0])
    crossover = not randomization.empty and bool(
        randomization["crossover"].fillna(False).astype(bool).iloc[0]
    )
    first_dose = cycle_starts(rows["dosing"], 1).get(patient_id, pd.NaT)
    crossover_sbrt = crossover_sbrt_starts(rows["dosing"], randomization)
    cutoff = primary_cutoffs({patient_id: first_dose}, crossover_sbrt).get(patient_id, pd.NaT)
    reference = first_dose
    if pd.isna(reference) and not randomization.empty:
        reference = pd.Timestamp(randomization["randomized_on"].iloc[0]).normalize()

    has_lesions = not lesions.empty and not assessments.empty
    table = lesion_table(lesions, assessments, ruleset=rules) if has_lesions else None
    problems = baseline_problems(lesions, assessments, ruleset=rules) if has_lesions else None
    if has_lesions and pd.notna(first_dose):
        timepoints = primary_response(
            lesions,
            assessments,
            {patient_id: first_dose},
            ruleset=rules,
            crossover_sbrt=crossover_sbrt,
            include_baseline=True,
        )
        window = assessments[assessments["date"] <= cutoff]
        measurements = lesion_measurements(lesions, window, ruleset=rules)
    else:
        timepoints = pd.DataFrame(columns=["patient_id", "date", "overall_response"])
        measurements = pd.DataFrame(columns=["patient_id", "lesion_id", "days_from_baseline"])
    bor = (
        _best(timepoints, patient_id, reference, cutoff)
        if pd.notna(reference)
        else {"bor": "MISSING", "date": pd.NaT, "reason": "never randomised: not in the analysis"}
    )

    crossover_start = cycle_starts(rows["dosing"], PROTOCOL.crossover.first_cycle).get(
        patient_id, pd.NaT
    )
    crossover_timepoints = pd.DataFrame(columns=timepoints.columns)
    crossover_bor = None
    if crossover and has_lesions and pd.notna(crossover_start):
        crossover_timepoints = crossover_response(
            lesions,
            assessments,
            {patient_id: crossover_start},
            ruleset=rules,
            include_baseline=True,
        )
        crossover_bor = _best(crossover_timepoints, patient_id, crossover_start, pd.NaT)

    irradiated = has_lesions and bool(lesions["irradiated"].fillna(False).any())
    per_scan = local_control(lesions, assessments, ruleset=rules) if irradiated else None
    return PatientResponse(
        patient_id=patient_id,
        arm=arm,
        crossover=crossover,
        ruleset=rules.name,
        first_dose=first_dose,
        cutoff_date=cutoff,
        crossover_sbrt=crossover_sbrt.get(patient_id, pd.NaT),
        lesions=table,
        problems=problems,
        measurements=measurements,
        timepoints=timepoints,
        bor=bor,
        crossover_start=crossover_start,
        crossover_timepoints=crossover_timepoints,
        crossover_bor=crossover_bor,
        local_control=per_scan,
        local_summary=None if per_scan is None else local_control_summary(per_scan),
    )
