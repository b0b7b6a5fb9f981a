"""The whole analysis on the bundled synthetic cohort reproduces the published figures."""

from __future__ import annotations

import pytest

from studylib.analysis import analyse_cohort, analysis_settings, primary_endpoint
from studylib.analysis.publication import COMPUTED
from studylib.data import load_cohort
from studylib.protocol import PROTOCOL


@pytest.fixture(scope="module")
def cohort(data_dir):
    return load_cohort(data_dir)


@pytest.fixture(scope="module")
def analysis(cohort):
    return analyse_cohort(cohort)


def test_primary_endpoint_responders_by_arm(cohort):
    """Arm B 13/24 and arm A 7/20 responders by the end of cycle 2."""
    result = primary_endpoint(cohort)
    assert result.table.loc["B", ["responders", "n"]].tolist() == [13, 24]
    assert result.table.loc["A", ["responders", "n"]].tolist() == [7, 20]


def test_primary_endpoint_categories_match_the_derived_counts(analysis):
    """CR/PR/SD/PD 5/8/5/6 in arm B, 3/4/5/8 in arm A, none not evaluable (NCT01416831.md §2.2)."""
    table = analysis.primary.table
    assert table.loc["B", ["cr", "pr", "sd", "pd", "ne"]].tolist() == [5, 8, 5, 6, 0]
    assert table.loc["A", ["cr", "pr", "sd", "pd", "ne"]].tolist() == [3, 4, 5, 8, 0]


def test_fisher_test_and_odds_ratio(analysis):
    """Two-sided Fisher p about 0.238, one-sided 0.167, odds ratio 2.19 (computed checks)."""
    assert analysis.primary.p_value == pytest.approx(0.238, abs=5e-4)
    assert analysis.primary.p_value_one_sided == pytest.approx(0.167, abs=5e-4)
    assert analysis.primary.odds_ratio == pytest.approx(2.19, abs=5e-3)


def test_crossover_response(analysis):
    """Crossover: 3 of 7 responded after SBRT (1 CR, 2 PR)."""
    counts = analysis.crossover.counts
    assert (counts["responders"], counts["n"], counts["cr"], counts["pr"]) == (3, 7, 1, 2)


def test_consort_counts_are_the_publication_s(analysis):
    """63 screened, 50 consented, 6 excluded, 44 randomised, 20 arm A, 24 arm B, 7 crossover."""
    c = analysis.flow.counts
    assert [c[k] for k in ("screened", "consented", "excluded", "randomized")] == [63, 50, 6, 44]
    assert [c[k] for k in ("arm_A", "arm_B", "crossover", "analysed_A", "analysed_B")] == [
        20,
        24,
        7,
        20,
        24,
    ]


def test_excluded_after_consent_reasons(analysis):
    """3 rapid progression, 2 cardiac ischaemia, 1 insurance (NCT01416831.md §1.5)."""
    reasons = analysis.flow.reasons
    excluded = reasons[reasons["stage"] == "excluded"]["n"].tolist()
    assert excluded == [3, 2, 1]


def test_comparison_agrees_on_every_response_and_flow_figure(analysis):
    """Every flow, response and computed-check figure agrees at the published precision."""
    table = analysis.comparison()
    survival = table["key"].str.startswith("os_5y")
    assert table.loc[~survival, "agrees"].all()
    assert table["workbook"].notna().all()
    assert (table.loc[table["key"] == "fisher_p", "mark"] == COMPUTED).all()


def test_survival_by_arm_is_estimable(analysis):
    """Both arms have a PFS and OS median and a 5-year OS estimate; the log-rank p is a p."""
    for result in (analysis.pfs, analysis.os):
        assert result.summary["n"].tolist() == [20, 24]
        assert result.summary["median_months"].notna().all()
        assert 0 <= result.logrank_p <= 1
    assert analysis.os.summary["landmark_survival"].between(0, 1).all()


def test_registry_results_cover_every_outcome(analysis):
    """The registry-style table reports primary, disease control, crossover, local control,
    PFS and OS, with the arms as columns."""
    table = analysis.registry()
    outcomes = " ".join(table["outcome"].unique())
    for word in ("Best overall response", "Disease control", "crossover", "local control"):
        assert word in outcomes
    assert "Progression-free survival" in outcomes and "Overall survival" in outcomes
    assert list(table.columns) == [
        "outcome",
        "row",
        "Arm A: IL-2 monotherapy",
        "Arm B: SBRT + IL-2",
        "comparison",
    ]
    orr = table[table["row"].str.startswith("Objective response rate")].iloc[0]
    assert orr["Arm B: SBRT + IL-2"] == "54.2% (95% CI 32.8 to 74.4)"
    assert "p = 0.238" in orr["comparison"]


def test_patients_and_courses_cover_every_randomised_patient(analysis):
    """Every one of the 44 has a primary response, survival times and a swimmer bar."""
    assert len(analysis.primary.patients) == 44
    assert len(analysis.times) == 44
    assert (analysis.courses["event"] == "follow_up").sum() == 44
    assert analysis.best_change["patient_id"].nunique() == 44


def test_settings_are_read_from_the_protocol():
    """The settings table states the primary week, the window and the SD minimum of PROTOCOL."""
    settings = analysis_settings().set_index("setting")["value"]
    week = PROTOCOL.response.primary_timepoint_week
    window = PROTOCOL.assessments.window.to("day").magnitude
    assert settings["Primary endpoint: scans counted"] == (
        f"up to week {week} after the first IL-2 dose, plus {window:g} days"
    )
    sd_days = PROTOCOL.response.sd_min_interval.to("day").magnitude
    assert settings["Stable disease minimum"].startswith(f"{sd_days:g} days")
