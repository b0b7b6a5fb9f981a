"""Run one patient's notebook in a worker and write its outputs (the worker side of a batch).

:func:`run_task` executes a :class:`~studylib.batch.plan.Task` with papermill, writes the
executed notebook and its HTML rendering atomically, reads back the recorded values, and
returns a plain ``dict`` describing what happened. It never raises for a notebook's own
failure (a cell error, a timeout, a dead kernel): those are results, so that one patient's
problem never stops the others.

Kernels
-------
By default every notebook gets a fresh kernel, shut down at once when it ends (papermill's
graceful shutdown sometimes waits 2.5 s more: docs/research/platform.md §3). With
``warm=True`` a worker keeps one kernel and runs notebook after notebook in it, putting
the kernel back in a fresh kernel's state in between (:mod:`studylib.batch.inkernel`): the
kernel start and the imports (about 1.8 s a notebook) are paid once per worker. A warm
kernel that timed out, died or failed to reset is thrown away and the next notebook gets a
new one.

Kernels start in the notebook's folder, as in Jupyter, through the kernel's own working
directory rather than papermill's ``cwd`` (a process-wide ``chdir``, unsafe in the threads
of a Dask worker: papermill#473). They start with matplotlib's inline backend active, as
after ``%matplotlib inline``: in a plain kernel it becomes active only when pyplot is first
used, so a figure built without pyplot shows as ``<Figure size ...>`` text, and a warm
kernel, once active, could not go back. Active from the start, every figure a notebook
displays is an image in its report, and warm and fresh kernels give the same outputs. Their
console messages go to ``kernels.log`` in the run folder.
"""

from __future__ import annotations

import contextlib
import copy
import html
import logging
import os
import re
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

# imported here, not when first used: a local pool's forkserver imports this module once,
# and every worker it forks starts with them loaded
import nbformat
import papermill as pm
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

from studylib.batch.files import write_atomic
from studylib.batch.plan import Task
from studylib.record import MIME, collect

__all__ = [
    "run_task",
    "init_worker",
    "shutdown_warm_kernels",
    "kill_kernels",
    "stop_tasks",
    "ENGINE",
]

ENGINE = "studylib-batch"
KERNEL_ARGUMENTS = ["--matplotlib=inline"]
RESET_TIMEOUT_S = 60
BANNER_TAG = "studylib-batch-banner"
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
#: the entry of a notebook a worker stopped (the runner words it when it knows why)
WORKER_STOPPED = {
    "kind": "interrupted",
    "message": "stopped before it finished; rerun the same command to resume",
}
# nbclient logs each timeout and dead kernel; the manifest and the summary already say it
_log = logging.getLogger("studylib.batch.kernels")
_log.addHandler(logging.NullHandler())
_log.propagate = False

# Per thread: the notebook being executed (papermill does not hand it back when a cell
# fails) and the warm kernel. Dask runs tasks in threads, a local pool in one thread.
_local = threading.local()
_warm_kernels: dict[int, WarmKernel] = {}
_warm_lock = threading.Lock()

# Every kernel this process started and has not shut down, with the thread that started it,
# so that a worker ending abruptly (its parent gone) or a stopped Dask run ends them too;
# and who to tell each kernel's pid (a local worker tells the batch, which ends the kernel
# if the worker itself dies).
_live_kernels: dict[int, tuple[object, int]] = {}
_kernels_lock = threading.Lock()
_kernel_listener = None
# The task each thread runs, and the threads whose task was stopped (a Dask worker is
# shared by runs: a stopped run must not stop the next one)
_running: dict[int, Task] = {}
_stopped_threads: set[int] = set()

# Set by init_worker in a local pool: the parent's "stop" event, and whether a task runs.
_stop_event = None
_in_task = False
_interrupted = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _kernel_pid(km) -> int | None:
    return getattr(getattr(km, "provisioner", None), "pid", None)


