"""iRECIST (Seymour et al., Lancet Oncol 2017): the protocol's numbers, each rule at its edge."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_protocol import _edited

from studylib.protocol import PROTOCOL, ProtocolError, load_protocol

PROTOCOL_FILE = Path(__file__).resolve().parents[1] / "studylib" / "protocol.toml"


# --- the protocol file ----------------------------------------------------------------------


def test_irecist_numbers_come_from_the_protocol_file():
    """5 mm further growth confirms; 5 new target lesions, 2 per organ; a 4-8 week window."""
    rules = PROTOCOL.response.irecist
    assert rules.base_ruleset == "recist1.1"
    assert rules.confirm_min_increase.to("mm").magnitude == 5
    assert (rules.new_target_max, rules.new_target_max_per_organ) == (5, 2)
    assert rules.confirmation_window_min.to("week").magnitude == 4
    assert rules.confirmation_window_max.to("week").magnitude == 8
    assert "Seymour" in rules.source and "Table 2" in rules.quotes["quote_confirmation"]


def test_variant_protocol_has_its_own_irecist_numbers(variant_protocol):
    """The test protocol differs in every iRECIST number."""
    ours, theirs = PROTOCOL.response.irecist, variant_protocol.response.irecist
    for name in (
        "confirm_min_increase",
        "new_target_max",
        "new_target_max_per_organ",
        "confirmation_window_min",
        "confirmation_window_max",
    ):
        assert getattr(ours, name) != getattr(theirs, name), name


def test_irecist_window_must_open_before_it_closes(tmp_path):
    path = _edited(
        tmp_path, 'confirmation_window_min = "4 week"', 'confirmation_window_min = "9 week"'
    )
    with pytest.raises(ProtocolError, match=r"\[response.irecist\] confirmation_window_min"):
        load_protocol(path)


def test_irecist_base_ruleset_must_exist(tmp_path):
    path = _edited(tmp_path, 'base_ruleset = "recist1.1"', 'base_ruleset = "who"')
    with pytest.raises(ProtocolError, match="base_ruleset = 'who'"):
        load_protocol(path)


def test_a_protocol_without_irecist_still_loads(tmp_path):
    """Older trial folders' protocol files have no [response.irecist]: they load without it."""
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    start = text.index("[response.irecist]")
    end = text.index("# ----", start)
    path = tmp_path / "protocol.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert load_protocol(path).response.irecist is None
