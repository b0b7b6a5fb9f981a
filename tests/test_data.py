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
        "convertible to x10^9/L, such as '4.1 x10^9/L'; expected a quantity in units of "
        "x10^9/L (or convertible), got fur (patient T001)",
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
        ("dosing.csv", "2012-03-19T08:10", "19/03/2012 08:10", "ISO 8601 date and time"),
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


def test_blank_lines_and_multiline_values_keep_editor_line_numbers(tiny_trial):
    """A blank line and a quoted value spanning two lines still give the editor's line."""
    _replace(tiny_trial, "screening.csv", "\nT002,", "\n\nT002,")
    _replace(tiny_trial, "screening.csv", "INCL04: ECOG 2", '"INCL04: ECOG 2,\nsee notes"')
    _replace(tiny_trial, "randomization.csv", "T002,A,2", "\nT002,A,2")
    _replace(tiny_trial, "randomization.csv", "2012-03-12,N", "2012-03-12,maybe")
    (tiny_trial / "screening.csv").write_text(
        (tiny_trial / "screening.csv").read_text(encoding="utf-8")
        + "T004,2012-03-07,,M,Y,two,,,,,,,,,,,,,,,,,,,,,,,,,,screen_failure,\n",
        encoding="utf-8",
    )
    problems = _problems(tiny_trial)
    assert "screening.csv, line 8, column 'ecog': 'two': a whole number (patient T004)" in problems
    assert any(p.startswith("randomization.csv, line 4, column 'crossover'") for p in problems)


@pytest.mark.parametrize("row", ["T002,A,2", "T002,A,2,2012-03-12,N,extra"])
def test_row_with_wrong_number_of_values(tiny_trial, row):
    """A row with too few or too many values is one problem naming its line and patient."""
    _replace(tiny_trial, "randomization.csv", "T002,A,2,2012-03-12,N", row)
    problems = _problems(tiny_trial)
    count = len(row.split(","))
    assert problems == [
        f"randomization.csv, line 3: {row!r}: 5 values, one per column of the header (line 1),"
        f" not {count}; a value holding a comma needs double quotes (patient T002)"
    ]


def test_row_with_wrong_number_of_values_fails_its_patient_alone(tiny_trial):
    """The patient of an unreadable row stays listed (so a batch runs and fails it), unread."""
    _replace(tiny_trial, "screening.csv", "T002,2012-03-05,1971-11-20,F,", "T002,2012-03-05,")
    cohort = load_cohort(tiny_trial, patients=["T001"])
    assert cohort.patient_ids == ["T001", "T002", "T003"]
    assert cohort.screening.loc[1, ["screening_date", "sex"]].isna().all()
    assert len(_problems(tiny_trial, patients=["T002"])) == 1


def test_header_problems(tiny_trial):
    """A repeated column name and a misspelt column are named; a site's extra column is kept."""
    _replace(tiny_trial, "screening.csv", ",creatinine,", ",Creatinin,")
    _replace(tiny_trial, "lesions.csv", ",site,", ",role,")
    problems = _problems(tiny_trial)
    assert (
        "screening.csv, line 2, column 'Creatinin': a column of the data dictionary "
        "(data/README.md): did you mean 'creatinine'?" in problems
    )
    assert any(
        p.startswith("lesions.csv, line 1, column 'role': each column named once") for p in problems
    )


def test_extra_columns_are_kept_as_text(tiny_trial):
    """A column the dictionary does not know (and is no misspelling) stays, unchecked."""
    _replace(tiny_trial, "randomization.csv", ",crossover\n", ",crossover,site_note\n")
    for row in ("T001,B,1,2012-03-08,N", "T002,A,2,2012-03-12,N"):
        _replace(tiny_trial, "randomization.csv", row + "\n", row + ",ok\n")
    assert load_cohort(tiny_trial).randomization["site_note"].tolist() == ["ok", "ok"]


def test_file_that_is_not_utf8(tiny_trial):
    """A file saved in another encoding is named with the line of the first foreign byte."""
    path = tiny_trial / "screening.csv"
    text = path.read_text(encoding="utf-8").replace("Lab South", "Laboratoire Sud é")
    path.write_bytes(text.encode("latin-1"))
    assert _problems(tiny_trial) == [
        "screening.csv, line 4: 'byte 0xe9': UTF-8 text (save the file as CSV UTF-8)"
    ]


def test_decimal_comma_in_a_lab_value(tiny_trial):
    """'0,8 mg/dL' is refused with the reason, never read as 8 or 800 mg/dL."""
    _replace(tiny_trial, "screening.csv", "0.8 mg/dL", '"0,8 mg/dL"')
    [problem] = _problems(tiny_trial)
    assert problem.startswith("screening.csv, line 3, column 'bilirubin': '0,8 mg/dL'")
    assert "write 0.8 if it is a decimal comma" in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("given,48 MIU,", "given,48 kg,", "'48 kg': a dose in IU (or convertible) for an IL-2 row"),
        ("20 Gy", "20 IU", "'20 IU': a dose in Gy (or convertible) for an SBRT row"),
    ],
)
def test_dose_unit_matches_the_treatment(tiny_trial, old, new, expected):
    """An IL-2 dose is an activity (IU) and an SBRT dose a radiation dose (Gy)."""
    _replace(tiny_trial, "dosing.csv", old, new)
    assert any(p.startswith("dosing.csv") and expected in p for p in _problems(tiny_trial))


