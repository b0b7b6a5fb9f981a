"""IL-2 (aldesleukin) dose arithmetic: from body weight to the vials a pharmacy prepares.

The registry gives the dose per kilogram of actual body weight; the Proleukin label gives the
product: 22 MIU per single-dose vial, 18 MIU (1.1 mg) per mL after reconstitution. The
international unit has its own dimension in :mod:`studylib.units`, so IU never turns into
milligrams by accident: :func:`iu_to_mg` and :func:`mg_to_iu` are the only way across, and
they use the label's conversion from the protocol's ``[il2.product]``.

References
----------
ClinicalTrials.gov NCT01416831, interventions: "IL-2 will be given on a Monday at a dose of
600,000 IU per kilogram IV every 8 hours for up to 14 doses each cycle."
Proleukin (aldesleukin) label, How supplied / Preparation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

import pandas as pd
import pint

from studylib.protocol import Protocol, resolve_protocol
from studylib.units import format_quantity, parse_quantity

__all__ = ["IL2Dose", "parse_weight", "iu_to_mg", "mg_to_iu", "vials_for", "il2_dose"]

# Room for float error in "dose / vial" (66 MIU / 22 MIU must be 3 vials, not 4).
_VIAL_SLACK = 1e-9


def parse_weight(weight: str | pint.Quantity, protocol: Protocol | None = None) -> pint.Quantity:
    """Read an actual body weight and check it is a weight a person can have.

    Parameters
    ----------
    weight
        Text with its unit (``"72 kg"``, ``"176 lb"``) or a mass Quantity.

    Returns
    -------
    pint.Quantity
        The weight in kilograms.

    Raises
    ------
    ValueError
        When the unit is missing (a bare number), the quantity is not a mass, or the weight
        lies outside the protocol's ``[plausibility]`` weights (30-300 kg in the bundled
        protocol); the message names the valid range.
    """
    plausible = resolve_protocol(protocol).plausibility
    low, high = plausible.weight_min, plausible.weight_max
    valid = (
        f"a body weight from {format_quantity(low)} to {format_quantity(high)} with its unit,"
        " such as '72 kg' or '176 lb'"
    )
    if isinstance(weight, Real) and not isinstance(weight, bool):
        raise ValueError(f"weight {weight!r} has no unit; give {valid}")
    try:
        quantity = parse_quantity(weight, "kg")
    except ValueError as error:
        raise ValueError(f"weight: {error}; give {valid}") from error
    kg = quantity.to("kg")
    if not low <= kg <= high:
        given = weight if isinstance(weight, str) else f"{weight:~P}"
        raise ValueError(
            f"weight {given!r} ({kg.magnitude:.1f} kg) is outside the plausible range; give {valid}"
        )
    return kg


def _check(quantity: pint.Quantity, like: pint.Quantity, expected: str) -> None:
    if not isinstance(quantity, pint.Quantity) or quantity.dimensionality != like.dimensionality:
        shown = f"{quantity:~P}" if isinstance(quantity, pint.Quantity) else repr(quantity)
        raise ValueError(f"{shown} is not {expected}")


def iu_to_mg(activity: pint.Quantity, protocol: Protocol | None = None) -> pint.Quantity:
    """Aldesleukin activity in IU as a mass, by the label's conversion (18 MIU = 1.1 mg).

    Examples
    --------
    >>> round(iu_to_mg(parse_quantity("43.2 MIU")).magnitude, 4)
    2.64
    """
    il2 = resolve_protocol(protocol).il2
    _check(activity, il2.activity_per_mass_iu, "an activity in IU, such as '43.2 MIU'")
    ratio = (activity / il2.activity_per_mass_iu).to("dimensionless").magnitude
    return (ratio * il2.activity_per_mass_mg).to("mg")


def mg_to_iu(mass: pint.Quantity, protocol: Protocol | None = None) -> pint.Quantity:
    """Aldesleukin mass as activity in IU, by the label's conversion (1.1 mg = 18 MIU)."""
    il2 = resolve_protocol(protocol).il2
    _check(mass, il2.activity_per_mass_mg, "a mass, such as '2.64 mg'")
    ratio = (mass / il2.activity_per_mass_mg).to("dimensionless").magnitude
    return (ratio * il2.activity_per_mass_iu).to("IU")


def vials_for(dose: pint.Quantity, protocol: Protocol | None = None) -> int:
    """Whole single-dose vials (``[il2.product].vial_content`` each) needed for one dose;
    leftovers are discarded."""
    per_vial = (dose / resolve_protocol(protocol).il2.vial_content).to("dimensionless").magnitude
    return max(1, math.ceil(per_vial - _VIAL_SLACK))


