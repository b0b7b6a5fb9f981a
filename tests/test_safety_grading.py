"""CTCAE v5.0 lab grades: every boundary on both sides, in two units (CTCAE v5.0, NCI 2017)."""

from __future__ import annotations

import pandas as pd
import pytest

from studylib.safety import CTCAE, grade_lab
from studylib.safety.grading import grade_values
from studylib.units import Q_


def _cases(limits: dict, pairs: list[tuple[float, int]], unit: str, **fixed):
    return [(f"{value} {unit}", grade, {**limits, **fixed}) for value, grade in pairs]


# Creatinine increased: >ULN - 1.5 x ULN (1); >1.5 - 3.0 x ULN (2); >3.0 - 6.0 x ULN (3);
# >6.0 x ULN (4). mg/dL with ULN 1.0 mg/dL, and µmol/L with ULN 100 µmol/L.
CREATININE_ULN = [
    (1.0, 0),
    (1.01, 1),
    (1.5, 1),
    (1.51, 2),
    (3.0, 2),
    (3.01, 3),
    (6.0, 3),
    (6.01, 4),
]
CREATININE = _cases({"uln": "1.0 mg/dL"}, CREATININE_ULN, "mg/dL") + _cases(
    {"uln": "100 µmol/L"}, [(v * 100, g) for v, g in CREATININE_ULN], "µmol/L"
)

# x baseline: >1.5 - 3.0 x baseline (2); >3.0 baseline (3), whatever the ULN (table reading).
CREATININE_BASELINE = [(0.9, 0), (0.91, 2), (1.8, 2), (1.81, 3)]
CREATININE += _cases(
    {"uln": "2.0 mg/dL", "baseline": "0.6 mg/dL"}, CREATININE_BASELINE, "mg/dL"
) + _cases(
    {"uln": "200 umol/L", "baseline": "60 umol/L"},
    [(v * 100, g) for v, g in CREATININE_BASELINE],
    "umol/L",
)


@pytest.mark.parametrize(("value", "grade", "limits"), CREATININE)
def test_creatinine_boundaries(value, grade, limits):
    assert grade_lab("creatinine", value, **limits).grade == grade


def test_creatinine_takes_the_higher_of_uln_and_baseline_grades():
    """1.6 mg/dL is 1.33 x ULN (grade 1) and 3.2 x baseline (grade 3): grade 3."""
    result = grade_lab("creatinine", "1.6 mg/dL", uln="1.2 mg/dL", baseline="0.5 mg/dL")
    assert result.grade == 3 and result.term == "Creatinine increased"
    assert "3.20 x baseline (0.5 mg/dL)" in result.reason


def test_creatinine_without_baseline_says_so():
    result = grade_lab("creatinine", "1.3 mg/dL", uln="1.2 mg/dL")
    assert result.grade == 1
    assert "the x baseline grades were not judged" in result.reason


def test_creatinine_in_mixed_units():
    """176 µmol/L is 1.99 mg/dL: 1.66 x a ULN of 1.2 mg/dL."""
    result = grade_lab("creatinine", "176 µmol/L", uln="1.2 mg/dL")
    assert result.grade == 2
    assert result.reason.startswith("Creatinine increased grade 2: 176 µmol/L (1.991 mg/dL)")


# Blood bilirubin increased. Normal baseline: >ULN - 1.5 x ULN (1); >1.5 - 3.0 (2);
# >3.0 - 10.0 (3); >10.0 x ULN (4). Abnormal baseline: > 1.0 - 1.5 x baseline (1) ...
BILI_NORMAL = [(1.0, 0), (1.01, 1), (1.5, 1), (1.51, 2), (3.0, 2), (3.01, 3), (10.0, 3), (10.1, 4)]
BILI_ABNORMAL = [(2.0, 0), (2.01, 1), (3.0, 1), (3.01, 2), (6.0, 2), (6.01, 3), (20, 3), (20.1, 4)]
BILIRUBIN = (
    _cases({"uln": "1.0 mg/dL"}, BILI_NORMAL, "mg/dL")
    + _cases({"uln": "20 µmol/L"}, [(v * 20, g) for v, g in BILI_NORMAL], "µmol/L")
    + _cases({"uln": "1.0 mg/dL", "baseline": "0.5 mg/dL"}, BILI_NORMAL, "mg/dL")
    + _cases({"uln": "1.0 mg/dL", "baseline": "2.0 mg/dL"}, BILI_ABNORMAL, "mg/dL")
    + _cases(
        {"uln": "20 µmol/L", "baseline": "40 µmol/L"},
        [(v * 20, g) for v, g in BILI_ABNORMAL],
        "µmol/L",
    )
)


