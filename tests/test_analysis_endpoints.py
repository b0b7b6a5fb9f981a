"""Primary and crossover endpoints on a small hand-built trial folder with known responses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from studylib.analysis import analyse_cohort
from studylib.analysis.courses import first_il2_dose, patient_courses, response_course
from studylib.analysis.endpoints import (
    CATEGORIES,
    count_by_arm,
    crossover_endpoint,
    primary_endpoint,
    response_category,
)
from studylib.analysis.local import local_control_by_arm
from studylib.analysis.rates import response_rate
from studylib.data import load_cohort
from studylib.recist.patient import patient_response

# First IL-2 dose Monday 2012-03-19 (day 0). Scans: baseline day -10, week 7 (day 49,
# 2012-05-07), week 14 (day 98, 2012-06-25); the primary window closes 7 days later (07-02).
BASE, WK7, WK14, WK16 = "2012-03-09", "2012-05-07", "2012-06-25", "2012-07-09"

# patient, arm, crossover, target T01 diameters by scan date
TUMOURS = {
    "B1": ("B", "N", {BASE: 50, WK7: 30}),  # PR (its irradiated lesion grows: left out)
    "B2": ("B", "N", {BASE: 50, WK7: 0}),  # CR
    "B3": ("B", "N", {BASE: 50, WK7: 45}),  # SD
    "B4": ("B", "N", {BASE: 50, WK7: 65}),  # PD
    "A1": ("A", "N", {BASE: 50, WK7: 45, WK14: 30}),  # PR at week 14
    "A2": ("A", "N", {BASE: 50, WK7: 45, WK16: 30}),  # SD: the PR comes after the window
    # SD then PD by week 14; crosses over (SBRT 06-29, cycle 3 on 07-02), PR on 08-20.
    "A3": ("A", "Y", {BASE: 50, WK7: 48, WK14: 70, "2012-08-20": 35}),
    "A4": ("A", "N", {}),  # never dosed, never scanned: not evaluable
}


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / f"{name}.csv", index=False)


def build_trial(folder: Path) -> Path:
    """A valid synthetic trial folder with the patients of TUMOURS and one screen failure."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(TUMOURS)
    _write(
        folder,
        "screening",
        pd.DataFrame(
            {
                "patient_id": ids + ["SF1"],
                "screening_date": "2012-03-01",
                "consent_signed": ["Y"] * len(ids) + ["N"],
                "screening_outcome": ["enrolled"] * len(ids) + ["screen_failure"],
                "outcome_reason": [""] * len(ids) + ["INCL04: ECOG 2"],
            }
        ),
    )
    _write(
        folder,
        "sbrt_sites",
        pd.DataFrame(columns=["patient_id", "site_id", "site", "longest_diameter", "lesion_id"]),
    )
    _write(
        folder,
        "randomization",
        pd.DataFrame(
            {
                "patient_id": ids,
                "arm": [TUMOURS[p][0] for p in ids],
                "enrollment_number": range(1, len(ids) + 1),
                "randomized_on": "2012-03-08",
                "crossover": [TUMOURS[p][1] for p in ids],
            }
        ),
    )
    dosing = []
    for patient, (arm, crossover, _) in TUMOURS.items():
        if patient == "A4":
            continue
        if arm == "B":
            dosing.append((patient, "sbrt", 1, 1, "2012-03-16T09:00", "20 Gy"))
        dosing.append((patient, "il2", 1, 1, "2012-03-19T08:00", "48 MIU"))
        if crossover == "Y":
            dosing.append((patient, "sbrt", 3, 1, "2012-06-29T09:00", "20 Gy"))
            dosing.append((patient, "il2", 3, 1, "2012-07-02T08:00", "48 MIU"))
    dose = pd.DataFrame(
        dosing, columns=["patient_id", "treatment", "cycle", "number", "scheduled_at", "dose"]
    )
    dose["given_at"] = dose["scheduled_at"]
    dose["status"] = "given"
    dose["hold_reason"] = ""
    _write(folder, "dosing", dose)
    lesions = [(p, "T01", "target", "liver", "N", "N", "") for p in TUMOURS if TUMOURS[p][2]]
    lesions += [
        ("B1", "T02", "target", "lung", "N", "Y", "2012-03-16"),
        ("A3", "T02", "target", "lung", "N", "Y", "2012-06-29"),
    ]
    _write(
        folder,
        "lesions",
        pd.DataFrame(
            lesions,
            columns=[
                "patient_id",
                "lesion_id",
                "role",
                "site",
                "nodal",
                "irradiated",
                "irradiated_on",
            ],
        ),
    )
    scans = [
        (p, "T01", date, mm) for p, (_, _, sizes) in TUMOURS.items() for date, mm in sizes.items()
    ]
    scans += [("B1", "T02", BASE, 20), ("B1", "T02", WK7, 40)]
    # A3's crossover SBRT target grows after irradiation: counted, it would make the PR an SD.
    scans += [("A3", "T02", date, 20) for date in (BASE, WK7, WK14)]
    scans += [("A3", "T02", "2012-08-20", 40)]
    frame = pd.DataFrame(scans, columns=["patient_id", "lesion_id", "date", "diameter_mm"])
    frame["state"] = ""
    frame["method"] = "CT"
    frame["pet_avid"] = ""
    _write(folder, "assessments", frame)
    _write(
        folder,
        "followup",
        pd.DataFrame(
            {
                "patient_id": ids,
                "progressed_on": ["", "", "", "2012-05-07", "", "", "2012-06-25", ""],
                "died_on": ["", "", "", "2013-05-01", "", "", "", "2012-09-01"],
                "last_contact_on": ["2017-06-01"] * 3
                + ["2013-05-01", "2016-01-01", "2015-02-01", "2017-06-01", "2012-09-01"],
            }
        ),
    )
    return folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return load_cohort(build_trial(tmp_path_factory.mktemp("endpoints") / "trial"))


@pytest.fixture(scope="module")
def primary(cohort):
    return primary_endpoint(cohort)


def test_table_has_the_contract_columns_one_row_per_arm(primary):
    """The table is indexed A, B with n, cr, pr, sd, pd, ne, responders, orr, ci_low, ci_high."""
    assert primary.table.index.tolist() == ["A", "B"]
    contract = ["n", "cr", "pr", "sd", "pd", "ne", "responders", "orr", "ci_low", "ci_high"]
    assert set(contract) <= set(primary.table.columns)


def test_counts_by_arm(primary):
    """Arm B: one each of CR, PR, SD, PD; arm A: one PR, two SD, one NE (never dosed)."""
    t = primary.table
    assert t.loc["B", ["n", "cr", "pr", "sd", "pd", "ne", "responders"]].tolist() == [
        4,
        1,
        1,
        1,
        1,
        0,
        2,
    ]
    assert t.loc["A", ["n", "cr", "pr", "sd", "pd", "ne", "responders"]].tolist() == [
        4,
        0,
        1,
        2,
        0,
        1,
        1,
    ]


def test_irradiated_lesion_is_left_out_of_the_primary_response(primary):
    """B1's irradiated lesion doubles, but its non-irradiated target shrinks 40%: PR."""
    bor = primary.patients.set_index("patient_id")["bor"]
    assert bor["B1"] == "PR"


def test_scan_after_the_week_14_window_is_not_counted(primary):
    """A2's PR on day 112 lies after week 14 + 7 days: the primary response stays SD."""
    patients = primary.patients.set_index("patient_id")
    assert patients.loc["A2", "bor"] == "SD"
    assert patients.loc["A2", "cutoff_date"] == pd.Timestamp("2012-07-02")
    assert patients.loc["A1", "bor"] == "PR"


def test_crossover_patient_keeps_the_response_before_crossover(primary):
    """A3 is counted in arm A with SD (week 7); its PR after SBRT does not count."""
    row = primary.patients.set_index("patient_id").loc["A3"]
    assert (row["arm"], row["bor"], bool(row["responder"])) == ("A", "SD", False)


def test_never_dosed_patient_stays_in_the_denominator_as_not_evaluable(primary):
    """A4 has no IL-2 dose and no scan: NE, and arm A's n is still 4 (intention to treat)."""
    row = primary.patients.set_index("patient_id").loc["A4"]
    assert row["category"] == "NE"
    assert pd.isna(row["first_il2_dose"])


