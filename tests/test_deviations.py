"""Actual against planned: doses per cycle, delays, and every deviation with its rule."""

from __future__ import annotations

import pandas as pd
import pytest
from dosing_records import given_as_planned
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studylib.deviations import DEVIATION_COLUMNS, DEVIATION_KINDS, review_dosing
from studylib.schedule import plan_crossover, plan_treatment

MONDAY = pd.Timestamp("2024-03-04 08:00")
DAY = pd.Timedelta(days=1)


_records = given_as_planned


def _patients(*rows):
    return pd.DataFrame(
        [
            {
                "patient_id": patient,
                "arm": arm,
                "enrollment_number": number,
                "randomized_on": "2024-02-20",
                "crossover": crossover,
            }
            for patient, arm, number, crossover in rows
        ]
    )


def _review(dosing, arm="B", number=21, crossover="N", weight="72 kg"):
    screening = pd.DataFrame({"patient_id": ["X1"], "weight": [weight]})
    return review_dosing(dosing, _patients(("X1", arm, number, crossover)), screening)


def _kinds(review):
    return review.deviations["kind"].tolist()


def _shift(dosing, mask, by):
    out = dosing.copy()
    out.loc[mask, "given_at"] = out.loc[mask, "given_at"] + by
    out.loc[mask, "scheduled_at"] = out.loc[mask, "scheduled_at"] + by
    return out


def _cycle(dosing, cycle, treatment="il2"):
    return (dosing["treatment"] == treatment) & (dosing["cycle"] == cycle)


@pytest.fixture
def arm_b():
    """Arm B, enrollment 21: two fractions and two full cycles, all on time."""
    return _records(plan_treatment("B", 21, MONDAY, "72 kg"))


@pytest.fixture
def crossover():
    """Arm A, enrollment 5, crossed over: cycles 1-4 and one fraction before cycle 3."""
    first = plan_treatment("A", 5, MONDAY, "72 kg")
    return _records(first.combined_with(plan_crossover(5, "2024-05-06", "72 kg")))


def test_records_that_follow_the_plan_show_no_deviation(arm_b):
    """Doses and fractions given as planned: no deviation, 14 doses given per cycle."""
    review = _review(arm_b)
    assert review.deviations.empty
    assert list(review.deviations.columns) == DEVIATION_COLUMNS
    cycles = review.cycles.set_index("cycle")
    assert cycles["doses_given"].tolist() == [14, 14]
    assert cycles["doses_held"].tolist() == [0, 0]
    assert cycles["delay_days"].tolist() == [0, 0]
    assert cycles.loc[2, "within_window"]
    assert (
        review.fractions["expected_on"].tolist()
        == review.fractions["given_at"].dt.normalize().tolist()
    )


def test_held_doses_are_counted_and_the_cycle_starts_at_the_first_given(arm_b):
    """Held doses count as held; a cycle starts with its first dose given."""
    dosing = arm_b.copy()
    held = _cycle(dosing, 1) & dosing["number"].isin([1, 13, 14])
    dosing.loc[held, "status"] = "held"
    dosing.loc[held, "given_at"] = pd.NaT
    review = _review(dosing)
    cycle = review.cycles.set_index("cycle").loc[1]
    assert (cycle["doses_given"], cycle["doses_held"]) == (11, 3)
    assert cycle["started_at"] == pd.Timestamp("2024-03-04 16:10")
    assert review.deviations.empty


def test_cycle_2_on_the_last_day_of_the_delay_is_within(arm_b):
    """Cycle 2 starting 21 days after cycle 1 (late that day) is within its window."""
    dosing = _shift(arm_b, _cycle(arm_b, 2), 7 * DAY + pd.Timedelta(hours=5))
    review = _review(dosing)
    assert review.deviations.empty
    cycle = review.cycles.set_index("cycle").loc[2]
    assert cycle["delay_days"] == 7
    assert cycle["within_window"]


