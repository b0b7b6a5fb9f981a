"""The bundled synthetic cohort screens as it was recorded: failures fail for their reason."""

from __future__ import annotations

import re

import pytest

from studylib.data import load_cohort
from studylib.eligibility import screen, screen_cohort, screen_patient, screening_log

RECORDED_CRITERION = re.compile(r"^((?:INCL|EXCL)\d{2})\b")
# No site amenable to SBRT (EXCL01) also leaves no focus to treat (INCL03).
IMPLIED = {"EXCL01": {"INCL03"}}


def fails_for(criterion: str, failed: list[str] | None) -> bool:
    """The recorded criterion fails, and nothing else but what it implies."""
    failed = set(failed or [])
    return criterion in failed and failed <= {criterion} | IMPLIED.get(criterion, set())


@pytest.fixture(scope="module")
def cohort(data_dir):
    if not (data_dir / "screening.csv").is_file():
        pytest.skip(f"the bundled cohort is not in {data_dir} (run `studylib synth` first)")
    return load_cohort(data_dir)


@pytest.fixture(scope="module")
def results(cohort):
    return screen_cohort(cohort.screening, sbrt_sites=cohort.sbrt_sites)


def recorded(cohort, outcome: str):
    screening = cohort.screening
    return screening[screening["screening_outcome"] == outcome]


def test_every_screened_patient_gets_every_criterion(cohort, results):
    """The whole cohort is screened: 19 criteria for each screened patient."""
    assert len(results) == 19 * len(cohort.screening)
    assert results["patient_id"].unique().tolist() == cohort.patient_ids


def test_screen_failures_fail_for_their_recorded_criterion(cohort, results):
    """Each screen failure fails the criterion its outcome_reason names, and no other."""
    failures = recorded(cohort, "screen_failure")
    assert len(failures) > 0
    failed = results[results["status"] == "fail"].groupby("patient_id")["id"].agg(list)
    for pid, reason in zip(failures["patient_id"], failures["outcome_reason"], strict=True):
        criterion = RECORDED_CRITERION.match(reason).group(1)
        assert fails_for(criterion, failed.get(pid)), f"{pid}: recorded {reason!r}"


def test_enrolled_patients_are_eligible(cohort, results):
    """Every enrolled patient meets every criterion."""
    enrolled = set(recorded(cohort, "enrolled")["patient_id"])
    overall = results.groupby("patient_id")["overall_status"].first()
    assert overall[sorted(enrolled)].eq("eligible").all()


def test_exclusions_after_consent_fail_only_when_a_criterion_is_named(cohort, results):
    """Excluded after consent: a named criterion fails; other reasons (progression,
    insurance) are not eligibility criteria, so screening finds them eligible."""
    excluded = recorded(cohort, "excluded_after_consent")
    overall = results.groupby("patient_id")["overall_status"].first()
    failed = results[results["status"] == "fail"].groupby("patient_id")["id"].agg(list)
    for pid, reason in zip(excluded["patient_id"], excluded["outcome_reason"], strict=True):
        named = RECORDED_CRITERION.match(reason or "")
        if named:
            assert fails_for(named.group(1), failed.get(pid)), f"{pid}: recorded {reason!r}"
        else:
            assert overall[pid] == "eligible", f"{pid}: recorded {reason!r}"


def test_screening_log_matches_the_recorded_flow(cohort, results):
    """The log counts every screened patient, and every screen failure is ineligible."""
    log = screening_log(results)
    assert log.screened == len(cohort.screening)
    failures = len(recorded(cohort, "screen_failure"))
    assert int(log.reasons["patients"].sum()) >= failures
    assert log.eligible >= len(recorded(cohort, "enrolled"))


def test_a_loaded_row_screens_like_the_cohort(cohort, results):
    """screen() on a loaded row (nullable booleans, Timestamps) agrees with screen_cohort."""
    for pid in cohort.patient_ids[:5]:
        row = cohort.screening.set_index("patient_id").loc[pid]
        foci = cohort.sbrt_sites[cohort.sbrt_sites["patient_id"] == pid]
        record = {**row.to_dict(), "patient_id": pid, "sbrt_sites": foci.to_dict("records")}
        single = screen(record).to_frame()
        expected = results[results["patient_id"] == pid]
        assert single["status"].tolist() == expected["status"].tolist()
        assert single["reason"].tolist() == expected["reason"].tolist()


def test_screen_patient_of_a_loaded_cohort(cohort, results):
    """screen_patient screens a patient of a loaded cohort; unknown ids are a KeyError."""
    result = screen_patient(cohort, "P001")
    assert result.patient_id == "P001"
    expected = results.loc[results["patient_id"] == "P001", "overall_status"].iloc[0]
    assert result.status == expected
    with pytest.raises(KeyError, match="P999"):
        screen_patient(cohort, "P999")
