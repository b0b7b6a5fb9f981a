"""Load and validate a trial folder of CSV files (``data/`` by default).

:func:`load_cohort` reads every file of the data dictionary (:mod:`studylib.dictionary`),
checks every value, and either returns a :class:`Cohort` or raises one
:class:`~studylib.errors.DataError` listing every problem with its file, line, column and
value. Nothing is dropped, coerced or guessed: yes/no columns become nullable booleans,
numbers and dates their pandas types, and quantity columns keep the text the site wrote
(after checking that it parses with a unit of the right dimension).

Files may start with comment lines beginning with ``#`` (the synthetic-data notice); line
numbers in problems count them, so they match what a text editor shows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES, Column, Table
from studylib.errors import DataError, Problem
from studylib.units import parse_quantities

__all__ = ["Cohort", "load_cohort", "default_data_dir", "YES", "NO", "ID_PATTERN"]

YES = frozenset({"y", "yes", "true", "1"})
NO = frozenset({"n", "no", "false", "0"})
#: Ids become folder names in batch outputs, so the pattern is also a safety rule.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def default_data_dir() -> Path:
    """The bundled synthetic cohort: ``data/`` beside the ``studylib`` package."""
    return Path(__file__).resolve().parent.parent / "data"


@dataclass
class Cohort:
    """A validated trial folder: one DataFrame per CSV file, named after it."""

    path: Path
    screening: pd.DataFrame
    sbrt_sites: pd.DataFrame
    randomization: pd.DataFrame
    dosing: pd.DataFrame
    lesions: pd.DataFrame
    assessments: pd.DataFrame
    followup: pd.DataFrame
    notices: dict[str, str] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file name."""
        return {name: getattr(self, name) for name in TABLES}

    @property
    def patient_ids(self) -> list[str]:
        """Every screened patient, in file order."""
        return self.screening["patient_id"].tolist()

    def patient(self, patient_id: str) -> dict[str, pd.DataFrame]:
        """The rows of one patient in every table.

        Raises
        ------
        KeyError
            When the patient is not in ``screening.csv``, naming the nearest ids.
        """
        if patient_id not in set(self.patient_ids):
            known = ", ".join(self.patient_ids[:5])
            raise KeyError(
                f"patient {patient_id!r} is not in {self.path}/screening.csv "
                f"(ids look like {known}, ...)"
            )
        return {
            name: frame[frame["patient_id"] == patient_id].reset_index(drop=True)
            for name, frame in self.tables().items()
        }


def _read(path: Path, table: Table, problems: list[Problem]) -> tuple[pd.DataFrame, int, str]:
    """Read one CSV as text; returns the frame, the header's line number and the notice."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
        skipped += 1
    notice = " ".join(line.lstrip("# ").strip() for line in lines[:skipped])
    body = "".join(lines[skipped:])
    if not body.strip():
        problems.append(Problem(table.filename, None, None, None, "the file has no header row"))
        return pd.DataFrame(columns=[c.name for c in table.columns]), skipped + 1, notice
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.ParserError as error:
        problems.append(Problem(table.filename, None, None, None, f"not a readable CSV: {error}"))
        return pd.DataFrame(columns=[c.name for c in table.columns]), skipped + 1, notice
    return frame, skipped + 1, notice


def _strip(values: pd.Series) -> pd.Series:
    """Strip surrounding spaces, once per distinct value (columns repeat values heavily)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    stripped = pd.Index(uniques, dtype=object).str.strip()
    return pd.Series(stripped.take(codes), index=values.index, dtype=object)


