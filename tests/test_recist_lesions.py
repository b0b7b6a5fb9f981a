"""Layer 1: input codes, measurability, target limits, irradiated lesions, per-lesion views."""

from __future__ import annotations

import pandas as pd
import pytest
from recist_frames import Patient, day, frames

from studylib.errors import DataError
from studylib.recist.lesions import (
    baseline_problems,
    irradiation_status,
    lesion_measurements,
    lesion_table,
    measurability,
    prepare_assessments,
    prepare_lesions,
)


def checks(*patients: Patient, **options) -> list[tuple]:
    found = baseline_problems(*frames(*patients), **options)
    return list(found[["lesion_id", "check"]].fillna("-").itertuples(index=False, name=None))


# --- measurability --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diameter", "nodal", "expected"),
    [
        (9.9, False, "non_measurable"),
        (10, False, "measurable"),
        (9.9, True, "normal_node"),
        (10, True, "pathological_node"),
        (14.9, True, "pathological_node"),
        (15, True, "measurable"),
        (None, False, "not_measured"),
    ],
)
def test_measurability_at_the_recist_1_1_size_limits(diameter, nodal, expected):
    """10 mm for lesions; nodes: 15 mm short axis measurable, 10 to <15 pathological only."""
    assert measurability([diameter], [nodal]).tolist() == [expected]


def test_recist_1_0_measures_nodes_from_10_mm():
    """RECIST 1.0 had no short-axis rule: a 12 mm node is measurable."""
    assert measurability([12], [True], "recist1.0").tolist() == ["measurable"]


# --- baseline checks ------------------------------------------------------------------------


def test_clean_baseline_has_no_problems():
    """Two measurable targets and a non-target give no finding, and the frame has its columns."""
    p = Patient().lesion("T1").lesion("T2", nodal=True).lesion("NT1", "non_target")
    p.scan(0, T1=10, T2=15, NT1="present")
    found = baseline_problems(*frames(p))
    assert found.empty
    assert found.columns.tolist() == [
        "patient_id",
        "lesion_id",
        "check",
        "severity",
        "value_mm",
        "message",
    ]


@pytest.mark.parametrize(
    ("diameter", "nodal", "check"),
    [
        (9.9, False, "target_too_small"),
        (14.9, True, "target_node_not_measurable"),
        (9.9, True, "target_node_not_measurable"),
    ],
)
def test_non_measurable_target_is_reported(diameter, nodal, check):
    """A target below the measurable size is reported as an error, not changed."""
    p = Patient().lesion("T1", nodal=nodal).scan(0, T1=diameter)
    found = baseline_problems(*frames(p))
    assert found[["lesion_id", "check", "severity"]].values.tolist() == [["T1", check, "error"]]
    assert found["value_mm"].iloc[0] == diameter


def test_pathological_node_message_says_it_can_only_be_non_target():
    """The 10-15 mm node finding explains the rule with the measured size."""
    p = Patient().lesion("T1", nodal=True).scan(0, T1=12)
    message = baseline_problems(*frames(p))["message"].iloc[0]
    assert "12.0 mm" in message and "non-target" in message


def test_target_too_small_to_measure_at_baseline_is_reported():
    """A target recorded as too small to measure at baseline cannot be a target."""
    assert checks(Patient().lesion("T1").scan(0, T1="too_small")) == [("T1", "target_too_small")]


def test_target_without_baseline_measurement_is_reported():
    """A target with no baseline diameter is an error."""
    p = Patient().lesion("T1").lesion("T2").scan(0, T1=20)
    assert checks(p) == [("T2", "target_not_measured")]


@pytest.mark.parametrize(
    ("count", "ruleset", "found"),
    [
        (5, "recist1.1", False),
        (6, "recist1.1", True),
        (10, "recist1.0", False),
        (11, "recist1.0", True),
        (10, "protocol", False),
        (11, "protocol", True),
    ],
)
def test_at_most_five_targets_in_recist_1_1(count, ruleset, found):
    """RECIST 1.1 allows 5 targets in total (RECIST 1.0 and the registry: 10); one per organ."""
    p = Patient()
    for n in range(count):
        p.lesion(f"T{n}", site=f"organ{n}")
    p.scan(0, **{f"T{n}": 20 for n in range(count)})
    assert (("-", "too_many_targets") in checks(p, ruleset=ruleset)) is found


