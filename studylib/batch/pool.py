"""Local worker processes, as the batch sees them: who runs what, and what to do when one dies.

Each worker (:mod:`studylib.batch.worker`) runs one notebook at a time, sent to it only when
it is free, so the batch always knows which notebook each worker holds and no notebook
waits in a worker's queue:

- A worker that dies (the out-of-memory killer, ``kill -9``) costs only the notebook it was
  running: its kernel is killed, a new worker takes its place, and the notebook is tried once
  more; if that worker dies too, the notebook is recorded as ``worker_died``. The other
  notebooks go on (a ``concurrent.futures`` pool would instead fail every remaining one
  with ``BrokenProcessPool``).
- :meth:`LocalPool.stop` drops what has not started and asks the workers to stop their
  notebooks; whatever has not stopped after a grace period is killed by :meth:`close`,
  kernels first, so that no process is left behind.
- Workers are forked from a *forkserver* that has already imported papermill, nbclient and
  nbconvert: each starts ready to run, and none is forked from a process that may hold
  threads (a Jupyter kernel, a Dask client), which ``fork`` makes unsafe.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from datetime import UTC, datetime
from multiprocessing.connection import wait
from pathlib import Path

import psutil

from studylib.batch.plan import Task

__all__ = ["LocalPool", "WORKER_MODULE", "GRACE_S", "ATTEMPTS"]

#: imported by the forkserver once; every worker starts with it loaded
WORKER_MODULE = "studylib.batch.worker"
#: after a stop, how long the notebooks in progress have to stop by themselves
GRACE_S = 10.0
#: after the last notebook, how long a worker has to shut its kernel down
END_S = 5.0
#: how many workers a notebook may lose before it is recorded as ``worker_died``
ATTEMPTS = 2


def _serve(conn, stop_event, batch_alive) -> None:
    # a trampoline: the batch names the worker's entry point without importing papermill
    from studylib.batch.worker import serve

    serve(conn, stop_event, batch_alive)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def death_cause(exitcode: int | None) -> str:
    """Why a worker process ended, in words.

    >>> death_cause(-9)
    "killed by SIGKILL (the system's out-of-memory killer, or kill -9)"
    >>> death_cause(1)
    'it exited with status 1'
    """
    if exitcode is None:
        return "it stopped answering"
    if exitcode < 0:
        if -exitcode == signal.SIGKILL:
            return "killed by SIGKILL (the system's out-of-memory killer, or kill -9)"
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"it exited with status {exitcode}"


def _kill_tree(process: psutil.Process) -> None:
    """Kill a process and everything it started (psutil checks that the pid is still that
    process, so a pid reused since is never hit)."""
    with contextlib.suppress(psutil.Error):
        family = [process, *process.children(recursive=True)]
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.kill()


class _Worker:
    def __init__(self, process, conn) -> None:
        self.process = process
        self.conn = conn
        self.task: Task | None = None
        self.attempt = 0
        #: the kernels it told us about (a warm kernel lives as long as the worker)
        self.kernels: list[psutil.Process] = []


class LocalPool:
    """Up to ``workers`` worker processes on this machine."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([WORKER_MODULE])
        self._context = context
        self._size = workers
        self._stop = context.Event()
        # the workers' lifeline: only this process holds the writing end, and never writes
        self._lifeline, self._lifeline_end = context.Pipe(duplex=False)
        self._workers: list[_Worker] = []
        self._queue: deque[tuple[Task, int]] = deque()
        self._retried: dict[tuple[str, str], str] = {}
        self._stopping = False
        #: workers that died and were replaced
        self.lost_workers = 0
        self.description = f"{workers} local worker{'s' if workers != 1 else ''}"

    # -- running -----------------------------------------------------------------------
    def submit(self, tasks: list[Task]) -> None:
        self._queue.extend((task, 1) for task in tasks)
        self._dispatch()

    def poll(self, timeout: float) -> list[tuple[Task, dict]]:
        """The entries of the notebooks that ended within ``timeout`` seconds."""
        busy = [w for w in self._workers if w.task is not None]
        if busy:
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
        finished = []
        for worker in busy:
            finished += self._read(worker)
        self._dispatch()
        return finished

    def _start(self) -> _Worker:
        mine, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(theirs, self._stop, self._lifeline),
            name="studylib-batch-worker",
            daemon=True,
        )
        process.start()
        theirs.close()
        worker = _Worker(process, mine)
        self._workers.append(worker)
        return worker

    def _dispatch(self) -> None:
        if self._stopping:
            return
        for worker in list(self._workers):
            if worker.task is None and self._queue:
                self._give(worker, *self._queue.popleft())
        while self._queue and len(self._workers) < self._size:
            self._give(self._start(), *self._queue.popleft())

    def _give(self, worker: _Worker, task: Task, attempt: int) -> None:
        try:
            worker.conn.send(task)
        except OSError:  # it died while idle: another takes the notebook
            self._queue.appendleft((task, attempt))
            self._end(worker)
            return
        worker.task, worker.attempt = task, attempt

    def _read(self, worker: _Worker) -> list[tuple[Task, dict]]:
        finished = []
        with contextlib.suppress(EOFError, OSError):  # gone: its sentinel says so below
            while worker.conn.poll():
                kind, value = worker.conn.recv()
                if kind == "kernel":
                    with contextlib.suppress(psutil.Error):
                        worker.kernels.append(psutil.Process(value))
                else:
                    finished.append(self._finished(worker, value))
        if worker.task is not None and not worker.process.is_alive():
            lost = self._lost(worker)
            if lost is not None:
                finished.append(lost)
        return finished

    def _finished(self, worker: _Worker, entry: dict) -> tuple[Task, dict]:
        task, worker.task = worker.task, None
        worker.kernels = [k for k in worker.kernels if k.is_running()]
        if task.key in self._retried:
            entry = {**entry, "attempts": worker.attempt, "retried_after": self._retried[task.key]}
        return task, entry

    def _lost(self, worker: _Worker) -> tuple[Task, dict] | None:
        """A worker died with a notebook: retry it once, or record it as ``worker_died``."""
        task, attempt = worker.task, worker.attempt
        cause = death_cause(worker.process.exitcode)
        self._end(worker)
        if self._stopping:
            return None  # stopped: the runner records it as not finished
        self.lost_workers += 1
        if attempt < ATTEMPTS:
            self._retried[task.key] = cause
            self._queue.appendleft((task, attempt + 1))
            return None
        # the files of an earlier result would contradict this entry
        for path in (task.output, task.html):
            with contextlib.suppress(OSError):
                Path(path).unlink(missing_ok=True)
        times = "twice" if attempt == 2 else f"{attempt} times"
        return task, {
            "patient_id": task.patient_id,
            "notebook": task.notebook,
            "parameters": task.parameters,
            "fingerprint": task.fingerprint,
            "inputs": task.inputs,
            "status": "worker_died",
            "error": {
                "kind": "worker died",
                "message": f"the worker process running it died {times} ({cause}); the other"
                " notebooks went on. A notebook that needs more memory than is free is the"
                " usual cause: rerun with fewer --workers.",
            },
            "started_at": None,
            "ended_at": _now(),
            "attempts": attempt,
            "recorded": {},
            "output": None,
            "html": None,
        }

    # -- ending ------------------------------------------------------------------------
    def stop(self, grace_s: float, hurried) -> list[tuple[Task, dict]]:
        """Drop what has not started and ask the notebooks in progress to stop; returns
        the entries that came back within ``grace_s`` (or until ``hurried()``)."""
        self._stopping = True
        self._queue.clear()
        self._stop.set()
        # Ctrl-C in a terminal reaches the workers too; a signal sent to the batch alone
        # (kill -INT, an IDE's stop button) is passed on
        for worker in self._workers:
            if worker.task is not None:
                with contextlib.suppress(OSError):
                    os.kill(worker.process.pid, signal.SIGINT)
        finished = []
        ends = time.monotonic() + grace_s
        while (
            any(w.task is not None for w in self._workers)
            and time.monotonic() < ends
            and not hurried()
        ):
            finished += self.poll(0.2)
        return finished

    def close(self) -> None:
        """End every worker: free ones are asked to (they shut their kernels down), the rest
        are killed with their kernels. Nothing is left running. (Idempotent.)"""
        if self._lifeline_end.closed:
            return
        for worker in self._workers:
            if worker.task is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        ends = time.monotonic() + END_S
        for worker in self._workers:
            if worker.task is None:
                worker.process.join(max(0.0, ends - time.monotonic()))
        # the lifeline closes: a worker still there kills its kernels and exits
        self._lifeline_end.close()
        ends = time.monotonic() + 2.0
        for worker in self._workers:
            worker.process.join(max(0.0, ends - time.monotonic()))
        for worker in list(self._workers):
            self._end(worker)
        self._lifeline.close()

    def _end(self, worker: _Worker) -> None:
        """Kill a worker (if it still runs) and its kernels; forget it."""
        for kernel in worker.kernels:
            _kill_tree(kernel)
        if worker.process.is_alive():
            with contextlib.suppress(psutil.Error):
                _kill_tree(psutil.Process(worker.process.pid))
        worker.process.join(1.0)
        worker.conn.close()
        self._workers.remove(worker)
