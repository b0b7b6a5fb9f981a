"""Tests of the synthetic cohort generator (studylib.synth) and the bundled cohort in data/."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studylib.cli import main
from studylib.data import load_cohort
from studylib.dictionary import TABLES, synthetic_notice
from studylib.protocol import PROTOCOL, WEEKDAYS
from studylib.synth import (
    DEFAULT_PATIENTS,
    DEFAULT_SEED,
    SynthError,
    generate,
    notice_line,
    write_cohort,
)
from studylib.synth.facts import TRIAL_FACTS, apportion, scale_flow
from studylib.synth.writer import csv_text
from studylib.units import parse_quantities

DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def bundled(data_dir: Path):
    """The bundled cohort, loaded and validated."""
    return load_cohort(data_dir)


@pytest.fixture(scope="module")
def within_rules(tmp_path_factory):
    """A larger cohort generated without deliberate deviations (enrollment numbers past 20)."""
    folder = tmp_path_factory.mktemp("rules") / "cohort"
    write_cohort(folder, 300, seed=7, deviations=False)
    return load_cohort(folder)


def _il2(cohort) -> pd.DataFrame:
    return cohort.dosing[cohort.dosing["treatment"] == "il2"]


def _cycle_starts(cohort) -> pd.Series:
    """First dose slot of every (patient, cycle)."""
    return _il2(cohort).groupby(["patient_id", "cycle"])["scheduled_at"].min()


def _units(values: pd.Series) -> set[str]:
    return set(values.dropna().str.replace(r"^[\d.,]+\s*", "", regex=True))


# --- determinism and the bundled cohort -------------------------------------------------------


def test_same_seed_gives_identical_files():
    """The same seed and size give byte-identical CSV text for every file."""
    first, second = generate(63, seed=11), generate(63, seed=11)
    for name in TABLES:
        assert csv_text(first.tables[name]) == csv_text(second.tables[name]), name


def test_different_seed_gives_different_files():
    """Another seed gives another cohort."""
    first, second = generate(63, seed=11), generate(63, seed=12)
    assert csv_text(first.tables["assessments"]) != csv_text(second.tables["assessments"])
    assert csv_text(first.tables["screening"]) != csv_text(second.tables["screening"])


def test_regenerating_bundled_cohort_changes_no_byte(tmp_path, data_dir):
    """`studylib synth --out data` with the defaults rewrites data/ byte for byte."""
    out = tmp_path / "data"
    assert main(["synth", "--out", str(out)]) == 0
    for table in TABLES.values():
        assert (out / table.filename).read_bytes() == (data_dir / table.filename).read_bytes()
    assert (DEFAULT_PATIENTS, DEFAULT_SEED) == (63, 1416831)


def test_every_file_carries_the_synthetic_notice(data_dir):
    """Every CSV of data/ starts with the synthetic-data notice as a comment line."""
    for table in TABLES.values():
        first = (data_dir / table.filename).read_text(encoding="utf-8").splitlines()[0]
        assert first == notice_line() == f"# {synthetic_notice('NCT01416831')}", table.filename


# --- the published flow -------------------------------------------------------------------


def test_flow_counts_match_the_trial(bundled):
    """63 screened, 50 consented, 13 screen failures, 6 excluded (3/2/1), 44 enrolled 1-44."""
    s = bundled.screening
    assert len(s) == 63
    assert list(s["patient_id"]) == [f"P{i:03d}" for i in range(1, 64)]
    assert s["screening_date"].is_monotonic_increasing
    assert int(s["consent_signed"].fillna(False).sum()) == 50
    outcome = s["screening_outcome"].value_counts()
    assert outcome.to_dict() == {"enrolled": 44, "screen_failure": 13, "excluded_after_consent": 6}
    excluded = s.loc[s["screening_outcome"] == "excluded_after_consent", "outcome_reason"]
    assert excluded.str.contains("rapid melanoma progression").sum() == 3
    assert excluded.str.startswith("EXCL06").sum() == 2
    assert excluded.str.contains("insurance").sum() == 1
    r = bundled.randomization
    assert list(r["enrollment_number"]) == list(range(1, 45))
    enrolled = s.loc[s["screening_outcome"] == "enrolled", "patient_id"]
    assert list(r["patient_id"]) == list(enrolled)
    assert r["randomized_on"].is_monotonic_increasing
    assert r["randomized_on"].min() >= pd.Timestamp("2011-07-01")
    assert r["randomized_on"].max() <= pd.Timestamp("2017-04-05")


def test_arm_sizes_and_crossover(bundled):
    """20 in arm A, 24 in arm B, 7 crossovers all from arm A; P001 is in arm B."""
    r = bundled.randomization.set_index("patient_id")
    assert r["arm"].value_counts().to_dict() == {"B": 24, "A": 20}
    crossed = r[r["crossover"].astype(bool)]
    assert len(crossed) == 7
    assert set(crossed["arm"]) == {"A"}
    assert r.loc["P001", "arm"] == "B"


def test_screening_reproduces_the_flow(bundled):
    """Screen failures fail the criterion their reason names; enrolled patients are eligible."""
    from studylib.eligibility import screen_cohort

    results = screen_cohort(bundled.screening, bundled.sbrt_sites)
    status = results.groupby("patient_id", sort=False)["overall_status"].first()
    s = bundled.screening.set_index("patient_id")
    enrolled = s.index[s["screening_outcome"] == "enrolled"]
    assert set(status[enrolled]) == {"eligible"}
    for patient, row in s[s["outcome_reason"].notna()].iterrows():
        named = re.match(r"^(INCL|EXCL)\d\d", row["outcome_reason"])
        if named is None:  # rapid progression, insurance: not eligibility criteria
            assert status[patient] == "eligible", patient
            continue
        mine = results[(results["patient_id"] == patient) & (results["id"] == named.group())]
        assert mine["status"].item() == "fail", (patient, row["outcome_reason"])
        assert status[patient] == "ineligible"


def test_failure_values_cross_their_thresholds(bundled):
    """The haemoglobin and creatinine failures are just past the protocol's limits."""
    s = bundled.screening.set_index("patient_id")
    reasons = s["outcome_reason"].fillna("")
    hgb = parse_quantities(s.loc[reasons.str.startswith("EXCL09"), "hgb"], to="g/dL")
    assert list(hgb["magnitude"].round(1)) == [8.4]
    creat = parse_quantities(
        s.loc[reasons.str.startswith("EXCL12"), "creatinine"], to="mg/dL", analyte="creatinine"
    )
    assert (creat["magnitude"] > 1.9).all()
    assert "below 9.0 g/dL" in reasons[reasons.str.startswith("EXCL09")].item()


