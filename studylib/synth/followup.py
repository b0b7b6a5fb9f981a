"""Progression, death and last contact of every enrolled patient (``followup.csv``).

Progression seen on a scan is dated on that scan. Patients without a scanned progression
progress later (or, among long-term survivors, sometimes never). The number of patients alive
five years after randomisation in each arm is the published 5-year overall survival times the
arm's size (26% of arm B, 25% of arm A); they are chosen by response (complete responses
first, then partial, then stable disease), which leaves no real difference between the arms in
progression-free or overall survival. Everyone else dies within five years, after their last
scan and their progression, except one patient lost to follow-up in an arm whose published
percentage needs a censored patient; survivors are last seen shortly before the data cut-off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.protocol import Protocol
from studylib.synth import calendar as cal
from studylib.synth.facts import Flow, TrialFacts, published_arm
from studylib.synth.tumours import SCAN_KEYS
from studylib.wording import whole_days

__all__ = ["follow_cohort"]

_PRIORITY = {"CR": 0, "PR": 2, "SD": 4, "PD": 6}
# Synthetic choice: mean survival after progression (days) by best response.
_SURVIVAL_AFTER_PROGRESSION = {"CR": 600, "PR": 420, "SD": 240, "PD": 150}
_CROSSOVER_RESPONSE_BONUS = 400


def _lost_to_follow_up(arm, died, flow: Flow, facts: TrialFacts, protocol) -> np.ndarray:
    """Patients censored alive before their death, one in each arm whose published 5-year
    survival is not a whole number of its patients (26% of 24 is 6.24).

    The published figure is a Kaplan-Meier estimate, which lies between whole fractions only
    when someone is censored early; losing one early non-survivor (the one dying after a fifth
    of the arm) lifts the estimate from 6/24 = 25% to about 26%.
    """
    lost = np.zeros(len(arm), dtype=bool)
    for code, survivors in flow.survivors.items():
        members = np.flatnonzero((arm == code) & (died != cal.NONE))
        share = facts.five_year_os[published_arm(protocol.arm(code), facts)] * flow.arms[code]
        if abs(share - survivors) < 0.1 or len(members) == 0:
            continue
        order = members[np.argsort(died[members], kind="stable")]
        lost[order[min(len(order) - 1, flow.arms[code] // 5)]] = True
    return lost


def follow_cohort(
    plan: pd.DataFrame,
    timeline: pd.DataFrame,
    flow: Flow,
    facts: TrialFacts,
    rng: np.random.Generator,
    protocol: Protocol,
) -> pd.DataFrame:
    """One row per enrolled patient: ``progressed_on``, ``died_on``, ``last_contact_on``."""
    people = np.flatnonzero(plan["outcome"].eq("enrolled").to_numpy())
    p = plan.iloc[people]
    t = timeline.iloc[people]
    n = len(people)
    bor = p["bor"].to_numpy()
    xo_bor = p["crossover_bor"].to_numpy()
    progress = p["progress_at"].to_numpy()
    dates = np.stack([t[f"scan_{k}"].to_numpy() for k in SCAN_KEYS], axis=1)
    done = np.stack([t[f"did_scan_{k}"].to_numpy() for k in SCAN_KEYS], axis=1)
    last_scan = np.where(done, dates, cal.NONE).max(axis=1)
    cycles = [c for c in t if c.startswith("cycle_")]
    last_cycle = t[cycles].to_numpy().max(axis=1)
    last_seen = np.maximum(last_scan, last_cycle + 7)
    scanned = progress > 0
    progressed = np.where(scanned, dates[np.arange(n), np.maximum(progress, 0)], cal.NONE)

    priority = np.array([_PRIORITY[b] for b in bor], dtype=float)
    xo_rank = np.array([_PRIORITY.get(b, 6) + 1 for b in xo_bor], dtype=float)
    priority = np.where(p["crossover"].to_numpy(), xo_rank, priority) + rng.random(n) * 0.5
    priority[people == 0] -= 1  # the demo patient P001 is the first partial responder to survive
    survivor = np.zeros(n, dtype=bool)
    arm = p["arm"].to_numpy()
    for code, count in flow.survivors.items():
        members = np.flatnonzero(arm == code)
        survivor[members[np.argsort(priority[members], kind="stable")[:count]]] = True

    later = last_seen + rng.integers(30, 300, n)
    progressed = np.where(~scanned & ~survivor, later, progressed)
    late_relapse = survivor & ~scanned & (bor != "CR") & (rng.random(n) < 0.5)
    progressed = np.where(late_relapse, last_seen + rng.integers(60, 700, n), progressed)

    mean = np.array([_SURVIVAL_AFTER_PROGRESSION[b] for b in bor], dtype=float)
    mean += np.where(np.isin(xo_bor, ["CR", "PR"]), _CROSSOVER_RESPONSE_BONUS, 0)
    start = np.maximum(progressed, last_seen) + 14
    randomized = t["randomized_on"].to_numpy()
    death = start + np.round(rng.exponential(mean)).astype(np.int64)
    death = np.minimum(death, randomized + whole_days(protocol.analysis.os_landmark) - 15)
    died = np.where(survivor, cal.NONE, np.maximum(death, start))
    cutoff = cal.day_number(facts.data_cutoff)
    last_contact = np.where(survivor, cutoff - rng.integers(0, 91, n), died)
    lost = _lost_to_follow_up(arm, died, flow, facts, protocol)
    # Last seen no earlier than the progression and the last scan (which may follow it: iRECIST).
    last_contact[lost] = np.maximum.reduce([died[lost] - 30, progressed[lost], last_scan[lost]])
    died[lost] = cal.NONE
    return pd.DataFrame(
        {
            "patient_id": p["patient_id"].to_numpy(),
            "progressed_on": cal.format_dates(progressed),
            "died_on": cal.format_dates(died),
            "last_contact_on": cal.format_dates(last_contact),
        }
    )
