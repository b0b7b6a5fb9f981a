"""The run manifest (``manifest.json``) and the cohort table (``cohort.csv``) of a run folder.

The manifest is the audit record of a run folder: the parameters of the last run, the
SHA-256 of every input (data files, notebooks, the studylib package), when the run started
and ended, and one entry per patient and notebook with its status, its error, its outputs and
the values it recorded. It is rewritten (atomically) after every notebook, so that a run
stopped by Ctrl-C or a crash still describes the outputs on disk, and a rerun can skip what
is done.

Entries of patients not selected in a rerun are kept: the folder accumulates. Each entry
names the inputs it was produced from (``inputs``: the data files' and the notebook's SHA-256
and the studylib version) and their ``fingerprint``; an entry kept from an earlier run whose
inputs differ from the last run's is marked ``"outdated": true``, so that an auditor can tell
which results of the cohort table were made from which data.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from studylib.batch.files import write_atomic
from studylib.batch.plan import Task

__all__ = [
    "MANIFEST",
    "COHORT_TABLE",
    "load_manifest",
    "load_entries",
    "problem_record",
    "is_up_to_date",
    "write_manifest",
    "cohort_rows",
    "write_cohort_table",
]

MANIFEST = "manifest.json"
COHORT_TABLE = "cohort.csv"
SCHEMA = 1


def load_manifest(run_dir: Path) -> dict | None:
    """The manifest of ``run_dir``, or None when there is none or it cannot be read."""
    path = Path(run_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def load_entries(run_dir: Path) -> dict[tuple[str, str], dict]:
    """The entries of an earlier manifest in ``run_dir``, by (patient, notebook)."""
    manifest = load_manifest(run_dir)
    try:
        return {(e["patient_id"], e["notebook"]): e for e in manifest["notebooks"]}
    except (KeyError, TypeError):
        return {}  # none, or unreadable (edited by hand): everything reruns


def problem_record(problem) -> dict:
    """A loader's :class:`~studylib.errors.Problem` as the manifest stores it."""
    value = problem.value
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "value": value,
        "expected": problem.expected,
        "patient_id": problem.patient_id,
        "message": str(problem),
    }


def is_up_to_date(task: Task, entry: dict | None) -> bool:
    """Whether an earlier result can stand: same inputs, status ok, both outputs on disk."""
    return (
        entry is not None
        and entry.get("status") == "ok"
        and entry.get("fingerprint") == task.fingerprint
        and task.output.is_file()
        and task.html.is_file()
    )


def write_manifest(run_dir: Path, header: dict, entries: dict[tuple[str, str], dict]) -> Path:
    """Write ``manifest.json`` atomically; returns its path."""
    ordered = sorted(entries.values(), key=lambda e: (e["patient_id"], e["notebook"]))
    counts: dict[str, int] = {}
    for entry in ordered:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    manifest = {"schema": SCHEMA, **header, "counts": counts, "notebooks": ordered}
    path = Path(run_dir) / MANIFEST
    write_atomic(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _problems_cell(entries: list[dict]) -> str:
    """Why a patient's notebooks did not end ok, on one line: a notebook's message, once
    for all the notebooks that failed with it (a bad record fails them all alike)."""
    by_message: dict[str, list[str]] = {}
    for entry in entries:
        if entry["status"] == "ok":
            continue
        message = (entry.get("error") or {}).get("message") or entry["status"]
        one_line = " ".join(line.strip() for line in message.strip().splitlines())
        by_message.setdefault(one_line, []).append(entry["notebook"])
    return " | ".join(f"{', '.join(nbs)}: {message}" for message, nbs in by_message.items())


def cohort_rows(
    entries: dict[tuple[str, str], dict],
    patient_order: list[str],
    notebook_order: list[str],
    data_notes: dict[str | None, list[str]] | None = None,
) -> tuple[list[str], list[dict]]:
    """The cohort table: one row per patient, columns ``<notebook>.<recorded name>``.

    Each notebook also gets a ``<notebook>.run_status`` column (ok, failed, timeout, ...);
    it is empty where the notebook does not apply (a patient who was not enrolled). Column
    ``run_problems`` says why a patient's notebooks did not end ok (the loader's file, line,
    column and value for a bad record), and the last column, ``data_problems``, what the
    loader reports about the patient's data (``data_notes``; under ``None``, what concerns
    every patient, such as a missing column), whether or not their notebooks ran in this
    run; a patient with such a problem has a row even when none of their notebooks ran. So
    the table alone tells a data manager what to fix.
    """
    data_notes = data_notes or {}
    rank = {p: i for i, p in enumerate(patient_order)}
    notebooks = list(notebook_order) + sorted({n for _, n in entries} - set(notebook_order))
    names: dict[str, list[str]] = {n: [] for n in notebooks}
    rows: dict[str, dict] = {}
    for (patient, notebook), entry in entries.items():
        row = rows.setdefault(patient, {"patient_id": patient})
        row[f"{notebook}.run_status"] = entry["status"]
        for name, value in (entry.get("recorded") or {}).items():
            if name not in names[notebook]:
                names[notebook].append(name)
            row[f"{notebook}.{name}"] = _cell(value)
    columns = ["patient_id"]
    for notebook in notebooks:
        if any(k[1] == notebook for k in entries):
            columns += [f"{notebook}.run_status"] + [f"{notebook}.{n}" for n in names[notebook]]
    columns += ["run_problems", "data_problems"]
    for patient in data_notes:
        if patient is not None:
            rows.setdefault(patient, {"patient_id": patient})
    everyone = data_notes.get(None, [])
    notebook_rank = {n: i for i, n in enumerate(notebooks)}
    for patient, row in rows.items():
        mine = [e for (p, _), e in entries.items() if p == patient]
        mine.sort(key=lambda e: notebook_rank[e["notebook"]])
        row["run_problems"] = _problems_cell(mine)
        row["data_problems"] = " | ".join(data_notes.get(patient, []) + everyone)
    ordered = sorted(
        rows.values(), key=lambda r: (rank.get(r["patient_id"], len(rank)), r["patient_id"])
    )
    return columns, ordered


def write_cohort_table(
    run_dir: Path,
    entries: dict[tuple[str, str], dict],
    patient_order: list[str],
    notebook_order: list[str],
    data_notes: dict[str | None, list[str]] | None = None,
) -> Path:
    """Write ``cohort.csv`` atomically; returns its path."""
    columns, rows = cohort_rows(entries, patient_order, notebook_order, data_notes)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(run_dir) / COHORT_TABLE
    write_atomic(path, buffer.getvalue())
    return path