def test_labs_and_weights_come_in_several_units(bundled):
    """Creatinine, bilirubin, WBC, haemoglobin and weight each appear in two units or more."""
    s = bundled.screening
    for column in ("creatinine", "bilirubin", "wbc", "hgb", "weight"):
        assert len(_units(s[column])) >= 2, (column, _units(s[column]))
    assert {"mg/dL"} < _units(s["creatinine"])
    assert {"kg", "lb"} == _units(s["weight"])
    assert s["laboratory"].nunique() >= 3


def test_demographics_look_like_adult_melanoma_patients(bundled):
    """Adults around a median age of 55, about 60% men."""
    s = bundled.screening
    age = (s["screening_date"] - s["birth_date"]).dt.days / 365.25
    assert age.min() >= 18 and 48 <= age.median() <= 62
    assert 0.55 <= (s["sex"] == "M").mean() <= 0.65


# --- treatment dates --------------------------------------------------------------------------


def test_sbrt_fractions_follow_the_enrollment_number(within_rules):
    """Numbers 1-20 get one fraction on the Friday, 21 on two on Wednesday and Friday, the
    last 3 days before the IL-2 Monday; arm B before cycle 1, crossovers before cycle 3."""
    c = within_rules
    sbrt = c.dosing[c.dosing["treatment"] == "sbrt"].merge(c.randomization, on="patient_id")
    starts = _cycle_starts(c)
    counts = sbrt.groupby(["patient_id", "cycle"]).agg(
        n=("number", "size"), number=("enrollment_number", "first")
    )
    assert set(counts.loc[counts["number"] <= 20, "n"]) == {1}
    assert set(counts.loc[counts["number"] >= 21, "n"]) == {2}
    for (patient, cycle), g in sbrt.groupby(["patient_id", "cycle"]):
        days = [WEEKDAYS[d.weekday()] for d in g.sort_values("number")["given_at"]]
        assert days == (["Friday"] if len(g) == 1 else ["Wednesday", "Friday"]), patient
        monday = starts[(patient, cycle)].normalize()
        assert (monday - g["given_at"].max().normalize()).days == 3
        assert (g["dose"] == "20 Gy").all()
    arm = c.randomization.set_index("patient_id")
    cycle_of = sbrt.groupby("patient_id")["cycle"].first()
    assert set(cycle_of[arm.loc[cycle_of.index, "arm"] == "B"]) == {1}
    assert set(cycle_of[arm.loc[cycle_of.index, "arm"] == "A"]) == {3}
    crossed = set(arm.index[arm["crossover"].astype(bool)])
    assert set(cycle_of.index[cycle_of == 3]) == crossed


