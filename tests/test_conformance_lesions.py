"""Conformance of layers 1-2 with public CDISC/pharmaverse and pyrecist data (shared/external)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from studylib.recist.timepoint import overall_response, timepoint_responses
from studylib.sdtm import read_rs, read_tumour_sdtm

pytestmark = pytest.mark.external

EVALUATORS = ("INVESTIGATOR", "RADIOLOGIST 1", "RADIOLOGIST 2")
DUPLICATED_VISIT = ("01-711-1143", 9.2)  # recorded twice per evaluator (README §2b)


@pytest.fixture(scope="module")
def pharmaverse(external_dir):
    return external_dir / "pharmaverse"


@pytest.fixture(scope="module")
def recist_example(pharmaverse):
    """Timepoint responses of the 8-subject RECIST example, per evaluator."""
    out = {}
    for evaluator in EVALUATORS:
        lesions, assessments = read_tumour_sdtm(
            pharmaverse / "tu_onco_recist.csv",
            pharmaverse / "tr_onco_recist.csv",
            evaluator=evaluator,
            partial_dates="last",
        )
        out[evaluator] = timepoint_responses(lesions, assessments)
    return out


def test_all_66_rs_onco_recist_responses_are_rebuilt_from_tr(pharmaverse, recist_example):
    """Every OVRLRESP of rs_onco_recist (3 evaluators x 22 visits) is derived from TU/TR."""
    compared = 0
    for evaluator, derived in recist_example.items():
        expected = read_rs(
            pharmaverse / "rs_onco_recist.csv", evaluator=evaluator, partial_dates="last"
        )
        merged = expected.merge(derived, on=["patient_id", "visit"], how="outer", indicator=True)
        assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
        mismatch = merged[merged["response"] != merged["overall_response"]]
        assert mismatch.empty, mismatch[["patient_id", "visit", "response", "reason"]]
        compared += len(merged)
    assert compared == 66


def test_rs_onco_recist_edge_cases_are_reached_for_the_right_reason(recist_example):
    """Nodal CR with a non-zero sum, PD with a lesion missing, PD from a zero nadir, PR-NE-PR."""
    inv = recist_example["INVESTIGATOR"].set_index(["patient_id", "visit"])
    cr = inv.loc[("01-701-1015", "WEEK 9")]
    assert (cr["target_response"], cr["sum_mm"]) == ("CR", 7.0)
    pd_missing = inv.loc[("01-701-1028", "WEEK 6")]
    assert pd_missing["target_response"] == "PD"
    assert pd_missing["targets_measured"] < pd_missing["targets_expected"]
    zero = inv.loc[("01-701-1133", "WEEK 9")]
    assert (zero["nadir_sum_mm"], zero["sum_mm"], zero["target_response"]) == (0.0, 5.0, "PD")
    assert inv.loc["01-701-1118"]["overall_response"].tolist() == ["SD", "PR", "NE", "PR"]


def test_sums_nadir_and_changes_match_adtr_onco(pharmaverse, recist_example):
    """SDIAM, BASE, NADIR, CHG, PCHG, CHGNAD and PCHGNAD of adtr_onco (investigator)."""
    adtr = pd.read_csv(pharmaverse / "adtr_onco.csv")
    sdiam = adtr[(adtr["PARAMCD"] == "SDIAM") & (adtr["AVISIT"] != "BASELINE")]
    derived = recist_example["INVESTIGATOR"]
    merged = sdiam.merge(derived, left_on=["USUBJID", "AVISIT"], right_on=["patient_id", "visit"])
    assert len(merged) == len(sdiam) == 19
    pairs = {
        "AVAL": "sum_mm",
        "BASE": "baseline_sum_mm",
        "NADIR": "nadir_sum_mm",
        "CHG": "change_baseline_mm",
        "PCHG": "pct_change_baseline",
        "CHGNAD": "change_nadir_mm",
        "PCHGNAD": "pct_change_nadir",  # missing when NADIR = 0 (1133 week 9)
    }
    for theirs, ours in pairs.items():
        np.testing.assert_allclose(
            merged[ours].to_numpy(float), merged[theirs].to_numpy(float), err_msg=theirs
        )
    assert merged["PCHGNAD"].isna().sum() == 1


def test_overall_response_table_matches_rs_onco_ovrlresp(pharmaverse):
    """Table 1 over rs_onco's (TRGRESP, NTRGRESP, NEWLPROG) gives all 1,893 OVRLRESP.

    TRGRESP is only an input: rs_onco generated it with a dummy rule (README §2b), so it is
    never compared against. A visit without a NEWLPROG record had no new lesion.
    """
    rs = pd.read_csv(pharmaverse / "rs_onco.csv")
    rs["evaluator"] = rs["RSEVALID"].fillna(rs["RSEVAL"])
    duplicated = (rs["USUBJID"] == DUPLICATED_VISIT[0]) & (rs["VISITNUM"] == DUPLICATED_VISIT[1])
    wide = rs[~duplicated].pivot_table(
        index=["USUBJID", "evaluator", "VISITNUM"],
        columns="RSTESTCD",
        values="RSSTRESC",
        aggfunc="first",
    )
    wide = wide[wide["OVRLRESP"].notna()]
    assert len(wide) == 1893
    derived = overall_response(
        wide["TRGRESP"], wide["NTRGRESP"], wide["NEWLPROG"].fillna("none").str.lower()
    )
    assert (derived == wide["OVRLRESP"]).all()
    equivocal = wide["NEWLPROG"] == "EQUIVOCAL"
    assert (
        equivocal.sum() > 0
        and not (
            derived[equivocal & (wide["TRGRESP"] != "PD") & (wide["NTRGRESP"] != "PD")] == "PD"
        ).any()
    )


def test_sumdiam_of_tr_onco_is_the_sum_of_the_diameters_read(pharmaverse):
    """SUMDIAM equals the engine's sum for all 2,655 visits (nothing measured sums to 0)."""
    tu = pd.read_csv(pharmaverse / "tu_onco.csv", dtype=str)
    tr = pd.read_csv(pharmaverse / "tr_onco.csv", dtype=str)
    duplicated = (tr["USUBJID"] == DUPLICATED_VISIT[0]) & (
        tr["VISITNUM"].astype(float) == DUPLICATED_VISIT[1]
    )
    tr = tr[~duplicated]
    sums = tr[tr["TRTESTCD"] == "SUMDIAM"].copy()
    sums["evaluator"] = sums["TREVALID"].fillna(sums["TREVAL"])
    compared = 0
    for evaluator in EVALUATORS:
        lesions, assessments = read_tumour_sdtm(tu, tr, evaluator=evaluator, partial_dates="first")
        derived = timepoint_responses(lesions, assessments, include_baseline=True)
        derived["sum_mm"] = derived["sum_mm"].where(derived["targets_measured"] > 0, 0.0)
        theirs = sums[sums["evaluator"] == evaluator]
        merged = theirs.merge(
            derived, left_on=["USUBJID", "VISIT"], right_on=["patient_id", "visit"]
        )
        assert len(merged) == len(theirs)
        np.testing.assert_allclose(merged["sum_mm"], merged["TRSTRESN"].astype(float))
        compared += len(merged)
    assert compared == 2655


