"""Laboratory and pulmonary-function criteria at their thresholds, in every unit path."""

from __future__ import annotations

import pytest
from eligibility_records import eligible

from studylib.eligibility import screen
from studylib.units import Q_, convert


def verdict(criterion: str, **changes: object):
    return screen(eligible(**changes)).criterion(criterion)


# --- EXCL08: WBC < 3.0 x10^9/L -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2,900/µL", "2900/uL", "2.9 x10^9/L", "2.9 K/uL", "2900 cells/mm3", "2.9 x 10⁹/L"],
)
def test_wbc_below_three_fails_in_every_unit(value):
    """2.9 x10^9/L, however the laboratory writes it, is below 3.0 x10^9/L and fails."""
    result = verdict("EXCL08", wbc=value)
    assert result.status == "fail"
    assert "2.9 x10^9/L" in result.reason and "below 3.0 x10^9/L" in result.reason


def test_wbc_reason_shows_value_unit_and_what_the_lab_wrote():
    """The reason names the converted value, the threshold and the laboratory's spelling."""
    result = verdict("EXCL08", wbc="2,900/µL")
    assert result.reason == "WBC 2.9 x10^9/L (reported as 2,900/µL) is below 3.0 x10^9/L."


@pytest.mark.parametrize(
    "value",
    [
        "3.0 x10^9/L",
        "3000/uL",
        "3,000/µL",
        "3 K/uL",
        "3.0 K/µL",
        "3000 cells/mm3",
        "3000/mm³",
        "3.0e9/L",
    ],
)
def test_wbc_exactly_three_passes(value):
    """Exactly 3.0 x10^9/L is not below 3.0 and passes, even after unit conversion."""
    result = verdict("EXCL08", wbc=value)
    assert result.status == "pass"
    assert result.reason.startswith("WBC 3.0 x10^9/L")
    assert result.reason.endswith("is at least 3.0 x10^9/L.")


def test_wbc_just_below_threshold_is_not_printed_as_the_threshold():
    """2,999/µL fails, and its reason never reads "3.0 is below 3.0"."""
    result = verdict("EXCL08", wbc="2999/uL")
    assert result.status == "fail"
    assert "2.999 x10^9/L" in result.reason


# --- EXCL09: Hgb < 9.0 g/dL ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("89 g/L", "fail"),
        ("8.9 g/dL", "fail"),
        ("90 g/L", "pass"),
        ("9.0 g/dL", "pass"),
        ("5.5 mmol/L", "fail"),
        ("5.6 mmol/L", "pass"),
    ],
)
def test_hemoglobin_threshold_in_g_per_dl_g_per_l_and_mmol(value, status):
    """Haemoglobin below 9.0 g/dL fails (89 g/L fails, 90 g/L passes; mmol/L via the haem)."""
    assert verdict("EXCL09", hgb=value).status == status


def test_hemoglobin_exactly_9_in_mmol_per_l_passes_despite_float_noise():
    """9.0 g/dL converted to mmol/L (through the haem) and written out in full passes."""
    exact = convert(Q_(9.0, "g/dL"), "mmol/L", "hemoglobin").magnitude
    assert verdict("EXCL09", hgb=f"{exact!r} mmol/L").status == "pass"


def test_hemoglobin_reason_converts_g_per_l():
    """The reason shows 89 g/L as 8.9 g/dL against 9.0 g/dL."""
    result = verdict("EXCL09", hgb="89 g/L")
    assert result.reason == "Haemoglobin 8.9 g/dL (reported as 89 g/L) is below 9.0 g/dL."


# --- EXCL10: AST/ALT > 3 x ULN --------------------------------------------------------------


def test_transaminase_exactly_three_times_uln_passes():
    """AST and ALT at exactly 3 x their upper limit of normal pass."""
    result = verdict("EXCL10", ast="120 U/L", ast_uln="40 U/L", alt="111 U/L", alt_uln="37 U/L")
    assert result.status == "pass"
    assert "AST 120 U/L is 3.0 x ULN (40 U/L)" in result.reason


@pytest.mark.parametrize(
    "changes",
    [
        {"ast": "121 U/L", "ast_uln": "40 U/L"},
        {"alt": "121 U/L", "alt_uln": "40 U/L"},
    ],
)
def test_ast_or_alt_above_three_times_uln_fails(changes):
    """Either AST or ALT above 3 x its own ULN fails."""
    result = verdict("EXCL10", **changes)
    assert result.status == "fail"
    assert "above 3 x the upper limit of normal" in result.reason


