"""The CDISC export of the bundled synthetic cohort: formats, structure, rows and round trips.

The cohort is exported once (session fixture); every test reads the files written.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pyreadstat
import pytest

from studylib.analysis import count_by_arm, primary_endpoint, survival_by_arm, survival_times
from studylib.analysis.endpoints import response_category
from studylib.analysis.publication import PUBLISHED
from studylib.data import load_cohort
from studylib.export.dataset_json import read_dataset_json
from studylib.export.dataset_json_check import check_dataset_json
from studylib.export.datasets import export_datasets
from studylib.export.metadata import dataset
from studylib.export.xpt import read_xpt
from studylib.recist import best_overall_response, timepoint_responses
from studylib.recist.bor import protocol_bor_options
from studylib.sdtm import read_rs, read_tumour_sdtm

SDTM = ("dm", "ds", "ex", "pr", "tu", "tr", "rs")
ADAM = ("adsl", "adrs", "adtr", "adtte")


@pytest.fixture(scope="session")
def cohort(data_dir):
    return load_cohort(data_dir)


@pytest.fixture(scope="session")
def exported(cohort, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cdisc")
    return export_datasets(cohort, folder)


@pytest.fixture(scope="session")
def xpt(exported):
    return {name: read_xpt(exported.folder / f"{name}.xpt")[0] for name in exported.datasets}


@pytest.fixture(scope="session")
def primary(cohort):
    return primary_endpoint(cohort)


def test_every_dataset_is_written_in_both_formats(exported):
    """The safety datasets are written when the folder has the safety forms, else said."""
    safety = tuple(n for n in ("ae", "lb", "vs") if n in exported.datasets)
    adae = ("adae",) if "ae" in exported.datasets else ()
    assert tuple(exported.datasets) == SDTM + safety + ADAM + adae
    assert set(exported.left_out) == {"ae", "lb", "vs", "adae"} - set(exported.datasets)
    for name in exported.datasets:
        assert (exported.folder / f"{name}.xpt").is_file()
        assert (exported.folder / f"{name}.json").is_file()


def test_xpt_files_are_version_5_with_short_names_and_labels(exported):
    """SAS transport v5: library header, names of at most 8 capitals, labels of at most 40."""
    name_rule = re.compile(r"[A-Z][A-Z0-9]{0,7}")
    for name in exported.datasets:
        path = exported.folder / f"{name}.xpt"
        assert path.read_bytes()[:48] == b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        assert meta.table_name == name.upper()
        assert 0 < len(meta.file_label) <= 40
        for column, label in meta.column_names_to_labels.items():
            assert name_rule.fullmatch(column), (name, column)
            assert label and len(label) <= 40, (name, column, label)


def test_dataset_json_files_have_the_1_1_structure(exported):
    for name in exported.datasets:
        doc = json.loads((exported.folder / f"{name}.json").read_text(encoding="utf-8"))
        assert check_dataset_json(doc) == [], name
        assert doc["datasetJSONVersion"] == "1.1.0"
        assert doc["name"] == name.upper()
        assert doc["studyOID"] == "11-062A"
        assert [c["name"] for c in doc["columns"]] == dataset(name).names


def test_both_formats_hold_the_same_rows(exported, xpt):
    for name, frame in exported.datasets.items():
        from_json, doc = read_dataset_json(exported.folder / f"{name}.json")
        assert doc["records"] == len(frame) > 0, name
        pd.testing.assert_frame_equal(xpt[name], from_json, check_dtype=False, obj=name)
        pd.testing.assert_frame_equal(xpt[name], frame, check_dtype=False, obj=name)


def test_the_keys_identify_every_record(exported):
    for name, frame in exported.datasets.items():
        keys = list(dataset(name).keys)
        assert not frame.duplicated(keys).any(), (name, keys)


def test_numeric_dates_are_sas_dates_with_a_format(exported):
    raw, meta = pyreadstat.read_xport(
        str(exported.folder / "adsl.xpt"), disable_datetime_conversion=True
    )
    assert meta.original_variable_types["RANDDT"] == "DATE9."
    first = exported.datasets["adsl"].iloc[0]
    days = (first["RANDDT"] - pd.Timestamp("1960-01-01")).days
    assert raw["RANDDT"].iloc[0] == days
    doc = json.loads((exported.folder / "adsl.json").read_text(encoding="utf-8"))
    column = next(c for c in doc["columns"] if c["name"] == "RANDDT")
    assert column["dataType"] == "date" and column["targetDataType"] == "integer"
    assert doc["rows"][0][doc["columns"].index(column)] == first["RANDDT"].strftime("%Y-%m-%d")


def test_metadata_table_is_written_beside_the_datasets(exported):
    variables = pd.read_csv(exported.folder / "metadata.csv", keep_default_na=False)
    datasets = pd.read_csv(exported.folder / "datasets.csv", keep_default_na=False)
    assert list(variables.columns[:6]) == [
        "dataset",
        "variable",
        "label",
        "type",
        "length",
        "format",
    ]
    assert "origin" in variables.columns
    for name, frame in exported.datasets.items():
        listed = variables.loc[variables["dataset"] == name.upper(), "variable"].tolist()
        assert listed == list(frame.columns), name
        assert datasets.set_index("dataset").at[name.upper(), "records"] == len(frame)


def test_controlled_terms_and_iso_dates(exported):
    d = exported.datasets
    assert set(d["rs"]["RSSTRESC"]) <= {
        "CR",
        "PR",
        "SD",
        "PD",
        "NE",
        "NON-CR/NON-PD",
        "EQUIVOCAL",
        "UNEQUIVOCAL",
    }
    assert set(d["ex"]["EXTRT"]) == {"ALDESLEUKIN", "STEREOTACTIC BODY RADIATION THERAPY"}
    assert set(d["ex"]["EXDOSU"]) == {"IU", "Gy"}
    assert {"LYMPH NODE", "ADRENAL GLAND", "CHEST WALL"} <= set(d["tu"]["TULOC"])
    assert set(d["tu"]["TUMETHOD"]) <= {"CT SCAN", "MRI", "PET SCAN"}
    assert d["tr"]["TRDTC"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert d["ex"]["EXSTDTC"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").all()


def test_subjects_and_flow(exported, cohort):
    """DM holds the 50 who consented; DS says who was randomised and who failed screening."""
    dm, ds = exported.datasets["dm"], exported.datasets["ds"]
    assert len(dm) == 50
    assert dm["ARMNRS"].eq("SCREEN FAILURE").sum() == 6
    assert dm["USUBJID"].str.startswith("11-062A-").all()
    counts = ds["DSDECOD"].value_counts()
    assert counts["INFORMED CONSENT OBTAINED"] == 50
    assert counts["RANDOMIZED"] == 44
    assert counts["SCREEN FAILURE"] == 6
    adsl = exported.datasets["adsl"]
    assert len(adsl) == 44 and adsl["RANDFL"].eq("Y").all()
    assert adsl["CROSSFL"].eq("Y").sum() == 7
    assert adsl.loc[adsl["CROSSFL"] == "Y", "CROSSDT"].notna().all()
    assert adsl.loc[adsl["CROSSFL"] == "Y", "TRT02A"].eq("SBRT + IL-2").all()


def _arm_codes(names: pd.Series, cohort) -> pd.Series:
    by_name = {arm.name: arm.code for arm in cohort.protocol.arms}
    return names.map(by_name)


def test_published_response_counts_come_out_of_adrs(xpt, cohort):
    adrs = xpt["adrs"]
    bor = adrs[adrs["PARAMCD"] == "BOR"]
    category = response_category(bor["AVALC"], protocol=cohort.protocol)
    counts = pd.crosstab(_arm_codes(bor["TRT01P"], cohort), category)
    figures = {f.key: f.value for f in PUBLISHED}
    for arm in ("A", "B"):
        for code in ("CR", "PR", "SD", "PD"):
            assert counts.at[arm, code] == figures[f"{code.lower()}_{arm}"], (arm, code)
    after = adrs[adrs["PARAMCD"] == "XBOR"]["AVALC"].value_counts()
    assert after["CR"] == figures["crossover_cr"] and after["PR"] == figures["crossover_pr"]
    rsp = adrs[adrs["PARAMCD"] == "RSP"]
    responders = rsp[rsp["AVALC"] == "Y"].groupby(_arm_codes(rsp["TRT01P"], cohort)).size()
    assert responders["A"] == figures["responders_A"]
    assert responders["B"] == figures["responders_B"]


def test_deaths_come_out_of_adtte(xpt, cohort):
    adtte = xpt["adtte"]
    deaths = cohort.followup["died_on"].notna().sum()
    os_ = adtte[adtte["PARAMCD"] == "OS"]
    assert len(os_) == 44
    assert (os_["CNSR"] == 0).sum() == deaths
    assert os_.loc[os_["CNSR"] == 0, "EVNTDESC"].eq("DEATH").all()
    assert xpt["dm"]["DTHFL"].eq("Y").sum() == deaths


def test_bor_is_the_primary_endpoint(xpt, primary, cohort):
    adrs = xpt["adrs"].copy()
    adrs["patient_id"] = adrs["USUBJID"].str.removeprefix("11-062A-")
    bor = adrs[adrs["PARAMCD"] == "BOR"].set_index("patient_id")
    expected = primary.patients.set_index("patient_id")
    assert bor["AVALC"].to_dict() == expected["bor"].to_dict()
    assert bor["ADT"].to_dict() == expected["date"].to_dict()


def test_primary_endpoint_reproduced_from_adrs_and_adsl(xpt, primary, cohort):
    """A statistician's reproduction: OVR with ANL01FL, ADSL's reference day, no confirmation,
    the protocol's SD minimum: the same best responses and the same table by arm."""
    adsl = xpt["adsl"].set_index("USUBJID")
    ovr = xpt["adrs"][(xpt["adrs"]["PARAMCD"] == "OVR") & (xpt["adrs"]["ANL01FL"] == "Y")]
    responses = pd.DataFrame(
        {"patient_id": ovr["USUBJID"], "date": ovr["ADT"], "response": ovr["AVALC"]}
    )
    options = protocol_bor_options(cohort.protocol)
    bor = best_overall_response(
        responses,
        adsl["RSREFDT"],
        confirm=False,
        sd_min_days=options["sd_min_days"],
        protocol=cohort.protocol,
    )
    adrs_bor = xpt["adrs"][xpt["adrs"]["PARAMCD"] == "BOR"].set_index("USUBJID")["AVALC"]
    assert bor.set_index("patient_id")["bor"].to_dict() == adrs_bor.to_dict()
    patients = pd.DataFrame(
        {"arm": adsl["ARMCD"].reindex(bor["patient_id"]).to_numpy(), "bor": bor["bor"].to_numpy()}
    )
    table = count_by_arm(patients, protocol=cohort.protocol)
    columns = ["n", "cr", "pr", "sd", "pd", "ne", "responders", "orr", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(table[columns], primary.table[columns])


def test_confirmed_bor_is_never_better_than_bor(xpt):
    adrs = xpt["adrs"]
    bor = adrs[adrs["PARAMCD"] == "BOR"].set_index("USUBJID")["AVAL"]
    confirmed = adrs[adrs["PARAMCD"] == "CBOR"].set_index("USUBJID")["AVAL"]
    responders = bor.isin([1, 2])
    assert (confirmed[responders] >= bor[responders]).all()
    assert (confirmed[~responders] == bor[~responders]).all()


def test_survival_reproduced_from_adtte(xpt, cohort):
    adtte, adsl = xpt["adtte"], xpt["adsl"].set_index("USUBJID")
    protocol = cohort.protocol
    expected = survival_times(cohort.randomization, cohort.followup, protocol=protocol)
    times = pd.DataFrame({"patient_id": adtte["USUBJID"].unique()})
    times["arm"] = adsl["ARMCD"].reindex(times["patient_id"]).to_numpy()
    per_day = (
        expected["os_months"].iloc[0] / (expected["os_date"] - expected["origin"]).dt.days.iloc[0]
    )
    for code, endpoint in (("OS", "os"), ("PFS", "pfs")):
        rows = adtte[adtte["PARAMCD"] == code].set_index("USUBJID").reindex(times["patient_id"])
        times[f"{endpoint}_months"] = rows["AVAL"].to_numpy() * per_day
        times[f"{endpoint}_event"] = (rows["CNSR"] == 0).to_numpy()
    for endpoint in ("os", "pfs"):
        ours = survival_by_arm(times, endpoint, protocol=protocol)
        theirs = survival_by_arm(expected, endpoint, protocol=protocol)
        pd.testing.assert_frame_equal(ours.summary, theirs.summary)
        assert ours.logrank_p == pytest.approx(theirs.logrank_p)


def test_sdtm_tumour_domains_read_back_to_the_same_responses(xpt, cohort):
    """studylib.sdtm reads the exported TU/TR (irradiation from PR) and the RECIST engine gives
    the timepoint responses RS holds, which are those of the trial folder."""

    def text(frame):
        return frame.astype(object).where(frame.notna(), "").astype(str)

    lesions, assessments = read_tumour_sdtm(text(xpt["tu"]), text(xpt["tr"]))
    pr = xpt["pr"]
    key = pd.MultiIndex.from_frame(lesions[["patient_id", "lesion_id"]])
    irradiated = pd.Series(
        pd.to_datetime(pr["PRSTDTC"]).to_numpy(),
        index=pd.MultiIndex.from_frame(pr[["USUBJID", "PRLNKID"]]),
    )
    lesions["irradiated"] = key.isin(irradiated.index)
    lesions["irradiated_on"] = irradiated.reindex(key).to_numpy()
    rules = cohort.protocol.response
    options = {"ruleset": rules.ruleset(rules.primary_ruleset)}
    options["exclude_irradiated"] = rules.exclude_irradiated
    again = timepoint_responses(lesions, assessments, **options)
    original = timepoint_responses(cohort.lesions, cohort.assessments, **options)
    columns = ["date", "sum_mm", "target_response", "nontarget_response", "new_lesions"]
    columns.append("overall_response")
    original["patient_id"] = "11-062A-" + original["patient_id"]
    pd.testing.assert_frame_equal(
        again[["patient_id", *columns]].reset_index(drop=True),
        original[["patient_id", *columns]].reset_index(drop=True),
        check_dtype=False,
    )
    rs = read_rs(text(xpt["rs"]))
    assert rs[["patient_id", "date", "response"]].values.tolist() == (
        original[["patient_id", "date", "overall_response"]].values.tolist()
    )


def test_adtr_holds_the_waterfall(xpt, cohort):
    from studylib.analysis import analyse_cohort

    adtr = xpt["adtr"]
    window = adtr[adtr["ANL02FL"] == "Y"]
    best = window.groupby("USUBJID")["PCHG"].min()
    analysis = analyse_cohort(cohort).best_change.dropna(subset=["best_pct_change"])
    expected = analysis.set_index("11-062A-" + analysis["patient_id"])["best_pct_change"]
    pd.testing.assert_series_equal(best.sort_index(), expected.sort_index(), check_names=False)
    baseline = adtr[adtr["ABLFL"] == "Y"]
    assert (baseline["AVAL"] == baseline["BASE"]).all()
    assert adtr.groupby("USUBJID")["ABLFL"].apply(lambda f: (f == "Y").sum()).eq(1).all()
