"""The metadata table: every exported dataset and variable, with its label, type and origin.

One table drives both formats: the XPT writer takes names, labels and SAS formats from it, the
Dataset-JSON writer its column definitions, and the conformance step (:mod:`.conform`) checks
every value against its type and length before either is written. The table is data, beside
this module: ``datasets.csv`` (dataset, label, class, structure, keys) and ``variables.csv``
(dataset, variable, label, type, length, format, origin, source). The export writes both
beside the datasets, and the README shows them.

Types are Dataset-JSON 1.1's logical data types: ``string``, ``integer``, ``float``, ``date``
and ``datetime``. A ``date`` with the SAS format ``DATE9.`` is an ADaM numeric date (SAS days
since 1960-01-01 in XPT; an ISO 8601 string with ``targetDataType`` integer in Dataset-JSON);
one without a format is an SDTM ``--DTC`` ISO 8601 text. Origins are Define-XML 2.1's:
Collected, Derived, Assigned, Protocol, Predecessor.

>>> dm = dataset("DM")
>>> dm.label, dm.keys
('Demographics', ('STUDYID', 'USUBJID'))
>>> dm.variable("USUBJID").length
40
>>> dataset("ADSL").variable("RANDDT").numeric
True
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

__all__ = [
    "TYPES",
    "ORIGINS",
    "MAX_NAME",
    "MAX_LABEL",
    "MAX_LENGTH",
    "Variable",
    "Dataset",
    "datasets",
    "dataset",
    "metadata_table",
    "dataset_table",
    "markdown_table",
]

#: Logical data types (Dataset-JSON 1.1 ``dataType``) the metadata may use.
TYPES = ("string", "integer", "float", "date", "datetime")
#: Define-XML 2.1 origin types.
ORIGINS = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor")
#: SAS transport version 5 limits: names, labels and character lengths.
MAX_NAME, MAX_LABEL, MAX_LENGTH = 8, 40, 200
#: The one SAS format the metadata uses: numeric dates.
DATE_FORMAT = "DATE9."

_NAME = re.compile(r"[A-Z][A-Z0-9]*")


@dataclass(frozen=True)
class Variable:
    """One variable of one dataset, as the metadata table gives it."""

    dataset: str
    name: str
    label: str
    type: str
    length: int
    format: str
    origin: str
    source: str

    @property
    def numeric(self) -> bool:
        """Stored as a SAS number (XPT ``Num``): integers, floats and formatted dates."""
        return self.type in ("integer", "float") or bool(self.format)

    @property
    def iso_text(self) -> bool:
        """An ISO 8601 date or date-time stored as text (SDTM ``--DTC``)."""
        return self.type in ("date", "datetime") and not self.format


@dataclass(frozen=True)
class Dataset:
    """One dataset: its label, class, structure, keys and variables in order."""

    name: str
    label: str
    cls: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]

    @property
    def names(self) -> list[str]:
        """Variable names, in the dataset's order."""
        return [v.name for v in self.variables]

    @property
    def is_adam(self) -> bool:
        return self.name.startswith("AD")

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(f"{self.name} has no variable {name!r}")


