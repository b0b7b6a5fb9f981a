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

from studylib.batch.executors import default_workers, make_backend, start_local_workers_early
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
    task_inputs,
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
    #: the (patient, notebook) pairs this run was asked for; the folder may hold others
    selection: frozenset = field(default_factory=frozenset, repr=False)

    def _selected(self, wanted: bool) -> list[dict]:
        return [e for key, e in sorted(self.entries.items()) if (key in self.selection) == wanted]

    @property
    def problems(self) -> list[dict]:
        """This run's notebooks that did not end ``ok``, patient by patient."""
        return [e for e in self._selected(True) if e["status"] != "ok"]

    @property
    def earlier(self) -> list[dict]:
        """Entries of the run folder outside this run's selection (kept from earlier runs)."""
        return self._selected(False)

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


def _mark_outdated(entries: dict, selection: set, current: dict[str, dict]) -> None:
    """Flag the entries kept from earlier runs that were made from other inputs.

    ``current`` holds this run's inputs by notebook name. An entry of a notebook this run
    did not use is compared on the data files and studylib version only; an entry that
    names no inputs (written by an older studylib) cannot be vouched for.
    """
    shared = next(iter(current.values()))  # data files and version: the same for all
    for key, entry in entries.items():
        if key in selection or entry["status"] == "refused":
            entry.pop("outdated", None)
            continue
        made_from = entry.get("inputs") or {}
        compared = ["data_sha256", "studylib_version"]
        if key[1] in current:
            compared.append("notebook_sha256")
        now = current.get(key[1], shared)
        entry["outdated"] = not made_from or any(made_from.get(k) != now[k] for k in compared)


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
    # a refused id produced nothing: whether it is refused again depends on today's data
    entries = {k: e for k, e in load_entries(run_dir).items() if e["status"] != "refused"}
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
    _mark_outdated(
        entries, selection, {nb.name: task_inputs(nb, data_hashes, package) for nb in chosen}
    )
    # workers (or the Dask scheduler) before anything is written: a cluster that cannot
    # be reached refuses the run with nothing on disk
    # (no more workers than notebooks: an idle worker still costs a process)
    backend = (
        make_backend(min(workers or default_workers(), len(to_run)), scheduler) if to_run else None
    )
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except BaseException:
        if backend is not None:
            backend.close(cancel=True)
        raise
    remove_temporary_files(run_dir)

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
    if backend is not None:
        with _terminate_as_interrupt():
            description, interrupted = _run_tasks(
                backend, to_run, entries, previous, run_dir, header, progress
            )
    remove_temporary_files(run_dir)
    header["ended_at"] = _now()
    manifest = write_manifest(run_dir, header, entries)
    table = write_cohort_table(
        run_dir, entries, list(population.screened), [nb.name for nb in chosen]
    )
    has_enrolled_only = any(nb.population == "enrolled" for nb in chosen)
    finished = [t for t in to_run if entries[t.key]["status"] != "interrupted"]
    return BatchReport(
        run_dir=run_dir,
        manifest=manifest,
        cohort_table=table,
        entries=entries,
        ran=len(finished),
        skipped=len(tasks) - len(to_run),
        interrupted=interrupted,
        elapsed_s=time.perf_counter() - started,
        backend=description,
        warm=warm,
        not_enrolled=[p for p in selected if p not in population.enrolled]
        if has_enrolled_only
        else [],
        selection=frozenset(selection),
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


def _run_tasks(backend, to_run, entries, previous, run_dir, header, progress):
    """Submit every task, record each result as it comes; returns (backend, interrupted)."""
    from tqdm import tqdm

    from studylib.batch.executors import run_in_worker

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
                "inputs": task.inputs,
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


def _listed(items: list[str], at_most: int = 8) -> str:
    return ", ".join(items[:at_most]) + (" ..." if len(items) > at_most else "")


def _message_lines(entry: dict) -> str:
    lines = ((entry.get("error") or {}).get("message") or "").strip().splitlines()
    if len(lines) > SHOWN_LINES:
        hidden = len(lines) - SHOWN_LINES
        lines = lines[:SHOWN_LINES] + [f"... {hidden} more in the manifest"]
    return "\n      ".join(lines)


def _problem_lines(problems: list[dict]) -> list[str]:
    """One line per patient and error: a bad record fails all of a patient's notebooks alike."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for entry in problems:
        key = (entry["patient_id"], entry["status"], _message_lines(entry))
        grouped.setdefault(key, []).append(entry["notebook"])
    return [
        f"  {status.upper()} {patient} {', '.join(notebooks)}: {message}"
        for (patient, status, message), notebooks in grouped.items()
    ]


def summary(report: BatchReport) -> str:
    """The end-of-run summary printed by ``studylib batch``, about the notebooks it was asked
    to run; entries of other patients kept in the run folder are mentioned in one line."""
    mode = "warm kernels" if report.warm else "a fresh kernel per notebook"
    plural = "s" if report.ran != 1 else ""
    if report.ran or report.interrupted:
        head = (
            f"studylib batch: {report.ran} notebook{plural} run in"
            f" {_duration(report.elapsed_s)} on {report.backend}, {mode}"
        )
    else:
        head = f"studylib batch: nothing to run ({report.skipped} up to date; --force reruns them)"
    lines = [head]
    selected = [
        e for e in report.entries.values() if (e["patient_id"], e["notebook"]) in report.selection
    ]
    counts: dict[str, int] = {}
    for entry in selected:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    lines.append(
        "  "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + (
            f" ({report.skipped} of them skipped: inputs unchanged, already ok)"
            if report.skipped
            else ""
        )
    )
    if report.not_enrolled:
        lines.append(
            f"  {len(report.not_enrolled)} patient(s) not in randomization.csv ran the screening"
            f" notebook only: {_listed(report.not_enrolled)}"
        )
    problems = [e for e in report.problems if e["status"] != "interrupted"]
    lines += _problem_lines(problems)
    stopped = [e for e in report.problems if e["status"] == "interrupted"]
    if stopped:
        patients = list(dict.fromkeys(e["patient_id"] for e in stopped))
        lines.append(
            f"  NOT RUN {len(stopped)} notebook(s) of {len(patients)} patient(s), stopped"
            f" before they finished: {_listed(patients)}"
        )
    earlier = report.earlier
    if earlier:
        not_ok = list(dict.fromkeys(e["patient_id"] for e in earlier if e["status"] != "ok"))
        outdated = [e for e in earlier if e.get("outdated")]
        details = []
        if not_ok:
            details.append(f"patients with a notebook not ok: {_listed(not_ok)}")
        if outdated:
            details.append(
                f"{len(outdated)} made from other data files, notebooks or studylib version"
            )
        lines.append(
            f"  The run folder also holds {len(earlier)} notebook(s) of earlier runs, not part"
            f" of this one{' (' + '; '.join(details) + ')' if details else ''}: they are in"
            " the cohort table; run without --patients/--notebooks to bring them up to date."
        )
    if report.interrupted:
        lines.append("Interrupted: rerun the same command to finish; finished notebooks are kept.")
    elif problems:
        lines.append(
            "Each failed notebook's .html shows where it stopped, the manifest the whole"
            " message. Fix the cause and rerun the same command: notebooks already ok with"
            " unchanged inputs are skipped."
        )
    lines += [
        f"Outputs:      {_shown(report.run_dir)}/<patient_id>/<notebook>.ipynb and .html",
        f"Cohort table: {_shown(report.cohort_table)}",
        f"Manifest:     {_shown(report.manifest)}",
    ]
    return "\n".join(lines)
