"""SDTM TU/TR reader and RS reader/writer on small hand-written domains (synthetic)."""

from __future__ import annotations

import pandas as pd
import pytest

from studylib.errors import DataError
from studylib.recist.timepoint import timepoint_responses
from studylib.sdtm import read_rs, read_tumour_sdtm, responses_to_rs, write_rs


def tu_rows(*lesions, evaluator="INVESTIGATOR"):
    """TU records: (subject, link id, TUSTRESC, TULOC)."""
    return pd.DataFrame(
        [
            {
                "USUBJID": s,
                "TULNKID": k,
                "TUTESTCD": "TUMIDENT",
                "TUSTRESC": r,
                "TULOC": loc,
                "TUEVAL": evaluator,
            }
            for s, k, r, loc in lesions
        ]
    )


def tr_rows(*results, evaluator="INVESTIGATOR"):
    """TR records: (subject, link id, TRTESTCD, TRORRES, TRSTRESN, visit, date[, TRSTAT])."""
    rows = []
    for s, k, test, orres, value, visit, date, *stat in results:
        rows.append(
            {
                "USUBJID": s,
                "TRLNKID": k,
                "TRTESTCD": test,
                "TRORRES": orres,
                "TRSTRESC": orres,
                "TRSTRESN": value,
                "VISIT": visit,
                "TRDTC": date,
                "TRSTAT": stat[0] if stat else None,
                "TRMETHOD": "CT SCAN",
                "TREVAL": evaluator,
            }
        )
    return pd.DataFrame(rows)


TU = tu_rows(
    ("S1", "T01", "TARGET", "LIVER"),
    ("S1", "T02", "TARGET", "LYMPH NODE"),
    ("S1", "NT01", "NON-TARGET", None),
    ("S1", "NEW01", "NEW", None),
)
TR = tr_rows(
    ("S1", "T01", "LDIAM", "30", 30, "BASELINE", "2024-01-02"),
    ("S1", "T01", "LPERP", "20", 20, "BASELINE", "2024-01-02"),
    ("S1", "T02", "LDIAM", "25", 25, "BASELINE", "2024-01-02"),
    ("S1", "T02", "LPERP", "16", 16, "BASELINE", "2024-01-03"),
    ("S1", "NT01", "TUMSTATE", "PRESENT", None, "BASELINE", "2024-01-02"),
    ("S1", "T01", "LDIAM", "TOO SMALL TO MEASURE", 5, "WEEK 7", "2024-02-20"),
    ("S1", "T02", "LPERP", None, None, "WEEK 7", "2024-02-20", "NOT DONE"),
    ("S1", "NT01", "TUMSTATE", "UNEQUIVOCAL", None, "WEEK 7", "2024-02-20"),
    ("S1", "NEW01", "TUMSTATE", "EQUIVOCAL", None, "WEEK 7", "2024-02-20"),
)


def test_tu_gives_roles_sites_and_nodal_lesions():
    """TUSTRESC gives the role, TULOC the site; LYMPH NODE makes a lesion nodal."""
    lesions, _ = read_tumour_sdtm(TU, TR)
    assert lesions["role"].tolist() == ["target", "target", "non_target", "new"]
    assert lesions["nodal"].tolist() == [False, True, False, False]
    assert lesions["site"].tolist()[:2] == ["liver", "lymph_node"]
    assert not lesions["irradiated"].any()


def test_tr_uses_the_short_axis_for_nodes_and_the_long_axis_otherwise():
    """LDIAM for a non-nodal lesion, LPERP for a node; one date per visit (the last)."""
    _, assessments = read_tumour_sdtm(TU, TR)
    base = assessments[assessments["visit"] == "BASELINE"].set_index("lesion_id")
    assert base.loc["T01", "diameter_mm"] == 30
    assert base.loc["T02", "diameter_mm"] == 16
    assert set(base["date"]) == {pd.Timestamp("2024-01-03")}


def test_visit_date_first_or_as_recorded():
    """visit_date chooses the first date of a visit, or keeps each record's date."""
    _, first = read_tumour_sdtm(TU, TR, visit_date="first")
    assert set(first[first["visit"] == "BASELINE"]["date"]) == {pd.Timestamp("2024-01-02")}
    _, recorded = read_tumour_sdtm(TU, TR, visit_date="as_recorded")
    assert recorded[recorded["visit"] == "BASELINE"]["date"].nunique() == 2


def test_diameter_test_wins_over_ldiam_and_lperp():
    """TRTESTCD = DIAMETER, when given, is the RECIST diameter."""
    tr = pd.concat(
        [TR, tr_rows(("S1", "T02", "DIAMETER", "17", 17, "BASELINE", "2024-01-03"))],
        ignore_index=True,
    )
    _, assessments = read_tumour_sdtm(TU, tr)
    row = assessments[(assessments["lesion_id"] == "T02") & (assessments["visit"] == "BASELINE")]
    assert row["diameter_mm"].tolist() == [17]


