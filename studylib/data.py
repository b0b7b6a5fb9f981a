"""Load and validate a trial folder of CSV files (``data/`` by default).

:func:`load_cohort` reads every file of the data dictionary (:mod:`studylib.dictionary`),
checks every value, and either returns a :class:`Cohort` or raises one
:class:`~studylib.errors.DataError` listing every problem with its file, line, column and
value. Nothing is dropped, coerced or guessed: yes/no columns become nullable booleans,
numbers and dates their pandas types, and quantity columns keep the text the site wrote
(after checking that it parses with a unit of the right dimension).

The checks, in the order a report lists them:

1. the file as a whole (:mod:`studylib.csvfile`): encoding, separator, header, quotes; a file
   that fails one is one problem, and its rows are not judged;
2. each value (:mod:`studylib.columns`): its type, strictly;
3. each value against the protocol's plausibility limits (:mod:`studylib.plausibility`);
4. rows against each other (:mod:`studylib.crosschecks`): references and the order of dates.

What the load notices without refusing the data is in :attr:`Cohort.warnings`: an optional
column or file that is absent, with what it costs (which criterion or result becomes
missing), and a plausibility limit the protocol file does not give.

Files may start with comment lines beginning with ``#`` (the synthetic-data notice); line
numbers in problems count them, and blank lines and values spanning lines too, so they match
what a text editor shows.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from studylib.columns import ID_PATTERN, ColumnChecker, strip
from studylib.crosschecks import calendar_days, check_across
from studylib.csvfile import FileRead, read_file
from studylib.dictionary import TABLES, Column, Table
from studylib.errors import DataError, Problem
from studylib.plausibility import check_dates, check_values, limits
from studylib.protocol import Protocol, protocol_for_folder, resolve_protocol
from studylib.wording import and_list

__all__ = ["Cohort", "load_cohort", "default_data_dir", "ID_PATTERN"]


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
    vitals: pd.DataFrame
    labs: pd.DataFrame
    adverse_events: pd.DataFrame
    notices: dict[str, str] = field(default_factory=dict)
    #: The protocol the folder's data follow: its own ``protocol.toml``, else the bundled one.
    protocol: Protocol = field(default_factory=lambda: resolve_protocol(None))
    #: What the load noticed without refusing the data (an absent optional column or file and
    #: what it costs, a plausibility limit the protocol file lacks): shown by notebooks, the
    #: batch and the cohort table.
    warnings: list[Problem] = field(default_factory=list)
    #: Problems on rows of patients not asked for (``load_cohort(patients=...)``): they did
    #: not stop this load, and the batch reports them.
    other_problems: list[Problem] = field(default_factory=list)

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


class _Reporter:
    """Records one problem per row of a mask, with the row's editor line and patient.

    A cell is reported once: a value already found unreadable is not reported again as out
    of range or out of order. Rows that could not be read (``skip``) are not judged.
    """

    def __init__(self, frames: dict[str, pd.DataFrame], reads: dict[str, FileRead], sink: list):
        self.frames = frames
        self.reads = reads
        self.sink = sink
        self.reported: set[tuple[str, int, str]] = set()

    def __call__(self, name: str, mask, column: str, expected, shown=None) -> None:
        frame, read = self.frames[name], self.reads[name]
        mask = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
        written = read.raw if read.raw is not None and column in read.raw.columns else frame
        values = written[column] if shown is None else shown
        patients = frame["patient_id"] if "patient_id" in frame.columns else None
        for index in mask[mask].index:
            line = read.lines[index]
            if index in read.unread_rows or (name, line, column) in self.reported:
                continue
            self.reported.add((name, line, column))
            patient = None if patients is None else patients[index]
            patient = None if pd.isna(patient) else str(patient).strip() or None
            self.sink.append(
                Problem(
                    TABLES[name].filename,
                    line,
                    column,
                    _show(values[index]),
                    expected if isinstance(expected, str) else expected[index],
                    patient_id=patient,
                )
            )


def _show(value) -> str | None:
    """A value as the file wrote it (a date in ISO 8601), for problem messages."""
    if pd.isna(value):
        return None
    if not isinstance(value, pd.Timestamp):
        return str(value)
    if value == value.normalize():
        return value.date().isoformat()
    exact = value.second or value.microsecond or value.nanosecond
    return value.isoformat(timespec="auto" if exact else "minutes")


def _load_table(
    folder: Path,
    table: Table,
    problems: list[Problem],
    file_problems: list[Problem],
    reporter: _Reporter,
    protocol: Protocol,
) -> FileRead:
    path = folder / table.filename
    if path.exists():
        read = read_file(path, table, problems, file_problems)
    else:
        read = FileRead.nothing(table)
        if not table.optional:
            file_problems.append(
                Problem(table.filename, None, None, None, f"the file is missing from {folder}")
            )
            return read
        # An absent optional file is an empty table of the right types.
        read.readable = read.usable = True
        read.header = [c.name for c in table.columns]
    if not read.readable:
        return read
    raw = read.raw = read.frame
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    for name in missing:
        file_problems.append(
            Problem(
                table.filename,
                read.header_line,
                name,
                None,
                "this required column is missing from the header",
            )
        )
    # Without a required column the rows cannot be checked against other files: each check
    # would only repeat that the column is missing.
    read.usable = not missing
    if table.name == "screening" and raw.empty:
        file_problems.append(
            Problem(
                table.filename,
                read.header_line,
                None,
                None,
                "one row per screened candidate; the file has a header and no rows",
            )
        )
        read.usable = False
    reporter.frames[table.name], reporter.reads[table.name] = raw, read
    checker = ColumnChecker(table, read.lines, partial(reporter, table.name), protocol)
    out = raw.copy()
    for column in table.columns:
        if column.name not in raw.columns:
            out[column.name] = pd.Series(pd.NA, index=raw.index, dtype="string")
            continue
        out[column.name] = checker.convert(column, raw[column.name])
    key = [k for k in table.key if k in raw.columns]
    if key and len(key) == len(table.key):
        duplicated = raw[key].apply(strip).duplicated(keep="first")
        reporter(
            table.name, duplicated, key[-1], f"a unique {' + '.join(key)}; this one is repeated"
        )
    for column in table.columns:
        if column.unique and column.name in raw.columns:
            values = out[column.name]
            repeated = values.notna() & values.duplicated(keep="first")
            reporter(
                table.name,
                repeated,
                column.name,
                "a value no other row has; this one is repeated",
            )
    read.frame = out
    return read


def _absent(reads: dict[str, FileRead], folder: Path, protocol: Protocol) -> list[Problem]:
    """An optional column or file that is absent, with what it costs; a limit not checked."""
    warnings: list[Problem] = []
    for name, table in TABLES.items():
        read = reads[name]
        if table.optional and not (folder / table.filename).exists():
            warnings.append(
                Problem(
                    table.filename, None, None, None, f"optional file absent: {table.if_absent}"
                )
            )
            continue
        if not read.readable:
            continue
        header = set(read.header)
        for column in table.columns:
            if column.needed_by and not column.read_by(protocol):
                continue  # read only by criteria this protocol does not have: nothing is lost
            if not column.required and column.name not in header:
                warnings.append(
                    Problem(
                        table.filename,
                        read.header_line,
                        column.name,
                        None,
                        f"optional column absent: {_cost(column, protocol)}",
                    )
                )
    for entry in limits(protocol)[1]:
        warnings.append(
            Problem(
                protocol.path,
                None,
                None,
                None,
                f"{entry}: absent from the protocol file, so this limit is not checked",
            )
        )
    return warnings


def _cost(column: Column, protocol: Protocol) -> str:
    """What an absent column costs, naming the protocol's criteria that read it."""
    criteria = column.read_by(protocol)
    if "{criteria}" in column.if_absent and not criteria:
        return f"no criterion of {protocol.name} reads it"
    names = [f"{c.id} ({c.label})" if c.label else c.id for c in criteria]
    return column.if_absent.format(criteria=and_list(names))