def test_the_duplicated_visit_is_reported_not_guessed(pharmaverse):
    """tr_onco's twice-recorded visit (01-711-1143, 9.2) with conflicting values is an error."""
    tu = pd.read_csv(pharmaverse / "tu_onco.csv", dtype=str)
    tr = pd.read_csv(pharmaverse / "tr_onco.csv", dtype=str)
    tr = tr[tr["USUBJID"] == DUPLICATED_VISIT[0]]
    tu = tu[tu["USUBJID"] == DUPLICATED_VISIT[0]]
    with pytest.raises(ValueError, match="T01 has conflicting results"):
        read_tumour_sdtm(tu, tr, evaluator="INVESTIGATOR", partial_dates="first")


@pytest.fixture(scope="module")
def pyrecist(pharmaverse):
    measurements = pd.read_csv(pharmaverse / "pyrecist_synthetic_measurements.csv")
    evaluation = pd.read_csv(pharmaverse / "pyrecist_synthetic_evaluation.csv")
    lesion_ids = sorted(measurements["lesion_label_alias"].unique())
    lesions = pd.DataFrame(
        {
            "patient_id": "1",
            "lesion_id": lesion_ids,
            "role": "target",
            "site": [f"site_{x}" for x in lesion_ids],
            "nodal": False,
            "irradiated": False,
        }
    )
    assessments = pd.DataFrame(
        {
            "patient_id": measurements["patient_id"].astype(str),
            "lesion_id": measurements["lesion_label_alias"],
            "date": pd.to_datetime(measurements["study_date"].astype(str), format="%Y%m%d"),
            "diameter_mm": measurements["measurement"].astype(float),
            "state": None,
        }
    )
    evaluation["date"] = pd.to_datetime(evaluation["current_date"].astype(str), format="%Y%m%d")
    return lesions, assessments, evaluation


def test_pyrecist_burden_nadir_and_changes_match(pyrecist):
    """pyrecist's burden, baseline, nadir and changes match at every follow-up."""
    lesions, assessments, expected = pyrecist
    derived = timepoint_responses(lesions, assessments)
    assert derived["date"].tolist() == expected["date"].tolist()
    pairs = {
        "current_burden": "sum_mm",
        "baseline_burden": "baseline_sum_mm",
        "min_burden": "nadir_sum_mm",
        "burden_difference_from_baseline": "change_baseline_mm",
        "burden_percentual_variation_from_baseline": "pct_change_baseline",
        "burden_difference_from_nadir": "change_nadir_mm",
        "burden_percentual_variation_from_nadir": "pct_change_nadir",
    }
    for theirs, ours in pairs.items():
        np.testing.assert_allclose(derived[ours], expected[theirs], err_msg=theirs, atol=1e-9)


def test_pyrecist_classification_with_and_without_continued_pr(pyrecist):
    """-30% exactly is PR; +20% with 4.2 mm is SD strictly and PR with continued PR; then PD.

    pyrecist leaves the timepoint after PD empty; the engine still classifies it (PD: +9 mm,
    +42.9% over the nadir), which is compared separately.
    """
    lesions, assessments, expected = pyrecist
    until_pd = expected["classification"].notna()
    continued = timepoint_responses(lesions, assessments, continued_pr=True)
    assert (
        continued["target_response"][until_pd].tolist()
        == expected["classification"][until_pd].tolist()
    )
    strict = timepoint_responses(lesions, assessments)
    assert strict["target_response"].tolist() == ["SD", "PR", "SD", "PD", "PD"]
    assert continued["target_response"].iloc[-1] == "PD"
