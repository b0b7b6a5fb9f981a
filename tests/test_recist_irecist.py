"""iRECIST (Seymour et al., Lancet Oncol 2017): the protocol's numbers, each rule at its edge."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recist_frames import Patient, day, frames
from test_protocol import _edited

from studylib.errors import DataError
from studylib.protocol import PROTOCOL, ProtocolError, load_protocol
from studylib.recist import irecist_best_response, timepoint_responses
from studylib.recist.irecist import RULES, irecist_timepoints
from studylib.vocabulary import IBOR_ORDER

PROTOCOL_FILE = Path(__file__).resolve().parents[1] / "studylib" / "protocol.toml"


# --- the protocol file ----------------------------------------------------------------------


def test_irecist_numbers_come_from_the_protocol_file():
    """5 mm further growth confirms; 5 new target lesions, 2 per organ; a 4-8 week window."""
    rules = PROTOCOL.response.irecist
    assert rules.base_ruleset == "recist1.1"
    assert rules.confirm_min_increase.to("mm").magnitude == 5
    assert (rules.new_target_max, rules.new_target_max_per_organ) == (5, 2)
    assert rules.confirmation_window_min.to("week").magnitude == 4
    assert rules.confirmation_window_max.to("week").magnitude == 8
    assert "Seymour" in rules.source and "Table 2" in rules.quotes["quote_confirmation"]


def test_variant_protocol_has_its_own_irecist_numbers(variant_protocol):
    """The test protocol differs in every iRECIST number."""
    ours, theirs = PROTOCOL.response.irecist, variant_protocol.response.irecist
    for name in (
        "confirm_min_increase",
        "new_target_max",
        "new_target_max_per_organ",
        "confirmation_window_min",
        "confirmation_window_max",
    ):
        assert getattr(ours, name) != getattr(theirs, name), name


def test_irecist_window_must_open_before_it_closes(tmp_path):
    path = _edited(
        tmp_path, 'confirmation_window_min = "4 week"', 'confirmation_window_min = "9 week"'
    )
    with pytest.raises(ProtocolError, match=r"\[response.irecist\] confirmation_window_min"):
        load_protocol(path)


def test_irecist_base_ruleset_must_exist(tmp_path):
    path = _edited(tmp_path, 'base_ruleset = "recist1.1"', 'base_ruleset = "who"')
    with pytest.raises(ProtocolError, match="base_ruleset = 'who'"):
        load_protocol(path)


def test_a_protocol_without_irecist_still_loads(tmp_path):
    """Older trial folders' protocol files have no [response.irecist]: they load without it."""
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    start = text.index("[response.irecist]")
    end = text.index("# ----", start)
    path = tmp_path / "protocol.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert load_protocol(path).response.irecist is None


# --- timepoint responses ----------------------------------------------------------------------


def irecist(*patients, protocol=None, **options):
    """iRECIST timepoints of some synthetic patients (bundled protocol by default)."""
    lesions, assessments = frames(*patients)
    if protocol is None:
        return timepoint_responses(lesions, assessments, ruleset="irecist", **options)
    return irecist_timepoints(lesions, assessments, protocol=protocol, **options)


def codes(out, patient="P001"):
    rows = out[out["patient_id"] == patient]
    return list(rows["overall_response"]), list(rows["rule"])


def growing(patient_id="P001", *, further):
    """Targets 30 + 20 mm; +10 mm at day 49 (iUPD); ``further`` mm more at day 98."""
    return Patient(patient_id).targets(30, 20).follow(49, 40, 20).follow(98, 40 + further, 20)


def test_exactly_the_confirming_increase_confirms():
    """+5 mm over the sum at the iUPD is iCPD (Seymour Table 2: 'further increase ... >=5 mm')."""
    out = irecist(growing(further=5))
    assert codes(out) == (["iUPD", "iCPD"], ["iupd", "confirm_target_sum"])
    assert "+5.0 mm from 60.0 mm at the iUPD" in out["reason"].iloc[1]
    assert out["iupd_date"].iloc[1] == day(49)


def test_one_millimetre_less_leaves_the_iupd_open_and_increases_add_up():
    """+4 mm is not enough (iUPD stays); +1 mm more at the next scan makes +5 (EORTC FAQ)."""
    out = irecist(growing(further=4).follow(147, 45, 20))
    assert codes(out) == (
        ["iUPD", "iUPD", "iCPD"],
        ["iupd", "iupd_unchanged", "confirm_target_sum"],
    )
    assert "+4.0 mm from the iUPD (confirms at >= 5 mm)" in out["reason"].iloc[1]


