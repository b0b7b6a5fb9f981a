"""The protocol tour teaches the protocol file it is given: its trial, arms, ids and numbers."""

from __future__ import annotations

import json

import papermill
import pytest
from conftest import REPO, VARIANT_PROTOCOL


@pytest.fixture(scope="module")
def variant_tour(tmp_path_factory) -> str:
    """The tour executed (as papermill runs it, without widgets) on the variant protocol."""
    out = tmp_path_factory.mktemp("tour") / "tour.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "00_protocol_tour.ipynb"),
        str(out),
        parameters={"interactive": False, "protocol_file": str(VARIANT_PROTOCOL)},
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    cells = json.loads(out.read_text())["cells"]
    return "\n".join(
        "".join(output.get("data", {}).get("text/markdown", ""))
        + "".join(output.get("data", {}).get("text/html", ""))
        + "".join(output.get("text", ""))
        for cell in cells
        for output in cell.get("outputs", [])
    )


def test_tour_names_the_trial_and_arms_of_its_protocol(variant_tour):
    assert "NCT00000000: TEST VARIANT" in variant_tour
    assert "**arm C** (IL-2 alone (control)) and **arm R** (Radiation then IL-2)" in variant_tour
    assert "NCT01416831" not in variant_tour


def test_tour_teaches_the_numbers_and_ids_of_its_protocol(variant_tour):
    assert "IL-2 starts on a Tuesday" in variant_tour
    assert "names EX-8 with the values compared" in variant_tour
    assert "every 12 h, at most 9 doses per cycle and 25 over 3 cycles" in variant_tour
    assert "EXCL08" not in variant_tour
