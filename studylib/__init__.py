"""studylib: the study workbook of NCT01416831 (high-dose IL-2 with or without SBRT).

The public API is re-exported here and imported lazily, so that ``import studylib`` stays
cheap in every notebook kernel and command.
"""

from __future__ import annotations

from studylib._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # units and protocol
    "ureg": "studylib.units",
    "Q_": "studylib.units",
    "parse_quantity": "studylib.units",
    "convert": "studylib.units",
    "PROTOCOL": "studylib.protocol",
    "Protocol": "studylib.protocol",
    "load_protocol": "studylib.protocol",
    "protocol_for_folder": "studylib.protocol",
    # trial data
    "load_cohort": "studylib.data",
    "Cohort": "studylib.data",
    # the one family of errors
    "Problem": "studylib.errors",
    "StudylibError": "studylib.errors",
    "DataError": "studylib.errors",
    "ProtocolError": "studylib.errors",
    "ResponseError": "studylib.errors",
    "BatchError": "studylib.errors",
    "SynthError": "studylib.errors",
    # eligibility
    "screen": "studylib.eligibility",
    "screen_cohort": "studylib.eligibility",
    "screen_patient": "studylib.eligibility",
    "screening_log": "studylib.eligibility",
    "ScreeningResult": "studylib.eligibility",
    # schedule and dosing
    "plan_treatment": "studylib.schedule",
    "plan_crossover": "studylib.schedule",
    "crossover_start": "studylib.schedule",
    "plan_for_patient": "studylib.schedule",
    "protocol_rules": "studylib.schedule",
    "TreatmentPlan": "studylib.schedule",
    "il2_dose": "studylib.dosing",
    "iu_to_mg": "studylib.dosing",
    "review_dosing": "studylib.deviations",
    "plan_to_ics": "studylib.calendar_export",
    "plan_to_csv": "studylib.calendar_export",
    # tumour response
    "timepoint_responses": "studylib.recist",
    "overall_response": "studylib.recist",
    "best_overall_response": "studylib.recist",
    "irecist_best_response": "studylib.recist",
    "objective_response": "studylib.recist",
    "disease_control": "studylib.recist",
    # safety
    "grade_lab": "studylib.safety",
    "dose_decision": "studylib.safety",
    # cohort analysis
    "primary_endpoint": "studylib.analysis",
    "PrimaryEndpoint": "studylib.analysis",
    "analyse_cohort": "studylib.analysis",
    # CDISC datasets out
    "export_datasets": "studylib.export",
    # notebooks and batch
    "run_batch": "studylib.batch.runner",
    "record": "studylib.record",
    "check_parameters": "studylib.parameters",
    "ParameterError": "studylib.errors",
    "collect": "studylib.record",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
