"""The cohort analysis follows the cohort's protocol: arms, direction, windows, rules.

The bundled synthetic cohort is analysed under the variant test protocol
(tests/fixtures/protocol_variant.toml: arms C, control, and R, radiation; primary week 16,
window 4 days; crossover into cycle 4, assessed 9 weeks later; SD from day 56; confidence
0.90; the comparison one-sided 'greater'; primary_excludes_crossover false; survival in weeks,
landmark 3 years), with each arm relabelled by its role.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from recist_frames import under_protocol
from scipy.stats import fisher_exact

from studylib.analysis import analyse_cohort, analysis_settings, compared_arms
from studylib.analysis.endpoints import primary_endpoint
from studylib.data import load_cohort
from studylib.recist.patient import patient_response
from studylib.recist.variants import cycle_starts


@pytest.fixture(scope="module")
def cohort(data_dir):
    return load_cohort(data_dir)


@pytest.fixture(scope="module")
def variant_cohort(cohort, variant_protocol):
    return under_protocol(cohort, variant_protocol)


@pytest.fixture(scope="module")
def variant_analysis(variant_cohort):
    return analyse_cohort(variant_cohort)


@pytest.fixture(scope="module")
def bundled_analysis(cohort):
    return analyse_cohort(cohort)


def test_arms_and_direction_come_from_the_protocol(cohort, variant_protocol):
    """Experimental: the arm receiving SBRT; comparator: the crossover arm."""
    assert compared_arms(cohort.protocol) == ("B", "A")
    assert compared_arms(variant_protocol) == ("R", "C")


def test_tables_are_keyed_by_the_variants_arms(variant_analysis, bundled_analysis):
    """Every table is indexed by C and R, in file order, with the same patients per role."""
    v, b = variant_analysis, bundled_analysis
    assert v.primary.table.index.tolist() == ["C", "R"]
    assert v.primary.table["arm_name"].tolist() == ["IL-2 alone (control)", "Radiation then IL-2"]
    assert v.primary.table.loc["C", "n"] == b.primary.table.loc["A", "n"]
    assert v.primary.table.loc["R", "n"] == b.primary.table.loc["B", "n"]
    assert v.pfs.summary.index.tolist() == v.os.summary.index.tolist() == ["C", "R"]
    assert v.local_control.index.tolist() == ["R", "C"]
    assert {"arm_C", "arm_R", "analysed_C", "analysed_R"} <= set(v.flow.counts)
    assert not {"arm_A", "arm_B"} & set(v.flow.counts)
    keys = v.key_results()
    assert {"n_C", "n_R", "orr_C", "orr_R", "os_landmark_C", "os_landmark_R"} <= set(keys)
    assert not any(k.endswith(("_A", "_B")) for k in keys)


def test_the_comparison_is_r_against_c_as_the_protocol_says(variant_analysis):
    """Fisher's test of R against C, 'greater' as the primary figure, two-sided second."""
    p = variant_analysis.primary
    assert (p.experimental, p.comparator) == ("R", "C")
    r, c = p.table.loc["R"], p.table.loc["C"]
    table = [
        [r["responders"], r["n"] - r["responders"]],
        [c["responders"], c["n"] - c["responders"]],
    ]
    assert p.orr_comparison.table == tuple(tuple(int(v) for v in row) for row in table)
    assert p.p_value == pytest.approx(fisher_exact(table, alternative="greater")[1])
    assert p.p_value_one_sided == pytest.approx(fisher_exact(table)[1])
    assert p.orr_comparison.alternative == "greater"


def test_registry_names_the_variants_arms_and_rules(variant_analysis):
    """Columns per arm, 90% intervals, R vs C, survival in weeks, a 3-year landmark."""
    registry = variant_analysis.registry()
    assert registry.columns.tolist() == [
        "outcome",
        "row",
        "Arm C: IL-2 alone (control)",
        "Arm R: Radiation then IL-2",
        "comparison",
    ]
    text = registry.to_string()
    assert "(week 16)" in text and "end of cycle 3" in text
    assert "one-sided (R greater) p = " in text and "; two-sided p = " in text
    assert "hazard ratio R vs C" in text and "B vs A" not in text
    assert "90% CI" in text and "95% CI" not in text
    assert "weeks from randomisation" in text and "Median, weeks" in text
    assert "Kaplan-Meier estimate at 3 years" in text
    assert "9 weeks after the IL-2 course" in text
    crossover = registry[registry["row"] == "CR / PR / SD / PD / NE"].iloc[0]
    assert crossover["Arm R: Radiation then IL-2"] == "not applicable"


