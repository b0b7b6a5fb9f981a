"""The batch run: plan, run the notebooks in parallel, record everything, summarise.

See :func:`run_batch`. Output layout::

    <out>/<run>/manifest.json                   what ran, on which inputs, and how it went
    <out>/<run>/cohort.csv                      one row per patient: the recorded values
    <out>/<run>/<patient_id>/<notebook>.ipynb   the executed notebook
    <out>/<run>/<patient_id>/<notebook>.html    the same, without code, for clinicians
    <out>/<run>/kernels.log                     the kernels' console messages
    <out>/<run>/batch.lock                      while a run is in progress (pid and host)

Whatever ends a run (the last notebook, Ctrl-C or SIGTERM, a full disk), it ends the same
way: every notebook it was asked for has an entry (``interrupted`` when it did not finish),
the manifest and cohort table describe exactly the files on disk, no worker or kernel is
left running, and the summary says what happened and how to resume.
"""

from __future__ import annotations

import contextlib
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from studylib.batch.executors import default_workers, make_backend, start_local_workers_early
from studylib.batch.files import remove_temporary_files
from studylib.batch.lock import RunLock
from studylib.batch.manifest import (
    COHORT_TABLE,
    MANIFEST,
    is_up_to_date,
    load_manifest,
    problem_record,
    write_cohort_table,
    write_manifest,
)
from studylib.batch.plan import (
    BatchError,
    check_patient_ids,
    check_timeout,
    data_file_hashes,
    default_run_name,
    discover_notebooks,
    plan_tasks,
    select_population,
    studylib_fingerprint,
    task_inputs,
    unsafe_ids,
)
from studylib.batch.pool import GRACE_S
from studylib.batch.report import BatchReport, summary
from studylib.batch.stopping import Stopper, signal_name

__all__ = ["run_batch", "BatchReport", "summary", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 600.0
#: how often the runner looks for a stop request while notebooks run
POLL_S = 0.2


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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


def _check_workers(workers) -> int | None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)):
        raise BatchError(f"workers {workers!r}: expected a whole number of at least 1")
    if workers is not None and workers < 1:
        raise BatchError(f"workers {workers}: expected at least 1")
    return workers


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


def _mark_outdated(entries: dict, selection: set, current: dict[str, dict]) -> None:
    """Flag the entries kept from earlier runs that were made from other inputs.

    ``current`` holds this run's inputs by notebook name. An entry of a notebook this run
    did not use is compared on the data files, protocol and studylib version only; an entry
    that names no inputs (written by an older studylib) cannot be vouched for.
    """
    shared = next(iter(current.values()))  # data, protocol and version: the same for all
    for key, entry in entries.items():
        if key in selection or entry["status"] == "refused":
            entry.pop("outdated", None)
            continue
        made_from = entry.get("inputs") or {}
        compared = ["data_sha256", "protocol_sha256", "studylib_version"]
        if key[1] in current:
            compared.append("notebook_sha256")
        now = current.get(key[1], shared)
        entry["outdated"] = not made_from or any(made_from.get(k) != now[k] for k in compared)


def _check_same_trial(manifest: dict | None, data_dir: Path, run_dir: Path) -> None:
    """Refuse to mix two trial folders' results in one run folder."""
    if not manifest:
        return
    before = (manifest.get("parameters") or {}).get("data")
    now = str(data_dir.resolve())
    if before and before != now:
        raise BatchError(
            f"{run_dir} holds the run of the trial folder {before}, not {now}: its patients"
            " and records would be mixed with this folder's. Choose another --run name (by"
            " default each data folder gets its own), or remove that run folder; nothing"
            " was run"
        )