def test_pseudo_progression_resets_and_a_later_progression_is_judged_afresh():
    """iUPD, then iSD resets it; a new iUPD from the nadir needs its own confirmation."""
    patient = (
        Patient()
        .targets(30, 20)
        .follow(49, 42, 20)  # 62: +24% from 50 -> iUPD
        .follow(98, 25, 20)  # 45: -10% from baseline -> iSD, reset
        .follow(147, 35, 20)  # 55: +22% and +10 mm from the nadir 45 -> iUPD again
        .follow(196, 39, 20)  # 59: +4 mm from 55 -> stays iUPD
        .follow(245, 40, 20)  # 60: +5 mm from 55 -> iCPD
    )
    out = irecist(patient)
    assert codes(out) == (
        ["iUPD", "iSD", "iUPD", "iUPD", "iCPD"],
        ["iupd", "reset", "iupd", "iupd_unchanged", "confirm_target_sum"],
    )
    assert out["iupd_date"].iloc[4] == day(147)
    assert pd.isna(out["iupd_date"].iloc[1])
    assert list(out["recist_response"]) == ["PD", "SD", "PD", "PD", "PD"]


def test_response_after_iupd_counts_and_cr_resets():
    out = irecist(Patient().targets(30, 20).follow(49, 42, 20).follow(98, 0, 0))
    assert codes(out) == (["iUPD", "iCR"], ["iupd", "reset"])


def test_iupd_then_not_evaluable_keeps_the_iupd_open():
    """A scan missing a target is NE; the iUPD stays open and a later scan can confirm it."""
    patient = (
        Patient()
        .targets(30, 20)
        .follow(49, 40, 20)
        .scan(98, T1=40)  # T2 not evaluated: the measured 40 mm cannot show progression
        .follow(147, 45, 20)
    )
    out = irecist(patient)
    assert codes(out) == (
        ["iUPD", "NE", "iCPD"],
        ["iupd", "iupd_not_evaluable", "confirm_target_sum"],
    )
    assert out["iupd_date"].iloc[1] == day(49)


def new_lesion_patient(*later, first=12.0, node=False):
    """Targets 30 + 20 mm, shrinking to 45 mm with a new lesion NEW01 (``first`` mm) at day
    49 (iUPD), then the scans ``later`` as (day, {lesion: value}) pairs."""
    patient = Patient().targets(30, 20).lesion("NEW01", "new", nodal=node, site="liver")
    patient.follow(49, 25, 20, NEW01=(first, "unequivocal"))
    for on_day, values in later:
        patient.scan(on_day, **values)
    return patient


def test_a_second_new_lesion_confirms():
    patient = new_lesion_patient(
        (98, {"T1": 25, "T2": 20, "NEW01": (12.0, "unequivocal"), "NEW02": (6.0, "unequivocal")})
    ).lesion("NEW02", "new", site="lung")
    out = irecist(patient)
    assert codes(out) == (["iUPD", "iCPD"], ["iupd", "confirm_new_lesion"])
    assert "another new lesion (NEW02)" in out["reason"].iloc[1]


def test_a_new_lesion_unchanged_stays_iupd():
    """Seymour Table 2: 'if no change is seen in new lesions (size or number) ... remains iUPD'."""
    out = irecist(new_lesion_patient((98, {"T1": 25, "T2": 20, "NEW01": (12.0, "unequivocal")})))
    assert codes(out) == (["iUPD", "iUPD"], ["iupd", "iupd_unchanged"])
    assert "new lesions present" in out["reason"].iloc[1]


@pytest.mark.parametrize(
    ("later_mm", "expected"), [(16.0, "iupd_unchanged"), (17.0, "confirm_new_target_sum")]
)
def test_new_target_lesions_confirm_at_the_increase(later_mm, expected):
    """A measurable new lesion (12 mm) is a new target: its sum confirms at +5 mm, not +4."""
    out = irecist(
        new_lesion_patient((98, {"T1": 25, "T2": 20, "NEW01": (later_mm, "unequivocal")}))
    )
    assert out["rule"].iloc[1] == expected
    assert out["new_targets_expected"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("later_mm", "expected"), [(8.0, "iupd_unchanged"), (8.5, "confirm_new_nontarget")]
)
def test_new_non_target_lesions_confirm_on_any_increase(later_mm, expected):
    """An 8 mm new lesion is not measurable: a new non-target lesion, any growth confirms."""
    out = irecist(
        new_lesion_patient(
            (98, {"T1": 25, "T2": 20, "NEW01": (later_mm, "unequivocal")}), first=8.0
        )
    )
    assert out["rule"].iloc[1] == expected
    assert out["new_targets_expected"].tolist() == [0, 0]


