"""A structural check of CDISC Dataset-JSON 1.1 documents, written from the specification.

The check follows the specification's tables (CDISC Dataset-JSON v1.1, 2024-12-05): the
top-level attributes (required ones present, types, the date-time and version patterns, the
recommended attribute order, ``records`` equal to the rows), the column metadata (required
attributes, the ``dataType`` and ``targetDataType`` enumerations and their supported
combinations, unique names, OIDs and key sequences) and the rows (one value per column, each
of the JSON type its ``dataType`` takes, ISO 8601 dates, text within its ``length``).

>>> doc = {"datasetJSONCreationDateTime": "2024-01-01T10:00:00", "datasetJSONVersion": "1.1.0",
...        "itemGroupOID": "IG.DM", "records": 1, "name": "DM", "label": "Demographics",
...        "columns": [{"itemOID": "IT.DM.AGE", "name": "AGE", "label": "Age",
...                     "dataType": "integer"}],
...        "rows": [[63]]}
>>> check_dataset_json(doc)
[]
>>> check_dataset_json({**doc, "records": 2, "rows": [["63"]]})
['records is 2 but there are 1 rows', 'rows[0][0] (AGE): integer or null expected, got str']
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["TOP_LEVEL", "COLUMN_ATTRIBUTES", "DATA_TYPES", "check_dataset_json"]

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(([+-]\d{2}:\d{2})|Z)?")
_VERSION = re.compile(r"1\.1(\.(0|[1-9]\d*))?")
_ISO = {
    "date": re.compile(r"\d{4}(-\d{2}(-\d{2})?)?"),
    "datetime": re.compile(
        r"\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?"
    ),
    "time": re.compile(r"\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?"),
}

#: Top-level attributes in the specification's order, and whether each is required.
TOP_LEVEL = {
    "datasetJSONCreationDateTime": True,
    "datasetJSONVersion": True,
    "fileOID": False,
    "dbLastModifiedDateTime": False,
    "originator": False,
    "sourceSystem": False,
    "studyOID": False,
    "metaDataVersionOID": False,
    "metaDataRef": False,
    "itemGroupOID": True,
    "records": True,
    "name": True,
    "label": True,
    "columns": True,
    "rows": False,
}
#: Column attributes in the specification's order, and whether each is required.
COLUMN_ATTRIBUTES = {
    "itemOID": True,
    "name": True,
    "label": True,
    "dataType": True,
    "targetDataType": False,
    "length": False,
    "displayFormat": False,
    "keySequence": False,
}
#: Logical data types and the targetDataType each may take ("Supported Column Data Type
#: Combinations").
DATA_TYPES = {
    "string": (),
    "integer": (),
    "decimal": ("decimal",),
    "float": (),
    "double": (),
    "boolean": (),
    "datetime": ("integer",),
    "date": ("integer",),
    "time": ("integer",),
    "URI": (),
}
_TEXT = ("string", "decimal", "datetime", "date", "time", "URI")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(doc: dict, key: str, problems: list[str], *, min_length: int = 0) -> None:
    if key in doc and (not isinstance(doc[key], str) or len(doc[key]) < min_length):
        wanted = "a non-empty string" if min_length else "a string"
        problems.append(f"{key} must be {wanted}")


def _top_level(doc: dict, problems: list[str]) -> None:
    problems += [
        f"{k} is required" for k, required in TOP_LEVEL.items() if required and k not in doc
    ]
    problems += [f"{k} is not a Dataset-JSON 1.1 attribute" for k in doc if k not in TOP_LEVEL]
    known = [k for k in doc if k in TOP_LEVEL]
    if known != sorted(known, key=list(TOP_LEVEL).index):
        problems.append("top-level attributes are not in the specification's order")
    for key in ("datasetJSONCreationDateTime", "dbLastModifiedDateTime"):
        if key in doc and not (isinstance(doc[key], str) and _DATETIME.fullmatch(doc[key])):
            problems.append(f"{key} must be YYYY-MM-DDThh:mm:ss with an optional offset")
    created, modified = doc.get("datasetJSONCreationDateTime"), doc.get("dbLastModifiedDateTime")
    if isinstance(created, str) and isinstance(modified, str) and modified[:19] > created[:19]:
        problems.append("dbLastModifiedDateTime is after datasetJSONCreationDateTime")
    version = doc.get("datasetJSONVersion")
    if "datasetJSONVersion" in doc and not (
        isinstance(version, str) and _VERSION.fullmatch(version)
    ):
        problems.append(f"datasetJSONVersion {version!r} is not 1.1 or 1.1.n")
    for key in ("fileOID", "studyOID", "metaDataVersionOID", "itemGroupOID", "name"):
        _text(doc, key, problems, min_length=1)
    for key in ("originator", "metaDataRef", "label"):
        _text(doc, key, problems)
    if "sourceSystem" in doc:
        system = doc["sourceSystem"]
        if not isinstance(system, dict) or set(system) != {"name", "version"}:
            problems.append("sourceSystem must hold exactly name and version")
        elif not all(isinstance(system[k], str) for k in ("name", "version")):
            problems.append("sourceSystem name and version must be strings")
    if "records" in doc and not (_is_int(doc["records"]) and doc["records"] >= 0):
        problems.append("records must be an integer of 0 or more")


def _columns(columns: Any, problems: list[str]) -> list[dict]:
    if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
        problems.append("columns must be an array of objects")
        return []
    for i, column in enumerate(columns):
        where = f"columns[{i}]"
        problems += [
            f"{where}.{k} is required"
            for k, req in COLUMN_ATTRIBUTES.items()
            if req and k not in column
        ]
        problems += [
            f"{where}.{k} is not a column attribute" for k in column if k not in COLUMN_ATTRIBUTES
        ]
        for key in ("itemOID", "name"):
            _text(column, key, problems, min_length=1)
        for key in ("label", "displayFormat"):
            _text(column, key, problems)
        kind, target = column.get("dataType"), column.get("targetDataType")
        if kind not in DATA_TYPES:
            problems.append(f"{where}.dataType {kind!r} is not one of {list(DATA_TYPES)}")
        elif "targetDataType" in column and target not in DATA_TYPES[kind]:
            problems.append(f"{where}: dataType {kind} cannot take targetDataType {target!r}")
        for key in ("length", "keySequence"):
            if key in column and not (_is_int(column[key]) and column[key] >= 1):
                problems.append(f"{where}.{key} must be an integer of 1 or more")
    for key in ("itemOID", "name", "keySequence"):
        seen = [c[key] for c in columns if key in c]
        repeated = sorted({str(v) for v in seen if seen.count(v) > 1})
        if repeated:
            problems.append(f"columns: {key} repeated: {', '.join(repeated)}")
    return columns


def _value_problem(value: Any, column: dict) -> str | None:
    kind = column.get("dataType")
    if value is None:
        return None
    if kind in _TEXT:
        if not isinstance(value, str):
            return f"string or null expected, got {type(value).__name__}"
        pattern = _ISO.get(kind)
        if pattern and not pattern.fullmatch(value):
            return f"an ISO 8601 {kind} expected, got {value!r}"
        if "length" in column and _is_int(column["length"]) and len(value) > column["length"]:
            return f"longer than its length {column['length']}"
        return None
    if kind == "integer" and not _is_int(value):
        return f"integer or null expected, got {type(value).__name__}"
    if kind in ("float", "double") and not _is_number(value):
        return f"number or null expected, got {type(value).__name__}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"boolean or null expected, got {type(value).__name__}"
    return None


def _rows(doc: dict, columns: list[dict], problems: list[str]) -> None:
    rows = doc.get("rows")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        problems.append("rows must be an array of arrays")
        return
    if _is_int(doc.get("records")) and doc["records"] != len(rows):
        problems.append(f"records is {doc['records']} but there are {len(rows)} rows")
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            problems.append(f"rows[{i}] has {len(row)} values for {len(columns)} columns")
            continue
        for j, (value, column) in enumerate(zip(row, columns, strict=True)):
            wrong = _value_problem(value, column)
            if wrong:
                problems.append(f"rows[{i}][{j}] ({column.get('name')}): {wrong}")


def check_dataset_json(doc: Any) -> list[str]:
    """Every way ``doc`` (a parsed Dataset-JSON file) departs from the 1.1 structure.

    Returns
    -------
    list of str
        One sentence per problem; empty when the document conforms.
    """
    if not isinstance(doc, dict):
        return ["a Dataset-JSON document is a JSON object"]
    problems: list[str] = []
    _top_level(doc, problems)
    columns = _columns(doc.get("columns", []), problems)
    _rows(doc, columns, problems)
    return problems
