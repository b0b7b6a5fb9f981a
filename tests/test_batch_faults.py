"""Faults a night's batch meets on real machines, each driven through a real ``studylib batch``
process: stop signals whatever their inherited state, a worker or the batch itself killed, a
second run in the same folder, a full disk, a slow notebook, names that would be HTML.

Every process a test starts is ended by :func:`batch_support.batch_process`, by pid or
process group, even when the test fails; each test also checks that the batch itself left
nothing running.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest
from batch_support import (
    NOTEBOOKS,
    PROBES,
    batch_process,
    copy_trial,
    kernels,
    read_entries,
    read_manifest,
    run_folder,
    tagged,
    temporary_files,
    wait_for,
)

from studylib.batch.runner import run_batch, summary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"),
        reason="finds a run's processes by their environment, which only Linux lets it read",
    ),
]

SLEEPY = str(NOTEBOOKS / "sleepy.ipynb")
KILL_WORKER = str(NOTEBOOKS / "kill_worker.ipynb")
SLOW_ONCE = str(NOTEBOOKS / "slow_once.ipynb")
MANY_CELLS = str(NOTEBOOKS / "many_cells.ipynb")
FREEZE_WORKER = str(NOTEBOOKS / "freeze_worker.ipynb")
# a kernel's start, on two cores shared by a whole team, can take this long
KERNEL_START_S = 120
# the runner's grace period (10 s) and the time to kill what is left
STOP_S = 20


def _forkserver(tag: str) -> list[psutil.Process]:
    return [p for p in tagged(tag) if "multiprocessing.forkserver" in " ".join(p.cmdline())]


@pytest.mark.parametrize(
    ("signum", "inherited", "status"),
    [
        (signal.SIGINT, signal.SIG_DFL, 130),
        (signal.SIGINT, signal.SIG_IGN, 130),
        (signal.SIGTERM, signal.SIG_DFL, 143),
    ],
    ids=["ctrl-c", "ctrl-c-in-background", "sigterm"],
)
def test_a_stop_signal_ends_the_run_cleanly_within_seconds(tmp_path, signum, inherited, status):
    """SIGINT mid-notebook, whether SIGINT was inherited default or ignored (as a shell's `&`
    leaves it), or SIGTERM: the run stops within seconds, says how to resume, records the
    notebook as interrupted, leaves no output of it, no temporary, no lock, no process."""
    out = tmp_path / "outputs"
    data = copy_trial(tmp_path)
    arguments = ["--data", str(data), "--out", str(out), "--patients", "T002"]
    with batch_process([*arguments, "--notebooks", SLEEPY], tmp_path, sigint=inherited) as batch:
        assert wait_for(lambda: kernels(batch.tag), KERNEL_START_S), batch.stderr
        time.sleep(1.0)  # the kernel is sleeping in T002's cell
        batch.signal(signum)
        sent = time.monotonic()
        assert batch.wait(timeout=60) == status, batch.stdout + batch.stderr
        assert time.monotonic() - sent < STOP_S
        assert not batch.leftovers()
    name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    assert f"Interrupted by {name}: rerun the same command to resume" in batch.stdout
    assert "NOT RUN 1 notebook(s) of 1 patient(s), stopped before they finished: T002" in (
        batch.stdout
    )
    run_dir = run_folder(out)
    assert not (run_dir / "T002" / "sleepy.ipynb").exists()
    assert not temporary_files(out)
    assert not (run_dir / "batch.lock").exists()
    entry = read_entries(run_dir)[("T002", "sleepy")]
    assert entry["status"] == "interrupted"
    assert f"stopped by {name}" in entry["error"]["message"]


def test_a_worker_that_cannot_stop_is_killed_after_the_grace_period(tmp_path):
    """Ctrl-C while a worker is frozen (it cannot stop its notebook): after the grace period
    the batch kills it and its kernel, and ends with the notebook recorded as interrupted."""
    out = tmp_path / "outputs"
    arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out), "--patients", "T001"]
    with batch_process([*arguments, "--notebooks", FREEZE_WORKER], tmp_path) as batch:

        def frozen():
            for process in tagged(batch.tag):
                with contextlib.suppress(psutil.Error):
                    if process.status() == psutil.STATUS_STOPPED:
                        return True
            return False

        assert wait_for(frozen, KERNEL_START_S), batch.stdout + batch.stderr
        batch.signal(signal.SIGINT)
        sent = time.monotonic()
        assert batch.wait(timeout=60) == 130, batch.stdout + batch.stderr
        assert 10 <= time.monotonic() - sent < STOP_S + 10  # the grace period, then the kill
        assert not batch.leftovers()
    assert "the notebooks in progress have 10 s to stop" in batch.stderr
    entry = read_entries(run_folder(out))[("T001", "freeze_worker")]
    assert entry["status"] == "interrupted"


def test_ctrl_c_while_planning_stops_at_once_and_writes_nothing(tmp_path):
    """A signal before any notebook runs (here while the batch waits to read screening.csv, a
    pipe nobody writes to) ends it at once with a sentence, not a traceback, and no files."""
    data = copy_trial(tmp_path)
    (data / "screening.csv").unlink()
    os.mkfifo(data / "screening.csv")  # reading it waits forever: the batch stays in planning
    out = tmp_path / "outputs"
    arguments = ["--data", str(data), "--out", str(out), "--notebooks", PROBES[0]]
    with batch_process(arguments, tmp_path, sigint=signal.SIG_IGN) as batch:
        assert wait_for(lambda: _forkserver(batch.tag), KERNEL_START_S), batch.stderr
        time.sleep(2.0)
        batch.signal(signal.SIGINT)
        assert batch.wait(timeout=STOP_S) == 130, batch.stderr
        assert not batch.leftovers()
    assert "stopped by Ctrl-C before any notebook ran; nothing was run" in batch.stderr
    assert "Traceback" not in batch.stderr
    assert not out.exists()


def test_a_signal_while_notebooks_are_handed_out_is_not_lost(tmp_path, monkeypatch):
    """Ctrl-C while the notebooks are being handed to the workers (it once crashed the runner
    with KeyError): every notebook has an entry, ok or interrupted, and the run says 130."""
    import studylib.batch.pool as pool

    handing_out = pool.LocalPool.submit

    def interrupted_while_handing_out(self, tasks):
        handing_out(self, tasks[:1])
        os.kill(os.getpid(), signal.SIGINT)
        handing_out(self, tasks[1:])

    monkeypatch.setattr(pool.LocalPool, "submit", interrupted_while_handing_out)
    report = run_batch(
        copy_trial(tmp_path), notebooks=PROBES[:1], out=tmp_path / "out", progress=False
    )
    assert report.exit_code == 130
    statuses = {k: e["status"] for k, e in read_entries(report.run_dir).items()}
    assert sorted(statuses) == [(p, "probe_screening") for p in ("T001", "T002", "T003")]
    assert set(statuses.values()) <= {"ok", "interrupted"}
    assert "Interrupted by Ctrl-C" in summary(report)


def test_a_dead_worker_costs_at_most_its_notebook(tmp_path):
    """A worker killed (as by the out-of-memory killer) is replaced; its notebook is tried
    once more (T001 then ends ok) or, if that worker dies too, recorded as worker_died
    (T002); every other notebook runs, and no kernel of a dead worker is left."""
    markers = tmp_path / "markers"
    markers.mkdir()
    out = tmp_path / "outputs"
    arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out), "--workers", "2"]
    arguments += ["--notebooks", KILL_WORKER, PROBES[0]]
    env = {"STUDYLIB_TEST_MARKERS": str(markers)}
    with batch_process(arguments, tmp_path, env=env) as batch:
        assert batch.wait(timeout=600) == 1, batch.stdout + batch.stderr
        assert not batch.leftovers()
    run_dir = run_folder(out)
    entries = read_entries(run_dir)
    retried = entries[("T001", "kill_worker")]
    assert retried["status"] == "ok" and retried["attempts"] == 2
    assert "killed by SIGKILL" in retried["retried_after"]
    died = entries[("T002", "kill_worker")]
    assert died["status"] == "worker_died"
    assert "died twice (killed by SIGKILL" in died["error"]["message"]
    assert not (run_dir / "T002" / "kill_worker.ipynb").exists()
    assert entries[("T003", "kill_worker")]["status"] == "ok"
    assert all(entries[(p, "probe_screening")]["status"] == "ok" for p in ("T001", "T002", "T003"))
    assert "RETRIED T001 kill_worker: its worker died (killed by SIGKILL" in batch.stdout
    assert "WORKER_DIED T002 kill_worker: the worker process running it died twice" in (
        batch.stdout
    )


def test_nothing_outlives_a_killed_batch_and_its_lock_is_taken_over(tmp_path):
    """While a run is in progress a second run into its folder is refused (exit 2, naming
    it). Killed with kill -9, the run leaves no worker, kernel or forkserver behind; its lock
    is stale, and the next run takes it over and says so."""
    out = tmp_path / "outputs"
    data = copy_trial(tmp_path)
    arguments = ["--data", str(data), "--out", str(out), "--notebooks", SLEEPY, "--workers", "2"]
    with batch_process(arguments, tmp_path) as first:

        def sleeping():
            run_dir = next(out.glob("*/manifest.json"), None)
            if run_dir is None or not kernels(first.tag):
                return False
            done = read_manifest(run_dir.parent)["notebooks"]
            return sum(e["status"] == "ok" for e in done) == 2  # T001 and T003

        assert wait_for(sleeping, KERNEL_START_S * 2), first.stdout + first.stderr
        with batch_process(arguments, tmp_path) as second:
            assert second.wait(timeout=KERNEL_START_S) == 2, second.stdout + second.stderr
            assert not second.leftovers()
        assert f"another studylib batch is running in {run_folder(out)} (pid {first.pid}" in (
            second.stderr
        )
        first.signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        survivors = first.leftovers(timeout=STOP_S)
        assert not survivors, [p.cmdline()[:3] for p in survivors]
    run_dir = run_folder(out)
    assert (run_dir / "batch.lock").exists()
    again_arguments = ["--data", str(data), "--out", str(out), "--patients", "T001"]
    with batch_process([*again_arguments, "--notebooks", PROBES[0]], tmp_path) as again:
        assert again.wait(timeout=300) == 0, again.stdout + again.stderr
        assert not again.leftovers()
    assert (
        f"Note: took over the lock left by a run that is no longer running (pid {first.pid}"
    ) in again.stdout
    assert not (run_dir / "batch.lock").exists()


def _small_disk_wrapper(mount: str, copy: str, size_kb: int) -> list[str] | None:
    """A command prefix that runs the batch in a private mount namespace where ``mount`` is a
    tmpfs of ``size_kb`` (a disk that fills up), copying it to ``copy`` afterwards; None
    where this system allows no such namespace."""
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         f"mount -t tmpfs -o size={size_kb}k tmpfs '{mount}'"],
        capture_output=True,
    )  # fmt: skip
    if probe.returncode != 0:
        return None
    script = (
        f"mount -t tmpfs -o size={size_kb}k tmpfs '{mount}' || exit 99;"
        f" \"$@\"; status=$?; cp -a '{mount}/.' '{copy}'; exit $status"
    )
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "batch"]


def test_a_full_disk_stops_the_run_with_complete_records(tmp_path):
    """When the disk fills up: the run stops, the summary says what was written, the
    manifest and cohort table are valid and describe the notebooks that finished, and the
    notebook whose files could not be written has none (no half result, no temporary)."""
    out, copy = tmp_path / "outputs", tmp_path / "copy"
    out.mkdir()
    copy.mkdir()
    # three HTML pages of about 280 kB each do not fit in 450 kB
    wrapper = _small_disk_wrapper(str(out), str(copy), 450)
    if wrapper is None:
        pytest.skip("this system allows no private tmpfs (unshare --user --mount) to fill up")
    arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out), "--workers", "1"]
    arguments += ["--notebooks", PROBES[0]]
    with batch_process(arguments, tmp_path, wrapper=wrapper) as batch:
        assert batch.wait(timeout=600) == 3, batch.stdout + batch.stderr
        assert not batch.leftovers()
    run_dir = run_folder(copy)
    entries = read_entries(run_dir)
    order = [entries[(p, "probe_screening")]["status"] for p in ("T001", "T002", "T003")]
    failed = order.index("write_error")
    assert set(order[:failed]) <= {"ok"} and set(order[failed + 1 :]) <= {"interrupted"}
    patient = ("T001", "T002", "T003")[failed]
    message = entries[(patient, "probe_screening")]["error"]["message"]
    assert f"could not write {patient}/probe_screening." in message
    assert "No space left on device" in message
    assert not list((run_dir / patient).glob("probe_screening.*"))
    assert not temporary_files(run_dir)
    table = (run_dir / "cohort.csv").read_text().splitlines()
    # no values of a notebook whose file was not kept
    assert len(table) == 4 and table[failed + 1].startswith(f"{patient},write_error,,,")
    assert f"WRITE_ERROR {patient} probe_screening: could not write {patient}/" in batch.stdout
    assert "STOPPED after the write error above" in batch.stdout
    assert "rerun the same command to resume" in batch.stdout


def test_records_that_cannot_be_written_at_the_end_are_said(tmp_path, monkeypatch):
    """If even the final manifest cannot be written, the summary says so, and which
    notebooks the manifest on disk does not list; the exit status is 3."""
    import studylib.batch.runner as runner

    writes = {"count": 0}
    real_write = runner.write_manifest

    def disk_fills_after_the_first_write(*args):
        writes["count"] += 1
        if writes["count"] > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(*args)

    monkeypatch.setattr(runner, "write_manifest", disk_fills_after_the_first_write)
    report = run_batch(
        copy_trial(tmp_path),
        notebooks=PROBES[:1],
        patients=["T003"],
        out=tmp_path / "out",
        progress=False,
    )
    assert report.exit_code == 3
    text = summary(report)
    assert "RECORDS NOT UPDATED: could not write manifest.json: No space left on device" in text
    assert "it does not list these notebooks, which ended since: T003 probe_screening" in text
    assert json.loads(report.manifest.read_text())["notebooks"] == []  # the one on disk


def test_the_timeout_bounds_the_whole_notebook_and_takes_fractions(tmp_path):
    """--timeout 2.5 stops a notebook of twenty half-second cells after about five of them
    (a per-cell limit would let all run)."""
    out = tmp_path / "outputs"
    arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out), "--patients", "T001"]
    arguments += ["--notebooks", MANY_CELLS, "--timeout", "2.5"]
    with batch_process(arguments, tmp_path) as batch:
        assert batch.wait(timeout=300) == 1, batch.stdout + batch.stderr
        assert not batch.leftovers()
    entry = read_entries(run_folder(out))[("T001", "many_cells")]
    assert entry["status"] == "timeout"
    assert "the notebook ran longer than the limit of 2.5 s" in entry["error"]["message"]
    assert entry["error"]["cell_index"] < 12


def test_names_and_values_in_reports_are_text_never_html(tmp_path):
    """A data folder, a notebook and a data value named with a backtick and an HTML tag reach
    the report as text: no live tag."""
    data = copy_trial(tmp_path, "trial `<img src=x onerror=alert(1)>`")
    randomization = data / "randomization.csv"
    randomization.write_text(
        randomization.read_text().replace("T002,A,", "T002,<img src=x onerror=alert(3)>,")
    )
    notebook = tmp_path / "probe <b onmouseover=alert(2)>.ipynb"
    shutil.copy(PROBES[0], notebook)
    out = tmp_path / "outputs"
    arguments = ["--data", str(data), "--out", str(out), "--patients", "T001", "T002"]
    with batch_process([*arguments, "--notebooks", str(notebook)], tmp_path) as batch:
        assert batch.wait(timeout=300) == 1, batch.stdout + batch.stderr
    run_dir = run_folder(out)
    assert run_dir.name.startswith("trial___img_src_x_onerror_alert_1___-")
    for patient in ("T001", "T002"):
        page = (run_dir / patient / f"{notebook.stem}.html").read_text()
        assert "<img src=x" not in page and "<b onmouseover" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "&lt;b onmouseover=alert(2)&gt;" in page
    assert "&lt;img src=x onerror=alert(3)&gt;" in page  # T002's loader message


def test_dask_recomputes_the_notebook_of_a_lost_worker(tmp_path, monkeypatch):
    """A Dask worker killed mid-notebook: the cluster runs the notebook again on a worker,
    and the summary counts the workers that ran notebooks."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask distributed is an optional extra (studylib[dask])"
    )
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("STUDYLIB_TEST_MARKERS", str(markers))  # the workers inherit it
    out = tmp_path / "outputs"
    orphans: list[psutil.Process] = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]

        def running_kernel():
            for worker in workers:
                for child in worker.children():
                    if "ipykernel_launcher" in " ".join(child.cmdline()):
                        return worker, child
            return None

        arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out)]
        arguments += ["--patients", "T001", "--notebooks", SLOW_ONCE]
        arguments += ["--scheduler", cluster.scheduler_address]
        try:
            with batch_process(arguments, tmp_path) as batch:
                found = wait_for(running_kernel, KERNEL_START_S)
                assert found, batch.stdout + batch.stderr
                worker, kernel = found
                orphans.append(kernel)
                # Killed once the first try sleeps (a kernel still starting has not run it).
                started = markers / "T001-started"
                assert wait_for(started.exists, KERNEL_START_S), batch.stdout + batch.stderr
                worker.kill()  # the nanny starts a new worker; the scheduler reruns the task
                assert batch.wait(timeout=KERNEL_START_S * 2) == 0, batch.stdout + batch.stderr
        finally:
            for orphan in orphans:  # its ipykernel notices its worker is gone; be sure
                with contextlib.suppress(psutil.Error):
                    orphan.kill()
    entry = read_entries(run_folder(out))[("T001", "slow_once")]
    assert entry["status"] == "ok"
    assert "second try" in (run_folder(out) / "T001" / "slow_once.ipynb").read_text()
    assert "(1 worker ran them)" in batch.stdout


