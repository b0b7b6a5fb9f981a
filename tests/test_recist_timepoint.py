"""Layer 2: sums, nadir, target/non-target/new-lesion responses and Tables 1 and 2."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from recist_frames import Patient, day, frames

from studylib.recist.timepoint import (
    NEW_LESION_CODES,
    NONTARGET_CODES,
    TARGET_CODES,
    best_percent_change,
    overall_response,
    timepoint_responses,
)

DESIGN_COLUMNS = [
    "patient_id",
    "date",
    "sum_mm",
    "baseline_sum_mm",
    "nadir_sum_mm",
    "pct_change_baseline",
    "pct_change_nadir",
    "target_response",
    "nontarget_response",
    "new_lesions",
    "overall_response",
]


def run(*patients: Patient, **options) -> pd.DataFrame:
    return timepoint_responses(*frames(*patients), **options)


def responses(*patients: Patient, column="target_response", **options) -> list[str]:
    return run(*patients, **options)[column].tolist()


# --- contract -------------------------------------------------------------------------------


def test_columns_start_with_the_design_contract():
    """The output has the contract's columns first, in order, then the extra ones."""
    out = run(Patient().targets(50).follow(49, 40))
    assert out.columns[: len(DESIGN_COLUMNS)].tolist() == DESIGN_COLUMNS
    assert {"baseline_date", "targets_measured", "targets_expected", "reason"} <= set(out.columns)


def test_one_row_per_follow_up_timepoint_sorted_by_patient_and_date():
    """Baseline rows are left out; rows are sorted whatever the input order."""
    a = Patient("P002").targets(50).follow(98, 40).follow(49, 45)
    b = Patient("P001").targets(30).follow(49, 30)
    out = run(a, b)
    assert out[["patient_id", "date"]].values.tolist() == [
        ["P001", day(49)],
        ["P002", day(49)],
        ["P002", day(98)],
    ]


def test_include_baseline_adds_the_baseline_row_without_a_response():
    """With include_baseline the baseline sum is shown, with no response."""
    out = run(Patient().targets(30, 20).follow(49, 20, 10), include_baseline=True)
    assert out["sum_mm"].tolist() == [50.0, 30.0]
    assert out["overall_response"].tolist()[0] is None
    assert out["reason"].iloc[0] == "baseline: sum 50.0 mm"


@pytest.mark.parametrize("keep_lesions", [True, False])
def test_no_assessment_gives_an_empty_table_with_the_contract_columns(keep_lesions):
    """No scan at all (lesions listed or not) is an empty result, not an error."""
    lesions, assessments = frames(Patient().targets(50).follow(49, 40))
    lesions = lesions if keep_lesions else lesions.iloc[:0]
    out = timepoint_responses(lesions, assessments.iloc[:0], include_baseline=True)
    assert out.empty
    assert out.columns[: len(DESIGN_COLUMNS)].tolist() == DESIGN_COLUMNS
    assert out["reason"].dtype == object


# --- sums and nadir -------------------------------------------------------------------------


def test_sum_uses_the_diameters_given_and_the_baseline_and_changes():
    """Sum of diameters, its baseline, change in mm and percent."""
    out = run(Patient().targets(30, 20, nodal=(2,)).follow(49, 24, 16)).iloc[0]
    assert out["sum_mm"] == 40.0
    assert out["baseline_sum_mm"] == 50.0
    assert out["change_baseline_mm"] == -10.0
    assert out["pct_change_baseline"] == pytest.approx(-20.0)


def test_nadir_is_the_smallest_earlier_complete_sum_including_baseline():
    """The nadir at each timepoint is the minimum over earlier complete sums, baseline included."""
    p = Patient().targets(100).follow(49, 80).follow(98, 60).follow(147, 75)
    out = run(p)
    assert out["nadir_sum_mm"].tolist() == [100.0, 80.0, 60.0]
    assert out["pct_change_nadir"].iloc[2] == pytest.approx(25.0)


def test_nadir_ignores_timepoints_with_a_target_not_evaluated():
    """An incomplete timepoint's partial sum never becomes the nadir."""
    p = Patient().targets(50, 50).follow(49, 20).follow(98, 30, 30)
    out = run(p)
    assert out["target_response"].tolist() == ["NE", "PR"]
    assert out["nadir_sum_mm"].iloc[1] == 100.0


