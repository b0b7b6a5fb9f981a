"""Adverse events by arm, in the layout of ClinicalTrials.gov results.

A results posting reports, for each arm: all-cause mortality, serious adverse events (every
term), other (not serious) adverse events whose frequency exceeds a threshold in at least one
arm, each as participants affected over participants at risk, with the number of events. The
cohort analysis adds the grade >= 3 events by arm and the worst grade per patient.

Participants at risk are the randomised patients who received any protocol treatment, in the
arm they were randomised to (a crossover patient stays in arm A). An event counts when it
starts between the patient's first treatment and ``[safety].adverse_event_window`` after the
last IL-2 dose; a death counts in that window too. The threshold is
``[safety].other_adverse_event_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.protocol import Protocol, resolve_protocol
from studylib.safety.ctcae import CTCAE

__all__ = ["AdverseEventTables", "adverse_event_tables", "at_risk", "as_counts"]


@dataclass(frozen=True)
class AdverseEventTables:
    """The adverse-event tables of a cohort (counts are patients unless named ``events``).

    Attributes
    ----------
    at_risk
        ``arm``, ``arm_name``, ``at_risk``.
    mortality
        ``arm``, ``deaths``, ``at_risk``, ``percent``: deaths in the reporting window.
    serious
        Every serious term: ``soc``, ``term``, ``arm``, ``affected``, ``at_risk``, ``percent``,
        ``events``; and a first row ``Total`` (patients with any serious event).
    other
        Non-serious terms above the threshold in at least one arm, same columns, ``Total`` first.
    grade3
        Terms with a grade 3 or higher event, same columns, ``Total`` first.
    worst_grade
        One row per patient at risk: ``patient_id``, ``arm``, ``worst_grade`` (0: none),
        ``term`` (the term of that grade).
    worst_grade_by_arm
        ``worst_grade`` 0-5 by ``arm``: ``patients``, ``at_risk``, ``percent``.
    not_counted
        Events outside the reporting window or of patients not at risk, as recorded.
    threshold, window
        The protocol's threshold (percent) and reporting window (days), as used.
    """

    at_risk: pd.DataFrame
    mortality: pd.DataFrame
    serious: pd.DataFrame
    other: pd.DataFrame
    grade3: pd.DataFrame
    worst_grade: pd.DataFrame
    worst_grade_by_arm: pd.DataFrame
    not_counted: pd.DataFrame
    threshold: float
    window: float


def at_risk(
    dosing: pd.DataFrame, randomization: pd.DataFrame, *, protocol: Protocol | None = None
) -> pd.DataFrame:
    """The safety population: one row per randomised patient who received any treatment,
    with ``arm`` and the reporting window ``from_date`` (first treatment given) and
    ``to_date`` (last IL-2 dose given plus ``[safety].adverse_event_window``)."""
    protocol = resolve_protocol(protocol)
    window = pd.Timedelta(days=float(protocol.safety.adverse_event_window.to("day").magnitude))
    given = dosing[dosing["status"] == "given"]
    first = given.groupby("patient_id")["given_at"].min().dt.normalize()
    il2 = given[given["treatment"] == "il2"].groupby("patient_id")["given_at"].max()
    last = il2.reindex(first.index).fillna(given.groupby("patient_id")["given_at"].max())
    frame = randomization[["patient_id", "arm"]].merge(
        pd.DataFrame({"from_date": first, "to_date": last.dt.normalize() + window}),
        left_on="patient_id",
        right_index=True,
        how="inner",
    )
    return frame.reset_index(drop=True)


def _per_arm(rows: pd.DataFrame, population: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """Patients affected and events for each row of ``keys`` (``soc``, ``term``) and arm,
    against each arm's patients at risk; zero where no patient had it."""
    n = population.groupby("arm").size().rename("at_risk")
    grouped = rows.groupby(["soc", "term", "arm"], observed=True)
    table = grouped.agg(affected=("patient_id", "nunique"), events=("patient_id", "size"))
    full = keys.merge(pd.DataFrame({"arm": n.index}), how="cross")
    table = full.merge(table.reset_index(), on=["soc", "term", "arm"], how="left")
    table = table.fillna({"affected": 0, "events": 0}).merge(n.reset_index(), on="arm")
    table[["affected", "events"]] = table[["affected", "events"]].astype(int)
    table["percent"] = 100 * table["affected"] / table["at_risk"]
    return table[["soc", "term", "arm", "affected", "at_risk", "percent", "events"]]


