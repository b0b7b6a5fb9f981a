"""studylib: the study workbook of NCT01416831 (high-dose IL-2 with or without SBRT).

The public API is re-exported here and imported lazily, so that ``import studylib`` stays
cheap in every notebook kernel and command.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "ureg": "studylib.units",
    "Q_": "studylib.units",
    "parse_quantity": "studylib.units",
    "convert": "studylib.units",
    "PROTOCOL": "studylib.protocol",
    "load_protocol": "studylib.protocol",
    "Problem": "studylib.errors",
    "DataError": "studylib.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'studylib' has no attribute {name!r}")