def test_pct_change_from_a_zero_nadir_is_missing():
    """Percent change from a 0 mm nadir is undefined, so it is missing."""
    out = run(Patient().targets(20).follow(49, 0).follow(98, 5))
    assert np.isnan(out["pct_change_nadir"].iloc[1])
    assert out["change_nadir_mm"].iloc[1] == 5.0


# --- target response at its thresholds -----------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "follow_up", "expected"),
    [
        (100, 70, "PR"),  # exactly -30%: PR (inclusive)
        (100, 70.1, "SD"),  # -29.9%
        (30, 21, "PR"),  # -30% that floating point does not represent exactly
        (20.37, 14.259, "PR"),  # -30% with awkward decimals
    ],
)
def test_partial_response_at_minus_30_percent_inclusive(baseline, follow_up, expected):
    """PR at a 30% decrease from baseline, inclusive."""
    assert responses(Patient().targets(baseline).follow(49, follow_up)) == [expected]


@pytest.mark.parametrize(
    ("nadir", "follow_up", "expected"),
    [
        (25, 30, "PD"),  # +20% and +5 mm exactly
        (24.5, 29.4, "SD"),  # +20% with 4.9 mm
        (50, 55, "SD"),  # +5 mm with only +10%
        (26, 31, "SD"),  # +5 mm, +19.2%
        (21, 25.2, "SD"),  # +20% with 4.2 mm (pyrecist example)
        (30, 36, "PD"),  # +20% and +6 mm
    ],
)
def test_progression_needs_20_percent_and_5_mm_over_the_nadir(nadir, follow_up, expected):
    """PD at +20% and at least 5 mm over the nadir; +20% with 4.9 mm is not PD."""
    assert responses(Patient().targets(nadir).follow(49, follow_up)) == [expected]


@pytest.mark.parametrize(("after_zero", "expected"), [(5, "PD"), (4.9, "PR"), (0, "CR")])
def test_progression_from_a_zero_nadir_uses_the_5_mm_rule(after_zero, expected):
    """From a 0 mm nadir, a rise of 5 mm is PD and one of 4.9 mm is not."""
    p = Patient().targets(10, 10).follow(49, 0, 0).follow(98, after_zero, 0)
    assert responses(p)[1] == expected


def test_progression_is_measured_from_the_nadir_not_the_baseline():
    """A sum still 25% below baseline is PD when it is 25% and 15 mm above the nadir."""
    p = Patient().targets(100).follow(49, 60).follow(98, 75)
    assert responses(p) == ["PR", "PD"]


@pytest.mark.parametrize(("node", "expected"), [(9.9, "CR"), (10, "PR")])
def test_complete_response_allows_nodes_below_10_mm(node, expected):
    """CR when non-nodal targets are 0 mm and nodes are < 10 mm, so the sum can be above 0."""
    p = Patient().targets(30, 20, nodal=(2,)).follow(49, 0, node)
    out = run(p).iloc[0]
    assert out["target_response"] == expected
    assert out["sum_mm"] == node


def test_a_lesion_not_evaluated_gives_ne():
    """A target without a measurement makes the timepoint NE (missing row or empty value)."""
    missing_row = Patient("P001").targets(20, 20).follow(49, 18)
    empty_value = Patient("P002").targets(20, 20).follow(49, 18, None)
    assert responses(missing_row, empty_value) == ["NE", "NE"]


def test_a_lesion_not_evaluated_still_gives_pd_when_the_others_show_it():
    """PD is called from the measured targets when they already exceed the PD threshold."""
    p = Patient().targets(20, 20).follow(49, 50)
    out = run(p).iloc[0]
    assert out["target_response"] == "PD"
    assert out["targets_measured"] == 1 and out["targets_expected"] == 2


def test_too_small_to_measure_counts_as_the_ruleset_default():
    """'too_small' adds the ruleset's 5 mm; a measured value, even smaller, wins."""
    p = Patient().targets(20, 20).follow(49, "too_small", 10).follow(98, (3, "too_small"), 10)
    out = run(p)
    assert out["sum_mm"].tolist() == [15.0, 13.0]


def test_too_small_is_not_a_complete_response():
    """A lesion too small to measure is still present: not CR."""
    assert responses(Patient().targets(20).follow(49, "too_small")) == ["PR"]


