"""The screening form follows the protocol it is given, and names what the engine names."""

from __future__ import annotations

import pytest

from studylib.eligibility import screen
from studylib.protocol import PROTOCOL
from studylib.widgets.screening import ScreeningForm


@pytest.fixture
def variant_form(variant_protocol) -> ScreeningForm:
    return ScreeningForm(protocol=variant_protocol)


def test_the_form_screens_under_its_protocol(variant_form, variant_protocol):
    """Under the variant the checklist has the variant's criteria and ids, and WBC 3.4 x10^9/L
    (a pass under the bundled file) fails EX-8; 3.5 passes."""
    assert variant_form.result.status == "eligible"
    table = variant_form.table()
    assert table["id"].tolist() == [c.id for c in variant_protocol.eligibility.criteria]
    variant_form.labs["wbc"][0].value = "3.4"
    assert variant_form.result.failed == ["EX-8"]
    assert "<b>EX-8 White blood cells</b>: WBC 3.4 x10^9/L is below 3.5" in (
        variant_form.verdict.value
    )
    assert screen(variant_form.record()).for_rule("wbc").status == "pass"
    variant_form.labs["wbc"][0].value = "3.5"
    assert variant_form.result.status == "eligible"


def test_the_form_offers_what_the_protocol_allows(variant_form, variant_protocol):
    """Scores up to the protocol's plausible ECOG, its site names, one foci row more than it
    treats; ECOG 2 passes under the variant."""
    ecog = [value for _, value in variant_form.fields["ecog"].options if value != ""]
    assert ecog == list(range(variant_protocol.plausibility.ecog_max + 1))
    assert len(variant_form.sites) == variant_protocol.sbrt.max_treated_sites + 1
    assert "adrenal" in variant_form.sites[0][0].options
    assert len(ScreeningForm().sites) == PROTOCOL.sbrt.max_treated_sites + 1
    variant_form.fields["ecog"].value = 2
    assert variant_form.result.for_rule("ecog").status == "pass"


def test_the_registry_wording_is_the_files(variant_form, variant_protocol):
    """The accordion quotes every criterion of the form's protocol, named as the engine names
    it, and no criterion of another file."""
    wording = variant_form.children[-1].children[0].value
    for criterion in variant_protocol.eligibility.criteria:
        assert f"<b>{criterion.id} {criterion.label}</b>" in wording
    assert not any(f"<b>{c.id} " in wording for c in PROTOCOL.eligibility.criteria)


def test_lab_boxes_are_named_as_the_reasons_name_them():
    """Each laboratory box carries the name the criterion's reason uses for that value."""
    form = ScreeningForm()
    form.labs["hgb"][0].value = ""
    form.labs["creatinine"][0].value = ""
    reasons = {c.id: c.reason for c in form.result.criteria}
    for field in ("hgb", "creatinine"):
        name = form.labs[field][0].description
        assert f"{name} is not recorded." in reasons.values()