def _with_total(rows: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """A ``Total`` row (patients with any of the rows' events) and one row per term."""
    terms = rows[["soc", "term"]].drop_duplicates().sort_values(["soc", "term"])
    total = pd.DataFrame({"soc": [""], "term": ["Total"]})
    return pd.concat(
        [
            _per_arm(rows.assign(soc="", term="Total"), population, total),
            _per_arm(rows, population, terms),
        ],
        ignore_index=True,
    )


def adverse_event_tables(
    adverse_events: pd.DataFrame,
    dosing: pd.DataFrame,
    randomization: pd.DataFrame,
    followup: pd.DataFrame | None = None,
    *,
    protocol: Protocol | None = None,
) -> AdverseEventTables:
    """Adverse events by arm, as ClinicalTrials.gov results report them, with grade >= 3
    events and the worst grade per patient.

    Parameters
    ----------
    adverse_events
        ``adverse_events.csv`` as loaded: ``patient_id``, ``term``, ``grade``, ``start_date``,
        ``serious`` (and the other columns, unused here).
    dosing, randomization, followup
        The trial folder's frames; ``followup.died_on`` gives deaths (optional).
    protocol
        The trial's protocol: its ``[safety]`` window and threshold (default: bundled).

    Returns
    -------
    AdverseEventTables
    """
    protocol = resolve_protocol(protocol)
    rules = protocol.safety
    if rules is None:
        raise ValueError(f"{protocol.name} has no [safety] section: no reporting window")
    population = at_risk(dosing, randomization, protocol=protocol)
    events = adverse_events.merge(population, on="patient_id", how="left")
    start = pd.to_datetime(events["start_date"])
    inside = start.between(events["from_date"], events["to_date"]) & events["arm"].notna()
    counted = events[inside].copy()
    counted["soc"] = [CTCAE.event(t).soc for t in counted["term"]]
    counted["term"] = [CTCAE.event(t).term for t in counted["term"]]
    counted["grade"] = counted["grade"].astype(int)
    serious = counted["serious"].fillna(False).astype(bool)
    threshold = float(rules.other_adverse_event_threshold.to("percent").magnitude)
    other = _with_total(counted[~serious], population)
    frequent = other.loc[(other["percent"] > threshold) & (other["term"] != "Total"), "term"]
    other = _with_total(counted[~serious & counted["term"].isin(frequent)], population)
    deaths = _deaths(counted, followup, population)
    worst = _worst(counted, population)
    arms = population.groupby("arm").size().rename("at_risk").reset_index()
    grid = pd.DataFrame({"worst_grade": range(6)}).merge(arms, how="cross")
    counts = worst.groupby(["worst_grade", "arm"]).size().rename("patients").reset_index()
    by_grade = grid.merge(counts, on=["worst_grade", "arm"], how="left").fillna({"patients": 0})
    by_grade["patients"] = by_grade["patients"].astype(int)
    by_grade["percent"] = 100 * by_grade["patients"] / by_grade["at_risk"]
    by_grade = by_grade[["worst_grade", "arm", "patients", "at_risk", "percent"]]
    arms.insert(1, "arm_name", [protocol.arm(a).name for a in arms["arm"]])
    return AdverseEventTables(
        at_risk=arms,
        mortality=deaths,
        serious=_with_total(counted[serious], population),
        other=other,
        grade3=_with_total(counted[counted["grade"] >= 3], population),
        worst_grade=worst,
        worst_grade_by_arm=by_grade,
        not_counted=adverse_events[~inside.to_numpy()].reset_index(drop=True),
        threshold=threshold,
        window=float(rules.adverse_event_window.to("day").magnitude),
    )


def _deaths(counted, followup, population) -> pd.DataFrame:
    died = set(counted.loc[counted["grade"] == 5, "patient_id"])
    if followup is not None and "died_on" in followup:
        dates = followup.set_index("patient_id")["died_on"]
        window = population.set_index("patient_id")
        on = pd.to_datetime(dates.reindex(window.index))
        inside = on.between(window["from_date"], window["to_date"])
        died |= set(window.index[inside.to_numpy()])
    frame = population.assign(dead=population["patient_id"].isin(died))
    table = frame.groupby("arm").agg(deaths=("dead", "sum"), at_risk=("dead", "size"))
    table = table.reset_index()
    table["percent"] = 100 * table["deaths"] / table["at_risk"]
    return table


def _worst(counted, population) -> pd.DataFrame:
    ranked = counted.sort_values(["grade", "term"], ascending=[False, True], kind="stable")
    top = ranked.drop_duplicates("patient_id").set_index("patient_id")
    worst = population[["patient_id", "arm"]].copy()
    worst["worst_grade"] = worst["patient_id"].map(top["grade"]).fillna(0).astype(int)
    worst["term"] = worst["patient_id"].map(top["term"]).fillna("")
    return worst


def as_counts(table: pd.DataFrame, arm_names: dict[str, str] | None = None) -> pd.DataFrame:
    """A table of :class:`AdverseEventTables` as ClinicalTrials.gov prints it: one row per
    term, one column per arm, cells ``affected/at_risk (percent%)`` and ``events``.

    >>> rows = pd.DataFrame({"soc": ["", ""], "term": ["Total", "Total"], "arm": ["A", "B"],
    ...     "affected": [1, 0], "at_risk": [4, 5], "percent": [25.0, 0.0], "events": [2, 0]})
    >>> as_counts(rows, {"A": "IL-2"}).columns[2:4].tolist()
    ['IL-2: affected/at risk (%)', 'IL-2: events']
    >>> as_counts(rows).iloc[0, 2], as_counts(rows).iloc[0, 4]
    ('1/4 (25.00%)', '0/5 (0.00%)')
    """
    cells = table.assign(
        count=[
            f"{a}/{n} ({p:.2f}%)"
            for a, n, p in zip(table["affected"], table["at_risk"], table["percent"], strict=True)
        ]
    )
    wide = cells.pivot_table(
        index=["soc", "term"],
        columns="arm",
        values=["count", "events"],
        aggfunc="first",
        sort=False,
    )
    names = arm_names or {}
    columns = []
    for arm in dict.fromkeys(cells["arm"]):
        columns += [("count", arm), ("events", arm)]
    wide = wide[columns]
    wide.columns = [
        f"{names.get(arm, arm)}: {'affected/at risk (%)' if what == 'count' else 'events'}"
        for what, arm in columns
    ]
    out = wide.reset_index()
    for column in out.columns:
        if column.endswith("events"):
            out[column] = out[column].astype(np.int64)
    return out
