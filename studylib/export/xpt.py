"""SAS transport (XPT) version 5 files, written with pyreadstat from conformed datasets.

The FDA's Study Data Technical Conformance Guide asks for version 5 transport files: names of
at most 8 characters, labels of at most 40, ASCII text of at most 200 characters, numbers as
8-byte doubles. Numeric dates are SAS dates (days since 1960-01-01) with the ``DATE9.``
format. Text storage lengths are those of the longest value (pyreadstat's choice, and the
guide's). The file appears only when complete.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat

from studylib.batch.files import write_atomic
from studylib.export.metadata import Dataset, dataset

__all__ = ["SAS_EPOCH", "write_xpt", "read_xpt"]

#: Day 0 of SAS dates.
SAS_EPOCH = pd.Timestamp("1960-01-01")


def _sas_values(frame: pd.DataFrame, meta: Dataset) -> pd.DataFrame:
    out = {}
    for v in meta.variables:
        values = frame[v.name]
        if v.format:
            out[v.name] = (values - SAS_EPOCH).dt.days.astype("float64")
        elif v.numeric:
            out[v.name] = values.astype("float64")
        else:
            out[v.name] = values.astype(object).where(values.notna(), "")
    return pd.DataFrame(out, index=frame.index)


def write_xpt(frame: pd.DataFrame, meta: Dataset, path: str | Path) -> Path:
    """Write a conformed dataset (:func:`studylib.export.conform.conform`) as XPT v5."""
    path = Path(path)
    with tempfile.TemporaryDirectory() as scratch:
        partial = Path(scratch) / path.name
        pyreadstat.write_xport(
            _sas_values(frame, meta),
            str(partial),
            file_label=meta.label,
            column_labels=[v.label for v in meta.variables],
            table_name=meta.name,
            file_format_version=5,
            variable_format={v.name: v.format for v in meta.variables if v.format},
        )
        write_atomic(path, partial.read_bytes())
    return path


def read_xpt(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """An XPT file as a conformed-like frame, and what the file says about itself.

    Text is ``None`` where empty (XPT cannot tell empty from missing), numeric dates are
    ``datetime64`` days, integers of the metadata ``Int64``.

    Returns
    -------
    (frame, info)
        ``info`` has ``name`` (the member name), ``label``, ``labels`` (by variable) and
        ``formats`` (by variable).
    """
    raw, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    info = {
        "name": meta.table_name,
        "label": meta.file_label,
        "labels": dict(meta.column_names_to_labels),
        "formats": {k: v for k, v in meta.original_variable_types.items() if v},
    }
    described = dataset(meta.table_name)
    out = {}
    for v in described.variables:
        values = raw[v.name]
        if v.format:
            out[v.name] = SAS_EPOCH + pd.to_timedelta(values, unit="D")
        elif v.type == "integer":
            out[v.name] = values.round().astype("Int64")
        elif v.numeric:
            out[v.name] = values.astype("float64")
        else:
            out[v.name] = values.astype(object).where(values.astype(str) != "", None)
    frame = pd.DataFrame(out, index=raw.index)
    return frame, info
