"""Dosing records of a synthetic cohort (``dosing.csv``): SBRT fractions and IL-2 dose slots.

Every IL-2 cycle has the protocol's maximum number of dose slots, one every dose interval from
the cycle's first morning; each slot is ``given`` or ``held``. Most patients do not receive
every dose: a few single doses are held for toxicity, and the cycle is usually stopped early,
after which the remaining slots are held ("cycle stopped after dose slot n: ..."). Why is
written by :mod:`studylib.synth.safety`: the vital signs and laboratory values recorded before
each dose, and the reason the protocol's ``[safety]`` criteria give for them (a protocol without
that section leaves the words "toxicity"). The dose of every slot is the protocol's dose per
kilogram times the weight written at screening, in IU.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib import calendar_rules as rules
from studylib.protocol import Protocol
from studylib.synth import calendar as cal
from studylib.synth.timeline import SBRT_MINUTE, first_dose_minute, max_fractions

__all__ = ["dose_cohort"]

# Synthetic choice: how many dose slots short of the maximum a cycle stops (0 = all slots
# used); later cycles stop one slot earlier. Single holds happen on 5% of slots, at most two.
_SLOTS_SHORT_P = np.array([0.14, 0.12, 0.14, 0.15, 0.13, 0.11, 0.09, 0.07, 0.05])
_SINGLE_HOLD_P = 0.05
_MAX_SINGLE_HOLDS = 2


def _il2(plan, timeline, weight_kg, rng, protocol: Protocol) -> pd.DataFrame:
    il2 = protocol.il2
    slots = il2.max_doses_per_cycle
    per_kg = float(il2.dose_per_kg.to("IU/kg").magnitude)
    patient, cycle, start = [], [], []
    numbers = sorted(int(c.split("_")[1]) for c in timeline if c.startswith("cycle_"))
    for number in numbers:
        day = timeline[f"cycle_{number}"].to_numpy()
        rows = np.flatnonzero(day != cal.NONE)
        patient.append(rows)
        cycle.append(np.full(len(rows), number))
        start.append(day[rows])
    patient, cycle, start = map(np.concatenate, (patient, cycle, start))
    m = len(patient)

    short = rng.choice(len(_SLOTS_SHORT_P), size=m, p=_SLOTS_SHORT_P) + (cycle > 1)
    used = np.clip(slots - short, 1, slots)  # slots before the cycle is stopped
    index = np.arange(slots)[None, :]
    single = (rng.random((m, slots)) < _SINGLE_HOLD_P) & (index >= 1) & (index < used[:, None] - 1)
    single &= np.cumsum(single, axis=1) <= _MAX_SINGLE_HOLDS
    demo = (patient == 0) & (cycle == 1)
    if demo.any() and not single[demo].any():
        single[np.flatnonzero(demo)[0], min(3, max(used[demo][0] - 2, 1))] = True
    stopped = index >= used[:, None]
    # Which slots are held, and after which slot a cycle stopped; the reasons are the dose
    # criteria's own words, which studylib.synth.safety writes from the vitals and labs it
    # records (codes into one table of texts, so 350,000 slots cost little).
    texts = ["", "dose held for toxicity"]
    texts += [f"cycle stopped after dose slot {n}: toxicity" for n in range(1, slots + 1)]
    code = np.where(stopped, 1 + used[:, None], 0)
    code = np.where(single, 1, code)
    reason = np.array(texts, dtype=object)[code]
    held = single | stopped

    first_doses = (start * cal.MINUTES_PER_DAY + first_dose_minute(protocol)).astype(
        "datetime64[m]"
    )
    times = rules.dose_times(first_doses, protocol)["planned_at"].to_numpy()
    scheduled = times.astype("datetime64[m]").astype(np.int64).reshape(m, slots)
    offset = rng.integers(0, 16, m)[:, None]
    given = np.where(held, cal.NONE, scheduled + offset)
    dose = np.array([f"{iu} IU" for iu in _iu(weight_kg * per_kg)], dtype=object)[patient]
    return pd.DataFrame(
        {
            "row": np.repeat(patient, slots),
            "treatment": "il2",
            "cycle": np.repeat(cycle, slots),
            "number": np.tile(np.arange(1, slots + 1), m),
            "minute": scheduled.ravel(),
            "given_minute": given.ravel(),
            "status": np.array(["given", "held"], dtype=object)[held.ravel().astype(int)],
            "dose": np.repeat(dose, slots),
            "hold_reason": reason.ravel(),
        }
    )


def _iu(values: np.ndarray) -> np.ndarray:
    return np.round(values).astype(np.int64)


def _sbrt(plan, timeline, rng, protocol: Protocol) -> pd.DataFrame:
    dose = protocol.sbrt.dose_per_fraction
    dose_text = f"{dose.to('Gy').magnitude:g} Gy"
    frames = []
    courses = (
        ("sbrt_", "sbrt_given_", 1),
        ("xo_sbrt_", "xo_sbrt_", protocol.crossover.first_cycle),
    )
    for scheduled_col, given_col, cycle in courses:
        for k in range(1, max_fractions(protocol) + 1):
            day = timeline[f"{scheduled_col}{k}"].to_numpy()
            rows = np.flatnonzero(day != cal.NONE)
            given_day = timeline[f"{given_col}{k}"].to_numpy()[rows]
            frames.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "treatment": "sbrt",
                        "cycle": cycle,
                        "number": k,
                        "minute": day[rows] * cal.MINUTES_PER_DAY + SBRT_MINUTE,
                        "given_minute": given_day * cal.MINUTES_PER_DAY
                        + SBRT_MINUTE
                        + rng.integers(0, 41, len(rows)),
                        "status": "given",
                        "dose": dose_text,
                        "hold_reason": "",
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def dose_cohort(
    plan: pd.DataFrame,
    timeline: pd.DataFrame,
    weight_kg: np.ndarray,
    rng: np.random.Generator,
    protocol: Protocol,
) -> pd.DataFrame:
    """Every SBRT fraction and IL-2 dose slot, in patient and time order (``dosing.csv``)."""
    frame = pd.concat(
        [_sbrt(plan, timeline, rng, protocol), _il2(plan, timeline, weight_kg, rng, protocol)],
        ignore_index=True,
    )
    frame = frame.sort_values(["row", "minute"], kind="stable", ignore_index=True)
    return pd.DataFrame(
        {
            "patient_id": plan["patient_id"].to_numpy()[frame["row"].to_numpy()],
            "treatment": frame["treatment"].to_numpy(),
            "cycle": frame["cycle"].astype(str).to_numpy(),
            "number": frame["number"].astype(str).to_numpy(),
            "scheduled_at": cal.format_datetimes(frame["minute"].to_numpy()),
            "given_at": cal.format_datetimes(frame["given_minute"].to_numpy()),
            "status": frame["status"].to_numpy(),
            "dose": frame["dose"].to_numpy(),
            "hold_reason": frame["hold_reason"].to_numpy(),
        }
    )