def test_il2_cycles_start_on_monday_with_slots_every_8_hours(within_rules):
    """Each cycle has 14 slots 8 h apart from Monday 08:00; most give fewer than 14 doses."""
    il2 = _il2(within_rules)
    for (_, _), g in il2.groupby(["patient_id", "cycle"]):
        times = g.sort_values("number")["scheduled_at"]
        assert len(times) == 14
        assert times.iloc[0].weekday() == 0 and times.iloc[0].strftime("%H:%M") == "08:00"
        assert set(times.diff().dropna()) == {pd.Timedelta(hours=8)}
    given = il2[il2["status"] == "given"].groupby(["patient_id", "cycle"]).size()
    assert given.max() <= 14
    assert (given < 14).mean() > 0.5
    held = il2[il2["status"] == "held"]
    assert held["hold_reason"].notna().all() and held["given_at"].isna().all()
    assert il2.loc[il2["status"] == "given", "hold_reason"].isna().all()


def test_second_cycle_of_a_course_within_its_window(within_rules):
    """Cycle 2 (and 4, 6) starts 14 days after the previous cycle, or one week later at most."""
    starts = _cycle_starts(within_rules).dt.normalize().unstack()
    for second in (2, 4, 6):
        gap = (starts[second] - starts[second - 1]).dropna().dt.days
        assert set(gap) <= {14, 21}, second
        assert (gap == 21).any() or second > 2


def test_crossover_course_follows_the_last_fraction(within_rules):
    """Cycle 3 of a crossover starts the Monday after the last fraction and its week-21 scan
    is 7 weeks (plus at most the window) after it."""
    c = within_rules
    crossed = c.randomization.loc[c.randomization["crossover"].astype(bool), "patient_id"]
    starts = _cycle_starts(c)
    for patient in crossed:
        start = starts[(patient, 3)].normalize()
        scans = c.assessments.loc[c.assessments["patient_id"] == patient, "date"].unique()
        last = max(scans)
        assert 49 <= (last - start).days <= 56, patient
        assert (last - starts[(patient, 1)].normalize()).days in range(147, 155)


def test_scans_fall_in_their_windows(within_rules):
    """Baseline within 28 days before the first treatment; weeks 7, 14 and 21 (from the first
    IL-2 dose) within 7 days after their planned day; a crossover baseline within 28 days
    before the crossover's first fraction."""
    c = within_rules
    first_sbrt = (
        c.dosing[c.dosing["treatment"] == "sbrt"]
        .groupby(["patient_id", "cycle"])["given_at"]
        .min()
        .dt.normalize()
    )
    starts = _cycle_starts(c).dt.normalize()
    for patient, g in c.assessments.groupby("patient_id"):
        dates = sorted(g["date"].unique())
        day_one = starts[(patient, 1)]
        first_treatment = min(day_one, first_sbrt.get((patient, 1), day_one))
        assert 1 <= (first_treatment - dates[0]).days <= 28, patient
        for date in dates[1:]:
            since = (date - day_one).days
            scheduled = any(7 * w <= since <= 7 * w + 7 for w in (7, 14, 21))
            xo = first_sbrt.get((patient, 3))
            crossover_baseline = xo is not None and 1 <= (xo - date).days <= 28
            assert scheduled or crossover_baseline, (patient, date)


# --- tumours ----------------------------------------------------------------------------------


def test_target_lesions_follow_recist_selection_rules(within_rules, bundled):
    """At most 5 targets and 2 per organ (nodes one organ); measurable at baseline: 10 mm,
    nodes 15 mm short axis; every patient has a non-irradiated target."""
    for c in (within_rules, bundled):
        targets = c.lesions[c.lesions["role"] == "target"]
        organ = targets["site"].where(~targets["nodal"].astype(bool), "lymph node")
        assert targets.groupby("patient_id").size().max() <= 5
        assert targets.assign(organ=organ).groupby(["patient_id", "organ"]).size().max() <= 2
        baseline = c.assessments.groupby("patient_id")["date"].transform("min")
        first = c.assessments[c.assessments["date"] == baseline].merge(targets)
        nodal = first["nodal"].astype(bool)
        assert (first.loc[~nodal, "diameter_mm"] >= 10).all()
        assert (first.loc[nodal, "diameter_mm"] >= 15).all()
        kept = targets[~targets["irradiated"].astype(bool)]
        assert set(kept["patient_id"]) == set(c.randomization["patient_id"])


def test_sbrt_foci_are_amenable_and_irradiated_lesions_linked(within_rules):
    """Enrolled patients have 1-3 amenable foci of at most 7 cm; arm B and crossover foci are
    irradiated lesions dated on the last fraction of their course; no other lesion is."""
    c = within_rules
    sites = c.sbrt_sites.merge(c.randomization, on="patient_id")
    size = parse_quantities(sites["longest_diameter"], to="cm")["magnitude"]
    assert (size <= 7).all()
    assert set(sites["site"]) <= {"lung", "mediastinum", "chest_wall", "bone", "liver"}
    assert sites.groupby("patient_id").size().between(1, 3).all()
    treated = sites["arm"].eq("B") | sites["crossover"].astype(bool)
    lesions = c.lesions.set_index(["patient_id", "lesion_id"])
    linked = lesions.loc[list(zip(sites["patient_id"], sites["lesion_id"], strict=True))]
    assert (linked["irradiated"].to_numpy() == treated.to_numpy()).all()
    last = (
        c.dosing[c.dosing["treatment"] == "sbrt"]
        .groupby("patient_id")["given_at"]
        .max()
        .dt.normalize()
    )
    irradiated = c.lesions[c.lesions["irradiated"].astype(bool)]
    assert len(irradiated) == int(treated.sum())
    assert (
        irradiated["irradiated_on"].to_numpy() == last[irradiated["patient_id"]].to_numpy()
    ).all()


def test_best_overall_response_by_recist_engine_matches_publication(bundled):
    """RECIST 1.1 on non-irradiated lesions, up to week 14 and its window, unconfirmed, SD
    from day 42: arm B CR 5 PR 8 SD 5 PD 6; arm A CR 3 PR 4 SD 5 PD 8."""
    from studylib.recist import best_overall_response
    from studylib.recist.timepoint import timepoint_responses

    c = bundled
    first_dose = (
        _il2(c)[(_il2(c)["cycle"] == 1) & (_il2(c)["status"] == "given")]
        .groupby("patient_id")["given_at"]
        .min()
        .dt.normalize()
    )
    responses = timepoint_responses(c.lesions, c.assessments)
    bor = best_overall_response(responses, first_dose, cutoff_dates=first_dose + 105 * DAY)
    arms = c.randomization.set_index("patient_id")["arm"]
    table = pd.crosstab(bor["patient_id"].map(arms), bor["bor"])
    assert table.loc["B", ["CR", "PR", "SD", "PD"]].tolist() == [5, 8, 5, 6]
    assert table.loc["A", ["CR", "PR", "SD", "PD"]].tolist() == [3, 4, 5, 8]
    assert bor.set_index("patient_id").loc["P001", "bor"] == "PR"


