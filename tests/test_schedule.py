"""The treatment plan: SBRT fractions, IL-2 cycles, responder and crossover cycles, scans."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from studylib.schedule import (
    EVENT_COLUMNS,
    crossover_start,
    parse_il2_start,
    plan_crossover,
    plan_for_patient,
    plan_treatment,
    protocol_rules,
    registry_phrase,
)

MONDAY = "2024-03-04"
T = pd.Timestamp


def _events(plan, event):
    return plan.events[plan.events["event"] == event].reset_index(drop=True)


def _cycle(plan, cycle):
    doses = _events(plan, "il2_dose")
    return doses[doses["cycle"] == cycle].reset_index(drop=True)


def test_events_have_the_contract_columns_and_types():
    """events has the DESIGN columns (and the rule) with nullable int cycle and Timestamps."""
    events = plan_treatment("B", 1, MONDAY, "72 kg").events
    assert list(events.columns) == EVENT_COLUMNS
    assert str(events["cycle"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(events["planned_at"])
    assert pd.api.types.is_datetime64_any_dtype(events["latest_at"])
    assert set(events["event"]) == {"sbrt_fraction", "il2_dose", "assessment"}
    assert set(events["unit"]) == {"Gy", "IU", ""}
    assert events["rule"].str.len().gt(0).all()
    assert events["planned_at"].is_monotonic_increasing


def test_enrollment_20_gets_one_fraction_on_the_friday_before():
    """Enrollment 1-20: one 20 Gy fraction on the Friday 3 days before the Monday start."""
    sbrt = _events(plan_treatment("B", 20, MONDAY, "72 kg"), "sbrt_fraction")
    assert sbrt["planned_at"].tolist() == [T("2024-03-01")]
    assert sbrt["amount"].tolist() == [20.0]
    assert (sbrt["unit"] == "Gy").all()
    assert sbrt["cycle"].tolist() == [1]
    assert "last fraction on the Friday before the Monday IL-2 start" in sbrt["rule"][0]


def test_enrollment_21_gets_two_fractions_wednesday_and_friday():
    """Enrollment 21 on: fractions on the Wednesday and Friday before the Monday start."""
    sbrt = _events(plan_treatment("B", 21, MONDAY, "72 kg"), "sbrt_fraction")
    assert sbrt["planned_at"].tolist() == [T("2024-02-28"), T("2024-03-01")]
    assert [d.day_name() for d in sbrt["planned_at"]] == ["Wednesday", "Friday"]
    assert sbrt["number"].tolist() == [1, 2]
    assert "Wednesday" in sbrt["rule"][0]
    assert "last fraction on the Friday" in sbrt["rule"][1]


def test_arm_a_has_no_sbrt():
    """Arm A (IL-2 monotherapy) has no fractions in its first course."""
    plan = plan_treatment("A", 21, MONDAY, "72 kg")
    assert _events(plan, "sbrt_fraction").empty
    assert plan.fractions == 0


def test_cycle_1_has_14_doses_every_8_hours_from_the_monday():
    """Cycle 1: 14 doses 8 h apart from Monday 08:00 to Friday 16:00, with no slack."""
    cycle = _cycle(plan_treatment("A", 1, MONDAY, "72 kg"), 1)
    assert cycle["number"].tolist() == list(range(1, 15))
    assert cycle["planned_at"].iloc[0] == T("2024-03-04 08:00")
    assert cycle["planned_at"].iloc[-1] == T("2024-03-08 16:00")
    assert cycle["planned_at"].diff().dropna().eq(pd.Timedelta(hours=8)).all()
    assert (cycle["latest_at"] == cycle["planned_at"]).all()
    assert (cycle["amount"] == 43_200_000).all() and (cycle["unit"] == "IU").all()


def test_cycle_2_on_day_15_with_one_week_allowed_delay():
    """Cycle 2 starts on the Monday 14 days after cycle 1 and may start up to 7 days later."""
    cycle = _cycle(plan_treatment("A", 1, MONDAY, "72 kg"), 2)
    assert cycle["planned_at"].iloc[0] == T("2024-03-18 08:00")
    assert cycle["latest_at"].iloc[0] == T("2024-03-25 08:00")
    assert cycle["latest_at"].iloc[0].day_name() == "Monday"
    assert "16 days" in cycle["rule"].iloc[0]


def test_first_course_holds_at_most_28_doses():
    """The two planned cycles hold 28 dose slots, the protocol's maximum over two cycles."""
    assert len(_events(plan_treatment("B", 5, MONDAY, "72 kg"), "il2_dose")) == 28