def _kernel_started(km) -> None:
    with _kernels_lock:
        _live_kernels[id(km)] = (km, threading.get_ident())
    pid = _kernel_pid(km)
    if _kernel_listener is not None and pid is not None:
        _kernel_listener(pid)


def _kernel_ended(km) -> None:
    with _kernels_lock:
        _live_kernels.pop(id(km), None)


def set_kernel_listener(listener) -> None:
    """Call ``listener(pid)`` for every kernel this process starts (a local worker tells
    the batch, so that the batch can end a dead worker's kernel)."""
    global _kernel_listener
    _kernel_listener = listener


def kill_kernels(threads: set[int] | None = None) -> int:
    """Kill the kernels this process started (those of ``threads``, default all), with
    whatever they started (their process group), when there is no time to shut them down.
    Returns how many."""
    with _kernels_lock:
        chosen = {k: km for k, (km, t) in _live_kernels.items() if threads is None or t in threads}
        for key in chosen:
            del _live_kernels[key]
        kernels = list(chosen.values())
    killed = 0
    for km in kernels:
        provisioner = getattr(km, "provisioner", None)
        group = getattr(provisioner, "pgid", None) or _kernel_pid(km)
        if group:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
                killed += 1
    return killed


def stop_tasks(run_dir: str) -> int:
    """Stop the notebooks of one run that this process is running (a Dask run stopped by
    Ctrl-C): their kernels are killed and each ends as ``interrupted``. Returns how many
    kernels were ended."""
    with _kernels_lock:
        threads = {t for t, task in _running.items() if task.run_dir == run_dir}
        _stopped_threads.update(threads)
    with _warm_lock:
        for thread in threads:
            _warm_kernels.pop(thread, None)  # killed below: never reused
    return kill_kernels(threads)


def _kernel_environment() -> dict[str, str]:
    # MPLBACKEND=Agg (set by `make` and CI for scripts) is not for kernels: they draw inline
    return {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}


def _start_arguments(task: Task, log) -> dict:
    return {
        "cwd": str(Path(task.notebook_path).parent),
        "env": _kernel_environment(),
        "stdout": log,
        "stderr": log,
    }


class _Deadline:
    """The time a notebook's cells may take in all: each cell gets what is left.

    nbclient's own ``timeout`` is per cell and whole seconds; this bounds the whole
    notebook (200 cells of 3 s do not run for 10 minutes under a 60 s limit) and takes
    fractions. The clock starts with the first cell: starting the kernel has its own limit.
    """

    # nbclient reads a limit of 0 as "no limit"
    EXPIRED_S = 0.001

    def __init__(self, limit_s: float | None) -> None:
        self.limit_s = limit_s
        self.ends = None

    def for_cell(self, cell) -> float | None:
        if self.limit_s is None:
            return None
        if self.ends is None:
            self.ends = time.monotonic() + self.limit_s
        return max(self.ends - time.monotonic(), self.EXPIRED_S)


class _Client(PapermillNotebookClient):
    """papermill's client, telling the worker about each kernel it starts."""

    started_km = None

    def start_new_kernel(self, **kwargs):
        super().start_new_kernel(**kwargs)
        self.started_km = self.km
        _kernel_started(self.km)


