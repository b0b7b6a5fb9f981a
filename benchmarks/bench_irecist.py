"""Benchmark: iRECIST timepoints and iBOR of 10,000 patients x 8 timepoints x 6 lesions.

Times ``timepoint_responses(..., ruleset="irecist")`` against the RECIST 1.1 layer it builds
on, on the cohort of ``bench_recist.py`` (same generator), and prints rows per second and what
iRECIST adds: the iUPD state machine steps through visit numbers, every patient at once, so its
cost grows with the cohort like the RECIST layer's. Then times ``irecist_best_response`` on the
timepoints it gave. Every timing is the best of ``--repeat`` runs.

Run: ``.venv/bin/python benchmarks/bench_irecist.py [--patients 10000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_recist import generate  # noqa: E402

from studylib.recist import irecist_best_response, timepoint_responses  # noqa: E402


def best_of(repeat: int, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lesions, assessments = generate(args.patients)
    recist_s, recist = best_of(args.repeat, lambda: timepoint_responses(lesions, assessments))
    irecist_s, irecist = best_of(
        args.repeat, lambda: timepoint_responses(lesions, assessments, ruleset="irecist")
    )
    rows = len(irecist)
    assert rows == len(recist)
    print(f"{args.patients} patients, {rows} timepoints")
    print(f"RECIST 1.1 timepoints: {recist_s:.2f} s ({rows / recist_s:,.0f} rows/s)")
    print(
        f"iRECIST timepoints:    {irecist_s:.2f} s ({rows / irecist_s:,.0f} rows/s), "
        f"{irecist_s / recist_s:.1f}x the RECIST 1.1 layer it includes"
    )
    print(irecist["overall_response"].value_counts().to_string())
    refs = dict.fromkeys(irecist["patient_id"].unique(), assessments["date"].min())
    bor_s, bor = best_of(args.repeat, lambda: irecist_best_response(irecist, refs))
    print(f"iBOR: {bor_s:.2f} s ({len(bor) / bor_s:,.0f} patients/s)")
    print(bor["ibor"].value_counts().to_string())


if __name__ == "__main__":
    main()