def test_too_small_not_done_and_tumour_states():
    """TOO SMALL TO MEASURE, NOT DONE, UNEQUIVOCAL (non-target) and EQUIVOCAL (new)."""
    _, assessments = read_tumour_sdtm(TU, TR)
    week7 = assessments[assessments["visit"] == "WEEK 7"].set_index("lesion_id")
    assert week7.loc["T01", "state"] == "too_small" and pd.isna(week7.loc["T01", "diameter_mm"])
    assert pd.isna(week7.loc["T02", "diameter_mm"]) and pd.isna(week7.loc["T02", "state"])
    assert week7.loc["NT01", "state"] == "unequivocal_progression"
    assert week7.loc["NEW01", "state"] == "equivocal"
    assert set(week7["method"]) == {"CT"}


def test_the_engine_runs_on_what_the_reader_returns():
    """TU/TR read into the workbook's shape give timepoint responses with the visit."""
    responses = timepoint_responses(*read_tumour_sdtm(TU, TR))
    row = responses.iloc[0]
    assert (row["visit"], row["nontarget_response"], row["new_lesions"]) == (
        "WEEK 7",
        "PD",
        "equivocal",
    )
    assert row["overall_response"] == "PD"


def test_partial_dates_are_an_error_unless_completed():
    """A YYYY-MM date is rejected by default, completed to the first or last day on request."""
    tr = TR.copy()
    tr.loc[tr["VISIT"] == "WEEK 7", "TRDTC"] = "2024-02"
    with pytest.raises(DataError, match="'2024-02'.*partial_dates"):
        read_tumour_sdtm(TU, tr)
    _, last = read_tumour_sdtm(TU, tr, partial_dates="last")
    week7 = last[last["visit"] == "WEEK 7"]
    assert set(week7["date"]) == {pd.Timestamp("2024-02-29")}
    assert (
        week7["date_imputed"].all() and not last[last["visit"] == "BASELINE"]["date_imputed"].any()
    )
    _, first = read_tumour_sdtm(TU, tr, partial_dates="first")
    assert set(first[first["visit"] == "WEEK 7"]["date"]) == {pd.Timestamp("2024-02-01")}


def test_several_evaluators_need_a_choice():
    """With investigator and radiologist reads, the evaluator must be named."""
    tu = pd.concat([TU, tu_rows(("S1", "T01", "TARGET", "LIVER"), evaluator="RADIOLOGIST 1")])
    tr = pd.concat(
        [
            TR,
            tr_rows(
                ("S1", "T01", "LDIAM", "31", 31, "BASELINE", "2024-01-02"),
                evaluator="RADIOLOGIST 1",
            ),
        ]
    )
    with pytest.raises(ValueError, match="several evaluators"):
        read_tumour_sdtm(tu, tr)
    lesions, assessments = read_tumour_sdtm(tu, tr, evaluator="radiologist 1")
    assert lesions["lesion_id"].tolist() == ["T01"]
    assert assessments["diameter_mm"].tolist() == [31]
    with pytest.raises(ValueError, match="no records of evaluator 'RADIOLOGIST 9'"):
        read_tumour_sdtm(tu, tr, evaluator="RADIOLOGIST 9")


def test_unknown_codes_and_unidentified_lesions_are_errors():
    """Unknown TUSTRESC or TUMSTATE, and results without a TU record, are reported."""
    with pytest.raises(DataError, match="'MAYBE'"):
        read_tumour_sdtm(tu_rows(("S1", "T01", "MAYBE", "LIVER")), TR)
    with pytest.raises(DataError, match="NT01.*no TU identification"):
        read_tumour_sdtm(TU[TU["TULNKID"] != "NT01"], TR)
    tr = TR.copy()
    tr.loc[tr["TRTESTCD"] == "TUMSTATE", "TRSTRESC"] = "GROWING"
    with pytest.raises(DataError, match="'GROWING'"):
        read_tumour_sdtm(TU, tr)


def test_identical_repeated_records_are_read_once_conflicting_ones_fail():
    """An exact repeat is harmless; two different values for one lesion and date are an error."""
    repeated = pd.concat([TR, TR.iloc[[0]]], ignore_index=True)
    _, assessments = read_tumour_sdtm(TU, repeated)
    assert len(assessments) == len(read_tumour_sdtm(TU, TR)[1])
    conflicting = repeated.copy()
    conflicting.loc[len(conflicting) - 1, "TRSTRESN"] = 31
    with pytest.raises(DataError, match="T01 has conflicting results"):
        read_tumour_sdtm(TU, conflicting)


def test_rs_written_then_read_back_gives_the_same_responses(tmp_path):
    """responses_to_rs / write_rs / read_rs round trip; ND categories and no new lesion omitted."""
    responses = timepoint_responses(*read_tumour_sdtm(TU, TR))
    rs = responses_to_rs(responses, studyid="SYNTH01")
    assert rs["RSTESTCD"].tolist() == ["TRGRESP", "NTRGRESP", "NEWLPROG", "OVRLRESP"]
    assert rs["RSSTRESC"].tolist() == ["NE", "PD", "EQUIVOCAL", "PD"]
    assert rs["RSSEQ"].tolist() == [1, 2, 3, 4]
    path = write_rs(rs, tmp_path / "rs.csv")
    back = read_rs(path)
    assert back[["patient_id", "date", "response", "visit"]].values.tolist() == [
        ["S1", pd.Timestamp("2024-02-20"), "PD", "WEEK 7"]
    ]
    targets = read_rs(path, testcd="TRGRESP")
    assert targets["response"].tolist() == ["NE"]