def test_cycle_2_one_day_after_the_delay_is_a_deviation(arm_b):
    """Cycle 2 starting 22 days after cycle 1 breaks the window (and the Monday rule)."""
    review = _review(_shift(arm_b, _cycle(arm_b, 2), 8 * DAY))
    assert sorted(_kinds(review)) == ["cycle_window", "il2_weekday"]
    window = review.deviations.set_index("kind").loc["cycle_window"]
    assert "22 days after the start of cycle 1" in window["detail"]
    assert "Mon 2024-03-18 to Mon 2024-03-25" in window["detail"]
    assert "14 days after the start of cycle 1, up to 7 days later" in window["rule"]
    reading = "(14-21 days; reading of the registry's 'planned 16 days after cycle 1')"
    assert reading in window["rule"]
    assert "16 days after cycle 1" in window["quote"]


def test_cycle_2_a_week_late_on_a_monday_breaks_only_the_window(arm_b):
    """Cycle 2 on the Monday 28 days after cycle 1: one deviation, the window."""
    review = _review(_shift(arm_b, _cycle(arm_b, 2), 14 * DAY))
    assert _kinds(review) == ["cycle_window"]
    assert review.cycles.set_index("cycle").loc[2, "delay_days"] == 14


def test_cycle_2_early_is_a_deviation(arm_b):
    """Cycle 2 a week before day 15 is outside its window too."""
    review = _review(_shift(arm_b, _cycle(arm_b, 2), -7 * DAY))
    assert _kinds(review) == ["cycle_window"]
    assert review.cycles.set_index("cycle").loc[2, "delay_days"] == -7


def test_first_dose_on_a_tuesday_breaks_the_monday_rule(arm_b):
    """IL-2 begun on a Tuesday is a deviation naming the day."""
    dosing = arm_b.copy()
    first = _cycle(dosing, 1) & (dosing["number"] == 1)
    dosing.loc[first, "status"] = "held"
    dosing.loc[first, "given_at"] = pd.NaT
    dosing.loc[_cycle(dosing, 1) & dosing["number"].isin([2, 3]), "status"] = "held"
    dosing.loc[_cycle(dosing, 1) & dosing["number"].isin([2, 3]), "given_at"] = pd.NaT
    review = _review(dosing)
    assert "il2_weekday" in _kinds(review)
    detail = review.deviations.set_index("kind").loc["il2_weekday", "detail"]
    assert "cycle 1 started on Tue 2024-03-05" in detail


def _add_dose(dosing, cycle, number):
    extra = dosing[_cycle(dosing, cycle) & (dosing["number"] == 14)].copy()
    extra["number"] = number
    extra["given_at"] = extra["given_at"] + pd.Timedelta(hours=8 * (number - 14))
    return pd.concat([dosing, extra], ignore_index=True)


def test_14_doses_in_a_cycle_is_allowed_15_is_not(arm_b):
    """14 doses in a cycle pass; a 15th is a deviation, and so is 29 over two cycles."""
    assert _review(arm_b).deviations.empty
    review = _review(_add_dose(arm_b, 1, 15))
    assert sorted(_kinds(review)) == ["doses_per_course", "doses_per_cycle"]
    deviations = review.deviations.set_index("kind")
    assert deviations.loc["doses_per_cycle", "detail"] == "15 doses given in cycle 1 (at most 14)"
    assert (
        "29 doses given in cycles 1-2 (at most 28)" in deviations.loc["doses_per_course", "detail"]
    )
    assert "28 doses" in deviations.loc["doses_per_course", "quote"]


def test_28_doses_over_two_cycles_is_allowed(arm_b):
    """A 15th dose in cycle 1 with one held in cycle 2 keeps the course at 28 doses."""
    dosing = _add_dose(arm_b, 1, 15)
    last = _cycle(dosing, 2) & (dosing["number"] == 14)
    dosing.loc[last, "status"] = "held"
    dosing.loc[last, "given_at"] = pd.NaT
    assert _kinds(_review(dosing)) == ["doses_per_cycle"]