def test_transaminase_just_above_three_times_is_printed_with_its_decimals():
    """AST 120.1 U/L against a ULN of 40 fails, and the reason shows 120.1 (not 120) U/L."""
    result = verdict("EXCL10", ast="120.1 U/L", ast_uln="40 U/L")
    assert result.status == "fail"
    assert "AST 120.1 U/L is 3.002 x ULN (40 U/L)" in result.reason


def test_transaminase_exactly_three_times_in_microkatal_passes():
    """AST 1.8 µkat/L against a ULN of 0.6 µkat/L is exactly 3 x ULN after conversion: pass."""
    result = verdict("EXCL10", ast="1.8 µkat/L", ast_uln="0.6 µkat/L")
    assert result.status == "pass"
    assert "is 3.0 x ULN" in result.reason


def test_transaminase_uses_the_uln_given_with_each_value():
    """The same AST passes against a ULN of 50 U/L and fails against 30 U/L."""
    assert verdict("EXCL10", ast="100 U/L", ast_uln="50 U/L").status == "pass"
    assert verdict("EXCL10", ast="100 U/L", ast_uln="30 U/L").status == "fail"


def test_transaminase_in_microkatal_is_compared_in_units_per_litre():
    """An AST in µkat/L is converted (1 µkat/L = 60 U/L) before dividing by the ULN."""
    result = verdict("EXCL10", ast="2.5 µkat/L", ast_uln="40 U/L")
    assert result.status == "fail"
    assert "AST 150 U/L (reported as 2.5 µkat/L) is 3.75 x ULN" in result.reason


def test_transaminase_missing_uln_is_missing_but_a_known_excess_still_fails():
    """Without a ULN the criterion is missing; an AST already above 3 x ULN still fails."""
    assert verdict("EXCL10", alt_uln=None).status == "missing"
    assert verdict("EXCL10", alt_uln=None, ast="200 U/L").status == "fail"


# --- EXCL11 and EXCL12: bilirubin and creatinine > 1.9 mg/dL --------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("170 µmol/L", "fail"),
        ("170 umol/L", "fail"),
        ("160 µmol/L", "pass"),
        ("1.9 mg/dL", "pass"),
        ("1.91 mg/dL", "fail"),
    ],
)
def test_creatinine_threshold_in_mg_per_dl_and_micromol(value, status):
    """Creatinine above 1.9 mg/dL fails: 170 µmol/L (1.92 mg/dL) fails, 160 passes."""
    assert verdict("EXCL12", creatinine=value).status == status


def test_creatinine_exactly_1_9_written_in_micromol_passes():
    """1.9 mg/dL written in µmol/L (167.96, or the full conversion) is not above 1.9: pass."""
    exact = convert(Q_(1.9, "mg/dL"), "umol/L", "creatinine").magnitude
    for value, shown in (
        (f"{exact!r} µmol/L", "1.9 mg/dL"),
        (f"{exact / 1000!r} mmol/L", "1.9 mg/dL"),
        ("167.96 µmol/L", "1.89996 mg/dL"),
    ):
        result = verdict("EXCL12", creatinine=value)
        assert result.status == "pass", value
        assert result.reason == f"Creatinine {shown} (reported as {value}) is at most 1.9 mg/dL."


def test_creatinine_168_micromol_is_just_above_and_says_by_how_much():
    """168 µmol/L is 1.9004 mg/dL: above 1.9 mg/dL, and both the reason and the record table
    print it so (never "1.9 mg/dL" beside a failure)."""
    result = screen(eligible(creatinine="168 µmol/L"))
    assert result.criterion("EXCL12").status == "fail"
    assert result.criterion("EXCL12").reason == (
        "Creatinine 1.9004 mg/dL (reported as 168 µmol/L) is above 1.9 mg/dL."
    )
    assert result.data.set_index("field").loc["creatinine", "read_as"] == "1.9004 mg/dL"


def test_creatinine_reason_converts_micromol():
    """The reason shows 170 µmol/L as 1.92 mg/dL against 1.9 mg/dL."""
    result = verdict("EXCL12", creatinine="170 µmol/L")
    assert result.reason == "Creatinine 1.92 mg/dL (reported as 170 µmol/L) is above 1.9 mg/dL."


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("1.9 mg/dL", "pass"),
        ("1.91 mg/dL", "fail"),
        ("2.0 mg/dL", "fail"),
        ("32 µmol/L", "pass"),
        ("32.4 µmol/L", "pass"),
        ("32.5 µmol/L", "fail"),
        ("120 umol/L", "fail"),
    ],
)
def test_bilirubin_threshold_in_mg_per_dl_and_micromol(value, status):
    """Total bilirubin above 1.9 mg/dL fails (1.9 mg/dL is 32.498 µmol/L: 32.4 passes,
    32.5 fails)."""
    assert verdict("EXCL11", bilirubin=value).status == status


