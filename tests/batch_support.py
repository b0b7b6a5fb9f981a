"""Helpers of the batch tests: trial copies, run-folder readers, and a real ``studylib batch``
process whose every descendant is found and ended.

Every process a batch starts (forkserver, resource tracker, workers, kernels) inherits its
environment, so each run gets a tag in ``STUDYLIB_TEST_RUN`` and its processes are found by
that tag, even after they have been orphaned (a kernel whose worker was killed). The batch
starts in a new session with SIGINT default (or ignored, to play a shell's ``&``): Ctrl-C of
the test run never reaches it, and a background ``pytest &`` cannot leave it deaf. Whatever
happens, :func:`batch_process` ends the session and every tagged process by its pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "tests" / "notebooks"
TINY = REPO / "tests" / "fixtures" / "tiny_trial"
PROBES = [str(NOTEBOOKS / "probe_screening.ipynb"), str(NOTEBOOKS / "probe_enrolled.ipynb")]
TAG = "STUDYLIB_TEST_RUN"


def copy_trial(tmp: Path, name: str = "trial") -> Path:
    """A writable copy of the tiny three-patient trial."""
    target = tmp / name
    shutil.copytree(TINY, target)
    return target


def run_folder(out: Path) -> Path:
    """The one run folder under ``out``."""
    (folder,) = [p for p in Path(out).iterdir() if p.is_dir()]
    return folder


def read_manifest(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "manifest.json").read_text())


def read_entries(run_dir: Path) -> dict:
    return {(e["patient_id"], e["notebook"]): e for e in read_manifest(run_dir)["notebooks"]}


def temporary_files(folder: Path) -> list[Path]:
    from studylib.batch.files import TEMPORARY_SUFFIX

    return list(Path(folder).rglob(f"*{TEMPORARY_SUFFIX}"))


def tagged(tag: str) -> list[psutil.Process]:
    """The processes alive with ``tag`` in their environment."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.environ().get(TAG) == tag and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def kernels(tag: str) -> list[psutil.Process]:
    """The Jupyter kernels among a run's processes."""
    found = []
    for process in tagged(tag):
        with contextlib.suppress(psutil.Error):
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                found.append(process)
    return found


def wait_for(condition: Callable[[], object], timeout: float, step: float = 0.2):
    """``condition()``'s first true value within ``timeout`` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


class Batch:
    """A running ``studylib batch`` and what it printed."""

    def __init__(self, process: subprocess.Popen, tag: str, folder: Path) -> None:
        self.process = process
        self.tag = tag
        self._out = folder / f"{tag}.out"
        self._err = folder / f"{tag}.err"

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    @property
    def stdout(self) -> str:
        return self._out.read_text()

    @property
    def stderr(self) -> str:
        return self._err.read_text()

    def leftovers(self, timeout: float = 15) -> list[psutil.Process]:
        """The run's processes still alive ``timeout`` seconds from now (or none sooner)."""
        return [] if wait_for(lambda: not tagged(self.tag), timeout) else tagged(self.tag)


def _group(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def _child_setup(sigint) -> Callable[[], None]:
    def setup() -> None:
        signal.signal(signal.SIGINT, sigint)

    return setup


def command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "studylib.cli", "batch", *arguments]


@contextlib.contextmanager
def batch_process(
    arguments: list[str],
    folder: Path,
    *,
    sigint=signal.SIG_DFL,
    env: dict[str, str] | None = None,
    wrapper: list[str] | None = None,
) -> Iterator[Batch]:
    """Start ``studylib batch ARGUMENTS`` (output in ``folder``); end all of it on exit.

    ``sigint`` is the child's inherited SIGINT disposition: ``SIG_DFL``, or ``SIG_IGN`` as a
    shell leaves it in a job started with ``&``. ``wrapper`` prefixes the command (unshare).
    """
    tag = uuid.uuid4().hex
    environment = {**os.environ, **(env or {}), TAG: tag, "PYTHONPATH": str(REPO)}
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{tag}.out", "w") as out, open(folder / f"{tag}.err", "w") as err:
        process = subprocess.Popen(
            [*(wrapper or []), *command(*arguments)],
            cwd=REPO,
            env=environment,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_child_setup(sigint),
        )
    batch = Batch(process, tag, folder)
    try:
        yield batch
    finally:
        # the session's group, while it exists (its id is not reused while a member lives)
        group_alive = process.poll() is None or any(_group(p) == process.pid for p in tagged(tag))
        if group_alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        for leftover in tagged(tag):
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
