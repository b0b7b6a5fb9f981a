"""Re-execute the committed notebooks in place, so their stored outputs match code and data.

nbval compares the cells marked ``# NBVAL_CHECK_OUTPUT`` with the outputs stored in each notebook,
so whenever the engines or the bundled cohort change what a notebook prints, run::

    make refresh-notebooks        # or: .venv/bin/python tools/refresh_notebooks.py [NAMES]

Each notebook runs with its default parameters in a fresh ``python3`` kernel, from the
``notebooks/`` folder (as nbval runs it), without timing metadata; widget state is dropped so the
committed files stay small and diff cleanly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def refresh(path: Path) -> None:
    """Execute one notebook in place."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)


def main(names: list[str]) -> int:
    paths = [NOTEBOOKS / n for n in names] if names else sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    for path in paths:
        print(f"executing {path.name}", flush=True)
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
