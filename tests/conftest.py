"""Shared fixtures: the bundled cohort, a tiny hand-written trial folder, external references."""

from __future__ import annotations

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
