"""Dose delivery: how much of the planned IL-2 each patient received, and why doses were held.

High-dose IL-2 is given "for up to 14 doses each cycle" (registry): most patients receive fewer,
because doses are held and cycles stopped for toxicity. From ``dosing.csv`` this module counts
the doses given per cycle and per course, by arm (median and range), the relative dose intensity
(IU given over the IU the protocol plans: its dose per kilogram times the screening weight,
times the maximum number of doses), and the reasons doses were held.

A course is ``[il2].cycles_in_first_course`` consecutive cycles (cycles 1-2, 3-4, 5-6: the
label's course of two cycles, which the protocol file reads the responder and crossover
cycles as); its planned doses are ``[il2].max_doses_first_course``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.protocol import Protocol, resolve_protocol
from studylib.units import parse_quantities

__all__ = ["DoseDelivery", "dose_delivery", "hold_reason_category", "recorded_action"]

_STOPPED = re.compile(r"^cycle stopped after dose slot \d+:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class DoseDelivery:
    """Dose delivery tables.

    Attributes
    ----------
    cycles
        One row per patient and IL-2 cycle started: ``patient_id``, ``arm``, ``cycle``,
        ``course``, ``planned`` (maximum doses), ``given``, ``held``, ``stopped`` (slots held
        after the cycle was stopped), ``iu_given``, ``iu_planned``, ``rdi`` (percent).
    courses
        One row per patient and course: the same, summed over the course's cycles.
    by_cycle, by_course
        By arm and cycle (or course): ``patients``, doses given ``median``, ``min``, ``max``,
        and relative dose intensity ``rdi_median``, ``rdi_min``, ``rdi_max`` (percent).
    holds
        One row per held IL-2 slot: ``patient_id``, ``arm``, ``cycle``, ``number``, ``kind``
        (``held``: a single dose held; ``stopped``: after the cycle was stopped), ``reason``
        (the category: the criterion's label when the reason names a protocol criterion).
    hold_reasons
        By ``kind``, ``reason`` and ``arm``: ``events`` (doses held, or cycles stopped) and
        ``patients``.
    protocol
        The protocol's name (trial and file).
    """

    cycles: pd.DataFrame
    courses: pd.DataFrame
    by_cycle: pd.DataFrame
    by_course: pd.DataFrame
    holds: pd.DataFrame
    hold_reasons: pd.DataFrame
    protocol: str


def hold_reason_category(reason: str, protocol: Protocol | None = None) -> str:
    """The category of a hold reason: the label of the first ``[safety]`` criterion it names
    (``"REL-HR ..."`` -> ``"Sinus tachycardia (relative)"``), else its first clause.

    >>> hold_reason_category("cycle stopped after dose slot 9: ABS-URINE Urine output ...")
    'Urine output (absolute)'
    >>> hold_reason_category("platelets 42 K/uL")
    'platelets 42 K/uL'
    """
    protocol = resolve_protocol(protocol)
    text = _STOPPED.sub("", str(reason or "").strip())
    if not text:
        return "not recorded"
    if protocol.safety is not None:
        first = text.split(None, 1)[0]
        for c in protocol.safety.criteria:
            if first == c.id:
                return f"{c.label} ({c.kind})"
        if text.startswith(f"{protocol.safety.relative_criteria_to_stop} relative criteria"):
            return "relative criteria at once"
    return re.split(r"[;:(]", text, maxsplit=1)[0].strip()


def recorded_action(dosing: pd.DataFrame) -> pd.Series:
    """What ``dosing.csv`` records for each IL-2 slot, in the decision's words: ``give``
    (given), ``hold`` (held alone), ``stop`` (the first slot held because the cycle was
    stopped), and ``stopped`` for the later slots of a stopped cycle (no decision was made)."""
    reason = dosing["hold_reason"].fillna("").astype(str)
    stopped = (dosing["status"] == "held") & reason.str.match(_STOPPED)
    action = pd.Series("hold", index=dosing.index, dtype=object)
    action[dosing["status"] == "given"] = "give"
    action[stopped] = "stopped"
    first = dosing[stopped].sort_values("number").drop_duplicates(["patient_id", "cycle"]).index
    action[first] = "stop"
    return action


def _summary(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(by, observed=True)
    out = grouped.agg(
        patients=("patient_id", "nunique"),
        median=("given", "median"),
        min=("given", "min"),
        max=("given", "max"),
        rdi_median=("rdi", "median"),
        rdi_min=("rdi", "min"),
        rdi_max=("rdi", "max"),
    )
    return out.reset_index()


def dose_delivery(
    dosing: pd.DataFrame,
    randomization: pd.DataFrame,
    screening: pd.DataFrame,
    *,
    protocol: Protocol | None = None,
) -> DoseDelivery:
    """Doses given per cycle and per course by arm, relative dose intensity and hold reasons.

    Parameters
    ----------
    dosing, randomization, screening
        The frames of a loaded trial folder (:func:`studylib.data.load_cohort`); the planned
        dose uses the screening ``weight``.
    protocol
        The trial's protocol (a folder's ``Cohort.protocol``; default: the bundled one).

    Returns
    -------
    DoseDelivery
    """
    protocol = resolve_protocol(protocol)
    il2 = protocol.il2
    per_cycle, per_course = il2.max_doses_per_cycle, il2.max_doses_first_course
    per_kg = float(il2.dose_per_kg.to("IU/kg").magnitude)
    weight = parse_quantities(screening["weight"], "kg", to="kg")["magnitude"]
    weight.index = screening["patient_id"].to_numpy()
    slots = dosing[dosing["treatment"] == "il2"].copy()
    slots = slots.merge(randomization[["patient_id", "arm"]], on="patient_id", how="inner")
    given = slots["status"] == "given"
    iu = parse_quantities(slots["dose"], "IU", to="IU")["magnitude"].to_numpy()
    slots["iu_given"] = np.where(given, iu, 0.0)
    slots["given"] = given.astype(int)
    reasons = slots["hold_reason"].fillna("").astype(str)
    stopped = recorded_action(slots).isin(["stop", "stopped"])
    slots["stopped"] = stopped.astype(int)
    slots["held"] = (~given & ~stopped).astype(int)
    slots["course"] = (slots["cycle"].astype(int) - 1) // il2.cycles_in_first_course + 1
    keys = ["patient_id", "arm", "course", "cycle"]
    cycles = slots.groupby(keys, observed=True)[["given", "held", "stopped", "iu_given"]].sum()
    cycles = cycles.reset_index()
    planned_dose = cycles["patient_id"].map(weight).to_numpy() * per_kg
    cycles.insert(4, "planned", per_cycle)
    cycles["iu_planned"] = planned_dose * per_cycle
    cycles["rdi"] = 100 * cycles["iu_given"] / cycles["iu_planned"]
    courses = cycles.groupby(["patient_id", "arm", "course"], observed=True)[
        ["given", "held", "stopped", "iu_given"]
    ].sum()
    courses = courses.reset_index()
    courses.insert(3, "planned", per_course)
    courses["iu_planned"] = courses["patient_id"].map(weight).to_numpy() * per_kg * per_course
    courses["rdi"] = 100 * courses["iu_given"] / courses["iu_planned"]
    holds = slots.loc[~given, ["patient_id", "arm", "cycle", "number"]].copy()
    holds["kind"] = np.where(stopped[~given], "stopped", "held")
    holds["reason"] = [hold_reason_category(r, protocol) for r in reasons[~given]]
    # A stopped cycle counts once (its first slot held), a single hold once per slot.
    first = holds.sort_values("number").drop_duplicates(["patient_id", "cycle", "kind"])
    counted = pd.concat([holds[holds["kind"] == "held"], first[first["kind"] == "stopped"]])
    hold_reasons = (
        counted.groupby(["kind", "reason", "arm"], observed=True)
        .agg(events=("number", "size"), patients=("patient_id", "nunique"))
        .reset_index()
        .sort_values(["kind", "events"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
    )
    return DoseDelivery(
        cycles=cycles,
        courses=courses,
        by_cycle=_summary(cycles, ["arm", "cycle"]),
        by_course=_summary(courses, ["arm", "course"]),
        holds=holds.reset_index(drop=True),
        hold_reasons=hold_reasons,
        protocol=protocol.name,
    )