def _missing_folders(folder: Path) -> list[Path]:
    """The folders that do not exist yet on the way to ``folder``, deepest first."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    return missing


def _stop_reason(signum: int | None) -> str:
    if signum is None:
        return (
            "not finished: the run stopped after a write error; free space and rerun the"
            " same command to resume"
        )
    return f"stopped by {signal_name(signum)} before it finished; rerun the same command to resume"


def _stopped(task, previous: dict | None, reason: str) -> dict:
    # a task that never got to write keeps its earlier entry, which still matches the files;
    # made from other inputs than this run's, it is outdated (and counted as not run)
    if previous is not None and previous.get("status") != "interrupted":
        return {**previous, "outdated": previous.get("fingerprint") != task.fingerprint}
    return {
        "patient_id": task.patient_id,
        "notebook": task.notebook,
        "status": "interrupted",
        "error": {"kind": "interrupted", "message": reason},
        "fingerprint": task.fingerprint,
        "inputs": task.inputs,
        "started_at": None,
        "ended_at": None,
    }


@dataclass
class _Records:
    """The manifest, kept in step with every entry; after a write error, no more attempts
    until the end (a full disk does not empty itself between two notebooks)."""

    run_dir: Path
    header: dict
    entries: dict
    failure: str | None = None
    saved_at: str | None = None
    #: entries added since the manifest on disk was written
    unsaved: list = field(default_factory=list)

    def save(self) -> None:
        if self.failure is not None:
            return
        try:
            write_manifest(self.run_dir, self.header, self.entries)
        except OSError as error:
            self.failure = f"could not write {MANIFEST}: {error.strerror or error}"
            return
        self.saved_at = _now()
        self.unsaved.clear()

    def add(self, key, entry: dict) -> None:
        self.entries[key] = entry
        self.unsaved.append(key)
        self.save()


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
        The trial folder (default: the bundled synthetic cohort). Its ``protocol.toml``,
        else the bundled one, is the protocol the notebooks follow; the manifest records
        which, with its SHA-256, and a changed protocol reruns every notebook.
    patients
        Patient ids (default: every screened patient). The screening notebook runs for each;
        the other per-patient notebooks only for patients in randomization.csv.
    notebooks
        Notebook names, files or folders (default: the per-patient notebooks in
        ``notebooks/``).
    out, run
        Outputs go to ``<out>/<run>/``; ``run`` defaults to the data folder's name and a
        digest of its full path (:func:`~studylib.batch.plan.default_run_name`). A run folder
        holding another data folder's run is refused.
    workers
        Local worker processes (default: one per core); ignored with ``scheduler``.
    force
        Rerun notebooks whose inputs have not changed.
    timeout_s
        The longest one notebook's cells may run in all, in seconds (None: no limit).
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
        Before anything runs, for an unsafe or unknown patient id, a bad run name, timeout
        or worker count, a notebook that is not per-patient, a trial folder whose files or
        protocol cannot be read, or a run folder in use by another run or holding another
        trial folder's run.
    studylib.batch.stopping.RunStopped
        A stop signal (Ctrl-C, SIGTERM) arrived before any notebook ran; nothing was run.
    """
    timeout_s = check_timeout(timeout_s)
    workers = _check_workers(workers)
    with Stopper() as stopper:
        return _run_batch(
            data_dir,
            stopper=stopper,
            patients=patients,
            notebooks=notebooks,
            out=out,
            run=run,
            workers=workers,
            force=force,
            timeout_s=timeout_s,
            scheduler=scheduler,
            warm=warm,
            progress=progress,
        )


def _run_batch(data_dir, *, stopper, patients, notebooks, out, run, workers, force, timeout_s,
               scheduler, warm, progress) -> BatchReport:  # fmt: skip
    from studylib.data import default_data_dir

    started = time.perf_counter()
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if not data_dir.is_dir():
        raise BatchError(f"no trial data folder at {data_dir}")
    run = _safe_run_name(run) if run is not None else default_run_name(data_dir)
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
    stopper.check()
    created = _missing_folders(run_dir)
    lock = RunLock(run_dir)
    lock.acquire()
    backend = None
    try:
        manifest_before = load_manifest(run_dir)
        _check_same_trial(manifest_before, data_dir, run_dir)
        earlier = {
            (e["patient_id"], e["notebook"]): e
            for e in (manifest_before or {}).get("notebooks", [])
            if isinstance(e, dict) and "patient_id" in e and "notebook" in e
        }
        # a refused id produced nothing: whether it is refused again depends on today's data
        entries = {k: e for k, e in earlier.items() if e.get("status") != "refused"}
        previous = dict(entries)
        for patient_id in refused:
            for notebook in chosen:
                if notebook.population == "screened" or patient_id in population.enrolled:
                    entries[(patient_id, notebook.name)] = _refused(patient_id, notebook.name)
        to_run = [t for t in tasks if force or not is_up_to_date(t, previous.get(t.key))]
        for task in tasks:
            if task not in to_run:
                # same fingerprint, so the same inputs (an older manifest may not name them)
                entries[task.key] = {**previous[task.key], "inputs": task.inputs, "reused": True}
        selection = {t.key for t in tasks} | {
            key for key, entry in entries.items() if entry["status"] == "refused"
        }
        protocol_sha = population.protocol.sha256
        _mark_outdated(
            entries,
            selection,
            {nb.name: task_inputs(nb, data_hashes, package, protocol_sha) for nb in chosen},
        )
        stopper.check()
        # (no more workers than notebooks: an idle worker still costs a process)
        backend = (
            make_backend(min(workers or default_workers(), len(to_run)), scheduler)
            if to_run
            else None
        )
    except BaseException:
        lock.release()
        for folder in created:  # refused: leave the disk as it was
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise

    try:
        # from here on a signal is noted and the run stops between two records
        stopper.defer()
        remove_temporary_files(run_dir)
        selected_set = set(selected)
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
                "protocol": population.protocol.as_dict(),
                "notebooks": {
                    nb.name: {"path": str(nb.path), "sha256": nb.sha256} for nb in chosen
                },
            },
            "data_check": {
                "problems": [problem_record(p) for p in population.problems],
                "warnings": [problem_record(p) for p in population.warnings],
            },
            "studylib": package,
            "environment": _versions(),
        }
        records = _Records(run_dir, header, entries)
        records.save()
        failure = records.failure
        if backend is not None and failure is None:
            failure = _run_tasks(backend, to_run, records, previous, stopper, progress)
        elif backend is not None:
            for task in to_run:
                entries[task.key] = _stopped(task, previous.get(task.key), _stop_reason(None))
        remove_temporary_files(run_dir)
        header["ended_at"] = _now()
        records.failure = None  # one more try, for the records of what finished
        records.save()
        records_error = records.failure
        if records_error is None:
            try:
                write_cohort_table(
                    run_dir,
                    entries,
                    list(population.screened),
                    [nb.name for nb in chosen],
                    _data_notes(population),
                )
            except OSError as error:
                records_error = f"could not write {COHORT_TABLE}: {error.strerror or error}"
        finished = [t for t in to_run if entries[t.key]["status"] != "interrupted"]
        return BatchReport(
            run_dir=run_dir,
            manifest=run_dir / MANIFEST,
            cohort_table=run_dir / COHORT_TABLE,
            entries=entries,
            ran=len(finished),
            skipped=len(tasks) - len(to_run),
            elapsed_s=time.perf_counter() - started,
            backend=backend.description if backend is not None else "nothing",
            warm=warm,
            not_enrolled=[p for p in selected if p not in population.enrolled]
            if any(nb.population == "enrolled" for nb in chosen)
            else [],
            selection=frozenset(selection),
            stop_signal=stopper.signum,
            write_failure=failure,
            records_error=records_error,
            unrecorded=[f"{p} {n}" for p, n in records.unsaved] if records_error else [],
            recorded_at=records.saved_at,
            protocol=population.protocol,
            data_problems=[p for p in population.problems if p.patient_id not in selected_set],
            data_warnings=list(population.warnings),
            lock_note=lock.took_over,
            lost_workers=getattr(backend, "lost_workers", 0),
        )
    finally:
        if backend is not None:
            backend.close()  # idempotent: normally closed once its notebooks ended
        lock.release()