def test_sbrt_on_a_thursday_is_the_wrong_day(arm_b):
    """The Friday fraction given on Thursday is a deviation with the expected day."""
    last = _cycle(arm_b, 1, "sbrt") & (arm_b["number"] == 2)
    review = _review(_shift(arm_b, last, -DAY))
    assert _kinds(review) == ["sbrt_day"]
    row = review.deviations.iloc[0]
    assert row["treatment"] == "sbrt" and row["number"] == 2
    assert "given on Thu 2024-02-29; expected Fri 2024-03-01" in row["detail"]
    assert "the last fraction on the Friday before the Monday IL-2 start" in row["rule"]
    assert "Friday" in row["quote"]


def test_sbrt_a_week_early_is_the_wrong_day_though_a_friday(arm_b):
    """A Friday fraction given a week early is not the Friday immediately before IL-2."""
    last = _cycle(arm_b, 1, "sbrt") & (arm_b["number"] == 2)
    review = _review(_shift(arm_b, last, -7 * DAY))
    assert _kinds(review) == ["sbrt_day"]


def test_enrollment_21_with_one_fraction_is_the_wrong_count(arm_b):
    """Enrollment 21 needs two fractions; one given is a deviation quoting the rule."""
    dosing = arm_b[~(_cycle(arm_b, 1, "sbrt") & (arm_b["number"] == 1))]
    review = _review(dosing)
    assert _kinds(review) == ["sbrt_fractions"]
    row = review.deviations.iloc[0]
    assert "1 SBRT fraction(s) given before IL-2 cycle 1; the rule gives 2" in row["detail"]
    assert "2 fractions for enrollment numbers 21 on" in row["rule"]
    assert "two fractions" in row["quote"]


def test_enrollment_20_with_one_fraction_is_right():
    """Enrollment 20 needs one fraction: no deviation."""
    dosing = _records(plan_treatment("B", 20, MONDAY, "72 kg"))
    assert _review(dosing, number=20).deviations.empty


def test_enrollment_20_with_two_fractions_is_the_wrong_count():
    """Enrollment 20 given the two-fraction schedule is a deviation."""
    dosing = _records(plan_treatment("B", 21, MONDAY, "72 kg"))
    assert "sbrt_fractions" in _kinds(_review(dosing, number=20))


def test_arm_b_without_sbrt_and_arm_a_with_sbrt_are_deviations():
    """Arm B's cycle 1 without SBRT, and arm A's with SBRT, each break the arm's rule."""
    arm_b = _records(plan_treatment("B", 3, MONDAY, "72 kg"))
    no_sbrt = arm_b[arm_b["treatment"] == "il2"]
    assert _kinds(_review(no_sbrt, number=3)) == ["sbrt_fractions"]
    review = _review(arm_b, arm="A", number=3)
    assert _kinds(review) == ["sbrt_fractions"]
    assert "No SBRT before IL-2 cycle 1 in arm A" in review.deviations["rule"][0]


def test_sbrt_dose_other_than_20_gy(arm_b):
    """A fraction of 18 Gy is a deviation; 20 Gy written as 2000 cGy is not."""
    dosing = arm_b.copy()
    fractions = _cycle(dosing, 1, "sbrt")
    dosing.loc[fractions & (dosing["number"] == 1), "dose"] = "2000 cGy"
    dosing.loc[fractions & (dosing["number"] == 2), "dose"] = "18 Gy"
    review = _review(dosing)
    assert _kinds(review) == ["sbrt_dose"]
    assert review.deviations["detail"][0] == "SBRT fraction 2 given as 18 Gy"


@pytest.mark.parametrize(("dose", "deviates"), [("47.5 MIU", False), ("47.6 MIU", True)])
def test_il2_dose_within_10_percent_of_the_weight_dose(arm_b, dose, deviates):
    """43.2 MIU for 72 kg: 47.5 MIU (+9.95%) passes, 47.6 MIU (+10.2%) is a deviation."""
    dosing = arm_b.copy()
    dosing.loc[_cycle(dosing, 2), "dose"] = dose
    review = _review(dosing)
    assert _kinds(review) == (["il2_dose"] if deviates else [])
    if deviates:
        assert review.deviations["detail"][0] == (
            "14 dose(s) of cycle 2 given as 47.6 MIU; 43.2 MIU for the screening weight of"
            " 72.0 kg (+10.2%)"
        )


