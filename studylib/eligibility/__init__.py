"""Eligibility screening for NCT01416831: every criterion, with units, reasons and quotes.

A coordinator screens a candidate and sees, criterion by criterion (INCL01-INCL06 and
EXCL01-EXCL13, in the registry's order), whether the patient qualifies and why, in the
protocol's own words. Every threshold comes from ``PROTOCOL.eligibility`` and
``PROTOCOL.sbrt`` (studylib/protocol.toml).

>>> from studylib.eligibility import screen
>>> result = screen({"patient_id": "X1", "wbc": "2,900/µL"})
>>> result.status
'ineligible'
>>> result.criterion("EXCL08").reason
'WBC 2.9 x10^9/L (reported as 2,900/µL) is below 3.0 x10^9/L.'
"""

from studylib.eligibility.engine import (
    RESULT_COLUMNS,
    CriterionResult,
    ScreeningResult,
    screen,
    screen_cohort,
    screen_patient,
)
from studylib.eligibility.foci import propose_sbrt_sites
from studylib.eligibility.log import ScreeningLog, patient_verdicts, screening_log
from studylib.eligibility.verdicts import CRITERION_STATUSES, PATIENT_STATUSES

__all__ = [
    "screen",
    "screen_cohort",
    "screen_patient",
    "ScreeningResult",
    "CriterionResult",
    "RESULT_COLUMNS",
    "propose_sbrt_sites",
    "patient_verdicts",
    "screening_log",
    "ScreeningLog",
    "CRITERION_STATUSES",
    "PATIENT_STATUSES",
]
