"""Loading a trial folder validates every value and reports every problem at once."""

from __future__ import annotations

import os
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


def test_a_folder_loaded_again_is_the_same_and_each_load_owns_its_tables(tiny_trial):
    """A folder read once per process (a batch's warm worker loads it for every notebook):
    a second load gives the same tables, and changing one load's tables changes no other."""
    first = load_cohort(tiny_trial)
    first.screening.loc[0, "weight"] = "1 kg"
    first.dosing.drop(first.dosing.index, inplace=True)
    again = load_cohort(tiny_trial, patients=["T001"])
    assert again.screening.loc[0, "weight"] == "80 kg"
    assert len(again.dosing) > 0
    assert again.warnings == load_cohort(tiny_trial).warnings


def test_an_edited_file_is_read_again_even_with_its_size_and_date_unchanged(tiny_trial):
    """The folder is recognised by its files' content: an edit of the same length, with the
    file's date put back, is still seen."""
    path = tiny_trial / "screening.csv"
    stat = path.stat()
    assert load_cohort(tiny_trial).screening.loc[0, "weight"] == "80 kg"
    _replace(tiny_trial, "screening.csv", "80 kg", "81 kg")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert load_cohort(tiny_trial).screening.loc[0, "weight"] == "81 kg"
    _replace(tiny_trial, "screening.csv", "81 kg", "0 kg!")
    assert "screening.csv" in str(_problems(tiny_trial))


def test_every_problem_is_reported_with_file_line_column_value(tiny_trial):
    """Three bad values in two files give three problems in one error, each located."""
    _replace(tiny_trial, "screening.csv", "5.2 x10^9/L", "5.2 furlongs")
    _replace(tiny_trial, "screening.csv", "1960-05-02", "1960-15-02")
    _replace(tiny_trial, "randomization.csv", "T002,A,2", "T002,C,2")
    problems = _problems(tiny_trial)
    assert problems == [
        "screening.csv, line 3, column 'birth_date': '1960-15-02': a date of the calendar "
        "(month 01-12, a day the month has), such as 2024-03-04 (patient T001)",
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
        "screening.csv, line 5, column 'ecog': 'two': a whole number written in digits, such as"
        " 2 (patient T003)"
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
        (
            "assessments.csv",
            "T002,T01,2012-03-06,31",
            "T002,T01,2012-03-06,-31",
            "a value of 0 or more",
        ),
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
        + "T004,2012-03-07,,M,Y,two,,,,,,,,,,,,,,,,,,,,,,,,,,,screen_failure,\n",
        encoding="utf-8",
    )
    problems = _problems(tiny_trial)
    assert (
        "screening.csv, line 8, column 'ecog': 'two': a whole number written in digits, such as"
        " 2 (patient T004)" in problems
    )
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
        "screening.csv, line 4: 'byte 0xe9': UTF-8 text; this byte is 'é' in Windows-1252"
        " (Latin-1), the encoding of a plain 'CSV' export: save it from the spreadsheet as 'CSV"
        " UTF-8 (Comma delimited)'"
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


# --- what the loader notices without refusing: absent optional columns and files -----------


def _drop_column(folder: Path, name: str, column: str) -> None:
    import csv
    import io

    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = [line for line in lines if line.startswith("#")]
    rows = list(csv.reader(io.StringIO("".join(lines[len(comments) :]))))
    drop = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:drop] + r[drop + 1 :] for r in rows])
    path.write_text("".join(comments) + out.getvalue(), encoding="utf-8")


def test_absent_column_is_a_warning_naming_the_criterion_it_costs(tiny_trial):
    """Without hgb the cohort loads, and the warning says EXCL09 becomes missing for all."""
    _drop_column(tiny_trial, "screening.csv", "hgb")
    cohort = load_cohort(tiny_trial)
    [warning] = [str(w) for w in cohort.warnings if w.column == "hgb"]
    assert warning == (
        "screening.csv, line 2, column 'hgb': optional column absent: EXCL09 (Haemoglobin) will"
        " be 'missing' for every patient, so no patient can be screened eligible (each becomes"
        " incomplete)"
    )


