"""Dose delivery, lab grades over time, each slot judged, and adverse events by arm."""

from __future__ import annotations

import pandas as pd
import pytest

from studylib.data import load_cohort
from studylib.protocol import PROTOCOL
from studylib.safety.delivery import dose_delivery, hold_reason_category, recorded_action
from studylib.safety.events import adverse_event_tables, as_counts
from studylib.safety.labs import lab_grades
from studylib.safety.slots import judge_slots

T = pd.Timestamp


def _dosing(rows):
    """IL-2 slots: (patient, cycle, number, status, reason), dose 48 MIU, 8 h apart."""
    frame = pd.DataFrame(rows, columns=["patient_id", "cycle", "number", "status", "hold_reason"])
    frame.insert(1, "treatment", "il2")
    start = T("2024-03-04 08:00")
    frame["scheduled_at"] = [
        start + pd.Timedelta(days=14 * (c - 1), hours=8 * (n - 1))
        for c, n in zip(frame["cycle"], frame["number"], strict=True)
    ]
    frame["given_at"] = frame["scheduled_at"].where(frame["status"] == "given")
    frame["dose"] = "48000000 IU"
    return frame


@pytest.fixture
def small():
    """Two patients, arm A and B, 80 kg (48 MIU planned per dose), a few slots each."""
    stop = "cycle stopped after dose slot 3: ABS-URINE Urine output (absolute criterion: stop)"
    dosing = _dosing(
        [
            ("X1", 1, 1, "given", None),
            ("X1", 1, 2, "held", "REL-HR Sinus tachycardia (relative criterion: hold): ..."),
            ("X1", 1, 3, "given", None),
            ("X1", 1, 4, "held", stop),
            ("X1", 1, 5, "held", stop),
            ("X2", 1, 1, "given", None),
            ("X2", 1, 2, "given", None),
            ("X2", 2, 1, "given", None),
        ]
    )
    randomization = pd.DataFrame({"patient_id": ["X1", "X2"], "arm": ["A", "B"]})
    screening = pd.DataFrame(
        {
            "patient_id": ["X1", "X2"],
            "weight": ["80 kg", "176.37 lb"],
            "creatinine": ["1.0 mg/dL", "0.8 mg/dL"],
        }
    )
    return dosing, randomization, screening


def test_recorded_action_names_the_stop_slot(small):
    dosing, _, _ = small
    assert recorded_action(dosing).tolist() == [
        "give",
        "hold",
        "give",
        "stop",
        "stopped",
        "give",
        "give",
        "give",
    ]


def test_dose_delivery_counts_and_intensity(small):
    dosing, randomization, screening = small
    delivery = dose_delivery(dosing, randomization, screening)
    per = delivery.cycles.set_index(["patient_id", "cycle"])
    max_doses = PROTOCOL.il2.max_doses_per_cycle
    assert per.loc[("X1", 1), ["given", "held", "stopped"]].tolist() == [2, 1, 2]
    # 2 doses of 48 MIU against max_doses x 600,000 IU/kg x 80 kg
    assert per.loc[("X1", 1), "rdi"] == pytest.approx(100 * 2 / max_doses)
    course = delivery.courses.set_index("patient_id")
    assert course.loc["X2", "given"] == 3 and course.loc["X2", "course"] == 1
    assert course.loc["X2", "rdi"] == pytest.approx(
        100 * 3 / PROTOCOL.il2.max_doses_first_course, rel=1e-4
    )
    by_cycle = delivery.by_cycle.set_index(["arm", "cycle"])
    assert by_cycle.loc[("B", 1), ["patients", "median", "min", "max"]].tolist() == [1, 2, 2, 2]
    reasons = delivery.hold_reasons.set_index(["kind", "reason"])
    assert reasons.loc[("held", "Sinus tachycardia (relative)"), "events"] == 1
    assert reasons.loc[("stopped", "Urine output (absolute)"), "events"] == 1  # a cycle, once


def test_dose_delivery_follows_the_variant_protocol(small, variant_protocol):
    dosing, randomization, screening = small
    randomization = randomization.assign(arm=["C", "R"])
    delivery = dose_delivery(dosing, randomization, screening, protocol=variant_protocol)
    assert set(delivery.cycles["planned"]) == {variant_protocol.il2.max_doses_per_cycle}
    # 3 cycles per course in the variant: X2's cycles 1 and 2 are one course
    assert delivery.courses.set_index("patient_id").loc["X2", "given"] == 3


