"""The sister trial's own criteria (NCT02306954): histology subtype and agreements.

Each rule is checked on both sides of its line, under the renal protocol file; the melanoma
protocol does not read the new fields.
"""

from __future__ import annotations

import re

import pytest
from eligibility_records import eligible, man

from studylib.eligibility import screen
from studylib.errors import ProtocolError
from studylib.protocol import PROTOCOL, load_protocol


@pytest.mark.parametrize(
    ("confirmed", "subtype", "status"),
    [
        ("Y", "clear_cell", "pass"),
        ("Y", "Clear-cell", "pass"),
        ("Y", "clear cell", "pass"),
        ("Y", "papillary", "fail"),
        ("N", "clear_cell", "fail"),
        (None, "papillary", "fail"),
        (None, "clear_cell", "missing"),
        ("Y", None, "missing"),
    ],
)
def test_predominant_clear_cell_histology(renal_protocol, confirmed, subtype, status):
    """INCL01 passes a confirmed renal cancer whose predominant subtype is clear cell only."""
    record = eligible(histology_confirmed=confirmed, histology_subtype=subtype)
    assert screen(record, protocol=renal_protocol).criterion("INCL01").status == status


def test_histology_subtype_words(renal_protocol):
    """The reason names the subtype recorded and the one required; missing says what to record."""
    failed = screen(eligible(histology_subtype="papillary"), protocol=renal_protocol)
    assert failed.criterion("INCL01").reason == (
        "The predominant subtype is papillary (histology_subtype: papillary);"
        " clear cell is required."
    )
    missing = screen(eligible(histology_subtype=None), protocol=renal_protocol)
    assert missing.criterion("INCL01").resolve == (
        "Record the predominant subtype from the pathology report (histology_subtype;"
        " clear cell is required)."
    )


@pytest.mark.parametrize(
    ("agreed", "status"), [("Y", "pass"), ("yes", "pass"), ("N", "fail"), (None, "missing")]
)
def test_proclaim_registry_agreement(renal_protocol, agreed, status):
    """INCL07: the patient's agreement to join the PROCLAIM registry, yes or no."""
    result = screen(eligible(registry_agreed=agreed), protocol=renal_protocol)
    assert result.criterion("INCL07").status == status
    if status == "fail":
        assert result.status == "ineligible"
        assert "PROCLAIM" in result.criterion("INCL07").reason


@pytest.mark.parametrize(
    ("record", "status"),
    [
        (eligible(pregnancy_precautions_agreed="N"), "fail"),
        (man(pregnancy_precautions_agreed="N"), "fail"),
        (man(pregnancy_precautions_agreed="Y"), "pass"),
        (eligible(childbearing_potential="N", pregnancy_precautions_agreed="N"), "not_applicable"),
        (eligible(childbearing_potential="N", pregnancy_precautions_agreed=None), "not_applicable"),
        (eligible(sex=None, childbearing_potential="N", pregnancy_precautions_agreed="N"), "fail"),
        (eligible(pregnancy_precautions_agreed=None), "missing"),
    ],
)
def test_agreement_to_avoid_pregnancy_applies_to_women_who_can_bear_children_and_men(
    renal_protocol, record, status
):
    """INCL06 applies to women of childbearing potential and to men; to no one else."""
    assert screen(record, protocol=renal_protocol).criterion("INCL06").status == status


def test_not_applicable_says_why(renal_protocol):
    record = eligible(childbearing_potential="N")
    assert screen(record, protocol=renal_protocol).criterion("INCL06").reason == (
        "Applies only to women of childbearing potential and men; not this patient"
        " (childbearing_potential: no; sex: F)."
    )


def test_the_melanoma_protocol_does_not_read_the_sister_fields():
    """Under the bundled protocol the renal fields change nothing."""
    record = eligible(histology_subtype="papillary", registry_agreed="N")
    assert screen(record, protocol=PROTOCOL).status == "eligible"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('field = "registry_agreed"', 'field = "registry_consent"', "field = 'registry_consent'"),
        ('field = "registry_agreed"', 'field = "ecog"', "expected a yes/no column"),
        ('["childbearing_potential", "male"]', '["men"]', "applies_to = ['men']"),
        (
            'agrees_to = "participate in the Prometheus IL-2 patient registry, PROCLAIM"\n',
            "",
            "criterion 'INCL07' (rule 'agreement') needs agrees_to",
        ),
        ('subtypes = ["clear_cell"]\n', "", "criterion 'INCL01' (rule 'histology_subtype')"),
    ],
)
def test_a_criterion_the_evaluator_cannot_use_is_one_protocol_error(
    renal_protocol, edited_protocol, old, new, message
):
    """A field that is no yes/no column, an unknown group or a missing entry names the file."""
    path = edited_protocol(renal_protocol.path, (old, new))
    with pytest.raises(ProtocolError, match=f"^{re.escape(str(path))}: .*{re.escape(message)}"):
        screen(eligible(), protocol=load_protocol(path))


def test_the_record_table_shows_the_fields_the_protocol_asks_for(renal_protocol):
    """A melanoma record is not shown 'missing' a subtype its protocol never asks for."""
    record = eligible()
    for field in ("histology_subtype", "registry_agreed", "pregnancy_precautions_agreed"):
        record.pop(field)
    sister = {"histology_subtype", "registry_agreed", "pregnancy_precautions_agreed"}
    assert not sister & set(screen(record, protocol=PROTOCOL).data["field"])
    renal = screen(record, protocol=renal_protocol).data.set_index("field")
    assert set(renal.loc[sorted(sister), "read_as"]) == {"missing"}
    shown = screen(eligible(histology_subtype="papillary"), protocol=PROTOCOL).data
    assert "histology_subtype" in set(shown["field"])
