"""RECIST 1.1 tumour response: lesions to timepoint responses to best overall response.

Four layers, each usable alone (see the submodules); the public names are re-exported here
and imported on first use. iRECIST (Seymour et al. 2017) is a response model on the same
layers: ``timepoint_responses(..., ruleset="irecist")`` and :func:`irecist_best_response`.
"""

from __future__ import annotations

from studylib._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "best_overall_response": "studylib.recist.bor",
    "objective_response": "studylib.recist.bor",
    "disease_control": "studylib.recist.bor",
    "protocol_bor_options": "studylib.recist.bor",
    "CrThenPrWarning": "studylib.recist.bor",
    "BOR_ORDER": "studylib.recist.bor",
    "timepoint_responses": "studylib.recist.timepoint",
    "irecist_timepoints": "studylib.recist.irecist",
    "irecist_best_response": "studylib.recist.irecist_bor",
    "overall_response": "studylib.recist.timepoint",
    "best_percent_change": "studylib.recist.timepoint",
    "baseline_problems": "studylib.recist.lesions",
    "lesion_table": "studylib.recist.lesions",
    "lesion_measurements": "studylib.recist.lesions",
    "primary_response": "studylib.recist.variants",
    "crossover_response": "studylib.recist.variants",
    "cycle_starts": "studylib.recist.variants",
    "crossover_sbrt_starts": "studylib.recist.variants",
    "local_control": "studylib.recist.local_control",
    "local_control_summary": "studylib.recist.local_control",
    "patient_response": "studylib.recist.patient",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