def test_crossover_responses_by_recist_engine_match_publication(bundled):
    """From the crossover baseline, 7 weeks after cycle 3: 1 CR and 2 PR among 7 crossovers."""
    from studylib.recist import best_overall_response
    from studylib.recist.variants import crossover_response

    c = bundled
    crossed = c.randomization.loc[c.randomization["crossover"].astype(bool), "patient_id"]
    il2 = _il2(c)
    start = (
        il2[(il2["cycle"] == 3) & il2["patient_id"].isin(crossed) & (il2["status"] == "given")]
        .groupby("patient_id")["given_at"]
        .min()
        .dt.normalize()
    )
    responses = crossover_response(c.lesions, c.assessments, start)
    bor = best_overall_response(responses, start, cutoff_dates=start + 56 * DAY)
    counts = bor["bor"].value_counts().to_dict()
    assert (counts.get("CR"), counts.get("PR"), len(bor)) == (1, 2, 7)


def test_design_is_reproduced_by_recist_at_other_sizes(tmp_path):
    """A cohort of another size and seed also yields its designed best responses."""
    from studylib.recist import best_overall_response
    from studylib.recist.timepoint import timepoint_responses

    cohort = write_cohort(tmp_path / "c", 400, seed=3)
    c = load_cohort(tmp_path / "c")
    il2 = _il2(c)
    first_dose = (
        il2[(il2["cycle"] == 1) & (il2["status"] == "given")]
        .groupby("patient_id")["given_at"]
        .min()
        .dt.normalize()
    )
    responses = timepoint_responses(c.lesions, c.assessments)
    bor = best_overall_response(responses, first_dose, cutoff_dates=first_dose + 105 * DAY)
    designed = cohort.design.set_index("patient_id")["bor"]
    assert (bor.set_index("patient_id")["bor"] == designed[bor["patient_id"]].to_numpy()).all()


# --- dosing and follow-up ------------------------------------------------------------------


def test_il2_dose_is_600000_iu_per_kg_of_screening_weight(bundled):
    """Every IL-2 slot's dose is 600,000 IU/kg times the weight written at screening."""
    weight = parse_quantities(bundled.screening["weight"], to="kg")["magnitude"]
    weight.index = bundled.screening["patient_id"]
    il2 = _il2(bundled)
    dose = parse_quantities(il2["dose"], to="IU")["magnitude"].to_numpy()
    expected = 600_000 * weight[il2["patient_id"]].to_numpy()
    assert np.abs(dose - expected).max() <= 1


def test_demo_patient_is_a_clear_responder_with_held_doses(bundled):
    """P001: arm B, enrollment number 1, two irradiated SBRT sites, single doses held."""
    p = bundled.patient("P001")
    assert p["randomization"]["enrollment_number"].item() == 1
    assert len(p["sbrt_sites"]) == 2
    assert p["lesions"]["irradiated"].sum() == 2
    held = p["dosing"][(p["dosing"]["status"] == "held") & (p["dosing"]["cycle"] == 1)]
    assert (~held["hold_reason"].str.startswith("cycle stopped")).sum() >= 1


def test_five_year_survival_is_about_the_published_figures(bundled):
    """Kaplan-Meier overall survival at 5 years is within 2 points of 26% (B) and 25% (A)."""
    from lifelines import KaplanMeierFitter

    f = bundled.followup.merge(bundled.randomization, on="patient_id")
    died = f["died_on"].notna()
    end = f["died_on"].fillna(f["last_contact_on"])
    years = (end - f["randomized_on"]).dt.days / 365.25
    assert (f["progressed_on"].isna() | (f["progressed_on"] <= end)).all()
    for arm, published in (("A", 0.25), ("B", 0.26)):
        mine = f["arm"] == arm
        km = KaplanMeierFitter().fit(years[mine], died[mine])
        assert abs(float(km.survival_function_at_times(5).iloc[0]) - published) <= 0.02


# --- scaling and bad requests -------------------------------------------------------------


