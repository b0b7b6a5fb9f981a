"""A notebook's parameters, checked in one place: the cell after the ``parameters`` cell.

papermill passes parameters as plain values (``-p`` values are read as YAML, ``-r`` values as
text) and injects them in a cell of their own, which starts with ``# Parameters``, after the
notebook's ``parameters`` cell. It does not refuse a name the notebook does not have
(``-p patientid P013`` would run the default patient and end well), nor a value of the wrong
type (``-p data_dir 5``), and ``-p show_cohort_log no`` arrives as the text ``"no"``, which
Python counts as true. :func:`check_parameters` refuses all of these at once, in one
:class:`~studylib.errors.ParameterError` that a report shows as its message alone, and puts
the values it read back in the notebook's namespace (``"no"`` becomes ``False``; a relative
``data_dir`` becomes the folder it names, resolved against the working directory, and the
notebook says so).

>>> namespace = {"patient_id": "P013", "show_cohort_log": "no"}
>>> params = check_parameters(namespace, patient_id=str, show_cohort_log=bool)
>>> namespace["show_cohort_log"], params.values["patient_id"]
(False, 'P013')
>>> check_parameters({"ecog": "two"}, ecog=int)
Traceback (most recent call last):
...
studylib.errors.ParameterError: 1 notebook parameter to fix:
  - ecog: 'two' is not a whole number; write it in digits, such as -p ecog 2
"""

from __future__ import annotations

import ast
import difflib
import math
import types
import typing
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from studylib.errors import ParameterError
from studylib.vocabulary import YES_NO_EXPECTED, yes_no

__all__ = ["Folder", "Parameters", "check_parameters", "require_patient"]

#: The first line of the cell papermill injects.
INJECTED_MARK = "# Parameters"


@dataclass(frozen=True)
class Folder:
    """A parameter that names a folder (``data_dir``): it must exist; a relative path is
    resolved against the working directory, and the notebook says what it resolved to."""

    example: str = "../data"


@dataclass
class Parameters:
    """The checked values, and what the reader should know about them (a resolved path)."""

    values: dict[str, object]
    notes: list[str] = field(default_factory=list)

    def _repr_markdown_(self) -> str:
        rows = [f"- `{name}` = `{value!r}`" for name, value in self.values.items()]
        return "\n".join(["**Parameters**", "", *rows, *(f"- {note}" for note in self.notes)])

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        return "\n".join([f"Parameters: {shown}", *self.notes])


