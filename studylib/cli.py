"""The ``studylib`` command: ``studylib synth ...``, ``studylib batch ...``.

Each subcommand lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int``; the module is imported only when its subcommand is used, so that the
command starts quickly.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "synth": ("studylib.synth", "generate a synthetic cohort shaped like the trial"),
    "batch": ("studylib.batch", "run the per-patient notebooks with papermill"),
    "export": ("studylib.export", "write the SDTM and ADaM datasets as XPT and Dataset-JSON"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``studylib`` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="studylib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, summary) in SUBCOMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    if argv and argv[0] in SUBCOMMANDS:
        name = argv[0]
        module = importlib.import_module(SUBCOMMANDS[name][0])
        sub = argparse.ArgumentParser(prog=f"studylib {name}", description=SUBCOMMANDS[name][1])
        module.add_arguments(sub)
        return module.run(sub.parse_args(argv[1:]))
    parser.parse_args(argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())