def test_time_zones_mixed_in_a_column(tiny_trial):
    """A time with a UTC offset among times without one is reported, not assumed local."""
    _replace(tiny_trial, "dosing.csv", "2012-03-19T08:10", "2012-03-19T08:10+02:00")
    assert _problems(tiny_trial) == [
        "dosing.csv, line 3, column 'given_at': '2012-03-19T08:10+02:00': a date and time "
        "without a UTC offset, as on line 2 ('2012-03-16T09:30'): a column mixing both leaves "
        "the time zone unknown (patient T001)"
    ]


def test_times_with_offsets_keep_them(tiny_trial):
    """Summer and winter offsets in one column are each kept as written."""
    path = tiny_trial / "dosing.csv"
    text = path.read_text(encoding="utf-8")
    for stamp in ("T09:00,", "T09:30,", "T08:00,"):
        text = text.replace(stamp, stamp[:-1] + "-08:00,")
    text = text.replace("T08:10,", "T08:10-07:00,").replace("T16:00,", "T16:00-07:00,")
    path.write_text(text, encoding="utf-8")
    given = load_cohort(tiny_trial).dosing["given_at"]
    assert [str(t.tz) for t in given.dropna()] == ["UTC-08:00", "UTC-07:00"]


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "sbrt_sites.csv",
            "2.5 cm,T01",
            "2.5 cm,T09",
            "sbrt_sites.csv, line 2, column 'lesion_id': 'T09': a lesion of patient T001 "
            "listed in lesions.csv (patient T001)",
        ),
        (
            "lesions.csv",
            "T001,T02,target,liver,N,N,",
            "T001,T02,target,liver,N,N,2012-03-16",
            "lesions.csv, line 3, column 'irradiated_on': '2012-03-16': empty: the lesion is "
            "not irradiated (irradiated is N) (patient T001)",
        ),
        (
            "lesions.csv",
            "T001,T01,target,lung,N,Y,2012-03-16",
            "T001,T01,target,lung,N,Y,2012-03-07",
            "lesions.csv, line 2, column 'irradiated_on': '2012-03-07': a date on or after "
            "randomisation (SBRT on study follows randomisation) (patient T001)",
        ),
        (
            "randomization.csv",
            "T001,B,1,2012-03-08,N",
            "T001,B,1,2012-03-08,Y",
            "randomization.csv, line 2, column 'crossover': 'Y': N: only arm A patients cross "
            "over (this patient is in arm B) (patient T001)",
        ),
        (
            "randomization.csv",
            "T002,A,2",
            "T002,A,1",
            "randomization.csv, line 3, column 'enrollment_number': '1': a value no other row "
            "has; this one is repeated (patient T002)",
        ),
        (
            "dosing.csv",
            "2012-03-19T08:10",
            "2012-03-07T08:10",
            "dosing.csv, line 3, column 'given_at': '2012-03-07T08:10': a time on or after "
            "randomisation (treatment follows randomisation) (patient T001)",
        ),
    ],
)
def test_rows_that_contradict_other_rows(tiny_trial, name, old, new, expected):
    """References to nothing and contradicting values are each one located problem."""
    _replace(tiny_trial, name, old, new)
    assert _problems(tiny_trial) == [expected]


def test_randomised_on_the_day_of_a_dose_is_in_order(tiny_trial):
    """A dose on the day of randomisation is not before it (days are compared, not times)."""
    _replace(tiny_trial, "randomization.csv", "T001,B,1,2012-03-08", "T001,B,1,2012-03-16")
    assert load_cohort(tiny_trial).randomization["randomized_on"].iloc[0].day == 16


def test_unreadable_value_is_reported_once(tiny_trial):
    """A given dose with an unreadable time is one problem, not also 'time missing'."""
    _replace(tiny_trial, "dosing.csv", "2012-03-19T08:10", "19/03/2012 08:10")
    assert len(_problems(tiny_trial)) == 1


def test_long_problem_lists_are_counted_and_long_values_cut():
    """A message lists DataError.SHOWN problems and counts the rest; a huge value is cut."""
    from studylib.errors import Problem

    problems = [Problem("dosing.csv", n, "dose", "x" * 5000, "a dose") for n in range(2, 502)]
    message = str(DataError(problems, "trial", report="/tmp/all.txt"))
    assert message.count("\n  - ") == DataError.SHOWN
    assert message.endswith(
        f"... and {500 - DataError.SHOWN} more problems: all 500 are listed in /tmp/all.txt"
    )
    assert "(5,000 characters)" in message and len(message) < 200 * DataError.SHOWN


def test_parameter_error_shows_its_message_without_a_traceback():
    """IPython (and papermill's report) show ParameterError as its sentence alone."""
    from studylib.errors import ParameterError

    error = ParameterError("patientid is not a parameter of this notebook\nits parameters: x")
    assert error._render_traceback_() == [
        "ParameterError: patientid is not a parameter of this notebook",
        "its parameters: x",
    ]
