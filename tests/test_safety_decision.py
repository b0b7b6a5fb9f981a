"""Give, hold or stop the next IL-2 dose: each criterion at its threshold, on both sides.

Bundled criteria: the 2014 consensus (J Immunother Cancer 2014;2:26, Table 3) and the Proleukin
label (withhold / discontinue), read from studylib/protocol.toml [safety].
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from studylib.protocol import PROTOCOL, load_protocol
from studylib.safety import dose_decision, dose_decisions
from studylib.units import Q_

REPO = Path(__file__).resolve().parents[1]

# (observations, action, criterion met or None). Each threshold on both sides, in two units
# where the observation has more than one.
THRESHOLDS = [
    # sinus tachycardia: 100-130 relative (hold), > 130 absolute (stop)
    ({"heart_rate": "99 bpm"}, "give", None),
    ({"heart_rate": "100 bpm"}, "hold", "REL-HR"),
    ({"heart_rate": "130 /min"}, "hold", "REL-HR"),
    ({"heart_rate": "131 beats/min"}, "stop", "ABS-HR"),
    # creatinine: 2.5 to < 3.0 mg/dL relative, >= 3 mg/dL absolute (221.0 / 265.2 µmol/L)
    ({"creatinine": "2.49 mg/dL"}, "give", None),
    ({"creatinine": "2.5 mg/dL"}, "hold", "REL-CREAT"),
    ({"creatinine": "2.99 mg/dL"}, "hold", "REL-CREAT"),
    ({"creatinine": "3.0 mg/dL"}, "stop", "ABS-CREAT"),
    ({"creatinine": "220.9 µmol/L"}, "give", None),
    ({"creatinine": "221.1 µmol/L"}, "hold", "REL-CREAT"),
    ({"creatinine": "265.1 umol/L"}, "hold", "REL-CREAT"),
    ({"creatinine": "265.3 umol/L"}, "stop", "ABS-CREAT"),
    # urine output over the 8-hour shift: 80-160 mL relative, < 80 mL absolute
    ({"urine_output_8h": "161 mL"}, "give", None),
    ({"urine_output_8h": "160 mL"}, "hold", "REL-URINE"),
    ({"urine_output_8h": "0.08 L"}, "hold", "REL-URINE"),
    ({"urine_output_8h": "79 mL"}, "stop", "ABS-URINE"),
    # platelets: 30-50 x10^9/L relative, < 30 absolute
    ({"platelets": "51 x10^9/L"}, "give", None),
    ({"platelets": "50000/uL"}, "hold", "REL-PLT"),
    ({"platelets": "30 x10^9/L"}, "hold", "REL-PLT"),
    ({"platelets": "29,900/mm3"}, "stop", "ABS-PLT"),
    # bilirubin > 7 mg/dL relative (7 mg/dL = 119.7 µmol/L)
    ({"bilirubin": "7 mg/dL"}, "give", None),
    ({"bilirubin": "7.1 mg/dL"}, "hold", "REL-BILI"),
    ({"bilirubin": "119.6 µmol/L"}, "give", None),
    ({"bilirubin": "119.8 µmol/L"}, "hold", "REL-BILI"),
    # weight gain > 15% over the baseline weight
    ({"weight": "92 kg", "baseline_weight": "80 kg"}, "give", None),
    ({"weight": "92.1 kg", "baseline_weight": "80 kg"}, "hold", "REL-WEIGHT"),
    ({"weight": "230 lb", "baseline_weight": "200 lb"}, "give", None),
    ({"weight": "230.2 lb", "baseline_weight": "90.718474 kg"}, "hold", "REL-WEIGHT"),
    # bicarbonate <= 18 mmol/L absolute
    ({"bicarbonate": "18.1 mmol/L"}, "give", None),
    ({"bicarbonate": "18 mmol/L"}, "stop", "ABS-HCO3"),
    # systolic BP below 90 mmHg: withhold (label)
    ({"systolic_bp": "90 mmHg"}, "give", None),
    ({"systolic_bp": "89 mmHg"}, "hold", "LBL-SBP"),
    ({"systolic_bp": "12 kPa"}, "give", None),
    ({"systolic_bp": "11.9 kPa"}, "hold", "LBL-SBP"),
    # O2 saturation below 90%: withhold (label)
    ({"o2_saturation": "90 %"}, "give", None),
    ({"o2_saturation": "89.9%"}, "hold", "LBL-SPO2"),
    # mental status change: withhold (label)
    ({"mental_status_change": False}, "give", None),
    ({"mental_status_change": "Y"}, "hold", "LBL-MENTAL"),
    # intubation > 72 h, coma > 48 h: discontinue (label)
    ({"intubation_duration": "72 h"}, "give", None),
    ({"intubation_duration": "3.1 day"}, "stop", "LBL-INTUBATION"),
    ({"coma_duration": "2 day"}, "give", None),
    ({"coma_duration": "49 h"}, "stop", "LBL-COMA"),
    ({"sustained_vt": "yes"}, "stop", "LBL-VT"),
]


@pytest.mark.parametrize(("observations", "action", "criterion"), THRESHOLDS)
def test_each_threshold_on_both_sides(observations, action, criterion):
    decision = dose_decision(observations)
    assert decision.action == action
    met = [f.criterion for f in decision.findings if f.met]
    assert met == ([criterion] if criterion else [])
    if criterion:
        assert decision.reasons[0].startswith(criterion)


def test_reason_names_criterion_value_and_limit():
    decision = dose_decision({"creatinine": "230 µmol/L"})
    assert decision.reasons[0] == (
        "REL-CREAT Creatinine (relative criterion: hold): creatinine 230 µmol/L (2.602 mg/dL);"
        " limit ≥ 2.5 mg/dL and < 3 mg/dL."
    )


def test_three_relative_criteria_at_once_stop_the_cycle():
    two = {"heart_rate": "110 bpm", "creatinine": "2.6 mg/dL"}
    assert dose_decision(two).action == "hold"
    three = {**two, "urine_output_8h": "120 mL"}
    decision = dose_decision(three)
    assert decision.action == "stop"
    assert any(
        r.startswith("3 relative criteria at once (REL-HR, REL-CREAT, REL-URINE)")
        for r in decision.reasons
    )


def test_withhold_criteria_do_not_count_toward_the_three():
    """The label's withhold criteria hold but are not relative criteria (protocol reading)."""
    observations = {
        "heart_rate": "110 bpm",
        "creatinine": "2.6 mg/dL",
        "systolic_bp": "85 mmHg",
        "o2_saturation": "88 %",
    }
    assert dose_decision(observations).action == "hold"


