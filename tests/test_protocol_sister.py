"""The sister trial's protocol file (NCT02306954, renal cancer) loads and quotes its registry.

Its quotes are checked against the registry text recorded in docs/research/NCT02306954.md, and
the design differences from NCT01416831 (two SBRT fractions for every patient of the SBRT arm,
new SBRT sites, criteria with their own data) are checked to load as written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studylib.protocol import PROTOCOL, ProtocolError, load_protocol

REPO = Path(__file__).resolve().parents[1]
RENAL_FILE = REPO / "studylib" / "protocols" / "NCT02306954.toml"
RESEARCH = REPO / "docs" / "research" / "NCT02306954.md"


def _words(text: str) -> str:
    """Text with line breaks and repeated spaces folded, as the research file wraps quotes."""
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def renal():
    return load_protocol(RENAL_FILE)


@pytest.fixture(scope="module")
def registry_text() -> str:
    return _words(RESEARCH.read_text(encoding="utf-8"))


def test_renal_trial_facts(renal):
    """NCT02306954: 84 patients planned, arms 'High Dose IL-2' and 'High Dose IL-2 and SBRT'."""
    assert renal.trial["nct_id"] == "NCT02306954"
    assert "Metastatic Renal Cancer" in renal.trial["title"]
    assert renal.trial["planned_enrollment"] == 84
    assert [(a.code, a.name, a.receives_sbrt) for a in renal.arms] == [
        ("A", "High Dose IL-2", False),
        ("B", "High Dose IL-2 and SBRT", True),
    ]
    assert renal != PROTOCOL


def test_every_sbrt_arm_patient_gets_two_fractions_wednesday_and_friday(renal):
    """One fractionation rule from patient 1 on: two fractions of 20 Gy, Wednesday and Friday."""
    assert renal.sbrt.dose_per_fraction.to("Gy").magnitude == 20
    for number in (1, 20, 21, 84):
        rule = renal.sbrt.fractionation_for(number)
        assert (rule.fractions, rule.weekdays) == (2, ("Wednesday", "Friday"))
    assert renal.sbrt.last_fraction_weekday == "Friday"


def test_il2_cycles_as_registered(renal):
    """Cycle 2 14 days after cycle 1, 14 planned doses, up to 6 cycles, crossover + 2 cycles."""
    il2 = renal.il2
    assert il2.dose_per_kg.to("IU/kg").magnitude == 600_000
    assert il2.dose_interval.to("hour").magnitude == 8
    assert il2.cycle_interval.to("day").magnitude == 14
    assert il2.max_doses_per_cycle == 14
    assert il2.cycles_in_first_course + il2.additional_cycles_for_responders == 6
    xo = renal.crossover
    assert (xo.from_arm, xo.after_cycle, xo.first_cycle, xo.cycles) == ("A", 2, 3, 2)


def test_renal_sbrt_sites(renal):
    """Bone only with a soft tissue component; liver hilum and its nodes; nodes are nodal."""
    sites = renal.sbrt
    assert {"bone_with_soft_tissue", "liver_hilum", "liver_hilum_node"} <= set(sites.amenable_sites)
    assert {"bone", "long_bone"} <= set(sites.not_amenable_sites)
    assert sites.nodal_sites == ("liver_hilum_node",)
    assert PROTOCOL.sbrt.nodal_sites == ()


def test_criteria_carry_their_own_data(renal):
    """Histology subtype and the agreements (PROCLAIM registry, avoiding pregnancy) are data."""
    histology = renal.eligibility.criterion("INCL01")
    assert (histology.rule, histology.options["subtypes"]) == ("histology_subtype", ["clear_cell"])
    registry = renal.eligibility.criterion("INCL07")
    assert (registry.rule, registry.options["field"]) == ("agreement", "registry_agreed")
    assert "PROCLAIM" in registry.quote
    precautions = renal.eligibility.criterion("INCL06")
    assert precautions.options["applies_to"] == ["childbearing_potential", "male"]
    # The bundled file's only criterion option: the diagnosis its histology criterion confirms.
    bundled = {c.id: c.options for c in PROTOCOL.eligibility.criteria if c.options}
    assert bundled == {"INCL01": {"diagnosis": "melanoma"}}


def test_every_rule_quotes_the_registry_verbatim(renal, registry_text):
    """Each criterion, arm, treatment and site quote is the record's text, as recorded."""
    quotes = {
        **{f"criterion {c.id}": c.quote for c in renal.eligibility.criteria},
        **{f"arm {a.code}": a.quote for a in renal.arms},
        **{f"fractionation #{i}": f.quote for i, f in enumerate(renal.sbrt.fractionation)},
        "il2": renal.il2.quote,
        "sbrt": renal.sbrt.quote,
        "sbrt.sites": renal.sbrt.sites_quote,
        "crossover": renal.crossover.quote,
    }
    missing = [name for name, quote in quotes.items() if _words(quote) not in registry_text]
    assert missing == []


def test_numbers_not_in_the_record_say_where_they_come_from(renal):
    """The record gives no scans, no response criteria, no lab limits, no ratio: each is a
    reading naming NCT01416831 as its origin."""
    text = RENAL_FILE.read_text(encoding="utf-8")
    for section in ("assessments", "response", "crossover", "randomization", "eligibility"):
        body = text.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0]
        assert "NOT IN THIS RECORD" in body, section
        assert "NCT01416831" in body, section
    for reading in (renal.assessments.reading, renal.response.reading, renal.crossover.reading):
        assert "NOT IN THIS RECORD" in reading
    assert "protocol" not in renal.response.rulesets


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('nodal = ["liver_hilum_node"]', 'nodal = ["porta_node"]', "nodal: expected names"),
        ('not_amenable = ["bone", "long_bone"]', 'not_amenable = ["liver"]', "both amenable"),
        ('"liver_hilum_node"]\nnot', '"Liver Hilum"]\nnot', "amenable: expected a list"),
        ('subtypes = ["clear_cell"]', "subtypes = []", "subtypes = []"),
        ('field = "registry_agreed"', "field = { name = 1 }", "field = {'name': 1}"),
    ],
)
def test_renal_mistakes_are_named(tmp_path, old, new, message):
    """A site list or a criterion's own data that the engines could not use is refused."""
    mistaken = tmp_path / "protocol.toml"
    text = RENAL_FILE.read_text(encoding="utf-8")
    mistaken.write_text(text.replace(old, new, 1) if old in text else "", encoding="utf-8")
    with pytest.raises(ProtocolError, match=re.escape(message)):
        load_protocol(mistaken)


def test_published_criteria_are_those_of_the_bundled_file(renal):
    """RECIST, iRECIST and the IL-2 hold/stop criteria are published, not the trial's: the
    renal file carries them unchanged (edit both files together)."""
    assert renal.response.rulesets == {
        name: PROTOCOL.response.rulesets[name] for name in ("recist1.1", "recist1.0")
    }
    assert renal.response.irecist == PROTOCOL.response.irecist
    assert renal.safety.criteria == PROTOCOL.safety.criteria
    assert renal.safety.relative_criteria_to_stop == PROTOCOL.safety.relative_criteria_to_stop
    assert "NOT IN THIS RECORD" in renal.safety.readings["registry_reading"]
