"""The arms of the comparison, read from the protocol: which is experimental, which the control.

No arm code is written in the analysis: the arms, their names and their order come from the
protocol's ``[[arms]]`` (file order), and the direction of every comparison from two of its
facts. The **experimental arm** is the arm that receives SBRT (``receives_sbrt = true``); the
**comparator** is the arm whose patients may cross over to it (``[crossover].from_arm``, the arm
without SBRT). Every comparison is the experimental arm against the comparator ("B vs A" in
the bundled protocol).

>>> from studylib.protocol import load_protocol
>>> bundled = load_protocol()
>>> compared_arms(bundled)
ComparedArms(experimental='B', comparator='A')
>>> arm_label(bundled, "A")
'Arm A: IL-2 monotherapy'
"""

from __future__ import annotations

from typing import NamedTuple

from studylib.errors import ProtocolError
from studylib.protocol import Protocol

__all__ = ["ComparedArms", "compared_arms", "arm_label"]


class ComparedArms(NamedTuple):
    """The two arms of every comparison: ``experimental`` against ``comparator`` (codes)."""

    experimental: str
    comparator: str


def compared_arms(protocol: Protocol) -> ComparedArms:
    """The experimental arm (the one receiving SBRT) and the comparator (``[crossover].from_arm``).

    Raises
    ------
    ProtocolError
        When the file does not name exactly one arm receiving SBRT besides the comparator.
    """
    comparator = protocol.crossover.from_arm
    experimental = [a.code for a in protocol.arms if a.receives_sbrt and a.code != comparator]
    if len(experimental) != 1:
        raise ProtocolError(
            f"{protocol.path}: [[arms]] must have exactly one arm with receives_sbrt = true to "
            f"compare with [crossover].from_arm {comparator!r}; found {experimental or 'none'}"
        )
    return ComparedArms(experimental[0], comparator)


def arm_label(protocol: Protocol, code: str) -> str:
    """``"Arm A: IL-2 monotherapy"``: the arm's code and name, as tables and figures show it."""
    return f"Arm {code}: {protocol.arm(code).name}"