@pytest.mark.parametrize(("value", "grade", "limits"), BILIRUBIN)
def test_bilirubin_boundaries(value, grade, limits):
    assert grade_lab("bilirubin", value, **limits).grade == grade


def test_baseline_at_the_uln_is_normal():
    """A baseline equal to the ULN is not above it: graded against the ULN."""
    assert grade_lab("bilirubin", "1.2 mg/dL", uln="1.0 mg/dL", baseline="1.0 mg/dL").grade == 1


# AST / ALT increased. Normal baseline: >ULN - 3.0 x ULN (1); >3.0 - 5.0 (2); >5.0 - 20.0 (3);
# >20.0 (4). Abnormal baseline: 1.5 - 3.0 x baseline (1, 1.5 included); >3.0 - 5.0 (2) ...
TRANSAMINASE_NORMAL = [(40, 0), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)]
TRANSAMINASE_ABNORMAL = [
    (119, 0),
    (120, 1),
    (240, 1),
    (241, 2),
    (400, 2),
    (401, 3),
    (1600, 3),
    (1601, 4),
]
TRANSAMINASES = (
    _cases({"uln": "40 U/L"}, TRANSAMINASE_NORMAL, "U/L")
    + _cases({"uln": "0.6 µkat/L"}, [(v * 0.015, g) for v, g in TRANSAMINASE_NORMAL], "µkat/L")
    + _cases({"uln": "40 IU/L", "baseline": "80 IU/L"}, TRANSAMINASE_ABNORMAL, "IU/L")
    + _cases(
        {"uln": "0.6 µkat/L", "baseline": "1.2 µkat/L"},
        [(round(v / 60 * 0.9, 6), g) for v, g in TRANSAMINASE_ABNORMAL],
        "µkat/L",
    )
)


@pytest.mark.parametrize("test", ["ast", "alt"])
@pytest.mark.parametrize(("value", "grade", "limits"), TRANSAMINASES)
def test_transaminase_boundaries(test, value, grade, limits):
    assert grade_lab(test, value, **limits).grade == grade


def test_abnormal_baseline_is_said():
    result = grade_lab("alt", "130 U/L", uln="40 U/L", baseline="80 U/L")
    assert result.grade == 1 and result.term == "Alanine aminotransferase increased"
    assert "1.62 x baseline (80 U/L)" in result.reason
    assert "above the ULN" in result.reason
    without = grade_lab("alt", "130 U/L", uln="40 U/L")
    assert without.grade == 2 and "No baseline given" in without.reason


# Decreased counts: <LLN - a (1); <a - b (2); <b - c (3); <c (4), absolute limits.
def _counts(lln: float, limits: list[float], scale: float, unit: str):
    pairs = [(lln, 0), (lln - 0.1 * min(limits), 1)]
    for grade, limit in enumerate(limits, start=2):
        pairs += [(limit, grade - 1), (round(limit - 0.01 * limit, 6), grade)]
    return _cases({"lln": f"{lln * scale} {unit}"}, [(v * scale, g) for v, g in pairs], unit)


PLATELETS = _counts(150, [75, 50, 25], 1, "x10^9/L") + _counts(150, [75, 50, 25], 1000, "/uL")
WBC = _counts(4.0, [3.0, 2.0, 1.0], 1, "x10^9/L") + _counts(4.0, [3.0, 2.0, 1.0], 1000, "/mm3")
NEUTROPHILS = _counts(2.0, [1.5, 1.0, 0.5], 1, "G/L") + _counts(2.0, [1.5, 1.0, 0.5], 1000, "/µL")
LYMPHOCYTES = _counts(1.0, [0.8, 0.5, 0.2], 1, "K/uL") + _counts(1.0, [0.8, 0.5, 0.2], 1, "x10^9/L")


@pytest.mark.parametrize(
    ("test", "value", "grade", "limits"),
    [("platelets", *c) for c in PLATELETS]
    + [("wbc", *c) for c in WBC]
    + [("neutrophils", *c) for c in NEUTROPHILS]
    + [("lymphocytes", *c) for c in LYMPHOCYTES],
)
def test_count_boundaries(test, value, grade, limits):
    assert grade_lab(test, value, **limits).grade == grade


