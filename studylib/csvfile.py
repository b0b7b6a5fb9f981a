"""One CSV file of a trial folder as text: its rows, the editor's line of each, and its header.

A file that cannot be read as the data dictionary's CSV (UTF-16 text, columns separated by
semicolons or tabs, no header row, a double quote that is never closed) is one problem saying
what the file looks like and how to save it: its rows are not judged, since every one of them
would be a follow-on problem of the same cause. Other problems (a row with too many values, a
repeated or misspelt column name) are reported one by one and the rest of the file is read.

Line numbers are those a text editor shows: comment lines (``#`` at the top), blank lines and
values spanning lines are counted.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from studylib.dictionary import Table
from studylib.errors import Problem

__all__ = ["FileRead", "read_file", "SAVE_AS"]

#: How to save a spreadsheet as the loader reads it.
SAVE_AS = "save it from the spreadsheet as 'CSV UTF-8 (Comma delimited)'"

# Separators other than the comma that spreadsheets write, and where they come from.
_SEPARATORS = {
    ";": "semicolons (a spreadsheet set to a language that writes decimal commas saves CSV so)",
    "\t": "tabs (a 'Text (Tab delimited)' or 'Unicode Text' export)",
    "|": "vertical bars",
}


@dataclass
class FileRead:
    """What was read of one file.

    ``readable``: its values can be judged. ``usable``: its rows can also be checked against
    other files' rows (a file missing a required column, or without rows where other files
    refer to it, is readable but not usable: every cross-check would be a follow-on problem).
    """

    frame: pd.DataFrame
    #: The text as read, before conversion (problems quote it).
    raw: pd.DataFrame | None = None
    #: The column names of the header (those holding values), as written.
    header: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    header_line: int = 1
    notice: str = ""
    readable: bool = False
    usable: bool = False
    #: Rows with the wrong number of values: kept with only their patient id (so that the
    #: patient is still listed, and fails alone), their values not judged, and other files'
    #: references to their patient not judged either.
    unread_rows: set[int] = field(default_factory=set)
    unread_patients: set[str] = field(default_factory=set)

    @classmethod
    def nothing(cls, table: Table) -> FileRead:
        """An empty table with the dictionary's columns (a missing or unreadable file)."""
        frame = pd.DataFrame({c.name: pd.Series(dtype=object) for c in table.columns})
        return cls(frame=frame)


def read_file(
    path: Path, table: Table, problems: list[Problem], file_problems: list[Problem]
) -> FileRead:
    """Read one CSV file as text, appending its problems.

    ``file_problems`` receives the problems with the file as a whole (they are listed first,
    and leave the file unread); ``problems`` those of single rows and columns.
    """
    read = FileRead.nothing(table)
    raw = path.read_bytes()
    text = _decode(raw, table, file_problems)
    if text is None:
        return read
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
        skipped += 1
    read.notice = " ".join(line.lstrip("# ").strip() for line in lines[:skipped])
    body = "".join(lines[skipped:])
    if not body.strip():
        file_problems.append(
            Problem(
                table.filename,
                None,
                None,
                None,
                f"a header row naming the columns ({_some_columns(table)}) and one row per"
                f" record; the file {'holds only comments' if skipped else 'is empty'}",
            )
        )
        return read
    reader = csv.reader(io.StringIO(body, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    consumed = 0
    first_line = skipped + 1
    try:
        for record in reader:
            first_line = skipped + consumed + 1
            consumed = reader.line_num
            if not any(value.strip() for value in record):
                continue
            if header is None:
                header, read.header_line = [name.strip() for name in record], first_line
                if _header_problem(lines[first_line - 1], header, table, first_line, file_problems):
                    return read
                continue
            if len(record) == len(header):
                rows.append(record)
                read.lines.append(first_line)
                continue
            last_line = skipped + consumed
            if last_line > first_line:
                file_problems.append(_runaway_quote(table, first_line, last_line, len(lines)))
                return read
            rows.append(_unread_row(read, header, record, len(rows)))
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
                    patient_id=_owner(header, record),
                )
            )
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            file_problems.append(_runaway_quote(table, first_line, None, len(lines)))
        else:
            file_problems.append(
                Problem(table.filename, first_line, None, None, f"readable CSV text ({error})")
            )
        return read
    if header is None:  # only blank lines after the comments
        file_problems.append(
            Problem(table.filename, None, None, None, "a header row naming the columns")
        )
        return read
    columns = _columns(table, header, rows, read.header_line, problems)
    read.frame = pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))
    read.header = list(columns)
    read.readable = read.usable = True
    return read


