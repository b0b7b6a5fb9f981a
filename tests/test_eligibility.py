"""Screening as a whole: overall status and its priority, inputs, results, cohort, log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from eligibility_records import eligible, man

from studylib.eligibility import (
    RESULT_COLUMNS,
    screen,
    screen_cohort,
    screening_log,
)
from studylib.protocol import PROTOCOL

IDS = [f"INCL{i:02d}" for i in range(1, 7)] + [f"EXCL{i:02d}" for i in range(1, 14)]


def test_every_criterion_is_judged_in_the_registry_order_with_its_quote():
    """A result lists INCL01-INCL06 then EXCL01-EXCL13, each with the registry's words."""
    result = screen(eligible())
    assert [c.id for c in result.criteria] == IDS
    for criterion in result.criteria:
        assert criterion.quote == PROTOCOL.eligibility.criterion(criterion.id).quote
        assert criterion.kind == ("inclusion" if criterion.id.startswith("INCL") else "exclusion")


def test_eligible_patient():
    """A patient meeting every criterion is eligible and the explanation says so."""
    result = screen(eligible())
    assert result.status == "eligible"
    assert {c.status for c in result.criteria} == {"pass"}
    assert result.explanation == "Eligible: all 19 applicable criteria are met."


def test_eligible_man_with_criteria_that_do_not_apply():
    """For a man the pregnancy criteria do not apply and he is still eligible."""
    result = screen(man())
    assert result.status == "eligible"
    assert result.criterion("INCL05").status == "not_applicable"
    assert "2 do not apply" in result.explanation


def test_needs_review_when_only_a_review_is_open():
    """A PFT below predicted and nothing else open: needs_review."""
    result = screen(eligible(pft_dlco_pct=90))
    assert result.status == "needs_review"
    assert result.review == ["EXCL07"]
    assert "EXCL07 (pulmonary function) needs review" in result.explanation


def test_incomplete_outranks_review():
    """A missing value and a review: incomplete."""
    result = screen(eligible(pft_dlco_pct=90, wbc=None))
    assert result.status == "incomplete"
    assert result.missing == ["EXCL08"]
    assert "EXCL08 (white blood cells) lacks data" in result.explanation


def test_ineligible_outranks_missing_and_review():
    """A failure with a missing value and a review: ineligible, naming the failure."""
    result = screen(eligible(pft_dlco_pct=90, wbc=None, creatinine="170 umol/L"))
    assert result.status == "ineligible"
    assert result.failed == ["EXCL12"]
    assert result.explanation == "Not eligible: EXCL12 (creatinine) fails."


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, "eligible"),
        ({"pft_dlco_pct": 90}, "needs_review"),
        ({"wbc": None}, "incomplete"),
        ({"wbc": None, "pft_dlco_pct": 90}, "incomplete"),
        ({"hgb": "8.9 g/dL"}, "ineligible"),
        ({"hgb": "8.9 g/dL", "pft_dlco_pct": 90}, "ineligible"),
        ({"hgb": "8.9 g/dL", "wbc": None}, "ineligible"),
        ({"hgb": "8.9 g/dL", "wbc": None, "pft_dlco_pct": 90}, "ineligible"),
    ],
)
def test_overall_status_priority_fail_then_missing_then_review(changes, status):
    """Every mix of fail, missing and review: fail wins, then missing, then review."""
    said = {
        "eligible": "Eligible",
        "needs_review": "Needs review",
        "incomplete": "Incomplete",
        "ineligible": "Not eligible",
    }
    result = screen(eligible(**changes))
    assert result.status == status
    assert result.explanation.split(":")[0] == said[status]


def test_every_open_item_says_what_resolves_it():
    """Each missing or review criterion, of an empty record and of one with reviews, says
    what to record or who decides."""
    for record in (
        {"patient_id": "X09"},
        {"patient_id": "X09", "sex": "F"},
        eligible(pregnancy_test_at="2024-03-10T08:00", pft_dlco_pct=80),
        eligible(pft_dlco_pct=60, pulmonary_disease_significant=None),
    ):
        to_do = screen(record).to_do()
        assert len(to_do) > 0
        assert to_do["resolve"].str.len().gt(20).all(), to_do


def test_an_empty_record_is_incomplete_and_never_passes():
    """With no data at all, no criterion passes and the patient is incomplete."""
    result = screen({"patient_id": "X09"})
    assert result.status == "incomplete"
    assert {c.status for c in result.criteria} == {"missing"}


@pytest.mark.parametrize(
    ("yes", "no"),
    [
        ("Y", "N"),
        ("yes", "no"),
        ("Yes", "No"),
        ("true", "false"),
        ("TRUE", "FALSE"),
        ("1", "0"),
        (1, 0),
        (True, False),
        (np.True_, np.False_),
        (pd.array([True], dtype="boolean")[0], pd.array([False], dtype="boolean")[0]),
    ],
)
def test_yes_no_spellings(yes, no):
    """Y/N, yes/no, true/false, 1/0, Python, numpy and pandas booleans all read the same."""
    result = screen(eligible(chronic_steroids=yes, consent_signed=no))
    assert result.criterion("EXCL13").status == "fail"
    assert result.criterion("INCL06").status == "fail"


@pytest.mark.parametrize("empty", [None, "", "  ", np.nan, pd.NA, pd.NaT])
def test_every_kind_of_empty_is_missing(empty):
    """None, empty text, NaN, pd.NA and NaT are missing values, not errors or passes."""
    result = screen(eligible(chronic_steroids=empty, wbc=empty, ecog=empty))
    for criterion in ("EXCL13", "EXCL08", "INCL04"):
        assert result.criterion(criterion).status == "missing"