def test_settings_read_the_variant(variant_protocol):
    settings = analysis_settings(variant_protocol).set_index("setting")["value"]
    assert settings["Primary endpoint: scans counted"] == (
        "up to week 16 after the first IL-2 dose, plus 4 days"
    )
    assert settings["Stable disease minimum"] == "56 days after the first IL-2 dose"
    assert settings["Crossover response: scans counted"] == (
        "up to 9 weeks after the first IL-2 dose of cycle 4, plus 4 days"
    )
    assert settings["Crossover patients"].startswith("counted in arm C with every scan")
    assert settings["Comparison of arms"] == (
        "Fisher's exact test, greater (arm R better); two-sided as a secondary figure"
    )
    assert settings["Survival"].endswith("landmark 3 years")
    assert "90%" in settings["Rate intervals"]


def test_primary_window_is_week_16_and_not_cut_at_crossover(variant_analysis, variant_cohort):
    """Cut-off: first dose + 16 weeks + 4 days, for crossover patients too (the variant does
    not exclude crossover scans)."""
    patients = variant_analysis.primary.patients.set_index("patient_id")
    dosed = patients["first_il2_dose"].notna()
    expected = patients["first_il2_dose"] + pd.Timedelta(days=16 * 7 + 4)
    assert (patients.loc[dosed, "cutoff_date"] == expected[dosed]).all()
    crossed = patients[patients["crossover_sbrt"].notna()]
    assert (crossed["crossover_sbrt"] < crossed["cutoff_date"]).any()


def test_crossover_response_starts_at_the_variants_crossover_cycle(variant_analysis, cohort):
    """[crossover].first_cycle is 4 in the variant: the crossover course starts there."""
    starts = variant_analysis.crossover.patients.set_index("patient_id")["crossover_start"]
    cycle4 = cycle_starts(cohort.dosing, 4).reindex(starts.index)
    pd.testing.assert_series_equal(starts, cycle4, check_names=False)


def test_survival_is_counted_in_weeks_with_a_3_year_landmark(variant_analysis, bundled_analysis):
    """[analysis].survival_time_unit week: the same days, divided by 7 instead of months."""
    v, b = variant_analysis, bundled_analysis
    days = (b.times["os_date"] - b.times["origin"]).dt.days
    assert np.allclose(v.times["os_months"], days / 7)
    assert v.os.landmark_months == pytest.approx(3 * 365.25 / 7, rel=1e-3)
    assert v.os.time_unit == "week" and b.os.time_unit == "month"


def _agree(cohort, analysis_patients, patient_ids):
    by_id = analysis_patients.set_index("patient_id")
    for pid in patient_ids:
        view = patient_response(cohort, pid)
        assert (view.bor["bor"], view.bor["date"]) == (
            by_id.loc[pid, "bor"],
            by_id.loc[pid, "date"],
        ), pid
        assert view.cutoff_date == by_id.loc[pid, "cutoff_date"], pid


def test_patient_and_cohort_agree_when_crossover_scans_count(cohort):
    """[analysis].primary_excludes_crossover flipped to false: the per-patient view and the
    cohort analysis still give every patient the same primary response (one derivation)."""
    protocol = cohort.protocol
    flipped = replace(
        protocol, analysis=replace(protocol.analysis, primary_excludes_crossover=False)
    )
    flipped_cohort = replace(cohort, protocol=flipped)
    before = primary_endpoint(cohort).patients.set_index("patient_id")
    after = primary_endpoint(flipped_cohort).patients
    crossed = after.loc[after["crossover_sbrt"].notna(), "patient_id"].tolist()
    # The flip matters: some crossover patient's window no longer ends at their SBRT.
    moved = (
        after.set_index("patient_id").loc[crossed, "cutoff_date"]
        != before.loc[crossed, "cutoff_date"]
    )
    assert moved.any()
    _agree(flipped_cohort, after, crossed + ["P001", "P003"])
    _agree(cohort, before.reset_index(), crossed)


def test_patient_and_cohort_agree_under_the_variant(variant_cohort, variant_analysis):
    patients = variant_analysis.primary.patients
    crossed = patients.loc[patients["crossover"], "patient_id"].tolist()
    _agree(variant_cohort, patients, crossed + ["P001", "P003", "P012"])
    view = patient_response(variant_cohort, crossed[0])
    crossover = variant_analysis.crossover.patients.set_index("patient_id")
    assert view.crossover_bor["bor"] == crossover.loc[crossed[0], "bor"]
