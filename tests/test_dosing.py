"""IL-2 dose arithmetic: 600,000 IU/kg x weight in IU, MIU, mg, mL and whole 22 MIU vials."""

from __future__ import annotations

import pint
import pytest

from studylib.dosing import il2_dose, iu_to_mg, mg_to_iu, parse_weight, vials_for
from studylib.units import Q_


def test_72_kg_dose_in_every_unit():
    """72 kg gives 43,200,000 IU = 43.2 MIU = 2.64 mg = 2.4 mL, from 2 vials."""
    dose = il2_dose("72 kg")
    assert dose.iu == 43_200_000
    assert dose.miu == pytest.approx(43.2)
    assert dose.mg == pytest.approx(2.64)
    assert dose.volume.to("mL").magnitude == pytest.approx(2.4)
    assert dose.vials == 2


def test_176_lb_is_converted_to_kg_before_dosing():
    """176 lb = 79.83 kg gives 47,899,354 IU = 47.9 MIU = 2.927 mg, from 3 vials."""
    dose = il2_dose("176 lb")
    assert dose.weight.to("kg").magnitude == pytest.approx(79.8323, abs=1e-4)
    assert dose.iu == pytest.approx(47_899_354.272)
    assert dose.miu == pytest.approx(47.899, abs=1e-3)
    assert dose.mg == pytest.approx(2.9272, abs=1e-4)
    assert dose.vials == 3


def test_quantity_weight_accepted():
    """A pint Quantity of the workbook's registry is a valid weight."""
    assert il2_dose(Q_(72, "kg")).iu == 43_200_000


def test_label_conversion_both_ways():
    """18 MIU is 1.1 mg and 1.1 mg is 18 MIU (Proleukin label)."""
    assert iu_to_mg(Q_(18, "MIU")).to("mg").magnitude == pytest.approx(1.1)
    assert mg_to_iu(Q_(1.1, "mg")).to("MIU").magnitude == pytest.approx(18)
    assert mg_to_iu(iu_to_mg(Q_(43.2, "MIU"))).to("MIU").magnitude == pytest.approx(43.2)


def test_iu_never_converts_to_mg_implicitly():
    """IU has its own dimension: only the explicit conversion reaches milligrams."""
    with pytest.raises(pint.DimensionalityError):
        Q_(18, "MIU").to("mg")


@pytest.mark.parametrize("wrong", [Q_(2, "mg"), Q_(72, "kg")])
def test_iu_to_mg_refuses_other_quantities(wrong):
    """iu_to_mg needs an activity in IU."""
    with pytest.raises(ValueError, match="is not an activity in IU"):
        iu_to_mg(wrong)


def test_mg_to_iu_refuses_an_activity():
    """mg_to_iu needs a mass."""
    with pytest.raises(ValueError, match="is not a mass"):
        mg_to_iu(Q_(18, "MIU"))


@pytest.mark.parametrize(
    ("dose", "vials"),
    [("22 MIU", 1), ("22.0001 MIU", 2), ("44 MIU", 2), ("66 MIU", 3), ("66.1 MIU", 4), ("1 IU", 1)],
)
def test_whole_vials_at_each_vial_boundary(dose, vials):
    """A dose needs whole 22 MIU vials: exactly 22 MIU is one vial, a little more is two."""
    assert vials_for(Q_(dose)) == vials


@pytest.mark.parametrize("weight", ["30 kg", "300 kg", "66.2 lb", "661 lb"])
def test_weight_at_the_plausible_limits_is_accepted(weight):
    """30 kg and 300 kg (in kg or lb) are the plausibility limits, inclusive."""
    assert 30 <= parse_weight(weight).to("kg").magnitude <= 300


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("29.9 kg", "outside the plausible range"),
        ("300.1 kg", "outside the plausible range"),
        ("66 lb", "outside the plausible range"),
        ("72", "the unit is missing"),
        (72, "has no unit"),
        (72.5, "has no unit"),
        ("72 cm", "expected a quantity in units of kg"),
        ("43.2 MIU", "expected a quantity in units of kg"),
        ("", "expected a number followed by a unit"),
        ("heavy", "expected a number followed by a unit"),
        (None, "expected text with a number and a unit"),
        ("-72 kg", "negative"),
    ],
)
def test_bad_weight_says_what_is_valid(weight, message):
    """A weight without a unit, of another dimension, or outside 30-300 kg is refused."""
    with pytest.raises(ValueError, match=message) as error:
        il2_dose(weight)
    assert "from 30 kg to 300 kg" in str(error.value)


@pytest.mark.parametrize(
    ("weight", "kg", "iu"),
    [
        ("182 lb", "82.554 kg", "49,532,000 IU"),
        ("176 lb", "79.832 kg", "47,899,000 IU"),
        ("77.5 kg", "77.5 kg", "46,500,000 IU"),
    ],
)
def test_preparation_table_dose_multiplies_out_from_the_weight_shown(weight, kg, iu):
    """The weight is shown to the gram and the dose to 1,000 IU: 600,000 IU/kg x the weight
    shown, rounded, is the dose shown (82.6 kg beside 49,532,287 IU would not be)."""
    table = il2_dose(weight).preparation_table().set_index("unit")
    assert table.loc["kg", "shown"].startswith(kg)
    assert table.loc["IU", "shown"] == iu
    assert table.loc["IU", "rule"] == f"600,000 IU/kg x {kg}, to the nearest 1,000 IU"
    shown_kg = float(kg.split()[0])
    assert f"{round(600_000 * shown_kg, -3):,.0f} IU" == iu
    assert table.loc["IU/kg", "rule"] == "registry: 600,000 IU/kg IV every 8 h"


def test_preparation_table_lists_every_figure_with_its_rule():
    """The preparation table shows weight, dose in IU/MIU/mg, volume and vials, with sources."""
    table = il2_dose("72 kg").preparation_table()
    shown = dict(zip(table["unit"], table["shown"], strict=True))
    assert shown["IU"] == "43,200,000 IU"
    assert shown["MIU"] == "43.2 MIU"
    assert shown["mg"] == "2.64 mg"
    assert shown["mL"] == "2.40 mL"
    assert table.loc[table["item"] == "Vials per dose", "value"].item() == 2
    assert table.loc[table["item"] == "Vials per cycle", "value"].item() == 28
    assert table["rule"].str.len().gt(0).all()
