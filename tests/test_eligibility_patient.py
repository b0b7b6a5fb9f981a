"""Patient criteria at their thresholds: age, ECOG, pregnancy test, SBRT foci, history."""

from __future__ import annotations

import pandas as pd
import pytest
from eligibility_records import eligible, man

from studylib.eligibility import propose_sbrt_sites, screen


def verdict(criterion: str, record: dict | None = None, **changes: object):
    return screen(record or eligible(**changes)).criterion(criterion)


# --- INCL02: age ----------------------------------------------------------------------------


def test_eighteenth_birthday_on_the_screening_date_counts():
    """A patient whose 18th birthday is the screening date is 18 and passes."""
    result = verdict("INCL02", birth_date="2006-03-04", screening_date="2024-03-04")
    assert result.status == "pass"
    assert "Age 18 years on 2024-03-04" in result.reason


def test_day_before_eighteenth_birthday_fails_and_says_when():
    """The day before the 18th birthday fails, and the reason gives the birthday."""
    result = verdict("INCL02", birth_date="2006-03-05", screening_date="2024-03-04")
    assert result.status == "fail"
    assert "Age 17 years" in result.reason and "turns 18 on 2024-03-05" in result.reason


def test_born_on_29_february_turns_18_on_1_march():
    """Born on 29 February: 17 on 28 February of a common year, 18 on 1 March."""
    assert verdict("INCL02", birth_date="2004-02-29", screening_date="2022-02-28").status == "fail"
    assert verdict("INCL02", birth_date="2004-02-29", screening_date="2022-03-01").status == "pass"


def test_age_without_birth_date_is_missing():
    """No birth date: age is missing (never a pass), asking for birth_date."""
    result = verdict("INCL02", birth_date=None)
    assert result.status == "missing"
    assert "birth_date" in result.resolve


# --- INCL04: ECOG ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "status"), [(0, "pass"), ("1", "pass"), (2, "fail"), (4, "fail")]
)
def test_ecog_zero_or_one_passes(score, status):
    """ECOG 0-1 passes; 2 or more fails."""
    assert verdict("INCL04", ecog=score).status == status


# --- INCL05: pregnancy test -----------------------------------------------------------------


def test_pregnancy_test_exactly_72_hours_before_start_passes():
    """A negative test exactly 72 h before the first treatment is within the window."""
    result = verdict(
        "INCL05", pregnancy_test_at="2024-03-15T08:00", planned_start_at="2024-03-18T08:00"
    )
    assert result.status == "pass"
    assert "72 hours before" in result.reason


def test_pregnancy_test_too_early_asks_for_a_repeat_with_the_deadline():
    """A negative test 72 h and 1 min before is too early: review, repeat at or after the
    window opens (planned start minus 72 h)."""
    result = verdict(
        "INCL05", pregnancy_test_at="2024-03-15T07:59", planned_start_at="2024-03-18T08:00"
    )
    assert result.status == "review"
    assert "more than 72 hours" in result.reason
    assert "at or after 2024-03-15 08:00 and before 2024-03-18 08:00" in result.resolve


def test_pregnancy_test_after_the_planned_start_does_not_count():
    """A test after the planned first treatment asks for review of the times."""
    result = verdict(
        "INCL05", pregnancy_test_at="2024-03-18T09:00", planned_start_at="2024-03-18T08:00"
    )
    assert result.status == "review"
    assert "planned_start_at" in result.resolve


def test_positive_pregnancy_test_fails():
    """A positive test fails."""
    assert verdict("INCL05", pregnancy_test="positive").status == "fail"


@pytest.mark.parametrize(
    "changes",
    [
        {"pregnancy_test": "not_done"},
        {"pregnancy_test": None},
        {"pregnancy_test_at": None},
        {"planned_start_at": None},
        {"childbearing_potential": None},
    ],
)
def test_pregnancy_test_not_done_or_untimed_is_missing(changes):
    """No test, no result, no test time, no planned start or unknown potential: missing."""
    result = verdict("INCL05", **changes)
    assert result.status == "missing"
    assert result.resolve


def test_pregnancy_test_not_done_says_when_to_do_it():
    """For a test not done, the resolution gives the window of a valid test."""
    result = verdict("INCL05", pregnancy_test="not_done")
    assert "at or after 2024-03-15 08:00 and before 2024-03-18 08:00" in result.resolve


def test_pregnancy_test_not_applicable_to_men_or_without_childbearing_potential():
    """Men and women without childbearing potential need no pregnancy test."""
    assert verdict("INCL05", man()).status == "not_applicable"
    assert verdict("INCL05", man(childbearing_potential=None)).status == "not_applicable"
    assert verdict("INCL05", childbearing_potential="N").status == "not_applicable"


def test_pregnancy_test_compares_times_with_time_zones_in_utc():
    """Times with time zones are compared as instants (72 h exactly across zones passes)."""
    result = verdict(
        "INCL05",
        pregnancy_test_at="2024-03-15T09:00+01:00",
        planned_start_at="2024-03-18T08:00+00:00",
    )
    assert result.status == "pass"


# --- INCL03 and EXCL01: SBRT foci -----------------------------------------------------------


def foci(*items: tuple[str, str]) -> list[dict[str, str]]:
    return [{"site": s, "longest_diameter": d} for s, d in items]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_one_to_three_amenable_foci_pass_and_are_all_proposed(count):
    """1-3 amenable foci of at most 7 cm pass, and every one is proposed."""
    sites = foci(*[("lung", f"{n + 1} cm") for n in range(count)])
    result = screen(eligible(sbrt_sites=sites))
    assert result.criterion("INCL03").status == "pass"
    assert len(result.proposed_sites) == count


