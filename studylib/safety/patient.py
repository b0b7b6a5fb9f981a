"""One patient's safety record: every dose slot judged, lab grades over time, adverse events.

What the per-patient notebook ``05_safety`` shows, gathered from a loaded trial folder under
the folder's own protocol (``Cohort.protocol``), for this patient's rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib.safety.delivery import dose_delivery
from studylib.safety.labs import lab_grades
from studylib.safety.slots import judge_slots

__all__ = ["PatientSafety", "patient_safety"]


@dataclass(frozen=True)
class PatientSafety:
    """A patient's safety record.

    Attributes
    ----------
    patient_id, arm
        The patient, and their arm code (``None`` when not randomised).
    slots
        :func:`studylib.safety.judge_slots` for this patient: each IL-2 dose slot, what was
        recorded, what the criteria say and why.
    grades
        :func:`studylib.safety.lab_grades` for this patient (and the weight-gain grades).
    events
        This patient's rows of ``adverse_events.csv``.
    cycles
        Doses given, held and stopped and the relative dose intensity per cycle
        (:func:`studylib.safety.dose_delivery`).
    protocol
        The protocol the criteria came from (trial and file).
    """

    patient_id: str
    arm: str | None
    slots: pd.DataFrame
    grades: pd.DataFrame
    events: pd.DataFrame
    cycles: pd.DataFrame
    protocol: str

    @property
    def disagreements(self) -> pd.DataFrame:
        """Slots where what was recorded is not what the criteria say."""
        return self.slots[self.slots["agrees"].eq(False).fillna(False).astype(bool)]


def patient_safety(cohort, patient_id: str) -> PatientSafety:
    """The safety record of ``patient_id`` in a loaded trial folder.

    Raises
    ------
    KeyError
        When the patient is not in ``screening.csv`` (naming ids that are).
    """
    rows = cohort.patient(patient_id)
    protocol = cohort.protocol
    randomized = rows["randomization"]
    arm = None if randomized.empty else str(randomized["arm"].iloc[0])
    slots = judge_slots(
        rows["dosing"], rows["vitals"], rows["labs"], rows["screening"], protocol=protocol
    )
    grades = lab_grades(rows["labs"], rows["screening"], rows["vitals"])
    cycles = dose_delivery(rows["dosing"], randomized, rows["screening"], protocol=protocol).cycles
    return PatientSafety(
        patient_id=patient_id,
        arm=arm,
        slots=slots,
        grades=grades,
        events=rows["adverse_events"],
        cycles=cycles,
        protocol=protocol.name,
    )