def test_a_date_gets_the_default_first_dose_time_and_a_note():
    """A date alone is planned at 08:00 and says so; a date and time keeps its time."""
    by_date = plan_treatment("A", 1, dt.date(2024, 3, 4), "72 kg")
    assert by_date.il2_start == T("2024-03-04 08:00")
    assert "08:00" in by_date.notes[0]
    by_time = plan_treatment("A", 1, "2024-03-04T16:00", "72 kg")
    assert by_time.il2_start == T("2024-03-04 16:00")
    assert by_time.notes == ()
    assert _cycle(by_time, 1)["planned_at"].iloc[2] == T("2024-03-05 08:00")


def test_scans_at_weeks_7_14_21_with_their_window():
    """Scans 7, 14 and 21 weeks after the first dose, each allowed up to 7 days later."""
    scans = _events(plan_treatment("B", 3, MONDAY, "72 kg"), "assessment")
    assert scans["planned_at"].tolist() == [T("2024-04-22"), T("2024-06-10"), T("2024-07-29")]
    assert (scans["latest_at"] - scans["planned_at"]).eq(pd.Timedelta(days=7)).all()
    assert scans["cycle"].isna().all()
    assert scans["amount"].isna().all()
    assert "week 14" in scans["label"][1]


def test_responder_cycles_follow_the_scans():
    """Four responder cycles: courses from the Mondays the week 7 and week 14 windows close."""
    plan = plan_treatment("B", 3, MONDAY, "72 kg", responder_cycles=4)
    starts = plan.cycles().set_index("cycle")["planned_start"]
    assert starts.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert starts[3] == T("2024-04-29 08:00")  # week 7 scan 2024-04-22 + 7 days
    assert starts[4] == starts[3] + pd.Timedelta(days=14)
    assert starts[5] == T("2024-06-17 08:00")  # week 14 scan 2024-06-10 + 7 days
    assert starts[6] == starts[5] + pd.Timedelta(days=14)
    assert all(day.day_name() == "Monday" for day in starts)
    assert "responder" in plan.cycles().set_index("cycle").loc[3, "rule"]


@pytest.mark.parametrize("count", [5, -1, 1.0, True])
def test_too_many_responder_cycles_is_refused(count):
    """At most 4 responder cycles, as a whole number."""
    with pytest.raises(ValueError, match="from 0 to 4"):
        plan_treatment("B", 3, MONDAY, "72 kg", responder_cycles=count)


def test_monday_start_is_accepted_tuesday_refused_with_nearest_mondays():
    """IL-2 starts on a Monday; a Tuesday names the Mondays before and after."""
    assert parse_il2_start("2024-03-04").day_name() == "Monday"
    with pytest.raises(ValueError, match="2024-03-04 and 2024-03-11") as error:
        plan_treatment("A", 1, "2024-03-05", "72 kg")
    assert "Tuesday" in str(error.value)


def test_sunday_start_names_the_monday_after_the_day_before():
    """A Sunday's nearest Mondays are six days before and the next day."""
    with pytest.raises(ValueError, match="2024-03-04 and 2024-03-11"):
        plan_treatment("A", 1, "2024-03-10", "72 kg")