class _BatchEngine(NBClientEngine):
    """papermill's nbclient engine, with a kernel that can be reused and a visible notebook."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        start_timeout=60,
        execution_timeout=None,
        warm_kernel=None,
        start_arguments=None,
        **_,
    ):
        _local.notebook = nb_man.nb
        client = _Client(
            nb_man,
            km=warm_kernel.km if warm_kernel else None,
            timeout=None,
            timeout_func=_Deadline(execution_timeout).for_cell,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            extra_arguments=list(KERNEL_ARGUMENTS),
            shutdown_kernel="immediate",
            log=_log,
        )
        if warm_kernel:
            client.kc = warm_kernel.kc
        try:
            return client.execute(**({} if warm_kernel else start_arguments or {}))
        finally:
            if client.started_km is not None:
                _kernel_ended(client.started_km)


papermill_engines.register(ENGINE, _BatchEngine)


class WarmKernel:
    """A kernel kept alive between notebooks, reset to a fresh kernel's state in between."""

    def __init__(self, task: Task, log) -> None:
        self.cwd = str(Path(task.notebook_path).parent)
        self.kernel_name = task.kernel_name
        self._holder = NotebookClient(
            nbformat.v4.new_notebook(),
            kernel_name=task.kernel_name,
            timeout=RESET_TIMEOUT_S,
            extra_arguments=list(KERNEL_ARGUMENTS),
            shutdown_kernel="immediate",
            log=_log,
        )
        self._holder.km = self._holder.create_kernel_manager()
        try:
            self._holder.start_new_kernel(**_start_arguments(task, log))
            _kernel_started(self._holder.km)
            self._holder.start_new_kernel_client()
            self._run("__import__('studylib.batch.inkernel', fromlist=['_']).snapshot()")
        except BaseException:
            self.shutdown()
            raise
        self.fresh = True

    @property
    def km(self):
        return self._holder.km

    @property
    def kc(self):
        return self._holder.kc

    def fits(self, task: Task) -> bool:
        return self.kernel_name == task.kernel_name and self.cwd == str(
            Path(task.notebook_path).parent
        )

    def _run(self, code: str) -> None:
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        reply = self._holder.wait_for_reply(msg_id)
        if reply is None or reply["content"]["status"] != "ok":
            content = reply["content"] if reply else {}
            raise RuntimeError(
                f"the warm kernel could not run {code!r}: "
                f"{content.get('ename', 'timeout')}: {content.get('evalue', '')}"
            )

    def reset(self) -> None:
        """Clear what the previous notebook left (no-op before the first notebook)."""
        if not self.fresh:
            self._run("__import__('studylib.batch.inkernel', fromlist=['_']).reset()")
        self.fresh = False

    def shutdown(self) -> None:
        holder = self._holder
        if holder.km is not None:
            km = holder.km
            try:
                holder._cleanup_kernel()
            finally:
                _kernel_ended(km)


def _warm_kernel_for(task: Task, log) -> WarmKernel:
    key = threading.get_ident()
    kernel = _warm_kernels.get(key)
    if kernel is not None and not kernel.fits(task):
        _discard_warm_kernel()
        kernel = None
    if kernel is None:
        kernel = WarmKernel(task, log)
        with _warm_lock:
            _warm_kernels[key] = kernel
    kernel.reset()
    return kernel


def _discard_warm_kernel() -> None:
    with _warm_lock:
        kernel = _warm_kernels.pop(threading.get_ident(), None)
    if kernel is not None:
        try:
            kernel.shutdown()
        except Exception as error:  # a kernel that is already gone cannot be shut down
            _log.debug("warm kernel shutdown: %s", error)


def shutdown_warm_kernels() -> int:
    """Shut down every warm kernel of this process (at worker exit); returns how many."""
    with _warm_lock:
        kernels = list(_warm_kernels.values())
        _warm_kernels.clear()
    for kernel in kernels:
        try:
            kernel.shutdown()
        except Exception as error:
            _log.debug("warm kernel shutdown: %s", error)
    return len(kernels)


def _on_interrupt(signum, frame) -> None:
    """Ctrl-C in a local worker: stop the task in progress once; ignore it when idle."""
    global _interrupted
    if _in_task and not _interrupted:
        _interrupted = True
        raise KeyboardInterrupt