def _variant_arms(folder: Path) -> None:
    """The tiny trial under the variant protocol's arm codes (C without SBRT, R with)."""
    _replace(folder, "randomization.csv", "T001,B,", "T001,R,")
    _replace(folder, "randomization.csv", "T002,A,", "T002,C,")


def test_absent_column_cost_names_the_folders_own_criteria(tiny_trial, variant_protocol):
    """The criterion named is the one of the protocol the folder follows."""
    _drop_column(tiny_trial, "screening.csv", "hgb")
    _variant_arms(tiny_trial)
    rule = next(c for c in variant_protocol.eligibility.criteria if c.rule == "hemoglobin")
    cohort = load_cohort(tiny_trial, protocol=variant_protocol)
    [warning] = [w.expected for w in cohort.warnings if w.column == "hgb"]
    assert f"{rule.id} ({rule.label})" in warning and "EXCL09" not in warning


def test_absent_irradiation_date_says_the_reference_scan_moves(tiny_trial):
    """Without irradiated_on, the warning says what happens to irradiated lesions."""
    _drop_column(tiny_trial, "lesions.csv", "irradiated_on")
    [warning] = [w.expected for w in load_cohort(tiny_trial).warnings if w.file == "lesions.csv"]
    assert "local-control reference" in warning and "crossover" in warning


def test_absent_optional_file_is_a_warning(tiny_trial):
    """Without followup.csv the survival analyses are said to be lost."""
    (tiny_trial / "followup.csv").unlink()
    cohort = load_cohort(tiny_trial)
    assert [str(w) for w in cohort.warnings] == [
        "followup.csv: optional file absent: progression-free and overall survival are not"
        " analysed (no progression, death or last-contact dates)"
    ]


def test_a_complete_folder_has_no_warnings(tiny_trial):
    """The tiny trial has every column: nothing to warn about."""
    assert load_cohort(tiny_trial).warnings == []


def test_absent_given_at_is_one_problem_not_one_per_dose(tiny_trial):
    """Given doses need their time: without the column it is one problem for the file."""
    _drop_column(tiny_trial, "dosing.csv", "given_at")
    assert _problems(tiny_trial) == [
        "dosing.csv, column 'given_at': this column, absent from the header: 2 doses have status"
        " 'given' and each needs the time it was given"
    ]


