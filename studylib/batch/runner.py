"""The batch run: plan, run the notebooks in parallel, record everything, summarise.

See :func:`run_batch`. Output layout::

    <out>/<run>/manifest.json                   what ran, on which inputs, and how it went
    <out>/<run>/cohort.csv                      one row per patient: the recorded values
    <out>/<run>/<patient_id>/<notebook>.ipynb   the executed notebook
    <out>/<run>/<patient_id>/<notebook>.html    the same, without code, for clinicians
    <out>/<run>/kernels.log                     the kernels' console messages
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
import threading
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from studylib.batch.executors import default_workers, start_local_workers_early
from studylib.batch.files import remove_temporary_files
from studylib.batch.manifest import (
    is_up_to_date,
    load_entries,
    write_cohort_table,
    write_manifest,
)
from studylib.batch.plan import (
    BatchError,
    check_patient_ids,
    data_file_hashes,
    discover_notebooks,
    plan_tasks,
    select_population,
    studylib_fingerprint,
    unsafe_ids,
)

__all__ = ["run_batch", "BatchReport", "summary", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 600.0
SHOWN_LINES = 6  # of an error message in the summary; the manifest keeps all of it
STOPPED = "stopped by Ctrl-C before it finished; rerun the same command to resume"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class BatchReport:
    """What a batch run did; ``exit_code`` is what the command returns."""

    run_dir: Path
    manifest: Path
    cohort_table: Path
    entries: dict = field(repr=False)
    ran: int
    skipped: int
    interrupted: bool
    elapsed_s: float
    backend: str
    warm: bool
    not_enrolled: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[dict]:
        """Entries that did not end ``ok``, patient by patient."""
        return [e for _, e in sorted(self.entries.items()) if e["status"] != "ok"]

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # the shell's convention for "ended by SIGINT"
        return 1 if self.problems else 0


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("papermill", "nbclient", "nbconvert", "ipykernel", "pandas", "pint"):
        with contextlib.suppress(PackageNotFoundError):
            found[package] = version(package)
    return found


def _safe_run_name(name: str) -> str:
    if unsafe_ids([name]):
        raise BatchError(
            f"refused run name {name!r}: use letters, digits, '-' and '_' only,"
            " because it names a folder"
        )
    return name


def _refused(patient_id: str, notebook: str) -> dict:
    return {
        "patient_id": patient_id,
        "notebook": notebook,
        "status": "refused",
        "error": {
            "kind": "unsafe id",
            "message": f"patient id {patient_id!r} in screening.csv is not a valid id"
            " (letters, digits, '-' and '_'): it would name a folder outside the run;"
            " the loader reports it as a problem of screening.csv",
        },
        "started_at": None,
        "ended_at": None,
    }


def _stopped(task, previous: dict | None) -> dict:
    # a task that never got to write keeps its earlier entry, which still matches the files
    if previous is not None:
        return previous
    return {
        "patient_id": task.patient_id,
        "notebook": task.notebook,
        "status": "interrupted",
        "error": {"kind": "interrupted", "message": STOPPED},
        "fingerprint": task.fingerprint,
        "started_at": None,
        "ended_at": None,
    }


def run_batch(
    data_dir: str | Path | None = None,
    *,
    patients: list[str] | None = None,
    notebooks: list[str] | None = None,
    out: str | Path = "outputs",
    run: str | None = None,
    workers: int | None = None,
    force: bool = False,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    scheduler: str | None = None,
    warm: bool = False,
    progress: bool = True,
) -> BatchReport:
    """Run every per-patient notebook for the selected patients.

    Parameters
    ----------
    data_dir
        The trial folder (default: the bundled synthetic cohort).
    patients
        Patient ids (default: every screened patient). The screening notebook runs for each;
        the other per-patient notebooks only for patients in randomization.csv.
    notebooks
        Notebook names, files or folders (default: the per-patient notebooks in
        ``notebooks/``).
    out, run
        Outputs go to ``<out>/<run>/``; ``run`` defaults to the data folder's name.
    workers
        Local worker processes (default: one per core); ignored with ``scheduler``.
    force
        Rerun notebooks whose inputs have not changed.
    timeout_s
        The longest one cell may run, in seconds (None: no limit).
    scheduler
        Address of a Dask distributed scheduler, to run on its workers instead.
    warm
        Keep one kernel per worker, reset between notebooks (faster; same outputs).
    progress
        Show a progress bar (on a terminal).

    Returns
    -------
    BatchReport

    Raises
    ------
    BatchError
        Before anything runs, for an unsafe or unknown patient id, a bad run name, a
        notebook that is not per-patient, or a trial folder whose files cannot be read.
    """
    from studylib.data import default_data_dir

    started = time.perf_counter()
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if not data_dir.is_dir():
        raise BatchError(f"no trial data folder at {data_dir}")
    run = _safe_run_name(run if run is not None else data_dir.resolve().name)
    if scheduler is None:
        start_local_workers_early()
    chosen = discover_notebooks(notebooks)
    population = select_population(data_dir)
    if patients:
        selected = check_patient_ids(patients, population)
        refused = []
    else:
        refused = unsafe_ids(population.screened)
        selected = [p for p in population.screened if p not in set(refused)]

    run_dir = Path(out) / run
    run_dir.mkdir(parents=True, exist_ok=True)
    remove_temporary_files(run_dir)
    package = studylib_fingerprint()
    data_hashes = data_file_hashes(data_dir)
    tasks = plan_tasks(
        selected,
        chosen,
        population,
        run_dir=run_dir,
        data_hashes=data_hashes,
        package=package,
        timeout_s=timeout_s,
        warm=warm,
    )
    entries = load_entries(run_dir)
    previous = dict(entries)
    for patient_id in refused:
        for notebook in chosen:
            if notebook.population == "screened" or patient_id in population.enrolled:
                entries[(patient_id, notebook.name)] = _refused(patient_id, notebook.name)
    to_run = [t for t in tasks if force or not is_up_to_date(t, previous.get(t.key))]
    for task in tasks:
        if task not in to_run:
            entries[task.key] = {**previous[task.key], "reused": True}

    header = {
        "run": run,
        "started_at": _now(),
        "ended_at": None,
        "parameters": {
            "data": str(data_dir.resolve()),
            "patients": list(patients) if patients else None,
            "notebooks": [nb.name for nb in chosen],
            "workers": None if scheduler else workers or default_workers(),
            "warm": warm,
            "timeout_s": timeout_s,
            "scheduler": scheduler,
            "force": force,
            "kernel": "python3",
        },
        "inputs": {
            "data_sha256": data_hashes,
            "notebooks": {nb.name: {"path": str(nb.path), "sha256": nb.sha256} for nb in chosen},
        },
        "studylib": package,
        "environment": _versions(),
    }
    write_manifest(run_dir, header, entries)

    interrupted = False
    description = "nothing to run"
    if to_run:
        with _terminate_as_interrupt():
            description, interrupted = _run_tasks(
                to_run, entries, previous, run_dir, header, workers, scheduler, progress
            )
    remove_temporary_files(run_dir)
    header["ended_at"] = _now()
    manifest = write_manifest(run_dir, header, entries)
    table = write_cohort_table(
        run_dir, entries, list(population.screened), [nb.name for nb in chosen]
    )
    has_enrolled_only = any(nb.population == "enrolled" for nb in chosen)
    return BatchReport(
        run_dir=run_dir,
        manifest=manifest,
        cohort_table=table,
        entries=entries,
        ran=len(to_run),
        skipped=len(tasks) - len(to_run),
        interrupted=interrupted,
        elapsed_s=time.perf_counter() - started,
        backend=description,
        warm=warm,
        not_enrolled=[p for p in selected if p not in population.enrolled]
        if has_enrolled_only
        else [],
    )


@contextlib.contextmanager
def _terminate_as_interrupt():
    """Treat SIGTERM (``kill``, a CI job cancelled) like Ctrl-C: stop cleanly, not abruptly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_tasks(to_run, entries, previous, run_dir, header, workers, scheduler, progress):
    """Submit every task, record each result as it comes; returns (backend, interrupted)."""
    from tqdm import tqdm

    from studylib.batch.executors import default_workers, make_backend, run_in_worker

    # no more workers than notebooks: an idle worker still costs a process
    backend = make_backend(min(workers or default_workers(), len(to_run)), scheduler)
    bar = None
    pending = {}
    interrupted = False

    def record(future, task) -> None:
        try:
            entry = future.result()
        except Exception as error:  # the worker itself failed (killed, out of memory)
            entry = {
                "patient_id": task.patient_id,
                "notebook": task.notebook,
                "status": "error",
                "error": {"kind": "worker", "message": f"{type(error).__name__}: {error}"},
                "fingerprint": task.fingerprint,
            }
        if interrupted and entry["status"] != "ok":
            entry = (
                _stopped(task, previous.get(task.key))
                if entry["status"] == "interrupted"
                else {
                    **entry,
                    "status": "interrupted",
                    "error": {"kind": "interrupted", "message": STOPPED},
                }
            )
        entry["reused"] = False
        entries[task.key] = entry
        write_manifest(run_dir, header, entries)

    try:
        for task in to_run:
            pending[backend.executor.submit(run_in_worker, task)] = task
        # the bar (and its monitor thread) only once the workers exist
        bar = tqdm(
            total=len(to_run),
            unit="notebook",
            desc=f"studylib batch ({backend.description})",
            disable=None if progress else True,
            file=sys.stderr,
        )
        failures = 0
        for future in as_completed(pending):
            task = pending.pop(future)
            record(future, task)
            failures += entries[task.key]["status"] != "ok"
            bar.set_postfix_str(f"{failures} failed" if failures else "", refresh=False)
            bar.update()
    except KeyboardInterrupt:
        interrupted = True
        if bar is not None:
            bar.write("Stopping: waiting for the notebooks in progress to stop...")
        backend.interrupt()
        for future in pending:
            future.cancel()
        # a second Ctrl-C stops the waiting; the kernels then end with their worker
        with contextlib.suppress(KeyboardInterrupt):
            backend.close(cancel=True)
        for future, task in pending.items():
            if future.done() and not future.cancelled():
                record(future, task)
            else:
                entries[task.key] = _stopped(task, previous.get(task.key))
        return backend.description, True
    finally:
        if bar is not None:
            bar.close()
        if not interrupted:
            backend.close()
    return backend.description, False


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is inside it."""
    relative = os.path.relpath(Path(path).resolve())
    return relative if not relative.startswith("..") else str(Path(path).resolve())


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def summary(report: BatchReport) -> str:
    """The end-of-run summary printed by ``studylib batch``."""
    total = report.ran + report.skipped
    mode = "warm kernels" if report.warm else "a fresh kernel per notebook"
    if report.ran:
        head = (
            f"studylib batch: {total} notebook{'s' if total != 1 else ''} in"
            f" {_duration(report.elapsed_s)} on {report.backend}, {mode}"
        )
    else:
        head = f"studylib batch: nothing to run ({total} up to date; --force reruns them)"
    lines = [head]
    counts: dict[str, int] = {}
    for entry in report.entries.values():
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    lines.append(
        f"  ran {report.ran}, skipped {report.skipped} (inputs unchanged, already ok);"
        " in the run folder: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    )
    if report.not_enrolled:
        shown = ", ".join(report.not_enrolled[:8]) + (
            " ..." if len(report.not_enrolled) > 8 else ""
        )
        lines.append(
            f"  {len(report.not_enrolled)} patient(s) not in randomization.csv ran the screening"
            f" notebook only: {shown}"
        )
    for entry in report.problems:
        error = entry.get("error") or {}
        lines_of_message = (error.get("message") or "").strip().splitlines()
        if len(lines_of_message) > SHOWN_LINES:
            hidden = len(lines_of_message) - SHOWN_LINES
            lines_of_message = lines_of_message[:SHOWN_LINES] + [
                f"... {hidden} more in the manifest"
            ]
        message = "\n      ".join(lines_of_message)
        lines.append(
            f"  {entry['status'].upper()} {entry['patient_id']} {entry['notebook']}: {message}"
        )
    if report.interrupted:
        lines.append("Interrupted: rerun the same command to finish; finished notebooks are kept.")
    lines += [
        f"Outputs:      {_shown(report.run_dir)}/<patient_id>/<notebook>.ipynb and .html",
        f"Cohort table: {_shown(report.cohort_table)}",
        f"Manifest:     {_shown(report.manifest)}",
    ]
    return "\n".join(lines)
