"""Per-patient batch runs of the workbook's notebooks: ``studylib batch``.

Every patient's screening notebook, and every enrolled patient's scheduling and response
notebooks, run with papermill in parallel worker processes (or on a Dask cluster); each
executed notebook and its code-free HTML page are written atomically to
``<out>/<run>/<patient_id>/``; the values the notebooks record are gathered into one cohort
table, and a manifest records the inputs' hashes (data files, protocol, notebooks, package)
and every notebook's status. One patient's failure (bad data, a cell error, a timeout, a dead
kernel or worker) is recorded and the run goes on; Ctrl-C, SIGTERM or a full disk stop it
cleanly; a rerun skips what is done and unchanged. See
:func:`studylib.batch.runner.run_batch`.

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


def _seconds(text: str) -> float:
    from studylib.batch.plan import BatchError, check_timeout

    try:
        return check_timeout(text)
    except BatchError as error:
        raise argparse.ArgumentTypeError(str(error).split(": ", 1)[1]) from None


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


EPILOG = """\
outputs: OUT/RUN/<patient_id>/<notebook>.ipynb and .html (without code), OUT/RUN/cohort.csv
(one row per patient), OUT/RUN/manifest.json (inputs' sha256, protocol file, versions, times,
each notebook's status and error). A rerun skips notebooks that are done and unchanged.
One run at a time per run folder (OUT/RUN/batch.lock while it runs).
exit status: 0 all ok; 1 a notebook failed (the others still ran); 2 refused before
anything ran; 3 stopped because outputs could not be written (disk full: free space and
rerun); 130 stopped by Ctrl-C, 143 by SIGTERM (rerun to resume)."""


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
        help="run name: outputs go to OUT/NAME/ (default: the data folder's name and a digest"
        " of its full path, so that two data folders never share a run folder)",
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
        type=_seconds,
        default=600.0,
        metavar="S",
        help="longest time one notebook's cells may run in all, in seconds, such as 600 or"
        " 2.5 (default: 600)",
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
    """Run ``studylib batch``; returns the exit status (0 ok, 1 failures, 2 refused, 3 a write
    error, 128 + the signal's number when a signal stopped it: 130 for Ctrl-C)."""
    from studylib.batch.plan import BatchError
    from studylib.batch.runner import run_batch, summary
    from studylib.batch.stopping import RunStopped, signal_name

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
    except RunStopped as stop:
        print(
            f"studylib batch: stopped by {signal_name(stop.signum)} before any notebook ran;"
            " nothing was run",
            file=sys.stderr,
        )
        return 128 + stop.signum
    except KeyboardInterrupt:  # Ctrl-C while studylib was still being imported
        print("studylib batch: stopped by Ctrl-C before any notebook ran", file=sys.stderr)
        return 130
    print(summary(report))
    return report.exit_code
