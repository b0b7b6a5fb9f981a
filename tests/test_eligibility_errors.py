"""Values that cannot be read are errors naming the field and the value, never verdicts."""

from __future__ import annotations

import pandas as pd
import pytest
from eligibility_records import eligible

from studylib.eligibility import propose_sbrt_sites, screen, screen_cohort
from studylib.errors import DataError


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("ecog", 7, "whole number from 0 to 4"),
        ("ecog", "1.5", "whole number from 0 to 4"),
        ("ecog", -1, "whole number from 0 to 4"),
        ("wbc", "-2.9 x10^9/L", "negative"),
        ("wbc", "3 g/dL", "expected a quantity in units of x10^9/L"),
        ("wbc", "2900 x10^9/L", "beyond any possible value"),
        ("wbc", 2.9, "the unit is missing"),
        ("hgb", "9", "the unit is missing"),
        ("hgb", "9 blorps", "unknown unit"),
        ("creatinine", "1.2 mg", "expected a quantity"),
        ("ast", "30 mg/dL", "expected a quantity in units of U/L"),
        ("ast_uln", "0 U/L", "above zero"),
        ("pft_dlco_pct", 300, "from 0 to 250"),
        ("pft_fev1_pct", "eighty", "percent of predicted"),
        ("chronic_steroids", "maybe", "yes or no"),
        ("sex", "X", "one of F, M"),
        ("brain_mets", "some", "one of none"),
        ("pregnancy_test", "unclear", "one of negative"),
        ("screening_date", "04/03/2024", "ISO 8601 date"),
        ("pregnancy_test_at", "2024-03-16", "date and time"),
        ("birth_date", "2030-01-01", "before the screening date"),
        ("birth_date", "1890-01-01", "less than 120 years"),
    ],
)
def test_unreadable_value_raises_naming_field_and_value(field, value, says):
    """An impossible or unreadable value raises a ValueError naming the field and value."""
    with pytest.raises(ValueError) as caught:
        screen(eligible(**{field: value}))
    error = caught.value
    assert isinstance(error, DataError)
    [problem] = error.problems
    assert problem.file == "screening record"
    assert problem.column == field
    assert str(value) in str(problem.value)
    assert says in problem.expected
    assert problem.patient_id == "X01"
    assert f"'{field}'" in str(error)


def test_all_problems_of_a_record_come_in_one_error():
    """Every unreadable value of a record is reported at once, in field order."""
    with pytest.raises(DataError) as caught:
        screen(eligible(ecog=7, wbc="-1 /uL", chronic_steroids="perhaps", hgb="9"))
    assert [p.column for p in caught.value.problems] == ["ecog", "chronic_steroids", "wbc", "hgb"]
    assert str(caught.value).startswith("4 problems in the screening record of X01")


def test_times_with_and_without_time_zone_cannot_be_compared():
    """A pregnancy test time with a zone and a planned start without one is an error."""
    with pytest.raises(DataError) as caught:
        screen(eligible(pregnancy_test_at="2024-03-16T09:00+01:00"))
    [problem] = caught.value.problems
    assert problem.column == "pregnancy_test_at"
    assert problem.value == "2024-03-16T09:00+01:00"
    assert "both with a time zone, or both without" in problem.expected


def test_unreadable_focus_size_is_an_error():
    """A focus diameter with a wrong unit is an error naming the focus."""
    sites = [{"site": "lung", "longest_diameter": "2 kg"}]
    with pytest.raises(DataError) as caught:
        screen(eligible(sbrt_sites=sites))
    [problem] = caught.value.problems
    assert problem.column == "sbrt_sites S1: longest_diameter"
    assert problem.value == "2 kg"


def test_foci_that_are_not_a_list_are_an_error():
    """sbrt_sites must be a list of foci, not free text."""
    with pytest.raises(DataError, match="sbrt_sites"):
        screen(eligible(sbrt_sites="lung 2 cm"))


def test_cohort_errors_name_every_patient():
    """Screening a cohort collects the problems of every patient into one error."""
    frame = pd.DataFrame(
        [
            eligible(patient_id="P1", ecog=9),
            eligible(patient_id="P2"),
            eligible(patient_id="P3", wbc="3 kg"),
        ]
    )
    with pytest.raises(DataError) as caught:
        screen_cohort(frame)
    assert [(p.patient_id, p.column) for p in caught.value.problems] == [
        ("P1", "ecog"),
        ("P3", "wbc"),
    ]
    message = str(caught.value)
    assert "screening record of P1, column 'ecog': 9" in message
    assert "screening record of P3, column 'wbc': '3 kg'" in message


def test_cohort_needs_unique_patient_ids():
    """A cohort with a repeated or empty patient id is an error."""
    frame = pd.DataFrame(
        [eligible(patient_id="P1"), eligible(patient_id="P1"), eligible(patient_id="")]
    )
    with pytest.raises(DataError) as caught:
        screen_cohort(frame)
    assert [p.expected for p in caught.value.problems] == ["each patient once", "a patient id"]


def test_foci_of_unknown_patients_are_an_error():
    """A focus for a patient who is not among the screening records is an error."""
    frame = pd.DataFrame([eligible(patient_id="P1", sbrt_sites=None)])
    foci = pd.DataFrame([{"patient_id": "P9", "site": "lung", "longest_diameter": "2 cm"}])
    with pytest.raises(DataError, match="P9"):
        screen_cohort(frame, sbrt_sites=foci)


def test_propose_sbrt_sites_rejects_unreadable_sizes():
    """propose_sbrt_sites raises on a focus size it cannot read."""
    foci = pd.DataFrame([{"patient_id": "A", "site": "lung", "longest_diameter": "big"}])
    with pytest.raises(DataError, match="longest_diameter"):
        propose_sbrt_sites(foci)


@pytest.mark.parametrize("record", [None, "P001", 42, ["hgb", "9 g/dL"]])
def test_screen_of_something_that_is_not_a_record_is_a_data_error(record):
    """screen(None) says what a record is, instead of an AttributeError."""
    with pytest.raises(DataError, match=r"a screening record \(a dict of its fields"):
        screen(record)


@pytest.mark.parametrize(("key", "meant"), [("hbg", "hgb"), ("Creatinin", "creatinine")])
def test_a_misspelt_field_is_named_not_ignored(key, meant):
    """'hbg' would leave haemoglobin missing without a word: it is an error naming 'hgb'."""
    record = eligible()
    record[key] = record.pop(meant)
    with pytest.raises(DataError) as error:
        screen(record)
    [problem] = error.value.problems
    assert problem.column == key and f"did you mean {meant!r}?" in problem.expected


def test_a_sites_own_keys_are_kept_unjudged():
    """A key that is no near-miss of a field (a site's notes) is allowed."""
    record = eligible()
    record["notes"] = "seen by Dr X"
    assert screen(record).status == screen(eligible()).status