def check_parameters(namespace: MutableMapping[str, object], **declared: object) -> Parameters:
    """Check a notebook's parameters and put the values read back into ``namespace``.

    Parameters
    ----------
    namespace
        The notebook's namespace (``globals()``): its values are read and replaced by the
        checked ones; its ``In`` (IPython's executed cell sources) shows the names papermill
        injected.
    **declared
        Each parameter of the notebook and its type: ``str``, ``int``, ``float``, ``bool``,
        :class:`Folder`, or any of them ``| None``.

    Returns
    -------
    Parameters
        The values, and notes saying what a relative folder passed in by papermill was
        resolved to (the notebook's own default is not repeated); shown as a list.

    Raises
    ------
    ParameterError
        Listing every parameter that is unknown (with the nearest declared name), of the
        wrong type, or a folder that does not exist.
    """
    problems: list[str] = []
    injected = injected_names(namespace)
    for name in injected:
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"{name}: not a parameter of this notebook{hint}; its parameters are"
                f" {', '.join(declared)}"
            )
    values: dict[str, object] = {}
    notes: list[str] = []
    for name, kind in declared.items():
        if name not in namespace:
            problems.append(f"{name}: not set (the notebook's parameters cell declares it)")
            continue
        try:
            # What a relative folder was read as is said for a value passed in (papermill,
            # the batch); the notebook's own default is not repeated on every run.
            said = notes if name in injected else []
            values[name] = _read(name, namespace[name], kind, said)
        except ValueError as error:
            problems.append(f"{name}: {error}")
    if problems:
        count = len(problems)
        raise ParameterError(
            f"{count} notebook parameter{'s' if count != 1 else ''} to fix:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    namespace.update(values)
    return Parameters(values, notes)


def injected_names(namespace: Mapping[str, object]) -> list[str]:
    """The names papermill set in its injected cell, the latest one IPython ran (``In``)."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return []
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().startswith(INJECTED_MARK):
            return _assigned(source)
    return []


def _assigned(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _read(name: str, value: object, kind: object, notes: list[str]) -> object:
    """One value as ``kind``, or ValueError saying what to write."""
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if value is None:
        if type(None) in options:
            return None
        raise ValueError(f"is empty (None); expected {_describe(options[0], name)}")
    wanted = [k for k in options if k is not type(None)]
    errors = []
    for option in wanted:
        try:
            return _one(name, value, option, notes)
        except ValueError as error:
            errors.append(str(error))
    raise ValueError(errors[0])


def _one(name: str, value: object, kind: object, notes: list[str]) -> object:
    if kind is bool:
        try:
            answer = yes_no(value)
        except ValueError:
            answer = None
        if answer is None:
            raise ValueError(f"{value!r} is not {YES_NO_EXPECTED}; such as -p {name} no")
        return answer
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        raise ValueError(
            f"{value!r} is not a whole number; write it in digits, such as -p {name} 2"
        )
    if kind is float:
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        real = isinstance(number, int | float) and not isinstance(number, bool)
        if real and math.isfinite(number):
            return float(number)
        raise ValueError(f"{value!r} is not a number, such as -p {name} 2.5")
    if kind is str:
        if isinstance(value, str):
            return value
        raise ValueError(
            f"{value!r} is a {type(value).__name__}, not text: papermill reads -p values as"
            f" YAML, so pass text with -r {name} {value}"
        )
    if isinstance(kind, Folder):
        return _folder(name, value, kind, notes)
    raise TypeError(f"{name}: unknown parameter type {kind!r}")


def _folder(name: str, value: object, kind: Folder, notes: list[str]) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError(
            f"{value!r} is not a folder path; expected {_describe(kind, name)} (pass a path"
            f" that papermill would read as another type with -r {name} ...)"
        )
    written = Path(str(value).strip()).expanduser()
    folder = written if written.is_absolute() else Path.cwd() / written
    folder = folder.resolve()
    if not folder.is_dir():
        relative = "" if written.is_absolute() else f", relative to the working folder {Path.cwd()}"
        raise ValueError(f"no folder at {folder} ({str(value)!r}{relative})")
    if not written.is_absolute():
        notes.append(
            f"{name} {str(value)!r} is relative: read as {folder} (relative to the working"
            f" folder {Path.cwd()})"
        )
    return folder


def _describe(kind: object, name: str) -> str:
    if isinstance(kind, Folder):
        return f"the path of a folder, such as -p {name} {kind.example}"
    return {str: "text", int: "a whole number", float: "a number", bool: "yes or no"}.get(
        kind, str(kind)
    )


def require_patient(cohort, patient_id: str) -> None:
    """``patient_id`` must be a patient of the cohort; else one ParameterError naming the
    nearest ids (a report shows it without a traceback).

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort`.
    patient_id
        The notebook's ``patient_id`` parameter.
    """
    known = cohort.patient_ids
    if patient_id in set(known):
        return
    close = difflib.get_close_matches(str(patient_id), known, n=3, cutoff=0.6)
    upper = [p for p in known if p.lower() == str(patient_id).lower()]
    nearest = upper or close
    hint = f"did you mean {' or '.join(nearest)}? " if nearest else ""
    raise ParameterError(
        f"patient_id {patient_id!r} is not in {cohort.path}/screening.csv; {hint}its ids look"
        f" like {', '.join(known[:3])}, ... ({len(known)} patients)"
    )
