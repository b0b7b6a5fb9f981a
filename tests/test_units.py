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

# Spellings a laboratory might send beyond the list: each reads as the right quantity.
MORE_SPELLINGS = [
    ("3.0 x 10^9 /L", 3.0, "G_per_L"),
    ("4.5 10E9/L", 4.5, "G_per_L"),
    ("4.5 x10E9/L", 4.5, "G_per_L"),
    ("4.5 ×10^9/l", 4.5, "G_per_L"),
    ("2.9 x 10^9 cells/L", 2.9, "G_per_L"),
    ("3 G/l", 3.0, "G_per_L"),
    ("2.9 Gpt/L", 2.9, "G_per_L"),
    ("2.9 K/mm3", 2.9, "G_per_L"),
    ("2.9 K/cumm", 2.9, "G_per_L"),
    ("2.9 thou/uL", 2.9, "G_per_L"),
    ("2.9 x 10e3/uL", 2.9, "G_per_L"),
    ("3,000/mcL", 3.0, "G_per_L"),
    ("2900 /cumm", 2.9, "G_per_L"),
    ("12,345/uL", 12.345, "G_per_L"),
    ("9 g/dl", 9.0, "g/dL"),
    ("9 g%", 9.0, "g/dL"),
    ("1.9 mg%", 1.9, "mg/dL"),
    ("1.9 mg/100 mL", 1.9, "mg/dL"),
    ("170 μmol/l", 170.0, "µmol/L"),
    ("45 u/L", 45.0, "U/L"),
    ("176 lbs", 176 * 0.45359237, "kg"),
    ("80kg", 80.0, "kg"),
    ("600,000 IU/kg", 600_000.0, "IU/kg"),
]


@pytest.mark.parametrize(("text", "value", "unit"), SPELLINGS)
def test_clinical_spellings_parse(text, value, unit):
    """Each spelling a laboratory or clinician uses reads as the right quantity."""
    quantity = parse_quantity(text)
    assert quantity.to(unit).magnitude == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize(("text", "value", "unit"), MORE_SPELLINGS)
def test_other_laboratory_spellings_parse(text, value, unit):
    """Variants laboratories send (spaces, case, cells/, K/mm3, mg%) read as the same value."""
    quantity = parse_quantity(text)
    assert quantity.to(unit).magnitude == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("1,5 mg/dL", "write 1.5 if it is a decimal comma"),
        ("9,0 g/dL", "write 9.0 if it is a decimal comma"),
        ("0,900 mg/dL", "write 0.900 if it is a decimal comma"),
        ("1,50 mg/dL", "write 1.50 if it is a decimal comma"),
        ("1.234,5 /uL", "write 1234.5 if it is a decimal comma"),
        ("1,2,3 /uL", "expected a decimal point"),
    ],
)
def test_decimal_comma_is_never_guessed(text, suggestion):
    """A comma that could be a decimal comma is an error saying how to write the number."""
    with pytest.raises(ValueError, match="is not guessed at") as error:
        parse_quantity(text)
    assert str(error.value).startswith(repr(text)) and suggestion in str(error.value)


def test_thousands_separator_in_groups_of_three():
    """Commas between groups of three digits are thousands (US laboratories, the registry)."""
    assert parse_quantity("2,900/uL").magnitude == 2900
    assert parse_quantity("1,500 mg/dL").magnitude == 1500
    assert parse_quantity("2,900.5/uL").magnitude == 2900.5


