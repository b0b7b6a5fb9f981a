"""Give, hold or stop the next IL-2 dose, from the observations of the last shift.

The criteria are data: the protocol's ``[safety]`` section (the Proleukin label's withhold and
discontinue criteria and the 2014 consensus's relative and absolute criteria, none from the
registry). Any stop criterion met stops the cycle; so do ``relative_criteria_to_stop``
relative criteria met at once; any other hold criterion met holds the dose. An observation not
given is not judged, and the decision says so; nothing is guessed.

>>> decision = dose_decision({"heart_rate": "112 bpm", "systolic_bp": "96 mmHg"})
>>> decision.action
'hold'
>>> decision.findings[0].criterion, decision.findings[0].value, decision.findings[0].limit
('REL-HR', '112 bpm', '≥ 100 bpm and ≤ 130 bpm')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pint

from studylib.protocol import Protocol, SafetyCriterion, SafetyRules, resolve_protocol
from studylib.safety.values import as_written, beyond, show
from studylib.units import ANALYTES, convert, parse_quantity
from studylib.vocabulary import yes_no

__all__ = ["Finding", "DoseDecision", "dose_decision", "ACTIONS", "FINDING_COLUMNS"]

#: The decisions, mildest first.
ACTIONS = ("give", "hold", "stop")

_BOUND_WORDS = {
    "at_least": ("≥", "increased", True),
    "above": (">", "increased", False),
    "below": ("<", "decreased", False),
    "at_most": ("≤", "decreased", True),
}

FINDING_COLUMNS = [
    "criterion",
    "label",
    "kind",
    "action",
    "observation",
    "status",
    "value",
    "limit",
    "quote",
    "source",
]


@dataclass(frozen=True)
class Finding:
    """One criterion judged: ``status`` is ``met``, ``not met`` or ``not judged``."""

    criterion: str
    label: str
    kind: str
    action: str
    observation: str
    status: str
    value: str
    limit: str
    quote: str
    source: str

    @property
    def met(self) -> bool:
        return self.status == "met"


@dataclass(frozen=True)
class DoseDecision:
    """``action`` (give, hold, stop) and ``reasons``: every criterion met, with its value and
    limit, the stop rule when it applies, and the observations not judged."""

    action: str
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    not_judged: tuple[str, ...]
    protocol: str

    def __str__(self) -> str:
        return f"{self.action.upper()}: " + " ".join(self.reasons)

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion, in the protocol's order (:data:`FINDING_COLUMNS`)."""
        rows = [[getattr(f, c) for c in FINDING_COLUMNS] for f in self.findings]
        return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _limit_words(c: SafetyCriterion) -> str:
    if c.when is not None:
        return "present" if c.when else "absent"
    parts = [f"{_BOUND_WORDS[name][0]} {show(q)}" for name, q in c.bounds.items()]
    words = " and ".join(parts)
    return f"{words} change from {c.change_from.replace('_', ' ')}" if c.change_from else words


def _quantity(key: str, value: object, unit: pint.Unit | None) -> pint.Quantity:
    try:
        quantity = parse_quantity(value, unit)
        if unit is None:
            return quantity
        return convert(quantity, unit, key if key in ANALYTES else None)
    except ValueError as error:
        raise ValueError(f"observation {key!r}: {error}") from None


def _judge(c: SafetyCriterion, given: Mapping[str, object]) -> tuple[str, str]:
    """``(status, value shown)`` of one criterion."""
    raw = given.get(c.observation)
    if _missing(raw) or (c.change_from and _missing(given.get(c.change_from))):
        return "not judged", ""
    if c.when is not None:
        try:
            answer = yes_no(raw)
        except ValueError as error:
            raise ValueError(f"observation {c.observation!r}: {error}") from None
        return ("met" if answer is c.when else "not met"), ("yes" if answer else "no")
    if c.change_from:
        now = _quantity(c.observation, raw, None)
        before = _quantity(c.change_from, given[c.change_from], now.units)
        if before.magnitude <= 0:
            raise ValueError(f"observation {c.change_from!r}: expected more than 0")
        change = (now.magnitude - before.magnitude) / before.magnitude * 100
        value = parse_quantity(f"{change} %", allow_negative=True)
        shown = f"{show(now)} ({change:+.1f}% from {show(before)})"
    else:
        value = _quantity(c.observation, raw, next(iter(c.bounds.values())).units)
        shown = as_written(raw, value)
    met = all(
        beyond(
            float(value.magnitude),
            float(bound.to(value.units).magnitude),
            _BOUND_WORDS[name][1],
            inclusive=_BOUND_WORDS[name][2],
        )
        for name, bound in c.bounds.items()
    )
    return ("met" if met else "not met"), shown


