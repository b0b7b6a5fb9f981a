"""The unit registry reads what clinicians write and converts with exact factors."""

from __future__ import annotations

import pint
import pytest

from studylib.units import Q_, convert, format_quantity, parse_quantities, parse_quantity, ureg

SPELLINGS = [
    ("2.9 x10^9/L", 2.9, "G_per_L"),
    ("2.9 10^9/L", 2.9, "G_per_L"),
    ("2.9 x 10⁹/L", 2.9, "G_per_L"),
    ("2900/uL", 2.9, "G_per_L"),
    ("2900 /µL", 2.9, "G_per_L"),
    ("2900 /μL", 2.9, "G_per_L"),
    ("2,900/µL", 2.9, "G_per_L"),
    ("2.9 K/uL", 2.9, "G_per_L"),
    ("2.9 x10^3/uL", 2.9, "G_per_L"),
    ("2900 cells/mm3", 2.9, "G_per_L"),
    ("3.0 x 109/L", 3.0, "G_per_L"),
    ("3.0 x10*9/L", 3.0, "G_per_L"),
    ("3.0 G/L", 3.0, "G_per_L"),
    ("9.0 g/dL", 9.0, "g/dL"),
    ("90 g/L", 9.0, "g/dL"),
    ("1.9 mg/dL", 1.9, "mg/dL"),
    ("32 umol/L", 32.0, "µmol/L"),
    ("32 µmol/L", 32.0, "µmol/L"),
    ("45 U/L", 45.0, "U/L"),
    ("176 lb", 79.8323, "kg"),
    ("80 kg", 80.0, "kg"),
    ("20 Gy", 20.0, "Gy"),
    ("600000 IU/kg", 600_000.0, "IU/kg"),
    ("70 %", 70.0, "percent"),
]


@pytest.mark.parametrize(("text", "value", "unit"), SPELLINGS)
def test_clinical_spellings_parse(text, value, unit):
    """Each spelling a laboratory or clinician uses reads as the right quantity."""
    quantity = parse_quantity(text)
    assert quantity.to(unit).magnitude == pytest.approx(value, rel=1e-6)


def test_units_print_with_capital_litre():
    """Concentrations print as clinicians write them (mg/dL, not mg/dl)."""
    assert f"{Q_(1, 'mg/dL'):~P}" == "1 mg/dL"


def test_creatinine_molar_factor_is_exact():
    """Creatinine converts through 113.12 g/mol: 1 mg/dL = 88.40 µmol/L."""
    assert convert("1 mg/dL", "umol/L", "creatinine").magnitude == pytest.approx(
        10_000 / 113.12, rel=1e-12
    )
    assert convert("170 umol/L", "mg/dL", "creatinine").magnitude == pytest.approx(
        170 * 113.12 / 10_000, rel=1e-12
    )


def test_bilirubin_molar_factor_is_exact():
    """Bilirubin converts through 584.66 g/mol: 1 mg/dL = 17.10 µmol/L."""
    assert convert("1 mg/dL", "umol/L", "bilirubin").magnitude == pytest.approx(
        10_000 / 584.66, rel=1e-12
    )


def test_hemoglobin_conversions():
    """Haemoglobin: 1 g/dL = 10 g/L = 0.6206 mmol/L (per haem, 16114.5 g/mol)."""
    assert convert("12 g/dL", "g/L").magnitude == pytest.approx(120)
    assert convert("1 g/dL", "mmol/L", "haemoglobin").magnitude == pytest.approx(
        10_000 / 16_114.5, rel=1e-12
    )


def test_counts_per_microlitre_equal_giga_per_litre():
    """1,000/µL is exactly 1 x10^9/L and 1 K/µL."""
    assert convert("1000/uL", "G_per_L").magnitude == pytest.approx(1.0, rel=1e-12)
    assert convert("1 K/uL", "G_per_L").magnitude == pytest.approx(1.0, rel=1e-12)


def test_pounds_to_kilograms_exact():
    """1 lb is 0.45359237 kg by definition."""
    assert convert("176 lb", "kg").magnitude == pytest.approx(176 * 0.45359237, rel=1e-12)


def test_iu_is_not_mass():
    """IU has its own dimension: converting a dose to mg needs the product's named function."""
    with pytest.raises(ValueError, match="cannot convert"):
        convert(Q_(18, "MIU"), "mg")
    assert Q_(18, "MIU").to("IU").magnitude == 18_000_000


def test_mass_to_molar_needs_the_analyte():
    """A mass concentration is not turned into a molar one without the molar mass."""
    with pytest.raises(ValueError, match="needs the analyte"):
        convert("1 mg/dL", "umol/L")


def test_unknown_analyte_is_named():
    """An analyte without a known molar mass is refused, listing the known ones."""
    with pytest.raises(ValueError, match="unknown analyte 'glucose'"):
        convert("1 mg/dL", "umol/L", "glucose")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a number followed by a unit"),
        ("abc", "expected a number followed by a unit"),
        ("12", "the unit is missing"),
        ("12 blorps", "unknown unit"),
        ("-3 kg", "negative"),
        ("1e400 kg", "not a finite number"),
    ],
)
def test_bad_text_is_a_clear_error(text, message):
    """Unreadable text raises ValueError quoting the text and saying what was expected."""
    with pytest.raises(ValueError, match=message) as error:
        parse_quantity(text)
    assert repr(text) in str(error.value)


def test_not_text_is_refused():
    """A bare number is not a quantity: the unit must be written."""
    with pytest.raises(ValueError, match="expected text"):
        parse_quantity(80)


def test_expected_dimension_is_enforced():
    """A weight where a length is expected is refused, naming both."""
    with pytest.raises(ValueError, match=r"expected a quantity in dimension \[length\], got kg"):
        parse_quantity("80 kg", "[length]")
    with pytest.raises(ValueError, match="got lb"):
        parse_quantity("176 lb", "cm")


def test_expected_unit_accepts_molar_for_mass_concentration():
    """Creatinine in µmol/L is accepted where mg/dL is expected (convertible by analyte)."""
    assert parse_quantity("88 umol/L", "mg/dL").units == ureg.Unit("umol/L")


def test_foreign_registry_is_refused():
    """Quantities from another pint registry cannot be mixed in."""
    other = pint.UnitRegistry()
    with pytest.raises(ValueError, match="another unit registry"):
        parse_quantity(other.Quantity(1, "kg"))


def test_negative_allowed_on_request():
    """A change (not a measurement) may be negative when the caller says so."""
    assert parse_quantity("-5 mm", allow_negative=True).magnitude == -5


def test_parse_quantities_column():
    """A column parses each spelling once, keeps missing values missing and reports errors."""
    result = parse_quantities(["2900/uL", "", None, "3.1 x10^9/L", "bad"], "G_per_L", to="G_per_L")
    assert result["magnitude"].round(6).tolist()[0] == 2.9
    assert result["magnitude"].isna().tolist() == [False, True, True, False, True]
    assert result["error"].tolist()[:4] == ["", "", "", ""]
    assert "'bad'" in result["error"].iloc[4]


def test_format_quantity_rounds_for_people():
    """Float noise is not shown to clinicians."""
    dose = Q_(600_000, "IU/kg") * Q_(72, "kg")
    assert format_quantity(dose.to("MIU")) == "43.2 MIU"