def test_new_lesion_then_further_shrinkage_is_ipr_and_no_change_after_pr_stays_iupd():
    """EORTC iRECIST FAQ scenarios B and F."""
    shrinks = new_lesion_patient((98, {"T1": 10, "T2": 20, "NEW01": (12.0, "unequivocal")}))
    assert codes(irecist(shrinks)) == (["iUPD", "iPR"], ["iupd", "reset"])
    after_pr = (
        Patient()
        .targets(30, 20)
        .lesion("NEW01", "new", site="liver")
        .follow(49, 15, 20)
        .follow(98, 15, 20, NEW01=(12.0, "unequivocal"))
        .follow(147, 15, 20, NEW01=(12.0, "unequivocal"))
    )
    assert codes(irecist(after_pr)) == (
        ["iPR", "iUPD", "iUPD"],
        ["no_progression", "iupd", "iupd_unchanged"],
    )


def test_complete_response_needs_the_new_lesions_gone():
    """Targets gone but the new lesion present: iPR; the new lesion gone too: iCR."""
    out = irecist(
        new_lesion_patient(
            (98, {"T1": 0, "T2": 0, "NEW01": (5.0, "unequivocal")}),
            (147, {"T1": 0, "T2": 0, "NEW01": (0.0, "unequivocal")}),
        )
    )
    assert codes(out)[0] == ["iUPD", "iPR", "iCR"]


def test_new_target_limits_per_organ_and_in_total():
    """Two new targets per organ at most (the third liver lesion is new non-target), five in
    all (the sixth measurable lesion is new non-target)."""
    patient = Patient().targets(30, 20)
    values = {}
    for number, site in enumerate(["liver", "liver", "liver", "lung", "bone", "skin", "adrenal"]):
        lesion_id = f"NEW{number + 1:02d}"
        patient.lesion(lesion_id, "new", site=site)
        values[lesion_id] = (20.0 - number, "unequivocal")
    patient.follow(49, 30, 20, **values)
    out = irecist(patient)
    assert out["new_targets_expected"].tolist() == [5]
    assert out["new_present"].tolist() == [7]
    # The new target lesions are the two largest liver lesions, lung, bone and skin.
    assert out["new_target_sum_mm"].tolist() == [20 + 19 + 17 + 16 + 15]


def test_nodes_are_measured_on_the_short_axis():
    """A nodal target below 10 mm short axis counts as gone (iCR); a new node of 12 mm is
    pathological but not measurable (new non-target), of 15 mm a new target, of 9 mm no lesion."""
    cr = Patient().targets(20, 20, nodal=(1,)).follow(49, 9, 0)
    assert codes(irecist(cr))[0] == ["iCR"]
    pr = Patient("P002").targets(20, 20, nodal=(1,)).follow(49, 10, 0)
    assert codes(irecist(pr), "P002")[0] == ["iPR"]
    for size, expected_targets, expected in [(12.0, 0, "iUPD"), (15.0, 1, "iUPD"), (9.0, 0, "iSD")]:
        out = irecist(
            Patient()
            .targets(30, 20)
            .lesion("NEW01", "new", nodal=True)
            .follow(49, 30, 20, NEW01=(size, "unequivocal"))
        )
        assert out["overall_response"].tolist() == [expected], size
        assert out["new_targets_expected"].tolist() == [expected_targets], size


def test_non_target_only_patient_is_non_icr_non_iupd():
    patient = (
        Patient()
        .lesion("N1", "non_target")
        .scan(0, N1="present")
        .scan(49, N1="present")
        .scan(98, N1="absent")
    )
    assert codes(irecist(patient)) == (
        ["NON-iCR/NON-iUPD", "iCR"],
        ["no_progression", "no_progression"],
    )


def test_non_target_progression_confirms_only_with_further_growth():
    """Non-target iUPD: staying in unequivocal progression is no change (iUPD); a larger
    measurement confirms (EORTC FAQ: the increase need not be unequivocal again)."""
    patient = (
        Patient()
        .targets(30, 20)
        .lesion("N1", "non_target")
        .follow(0, N1=(20.0, "present"))
        .follow(49, 30, 20, N1=(30.0, "unequivocal_progression"))
        .follow(98, 30, 20, N1=(30.0, "unequivocal_progression"))
        .follow(147, 30, 20, N1=(31.0, "unequivocal_progression"))
    )
    out = irecist(patient)
    assert codes(out) == (
        ["iUPD", "iUPD", "iCPD"],
        ["iupd", "iupd_unchanged", "confirm_nontarget"],
    )


