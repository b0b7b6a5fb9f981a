"""One run at a time in a run folder: ``<out>/<run>/batch.lock``.

Two runs writing one folder would each rewrite ``manifest.json`` from what they know, and
the last writer would drop the other's notebooks from the records though their files are on
disk. The first run holds an exclusive lock on ``batch.lock`` (which names its pid, host and
start) for as long as it runs; a second run is refused, naming the first. The lock is the
operating system's (``flock``): it ends with its process, however that process ends, so a
file left by a run that was killed is stale and the next run takes it over and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from studylib.errors import BatchError

try:
    import fcntl
except ImportError:  # Windows: no flock; the pid recorded in the file is checked instead
    fcntl = None

__all__ = ["RunLock", "LOCK_FILE"]

LOCK_FILE = "batch.lock"


def _describe(holder: dict) -> str:
    return (
        f"pid {holder.get('pid', '?')} on {holder.get('host', '?')},"
        f" started {holder.get('started_at', '?')}"
    )


def _alive_here(holder: dict) -> bool:
    """Whether the recorded process runs on this host (when locks cannot tell)."""
    if holder.get("host") != socket.gethostname():
        return True  # cannot tell: assume it runs
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """The lock of one run folder, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None
        #: set by :meth:`acquire` when it took over a lock left by a run that ended abruptly
        self.took_over: str | None = None

    def acquire(self) -> None:
        """Take the lock, creating the run folder if needed.

        Raises
        ------
        BatchError
            When another run holds it, naming that run's pid and host, or when the folder
            cannot be written (a full disk, no permission).
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._take()
        except OSError as error:
            self.release()
            raise BatchError(
                f"cannot write in {self.path.parent}: {error.strerror or error}; nothing was run"
            ) from error

    def _take(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                holder = self._read(fd)
                if not self._lock(fd, holder):
                    raise BatchError(
                        f"another studylib batch is running in {self.path.parent}"
                        f" ({_describe(holder)}): two runs in one folder would overwrite each"
                        " other's records. Wait for it to end, stop it (Ctrl-C, or kill"
                        f" {holder.get('pid', 'its pid')}), or choose another --run or --out;"
                        " nothing was run"
                    )
                # a run that ends removes the file: make sure the one locked is still there
                with contextlib.suppress(FileNotFoundError):
                    if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                        break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        self._fd = fd
        if holder:
            self.took_over = (
                f"took over the lock left by a run that is no longer running ({_describe(holder)})"
            )
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            holder = json.loads(text) if text.strip() else {}
        except ValueError:
            holder = {"pid": "?", "host": "?"}
        return holder if isinstance(holder, dict) else {}

    @staticmethod
    def _lock(fd: int, holder: dict) -> bool:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
            except OSError:
                pass  # a file system without locks: fall back to the recorded pid
        return not holder or not _alive_here(holder)

    def release(self) -> None:
        """Remove the file and let go of the lock (idempotent)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
