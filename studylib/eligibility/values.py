"""Reading screening records: every field checked, typed, and converted to the protocol's unit.

A screening record is a row of ``data/screening.csv`` (as loaded by
:func:`studylib.data.load_cohort`, or read raw) or a dict with the same keys
(the screening record of ``data/README.md``). :func:`read_records` turns a frame of them into
one typed column per field:

- yes/no fields become nullable booleans; they accept Y/N, yes/no, true/false, 1/0, Python
  and numpy booleans and pandas' nullable booleans;
- laboratory values become magnitudes in the unit of the protocol's threshold (WBC in
  x10^9/L, haemoglobin in g/dL, bilirubin and creatinine in mg/dL in the bundled file; AST/ALT
  in the data dictionary's U/L), converted with :mod:`studylib.units` (through the analyte's
  molar mass for µmol/L and mmol/L), with the text the laboratory wrote kept beside them for
  the reasons;
- dates and datetimes become Timestamps.

An empty value (``""``, ``None``, NaN, ``pd.NA``, NaT) is missing and stays missing: the
criterion that needs it is reported ``missing``, never ``pass``. A value that cannot be read
(an unknown or wrong unit, ECOG 7, a negative count, a birth date after the screening date;
the limits of what is possible are the protocol's ``[plausibility]`` and
``[eligibility.plausible_max]``) is not a verdict but an error: every such problem of every
record is collected into one :class:`~studylib.errors.DataError` naming the field and the
value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from numbers import Real
from typing import NamedTuple

import numpy as np
import pandas as pd
import pint

from studylib.dictionary import TABLES
from studylib.errors import DataError, Problem
from studylib.protocol import Protocol
from studylib.units import convert, parse_quantity
from studylib.vocabulary import YES_NO_EXPECTED, yes_no
from studylib.wording import hours

__all__ = [
    "FILE",
    "YES_NO_FIELDS",
    "Lab",
    "LAB_FIELDS",
    "PFT_FIELDS",
    "FIELDS",
    "lab_thresholds",
    "lab_unit",
    "field_meaning",
    "is_blank",
    "name_key",
    "read_records",
]

#: The "file" named in problems with a screening record.
FILE = "screening record"

_SCREENING = TABLES["screening"]

# The screening record's yes/no fields, as the data dictionary declares them.
YES_NO_FIELDS = tuple(c.name for c in _SCREENING.columns if c.kind == "yes_no")


class Lab(NamedTuple):
    """A laboratory field of the screening record."""

    #: How a laboratory report, the criteria's reasons and the screening form name it.
    name: str
    #: The analyte whose molar mass converts µmol/L or mmol/L (None: no molar unit).
    analyte: str | None
    #: How laboratories write it, for error messages.
    example: str


#: The laboratory fields, in the order of a laboratory report.
LAB_FIELDS: dict[str, Lab] = {
    "wbc": Lab("WBC", None, "'4.1 x10^9/L', '4,100/µL' or '4.1 K/uL'"),
    "hgb": Lab("Haemoglobin", "hemoglobin", "'13.2 g/dL', '132 g/L' or '8.2 mmol/L'"),
    "ast": Lab("AST", None, "'32 U/L'"),
    "ast_uln": Lab("AST upper limit of normal", None, "'40 U/L'"),
    "alt": Lab("ALT", None, "'28 U/L'"),
    "alt_uln": Lab("ALT upper limit of normal", None, "'40 U/L'"),
    "bilirubin": Lab("Total bilirubin", "bilirubin", "'0.8 mg/dL' or '14 µmol/L'"),
    "creatinine": Lab("Creatinine", "creatinine", "'0.9 mg/dL' or '80 µmol/L'"),
}


def field_meaning(field: str) -> str:
    """What a screening field holds, in the data dictionary's words (the record table's
    ``meaning``, the screening form's labels)."""
    try:
        return _SCREENING.column(field).description
    except KeyError:
        return field.replace("_", " ")


def lab_thresholds(protocol: Protocol) -> dict[str, pint.Quantity]:
    """The protocol's limit for each laboratory field that has one (``[eligibility]``)."""
    e = protocol.eligibility
    return {
        "wbc": e.wbc_min,
        "hgb": e.hgb_min,
        "bilirubin": e.bilirubin_max,
        "creatinine": e.creatinine_max,
    }


