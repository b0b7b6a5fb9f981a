"""Per-patient batch runs of the workbook's notebooks: ``studylib batch``.

Every patient's screening notebook, and every enrolled patient's scheduling and response
notebooks, run with papermill in parallel worker processes (or on a Dask cluster); each
executed notebook and its code-free HTML page are written atomically to
``<out>/<run>/<patient_id>/``; the values the notebooks record are gathered into one cohort
table, and a manifest records the inputs' hashes and every notebook's status. One patient's
failure (bad data, a cell error, a timeout, a dead kernel) is recorded and the run goes on; a
rerun skips what is done and unchanged. See :func:`studylib.batch.runner.run_batch`.

This module only parses the command line; the rest is imported when a run starts, so that
``studylib --help`` stays quick.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run", "run_batch", "BatchError"]


def __getattr__(name: str):
    if name == "run_batch":
        from studylib.batch.runner import run_batch

        return run_batch
    if name == "BatchError":
        from studylib.batch.plan import BatchError

        return BatchError
    raise AttributeError(f"module 'studylib.batch' has no attribute {name!r}")


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


EPILOG = """\
outputs: OUT/RUN/<patient_id>/<notebook>.ipynb and .html (without code), OUT/RUN/cohort.csv
(one row per patient), OUT/RUN/manifest.json (inputs' sha256, versions, times, each
notebook's status and error). A rerun skips notebooks that are done and unchanged.
exit status: 0 all ok; 1 a notebook failed (the others still ran); 2 refused before
anything ran; 130 stopped by Ctrl-C (rerun to resume)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``studylib batch``."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--data", metavar="DIR", help="trial data folder (default: the bundled synthetic cohort)"
    )
    parser.add_argument(
        "--patients",
        nargs="+",
        metavar="ID",
        help="patients to run (default: every screened patient)",
    )
    parser.add_argument(
        "--workers", type=_count, metavar="N", help="worker processes (default: one per core)"
    )
    parser.add_argument(
        "--out", default="outputs", metavar="DIR", help="outputs folder (default: outputs)"
    )
    parser.add_argument(
        "--run",
        metavar="NAME",
        help="run name: outputs go to OUT/NAME/ (default: the data folder's name)",
    )
    parser.add_argument(
        "--force", action="store_true", help="rerun notebooks whose inputs have not changed"
    )
    parser.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NB",
        help="notebook names, files or folders (default: the per-patient notebooks)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=600.0,
        metavar="S",
        help="longest time one cell may run, in seconds (default: 600)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (tcp://host:8786); needs studylib[dask]",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="reuse one kernel per worker, reset between notebooks (faster, same outputs)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``studylib batch``; returns the exit status (0 ok, 1 failures, 2 refused, 130 Ctrl-C)."""
    from studylib.batch.plan import BatchError
    from studylib.batch.runner import run_batch, summary

    try:
        report = run_batch(
            args.data,
            patients=args.patients,
            notebooks=args.notebooks,
            out=args.out,
            run=args.run,
            workers=args.workers,
            force=args.force,
            timeout_s=args.timeout,
            scheduler=args.scheduler,
            warm=args.warm,
        )
    except BatchError as error:
        print(f"studylib batch: {error}", file=sys.stderr)
        return 2
    print(summary(report))
    return report.exit_code