def test_il2_doses_off_both_ways_in_one_cycle_show_the_range(arm_b):
    """Doses too low and too high in one cycle are one deviation giving both extremes."""
    dosing = arm_b.copy()
    cycle_2 = _cycle(dosing, 2)
    dosing.loc[cycle_2 & (dosing["number"] == 1), "dose"] = "38.0 MIU"
    dosing.loc[cycle_2 & (dosing["number"] == 2), "dose"] = "48.0 MIU"
    [detail] = _review(dosing).deviations["detail"]
    assert detail.startswith("2 dose(s) of cycle 2 given as 38.0-48.0 MIU; 43.2 MIU")
    assert detail.endswith("(-12.0% to +11.1%)")


def test_il2_dose_check_needs_the_screening_weight(arm_b):
    """Without screening weights the dose is not judged."""
    dosing = arm_b.copy()
    dosing.loc[_cycle(dosing, 2), "dose"] = "80 MIU"
    review = review_dosing(dosing, _patients(("X1", "B", 21, "N")))
    assert review.deviations.empty


def test_crossover_on_plan_shows_no_deviation(crossover):
    """Crossover SBRT on the Friday and cycle 3 on the Monday after: no deviation."""
    review = _review(crossover, arm="A", number=5, crossover="Y")
    assert review.deviations.empty
    cycles = review.cycles.set_index("cycle")
    assert cycles.loc[3, "planned_by"] == "the Monday after the last SBRT fraction"
    assert cycles.loc[3, "planned_start"] == pd.Timestamp("2024-05-06")
    assert cycles.loc[4, "latest_start"] == pd.Timestamp("2024-05-27")


def test_crossover_cycle_3_a_week_after_the_fraction_is_a_deviation(crossover):
    """Cycle 3 a week later than the Monday after the last fraction is flagged."""
    later = crossover["cycle"].isin([3, 4]) & (crossover["treatment"] == "il2")
    review = _review(_shift(crossover, later, 7 * DAY), arm="A", number=5, crossover="Y")
    assert _kinds(review) == ["sbrt_day"]
    assert "cycle 3 started on Mon 2024-05-13" in review.deviations["detail"][0]
    assert review.cycles.set_index("cycle").loc[3, "delay_days"] == 7


def test_crossover_sbrt_without_crossover_flag_is_a_deviation(crossover):
    """SBRT before cycle 3 in a patient not recorded as crossing over is flagged."""
    review = _review(crossover, arm="A", number=5, crossover="N")
    assert _kinds(review) == ["sbrt_fractions"]
    assert "only for arm A patients who cross over" in review.deviations["rule"][0]


def test_crossover_cycle_4_outside_its_window_quotes_the_crossover(crossover):
    """Cycle 4 beyond its delay breaks the crossover's 'another cycle' rule."""
    late = _cycle(crossover, 4)
    review = _review(_shift(crossover, late, 14 * DAY), arm="A", number=5, crossover="Y")
    assert _kinds(review) == ["cycle_window"]
    assert "Another cycle is planned 16 days after cycle 3" in review.deviations["quote"][0]


def test_seventh_cycle_is_too_many():
    """Six cycles (2 + 4 for responders) are allowed; a seventh is a deviation."""
    plan = plan_treatment("B", 3, MONDAY, "72 kg", responder_cycles=4)
    dosing = _records(plan)
    assert _review(dosing, number=3).deviations.empty
    seventh = _shift(dosing[_cycle(dosing, 6)].assign(cycle=7), slice(None), 14 * DAY)
    review = _review(pd.concat([dosing, seventh], ignore_index=True), number=3)
    assert _kinds(review) == ["too_many_cycles"]
    assert "At most 6 IL-2 cycles" in review.deviations["rule"][0]


def test_every_deviation_names_rule_detail_and_quote(arm_b):
    """Each deviation row has a known kind, a rule, what happened, and a registry quote."""
    dosing = _shift(arm_b, _cycle(arm_b, 2), 8 * DAY)
    dosing = _add_dose(dosing, 1, 15)
    dosing = _shift(dosing, _cycle(dosing, 1, "sbrt") & (dosing["number"] == 2), -DAY)
    review = _review(dosing)
    deviations = review.deviations
    assert len(deviations) == 5
    assert set(deviations["kind"]) <= set(DEVIATION_KINDS)
    for column in ("rule", "detail", "quote"):
        assert deviations[column].str.len().gt(10).all(), column
    assert deviations["on"].is_monotonic_increasing


