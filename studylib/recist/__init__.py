"""RECIST 1.1 tumour response: lesions to timepoint responses to best overall response.

Four layers, each usable alone (see the submodules); the public names are re-exported here
and imported on first use.
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    "best_overall_response": "studylib.recist.bor",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'studylib.recist' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_EXPORTS)