class _Checker:
    """Validates and converts one table's columns, recording problems by line."""

    def __init__(self, table: Table, frame: pd.DataFrame, header_line: int, problems: list):
        self.table = table
        self.frame = frame
        self.header_line = header_line
        self.problems = problems
        self.patient = (
            frame["patient_id"] if "patient_id" in frame.columns else pd.Series(dtype=str)
        )

    def line(self, index) -> int:
        return self.header_line + 1 + int(index)

    def report(self, mask: pd.Series, column: str, expected: str, values=None) -> None:
        values = self.frame[column] if values is None else values
        for index in mask[mask].index:
            patient = self.patient.get(index) if len(self.patient) else None
            self.problems.append(
                Problem(
                    self.table.filename,
                    self.line(index),
                    column,
                    values[index],
                    expected,
                    patient_id=patient or None,
                )
            )

    def convert(self, column: Column) -> pd.Series:
        raw = _strip(self.frame[column.name])
        empty = raw == ""
        if column.required:
            self.report(empty, column.name, "a value is required here")
        kind = column.kind
        if kind in ("id", "text"):
            if kind == "id":
                self.report(
                    ~empty & ~raw.str.match(ID_PATTERN),
                    column.name,
                    "an id of letters, digits, '-' or '_' (at most 64 characters)",
                )
            return raw.where(~empty, pd.NA).astype("string")
        if kind == "choice":
            bad = ~empty & ~raw.isin(column.allowed)
            self.report(bad, column.name, "one of " + ", ".join(column.allowed))
            return raw.where(~empty, pd.NA).astype("string")
        if kind == "yes_no":
            lower = raw.str.lower()
            bad = ~empty & ~lower.isin(YES | NO)
            self.report(bad, column.name, "yes or no (Y/N, yes/no, true/false, 1/0)")
            result = pd.Series(pd.NA, index=raw.index, dtype="boolean")
            result[lower.isin(YES)] = True
            result[lower.isin(NO)] = False
            return result
        if kind in ("integer", "number"):
            numbers = pd.to_numeric(raw.where(~empty), errors="coerce")
            bad = ~empty & numbers.isna()
            if kind == "integer":
                fractional = numbers.notna() & (numbers != np.floor(numbers))
                bad |= fractional
            self.report(bad, column.name, f"{'a whole' if kind == 'integer' else 'a'} number")
            in_range = pd.Series(True, index=raw.index)
            if column.minimum is not None:
                in_range &= ~(numbers < column.minimum)
            if column.maximum is not None:
                in_range &= ~(numbers > column.maximum)
            self.report(
                ~bad & ~empty & ~in_range,
                column.name,
                f"a value from {column.minimum:g} to {column.maximum:g}",
            )
            valid = numbers.where(~bad & in_range)
            return valid.astype("Int64" if kind == "integer" else "Float64")
        if kind in ("date", "datetime"):
            fmt = "%Y-%m-%d" if kind == "date" else "ISO8601"
            parsed = pd.to_datetime(raw.where(~empty), format=fmt, errors="coerce")
            bad = ~empty & parsed.isna()
            example = "2024-03-04" if kind == "date" else "2024-03-04T08:00"
            self.report(bad, column.name, f"an ISO 8601 {kind}, such as {example}")
            return parsed
        if kind == "quantity":
            parsed = parse_quantities(raw.where(~empty, ""), column.unit or None)
            self.report(
                parsed["error"] != "",
                column.name,
                f"a number with a unit convertible to"
                f" {_UNIT_SHOWN.get(column.unit, column.unit)}, such as"
                f" '{_QUANTITY_EXAMPLES.get(column.unit, '1 ' + column.unit)}'",
            )
            return raw.where(~empty, pd.NA).astype("string")
        raise AssertionError(f"unknown column kind {kind!r} in the data dictionary")


_UNIT_SHOWN = {"G_per_L": "x10^9/L"}
_QUANTITY_EXAMPLES = {
    "G_per_L": "4.1 x10^9/L",
    "g/dL": "13.2 g/dL",
    "U/L": "32 U/L",
    "mg/dL": "0.9 mg/dL",
    "kg": "72 kg",
    "cm": "3.2 cm",
}


def _load_table(folder: Path, table: Table, problems: list[Problem]):
    path = folder / table.filename
    if not path.exists():
        if not table.optional:
            problems.append(
                Problem(table.filename, None, None, None, f"the file is missing from {folder}")
            )
        return pd.DataFrame({c.name: pd.Series(dtype="string") for c in table.columns}), "", 1
    frame, header_line, notice = _read(path, table, problems)
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    for name in missing:
        problems.append(
            Problem(
                table.filename,
                header_line,
                name,
                None,
                "this required column is missing from the header",
            )
        )
    checker = _Checker(table, frame, header_line, problems)
    out = frame.copy()
    for column in table.columns:
        if column.name not in frame.columns:
            out[column.name] = pd.Series(pd.NA, index=frame.index, dtype="string")
            continue
        out[column.name] = checker.convert(column)
    key = [k for k in table.key if k in frame.columns]
    if key and len(key) == len(table.key):
        duplicated = frame.duplicated(subset=key, keep="first")
        checker.report(duplicated, key[-1], f"a unique {' + '.join(key)}; this one is repeated")
    return out, notice, header_line


def _check_references(cohort: dict, header_lines: dict, problems: list[Problem]) -> None:
    screened = set(cohort["screening"]["patient_id"].dropna())
    enrolled = set(cohort["randomization"]["patient_id"].dropna())
    known = {"screening": screened, "randomization": enrolled}
    for name, table in TABLES.items():
        frame = cohort[name]
        for column, target in table.references:
            if column != "patient_id":
                continue
            bad = frame["patient_id"].notna() & ~frame["patient_id"].isin(known[target])
            for index in bad[bad].index:
                problems.append(
                    Problem(
                        table.filename,
                        header_lines[name] + 1 + int(index),
                        "patient_id",
                        frame.at[index, "patient_id"],
                        f"a patient listed in {target}.csv",
                        patient_id=frame.at[index, "patient_id"],
                    )
                )
    lesions = cohort["lesions"]
    lesion_keys = set(zip(lesions["patient_id"], lesions["lesion_id"], strict=True))
    assessments = cohort["assessments"]
    pairs = list(zip(assessments["patient_id"], assessments["lesion_id"], strict=True))
    for index, pair in zip(assessments.index, pairs, strict=True):
        if pair[1] is not pd.NA and pair not in lesion_keys:
            problems.append(
                Problem(
                    "assessments.csv",
                    header_lines["assessments"] + 1 + int(index),
                    "lesion_id",
                    pair[1],
                    f"a lesion of patient {pair[0]} listed in lesions.csv",
                    patient_id=pair[0],
                )
            )
    outcome = cohort["screening"].set_index("patient_id")["screening_outcome"]
    should_enrol = set(outcome[outcome == "enrolled"].index)
    for patient in sorted(should_enrol - enrolled):
        problems.append(
            Problem(
                "randomization.csv",
                None,
                "patient_id",
                patient,
                "every patient screened as 'enrolled' needs a randomization row",
                patient_id=patient,
            )
        )
    for index, patient in cohort["randomization"]["patient_id"].items():
        if patient in screened and patient not in should_enrol:
            problems.append(
                Problem(
                    "randomization.csv",
                    header_lines["randomization"] + 1 + int(index),
                    "patient_id",
                    patient,
                    "a patient whose screening_outcome is 'enrolled'",
                    patient_id=patient,
                )
            )