def init_worker(stop_event) -> None:
    """Initialise a local pool worker: the parent's stop event, Ctrl-C, warm kernel cleanup."""
    global _stop_event
    import multiprocessing.util

    _stop_event = stop_event
    # SIGTERM too: a whole process group terminated (a CI job cancelled) stops the notebook
    # in progress like Ctrl-C, and the kernel is shut down instead of left behind
    signal.signal(signal.SIGINT, _on_interrupt)
    signal.signal(signal.SIGTERM, _on_interrupt)
    # multiprocessing workers end with os._exit, which skips atexit; Finalize still runs
    multiprocessing.util.Finalize(None, shutdown_warm_kernels, exitpriority=10)


def _stopping() -> bool:
    return (
        _interrupted
        or (_stop_event is not None and _stop_event.is_set())
        or threading.get_ident() in _stopped_threads
    )


def _guard_interrupts() -> None:
    # nbclient installs its own SIGINT handler while it runs a notebook and, when done,
    # restores Python's default one: put the worker's back
    if _stop_event is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_interrupt)
        signal.signal(signal.SIGTERM, _on_interrupt)


def _running_cell(cells) -> int | None:
    """The cell that was running when execution stopped: the last one that started.

    papermill marks even that cell "completed" after a timeout, so its status cannot tell.
    """
    started = [
        index
        for index, cell in enumerate(cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time")
    ]
    return started[-1] if started else None


def _describe_failure(error: BaseException, nb, task: Task) -> tuple[str, dict]:
    if isinstance(error, pm.PapermillExecutionError):
        return "failed", {
            "kind": "cell error",
            "ename": error.ename,
            "evalue": error.evalue,
            "cell_index": error.cell_index,
            "execution_count": error.exec_count,
            "message": f"{error.ename}: {error.evalue}",
        }
    cell = _running_cell(nb.cells) if nb is not None else None
    where = ""
    if cell is not None:
        first_line = nb.cells[cell].source.strip().splitlines()[:1] or [""]
        where = f" (cell {cell}: {first_line[0]})"
    if isinstance(error, CellTimeoutError):
        status, kind = "timeout", "timeout"
        message = f"the notebook ran longer than the limit of {task.timeout_s:g} s{where}"
    elif isinstance(error, DeadKernelError):
        status, kind = "dead_kernel", "dead kernel"
        message = f"the kernel died (out of memory, or killed){where}"
    else:
        status, kind = "error", "could not run"
        message = f"{type(error).__name__}: {error}".strip()
    return status, {
        "kind": kind,
        "ename": type(error).__name__,
        "evalue": str(error),
        "cell_index": cell,
        "execution_count": None,
        "message": message,
    }


def _banner(nb, status: str, error: dict) -> None:
    """Say at the top of a notebook that did not finish (papermill does so for cell errors)."""
    if status in ("ok", "failed"):
        return
    text = "**This notebook did not finish**:\n\n" + _fenced(error["message"])
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [BANNER_TAG]
    nb.cells.insert(0, cell)


def _fenced(text: str) -> str:
    """A message shown as written: a Markdown code block, whose fence is longer than any run
    of tildes in the message (which would otherwise end the block and let the rest be read
    as Markdown or HTML)."""
    longest = max((len(run) for run in re.findall(r"~+", text)), default=0)
    fence = "~" * max(4, longest + 1)
    return f"{fence}text\n{text.strip()}\n{fence}"


def _header(task: Task, status: str, error: dict | None, started_at: str):
    """The report's first cell: whose report, which notebook, run and trial folder, and why
    it is incomplete. Every name in it comes from outside (a folder or notebook may be
    called anything), so it is HTML with each name escaped, not Markdown (which passes
    HTML through and ends a code span at a backtick)."""
    version = task.inputs.get("studylib_version", "unknown")
    when = started_at.replace("T", " ").replace("+00:00", " UTC")
    run = Path(task.run_dir).name
    folder = task.parameters.get("data_dir", "")
    text = (
        f"Patient {task.patient_id} · {task.notebook} · run {run} of {when} by studylib batch"
        f" (studylib {version}) on the trial folder {folder}"
    )
    page = (
        f"<p><strong>Patient {html.escape(task.patient_id)}</strong> ·"
        f" {html.escape(task.notebook)} · run {html.escape(run)} of {html.escape(when)}"
        f" by studylib batch (studylib {html.escape(version)}) on the trial folder"
        f" <code>{html.escape(folder)}</code></p>"
    )
    if status != "ok":
        message = (error or {}).get("message", status).strip()
        why = "the notebook stopped before the end, with this message; it shows only what was"
        text += f"\n\nThis report is incomplete: {why} done before.\n{message}"
        page += (
            f"<p><strong>This report is incomplete</strong>: {why} done before.</p>"
            f"<pre>{html.escape(message)}</pre>"
        )
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": page, "text/plain": text})
    ]
    return cell


