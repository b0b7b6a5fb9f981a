"""Local control of SBRT-irradiated lesions, each lesion on its own."""

from __future__ import annotations

import pandas as pd
import pytest
from recist_frames import Patient, day, frames

from studylib.recist.local_control import local_control, local_control_summary


def sbrt_patient(*sizes, nodal=False, irradiated_on=None) -> Patient:
    """One non-irradiated target and one irradiated target T2 with the given sizes."""
    p = (
        Patient()
        .lesion("T1")
        .lesion("T2", nodal=nodal, irradiated=True, irradiated_on=irradiated_on)
    )
    for number, size in enumerate(sizes):
        p.follow(49 * number, 20, size)
    return p


def responses(p: Patient) -> list[str]:
    return local_control(*frames(p))["local_response"].tolist()


def test_only_irradiated_lesions_are_assessed():
    """The non-irradiated target is not part of local control."""
    out = local_control(*frames(sbrt_patient(30, 20)))
    assert out["lesion_id"].unique().tolist() == ["T2"]


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ((30, 21), ["PR"]),  # exactly -30% from the reference
        ((30, 21.1), ["SD"]),
        ((30, 0), ["CR"]),
        ((25, 30), ["PD"]),  # +20% and +5 mm over the nadir
        ((24.5, 29.4), ["SD"]),  # +20% with 4.9 mm
        ((30, 20, 25), ["PR", "PD"]),  # +5 mm, +25% over a nadir of 20
        ((30, None), ["NE"]),
    ],
)
def test_local_response_uses_the_primary_ruleset_thresholds(sizes, expected):
    """-30% from the reference is a local PR; +20% and 5 mm over the lesion nadir a failure."""
    assert responses(sbrt_patient(*sizes)) == expected


@pytest.mark.parametrize(("size", "expected"), [(9.9, "CR"), (10, "PR")])
def test_irradiated_node_below_10_mm_is_a_local_complete_response(size, expected):
    """A node under the pathological short axis counts as gone."""
    assert responses(sbrt_patient(20, size, nodal=True)) == [expected]


def test_reference_is_the_last_scan_before_irradiation():
    """With an irradiation date, the reference is the last scan on or before it."""
    out = local_control(*frames(sbrt_patient(30, 40, 28, irradiated_on=60)))
    assert out["reference_date"].unique().tolist() == [day(49)]
    assert out["reference_mm"].iloc[0] == 40.0
    assert out["local_response"].tolist() == ["PR"]


def test_non_target_irradiated_lesion_by_state():
    """Absent is a local CR, unequivocal progression a failure, present NON-CR/NON-PD."""
    p = Patient().lesion("NT1", "non_target", irradiated=True)
    p.scan(0, NT1="present").scan(49, NT1="present").scan(98, NT1="absent")
    p.scan(147, NT1="unequivocal_progression")
    assert responses(p) == ["NON-CR/NON-PD", "CR", "PD"]


def test_until_limits_the_scans_counted():
    """Scans after a patient's last date (end of the first course) are not counted."""
    out = local_control(*frames(sbrt_patient(30, 20, 40)), until={"P001": day(60)})
    assert out["date"].tolist() == [day(49)]


def test_summary_says_whether_each_lesion_stayed_controlled():
    """Controlled unless a scan showed failure; the failure date is the first such scan."""
    controlled = sbrt_patient(30, 20, 21)
    failed = sbrt_patient(30, 20, 26, 10)
    failed.patient_id = "P002"
    for row in failed.lesions + failed.rows:
        row["patient_id"] = "P002"
    not_seen = Patient("P003").lesion("T1", irradiated=True).follow(0, 30).follow(49, None)
    summary = local_control_summary(local_control(*frames(controlled, failed, not_seen)))
    assert summary["controlled"].tolist() == [True, False, pd.NA]
    assert summary["best_response"].tolist() == ["PR", "PR", "NE"]
    assert summary["failure_date"].iloc[1] == day(98)
    assert summary["last_response"].tolist() == ["PR", "PR", "NE"]