def test_rates_and_test_are_the_libraries_on_the_counts(primary):
    """ORR and its interval equal response_rate(2, 4); p equals scipy on the hand-built table."""
    expected = response_rate(2, 4)
    b = primary.table.loc["B"]
    assert (b["orr"], b["ci_low"], b["ci_high"]) == (
        expected.rate,
        expected.ci_low,
        expected.ci_high,
    )
    odds, p = fisher_exact([[2, 2], [1, 3]])
    assert primary.p_value == pytest.approx(p)
    assert primary.odds_ratio == pytest.approx(odds)
    assert primary.p_value_one_sided == pytest.approx(
        fisher_exact([[2, 2], [1, 3]], alternative="greater")[1]
    )


def test_disease_control_counts_cr_pr_and_sd(primary):
    """Disease control: arm B 3 of 4 (CR, PR, SD), arm A 3 of 4 (PR, SD, SD)."""
    assert primary.table["disease_control"].to_dict() == {"A": 3, "B": 3}


def test_crossover_response_from_the_post_sbrt_baseline(cohort):
    """A3's crossover response is PR (70 mm at its crossover baseline, 35 mm 7 weeks later)."""
    result = crossover_endpoint(cohort)
    assert result.counts == {"n": 1, "cr": 0, "pr": 1, "sd": 0, "pd": 0, "ne": 0, "responders": 1}
    assert result.patients.iloc[0]["crossover_start"] == pd.Timestamp("2012-07-02")
    assert result.rate.rate == 1.0


def test_scans_after_the_crossover_sbrt_are_not_in_the_primary_window(tmp_path):
    """A3's post-SBRT baseline scan (07-01, inside the week-14 window) is crossover data: it is
    neither a primary timepoint (its shrinkage would enter the waterfall) nor in the notebook."""
    folder = build_trial(tmp_path / "trial")
    scans = pd.read_csv(folder / "assessments.csv")
    extra = scans[(scans["patient_id"] == "A3") & (scans["date"] == WK14)].assign(
        date="2012-07-01", diameter_mm=[20, 20]
    )
    pd.concat([scans, extra]).to_csv(folder / "assessments.csv", index=False)
    cohort = load_cohort(folder)
    result = primary_endpoint(cohort)
    a3 = result.responses[result.responses["patient_id"] == "A3"]
    assert a3["date"].max() == pd.Timestamp(WK14)
    assert (a3["cutoff_date"] == pd.Timestamp("2012-06-29")).all()
    best = analyse_cohort(cohort).best_change.set_index("patient_id")
    assert best.loc["A3", "best_pct_change"] == pytest.approx(100 * (68 - 70) / 70)
    notebook = patient_response(cohort, "A3")
    assert notebook.crossover_sbrt == notebook.cutoff_date == pd.Timestamp("2012-06-29")
    assert notebook.timepoints["date"].max() == pd.Timestamp(WK14)
    assert notebook.crossover_timepoints["baseline_date"].iloc[0] == pd.Timestamp("2012-07-01")


def test_crossover_patient_without_a_crossover_course_is_not_evaluable(tmp_path):
    """A3 crossed over but has no cycle 3 dose yet: in the denominator as NE, no crash."""
    folder = build_trial(tmp_path / "trial")
    dosing = pd.read_csv(folder / "dosing.csv")
    dosing[dosing["cycle"] != 3].to_csv(folder / "dosing.csv", index=False)
    result = crossover_endpoint(load_cohort(folder))
    assert result.counts == {"n": 1, "cr": 0, "pr": 0, "sd": 0, "pd": 0, "ne": 1, "responders": 0}
    assert result.responses.empty
    assert result.patients.iloc[0]["bor"] == "MISSING"


def test_trial_without_crossover_patients_has_an_empty_crossover_endpoint(tmp_path):
    """Nobody crossed over: n = 0, the rate is not estimable, and nothing fails."""
    folder = build_trial(tmp_path / "trial")
    randomization = pd.read_csv(folder / "randomization.csv")
    randomization["crossover"] = "N"
    randomization.to_csv(folder / "randomization.csv", index=False)
    result = crossover_endpoint(load_cohort(folder))
    assert result.counts["n"] == 0 and result.patients.empty
    assert np.isnan(result.rate.rate)


