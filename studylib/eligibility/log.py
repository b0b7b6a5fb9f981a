"""The screening log: how many were screened, how many qualify, and why the others do not.

Built from :func:`studylib.eligibility.screen_cohort`'s result (one row per patient and
criterion), as a trial's screening log reports it (CONSORT: assessed for eligibility,
excluded with reasons). The protocol the results were screened under orders the criteria (the
file's order) and must know every criterion the results name.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib.eligibility.verdicts import PATIENT_STATUSES, explain
from studylib.errors import StudylibError
from studylib.protocol import Protocol, resolve_protocol

__all__ = ["patient_verdicts", "screening_log", "ScreeningLog"]


def _criterion_order(results: pd.DataFrame, protocol: Protocol) -> dict[str, int]:
    """Each criterion id of ``protocol`` by its position in the file.

    Raises
    ------
    StudylibError
        When the results name criteria the protocol does not have (they were screened under
        another protocol file).
    """
    order = {c.id: n for n, c in enumerate(protocol.eligibility.criteria)}
    foreign = [i for i in dict.fromkeys(results["id"]) if i not in order]
    if foreign:
        raise StudylibError(
            f"the screening results name criteria {', '.join(foreign)}, which"
            f" {protocol.name} does not have; pass the protocol they were screened under"
            " (protocol=cohort.protocol)"
        )
    return order


def patient_verdicts(results: pd.DataFrame, *, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per patient: ``status``, the ids ``failed``, ``missing``, ``review`` (comma
    separated, in the protocol file's order) and an ``explanation``.

    ``results`` come from :func:`~studylib.eligibility.screen_cohort` under ``protocol``
    (default: the bundled file).
    """
    _criterion_order(results, resolve_protocol(protocol))
    rows = []
    for patient, group in results.groupby("patient_id", sort=False):
        status = group["overall_status"].iloc[0]
        ids = {s: ", ".join(group.loc[group["status"] == s, "id"]) for s in ("fail", "missing")}
        rows.append(
            {
                "patient_id": patient,
                "status": status,
                "failed": ids["fail"],
                "missing": ids["missing"],
                "review": ", ".join(group.loc[group["status"] == "review", "id"]),
                "explanation": explain(status, group),
            }
        )
    return pd.DataFrame(
        rows, columns=["patient_id", "status", "failed", "missing", "review", "explanation"]
    )


def _by_criterion(
    results: pd.DataFrame, statuses: list[str], order: dict[str, int]
) -> pd.DataFrame:
    chosen = results[results["status"].isin(statuses)]
    table = (
        chosen.groupby(["id", "label", "kind", "status"], sort=False)["patient_id"]
        .agg(patients="count", patient_ids=", ".join)
        .reset_index()
    )
    table = table.assign(_order=table["id"].map(order))
    return table.sort_values(["_order", "status"]).drop(columns="_order").reset_index(drop=True)


@dataclass(frozen=True)
class ScreeningLog:
    """The screening log of a cohort.

    Attributes
    ----------
    summary
        Patients by overall status, with ``screened`` first: columns ``outcome``, ``patients``.
    reasons
        Each criterion that fails for at least one patient: ``id``, ``label``, ``kind``,
        ``patients`` (how many fail it) and ``patient_ids``. A patient can fail several.
    open_items
        The same for criteria that lack data (``missing``) or need ``review``.
    patients
        :func:`patient_verdicts`.
    """

    summary: pd.DataFrame
    reasons: pd.DataFrame
    open_items: pd.DataFrame
    patients: pd.DataFrame

    @property
    def screened(self) -> int:
        """How many patients were screened."""
        return len(self.patients)

    @property
    def eligible(self) -> int:
        """How many are eligible."""
        return int(self.patients["status"].eq("eligible").sum())

    def __str__(self) -> str:
        counts = dict(zip(self.summary["outcome"], self.summary["patients"], strict=True))
        parts = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in PATIENT_STATUSES)
        return f"{self.screened} screened: {parts}."


def screening_log(results: pd.DataFrame, *, protocol: Protocol | None = None) -> ScreeningLog:
    """Summarise :func:`~studylib.eligibility.screen_cohort`'s result as a screening log.

    ``protocol`` is the one the results were screened under (default: the bundled file); its
    criteria order the reasons.

    Raises
    ------
    StudylibError
        When the results name criteria the protocol does not have.
    """
    protocol = resolve_protocol(protocol)
    order = _criterion_order(results, protocol)
    patients = patient_verdicts(results, protocol=protocol)
    counts = patients["status"].value_counts().reindex(list(PATIENT_STATUSES), fill_value=0)
    summary = pd.DataFrame(
        {
            "outcome": ["screened", *PATIENT_STATUSES],
            "patients": [len(patients), *(int(counts[s]) for s in PATIENT_STATUSES)],
        }
    )
    reasons = _by_criterion(results, ["fail"], order).drop(columns="status")
    return ScreeningLog(
        summary=summary,
        reasons=reasons,
        open_items=_by_criterion(results, ["missing", "review"], order),
        patients=patients,
    )