# --- plausibility limits of the protocol, with file, line, column and value ------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "screening.csv",
            "13.1 g/dL",
            "115 g/dL",
            "screening.csv, line 3, column 'hgb': '115 g/dL': a value at most 30 g/dL"
            " ([eligibility.plausible_max].hgb of studylib/protocol.toml); anything else is a"
            " typing error or a wrong unit (patient T001)",
        ),
        (
            "screening.csv",
            "5.2 x10^9/L",
            "6600 x10^9/L",
            "'6600 x10^9/L': a value at most 1,000 x10^9/L",
        ),
        ("screening.csv", "0.9 mg/dL,N", "9999 mg/dL,N", "'9999 mg/dL': a value at most 50 mg/dL"),
        (
            "screening.csv",
            "88 umol/L",
            "9999 umol/L",
            "'9999 umol/L (= 113 mg/dL)': a value at most 50 mg/dL",
        ),
        ("screening.csv", "80 kg", "0 kg", "'0 kg': a value from 30 kg to 300 kg"),
        ("screening.csv", "80 kg", "29.9 kg", "'29.9 kg': a value from 30 kg to 300 kg"),
        ("screening.csv", "80 kg", "300.1 kg", "'300.1 kg': a value from 30 kg to 300 kg"),
        ("screening.csv", "40 U/L,28 U/L", "0 U/L,28 U/L", "'0 U/L': a value more than 0 and"),
        (
            "screening.csv",
            "T003,2012-03-06,1950-01-15,M,Y,2",
            "T003,2012-03-06,1950-01-15,M,Y,5",
            "'5': a value at most 4",
        ),
        ("screening.csv", ",95,98,101,", ",251,98,101,", "'251': a value at most 250 %"),
        (
            "dosing.csv",
            "given,48 MIU,",
            "given,0 IU,",
            "'0 IU': a value more than 0 and at most 250 MIU for an IL-2 dose",
        ),
        (
            "dosing.csv",
            "given,20 Gy,",
            "given,200 Gy,",
            "'200 Gy': a value more than 0 and at most 40 Gy for an SBRT dose",
        ),
        ("sbrt_sites.csv", "2.5 cm", "0 cm", "'0 cm': a value more than 0 and at most 50 cm"),
        ("sbrt_sites.csv", "2.5 cm", "51 cm", "'51 cm': a value more than 0 and at most 50 cm"),
        ("assessments.csv", "2012-03-06,31", "2012-03-06,501", "'501': a value at most 500 mm"),
        (
            "assessments.csv",
            "2012-05-07,18",
            "2099-05-07,18",
            "'2099-05-07': a date from 1900-01-01 to today",
        ),
        ("screening.csv", "1960-05-02", "1899-12-31", "'1899-12-31': a date from 1900-01-01"),
    ],
)
def test_implausible_values_are_reported_at_load(tiny_trial, name, old, new, expected):
    """Each limit of [plausibility] and [eligibility.plausible_max] is checked at load."""
    _replace(tiny_trial, name, old, new)
    problems = _problems(tiny_trial)
    assert any(expected in p and p.startswith(name) for p in problems), problems


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("screening.csv", "80 kg", "30 kg"),
        ("screening.csv", "80 kg", "300 kg"),
        ("screening.csv", "80 kg", "661.38 lb"),
        ("screening.csv", "13.1 g/dL", "30 g/dL"),
        ("screening.csv", "88 umol/L", "4420 umol/L"),
        ("screening.csv", "T003,2012-03-06,1950-01-15,M,Y,2", "T003,2012-03-06,1950-01-15,M,Y,4"),
        ("screening.csv", "1960-05-02", "1900-01-01"),
        ("sbrt_sites.csv", "2.5 cm", "50 cm"),
        ("assessments.csv", "2012-03-06,31", "2012-03-06,500"),
        ("assessments.csv", "2012-03-06,31", "2012-03-06,0"),
        ("dosing.csv", "given,20 Gy,", "given,40 Gy,"),
        ("dosing.csv", "given,48 MIU,", "given,250 MIU,"),
    ],
)
def test_values_at_the_limits_load(tiny_trial, name, old, new):
    """A value exactly at a plausibility limit is plausible."""
    _replace(tiny_trial, name, old, new)
    load_cohort(tiny_trial)


def test_limits_come_from_the_folders_protocol(tiny_trial, variant_protocol):
    """The variant protocol's own limits apply (hgb at most 28 g/dL there, 30 bundled)."""
    _replace(tiny_trial, "screening.csv", "13.1 g/dL", "29 g/dL")
    _replace(tiny_trial, "screening.csv", "1960-05-02", "1901-02-28")
    load_cohort(tiny_trial)
    _variant_arms(tiny_trial)
    assert _problems(tiny_trial, protocol=variant_protocol) == [
        "screening.csv, line 3, column 'birth_date': '1901-02-28': a birth date at most 110"
        " years before the screening date ([plausibility].max_age of"
        f" {variant_protocol.path}) (patient T001)",
        "screening.csv, line 3, column 'hgb': '29 g/dL': a value at most 28 g/dL"
        f" ([eligibility.plausible_max].hgb of {variant_protocol.path}); anything else is a"
        " typing error or a wrong unit (patient T001)",
    ]