def _rows(filename: str) -> list[dict[str, str]]:
    text = (resources.files("studylib.export") / filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _problems(data: dict[str, Dataset]) -> list[str]:
    """Whatever in the table an XPT v5 file or Dataset-JSON could not hold."""
    found = []
    for ds in data.values():
        if not _NAME.fullmatch(ds.name) or len(ds.name) > MAX_NAME:
            found.append(f"dataset {ds.name!r}: a name of 1-{MAX_NAME} capitals and digits")
        if len(ds.label) > MAX_LABEL or not ds.label.isascii():
            found.append(f"dataset {ds.name}: label {ds.label!r} over {MAX_LABEL} ASCII characters")
        if not ds.variables:
            found.append(f"dataset {ds.name}: no variables")
        names = ds.names
        if len(set(names)) != len(names):
            found.append(f"dataset {ds.name}: a variable listed twice")
        found += [
            f"dataset {ds.name}: key {k} is not a variable" for k in ds.keys if k not in names
        ]
        for v in ds.variables:
            where = f"{ds.name}.{v.name}"
            if not _NAME.fullmatch(v.name) or len(v.name) > MAX_NAME:
                found.append(f"{where}: a name of 1-{MAX_NAME} capitals and digits")
            if len(v.label) > MAX_LABEL or not v.label.isascii() or not v.label:
                found.append(f"{where}: label {v.label!r}: 1-{MAX_LABEL} ASCII characters")
            if v.type not in TYPES:
                found.append(f"{where}: type {v.type!r}, expected one of {TYPES}")
            if v.origin not in ORIGINS:
                found.append(f"{where}: origin {v.origin!r}, expected one of {ORIGINS}")
            if v.format not in ("", DATE_FORMAT) or (v.format and v.type != "date"):
                found.append(f"{where}: format {v.format!r}: only dates take {DATE_FORMAT}")
            if not 1 <= v.length <= MAX_LENGTH or (v.numeric and v.length != 8):
                found.append(f"{where}: length {v.length}: 1-{MAX_LENGTH}, 8 for numbers")
    return found


@cache
def datasets() -> dict[str, Dataset]:
    """Every dataset of the metadata table by name, in export order.

    Raises
    ------
    ValueError
        Listing every entry of the table that XPT v5 or Dataset-JSON 1.1 could not hold.
    """
    variables: dict[str, list[Variable]] = {}
    for row in _rows("variables.csv"):
        variables.setdefault(row["dataset"], []).append(
            Variable(
                dataset=row["dataset"],
                name=row["variable"],
                label=row["label"],
                type=row["type"],
                length=int(row["length"]),
                format=row["format"],
                origin=row["origin"],
                source=row["source"],
            )
        )
    data = {
        row["dataset"]: Dataset(
            name=row["dataset"],
            label=row["label"],
            cls=row["class"],
            structure=row["structure"],
            keys=tuple(k.strip() for k in row["keys"].split(",")),
            variables=tuple(variables.pop(row["dataset"], ())),
        )
        for row in _rows("datasets.csv")
    }
    problems = _problems(data) + [f"variables of unknown dataset {name}" for name in variables]
    if problems:
        raise ValueError("studylib/export metadata: " + "; ".join(problems))
    return data


def dataset(name: str) -> Dataset:
    """One dataset's metadata by name (``"DM"``, ``"adsl"``)."""
    try:
        return datasets()[name.upper()]
    except KeyError:
        raise KeyError(f"no dataset {name!r} in the metadata; known: {list(datasets())}") from None


def _chosen(names) -> list[Dataset]:
    return [dataset(n) for n in names] if names is not None else list(datasets().values())


def metadata_table(names=None) -> pd.DataFrame:
    """The variable-level table (one row per dataset and variable), for the datasets named.

    Columns ``dataset, variable, label, type, length, format, origin, source``; numeric
    variables have length 8 (the SAS storage length).
    """
    return pd.DataFrame(
        [
            {
                "dataset": v.dataset,
                "variable": v.name,
                "label": v.label,
                "type": v.type,
                "length": v.length,
                "format": v.format,
                "origin": v.origin,
                "source": v.source,
            }
            for ds in _chosen(names)
            for v in ds.variables
        ]
    )


def dataset_table(names=None) -> pd.DataFrame:
    """The dataset-level table: ``dataset, label, class, structure, keys``."""
    return pd.DataFrame(
        [
            {
                "dataset": ds.name,
                "label": ds.label,
                "class": ds.cls,
                "structure": ds.structure,
                "keys": ", ".join(ds.keys),
            }
            for ds in _chosen(names)
        ]
    )


def markdown_table(names=None) -> str:
    """The variable-level table as Markdown (the README shows it; a test keeps them equal)."""
    lines = [
        "| dataset | variable | label | type | length | origin | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for ds in _chosen(names):
        for v in ds.variables:
            kind = f"{v.type} ({v.format})" if v.format else v.type
            source = v.source.replace("|", "/")
            lines.append(
                f"| {ds.name} | {v.name} | {v.label} | {kind} | {v.length} | {v.origin} | "
                f"{source} |"
            )
    return "\n".join(lines)
