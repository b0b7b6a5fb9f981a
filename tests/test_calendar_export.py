"""The plan exported as CSV and as an iCalendar file that a calendar library reads back."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

import icalendar
import pandas as pd
import pytest

from studylib.calendar_export import plan_table, plan_to_calendar, plan_to_csv, plan_to_ics
from studylib.schedule import plan_crossover, plan_treatment

STAMP = dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC)


@pytest.fixture
def plan():
    """Arm B, enrollment 21 (two fractions), 72 kg, IL-2 from Monday 2024-03-04."""
    return plan_treatment("B", 21, "2024-03-04", "72 kg", patient_id="P001")


def _read(data: bytes) -> list:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_ics_has_one_event_per_fraction_cycle_and_scan(plan, tmp_path):
    """2 fractions + 2 IL-2 cycles + 3 scans = 7 events, read back by icalendar."""
    path = tmp_path / "P001.ics"
    data = plan_to_ics(plan, path, stamp=STAMP)
    assert path.read_bytes() == data
    events = _read(data)
    assert len(events) == 7
    categories = [str(e.get("categories").cats[0]) for e in events]
    assert categories.count("SBRT") == 2
    assert categories.count("IL-2") == 2
    assert categories.count("Imaging") == 3


def test_ics_dates_and_summaries(plan):
    """Fractions are all-day on Wed/Fri, cycles run Mon 08:00-Fri 16:00, scans span windows."""
    events = {str(e.get("uid")).split("@")[0]: e for e in _read(plan_to_ics(plan, stamp=STAMP))}
    fraction = events["p001-sbrt-c1-n1"]
    assert fraction.decoded("dtstart") == dt.date(2024, 2, 28)
    assert fraction.decoded("dtend") == dt.date(2024, 2, 29)
    assert str(fraction.get("summary")) == "P001: SBRT fraction 1 of 2: 20 Gy"
    assert events["p001-sbrt-c1-n2"].decoded("dtstart") == dt.date(2024, 3, 1)
    cycle = events["p001-il2-c2"]
    assert cycle.decoded("dtstart") == dt.datetime(2024, 3, 18, 8)
    assert cycle.decoded("dtend") == dt.datetime(2024, 3, 22, 16)
    assert str(cycle.get("summary")) == "P001: IL-2 cycle 2, up to 14 doses of 43.2 MIU"
    description = str(cycle.get("description"))
    assert "may start as late as Mon 2024-03-25 08:00" in description
    assert "43,200,000 IU = 43.2 MIU = 2.64 mg" in description
    assert "prepare 2 vial(s) of 22 MIU" in description
    assert "14 Fri 16:00" in description
    scan = events["p001-scan-week-7"]
    assert scan.decoded("dtstart") == dt.date(2024, 4, 22)
    assert scan.decoded("dtend") == dt.date(2024, 4, 30)  # exclusive: the window ends 04-29
    assert str(scan.get("summary")) == "P001: Scan week 7 (by Mon 2024-04-29)"


def test_dose_in_the_calendar_multiplies_out_for_a_weight_in_pounds():
    """For 182 lb the description shows the weight to the gram and the dose to 1,000 IU, so
    600,000 IU/kg x the weight shown gives the IU shown."""
    plan = plan_treatment("A", 2, "2024-03-04", "182 lb", patient_id="P003")
    [cycle] = [e for e in _read(plan_to_ics(plan, stamp=STAMP)) if "c1@" in str(e.get("uid"))]
    description = str(cycle.get("description"))
    assert "Dose: 49,532,000 IU = 49.5 MIU" in description
    assert "for 82.554 kg" in description
    assert round(600_000 * 82.554, -3) == 49_532_000


def test_every_event_says_its_rule(plan):
    """Each event's description carries the protocol rule behind its date."""
    for event in _read(plan_to_ics(plan, stamp=STAMP)):
        assert "Rule: " in str(event.get("description"))


def test_uids_are_stable_and_unique(plan):
    """The same plan gives the same ids; ids are unique, also across a combined crossover."""
    first = [str(e.get("uid")) for e in _read(plan_to_ics(plan, stamp=STAMP))]
    again = [str(e.get("uid")) for e in _read(plan_to_ics(plan))]
    assert first == again
    assert len(set(first)) == len(first)
    combined = plan_treatment("A", 5, "2024-03-04", "72 kg", patient_id="P004").combined_with(
        plan_crossover(5, "2024-05-06", "72 kg", patient_id="P004")
    )
    uids = [str(e.get("uid")) for e in _read(plan_to_ics(combined, stamp=STAMP))]
    # 1 fraction, 4 cycles, and the week 7 and crossover response scans
    assert len(uids) == len(set(uids)) == 1 + 4 + 2
    assert "p004-scan-crossover-response@studylib.nct01416831" in uids


def test_same_stamp_gives_identical_bytes(plan):
    """With a fixed DTSTAMP the file is byte-identical from run to run."""
    assert plan_to_ics(plan, stamp=STAMP) == plan_to_ics(plan, stamp=STAMP)


def test_plan_without_patient_id_is_named_by_enrollment():
    """A new patient's calendar is named after the enrollment number."""
    plan = plan_treatment("A", 7, "2024-03-04", "72 kg")
    calendar = plan_to_calendar(plan, stamp=STAMP)
    assert str(calendar.get("x-wr-calname")).startswith("enrollment 7")
    uids = [str(e.get("uid")) for e in calendar.walk("VEVENT")]
    assert "enrollment-7-il2-c1@studylib.nct01416831" in uids


def test_csv_round_trip(plan, tmp_path):
    """The CSV holds every event with patient, times in ISO format, and rules."""
    path = tmp_path / "plan.csv"
    text = plan_to_csv(plan, path)
    assert path.read_text(encoding="utf-8") == text
    table = pd.read_csv(io.StringIO(text))
    assert len(table) == len(plan.events)
    assert table.columns[:3].tolist() == ["patient_id", "arm", "enrollment_number"]
    assert (table["patient_id"] == "P001").all()
    first_dose = table[(table["event"] == "il2_dose") & (table["cycle"] == 1)].iloc[0]
    assert first_dose["planned_at"] == "2024-03-04T08:00"
    assert first_dose["amount"] == 43_200_000
    assert table["rule"].notna().all()
    assert plan_table(plan)["latest_at"].iloc[0] == "2024-02-28T00:00"


def test_exports_leave_no_partial_file(tmp_path):
    """Written files appear whole, with no temporary file left beside them."""
    plan = plan_treatment("B", 21, "2024-03-18", "72 kg")
    plan_to_ics(plan, tmp_path / "plan.ics")
    plan_to_csv(plan, tmp_path / "plan.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv", "plan.ics"]
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8") == plan_to_csv(plan)


@pytest.mark.parametrize(
    "patient_id", ['=HYPERLINK("http://example.org","open")', "+1+2", "-2+3", "@SUM(A1)"]
)
def test_csv_never_holds_a_formula(patient_id):
    """Text a spreadsheet would run as a formula is written after an apostrophe (the planner
    refuses such an id, so the plan is given it afterwards, as a hand-made plan could be)."""
    plan = replace(plan_treatment("B", 21, "2024-03-04", "72 kg"), patient_id=patient_id)
    table = pd.read_csv(io.StringIO(plan_to_csv(plan)), dtype=str, keep_default_na=False)
    assert set(table["patient_id"]) == {"'" + patient_id}
    assert not any(
        cell[:1] in "=+-@" and not cell.lstrip("+-").replace(".", "").isdigit()
        for cell in table.to_numpy().ravel()
        if cell
    )
