"""Load and validate a trial folder of CSV files (``data/`` by default).

:func:`load_cohort` reads every file of the data dictionary (:mod:`studylib.dictionary`),
checks every value, and either returns a :class:`Cohort` or raises one
:class:`~studylib.errors.DataError` listing every problem with its file, line, column and
value. Nothing is dropped, coerced or guessed: yes/no columns become nullable booleans,
numbers and dates their pandas types, and quantity columns keep the text the site wrote
(after checking that it parses with a unit of the right dimension).

Files may start with comment lines beginning with ``#`` (the synthetic-data notice); line
numbers in problems count them, and blank lines and values spanning lines too, so they match
what a text editor shows.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES, Column, Table
from studylib.errors import DataError, Problem
from studylib.protocol import Protocol, protocol_for_folder, resolve_protocol
from studylib.units import format_quantity, parse_quantities
from studylib.vocabulary import YES_NO_EXPECTED, yes_no_series

__all__ = ["Cohort", "load_cohort", "default_data_dir", "ID_PATTERN"]

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
    #: The protocol the folder's data follow: its own ``protocol.toml``, else the bundled one.
    protocol: Protocol = field(default_factory=lambda: resolve_protocol(None))
    #: What the load noticed without refusing the data (an absent optional column and what it
    #: costs): shown by notebooks, the batch and the cohort table.
    warnings: list[Problem] = field(default_factory=list)

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


class _Read:
    """One CSV file as text: rows of values, the line each row starts on, and its header."""

    def __init__(self, columns: list[str]) -> None:
        self.frame = pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
        self.lines: list[int] = []
        self.header_line = 1
        self.notice = ""
        self.readable = False
        #: Rows with the wrong number of values: kept with only their patient id (so that the
        #: patient is still listed, and fails alone), their values not judged, and other files'
        #: references to their patient not judged either.
        self.unread_rows: set[int] = set()
        self.unread_patients: set[str] = set()


def _read(path: Path, table: Table, problems: list[Problem]) -> _Read:
    """Read one CSV file as text, with the line number of every row.

    A row whose number of values differs from the header's is reported, and kept with its
    patient id alone (its values cannot be put in columns without guessing); blank lines are
    skipped but counted.
    """
    read = _Read([c.name for c in table.columns])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(
            Problem(
                table.filename,
                line,
                None,
                f"byte {raw[error.start]:#04x}",
                "UTF-8 text (save the file as CSV UTF-8)",
            )
        )
        return read
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
        skipped += 1
    read.notice = " ".join(line.lstrip("# ").strip() for line in lines[:skipped])
    reader = csv.reader(io.StringIO("".join(lines[skipped:]), newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    consumed = 0
    try:
        for record in reader:
            first_line = skipped + consumed + 1
            consumed = reader.line_num
            if not any(value.strip() for value in record):
                continue
            if header is None:
                header, read.header_line = [name.strip() for name in record], first_line
            elif len(record) == len(header):
                rows.append(record)
                read.lines.append(first_line)
            else:
                owner = (
                    record[header.index("patient_id")].strip()
                    if ("patient_id" in header and header.index("patient_id") < len(record))
                    else None
                )
                if owner:
                    read.unread_patients.add(owner)
                read.unread_rows.add(len(rows))
                rows.append([(owner or "") if name == "patient_id" else "" for name in header])
                read.lines.append(first_line)
                problems.append(
                    Problem(
                        table.filename,
                        first_line,
                        None,
                        ",".join(record),
                        f"{len(header)} values, one per column of the header (line"
                        f" {read.header_line}), not {len(record)}; a value holding a comma needs"
                        f" double quotes",
                        patient_id=owner or None,
                    )
                )
    except csv.Error as error:
        problems.append(
            Problem(table.filename, skipped + reader.line_num, None, None, f"readable CSV: {error}")
        )
        return read
    if header is None:
        problems.append(
            Problem(table.filename, None, None, None, "a header row naming the columns")
        )
        return read
    columns: dict[str, pd.Series] = {}
    by_column = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    for position, name in enumerate(header):
        values = pd.Series(by_column[position], dtype=object)
        if name in columns:
            problems.append(
                Problem(
                    table.filename,
                    read.header_line,
                    name,
                    None,
                    f"each column named once; this name is repeated (column {position + 1})",
                )
            )
        elif not name and values.str.strip().ne("").any():
            problems.append(
                Problem(
                    table.filename,
                    read.header_line,
                    None,
                    f"column {position + 1}",
                    "a name in the header for every column that holds values",
                )
            )
        elif name:
            columns[name] = values
    _check_column_names(table, list(columns), read.header_line, problems)
    read.frame = pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))
    read.readable = True
    return read


def _check_column_names(table: Table, names: list[str], line: int, problems: list) -> None:
    """A column the dictionary does not know, but close to one it does, is a misspelling.

    Its values would otherwise be ignored and the dictionary's column read as empty. Other
    extra columns (a site's own notes) are kept as text.
    """
    known = [c.name for c in table.columns]
    absent = [name for name in known if name not in names]
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name.lower(), absent, n=1, cutoff=0.8)
        if close:
            problems.append(
                Problem(
                    table.filename,
                    line,
                    name,
                    None,
                    f"a column of the data dictionary (data/README.md): did you mean {close[0]!r}?",
                )
            )


def _strip(values: pd.Series) -> pd.Series:
    """Strip surrounding spaces, once per distinct value (columns repeat values heavily)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    stripped = pd.Index(uniques, dtype=object).str.strip()
    return pd.Series(stripped.take(codes), index=values.index, dtype=object)


class _Checker:
    """Validates and converts one table's columns, recording problems by line."""

    def __init__(
        self,
        table: Table,
        frame: pd.DataFrame,
        lines: list[int],
        problems: list,
        protocol: Protocol,
        skip=(),
    ):
        self.table = table
        self.protocol = protocol
        self.skip = set(skip)
        self.frame = frame
        self.lines = lines
        self.problems = problems
        self.patient = (
            frame["patient_id"].str.strip()
            if "patient_id" in frame.columns
            else pd.Series(dtype=str)
        )

    def report(self, mask: pd.Series, column: str, expected, values=None) -> None:
        """One problem per row in ``mask``; ``expected`` is a text or a Series of texts."""
        values = self.frame[column] if values is None else values
        for index in mask[mask].index:
            if index in self.skip:
                continue
            patient = self.patient.get(index) if len(self.patient) else None
            self.problems.append(
                Problem(
                    self.table.filename,
                    self.lines[index],
                    column,
                    values[index],
                    expected if isinstance(expected, str) else expected[index],
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
        if kind in ("choice", "arm"):
            allowed = self.protocol.arm_codes if kind == "arm" else column.allowed
            bad = ~empty & ~raw.isin(allowed)
            self.report(bad, column.name, "one of " + ", ".join(allowed))
            return raw.where(~empty, pd.NA).astype("string")
        if kind == "yes_no":
            result, bad = yes_no_series(raw)
            self.report(bad, column.name, YES_NO_EXPECTED)
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
        if kind == "date":
            parsed = pd.to_datetime(raw.where(~empty), format="%Y-%m-%d", errors="coerce")
            self.report(~empty & parsed.isna(), column.name, "an ISO 8601 date, such as 2024-03-04")
            return parsed
        if kind == "datetime":
            return self.datetimes(column.name, raw, empty)
        if kind == "quantity":
            parsed = parse_quantities(raw.where(~empty, ""), column.unit or None)
            shown = _UNIT_SHOWN.get(column.unit, column.unit)
            example = _QUANTITY_EXAMPLES.get(column.unit, "1 " + column.unit)
            self.report(
                parsed["error"] != "",
                column.name,
                f"a number with a unit convertible to {shown}, such as '{example}'; "
                + parsed["error"].str.replace(r"^'.*?': ", "", regex=True),
            )
            return raw.where(~empty, pd.NA).astype("string")
        raise AssertionError(f"unknown column kind {kind!r} in the data dictionary")

    def datetimes(self, name: str, raw: pd.Series, empty: pd.Series) -> pd.Series:
        """ISO 8601 date-times; a column is written either with UTC offsets or without.

        A time without an offset among times with one (or the reverse) could be in any time
        zone, so it is reported rather than assumed to be local or UTC. Times with different
        offsets (summer and winter time) keep each its own offset.
        """
        zoned = raw.str.contains(_UTC_OFFSET, regex=True) & ~empty
        written = raw[~empty]
        if zoned.any() and (~zoned & ~empty).any():
            first = written.index[0]
            style = "with" if zoned[first] else "without"
            odd = ~empty & (zoned != zoned[first])
            self.report(
                odd,
                name,
                f"a date and time {style} a UTC offset, as on line {self.lines[first]}"
                f" ({raw[first]!r}): a column mixing both leaves the time zone unknown",
            )
            raw, empty = raw.where(~odd, ""), empty | odd
        values = raw.where(~empty)
        offsets = set(raw[~empty].str.extract(f"({_UTC_OFFSET})", expand=False).dropna())
        if len(offsets) > 1:
            parsed = values.map(_timestamp, na_action="ignore").astype(object)
            parsed = parsed.where(parsed.notna(), pd.NaT)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
        self.report(
            ~empty & parsed.isna(),
            name,
            "an ISO 8601 date and time, such as 2024-03-04T08:00 (or 2024-03-04T08:00-08:00)",
        )
        return parsed


_UTC_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _timestamp(text: str):
    """One date-time with its own UTC offset, or NaT when it is not ISO 8601."""
    try:
        return pd.Timestamp(datetime.fromisoformat(text))
    except ValueError:
        return pd.NaT


_UNIT_SHOWN = {"G_per_L": "x10^9/L"}
_QUANTITY_EXAMPLES = {
    "G_per_L": "4.1 x10^9/L",
    "g/dL": "13.2 g/dL",
    "U/L": "32 U/L",
    "mg/dL": "0.9 mg/dL",
    "kg": "72 kg",
    "cm": "3.2 cm",
}


def _load_table(folder: Path, table: Table, problems: list[Problem], protocol: Protocol) -> _Read:
    path = folder / table.filename
    if not path.exists():
        read = _Read([c.name for c in table.columns])
        read.frame = read.frame.astype("string")
        if not table.optional:
            problems.append(
                Problem(table.filename, None, None, None, f"the file is missing from {folder}")
            )
        else:
            read.readable = True
        return read
    read = _read(path, table, problems)
    if not read.readable:
        return read
    frame = read.frame
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    for name in missing:
        problems.append(
            Problem(
                table.filename,
                read.header_line,
                name,
                None,
                "this required column is missing from the header",
            )
        )
    checker = _Checker(table, frame, read.lines, problems, protocol, skip=read.unread_rows)
    out = frame.copy()
    for column in table.columns:
        if column.name not in frame.columns:
            out[column.name] = pd.Series(pd.NA, index=frame.index, dtype="string")
            continue
        out[column.name] = checker.convert(column)
    key = [k for k in table.key if k in frame.columns]
    if key and len(key) == len(table.key):
        duplicated = _strip_all(frame[key]).duplicated(keep="first")
        checker.report(duplicated, key[-1], f"a unique {' + '.join(key)}; this one is repeated")
    for column in table.columns:
        if column.unique and column.name in frame.columns:
            values = out[column.name]
            repeated = values.notna() & values.duplicated(keep="first")
            checker.report(repeated, column.name, "a value no other row has; this one is repeated")
    read.frame = out
    return read


def _strip_all(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(_strip)


def _problem(name: str, lines: dict, frame: pd.DataFrame, index, column: str, value, expected):
    patient = frame.at[index, "patient_id"] if "patient_id" in frame.columns else None
    return Problem(
        TABLES[name].filename,
        lines[name][index],
        column,
        value,
        expected,
        patient_id=None if pd.isna(patient) else patient,
    )


def _check_references(
    cohort: dict, lines: dict, problems: list[Problem], protocol: Protocol
) -> None:
    """Rows that point to a patient or lesion that does not exist, and contradicting rows."""
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
                    _problem(
                        name,
                        lines,
                        frame,
                        index,
                        "patient_id",
                        frame.at[index, "patient_id"],
                        f"a patient listed in {target}.csv",
                    )
                )
    lesions = cohort["lesions"]
    lesion_keys = set(zip(lesions["patient_id"], lesions["lesion_id"], strict=True))
    for name in ("assessments", "sbrt_sites"):
        frame = cohort[name]
        pairs = zip(frame["patient_id"], frame["lesion_id"], strict=True)
        for index, pair in zip(frame.index, pairs, strict=True):
            if not pd.isna(pair[1]) and pair not in lesion_keys:
                problems.append(
                    _problem(
                        name,
                        lines,
                        frame,
                        index,
                        "lesion_id",
                        pair[1],
                        f"a lesion of patient {pair[0]} listed in lesions.csv",
                    )
                )
    outcome = (cohort["screening"].drop_duplicates("patient_id").set_index("patient_id"))[
        "screening_outcome"
    ]
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
    randomization = cohort["randomization"]
    for index, patient in randomization["patient_id"].items():
        if patient in screened and patient not in should_enrol:
            problems.append(
                _problem(
                    "randomization",
                    lines,
                    randomization,
                    index,
                    "patient_id",
                    patient,
                    "a patient whose screening_outcome is 'enrolled'",
                )
            )
    # The protocol's crossover gives arm A patients SBRT after progression; in arm B it would
    # be a typing error, and the response engine would look for a crossover that cannot exist.
    origin = protocol.crossover.from_arm
    wrong_arm = _flag(randomization["crossover"]) & _flag(randomization["arm"] != origin)
    for index in wrong_arm[wrong_arm].index:
        problems.append(
            _problem(
                "randomization",
                lines,
                randomization,
                index,
                "crossover",
                "Y",
                f"N: only arm {origin} patients cross over (this patient is in arm"
                f" {randomization.at[index, 'arm']})",
            )
        )


def _flag(values: pd.Series) -> pd.Series:
    """True where ``values`` is true; missing counts as false."""
    return values.astype("boolean").fillna(False).astype(bool)


def _check_doses(
    cohort: dict, lines: dict, problems: list[Problem], reported: set, protocol: Protocol
) -> None:
    """An IL-2 dose must be an activity (IU) and an SBRT dose a radiation dose (Gy).

    A dose already reported as unreadable (``reported``: file, line, column) is not judged.
    """
    dosing = cohort["dosing"]
    # The unit each treatment's dose is written in, with an example from the protocol.
    units = {
        "il2": ("IU", format_quantity(protocol.il2.vial_content), "an IL-2"),
        "sbrt": ("Gy", format_quantity(protocol.sbrt.dose_per_fraction), "an SBRT"),
    }
    for treatment, (unit, example, row) in units.items():
        rows = dosing[_flag(dosing["treatment"] == treatment) & dosing["dose"].notna()]
        if rows.empty:
            continue
        checked = parse_quantities(rows["dose"], unit)
        for index in rows.index[checked["error"] != ""]:
            if ("dosing.csv", lines["dosing"][index], "dose") in reported:
                continue
            problems.append(
                _problem(
                    "dosing",
                    lines,
                    dosing,
                    index,
                    "dose",
                    dosing.at[index, "dose"],
                    f"a dose in {unit} (or convertible) for {row} row, such as '{example}'",
                )
            )


def _check_order(cohort: dict, lines: dict, problems: list[Problem], reported: set) -> None:
    """Dates that must follow one another (a date out of order is a typing error)."""
    screening = cohort["screening"]
    randomization = cohort["randomization"]

    def of_patient(frame: pd.DataFrame, source: pd.DataFrame, column: str) -> pd.Series:
        by_patient = source.drop_duplicates("patient_id").set_index("patient_id")[column]
        return frame["patient_id"].map(by_patient)

    followup = cohort["followup"]
    dosing = cohort["dosing"]
    lesions = cohort["lesions"]
    randomized = {
        name: of_patient(cohort[name], randomization, "randomized_on")
        for name in ("followup", "dosing", "lesions")
    }
    given_day = dosing["given_at"].map(_day, na_action="ignore")
    rules = [
        (
            "screening",
            "birth_date",
            screening["birth_date"] >= screening["screening_date"],
            "a birth date before the screening date",
        ),
        (
            "randomization",
            "randomized_on",
            randomization["randomized_on"] < of_patient(randomization, screening, "screening_date"),
            "a randomisation date on or after the screening date",
        ),
        (
            "followup",
            "progressed_on",
            followup["progressed_on"] < randomized["followup"],
            "a progression date on or after randomisation",
        ),
        (
            "followup",
            "progressed_on",
            followup["progressed_on"] > followup["last_contact_on"],
            "a progression date on or before the last contact",
        ),
        (
            "followup",
            "died_on",
            followup["died_on"] < randomized["followup"],
            "a death date on or after randomisation",
        ),
        (
            "followup",
            "last_contact_on",
            followup["died_on"].notna() & (followup["last_contact_on"] != followup["died_on"]),
            "the date of death, when the patient died",
        ),
        (
            "dosing",
            "given_at",
            (dosing["status"] == "given") & dosing["given_at"].isna(),
            "the time the dose was given (status is 'given')",
        ),
        (
            "dosing",
            "given_at",
            (dosing["status"] == "held") & dosing["given_at"].notna(),
            "empty: the dose was held",
        ),
        (
            "dosing",
            "given_at",
            given_day < randomized["dosing"],
            "a time on or after randomisation (treatment follows randomisation)",
        ),
        (
            "lesions",
            "irradiated_on",
            (lesions["irradiated"] == False) & lesions["irradiated_on"].notna(),  # noqa: E712
            "empty: the lesion is not irradiated (irradiated is N)",
        ),
        (
            "lesions",
            "irradiated_on",
            lesions["irradiated_on"] < randomized["lesions"],
            "a date on or after randomisation (SBRT on study follows randomisation)",
        ),
    ]
    # A value already reported as unreadable (``reported``: file, line, column) is not
    # reported again as out of order or missing.
    for name, column, mask, expected in rules:
        frame = cohort[name]
        mask = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
        for index in mask[mask].index:
            if (TABLES[name].filename, lines[name][index], column) in reported:
                continue
            problems.append(
                _problem(
                    name, lines, frame, index, column, _show(frame.at[index, column]), expected
                )
            )


def _day(stamp) -> pd.Timestamp:
    """The calendar day of a date-time as written (its own offset kept, not converted)."""
    return pd.Timestamp(stamp.date()) if not pd.isna(stamp) else pd.NaT


def _show(value) -> str | None:
    """A date as the file wrote it (ISO 8601), for problem messages."""
    if pd.isna(value):
        return None
    if not isinstance(value, pd.Timestamp):
        return str(value)
    if value == value.normalize():
        return value.date().isoformat()
    exact = value.second or value.microsecond or value.nanosecond
    return value.isoformat(timespec="auto" if exact else "minutes")


def load_cohort(
    path: str | Path | None = None,
    *,
    patients: Iterable[str] | None = None,
    protocol: Protocol | None = None,
) -> Cohort:
    """Read and validate a trial folder, under its own protocol.

    Parameters
    ----------
    path
        The folder holding the CSV files of :data:`studylib.dictionary.TABLES`
        (default: the bundled synthetic cohort).
    patients
        When given, only problems on these patients' rows, and problems with whole files,
        stop the load: a batch run uses this so that one patient's bad record fails that
        patient alone. Rows of other patients with problems are still loaded as read.
    protocol
        The protocol the data follow. Default: the folder's own ``protocol.toml`` when it has
        one, else the bundled protocol (:func:`studylib.protocol.protocol_for_folder`).

    Returns
    -------
    Cohort
        With ``.protocol``, the protocol the data were checked against.

    Raises
    ------
    DataError
        Listing every problem: file, line, column, value and what was expected.
    ProtocolError
        When the folder's ``protocol.toml`` is malformed (file, section and entry).
    FileNotFoundError
        When the folder does not exist.
    """
    folder = Path(path) if path is not None else default_data_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"no trial data folder at {folder}")
    protocol = protocol_for_folder(folder) if protocol is None else resolve_protocol(protocol)
    problems: list[Problem] = []
    reads = {name: _load_table(folder, table, problems, protocol) for name, table in TABLES.items()}
    frames = {name: read.frame for name, read in reads.items()}
    notices = {name: read.notice for name, read in reads.items()}
    if all(read.readable for read in reads.values()):
        lines = {name: read.lines for name, read in reads.items()}
        across: list[Problem] = []
        reported = {(p.file, p.line, p.column) for p in problems}
        _check_references(frames, lines, across, protocol)
        _check_doses(frames, lines, across, reported, protocol)
        _check_order(frames, lines, across, reported)
        unread = set().union(*(read.unread_patients for read in reads.values()))
        problems += [p for p in across if p.patient_id not in unread]
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
    return Cohort(path=folder, notices=notices, protocol=protocol, **frames)
