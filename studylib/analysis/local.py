"""SBRT local control by arm: the share of irradiated lesions, and patients, never failing.

Each irradiated lesion's local response is the RECIST engine's
(:func:`studylib.recist.local_control.local_control`, ``[response].reading_local_control``);
this module only counts them per group (``[analysis].local_control_reading``): the
experimental arm (SBRT before IL-2), and the comparator's patients irradiated at crossover
(:mod:`studylib.analysis.arms`).
"""

from __future__ import annotations

import pandas as pd

from studylib.analysis.arms import compared_arms
from studylib.analysis.rates import response_rate

__all__ = ["local_control_by_arm"]


def local_control_by_arm(
    cohort, *, ruleset: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Local control of the irradiated lesions, by arm.

    Parameters
    ----------
    cohort
        A :class:`studylib.data.Cohort` (its ``protocol`` applies).
    ruleset
        Default: the protocol's primary ruleset.

    Returns
    -------
    (table, lesions)
        ``table``: one row per group (the experimental arm; the comparator for its crossover
        patients), indexed by arm code, with
        ``patients``, ``lesions``, ``evaluable`` (lesions with a scan after their reference),
        ``controlled`` (evaluable lesions never failing), ``rate``, ``ci_low``, ``ci_high``
        (exact interval, fractions), ``patients_controlled`` (patients whose evaluable
        irradiated lesions all stayed controlled) and ``patients_evaluable``.
        ``lesions``: the engine's per-lesion summary with ``arm``.
    """
    from studylib.recist.local_control import local_control, local_control_summary

    protocol = cohort.protocol
    per_scan = local_control(cohort.lesions, cohort.assessments, ruleset=ruleset, protocol=protocol)
    summary = local_control_summary(per_scan)
    arms = cohort.randomization.set_index("patient_id")["arm"]
    summary.insert(1, "arm", summary["patient_id"].map(arms).to_numpy())
    rows = []
    experimental, comparator = compared_arms(protocol)
    for arm in (experimental, comparator):
        part = summary[summary["arm"] == arm]
        evaluable = part[part["controlled"].notna()]
        controlled = int(evaluable["controlled"].astype(bool).sum())
        rate = response_rate(controlled, len(evaluable), protocol=protocol)
        by_patient = evaluable.groupby("patient_id")["controlled"].all()
        rows.append(
            {
                "arm": arm,
                "group": protocol.arm(arm).name
                if arm == experimental
                else f"{protocol.arm(arm).name}, after crossover",
                "patients": part["patient_id"].nunique(),
                "lesions": len(part),
                "evaluable": len(evaluable),
                "controlled": controlled,
                "rate": rate.rate,
                "ci_low": rate.ci_low,
                "ci_high": rate.ci_high,
                "patients_evaluable": len(by_patient),
                "patients_controlled": int(by_patient.astype(bool).sum()),
            }
        )
    return pd.DataFrame(rows).set_index("arm"), summary
