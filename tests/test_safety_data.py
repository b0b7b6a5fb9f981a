"""vitals.csv, labs.csv and adverse_events.csv: loaded and checked like every other file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from studylib.data import load_cohort
from studylib.errors import DataError
from studylib.safety import judge_slots


def _replace(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(folder: Path) -> list[str]:
    with pytest.raises(DataError) as error:
        load_cohort(folder)
    return [str(p) for p in error.value.problems]


def test_safety_files_load_with_types(tiny_trial):
    cohort = load_cohort(tiny_trial)
    assert cohort.vitals["number"].dtype == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(cohort.vitals["measured_at"])
    assert cohort.vitals["heart_rate"].tolist() == ["88 bpm", "96 bpm"]  # kept as written
    assert cohort.vitals["mental_status_change"].dtype == "boolean"
    assert cohort.labs["creatinine"].iloc[0] == "97 umol/L"
    assert cohort.adverse_events["grade"].tolist() == [3, 1]
    assert cohort.adverse_events["serious"].tolist() == [False, False]
    assert cohort.patient("T001")["adverse_events"]["term"].tolist() == ["Hypotension", "Fever"]


def test_the_tiny_trial_slots_are_explained_by_the_criteria(tiny_trial):
    cohort = load_cohort(tiny_trial)
    slots = judge_slots(
        cohort.dosing, cohort.vitals, cohort.labs, cohort.screening, protocol=cohort.protocol
    )
    assert slots["agrees"].tolist() == [True, True]
    assert slots["criteria_met"].tolist() == ["", "LBL-SBP"]


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "vitals.csv",
            "88 bpm",
            "88 mmHg",
            "vitals.csv, line 3, column 'heart_rate': '88 mmHg': a number with a unit convertible"
            " to bpm, such as '96 bpm'",
        ),
        (
            "vitals.csv",
            "118 mmHg",
            "118",
            "vitals.csv, line 3, column 'systolic_bp': '118': a number with a unit convertible"
            " to mmHg",
        ),
        (
            "labs.csv",
            "210 x10^9/L",
            "210 mg/dL",
            "labs.csv, line 3, column 'platelets': '210 mg/dL': a number with a unit convertible"
            " to x10^9/L",
        ),
        (
            "adverse_events.csv",
            "Hypotension,3",
            "Hypotensoin,3",
            "adverse_events.csv, line 3, column 'term': 'Hypotensoin': one of Acidosis,",
        ),
        (
            "adverse_events.csv",
            "Hypotension,3",
            "Hypotension,6",
            "adverse_events.csv, line 3, column 'grade': '6': a value from 1 to 5",
        ),
        (
            "adverse_events.csv",
            "Fever,1",
            "Chills,4",
            "adverse_events.csv, line 4, column 'grade': '4': a grade CTCAE v5.0 defines for"
            " Chills: 1, 2 and 3 (patient T001)",
        ),
        (
            "adverse_events.csv",
            "2012-03-19,2012-03-20",
            "2012-03-19,2012-03-18",
            "adverse_events.csv, line 3, column 'end_date': '2012-03-18': an end date on or after"
            " the start date (start_date) (patient T001)",
        ),
        (
            "vitals.csv",
            "T001,1,2,",
            "T001,1,9,",
            "vitals.csv, line 4, column 'number': '9': a dose slot of dosing.csv: an IL-2 row"
            " with this patient_id, cycle and number (patient T001)",
        ),
        (
            "adverse_events.csv",
            "T001,AE02",
            "T009,AE02",
            "adverse_events.csv, line 4, column 'patient_id': 'T009': a patient listed in",
        ),
    ],
)
def test_bad_safety_input_is_a_load_problem(tiny_trial, name, old, new, expected):
    """A vital sign in the wrong unit, an unknown CTCAE term, a grade out of range or not
    defined for its term, an event ending before it starts, a slot that does not exist: each
    is one problem naming file, line, column and value."""
    _replace(tiny_trial, name, old, new)
    problems = _problems(tiny_trial)
    assert any(p.startswith(expected) for p in problems), problems


def test_bundled_cohort_dosing_follows_the_criteria(data_dir):
    """Every dose slot of the bundled cohort assessed: the criteria decide what dosing.csv
    records, and every hold reason is the decision's own words."""
    cohort = load_cohort(data_dir)
    slots = judge_slots(
        cohort.dosing, cohort.vitals, cohort.labs, cohort.screening, protocol=cohort.protocol
    )
    assessed = slots[slots["assessed"]]
    assert assessed["agrees"].all()
    assert set(assessed["recorded"]) == {"give", "hold", "stop"}
    assert not slots.loc[~slots["assessed"], "recorded"].ne("stopped").any()
    held = assessed[assessed["recorded"] == "hold"]
    assert (
        held["hold_reason"] == held["reasons"].str.replace(r" Not judged.*$", "", regex=True)
    ).all()
