"""CTCAE v5.0 grade of a laboratory value (or a weight), with the reason in CTCAE's words.

The grade limits are data (:mod:`studylib.safety.ctcae`, ``ctcae_v5.toml``): this module reads
the value and its limits in any laboratory unit through :mod:`studylib.units` and applies the
boundaries exactly as CTCAE v5.0 words them (">ULN - 1.5 x ULN" is grade 1 for
ULN < x <= 1.5 x ULN; "<75.0 - 50.0" is grade 2 for 50 <= x < 75).

:func:`grade_lab` grades one value and says why; :func:`grade_values` grades a column of
values at once by the same boundaries (a laboratory table, a synthetic cohort).

>>> grade_lab("platelets", "60000/uL", lln="150 x10^9/L").grade
2
>>> grade_lab("creatinine", "176 µmol/L", uln="1.2 mg/dL", baseline="0.9 mg/dL").grade
2
>>> grade_values("platelets", ["60 x10^9/L", "140000/uL", ""], lln="150 x10^9/L").tolist()
[2, 1, <NA>]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pint

from studylib.safety.ctcae import CTCAE, Boundary, Term
from studylib.safety.values import as_written, beyond_array, show
from studylib.units import Q_, convert, parse_quantities, parse_quantity, ureg

__all__ = ["LabGrade", "grade_lab", "grade_values"]

_REFERENCE_NAMES = {
    "uln": "upper limit of normal (uln=)",
    "lln": "lower limit of normal (lln=)",
    "baseline": "baseline value (baseline=)",
}


@dataclass(frozen=True)
class LabGrade:
    """A CTCAE v5.0 grade: ``grade`` (0-4), ``term`` (the CTCAE term) and ``reason``."""

    grade: int
    term: str
    reason: str
    test: str
    value: pint.Quantity
    criterion: str
    source: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class _Column:
    """A column of values in the term's unit (NaN: missing) and the kind each was written in
    (its dimensionality), for the absolute limits CTCAE prints in more than one kind."""

    magnitude: np.ndarray
    kind: np.ndarray


def _as_series(values, n: int) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True).astype(object)
    if values is None or isinstance(values, str | pint.Quantity) or np.isscalar(values):
        return pd.Series([values] * n, dtype=object)
    return pd.Series(list(values), dtype=object)


def _read(term: Term, name: str, values: pd.Series) -> _Column:
    """Read a column into the term's unit; an unreadable value is a ValueError naming it."""
    quantities = values.map(lambda v: isinstance(v, pint.Quantity)).to_numpy(bool)
    text = values.where(~quantities, None)
    written = parse_quantities(text, term.unit)
    parsed = parse_quantities(text, term.unit, to=term.unit, analyte=term.analyte)
    magnitude = parsed["magnitude"].to_numpy(float).copy()
    errors = parsed["error"].where(written["error"] == "", written["error"])
    units = written["unit"].tolist()
    for i in np.flatnonzero(quantities):
        q = parse_quantity(values.iloc[i], term.unit)  # a Quantity of another kind: ValueError
        magnitude[i] = float(convert(q, term.unit, term.analyte).magnitude)
        units[i] = f"{q.units:~P}"
    bad = errors[errors != ""]
    if len(bad):
        raise ValueError(f"{term.term} ({term.test}), {name}: {bad.iloc[0]}")
    if name != "value" and (magnitude <= 0).any():
        shown = values[np.flatnonzero(magnitude <= 0)[0]]
        raise ValueError(f"{term.term} ({term.test}), {name} {shown!r}: expected more than 0")
    kinds = {u: str(ureg.Unit(u).dimensionality) for u in set(units) if u}
    return _Column(magnitude, np.array([kinds.get(u, "") for u in units], dtype=object))


@dataclass(frozen=True)
class _Graded:
    """What the boundaries said, row by row: the grade, and which boundaries were met, were
    unknown (a reference missing) or did not apply (the other baseline state)."""

    grade: np.ndarray
    met: np.ndarray
    unknown: np.ndarray
    state: np.ndarray


def _limits(b: Boundary, kind: np.ndarray, term: Term) -> np.ndarray:
    """Per row, the absolute limit CTCAE prints in the row's own kind of unit (its mmol/L
    limit for a value written in mmol/L, its g/dL limit for g/dL or g/L), in the term's unit:
    value and limit then go through the same conversion, and CTCAE's printed number decides."""
    first = float(convert(b.limits[0], term.unit, term.analyte).magnitude)
    out = np.full(len(kind), first)
    for limit in b.limits[1:]:
        out[kind == str(limit.dimensionality)] = float(
            convert(limit, term.unit, term.analyte).magnitude
        )
    return out