def test_at_most_two_targets_per_organ_with_all_nodes_one_organ():
    """Three liver targets, or three nodes at different sites, exceed 2 per organ."""
    p = Patient()
    for n in range(3):
        p.lesion(f"L{n}", site="liver").lesion(f"N{n}", nodal=True, site=f"nodes_{n}")
    p.scan(0, **{f"L{n}": 20 for n in range(3)}, **{f"N{n}": 20 for n in range(3)})
    found = baseline_problems(*frames(p))
    per_organ = found[found["check"] == "too_many_targets_in_organ"]["message"].tolist()
    assert len(per_organ) == 2
    assert any("in liver" in m for m in per_organ) and any("lymph nodes" in m for m in per_organ)
    assert "too_many_targets" in found["check"].tolist()


@pytest.mark.parametrize(
    ("count", "ruleset", "found"),
    [
        (2, "recist1.1", False),
        (3, "recist1.1", True),
        (5, "recist1.0", False),
        (6, "recist1.0", True),
        (5, "protocol", False),
        (6, "protocol", True),
    ],
)
def test_targets_per_organ_limit_follows_the_ruleset(count, ruleset, found):
    """2 targets per organ in RECIST 1.1; 5 per organ in RECIST 1.0 and the registry's wording."""
    p = Patient()
    for n in range(count):
        p.lesion(f"L{n}", site="liver")
    p.scan(0, **{f"L{n}": 20 for n in range(count)})
    assert (("-", "too_many_targets_in_organ") in checks(p, ruleset=ruleset)) is found


def test_irradiated_targets_are_not_counted_against_the_limits():
    """An excluded SBRT target is a note and does not count towards 2 per organ."""
    p = Patient().lesion("T1", site="lung").lesion("T2", site="lung")
    p.lesion("T3", site="lung", irradiated=True).scan(0, T1=20, T2=20, T3=20)
    assert checks(p) == [("T3", "irradiated_lesion")]
    found = baseline_problems(*frames(p), exclude_irradiated=False)
    assert set(found["check"]) == {"too_many_targets_in_organ", "irradiated_lesion"}
    assert (
        "RECIST 1.1 §3.1.4" in found.loc[found["check"] == "irradiated_lesion", "message"].iloc[0]
    )


def test_non_target_without_baseline_state_and_normal_node_are_reported():
    """A non-target needs a baseline state; a non-target node under 10 mm is not a lesion."""
    p = Patient().lesion("T1").lesion("NT1", "non_target").lesion("NT2", "non_target", nodal=True)
    p.scan(0, T1=20, NT1=None, NT2=(8, "present"))
    assert checks(p) == [("NT1", "non_target_not_assessed"), ("NT2", "normal_node")]


def test_new_lesion_at_baseline_is_reported():
    """A lesion seen at baseline is existing disease, not new."""
    p = Patient().lesion("T1").lesion("N1", "new").scan(0, T1=20, N1="unequivocal")
    assert checks(p) == [("N1", "new_lesion_at_baseline")]


def test_target_measured_by_pet_is_a_warning():
    """PET is not a measurement method for target lesions."""
    p = Patient().lesion("T1").scan(0, method="PET", T1=20)
    found = baseline_problems(*frames(p))
    assert found[["check", "severity"]].values.tolist() == [["target_measured_by_pet", "warning"]]


def test_which_response_table_applies_is_noted():
    """Non-target-only and no-evaluable-disease patients get a note."""
    a = Patient("P001").lesion("NT1", "non_target").scan(0, NT1="present")
    b = Patient("P002").lesion("T1", irradiated=True).scan(0, T1=20)
    found = baseline_problems(*frames(a, b))
    assert found[found["lesion_id"].isna()][["patient_id", "check"]].values.tolist() == [
        ["P001", "no_target_disease"],
        ["P002", "no_evaluable_disease"],
    ]


# --- irradiated lesions ---------------------------------------------------------------------


