"""One patient's tumour response, every layer at once, for the response notebook.

:func:`patient_response` gathers what a clinician reviews for one patient: the lesion table
(irradiated lesions marked), the baseline checks, each timepoint of the primary analysis window
with its sums, changes and responses, the best overall response with its reason, the crossover
response for an arm A patient who crossed over, and the local control of SBRT-treated lesions.
The rules live in the layers it calls, under the cohort's own protocol (``cohort.protocol``).
The best responses come from the same functions as the cohort analysis's
(:func:`~studylib.recist.variants.primary_best_response` and
:func:`~studylib.recist.variants.crossover_best_response`), so a patient's response here is
always the one the analysis counts:

- reference date of the best response: the first IL-2 dose (randomisation when never dosed);
- primary window: up to week ``primary_timepoint_week`` plus the window, and for a crossover
  patient no later than the first crossover SBRT fraction when
  ``[analysis].primary_excludes_crossover`` says so; crossover window from the first IL-2
  dose of the crossover course;
- best response options: the protocol's, unconfirmed (randomised trial,
  ``[response].reading``), with the cut-off at the first progression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from studylib.protocol import Ruleset
from studylib.recist.irecist import IRECIST
from studylib.recist.lesions import baseline_problems, lesion_measurements, lesion_table
from studylib.recist.local_control import local_control, local_control_summary
from studylib.recist.rulesets import get_ruleset
from studylib.recist.variants import crossover_best_response, primary_best_response

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
        primary window and ``[analysis].primary_excludes_crossover`` is true, the window ends
        that day.
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
        First IL-2 dose of the crossover course and the crossover response (``None``/empty
        otherwise).
    local_control, local_summary
        Each irradiated lesion per scan, and per lesion (``None`` without one).
    irecist_timepoints, irecist_bor
        The same window judged by iRECIST (:mod:`studylib.recist.irecist`, a sensitivity
        analysis): its timepoints, baseline row first, with the RECIST 1.1 response beside
        (``recist_response``), and the iRECIST best overall response (a dict like ``bor``);
        ``None`` when the protocol has no ``[response.irecist]`` or nothing is in the window.
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
    irecist_timepoints: pd.DataFrame | None = None
    irecist_bor: dict[str, Any] | None = None


#: The best response of a patient never randomised, who is not in any analysis.
_NOT_RANDOMISED = {
    "bor": "MISSING",
    "date": pd.NaT,
    "reason": "never randomised: not in the analysis",
}


def _no_measurements() -> pd.DataFrame:
    return pd.DataFrame(columns=["patient_id", "lesion_id", "days_from_baseline"])


def _chosen(patients: pd.DataFrame, patient_id: str) -> dict[str, Any]:
    row = patients.loc[patients["patient_id"] == patient_id].iloc[0]
    return {"bor": row["bor"], "date": row["date"], "reason": row["reason"]}


def patient_response(
    cohort, patient_id: str, *, ruleset: str | Ruleset | None = None
) -> PatientResponse:
    """Every layer of the RECIST engine for one patient of a loaded trial folder.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort`; its ``protocol`` gives every rule.
    patient_id
        The patient (``KeyError`` naming similar ids when unknown).
    ruleset
        Default: the protocol's primary ruleset.

    Returns
    -------
    PatientResponse
    """
    protocol = cohort.protocol
    rules = get_ruleset(ruleset or protocol.response.primary_ruleset, protocol)
    rows = cohort.patient(patient_id)
    lesions, assessments = rows["lesions"], rows["assessments"]
    randomization = rows["randomization"]
    has_lesions = not lesions.empty and not assessments.empty
    table = problems = per_scan = None
    if has_lesions:
        table = lesion_table(lesions, assessments, ruleset=rules, protocol=protocol)
        problems = baseline_problems(lesions, assessments, ruleset=rules, protocol=protocol)
        if bool(lesions["irradiated"].fillna(False).any()):
            per_scan = local_control(lesions, assessments, ruleset=rules, protocol=protocol)
    empty = pd.DataFrame(columns=["patient_id", "date", "overall_response"])
    if randomization.empty:
        return PatientResponse(
            patient_id=patient_id,
            arm=None,
            crossover=False,
            ruleset=rules.name,
            first_dose=pd.NaT,
            cutoff_date=pd.NaT,
            crossover_sbrt=pd.NaT,
            lesions=table,
            problems=problems,
            measurements=pd.DataFrame(columns=["patient_id", "lesion_id", "days_from_baseline"]),
            timepoints=empty,
            bor={
                "bor": "MISSING",
                "date": pd.NaT,
                "reason": "never randomised: not in the analysis",
            },
            crossover_start=pd.NaT,
            crossover_timepoints=empty,
            crossover_bor=None,
            local_control=per_scan,
            local_summary=None if per_scan is None else local_control_summary(per_scan),
        )

    frames = (randomization, rows["dosing"], lesions, assessments)
    options = {"ruleset": rules, "include_baseline": True, "protocol": protocol}
    primary = primary_best_response(*frames, **options)
    row = primary.patients.iloc[0]
    timepoints, cutoff = primary.responses, row["cutoff_date"]
    if has_lesions and pd.notna(row["first_il2_dose"]):
        window = assessments[assessments["date"] <= cutoff]
        measurements = lesion_measurements(lesions, window, ruleset=rules, protocol=protocol)
    else:
        timepoints = empty
        measurements = _no_measurements()

    crossover = crossover_best_response(*frames, **options) if has_lesions else None
    crossover_start = pd.NaT
    crossover_timepoints = pd.DataFrame(columns=timepoints.columns)
    crossover_bor = None
    if crossover is not None and not crossover.patients.empty:
        crossover_start = crossover.patients["crossover_start"].iloc[0]
        if pd.notna(crossover_start):
            crossover_timepoints = crossover.responses
            crossover_bor = _chosen(crossover.patients, patient_id)
    return PatientResponse(
        patient_id=patient_id,
        arm=str(row["arm"]),
        crossover=bool(row["crossover"]),
        ruleset=rules.name,
        first_dose=row["first_il2_dose"],
        cutoff_date=cutoff,
        crossover_sbrt=row["crossover_sbrt"],
        lesions=table,
        problems=problems,
        measurements=measurements,
        timepoints=timepoints,
        bor=_chosen(primary.patients, patient_id),
        crossover_start=crossover_start,
        crossover_timepoints=crossover_timepoints,
        crossover_bor=crossover_bor,
        local_control=per_scan,
        local_summary=None if per_scan is None else local_control_summary(per_scan),
        **_irecist(frames, options, has_lesions and not timepoints.empty, patient_id),
    )


def _irecist(frames, options, in_window: bool, patient_id: str) -> dict[str, Any]:
    """The primary window judged by iRECIST, when the protocol defines it."""
    if not in_window or options["protocol"].response.irecist is None:
        return {}
    judged = primary_best_response(*frames, **{**options, "ruleset": IRECIST})
    return {
        "irecist_timepoints": judged.responses,
        "irecist_bor": _chosen(judged.patients, patient_id),
    }