def test_a_lost_dask_scheduler_ends_the_run_with_a_clear_message(tmp_path):
    """The scheduler killed while a notebook runs: the batch does not wait for ever (it spun
    for 96 minutes once); it records the notebook as not finished, says why, and ends."""
    pytest.importorskip(
        "distributed", reason="Dask distributed is an optional extra (studylib[dask])"
    )
    scheduler_file = tmp_path / "scheduler.json"
    started: list[subprocess.Popen] = []

    def start(*arguments: str) -> None:
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", *arguments],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    try:
        start("distributed.cli.dask_scheduler", "--port", "0", "--dashboard-address", ":0",
              "--scheduler-file", str(scheduler_file))  # fmt: skip
        assert wait_for(scheduler_file.exists, KERNEL_START_S)
        address = json.loads(scheduler_file.read_text())["address"]
        start("distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
              "--no-dashboard")  # fmt: skip
        out = tmp_path / "outputs"
        arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out)]
        arguments += ["--patients", "T002", "--notebooks", SLEEPY, "--scheduler", address]
        with batch_process(arguments, tmp_path) as batch:
            assert wait_for(lambda: kernels_of(started[1]), KERNEL_START_S), batch.stderr
            os.killpg(started[0].pid, signal.SIGKILL)  # the scheduler, gone
            assert batch.wait(timeout=KERNEL_START_S) == 1, batch.stdout + batch.stderr
        entry = read_entries(run_folder(out))[("T002", "sleepy")]
        assert entry["error"]["kind"] == "scheduler lost"
        assert "stopped answering" in batch.stdout + batch.stderr
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def kernels_of(process: subprocess.Popen) -> list[psutil.Process]:
    """The notebook kernels a process (a Dask worker) has started, however deep."""
    with contextlib.suppress(psutil.Error):
        return [
            child
            for child in psutil.Process(process.pid).children(recursive=True)
            if "ipykernel_launcher" in " ".join(child.cmdline())
        ]
    return []


