"""Cohort analysis of the trial: endpoints, survival, participant flow, publication.

One module per concept (public names re-exported here and imported on first use):

- :mod:`~studylib.analysis.arms`: the arms compared (experimental, comparator), from the protocol.
- :mod:`~studylib.analysis.rates`: response rates with exact intervals, Fisher's exact test.
- :mod:`~studylib.analysis.endpoints`: primary endpoint (end of cycle 2) and crossover response.
- :mod:`~studylib.analysis.survival`: progression-free and overall survival by arm.
- :mod:`~studylib.analysis.irecist`: iRECIST best response and iPFS by arm, a sensitivity
  analysis beside the primary endpoint.
- :mod:`~studylib.analysis.flow`: CONSORT participant flow.
- :mod:`~studylib.analysis.courses`: each patient's course (swimmer and spider plots).
- :mod:`~studylib.analysis.publication`: the published figures with their source marks.
- :mod:`~studylib.analysis.report`: the whole analysis in one call, the registry-style results
  table and the comparison with the publication.

The engines are pure: they take a loaded trial folder (:func:`studylib.data.load_cohort`),
whose ``protocol`` they follow, or its frames with ``protocol=``, and return tables; figures
are in :mod:`studylib.plots.cohort`.
"""

from __future__ import annotations

from studylib._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ComparedArms": "studylib.analysis.arms",
    "compared_arms": "studylib.analysis.arms",
    "arm_label": "studylib.analysis.arms",
    "Rate": "studylib.analysis.rates",
    "RateComparison": "studylib.analysis.rates",
    "response_rate": "studylib.analysis.rates",
    "compare_rates": "studylib.analysis.rates",
    "CATEGORIES": "studylib.analysis.endpoints",
    "PrimaryEndpoint": "studylib.analysis.endpoints",
    "CrossoverEndpoint": "studylib.analysis.endpoints",
    "primary_endpoint": "studylib.analysis.endpoints",
    "crossover_endpoint": "studylib.analysis.endpoints",
    "count_by_arm": "studylib.analysis.endpoints",
    "SurvivalAnalysis": "studylib.analysis.survival",
    "survival_times": "studylib.analysis.survival",
    "survival_by_arm": "studylib.analysis.survival",
    "IRecistSensitivity": "studylib.analysis.irecist",
    "irecist_sensitivity": "studylib.analysis.irecist",
    "irecist_pfs": "studylib.analysis.irecist",
    "ParticipantFlow": "studylib.analysis.flow",
    "participant_flow": "studylib.analysis.flow",
    "patient_courses": "studylib.analysis.courses",
    "response_course": "studylib.analysis.courses",
    "PUBLISHED": "studylib.analysis.publication",
    "published": "studylib.analysis.publication",
    "compare_with_publication": "studylib.analysis.publication",
    "CohortAnalysis": "studylib.analysis.report",
    "alternative_text": "studylib.analysis.report",
    "analyse_cohort": "studylib.analysis.report",
    "analysis_settings": "studylib.analysis.report",
    "registry_results": "studylib.analysis.report",
    "workbook_figures": "studylib.analysis.report",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
