"""One batch under a trial folder's own protocol: every notebook follows the folder's file."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import VARIANT_PROTOCOL

from studylib.batch.runner import run_batch
from studylib.protocol import load_protocol
from studylib.synth import write_cohort


@pytest.fixture(scope="module")
def variant_run(tmp_path_factory):
    """A small synthetic cohort under the variant protocol, run through every notebook."""
    tmp = tmp_path_factory.mktemp("variant-batch")
    write_cohort(tmp / "trial", 6, seed=5, protocol=load_protocol(VARIANT_PROTOCOL))
    report = run_batch(tmp / "trial", out=tmp / "outputs", workers=2, warm=True, progress=False)
    return report


def _outputs(path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join(
        "".join(o.get("text", ""))
        + "".join(o.get("data", {}).get("text/markdown", ""))
        # reports show tables and sentences as HTML with a plain-text twin (studylib.tables)
        + "".join(o.get("data", {}).get("text/plain", ""))
        for c in cells
        for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_every_notebook_runs_under_the_folders_protocol(variant_run):
    """Every notebook of every patient ends ok, and the cohort table has the file's arms."""
    assert variant_run.exit_code == 0
    assert {e["status"] for e in variant_run.entries.values()} == {"ok"}
    table = pd.read_csv(variant_run.cohort_table)
    assert set(table["02_scheduling.arm"].dropna()) <= {"C", "R"}
    failed = table["01_screening.failed_criteria"].dropna().str.cat()
    assert "EXCL" not in failed and "INCL" not in failed


@pytest.mark.slow
def test_notebooks_say_which_protocol_and_follow_its_numbers(variant_run):
    """Screening names the variant trial; scheduling plans Tuesday starts and 12-hour doses;
    the response notebook applies the variant's 56-day SD minimum."""
    run = variant_run.run_dir
    screening = _outputs(run / "P001" / "01_screening.ipynb")
    assert "NCT00000000" in screening
    scheduling = _outputs(run / "P001" / "02_scheduling.ipynb")
    assert "starts on a Tuesday; 720,000 IU/kg" in scheduling
    assert "every 12 h" in scheduling
    table = pd.read_csv(variant_run.cohort_table).set_index("patient_id")
    reasons = table.filter(like="03_response").astype(str).stack().str.cat(sep=" ")
    assert "56-day SD minimum" in reasons
