"""Each patient's course on study, as tidy events for the swimmer and spider plots.

Dates come from the trial folder (``randomization.csv``, ``dosing.csv``, ``followup.csv``) and
from the RECIST engine's timepoint responses; times are converted by the unit registry
(months since randomisation, weeks since the first IL-2 dose).
"""

from __future__ import annotations

import pandas as pd

from studylib.protocol import AnalysisRules, Protocol, resolve_protocol
from studylib.units import Q_

__all__ = ["first_il2_dose", "patient_courses", "response_course"]


def _per_day(unit: str) -> float:
    return float(Q_(1, "day").to(unit).magnitude)


def first_il2_dose(dosing: pd.DataFrame) -> pd.Series:
    """The date of each patient's first IL-2 dose given (the reference of the assessment
    schedule, ``[assessments].reference``), indexed by ``patient_id``."""
    given = dosing[(dosing["treatment"] == "il2") & (dosing["status"] == "given")]
    return given.groupby("patient_id")["given_at"].min().dt.normalize().rename("first_il2_dose")


def patient_courses(
    randomization: pd.DataFrame,
    dosing: pd.DataFrame,
    followup: pd.DataFrame,
    responses: pd.DataFrame | None = None,
    rules: AnalysisRules | None = None,
    *,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Tidy events of every randomised patient's course, for a swimmer plot.

    Parameters
    ----------
    randomization, dosing, followup
        Frames of the trial folder.
    responses
        Timepoint responses (``patient_id``, ``date``, ``overall_response``); scans with a CR
        or PR become events. Optional.
    rules
        The protocol's ``[analysis]`` rules: origin column and time unit (default: those of
        ``protocol``).
    protocol
        The :class:`~studylib.protocol.Protocol`: its ``[crossover].from_arm`` is the arm whose
        first SBRT fraction is a crossover (default: the bundled one).

    Returns
    -------
    DataFrame
        ``patient_id``, ``arm``, ``event``, ``date``, ``months`` and ``weeks`` (since the
        origin), ``label``.
        Events: ``sbrt`` (each fraction given), ``il2_cycle`` (first dose given of each
        cycle), ``CR`` and ``PR`` (scans), ``progression``, ``crossover`` (first SBRT fraction
        of a patient of the crossover arm who crossed over), ``death`` or ``alive`` (last
        contact), and ``follow_up`` (end of the bar: last contact or death).
    """
    protocol = resolve_protocol(protocol)
    rules = rules if rules is not None else protocol.analysis
    base = randomization[["patient_id", "arm", "crossover", rules.survival_origin]].rename(
        columns={rules.survival_origin: "origin"}
    )
    given = dosing[dosing["status"] == "given"]
    sbrt = given[given["treatment"] == "sbrt"]
    cycles = (
        given[given["treatment"] == "il2"].groupby(["patient_id", "cycle"])["given_at"].min()
    ).reset_index()
    parts = [
        pd.DataFrame(
            {
                "patient_id": sbrt["patient_id"],
                "event": "sbrt",
                "date": sbrt["given_at"],
                "label": "SBRT fraction " + sbrt["number"].astype(str),
            }
        ),
        pd.DataFrame(
            {
                "patient_id": cycles["patient_id"],
                "event": "il2_cycle",
                "date": cycles["given_at"],
                "label": "IL-2 cycle " + cycles["cycle"].astype(str),
            }
        ),
    ]
    crossers = base.loc[
        base["crossover"].fillna(False).astype(bool) & (base["arm"] == protocol.crossover.from_arm),
        "patient_id",
    ]
    crossed = sbrt[sbrt["patient_id"].isin(crossers)].groupby("patient_id")["given_at"].min()
    parts.append(
        pd.DataFrame(
            {
                "patient_id": crossed.index,
                "event": "crossover",
                "date": crossed.to_numpy(),
                "label": "crossover: first SBRT fraction",
            }
        )
    )
    if responses is not None:
        hits = responses[responses["overall_response"].isin(["CR", "PR"])]
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": hits["patient_id"],
                    "event": hits["overall_response"],
                    "date": hits["date"],
                    "label": "scan: " + hits["overall_response"],
                }
            )
        )
    progressed = followup.dropna(subset=["progressed_on"])
    died = followup["died_on"].notna()
    parts += [
        pd.DataFrame(
            {
                "patient_id": progressed["patient_id"],
                "event": "progression",
                "date": progressed["progressed_on"],
                "label": "first progression",
            }
        ),
        pd.DataFrame(
            {
                "patient_id": followup["patient_id"],
                "event": died.map({True: "death", False: "alive"}),
                "date": followup["last_contact_on"],
                "label": died.map({True: "death", False: "alive at last contact"}),
            }
        ),
        pd.DataFrame(
            {
                "patient_id": followup["patient_id"],
                "event": "follow_up",
                "date": followup["last_contact_on"],
                "label": "end of follow-up",
            }
        ),
    ]
    events = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    events = events.merge(base[["patient_id", "arm", "origin"]], on="patient_id", how="inner")
    days = (pd.to_datetime(events["date"]).dt.normalize() - events["origin"]).dt.days
    events["months"] = days * _per_day(rules.survival_time_unit)
    events["weeks"] = days * _per_day("week")
    columns = ["patient_id", "arm", "event", "date", "months", "weeks", "label"]
    return events.sort_values(["patient_id", "date"], kind="stable")[columns].reset_index(drop=True)


def response_course(
    responses: pd.DataFrame,
    first_dose: pd.Series,
    arms: pd.Series,
    bor: pd.Series | None = None,
) -> pd.DataFrame:
    """Change in the sum of target diameters by week since the first IL-2 dose (spider plot).

    Parameters
    ----------
    responses
        Timepoint responses (``patient_id``, ``date``, ``pct_change_baseline``).
    first_dose
        First IL-2 dose by patient (:func:`first_il2_dose`).
    arms
        Arm by patient.
    bor
        Best overall response by patient (colour); optional.

    Returns
    -------
    DataFrame
        ``patient_id``, ``arm``, ``date``, ``week``, ``pct_change_baseline``, ``bor``.
    """
    out = responses[["patient_id", "date", "pct_change_baseline"]].copy()
    out["arm"] = out["patient_id"].map(arms)
    days = (out["date"] - out["patient_id"].map(first_dose)).dt.days
    out["week"] = days * _per_day("week")
    out["bor"] = out["patient_id"].map(bor) if bor is not None else "NE"
    columns = ["patient_id", "arm", "date", "week", "pct_change_baseline", "bor"]
    return out.dropna(subset=["arm"])[columns].reset_index(drop=True)