def _report(nb, task: Task, status: str, error: dict | None, started_at: str):
    """The clinicians' copy of an executed notebook, rendered as the HTML page.

    Code is hidden by the exporter; here the page gets a header naming the patient, the
    notebook and the run, and loses what only makes sense with the code in view: the values
    recorded for the cohort table (``name = 'value'`` lines that repeat what the notebook
    shows), papermill's "exception at In [n]" banners, and tracebacks (the error's own
    message stays). A notebook that did not finish says so at the top and ends where it
    stopped, instead of showing the headings of sections that never ran.
    """
    report = copy.deepcopy(nb)
    hidden = {BANNER_TAG, PAPERMILL_ERROR_TAG}
    cells = [c for c in report.cells if not hidden & set(c.get("metadata", {}).get("tags", []))]
    stopped_at = _running_cell(cells) if status != "ok" else None
    if stopped_at is not None:
        cells = cells[: stopped_at + 1]
    for cell in cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if MIME in output.get("data", {}):
                continue
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
            kept.append(output)
        cell.outputs = kept
    cells.insert(0, _header(task, status, error, started_at))
    if stopped_at is not None:
        cells.append(
            nbformat.v4.new_markdown_cell(
                "*The notebook stopped here: the rest of this report was not produced.*"
            )
        )
    report.cells = cells
    return report


def _html(report, task: Task) -> str:
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        # clinicians read results, not code: inputs and In/Out prompts are left out
        exporter = HTMLExporter(
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
        )
        _local.exporter = exporter
    title = f"{task.patient_id} · {task.notebook}"
    body, _ = exporter.from_notebook_node(report, resources={"metadata": {"name": title}})
    return body


#: How jupyter_client says a kernel ended before it answered its first message.
DIED_STARTING = "Kernel died before replying to kernel_info"


def _execute(task: Task) -> tuple[str, dict | None]:
    """Run the notebook; leave it in ``_local.notebook``; return (status, error).

    A kernel that dies while it starts is started once more: two workers starting kernels at
    the same moment can be given the same free port (jupyter_client picks a port and frees it
    before the kernel binds it), and the second kernel dies with "Address already in use"
    before any cell runs. kernels.log says so.
    """
    status, error = _execute_once(task)
    died_starting = status == "error" and error["cell_index"] is None
    if died_starting and DIED_STARTING in error["evalue"] and not _stopping():
        with open(Path(task.run_dir) / "kernels.log", "a", encoding="utf-8") as log:
            log.write(
                f"studylib batch: the kernel for {task.patient_id} / {task.notebook} died while"
                " starting (kernels.log above says why); starting it once more\n"
            )
        status, error = _execute_once(task)
    return status, error


def _execute_once(task: Task) -> tuple[str, dict | None]:
    _local.notebook = None
    log_path = Path(task.run_dir) / "kernels.log"
    with open(log_path, "ab") as log:
        kernel = None
        try:
            kernel = _warm_kernel_for(task, log) if task.warm else None
            pm.execute_notebook(
                task.notebook_path,
                None,
                parameters=task.parameters,
                engine_name=ENGINE,
                kernel_name=task.kernel_name,
                progress_bar=False,
                execution_timeout=task.timeout_s,
                warm_kernel=kernel,
                start_arguments=_start_arguments(task, log),
            )
            return "ok", None
        except Exception as error:
            status, details = _describe_failure(error, _local.notebook, task)
            if task.warm and status != "failed":
                _discard_warm_kernel()  # busy (timeout), dead, or in an unknown state
            return status, details
        finally:
            _guard_interrupts()


