"""Small synthetic lesion/assessment frames for the RECIST tests, written scan by scan."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

START = pd.Timestamp("2024-01-01")


@dataclass
class Patient:
    """One synthetic patient: declare lesions, then scans as ``{lesion_id: value}``.

    A target value is a diameter in mm, ``"too_small"``, or ``None`` (row with nothing
    recorded); a non-target or new value is its state; a tuple is ``(diameter, state)``.
    A lesion left out of a scan has no row at that scan (not evaluated).
    """

    patient_id: str = "P001"
    lesions: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    def lesion(
        self,
        lesion_id,
        role="target",
        *,
        nodal=False,
        site=None,
        irradiated=False,
        irradiated_on=None,
    ) -> Patient:
        self.lesions.append(
            {
                "patient_id": self.patient_id,
                "lesion_id": lesion_id,
                "role": role,
                "site": site or ("lymph node" if nodal else f"organ_{lesion_id}"),
                "nodal": nodal,
                "irradiated": irradiated,
                "irradiated_on": None if irradiated_on is None else day(irradiated_on),
            }
        )
        return self

    def targets(self, *diameters, nodal=()) -> Patient:
        for number, _ in enumerate(diameters, start=1):
            self.lesion(f"T{number}", nodal=number in nodal)
        return self.scan(0, **{f"T{n}": d for n, d in enumerate(diameters, start=1)})

    def scan(self, on_day: int, method=None, pet_avid=None, **values) -> Patient:
        for lesion_id, value in values.items():
            diameter, state = value if isinstance(value, tuple) else (value, None)
            if isinstance(diameter, str):
                diameter, state = None, diameter
            self.rows.append(
                {
                    "patient_id": self.patient_id,
                    "lesion_id": lesion_id,
                    "date": day(on_day),
                    "diameter_mm": diameter,
                    "state": state,
                    "method": method,
                    "pet_avid": pet_avid,
                }
            )
        return self

    def follow(self, on_day: int, *diameters, **others) -> Patient:
        """A scan of the targets T1..Tn (in order) plus other lesions by name."""
        values = {f"T{n}": d for n, d in enumerate(diameters, start=1)}
        return self.scan(on_day, **values, **others)


def day(offset: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=offset)


def frames(*patients: Patient) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lesion and assessment frames of some patients, typed as the loader gives them."""
    lesions = pd.DataFrame([row for p in patients for row in p.lesions])
    lesions["nodal"] = lesions["nodal"].astype("boolean")
    lesions["irradiated"] = lesions["irradiated"].astype("boolean")
    lesions["irradiated_on"] = pd.to_datetime(lesions["irradiated_on"])
    assessments = pd.DataFrame([row for p in patients for row in p.rows])
    assessments["diameter_mm"] = assessments["diameter_mm"].astype(float)
    assessments["pet_avid"] = assessments["pet_avid"].astype("boolean")
    return lesions, assessments


def under_protocol(cohort, protocol):
    """The cohort's data under another protocol: each arm relabelled by its role (the arm
    receiving SBRT to the protocol's experimental arm, the crossover arm to its comparator)."""
    from dataclasses import replace

    from studylib.analysis.arms import compared_arms

    old, new = compared_arms(cohort.protocol), compared_arms(protocol)
    codes = dict(zip(old, new, strict=True))
    randomization = cohort.randomization.assign(arm=cohort.randomization["arm"].map(codes))
    return replace(cohort, randomization=randomization, protocol=protocol)