def test_progression_in_another_category_confirms():
    """iUPD from a new lesion; at the next scan the targets progress: iCPD (EORTC FAQ)."""
    out = irecist(new_lesion_patient((98, {"T1": 40, "T2": 20, "NEW01": (12.0, "unequivocal")})))
    assert codes(out) == (["iUPD", "iCPD"], ["iupd", "confirm_target_progression"])


def test_growth_before_the_window_does_not_confirm_but_a_new_lesion_does(any_protocol):
    """Growth confirms from ``confirmation_window_min`` after the iUPD (inclusive); another new
    lesion on any scan (EORTC FAQ on scans less than four weeks after iUPD)."""
    rules = any_protocol.response.irecist
    window = int(rules.confirmation_window_min.to("day").magnitude)
    grow = float(rules.confirm_min_increase.to("mm").magnitude)
    for gap, expected in [(window - 1, "iupd_unchanged"), (window, "confirm_target_sum")]:
        patient = Patient().targets(40, 40).follow(49, 80, 40).follow(49 + gap, 80 + grow, 40)
        out = irecist(patient, protocol=any_protocol)
        assert out["rule"].tolist() == ["iupd", expected], gap
    early = (
        Patient()
        .targets(40, 40)
        .lesion("NEW01", "new")
        .follow(49, 80, 40)
        .follow(56, 80, 40, NEW01=(4.0, "unequivocal"))
    )
    assert irecist(early, protocol=any_protocol)["rule"].tolist() == ["iupd", "confirm_new_lesion"]


def test_the_confirming_increase_is_the_protocols(any_protocol):
    grow = float(any_protocol.response.irecist.confirm_min_increase.to("mm").magnitude)
    for further, expected in [(grow - 1, "iUPD"), (grow, "iCPD")]:
        patient = Patient().targets(40, 40).follow(49, 80, 40).follow(98, 80 + further, 40)
        assert irecist(patient, protocol=any_protocol)["overall_response"].tolist() == [
            "iUPD",
            expected,
        ]


def test_new_target_limits_are_the_protocols(variant_protocol):
    """The variant protocol allows 4 new targets, 3 per organ."""
    patient = Patient().targets(30, 20)
    values = {}
    for number, site in enumerate(["liver", "liver", "liver", "liver", "lung", "bone"]):
        lesion_id = f"NEW{number + 1:02d}"
        patient.lesion(lesion_id, "new", site=site)
        values[lesion_id] = (30.0 - number, "unequivocal")
    patient.follow(49, 30, 20, **values)
    out = irecist(patient, protocol=variant_protocol)
    assert out["new_targets_expected"].tolist() == [4]
    assert out["new_target_sum_mm"].tolist() == [30 + 29 + 28 + 26]


def test_confirmed_progression_stands():
    out = irecist(growing(further=5).follow(147, 10, 10))
    assert codes(out) == (["iUPD", "iCPD", "iCPD"], ["iupd", "confirm_target_sum", "after_icpd"])


def test_every_timepoint_names_its_rule():
    out = irecist(growing("P002", further=4), new_lesion_patient((98, {"T1": 10, "T2": 20})))
    assert set(out["rule"]) <= set(RULES)
    assert out["reason"].str.len().gt(20).all()


def test_a_protocol_without_irecist_is_refused(tmp_path):
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    start = text.index("[response.irecist]")
    path = tmp_path / "protocol.toml"
    path.write_text(text[:start] + text[text.index("# ----", start) :], encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"no \[response.irecist\] section"):
        irecist(growing(further=5), protocol=load_protocol(path))


# --- best overall response (Seymour Table 3) ------------------------------------------------

REFERENCE = pd.Timestamp("2024-01-01")


def sequence(*codes_in_order, spacing=49, patient="P001"):
    """Timepoint responses every ``spacing`` days from the reference date."""
    return pd.DataFrame(
        {
            "patient_id": patient,
            "date": [
                REFERENCE + pd.Timedelta(days=spacing * (n + 1)) for n in range(len(codes_in_order))
            ],
            "response": list(codes_in_order),
        }
    )


