"""Loading a trial folder validates every value and reports every problem at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from studylib.data import load_cohort
from studylib.dictionary import TABLES
from studylib.errors import DataError


def _replace(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(folder: Path, **kwargs) -> list[str]:
    with pytest.raises(DataError) as error:
        load_cohort(folder, **kwargs)
    return [str(p) for p in error.value.problems]


def test_valid_folder_loads_with_types(tiny_trial):
    """Yes/no become booleans, numbers and dates their types; quantity text is kept as written."""
    cohort = load_cohort(tiny_trial)
    screening = cohort.screening
    assert screening["histology_confirmed"].dtype == "boolean"
    assert screening["ecog"].dtype == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(screening["screening_date"])
    assert screening.loc[1, "wbc"] == "4100/uL"
    assert screening.loc[1, "weight"] == "154 lb"
    assert pd.isna(screening.loc[0, "pregnancy_test"])
    assert cohort.notices["screening"] == "SYNTHETIC test data"
    assert cohort.patient_ids == ["T001", "T002", "T003"]


def test_every_problem_is_reported_with_file_line_column_value(tiny_trial):
    """Three bad values in two files give three problems in one error, each located."""
    _replace(tiny_trial, "screening.csv", "5.2 x10^9/L", "5.2 furlongs")
    _replace(tiny_trial, "screening.csv", "1960-05-02", "1960-15-02")
    _replace(tiny_trial, "randomization.csv", "T002,A,2", "T002,C,2")
    problems = _problems(tiny_trial)
    assert problems == [
        "screening.csv, line 3, column 'birth_date': '1960-15-02': an ISO 8601 date, "
        "such as 2024-03-04 (patient T001)",
        "screening.csv, line 3, column 'wbc': '5.2 furlongs': a number with a unit "
        "convertible to x10^9/L, such as '4.1 x10^9/L' (patient T001)",
        "randomization.csv, line 3, column 'arm': 'C': one of A, B (patient T002)",
    ]


def test_line_numbers_count_comment_lines(tiny_trial):
    """Line numbers match a text editor: the notice line and header are counted."""
    _replace(
        tiny_trial,
        "screening.csv",
        "T003,2012-03-06,1950-01-15,M,Y,2",
        "T003,2012-03-06,1950-01-15,M,Y,two",
    )
    assert _problems(tiny_trial) == [
        "screening.csv, line 5, column 'ecog': 'two': a whole number (patient T003)"
    ]


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "screening.csv",
            "T001,2012-03-01,1960-05-02,M,Y,0,",
            "T001,2012-03-01,1960-05-02,M,Y,0.5,",
            "'ecog': '0.5': a whole number",
        ),
        ("screening.csv", ",Lab North,enrolled,", ",Lab North,maybe,", "one of enrolled"),
        (
            "screening.csv",
            "T001,2012-03-01,1960-05-02,M,Y",
            "T001,2012-03-01,1960-05-02,M,perhaps",
            "'histology_confirmed': 'perhaps': yes or no",
        ),
        ("screening.csv", "154 lb", "154", "'weight': '154': a number with a unit"),
        ("screening.csv", "154 lb", "154 cm", "'weight': '154 cm': a number with a unit"),
        ("screening.csv", "T002,2012-03-05", "T0 02,2012-03-05", "an id of letters"),
        ("assessments.csv", "T002,T01,2012-03-06,31", "T002,T01,2012-03-06,-31", "from 0 to 500"),
        ("dosing.csv", "2012-03-19T08:10", "19/03/2012 08:10", "ISO 8601 datetime"),
        ("sbrt_sites.csv", "T001,S1,lung,2.5 cm", "T001,S1,lung,", "a value is required"),
    ],
)
def test_each_kind_of_bad_value(tiny_trial, name, old, new, expected):
    """Each kind of bad value is reported and named, never coerced."""
    _replace(tiny_trial, name, old, new)
    problems = _problems(tiny_trial)
    assert len(problems) >= 1
    assert any(expected in p and p.startswith(name) for p in problems), problems


def test_duplicate_ids_are_reported(tiny_trial):
    """A repeated key is a problem on the second occurrence."""
    _replace(tiny_trial, "randomization.csv", "T002,A,2", "T001,A,2")
    problems = _problems(tiny_trial)
    assert any(
        "randomization.csv, line 3, column 'patient_id': 'T001': a unique patient_id" in p
        for p in problems
    ), problems


def test_lesion_of_unknown_patient(tiny_trial):
    """A lesion whose patient was never randomised is reported."""
    _replace(tiny_trial, "lesions.csv", "T002,NT01", "T009,NT01")
    problems = _problems(tiny_trial)
    assert any(
        "lesions.csv, line 5, column 'patient_id': 'T009': a patient listed in "
        "randomization.csv" in p
        for p in problems
    ), problems


def test_assessment_of_unknown_lesion(tiny_trial):
    """A measurement of a lesion not in lesions.csv is reported."""
    _replace(tiny_trial, "assessments.csv", "T001,T02,2012-05-07", "T001,T07,2012-05-07")
    assert any(
        "'T07': a lesion of patient T001 listed in lesions.csv" in p for p in _problems(tiny_trial)
    )


def test_dates_out_of_order(tiny_trial):
    """A randomisation before screening and a birth after it are reported."""
    _replace(tiny_trial, "randomization.csv", "T001,B,1,2012-03-08", "T001,B,1,2012-02-08")
    _replace(tiny_trial, "screening.csv", "1971-11-20", "2013-11-20")
    problems = _problems(tiny_trial)
    assert any(
        "'randomized_on': '2012-02-08': a randomisation date on or after the screening" in p
        for p in problems
    ), problems
    assert any(
        "'birth_date': '2013-11-20': a birth date before the screening date" in p for p in problems
    ), problems


def test_given_dose_needs_a_time(tiny_trial):
    """A dose marked given without the time it was given is reported."""
    _replace(tiny_trial, "dosing.csv", "2012-03-19T08:10,given", ",given")
    assert any("'given_at'" in p and "status is 'given'" in p for p in _problems(tiny_trial))


def test_enrolled_without_randomization(tiny_trial):
    """Screening says enrolled but no randomisation row: reported for that patient."""
    _replace(tiny_trial, "randomization.csv", "T002,A,2,2012-03-12,N\n", "")
    problems = _problems(tiny_trial)
    assert any("needs a randomization row" in p and "'T002'" in p for p in problems), problems


def test_missing_file_and_column(tiny_trial):
    """A missing required file and a missing required column are both named."""
    (tiny_trial / "lesions.csv").unlink()
    _replace(tiny_trial, "randomization.csv", ",crossover", ",cross_over")
    problems = _problems(tiny_trial)
    assert any(p.startswith("lesions.csv") and "missing" in p for p in problems)
    assert any("randomization.csv, line 1, column 'crossover'" in p for p in problems)


def test_optional_followup_may_be_absent(tiny_trial):
    """followup.csv is optional: without it the cohort loads with an empty table."""
    (tiny_trial / "followup.csv").unlink()
    assert load_cohort(tiny_trial).followup.empty


def test_problems_of_other_patients_do_not_stop_one_patient(tiny_trial):
    """Loading for one patient ignores another patient's bad row, but not its own."""
    _replace(tiny_trial, "screening.csv", "4100/uL", "4100 per microlitre please")
    cohort = load_cohort(tiny_trial, patients=["T001"])
    assert cohort.patient("T001")["randomization"]["arm"].tolist() == ["B"]
    problems = _problems(tiny_trial, patients=["T002"])
    assert len(problems) == 1 and "'wbc'" in problems[0]


def test_unknown_patient_is_named(tiny_trial):
    """Asking for a patient who was never screened says which ids exist."""
    with pytest.raises(KeyError, match="P999.*ids look like T001"):
        load_cohort(tiny_trial).patient("P999")


def test_missing_folder():
    """A folder that does not exist is a FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="no trial data folder"):
        load_cohort("/nonexistent/trial")


def test_data_readme_documents_every_column(repo_dir):
    """data/README.md, the data dictionary, names every file and column of studylib.dictionary."""
    readme = (repo_dir / "data" / "README.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        assert f"`{table.filename}`" in readme
        for column in table.columns:
            assert f"`{column.name}`" in readme, f"{table.filename}: {column.name}"
