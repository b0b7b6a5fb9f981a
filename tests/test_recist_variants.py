"""Layer 4: primary response window, crossover response from the post-SBRT baseline, rulesets."""

from __future__ import annotations

import pandas as pd
import pytest
from recist_frames import Patient, day, frames

from studylib.protocol import PROTOCOL
from studylib.recist.rulesets import get_ruleset, ruleset_names, thresholds
from studylib.recist.variants import (
    crossover_baselines,
    crossover_response,
    crossover_sbrt_starts,
    cycle_starts,
    primary_cutoffs,
    primary_response,
)


def test_rulesets_come_from_the_protocol_file():
    """The three named rulesets exist and their numbers are read from protocol.toml."""
    assert ruleset_names() == ["protocol", "recist1.0", "recist1.1"]
    t = thresholds("recist1.1")
    assert (t.pr_change_from_baseline_pct, t.pd_change_pct, t.pd_min_increase_mm) == (-30, 20, 5)
    assert (t.max_targets, t.max_targets_per_organ) == (5, 2)
    assert thresholds("protocol").pd_reference == "baseline"
    assert get_ruleset(get_ruleset("recist1.0")).name == "recist1.0"


def test_cycle_starts_take_the_first_given_il2_dose():
    """The first IL-2 dose given in a cycle, ignoring held doses and SBRT."""
    dosing = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P2"],
            "treatment": ["sbrt", "il2", "il2", "il2"],
            "cycle": [1, 1, 1, 1],
            "status": ["given", "held", "given", "held"],
            "given_at": ["2024-01-05T09:00", None, "2024-01-08T16:00", None],
        }
    )
    assert cycle_starts(dosing, 1).to_dict() == {"P1": pd.Timestamp("2024-01-08")}


def test_primary_cutoff_is_week_14_plus_the_window():
    """Week 14 after the first IL-2 dose plus the 7-day window (protocol.toml)."""
    weeks = PROTOCOL.response.primary_timepoint_week
    window = int(PROTOCOL.assessments.window.to("day").magnitude)
    cutoff = primary_cutoffs({"P001": day(0)})
    assert cutoff["P001"] == day(7 * weeks + window) == day(105)


def test_crossover_sbrt_is_the_first_fraction_given_to_an_arm_a_crossover_patient():
    """Arm A patients who crossed over, first given SBRT fraction; arm B's SBRT is not one."""
    randomization = pd.DataFrame(
        {"patient_id": ["A1", "A2", "B1"], "arm": ["A", "A", "B"], "crossover": [True, False, True]}
    )
    dosing = pd.DataFrame(
        {
            "patient_id": ["A1", "A1", "A1", "B1"],
            "treatment": ["sbrt", "sbrt", "il2", "sbrt"],
            "status": ["held", "given", "given", "given"],
            "given_at": [None, "2024-04-05T09:00", "2024-04-08T08:00", "2024-01-05T09:00"],
        }
    )
    starts = crossover_sbrt_starts(dosing, randomization)
    assert starts.to_dict() == {"A1": pd.Timestamp("2024-04-05")}


def test_primary_cutoff_stops_at_an_earlier_crossover_sbrt():
    """The window ends on the crossover SBRT day when that is earlier, and only then."""
    starts = {"P001": day(0), "P002": day(0), "P003": day(0)}
    cutoff = primary_cutoffs(starts, {"P001": day(90), "P002": day(110)})
    assert cutoff.to_dict() == {"P001": day(90), "P002": day(105), "P003": day(105)}


def test_primary_response_of_a_crossover_patient_stops_at_the_crossover_sbrt():
    """A scan after the crossover SBRT, inside the week-14 window, is not a primary timepoint."""
    p = Patient("P001").targets(50).follow(49, 45).follow(98, 70).follow(103, 30)
    out = primary_response(*frames(p), {"P001": day(0)}, crossover_sbrt={"P001": day(101)})
    assert out["date"].tolist() == [day(49), day(98)]
    assert (out["cutoff_date"] == day(101)).all()