def test_text_columns_as_in_the_csv_are_read(arm_b):
    """Records with text cells (as written in dosing.csv) give the same review."""
    dosing = _shift(arm_b, _cycle(arm_b, 2), 14 * DAY)
    held = _cycle(dosing, 1) & (dosing["number"] == 5)
    dosing.loc[held, "status"] = "held"
    dosing.loc[held, "given_at"] = pd.NaT
    text = dosing.astype(str)
    for column in ("scheduled_at", "given_at"):
        text[column] = dosing[column].dt.strftime("%Y-%m-%dT%H:%M").fillna("")
    review = _review(text)
    assert _kinds(review) == ["cycle_window"]
    assert review.cycles["doses_held"].tolist() == [1, 0]


def test_summary_one_row_per_patient(arm_b, crossover):
    """The summary counts fractions, cycles, doses and deviations per patient."""
    dosing = pd.concat([arm_b, crossover.assign(patient_id="X2")], ignore_index=True)
    patients = _patients(("X1", "B", 21, "N"), ("X2", "A", 5, "Y"))
    summary = review_dosing(dosing, patients).summary().set_index("patient_id")
    assert summary.loc["X1", "fractions_given"] == 2
    assert summary.loc["X2", "cycles_started"] == 4
    assert summary.loc["X2", "doses_given"] == 56
    assert summary["deviations"].tolist() == [0, 0]
    assert review_dosing(dosing, patients).for_patient("X2").cycles["cycle"].tolist() == [
        1,
        2,
        3,
        4,
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arm=st.sampled_from(["A", "B"]),
    number=st.integers(1, 44),
    weeks=st.integers(0, 600),
    kg=st.floats(30, 300),
    responder=st.integers(0, 4),
)
def test_any_plan_given_as_planned_has_no_deviation(arm, number, weeks, kg, responder):
    """Whatever the arm, enrollment number, Monday, weight and responder cycles, following
    the plan never counts as a deviation."""
    start = pd.Timestamp("2011-07-04") + pd.Timedelta(weeks=weeks)
    plan = plan_treatment(arm, number, start, f"{kg} kg", responder_cycles=responder)
    review = _review(_records(plan), arm=arm, number=number, weight=f"{kg} kg")
    assert review.deviations.empty, review.deviations["detail"].tolist()


def test_bundled_cohort_deviations_are_exactly_the_planted_ones(data_dir):
    """The bundled cohort's report lists the generator's two planted deviations, no more."""
    from studylib.data import load_cohort
    from studylib.synth.cohort import DEFAULT_PATIENTS, DEFAULT_SEED, generate

    cohort = load_cohort(data_dir)
    review = review_dosing(cohort.dosing, cohort.randomization, cohort.screening)
    planted = generate(DEFAULT_PATIENTS, DEFAULT_SEED).deviations
    kinds = {"late_cycle": "cycle_window", "sbrt_weekday": "sbrt_day"}
    expected = sorted(zip(planted["patient_id"], planted["kind"].map(kinds), strict=True))
    found = sorted(zip(review.deviations["patient_id"], review.deviations["kind"], strict=True))
    assert found == expected
    assert len(review.summary()) == len(cohort.randomization)


@pytest.mark.parametrize("seed", [1416831, 7, 2024])
def test_cohorts_generated_within_the_rules_show_no_deviation(seed):
    """A synthetic cohort generated within the rules has an empty deviation report."""
    from studylib.synth.cohort import DEFAULT_PATIENTS, generate

    tables = generate(DEFAULT_PATIENTS, seed, deviations=False).tables
    review = review_dosing(tables["dosing"], tables["randomization"], tables["screening"])
    assert review.deviations.empty, review.deviations["detail"].tolist()
    assert review.cycles["doses_given"].le(14).all()
