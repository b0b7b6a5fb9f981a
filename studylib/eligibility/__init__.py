"""Eligibility screening: every criterion of a protocol file, with units, reasons and quotes.

A coordinator screens a candidate and sees, criterion by criterion (in the protocol file's
order: the registry's), whether the patient qualifies and why, in the protocol's own words.
The criteria (ids, labels, quotes) and every threshold come from the protocol given as
``protocol=`` (default: the bundled ``studylib/protocol.toml``; a trial folder's own file
through ``load_cohort(folder).protocol``); each criterion's ``rule`` names the evaluator that
judges it (:mod:`studylib.eligibility.registry`).

>>> from studylib.eligibility import screen
>>> result = screen({"patient_id": "X1", "wbc": "2,900/µL"})
>>> result.status
'ineligible'
>>> result.for_rule("wbc").reason
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
from studylib.eligibility.registry import evaluator, known_rules
from studylib.eligibility.verdicts import CRITERION_STATUSES, PATIENT_STATUSES, criterion_name

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
    "criterion_name",
    "evaluator",
    "known_rules",
]