def _evaluate(term: Term, value: _Column, refs: dict[str, _Column]) -> _Graded:
    n = len(value.magnitude)
    uln, base = refs["uln"].magnitude, refs["baseline"].magnitude
    state = np.full(n, "", dtype=object)
    if term.by_baseline:
        given = ~np.isnan(base)
        state[given] = np.where(
            beyond_array(base, uln, "increased", inclusive=False), "abnormal", "normal"
        )[given]
        state[given & np.isnan(uln)] = ""  # the ULN decides whether the baseline was normal
        state[~given] = "not given"
    met = np.zeros((n, len(term.boundaries)), dtype=bool)
    unknown = np.zeros_like(met)
    v = value.magnitude
    for k, b in enumerate(term.boundaries):
        applies = np.ones(n, dtype=bool)
        if b.when_baseline:
            applies = (
                (state == "abnormal") if b.when_baseline == "abnormal" else (state != "abnormal")
            )
        if b.kind == "absolute":
            limit = _limits(b, value.kind, term)
            met[:, k] = beyond_array(v, limit, term.direction, inclusive=False) & applies
            continue
        ref = refs[b.reference].magnitude
        missing = np.isnan(ref)
        unknown[:, k] = missing & applies & ~np.isnan(v)
        if b.kind == "pct_change":
            with np.errstate(invalid="ignore", divide="ignore"):
                change = (v - ref) / ref * 100
            crossed = beyond_array(change, float(b.percent), "increased", inclusive=True)
        else:
            direction = "decreased" if b.kind == "x_lln" else "increased"
            crossed = beyond_array(v, b.factor * ref, direction, inclusive=b.inclusive)
        met[:, k] = crossed & applies & ~missing
    grades = np.array([b.grade for b in term.boundaries])
    grade = np.where(met, grades, 0).max(axis=1, initial=0)
    return _Graded(grade, met, unknown, state)


def _needed(term: Term, graded: _Graded, row: int) -> list[str]:
    """The references a row's grade needs and does not have (empty when it can be graded)."""
    if graded.state[row] == "" and term.by_baseline:
        return ["uln"]
    return sorted(
        {
            b.reference
            for k, b in enumerate(term.boundaries)
            if graded.unknown[row, k] and not b.optional and b.grade > graded.grade[row]
        }
    )


def grade_values(test: str, values, *, uln=None, lln=None, baseline=None) -> pd.Series:
    """CTCAE v5.0 grades of a column of values (a laboratory table), by the same boundaries
    as :func:`grade_lab`.

    Parameters
    ----------
    test
        As in :func:`grade_lab`.
    values
        Quantity texts or Quantities (a list, array or Series; a Series keeps its index).
    uln, lln, baseline
        One limit for every value, or a column of limits of the same length.

    Returns
    -------
    pandas.Series
        Nullable integer grades; ``<NA>`` where the value is missing or its grade needs a
        limit that is missing (:func:`grade_lab` on that value says which).

    Raises
    ------
    ValueError
        An unknown test, or a value or limit that cannot be read or is of the wrong kind.
    """
    term = CTCAE.term(test)
    index = values.index if isinstance(values, pd.Series) else None
    column = _as_series(values, 0)
    n = len(column)
    value = _read(term, "value", column)
    refs = {
        name: _read(term, name, _as_series(given, n))
        for name, given in (("uln", uln), ("lln", lln), ("baseline", baseline))
    }
    graded = _evaluate(term, value, refs)
    ok = ~np.isnan(value.magnitude)
    for row in np.flatnonzero(ok):
        if _needed(term, graded, row):
            ok[row] = False
    result = pd.array(np.where(ok, graded.grade, 0), dtype="Int64")
    result[~ok] = pd.NA
    return pd.Series(result, index=index)


