"""Benchmark: generating a synthetic cohort of 10,000 screened patients at once.

Times :func:`studylib.synth.generate` for the whole cohort against the same number of patients
generated as many small cohorts (100 patients x 100 seeds, the per-cohort overhead a vectorised
generator must amortise), in the same run, and prints seconds, patients per second and their
ratio. Writing the CSV files and validating them with :func:`studylib.data.load_cohort` is
timed separately, as ``studylib synth`` does both.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--patients 10000] [--batch 100]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from studylib.synth import generate
from studylib.synth.writer import write_tables


def _timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def main(patients: int, batch: int) -> None:
    generate(100)  # warm-up: imports, protocol, unit registry

    cohort, whole = _timed(lambda: generate(patients, seed=1))
    rows = sum(len(frame) for frame in cohort.tables.values())
    batches = patients // batch
    _, pieces = _timed(lambda: [generate(batch, seed=s) for s in range(batches)])
    with tempfile.TemporaryDirectory() as folder:
        _, written = _timed(lambda: write_tables(cohort.tables, Path(folder) / "cohort"))

    print(
        f"generate {patients:,} patients at once : {whole:7.2f} s "
        f"({patients / whole:,.0f} patients/s, {rows:,} rows)"
    )
    print(
        f"generate {batches} x {batch} patients       : {pieces:7.2f} s "
        f"({patients / pieces:,.0f} patients/s)"
    )
    print(f"speed-up of one cohort over the batches: {pieces / whole:.1f}x")
    print(
        f"write + validate {patients:,} patients   : {written:7.2f} s "
        f"(studylib synth total {whole + written:.2f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    main(args.patients, args.batch)
