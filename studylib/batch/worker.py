"""A local worker process: runs the notebooks its batch sends, one at a time.

The batch (:mod:`studylib.batch.pool`) sends a :class:`~studylib.batch.plan.Task`, the
worker runs it (:func:`studylib.batch.execute.run_task`) and sends back its manifest entry;
``None`` asks it to end. It also tells the batch the pid of each kernel it starts, so that
the batch can end the kernel of a worker that died.

Nothing of a run outlives the batch: a thread waits on a pipe that only the batch can write
to and never does; when the batch is gone, however it ended (even ``kill -9``), the pipe
closes, and the worker kills its kernels and exits at once instead of running on.
"""

from __future__ import annotations

import contextlib
import os
import threading
from multiprocessing.connection import wait

from studylib.batch import execute

__all__ = ["serve", "ORPHANED"]

#: the exit status of a worker that ended because its batch was gone
ORPHANED = 70


def _watch_batch(batch_alive) -> None:
    wait([batch_alive])  # readable only when the batch's end closes: nobody writes to it
    execute.kill_kernels()
    os._exit(ORPHANED)


def serve(conn, stop_event, batch_alive) -> None:
    """The worker's life: tasks in, entries out, until told to end or the batch is gone."""
    execute.init_worker(stop_event)
    threading.Thread(
        target=_watch_batch, args=(batch_alive,), name="studylib-batch-watch", daemon=True
    ).start()

    def tell_kernel(pid: int) -> None:
        with contextlib.suppress(OSError):
            conn.send(("kernel", pid))

    execute.set_kernel_listener(tell_kernel)
    try:
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                break
            if task is None:
                break
            conn.send(("done", execute.run_task(task)))
    finally:
        execute.shutdown_warm_kernels()
