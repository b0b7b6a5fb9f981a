"""Give, hold or stop the next IL-2 dose, from the observations of the last shift.

The criteria are data: the protocol's ``[safety]`` section (the Proleukin label's withhold and
discontinue criteria and the 2014 consensus's relative and absolute criteria, none from the
registry). Any stop criterion met stops the cycle; so do ``relative_criteria_to_stop``
relative criteria met at once; any other hold criterion met holds the dose. An observation not
given is not judged, and the decision says so; nothing is guessed.

:func:`dose_decision` judges one dose slot; :func:`dose_decisions` judges a table of slots at
once (one row per slot, one column per observation), by the same criteria and words.

>>> decision = dose_decision({"heart_rate": "112 bpm", "systolic_bp": "96 mmHg"})
>>> decision.action
'hold'
>>> decision.findings[0].criterion, decision.findings[0].value, decision.findings[0].limit
('REL-HR', '112 bpm', '≥ 100 bpm and ≤ 130 bpm')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pint

from studylib.protocol import Protocol, SafetyCriterion, SafetyRules, resolve_protocol
from studylib.safety.values import as_written, beyond_array, show
from studylib.units import ANALYTES, Q_, convert, parse_quantities, parse_quantity
from studylib.vocabulary import yes_no_series

__all__ = [
    "Finding",
    "DoseDecision",
    "dose_decision",
    "dose_decisions",
    "ACTIONS",
    "FINDING_COLUMNS",
    "DECISION_COLUMNS",
]

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

#: The columns of :func:`dose_decisions`.
DECISION_COLUMNS = ["action", "criteria_met", "reasons", "not_judged"]

_GIVE = "No hold or stop criterion is met by the observations given."


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


def _limit_words(c: SafetyCriterion) -> str:
    if c.when is not None:
        return "present" if c.when else "absent"
    words = " and ".join(f"{_BOUND_WORDS[n][0]} {show(q)}" for n, q in c.bounds.items())
    return f"{words} change from {c.change_from.replace('_', ' ')}" if c.change_from else words


def _present(values: pd.Series) -> np.ndarray:
    """Which cells hold a value (not None, NaN, NA or blank text)."""
    text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    return (text.notna() & (text != "")).to_numpy(bool)


def _fail(key: str, values: pd.Series, errors: pd.Series, single: bool) -> ValueError:
    bad = errors[errors != ""]
    if single:
        return ValueError(f"observation {key!r}: {bad.iloc[0]}")
    shown = "; ".join(f"row {label}: {message}" for label, message in bad.head(5).items())
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return ValueError(f"observation {key!r}: {shown}{more}")


def _magnitudes(key: str, values: pd.Series, unit: str, single: bool) -> np.ndarray:
    """The column in ``unit`` (NaN where missing); unreadable values are a ValueError."""
    if not _present(values).any():
        return np.full(len(values), np.nan)
    analyte = key if key in ANALYTES else None
    quantities = values.map(lambda v: isinstance(v, pint.Quantity)).to_numpy(bool)
    parsed = parse_quantities(values.where(~quantities, None), unit, to=unit, analyte=analyte)
    magnitude = parsed["magnitude"].to_numpy(float).copy()
    errors = parsed["error"].copy()
    for i in np.flatnonzero(quantities):
        try:
            magnitude[i] = convert(parse_quantity(values.iloc[i], unit), unit, analyte).magnitude
        except ValueError as error:
            errors.iloc[i] = str(error)
    if (errors != "").any():
        raise _fail(key, values, errors, single)
    return magnitude


def _unit_of(key: str, values: pd.Series, single: bool) -> str | None:
    """The base unit of a column's kind of quantity (kg for weights), for a change from
    baseline; ``None`` when the column is empty."""
    present = _present(values)
    if not present.any():
        return None
    try:
        return str(parse_quantity(values[present].iloc[0]).to_base_units().units)
    except ValueError as error:
        raise _fail(key, values, pd.Series([str(error)]), True) from None


def _judge(
    c: SafetyCriterion, frame: pd.DataFrame, single: bool, read: dict
) -> tuple[np.ndarray, object]:
    """Per row, the status code (0 not judged, 1 not met, 2 met); and ``shown(i)``, the value
    of row ``i`` in words (built only for the rows a report needs)."""
    n = len(frame)
    empty = pd.Series([None] * n, index=frame.index, dtype=object)
    raw = frame.get(c.observation, empty)
    status = np.zeros(n, dtype=np.int8)
    if c.when is not None:
        answer, bad = yes_no_series(raw.astype(object))
        if bad.any():
            value = raw[bad].iloc[0]
            raise ValueError(
                f"observation {c.observation!r}: {value!r} is not yes or no"
                " (Y/N, yes/no, true/false, 1/0)"
            )
        known = answer.notna().to_numpy(bool)
        status[known] = np.where(answer[known].to_numpy(bool) == c.when, 2, 1)
        return status, lambda i: "" if not known[i] else ("yes" if answer.iloc[i] else "no")
    if c.change_from:
        unit = _unit_of(c.observation, raw, single)
        if unit is None:
            return status, lambda i: ""
        now = _magnitudes(c.observation, raw, unit, single)
        before = _magnitudes(c.change_from, frame.get(c.change_from, empty), unit, single)
        if (before <= 0).any():
            raise ValueError(f"observation {c.change_from!r}: expected more than 0")
        value = (now - before) / before * 100
        bounds_unit = "percent"

        def shown(i: int) -> str:
            if not known[i]:
                return ""
            then = as_written(frame[c.change_from].iloc[i], Q_(before[i], unit))
            return f"{as_written(raw.iloc[i], Q_(now[i], unit))}, {value[i]:+.1f}% from {then}"
    else:
        unit = bounds_unit = str(next(iter(c.bounds.values())).units)
        if (c.observation, unit) not in read:  # two criteria often read one column
            read[c.observation, unit] = _magnitudes(c.observation, raw, unit, single)
        value = read[c.observation, unit]

        words: dict[object, str] = {}

        def shown(i: int) -> str:
            if not known[i]:
                return ""
            text = raw.iloc[i]
            key = text if isinstance(text, str) else i
            if key not in words:
                words[key] = as_written(text, Q_(value[i], unit))
            return words[key]

    known = ~np.isnan(value)
    met = known.copy()
    for name, bound in c.bounds.items():
        _, direction, inclusive = _BOUND_WORDS[name]
        limit = float(bound.to(bounds_unit).magnitude)
        met &= beyond_array(value, limit, direction, inclusive=inclusive)
    status[known] = np.where(met[known], 2, 1)
    return status, shown


_STATUS = np.array(["not judged", "not met", "met"], dtype=object)


def _judge_all(rules: SafetyRules, frame: pd.DataFrame, single: bool) -> dict:
    read: dict = {}
    return {c.id: _judge(c, frame, single, read) for c in rules.criteria}


def _reason(c: SafetyCriterion, value: str, limit: str) -> str:
    name = c.observation.replace("_", " ")
    return f"{c.id} {c.label} ({c.kind} criterion: {c.action}): {name} {value}; limit {limit}."


def _stop_rule(rules: SafetyRules, relative: list[str]) -> str:
    return (
        f"{len(relative)} relative criteria at once ({', '.join(relative)});"
        f" limit {rules.relative_criteria_to_stop}: stop the cycle."
    )


def _rules(protocol: Protocol | None) -> tuple[Protocol, SafetyRules]:
    protocol = resolve_protocol(protocol)
    if protocol.safety is None:
        raise ValueError(f"{protocol.name} has no [safety] section: no dose criteria to apply")
    return protocol, protocol.safety


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
    protocol, rules = _rules(protocol)
    given = dict(observations)
    unknown = sorted(set(given) - set(rules.observations))
    if unknown:
        raise ValueError(
            f"unknown observation(s) {', '.join(map(repr, unknown))}; {protocol.name} judges "
            f"{', '.join(rules.observations)}"
        )
    frame = pd.DataFrame({key: pd.Series([value], dtype=object) for key, value in given.items()})
    frame.index = pd.RangeIndex(1)
    judged = _judge_all(rules, frame, single=True)
    findings = tuple(
        Finding(
            criterion=c.id,
            label=c.label,
            kind=c.kind,
            action=c.action,
            observation=c.observation,
            status=_STATUS[judged[c.id][0][0]],
            value=judged[c.id][1](0),
            limit=_limit_words(c),
            quote=c.quote,
            source=c.source,
        )
        for c in rules.criteria
    )
    decision = _decide_rows(rules, judged, 1)
    reasons = tuple(decision["reasons"][0])
    not_judged = tuple(decision["not_judged"][0])
    return DoseDecision(decision["action"][0], reasons, findings, not_judged, protocol.name)


def _decide_rows(rules: SafetyRules, judged: dict, n: int) -> dict[str, list]:
    """Action, criteria met, reasons and observations not judged, for each of ``n`` rows."""
    criteria = rules.criteria
    met = np.stack([judged[c.id][0] == 2 for c in criteria], axis=1).reshape(n, len(criteria))
    stop = np.array([c.action == "stop" for c in criteria])
    relative = np.array([c.kind == "relative" for c in criteria])
    stopped = (met & stop).any(axis=1)
    counted = (met & relative).sum(axis=1) >= rules.relative_criteria_to_stop
    action = np.where(stopped | counted, "stop", np.where(met.any(axis=1), "hold", "give"))
    unjudged = np.stack([judged[c.id][0] == 0 for c in criteria], axis=1)
    unjudged = unjudged.reshape(n, len(criteria))
    limits = [_limit_words(c) for c in criteria]
    out: dict[str, list] = {"action": action.tolist(), "met": [], "reasons": [], "not_judged": []}
    for i in range(n):
        hits = np.flatnonzero(met[i])
        reasons = [_reason(criteria[k], judged[criteria[k].id][1](i), limits[k]) for k in hits]
        if counted[i]:
            reasons.append(_stop_rule(rules, [criteria[k].id for k in hits if relative[k]]))
        if not len(hits):
            reasons.append(_GIVE)
        missing = list(dict.fromkeys(criteria[k].observation for k in np.flatnonzero(unjudged[i])))
        if missing:
            reasons.append(f"Not judged (not recorded): {', '.join(missing)}.")
        out["met"].append([criteria[k].id for k in hits])
        out["reasons"].append(reasons)
        out["not_judged"].append(missing)
    return out


def dose_decisions(frame: pd.DataFrame, *, protocol: Protocol | None = None) -> pd.DataFrame:
    """:func:`dose_decision` for every row of a table of observations (one row per dose slot).

    Parameters
    ----------
    frame
        One column per observation name of ``protocol.safety.observations`` (others, such as
        ``patient_id`` or ``cycle``, are left alone); cells as in :func:`dose_decision`.
    protocol
        Whose ``[safety]`` criteria apply (default: the bundled protocol).

    Returns
    -------
    pandas.DataFrame
        On the index of ``frame``: ``action`` (give, hold, stop), ``criteria_met`` (ids,
        comma-separated), ``reasons`` (the sentences of :func:`dose_decision`, joined by a
        space) and ``not_judged`` (observation names, comma-separated).

    Raises
    ------
    ValueError
        Naming the observation and the rows of values that cannot be read.
    """
    _, rules = _rules(protocol)
    judged = _judge_all(rules, frame, single=False)
    decided = _decide_rows(rules, judged, len(frame))
    return pd.DataFrame(
        {
            "action": decided["action"],
            "criteria_met": [", ".join(ids) for ids in decided["met"]],
            "reasons": [" ".join(r) for r in decided["reasons"]],
            "not_judged": [", ".join(k) for k in decided["not_judged"]],
        },
        index=frame.index,
        columns=DECISION_COLUMNS,
    )
