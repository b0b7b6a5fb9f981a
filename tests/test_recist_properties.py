"""Properties of the timepoint engine over generated patients (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from recist_frames import Patient, frames

from studylib.recist.timepoint import timepoint_responses

SETTINGS = settings(max_examples=40, deadline=None)

baseline_size = st.floats(10, 100, allow_nan=False).map(lambda x: round(x, 1))
follow_size = st.one_of(
    st.floats(0, 150, allow_nan=False).map(lambda x: round(x, 1)),
    st.just("too_small"),
    st.just(None),
)
nontarget_state = st.sampled_from(["present", "absent", None])
any_nontarget_state = st.sampled_from(["present", "absent", "unequivocal_progression", None])


@st.composite
def patients(draw, patient_id="P001", nontarget=any_nontarget_state, min_visits=1):
    """A patient with 1-4 targets, 0-2 non-targets and 1-4 follow-up scans."""
    p = Patient(patient_id)
    n_targets = draw(st.integers(1, 4))
    n_nontargets = draw(st.integers(0, 2))
    for n in range(n_targets):
        p.lesion(f"T{n}", nodal=draw(st.booleans()))
    for n in range(n_nontargets):
        p.lesion(f"NT{n}", "non_target")
    p.scan(
        0,
        **{f"T{n}": draw(baseline_size) + 5 for n in range(n_targets)},
        **{f"NT{n}": "present" for n in range(n_nontargets)},
    )
    for visit in range(1, draw(st.integers(min_visits, 4)) + 1):
        p.scan(
            42 * visit,
            **{f"T{n}": draw(follow_size) for n in range(n_targets)},
            **{f"NT{n}": draw(nontarget) for n in range(n_nontargets)},
        )
    return p


@SETTINGS
@given(patients(), st.data())
def test_a_new_unequivocal_lesion_always_gives_pd(patient, data):
    """Adding an unequivocal new lesion makes that timepoint PD and changes no other one."""
    before = timepoint_responses(*frames(patient))
    visit = data.draw(st.integers(1, len(before)))
    patient.lesion("NEW1", "new").scan(42 * visit, NEW1="unequivocal")
    after = timepoint_responses(*frames(patient))
    assert after["overall_response"].iloc[visit - 1] == "PD"
    others = np.arange(len(after)) != visit - 1
    assert after["overall_response"][others].tolist() == before["overall_response"][others].tolist()


def _sizes(patient: Patient, on_day: int) -> dict[str, float | None]:
    """Each target's size at a scan, with too small to measure as the 5 mm default."""
    start = patient.rows[0]["date"]
    found = {}
    for row in patient.rows:
        if (row["date"] - start).days == on_day and row["lesion_id"].startswith("T"):
            too_small = row["state"] == "too_small" and row["diameter_mm"] is None
            found[row["lesion_id"]] = 5.0 if too_small else row["diameter_mm"]
    return found


@SETTINGS
@given(patients(nontarget=nontarget_state), st.data())
def test_no_lesion_larger_than_at_the_nadir_is_never_pd(patient, data):
    """No target larger than at the nadir, no new lesion, no non-target progression: not PD."""
    targets = [x["lesion_id"] for x in patient.lesions if x["role"] == "target"]
    days = sorted({(r["date"] - patient.rows[0]["date"]).days for r in patient.rows})
    complete = {}
    for on_day in days:
        sizes = _sizes(patient, on_day)
        if all(sizes.get(t) is not None for t in targets):
            complete[on_day] = sizes
    nadir_day = min(complete, key=lambda d: (sum(complete[d].values()), d))
    last = days[-1] + 42
    shrink = {t: data.draw(st.floats(0, 1)) for t in targets}
    patient.scan(last, **{t: round(complete[nadir_day][t] * shrink[t], 1) for t in targets})
    out = timepoint_responses(*frames(patient))
    assert out["target_response"].iloc[-1] != "PD"
    assert out["overall_response"].iloc[-1] != "PD"


@SETTINGS
@given(patients(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_row_order(patient, random):
    """Shuffling the rows of both tables gives the same responses."""
    lesions, assessments = frames(patient)
    expected = timepoint_responses(lesions, assessments)
    lesion_order = list(lesions.index)
    row_order = list(assessments.index)
    random.shuffle(lesion_order)
    random.shuffle(row_order)
    shuffled = timepoint_responses(lesions.loc[lesion_order], assessments.loc[row_order])
    pd.testing.assert_frame_equal(shuffled, expected)


@SETTINGS
@given(patients("P001"), patients("P002"))
def test_a_patients_result_does_not_depend_on_other_patients(first, second):
    """A patient's rows are the same alone and within a cohort."""
    alone = timepoint_responses(*frames(first))
    together = timepoint_responses(*frames(first, second))
    mine = together[together["patient_id"] == "P001"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone)
