"""The protocol file loads into validated dataclasses holding the registry's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

from studylib.protocol import PROTOCOL, ProtocolError, load_protocol

PROTOCOL_FILE = Path(__file__).resolve().parents[1] / "studylib" / "protocol.toml"


def test_il2_numbers_as_registered():
    """600,000 IU/kg every 8 hours, at most 14 doses a cycle and 28 over two cycles."""
    il2 = PROTOCOL.il2
    assert il2.dose_per_kg.to("IU/kg").magnitude == 600_000
    assert il2.dose_interval.to("hour").magnitude == 8
    assert il2.start_weekday == "Monday"
    assert (il2.max_doses_per_cycle, il2.max_doses_first_course) == (14, 28)
    assert il2.additional_cycles_for_responders == 4


def test_cycle_timing_reading():
    """Cycle 2 is planned 14 days after cycle 1 starts (label day 15), up to 7 days late."""
    assert PROTOCOL.il2.cycle_interval.to("day").magnitude == 14
    assert PROTOCOL.il2.allowed_delay.to("day").magnitude == 7
    assert "16 days" in PROTOCOL.il2.quote
    assert "16 days" in PROTOCOL.il2.reading


def test_product_conversion_numbers():
    """22 MIU vials; 18 MIU = 1.1 mg."""
    assert PROTOCOL.il2.vial_content.to("MIU").magnitude == 22
    assert PROTOCOL.il2.activity_per_mass_iu.to("MIU").magnitude == 18
    assert PROTOCOL.il2.activity_per_mass_mg.to("mg").magnitude == pytest.approx(1.1)


def test_sbrt_fractionation_by_enrollment_number():
    """Patients 1-20 receive one fraction on the Friday; 21 on, two (Wednesday and Friday)."""
    sbrt = PROTOCOL.sbrt
    assert sbrt.dose_per_fraction.to("Gy").magnitude == 20
    assert sbrt.fractionation_for(20).fractions == 1
    assert sbrt.fractionation_for(20).weekdays == ("Friday",)
    assert sbrt.fractionation_for(21).fractions == 2
    assert sbrt.fractionation_for(21).weekdays == ("Wednesday", "Friday")
    assert sbrt.fractionation_for(44).fractions == 2
    with pytest.raises(ValueError, match="numbers start at 1"):
        sbrt.fractionation_for(0)


def test_sbrt_sites():
    """Up to 3 foci of at most 7 cm in lung, mediastinum, chest wall, bone or liver."""
    sbrt = PROTOCOL.sbrt
    assert sbrt.max_treated_sites == 3
    assert sbrt.max_site_diameter.to("cm").magnitude == 7
    assert set(sbrt.amenable_sites) == {"lung", "mediastinum", "chest_wall", "bone", "liver"}
    assert "long_bone" in sbrt.not_amenable_sites


def test_assessment_timepoints():
    """Scans at weeks 7, 14 (primary) and 21; baseline within 28 days."""
    weeks = [t.week for t in PROTOCOL.assessments.timepoints]
    assert weeks == [7, 14, 21]
    assert [t.week for t in PROTOCOL.assessments.timepoints if t.primary] == [14]
    assert PROTOCOL.assessments.baseline_within.to("day").magnitude == 28


def test_eligibility_thresholds_with_units():
    """Thresholds carry units; bilirubin and creatinine are read as mg/dL, not g/dL."""
    e = PROTOCOL.eligibility
    assert e.wbc_min.to("G_per_L").magnitude == pytest.approx(3.0)
    assert e.hgb_min.to("g/dL").magnitude == pytest.approx(9.0)
    assert e.bilirubin_max.to("mg/dL").magnitude == pytest.approx(1.9)
    assert e.creatinine_max.to("mg/dL").magnitude == pytest.approx(1.9)
    assert e.transaminase_max_x_uln == 3
    assert e.max_ecog == 1
    assert e.minimum_age.to("year").magnitude == 18
    assert e.pregnancy_test_window.to("hour").magnitude == 72
    assert "g/dL" in e.criterion("EXCL12").quote and "mg/dL" in e.reading_units


def test_criteria_in_registry_order_with_quotes():
    """Six inclusion and thirteen exclusion criteria, each quoting the registry."""
    ids = [c.id for c in PROTOCOL.eligibility.criteria]
    assert ids[:6] == [f"INCL{i:02d}" for i in range(1, 7)]
    assert ids[6:] == [f"EXCL{i:02d}" for i in range(1, 14)]
    assert all(c.quote for c in PROTOCOL.eligibility.criteria)


def test_response_rulesets():
    """RECIST 1.1 (default), RECIST 1.0 and the registry's own wording are named rulesets."""
    r = PROTOCOL.response
    assert r.ruleset().name == "recist1.1"
    r11, r10, own = r.ruleset("recist1.1"), r.ruleset("recist1.0"), r.ruleset("protocol")
    assert (r11.max_targets, r11.max_targets_per_organ) == (5, 2)
    assert (r10.max_targets, r10.max_targets_per_organ) == (10, 5)
    assert r11.pr_change_from_baseline == -30 and r11.pd_change_from_nadir == 20
    assert r11.pd_min_increase.to("mm").magnitude == 5
    assert own.pd_reference == "baseline" and own.cr_requires_negative_pet
    with pytest.raises(ValueError, match="unknown ruleset 'who'"):
        r.ruleset("who")