@pytest.mark.parametrize(
    "text",
    ["1.9 MG/DL", "2.9 x10^9", "2.9 x10^9/uL", "2.9 10^6/uL", "1.5 x ULN", "2.9 x10(9)/L"],
)
def test_unread_spellings_are_errors_not_other_quantities(text):
    """A spelling that is not read is an unknown unit listing usable units, never a guess."""
    with pytest.raises(ValueError, match="unknown unit .*; expected a unit such as") as error:
        parse_quantity(text)
    assert str(error.value).startswith(repr(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4.5 thou/uL", "G_per_L"), ("100 k/mm3", "G_per_L"), ("3 G/l", "G_per_L")],
)
def test_look_alike_units_are_not_physics_units(text, expected):
    """'thou' (a thousandth of an inch), 'k' (Boltzmann) and 'G' (gravitation) are counts here."""
    assert parse_quantity(text, expected).check(expected)


def test_unknown_unit_names_the_expected_unit():
    """With an expected unit, an unknown one says which unit would be accepted."""
    with pytest.raises(ValueError, match="expected a unit convertible to mg/dL"):
        parse_quantity("1.9 mg/deciliter please", "mg/dL")


def test_enzyme_iu_is_the_enzyme_unit_where_an_enzyme_is_expected():
    """'45 IU/L' for an AST is 45 U/L; elsewhere IU stays aldesleukin's unit."""
    assert parse_quantity("45 IU/L", "U/L").to("U/L").magnitude == pytest.approx(45)
    assert parse_quantity("45 mIU/mL", "U/L").to("U/L").magnitude == pytest.approx(45)
    assert parse_quantity("45 IU/L").check("[biological_activity] / [volume]")
    with pytest.raises(ValueError, match="expected a quantity in units of U/L .*got IU/kg"):
        parse_quantity("45 IU/kg", "U/L")


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
    with pytest.raises(ValueError, match="cannot convert 18 MIU to mg; .* use .*iu_to_mg"):
        convert(Q_(18, "MIU"), "mg")
    assert Q_(18, "MIU").to("IU").magnitude == 18_000_000


def test_mass_to_molar_needs_the_analyte():
    """A mass concentration is not turned into a molar one without the molar mass."""
    with pytest.raises(ValueError, match="needs the analyte"):
        convert("1 mg/dL", "umol/L")


def test_unknown_target_unit_is_named_with_the_quantity():
    """Converting to a unit that does not exist quotes the quantity and the unit."""
    with pytest.raises(ValueError, match=r"cannot convert 1.9 mg/dL to 'blorp': unknown unit"):
        convert("1.9 mg/dL", "blorp")


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
        ("12 blorps", "unknown unit 'blorps'; expected a unit such as"),
        ("-3 kg", "negative value is not a possible measurement; expected 0 or more"),
        ("1e400 kg", "not a finite number; expected a number"),
        ("nan kg", "expected a number followed by a unit"),
        ("<0.5 mg/dL", "expected a number followed by a unit"),
        ("2.9 x10^9/L (low)", "unknown unit"),
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


@pytest.mark.parametrize("text", ["110 bpm", "110 beats/min", "110 /min"])
def test_heart_rate_spellings_are_per_minute(text):
    assert parse_quantity(text, "1/min").to("1/min").magnitude == pytest.approx(110)


def test_vital_sign_units_parse():
    assert parse_quantity("89 mmHg", "mmHg").magnitude == 89
    assert parse_quantity("90 %", "percent").magnitude == 90
    assert parse_quantity("0.16 L", "mL").to("mL").magnitude == pytest.approx(160)


@pytest.mark.parametrize("expected", ["nonsense", "[nonsense]", ["g/dL"], 5])
def test_expected_that_is_not_a_unit_names_the_input(expected):
    """A bad ``expected`` is a ValueError naming the text and the argument, not pint's error."""
    with pytest.raises(ValueError, match=r"'1 kg': cannot be checked against expected=") as error:
        parse_quantity("1 kg", expected)
    assert not isinstance(error.value, pint.errors.PintError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: parse_quantity("4 x10^9/L", "kg"),
        lambda: parse_quantity(Q_(4, "G_per_L"), "kg"),
        lambda: convert(Q_(4.1, "G_per_L"), "kg"),
        lambda: convert(Q_(4.1, "kg"), "G_per_L"),
    ],
)
def test_internal_unit_names_never_reach_a_message(call):
    """Counts are shown as x10^9/L, the way they were written, never as 'G_per_L'."""
    with pytest.raises(ValueError) as error:
        call()
    assert "G_per_L" not in str(error.value) and "x10^9/L" in str(error.value)


def test_format_quantity_shows_counts_as_clinicians_write_them():
    """A count formats as '4.1 x10^9/L'."""
    assert format_quantity(Q_(4.1, "G_per_L")) == "4.1 x10^9/L"


@pytest.mark.parametrize(
    "text",
    ["1 k" + " " * 60_000 + "g", "1 " + " x" * 30_000, "1 mg/dL" + "\n" * 60_000 + "x"],
)
def test_a_huge_cell_is_an_error_quoted_short(text):
    """A cell of tens of thousands of characters is read (see benchmarks/bench_units.py for
    its speed) and refused with its start and length, not quoted whole nor a RecursionError."""
    with pytest.raises(ValueError) as error:
        parse_quantity(text, "mg/dL")
    message = str(error.value)
    assert f"({len(text):,} characters)" in message and len(message) < 400
