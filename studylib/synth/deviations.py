"""The few deliberate protocol deviations of a synthetic cohort, so a deviation report has
something to show.

Everything else the generator writes follows the protocol's schedule rules. Two deviations are
planted, each in one patient, unless the cohort is generated within the rules:

``late_cycle``
    An arm A patient (not crossing over) starts IL-2 cycle 2 one week after the latest Monday
    the protocol allows (cycle interval plus the allowed delay).
``sbrt_weekday``
    An SBRT arm patient with a single fraction receives it on the day before the protocol's
    weekday (scheduled on the Friday, given on the Thursday).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.protocol import Protocol

__all__ = ["KINDS", "choose_deviations", "describe_deviations"]

KINDS = ("late_cycle", "sbrt_weekday")


def choose_deviations(plan: pd.DataFrame, enabled: bool, protocol: Protocol):
    """The row (position in ``plan``) of the patient given each deviation, by kind.

    The earliest enrolled patient who fits is chosen; the demo patient P001 never is. A kind
    with no fitting patient (a very small cohort) is left out.
    """
    if not enabled:
        return {}
    enrolled = plan["outcome"].eq("enrolled").to_numpy()
    not_demo = np.arange(len(plan)) > 0
    arm = plan["arm"].to_numpy()
    numbers = plan["enrollment_number"].to_numpy()
    sbrt_arms = [a.code for a in protocol.arms if a.receives_sbrt]
    single = np.array(
        [n > 0 and protocol.sbrt.fractionation_for(int(n)).fractions == 1 for n in numbers]
    )
    candidates = {
        "late_cycle": enrolled
        & not_demo
        & (arm == protocol.crossover.from_arm)
        & ~plan["crossover"].to_numpy(),
        "sbrt_weekday": enrolled & not_demo & np.isin(arm, sbrt_arms) & single,
    }
    return {kind: int(np.flatnonzero(mask)[0]) for kind, mask in candidates.items() if mask.any()}


def describe_deviations(
    chosen: dict[str, int], plan: pd.DataFrame, timeline: pd.DataFrame
) -> pd.DataFrame:
    """One row per planted deviation: ``patient_id``, ``kind``, ``description``."""
    rows = []
    for kind, row in chosen.items():
        patient = plan["patient_id"].iat[row]
        t = timeline.iloc[row]
        if kind == "late_cycle":
            gap = int(t["cycle_2"] - t["cycle_1"])
            text = (
                f"IL-2 cycle 2 started {gap} days after cycle 1 "
                f"({_iso(t['cycle_2'])}), beyond the latest Monday the protocol allows"
            )
        else:
            text = (
                f"SBRT fraction scheduled on {_iso(t['sbrt_1'])} given a day early, on "
                f"{_iso(t['sbrt_given_1'])}"
            )
        rows.append({"patient_id": patient, "kind": kind, "description": text})
    return pd.DataFrame(rows, columns=["patient_id", "kind", "description"])


def _iso(day) -> str:
    return str(np.datetime64(int(day), "D"))