@pytest.mark.parametrize("warm", [[], ["--warm"]], ids=["fresh", "warm"])
def test_a_kernel_that_dies_while_starting_is_started_once_more(tmp_path, warm):
    """Two kernels starting at once can be given the same port, and one dies before it
    answers: the notebook is not lost to that, its kernel is started again and kernels.log
    says so."""
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = tmp_path / "dies_once.py"
    launcher.write_text(
        "import os, pathlib, runpy, sys\n"
        "marker = pathlib.Path(os.environ['STUDYLIB_TEST_MARKERS']) / 'kernel-died'\n"
        "if not marker.exists():\n"
        "    marker.touch()\n"
        "    sys.exit('zmq.error.ZMQError: Address already in use (as two kernels get)')\n"
        "sys.argv = ['ipykernel_launcher', *sys.argv[1:]]\n"
        "runpy.run_module('ipykernel_launcher', run_name='__main__')\n"
    )
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(launcher), "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    jupyter_path = os.pathsep.join(
        p for p in (str(tmp_path / "jupyter"), os.environ.get("JUPYTER_PATH")) if p
    )
    env = {"STUDYLIB_TEST_MARKERS": str(markers), "JUPYTER_PATH": jupyter_path}
    out = tmp_path / "outputs"
    arguments = ["--data", str(copy_trial(tmp_path)), "--out", str(out), "--workers", "1"]
    arguments += ["--patients", "T001", "--notebooks", PROBES[0], *warm]
    with batch_process(arguments, tmp_path, env=env) as batch:
        assert batch.wait(timeout=KERNEL_START_S * 2) == 0, batch.stdout + batch.stderr
        assert not batch.leftovers()
    assert (markers / "kernel-died").exists()
    assert read_entries(run_folder(out))[("T001", "probe_screening")]["status"] == "ok"
    log = (run_folder(out) / "kernels.log").read_text()
    assert "Address already in use" in log
    assert "died while starting (kernels.log above says why); starting it once more" in log