@pytest.mark.parametrize("start", ["not a date", "2024-13-01", "", None, 20240304])
def test_unreadable_start_is_refused(start):
    """A start that is not a date asks for an ISO date."""
    with pytest.raises(ValueError, match="ISO date"):
        plan_treatment("A", 1, start, "72 kg")


@pytest.mark.parametrize("arm", ["C", "a", "", None, 1])
def test_unknown_arm_is_refused(arm):
    """Only arms A and B exist."""
    with pytest.raises(ValueError, match="'A' or 'B'"):
        plan_treatment(arm, 1, MONDAY, "72 kg")


@pytest.mark.parametrize("number", [0, -3, 1.5, 21.0, "21", True, None])
def test_bad_enrollment_number_is_refused(number):
    """Enrollment numbers are whole numbers from 1."""
    with pytest.raises(ValueError, match="whole number from 1"):
        plan_treatment("B", number, MONDAY, "72 kg")


@pytest.mark.parametrize(
    ("weight", "message"),
    [("72", "unit is missing"), ("72 cm", "units of kg"), ("301 kg", "plausible"), (72, "no unit")],
)
def test_bad_weight_is_refused_by_the_plan(weight, message):
    """The plan refuses the weights the dose arithmetic refuses."""
    with pytest.raises(ValueError, match=message):
        plan_treatment("B", 1, MONDAY, weight)


def test_crossover_plan_single_fraction():
    """Crossover, enrollment 1-20: one fraction on the Friday, cycles 3 and 4, a scan at 7 wk."""
    plan = plan_crossover(5, "2024-05-06", "72 kg", patient_id="P004")
    assert plan.arm == "A" and plan.fractions == 1
    sbrt = _events(plan, "sbrt_fraction")
    assert sbrt["planned_at"].tolist() == [T("2024-05-03")]
    assert sbrt["cycle"].tolist() == [3]
    cycles = plan.cycles().set_index("cycle")
    assert cycles.index.tolist() == [3, 4]
    assert cycles.loc[3, "planned_start"] == T("2024-05-06 08:00")
    assert cycles.loc[3, "latest_start"] == cycles.loc[3, "planned_start"]
    assert cycles.loc[4, "planned_start"] == T("2024-05-20 08:00")
    assert cycles.loc[4, "latest_start"] == T("2024-05-27 08:00")
    scans = _events(plan, "assessment")
    assert scans["planned_at"].tolist() == [T("2024-06-24")]
    assert scans["latest_at"].tolist() == [T("2024-07-01")]
    assert "Crossover" in scans["rule"][0]


def test_crossover_plan_two_fractions_from_enrollment_21():
    """Crossover, enrollment 21 on: Wednesday and Friday before cycle 3."""
    sbrt = _events(plan_crossover(21, "2024-05-06", "72 kg"), "sbrt_fraction")
    assert sbrt["planned_at"].tolist() == [T("2024-05-01"), T("2024-05-03")]
    assert "cycle 3" in sbrt["rule"][1]


def test_crossover_plan_refuses_a_tuesday():
    """Cycle 3 also starts on a Monday."""
    with pytest.raises(ValueError, match="Monday"):
        plan_crossover(5, "2024-05-07", "72 kg")


def test_combined_plan_keeps_both_courses():
    """A first course followed by a crossover holds cycles 1-4 and one SBRT course; the
    first course's scans after the crossover SBRT (weeks 14 and 21) give way to the crossover
    response scan, and a note says so."""
    first = plan_treatment("A", 5, MONDAY, "72 kg", patient_id="P004")
    plan = first.combined_with(plan_crossover(5, "2024-05-06", "72 kg", patient_id="P004"))
    assert plan.cycles()["cycle"].tolist() == [1, 2, 3, 4]
    assert plan.fractions == 1
    scans = _events(plan, "assessment")
    assert scans["label"].str.split(":").str[0].tolist() == [
        "Scan week 7",
        "Scan crossover response",
    ]
    assert scans["planned_at"].tolist() == [T("2024-04-22"), T("2024-06-24")]
    [note] = [n for n in plan.notes if n.startswith("Left out")]
    assert "Scan week 14 (Mon 2024-06-10) and Scan week 21 (Mon 2024-07-29)" in note
    assert "Fri 2024-05-03" in note
    assert len(plan.notes) == len(set(plan.notes))
    assert plan.events["planned_at"].is_monotonic_increasing


