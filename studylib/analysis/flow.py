"""Participant flow in CONSORT form: screened, consented, excluded, randomised, analysed.

The boxes are counted from ``screening.csv`` (consent and what happened after screening, with
its reason) and ``randomization.csv`` (arm, crossover); the arms, their names and which arm may
cross over come from the protocol. The registry's results posting (recruitment and
pre-assignment) gives the same stages for the trial: 63 screened, 50 consented, 6 excluded
after consent, 44 enrolled, 20 in arm A of whom 7 crossed over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from studylib.analysis.arms import compared_arms
from studylib.errors import DataError, Problem
from studylib.protocol import Protocol, resolve_protocol

__all__ = ["ParticipantFlow", "participant_flow", "NO_REASON"]

#: Shown for a patient who left the flow without a recorded reason.
NO_REASON = "reason not recorded"


@dataclass(frozen=True)
class ParticipantFlow:
    """The CONSORT boxes of a trial folder.

    Attributes
    ----------
    counts
        Patients at each stage, in flow order: ``screened``, ``not_consented``, ``consented``,
        ``excluded``, ``randomized``, ``arm_<code>`` for each arm of the protocol (bundled:
        ``arm_A``, ``arm_B``), ``crossover``, ``analysed_<code>`` for each arm.
    reasons
        Why patients left the flow: ``stage`` (``not_consented`` or ``excluded``), ``reason``
        (``outcome_reason`` of screening.csv), ``n``, most frequent first.
    patients
        One row per screened patient: ``patient_id``, ``consented``, ``randomized``, ``arm``,
        ``crossover``, ``stage`` (the last box the patient reached), ``reason``.
    protocol
        The protocol whose arms the boxes name.
    """

    counts: dict[str, int]
    reasons: pd.DataFrame
    patients: pd.DataFrame
    protocol: Protocol

    def table(self) -> pd.DataFrame:
        """The boxes as a table: ``stage`` (words), ``n``, ``detail`` (reasons, arm names)."""
        c = self.counts
        detail = {
            stage: "; ".join(
                f"{row.reason} ({row.n})"
                for row in self.reasons[self.reasons["stage"] == stage].itertuples()
            )
            for stage in ("not_consented", "excluded")
        }
        arms = self.protocol.arm_codes
        experimental, comparator = compared_arms(self.protocol)
        crossed = f"crossed over to {self.protocol.arm(experimental).name}"
        rows = [
            ("Assessed for eligibility (screened)", c["screened"], ""),
            ("Did not sign consent", c["not_consented"], detail["not_consented"]),
            ("Signed consent", c["consented"], ""),
            ("Excluded after consent", c["excluded"], detail["excluded"]),
            ("Randomized (enrolled)", c["randomized"], ""),
            *((f"Allocated to arm {a}", c[f"arm_{a}"], self.protocol.arm(a).name) for a in arms),
            (f"Arm {comparator}: {crossed}", c["crossover"], "after progression"),
            *(
                (
                    f"Analysed, arm {a}",
                    c[f"analysed_{a}"],
                    f"crossover patients counted in arm {a}" if a == comparator else "",
                )
                for a in arms
            ),
        ]
        return pd.DataFrame(rows, columns=["stage", "n", "detail"])


def participant_flow(
    screening: pd.DataFrame,
    randomization: pd.DataFrame,
    analysed: Mapping[str, int] | None = None,
    *,
    protocol: Protocol | None = None,
) -> ParticipantFlow:
    """Count the CONSORT boxes.

    Parameters
    ----------
    screening
        ``patient_id``, ``consent_signed`` (boolean; missing means not signed),
        ``screening_outcome``, ``outcome_reason``.
    randomization
        ``patient_id``, ``arm``, ``crossover``.
    analysed
        Patients analysed per arm (``{"A": 20, "B": 24}``), e.g. the ``n`` of the primary
        endpoint's table; default: everyone randomised (intention to treat).
    protocol
        The :class:`~studylib.protocol.Protocol` naming the arms and the arm that may cross
        over (default: the bundled one).

    Returns
    -------
    ParticipantFlow

    Raises
    ------
    DataError
        Listing every randomised patient who did not sign consent or is not in
        ``screening.csv``, and every crossover outside the arm that may cross over.
    """
    protocol = resolve_protocol(protocol)
    consented = screening["consent_signed"].fillna(False).astype(bool)
    patients = pd.DataFrame(
        {"patient_id": screening["patient_id"], "consented": consented.to_numpy()}
    ).merge(randomization[["patient_id", "arm", "crossover"]], on="patient_id", how="left")
    patients["randomized"] = patients["arm"].notna()
    patients["crossover"] = patients["crossover"].fillna(False).astype(bool)
    reason = screening["outcome_reason"].fillna("").astype(str).str.strip()
    patients["reason"] = reason.where(reason != "", NO_REASON).to_numpy()

    problems = [
        Problem(
            "screening.csv",
            None,
            "consent_signed",
            "no",
            "a signed consent for every randomised patient",
            patient_id=patient,
        )
        for patient in patients.loc[patients["randomized"] & ~patients["consented"], "patient_id"]
    ]
    unknown = set(randomization["patient_id"]) - set(screening["patient_id"])
    problems += [
        Problem(
            "randomization.csv",
            None,
            "patient_id",
            patient,
            "a patient listed in screening.csv",
            patient_id=patient,
        )
        for patient in sorted(unknown)
    ]
    may_cross = protocol.crossover.from_arm
    wrong_arm = patients["crossover"] & (patients["arm"] != may_cross)
    problems += [
        Problem(
            "randomization.csv",
            None,
            "crossover",
            "Y",
            f"a crossover only in arm {may_cross}",
            patient_id=patient,
        )
        for patient in patients.loc[wrong_arm, "patient_id"]
    ]
    if problems:
        raise DataError(problems, context="participant flow")

    patients["stage"] = "not_consented"
    patients.loc[patients["consented"], "stage"] = "excluded"
    patients.loc[patients["randomized"], "stage"] = "randomized"
    patients.loc[patients["randomized"], "reason"] = ""
    per_arm = patients.loc[patients["randomized"], "arm"].value_counts()
    arms = protocol.arm_codes
    analysed = dict(analysed) if analysed is not None else {a: per_arm.get(a, 0) for a in arms}
    counts = {
        "screened": len(patients),
        "not_consented": int((~patients["consented"]).sum()),
        "consented": int(patients["consented"].sum()),
        "excluded": int((patients["stage"] == "excluded").sum()),
        "randomized": int(patients["randomized"].sum()),
        **{f"arm_{a}": int(per_arm.get(a, 0)) for a in arms},
        "crossover": int(patients["crossover"].sum()),
        **{f"analysed_{a}": int(analysed.get(a, 0)) for a in arms},
    }
    left = patients[patients["stage"] != "randomized"]
    reasons = (
        left.groupby(["stage", "reason"], sort=False)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["stage", "n", "reason"], ascending=[False, False, True], kind="stable")
        .reset_index(drop=True)
    )
    return ParticipantFlow(counts=counts, reasons=reasons, patients=patients, protocol=protocol)