def _data_notes(population) -> dict[str | None, list[str]]:
    """The loader's problems and warnings by patient, for the cohort table; under ``None``,
    the warnings about a whole file or column, which concern every patient's row."""
    notes: dict[str | None, list[str]] = {}
    for problem in population.problems:
        notes.setdefault(problem.patient_id, []).append(f"problem: {problem}")
    for warning in population.warnings:
        notes.setdefault(warning.patient_id, []).append(f"warning: {warning}")
    return notes


def _run_tasks(backend, to_run, records: _Records, previous, stopper, progress) -> str | None:
    """Run the tasks and record each entry as it comes, until all have ended or a signal or a
    write error stops the run. Returns the write error, if one stopped it."""
    from tqdm import tqdm

    unfinished = {task.key: task for task in to_run}
    failure = None
    stopping = False

    def record(task, entry: dict) -> None:
        nonlocal failure
        if stopping and entry["status"] not in ("ok", "write_error", "worker_died"):
            # what the stop cut short: the files of an earlier result still stand
            reason = _stop_reason(stopper.signum)
            if entry["status"] == "interrupted":
                entry = _stopped(task, previous.get(task.key), reason)
            else:
                entry = {**entry, "status": "interrupted"}
                entry["error"] = {"kind": "interrupted", "message": reason}
        if entry["status"] == "write_error" and failure is None:
            failure = entry["error"]["message"]
        entry["reused"] = False
        unfinished.pop(task.key, None)
        records.add(task.key, entry)
        if failure is None:
            failure = records.failure

    bar = tqdm(
        total=len(to_run),
        unit="notebook",
        desc=f"studylib batch ({backend.description})",
        disable=None if progress else True,
        file=sys.stderr,
    )
    try:
        backend.submit(to_run)
        failures = 0
        while unfinished and not stopper.requested and failure is None:
            for task, entry in backend.poll(POLL_S):
                record(task, entry)
                failures += entry["status"] != "ok"
                bar.set_postfix_str(f"{failures} failed" if failures else "", refresh=False)
                bar.update()
        if unfinished:
            stopping = True
            if stopper.requested:
                why = f"stopping ({signal_name(stopper.signum)})"
                again = " (press Ctrl-C again to stop them now)"
            else:
                why, again = f"stopping: {failure}", ""
            tqdm.write(
                f"studylib batch: {why}; the notebooks in progress have {GRACE_S:g} s to stop"
                f"{again}...",
                file=sys.stderr,
            )
            for task, entry in backend.stop(GRACE_S, lambda: stopper.hurried):
                record(task, entry)
    finally:
        bar.close()
        backend.close()
        reason = _stop_reason(stopper.signum)
        for key, task in unfinished.items():
            records.entries[key] = _stopped(task, previous.get(key), reason)
    return failure
