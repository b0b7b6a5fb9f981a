"""Serving the tour to a class (`make teach`): kernels culled when idle, and a bounded number.

The behaviour test serves a one-cell notebook (not the tour: each page view runs the whole
notebook) with the kernel manager `make teach` uses, at a limit of one kernel.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE_S = 120  # a page view starts a kernel: slow on two cores shared by a whole team


def _teach_recipe() -> str:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return re.search(r"^teach:.*?(?=^\S|\Z)", makefile, flags=re.M | re.S).group(0)


def _variable(name: str) -> str:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return re.search(rf"^{name} \?= (\S+)$", makefile, flags=re.M).group(1)


def test_make_teach_culls_idle_kernels_within_minutes_and_bounds_them():
    """`make teach` culls a kernel after minutes of idleness, open page or not, and runs at
    most a bounded number (the README states both)."""
    recipe = _teach_recipe()
    assert "multi_kernel_manager_class=studylib.teach.BoundedKernelManager" in recipe
    assert "--MappingKernelManager.cull_connected=True" in recipe
    idle_s, most = int(_variable("TEACH_IDLE_S")), int(_variable("TEACH_MAX_KERNELS"))
    assert 60 <= idle_s <= 900 and 1 <= most <= 50
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"idle for {idle_s // 60} minutes" in readme and f"at most {most} at once" in readme


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=PAGE_S) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_at_the_limit_a_new_page_waits_for_a_kernel_to_give_way(tmp_path):
    """With one kernel allowed: a second page is refused (503, 'the tour is full') while the
    first page's kernel is recent; once it has been idle long enough, a new page takes its
    place."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell('print("hello, class")')]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("voila")),
        str(path),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--VoilaConfiguration.multi_kernel_manager_class=studylib.teach.BoundedKernelManager",
        "--BoundedKernelManager.max_kernels=1",
        "--BoundedKernelManager.unattended_after_s=5",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(tmp_path / "voila.log", "w") as log:
        server = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    started: list[psutil.Process] = []
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + PAGE_S
        while time.monotonic() < deadline and server.poll() is None:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        status, page = _get(url)
        started += psutil.Process(server.pid).children(recursive=True)
        assert status == 200 and "hello, class" in page, (tmp_path / "voila.log").read_text()
        status, page = _get(url)
        assert status == 503 and "The tour is full" in page
        time.sleep(6)  # the first page's kernel is now unattended: it gives way
        status, page = _get(url)
        started += psutil.Process(server.pid).children(recursive=True)
        assert status == 200 and "hello, class" in page
        kernels = [p for p in psutil.Process(server.pid).children() if p.is_running()]
        assert len(kernels) <= 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        for process in started:
            with contextlib.suppress(psutil.Error):
                process.kill()
