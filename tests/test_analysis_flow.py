"""CONSORT participant flow counted from screening and randomisation frames."""

from __future__ import annotations

import pandas as pd
import pytest

from studylib.analysis.flow import NO_REASON, participant_flow
from studylib.errors import DataError


def _screening(rows):
    return pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "consent_signed": pd.array([r[1] for r in rows], dtype="boolean"),
            "screening_outcome": [r[2] for r in rows],
            "outcome_reason": pd.array([r[3] for r in rows], dtype="string"),
        }
    )


def _randomization(rows):
    return pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "arm": [r[1] for r in rows],
            "crossover": pd.array([r[2] for r in rows], dtype="boolean"),
        }
    )


SCREENING = _screening(
    [
        ("P01", True, "enrolled", None),
        ("P02", False, "screen_failure", "INCL04: ECOG 2"),
        ("P03", True, "excluded_after_consent", "rapid melanoma progression"),
        ("P04", True, "enrolled", None),
        ("P05", None, "screen_failure", "INCL04: ECOG 2"),
        ("P06", True, "excluded_after_consent", "cardiac ischemia on exercise testing"),
        ("P07", True, "excluded_after_consent", "rapid melanoma progression"),
        ("P08", True, "enrolled", ""),
        ("P09", False, "screen_failure", None),
    ]
)
RANDOMIZATION = _randomization([("P01", "B", False), ("P04", "A", True), ("P08", "A", False)])


def test_boxes_are_counted_from_consent_and_randomisation():
    """9 screened, 6 consented, 3 excluded after consent, 3 randomised (1 B, 2 A, 1 crossover)."""
    flow = participant_flow(SCREENING, RANDOMIZATION)
    assert flow.counts == {
        "screened": 9,
        "not_consented": 3,
        "consented": 6,
        "excluded": 3,
        "randomized": 3,
        "arm_A": 2,
        "arm_B": 1,
        "crossover": 1,
        "analysed_A": 2,
        "analysed_B": 1,
    }


def test_boxes_add_up():
    """Screened = consented + not consented; consented = excluded + randomised = A + B."""
    c = participant_flow(SCREENING, RANDOMIZATION).counts
    assert c["screened"] == c["consented"] + c["not_consented"]
    assert (
        c["consented"] == c["excluded"] + c["randomized"] == c["excluded"] + c["arm_A"] + c["arm_B"]
    )


def test_reasons_are_grouped_most_frequent_first():
    """Exclusion reasons are counted per stage; a missing reason is shown as not recorded."""
    reasons = participant_flow(SCREENING, RANDOMIZATION).reasons
    excluded = reasons[reasons["stage"] == "excluded"]
    assert excluded[["reason", "n"]].values.tolist() == [
        ["rapid melanoma progression", 2],
        ["cardiac ischemia on exercise testing", 1],
    ]
    not_consented = reasons[reasons["stage"] == "not_consented"]
    assert dict(zip(not_consented["reason"], not_consented["n"], strict=True)) == {
        "INCL04: ECOG 2": 2,
        NO_REASON: 1,
    }


def test_analysed_counts_come_from_the_analysis_when_given():
    """The analysed boxes show the primary endpoint's n per arm."""
    flow = participant_flow(SCREENING, RANDOMIZATION, analysed={"A": 1, "B": 1})
    assert (flow.counts["analysed_A"], flow.counts["analysed_B"]) == (1, 1)


def test_table_lists_every_box_with_reasons():
    """The table has one row per box; the exclusion row lists its reasons with counts."""
    table = participant_flow(SCREENING, RANDOMIZATION).table()
    assert len(table) == 10
    row = table[table["stage"] == "Excluded after consent"].iloc[0]
    assert row["n"] == 3
    assert row["detail"] == (
        "rapid melanoma progression (2); cardiac ischemia on exercise testing (1)"
    )


def test_inconsistent_flow_is_reported_all_at_once():
    """Randomised without consent, unknown patient and crossover in arm B are all named."""
    screening = SCREENING.copy()
    screening.loc[0, "consent_signed"] = False
    randomization = _randomization(
        [("P01", "B", True), ("P04", "A", True), ("P08", "A", False), ("P99", "A", False)]
    )
    with pytest.raises(DataError) as error:
        participant_flow(screening, randomization)
    problems = {(p.column, p.patient_id) for p in error.value.problems}
    assert problems == {
        ("consent_signed", "P01"),
        ("patient_id", "P99"),
        ("crossover", "P01"),
    }