def test_four_foci_pass_and_the_three_largest_are_proposed():
    """With 4 treatable foci the patient qualifies; the 3 largest are proposed."""
    sites = foci(("lung", "2 cm"), ("liver", "45 mm"), ("bone", "3 cm"), ("chest wall", "1 cm"))
    result = screen(eligible(sbrt_sites=sites))
    assert result.criterion("INCL03").status == "pass"
    assert [p["site"] for p in result.proposed_sites] == ["liver", "bone", "lung"]
    assert "Not proposed, as at most 3 are treated" in result.criterion("INCL03").reason
    assert "chest wall 1 cm" in result.criterion("INCL03").reason


def test_focus_of_7_cm_is_treatable_and_7_1_cm_is_not():
    """A focus of exactly 7 cm can be treated; one of 7.1 cm cannot."""
    assert verdict("INCL03", sbrt_sites=foci(("liver", "70 mm"))).status == "pass"
    result = verdict("INCL03", sbrt_sites=foci(("liver", "7.1 cm")))
    assert result.status == "fail"
    assert "larger than 7 cm (liver 7.1 cm)" in result.reason


def test_a_7_1_cm_focus_beside_a_treatable_one_is_left_out():
    """A 7.1 cm focus does not exclude a patient with another treatable focus; it is not
    proposed."""
    result = screen(eligible(sbrt_sites=foci(("liver", "7.1 cm"), ("lung", "2 cm"))))
    assert result.criterion("INCL03").status == "pass"
    assert [p["site"] for p in result.proposed_sites] == ["lung"]
    assert "liver 7.1 cm (larger than 7 cm)" in result.criterion("INCL03").reason


def test_long_bone_is_not_amenable():
    """A focus in a long bone is not amenable: alone, INCL03 and EXCL01 fail."""
    result = screen(eligible(sbrt_sites=foci(("long_bone", "2 cm"))))
    assert result.criterion("INCL03").status == "fail"
    assert result.criterion("EXCL01").status == "fail"
    assert result.proposed_sites == []


def test_any_other_site_is_not_amenable():
    """Sites outside the protocol's list (brain, skin) are not amenable."""
    result = screen(eligible(sbrt_sites=foci(("brain", "1 cm"), ("skin", "2 cm"))))
    assert result.criterion("EXCL01").status == "fail"
    assert "brain 1 cm and skin 2 cm" in result.criterion("EXCL01").reason


def test_amenable_site_too_large_passes_excl01_but_fails_incl03():
    """EXCL01 asks for an amenable site; its size is INCL03's concern."""
    result = screen(eligible(sbrt_sites=foci(("lung", "8 cm"))))
    assert result.criterion("EXCL01").status == "pass"
    assert result.criterion("INCL03").status == "fail"


@pytest.mark.parametrize("value", [None, []])
def test_no_foci_recorded_is_missing(value):
    """A record without foci is missing for INCL03 and EXCL01, never a pass or a fail."""
    result = screen(eligible(sbrt_sites=value))
    assert result.criterion("INCL03").status == "missing"
    assert result.criterion("EXCL01").status == "missing"


def test_amenable_focus_without_size_is_missing():
    """An amenable focus without a diameter keeps INCL03 missing (it may be the one to treat)."""
    result = verdict("INCL03", sbrt_sites=[{"site": "liver"}, *foci(("lung", "2 cm"))])
    assert result.status == "missing"
    assert "longest diameter of liver" in result.reason


def test_propose_sbrt_sites_for_a_cohort_table():
    """propose_sbrt_sites judges a cohort's foci table and proposes per patient."""
    table = pd.DataFrame(
        {
            "patient_id": ["A", "A", "A", "A", "B"],
            "site_id": ["S1", "S2", "S3", "S4", "S1"],
            "site": ["lung", "liver", "bone", "lung", "long_bone"],
            "longest_diameter": ["1 cm", "2 cm", "3 cm", "4 cm", "2 cm"],
        }
    )
    judged = propose_sbrt_sites(table)
    assert judged.loc[judged["proposed"], "site_id"].tolist() == ["S2", "S3", "S4"]
    assert judged.loc[judged["patient_id"] == "B", "note"].item() == "site not amenable to SBRT"


# --- The other patient criteria -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("none", "pass"),
        ("radiosurgery_candidate", "pass"),
        ("not_radiosurgery_candidate", "fail"),
        (None, "missing"),
    ],
)
def test_brain_metastases_pass_only_if_none_or_radiosurgery_candidate(value, status):
    """Brain metastases exclude unless the patient is a radiosurgery candidate."""
    assert verdict("EXCL02", brain_mets=value).status == status


@pytest.mark.parametrize(
    ("criterion", "field", "excluding"),
    [
        ("INCL01", "histology_confirmed", "N"),
        ("INCL06", "consent_signed", "N"),
        ("EXCL03", "prior_rt_to_sbrt_sites", "Y"),
        ("EXCL04", "active_infection", "Y"),
        ("EXCL05", "pregnant_or_lactating", "Y"),
        ("EXCL06", "cardiac_ischemia", "Y"),
        ("EXCL13", "chronic_steroids", "Y"),
    ],
)
def test_yes_no_criteria_fail_pass_and_are_missing_when_empty(criterion, field, excluding):
    """Each yes/no criterion fails on its excluding answer and is missing when empty."""
    assert verdict(criterion, **{field: excluding}).status == "fail"
    assert verdict(criterion).status == "pass"
    empty = verdict(criterion, **{field: ""})
    assert empty.status == "missing"
    assert f"({field})" in empty.resolve


def test_pregnant_or_lactating_does_not_apply_to_men():
    """EXCL05 does not apply to a man (unless recorded as yes)."""
    assert verdict("EXCL05", man()).status == "not_applicable"