def test_hold_reason_category():
    assert hold_reason_category("LBL-SBP Hypotension (withhold criterion: hold): x") == (
        "Hypotension (withhold)"
    )
    assert hold_reason_category("cycle stopped after dose slot 2: 3 relative criteria at once") == (
        "relative criteria at once"
    )
    assert hold_reason_category("") == "not recorded"
    assert hold_reason_category("diarrhoea 1000 mL over the shift; treated") == (
        "diarrhoea 1000 mL over the shift"
    )


def test_lab_grades_use_limits_and_screening_baseline(small):
    _, _, screening = small
    labs = pd.DataFrame(
        {
            "patient_id": ["X1", "X1", "X2"],
            "collected_at": [T("2024-03-04 06:00"), T("2024-03-05 06:00"), T("2024-03-04 06:00")],
            "creatinine": ["1.0 mg/dL", "3.2 mg/dL", "1.3 mg/dL"],
            "creatinine_uln": ["1.2 mg/dL", "1.2 mg/dL", "1.2 mg/dL"],
            "platelets": ["160 x10^9/L", "45000/uL", ""],
            "platelets_lln": ["150 x10^9/L", "150 x10^9/L", "150 x10^9/L"],
        }
    )
    grades = lab_grades(labs, screening)
    got = grades.set_index(["patient_id", "test"]).sort_index()["grade"]
    # X1 creatinine 3.2: 2.67 x ULN (grade 2) but 3.2 x the 1.0 baseline (grade 3)
    assert got.loc[("X1", "creatinine")].tolist() == [0, 3]
    assert got.loc[("X1", "platelets")].tolist() == [0, 3]
    # X2 creatinine 1.3: 1.08 x ULN (grade 1) and 1.63 x the 0.8 baseline (grade 2)
    assert got.loc[("X2", "creatinine")].tolist() == [2]
    assert ("X2", "platelets") not in got.index
    assert set(grades["term"]) == {"Creatinine increased", "Platelet count decreased"}


def test_each_slot_judged_beside_what_was_recorded(small):
    dosing, _, screening = small
    vitals = pd.DataFrame(
        {
            "patient_id": ["X1", "X1", "X1", "X1"],
            "cycle": [1, 1, 1, 1],
            "number": [1, 2, 3, 4],
            "measured_at": [
                T("2024-03-04 07:30"),
                T("2024-03-04 15:30"),
                T("2024-03-04 23:30"),
                T("2024-03-05 07:30"),
            ],
            "heart_rate": ["88 bpm", "112 bpm", "95 bpm", "96 bpm"],
            "urine_output_8h": ["400 mL", "300 mL", "250 mL", "60 mL"],
            "weight": ["80 kg", "81 kg", "82 kg", "83 kg"],
        }
    )
    labs = pd.DataFrame(
        {
            "patient_id": ["X1", "X1"],
            "collected_at": [T("2024-03-04 06:00"), T("2024-03-05 06:00")],
            "creatinine": ["1.1 mg/dL", "2.0 mg/dL"],
        }
    )
    slots = judge_slots(dosing, vitals, labs, screening)
    x1 = slots[slots["patient_id"] == "X1"].set_index("number")
    assert x1["action"].tolist() == ["give", "hold", "give", "stop", ""]
    assert x1["recorded"].tolist() == ["give", "hold", "give", "stop", "stopped"]
    assert x1["agrees"].tolist()[:4] == [True, True, True, True]
    assert pd.isna(x1.loc[5, "agrees"])
    assert x1.loc[4, "creatinine"] == "2.0 mg/dL"  # the panel drawn before the slot
    assert x1.loc[3, "creatinine"] == "1.1 mg/dL"
    assert x1.loc[4, "criteria_met"] == "ABS-URINE"
    assert x1.loc[2, "reasons"].startswith("REL-HR Sinus tachycardia")
    assert not slots.loc[slots["patient_id"] == "X2", "assessed"].any()