def test_missing_baseline_measurement_makes_every_timepoint_ne():
    """Without a complete baseline sum nothing can be compared: NE."""
    p = Patient().targets(20, None).follow(49, 10, 10)
    assert responses(p) == ["NE"]


# --- non-target and new lesions -------------------------------------------------------------


def nontarget_patient(*states, nodal=False, target=True) -> Patient:
    p = Patient()
    if target:
        p.lesion("T1")
    p.lesion("NT1", "non_target", nodal=nodal)
    p.scan(0, **({"T1": 30} if target else {}), NT1="present")
    for number, state in enumerate(states, start=1):
        p.scan(49 * number, **({"T1": 30} if target else {}), NT1=state)
    return p


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("present", "NON-CR/NON-PD"),
        ("absent", "CR"),
        ("unequivocal_progression", "PD"),
        (None, "NE"),
    ],
)
def test_nontarget_response_from_lesion_states(state, expected):
    """Non-target: absent is CR, present NON-CR/NON-PD, unequivocal progression PD, empty NE."""
    assert responses(nontarget_patient(state), column="nontarget_response") == [expected]


@pytest.mark.parametrize(("size", "expected"), [(9.9, "CR"), (10, "NON-CR/NON-PD")])
def test_nontarget_node_below_10_mm_counts_as_gone(size, expected):
    """A non-target node under 10 mm short axis is normal, so it does not prevent CR."""
    p = nontarget_patient((size, "present"), nodal=True)
    assert responses(p, column="nontarget_response") == [expected]


def test_patient_without_nontarget_lesions_has_nd_nontarget_response():
    """No non-target lesion at baseline: non-target ND, and Table 1 treats it as nothing left."""
    out = run(Patient().targets(20).follow(49, 0)).iloc[0]
    assert out["nontarget_response"] == "ND"
    assert out["overall_response"] == "CR"


def test_nontarget_only_patient_uses_table_2():
    """With non-target disease only, the overall response is NON-CR/NON-PD, not SD."""
    out = run(nontarget_patient("present", target=False)).iloc[0]
    assert out["target_response"] == "ND"
    assert out["overall_response"] == "NON-CR/NON-PD"


def new_lesion_patient(*states, nodal=False, backdate=True) -> pd.DataFrame:
    p = Patient().targets(30).lesion("N1", "new", nodal=nodal)
    for number, state in enumerate(states, start=1):
        values = {} if state is None else {"N1": state}
        p.follow(49 * number, 25, **values)
    return run(p, backdate_new_lesions=backdate)


def test_unequivocal_new_lesion_is_progression():
    """An unequivocal new lesion makes the timepoint PD whatever the targets do."""
    out = new_lesion_patient("unequivocal").iloc[0]
    assert (out["target_response"], out["new_lesions"], out["overall_response"]) == (
        "SD",
        "unequivocal",
        "PD",
    )


def test_equivocal_new_lesion_is_not_progression():
    """An equivocal new lesion never confirmed is not PD."""
    out = new_lesion_patient("equivocal", None)
    assert out["new_lesions"].tolist() == ["equivocal", "none"]
    assert out["overall_response"].tolist() == ["SD", "SD"]


def test_equivocal_new_lesion_confirmed_later_dates_progression_at_its_first_scan():
    """RECIST 1.1 §4.3.2: once confirmed, PD is dated at the scan that first showed it."""
    backdated = new_lesion_patient("equivocal", "unequivocal")
    assert backdated["overall_response"].tolist() == ["PD", "PD"]
    assert "confirmed at a later scan" in backdated["reason"].iloc[0]
    plain = new_lesion_patient("equivocal", "unequivocal", backdate=False)
    assert plain["overall_response"].tolist() == ["SD", "PD"]


@pytest.mark.parametrize(("size", "expected"), [(9.9, "none"), (10, "unequivocal")])
def test_new_node_is_a_lesion_only_from_10_mm(size, expected):
    """A new lymph node under 10 mm short axis is not a new lesion."""
    out = new_lesion_patient((size, "unequivocal"), nodal=True)
    assert out["new_lesions"].tolist() == [expected]


# --- overall response (Tables 1 and 2) -----------------------------------------------------


