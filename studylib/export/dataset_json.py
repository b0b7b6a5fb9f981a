"""CDISC Dataset-JSON 1.1 files from conformed datasets, and reading them back.

The top-level attributes and the column definitions follow the Dataset-JSON 1.1
specification (CDISC Data Exchange Standards Team, 2024-12-05), in its attribute order:
``itemGroupOID`` ``IG.<name>``, ``itemOID`` ``IT.<name>.<variable>``, ``dataType`` the
metadata's type, ``length`` for text, ``keySequence`` for the dataset's keys. ADaM numeric
dates are ISO 8601 strings with ``targetDataType`` integer and the ``DATE9.`` display format,
as the specification's ADaM example; SDTM ``--DTC`` values are ISO 8601 strings. Missing
values are ``null``. :func:`studylib.export.dataset_json_check.check_dataset_json` checks
the structure.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from studylib.batch.files import write_atomic
from studylib.export.metadata import Dataset, Variable

__all__ = ["VERSION", "dataset_json", "write_dataset_json", "read_dataset_json"]

#: The Dataset-JSON version written.
VERSION = "1.1.0"


def _column(v: Variable, meta: Dataset) -> dict:
    column = {
        "itemOID": f"IT.{meta.name}.{v.name}",
        "name": v.name,
        "label": v.label,
        "dataType": v.type,
    }
    if v.format:
        column["targetDataType"] = "integer"
    if not v.numeric:
        column["length"] = v.length
    if v.format:
        column["displayFormat"] = v.format
    if v.name in meta.keys:
        column["keySequence"] = meta.keys.index(v.name) + 1
    return column


def _json_values(values: pd.Series, v: Variable) -> list:
    if v.format:
        return [None if pd.isna(x) else x.strftime("%Y-%m-%d") for x in values]
    if v.type == "integer":
        return [None if pd.isna(x) else int(x) for x in values]
    if v.type == "float":
        return [None if pd.isna(x) else float(x) for x in values]
    return [None if x is None else str(x) for x in values]


def dataset_json(
    frame: pd.DataFrame,
    meta: Dataset,
    *,
    study: str,
    originator: str,
    system_version: str,
    created: datetime | None = None,
    metadata_ref: str | None = None,
) -> dict:
    """A conformed dataset as a Dataset-JSON 1.1 document (a dict, in the attribute order).

    Parameters
    ----------
    study
        STUDYID: ``studyOID`` and the prefix of ``fileOID``.
    originator
        The organisation the datasets come from (the protocol's sponsor).
    system_version
        studylib's version (``sourceSystem``).
    created
        Creation time (default: now, UTC, to the second).
    metadata_ref
        Where the metadata table is (a file name beside the dataset).
    """
    created = created or datetime.now(UTC).replace(microsecond=0)
    columns = [_column(v, meta) for v in meta.variables]
    values = [_json_values(frame[v.name], v) for v in meta.variables]
    doc = {
        "datasetJSONCreationDateTime": created.isoformat(),
        "datasetJSONVersion": VERSION,
        "fileOID": f"{study}.{meta.name}",
        "originator": originator,
        "sourceSystem": {"name": "studylib", "version": system_version},
        "studyOID": study,
    }
    if metadata_ref:
        doc["metaDataRef"] = metadata_ref
    doc.update(
        {
            "itemGroupOID": f"IG.{meta.name}",
            "records": len(frame),
            "name": meta.name,
            "label": meta.label,
            "columns": columns,
            "rows": [list(row) for row in zip(*values, strict=True)] if values else [],
        }
    )
    return doc


def write_dataset_json(frame: pd.DataFrame, meta: Dataset, path: str | Path, **options) -> Path:
    """Write :func:`dataset_json` to ``path`` (UTF-8, one row per line); returns the path."""
    doc = dataset_json(frame, meta, **options)
    rows = doc.pop("rows")
    head = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    body = ",\n".join(json.dumps(row, ensure_ascii=False, allow_nan=False) for row in rows)
    text = head[:-1] + ', "rows": [\n' + body + "\n]}\n"
    write_atomic(Path(path), text)
    return Path(path)


def read_dataset_json(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """A Dataset-JSON file as a frame typed by its own column definitions, and its document
    without the rows.

    Dates with ``targetDataType`` integer become ``datetime64`` days, integers ``Int64``,
    floats ``float64``; text stays text (``None`` for ``null``).
    """
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = doc.pop("rows", [])
    names = [c["name"] for c in doc["columns"]]
    raw = pd.DataFrame(rows, columns=names, dtype=object)
    out = {}
    for column in doc["columns"]:
        values = raw[column["name"]]
        if column.get("targetDataType") == "integer":
            out[column["name"]] = pd.to_datetime(values, format="%Y-%m-%d")
        elif column["dataType"] == "integer":
            out[column["name"]] = values.astype("Int64")
        elif column["dataType"] in ("float", "double"):
            out[column["name"]] = values.astype("float64")
        else:
            out[column["name"]] = values.where(values.notna(), None)
    return pd.DataFrame(out, index=raw.index), doc