def test_adverse_event_tables_in_the_results_layout(small):
    dosing, randomization, _ = small
    events = pd.DataFrame(
        {
            "patient_id": ["X1", "X1", "X2", "X2", "X1"],
            "ae_id": ["1", "2", "1", "2", "3"],
            "term": ["Hypotension", "Fever", "hypotension", "Sepsis", "Fatigue"],
            "grade": pd.array([3, 1, 2, 4, 2], dtype="Int64"),
            "start_date": [
                T("2024-03-04"),
                T("2024-03-04"),
                T("2024-03-05"),
                T("2024-03-18"),
                T("2024-06-01"),
            ],
            "serious": pd.array([False, False, False, True, False], dtype="boolean"),
        }
    )
    followup = pd.DataFrame({"patient_id": ["X1", "X2"], "died_on": [pd.NaT, T("2024-04-01")]})
    tables = adverse_event_tables(events, dosing, randomization, followup)
    assert tables.mortality.set_index("arm")["deaths"].to_dict() == {"A": 0, "B": 1}
    serious = tables.serious.set_index(["term", "arm"])
    assert serious.loc[("Sepsis", "B"), ["affected", "at_risk", "events"]].tolist() == [1, 1, 1]
    assert serious.loc[("Total", "A"), "affected"] == 0
    other = tables.other.set_index(["term", "arm"])
    assert other.loc[("Hypotension", "A"), "affected"] == 1  # 'hypotension' is the same term
    assert other.loc[("Hypotension", "B"), "affected"] == 1
    assert other.loc[("Total", "A"), "events"] == 2
    grade3 = tables.grade3.set_index(["term", "arm"])
    assert (
        grade3.loc[("Total", "A"), "affected"] == 1 and grade3.loc[("Sepsis", "B"), "events"] == 1
    )
    worst = tables.worst_grade.set_index("patient_id")
    assert worst.loc["X1", "worst_grade"] == 3 and worst.loc["X2", "term"] == "Sepsis"
    assert tables.not_counted["ae_id"].tolist() == ["3"]  # June: outside the 30 days
    cells = as_counts(tables.serious, {"A": "IL-2", "B": "SBRT + IL-2"})
    assert cells.columns.tolist() == [
        "soc",
        "term",
        "IL-2: affected/at risk (%)",
        "IL-2: events",
        "SBRT + IL-2: affected/at risk (%)",
        "SBRT + IL-2: events",
    ]
    assert cells.iloc[0].tolist() == ["", "Total", "0/1 (0.00%)", 0, "1/1 (100.00%)", 1]


def test_other_events_at_the_threshold_are_not_reported(small, variant_protocol):
    """Reported only above the threshold: 1 of 20 (5%) is not above 5%; 2% in the variant."""
    dosing, randomization, _ = small
    many = pd.concat([dosing.assign(patient_id=f"Y{i:02d}") for i in range(20)], ignore_index=True)
    randomization = pd.DataFrame({"patient_id": [f"Y{i:02d}" for i in range(20)], "arm": "A"})
    events = pd.DataFrame(
        {
            "patient_id": ["Y00"],
            "term": ["Nausea"],
            "grade": pd.array([1], dtype="Int64"),
            "start_date": [T("2024-03-04")],
            "serious": pd.array([False], dtype="boolean"),
        }
    )
    assert tables_terms(adverse_event_tables(events, many, randomization)) == ["Total"]
    variant = adverse_event_tables(
        events, many, randomization.assign(arm="C"), protocol=variant_protocol
    )
    assert tables_terms(variant) == ["Total", "Nausea"]


def tables_terms(tables):
    return list(dict.fromkeys(tables.other["term"]))


def test_bundled_cohort_delivery(data_dir):
    """Every IL-2 slot of the bundled cohort is counted once: given + held + stopped."""
    cohort = load_cohort(data_dir)
    delivery = dose_delivery(
        cohort.dosing, cohort.randomization, cohort.screening, protocol=cohort.protocol
    )
    il2 = cohort.dosing[cohort.dosing["treatment"] == "il2"]
    totals = delivery.cycles[["given", "held", "stopped"]].sum()
    assert totals["given"] == (il2["status"] == "given").sum()
    assert totals.sum() == len(il2)
    assert set(delivery.by_course["arm"]) == set(cohort.protocol.arm_codes)


def test_figures_draw(small, variant_protocol):
    """The delivery figure names every arm of its protocol; the patient figure draws."""
    from studylib.plots.safety import dose_delivery_figure, patient_safety_figure

    dosing, randomization, screening = small
    delivery = dose_delivery(dosing, randomization, screening)
    figure = dose_delivery_figure(delivery)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["Arm A: IL-2 monotherapy", "Arm B: SBRT + IL-2"]
    variant = dose_delivery(
        dosing, randomization.assign(arm=["C", "R"]), screening, protocol=variant_protocol
    )
    labels = [
        t.get_text()
        for t in dose_delivery_figure(variant, protocol=variant_protocol)
        .axes[0]
        .get_legend()
        .get_texts()
    ]
    assert labels[0].startswith("Arm C") and labels[-1].startswith("Maximum: 9")
    slots = judge_slots(
        dosing,
        dosing.iloc[:0].assign(measured_at=pd.NaT),
        dosing.iloc[:0].assign(collected_at=pd.NaT),
        screening,
    )
    grades = pd.DataFrame(
        {
            "patient_id": ["X1"],
            "collected_at": [T("2024-03-04")],
            "term": ["Anemia"],
            "grade": pd.array([2], dtype="Int64"),
        }
    )
    figure = patient_safety_figure(slots, grades, "X1")
    assert figure.axes[1].get_yticklabels()[0].get_text() == "Anemia"
