"""Statuses of a criterion and of a patient, and how they combine.

A criterion is ``pass``, ``fail``, ``review`` (a person must decide: the principal
investigator, or a repeat test), ``missing`` (a value it needs is not recorded) or
``not_applicable``. A patient is ``ineligible`` if any
criterion fails; else ``incomplete`` if any is missing; else ``needs_review`` if any asks for
review; else ``eligible``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from studylib.wording import and_list

__all__ = [
    "CRITERION_STATUSES",
    "PATIENT_STATUSES",
    "outcome",
    "rowwise",
    "records",
    "is_true",
    "is_false",
    "overall_status",
    "criterion_name",
    "explain",
]

CRITERION_STATUSES = ("pass", "fail", "review", "missing", "not_applicable")
PATIENT_STATUSES = ("eligible", "needs_review", "incomplete", "ineligible")


def outcome(
    index: pd.Index, status: Iterable[str], reason: Iterable[str], resolve: Iterable[str]
) -> pd.DataFrame:
    """The result of one criterion for every record: ``status``, ``reason``, ``resolve``."""
    frame = pd.DataFrame(
        {
            "status": [str(s) for s in status],
            "reason": [str(r) for r in reason],
            "resolve": [str(r) for r in resolve],
        }
    )
    frame.index = index
    unknown = set(frame["status"]) - set(CRITERION_STATUSES)
    if unknown:
        raise AssertionError(f"criterion statuses {sorted(unknown)} are not defined")
    return frame


def rowwise(function: Callable[..., str], *columns: Iterable) -> list[str]:
    """``function`` applied to each record's values (used to word reasons, not to judge)."""
    return [function(*values) for values in zip(*columns, strict=True)]


def records(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, object]]:
    """The chosen columns of each record as a dict, to word reasons record by record."""
    return frame[list(columns)].to_dict("records")


def is_true(flags: pd.Series) -> pd.Series:
    """True where a yes/no value is known to be yes."""
    return flags.astype("boolean").eq(True).fillna(False).astype(bool)


def is_false(flags: pd.Series) -> pd.Series:
    """True where a yes/no value is known to be no."""
    return flags.astype("boolean").eq(False).fillna(False).astype(bool)


def overall_status(status: pd.Series, patient: pd.Series) -> pd.Series:
    """Each patient's status from its criteria (``status`` and ``patient`` aligned)."""
    flags = pd.DataFrame({name: status.eq(name) for name in ("fail", "missing", "review")})
    per = flags.groupby(patient.to_numpy(), sort=False).any()
    result = np.select(
        [per["fail"], per["missing"], per["review"]],
        ["ineligible", "incomplete", "needs_review"],
        "eligible",
    )
    return pd.Series(result, index=per.index, name="status")


def criterion_name(criterion_id: str, label: str, *, in_sentence: bool = False) -> str:
    """How reasons, explanations, the screening form and logs name a criterion: its id (from
    the protocol file) and its label.

    >>> criterion_name("EX-8", "White blood cells")
    'EX-8 White blood cells'
    >>> criterion_name("EX-8", "White blood cells", in_sentence=True)
    'EX-8 (white blood cells)'
    >>> criterion_name("EX-10", "AST/ALT", in_sentence=True)
    'EX-10 (AST/ALT)'
    """
    if not in_sentence:
        return f"{criterion_id} {label}"
    # Inside a sentence the label is lower-cased, but an acronym ("AST/ALT") is kept.
    first = label.split(" ", 1)[0]
    shown = label if first.isupper() else label[:1].lower() + label[1:]
    return f"{criterion_id} ({shown})"


def _named(rows: pd.DataFrame, singular: str, plural: str) -> str:
    """``"EX-8 (white blood cells) fails"``, ``"IN-5 (...) and EX-7 (...) lack data"``."""
    names = and_list(
        criterion_name(i, label, in_sentence=True)
        for i, label in zip(rows["id"], rows["label"], strict=True)
    )
    return f"{names} {singular if len(rows) == 1 else plural}"


def explain(status: str, rows: pd.DataFrame) -> str:
    """One sentence saying why a patient has ``status``, from its criteria's rows."""
    by = {name: rows[rows["status"] == name] for name in CRITERION_STATUSES}
    if status == "ineligible":
        return f"Not eligible: {_named(by['fail'], 'fails', 'fail')}."
    if status == "incomplete":
        said = f"Incomplete: no criterion fails, but {_named(by['missing'], 'lacks', 'lack')} data"
        if len(by["review"]):
            said += f", and {_named(by['review'], 'needs', 'need')} review"
        return said + "."
    if status == "needs_review":
        return (
            "Needs review: every other criterion is met;"
            f" {_named(by['review'], 'needs', 'need')} review."
        )
    skipped = len(by["not_applicable"])
    note = f" ({skipped} {'does' if skipped == 1 else 'do'} not apply)" if skipped else ""
    return f"Eligible: all {len(rows) - skipped} applicable criteria are met{note}."