def ibor(responses, **options):
    refs = {pid: REFERENCE for pid in responses["patient_id"].unique()}
    return irecist_best_response(responses, refs, **options).set_index("patient_id")


@pytest.mark.parametrize(
    ("example", "codes_in_order", "expected", "at"),
    [
        (1, ["iCR", "iPR", "NE", "iUPD", "iCPD"], "iCR", 0),
        (2, ["iUPD", "iPR", "iCR", "iUPD", "iCPD"], "iCR", 2),
        (3, ["iUPD", "iPR", "iSD", "iUPD", "iCPD"], "iPR", 1),
        (4, ["iUPD", "NE", "iPR", "iUPD", "iCPD"], "iPR", 2),
        (5, ["iUPD", "iSD", "iUPD", "NE", "iCPD"], "iSD", 1),
        (6, ["iUPD", "iCPD", "iCR", "iCR", "iCR"], "iCPD", 0),
        (7, ["iUPD", "iUPD", "iCPD", "iCR", "iPR"], "iCPD", 0),
        (8, ["iUPD", "NE", "NE", "NE", "NE"], "iUPD", 0),
    ],
)
def test_seymour_table_3(example, codes_in_order, expected, at):
    """The eight scenarios of Seymour et al. 2017, Table 3 (iCPD dated at the iUPD it confirms)."""
    responses = sequence(*codes_in_order)
    result = ibor(responses).loc["P001"]
    assert result["ibor"] == expected, example
    assert result["date"] == responses["date"].iloc[at], example


def test_icpd_confirms_the_iupd_after_the_last_reset():
    """iUPD, iSD (reset, here before the SD minimum), iUPD, iCPD: progression is the second iUPD."""
    responses = sequence("iUPD", "iSD", "iUPD", "iCPD", spacing=20)
    result = ibor(responses).loc["P001"]
    assert result["ibor"] == "iCPD"
    assert result["progression_date"] == responses["date"].iloc[2]
    assert result["icpd_date"] == responses["date"].iloc[3]
    assert pd.isna(result["open_iupd_date"])


def test_an_iupd_never_confirmed_is_reported_open():
    responses = sequence("iSD", "iUPD", "NE")
    result = ibor(responses).loc["P001"]
    assert result["ibor"] == "iSD"
    assert result["open_iupd_date"] == responses["date"].iloc[1]
    assert pd.isna(result["progression_date"])


@pytest.mark.parametrize(("on_day", "expected"), [(41, "NE"), (42, "iSD")])
def test_sd_minimum_is_inclusive_and_defaults_to_the_protocol(on_day, expected):
    """[response].sd_min_interval (42 days in the bundled protocol) counts, inclusive."""
    responses = sequence("iSD", spacing=on_day)
    assert ibor(responses).loc["P001", "ibor"] == expected
    assert ibor(responses, sd_min_days=on_day + 1).loc["P001", "ibor"] == "NE"


def test_sd_minimum_follows_the_protocol_given(variant_protocol):
    days_min = int(variant_protocol.response.sd_min_interval.to("day").magnitude)
    responses = sequence("iSD", spacing=days_min - 1)
    assert ibor(responses).loc["P001", "ibor"] == "iSD"
    assert ibor(responses, protocol=variant_protocol).loc["P001", "ibor"] == "NE"


def test_early_isd_then_iupd_is_iupd_and_non_target_only():
    assert ibor(sequence("iSD", "iUPD", spacing=30)).loc["P001", "ibor"] == "iUPD"
    assert (
        ibor(sequence("NON-iCR/NON-iUPD", "NON-iCR/NON-iUPD")).loc["P001", "ibor"]
        == "NON-iCR/NON-iUPD"
    )


def test_worst_record_of_a_date_cutoff_and_missing_patients():
    two = pd.concat([sequence("iSD", "iPR"), sequence("iCPD", patient="P001")])
    refs = {"P001": REFERENCE, "P002": REFERENCE}
    result = irecist_best_response(two, refs).set_index("patient_id")
    assert result.loc["P001", "ibor"] == "iCPD"
    assert result.loc["P001", "dates_with_several_records"] == 1
    assert result.loc["P002", "ibor"] == "MISSING"
    assert (
        irecist_best_response(two, refs, missing_as_ne=True)
        .set_index("patient_id")
        .loc["P002", "ibor"]
        == "NE"
    )
    cut = irecist_best_response(
        sequence("iSD", "iPR"), refs, cutoff_dates=REFERENCE + pd.Timedelta(days=60)
    )
    assert cut.set_index("patient_id").loc["P001", "ibor"] == "iSD"
    assert "after the cut-off date" in cut.set_index("patient_id").loc["P001", "reason"]