def _reason(f: Finding) -> str:
    name = f.observation.replace("_", " ")
    return (
        f"{f.criterion} {f.label} ({f.kind} criterion: {f.action}): {name} {f.value};"
        f" limit {f.limit}."
    )


def dose_decision(
    observations: Mapping[str, object], *, protocol: Protocol | None = None
) -> DoseDecision:
    """Whether the next IL-2 dose is given, held or stopped, and why.

    Parameters
    ----------
    observations
        The last shift's observations by name: ``heart_rate``, ``systolic_bp``,
        ``creatinine``, ``urine_output_8h`` (mL over the 8-hour shift), ``platelets``,
        ``o2_saturation``, ``bilirubin``, ``bicarbonate``, ``weight`` with ``baseline_weight``
        (quantity strings in any unit of the right kind, or Quantities) and
        ``mental_status_change`` (yes/no), and the label's other observations
        (``protocol.safety.observations`` lists every name). A missing or empty value is not
        judged.
    protocol
        Whose ``[safety]`` criteria apply (default: the bundled protocol).

    Returns
    -------
    DoseDecision
        ``action`` ``give``, ``hold`` or ``stop``; ``reasons`` naming each criterion met with
        its value and limit, the stop rule when it applies, and what was not judged;
        ``findings`` for every criterion (``to_frame()``).

    Raises
    ------
    ValueError
        An observation name the protocol does not know, a value that cannot be read or is of
        the wrong kind (``"110 mmHg"`` for a heart rate), or a protocol without ``[safety]``.
    """
    protocol = resolve_protocol(protocol)
    rules = protocol.safety
    if rules is None:
        raise ValueError(f"{protocol.name} has no [safety] section: no dose criteria to apply")
    given = dict(observations)
    unknown = sorted(set(given) - set(rules.observations))
    if unknown:
        raise ValueError(
            f"unknown observation(s) {', '.join(map(repr, unknown))}; {protocol.name} judges "
            f"{', '.join(rules.observations)}"
        )
    findings = []
    for c in rules.criteria:
        status, value = _judge(c, given)
        findings.append(
            Finding(
                criterion=c.id,
                label=c.label,
                kind=c.kind,
                action=c.action,
                observation=c.observation,
                status=status,
                value=value,
                limit=_limit_words(c),
                quote=c.quote,
                source=c.source,
            )
        )
    return _decide(rules, tuple(findings), protocol.name)


def _decide(rules: SafetyRules, findings: tuple[Finding, ...], name: str) -> DoseDecision:
    met = [f for f in findings if f.met]
    relative = [f for f in met if f.kind == "relative"]
    reasons = [_reason(f) for f in met]
    if any(f.action == "stop" for f in met):
        action = "stop"
    elif len(relative) >= rules.relative_criteria_to_stop:
        action = "stop"
        ids = ", ".join(f.criterion for f in relative)
        reasons.append(
            f"{len(relative)} relative criteria at once ({ids});"
            f" limit {rules.relative_criteria_to_stop}: stop the cycle"
            f" ('{rules.relative_to_stop_quote}')."
        )
    elif met:
        action = "hold"
    else:
        action = "give"
        reasons.append("No hold or stop criterion is met by the observations given.")
    not_judged = tuple(dict.fromkeys(f.observation for f in findings if f.status == "not judged"))
    if not_judged:
        reasons.append(f"Not judged (not recorded): {', '.join(not_judged)}.")
    return DoseDecision(action, tuple(reasons), findings, not_judged, name)