def test_irradiation_status_excluded_or_censored_by_date():
    """Before the first follow-up: excluded; later: censored from that date."""
    p = Patient().lesion("T1").lesion("T2", irradiated=True)
    p.lesion("T3", irradiated=True, irradiated_on=30).lesion(
        "T4", irradiated=True, irradiated_on=70
    )
    p.follow(0, 20, 20, 20, 20).follow(49, 20, 20, 20, 20)
    lesions, assessments = frames(p)
    les = prepare_lesions(lesions)
    status = irradiation_status(les, prepare_assessments(assessments, les))
    assert status["irradiation"].tolist() == ["none", "excluded", "excluded", "censored"]
    assert status["censored_from"].iloc[3] == day(70)


def test_lesion_table_marks_irradiated_lesions_and_what_counts():
    """The lesion table shows baseline size, measurability and whether the lesion counts."""
    p = Patient().lesion("T1").lesion("T2", irradiated=True).lesion("NT1", "non_target")
    p.scan(0, T1="too_small", T2=40, NT1="present").follow(49, 5, 30)
    table = lesion_table(*frames(p))
    assert table["baseline_mm"].tolist()[:2] == [5.0, 40.0]
    assert table["measurability"].tolist()[:2] == ["non_measurable", "measurable"]
    assert table["in_response"].tolist() == [True, False, True]
    assert table["irradiation"].tolist() == ["none", "excluded", "none"]


def test_lesion_measurements_give_each_targets_change_from_its_baseline():
    """Per-lesion diameters and changes for the spider plot."""
    p = Patient().targets(20, 0).follow(49, 10, "too_small")
    rows = lesion_measurements(*frames(p))
    follow = rows[rows["days_from_baseline"] == 49]
    assert follow["diameter_mm"].tolist() == [10.0, 5.0]
    assert follow["pct_change_baseline"].iloc[0] == -50.0
    assert pd.isna(follow["pct_change_baseline"].iloc[1])


# --- input validation -----------------------------------------------------------------------


def test_every_input_problem_is_listed_in_one_error():
    """Unknown role, bad yes/no, duplicate lesion, unknown lesion, bad date: one DataError."""
    lesions, assessments = frames(Patient().targets(20, 20).follow(49, 10, 10))
    lesions.loc[0, "role"] = "targett"
    lesions["nodal"] = lesions["nodal"].astype(object)
    lesions.loc[1, "nodal"] = "maybe"
    with pytest.raises(DataError) as error:
        prepare_lesions(lesions)
    text = str(error.value)
    assert "'targett'" in text and "'maybe'" in text and "2 problems" in text


def test_missing_yes_no_value_is_an_error_not_a_guess():
    """An empty 'irradiated' is not read as No."""
    lesions, _ = frames(Patient().targets(20))
    lesions["irradiated"] = pd.array([pd.NA], dtype="boolean")
    with pytest.raises(DataError, match="irradiated"):
        prepare_lesions(lesions)


def test_assessment_problems_are_listed_together():
    """Unknown lesion, negative diameter, impossible date, duplicates and a bad method."""
    lesions, assessments = frames(Patient().targets(20).follow(49, 10))
    extra = assessments.iloc[[0, 0, 0]].copy()
    extra["lesion_id"] = ["T9", "T1", "T1"]
    assessments = pd.concat([assessments, extra], ignore_index=True)
    assessments["date"] = assessments["date"].dt.strftime("%Y-%m-%d").astype(object)
    assessments.loc[1, "date"] = "2024-02-30"
    assessments.loc[1, "diameter_mm"] = -1
    assessments.loc[1, "method"] = "XRAY"
    with pytest.raises(DataError) as error:
        prepare_assessments(assessments, lesions)
    problems = [p.column for p in error.value.problems]
    assert sorted(problems) == ["date", "date", "date", "diameter_mm", "lesion_id", "method"]
    assert "'2024-02-30'" in str(error.value) and "assessed twice" in str(error.value)


@pytest.mark.parametrize("diameter", [float("inf"), "inf", float("-inf")])
def test_an_infinite_diameter_is_refused(diameter):
    """'inf' reads as a number; it is refused instead of giving a partial response."""
    lesions, assessments = frames(Patient().targets(20).follow(49, 10))
    assessments["diameter_mm"] = assessments["diameter_mm"].astype(object)
    assessments.loc[0, "diameter_mm"] = diameter
    with pytest.raises(DataError) as error:
        prepare_assessments(assessments, lesions)
    assert [p.column for p in error.value.problems] == ["diameter_mm"]
