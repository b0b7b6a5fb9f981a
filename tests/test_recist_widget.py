"""The RECIST calculator follows the protocol it is given: scans, rulesets and thresholds."""

from __future__ import annotations

import pytest

from studylib.widgets.recist import (
    DEMO_TARGETS,
    RecistCalculator,
    TargetLesion,
    demo_patient,
    timepoints,
)


def test_timepoints_are_the_protocols_scans(variant_protocol):
    assert [name for name, _ in timepoints()] == ["baseline", "week 7", "week 14", "week 21"]
    names = [name for name, _ in timepoints(variant_protocol)]
    assert names == ["baseline", "week 9", "week 16", "week 24", "week 30"]


def test_the_teaching_patient_fits_the_protocols_scans(variant_protocol):
    """Four scans after baseline: the last follow-up is repeated for the fourth."""
    targets, nontarget = demo_patient(variant_protocol)
    assert targets[0].diameters_mm == (
        *DEMO_TARGETS[0].diameters_mm,
        DEMO_TARGETS[0].diameters_mm[-1],
    )
    assert len(nontarget[2]) == 5
    assert demo_patient()[0] == DEMO_TARGETS


def test_calculator_uses_the_variant_rulesets_and_thresholds(variant_protocol):
    """-34.9% from baseline: SD under the variant's -35%, PR under the bundled -30%."""
    lesion = TargetLesion("T1", "lung", False, (100, 65.1, 65.1, 65.1, 65.1))
    calculator = RecistCalculator((lesion,), None, protocol=variant_protocol)
    assert calculator.result["visit"].tolist() == ["week 9", "week 16", "week 24", "week 30"]
    assert calculator.result["target_response"].tolist() == ["SD"] * 4
    assert set(calculator.ruleset.options) == set(variant_protocol.response.rulesets)
    bundled = RecistCalculator((TargetLesion("T1", "lung", False, (100, 65.1, 65.1, 65.1)),), None)
    assert bundled.result["target_response"].tolist() == ["PR"] * 3


def test_calculator_refuses_lesions_with_the_wrong_number_of_values(variant_protocol):
    lesion = TargetLesion("T1", "lung", False, (30, 20, 18, 19))
    with pytest.raises(ValueError, match="T1: expected one value per timepoint \\(5"):
        RecistCalculator((lesion,), None, protocol=variant_protocol)


def test_default_calculator_runs_under_the_variant(variant_protocol):
    calculator = RecistCalculator(protocol=variant_protocol)
    assert calculator.error == "" and len(calculator.result) == 4