def test_a_pandas_row_screens_like_a_dict():
    """A row of a screening table gives the same verdicts as the dict it came from."""
    record = eligible(wbc="2,900/µL", pft_dlco_pct=90)
    row = pd.DataFrame([record]).iloc[0]
    assert screen(row).to_frame().equals(screen(record).to_frame())


def test_to_frame_and_to_do():
    """to_frame has one row per criterion; to_do lists what resolves each open item."""
    result = screen(eligible(pft_dlco_pct=90, wbc=None))
    frame = result.to_frame()
    assert list(frame.columns) == ["id", "kind", "label", "status", "reason", "resolve", "quote"]
    assert len(frame) == 19
    todo = result.to_do()
    assert todo["id"].tolist() == ["EXCL07", "EXCL08"]
    assert todo["resolve"].str.len().gt(0).all()


def test_data_shows_each_field_as_entered_and_as_compared():
    """The record table shows what was entered and what the criteria compared, with units."""
    data = screen(eligible(wbc="2,900/µL", chronic_steroids=True, ecog=None)).data
    rows = data.set_index("field")
    assert rows.loc["wbc", ["entered", "read_as"]].tolist() == ["2,900/µL", "2.9 x10^9/L"]
    assert rows.loc["chronic_steroids", ["entered", "read_as"]].tolist() == ["yes", "yes"]
    assert rows.loc["ecog", ["entered", "read_as"]].tolist() == ["", "missing"]
    assert rows.loc["pft_dlco_pct", "read_as"] == "101% of predicted"
    assert rows.loc["wbc", "meaning"] == "White blood cell count"


def cohort_frames():
    records = [
        eligible(patient_id="P1"),
        eligible(patient_id="P2", hgb="85 g/L", pft_fev1_pct=90),
        man(patient_id="P3", ecog=None),
        eligible(patient_id="P4", pft_dlco_pct=90),
    ]
    foci = pd.DataFrame(
        [{"patient_id": r["patient_id"], **site} for r in records for site in r.pop("sbrt_sites")]
    )
    return pd.DataFrame(records), foci


def test_screen_cohort_one_row_per_patient_and_criterion():
    """screen_cohort returns every criterion of every patient with their overall status."""
    frame, foci = cohort_frames()
    results = screen_cohort(frame, sbrt_sites=foci)
    assert list(results.columns) == RESULT_COLUMNS
    assert len(results) == 4 * 19
    assert results["patient_id"].unique().tolist() == ["P1", "P2", "P3", "P4"]
    overall = results.groupby("patient_id", sort=False)["overall_status"].first()
    assert overall.tolist() == ["eligible", "ineligible", "incomplete", "needs_review"]


def test_screen_cohort_agrees_with_screen_for_each_patient():
    """The cohort engine and the single-record screen give the same verdicts and reasons."""
    frame, foci = cohort_frames()
    results = screen_cohort(frame, sbrt_sites=foci)
    for pid, group in results.groupby("patient_id", sort=False):
        record = frame[frame["patient_id"] == pid].iloc[0].to_dict()
        sites = foci[foci["patient_id"] == pid].drop(columns="patient_id")
        single = screen({**record, "sbrt_sites": sites.to_dict("records")}).to_frame()
        assert group["status"].tolist() == single["status"].tolist()
        assert group["reason"].tolist() == single["reason"].tolist()


def test_screen_cohort_accepts_foci_lists_in_the_frame():
    """Without a foci table, a column of foci lists in the frame is used."""
    frame = pd.DataFrame([eligible(patient_id="P1"), eligible(patient_id="P2", sbrt_sites=None)])
    results = screen_cohort(frame).set_index(["patient_id", "id"])
    assert results.loc[("P1", "INCL03"), "status"] == "pass"
    assert results.loc[("P2", "INCL03"), "status"] == "missing"


def test_patient_without_foci_rows_is_missing_for_sbrt_criteria():
    """A patient with no row in the foci table has INCL03 and EXCL01 missing."""
    frame, foci = cohort_frames()
    results = screen_cohort(frame, sbrt_sites=foci[foci["patient_id"] != "P1"])
    p1 = results[results["patient_id"] == "P1"].set_index("id")
    assert p1.loc[["INCL03", "EXCL01"], "status"].tolist() == ["missing", "missing"]


def test_screening_log_counts_and_reasons():
    """The log counts screened and eligible patients and the reasons for failure."""
    frame, foci = cohort_frames()
    log = screening_log(screen_cohort(frame, sbrt_sites=foci))
    assert log.screened == 4 and log.eligible == 1
    assert dict(zip(log.summary["outcome"], log.summary["patients"], strict=True)) == {
        "screened": 4,
        "eligible": 1,
        "needs_review": 1,
        "incomplete": 1,
        "ineligible": 1,
    }
    assert log.reasons[["id", "patients", "patient_ids"]].values.tolist() == [["EXCL09", 1, "P2"]]
    assert log.patients.set_index("patient_id").loc["P2", "failed"] == "EXCL09"
    assert log.open_items[["id", "status", "patient_ids"]].values.tolist() == [
        ["INCL04", "missing", "P3"],
        ["EXCL07", "review", "P2, P4"],
    ]
    assert str(log) == "4 screened: 1 eligible, 1 needs review, 1 incomplete, 1 ineligible."