def table_1_and_2(target: str, nontarget: str, new: str) -> str:
    """RECIST 1.1 Tables 1 and 2 written out row by row, as printed in the guideline."""
    if new == "unequivocal" or "PD" in (target, nontarget):
        return "PD"
    if target == "ND":
        return {"CR": "CR", "NON-CR/NON-PD": "NON-CR/NON-PD", "NE": "NE", "ND": "ND"}[nontarget]
    if target == "CR":
        return "CR" if nontarget in ("CR", "ND") else "PR"
    return {"PR": "PR", "SD": "SD", "NE": "NE"}[target]


ALL_TRIPLES = list(itertools.product(TARGET_CODES, NONTARGET_CODES, NEW_LESION_CODES))


@pytest.mark.parametrize(("target", "nontarget", "new"), ALL_TRIPLES)
def test_overall_response_follows_tables_1_and_2(target, nontarget, new):
    """Every combination of target, non-target and new-lesion codes, as the tables print them."""
    assert overall_response(target, nontarget, new) == table_1_and_2(target, nontarget, new)


def test_overall_response_takes_series_and_broadcasts_scalars():
    """Series align on their index; scalars apply to every row; codes ignore case."""
    target = pd.Series(["cr", "PR", "SD"], index=[10, 11, 12])
    out = overall_response(target, "NE", pd.Series([False, "N", "yes"], index=[10, 11, 12]))
    assert out.tolist() == ["PR", "PR", "PD"]
    assert out.index.tolist() == [10, 11, 12]


def test_overall_response_rejects_unknown_codes_listing_them():
    """Unknown or missing codes raise ValueError naming each of them."""
    with pytest.raises(ValueError) as error:
        overall_response(pd.Series(["iCR", "XX", "CR"]), "CR", "none")
    assert "'iCR'" in str(error.value) and "'XX'" in str(error.value)
    with pytest.raises(ValueError, match="non-target"):
        overall_response("CR", "SD", "none")
    with pytest.raises(ValueError, match="new lesion"):
        overall_response("CR", "CR", None)


# --- irradiated lesions ---------------------------------------------------------------------


def irradiated_patient(irradiated_on=None) -> Patient:
    p = Patient().lesion("T1").lesion("T2", irradiated=True, irradiated_on=irradiated_on)
    return p.follow(0, 30, 30).follow(49, 20, 60).follow(98, 20, 10).follow(147, 80)


def test_irradiated_lesion_is_excluded_from_the_response():
    """A lesion irradiated before the first follow-up is left out (its growth is not PD)."""
    out = run(irradiated_patient())
    assert out["baseline_sum_mm"].tolist() == [30.0, 30.0, 30.0]
    assert out["target_response"].tolist() == ["PR", "PR", "PD"]
    included = run(irradiated_patient(), exclude_irradiated=False)
    assert included["baseline_sum_mm"].tolist() == [60.0, 60.0, 60.0]
    assert included["target_response"].tolist() == ["PD", "PR", "PD"]


def test_lesion_irradiated_on_study_is_not_evaluable_from_that_date():
    """A lesion irradiated after the first follow-up makes later timepoints NE, unless PD."""
    out = run(irradiated_patient(irradiated_on=60))
    assert out["target_response"].tolist() == ["PD", "NE", "PD"]


def test_scan_of_irradiated_lesions_only_has_nothing_to_assess():
    """A patient whose only lesions were irradiated gets ND timepoints (nothing to assess)."""
    p = Patient().lesion("T1", irradiated=True).follow(0, 30).follow(49, 20)
    out = run(p).iloc[0]
    assert (out["target_response"], out["overall_response"]) == ("ND", "ND")


# --- rulesets and options -------------------------------------------------------------------


def test_recist_1_0_needs_no_5_mm_increase():
    """RECIST 1.0: +20% over the nadir is PD without the 5 mm minimum."""
    p = Patient().targets(20).follow(49, 24)
    assert responses(p) == ["SD"]
    assert responses(p, ruleset="recist1.0") == ["PD"]


def test_protocol_ruleset_measures_progression_from_baseline():
    """The registry wording: PD from the baseline sum, so a rise from the nadir is not PD."""
    p = Patient().targets(100).follow(49, 50).follow(98, 65)
    assert responses(p) == ["PR", "PD"]
    assert responses(p, ruleset="protocol") == ["PR", "PR"]