def test_stop_wins_over_hold():
    decision = dose_decision({"heart_rate": "110 bpm", "platelets": "20 x10^9/L"})
    assert decision.action == "stop"
    assert [f.criterion for f in decision.findings if f.met] == ["REL-HR", "ABS-PLT"]


def test_missing_observations_are_not_judged_and_said():
    decision = dose_decision({"heart_rate": "88 bpm", "creatinine": None, "platelets": ""})
    assert decision.action == "give"
    assert "creatinine" in decision.not_judged and "platelets" in decision.not_judged
    assert "heart_rate" not in decision.not_judged
    assert decision.reasons[0] == "No hold or stop criterion is met by the observations given."
    assert decision.reasons[-1].startswith("Not judged (not recorded): creatinine,")
    frame = decision.to_frame()
    assert frame.set_index("criterion").loc["REL-CREAT", "status"] == "not judged"
    assert frame.set_index("criterion").loc["REL-HR", "status"] == "not met"


def test_weight_without_baseline_is_not_judged():
    decision = dose_decision({"weight": "120 kg"})
    assert "weight" in decision.not_judged and decision.action == "give"


def test_nothing_recorded_gives_nothing_judged():
    decision = dose_decision({})
    assert decision.action == "give"
    assert set(decision.not_judged) == {c.observation for c in PROTOCOL.safety.criteria}


@pytest.mark.parametrize(
    ("observations", "message"),
    [
        ({"heart_rate": "110 mmHg"}, "observation 'heart_rate': '110 mmHg': expected a quantity"),
        ({"heart_rate": "110"}, "observation 'heart_rate': '110': the unit is missing"),
        ({"creatinine": "2,6 mg/dL"}, "decimal comma"),
        ({"urine_output_8h": "lots"}, "observation 'urine_output_8h'"),
        ({"mental_status_change": "maybe"}, "'maybe' is not yes or no"),
        ({"weight": "90 kg", "baseline_weight": "80 cm"}, "observation 'baseline_weight'"),
        ({"heartrate": "110 bpm"}, "unknown observation.*'heartrate'.*heart_rate"),
    ],
)
def test_unreadable_values_are_errors(observations, message):
    with pytest.raises(ValueError, match=message):
        dose_decision(observations)


