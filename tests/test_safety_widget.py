"""The tour's "should dose 9 be given?" exercise: the answer is the criteria's, with why."""

from __future__ import annotations

import pytest

from studylib.data import load_cohort
from studylib.safety import judge_slots
from studylib.widgets.dose_exercise import DoseExercise, exercise_cases


@pytest.fixture(scope="module")
def judged(data_dir):
    cohort = load_cohort(data_dir)
    return cohort, judge_slots(
        cohort.dosing, cohort.vitals, cohort.labs, cohort.screening, protocol=cohort.protocol
    )


def test_cases_cover_each_decision(judged):
    _, slots = judged
    cases = exercise_cases(slots, 9)
    assert (cases["number"] == 9).all() and cases["assessed"].all()
    assert cases["action"].head(3).tolist() == ["give", "hold", "stop"]


def test_the_answer_is_marked_and_explained(judged):
    cohort, slots = judged
    panel = DoseExercise(slots, protocol=cohort.protocol)
    assert "Should dose 9 be given?" in panel.children[0].value
    panel.case.value = 1  # the first hold
    assert "heart rate" in panel.shown.value and "dose-observations" in panel.shown.value
    panel.check.click()
    assert "Choose give, hold or stop first" in panel.feedback.value
    panel.answer.value = "give"
    panel.check.click()
    assert "Not quite: the criteria say HOLD" in panel.feedback.value
    case = panel.current
    assert case["criteria_met"].split(",")[0] in panel.feedback.value
    assert "not from the registry" in panel.feedback.value
    panel.answer.value = "hold"
    panel.check.click()
    assert panel.feedback.value.startswith('<div style="background:#fff2cc')
    assert "<b>Right.</b>" in panel.feedback.value
    panel.case.value = 0
    assert panel.feedback.value == "" and panel.answer.value is None


def test_no_such_dose_says_so(judged):
    cohort, slots = judged
    panel = DoseExercise(slots, protocol=cohort.protocol, number=99)
    assert "No dose 99 was assessed" in panel.shown.value