def test_combined_plan_keeps_a_scan_due_before_the_crossover():
    """A crossover after the week 14 scan keeps weeks 7 and 14 and drops only week 21."""
    first = plan_treatment("A", 5, MONDAY, "72 kg")
    plan = first.combined_with(plan_crossover(5, "2024-06-24", "72 kg"))
    labels = _events(plan, "assessment")["label"].str.split(":").str[0].tolist()
    assert labels == ["Scan week 7", "Scan week 14", "Scan crossover response"]


def test_plans_of_different_patients_do_not_combine():
    """Combining plans of two enrollment numbers is refused."""
    with pytest.raises(ValueError, match="different patients"):
        plan_treatment("A", 5, MONDAY, "72 kg").combined_with(
            plan_crossover(6, "2024-05-06", "72 kg")
        )


def test_crossover_start_from_the_last_fraction():
    """The crossover starts on the Monday after the last (Friday) fraction."""
    assert crossover_start(last_fraction_on="2024-05-03") == dt.date(2024, 5, 6)


def test_crossover_start_refuses_a_last_fraction_off_friday():
    """A last fraction on a Thursday is refused, naming the Fridays around it."""
    with pytest.raises(ValueError, match="2024-04-26 or 2024-05-03"):
        crossover_start(last_fraction_on="2024-05-02")


@pytest.mark.parametrize(
    ("progressed", "number", "start"),
    [
        ("2024-04-22", 5, dt.date(2024, 4, 29)),  # Monday: fraction that Friday
        ("2024-04-26", 5, dt.date(2024, 5, 6)),  # Friday: the fraction is the next Friday
        ("2024-04-22", 21, dt.date(2024, 4, 29)),  # Monday: Wednesday and Friday that week
        ("2024-04-24", 21, dt.date(2024, 5, 6)),  # Wednesday: the next Wednesday and Friday
    ],
)
def test_crossover_start_from_progression(progressed, number, start):
    """From a progression date: the first fractions after it, then the Monday after them."""
    assert crossover_start(progressed_on=progressed, enrollment_number=number) == start


def test_registry_phrase_cites_the_interval_the_reading_interprets():
    """Rules cite the registry's own words for the second cycle, found in its quotes."""
    plan = plan_treatment("A", 1, MONDAY, "72 kg")
    assert "reading of the registry's 'planned 16 days after cycle 1'" in _cycle(plan, 2)["rule"][0]
    crossover = plan_crossover(1, "2024-05-06", "72 kg")
    assert "'planned 16 days after cycle 3'" in _cycle(crossover, 4)["rule"][0]
    with pytest.raises(ValueError, match="no"):
        registry_phrase("a sentence without the interval")


def test_protocol_rules_word_every_rule_with_its_numbers_and_source():
    """The rules table gives each scheduling rule with the protocol's numbers and source."""
    rules = protocol_rules().set_index("what")
    assert set(rules["source"]) == {"registry", "reading", "label"}
    assert "14 doses per cycle and 28 over 2 cycles" in rules.loc["IL-2", "rule"]
    assert "enrollment 1-20: 1 fraction on the Friday" in rules.loc["SBRT", "rule"]
    assert "enrollment 21 on: 2 fractions on the Wednesday and Friday" in rules.loc["SBRT", "rule"]
    assert "weeks 7, 14 and 21" in rules.loc["scans", "rule"]
    assert rules.loc["cycle 2", "source"] == "reading"


