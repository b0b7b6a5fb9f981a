"""The workbook's colours: one per response category and one per arm, in every figure.

Okabe-Ito colours, which stay distinct for readers with colour-vision deficiency; grey for
what could not be judged.
"""

from __future__ import annotations

from studylib.protocol import Protocol, resolve_protocol

__all__ = ["RESPONSE_COLOURS", "ARM_PALETTE", "arm_colours", "GRADE_COLOURS", "ACTION_COLOURS"]

#: One colour per response category (:data:`studylib.vocabulary.BOR_ORDER`).
RESPONSE_COLOURS = {
    "CR": "#009E73",
    "PR": "#56B4E9",
    "SD": "#F0E442",
    "NON-CR/NON-PD": "#E69F00",
    "PD": "#D55E00",
    "NE": "#999999",
    "ND": "#BBBBBB",
    "MISSING": "#DDDDDD",
    # iRECIST (:data:`studylib.vocabulary.IBOR_ORDER`): as the RECIST category it renames;
    # unconfirmed progression in its own colour, confirmed progression as PD.
    "iCR": "#009E73",
    "iPR": "#56B4E9",
    "iSD": "#F0E442",
    "NON-iCR/NON-iUPD": "#E69F00",
    "iUPD": "#CC79A7",
    "iCPD": "#D55E00",
}

#: Colours of the arms, in the protocol's order of ``[[arms]]`` (blue, purple, ...).
ARM_PALETTE = ("#0072B2", "#CC79A7", "#009E73", "#E69F00", "#56B4E9", "#D55E00")


def arm_colours(protocol: Protocol | None = None) -> dict[str, str]:
    """Each arm's colour, by code: the palette in the order of the protocol's ``[[arms]]``.

    >>> arm_colours()
    {'A': '#0072B2', 'B': '#CC79A7'}
    """
    codes = resolve_protocol(protocol).arm_codes
    return dict(zip(codes, ARM_PALETTE, strict=False))


#: One colour per CTCAE grade (0: none), light to dark.
GRADE_COLOURS = {0: "#E8E8E8", 1: "#F0E442", 2: "#E69F00", 3: "#D55E00", 4: "#7B1E00"}
#: One colour per dose decision (:data:`studylib.safety.ACTIONS`), and grey for the slots of a
#: stopped cycle.
ACTION_COLOURS = {"give": "#009E73", "hold": "#E69F00", "stop": "#D55E00", "stopped": "#BBBBBB"}
