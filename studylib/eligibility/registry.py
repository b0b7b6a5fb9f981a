"""Evaluators by rule name: how a criterion of the protocol file finds the code that judges it.

Each ``[[eligibility.criteria]]`` entry of a protocol file names a ``rule``; the engine runs,
in the file's order, the evaluator registered under that name. Ids, kinds, labels and quotes
stay in the file, so a protocol can rename, reorder, drop or repeat criteria without a change
here. Adding a criterion of a new kind is one small function:

.. code-block:: python

    @evaluator("agreement")
    def agreement(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
        flag = v[criterion.options["field"]]
        ...
        return outcome(v.index, status, reason, resolve)

``v`` holds the typed screening records (:func:`studylib.eligibility.values.read_records`:
every yes/no column of the data dictionary's screening table is read as one) with each
record's SBRT foci summarised; ``criterion`` is the file's entry, whose ``options`` hold the
criterion's own data (``field = "registry_agreed"``); the protocol gives the thresholds. The
module that defines the evaluator must be imported by :mod:`studylib.eligibility.engine`.

>>> "wbc" in known_rules()
True
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from studylib.errors import ProtocolError
from studylib.protocol import Criterion, Protocol

__all__ = ["Evaluator", "evaluator", "known_rules", "evaluators_for"]

#: An evaluator: typed records, the criterion and the protocol in, one ``status``/``reason``/
#: ``resolve`` row per record out (:func:`studylib.eligibility.verdicts.outcome`).
Evaluator = Callable[[pd.DataFrame, Criterion, Protocol], pd.DataFrame]

_EVALUATORS: dict[str, Evaluator] = {}
# The criterion options each evaluator reads: a file's criterion must give them.
_OPTIONS: dict[str, tuple[str, ...]] = {}


def evaluator(rule: str, *, options: tuple[str, ...] = ()) -> Callable[[Evaluator], Evaluator]:
    """Register the decorated function as the evaluator of criteria whose ``rule`` is ``rule``.

    ``options`` names the entries each such criterion must carry in the file (its
    ``Criterion.options``, such as ``field`` or ``diagnosis``).

    Raises
    ------
    ValueError
        When another evaluator already has this name (two would make the file ambiguous).
    """

    def register(function: Evaluator) -> Evaluator:
        if rule in _EVALUATORS and _EVALUATORS[rule] is not function:
            raise ValueError(f"two eligibility evaluators are registered as rule {rule!r}")
        _EVALUATORS[rule] = function
        _OPTIONS[rule] = tuple(options)
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
        Naming the file, every criterion whose rule has no evaluator (with the known rules)
        and every entry a criterion lacks that its evaluator reads.
    """
    criteria = protocol.eligibility.criteria
    unknown = [c for c in criteria if c.rule not in _EVALUATORS]
    lacking = [
        f"criterion {c.id!r} (rule {c.rule!r}) needs {name} = ..."
        for c in criteria
        if c.rule in _EVALUATORS
        for name in _OPTIONS.get(c.rule, ())
        if name not in c.options
    ]
    if unknown or lacking:
        said = [f"criterion {c.id!r} names rule {c.rule!r}" for c in unknown]
        if said:
            said[-1] += f", which no evaluator judges (known rules: {', '.join(known_rules())})"
        raise ProtocolError(
            f"{protocol.path}: [[eligibility.criteria]] " + "; ".join(said + lacking)
        )
    return [(c, _EVALUATORS[c.rule]) for c in criteria]
