"""Named response rulesets (layer 4): ``recist1.1``, ``recist1.0`` and ``protocol``.

The rules themselves live in the protocol file under ``[response.rulesets.*]``, each quoting
the guideline or registry sentence it encodes. This module only looks a ruleset up in a
protocol (``protocol=None``: the bundled one) and turns its quantities into plain millimetres
and percentages for vectorised arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from studylib.protocol import Protocol, Ruleset, resolve_protocol

__all__ = ["Thresholds", "get_ruleset", "thresholds", "ruleset_names"]


@dataclass(frozen=True)
class Thresholds:
    """A ruleset's numbers as floats (millimetres, percent), named as RECIST names them.

    Attributes
    ----------
    name
        The ruleset's name, e.g. ``"recist1.1"``.
    measurable_min_mm
        Smallest longest diameter of a measurable non-nodal lesion (RECIST 1.1 §3.1.1).
    node_measurable_min_mm
        Smallest short axis of a measurable (target-eligible) lymph node.
    node_pathological_min_mm
        Smallest short axis of a pathological node; below it a node is normal, so a node
        under it counts as disappeared for a complete response.
    too_small_default_mm
        Diameter recorded for a lesion present but too small to measure (appendix II).
    pr_change_from_baseline_pct
        Partial response at or below this change of the sum from baseline (negative).
    pd_change_pct
        Progression at or above this change of the sum from the PD reference.
    pd_min_increase_mm
        Progression also needs this absolute increase over the PD reference.
    pd_reference
        ``"nadir"`` (RECIST) or ``"baseline"`` (the registry's wording).
    cr_requires_negative_pet
        Whether a complete response also needs a negative PET at that timepoint.
    """

    name: str
    measurable_min_mm: float
    node_measurable_min_mm: float
    node_pathological_min_mm: float
    too_small_default_mm: float
    pr_change_from_baseline_pct: float
    pd_change_pct: float
    pd_min_increase_mm: float
    pd_reference: str
    cr_requires_negative_pet: bool
    max_targets: int
    max_targets_per_organ: int


def ruleset_names(protocol: Protocol | None = None) -> list[str]:
    """The names of the rulesets defined in the protocol file (default: the bundled one)."""
    return sorted(resolve_protocol(protocol).response.rulesets)


def get_ruleset(ruleset: str | Ruleset | None = None, protocol: Protocol | None = None) -> Ruleset:
    """The ruleset called ``ruleset`` in ``protocol`` (a :class:`Ruleset` is returned unchanged).

    ``None`` gives the protocol's default ruleset (``[response].default_ruleset``). An unknown
    name raises ``ValueError`` listing the names that exist.
    """
    if isinstance(ruleset, Ruleset):
        return ruleset
    return resolve_protocol(protocol).response.ruleset(ruleset)


def thresholds(
    ruleset: str | Ruleset | None = None, protocol: Protocol | None = None
) -> Thresholds:
    """The numbers of a ruleset in millimetres and percent (see :class:`Thresholds`)."""
    rules = get_ruleset(ruleset, protocol)

    def mm(quantity) -> float:
        return float(quantity.to("mm").magnitude)

    return Thresholds(
        name=rules.name,
        measurable_min_mm=mm(rules.measurable_min),
        node_measurable_min_mm=mm(rules.node_measurable_min),
        node_pathological_min_mm=mm(rules.node_pathological_min),
        too_small_default_mm=mm(rules.too_small_default),
        pr_change_from_baseline_pct=float(rules.pr_change_from_baseline),
        pd_change_pct=float(rules.pd_change_from_nadir),
        pd_min_increase_mm=mm(rules.pd_min_increase),
        pd_reference=rules.pd_reference,
        cr_requires_negative_pet=rules.cr_requires_negative_pet,
        max_targets=rules.max_targets,
        max_targets_per_organ=rules.max_targets_per_organ,
    )