def _check_order(cohort: dict, header_lines: dict, problems: list[Problem]) -> None:
    """Dates that must follow one another (a date out of order is a typing error)."""
    screening = cohort["screening"]
    randomization = cohort["randomization"].merge(
        screening[["patient_id", "screening_date"]], on="patient_id", how="left"
    )
    followup = cohort["followup"].merge(
        cohort["randomization"][["patient_id", "randomized_on"]], on="patient_id", how="left"
    )
    dosing = cohort["dosing"]
    rules = [
        (
            "screening",
            screening,
            "birth_date",
            screening["birth_date"] >= screening["screening_date"],
            "a birth date before the screening date",
        ),
        (
            "randomization",
            randomization,
            "randomized_on",
            randomization["randomized_on"] < randomization["screening_date"],
            "a randomisation date on or after the screening date",
        ),
        (
            "followup",
            followup,
            "progressed_on",
            followup["progressed_on"] < followup["randomized_on"],
            "a progression date on or after randomisation",
        ),
        (
            "followup",
            followup,
            "progressed_on",
            followup["progressed_on"] > followup["last_contact_on"],
            "a progression date on or before the last contact",
        ),
        (
            "followup",
            followup,
            "died_on",
            followup["died_on"] < followup["randomized_on"],
            "a death date on or after randomisation",
        ),
        (
            "followup",
            followup,
            "last_contact_on",
            followup["died_on"].notna() & (followup["last_contact_on"] != followup["died_on"]),
            "the date of death, when the patient died",
        ),
        (
            "dosing",
            dosing,
            "given_at",
            (dosing["status"] == "given") & dosing["given_at"].isna(),
            "the time the dose was given (status is 'given')",
        ),
        (
            "dosing",
            dosing,
            "given_at",
            (dosing["status"] == "held") & dosing["given_at"].notna(),
            "empty: the dose was held",
        ),
    ]
    for name, frame, column, mask, expected in rules:
        mask = mask.fillna(False).astype(bool)
        for index in mask[mask].index:
            problems.append(
                Problem(
                    TABLES[name].filename,
                    header_lines[name] + 1 + int(index),
                    column,
                    _show(frame.at[index, column]),
                    expected,
                    patient_id=frame.at[index, "patient_id"],
                )
            )


def _show(value) -> str | None:
    """A date as the file wrote it (ISO 8601), for problem messages."""
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, pd.Timestamp) else str(value)


def load_cohort(path: str | Path | None = None, *, patients: Iterable[str] | None = None) -> Cohort:
    """Read and validate a trial folder.

    Parameters
    ----------
    path
        The folder holding the CSV files of :data:`studylib.dictionary.TABLES`
        (default: the bundled synthetic cohort).
    patients
        When given, only problems on these patients' rows, and problems with whole files,
        stop the load: a batch run uses this so that one patient's bad record fails that
        patient alone. Rows of other patients with problems are still loaded as read.

    Returns
    -------
    Cohort

    Raises
    ------
    DataError
        Listing every problem: file, line, column, value and what was expected.
    FileNotFoundError
        When the folder does not exist.
    """
    folder = Path(path) if path is not None else default_data_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"no trial data folder at {folder}")
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    notices: dict[str, str] = {}
    header_lines: dict[str, int] = {}
    for name, table in TABLES.items():
        frames[name], notices[name], header_lines[name] = _load_table(folder, table, problems)
    if not any(p.line is None and p.column is None for p in problems):
        _check_references(frames, header_lines, problems)
        _check_order(frames, header_lines, problems)
    if patients is not None:
        selected = set(patients)
        problems = [p for p in problems if p.patient_id is None or p.patient_id in selected]
    if problems:
        problems.sort(
            key=lambda p: (
                list(TABLES).index(p.file[:-4]) if p.file[:-4] in TABLES else 99,
                p.line or 0,
            )
        )
        raise DataError(problems, context=str(folder))
    return Cohort(path=folder, notices=notices, **frames)