def _remove_outputs(task: Task) -> None:
    for path in (task.output, task.html):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _error(kind: str, error: BaseException, message: str) -> dict:
    return {
        "kind": kind,
        "ename": type(error).__name__,
        "evalue": str(error),
        "cell_index": None,
        "execution_count": None,
        "message": message,
    }


def _write_outputs(nb, task: Task, status: str, error: dict | None, started_at: str):
    """Write the executed notebook and its page; returns the status and error to record.

    A notebook whose page cannot be rendered keeps its .ipynb (status ``error``). One whose
    files cannot be written (a full disk, a folder that refuses writes) keeps neither
    (status ``write_error``): a result is on disk whole or not at all.
    """
    writing = task.output
    try:
        write_atomic(task.output, nbformat.writes(nb))
        try:
            page = _html(_report(nb, task, status, error, started_at), task)
        except Exception as render_error:
            task.html.unlink(missing_ok=True)
            if status != "ok":
                return status, error
            message = f"the notebook ran but its HTML page could not be made: {render_error}"
            return "error", _error("html", render_error, message)
        writing = task.html
        write_atomic(task.html, page)
    except OSError as write_error:
        _remove_outputs(task)
        name = writing.name
        ran = "ran to the end" if status == "ok" else f"ended as {status}"
        message = (
            f"could not write {task.patient_id}/{name}: {write_error.strerror or write_error};"
            f" the notebook {ran} but neither of its files was kept"
        )
        return "write_error", _error("write", write_error, message)
    return status, error


def run_task(task: Task) -> dict:
    """Run one notebook for one patient; returns the manifest entry of what happened."""
    global _in_task
    started = time.perf_counter()
    entry = {
        "patient_id": task.patient_id,
        "notebook": task.notebook,
        "parameters": task.parameters,
        "fingerprint": task.fingerprint,
        "started_at": _now(),
        "worker": f"{os.uname().nodename}:{os.getpid()}",
        "warm": task.warm,
        "inputs": task.inputs,
    }
    if _stopping():
        return {**entry, "status": "interrupted", "error": dict(WORKER_STOPPED)}
    thread = threading.get_ident()
    with _kernels_lock:
        _running[thread] = task
    try:
        _in_task = True  # inside the try: Ctrl-C from here on ends this entry as interrupted
        _guard_interrupts()
        status, error = _execute(task)
        nb = _local.notebook
        if _stopping():
            raise KeyboardInterrupt
        recorded = {}
        if nb is None:
            # nothing ran: an output left by an earlier run would contradict this entry
            _remove_outputs(task)
        else:
            _banner(nb, status, error or {})
            recorded = collect(nb)
            status, error = _write_outputs(nb, task, status, error, entry["started_at"])
            if status == "write_error":
                recorded = {}  # values without the notebook they come from: half a result
        entry.update(
            status=status,
            error=error,
            recorded=recorded,
            output=str(task.output.relative_to(task.run_dir)) if task.output.exists() else None,
            html=str(task.html.relative_to(task.run_dir)) if task.html.exists() else None,
        )
    except KeyboardInterrupt:
        entry.update(status="interrupted", error=dict(WORKER_STOPPED))
    finally:
        _in_task = False
        _local.notebook = None
        with _kernels_lock:
            _running.pop(thread, None)
            _stopped_threads.discard(thread)
    entry["ended_at"] = _now()
    entry["duration_s"] = round(time.perf_counter() - started, 2)
    return entry
