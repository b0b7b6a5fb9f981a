"""The CTCAE v5.0 table shipped with studylib: terms, grade words and their boundaries, as data.

``ctcae_v5.toml`` beside this module holds every term the workbook grades from a value, with
CTCAE's own words for each grade, the source, the readings where CTCAE leaves a phrase open,
and the boundaries that encode the words. This module only reads and checks that file; it
knows the boundary kinds (x ULN, x LLN, x baseline, absolute limits, % change from baseline),
never a number.

>>> CTCAE.term("hgb").term
'Anemia'
>>> CTCAE.term("creatinine").grades[2]
'>1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN'
>>> CTCAE.event("hypotension").soc, CTCAE.event("Platelet count decreased").grades
('Vascular disorders', (1, 2, 3, 4))
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pint

from studylib.errors import StudylibError
from studylib.units import parse_quantity

__all__ = [
    "Boundary",
    "Term",
    "EventTerm",
    "CTCAETable",
    "load_ctcae",
    "CTCAE",
    "BOUNDARY_KINDS",
]

_FILE = "ctcae_v5.toml"

#: Boundary kinds and the reference each compares with (None: a limit of its own).
BOUNDARY_KINDS = {
    "x_uln": "uln",
    "x_lln": "lln",
    "x_baseline": "baseline",
    "pct_change": "baseline",
    "absolute": None,
}
_DIRECTIONS = {"x_uln": "increased", "x_lln": "decreased", "pct_change": "increased"}


@dataclass(frozen=True)
class Boundary:
    """Where one grade of a term starts: ``grade`` is met when the value crosses it."""

    grade: int
    kind: str
    factor: float | None = None
    inclusive: bool = False
    limits: tuple[pint.Quantity, ...] = ()
    percent: float | None = None
    when_baseline: str | None = None
    optional: bool = False

    @property
    def reference(self) -> str | None:
        """``"uln"``, ``"lln"``, ``"baseline"``, or ``None`` for an absolute limit."""
        return BOUNDARY_KINDS[self.kind]


@dataclass(frozen=True)
class Term:
    """A CTCAE v5.0 term graded from a value (``test``: how the workbook names the value)."""

    test: str
    aliases: tuple[str, ...]
    term: str
    soc: str
    direction: str
    unit: str
    analyte: str | None
    source: str
    grades: dict[int, str]
    reading: str
    boundaries: tuple[Boundary, ...]

    @property
    def max_grade(self) -> int:
        """The highest grade a value can give (grade 4 of anemia is a clinical judgement)."""
        return max(b.grade for b in self.boundaries)

    @property
    def by_baseline(self) -> bool:
        """Whether the grades differ for a normal and an abnormal baseline (AST, ALT,
        bilirubin)."""
        return any(b.when_baseline for b in self.boundaries)


@dataclass(frozen=True)
class EventTerm:
    """A CTCAE v5.0 term an adverse event may be recorded under, its system organ class and
    the grades CTCAE defines for it."""

    term: str
    soc: str
    grades: tuple[int, ...]


@dataclass(frozen=True)
class CTCAETable:
    """The terms of ``ctcae_v5.toml``, looked up by test name, alias or CTCAE term."""

    version: str
    source: str
    terms: tuple[Term, ...]
    events: tuple[EventTerm, ...] = ()

    def event(self, name: str) -> EventTerm:
        """The adverse-event term ``name`` (any case; laboratory terms included).

        Raises
        ------
        ValueError
            Naming the terms the table knows.
        """
        key = " ".join(str(name).split()).lower()
        for event in self.events:
            if event.term.lower() == key:
                return event
        raise ValueError(
            f"{name!r} is not a {self.version} term of the workbook's table"
            f" (studylib/safety/{_FILE}); known terms: {', '.join(self.event_terms)}"
        )

    @property
    def event_terms(self) -> tuple[str, ...]:
        """Every term an adverse event may be recorded under, sorted."""
        return tuple(sorted(e.term for e in self.events))

    @property
    def tests(self) -> tuple[str, ...]:
        """The test names :func:`studylib.safety.grade_lab` takes."""
        return tuple(t.test for t in self.terms)

    def term(self, name: str) -> Term:
        """The term for a test name (``"hgb"``, ``"platelets"``) or a CTCAE term (``"Anemia"``).

        Raises
        ------
        ValueError
            Naming the test names that exist.
        """
        key = str(name).strip().lower().replace(" ", "_")
        for term in self.terms:
            names = (term.test, *term.aliases, term.term.lower().replace(" ", "_"))
            if key in names:
                return term
        raise ValueError(
            f"unknown laboratory test {name!r}; {self.version} grades are known for "
            f"{', '.join(self.tests)}"
        )


def _fail(where: str, message: str) -> StudylibError:
    return StudylibError(f"studylib/safety/{_FILE}: [{where}] {message}")


def _boundary(raw: dict[str, Any], term: dict[str, Any], where: str) -> Boundary:
    kind = raw.get("kind")
    if kind not in BOUNDARY_KINDS:
        raise _fail(where, f"kind = {kind!r}: expected one of {', '.join(BOUNDARY_KINDS)}")
    needed = _DIRECTIONS.get(kind)
    if needed and term["direction"] != needed:
        raise _fail(where, f"a {kind} boundary belongs to a {needed} term")
    grade = raw.get("grade")
    if grade not in (1, 2, 3, 4):
        raise _fail(where, f"grade = {grade!r}: expected 1-4")
    limits = tuple(parse_quantity(text, term["unit"]) for text in raw.get("limits", ()))
    if (kind == "absolute") != bool(limits):
        raise _fail(where, "an absolute boundary, and only it, lists its limits")
    if kind.startswith("x_") and not raw.get("factor", 0) > 0:
        raise _fail(where, "expected a factor above 0")
    if raw.get("when_baseline") not in (None, "normal", "abnormal"):
        raise _fail(where, "when_baseline: expected 'normal' or 'abnormal'")
    return Boundary(
        grade=grade,
        kind=kind,
        factor=raw.get("factor"),
        inclusive=bool(raw.get("inclusive", False)),
        limits=limits,
        percent=raw.get("percent"),
        when_baseline=raw.get("when_baseline"),
        optional=bool(raw.get("optional", False)),
    )


def load_ctcae() -> CTCAETable:
    """Read and check ``ctcae_v5.toml`` (done once, at import: :data:`CTCAE`)."""
    data = tomllib.loads((resources.files("studylib.safety") / _FILE).read_text("utf-8"))
    terms = []
    for raw in data["terms"]:
        where = f"terms {raw.get('test')!r}"
        if raw.get("direction") not in ("increased", "decreased") or not raw.get("source"):
            raise _fail(where, "expected direction 'increased' or 'decreased' and a source")
        boundaries = tuple(
            _boundary(b, raw, f"{where} boundary #{i + 1}") for i, b in enumerate(raw["boundaries"])
        )
        grades = {g: raw[f"grade_{g}"] for g in (1, 2, 3, 4, 5) if f"grade_{g}" in raw}
        if not {b.grade for b in boundaries} <= set(grades):
            raise _fail(where, "every graded boundary needs CTCAE's words for its grade")
        terms.append(
            Term(
                test=raw["test"],
                aliases=tuple(raw.get("aliases", ())),
                term=raw["term"],
                soc=raw["soc"],
                direction=raw["direction"],
                unit=raw["unit"],
                analyte=raw.get("analyte"),
                source=raw["source"],
                grades=grades,
                reading=raw.get("reading", "").strip(),
                boundaries=boundaries,
            )
        )
    events = [EventTerm(t.term, t.soc, tuple(sorted(t.grades))) for t in terms]
    for raw in data.get("events", ()):
        grades = tuple(raw.get("grades", ()))
        if not grades or not set(grades) <= {1, 2, 3, 4, 5} or not raw.get("soc"):
            raise _fail(f"events {raw.get('term')!r}", "expected a soc and grades within 1-5")
        events.append(EventTerm(raw["term"], raw["soc"], grades))
    names = [e.term.lower() for e in events]
    if len(set(names)) != len(names):
        raise _fail("events", "a term is listed twice")
    return CTCAETable(data["version"], data["source"], tuple(terms), tuple(events))


#: The table shipped with studylib, read once at import.
CTCAE: CTCAETable = load_ctcae()