def test_a_protocol_without_a_limit_warns_that_it_is_not_checked(tiny_trial, tmp_path):
    """An older protocol file without il2_dose_max: doses are not checked, and it is said."""
    from studylib.protocol import PROTOCOL, load_protocol

    text = Path(PROTOCOL.path.replace("studylib/", "")).name
    source = Path(__file__).resolve().parents[1] / "studylib" / text
    path = tmp_path / "protocol.toml"
    path.write_text(
        source.read_text(encoding="utf-8").replace('il2_dose_max = "250 MIU"\n', ""),
        encoding="utf-8",
    )
    _replace(tiny_trial, "dosing.csv", "given,48 MIU,", "given,900 MIU,")
    cohort = load_cohort(tiny_trial, protocol=load_protocol(path))
    assert [w.expected for w in cohort.warnings] == [
        "[plausibility].il2_dose_max: absent from the protocol file, so this limit is not checked"
    ]


# --- dates in the order data/README.md promises ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "followup.csv",
            "T001,,,2015-01-01",
            "T001,,,2012-03-01",
            "followup.csv, line 2, column 'last_contact_on': '2012-03-01': a last contact on or"
            " after randomisation (patient T001)",
        ),
        (
            "followup.csv",
            "T001,,,2015-01-01",
            "T001,,,2012-04-01",
            "assessments.csv, line 4, column 'date': '2012-05-07': a scan date on or before the"
            " last contact (last_contact_on in followup.csv) (patient T001)",
        ),
        (
            "followup.csv",
            "T001,,,2015-01-01",
            "T001,,,2012-03-17",
            "dosing.csv, line 3, column 'given_at': '2012-03-19T08:10': a time on or before the"
            " last contact (last_contact_on in followup.csv) (patient T001)",
        ),
    ],
)
def test_dates_follow_the_order_the_dictionary_promises(tiny_trial, name, old, new, expected):
    """Last contact after randomisation; doses and scans not after the last contact."""
    _replace(tiny_trial, name, old, new)
    assert expected in _problems(tiny_trial)


# --- strict numbers and ISO dates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("screening.csv", "M,Y,0,N", "M,Y,1e0,N", "'1e0': a whole number written in digits"),
        ("screening.csv", "2012-03-01,1960", "2011-9-6,1960", "'2011-9-6': an ISO 8601 date"),
        ("screening.csv", ",95,98,", ",9.5e1,98,", "'9.5e1': a number written in digits"),
        ("screening.csv", ",95,98,", ',"95,5",98,', "write 95.5 if it is a decimal comma"),
        ("screening.csv", ",95,98,", ",inf,98,", "'inf': a number written in digits"),
        ("sbrt_sites.csv", "2.5 cm", "inf cm", "'inf cm': a number with a unit convertible to cm"),
        ("sbrt_sites.csv", "2.5 cm", "1e999 cm", "the value is not a finite number"),
        (
            "screening.csv",
            "2012-03-01,1960",
            "2012-03-01T00:00+02:00,1960",
            "'2012-03-01T00:00+02:00': a date without a time or time zone",
        ),
        ("followup.csv", "T001,,,2015-01-01", "T001,,,2262-05-01", "'2262-05-01': a date from"),
        (
            "dosing.csv",
            "2012-03-19T08:10",
            "2262-05-01T08:10",
            "'2262-05-01T08:10': a date from 1900-01-01 to today",
        ),
        ("dosing.csv", "2012-03-19T08:10", "2012-03-19T8:10", "an ISO 8601 date and time"),
        (
            "randomization.csv",
            "T002,A,2,",
            "T002,A,100000000000000000000,",
            "'100000000000000000000': a value from 1 to 100000",
        ),
    ],
)
def test_numbers_and_dates_are_read_strictly(tiny_trial, name, old, new, expected):
    """Exponents, decimal commas, inf, one-digit months, time zones in a date column and dates
    beyond pandas' range are each one located problem, never read or a crash."""
    _replace(tiny_trial, name, old, new)
    problems = _problems(tiny_trial)
    assert any(expected in p and p.startswith(name) for p in problems), problems


