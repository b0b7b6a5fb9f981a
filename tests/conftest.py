"""Shared fixtures: the bundled cohort, a tiny hand-written trial folder, external references."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTERNAL = REPO.parent / "shared" / "external"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The bundled synthetic cohort."""
    return REPO / "data"


@pytest.fixture(scope="session")
def external_dir() -> Path:
    """Public CDISC conformance data beside the repository (skips when absent)."""
    if not EXTERNAL.is_dir():
        pytest.skip(
            f"conformance data not found at {EXTERNAL}: these tests need the shared/external "
            "folder beside the repository (present in the project's CI, absent in a user's clone)"
        )
    return EXTERNAL


VARIANT_PROTOCOL = REPO / "tests" / "fixtures" / "protocol_variant.toml"


@pytest.fixture(scope="session")
def variant_protocol():
    """A test protocol differing from the bundled one in every number, weekday, count, limit,
    arm code and criterion id the engines read (``tests/fixtures/protocol_variant.toml``)."""
    from studylib.protocol import load_protocol

    return load_protocol(VARIANT_PROTOCOL)


#: The sister trial's protocol (NCT02306954, renal cancer), shipped beside the bundled one.
RENAL_PROTOCOL = REPO / "studylib" / "protocols" / "NCT02306954.toml"


@pytest.fixture(scope="session")
def renal_protocol():
    """The sister trial's protocol: same design as the bundled one, its own criteria, sites
    and fractionation (``studylib/protocols/NCT02306954.toml``)."""
    from studylib.protocol import load_protocol

    return load_protocol(RENAL_PROTOCOL)


@pytest.fixture(scope="session", params=["bundled", "variant", "renal"])
def any_protocol(request):
    """Each protocol file an engine test should follow: the bundled one, the variant and the
    sister trial's."""
    from studylib.protocol import PROTOCOL, load_protocol

    files = {"variant": VARIANT_PROTOCOL, "renal": RENAL_PROTOCOL}
    return PROTOCOL if request.param == "bundled" else load_protocol(files[request.param])


def edit_protocol_file(source: Path, folder: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the protocol file ``source`` as ``folder/protocol.toml``, with each ``old``
    text (which must be there) replaced by its ``new``."""
    text = Path(source).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "protocol.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def edited_protocol(tmp_path: Path):
    """``edited_protocol(source, (old, new), ...)``: :func:`edit_protocol_file` into
    ``tmp_path``."""
    return lambda source, *replacements: edit_protocol_file(source, tmp_path, *replacements)


@pytest.fixture
def tiny_trial(tmp_path: Path) -> Path:
    """A hand-written, valid three-patient trial folder (synthetic) to break in tests."""
    folder = tmp_path / "trial"
    shutil.copytree(REPO / "tests" / "fixtures" / "tiny_trial", folder)
    return folder


@pytest.fixture
def bundled_copy(tmp_path: Path, data_dir: Path) -> Path:
    """A writable copy of the bundled cohort."""
    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    return target


# CI (.ci/run) sets STUDYLIB_NO_SKIPS=1: there Chromium and ../shared/external are installed,
# so a skipped test means something the suite should have checked was not checked.
_SKIPPED: list[str] = []


def _note_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        _SKIPPED.append(f"{report.nodeid}: {reason}")


def pytest_collectreport(report):
    _note_skip(report)


def pytest_runtest_logreport(report):
    _note_skip(report)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("STUDYLIB_NO_SKIPS") == "1" and _SKIPPED and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("STUDYLIB_NO_SKIPS") == "1" and _SKIPPED:
        terminalreporter.section("skipped tests fail this run (STUDYLIB_NO_SKIPS=1)")
        for line in _SKIPPED:
            terminalreporter.line(line)
