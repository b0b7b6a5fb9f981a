"""``studylib export``: write a trial folder's SDTM and ADaM datasets to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studylib.errors import StudylibError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``studylib export``."""
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("data"),
        metavar="DIR",
        help="trial folder to export (default: data); its protocol.toml, if any, is used",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write <name>.xpt, <name>.json, metadata.csv and datasets.csv to",
    )


def run(args: argparse.Namespace) -> int:
    """Export; 0 on success, 1 when the data cannot be exported, 2 when there is no folder."""
    from studylib.export.datasets import export_datasets

    try:
        result = export_datasets(args.data, args.out)
    except FileNotFoundError as error:
        print(f"studylib export: error: {error}", file=sys.stderr)
        return 2
    except StudylibError as error:
        print(f"studylib export: nothing written:\n{error}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in result.datasets.items())
    print(
        f"wrote {len(result.datasets)} datasets as XPT v5 and Dataset-JSON 1.1 to "
        f"{result.folder} (records: {counts}), with metadata.csv and datasets.csv"
    )
    for name, reason in result.left_out.items():
        print(f"left out {name}: {reason}")
    return 0