def lab_unit(field: str, protocol: Protocol) -> str:
    """The unit a laboratory field is compared and shown in: its threshold's unit in the
    protocol file, else the data dictionary's (AST, ALT and their limits: U/L)."""
    limit = lab_thresholds(protocol).get(field)
    return f"{limit.units}" if limit is not None else _SCREENING.column(field).unit


PFT_FIELDS = ("pft_dlco_pct", "pft_fev1_pct", "pft_fev1_fvc_pct")

_CHOICES: dict[str, dict[str, str]] = {
    "sex": {"f": "F", "female": "F", "m": "M", "male": "M"},
    "pregnancy_test": {v: v for v in ("negative", "positive", "not_done")},
    "brain_mets": {v: v for v in ("none", "radiosurgery_candidate", "not_radiosurgery_candidate")},
}

# Only ISO 8601: "04/03/2024" is 4 March in Europe and 3 April in the United States.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")
_TIME_OF_DAY = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")


def is_blank(value: object) -> bool:
    """True for an empty entry: ``None``, ``""``, NaN, ``pd.NA``, NaT."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --- readers of one value: return the typed value or raise ValueError(what was expected) ---


def _yes_no(value: object) -> bool:
    try:
        answer = yes_no(value)
    except ValueError:
        answer = None
    if answer is None:
        raise ValueError(YES_NO_EXPECTED)
    return answer


def name_key(value: object) -> str:
    """A name as the protocol file spells its names: ``"Chest wall"`` -> ``"chest_wall"``,
    ``"clear-cell"`` -> ``"clear_cell"``."""
    return str(value).strip().lower().replace(" ", "_").replace("-", "_")


def _choice(field: str) -> Callable[[object], str]:
    options = _CHOICES[field]

    def read(value: object) -> str:
        key = name_key(value)
        if key not in options:
            raise ValueError("one of " + ", ".join(sorted(set(options.values()))))
        return options[key]

    return read


def _ecog(protocol: Protocol) -> Callable[[object], int]:
    top = protocol.plausibility.ecog_max
    expected = f"an ECOG performance status, a whole number from 0 to {top}"

    def read(value: object) -> int:
        if isinstance(value, bool | np.bool_):
            raise ValueError(expected)
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise ValueError(expected) from None
        if not number.is_integer() or not 0 <= number <= top:
            raise ValueError(expected)
        return int(number)

    return read


def _percent(protocol: Protocol) -> Callable[[object], float]:
    top = protocol.eligibility.plausible_max["pft"].to("percent").magnitude
    expected = f"a percent of predicted from 0 to {top:g}, such as 85 or '85 %'"

    def read(value: object) -> float:
        if isinstance(value, bool | np.bool_):
            raise ValueError(expected)
        if isinstance(value, str):
            text = value.strip().removesuffix("%").strip()
            try:
                number = float(text)
            except ValueError:
                raise ValueError(expected) from None
        elif isinstance(value, Real):
            number = float(value)
        else:
            raise ValueError(expected)
        if not math.isfinite(number) or not 0 <= number <= top:
            raise ValueError(expected)
        return number

    return read


def _lab(field: str, protocol: Protocol) -> Callable[[object], tuple[float, str]]:
    _, analyte, example = LAB_FIELDS[field]
    unit = lab_unit(field, protocol)
    limit = protocol.eligibility.plausible_max.get(field)

    def read(value: object) -> tuple[float, str]:
        expected = f"a value with its unit, such as {example}"
        if isinstance(value, Real | np.number) and not isinstance(value, pint.Quantity):
            raise ValueError(f"{expected}: the unit is missing")
        text = value if isinstance(value, pint.Quantity) else str(value)
        try:
            quantity = parse_quantity(text, unit)
            magnitude = float(convert(quantity, unit, analyte).magnitude)
        except ValueError as error:
            raise ValueError(f"{expected} ({error})") from None
        if field.endswith("_uln") and magnitude == 0:
            raise ValueError(f"{expected}: an upper limit of normal above zero")
        if limit is not None and magnitude > limit.to(unit).magnitude:
            raise ValueError(
                f"{expected}: {magnitude:g} {unit} is beyond any possible value"
                f" ({limit:~P}); check the number and its unit"
            )
        return magnitude, f"{quantity.units:~P}"

    return read


def _timestamp(value: object, pattern: re.Pattern[str], expected: str) -> pd.Timestamp:
    # Text must be ISO 8601 ("04/03/2024" is ambiguous); other values must convert.
    if isinstance(value, str) and not pattern.match(value.strip()):
        raise ValueError(expected)
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(expected) from None
    if stamp is pd.NaT:
        raise ValueError(expected)
    return stamp


def _date(value: object) -> pd.Timestamp:
    stamp = _timestamp(value, _ISO_DATE, "an ISO 8601 date, such as 2024-03-04")
    return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()


def _datetime(protocol: Protocol) -> Callable[[object], pd.Timestamp]:
    window = hours(protocol.eligibility.pregnancy_test_window)
    expected = (
        "an ISO 8601 date and time, such as 2024-03-04T08:00 (the pregnancy test's window of"
        f" {window} needs the time)"
    )

    def read(value: object) -> pd.Timestamp:
        return _timestamp(value, _TIME_OF_DAY, expected)

    return read


def _text(value: object) -> str:
    return str(value).strip()


# How each field other than yes/no, PFT and laboratory values is read, given the protocol.
_OTHER_READERS: dict[str, Callable[[Protocol], Callable[[object], object]]] = {
    "patient_id": lambda protocol: _text,
    "screening_date": lambda protocol: _date,
    "birth_date": lambda protocol: _date,
    "sex": lambda protocol: _choice("sex"),
    "ecog": _ecog,
    "pregnancy_test": lambda protocol: _choice("pregnancy_test"),
    "pregnancy_test_at": _datetime,
    "planned_start_at": _datetime,
    "brain_mets": lambda protocol: _choice("brain_mets"),
    "histology_subtype": lambda protocol: name_key,
}

#: The fields of a screening record, in the order problems with them are listed.
FIELDS: tuple[str, ...] = (*_OTHER_READERS, *YES_NO_FIELDS, *PFT_FIELDS, *LAB_FIELDS)


def _readers(protocol: Protocol) -> dict[str, Callable[[object], object]]:
    """How each field of :data:`FIELDS` is read, with the protocol's limits."""
    return {
        **{field: make(protocol) for field, make in _OTHER_READERS.items()},
        **dict.fromkeys(YES_NO_FIELDS, _yes_no),
        **dict.fromkeys(PFT_FIELDS, _percent(protocol)),
        **{field: _lab(field, protocol) for field in LAB_FIELDS},
    }


