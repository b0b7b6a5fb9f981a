"""Screening a cohort at once (screen_cohort) against screening patient by patient (screen).

The bundled cohort is copied under new patient ids to reach the size screened; both paths
must give the same verdicts. Prints the time of each and the ratio.

Run: ``.venv/bin/python benchmarks/bench_eligibility.py [PATIENTS]`` (default 630).
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from studylib.data import default_data_dir, load_cohort
from studylib.eligibility import screen, screen_cohort


def enlarge(screening: pd.DataFrame, foci: pd.DataFrame, patients: int):
    """The cohort repeated under new ids (P001 -> P001-r2 ...) until it has ``patients``."""
    copies = -(-patients // len(screening))
    frames, sites = [], []
    for n in range(copies):
        suffix = "" if n == 0 else f"-r{n + 1}"
        frames.append(screening.assign(patient_id=screening["patient_id"] + suffix))
        sites.append(foci.assign(patient_id=foci["patient_id"] + suffix))
    big = pd.concat(frames, ignore_index=True).head(patients)
    big_foci = pd.concat(sites, ignore_index=True)
    return big, big_foci[big_foci["patient_id"].isin(big["patient_id"])]


def main(patients: int) -> None:
    cohort = load_cohort(default_data_dir())
    screening, foci = enlarge(cohort.screening, cohort.sbrt_sites, patients)

    start = time.perf_counter()
    at_once = screen_cohort(screening, sbrt_sites=foci, protocol=cohort.protocol)
    vectorised = time.perf_counter() - start

    by_patient = {
        pid: group.drop(columns="patient_id") for pid, group in foci.groupby("patient_id")
    }
    start = time.perf_counter()
    one_by_one = []
    for record in screening.to_dict("records"):
        sites = by_patient.get(record["patient_id"], foci.iloc[:0])
        record = {**record, "sbrt_sites": sites.to_dict("records")}
        one_by_one.append(screen(record, protocol=cohort.protocol).status)
    looped = time.perf_counter() - start

    verdicts = at_once.groupby("patient_id", sort=False)["overall_status"].first().tolist()
    if verdicts != one_by_one:
        raise SystemExit("screen_cohort and screen disagree: the benchmark is not comparing like")
    criteria = len(cohort.protocol.eligibility.criteria)
    print(f"eligibility: {patients} patients x {criteria} criteria ({cohort.protocol.name})")
    print(f"  screen_cohort (vectorised)   {vectorised:8.3f} s")
    print(f"  screen() per patient (loop)  {looped:8.3f} s")
    print(f"  speed-up                     {looped / vectorised:8.1f} x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 630)
