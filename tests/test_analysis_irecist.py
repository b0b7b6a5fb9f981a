"""iRECIST sensitivity analysis: iBOR by arm and iPFS, beside the primary endpoint."""

from __future__ import annotations

import pandas as pd
import pytest
from test_recist_irecist import PROTOCOL_FILE

from studylib.analysis import irecist_sensitivity, primary_endpoint
from studylib.analysis.irecist import ICATEGORIES, LABEL, irecist_pfs
from studylib.data import load_cohort
from studylib.protocol import PROTOCOL_FILENAME, ProtocolError


@pytest.fixture(scope="module")
def cohort(data_dir):
    return load_cohort(data_dir)


@pytest.fixture(scope="module")
def sensitivity(cohort):
    return irecist_sensitivity(cohort)


def test_marked_as_a_sensitivity_analysis(sensitivity):
    assert sensitivity.label == LABEL and "not the primary endpoint" in LABEL


def test_same_denominators_as_the_primary_endpoint(cohort, sensitivity):
    primary = primary_endpoint(cohort).table
    table = sensitivity.table
    assert table["n"].tolist() == primary["n"].tolist()
    counted = table[[c.lower() for c in ICATEGORIES]].sum(axis=1)
    assert (counted == table["n"]).all()


def test_only_progressions_change(cohort, sensitivity):
    """CR, PR and SD keep their category under iRECIST; a RECIST 1.1 PD becomes iUPD, iCPD or,
    after a pseudo-progression inside the window, a response."""
    patients = sensitivity.patients
    kept = patients[patients["bor"] != "PD"]
    assert not kept["changed"].any()
    progressed = patients[patients["bor"] == "PD"]
    assert set(progressed["ibor"]) <= {"iUPD", "iCPD", "iSD", "iPR", "iCR"}
    assert (progressed["changed"]).all()
    pseudo = progressed[progressed["ibor"].isin(["iPR", "iSD", "iCR"])]
    assert len(pseudo) >= 2
    primary = primary_endpoint(cohort).table
    gained = sensitivity.table["responders"] - primary["responders"]
    per_arm = pseudo[pseudo["ibor"].isin(["iPR", "iCR"])].groupby("arm").size()
    assert gained.to_dict() == per_arm.reindex(gained.index, fill_value=0).to_dict()


def test_orr_comparison_uses_the_protocols_test(sensitivity):
    comparison = sensitivity.orr_comparison
    x = sensitivity.table.loc[sensitivity.experimental]
    c = sensitivity.table.loc[sensitivity.comparator]
    assert comparison.table == (
        (x["responders"], x["n"] - x["responders"]),
        (c["responders"], c["n"] - c["responders"]),
    )
    assert 0 < comparison.p_value <= 1


def test_ipfs_follows_irecist_on_the_scans(cohort, sensitivity):
    """A pseudo-progression is no progression; a confirmed one is dated at its iUPD; a
    progression after the last scan stays as followup.csv records it."""
    times = sensitivity.times.set_index("patient_id")
    patients = sensitivity.patients.set_index("patient_id")
    pseudo = patients.index[(patients["bor"] == "PD") & patients["ibor"].isin(["iPR", "iSD"])]
    assert (times.loc[pseudo, "pfs_rule"] != "iRECIST progression").all()
    assert (times.loc[pseudo, "pfs_date"] > times.loc[pseudo, "recist_progressed_on"]).all()
    confirmed = patients.index[patients["ibor"] == "iCPD"]
    assert (times.loc[confirmed, "pfs_rule"] == "iRECIST progression").all()
    assert (times.loc[confirmed, "pfs_date"] == times.loc[confirmed, "recist_progressed_on"]).all()
    last_scan = cohort.assessments.groupby("patient_id")["date"].max()
    later = times[times["recist_progressed_on"] > times.index.map(last_scan)]
    assert len(later) > 0
    assert (later["pfs_rule"] == "progression").all()
    assert (later["pfs_date"] == later["recist_progressed_on"]).all()
    assert sensitivity.pfs.summary["n"].sum() == len(times)


def test_a_protocol_without_irecist_says_so(tiny_trial):
    """A trial folder whose own protocol.toml has no [response.irecist]: a clear error."""
    bundled = PROTOCOL_FILE.read_text(encoding="utf-8")
    start = bundled.index("[response.irecist]")
    (tiny_trial / PROTOCOL_FILENAME).write_text(
        bundled[:start] + bundled[bundled.index("# ----", start) :], encoding="utf-8"
    )
    with pytest.raises(ProtocolError, match=r"no \[response.irecist\]"):
        irecist_pfs(load_cohort(tiny_trial))


def test_tiny_trial_runs(tiny_trial):
    result = irecist_sensitivity(load_cohort(tiny_trial))
    assert isinstance(result.table, pd.DataFrame) and result.table["n"].sum() >= 1
