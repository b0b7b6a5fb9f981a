"""Where a batch's notebooks run: local worker processes, or a Dask distributed cluster.

Both backends offer the runner the same few calls: ``submit`` the tasks, ``poll`` for the
entries of notebooks that ended, ``stop`` (Ctrl-C: drop what has not started, stop what
runs, within a grace period) and ``close``. Local workers are
:class:`studylib.batch.pool.LocalPool`.

Dask is an optional extra (``pip install 'studylib[dask]'``), imported only when
``--scheduler`` is given. Its workers must see the same files at the same paths as this
machine (the notebooks, the data and the output folder), as on a cluster with a shared
file system. Dask recomputes the tasks of a worker it loses; a task whose workers keep
dying is recorded as ``worker_died``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import time
from datetime import UTC, datetime

from studylib.batch.plan import BatchError, Task

__all__ = [
    "DaskBackend",
    "make_backend",
    "default_workers",
    "run_in_worker",
    "start_local_workers_early",
]


# Trampolines: the parent submits these by name and never imports papermill itself (about
# 1 s); the worker imports studylib.batch.execute.
def run_in_worker(task):
    """Run one task in a worker (see :func:`studylib.batch.execute.run_task`)."""
    from studylib.batch.execute import run_task

    return run_task(task)


def _shutdown_warm_kernels() -> int:
    from studylib.batch.execute import shutdown_warm_kernels

    return shutdown_warm_kernels()


def _stop_tasks(run_dir: str) -> int:
    from studylib.batch.execute import stop_tasks

    return stop_tasks(run_dir)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def start_local_workers_early() -> None:
    """Start the forkserver now, so that its imports (about 1.5 s) overlap the run's planning.

    It imports papermill, nbclient and nbconvert once; every worker is then forked from it.
    """
    from studylib.batch.pool import WORKER_MODULE

    multiprocessing.get_context("forkserver").set_forkserver_preload([WORKER_MODULE])
    from multiprocessing import forkserver

    forkserver.ensure_running()


class DaskBackend:
    """The workers of a Dask distributed cluster, through its concurrent.futures executor."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as error:
            raise BatchError(
                "--scheduler needs Dask distributed, an optional extra:"
                " pip install 'studylib[dask]'"
            ) from error
        try:
            self.client = Client(address, timeout="10s")
        except OSError as error:
            raise BatchError(f"cannot reach the Dask scheduler at {address}: {error}") from error
        # pure=False: a rerun (after --force) must run again, not reuse a cached result
        self.executor = self.client.get_executor(pure=False)
        self._pending: dict[concurrent.futures.Future, Task] = {}
        self._run_dirs: set[str] = set()
        self._stopping = False
        self.description = f"Dask cluster at {address}"

    def submit(self, tasks: list[Task]) -> None:
        for task in tasks:
            self._run_dirs.add(task.run_dir)
            self._pending[self.executor.submit(run_in_worker, task)] = task

    def poll(self, timeout: float) -> list[tuple[Task, dict]]:
        if not self._pending:
            return []
        done, _ = concurrent.futures.wait(
            self._pending, timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        finished = []
        for future in done:
            task = self._pending.pop(future)
            if future.cancelled():
                if self._stopping:
                    continue  # stopped before it started: the runner records it
                # Dask cancels every future when it loses its scheduler: record each, or the
                # run would wait for ever for notebooks nobody runs.
                finished.append((task, _lost(task, self.description)))
                continue
            try:
                finished.append((task, future.result()))
            except Exception as error:
                finished.append((task, _failed(task, error)))
        return finished

    def stop(self, grace_s: float, hurried) -> list[tuple[Task, dict]]:
        self._stopping = True
        for future in self._pending:
            future.cancel()
        for run_dir in self._run_dirs:
            with contextlib.suppress(Exception):  # a worker gone cannot answer
                self.client.run(_stop_tasks, run_dir)
        finished = []
        ends = time.monotonic() + grace_s
        while self._pending and time.monotonic() < ends and not hurried():
            finished += self.poll(0.2)
        return finished

    def close(self) -> None:
        if self.client.status in ("closing", "closed"):
            return
        self.executor.shutdown(wait=False)
        try:
            if self.client.status == "running":  # not while it looks for a lost scheduler
                with contextlib.suppress(OSError, TimeoutError):
                    self.client.run(_shutdown_warm_kernels)
        finally:
            with contextlib.suppress(OSError, TimeoutError):
                self.client.close()


def _lost(task: Task, cluster: str) -> dict:
    """The entry of a task whose Dask scheduler stopped answering before it finished."""
    return _entry(
        task,
        "error",
        "scheduler lost",
        f"the {cluster} stopped answering before the notebook finished; start the scheduler"
        " again and rerun the same command to run what is missing",
    )


def _failed(task: Task, error: Exception) -> dict:
    """The entry of a task whose Dask worker failed (not its notebook: that is a result)."""
    died = type(error).__name__ == "KilledWorker"
    message = (
        f"the Dask workers running it died, each time ({error}); the other notebooks went on"
        if died
        else f"the Dask worker could not run it: {type(error).__name__}: {error}"
    )
    return _entry(
        task, "worker_died" if died else "error", "worker died" if died else "worker", message
    )


def _entry(task: Task, status: str, kind: str, message: str) -> dict:
    """A manifest entry for a task that ended without its notebook's own result."""
    return {
        "patient_id": task.patient_id,
        "notebook": task.notebook,
        "parameters": task.parameters,
        "fingerprint": task.fingerprint,
        "inputs": task.inputs,
        "status": status,
        "error": {"kind": kind, "message": message},
        "started_at": None,
        "ended_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "recorded": {},
        "output": None,
        "html": None,
    }


def make_backend(workers: int | None = None, scheduler: str | None = None):
    """A Dask backend when a scheduler address is given, else local worker processes."""
    if scheduler:
        return DaskBackend(scheduler)
    from studylib.batch.pool import LocalPool

    return LocalPool(workers or default_workers())
