"""The tour's "should dose 9 be given?" exercise: cases from the protocol, answers from the
criteria, with why."""

from __future__ import annotations

import pytest

from studylib.protocol import PROTOCOL
from studylib.safety import dose_decision
from studylib.widgets.dose_exercise import DoseExercise
from studylib.widgets.lessons import dose_cases, dose_rules


def test_cases_follow_each_protocol(any_protocol):
    """At the limits: give; one hold criterion: hold; the number of relative criteria at
    once, or one stop criterion: stop, under the bundled and the variant protocol."""
    cases = dose_cases(any_protocol)
    actions = [dose_decision(o, protocol=any_protocol).action for _, o in cases]
    assert actions == ["give", "hold", "stop", "stop"]
    count = dose_decision(cases[2][1], protocol=any_protocol)
    relative = [f for f in count.findings if f.met and f.kind == "relative"]
    assert len(relative) == any_protocol.safety.relative_criteria_to_stop


def test_the_edge_case_is_at_the_limits():
    """Systolic 90 mmHg against 'below 90 mmHg', saturation 90% against '<90%': given."""
    _, observations = dose_cases()[0]
    assert observations["systolic_bp"] == "90 mmHg"
    assert observations["o2_saturation"] == "90 %"
    assert observations["heart_rate"] == "99 bpm"


def test_dose_rules_say_the_counts_and_the_source():
    text = dose_rules()
    assert "22 criteria" in text and "**3 relative criteria at once stop the cycle**" in text
    assert "not from the registry" in text


def test_the_answer_is_marked_and_explained():
    panel = DoseExercise(dose_cases(), protocol=PROTOCOL)
    assert "Should dose 9 be given?" in panel.children[0].value
    panel.case.value = 1
    assert "heart rate" in panel.shown.value and "115 bpm" in panel.shown.value
    panel.check.click()
    assert "Choose give, hold or stop first" in panel.feedback.value
    panel.answer.value = "give"
    panel.check.click()
    assert "<b>Not quite.</b>" in panel.feedback.value and "<b>HOLD.</b>" in panel.feedback.value
    assert "REL-HR" in panel.feedback.value and "not from the registry" in panel.feedback.value
    panel.answer.value = "hold"
    panel.check.click()
    assert "<b>Right.</b>" in panel.feedback.value
    panel.case.value = 0
    assert panel.feedback.value == "" and panel.answer.value is None


def test_static_view_shows_every_case_with_its_answer():
    (html,) = DoseExercise(dose_cases(), protocol=PROTOCOL).static()
    assert html.data.count("<h5>Case") == 4
    assert "<b>GIVE.</b>" in html.data and "<b>STOP.</b>" in html.data


@pytest.mark.parametrize("cases", [[]])
def test_no_criteria_says_so(cases):
    panel = DoseExercise(cases, protocol=PROTOCOL)
    assert "nothing to practise" in panel.shown.value