def test_whole_numbers_may_be_written_with_a_zero_decimal(tiny_trial):
    """'2.0' is the number 2 (spreadsheets write integers so); it is read, not refused."""
    _replace(tiny_trial, "randomization.csv", "T002,A,2,", "T002,A,2.0,")
    assert load_cohort(tiny_trial).randomization["enrollment_number"].tolist() == [1, 2]


def test_il2_dose_with_a_decimal_comma_gets_the_decimal_comma_message(tiny_trial):
    """'48,5 MIU' says how to write it, not 'convertible to , such as 1 '."""
    _replace(tiny_trial, "dosing.csv", "given,48 MIU,", 'given,"48,5 MIU",')
    [problem] = _problems(tiny_trial)
    assert problem.startswith("dosing.csv, line 3, column 'dose': '48,5 MIU': a number with its")
    assert "write 48.5 if it is a decimal comma" in problem and "convertible to ," not in problem


# --- the file as a whole: one problem, no follow-on problems -----------------------------------


def _rewrite(folder: Path, name: str, change) -> None:
    path = folder / name
    path.write_bytes(change(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "screening.csv",
            lambda t: t.replace(",", ";").encode(),
            "screening.csv, line 2: 'patient_id;screening_date;birth_date;sex;histology_con...'"
            " (453 characters): columns separated by commas; this file separates them with"
            " semicolons (a spreadsheet set to a language that writes decimal commas saves CSV"
            " so): save it from the spreadsheet as 'CSV UTF-8 (Comma delimited)', or set the list"
            " separator to a comma",
        ),
        (
            "randomization.csv",
            lambda t: t.replace(",", "\t").encode(),
            "randomization.csv, line 1: 'patient_id\\tarm\\tenrollment_number"
            "\\trandomized_on\\tcro...' (56 characters): columns separated by commas; this file"
            " separates them with tabs",
        ),
        (
            "lesions.csv",
            lambda t: t.encode("utf-16-le"),
            "lesions.csv, line 1: 'patient_id,lesion_id,role,site,nodal,irradiated,irradi...'"
            " (61 characters): UTF-8 text; this file is UTF-16 (without a byte-order mark) text",
        ),
        (
            "lesions.csv",
            lambda t: t.replace(",", "\t").encode("utf-16"),
            "UTF-8 text; this file is UTF-16 text with columns separated by tabs (Excel's"
            " 'Unicode Text')",
        ),
        (
            "randomization.csv",
            lambda t: "\n".join(t.splitlines()[1:]).encode(),
            "randomization.csv, line 1: 'T001,B,1,2012-03-08,N': a header row naming the columns"
            " (patient_id, arm, enrollment_number, ...; data/README.md): this first line names"
            " none of them; add the header row",
        ),
        (
            "dosing.csv",
            lambda t: t.replace(",given,48 MIU,", ',"given,48 MIU,', 1).encode(),
            "dosing.csv, line 3: a double quote in this row opens a value that runs to the end of"
            " the file, so the lines between were read as one value: close the quote, write a"
            ' quote inside a value as "", or remove it',
        ),
    ],
)
def test_a_file_that_is_not_comma_separated_utf8_is_one_problem(tiny_trial, name, change, expected):
    """A whole-file mistake is one problem saying what the file looks like; nothing follows."""
    _rewrite(tiny_trial, name, change)
    problems = _problems(tiny_trial)
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_screening_file_without_rows_is_one_problem(bundled_copy):
    """No candidates: one problem, not one per row of the files that refer to them."""
    _rewrite(bundled_copy, "screening.csv", lambda t: "\n".join(t.splitlines()[:2]).encode())
    assert _problems(bundled_copy) == [
        "screening.csv, line 2: one row per screened candidate; the file has a header and no rows"
    ]