def test_quantities_are_accepted():
    assert dose_decision({"heart_rate": Q_(120, "1/min")}).action == "hold"


def test_variant_protocol_is_followed(variant_protocol):
    """The variant holds from 90 bpm, stops above 120, stops on two relative criteria and on
    a mental status change, and its criteria ids are its own."""
    assert dose_decision({"heart_rate": "95 bpm"}).action == "give"
    variant = dose_decision({"heart_rate": "95 bpm"}, protocol=variant_protocol)
    assert variant.action == "hold" and variant.reasons[0].startswith("V-TACHY ")
    assert dose_decision({"heart_rate": "125 bpm"}, protocol=variant_protocol).action == "stop"
    two = {"heart_rate": "95 bpm", "platelets": "55 x10^9/L"}
    assert dose_decision(two).action == "give"
    assert dose_decision(two, protocol=variant_protocol).action == "stop"
    assert dose_decision({"mental_status_change": "yes"}).action == "hold"
    assert (
        dose_decision({"mental_status_change": "yes"}, protocol=variant_protocol).action == "stop"
    )
    # creatinine limits in µmol/L: 180 to < 240 relative, >= 240 absolute
    assert dose_decision({"creatinine": "2.1 mg/dL"}, protocol=variant_protocol).action == "hold"
    assert dose_decision({"creatinine": "239 umol/L"}, protocol=variant_protocol).action == "hold"
    assert dose_decision({"creatinine": "240 umol/L"}, protocol=variant_protocol).action == "stop"
    assert dose_decision({"systolic_bp": "93 mmHg"}, protocol=variant_protocol).action == "hold"
    assert dose_decision({"o2_saturation": "91 %"}, protocol=variant_protocol).action == "hold"
    assert dose_decision({"bicarbonate": "19 mmol/L"}, protocol=variant_protocol).action == "stop"
    assert variant.protocol.startswith("NCT00000000")


def test_variant_refuses_observations_it_does_not_judge(variant_protocol):
    with pytest.raises(ValueError, match="unknown observation.*'sustained_vt'"):
        dose_decision({"sustained_vt": "no"}, protocol=variant_protocol)


def test_protocol_without_safety_section_is_refused(tmp_path):
    text = (REPO / "studylib" / "protocol.toml").read_text(encoding="utf-8")
    path = tmp_path / "protocol.toml"
    path.write_text(text[: text.index("\n[safety]")], encoding="utf-8")
    with pytest.raises(ValueError, match=r"has no \[safety\] section"):
        dose_decision({"heart_rate": "90 bpm"}, protocol=load_protocol(path))


def test_a_table_of_slots_is_judged_as_each_slot_alone(variant_protocol):
    """dose_decisions gives, row by row, dose_decision's action and reasons."""
    rows = [observations for observations, _, _ in THRESHOLDS]
    frame = pd.DataFrame(rows, index=[f"slot{i}" for i in range(len(rows))])
    frame["patient_id"] = "P001"  # other columns are left alone
    table = dose_decisions(frame)
    assert list(table.columns) == ["action", "criteria_met", "reasons", "not_judged"]
    assert table.index.tolist() == frame.index.tolist()
    for label, observations in zip(frame.index, rows, strict=True):
        single = dose_decision(observations)
        assert table.loc[label, "action"] == single.action
        assert table.loc[label, "reasons"] == " ".join(single.reasons)
        met = [f.criterion for f in single.findings if f.met]
        assert table.loc[label, "criteria_met"] == ", ".join(met)
    variant = dose_decisions(frame.drop(columns=["sustained_vt"]), protocol=variant_protocol)
    assert variant.loc["slot0", "action"] == "hold"  # 99 bpm: V-TACHY from 90 bpm


def test_unreadable_cells_in_a_table_name_their_rows():
    frame = pd.DataFrame({"heart_rate": ["90 bpm", "ninety", "95 bpm", "9O bpm"]})
    with pytest.raises(ValueError, match=r"observation 'heart_rate': row 1: 'ninety'.*row 3"):
        dose_decisions(frame)


def test_an_empty_table_gives_an_empty_table():
    table = dose_decisions(pd.DataFrame({"heart_rate": pd.Series([], dtype=object)}))
    assert table.empty and list(table.columns) == [
        "action",
        "criteria_met",
        "reasons",
        "not_judged",
    ]