def test_primary_response_counts_assessments_up_to_the_end_of_cycle_2():
    """A scan on the cut-off day counts, one a day later does not."""
    on_day = Patient("P001").targets(50).follow(49, 30).follow(105, 80)
    after = Patient("P002").targets(50).follow(49, 30).follow(106, 80)
    out = primary_response(*frames(on_day, after), {"P001": day(0), "P002": day(0)})
    assert out.groupby("patient_id")["overall_response"].agg(list).to_dict() == {
        "P001": ["PR", "PD"],
        "P002": ["PR"],
    }
    assert (out["cutoff_date"] == day(105)).all()


def test_primary_response_leaves_out_patients_without_a_treatment_start():
    """Only patients with a first IL-2 dose are analysed."""
    a = Patient("P001").targets(50).follow(49, 30)
    b = Patient("P002").targets(50).follow(49, 30)
    out = primary_response(*frames(a, b), pd.Series({"P002": day(0)}))
    assert out["patient_id"].unique().tolist() == ["P002"]


def crossover_patient() -> Patient:
    """Arm A: PD at week 14 (new lesion), SBRT to T2 on day 101, cycle 3 from day 104."""
    p = Patient("P001").lesion("T1").lesion("T2", irradiated=True, irradiated_on=101)
    p.lesion("NT1", "non_target").lesion("N1", "new")
    p.scan(0, T1=30, T2=30, NT1="present")
    p.scan(49, T1=30, T2=30, NT1="present")
    p.scan(98, T1=30, T2=40, NT1="present", N1="unequivocal")
    p.scan(147, T1=25, T2=10, NT1="present", N1="unequivocal")
    return p


def test_crossover_patient_keeps_the_primary_response_of_the_first_two_cycles():
    """The primary response of a crossover patient stops at week 14, irradiated lesion included."""
    out = primary_response(*frames(crossover_patient()), {"P001": day(0)})
    assert out["overall_response"].tolist() == ["SD", "PD"]
    assert out["baseline_sum_mm"].tolist() == [60.0, 60.0]


def test_crossover_baseline_is_the_last_scan_before_cycle_3():
    """The post-SBRT baseline is the last scan on or before cycle 3's first dose."""
    lesions, assessments = frames(crossover_patient())
    assert crossover_baselines(assessments, {"P001": day(104)}).to_dict() == {"P001": day(98)}


def test_crossover_response_starts_from_the_post_sbrt_baseline():
    """New baseline; the SBRT lesion is left out; the earlier new lesion is existing disease."""
    out = crossover_response(*frames(crossover_patient()), {"P001": day(104)})
    row = out.iloc[0]
    assert (row["date"], row["baseline_date"]) == (day(147), day(98))
    assert row["baseline_sum_mm"] == 30.0 and row["sum_mm"] == 25.0
    assert (row["new_lesions"], row["nontarget_response"]) == ("none", "NON-CR/NON-PD")
    assert row["overall_response"] == "SD"
    assert row["cutoff_date"] == day(104 + 49 + 7)


def test_crossover_response_counts_scans_up_to_7_weeks_after_cycle_3_plus_window():
    """A scan after the crossover window is not part of the crossover response."""
    p = crossover_patient().follow(161, 25, 10, NT1="present", N1="unequivocal")
    out = crossover_response(*frames(p), {"P001": day(104)})
    assert out["date"].tolist() == [day(147)]


@pytest.mark.parametrize("starts", [{}, pd.Series(dtype="datetime64[ns]")])
def test_no_crossover_patient_gives_no_crossover_timepoint(starts):
    """A cohort where nobody crossed over has an empty crossover response, not a crash."""
    out = crossover_response(*frames(crossover_patient()), starts)
    assert out.empty
    assert {"patient_id", "date", "overall_response", "reason", "cutoff_date"} <= set(out.columns)


def test_no_dosed_patient_gives_no_primary_timepoint():
    """No first IL-2 dose yet: the primary response has no timepoint, and says so by being empty."""
    out = primary_response(*frames(crossover_patient()), {})
    assert out.empty and "overall_response" in out.columns


def test_explicit_crossover_baseline_dates_are_used():
    """A dedicated post-SBRT scan can be given as the crossover baseline."""
    p = crossover_patient()
    out = crossover_response(*frames(p), {"P001": day(104)}, baseline_dates={"P001": day(49)})
    assert out["baseline_date"].unique().tolist() == [day(49)]


def test_bad_dates_are_reported():
    """A treatment start that is not a date raises ValueError naming the patient."""
    with pytest.raises(ValueError, match="P001"):
        primary_cutoffs({"P001": "next monday"})