class Problems:
    """Problems found in a frame of records, kept in record order, then field order.

    With ``by_patient`` (a cohort), each problem's place names the patient ("screening
    record of P002"), since the message is read without the record beside it.
    """

    def __init__(self, patient_ids: pd.Series, file: str = FILE, by_patient: bool = False) -> None:
        self.file = file
        self.patient_ids = patient_ids
        self.by_patient = by_patient
        self.found: list[tuple[int, int, Problem]] = []

    def add(self, row: int, column: str, value: object, expected: str, order: int = 0) -> None:
        patient = self.patient_ids.iloc[row] if len(self.patient_ids) else None
        patient = None if is_blank(patient) else str(patient)
        file = f"{self.file} of {patient}" if self.by_patient and patient else self.file
        problem = Problem(file, None, column, value, expected, patient_id=patient)
        self.found.append((row, order, problem))

    def raise_any(self, context: str) -> None:
        if self.found:
            ordered = [p for _, _, p in sorted(self.found, key=lambda item: item[:2])]
            raise DataError(ordered, context)


def _read_column(values: pd.Series, read: Callable[[object], object]) -> tuple[list, list]:
    """Read each distinct entry once; returns the typed values and (position, value, why)."""
    cache: dict[tuple[type, object], tuple[bool, object]] = {}
    out: list[object] = []
    bad: list[tuple[int, object, str]] = []
    for position, value in enumerate(values.tolist()):
        if is_blank(value):
            out.append(None)
            continue
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in cache:
            ok, result = cache[key]
        else:
            try:
                ok, result = True, read(value)
            except ValueError as error:
                ok, result = False, str(error)
            if key is not None:
                cache[key] = (ok, result)
        if ok:
            out.append(result)
        else:
            out.append(None)
            bad.append((position, value, result))
    return out, bad


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column ``name`` of ``frame``, or an empty one when the records do not have it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def read_records(frame: pd.DataFrame, problems: Problems, protocol: Protocol) -> pd.DataFrame:
    """One typed column per field of the screening records in ``frame`` (same index).

    Labs hold the magnitude in the unit they are compared in (:func:`lab_unit`);
    ``<lab>_reported`` keeps the text the laboratory wrote and ``<lab>_unit`` its unit.
    Datetimes given with a time zone are compared in UTC (``<field>_utc`` is then true). Bad
    values are added to ``problems`` (and left missing here).
    """
    typed: dict[str, object] = {}
    readers = _readers(protocol)
    order = list(FIELDS)
    for name in FIELDS:
        read = readers[name]
        raw = column(frame, name)
        values, bad = _read_column(raw, read)
        for position, value, why in bad:
            problems.add(position, name, value, why, order.index(name))
        if name in LAB_FIELDS:
            typed[name] = np.array([np.nan if v is None else v[0] for v in values], dtype=float)
            typed[f"{name}_unit"] = [None if v is None else v[1] for v in values]
            typed[f"{name}_reported"] = [
                None if v is None else str(r).strip()
                for v, r in zip(values, raw.tolist(), strict=True)
            ]
        elif name in PFT_FIELDS:
            typed[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
        elif name in YES_NO_FIELDS:
            typed[name] = pd.array([pd.NA if v is None else v for v in values], dtype="boolean")
        elif name == "ecog":
            typed[name] = pd.array([pd.NA if v is None else v for v in values], dtype="Int64")
        elif name in ("screening_date", "birth_date"):
            typed[name] = pd.to_datetime(pd.Series(values, dtype=object)).to_numpy()
        elif name in ("pregnancy_test_at", "planned_start_at"):
            zoned = [v is not None and v.tzinfo is not None for v in values]
            utc = [
                v.tz_convert("UTC").tz_localize(None) if z else v
                for v, z in zip(values, zoned, strict=True)
            ]
            typed[name] = pd.to_datetime(pd.Series(utc, dtype=object)).to_numpy()
            typed[f"{name}_utc"] = zoned
        else:
            typed[name] = values
    out = pd.DataFrame(typed)
    out.index = frame.index
    _check_together(out, column(frame, "pregnancy_test_at"), problems, order, protocol)
    return out


def _check_together(
    out: pd.DataFrame,
    tested_as_written: pd.Series,
    problems: Problems,
    order: list[str],
    protocol: Protocol,
) -> None:
    """Values that are readable alone but impossible together."""
    born, screened = out["birth_date"], out["screening_date"]
    oldest = protocol.plausibility.max_age.to("year").magnitude
    for position, (b, s) in enumerate(zip(born, screened, strict=True)):
        if pd.isna(b) or pd.isna(s):
            continue
        if b > s:
            problems.add(
                position,
                "birth_date",
                b.strftime("%Y-%m-%d"),
                f"a birth date before the screening date ({s:%Y-%m-%d})",
                order.index("birth_date"),
            )
        elif (s - b).days / 365.25 > oldest:
            problems.add(
                position,
                "birth_date",
                b.strftime("%Y-%m-%d"),
                f"a birth date less than {oldest:g} years before the screening date",
                order.index("birth_date"),
            )
    zoned = out["pregnancy_test_at_utc"] != out["planned_start_at_utc"]
    both = out["pregnancy_test_at"].notna() & out["planned_start_at"].notna()
    for position in np.flatnonzero((zoned & both).to_numpy()):
        problems.add(
            int(position),
            "pregnancy_test_at",
            tested_as_written.iloc[position],
            "a time given the same way as planned_start_at (both with a time zone, or both"
            " without)",
            order.index("pregnancy_test_at"),
        )
