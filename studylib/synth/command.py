"""``studylib synth``: write a synthetic cohort shaped like the trial to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studylib.errors import DataError, ProtocolError
from studylib.protocol import load_protocol
from studylib.synth.cohort import DEFAULT_PATIENTS, DEFAULT_SEED, write_cohort
from studylib.synth.writer import SynthError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``studylib synth``."""
    parser.add_argument(
        "--patients",
        type=int,
        default=DEFAULT_PATIENTS,
        metavar="N",
        help=f"patients screened (default {DEFAULT_PATIENTS}, as in the trial)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed, 0 or more (default {DEFAULT_SEED}: the bundled cohort)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write the CSV files to (new, empty, or holding only earlier output)",
    )
    parser.add_argument(
        "--protocol",
        type=Path,
        default=None,
        metavar="PATH",
        help="protocol file the cohort follows (default: the bundled protocol); it is copied "
        "into the output folder as protocol.toml",
    )
    parser.add_argument(
        "--within-rules",
        action="store_true",
        help="plant no deliberate protocol deviations (by default two are planted, so a "
        "deviation report has something to show)",
    )


def run(args: argparse.Namespace) -> int:
    """Generate and write the cohort; 0 on success, 2 on a refused request."""
    try:
        protocol = load_protocol(args.protocol) if args.protocol is not None else None
        cohort = write_cohort(
            args.out,
            args.patients,
            args.seed,
            deviations=not args.within_rules,
            protocol=protocol,
        )
    except (SynthError, ProtocolError) as error:
        print(f"studylib synth: error: {error}", file=sys.stderr)
        return 2
    except DataError as error:  # the generator's own output failed validation: a bug
        print(f"studylib synth: the generated cohort is invalid:\n{error}", file=sys.stderr)
        return 1
    enrolled = len(cohort.tables["randomization"])
    planted = len(cohort.deviations)
    under = f" under {protocol.name}" if protocol is not None else ""
    print(
        f"wrote a synthetic cohort of {args.patients} screened patients ({enrolled} enrolled, "
        f"seed {args.seed}, {planted} deliberate deviation{'s' if planted != 1 else ''}) "
        f"to {args.out}{under}"
    )
    return 0