def _write_report(problems: list[Problem], folder: Path, report_dir: str | Path | None):
    """Every problem, one per line, in a text file; ``None`` when it cannot be written."""
    where = Path(report_dir) if report_dir is not None else Path(tempfile.gettempdir())
    tag = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
    path = where / "studylib-problems" / f"{folder.resolve().name}-{tag}.txt"
    text = f"{len(problems)} problems in {folder}\n" + "".join(f"{p}\n" for p in problems)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial_path = path.with_suffix(f".{os.getpid()}.part")
        partial_path.write_text(text, encoding="utf-8")
        partial_path.replace(path)
    except OSError:
        return None
    return path


@dataclass(frozen=True)
class _Checked:
    """A trial folder read and checked under one protocol, before any patient is chosen."""

    frames: dict[str, pd.DataFrame]
    notices: dict[str, str]
    warnings: list[Problem]
    problems: list[Problem]
    file_problems: list[Problem]


#: The last folders checked, by content and protocol (see :func:`_checked`).
_CHECKED: OrderedDict[tuple, _Checked] = OrderedDict()
_CHECKED_KEPT = 4


def _contents(folder: Path) -> tuple[str | None, ...] | None:
    """The SHA-256 of each file of the data dictionary in ``folder`` (None when absent);
    None when a file cannot be read (the load says why)."""
    paths = [folder / table.filename for table in TABLES.values()]
    try:
        return tuple(
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            for path in paths
        )
    except OSError:
        return None


