"""Key results a notebook hands to the batch runner (a small replacement for scrapbook).

In a notebook, ``record("bor", "PR")`` displays the value with a studylib MIME type, so that it
is saved in the executed notebook; :func:`collect` reads every recorded value back. Values
must be JSON-native (str, int, float, bool, None, lists and dicts of those) so that they are
stored exactly and compared by nbval.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["MIME", "record", "collect"]

MIME = "application/x.studylib.record+json"


def _non_text_keys(value: Any) -> list:
    """Dict keys that are not strings, at any depth: JSON would turn them into strings, so
    that the cohort table would hold ``{"1": 8}`` where the notebook recorded ``{1: 8}``."""
    if isinstance(value, Mapping):
        found = [k for k in value if not isinstance(k, str)]
        return found + [k for v in value.values() for k in _non_text_keys(v)]
    if isinstance(value, (list, tuple)):
        return [k for v in value for k in _non_text_keys(v)]
    return []


def _check_json(name: str, value: Any) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"record({name!r}, ...): the name must be a non-empty string")
    keys = _non_text_keys(value)
    if keys:
        raise ValueError(
            f"record({name!r}, ...): dictionary keys must be strings (JSON stores keys as"
            f" text, so they would come back changed), got {keys[0]!r}; write str(key)"
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"record({name!r}, ...): the value must be JSON-native and finite"
            f" (str, int, float, bool, None, list, dict), got {value!r}"
        ) from error
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"record({name!r}, ...): {value!r} is not a finite number")


def record(name: str, value: Any) -> None:
    """Save ``value`` under ``name`` in the running notebook's outputs.

    Parameters
    ----------
    name
        The key the batch runner gathers into the cohort table (``"eligibility_status"``).
    value
        A JSON-native value.
    """
    from IPython.display import display

    _check_json(name, value)
    display({MIME: {"name": name, "value": value}, "text/plain": f"{name} = {value!r}"}, raw=True)


def collect(notebook: str | Path | Mapping) -> dict[str, Any]:
    """Every value recorded in an executed notebook, by name (the last one wins).

    Parameters
    ----------
    notebook
        The path of an executed ``.ipynb`` file, or a notebook already in memory (an
        ``nbformat.NotebookNode`` or the equivalent ``dict``, as papermill returns it).
    """
    if isinstance(notebook, (str, Path)):
        import nbformat

        notebook = nbformat.read(str(notebook), as_version=4)
    found: dict[str, Any] = {}
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                found[data[MIME]["name"]] = data[MIME]["value"]
    return found