# Anemia: <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L (1); <10.0 - 8.0 g/dL;
# <6.2 - 4.9 mmol/L; <100 - 80 g/L (2); <8.0 g/dL; <4.9 mmol/L; <80 g/L (3).
ANEMIA = (
    _cases({"lln": "12 g/dL"}, [(12, 0), (11.9, 1), (10, 1), (9.9, 2), (8, 2), (7.9, 3)], "g/dL")
    + _cases({"lln": "120 g/L"}, [(120, 0), (119, 1), (100, 1), (99, 2), (80, 2), (79, 3)], "g/L")
    + _cases(
        {"lln": "7.4 mmol/L"},
        [(7.4, 0), (7.3, 1), (6.2, 1), (6.1, 2), (4.9, 2), (4.8, 3)],
        "mmol/L",
    )
)


@pytest.mark.parametrize(("value", "grade", "limits"), ANEMIA)
def test_anemia_boundaries(value, grade, limits):
    assert grade_lab("hemoglobin", value, **limits).grade == grade


def test_anemia_mmol_limits_are_ctcae_own():
    """6.2 mmol/L is 9.99 g/dL, below 10.0 g/dL, yet CTCAE's own mmol/L limit makes it grade 1."""
    result = grade_lab("hgb", "6.2 mmol/L", lln="12 g/dL")
    assert result.grade == 1 and result.term == "Anemia"


def test_grade_4_anemia_is_a_clinical_judgement():
    result = grade_lab("hemoglobin", "5 g/dL", lln="12 g/dL")
    assert result.grade == 3
    assert "Grade 4 ('Life-threatening consequences" in result.reason


# Hypoalbuminemia: <LLN - 3 g/dL; <LLN - 30 g/L (1); <3 - 2 g/dL (2); <2 g/dL (3).
ALBUMIN = _cases(
    {"lln": "3.5 g/dL"}, [(3.5, 0), (3.4, 1), (3.0, 1), (2.9, 2), (2.0, 2), (1.9, 3)], "g/dL"
) + _cases({"lln": "35 g/L"}, [(35, 0), (34, 1), (30, 1), (29, 2), (20, 2), (19, 3)], "g/L")


@pytest.mark.parametrize(("value", "grade", "limits"), ALBUMIN)
def test_albumin_boundaries(value, grade, limits):
    assert grade_lab("albumin", value, **limits).grade == grade


# Weight gain: 5 - <10% (1); 10 - <20% (2); >=20% from baseline (3).
WEIGHT = _cases(
    {"baseline": "80 kg"}, [(83.9, 0), (84, 1), (87.9, 1), (88, 2), (95.9, 2), (96, 3)], "kg"
) + _cases(
    {"baseline": "200 lb"},
    [(209.9, 0), (210, 1), (219.9, 1), (220, 2), (239.9, 2), (240, 3)],
    "lb",
)


@pytest.mark.parametrize(("value", "grade", "limits"), WEIGHT)
def test_weight_gain_boundaries(value, grade, limits):
    assert grade_lab("weight", value, **limits).grade == grade


def test_quantities_are_accepted():
    assert grade_lab("platelets", Q_(60, "G_per_L"), lln=Q_(150, "G_per_L")).grade == 2


def test_reason_quotes_ctcae_and_the_comparison():
    result = grade_lab("platelets", "60000/uL", lln="150 x10^9/L")
    assert result.reason == (
        "Platelet count decreased grade 2: 60000/uL (60 x10^9/L) is below 75 x10^9/L."
        " CTCAE v5.0 grade 2: '<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L'."
    )
    assert result.criterion == "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L"
    assert "27 Nov 2017" in result.source


def test_grade_0_names_grade_1():
    result = grade_lab("wbc", "5.0 x10^9/L", lln="4.0 x10^9/L")
    assert result.grade == 0
    assert "does not reach grade 1 ('<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L')" in result.reason


def test_limit_only_needed_when_it_decides():
    """Platelets of 60 are grade 2 whatever the LLN; 100 needs the LLN to tell 0 from 1."""
    assert grade_lab("platelets", "60 x10^9/L").grade == 2
    with pytest.raises(ValueError, match=r"needs the lower limit of normal \(lln=\)"):
        grade_lab("platelets", "100 x10^9/L")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("potassium", "4 mmol/L"), {}, "unknown laboratory test 'potassium'.*creatinine"),
        (("creatinine", "2 mg/dL"), {}, r"needs the upper limit of normal \(uln=\)"),
        (("ast", "100 U/L"), {"baseline": "50 U/L"}, "whether the baseline was normal"),
        (("creatinine", "2 kg"), {"uln": "1 mg/dL"}, "value: '2 kg': expected a quantity"),
        (("platelets", "60 g/dL"), {}, "expected a quantity in units of x10"),
        (("creatinine", "2"), {"uln": "1 mg/dL"}, "the unit is missing"),
        (("creatinine", "1,5 mg/dL"), {"uln": "1 mg/dL"}, "decimal comma"),
        (("creatinine", "-1 mg/dL"), {"uln": "1 mg/dL"}, "negative"),
        (("creatinine", ""), {"uln": "1 mg/dL"}, "a value is needed"),
        (("creatinine", "1 mg/dL"), {"uln": "0 mg/dL"}, "uln '0 mg/dL': expected more than 0"),
        (("albumin", "500 µmol/L"), {"lln": "3.5 g/dL"}, "needs the analyte"),
        (("weight", "80 kg"), {}, r"needs the baseline value \(baseline=\)"),
    ],
)
def test_bad_input_is_a_clear_error(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        grade_lab(*args, **kwargs)


def test_every_term_cites_ctcae_v5_and_has_its_words():
    assert CTCAE.version == "CTCAE v5.0" and "November 27, 2017" in CTCAE.source
    assert set(CTCAE.tests) >= {
        "creatinine",
        "bilirubin",
        "ast",
        "alt",
        "platelets",
        "hemoglobin",
        "wbc",
        "neutrophils",
        "lymphocytes",
        "albumin",
        "weight",
    }
    for term in CTCAE.terms:
        assert term.source.startswith("CTCAE v5.0 (NCI, 27 Nov 2017)")
        assert set(term.grades) >= {b.grade for b in term.boundaries}


@pytest.mark.parametrize(
    ("test", "cases"),
    [
        ("creatinine", CREATININE),
        ("bilirubin", BILIRUBIN),
        ("ast", TRANSAMINASES),
        ("platelets", PLATELETS),
        ("hemoglobin", ANEMIA),
        ("albumin", ALBUMIN),
        ("weight", WEIGHT),
    ],
)
def test_a_column_is_graded_as_each_value_alone(test, cases):
    """grade_values gives grade_lab's grade for every boundary case, limits as columns."""
    frame = pd.DataFrame(
        {
            "value": [value for value, _, _ in cases],
            "uln": [limits.get("uln") for _, _, limits in cases],
            "lln": [limits.get("lln") for _, _, limits in cases],
            "baseline": [limits.get("baseline") for _, _, limits in cases],
        },
        index=[f"row{i}" for i in range(len(cases))],
    )
    grades = grade_values(
        test, frame["value"], uln=frame["uln"], lln=frame["lln"], baseline=frame["baseline"]
    )
    assert grades.index.tolist() == frame.index.tolist()
    assert grades.tolist() == [grade for _, grade, _ in cases]


def test_a_column_leaves_ungradable_values_missing():
    """A missing value, or one whose grade needs the missing LLN, is <NA>, not a guess."""
    grades = grade_values("platelets", ["60 x10^9/L", "", "100 x10^9/L", None])
    assert grades.tolist() == [2, pd.NA, pd.NA, pd.NA]
    with pytest.raises(ValueError, match="value: 'sixty'"):
        grade_values("platelets", ["60 x10^9/L", "sixty"], lln="150 x10^9/L")


def test_adverse_event_terms_know_their_soc_and_grades():
    """Laboratory terms are event terms too; 'Platelet count decreased' has no grade 5."""
    assert CTCAE.event("Capillary leak syndrome").grades == (2, 3, 4, 5)
    assert CTCAE.event("  anemia ").soc == "Blood and lymphatic system disorders"
    assert 5 not in CTCAE.event("Platelet count decreased").grades
    assert 5 in CTCAE.event("Anemia").grades
    assert "Hypotension" in CTCAE.event_terms
    with pytest.raises(ValueError, match="'Hypotensoin' is not a CTCAE v5.0 term.*Hypotension"):
        CTCAE.event("Hypotensoin")
