"""The RECIST calculator's iRECIST switch and the tour's pseudo-progression exercise."""

from __future__ import annotations

import pytest

from studylib.widgets.lessons import irecist_exercise, pseudo_progression_diameters
from studylib.widgets.recist import RecistCalculator


def responses(calculator: RecistCalculator) -> list[str]:
    return list(calculator.result["overall_response"])


def test_switch_asks_the_engine_for_irecist():
    calc = RecistCalculator()
    assert responses(calc) == ["PR", "PR", "PR"]
    calc.irecist.value = True
    assert responses(calc) == ["iPR", "iPR", "iPR"]
    assert calc.ruleset.disabled
    table = calc.response_table()
    assert {"RECIST 1.1", "rule"} <= set(table.columns)
    assert "iPR" in calc.summary.value
    calc.irecist.value = False
    assert responses(calc) == ["PR", "PR", "PR"] and not calc.ruleset.disabled


@pytest.mark.parametrize("grown_by", [0, -1])
def test_exercise_pseudo_progression_and_confirmation(any_protocol, grown_by):
    """The exercise's numbers do what its text says, for each protocol file (one millimetre
    less at the first follow-up is no progression at all)."""
    calc = RecistCalculator(protocol=any_protocol, irecist=True)
    names = [t.name for t in any_protocol.assessments.timepoints]
    first, second = names[0], names[1]
    grown, confirming = pseudo_progression_diameters(any_protocol)
    calc.diameters[("T1", first)].value = f"{grown + grown_by:g}"
    rows = calc.result.set_index("visit")
    if grown_by:
        assert rows.loc[first, "overall_response"] != "iUPD"
        return
    assert rows.loc[first, ["recist_response", "overall_response"]].tolist() == ["PD", "iUPD"]
    assert rows.loc[second, "overall_response"] in ("iPR", "iSD", "iCR")
    assert rows.loc[second, "rule"] == "reset"
    calc.diameters[("T1", second)].value = f"{confirming - 1:g}"
    assert calc.result.set_index("visit").loc[second, "overall_response"] == "iUPD"
    calc.diameters[("T1", second)].value = f"{confirming:g}"
    assert calc.result.set_index("visit").loc[second, "overall_response"] == "iCPD"
    text = irecist_exercise(any_protocol)
    assert (
        f"T1 at {first} to {grown:g} mm" in text and f"T1 at {second} to {confirming:g} mm" in text
    )


def test_no_switch_without_irecist_rules(tmp_path):
    from test_recist_irecist import PROTOCOL_FILE

    from studylib.protocol import load_protocol

    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    start = text.index("[response.irecist]")
    path = tmp_path / "protocol.toml"
    path.write_text(text[:start] + text[text.index("# ----", start) :], encoding="utf-8")
    protocol = load_protocol(path)
    calc = RecistCalculator(protocol=protocol, irecist=True)
    assert not calc.irecist.value and calc.irecist.layout.display == "none"
    assert irecist_exercise(protocol) == ""


def test_tour_response_rules_word_irecist_with_the_protocols_numbers(any_protocol):
    from studylib.units import format_quantity
    from studylib.widgets.lessons import response_rules

    text = response_rules(protocol=any_protocol)
    rules = any_protocol.response.irecist
    assert "**iRECIST (sensitivity analysis)**" in text
    assert f"by {format_quantity(rules.confirm_min_increase)} more" in text
    assert f"up to {rules.new_target_max} as new targets" in text