def test_arms():
    """Arm A is IL-2 alone, arm B adds SBRT; other codes are refused, naming the valid ones."""
    assert not PROTOCOL.arm("A").receives_sbrt and PROTOCOL.arm("B").receives_sbrt
    with pytest.raises(ValueError, match="use 'A' or 'B'"):
        PROTOCOL.arm("C")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "protocol.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_bad_unit_in_protocol_names_the_entry(tmp_path):
    """A threshold with a unit of the wrong dimension is refused at load, naming it."""
    path = _edited(tmp_path, 'hgb_min = "9.0 g/dL"', 'hgb_min = "9.0 kg"')
    with pytest.raises(ProtocolError, match=r"\[eligibility\]\.hgb_min"):
        load_protocol(path)


def test_out_of_range_count_is_refused(tmp_path):
    """A dose count that is not a positive whole number is refused."""
    path = _edited(tmp_path, "max_doses_per_cycle = 14", "max_doses_per_cycle = -1")
    with pytest.raises(ProtocolError, match="max_doses_per_cycle"):
        load_protocol(path)


def test_missing_entry_is_named(tmp_path):
    """A missing entry is named with its section."""
    path = _edited(tmp_path, 'dose_per_fraction = "20 Gy"\n', "")
    with pytest.raises(ProtocolError, match=r"\[sbrt\] has no entry 'dose_per_fraction'"):
        load_protocol(path)


def test_course_larger_than_cycles_is_refused(tmp_path):
    """More doses per course than its cycles can hold is a contradiction."""
    path = _edited(tmp_path, "max_doses_first_course = 28", "max_doses_first_course = 29")
    with pytest.raises(ProtocolError, match="more doses per course"):
        load_protocol(path)


def test_every_protocol_number_is_quoted():
    """Every section with rules carries the source it encodes."""
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    sections = re.findall(r"^\[([a-z0-9_.\"]+)\]$", text, flags=re.M)
    unquoted = []
    for section in sections:
        if section in {"trial", "plausibility", "il2.product"}:
            continue
        # the section's own header line, not a mention of it in another section's reading
        body = text.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0]
        if not re.search(r"^(quote|source)", body, flags=re.M):
            unquoted.append(section)
    assert unquoted == []


def test_crossover_numbers():
    """Arm A patients progressing after cycle 2 get SBRT and cycles 3-4, assessed at 7 weeks."""
    c = PROTOCOL.crossover
    assert (c.from_arm, c.after_cycle, c.first_cycle, c.cycles) == ("A", 2, 3, 2)
    assert c.response_assessment_after.to("week").magnitude == 7
    assert "16 days after cycle 3" in c.quote


def test_sbrt_last_fraction_on_the_friday():
    """The last fraction is on the Friday before the Monday IL-2 start."""
    assert PROTOCOL.sbrt.last_fraction_weekday == "Friday"
    assert PROTOCOL.il2.start_weekday == "Monday"
    assert all(rule.weekdays[-1] == "Friday" for rule in PROTOCOL.sbrt.fractionation)
    assert PROTOCOL.sbrt.fractionation_for(1).fractions == 1


def test_response_intervals_and_windows():
    """SD at 42 days, confirmation at 28 days, scans up to 7 days late, primary at week 14."""
    r = PROTOCOL.response
    assert r.sd_min_interval.to("day").magnitude == 42
    assert r.confirmation_interval.to("day").magnitude == 28
    assert (r.primary_timepoint_week, r.crossover_timepoint_week) == (14, 21)
    assert PROTOCOL.assessments.window.to("day").magnitude == 7
    r11 = r.ruleset("recist1.1")
    assert r11.measurable_min.to("mm").magnitude == 10
    assert r11.node_measurable_min.to("mm").magnitude == 15
    assert r11.node_pathological_min.to("mm").magnitude == 10
    assert r.ruleset("recist1.0").pd_min_increase.to("mm").magnitude == 0


def test_plausibility_limits():
    """Weights outside 30-300 kg and ECOG above 4 are typing errors, not patients."""
    p = PROTOCOL.plausibility
    assert (p.weight_min.to("kg").magnitude, p.weight_max.to("kg").magnitude) == (30, 300)
    assert p.ecog_max == 4 and p.max_age.to("year").magnitude == 120
    assert str(p.earliest_date) == "1900-01-01" and f"{p.il2_dose_max:~P}" == "250.0 MIU"


def test_loader_limits_are_optional(tmp_path):
    """An older protocol file without the loader's limits still loads (they are then None)."""
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    start = text.index("earliest_date = ")
    end = text.index('"""', text.index('reading = """', start) + 13) + 4
    path = tmp_path / "protocol.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    p = load_protocol(path).plausibility
    assert (p.earliest_date, p.il2_dose_max, p.sbrt_dose_max, p.lesion_diameter_max) == (None,) * 4