def test_other_rulesets_run_on_the_same_data(cohort):
    """The registry's RECIST 1.0 wording gives a table of the same shape."""
    result = primary_endpoint(cohort, ruleset="recist1.0")
    assert result.table["n"].tolist() == [4, 4]


@pytest.mark.parametrize(
    ("ruleset", "words"), [(None, "RECIST 1.1"), ("protocol", "protocol ruleset")]
)
def test_registry_table_names_the_ruleset_the_counts_come_from(cohort, ruleset, words):
    """The registry-style primary outcome names the criteria actually applied."""
    analysis = analyse_cohort(cohort, ruleset=ruleset)
    assert analysis.ruleset == (ruleset or "recist1.1")
    outcome = analysis.registry()["outcome"].iloc[0]
    assert f", {words}, non-irradiated lesions" in outcome


def test_categories_fold_non_target_only_and_missing():
    """NON-CR/NON-PD counts as SD; NE, ND and MISSING as NE; the paper's four plus NE."""
    codes = pd.Series(["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "ND", "MISSING"])
    assert response_category(codes).tolist() == ["CR", "PR", "SD", "SD", "PD", "NE", "NE", "NE"]
    assert CATEGORIES == ("CR", "PR", "SD", "PD", "NE")


def test_unknown_response_code_is_refused():
    """A code the protocol does not place raises, naming it."""
    with pytest.raises(ValueError, match="'XX'"):
        response_category(pd.Series(["CR", "XX"]))


def test_count_by_arm_rows_sum_to_n():
    """CR + PR + SD + PD + NE = n in every arm, whatever the mix."""
    patients = pd.DataFrame(
        {"arm": list("AAAABBB"), "bor": ["CR", "NON-CR/NON-PD", "MISSING", "PD", "PR", "PR", "ND"]}
    )
    table = count_by_arm(patients)
    sums = table[["cr", "pr", "sd", "pd", "ne"]].sum(axis=1)
    assert sums.tolist() == table["n"].tolist() == [4, 3]
    assert table.loc["A", "disease_control"] == 2


def test_local_control_counts_irradiated_lesions_by_arm(cohort):
    """B1's and A3's irradiated lesions double after SBRT: each arm has 1 lesion, 0 controlled."""
    table, lesions = local_control_by_arm(cohort)
    counts = ["lesions", "evaluable", "controlled", "patients"]
    assert table.loc["B", counts].tolist() == [1, 1, 0, 1]
    assert table.loc["A", counts].tolist() == [1, 1, 0, 1]
    assert table.loc["B", "rate"] == 0.0
    assert set(lesions["patient_id"]) == {"B1", "A3"}


def test_patient_courses_lists_treatment_and_follow_up_events(cohort):
    """A3's course: IL-2 cycles 1 and 3, crossover at its first SBRT fraction, progression."""
    primary = primary_endpoint(cohort)
    courses = patient_courses(
        cohort.randomization, cohort.dosing, cohort.followup, primary.responses
    )
    a3 = courses[courses["patient_id"] == "A3"].set_index("event")
    assert a3.loc["crossover", "date"] == pd.Timestamp("2012-06-29T09:00")
    assert a3.loc["progression", "date"] == pd.Timestamp("2012-06-25")
    assert (courses.loc[courses["patient_id"] == "A3", "event"] == "il2_cycle").sum() == 2
    assert a3.loc["alive", "months"] == pytest.approx(
        (pd.Timestamp("2017-06-01") - pd.Timestamp("2012-03-08")).days / 30.4375
    )
    b2 = courses[(courses["patient_id"] == "B2") & (courses["event"] == "CR")]
    assert b2["date"].tolist() == [pd.Timestamp(WK7)]
    assert (courses["event"] == "follow_up").sum() == len(TUMOURS)


def test_response_course_counts_weeks_from_the_first_il2_dose(cohort):
    """The week-7 scan of B1 lies 7 weeks after its first IL-2 dose, at -40%."""
    primary = primary_endpoint(cohort)
    arms = primary.patients.set_index("patient_id")["arm"]
    course = response_course(primary.responses, first_il2_dose(cohort.dosing), arms)
    b1 = course[course["patient_id"] == "B1"].iloc[0]
    assert b1["week"] == pytest.approx(7.0)
    assert b1["pct_change_baseline"] == pytest.approx(-40.0)
