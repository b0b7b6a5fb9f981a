"""One patient's response view on the bundled synthetic cohort, consistent with the analysis."""

from __future__ import annotations

import pandas as pd
import pytest

from studylib.data import load_cohort
from studylib.recist.patient import patient_response


@pytest.fixture(scope="module")
def cohort(data_dir):
    return load_cohort(data_dir)


@pytest.fixture(scope="module")
def analysis(cohort):
    from studylib.analysis.endpoints import crossover_endpoint, primary_endpoint

    return (
        primary_endpoint(cohort).patients.set_index("patient_id"),
        crossover_endpoint(cohort).patients.set_index("patient_id"),
    )


def test_arm_b_patient_has_sbrt_lesions_out_of_the_response_and_in_local_control(cohort):
    """P001 (arm B): irradiated lesions marked, not counted, followed as local control."""
    r = patient_response(cohort, "P001")
    assert r.arm == "B" and not r.crossover
    irradiated = r.lesions[r.lesions["irradiated"]]
    assert len(irradiated) > 0 and not irradiated["in_response"].any()
    assert set(r.local_summary["lesion_id"]) == set(irradiated["lesion_id"])
    assert r.timepoints["overall_response"].iloc[0] is None  # the baseline row
    assert (r.timepoints["date"] <= r.cutoff_date).all()


@pytest.mark.parametrize("patient_id", ["P001", "P003", "P004", "P012", "P042"])
def test_best_response_is_the_one_the_cohort_analysis_counts(cohort, analysis, patient_id):
    """The notebook's best response and date are those of the primary endpoint."""
    primary, crossover = analysis
    r = patient_response(cohort, patient_id)
    assert r.bor["bor"] == primary.loc[patient_id, "bor"]
    assert r.bor["date"] == primary.loc[patient_id, "date"]
    if patient_id in crossover.index:
        assert r.crossover_bor["bor"] == crossover.loc[patient_id, "bor"]


def test_crossover_patient_has_both_responses(cohort):
    """P004 crossed over: primary response from the first course, crossover from a new baseline."""
    r = patient_response(cohort, "P004")
    assert r.crossover and pd.notna(r.crossover_start)
    assert r.crossover_timepoints["baseline_date"].iloc[0] > r.timepoints["date"].iloc[0]
    assert r.crossover_timepoints["baseline_date"].iloc[0] <= r.crossover_start
    assert r.crossover_bor is not None


def test_patient_never_randomised_has_no_response(cohort):
    """A screen failure gets MISSING with the reason, and no tables."""
    r = patient_response(cohort, "P002")
    assert r.arm is None and r.lesions is None
    assert r.bor["bor"] == "MISSING"
    assert r.timepoints.empty and r.local_summary is None


def test_unknown_patient_is_a_clear_error(cohort):
    """An id that is not in the trial folder raises KeyError naming it."""
    with pytest.raises(KeyError, match="P999"):
        patient_response(cohort, "P999")