def test_readings_of_the_ambiguous_record_are_written_down():
    """g/dL read as mg/dL, '16 days', PD reference and RECIST 1.0 limits each say why."""
    assert "1.9 g/dL" in PROTOCOL.eligibility.reading_units
    assert "mg/dL" in PROTOCOL.eligibility.reading_units
    assert "16 days" in PROTOCOL.il2.reading and "Monday" in PROTOCOL.il2.reading
    own = " ".join(PROTOCOL.response.ruleset("protocol").quotes["reading"].split())
    assert "since treatment start, from the baseline sum" in own and "from the nadir" in own
    assert "RECIST 1.0 target limits" in PROTOCOL.response.reading


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('dose_per_kg = "600000 IU/kg"', 'dose_per_kg = "0 IU/kg"', r"dose_per_kg .*more than 0"),
        ('dose_per_kg = "600000 IU/kg"', 'dose_per_kg = "-6 IU/kg"', "negative"),
        ('dose_per_kg = "600000 IU/kg"', 'dose_per_kg = "600000 IU"', r"\[il2\]\.dose_per_kg"),
        ('dose_tolerance = "10 %"', 'dose_tolerance = "100 %"', "less than 100 %"),
        ('dose_interval = "8 h"', 'dose_interval = "25 h"', "must fit in cycle_interval"),
        ("first_enrollment_number = 21", "first_enrollment_number = 22", "expected 21"),
        (
            'weekdays = ["Wednesday", "Friday"]',
            'weekdays = ["Friday", "Wednesday"]',
            "last fraction must fall on a Friday",
        ),
        ("week = 14", "week = 7", "increasing order"),
        ("primary_timepoint_week = 14", "primary_timepoint_week = 21", "primary timepoint"),
        ('from_arm = "A"', 'from_arm = "B"', "from_arm: expected the arm without SBRT"),
        ("first_cycle = 3", "first_cycle = 4", "the cycle after after_cycle"),
        ('weight_min = "30 kg"', 'weight_min = "400 kg"', "weight_min: expected below"),
        ('pft_exclusion_below = "70 %"', 'pft_exclusion_below = "170 %"', "pft_review_below"),
        ('hgb = "30 g/dL"', 'hgb = "5 g/dL"', r"hgb: expected above the threshold"),
        ('kind = "exclusion"\nrule = "wbc"', 'kind = "exklusion"\nrule = "wbc"', "EXCL08"),
        ('ratio = "1:1"', 'ratio = "one to one"', "expected 'n:m'"),
        ("planned_enrollment = 44", "planned_enrollment = 0", "planned_enrollment"),
        ('window = "7 day"', 'window = "7 kg"', r"\[assessments\]\.window"),
        ('il2_dose_max = "250 MIU"', 'il2_dose_max = "150 MIU"', "dose_per_kg x weight_max"),
        ('il2_dose_max = "250 MIU"', 'il2_dose_max = "250 mg"', r"\[plausibility\]\.il2_dose"),
        ('sbrt_dose_max = "40 Gy"', 'sbrt_dose_max = "10 Gy"', "at least .*dose_per_fraction"),
        ("earliest_date = 1900-01-01", "earliest_date = 2999-01-01", "a date in the past"),
        ("earliest_date = 1900-01-01", 'earliest_date = "1900"', "expected a date, 1900-01-01"),
    ],
)
def test_protocol_numbers_are_validated_at_load(tmp_path, old, new, message):
    """A number out of range or contradicting another entry is refused, naming the entry."""
    with pytest.raises(ProtocolError, match=message):
        load_protocol(_edited(tmp_path, old, new))


def test_zero_is_allowed_where_it_means_none(tmp_path):
    """No allowed delay, no scan window and no minimum increase are valid protocol choices."""
    path = _edited(tmp_path, 'allowed_delay = "7 day"', 'allowed_delay = "0 day"')
    assert load_protocol(path).il2.allowed_delay.magnitude == 0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "[crossover]\n",
            "[crossover_rules]\n",
            r"protocol\.toml: the section or entry 'crossover'",
        ),
        (
            'hgb_min = "9.0 g/dL"',
            'hgb_min = "9.0"',
            r"\[eligibility\]\.hgb_min: '9\.0': the unit is",
        ),
        (
            "first_enrollment_number = 21",
            "first_enrollment_number = 18",
            r"\[sbrt\.fractionation #2\] first_enrollment_number = 18: expected 21; the ranges"
            " must run from 1 without a gap or an overlap",
        ),
    ],
)
def test_a_protocol_file_with_a_mistake_is_one_clear_error(tmp_path, old, new, message):
    """A missing section, a threshold without unit, overlapping fractionation ranges: one
    error naming the file, the key and what is expected."""
    text = (REPO / "studylib" / "protocol.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "protocol.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProtocolError, match=message):
        load_protocol(path)