@pytest.mark.parametrize(
    ("baseline", "size", "expected"),
    [(100, 120, "PD"), (100, 119.9, "SD"), (25, 30, "PD"), (25, 29.9, "SD"), (20, 24, "SD")],
)
def test_protocol_ruleset_progression_threshold_is_on_the_baseline_sum(baseline, size, expected):
    """'protocol': PD at +20% *and* +5 mm over the baseline sum, inclusive, whatever the nadir."""
    p = Patient().targets(baseline).follow(49, baseline / 2).follow(98, size)
    assert responses(p, ruleset="protocol")[-1] == expected
    assert responses(p)[-1] == "PD"


def test_protocol_ruleset_needs_a_negative_pet_for_complete_response():
    """Under 'protocol', CR on CT without a negative PET is not CR."""
    no_pet = Patient("P001").targets(20).follow(49, 0)
    negative = Patient("P002").targets(20).scan(49, method="PET", pet_avid=False, T1=0)
    avid = Patient("P003").targets(20).scan(49, method="PET", pet_avid=True, T1=0)
    assert responses(no_pet, negative, avid) == ["CR", "CR", "CR"]
    out = run(no_pet, negative, avid, ruleset="protocol")
    assert out["target_response"].tolist() == ["PR", "CR", "PR"]
    assert "no negative PET" in out["reason"].iloc[0]


def test_unknown_ruleset_is_an_error():
    """An unknown ruleset name raises ValueError listing the known ones."""
    with pytest.raises(ValueError, match="recist1.1"):
        run(Patient().targets(20).follow(49, 10), ruleset="recist2")


def test_continued_pr_keeps_pr_until_progression():
    """EORTC continued PR (option, off by default): SD after a PR stays PR until PD."""
    p = Patient().targets(100).follow(49, 70).follow(98, 80).follow(147, 86).follow(196, 80)
    assert responses(p) == ["PR", "SD", "PD", "SD"]
    assert responses(p, continued_pr=True) == ["PR", "PR", "PD", "SD"]


# --- input handling -------------------------------------------------------------------------


def test_plain_text_input_is_accepted():
    """Y/N text and ISO date strings work like booleans and datetimes."""
    lesions, assessments = frames(Patient().targets(30).follow(49, 21))
    lesions = lesions.assign(nodal="N", irradiated="n")
    assessments = assessments.assign(date=assessments["date"].dt.strftime("%Y-%m-%d"))
    assert timepoint_responses(lesions, assessments)["target_response"].tolist() == ["PR"]


def test_unknown_codes_raise_value_error_listing_them():
    """Unknown roles and states are reported together, each named."""
    lesions, assessments = frames(nontarget_patient("present"))
    lesions.loc[0, "role"] = "tgt"
    assessments.loc[1, "state"] = "gone"
    with pytest.raises(ValueError) as error:
        timepoint_responses(lesions, assessments)
    assert "'tgt'" in str(error.value)


def test_unknown_state_for_a_role_is_an_error():
    """A state that belongs to another role ('equivocal' on a non-target) is rejected."""
    lesions, assessments = frames(nontarget_patient("equivocal"))
    with pytest.raises(ValueError, match="'equivocal'.*non-target"):
        timepoint_responses(lesions, assessments)


def test_reason_explains_the_target_arithmetic():
    """The reason quotes the sum, the change and the rule applied."""
    reason = run(Patient().targets(25).follow(49, 30))["reason"].iloc[0]
    assert reason.startswith("targets PD: sum 30.0 mm, +5.0 mm, +20.0% from nadir 25.0 mm")
    assert reason.endswith("-> PD")


def test_best_percent_change_uses_complete_timepoints_only():
    """The waterfall value is each patient's lowest complete change from baseline."""
    a = Patient("P001").targets(50, 50).follow(49, 10).follow(98, 40, 40)
    b = Patient("P002").targets(40).follow(49, 44)
    best = best_percent_change(run(a, b))
    assert best["best_pct_change_baseline"].tolist() == pytest.approx([-20.0, 10.0])
    assert best["date"].tolist() == [day(98), day(49)]
    with_baseline = best_percent_change(run(a, b, include_baseline=True))
    assert with_baseline["best_pct_change_baseline"].tolist() == pytest.approx([-20.0, 10.0])
