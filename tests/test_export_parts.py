"""The export's parts on small inputs: the metadata table, conformance, visits, identifiers,
the Dataset-JSON check, the command, and exports of small and variant trial folders."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from studylib.cli import main
from studylib.data import load_cohort
from studylib.errors import DataError, ProtocolError
from studylib.export.conform import conform
from studylib.export.dataset_json_check import check_dataset_json
from studylib.export.datasets import export_datasets
from studylib.export.identifiers import study_identifiers
from studylib.export.metadata import _problems, dataset, datasets, metadata_table
from studylib.export.visits import scan_visits
from studylib.protocol import PROTOCOL

# --- the metadata table ------------------------------------------------------------------


def test_metadata_fits_sas_transport_version_5():
    table = metadata_table()
    assert table["variable"].str.fullmatch(r"[A-Z][A-Z0-9]{0,7}").all()
    assert table["label"].str.len().between(1, 40).all()
    assert set(table["type"]) <= {"string", "integer", "float", "date", "datetime"}
    assert set(table["origin"]) <= {"Collected", "Derived", "Assigned", "Protocol", "Predecessor"}
    assert not table.duplicated(["dataset", "variable"]).any()
    for ds in datasets().values():
        assert set(ds.keys) <= set(ds.names)


def test_metadata_problems_are_named():
    dm = dataset("DM")
    long_name = replace(dm.variables[0], name="STUDYIDEN")
    long_label = replace(dm.variables[1], label="L" * 41)
    bad = replace(dm, variables=(long_name, long_label, *dm.variables[2:]))
    found = _problems({"DM": bad})
    assert any("DM.STUDYIDEN" in p for p in found)
    assert any("DM.DOMAIN: label" in p for p in found)
    assert _problems({"DM": dm}) == []


# --- conformance: a value that does not fit is an error, never a truncation --------------


def _pr(**values):
    row = {
        "STUDYID": "S",
        "DOMAIN": "PR",
        "USUBJID": "S-P001",
        "PRSEQ": 1,
        "PRLNKID": "T01",
        "PRTRT": "STEREOTACTIC BODY RADIATION THERAPY",
        "PRLOC": "LUNG",
        "PRSTDTC": "2012-03-16",
    }
    row.update(values)
    return pd.DataFrame([row])


def test_text_at_its_length_fits_and_one_more_character_is_an_error():
    assert conform(_pr(PRLOC="L" * 100), dataset("PR"))["PRLOC"][0] == "L" * 100
    with pytest.raises(DataError) as caught:
        conform(_pr(PRLOC="L" * 101), dataset("PR"))
    problem = caught.value.problems[0]
    assert (problem.file, problem.column, problem.patient_id) == ("PR", "PRLOC", "S-P001")
    assert "at most 100 characters, got 101" in problem.expected


def test_text_sas_transport_cannot_hold_is_an_error():
    with pytest.raises(DataError, match="ASCII"):
        conform(_pr(PRLOC="LUNG µ"), dataset("PR"))


def test_wrong_types_are_errors():
    with pytest.raises(DataError) as caught:
        conform(_pr(PRSEQ=1.5, PRSTDTC="16/03/2012"), dataset("PR"))
    expected = {p.column: p.expected for p in caught.value.problems}
    assert expected == {"PRSEQ": "a whole number", "PRSTDTC": "an ISO 8601 date"}


def test_repeated_problems_are_counted_once():
    frame = pd.concat([_pr(USUBJID=f"S-{i}", PRLOC="L" * 120) for i in range(3)])
    with pytest.raises(DataError) as caught:
        conform(frame, dataset("PR"))
    (problem,) = caught.value.problems
    assert problem.patient_id == "S-0" and "(3 records" in problem.expected


def test_a_numeric_date_with_a_time_is_an_error():
    adtr = dataset("ADTR")
    row = {v.name: None for v in adtr.variables}
    row.update(USUBJID="S-1", ADT=pd.Timestamp("2012-03-16 10:00"))
    with pytest.raises(DataError, match="a date without a time of day"):
        conform(pd.DataFrame([row]), adtr)


def test_columns_must_be_the_metadata():
    with pytest.raises(ValueError, match="missing"):
        conform(_pr().drop(columns="PRLOC"), dataset("PR"))


# --- visits -------------------------------------------------------------------------------


def _visits(*dates, reference="2024-01-08", protocol=PROTOCOL):
    scans = pd.DataFrame({"patient_id": "P1", "date": pd.to_datetime(list(dates))})
    refs = pd.Series({"P1": pd.Timestamp(reference)}) if reference else pd.Series(dtype=object)
    return scan_visits(scans, refs, protocol)["visit"].tolist()


def test_a_scan_is_its_timepoint_from_the_planned_day_to_the_window_end():
    # week 7 of a reference on 2024-01-08 is 2024-02-26, its window ends 7 days later
    assert _visits("2024-01-02", "2024-02-26") == ["BASELINE", "WEEK 7"]
    assert _visits("2024-01-02", "2024-03-04") == ["BASELINE", "WEEK 7"]
    # a missed visit is not numbered: an unscheduled scan follows the last visit that happened
    assert _visits("2024-01-02", "2024-03-05") == ["BASELINE", "UNSCHEDULED 0.1"]
    assert _visits("2024-01-02", "2024-02-25") == ["BASELINE", "UNSCHEDULED 0.1"]


def test_a_second_scan_in_a_window_is_unscheduled():
    assert _visits("2024-01-02", "2024-02-26", "2024-02-28") == [
        "BASELINE",
        "WEEK 7",
        "UNSCHEDULED 7.1",
    ]


def test_many_unscheduled_scans_are_numbered_in_hundredths():
    dates = ["2024-01-02"] + [f"2024-01-{day:02d}" for day in range(10, 21)]
    visits = _visits(*dates)
    assert visits[1] == "UNSCHEDULED 0.01" and visits[-1] == "UNSCHEDULED 0.11"


def test_without_a_reference_only_the_baseline_is_scheduled():
    assert _visits("2024-01-02", "2024-02-26", reference=None) == ["BASELINE", "UNSCHEDULED 0.1"]


def test_visits_follow_the_protocol_given(variant_protocol):
    # the variant's first timepoint is week 9 with a 4-day window
    assert _visits("2024-01-02", "2024-03-15", protocol=variant_protocol) == ["BASELINE", "WEEK 9"]
    assert _visits("2024-01-02", "2024-03-16", protocol=variant_protocol) == [
        "BASELINE",
        "UNSCHEDULED 0.1",
    ]


# --- identifiers --------------------------------------------------------------------------


def test_identifiers_come_from_the_protocol(variant_protocol):
    ids = study_identifiers(variant_protocol)
    assert (ids.studyid, ids.siteid, ids.country) == ("TEST-VARIANT", "S-7", "CAN")
    assert ids.usubjid("P9") == "TEST-VARIANT-P9"


def test_a_protocol_without_cdisc_identifiers_is_refused():
    trial = {k: v for k, v in PROTOCOL.trial.items() if k != "cdisc"}
    with pytest.raises(ProtocolError, match=r"\[trial.cdisc\] site_id"):
        study_identifiers(replace(PROTOCOL, trial=trial))


# --- the Dataset-JSON structure check -----------------------------------------------------


def _doc():
    return {
        "datasetJSONCreationDateTime": "2024-01-01T10:00:00",
        "datasetJSONVersion": "1.1.0",
        "itemGroupOID": "IG.DM",
        "records": 1,
        "name": "DM",
        "label": "Demographics",
        "columns": [
            {"itemOID": "IT.DM.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier",
             "dataType": "string", "length": 4, "keySequence": 1},
            {"itemOID": "IT.DM.RANDDT", "name": "RANDDT", "label": "Date of Randomization",
             "dataType": "date", "targetDataType": "integer"},
            {"itemOID": "IT.DM.AGE", "name": "AGE", "label": "Age", "dataType": "integer"},
        ],
        "rows": [["S-01", "2024-01-02", 63]],
    }  # fmt: skip


def test_a_conforming_document_has_no_problem():
    assert check_dataset_json(_doc()) == []
    assert check_dataset_json({**_doc(), "rows": [["S-01", None, None]]}) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("itemGroupOID"), "itemGroupOID is required"),
        (lambda d: d.update(datasetJSONVersion="1.0.0"), "is not 1.1 or 1.1.n"),
        (lambda d: d.update(datasetJSONCreationDateTime="2024-01-01"), "YYYY-MM-DDThh:mm:ss"),
        (lambda d: d.update(records=2), "records is 2 but there are 1 rows"),
        (lambda d: d.update(extra=1), "extra is not a Dataset-JSON 1.1 attribute"),
        (lambda d: d.update(name=d.pop("name")), "not in the specification's order"),
        (lambda d: d["columns"][2].update(dataType="number"), "dataType 'number' is not one"),
        (lambda d: d["columns"][0].update(targetDataType="integer"), "cannot take targetDataType"),
        (lambda d: d["columns"][2].update(name="USUBJID"), "name repeated: USUBJID"),
        (lambda d: d["columns"][1].pop("label"), "columns[1].label is required"),
        (lambda d: d["rows"][0].pop(), "has 2 values for 3 columns"),
        (lambda d: d["rows"][0].__setitem__(0, "S-001"), "longer than its length 4"),
        (lambda d: d["rows"][0].__setitem__(1, "02/01/2024"), "an ISO 8601 date expected"),
        (lambda d: d["rows"][0].__setitem__(2, 63.5), "integer or null expected, got float"),
        (lambda d: d["rows"][0].__setitem__(2, True), "integer or null expected, got bool"),
    ],
)
def test_each_departure_from_the_structure_is_named(change, problem):
    doc = _doc()
    change(doc)
    assert any(problem in p for p in check_dataset_json(doc)), check_dataset_json(doc)


# --- whole exports of small folders -------------------------------------------------------


def test_the_command_exports_a_trial_folder(tiny_trial, tmp_path, capsys):
    out = tmp_path / "cdisc"
    assert main(["export", "--data", str(tiny_trial), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    written = sorted(path.stem for path in out.glob("*.xpt"))
    assert f"wrote {len(written)} datasets" in said and "adsl 2" in said
    assert {"dm", "tu", "tr", "rs", "adsl", "adrs", "adtte"} <= set(written)
    doc = json.loads((out / "adrs.json").read_text(encoding="utf-8"))
    assert check_dataset_json(doc) == []


def test_the_command_says_when_there_is_no_folder(tmp_path, capsys):
    assert main(["export", "--data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "no trial data folder" in capsys.readouterr().err


def test_a_value_too_long_stops_the_export_before_anything_is_written(tiny_trial, tmp_path):
    lesions = (tiny_trial / "lesions.csv").read_text(encoding="utf-8")
    (tiny_trial / "lesions.csv").write_text(lesions.replace(",liver,", f",{'x' * 120},", 1))
    out = tmp_path / "cdisc"
    with pytest.raises(DataError) as caught:
        export_datasets(tiny_trial, out)
    where = {(p.file, p.column, p.patient_id) for p in caught.value.problems}
    assert ("TU", "TULOC", "11-062A-T001") in where
    assert not out.exists()


def test_without_followup_there_is_no_adtte_and_no_progression(tiny_trial, tmp_path):
    (tiny_trial / "followup.csv").unlink()
    result = export_datasets(tiny_trial, tmp_path / "cdisc")
    assert "adtte" not in result.datasets and "followup.csv" in result.left_out["adtte"]
    assert not (tmp_path / "cdisc" / "adtte.xpt").exists()
    assert "PD" not in set(result.datasets["adrs"]["PARAMCD"])


def test_the_bundled_cohort_under_the_variant_protocol_exports_by_that_protocol(
    data_dir, variant_protocol, tmp_path
):
    """Study id, site, country, arm codes and names, visits, the primary endpoint's window and
    its result all follow the protocol the cohort is under."""
    from recist_frames import under_protocol

    from studylib.analysis import primary_endpoint

    cohort = under_protocol(load_cohort(data_dir), variant_protocol)
    d = export_datasets(cohort, tmp_path / "cdisc").datasets
    assert set(d["dm"]["STUDYID"]) == {"TEST-VARIANT"}
    assert (set(d["dm"]["SITEID"]), set(d["dm"]["COUNTRY"])) == ({"S-7"}, {"CAN"})
    assert d["adsl"]["USUBJID"].str.startswith("TEST-VARIANT-").all()
    assert set(d["adsl"]["ARMCD"]) == {"C", "R"}
    assert set(d["adsl"]["TRT01P"]) == {arm.name for arm in variant_protocol.arms}
    assert set(d["adsl"]["TRT02A"].dropna()) == {"Radiation then IL-2"}
    weeks = {f"WEEK {t.week}" for t in variant_protocol.assessments.timepoints}
    # the bundled cohort's scans (weeks 7, 14, 21) fall in none of the variant's windows
    scheduled = {v for v in d["tr"]["VISIT"] if v != "BASELINE" and not v.startswith("UNSCH")}
    assert scheduled <= weeks and "WEEK 7" not in set(d["rs"]["VISIT"])
    adrs = d["adrs"]
    bor = adrs[adrs["PARAMCD"] == "BOR"].set_index("USUBJID")["AVALC"]
    expected = primary_endpoint(cohort).patients.set_index("patient_id")["bor"]
    assert bor.to_dict() == expected.rename(lambda p: f"TEST-VARIANT-{p}").to_dict()
    week = variant_protocol.response.primary_timepoint_week
    assert f"up to Week {week} " in adrs.loc[adrs["PARAMCD"] == "BOR", "PARAM"].iloc[0]
    cutoff = d["adsl"].set_index("SUBJID")["RSCUTDT"]
    assert (
        cutoff.to_dict()
        == primary_endpoint(cohort).patients.set_index("patient_id")["cutoff_date"].to_dict()
    )


def test_a_cohort_under_the_variant_protocol_exports_by_its_protocol(variant_protocol, tmp_path):
    from studylib.analysis import primary_endpoint
    from studylib.synth.cohort import write_cohort

    folder = tmp_path / "variant"
    write_cohort(folder, 30, 7, protocol=variant_protocol)
    cohort = load_cohort(folder)  # the folder's own protocol.toml, written by synth
    assert cohort.protocol == variant_protocol
    result = export_datasets(cohort, tmp_path / "cdisc")
    d = result.datasets
    assert set(d["dm"]["STUDYID"]) == {"TEST-VARIANT"} and set(d["dm"]["COUNTRY"]) == {"CAN"}
    assert set(d["adsl"]["ARMCD"]) <= {"C", "R"}
    assert set(d["adsl"]["TRT01P"]) <= {arm.name for arm in variant_protocol.arms}
    weeks = {f"WEEK {t.week}" for t in variant_protocol.assessments.timepoints}
    scheduled = {v for v in d["tr"]["VISIT"] if v != "BASELINE" and not v.startswith("UNSCH")}
    assert scheduled <= weeks
    assert f"WEEK {variant_protocol.response.primary_timepoint_week}" in scheduled
    bor = d["adrs"][d["adrs"]["PARAMCD"] == "BOR"]
    expected = primary_endpoint(cohort).patients
    assert bor["AVALC"].tolist() == expected.sort_values("patient_id")["bor"].tolist()
    assert f"Week {variant_protocol.response.primary_timepoint_week}" in bor["PARAM"].iloc[0]


def test_the_readme_shows_the_metadata_table(repo_dir):
    from studylib.export.metadata import markdown_table

    readme = (repo_dir / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme


# --- the safety forms, when a trial folder has them ----------------------------------------


@pytest.fixture
def with_safety_forms(tiny_trial):
    """The tiny trial with safety forms as the loader gives them (hand-written, synthetic)."""
    cohort = load_cohort(tiny_trial)
    cohort.adverse_events = pd.DataFrame(
        {
            "patient_id": ["T001", "T001", "T002"],
            "ae_id": ["AE01", "AE02", "AE01"],
            "term": ["Hypotension", "Fever", "Creatinine increased"],
            "grade": pd.array([3, 1, 2], dtype="Int64"),
            "start_date": pd.to_datetime(["2012-03-19", "2012-03-20", "2012-06-01"]),
            "end_date": pd.to_datetime(["2012-03-21", "2012-03-20", "2012-06-10"]),
            "serious": pd.array([True, False, False], dtype="boolean"),
            "related_il2": ["related", "related", "not_related"],
            "related_sbrt": ["not_related", "not_related", "not_applicable"],
            "action_il2": ["drug_interrupted", "dose_not_changed", "not_applicable"],
            "outcome": ["recovered", "recovered", "recovering"],
        }
    )
    cohort.labs = pd.DataFrame(
        {
            "patient_id": ["T001", "T001"],
            "collected_at": pd.to_datetime(["2012-03-19 06:00", "2012-03-20 06:00"]),
            "creatinine": ["1.2 mg/dL", "212 µmol/L"],
            "creatinine_uln": ["1.2 mg/dL", "106 µmol/L"],
            "platelets": ["250 x10^9/L", "40 K/uL"],
            "platelets_lln": ["150 × 10⁹/L", "150 K/uL"],
        }
    )
    cohort.vitals = pd.DataFrame(
        {
            "patient_id": ["T001"],
            "cycle": pd.array([1], dtype="Int64"),
            "number": pd.array([2], dtype="Int64"),
            "measured_at": pd.to_datetime(["2012-03-19 15:40"]),
            "heart_rate": ["112 bpm"],
            "systolic_bp": ["88 mmHg"],
            "o2_saturation": ["95 %"],
            "urine_output_8h": ["150 mL"],
            "weight": ["176 lb"],
        }
    )
    return cohort


def test_safety_forms_become_ae_lb_vs_and_adae(with_safety_forms, tmp_path):
    result = export_datasets(with_safety_forms, tmp_path / "cdisc")
    assert result.left_out == {}
    d = result.datasets
    assert list(d) == ["dm", "ds", "ex", "pr", "tu", "tr", "rs", "ae", "lb", "vs"] + [
        "adsl",
        "adrs",
        "adtr",
        "adtte",
        "adae",
    ]
    ae = d["ae"].set_index(["USUBJID", "AESPID"])
    first = ae.loc[("11-062A-T001", "AE01")]
    assert (first["AEDECOD"], first["AEBODSYS"], first["AETOXGR"]) == (
        "Hypotension",
        "Vascular disorders",
        "3",
    )
    assert (first["AESER"], first["AEREL"], first["AEACN"]) == ("Y", "RELATED", "DRUG INTERRUPTED")
    assert ae.loc[("11-062A-T002", "AE01"), "AEREL"] == "NOT RELATED"
    assert ae.loc[("11-062A-T002", "AE01"), "AEOUT"] == "RECOVERING/RESOLVING"
    lb = d["lb"].set_index(["LBTESTCD", "LBDTC"])
    creatinine = lb.loc[("CREAT", "2012-03-20T06:00")]
    assert (creatinine["LBORRES"], creatinine["LBORRESU"], creatinine["LBORNRHI"]) == (
        "212",
        "umol/L",
        "106",
    )
    assert creatinine["LBSTRESN"] == pytest.approx(212) and creatinine["LBSTRESU"] == "umol/L"
    assert creatinine["LBTOXGR"] == "2"  # 2.0 x ULN: CTCAE v5.0 grade 2 is >1.5 - 3.0 x ULN
    first_platelets = lb.loc[("PLAT", "2012-03-19T06:00")]
    assert (first_platelets["LBORNRLO"], first_platelets["LBORRESU"]) == ("150", "10^9/L")
    platelets = lb.loc[("PLAT", "2012-03-20T06:00")]
    assert (platelets["LBSTRESN"], platelets["LBSTNRLO"], platelets["LBSTRESU"]) == (
        40.0,
        150.0,
        "10^9/L",
    )
    assert platelets["LBTOXGR"] == "3"  # 25 to <50 x10^9/L
    vs = d["vs"].set_index("VSTESTCD")
    assert set(vs.index) == {"HR", "SYSBP", "OXYSAT", "WEIGHT", "UROUT"}
    assert vs.loc["WEIGHT", "VSORRES"] == "176" and vs.loc["WEIGHT", "VSORRESU"] == "lb"
    assert vs.loc["WEIGHT", "VSSTRESN"] == pytest.approx(79.83, abs=0.01)
    assert vs.loc["HR", "VSSPID"] == "IL2-C1-02" and vs.loc["HR", "VSSTRESU"] == "beats/min"
    adae = d["adae"].set_index(["USUBJID", "AESEQ"])
    assert adae["ATOXGRN"].tolist() == [3, 1, 2]
    # T002 received no treatment: outside the safety population, never treatment-emergent
    assert adae["TRTEMFL"].tolist() == ["Y", "Y", None]
    for name in ("ae", "lb", "vs", "adae"):
        assert not d[name].duplicated(list(dataset(name).keys)).any(), name
        doc = json.loads((tmp_path / "cdisc" / f"{name}.json").read_text(encoding="utf-8"))
        assert check_dataset_json(doc) == [], name


def test_absent_safety_forms_are_left_out_and_said(tiny_trial, tmp_path):
    for form in ("adverse_events", "labs", "vitals"):
        (tiny_trial / f"{form}.csv").unlink(missing_ok=True)
    (tmp_path / "cdisc").mkdir()
    (tmp_path / "cdisc" / "ae.xpt").write_bytes(b"an earlier export's AE")
    result = export_datasets(tiny_trial, tmp_path / "cdisc")
    assert set(result.left_out) == {"ae", "lb", "vs", "adae"}
    assert "adverse_events.csv" in result.left_out["adae"]
    assert not (tmp_path / "cdisc" / "ae.xpt").exists()
