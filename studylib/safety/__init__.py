"""Safety of high-dose IL-2: CTCAE v5.0 grades and give / hold / stop for the next dose.

- :func:`grade_lab`: the CTCAE v5.0 grade of a laboratory value in any unit, with the reason
  in CTCAE's words; the grade limits are the table ``ctcae_v5.toml`` (:data:`CTCAE`).
- :func:`dose_decision`: whether the next IL-2 dose is given, held or stopped, from the
  observations of the last shift, by the criteria of the protocol's ``[safety]`` section (the
  Proleukin label and the 2014 consensus: not from the registry).
- :func:`judge_slots`, :func:`lab_grades`: every dose slot of a trial folder with its decision,
  every laboratory value with its grade.
- :func:`dose_delivery`: doses given per cycle and course by arm, relative dose intensity and
  hold reasons; :func:`adverse_event_tables`: adverse events by arm as ClinicalTrials.gov
  results report them.

>>> grade_lab("hemoglobin", "95 g/L", lln="12 g/dL").grade
2
"""

from studylib.safety.ctcae import CTCAE, CTCAETable, Term
from studylib.safety.decision import ACTIONS, DoseDecision, Finding, dose_decision, dose_decisions
from studylib.safety.delivery import DoseDelivery, dose_delivery
from studylib.safety.events import AdverseEventTables, adverse_event_tables, as_counts
from studylib.safety.grading import LabGrade, grade_lab, grade_values
from studylib.safety.labs import lab_grades
from studylib.safety.slots import judge_slots

__all__ = [
    "CTCAE",
    "CTCAETable",
    "Term",
    "LabGrade",
    "grade_lab",
    "grade_values",
    "ACTIONS",
    "DoseDecision",
    "Finding",
    "dose_decision",
    "dose_decisions",
    "DoseDelivery",
    "dose_delivery",
    "AdverseEventTables",
    "adverse_event_tables",
    "as_counts",
    "lab_grades",
    "judge_slots",
]
