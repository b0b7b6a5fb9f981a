"""The one calendar under any protocol: planner, deviation review and synthetic cohort follow
the protocol file they are given (the variant test protocol differs in every number, weekday,
count and arm code from the bundled one)."""

from __future__ import annotations

import pandas as pd
import pytest
from dosing_records import given_as_planned

from studylib import calendar_rules as rules
from studylib.data import load_cohort
from studylib.deviations import review_dosing
from studylib.dosing import il2_dose
from studylib.schedule import crossover_start, plan_crossover, plan_treatment, protocol_rules
from studylib.synth import generate, write_cohort

TUESDAY = pd.Timestamp("2024-03-05")  # the variant's start weekday
START = "2024-03-05"  # a date alone: planned at the variant's first-dose time, 09:30
MONDAY = pd.Timestamp("2024-03-04")


def _fractions(plan) -> pd.DataFrame:
    return plan.events[plan.events["event"] == "sbrt_fraction"].reset_index(drop=True)


def _cycle_starts(plan) -> pd.Series:
    return plan.cycles().set_index("cycle")["planned_start"]


# --- the weekday rules ----------------------------------------------------------------------


def test_weekday_arithmetic_on_whole_columns():
    """first_after / last_before / first_on_or_after: strictly after, strictly before, same day."""
    days = pd.Series(pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-05"]))
    assert rules.first_after(days, "Monday").dt.day.tolist() == [4, 11, 11]
    assert rules.first_on_or_after(days, "Monday").dt.day.tolist() == [4, 4, 11]
    assert rules.last_before(days, "Friday").dt.day.tolist() == [23, 1, 1]


def test_start_weekday_follows_the_protocol(variant_protocol):
    """The variant starts IL-2 on a Tuesday: a Monday is refused naming the Tuesdays around it."""
    plan = plan_treatment("C", 1, START, "72 kg", protocol=variant_protocol)
    assert plan.il2_start == TUESDAY + pd.Timedelta(hours=9, minutes=30)  # first_dose_time
    with pytest.raises(ValueError, match="IL-2 starts on a Tuesday.*2024-02-27 and 2024-03-05"):
        plan_treatment("C", 1, MONDAY, "72 kg", protocol=variant_protocol)
    with pytest.raises(ValueError, match="arm 'A' does not exist; use 'C' or 'R'"):
        plan_treatment("A", 1, TUESDAY, "72 kg", protocol=variant_protocol)


def test_dose_slots_cycles_and_windows_follow_the_protocol(variant_protocol):
    """9 doses every 12 h; three cycles a course, 21 days apart, each up to 3 days late."""
    plan = plan_treatment("C", 1, START, "72 kg", protocol=variant_protocol)
    cycles = plan.cycles().set_index("cycle")
    assert list(cycles.index) == [1, 2, 3]
    assert cycles["doses"].tolist() == [9, 9, 9]
    first = TUESDAY + pd.Timedelta(hours=9, minutes=30)
    assert cycles.loc[1, "last_dose_at"] == first + pd.Timedelta(hours=12 * 8)
    assert cycles.loc[2, "planned_start"] == first + pd.Timedelta(days=21)
    assert cycles.loc[2, "latest_start"] == first + pd.Timedelta(days=24)
    assert cycles.loc[3, "planned_start"] == first + pd.Timedelta(days=42)
    assert "21 days after the start of cycle 2, up to 3 days later" in cycles.loc[3, "rule"]


def test_sbrt_fractions_follow_each_enrollment_range(variant_protocol):
    """1-8: Thursday; 9-30: Monday and Thursday; 31 on: Monday, Wednesday and Thursday, all
    before the Tuesday start, 12 Gy each."""
    expected = {
        8: ["2024-02-29"],
        9: ["2024-02-26", "2024-02-29"],
        30: ["2024-02-26", "2024-02-29"],
        31: ["2024-02-26", "2024-02-28", "2024-02-29"],
    }
    for number, days in expected.items():
        fractions = _fractions(
            plan_treatment("R", number, TUESDAY, "72 kg", protocol=variant_protocol)
        )
        assert fractions["planned_at"].dt.strftime("%Y-%m-%d").tolist() == days, number
        assert set(fractions["amount"]) == {12.0}
    last = _fractions(plan_treatment("R", 31, TUESDAY, "72 kg", protocol=variant_protocol))
    assert (
        "the last fraction on the Thursday before the Tuesday IL-2 start" in last["rule"].iloc[-1]
    )
    assert _fractions(plan_treatment("C", 31, TUESDAY, "72 kg", protocol=variant_protocol)).empty


def test_scans_and_responder_courses_follow_the_protocol(variant_protocol):
    """Scans at weeks 9, 16, 24 and 30, each up to 4 days late; a responder's course starts on
    the Tuesday the week-9 window closes."""
    plan = plan_treatment("C", 1, TUESDAY, "72 kg", responder_cycles=3, protocol=variant_protocol)
    scans = plan.events[plan.events["event"] == "assessment"]
    weeks = ((scans["planned_at"] - TUESDAY).dt.days // 7).tolist()
    assert weeks == [9, 16, 24, 30]
    assert ((scans["latest_at"] - scans["planned_at"]).dt.days == 4).all()
    starts = _cycle_starts(plan)
    closes = TUESDAY + pd.Timedelta(weeks=9, days=4)
    assert starts[4].normalize() == rules.first_on_or_after(pd.Series([closes]), "Tuesday")[0]
    assert starts[5] == starts[4] + pd.Timedelta(days=21)
    with pytest.raises(ValueError, match="from 0 to 3"):
        plan_treatment("C", 1, TUESDAY, "72 kg", responder_cycles=4, protocol=variant_protocol)


def test_crossover_follows_the_protocol(variant_protocol):
    """Crossover from arm C: cycles 4-6 from the Tuesday after the last (Thursday) fraction,
    the response scan 9 weeks after cycle 4 starts."""
    start = crossover_start(last_fraction_on="2024-05-02", protocol=variant_protocol)
    assert start == pd.Timestamp("2024-05-07").date()
    with pytest.raises(ValueError, match="given on a Thursday"):
        crossover_start(last_fraction_on="2024-05-03", protocol=variant_protocol)
    plan = plan_crossover(31, start, "72 kg", protocol=variant_protocol)
    assert plan.arm == "C"
    assert list(_cycle_starts(plan).index) == [4, 5, 6]
    assert len(_fractions(plan)) == 3
    scan = plan.events[plan.events["event"] == "assessment"]["planned_at"].iloc[0]
    assert scan == pd.Timestamp(start) + pd.Timedelta(weeks=9)


def test_dose_follows_the_protocol(variant_protocol):
    """720,000 IU/kg; vials of 15 MIU; 16 MIU = 1 mg; the weight range 35-250 kg."""
    dose = il2_dose("72 kg", protocol=variant_protocol)
    assert dose.iu == pytest.approx(72 * 720_000)
    assert dose.vials == 4  # 51.84 MIU / 15 MIU
    assert dose.mg == pytest.approx(51.84 / 16)
    with pytest.raises(ValueError, match="35 kg to 250 kg"):
        il2_dose("32 kg", protocol=variant_protocol)
    assert il2_dose("32 kg").vials == 1  # the bundled range starts at 30 kg


def test_rules_table_words_the_protocol_it_is_given(variant_protocol):
    """protocol_rules words the variant's numbers, weekdays and arms."""
    table = protocol_rules(variant_protocol).set_index("what")
    assert "starts on a Tuesday" in table.loc["IL-2", "rule"]
    assert "at most 9 doses per cycle and 25 over 3 cycles" in table.loc["IL-2", "rule"]
    assert "arm R, and arm C on crossover: 12 Gy" in table.loc["SBRT", "rule"]
    assert "weeks 9, 16, 24 and 30" in table.loc["scans", "rule"]


# --- the deviation review: actual against the rules ---------------------------------------


_records = given_as_planned


def _randomized(arm, number, crossover="N"):
    return pd.DataFrame(
        [{"patient_id": "X1", "arm": arm, "enrollment_number": number, "crossover": crossover}]
    )


def test_a_plan_given_as_planned_has_no_deviation(variant_protocol):
    """Every slot given but the course's last two (9 x 3 slots, at most 25 doses a course)."""
    plan = plan_treatment("R", 31, TUESDAY, "72 kg", protocol=variant_protocol)
    dosing = _records(plan)
    last_two = dosing[(dosing["treatment"] == "il2") & (dosing["cycle"] == 3)].index[-2:]
    dosing.loc[last_two, ["status", "given_at"]] = ["held", pd.NaT]
    review = review_dosing(
        dosing,
        _randomized("R", 31),
        pd.DataFrame({"patient_id": ["X1"], "weight": ["72 kg"]}),
        protocol=variant_protocol,
    )
    assert review.deviations.empty
    assert review.cycles["doses_allowed"].eq(9).all()
    assert review.fractions["expected_weekday"].tolist() == ["Monday", "Wednesday", "Thursday"]


@pytest.mark.parametrize(("late_days", "deviates"), [(3, False), (4, True)])
def test_cycle_window_edge_follows_the_protocol(variant_protocol, late_days, deviates):
    """Cycle 2 may start up to 3 days after its planned day (24 days after cycle 1), not 4;
    both moved starts leave the Tuesday, which is its own deviation."""
    plan = plan_treatment("C", 1, TUESDAY, "72 kg", protocol=variant_protocol)
    dosing = _records(plan)
    late = (dosing["treatment"] == "il2") & (dosing["cycle"] >= 2)
    dosing.loc[late, "given_at"] += pd.Timedelta(days=late_days)
    review = review_dosing(dosing, _randomized("C", 1), protocol=variant_protocol)
    kinds = review.deviations["kind"].tolist()
    assert ("cycle_window" in kinds) is deviates
    if deviates:
        row = review.deviations.set_index("kind").loc["cycle_window"]
        assert isinstance(row, pd.Series)
        assert "21-24 days" in row["rule"]


def test_dose_count_limits_follow_the_protocol(variant_protocol):
    """A tenth dose in a cycle breaks 'at most 9'; the course's 27 doses break 'at most 25'."""
    plan = plan_treatment("C", 1, TUESDAY, "72 kg", protocol=variant_protocol)
    dosing = _records(plan)
    extra = dosing[(dosing["treatment"] == "il2") & (dosing["cycle"] == 1)].tail(1).copy()
    extra["number"] = 10
    extra["given_at"] += pd.Timedelta(hours=12)
    review = review_dosing(
        pd.concat([dosing, extra], ignore_index=True),
        _randomized("C", 1),
        protocol=variant_protocol,
    )
    kinds = set(review.deviations["kind"])
    assert {"doses_per_cycle", "doses_per_course"} <= kinds
    rules_broken = review.deviations.set_index("kind")["rule"]
    assert "At most 9 IL-2 doses per cycle" in rules_broken["doses_per_cycle"]
    assert "At most 25 IL-2 doses over 3 cycles" in rules_broken["doses_per_course"]


# --- the synthetic cohort: rules plus noise -------------------------------------------------


@pytest.fixture(scope="module")
def variant_cohort(tmp_path_factory, variant_protocol):
    folder = tmp_path_factory.mktemp("variant") / "trial"
    write_cohort(folder, 70, seed=7, protocol=variant_protocol)
    return load_cohort(folder)


def test_synthetic_cohort_carries_and_follows_its_protocol(variant_cohort, variant_protocol):
    """The folder carries its protocol.toml; arms are C and R; every IL-2 cycle starts on a
    Tuesday at 09:30 with 9 slots 12 h apart; fractions fall on the range's weekdays."""
    cohort = variant_cohort
    assert cohort.protocol == variant_protocol
    assert set(cohort.randomization["arm"]) == {"C", "R"}
    il2 = cohort.dosing[cohort.dosing["treatment"] == "il2"]
    firsts = il2[il2["number"] == 1]["scheduled_at"]
    assert set(firsts.dt.day_name()) == {"Tuesday"}
    assert set(firsts.dt.strftime("%H:%M")) == {"09:30"}
    assert il2.groupby(["patient_id", "cycle"]).size().eq(9).all()
    steps = il2.sort_values("scheduled_at").groupby(["patient_id", "cycle"])["scheduled_at"].diff()
    assert set(steps.dropna()) == {pd.Timedelta(hours=12)}
    sbrt = cohort.dosing[cohort.dosing["treatment"] == "sbrt"]
    assert set(sbrt["scheduled_at"].dt.day_name()) <= {"Monday", "Wednesday", "Thursday"}
    numbers = cohort.randomization.set_index("patient_id")["enrollment_number"]
    per_patient = sbrt[sbrt["cycle"] == 1].groupby("patient_id").size()
    due = rules.fractions_due(numbers[per_patient.index], variant_protocol)
    assert (per_patient.to_numpy() == due).all()


def test_synthetic_cohort_is_reviewed_under_its_own_protocol(variant_cohort):
    """Generated within the variant's rules, only the two planted deviations appear."""
    cohort = variant_cohort
    review = review_dosing(
        cohort.dosing, cohort.randomization, cohort.screening, protocol=cohort.protocol
    )
    kinds = set(review.deviations["kind"])
    assert kinds <= {"cycle_window", "il2_weekday", "sbrt_day"}, kinds


def test_synthetic_screen_failures_name_the_protocols_criteria(variant_cohort):
    """Screen failures are chosen by rule and named by the variant's own criterion ids; the
    variant has no chronic-steroid criterion, so no one fails it."""
    reasons = variant_cohort.screening["outcome_reason"].dropna()
    failures = reasons[variant_cohort.screening["screening_outcome"] == "screen_failure"]
    assert failures.str.match(r"(IN|EX)-\d+: ").all()
    assert not reasons.str.contains("steroid").any()


def test_demo_patient_is_in_the_arm_with_sbrt(variant_protocol):
    cohort = generate(10, seed=3, protocol=variant_protocol)
    first = cohort.tables["randomization"].iloc[0]
    assert (first["patient_id"], first["arm"]) == ("P001", "R")