def grade_lab(
    test: str,
    value: str | pint.Quantity,
    *,
    uln: str | pint.Quantity | None = None,
    lln: str | pint.Quantity | None = None,
    baseline: str | pint.Quantity | None = None,
) -> LabGrade:
    """Grade a laboratory value by CTCAE v5.0.

    Parameters
    ----------
    test
        ``creatinine``, ``bilirubin``, ``ast``, ``alt``, ``platelets``, ``hemoglobin``,
        ``wbc``, ``neutrophils``, ``lymphocytes``, ``albumin`` or ``weight`` (or an alias:
        ``hgb``, ``plt``, ``anc``...; :data:`studylib.safety.CTCAE` lists them).
    value
        The result as the laboratory wrote it (``"176 µmol/L"``, ``"75 x10^9/L"``,
        ``"9.5 g/dL"``), or a Quantity.
    uln, lln
        The laboratory's reference limits, in any unit of the same kind.
    baseline
        The patient's value before treatment: creatinine's x baseline grades, the abnormal
        baseline rules of AST, ALT and bilirubin, and weight gain use it.

    Returns
    -------
    LabGrade
        ``grade`` 0-4 (the highest grade whose CTCAE v5.0 limit the value reaches), ``term``
        and ``reason`` (the value, how it compares, and CTCAE's words for the grade).

    Raises
    ------
    ValueError
        An unknown test, a value or limit that cannot be read or is of the wrong kind
        (a count for a concentration), or a missing limit the grade needs (platelets of
        100 x10^9/L are grade 0 or 1 depending on the LLN).
    """
    term = CTCAE.term(test)
    columns = {
        name: _read(term, name, pd.Series([given], dtype=object))
        for name, given in (("value", value), ("uln", uln), ("lln", lln), ("baseline", baseline))
    }
    if np.isnan(columns["value"].magnitude[0]):
        raise ValueError(f"{term.term} ({term.test}): a value is needed, got {value!r}")
    graded = _evaluate(term, columns["value"], columns)
    needed = _needed(term, graded, 0)
    if needed:
        names = " and the ".join(_REFERENCE_NAMES[n] for n in needed)
        why = ", to know whether the baseline was normal" if needed == ["uln"] else ""
        raise ValueError(
            f"{term.term} ({term.test}) of {value!r}: grading needs the {names}"
            + (why if graded.state[0] == "" else "")
        )
    grade = int(graded.grade[0])
    quantities = {
        name: Q_(c.magnitude[0], term.unit)
        for name, c in columns.items()
        if not np.isnan(c.magnitude[0])
    }
    met = [b for k, b in enumerate(term.boundaries) if graded.met[0, k]]
    unknown = [b for k, b in enumerate(term.boundaries) if graded.unknown[0, k]]
    return LabGrade(
        grade=grade,
        term=term.term,
        reason=_reason(term, grade, value, quantities, columns, met, unknown, graded.state[0]),
        test=term.test,
        value=quantities["value"],
        criterion=term.grades.get(grade, ""),
        source=term.source,
    )


def _how(term: Term, b: Boundary, q: dict, columns: dict) -> str:
    """How the value stands against a boundary it met, in words: "1.75 x ULN (1.2 mg/dL)"."""
    if b.kind == "absolute":
        side = "below" if term.direction == "decreased" else "above"
        kind = columns["value"].kind[0]
        printed = next((x for x in b.limits if str(x.dimensionality) == kind), b.limits[0])
        return f"{side} {show(printed)}"
    v, ref = q["value"].magnitude, q[b.reference]
    if b.kind == "pct_change":
        return f"{(v - ref.magnitude) / ref.magnitude * 100:+.1f}% from baseline ({show(ref)})"
    name = {"x_uln": "ULN", "x_lln": "LLN", "x_baseline": "baseline"}[b.kind]
    return f"{v / ref.magnitude:.2f} x {name} ({show(ref)})"


def _reason(term, grade, text, q, columns, met, unknown, state) -> str:
    shown = as_written(text, q["value"])
    if grade:
        how = "; ".join(_how(term, b, q, columns) for b in met if b.grade == grade)
        words = f"{term.term} grade {grade}: {shown} is {how}. CTCAE v5.0 grade {grade}: "
        words += f"'{term.grades[grade]}'."
    else:
        words = f"{term.term} grade 0: {shown} does not reach grade 1 ('{term.grades[1]}')."
    notes = []
    if state == "abnormal":
        notes.append(
            f"The baseline ({show(q['baseline'])}) is above the ULN: graded against the"
            " baseline, as CTCAE v5.0 says for an abnormal baseline."
        )
    elif state == "not given":
        notes.append("No baseline given: graded as for a normal baseline.")
    if any(b.optional for b in unknown):
        notes.append("No baseline given: the x baseline grades were not judged.")
    higher = [g for g in term.grades if g > term.max_grade]
    if grade == term.max_grade and higher:
        notes.append(
            f"Grade {higher[0]} ('{term.grades[higher[0]]}') is a clinical judgement, not"
            " graded from a value."
        )
    return " ".join([words, *notes])
