"""The [safety] section of a protocol file: dose-hold and dose-stop criteria as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from studylib.errors import ProtocolError
from studylib.protocol import PROTOCOL, load_protocol

PROTOCOL_FILE = Path(__file__).resolve().parents[1] / "studylib" / "protocol.toml"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "protocol.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_bundled_criteria_are_quoted_and_not_from_the_registry():
    """Every criterion quotes its source, names it, and is marked as not from the registry."""
    safety = PROTOCOL.safety
    assert safety.relative_criteria_to_stop == 3
    assert "≥ 3 relative criteria" in safety.relative_to_stop_quote
    for criterion in safety.criteria:
        assert criterion.registry is False
        assert criterion.quote.strip() and criterion.source.strip()
        assert criterion.action in ("hold", "stop")
    kinds = {c.kind for c in safety.criteria}
    assert kinds == {"relative", "absolute", "withhold", "discontinue"}


def test_bundled_bounds_match_their_quotes():
    """The numbers read are the ones quoted (2014 consensus, Table 3; Proleukin label)."""
    c = PROTOCOL.safety.criterion
    assert c("REL-HR").at_least.to("1/min").magnitude == 100
    assert c("REL-HR").at_most.to("1/min").magnitude == 130
    assert c("ABS-HR").above.to("1/min").magnitude == 130
    assert c("REL-CREAT").at_least.to("mg/dL").magnitude == 2.5
    assert c("ABS-CREAT").at_least.to("mg/dL").magnitude == 3
    assert c("LBL-SBP").below.to("mmHg").magnitude == 90
    assert c("REL-WEIGHT").change_from == "baseline_weight"
    assert c("LBL-MENTAL").when is True and c("LBL-MENTAL").action == "hold"


def test_observations_are_listed_once_with_their_baselines():
    keys = PROTOCOL.safety.observations
    assert len(keys) == len(set(keys))
    for key in ("heart_rate", "systolic_bp", "creatinine", "urine_output_8h", "platelets"):
        assert key in keys
    assert keys.index("baseline_weight") == keys.index("weight") + 1


def test_variant_differs(variant_protocol):
    ours, theirs = PROTOCOL.safety, variant_protocol.safety
    assert not {c.id for c in ours.criteria} & {c.id for c in theirs.criteria}
    assert theirs.relative_criteria_to_stop != ours.relative_criteria_to_stop
    assert theirs.adverse_event_window != ours.adverse_event_window
    assert theirs.other_adverse_event_threshold != ours.other_adverse_event_threshold


def test_adverse_event_reporting_numbers():
    """30 days after the last IL-2 dose, and the 5% threshold of ClinicalTrials.gov."""
    safety = PROTOCOL.safety
    assert safety.adverse_event_window.to("day").magnitude == 30
    assert safety.other_adverse_event_threshold.to("percent").magnitude == 5
    assert "not available" in safety.readings["adverse_event_window_reading"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'id = "REL-HR"\nlabel = "Sinus tachycardia"\nobservation = "heart_rate"\n'
            'kind = "relative"\nat_least = "100 bpm"\nat_most = "130 bpm"\n'
            'source = "consensus_2014"\nregistry = false',
            'id = "REL-HR"\nlabel = "Sinus tachycardia"\nobservation = "heart_rate"\n'
            'kind = "relative"\nat_least = "100 bpm"\nat_most = "130 bpm"\n'
            'source = "consensus_2014"\nregistry = true',
            "registry: expected false",
        ),
        (
            'kind = "absolute"\nabove = "130 bpm"',
            'kind = "severe"\nabove = "130 bpm"',
            "kind = 'severe'",
        ),
        (
            'at_least = "100 bpm"\nat_most = "130 bpm"',
            'at_least = "130 bpm"\nat_most = "100 bpm"',
            "the lower below",
        ),
        ('above = "130 bpm"', 'above = "130 mmHg"', "heart_rate: expected one kind of unit"),
        ('below = "90 mmHg"', 'below = "90 mmHg"\nwhen = true', "or when = true"),
        ('source = "label"', 'source = "leaflet"', "source = 'leaflet'"),
        (
            "relative_criteria_to_stop = 3",
            "relative_criteria_to_stop = 0",
            "relative_criteria_to_stop",
        ),
        ('below = "90 mmHg"', 'below = "ninety"', r"\[safety.criteria #12\]\.below"),
        (
            'other_adverse_event_threshold = "5 %"',
            'other_adverse_event_threshold = "100 %"',
            "expected less than 100 %",
        ),
        (
            'adverse_event_window = "30 day"',
            'adverse_event_window = "30 kg"',
            r"\[safety\]\.adverse_event_window",
        ),
    ],
)
def test_malformed_safety_section_is_refused(tmp_path, old, new, message):
    """A criterion that claims the registry, an unknown kind, crossed bounds, mixed units, a
    bound beside ``when``, an unknown source or an unreadable bound is refused, naming it."""
    with pytest.raises(ProtocolError, match=message):
        load_protocol(_edited(tmp_path, old, new))


def test_protocol_without_safety_section_loads(tmp_path):
    """A trial folder's older protocol file without [safety] still loads; it has no criteria."""
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    path = tmp_path / "protocol.toml"
    path.write_text(text[: text.index("\n[safety]")], encoding="utf-8")
    assert load_protocol(path).safety is None
