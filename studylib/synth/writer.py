"""Writing a synthetic cohort to a folder, safely.

Every file starts with the synthetic-data notice as a ``#`` comment line, so anyone opening it
knows it describes no real patient, and so the generator can recognise its own earlier output.
It never overwrites what it did not write: a folder may be reused only when it holds nothing
but files that begin with the notice (plus a ``README.md`` and hidden entries, which it leaves
untouched). Files are first written to a temporary folder beside the target and validated with
:func:`studylib.data.load_cohort`; only a valid cohort replaces the old files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from studylib.data import load_cohort
from studylib.dictionary import SYNTHETIC_NOTICE, TABLES
from studylib.errors import SynthError
from studylib.protocol import PROTOCOL_FILENAME, Protocol, resolve_protocol

__all__ = ["NOTICE_LINE", "SynthError", "check_output_folder", "csv_text", "write_tables"]

NOTICE_LINE = f"# {SYNTHETIC_NOTICE}"
_LEFT_ALONE = {"README.md"}


def csv_text(frame: pd.DataFrame) -> str:
    """The notice line, then the frame as CSV (text columns, ``\\n`` line ends)."""
    return NOTICE_LINE + "\n" + frame.to_csv(index=False, lineterminator="\n")


def _written_by_us(path: Path) -> bool:
    if not path.is_file() or path.name not in {t.filename for t in TABLES.values()}:
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.readline().rstrip("\r\n") == NOTICE_LINE


def _same_protocol(path: Path, protocol: Protocol | None) -> bool:
    """A folder's protocol.toml that is the protocol being written (so it may be replaced)."""
    if protocol is None or path.name != PROTOCOL_FILENAME or not path.is_file():
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == protocol.sha256


def check_output_folder(folder: Path, protocol: Protocol | None = None) -> None:
    """Refuse a folder holding anything the generator did not write.

    A ``protocol.toml`` is the generator's own when it is the protocol being written.

    Raises
    ------
    SynthError
        Naming the folder and the files that are not the generator's own.
    """
    if folder.exists() and not folder.is_dir():
        raise SynthError(f"--out {folder} is a file; give a folder for the cohort's CSV files")
    if not folder.exists():
        return
    foreign = [
        entry.name
        for entry in sorted(folder.iterdir())
        if not entry.name.startswith(".")
        and entry.name not in _LEFT_ALONE
        and not _written_by_us(entry)
        and not _same_protocol(entry, protocol)
    ]
    if foreign:
        shown = ", ".join(foreign[:10]) + (
            f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""
        )
        raise SynthError(
            f"refusing to write into {folder}: it holds {shown}, which studylib synth did not "
            f"write (its files start with the line '{NOTICE_LINE}'). Choose a new or empty "
            "folder; the generator never overwrites other data."
        )


def write_tables(
    tables: dict[str, pd.DataFrame], folder: Path, protocol: Protocol | None = None
) -> list[Path]:
    """Write, validate and move the cohort's CSV files into ``folder``; returns their paths.

    With a ``protocol`` other than the bundled one, its file is copied into the folder as
    ``protocol.toml``, so that the folder carries the rules its data follow
    (:func:`studylib.data.load_cohort` reads it as ``Cohort.protocol``).

    Raises
    ------
    SynthError
        When the folder holds files the generator did not write.
    studylib.errors.DataError
        When the generated cohort does not pass the loader (a generator bug); nothing is moved.
    """
    folder = Path(folder)
    own = protocol is not None and protocol != resolve_protocol(None)
    check_output_folder(folder, protocol if own else None)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-synth-", dir=folder.parent))
    try:
        names = [TABLES[name].filename for name in tables]
        for name, frame in tables.items():
            (staging / TABLES[name].filename).write_text(
                csv_text(frame), encoding="utf-8", newline=""
            )
        if own:
            (staging / PROTOCOL_FILENAME).write_text(
                protocol.source_text, encoding="utf-8", newline=""
            )
            names.append(PROTOCOL_FILENAME)
        load_cohort(staging)
        paths = []
        for filename in names:
            os.replace(staging / filename, folder / filename)
            paths.append(folder / filename)
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
