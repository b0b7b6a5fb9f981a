"""What every dataset builder reads: the cohort under its protocol, worked out once.

:func:`study_source` gathers the trial folder's tables, the protocol the folder follows
(``cohort.protocol``), the study identifiers, each patient's first and last treatment, the
reference day of the tumour assessments (first IL-2 dose), every scan's visit and the
timepoint responses of the whole follow-up (the primary ruleset, irradiated lesions handled as
``[response]`` says), so that SDTM RS and ADaM ADRS/ADTR agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from studylib.export.identifiers import StudyIdentifiers, study_identifiers
from studylib.export.visits import scan_visits

__all__ = ["StudySource", "study_source"]


@dataclass(frozen=True)
class StudySource:
    """The cohort and what the builders derive from it once.

    Attributes
    ----------
    cohort
        The loaded trial folder (:func:`studylib.data.load_cohort`).
    protocol
        ``cohort.protocol``: every trial-specific term comes from it.
    ids
        STUDYID, SITEID, COUNTRY and USUBJID.
    first_dose, last_dose
        First and last study treatment given (SBRT or IL-2), date-times by patient.
    reference
        Day of the first IL-2 dose by patient (``[assessments].reference``).
    visits
        ``patient_id, date, visit, visitnum`` of every scan (:mod:`.visits`).
    responses
        Timepoint responses of every scan after each patient's baseline, with the baseline
        rows (``include_baseline``), from :func:`studylib.recist.timepoint_responses`.
    """

    cohort: object
    protocol: object
    ids: StudyIdentifiers
    first_dose: pd.Series
    last_dose: pd.Series
    reference: pd.Series
    visits: pd.DataFrame
    responses: pd.DataFrame

    def usubjid(self, patient_id):
        return self.ids.usubjid(patient_id)

    def has_form(self, name: str) -> bool:
        """Whether the trial folder holds the optional form ``name`` (a file, or rows)."""
        frame = getattr(self.cohort, name, None)
        if frame is None:
            return False
        path = getattr(self.cohort, "path", None)
        on_disk = path is not None and (Path(path) / f"{name}.csv").is_file()
        return on_disk or len(frame) > 0

    def visit_of(self, patient_id: pd.Series, date: pd.Series) -> pd.DataFrame:
        """``visit`` and ``visitnum`` of each (patient, date); empty where no scan was dated."""
        key = pd.DataFrame({"patient_id": patient_id.to_numpy(), "date": date.to_numpy()})
        key["date"] = pd.to_datetime(key["date"]).dt.normalize()
        found = key.merge(self.visits, on=["patient_id", "date"], how="left")
        return found[["visit", "visitnum"]].set_index(patient_id.index)


def study_source(cohort) -> StudySource:
    """Everything the dataset builders share, from a loaded trial folder."""
    from studylib.recist import timepoint_responses
    from studylib.recist.variants import cycle_starts

    protocol = cohort.protocol
    given = cohort.dosing[cohort.dosing["status"] == "given"]
    moments = given.groupby("patient_id")["given_at"]
    reference = cycle_starts(cohort.dosing, 1)
    rules = protocol.response
    responses = timepoint_responses(
        cohort.lesions,
        cohort.assessments,
        ruleset=rules.ruleset(rules.primary_ruleset),
        exclude_irradiated=rules.exclude_irradiated,
        include_baseline=True,
        protocol=protocol,
    )
    return StudySource(
        cohort=cohort,
        protocol=protocol,
        ids=study_identifiers(protocol),
        first_dose=moments.min(),
        last_dose=moments.max(),
        reference=reference,
        visits=scan_visits(cohort.assessments, reference, protocol),
        responses=responses,
    )
