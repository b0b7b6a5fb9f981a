"""The synthetic cohort's vitals, labs and adverse events explain its dosing, at any size."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from studylib.data import load_cohort
from studylib.safety import adverse_event_tables, judge_slots
from studylib.synth import generate, write_cohort
from studylib.synth.safety import PUBLISHED_GRADE3

REPO = Path(__file__).resolve().parents[1]


def _judged(folder):
    cohort = load_cohort(folder)
    return cohort, judge_slots(
        cohort.dosing, cohort.vitals, cohort.labs, cohort.screening, protocol=cohort.protocol
    )


@pytest.mark.parametrize(("patients", "seed"), [(8, 3), (150, 11)])
def test_any_size_is_explained_by_the_criteria(tmp_path, patients, seed):
    write_cohort(tmp_path / "c", patients=patients, seed=seed)
    _, slots = _judged(tmp_path / "c")
    assert slots.loc[slots["assessed"], "agrees"].all()
    assert (slots.loc[~slots["assessed"], "recorded"] == "stopped").all()


def test_the_variant_protocol_is_followed(tmp_path, variant_protocol):
    """Under another protocol the records meet that protocol's criteria (its ids, bounds and
    two relative criteria to stop)."""
    write_cohort(tmp_path / "v", patients=30, seed=2, protocol=variant_protocol)
    cohort, slots = _judged(tmp_path / "v")
    assert cohort.protocol == variant_protocol
    assert slots.loc[slots["assessed"], "agrees"].all()
    met = set(", ".join(slots["criteria_met"]).replace(" ", "").split(",")) - {""}
    assert met and all(c.startswith("V-") for c in met)


def test_same_seed_same_records():
    first, second = generate(20, seed=4), generate(20, seed=4)
    for name in ("vitals", "labs", "adverse_events", "dosing"):
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    other = generate(20, seed=5)
    assert not other.tables["vitals"].equals(first.tables["vitals"])


def test_a_protocol_without_safety_writes_no_safety_files(tmp_path):
    """The criteria are data: without [safety] nothing claims to explain the holds."""
    text = (REPO / "studylib" / "protocol.toml").read_text(encoding="utf-8")
    path = tmp_path / "protocol.toml"
    path.write_text(text[: text.index("\n[safety]")], encoding="utf-8")
    from studylib.protocol import load_protocol

    cohort = generate(12, seed=1, protocol=load_protocol(path))
    assert {"vitals", "labs", "adverse_events"}.isdisjoint(cohort.tables)
    reasons = set(cohort.tables["dosing"]["hold_reason"]) - {""}
    assert reasons <= {"dose held for toxicity"} | {
        r
        for r in reasons
        if r.startswith("cycle stopped after dose slot") and r.endswith("toxicity")
    }


def test_bundled_grade3_rates_are_in_the_published_range(data_dir):
    """Grade 3-4 hypotension and bilirubin in the published ranges for high-dose IL-2."""
    cohort = load_cohort(data_dir)
    tables = adverse_event_tables(
        cohort.adverse_events,
        cohort.dosing,
        cohort.randomization,
        cohort.followup,
        protocol=cohort.protocol,
    )
    treated = tables.at_risk["at_risk"].sum()
    grade3 = tables.grade3.groupby("term")["affected"].sum()
    for term, (low, high) in PUBLISHED_GRADE3.items():
        assert low <= 100 * grade3[term] / treated <= high, term
