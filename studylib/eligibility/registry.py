"""Evaluators by rule name: how a criterion of the protocol file finds the code that judges it.

Each ``[[eligibility.criteria]]`` entry of a protocol file names a ``rule``; the engine runs,
in the file's order, the evaluator registered under that name. Ids, kinds, labels and quotes
stay in the file, so a protocol can rename, reorder, drop or repeat criteria without a change
here. Adding a criterion of a new kind is one small function:

.. code-block:: python

    @evaluator("registry_participation")
    def registry_participation(v: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
        flag = v["registry_consent"]
        ...
        return outcome(v.index, status, reason, resolve)

``v`` holds the typed screening records (:func:`studylib.eligibility.values.read_records`)
with each record's SBRT foci summarised; the protocol gives the thresholds. The module that
defines the evaluator must be imported by :mod:`studylib.eligibility.engine`.

>>> "wbc" in known_rules()
True
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from studylib.errors import ProtocolError
from studylib.protocol import Criterion, Protocol

__all__ = ["Evaluator", "evaluator", "known_rules", "evaluators_for"]

#: An evaluator: typed records and the protocol in, one ``status``/``reason``/``resolve`` row
#: per record out (:func:`studylib.eligibility.verdicts.outcome`).
Evaluator = Callable[[pd.DataFrame, Protocol], pd.DataFrame]

_EVALUATORS: dict[str, Evaluator] = {}


def evaluator(rule: str) -> Callable[[Evaluator], Evaluator]:
    """Register the decorated function as the evaluator of criteria whose ``rule`` is ``rule``.

    Raises
    ------
    ValueError
        When another evaluator already has this name (two would make the file ambiguous).
    """

    def register(function: Evaluator) -> Evaluator:
        if rule in _EVALUATORS and _EVALUATORS[rule] is not function:
            raise ValueError(f"two eligibility evaluators are registered as rule {rule!r}")
        _EVALUATORS[rule] = function
        return function

    return register


def known_rules() -> list[str]:
    """The rule names a protocol file may give its criteria, sorted."""
    return sorted(_EVALUATORS)


def evaluators_for(protocol: Protocol) -> list[tuple[Criterion, Evaluator]]:
    """Each criterion of ``protocol``, in the file's order, with its evaluator.

    Raises
    ------
    ProtocolError
        Naming the file, every criterion whose rule has no evaluator, and the known rules.
    """
    criteria = protocol.eligibility.criteria
    unknown = [c for c in criteria if c.rule not in _EVALUATORS]
    if unknown:
        named = "; ".join(f"criterion {c.id!r} names rule {c.rule!r}" for c in unknown)
        raise ProtocolError(
            f"{protocol.path}: [[eligibility.criteria]] {named}, which no evaluator judges;"
            f" known rules: {', '.join(known_rules())}"
        )
    return [(c, _EVALUATORS[c.rule]) for c in criteria]
