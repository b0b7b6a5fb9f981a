"""Each IL-2 dose slot with what the criteria said: the bedside view of a patient's cycles.

A slot's observations are the nurse's record before the dose (``vitals.csv``: one row per slot
assessed) and the laboratory's most recent panel drawn before that assessment (``labs.csv``);
the weight gain is judged against the screening weight. :func:`judge_slots` applies the
protocol's ``[safety]`` criteria (:func:`studylib.safety.dose_decisions`) to every slot and
sets the decision beside what ``dosing.csv`` records: a slot given, held, or held because its
cycle was stopped.
"""

from __future__ import annotations

import pandas as pd

from studylib.protocol import Protocol, resolve_protocol
from studylib.safety.decision import DECISION_COLUMNS, dose_decisions
from studylib.safety.delivery import recorded_action

__all__ = ["slot_observations", "judge_slots"]

_SLOT = ["patient_id", "cycle", "number"]


def slot_observations(
    dosing: pd.DataFrame,
    vitals: pd.DataFrame,
    labs: pd.DataFrame,
    screening: pd.DataFrame,
    *,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """One row per IL-2 dose slot of ``dosing.csv``, with its recorded status and the
    observations the criteria read.

    Parameters
    ----------
    dosing, vitals, labs, screening
        The trial folder's frames (``labs`` and ``vitals`` may be empty).
    protocol
        Whose criteria name the observations (default: the bundled protocol).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``cycle``, ``number``, ``scheduled_at``, ``status``, ``hold_reason``,
        ``recorded`` (:func:`studylib.safety.delivery.recorded_action`), ``assessed`` (the
        slot has a ``vitals.csv`` row), ``measured_at``, ``labs_at`` (the panel used), then
        one column per observation of ``protocol.safety.observations`` that the files hold
        (``baseline_weight`` is the screening weight).
    """
    protocol = resolve_protocol(protocol)
    keys = set(protocol.safety.observations) if protocol.safety else set()
    slots = dosing[dosing["treatment"] == "il2"].copy()
    slots["recorded"] = recorded_action(slots)
    slots = slots[[*_SLOT, "scheduled_at", "status", "hold_reason", "recorded"]]
    taken = [c for c in vitals.columns if c in keys]
    vital = vitals[[*_SLOT, "measured_at", *taken]]
    frame = slots.merge(vital, on=_SLOT, how="left", indicator="assessed")
    frame["assessed"] = frame["assessed"] == "both"
    frame["when"] = frame["measured_at"].fillna(frame["scheduled_at"])
    lab_columns = [c for c in labs.columns if c in keys and c not in taken]
    panels = labs[["patient_id", "collected_at", *lab_columns]].rename(
        columns={"collected_at": "labs_at"}
    )
    frame = frame.sort_values("when", kind="stable")
    panels = panels.dropna(subset=["labs_at"]).sort_values("labs_at", kind="stable")
    frame = pd.merge_asof(
        frame, panels, left_on="when", right_on="labs_at", by="patient_id", direction="backward"
    )
    if "baseline_weight" in keys:
        weight = screening.set_index("patient_id")["weight"]
        frame["baseline_weight"] = frame["patient_id"].map(weight)
    frame = frame.drop(columns=["when"]).sort_values(_SLOT, kind="stable")
    return frame.reset_index(drop=True)


def judge_slots(
    dosing: pd.DataFrame,
    vitals: pd.DataFrame,
    labs: pd.DataFrame,
    screening: pd.DataFrame,
    *,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Every IL-2 dose slot with the decision the criteria give and what was recorded.

    Returns
    -------
    pandas.DataFrame
        :func:`slot_observations`, plus ``action``, ``criteria_met``, ``reasons`` and
        ``not_judged`` (:func:`studylib.safety.dose_decisions`; empty for a slot without a
        ``vitals.csv`` row: after a cycle is stopped no dose is judged) and ``agrees``
        (the decision is what was recorded; ``<NA>`` when the slot was not assessed).
    """
    protocol = resolve_protocol(protocol)
    frame = slot_observations(dosing, vitals, labs, screening, protocol=protocol)
    judged = dose_decisions(frame[frame["assessed"]], protocol=protocol)
    frame = frame.join(judged)
    frame[DECISION_COLUMNS] = frame[DECISION_COLUMNS].fillna("")
    agrees = pd.array(frame["action"] == frame["recorded"], dtype="boolean")
    agrees[~frame["assessed"].to_numpy()] = pd.NA
    frame["agrees"] = agrees
    return frame