def test_a_randomisation_file_without_rows_is_one_problem(bundled_copy):
    """44 enrolled patients and thousands of rows refer to an empty randomization.csv: one
    problem counting them."""
    _rewrite(bundled_copy, "randomization.csv", lambda t: "\n".join(t.splitlines()[:2]).encode())
    assert _problems(bundled_copy) == [
        "randomization.csv: rows: the file has a header and no rows, yet 44 patients screened as"
        " 'enrolled' in screening.csv, 2317 in dosing.csv, 239 in lesions.csv, 860 in"
        " assessments.csv, 44 in followup.csv, 1746 in vitals.csv, 759 in labs.csv and 2027 in"
        " adverse_events.csv refer to it (was it saved before its rows were pasted in?)"
    ]


def test_file_problems_come_first_and_other_files_are_still_judged(tiny_trial):
    """A semicolon file is listed first; a bad value elsewhere is still reported after it."""
    _replace(tiny_trial, "randomization.csv", "T002,A,2", "T002,C,2")
    _rewrite(tiny_trial, "lesions.csv", lambda t: t.replace(",", ";").encode())
    problems = _problems(tiny_trial)
    assert [p.split(",")[0] for p in problems] == ["lesions.csv", "randomization.csv"]


def test_a_missing_required_column_gives_no_follow_on_problems(tiny_trial):
    """Without lesions' patient_id, the lesion references are not checked row by row."""
    _drop_column(tiny_trial, "lesions.csv", "patient_id")
    assert _problems(tiny_trial) == [
        "lesions.csv, line 1, column 'patient_id': this required column is missing from the header"
    ]


def test_a_long_report_is_capped_and_written_whole(tiny_trial, tmp_path):
    """500 bad doses: the message lists the first ones and names the file with all 500."""
    path = tiny_trial / "dosing.csv"
    rows = "".join(f"T001,il2,2,{n},2012-04-02T08:00,,held,lots,toxicity\n" for n in range(1, 101))
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    path.write_text(
        path.read_text(encoding="utf-8")
        + "".join(f"T001,il2,3,{n},2012-04-16T08:00,,held,lots,x\n" for n in range(1, 101)),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as error:
        load_cohort(tiny_trial, report_dir=tmp_path)
    report = error.value.report
    assert report is not None and report.parent == tmp_path / "studylib-problems"
    written = report.read_text(encoding="utf-8").splitlines()
    assert written[0] == f"200 problems in {tiny_trial}" and len(written) == 201
    message = str(error.value)
    assert message.count("\n  - ") == DataError.SHOWN
    assert message.endswith(f"all 200 are listed in {report}")


def test_problems_of_other_patients_are_kept_aside(tiny_trial):
    """Loading for one patient keeps the others' problems in Cohort.other_problems."""
    _replace(tiny_trial, "screening.csv", "4100/uL", "4100 furlongs")
    cohort = load_cohort(tiny_trial, patients=["T001"])
    assert [p.patient_id for p in cohort.other_problems] == ["T002"]
    with pytest.raises(DataError, match="4100 furlongs"):
        load_cohort(tiny_trial, patients=["T002"])


def test_readme_shows_a_real_error_report(bundled_copy, repo_dir, monkeypatch):
    """The report in README.md's 'Bring your own trial data' is what the loader prints for
    the mistakes it describes."""
    trial = bundled_copy.parent / "my_trial"
    bundled_copy.rename(trial)
    for old, new in [
        (",12.1 g/dL,44 U/L,34 U/L,60", ",121 g/dL,44 U/L,34 U/L,60"),
        ("P006,2012-03-13,", "P006,2012-3-13,"),
        (",130 lb,", ',"59,5 kg",'),
        (",130 lb,", ',"59,5 kg",'),
    ]:
        _replace(trial, "screening.csv", old, new)
    _replace(trial, "randomization.csv", "P003,A,2,2011-11-24,N", "P003,A,2,2011-11-24,yes please")
    _replace(
        trial, "dosing.csv", "2012-04-09T08:01,given,60720000 IU,", "2012-04-09T08:01,given,0 IU,"
    )
    monkeypatch.chdir(trial.parent)
    with pytest.raises(DataError) as error:
        load_cohort("my_trial")
    readme = (repo_dir / "README.md").read_text(encoding="utf-8")
    assert f"```text\n{error.value}\n```" in readme
