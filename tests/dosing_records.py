"""dosing.csv rows built from a plan, for deviation tests."""

from __future__ import annotations

import pandas as pd

#: How late each planned fraction or dose is given: on time, as a ward gives it.
LATE = pd.Timedelta(minutes=10)


def given_as_planned(plan, patient_id: str = "X1") -> pd.DataFrame:
    """dosing.csv rows in which every planned fraction and dose is given on time."""
    events = plan.events[plan.events["event"] != "assessment"]
    dose = [
        f"{amount / 1e6:.1f} MIU" if unit == "IU" else f"{amount:g} Gy"
        for amount, unit in zip(events["amount"], events["unit"], strict=True)
    ]
    return pd.DataFrame(
        {
            "patient_id": patient_id,
            "treatment": events["event"].map({"sbrt_fraction": "sbrt", "il2_dose": "il2"}),
            "cycle": events["cycle"],
            "number": events["number"],
            "scheduled_at": events["planned_at"],
            "given_at": events["planned_at"] + LATE,
            "status": "given",
            "dose": dose,
            "hold_reason": "",
        }
    ).reset_index(drop=True)