def test_bilirubin_exactly_1_9_written_in_micromol_passes():
    """1.9 mg/dL converted to µmol/L and written out in full is not above 1.9 mg/dL."""
    exact = convert(Q_(1.9, "mg/dL"), "umol/L", "bilirubin").magnitude
    result = verdict("EXCL11", bilirubin=f"{exact!r} µmol/L")
    assert result.status == "pass"
    assert result.reason.startswith("Total bilirubin 1.9 mg/dL (reported as")


@pytest.mark.parametrize(
    ("criterion", "field"),
    [("EXCL08", "wbc"), ("EXCL09", "hgb"), ("EXCL11", "bilirubin"), ("EXCL12", "creatinine")],
)
def test_missing_lab_is_missing_with_what_to_enter(criterion, field):
    """A lab that is not recorded makes its criterion missing, naming the field to fill."""
    result = verdict(criterion, **{field: ""})
    assert result.status == "missing"
    assert f"({field})" in result.resolve


# --- EXCL07: pulmonary function -------------------------------------------------------------


def test_pft_below_70_with_significant_lung_disease_fails():
    """DLCO below 70% of predicted with clinically significant lung disease excludes."""
    result = verdict("EXCL07", pft_dlco_pct=69, pulmonary_disease_significant="Y")
    assert result.status == "fail"
    assert "DLCO 69%" in result.reason and "below 70%" in result.reason


def test_pft_exactly_70_with_lung_disease_goes_to_review_not_fail():
    """70% is not below 70%: with lung disease it is below predicted, so the PI reviews."""
    result = verdict("EXCL07", pft_fev1_pct=70, pulmonary_disease_significant="Y")
    assert result.status == "review"


def test_pft_below_70_without_lung_disease_goes_to_pi_review():
    """Below 70% without clinically significant lung disease is for the PI, not an exclusion."""
    result = verdict("EXCL07", pft_fev1_fvc_pct=60, pulmonary_disease_significant="N")
    assert result.status == "review"
    assert "principal investigator" in result.resolve


def test_pft_below_predicted_goes_to_pi_review():
    """Any value below predicted (100%) asks the principal investigator to review."""
    result = verdict("EXCL07", pft_dlco_pct=95)
    assert result.status == "review"
    assert "DLCO" in result.reason and "below predicted" in result.reason


def test_pft_at_predicted_passes():
    """Values of 100% of predicted or more pass."""
    assert verdict("EXCL07", pft_dlco_pct=100, pft_fev1_pct="100 %").status == "pass"


def test_pft_below_70_with_unknown_lung_disease_is_missing():
    """Below 70% with lung disease not recorded cannot be decided: missing, asking for it."""
    result = verdict("EXCL07", pft_dlco_pct=60, pulmonary_disease_significant=None)
    assert result.status == "missing"
    assert "pulmonary_disease_significant" in result.resolve


def test_pft_missing_value_is_missing_unless_another_excludes():
    """A missing PFT value is missing; a value that already excludes still fails."""
    assert verdict("EXCL07", pft_fev1_pct=None).status == "missing"
    assert (
        verdict(
            "EXCL07", pft_fev1_pct=None, pft_dlco_pct=50, pulmonary_disease_significant=True
        ).status
        == "fail"
    )


@pytest.mark.parametrize(
    ("approved", "status", "says"),
    [
        ("", "review", "below predicted"),
        ("Y", "pass", "documented the patient's suitability"),
        ("N", "fail", "not suitable for high-dose IL-2"),
    ],
)
def test_pi_decision_closes_the_pulmonary_review(approved, status, says):
    """A PFT below predicted awaits the PI; the PI's documented decision passes or excludes."""
    result = screen(eligible(pft_dlco_pct=85, pft_pi_approved=approved))
    criterion = result.criterion("EXCL07")
    assert criterion.status == status
    assert says in criterion.reason


def test_pi_approval_cannot_override_significant_lung_disease():
    """Below 70% with significant lung disease excludes, whatever the PI recorded."""
    record = eligible(pft_fev1_pct=65, pulmonary_disease_significant="Y", pft_pi_approved="Y")
    criterion = screen(record).criterion("EXCL07")
    assert criterion.status == "fail"
    assert "clinically significant underlying lung disease" in criterion.reason
