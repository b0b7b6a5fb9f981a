"""Atomic writes: a batch output appears only when it is complete.

Every file is written to a hidden temporary file in the same folder and then renamed over
its final name with :func:`os.replace`, which is atomic on POSIX and Windows file systems: a
reader (or a rerun after Ctrl-C or a crash) sees either the previous complete file or the new
complete file, never half of one. Temporary files left by a killed run are removed by
:func:`remove_temporary_files` when the next run starts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["write_atomic", "remove_temporary_files", "TEMPORARY_SUFFIX"]

TEMPORARY_SUFFIX = ".studylib-tmp"


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` so that the file appears only when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    # open(..., "xb") rather than tempfile.mkstemp: the file gets the user's usual permissions
    # (umask), not 0600, so that colleagues sharing the outputs folder can read it
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}{TEMPORARY_SUFFIX}"
    try:
        with open(temporary, "xb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        # BaseException: Ctrl-C in the middle of a write must not leave the temporary behind
        temporary.unlink(missing_ok=True)
        raise


def remove_temporary_files(folder: Path) -> int:
    """Delete the temporary files an interrupted run left under ``folder``; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for leftover in folder.rglob(f".*{TEMPORARY_SUFFIX}"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed
