"""CTCAE v5.0 grade of a laboratory value (or a weight), with the reason in CTCAE's words.

The grade limits are data (:mod:`studylib.safety.ctcae`, ``ctcae_v5.toml``): this module reads
the value and its limits in any laboratory unit through :mod:`studylib.units` and applies the
boundaries exactly as CTCAE v5.0 words them (">ULN - 1.5 x ULN" is grade 1 for
ULN < x <= 1.5 x ULN; "<75.0 - 50.0" is grade 2 for 50 <= x < 75).

>>> grade_lab("platelets", "60000/uL", lln="150 x10^9/L").grade
2
>>> grade_lab("creatinine", "176 µmol/L", uln="1.2 mg/dL", baseline="0.9 mg/dL").grade
2
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pint

from studylib.safety.ctcae import CTCAE, Boundary, Term
from studylib.safety.values import as_written, beyond, show
from studylib.units import convert, parse_quantity

__all__ = ["LabGrade", "grade_lab"]

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


def _read(term: Term, name: str, text: object) -> tuple[pint.Quantity, pint.Quantity] | None:
    """The quantity as written and in the term's unit; ``None`` when missing."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    if isinstance(text, str) and not text.strip():
        return None
    try:
        written = parse_quantity(text, term.unit)
        converted = convert(written, term.unit, term.analyte)
    except ValueError as error:
        raise ValueError(f"{term.term} ({term.test}), {name}: {error}") from None
    if name != "value" and converted.magnitude <= 0:
        raise ValueError(f"{term.term} ({term.test}), {name} {text!r}: expected more than 0")
    return written, converted


def _limit(b: Boundary, written: pint.Quantity) -> pint.Quantity:
    """The absolute limit as CTCAE prints it in the value's own kind of unit (its mmol/L
    limit for a value in mmol/L, its g/dL limit for g/dL or g/L), else the first."""
    same = [q for q in b.limits if q.dimensionality == written.dimensionality]
    return (same or list(b.limits))[0]


def _crossed(term: Term, b: Boundary, value: tuple, refs: dict) -> bool | None:
    """Whether the value reaches boundary ``b``; ``None`` when its reference is missing."""
    written, converted = value
    if b.kind == "absolute":
        limit = _limit(b, written)
        v = written if limit.dimensionality == written.dimensionality else converted
        return beyond(
            float(v.magnitude), float(limit.to(v.units).magnitude), term.direction, inclusive=False
        )
    if refs[b.reference] is None:
        return None
    v, r = float(converted.magnitude), float(refs[b.reference][1].magnitude)
    if b.kind == "pct_change":
        return beyond((v - r) / r * 100, float(b.percent), "increased", inclusive=True)
    direction = "decreased" if b.kind == "x_lln" else "increased"
    return beyond(v, b.factor * r, direction, inclusive=b.inclusive)


def _how(term: Term, b: Boundary, value: tuple, refs: dict) -> str:
    """How the value stands against the boundary, in words: "1.75 x ULN (1.2 mg/dL)"."""
    written, converted = value
    if b.kind == "absolute":
        side = "below" if term.direction == "decreased" else "above"
        return f"{side} {show(_limit(b, written))}"
    ref = refs[b.reference][1]
    v, r = float(converted.magnitude), float(ref.magnitude)
    if b.kind == "pct_change":
        return f"{(v - r) / r * 100:+.1f}% from baseline ({show(ref)})"
    name = {"x_uln": "ULN", "x_lln": "LLN", "x_baseline": "baseline"}[b.kind]
    return f"{v / r:.2f} x {name} ({show(ref)})"


def _baseline_state(term: Term, refs: dict) -> str:
    """``"normal"``, ``"abnormal"`` (above the ULN) or ``"not given"``, for AST, ALT and
    bilirubin (CTCAE v5.0 "if baseline was normal / abnormal"; the table's reading)."""
    if refs["baseline"] is None:
        return "not given"
    if refs["uln"] is None:
        raise ValueError(
            f"{term.term} ({term.test}): grading needs the {_REFERENCE_NAMES['uln']}, to know"
            " whether the baseline was normal"
        )
    base, uln = float(refs["baseline"][1].magnitude), float(refs["uln"][1].magnitude)
    above = beyond(base, uln, "increased", inclusive=False)
    return "abnormal" if above else "normal"


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
    v = _read(term, "value", value)
    if v is None:
        raise ValueError(f"{term.term} ({term.test}): a value is needed, got {value!r}")
    refs = {"uln": _read(term, "uln", uln), "lln": _read(term, "lln", lln)}
    refs["baseline"] = _read(term, "baseline", baseline)
    state = _baseline_state(term, refs) if term.by_baseline else None
    met: list[Boundary] = []
    unknown: list[Boundary] = []
    for b in term.boundaries:
        if b.when_baseline and b.when_baseline != ("abnormal" if state == "abnormal" else "normal"):
            continue
        crossed = _crossed(term, b, v, refs)
        if crossed is None:
            unknown.append(b)
        elif crossed:
            met.append(b)
    grade = max((b.grade for b in met), default=0)
    needed = sorted({b.reference for b in unknown if not b.optional and b.grade > grade})
    if needed:
        names = " and the ".join(_REFERENCE_NAMES[n] for n in needed)
        raise ValueError(f"{term.term} ({term.test}) of {value!r}: grading needs the {names}")
    return LabGrade(
        grade=grade,
        term=term.term,
        reason=_reason(term, grade, value, v, met, unknown, refs, state),
        test=term.test,
        value=v[1],
        criterion=term.grades.get(grade, ""),
        source=term.source,
    )


def _reason(term, grade, text, v, met, unknown, refs, state) -> str:
    shown = as_written(text, v[1])
    if grade:
        top = [b for b in met if b.grade == grade]
        how = "; ".join(_how(term, b, v, refs) for b in top)
        words = f"{term.term} grade {grade}: {shown} is {how}. CTCAE v5.0 grade {grade}: "
        words += f"'{term.grades[grade]}'."
    else:
        words = f"{term.term} grade 0: {shown} does not reach grade 1 ('{term.grades[1]}')."
    notes = []
    if state == "abnormal":
        notes.append(
            f"The baseline ({show(refs['baseline'][1])}) is above the ULN: graded"
            " against the baseline, as CTCAE v5.0 says for an abnormal baseline."
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