def _decode(raw: bytes, table: Table, file_problems: list[Problem]) -> str | None:
    """The file's text, or ``None`` with one problem saying what the bytes look like."""
    utf16 = _utf16(raw)
    if utf16 is not None:
        encoding, text = utf16
        first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
        tabs = " with columns separated by tabs" if "\t" in first else ""
        file_problems.append(
            Problem(
                table.filename,
                1,
                None,
                first,
                f"UTF-8 text; this file is {encoding} text{tabs} (Excel's 'Unicode Text'):"
                f" {SAVE_AS}",
            )
        )
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start]
        legacy = bytes([byte]).decode("cp1252", errors="replace")
        file_problems.append(
            Problem(
                table.filename,
                line,
                None,
                f"byte {byte:#04x}",
                f"UTF-8 text; this byte is {legacy!r} in Windows-1252 (Latin-1), the encoding of"
                f" a plain 'CSV' export: {SAVE_AS}",
            )
        )
        return None


def _utf16(raw: bytes) -> tuple[str, str] | None:
    """``(name, text)`` when the bytes are UTF-16, with or without a byte-order mark."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16", raw.decode("utf-16", errors="replace")
    start = raw[:4000]
    if len(start) < 4 or b"\x00" not in start:
        return None
    # ASCII text in UTF-16 has a zero byte in every other position.
    even, odd = start[0::2], start[1::2]
    for zeros, encoding in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros.count(0) > 0.9 * len(zeros):
            return "UTF-16 (without a byte-order mark)", raw.decode(encoding, errors="replace")
    return None


def _header_problem(
    line: str, header: list[str], table: Table, number: int, file_problems: list[Problem]
) -> bool:
    """Whether the header shows that the file is not comma-separated CSV with a header row."""
    known = {c.name for c in table.columns}
    found = sum(name in known for name in header)
    for separator, how in _SEPARATORS.items():
        split = next(csv.reader([line.rstrip("\r\n")], delimiter=separator))
        if sum(name.strip() in known for name in split) > max(found, 1):
            file_problems.append(
                Problem(
                    table.filename,
                    number,
                    None,
                    line.strip(),
                    f"columns separated by commas; this file separates them with {how}:"
                    f" {SAVE_AS}, or set the list separator to a comma",
                )
            )
            return True
    lowered = [c.name for c in table.columns]
    close = any(difflib.get_close_matches(n.lower(), lowered, n=1, cutoff=0.8) for n in header)
    if not found and not close:
        file_problems.append(
            Problem(
                table.filename,
                number,
                None,
                line.strip(),
                f"a header row naming the columns ({_some_columns(table)}; data/README.md):"
                " this first line names none of them; add the header row",
            )
        )
        return True
    return False


def _runaway_quote(table: Table, first: int, last: int | None, total: int) -> Problem:
    """A double quote opened in a row and not closed: every later line joined its value."""
    until = "the end of the file" if last is None or last >= total else f"line {last}"
    return Problem(
        table.filename,
        first,
        None,
        None,
        f"a double quote in this row opens a value that runs to {until}, so the lines between"
        ' were read as one value: close the quote, write a quote inside a value as "", or'
        " remove it",
    )


def _owner(header: list[str], record: list[str]) -> str | None:
    if "patient_id" in header and header.index("patient_id") < len(record):
        return record[header.index("patient_id")].strip() or None
    return None


def _unread_row(read: FileRead, header: list[str], record: list[str], index: int) -> list[str]:
    """A row with the wrong number of values: kept with only its patient id."""
    owner = _owner(header, record)
    if owner:
        read.unread_patients.add(owner)
    read.unread_rows.add(index)
    return [(owner or "") if name == "patient_id" else "" for name in header]


def _columns(
    table: Table, header: list[str], rows: list[list[str]], line: int, problems: list[Problem]
) -> dict[str, pd.Series]:
    """The values by column name; repeated, unnamed and misspelt columns are reported."""
    columns: dict[str, pd.Series] = {}
    by_column = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    for position, name in enumerate(header):
        values = pd.Series(by_column[position], dtype=object)
        if name in columns:
            problems.append(
                Problem(
                    table.filename,
                    line,
                    name,
                    None,
                    f"each column named once; this name is repeated (column {position + 1})",
                )
            )
        elif not name and values.str.strip().ne("").any():
            problems.append(
                Problem(
                    table.filename,
                    line,
                    None,
                    f"column {position + 1}",
                    "a name in the header for every column that holds values",
                )
            )
        elif name:
            columns[name] = values
    _check_column_names(table, list(columns), line, problems)
    return columns


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


def _some_columns(table: Table) -> str:
    names = [c.name for c in table.columns]
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
