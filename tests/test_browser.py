"""The protocol tour served by Voilà, used in a real headless Chromium driven by Playwright.

One Voilà server and one page load for the whole module (each page view starts a kernel that
runs the whole tour). Screenshots go to tests/artifacts/ (not committed). Chromium is Debian's
package, launched by path; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
TOUR = "notebooks/00_protocol_tour.ipynb"
# docs/research/platform.md §5: the flags that run Debian's Chromium headless as root in a
# container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_S = 60
# The kernel runs the whole tour before the last widget appears (about 8 s on these machines).
RENDER_MS = 120_000
UPDATE_MS = 20_000

if not CHROMIUM.exists():
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install chromium)"
        " to run the browser test; CI (.ci/run) installs it",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    """Wait until the server accepts connections (not loading the page: that starts a kernel)."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Voilà exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"Voilà did not listen on port {port} in {SERVER_START_S} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="module")
def tour_url() -> Iterator[str]:
    """The tour served as `make teach` serves it (code hidden), on a free local port."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    voila = Path(sys.executable).with_name("voila")
    env = {
        **os.environ,
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
        "MPLBACKEND": "Agg",
    }
    log = ARTIFACTS / "voila.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(voila),
                TOUR,
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                f"--port={port}",
                "--strip_sources=True",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_listening(port, process, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def page(tour_url: str):
    """The tour page in headless Chromium, once every panel has rendered."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            # Tall enough that each panel fits: element screenshots of taller ones come out blank.
            tab = browser.new_page(viewport={"width": 1400, "height": 1700})
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.goto(tour_url)
            for selector in (".studylib-verdict", ".studylib-calendar", ".studylib-recist-summary"):
                tab.wait_for_selector(selector, timeout=RENDER_MS)
            tab.errors = errors
            yield tab
        finally:
            browser.close()


def test_tour_renders_without_code(page):
    """The app shows the design, the panels and the self-checks, and no Python source."""
    expect = sync_api.expect
    expect(page.locator("h1").first).to_contain_text("A tour of the protocol")
    expect(page.locator(".studylib-selfcheck")).to_have_count(4)
    assert page.locator(".jp-InputArea-editor").count() == 0
    text = page.locator("body").inner_text()
    assert "ScreeningForm(" not in text and "import" not in text
    page.screenshot(path=ARTIFACTS / "tour_top.png")


def test_wbc_change_makes_candidate_ineligible(page):
    """WBC 4.1 -> 2.5 x10^9/L in the form: the verdict on the page turns Ineligible (EXCL08)."""
    expect = sync_api.expect
    verdict = page.locator(".studylib-verdict")
    expect(verdict).to_contain_text("Eligible")
    expect(verdict).not_to_contain_text("Ineligible")
    wbc = page.locator(".studylib-lab-wbc input")
    assert wbc.input_value() == "4.1"
    assert page.locator(".studylib-unit-wbc input").input_value() == "x10^9/L"
    wbc.fill("2.5")
    expect(verdict).to_contain_text("Ineligible", timeout=UPDATE_MS)
    expect(verdict).to_contain_text("EXCL08")
    expect(verdict).to_contain_text("WBC 2.5 x10^9/L is below 3.0 x10^9/L")
    expect(page.locator(".studylib-criteria tr.row-EXCL08")).to_contain_text("fail")
    page.locator(".studylib-screening").screenshot(path=ARTIFACTS / "tour_screening.png")


def test_follow_up_diameter_makes_progression(page):
    """Lesion T1 at week 21 from 19 to 30 mm: the calculator shows PD at week 21."""
    expect = sync_api.expect
    summary = page.locator(".studylib-recist-summary")
    expect(summary).to_contain_text("week 21: PR")
    cell = page.locator(".studylib-d-t1-week-21 input")
    assert cell.input_value() == "19"
    cell.fill("30")
    expect(summary).to_contain_text("week 21: PD", timeout=UPDATE_MS)
    expect(page.locator(".studylib-recist-table tr.row-week-21")).to_contain_text("PD")
    page.locator(".studylib-recist").screenshot(path=ARTIFACTS / "tour_recist.png")


def test_schedule_marks_the_weekday_rules(page):
    """The calendar outlines the first IL-2 dose's Monday and the last fraction's Friday."""
    expect = sync_api.expect
    calendar = page.locator(".studylib-calendar")
    expect(calendar).to_contain_text("Monday rule: cycle 1 starts (Monday)")
    expect(calendar).to_contain_text("Friday rule: last SBRT fraction (Friday)")
    page.locator(".studylib-schedule").screenshot(path=ARTIFACTS / "tour_schedule.png")


def test_self_check_reveals_answer_and_rule(page):
    """A screening question's answer is hidden until asked; the button shows the engine's
    answer and the criterion's quoted rule, and hides them again."""
    expect = sync_api.expect
    check = page.locator(".studylib-selfcheck").nth(1)
    expect(check).to_contain_text("Check yourself: screening")
    answer = check.locator(".studylib-answer").first
    expect(answer).to_have_text("")
    button = check.locator(".studylib-reveal").first
    button.click()
    expect(answer).to_contain_text("Answer: EXCL08 White blood cells: fail.", timeout=UPDATE_MS)
    expect(answer).to_contain_text("reported as 2,900/µL")
    expect(answer).to_contain_text("Rule: “WBC < 3.0")
    check.screenshot(path=ARTIFACTS / "tour_selfcheck.png")
    expect(button).to_contain_text("Hide answer")
    button.click()
    expect(answer).to_have_text("", timeout=UPDATE_MS)


def test_no_script_errors(page):
    """No uncaught JavaScript error on the page (network errors for CDN fonts are not these)."""
    assert page.errors == []