def test_published_counts_scale_exactly_to_63_and_proportionally_otherwise():
    """Apportioning the published flow to 63 patients returns it unchanged; 2 patients still
    fill both arms."""
    assert apportion(63, [13, 3, 2, 1, 44]) == [13, 3, 2, 1, 44]
    flow = scale_flow(63, PROTOCOL)
    assert (flow.enrolled, flow.arms, flow.crossover) == (44, {"A": 20, "B": 24}, 7)
    assert flow.best_response == {k: dict(v) for k, v in TRIAL_FACTS.best_response.items()}
    small = scale_flow(2, PROTOCOL)
    assert small.arms == {"A": 1, "B": 1}
    cohort = generate(2, seed=1)
    assert sorted(cohort.tables["randomization"]["arm"]) == ["A", "B"]


@pytest.mark.parametrize("patients", [3, 4, 5, 9])
def test_small_cohorts_are_valid(tmp_path, patients):
    """Cohorts of a handful of patients pass the loader and enrol someone in every arm."""
    write_cohort(tmp_path / "c", patients, seed=patients * 7 + 1)
    cohort = load_cohort(tmp_path / "c")
    assert set(cohort.randomization["arm"]) == {"A", "B"}


@pytest.mark.parametrize("patients", [1, 0, -5])
def test_fewer_patients_than_arms_is_refused(patients):
    """Fewer screened patients than arms is an impossible request."""
    with pytest.raises(SynthError, match="fewer than the trial's 2 arms"):
        generate(patients)


@pytest.mark.parametrize("seed", [-1, 2.5, "7"])
def test_bad_seed_is_refused(seed):
    """A negative or non-integer seed is refused, naming the seed."""
    with pytest.raises(SynthError, match="--seed must be a whole number of 0 or more"):
        generate(10, seed=seed)


def test_folder_with_other_files_is_refused_and_left_untouched(tmp_path):
    """A folder holding a file the generator did not write is never written into."""
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "screening.csv").write_text("patient_id\nX1\n")
    with pytest.raises(SynthError, match="notes.txt, screening.csv"):
        write_cohort(tmp_path, 10)
    assert (tmp_path / "screening.csv").read_text() == "patient_id\nX1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "screening.csv"]


def test_folder_holding_earlier_output_is_overwritten(tmp_path):
    """The generator may replace its own earlier output (and leaves a README.md alone)."""
    write_cohort(tmp_path, 10, seed=1)
    (tmp_path / "README.md").write_text("about this cohort")
    write_cohort(tmp_path, 12, seed=2)
    assert len(load_cohort(tmp_path).screening) == 12
    assert (tmp_path / "README.md").read_text() == "about this cohort"


def test_command_reports_refusals_and_exits_non_zero(tmp_path, capsys):
    """`studylib synth` exits 2 with a clear message for bad requests, 0 on success."""
    assert main(["synth", "--patients", "1", "--out", str(tmp_path / "a")]) == 2
    assert "fewer than the trial's 2 arms" in capsys.readouterr().err
    assert main(["synth", "--seed", "-3", "--out", str(tmp_path / "b")]) == 2
    assert "--seed" in capsys.readouterr().err
    target = tmp_path / "file.csv"
    target.write_text("x")
    assert main(["synth", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    assert main(["synth", "--patients", "20", "--out", str(tmp_path / "c")]) == 0
    assert "20 screened patients" in capsys.readouterr().out


def test_planted_deviations_are_documented_and_absent_within_rules(bundled):
    """The bundled cohort has exactly the two documented deviations; --within-rules none."""
    planted = generate().deviations.set_index("kind")["patient_id"]
    assert sorted(planted.index) == ["late_cycle", "sbrt_weekday"]
    starts = _cycle_starts(bundled).dt.normalize()
    late = planted["late_cycle"]
    assert (starts[(late, 2)] - starts[(late, 1)]).days == 28
    fraction = bundled.dosing[
        (bundled.dosing["patient_id"] == planted["sbrt_weekday"])
        & (bundled.dosing["treatment"] == "sbrt")
    ]
    assert fraction["given_at"].dt.day_name().tolist() == ["Thursday"]
    assert fraction["scheduled_at"].dt.day_name().tolist() == ["Friday"]
    assert generate(deviations=False).deviations.empty