def test_unknown_codes_are_refused_listing_them():
    with pytest.raises(DataError, match="'PD'.*one of iCR, iPR"):
        ibor(sequence("iSD", "PD"))


def test_timepoints_feed_the_best_response():
    """The engine's output goes straight in (its ``overall_response`` column)."""
    out = irecist(
        Patient().targets(30, 20).follow(49, 42, 20).follow(98, 25, 20).follow(147, 35, 20)
    )
    result = irecist_best_response(out, {"P001": day(0)}).set_index("patient_id")
    assert result.loc["P001", "ibor"] == "iSD"
    assert result.loc["P001", "open_iupd_date"] == day(147)


def test_a_new_lesion_not_assessed_keeps_the_iupd_open():
    """A new lesion seen before and missing from a scan may have grown: no reset (NE)."""
    out = irecist(
        new_lesion_patient(
            (98, {"T1": 10, "T2": 20}), (147, {"T1": 10, "T2": 20, "NEW01": (0.0, "unequivocal")})
        )
    )
    assert codes(out) == (["iUPD", "NE", "iPR"], ["iupd", "iupd_not_evaluable", "reset"])
    assert out["new_not_evaluated"].tolist() == [0, 1, 0]
    assert "1 seen before not assessed" in out["reason"].iloc[1]


# --- the bundled synthetic cohort -----------------------------------------------------------


def test_bundled_cohort_shows_its_designed_pseudo_and_confirmed_progressions(data_dir):
    """The synthetic design (plan column ``beyond_progression``) is what the engine finds:
    a pseudo-progression is iUPD then a reset to a response, a confirmed progression is iUPD
    then iCPD; the RECIST 1.1 best responses are unchanged (tests/test_synth.py)."""
    from studylib.data import load_cohort
    from studylib.synth import DEFAULT_PATIENTS, DEFAULT_SEED, generate

    design = generate(DEFAULT_PATIENTS, DEFAULT_SEED).design.set_index("patient_id")
    beyond = design.loc[design["beyond_progression"] != "", "beyond_progression"]
    assert (beyond == "pseudo_progression").sum() >= 2
    assert (beyond == "confirmed_progression").sum() >= 2
    cohort = load_cohort(data_dir)
    out = timepoint_responses(
        cohort.lesions, cohort.assessments, ruleset="irecist", protocol=cohort.protocol
    )
    for patient, kind in beyond.items():
        rows = out[out["patient_id"] == patient]
        opened = rows.index[rows["rule"] == "iupd"][0]
        after = rows.loc[opened + 1]
        expected = ("reset", "iPR") if kind == "pseudo_progression" else ("confirm", "iCPD")
        assert after["rule"].startswith(expected[0]) and after["overall_response"] == expected[1], (
            patient,
            after["reason"],
        )
        assert rows.loc[opened, "recist_response"] == "PD"


def test_primary_window_gives_the_ibor_of_the_sensitivity_analysis(data_dir):
    """``primary_best_response(..., ruleset="irecist")``: the primary endpoint's window and
    reference date, iRECIST timepoints and best response; a pseudo-progression inside the
    window is a RECIST 1.1 PD and an iRECIST iPR."""
    from studylib.data import load_cohort
    from studylib.recist.variants import primary_best_response

    cohort = load_cohort(data_dir)
    frames = (cohort.randomization, cohort.dosing, cohort.lesions, cohort.assessments)
    recist = primary_best_response(*frames, protocol=cohort.protocol).patients
    ibor = primary_best_response(*frames, ruleset="irecist", protocol=cohort.protocol).patients
    assert set(ibor["bor"]) <= set(IBOR_ORDER)
    both = (
        recist.set_index("patient_id")["bor"]
        .to_frame("recist")
        .join(ibor.set_index("patient_id")["bor"].rename("irecist"))
    )
    renamed = both["recist"].map({"CR": "iCR", "PR": "iPR", "SD": "iSD"})
    not_pd = both["recist"] != "PD"
    assert (both.loc[not_pd, "irecist"] == renamed[not_pd]).all()
    assert set(both.loc[~not_pd, "irecist"]) <= {"iUPD", "iCPD", "iPR", "iSD", "iCR"}
    pseudo = both[(both["recist"] == "PD") & both["irecist"].isin(["iPR", "iSD", "iCR"])]
    assert len(pseudo) >= 2
