"""Benchmark: the dosing review of a large synthetic cohort, against a per-patient loop.

Times :func:`studylib.deviations.review_dosing` on a whole cohort (vectorised over patients)
against calling it patient by patient, in the same run, and prints dosing rows per second and
their ratio. The loop runs on a sample of patients (it would take minutes on all of them); its
deviations are checked against the cohort-wide review's for that sample, so both compute the
same thing.

The cohort is made by :mod:`studylib.synth` (``--patients`` screened, about 70% enrolled, with
the two planted deviations).

Run: ``.venv/bin/python benchmarks/bench_deviations.py [--patients 6300] [--loop-sample 200]``
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from studylib.deviations import review_dosing
from studylib.synth.cohort import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=6300, help="patients screened")
    parser.add_argument("--loop-sample", type=int, default=200, help="patients in the loop")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    tables = generate(args.patients, args.seed).tables
    dosing, randomization, screening = (
        tables["dosing"],
        tables["randomization"],
        tables["screening"],
    )
    patients = randomization["patient_id"].tolist()

    start = time.perf_counter()
    review = review_dosing(dosing, randomization, screening)
    cohort_seconds = time.perf_counter() - start
    cohort_rate = len(dosing) / cohort_seconds

    sample = patients[: args.loop_sample]
    by_patient = dict(tuple(dosing.groupby("patient_id")))
    start = time.perf_counter()
    found = []
    for patient in sample:
        one = review_dosing(
            by_patient.get(patient, dosing.iloc[:0]),
            randomization[randomization["patient_id"] == patient],
            screening[screening["patient_id"] == patient],
        )
        found.append(one.deviations)
    loop_seconds = time.perf_counter() - start
    loop_rows = sum(len(by_patient.get(p, ())) for p in sample)
    loop_rate = loop_rows / loop_seconds

    expected = review.deviations[review.deviations["patient_id"].isin(sample)]
    looped = pd.concat(found, ignore_index=True) if found else expected.iloc[:0]
    columns = ["patient_id", "kind", "detail"]
    assert (
        looped[columns].reset_index(drop=True).equals(expected[columns].reset_index(drop=True))
    ), "the loop and the cohort-wide review disagree"

    print(
        f"cohort review: {len(patients)} patients, {len(dosing):,} dosing rows in"
        f" {cohort_seconds:.2f} s ({cohort_rate:,.0f} rows/s), {len(review.deviations)} deviations"
    )
    print(
        f"per-patient loop: {len(sample)} patients, {loop_rows:,} rows in {loop_seconds:.2f} s"
        f" ({loop_rate:,.0f} rows/s)"
    )
    print(f"speed-up of the cohort review over the loop: {cohort_rate / loop_rate:.0f}x")


if __name__ == "__main__":
    main()
