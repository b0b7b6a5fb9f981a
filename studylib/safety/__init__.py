"""Safety of high-dose IL-2: CTCAE v5.0 grades and give / hold / stop for the next dose.

- :func:`grade_lab`: the CTCAE v5.0 grade of a laboratory value in any unit, with the reason
  in CTCAE's words; the grade limits are the table ``ctcae_v5.toml`` (:data:`CTCAE`).
- :func:`dose_decision`: whether the next IL-2 dose is given, held or stopped, from the
  observations of the last shift, by the criteria of the protocol's ``[safety]`` section (the
  Proleukin label and the 2014 consensus: not from the registry).

>>> grade_lab("hemoglobin", "95 g/L", lln="12 g/dL").grade
2
"""

from studylib.safety.ctcae import CTCAE, CTCAETable, Term
from studylib.safety.decision import ACTIONS, DoseDecision, Finding, dose_decision, dose_decisions
from studylib.safety.grading import LabGrade, grade_lab, grade_values

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
]