def test_crossover_start_needs_exactly_one_date_and_an_enrollment_number():
    """Neither or both dates, or a progression date alone, are refused."""
    with pytest.raises(ValueError, match="either"):
        crossover_start()
    with pytest.raises(ValueError, match="either"):
        crossover_start(last_fraction_on="2024-05-03", progressed_on="2024-04-22")
    with pytest.raises(ValueError, match="enrollment_number.*1-20: 1 fraction, 21 on: 2"):
        crossover_start(progressed_on="2024-04-22")


def test_crossover_start_gives_a_date_the_plan_times_at_08_00():
    """The helper's date plans the first crossover dose at the default time."""
    start = crossover_start(last_fraction_on="2024-05-03")
    plan = plan_crossover(5, start, "72 kg")
    assert plan.il2_start == T("2024-05-06 08:00")


def test_preparation_table_of_the_plan():
    """A plan carries its dose preparation table."""
    table = plan_treatment("B", 1, MONDAY, "176 lb").preparation_table()
    assert table.loc[table["unit"] == "MIU", "shown"].item() == "47.9 MIU"


def _dosing(rows):
    columns = ["patient_id", "treatment", "cycle", "number", "scheduled_at"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["scheduled_at"] = pd.to_datetime(frame["scheduled_at"])
    return frame


def test_plan_for_patient_from_the_scheduled_first_slot():
    """A trial-folder patient is planned from the scheduled first IL-2 slot and weight."""
    randomization = {"patient_id": "X1", "arm": "B", "enrollment_number": 21, "crossover": False}
    dosing = _dosing([("X1", "il2", 1, 1, "2024-03-04T08:00")])
    plan = plan_for_patient(randomization, "72 kg", dosing)
    assert plan.il2_start == T("2024-03-04 08:00")
    assert plan.fractions == 2
    assert plan.patient_id == "X1"


def test_plan_for_patient_moves_an_off_monday_schedule_with_a_note():
    """A schedule on a Wednesday is drawn from that week's Monday, and the note says so."""
    randomization = {"patient_id": "X1", "arm": "A", "enrollment_number": 3, "crossover": "N"}
    dosing = _dosing([("X1", "il2", 1, 1, "2024-03-06T08:00")])
    plan = plan_for_patient(randomization, "72 kg", dosing)
    assert plan.il2_start == T("2024-03-04 08:00")
    assert "Wed 2024-03-06" in plan.notes[0]


def test_plan_for_patient_without_doses_uses_the_planned_start():
    """Without dosing records, arm B's planned SBRT day leads to the Monday after it."""
    randomization = {"patient_id": "X1", "arm": "B", "enrollment_number": 3, "crossover": False}
    plan = plan_for_patient(
        randomization, "72 kg", _dosing([]), planned_start_at=T("2024-03-01 10:00")
    )
    assert plan.il2_start == T("2024-03-04 10:00")
    assert "screening" in plan.notes[0]
    with pytest.raises(ValueError, match="no date to plan from"):
        plan_for_patient(randomization, "72 kg", _dosing([]))


def test_plan_for_patient_adds_the_crossover():
    """A crossover patient's plan holds the crossover from the scheduled cycle 3, and one
    scan per purpose (no week 21 scan beside the crossover response scan)."""
    randomization = {"patient_id": "X1", "arm": "A", "enrollment_number": 3, "crossover": True}
    dosing = _dosing(
        [("X1", "il2", 1, 1, "2024-03-04T08:00"), ("X1", "il2", 3, 1, "2024-05-06T08:00")]
    )
    plan = plan_for_patient(randomization, "72 kg", dosing)
    assert plan.cycles()["cycle"].tolist() == [1, 2, 3, 4]
    assert _events(plan, "sbrt_fraction")["planned_at"].tolist() == [T("2024-05-03")]
    scans = _events(plan, "assessment")
    assert len(scans) == 2 and "crossover" in scans["label"].iloc[-1]


def test_plan_for_patient_plans_responder_cycles_seen_in_the_records():
    """A non-crossover patient with cycle 4 in the records gets responder cycles 3 and 4."""
    randomization = {"patient_id": "X1", "arm": "B", "enrollment_number": 3, "crossover": False}
    dosing = _dosing(
        [("X1", "il2", 1, 1, "2024-03-04T08:00"), ("X1", "il2", 4, 1, "2024-05-13T08:00")]
    )
    plan = plan_for_patient(randomization, "72 kg", dosing)
    assert plan.cycles()["cycle"].tolist() == [1, 2, 3, 4]
    assert _events(plan, "sbrt_fraction")["cycle"].tolist() == [1]


def test_bundled_demo_patient_plan(data_dir):
    """P001 of the bundled cohort (arm B) is planned with SBRT before its first cycle."""
    from studylib.data import load_cohort

    patient = load_cohort(data_dir, patients=["P001"]).patient("P001")
    randomization = patient["randomization"].iloc[0].to_dict()
    screening = patient["screening"].iloc[0]
    plan = plan_for_patient(randomization, screening["weight"], patient["dosing"])
    assert plan.arm == "B"
    assert plan.fractions >= 1
    assert plan.il2_start.day_name() == "Monday"


def test_overview_has_one_row_per_fraction_cycle_and_scan():
    """The overview lists 2 fractions, 2 cycles (with their allowed delay) and 3 scans."""
    overview = plan_treatment("B", 21, MONDAY, "72 kg").overview()
    assert (
        overview["event"].tolist() == ["sbrt_fraction"] * 2 + ["il2_cycle"] * 2 + ["assessment"] * 3
    )
    cycle_2 = overview[overview["event"] == "il2_cycle"].iloc[1]
    assert cycle_2["planned_at"] == T("2024-03-18 08:00")
    assert cycle_2["latest_at"] == T("2024-03-25 08:00")
    assert "last slot Fri 2024-03-22 16:00" in cycle_2["what"]
    assert overview["rule"].str.len().gt(0).all()


def test_every_bad_input_is_reported_at_once():
    """Several invalid inputs are listed together, each saying what would be valid."""
    with pytest.raises(ValueError, match="4 problems") as error:
        plan_treatment("C", 0, "2024-03-05", "72")
    message = str(error.value)
    for part in ("'A' or 'B'", "whole number from 1", "nearest Mondays", "unit is missing"):
        assert part in message


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("03/04/2024", "is not an ISO 8601 date"),
        ("now", "is not an ISO 8601 date"),
        ("today", "is not an ISO 8601 date"),
        ("2024-3-4", "is not an ISO 8601 date"),
        ("2262-05-01", "cannot be planned: a plan must start by 2252-04-11"),
        (dt.date(2262, 5, 1), "cannot be planned"),
        ("9999-01-01", "cannot be planned"),
    ],
)
def test_start_dates_are_iso_and_plannable(start, message):
    """'03/04/2024' (4 March or 3 April?), 'now' and dates pandas cannot hold are ValueErrors
    naming the input."""
    with pytest.raises(ValueError, match=message) as error:
        plan_treatment("B", 21, start, "72 kg")
    assert repr(start) in str(error.value)


def test_a_start_with_a_time_zone_keeps_its_wall_time():
    """An aware start is planned at the time written (the ward's clock)."""
    aware = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    plan = plan_treatment("B", 21, aware, "72 kg")
    first = plan.events[plan.events["event"] == "il2_dose"]["planned_at"].iloc[0]
    assert first == pd.Timestamp("2024-03-04 09:00")


@pytest.mark.parametrize("patient_id", ["../x", "a b", "", "=HYPERLINK(1)", 7])
def test_patient_id_must_be_a_trial_folder_id(patient_id):
    """The id names calendar events and files, so it follows the trial folder's id rule."""
    with pytest.raises(ValueError, match="patient id .* is not valid"):
        plan_treatment("A", 1, "2024-03-04", "72 kg", patient_id=patient_id)
    with pytest.raises(ValueError, match="patient id .* is not valid"):
        plan_crossover(1, "2024-03-04", "72 kg", patient_id=patient_id)