def _checked(folder: Path, protocol: Protocol) -> _Checked:
    """Read and check every file of ``folder``; the same files under the same protocol are
    read once per process.

    Every notebook of a batch loads the whole trial folder (a warm worker runs notebook after
    notebook in one process): reading it again costs a third of a second each time. The key
    is the files' content, not their dates, so an edited file is always read again; each
    caller gets its own copy of the tables.
    """
    contents = _contents(folder)
    key = (str(folder.resolve()), contents, protocol.sha256)
    if key not in _CHECKED:
        checked = _check_folder(folder, protocol)
        # Kept only when every file was read, and not rewritten while it was being read.
        if contents is None or _contents(folder) != contents:
            return checked
        _CHECKED[key] = checked
        while len(_CHECKED) > _CHECKED_KEPT:
            _CHECKED.popitem(last=False)
    _CHECKED.move_to_end(key)
    return _CHECKED[key]


def _check_folder(folder: Path, protocol: Protocol) -> _Checked:
    problems: list[Problem] = []
    file_problems: list[Problem] = []
    reporter = _Reporter({}, {}, problems)
    reads = {
        name: _load_table(folder, table, problems, file_problems, reporter, protocol)
        for name, table in TABLES.items()
    }
    frames = {name: read.frame for name, read in reads.items()}
    readable = {name for name, read in reads.items() if read.readable}
    across: list[Problem] = []
    checks = _Reporter(frames, reads, across)
    checks.reported = reporter.reported
    present = {name: set(read.header) for name, read in reads.items()}
    judged = {name: frame for name, frame in frames.items() if name in readable}
    check_values(judged, checks, protocol)
    check_dates(judged, checks, protocol, calendar_days)
    usable = {name for name, read in reads.items() if read.usable}
    check_across(frames, usable, present, checks, file_problems.append, protocol)
    unread = set().union(*(read.unread_patients for read in reads.values()))
    problems += [p for p in across if p.patient_id not in unread]
    return _Checked(
        frames=frames,
        notices={name: read.notice for name, read in reads.items()},
        warnings=_absent(reads, folder, protocol),
        problems=problems,
        file_problems=file_problems,
    )


def load_cohort(
    path: str | Path | None = None,
    *,
    patients: Iterable[str] | None = None,
    protocol: Protocol | None = None,
    report_dir: str | Path | None = None,
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
        patient alone. Rows of other patients with problems are still loaded as read, and
        their problems are in :attr:`Cohort.other_problems`.
    protocol
        The protocol the data follow. Default: the folder's own ``protocol.toml`` when it has
        one, else the bundled protocol (:func:`studylib.protocol.protocol_for_folder`).
    report_dir
        Where a long list of problems is written whole (``studylib-problems/`` in it);
        default: the system's temporary folder. The error's message lists the first
        :attr:`DataError.SHOWN` and says where the file is.

    Returns
    -------
    Cohort
        With ``.protocol``, the protocol the data were checked against, and ``.warnings``.

    Raises
    ------
    DataError
        Listing every problem: file, line, column, value and what was expected; problems
        with whole files first.
    ProtocolError
        When the folder's ``protocol.toml`` is malformed (file, section and entry).
    FileNotFoundError
        When the folder does not exist.
    """
    folder = Path(path) if path is not None else default_data_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"no trial data folder at {folder}")
    protocol = protocol_for_folder(folder) if protocol is None else resolve_protocol(protocol)
    checked = _checked(folder, protocol)
    problems, file_problems = list(checked.problems), list(checked.file_problems)
    other: list[Problem] = []
    if patients is not None:
        selected = set(patients)

        def theirs(found: list[Problem]) -> list[Problem]:
            other.extend(p for p in found if p.patient_id not in (None, *selected))
            return [p for p in found if p.patient_id is None or p.patient_id in selected]

        problems, file_problems = theirs(problems), theirs(file_problems)
    order = list(TABLES)

    def position(p: Problem) -> tuple[int, int, int]:
        name = p.file.removesuffix(".csv")
        if name not in order:
            return (len(order), 0, 0)
        columns = [c.name for c in TABLES[name].columns]
        column = columns.index(p.column) if p.column in columns else len(columns)
        return (order.index(name), p.line or 0, column)

    problems = sorted(file_problems, key=position) + sorted(problems, key=position)
    if problems:
        report = None
        if len(problems) > DataError.SHOWN:
            report = _write_report(problems, folder, report_dir)
        raise DataError(problems, context=str(folder), report=report)
    return Cohort(
        path=folder,
        notices=dict(checked.notices),
        protocol=protocol,
        warnings=list(checked.warnings),
        other_problems=sorted(other, key=position),
        **{name: frame.copy() for name, frame in checked.frames.items()},
    )
