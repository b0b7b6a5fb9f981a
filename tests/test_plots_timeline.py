"""The patient timeline draws the plan, the doses given and held, and the scans."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from studylib.plots.timeline import treatment_timeline
from studylib.schedule import plan_crossover, plan_treatment


def _plan():
    first = plan_treatment("A", 5, "2024-03-04", "72 kg", patient_id="P004")
    return first.combined_with(plan_crossover(5, "2024-05-06", "72 kg", patient_id="P004"))


def _dosing():
    rows = []
    for number in range(1, 15):
        at = pd.Timestamp("2024-03-04 08:00") + pd.Timedelta(hours=8 * (number - 1))
        held = number > 10
        rows.append(("il2", 1, number, at, pd.NaT if held else at, "held" if held else "given"))
    rows.append(("sbrt", 3, 1, pd.Timestamp("2024-05-03"), pd.Timestamp("2024-05-03"), "given"))
    columns = ["treatment", "cycle", "number", "scheduled_at", "given_at", "status"]
    return pd.DataFrame(rows, columns=columns)


def test_lanes_for_sbrt_each_cycle_and_scans():
    """One lane per cycle, one for the SBRT before cycle 3, one for scans; a dose grid."""
    figure = treatment_timeline(_plan(), _dosing(), [pd.Timestamp("2024-04-23")])
    assert isinstance(figure, Figure)
    timeline, grid = figure.axes
    labels = [t.get_text() for t in timeline.get_yticklabels()]
    assert labels == [
        "IL-2 cycle 1",
        "IL-2 cycle 2",
        "SBRT before cycle 3",
        "IL-2 cycle 3",
        "IL-2 cycle 4",
        "Scans",
    ]
    assert timeline.get_title() == "Treatment timeline of P004"
    notes = [t.get_text() for t in grid.texts]
    assert notes == ["10 given, 4 held"]
    assert grid.get_xlabel() == "Dose slot in the cycle (every 8 h)"


def test_plan_alone_and_records_alone_are_drawn():
    """A plan without records, and records without a plan, each make a figure."""
    assert len(treatment_timeline(_plan()).axes) == 2
    labels = [t.get_text() for t in treatment_timeline(dosing=_dosing()).axes[0].get_yticklabels()]
    assert labels == ["IL-2 cycle 1", "SBRT before cycle 3", "Scans"]