@dataclass(frozen=True)
class IL2Dose:
    """One IL-2 dose for one patient, in every unit the ward and the pharmacy use.

    Attributes
    ----------
    weight
        Actual body weight, in kg.
    activity
        The dose, 600,000 IU/kg x weight, in IU.
    mass
        The same dose in mg (18 MIU = 1.1 mg).
    volume
        Reconstituted drug to draw up, in mL (18 MIU per mL).
    vials
        Whole 22 MIU vials to prepare per dose.
    """

    weight: pint.Quantity
    activity: pint.Quantity
    mass: pint.Quantity
    volume: pint.Quantity
    vials: int
    protocol: Protocol = field(default_factory=lambda: resolve_protocol(None), repr=False)

    @property
    def iu(self) -> float:
        """The dose in IU."""
        return float(self.activity.to("IU").magnitude)

    @property
    def miu(self) -> float:
        """The dose in million IU."""
        return float(self.activity.to("MIU").magnitude)

    @property
    def mg(self) -> float:
        """The dose in mg."""
        return float(self.mass.to("mg").magnitude)

    @property
    def shown_weight(self) -> str:
        """The weight as the dose was computed from it: ``"82.554 kg"`` (to the gram), so that
        a nurse who multiplies it by the dose per kilogram finds :attr:`shown_iu`."""
        return f"{self.weight.to('kg').magnitude:.3f}".rstrip("0").rstrip(".") + " kg"

    @property
    def shown_iu(self) -> str:
        """The dose in IU to the nearest 1,000 IU, ``"49,532,000 IU"``: the precision the weight
        is shown with (1 g x the dose per kilogram is under 1,000 IU)."""
        return f"{round(self.iu, -3):,.0f} IU"

    def preparation_table(self, doses: int | None = None) -> pd.DataFrame:
        """The dose preparation table: each figure, its unit, and how it was obtained.

        Parameters
        ----------
        doses
            Doses to prepare for (default: a full cycle, ``[il2].max_doses_per_cycle``).

        Returns
        -------
        pandas.DataFrame
            Columns ``item``, ``value`` (float), ``unit``, ``shown`` (rounded for reading) and
            ``rule`` (the protocol or label source of the figure).
        """
        il2 = self.protocol.il2
        doses = il2.max_doses_per_cycle if doses is None else doses
        per_kg = format_quantity(il2.dose_per_kg)
        kg = self.weight.to("kg").magnitude
        rows = [
            ("Body weight", kg, "kg",
             f"{self.shown_weight} ({self.weight.to('lb').magnitude:.1f} lb)",
             "actual body weight (registry: dose per kilogram)"),
            ("Dose per kilogram", il2.dose_per_kg.to("IU/kg").magnitude, "IU/kg", per_kg,
             f"registry: {per_kg} IV every {format_quantity(il2.dose_interval)}"),
            ("Dose", self.iu, "IU", self.shown_iu,
             f"{per_kg} x {self.shown_weight}, to the nearest 1,000 IU"),
            ("Dose", self.miu, "MIU", f"{self.miu:.1f} MIU", "1 MIU = 1,000,000 IU"),
            ("Dose", self.mg, "mg", f"{self.mg:.2f} mg",
             f"label: {format_quantity(il2.activity_per_mass_iu)} ="
             f" {format_quantity(il2.activity_per_mass_mg)}"),
            ("Volume to draw up", self.volume.to("mL").magnitude, "mL",
             f"{self.volume.to('mL').magnitude:.2f} mL",
             f"label: {format_quantity(il2.reconstituted_concentration)} after reconstitution"),
            ("Vials per dose", float(self.vials), "vials",
             f"{self.vials} x {format_quantity(il2.vial_content)}",
             "label: single-dose vials, whole vials, leftovers discarded"),
            ("Doses per cycle", float(doses), "doses", f"up to {doses}",
             f"registry: every {format_quantity(il2.dose_interval)}, up to"
             f" {il2.max_doses_per_cycle} doses each cycle"),
            ("Vials per cycle", float(self.vials * doses), "vials",
             f"{self.vials * doses} vials", f"{self.vials} vials x {doses} doses"),
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["item", "value", "unit", "shown", "rule"])


def il2_dose(weight: str | pint.Quantity, *, protocol: Protocol | None = None) -> IL2Dose:
    """The IL-2 dose for an actual body weight (``[il2].dose_per_kg`` x weight).

    Parameters
    ----------
    weight
        ``"72 kg"``, ``"176 lb"`` or a mass Quantity; see :func:`parse_weight`.
    protocol
        The protocol whose dose and product apply (default: the bundled one).

    Examples
    --------
    >>> dose = il2_dose("72 kg")
    >>> dose.iu, round(dose.miu, 4), round(dose.mg, 4), dose.vials
    (43200000.0, 43.2, 2.64, 2)
    """
    protocol = resolve_protocol(protocol)
    kg = parse_weight(weight, protocol)
    activity = (protocol.il2.dose_per_kg * kg).to("IU")
    volume = (activity / protocol.il2.reconstituted_concentration).to("mL")
    return IL2Dose(
        weight=kg,
        activity=activity,
        mass=iu_to_mg(activity, protocol),
        volume=volume,
        vials=vials_for(activity, protocol),
        protocol=protocol,
    )
