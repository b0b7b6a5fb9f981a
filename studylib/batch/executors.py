"""Where a batch's tasks run: local worker processes, or a Dask distributed cluster.

Both are :class:`concurrent.futures.Executor` objects, so the runner submits the same
picklable :func:`~studylib.batch.execute.run_task` calls to either.

Local workers are started from a *forkserver* that has already imported papermill, nbclient
and nbconvert: each worker begins ready to run, and none is forked from a parent that may
hold threads (a Jupyter kernel, a Dask client), which ``fork`` makes unsafe.

Dask is an optional extra (``pip install 'studylib[dask]'``), imported only when
``--scheduler`` is given. Its workers must see the same files at the same paths as this
machine (the notebooks, the data and the output folder), as on a cluster with a shared
file system.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from concurrent.futures import Executor, ProcessPoolExecutor

from studylib.batch.plan import BatchError

__all__ = [
    "Backend",
    "LocalBackend",
    "DaskBackend",
    "make_backend",
    "default_workers",
    "run_in_worker",
    "start_local_workers_early",
]


# Trampolines: the parent submits these by name and never imports papermill itself (about
# 1 s); the worker imports studylib.batch.execute (preloaded in a local pool).
def run_in_worker(task):
    """Run one task in a worker (see :func:`studylib.batch.execute.run_task`)."""
    from studylib.batch.execute import run_task

    return run_task(task)


def _init_local_worker(stop_event) -> None:
    from studylib.batch.execute import init_worker

    init_worker(stop_event)


def _shutdown_warm_kernels() -> int:
    from studylib.batch.execute import shutdown_warm_kernels

    return shutdown_warm_kernels()


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


class Backend:
    """An executor plus what the runner needs around it: a name, Ctrl-C, clean-up."""

    executor: Executor
    description: str

    def interrupt(self) -> None:
        """Ask the tasks in progress to stop (Ctrl-C)."""

    def close(self, *, cancel: bool = False) -> None:
        """Release the workers; with ``cancel``, drop the tasks that have not started."""


def start_local_workers_early() -> None:
    """Start the forkserver now, so that its imports (about 1.5 s) overlap the run's planning.

    It imports papermill, nbclient and nbconvert once; every worker is then forked from it.
    """
    multiprocessing.get_context("forkserver").set_forkserver_preload(["studylib.batch.execute"])
    from multiprocessing import forkserver

    forkserver.ensure_running()


class LocalBackend(Backend):
    """A pool of worker processes on this machine."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["studylib.batch.execute"])
        self._stop = context.Event()
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_local_worker,
            initargs=(self._stop,),
        )
        self.description = f"{workers} local worker{'s' if workers != 1 else ''}"

    def interrupt(self) -> None:
        self._stop.set()
        # Ctrl-C in a terminal reaches the workers too; a signal sent to this process
        # alone (an IDE's stop button, `kill -INT`) is passed on so that they stop as well.
        # ProcessPoolExecutor keeps its processes in a private attribute (stable since 3.2).
        for process in list(getattr(self.executor, "_processes", {}).values()):
            if process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGINT)

    def close(self, *, cancel: bool = False) -> None:
        self.executor.shutdown(wait=True, cancel_futures=cancel)


class DaskBackend(Backend):
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
        workers = len(self.client.scheduler_info().get("workers", {}))
        plural = "s" if workers != 1 else ""
        self.description = f"Dask cluster at {address} ({workers} worker{plural})"

    def close(self, *, cancel: bool = False) -> None:
        self.executor.shutdown(wait=not cancel)
        try:
            self.client.run(_shutdown_warm_kernels)
        finally:
            self.client.close()


def make_backend(workers: int | None = None, scheduler: str | None = None) -> Backend:
    """A Dask backend when a scheduler address is given, else local worker processes."""
    if scheduler:
        return DaskBackend(scheduler)
    return LocalBackend(workers or default_workers())
