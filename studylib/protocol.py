"""The protocol of NCT01416831 as frozen data, read from ``protocol.toml``.

The TOML file beside this module is the only place where the trial's rules and numbers are
written. :func:`load_protocol` parses a protocol file, turns every quantity into a pint
Quantity from :mod:`studylib.units`, checks that the numbers are in range, and returns a
:class:`Protocol` of frozen dataclasses.

The protocol is an argument: every public engine function takes ``protocol=`` and passes it
down; ``None`` means the bundled file (:func:`resolve_protocol`). A trial folder may carry its
own ``protocol.toml`` (:func:`protocol_for_folder`), which :func:`studylib.data.load_cohort`
returns as ``Cohort.protocol``. No engine hard-codes a dose, a threshold or a day count.

References
----------
ClinicalTrials.gov NCT01416831, legacy XML processed 29 May 2018 (interventions, eligibility,
outcomes); Eisenhauer et al. 2009 (RECIST 1.1); Proleukin label.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any

import pint

from studylib.errors import ProtocolError
from studylib.units import parse_quantity

__all__ = [
    "Arm",
    "Fractionation",
    "IL2Rules",
    "SBRTRules",
    "CrossoverRules",
    "Timepoint",
    "AssessmentRules",
    "Criterion",
    "EligibilityRules",
    "Ruleset",
    "IRecistRules",
    "ResponseRules",
    "Plausibility",
    "AnalysisRules",
    "SafetyCriterion",
    "SafetyRules",
    "Protocol",
    "ProtocolError",
    "load_protocol",
    "resolve_protocol",
    "protocol_for_folder",
    "PROTOCOL_FILENAME",
    "PROTOCOL",
    "WEEKDAYS",
]

#: The name of a trial folder's own protocol file.
PROTOCOL_FILENAME = "protocol.toml"

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Arm:
    """A randomised arm (registry: arm groups)."""

    code: str
    name: str
    receives_sbrt: bool
    quote: str


@dataclass(frozen=True)
class Fractionation:
    """How many SBRT fractions an enrollment-number range receives, and on which weekdays."""

    first_enrollment_number: int
    last_enrollment_number: int | None
    fractions: int
    weekdays: tuple[str, ...]
    quote: str

    def covers(self, enrollment_number: int) -> bool:
        """Whether this rule applies to ``enrollment_number``."""
        upper = self.last_enrollment_number
        return enrollment_number >= self.first_enrollment_number and (
            upper is None or enrollment_number <= upper
        )


@dataclass(frozen=True)
class IL2Rules:
    """High-dose IL-2 (aldesleukin) dosing and cycle timing."""

    dose_per_kg: pint.Quantity
    dose_interval: pint.Quantity
    start_weekday: str
    max_doses_per_cycle: int
    max_doses_first_course: int
    cycles_in_first_course: int
    additional_cycles_for_responders: int
    cycle_interval: pint.Quantity
    allowed_delay: pint.Quantity
    vial_content: pint.Quantity
    activity_per_mass_iu: pint.Quantity
    activity_per_mass_mg: pint.Quantity
    reconstituted_concentration: pint.Quantity
    first_dose_time: time
    dose_tolerance: pint.Quantity
    quote: str
    reading: str
    readings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SBRTRules:
    """Stereotactic body radiation: dose, fractionation and the sites that may be treated."""

    dose_per_fraction: pint.Quantity
    max_treated_sites: int
    max_site_diameter: pint.Quantity
    last_fraction_weekday: str
    fractionation: tuple[Fractionation, ...]
    amenable_sites: tuple[str, ...]
    not_amenable_sites: tuple[str, ...]
    quote: str
    sites_quote: str
    #: Site names that are lymph nodes (measured by short axis; one RECIST organ).
    nodal_sites: tuple[str, ...] = ()

    def fractionation_for(self, enrollment_number: int) -> Fractionation:
        """The fractionation rule for an enrollment number (1-20: one, 21 on: two)."""
        for rule in self.fractionation:
            if rule.covers(enrollment_number):
                return rule
        first = min(rule.first_enrollment_number for rule in self.fractionation)
        raise ValueError(
            f"enrollment number {enrollment_number} is not valid; numbers start at {first}"
        )


@dataclass(frozen=True)
class CrossoverRules:
    """SBRT and two more IL-2 cycles for arm A patients who progress after cycle 2."""

    from_arm: str
    after_cycle: int
    first_cycle: int
    cycles: int
    response_assessment_after: pint.Quantity
    quote: str
    reading: str
    #: The registry's words for the crossover response's time frame (empty when not given).
    response_quote: str = ""


@dataclass(frozen=True)
class Timepoint:
    """A planned tumour assessment, in weeks from the first IL-2 dose."""

    name: str
    week: int
    purpose: str
    primary: bool = False


@dataclass(frozen=True)
class AssessmentRules:
    """Imaging schedule: baseline window, timepoints and their allowed delay."""

    baseline_within: pint.Quantity
    window: pint.Quantity
    timepoints: tuple[Timepoint, ...]
    quote: str
    reading: str
    #: ``[assessments].registry``: whether the registry gives the scan weeks (false when the
    #: schedule is a reading, as for NCT02306954, whose record gives none).
    registry: bool = True


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion in the registry's order, with its words.

    ``options`` holds the criterion's other entries, the data its evaluator reads (a sister
    trial's ``subtypes = ["clear_cell"]``, an agreement's ``field``).
    """

    id: str
    kind: str
    rule: str
    quote: str
    reading: str = ""
    label: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EligibilityRules:
    """The eligibility criteria and their thresholds (registry: Eligibility)."""

    criteria: tuple[Criterion, ...]
    minimum_age: pint.Quantity
    max_ecog: int
    pregnancy_test_window: pint.Quantity
    pft_exclusion_below: pint.Quantity
    pft_review_below: pint.Quantity
    wbc_min: pint.Quantity
    hgb_min: pint.Quantity
    transaminase_max_x_uln: float
    bilirubin_max: pint.Quantity
    creatinine_max: pint.Quantity
    reading_units: str
    reading_comparisons: str
    plausible_max: dict[str, pint.Quantity] = field(default_factory=dict)

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id (``"EXCL08"``)."""
        for item in self.criteria:
            if item.id == criterion_id:
                return item
        raise KeyError(criterion_id)


@dataclass(frozen=True)
class Ruleset:
    """A named set of response rules: ``recist1.1``, ``recist1.0`` or ``protocol``."""

    name: str
    source: str
    max_targets: int
    max_targets_per_organ: int
    measurable_min: pint.Quantity
    node_measurable_min: pint.Quantity
    node_pathological_min: pint.Quantity
    too_small_default: pint.Quantity
    pr_change_from_baseline: float
    pd_change_from_nadir: float
    pd_min_increase: pint.Quantity
    pd_reference: str
    cr_requires_negative_pet: bool
    quotes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IRecistRules:
    """iRECIST (Seymour et al., Lancet Oncol 2017): RECIST 1.1 with progression confirmed.

    ``[response.irecist]`` of the protocol file: the ruleset whose measurements and thresholds
    apply (``base_ruleset``), the further increase that confirms progression, the limits on new
    target lesions and the window in which a scan confirms.
    """

    source: str
    base_ruleset: str
    confirm_min_increase: pint.Quantity
    new_target_max: int
    new_target_max_per_organ: int
    confirmation_window_min: pint.Quantity
    confirmation_window_max: pint.Quantity
    quotes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseRules:
    """How tumour response is judged, and when."""

    default_ruleset: str
    primary_ruleset: str
    exclude_irradiated: bool
    primary_timepoint_week: int
    crossover_timepoint_week: int
    sd_min_interval: pint.Quantity
    confirmation_interval: pint.Quantity
    max_ne_between: int
    rulesets: dict[str, Ruleset]
    quote: str
    reading: str
    readings: dict[str, str] = field(default_factory=dict)
    #: ``[response.irecist]``; ``None`` when the protocol file has no such section.
    irecist: IRecistRules | None = None

    def ruleset(self, name: str | None = None) -> Ruleset:
        """The ruleset called ``name`` (default: the protocol's default ruleset)."""
        key = name or self.default_ruleset
        if key not in self.rulesets:
            raise ValueError(f"unknown ruleset {key!r}; choose one of {sorted(self.rulesets)}")
        return self.rulesets[key]


@dataclass(frozen=True)
class Plausibility:
    """Limits outside which an entered value is a typing error, not a patient."""

    weight_min: pint.Quantity
    weight_max: pint.Quantity
    ecog_max: int
    max_age: pint.Quantity
    #: The loader's limits; each is optional, so that an older trial folder's protocol.toml
    #: still loads (the loader then warns that the limit is not checked).
    earliest_date: date | None = None
    il2_dose_max: pint.Quantity | None = None
    sbrt_dose_max: pint.Quantity | None = None
    lesion_diameter_max: pint.Quantity | None = None
    reading: str = ""


@dataclass(frozen=True)
class AnalysisRules:
    """How the cohort is analysed (``[analysis]``): the paper's methods were not available."""

    confidence_level: float
    rate_interval: str
    comparison: str
    comparison_alternative: str
    secondary_alternative: str
    responders: tuple[str, ...]
    disease_control: tuple[str, ...]
    counted_as_sd: tuple[str, ...]
    not_evaluable: tuple[str, ...]
    primary_excludes_crossover: bool
    survival_origin: str
    survival_time_unit: str
    os_landmark: pint.Quantity
    readings: dict[str, str] = field(default_factory=dict)


def _analysis(r: _Reader) -> AnalysisRules:
    s = r.data["analysis"]
    level = float(r.get(s, "confidence_level", "analysis"))
    if not 0 < level < 1:
        raise ProtocolError(f"{r.path}: [analysis].confidence_level must lie between 0 and 1")
    return AnalysisRules(
        confidence_level=level,
        rate_interval=r.get(s, "rate_interval", "analysis"),
        comparison=r.get(s, "comparison", "analysis"),
        comparison_alternative=r.get(s, "comparison_alternative", "analysis"),
        secondary_alternative=r.get(s, "secondary_alternative", "analysis"),
        responders=tuple(r.get(s, "responders", "analysis")),
        disease_control=tuple(r.get(s, "disease_control", "analysis")),
        counted_as_sd=tuple(r.get(s, "counted_as_sd", "analysis")),
        not_evaluable=tuple(r.get(s, "not_evaluable", "analysis")),
        primary_excludes_crossover=bool(r.get(s, "primary_excludes_crossover", "analysis")),
        survival_origin=r.get(s, "survival_origin", "analysis"),
        survival_time_unit=r.get(s, "survival_time_unit", "analysis"),
        os_landmark=r.quantity(s, "os_landmark", "analysis", "[time]"),
        readings={k: v.strip() for k, v in s.items() if k.endswith(("reading", "source"))},
    )


#: How a safety criterion acts on the next IL-2 dose, by its kind ([safety].criteria.kind).
SAFETY_ACTIONS = {"relative": "hold", "withhold": "hold", "absolute": "stop", "discontinue": "stop"}
_SAFETY_BOUNDS = ("at_least", "above", "below", "at_most")


@dataclass(frozen=True)
class SafetyCriterion:
    """One dose-hold or dose-stop criterion (``[[safety.criteria]]``), quoted from its source.

    ``kind`` is ``relative`` or ``withhold`` (hold the dose) or ``absolute`` or ``discontinue``
    (stop the cycle). The bounds are inclusive as named: ``at_least`` (>=), ``above`` (>),
    ``below`` (<), ``at_most`` (<=); a yes/no observation has ``when`` instead. With
    ``change_from``, the bounds apply to the percent change from that observation.
    """

    id: str
    label: str
    observation: str
    kind: str
    source: str
    quote: str
    registry: bool
    at_least: pint.Quantity | None = None
    above: pint.Quantity | None = None
    below: pint.Quantity | None = None
    at_most: pint.Quantity | None = None
    when: bool | None = None
    change_from: str = ""
    reading: str = ""

    @property
    def action(self) -> str:
        """``"hold"`` or ``"stop"``."""
        return SAFETY_ACTIONS[self.kind]

    @property
    def bounds(self) -> dict[str, pint.Quantity]:
        """The bounds that are set, by name, in the order at_least, above, below, at_most."""
        return {n: getattr(self, n) for n in _SAFETY_BOUNDS if getattr(self, n) is not None}


@dataclass(frozen=True)
class SafetyRules:
    """Give, hold or stop the next IL-2 dose (``[safety]``): not from the registry."""

    criteria: tuple[SafetyCriterion, ...]
    relative_criteria_to_stop: int
    relative_to_stop_source: str
    relative_to_stop_quote: str
    sources: dict[str, str]
    reading: str
    #: Adverse events and deaths count from the first treatment to this long after the last
    #: IL-2 dose.
    adverse_event_window: pint.Quantity
    #: Other (not serious) adverse events are reported when their frequency in an arm
    #: exceeds this (ClinicalTrials.gov results).
    other_adverse_event_threshold: pint.Quantity
    readings: dict[str, str] = field(default_factory=dict)

    @property
    def observations(self) -> tuple[str, ...]:
        """Every observation a criterion reads (with baselines), in the file's order, once."""
        keys = [k for c in self.criteria for k in (c.observation, c.change_from) if k]
        return tuple(dict.fromkeys(keys))

    def criterion(self, criterion_id: str) -> SafetyCriterion:
        """The criterion with this id (``"REL-HR"``)."""
        for item in self.criteria:
            if item.id == criterion_id:
                return item
        raise KeyError(criterion_id)


def _safety_criterion(r: _Reader, c: dict[str, Any], i: int, sources: dict) -> SafetyCriterion:
    where = f"safety.criteria #{i + 1}"
    kind = r.get(c, "kind", where)
    if kind not in SAFETY_ACTIONS:
        raise r.fail(where, f"kind = {kind!r}: expected one of {', '.join(SAFETY_ACTIONS)}")
    if c.get("registry") is not False:
        raise r.fail(where, "registry: expected false (these criteria are not from the registry)")
    source = r.get(c, "source", where)
    if source not in sources:
        raise r.fail(where, f"source = {source!r}: expected a key of [safety.sources]")
    change_from = c.get("change_from", "")
    dim = "percent" if change_from else None
    bounds = {n: r.quantity(c, n, where, dim, zero=True) for n in _SAFETY_BOUNDS if n in c}
    when = c.get("when")
    if (when is None) == (not bounds) or (when is not None and not isinstance(when, bool)):
        raise r.fail(where, "expected bounds (at_least, above, below, at_most) or when = true")
    units = {str(q.dimensionality) for q in bounds.values()}
    if len(units) > 1:
        raise r.fail(where, "the bounds must be in one kind of unit")
    low = [q for n, q in bounds.items() if n in ("at_least", "above")]
    high = [q for n, q in bounds.items() if n in ("below", "at_most")]
    if len(low) > 1 or len(high) > 1 or (low and high and low[0] >= high[0]):
        raise r.fail(where, "expected at most one lower and one upper bound, the lower below")
    criterion = SafetyCriterion(
        id=r.get(c, "id", where),
        label=r.get(c, "label", where),
        observation=r.get(c, "observation", where),
        kind=kind,
        source=sources[source],
        quote=r.get(c, "quote", where),
        registry=False,
        when=when,
        change_from=change_from,
        reading=c.get("reading", "").strip(),
        **bounds,
    )
    if not criterion.quote.strip() or not criterion.observation.isidentifier():
        raise r.fail(where, "expected the source's quote and an observation name")
    return criterion


def _safety(r: _Reader) -> SafetyRules:
    s = r.data["safety"]
    if s.get("registry") is not False:
        raise r.fail("safety", "registry: expected false (no dose rules are in the registry)")
    sources = {k: v.strip() for k, v in r.get(s, "sources", "safety").items() if k != "source"}
    criteria = tuple(
        _safety_criterion(r, c, i, sources) for i, c in enumerate(r.get(s, "criteria", "safety"))
    )
    ids = [c.id for c in criteria]
    if not criteria or len(set(ids)) != len(ids):
        raise r.fail("safety", "criteria: expected at least one criterion, each id once")
    kinds: dict[str, str] = {}
    for c in criteria:
        if c.when is not None:
            kind = "yes/no"
        elif c.change_from:
            kind = f"change from {c.change_from}"
        else:
            kind = str(next(iter(c.bounds.values())).dimensionality)
        if kinds.setdefault(c.observation, kind) != kind:
            raise r.fail(f"safety.criteria {c.id}", f"{c.observation}: expected one kind of unit")
    threshold = s.get("other_adverse_event_threshold", "")
    if threshold and parse_quantity(threshold, "percent").to("percent").magnitude >= 100:
        raise r.fail("safety", "other_adverse_event_threshold: expected less than 100 %")
    source = r.get(s, "relative_to_stop_source", "safety")
    if source not in sources:
        raise r.fail("safety", f"relative_to_stop_source = {source!r}: not in [safety.sources]")
    return SafetyRules(
        criteria=criteria,
        relative_criteria_to_stop=r.count(s, "relative_criteria_to_stop", "safety", 1, 50),
        relative_to_stop_source=sources[source],
        relative_to_stop_quote=r.get(s, "relative_to_stop_quote", "safety"),
        sources=sources,
        reading=r.get(s, "reading", "safety").strip(),
        adverse_event_window=r.quantity(s, "adverse_event_window", "safety", "[time]"),
        other_adverse_event_threshold=r.quantity(
            s, "other_adverse_event_threshold", "safety", "percent", zero=True
        ),
        readings={k: v.strip() for k, v in s.items() if k.endswith(("reading", "registry_quote"))},
    )


@dataclass(frozen=True)
class Protocol:
    """The whole protocol: trial facts, arms, treatment, assessments, eligibility, response."""

    trial: dict[str, Any]
    randomization_ratio: str
    arms: tuple[Arm, ...]
    il2: IL2Rules
    sbrt: SBRTRules
    crossover: CrossoverRules
    assessments: AssessmentRules
    eligibility: EligibilityRules
    response: ResponseRules
    plausibility: Plausibility
    analysis: AnalysisRules
    #: Where the protocol was read from, as shown in messages; not part of its content, so two
    #: copies of one file compare equal.
    path: str = field(compare=False)
    #: SHA-256 of the file's bytes: the batch manifest records it, notebooks show it.
    sha256: str = field(default="", compare=False)
    #: Dose-hold and dose-stop criteria (``[safety]``, not from the registry); ``None`` for a
    #: protocol file without that section.
    safety: SafetyRules | None = None
    #: The file as read, so that a copy can be written beside the data it governs.
    source_text: str = field(default="", compare=False, repr=False)

    @property
    def name(self) -> str:
        """``"NCT01416831 (studylib/protocol.toml)"``: the trial and the file, for reports."""
        return f"{self.trial.get('nct_id', 'protocol')} ({self.path})"

    @property
    def headline(self) -> str:
        """The trial a notebook shows, from ``[trial]`` and ``[[arms]]``: registry number,
        title and arms (``"NCT01416831: Phase II ... Melanoma. Arms: A IL-2 monotherapy; B
        SBRT + IL-2."``), never typed for one trial."""
        arms = "; ".join(f"{arm.code} {arm.name}" for arm in self.arms)
        return (
            f"{self.trial.get('nct_id', 'protocol')}: {self.trial.get('title', '')}. Arms: {arms}."
        )

    @property
    def arm_codes(self) -> tuple[str, ...]:
        """The arms' codes in the file's order."""
        return tuple(arm.code for arm in self.arms)

    def arm(self, code: str) -> Arm:
        """The arm with this code; a ``ValueError`` names the valid codes."""
        for arm in self.arms:
            if arm.code == code:
                return arm
        valid = " or ".join(repr(a.code) for a in self.arms)
        raise ValueError(f"arm {code!r} does not exist; use {valid}")


class _Reader:
    """Reads sections of the TOML mapping and remembers where each value came from."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def get(self, section: dict[str, Any], key: str, where: str) -> Any:
        if key not in section:
            raise ProtocolError(f"{self.path}: [{where}] has no entry {key!r}")
        return section[key]

    def quantity(
        self, section: dict[str, Any], key: str, where: str, dim: str, *, zero: bool = False
    ) -> pint.Quantity:
        """A quantity with a unit of ``dim``, above zero (or zero, when ``zero`` allows it)."""
        text = self.get(section, key, where)
        try:
            value = parse_quantity(text, dim)
        except ValueError as error:
            raise ProtocolError(f"{self.path}: [{where}].{key}: {error}") from error
        if value.magnitude == 0 and not zero:
            raise ProtocolError(f"{self.path}: [{where}].{key} = {text!r}: expected more than 0")
        return value

    def fail(self, where: str, message: str) -> ProtocolError:
        return ProtocolError(f"{self.path}: [{where}] {message}")

    def count(self, section: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
        value = self.get(section, key, where)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ProtocolError(
                f"{self.path}: [{where}].{key} = {value!r}: expected a whole number {low}-{high}"
            )
        return value

    def weekday(self, section: dict[str, Any], key: str, where: str) -> str:
        value = self.get(section, key, where)
        if value not in WEEKDAYS:
            raise ProtocolError(f"{self.path}: [{where}].{key} = {value!r}: not a weekday")
        return value


def _il2(r: _Reader) -> IL2Rules:
    s = r.data["il2"]
    p = r.get(s, "product", "il2")
    q = r.quantity
    rules = IL2Rules(
        dose_per_kg=q(s, "dose_per_kg", "il2", "[biological_activity]/[mass]"),
        dose_interval=q(s, "dose_interval", "il2", "[time]"),
        start_weekday=r.weekday(s, "start_weekday", "il2"),
        max_doses_per_cycle=r.count(s, "max_doses_per_cycle", "il2", 1, 100),
        max_doses_first_course=r.count(s, "max_doses_first_course", "il2", 1, 200),
        cycles_in_first_course=r.count(s, "cycles_in_first_course", "il2", 1, 10),
        additional_cycles_for_responders=r.count(
            s, "additional_cycles_for_responders", "il2", 0, 20
        ),
        cycle_interval=q(s, "cycle_interval", "il2", "[time]"),
        allowed_delay=q(s, "allowed_delay", "il2", "[time]", zero=True),
        vial_content=q(p, "vial_content", "il2.product", "[biological_activity]"),
        activity_per_mass_iu=q(p, "activity_per_mass_iu", "il2.product", "[biological_activity]"),
        activity_per_mass_mg=q(p, "activity_per_mass_mg", "il2.product", "[mass]"),
        reconstituted_concentration=q(
            p, "reconstituted_concentration", "il2.product", "[biological_activity]/[volume]"
        ),
        first_dose_time=_time_of_day(r, s, "first_dose_time", "il2"),
        dose_tolerance=q(s, "dose_tolerance", "il2", "percent", zero=True),
        quote=r.get(s, "quote", "il2"),
        reading=r.get(s, "reading", "il2").strip(),
        readings={k: v.strip() for k, v in s.items() if k.endswith("_reading")},
    )
    if rules.max_doses_first_course > rules.max_doses_per_cycle * rules.cycles_in_first_course:
        raise ProtocolError(f"{r.path}: [il2] allows more doses per course than its cycles hold")
    if rules.cycle_interval.to("day").magnitude % 7:
        raise ProtocolError(f"{r.path}: [il2].cycle_interval must keep cycles on the same weekday")
    if rules.dose_tolerance.to("percent").magnitude >= 100:
        raise r.fail("il2", "dose_tolerance: expected less than 100 %")
    if rules.dose_interval * rules.max_doses_per_cycle > rules.cycle_interval:
        raise r.fail("il2", "a cycle's doses, at dose_interval, must fit in cycle_interval")
    return rules


def _time_of_day(r: _Reader, section: dict[str, Any], key: str, where: str) -> time:
    value = r.get(section, key, where)
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise ProtocolError(
            f"{r.path}: [{where}].{key} = {value!r}: expected a time of day such as '08:00'"
        ) from error


def _sbrt(r: _Reader) -> SBRTRules:
    s = r.data["sbrt"]
    fractionation = []
    for i, f in enumerate(r.get(s, "fractionation", "sbrt")):
        where = f"sbrt.fractionation #{i + 1}"
        weekdays = tuple(f.get("weekdays", ()))
        count = r.count(f, "fractions", where, 1, 10)
        if len(weekdays) != count or any(day not in WEEKDAYS for day in weekdays):
            raise ProtocolError(f"{r.path}: [{where}] needs one weekday per fraction")
        fractionation.append(
            Fractionation(
                first_enrollment_number=r.count(f, "first_enrollment_number", where, 1, 10_000),
                last_enrollment_number=f.get("last_enrollment_number"),
                fractions=count,
                weekdays=weekdays,
                quote=r.get(f, "quote", where),
            )
        )
    _check_fractionation(r, fractionation, r.weekday(s, "last_fraction_weekday", "sbrt"))
    sites = r.get(s, "sites", "sbrt")
    amenable = _names(r, sites, "amenable", "sbrt.sites")
    not_amenable = _names(r, sites, "not_amenable", "sbrt.sites")
    if set(amenable) & set(not_amenable):
        raise r.fail("sbrt.sites", "a site cannot be both amenable and not_amenable")
    nodal = _names(r, sites, "nodal", "sbrt.sites") if "nodal" in sites else ()
    if not set(nodal) <= set(amenable) | set(not_amenable):
        raise r.fail("sbrt.sites", "nodal: expected names listed as amenable or not_amenable")
    return SBRTRules(
        dose_per_fraction=r.quantity(s, "dose_per_fraction", "sbrt", "Gy"),
        max_treated_sites=r.count(s, "max_treated_sites", "sbrt", 1, 20),
        max_site_diameter=r.quantity(s, "max_site_diameter", "sbrt", "[length]"),
        last_fraction_weekday=r.weekday(s, "last_fraction_weekday", "sbrt"),
        fractionation=tuple(fractionation),
        amenable_sites=amenable,
        not_amenable_sites=not_amenable,
        quote=r.get(s, "quote", "sbrt"),
        sites_quote=r.get(sites, "quote", "sbrt.sites"),
        nodal_sites=nodal,
    )


def _names(r: _Reader, section: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of distinct site names ("chest_wall"), as the data spell them."""
    value = r.get(section, key, where)
    if not isinstance(value, list) or not all(
        isinstance(n, str) and re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in value
    ):
        raise r.fail(where, f"{key}: expected a list of names in lower case ('chest_wall')")
    if len(set(value)) != len(value):
        raise r.fail(where, f"{key}: a name is listed twice")
    return tuple(value)


def _check_fractionation(r: _Reader, rules: list[Fractionation], last_weekday: str) -> None:
    """Enrollment-number ranges run from 1 without gap or overlap; only the last is open."""
    expected_first = 1
    for i, rule in enumerate(rules):
        where = f"sbrt.fractionation #{i + 1}"
        last = rule.last_enrollment_number
        if rule.first_enrollment_number != expected_first:
            raise r.fail(
                where,
                f"first_enrollment_number = {rule.first_enrollment_number}: expected"
                f" {expected_first}; the ranges must run from 1 without a gap or an overlap",
            )
        if last is None and i != len(rules) - 1:
            raise r.fail(where, "only the last range may leave out last_enrollment_number")
        if last is not None and (not isinstance(last, int) or last < rule.first_enrollment_number):
            raise r.fail(where, "last_enrollment_number: expected a number >= the first")
        if rule.weekdays[-1] != last_weekday:
            raise r.fail(where, f"the last fraction must fall on a {last_weekday}")
        expected_first = (last or 0) + 1
    if rules and rules[-1].last_enrollment_number is not None:
        raise r.fail("sbrt.fractionation", "the last range must be open ('21 through the end')")


def _crossover(r: _Reader) -> CrossoverRules:
    s = r.data["crossover"]
    return CrossoverRules(
        from_arm=r.get(s, "from_arm", "crossover"),
        after_cycle=r.count(s, "after_cycle", "crossover", 1, 20),
        first_cycle=r.count(s, "first_cycle", "crossover", 1, 20),
        cycles=r.count(s, "cycles", "crossover", 1, 20),
        response_assessment_after=r.quantity(s, "response_assessment_after", "crossover", "[time]"),
        quote=r.get(s, "quote", "crossover"),
        reading=r.get(s, "reading", "crossover"),
        response_quote=s.get("response_quote", ""),
    )


def _assessments(r: _Reader) -> AssessmentRules:
    s = r.data["assessments"]
    timepoints = tuple(
        Timepoint(
            name=r.get(t, "name", f"assessments.timepoints #{i + 1}"),
            week=r.count(t, "week", f"assessments.timepoints #{i + 1}", 1, 520),
            purpose=r.get(t, "purpose", f"assessments.timepoints #{i + 1}"),
            primary=t.get("primary", False) is True,
        )
        for i, t in enumerate(r.get(s, "timepoints", "assessments"))
    )
    weeks = [t.week for t in timepoints]
    if weeks != sorted(set(weeks)):
        raise r.fail("assessments", "timepoints: expected weeks in increasing order, each once")
    if sum(t.primary for t in timepoints) != 1:
        raise r.fail("assessments", "timepoints: expected exactly one primary timepoint")
    return AssessmentRules(
        baseline_within=r.quantity(s, "baseline_within", "assessments", "[time]"),
        window=r.quantity(s, "window", "assessments", "[time]", zero=True),
        timepoints=timepoints,
        quote=r.get(s, "quote", "assessments"),
        reading=r.get(s, "reading", "assessments"),
        registry=_flag(r, s, "registry", "assessments", default=True),
    )


def _flag(r: _Reader, section: dict[str, Any], key: str, where: str, *, default: bool) -> bool:
    """An optional true/false entry."""
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise r.fail(where, f"{key} = {value!r}: expected true or false")
    return value


_CRITERION_KEYS = ("id", "kind", "rule", "quote", "reading", "label")


def _option(value: Any) -> bool:
    """A criterion option is text, a number, true/false, or a list of text."""
    if isinstance(value, list):
        return all(isinstance(v, str) and v.strip() for v in value) and bool(value)
    return isinstance(value, str | int | float | bool)


def _criterion(r: _Reader, c: dict[str, Any]) -> Criterion:
    options = {k: v for k, v in c.items() if k not in _CRITERION_KEYS}
    for key, value in options.items():
        if not _option(value):
            raise r.fail(
                f"eligibility.criteria {c.get('id')}",
                f"{key} = {value!r}: expected text, a number, true/false or a list of text",
            )
    return Criterion(
        id=c["id"],
        kind=c["kind"],
        rule=c["rule"],
        quote=c["quote"],
        reading=c.get("reading", ""),
        label=c.get("label", ""),
        options=options,
    )


def _eligibility(r: _Reader) -> EligibilityRules:
    s = r.data["eligibility"]
    criteria = tuple(_criterion(r, c) for c in r.get(s, "criteria", "eligibility"))
    ids = [c.id for c in criteria]
    if not criteria or len(set(ids)) != len(ids):
        raise r.fail("eligibility", "criteria: expected at least one criterion, each id once")
    for c in criteria:
        if c.kind not in ("inclusion", "exclusion") or not c.quote.strip() or not c.rule:
            raise r.fail(
                f"eligibility.criteria {c.id}",
                "expected kind 'inclusion' or 'exclusion', a rule and the registry's quote",
            )
    q = r.quantity
    rules = EligibilityRules(
        criteria=criteria,
        minimum_age=q(s, "minimum_age", "eligibility", "[time]"),
        max_ecog=r.count(s, "max_ecog", "eligibility", 0, 5),
        pregnancy_test_window=q(s, "pregnancy_test_window", "eligibility", "[time]"),
        pft_exclusion_below=q(s, "pft_exclusion_below", "eligibility", "percent"),
        pft_review_below=q(s, "pft_review_below", "eligibility", "percent"),
        wbc_min=q(s, "wbc_min", "eligibility", "G_per_L"),
        hgb_min=q(s, "hgb_min", "eligibility", "g/dL"),
        transaminase_max_x_uln=float(r.get(s, "transaminase_max_x_uln", "eligibility")),
        bilirubin_max=q(s, "bilirubin_max", "eligibility", "mg/dL"),
        creatinine_max=q(s, "creatinine_max", "eligibility", "mg/dL"),
        reading_units=r.get(s, "reading_units", "eligibility").strip(),
        reading_comparisons=r.get(s, "reading_comparisons", "eligibility").strip(),
        plausible_max={
            name: q(s["plausible_max"], name, "eligibility.plausible_max", None)
            for name in s.get("plausible_max", {})
            if name != "source"
        },
    )
    if not rules.transaminase_max_x_uln > 0:
        raise r.fail("eligibility", "transaminase_max_x_uln: expected more than 0")
    if rules.pft_exclusion_below > rules.pft_review_below:
        raise r.fail("eligibility", "pft_exclusion_below: expected at most pft_review_below")
    for name, limit in rules.plausible_max.items():
        threshold = getattr(rules, f"{name}_max", None) or getattr(rules, f"{name}_min", None)
        if threshold is not None and limit <= threshold:
            raise r.fail("eligibility.plausible_max", f"{name}: expected above the threshold")
    return rules


def _ruleset(r: _Reader, name: str, s: dict[str, Any]) -> Ruleset:
    where = f'response.rulesets."{name}"'
    q = r.quantity
    reference = r.get(s, "pd_reference", where)
    if reference not in ("nadir", "baseline"):
        raise ProtocolError(f"{r.path}: [{where}].pd_reference must be 'nadir' or 'baseline'")
    pr = float(r.get(s, "pr_change_from_baseline", where))
    pd = float(r.get(s, "pd_change_from_nadir", where))
    if not -100 < pr < 0 or pd <= 0:
        raise ProtocolError(f"{r.path}: [{where}] PR must be a decrease and PD an increase")
    if q(s, "node_pathological_min", where, "mm") > q(s, "node_measurable_min", where, "mm"):
        raise r.fail(where, "node_pathological_min: expected at most node_measurable_min")
    return Ruleset(
        name=name,
        source=r.get(s, "source", where),
        max_targets=r.count(s, "max_targets", where, 1, 50),
        max_targets_per_organ=r.count(s, "max_targets_per_organ", where, 1, 50),
        measurable_min=q(s, "measurable_min", where, "mm"),
        node_measurable_min=q(s, "node_measurable_min", where, "mm"),
        node_pathological_min=q(s, "node_pathological_min", where, "mm"),
        too_small_default=q(s, "too_small_default", where, "mm"),
        pr_change_from_baseline=pr,
        pd_change_from_nadir=pd,
        pd_min_increase=q(s, "pd_min_increase", where, "mm", zero=True),
        pd_reference=reference,
        cr_requires_negative_pet=bool(r.get(s, "cr_requires_negative_pet", where)),
        quotes={k: v.strip() for k, v in s.items() if k.startswith(("quote", "reading"))},
    )


def _irecist(r: _Reader, s: dict[str, Any], rulesets: dict[str, Ruleset]) -> IRecistRules:
    where = "response.irecist"
    base = r.get(s, "base_ruleset", where)
    if base not in rulesets:
        raise r.fail(where, f"base_ruleset = {base!r}: expected one of {sorted(rulesets)}")
    rules = IRecistRules(
        source=r.get(s, "source", where),
        base_ruleset=base,
        confirm_min_increase=r.quantity(s, "confirm_min_increase", where, "mm"),
        new_target_max=r.count(s, "new_target_max", where, 1, 50),
        new_target_max_per_organ=r.count(s, "new_target_max_per_organ", where, 1, 50),
        confirmation_window_min=r.quantity(s, "confirmation_window_min", where, "[time]"),
        confirmation_window_max=r.quantity(s, "confirmation_window_max", where, "[time]"),
        quotes={k: v.strip() for k, v in s.items() if k.startswith(("quote", "reading"))},
    )
    if rules.confirmation_window_min >= rules.confirmation_window_max:
        raise r.fail(where, "confirmation_window_min: expected below confirmation_window_max")
    return rules


def _response(r: _Reader) -> ResponseRules:
    s = r.data["response"]
    rulesets = {name: _ruleset(r, name, body) for name, body in s["rulesets"].items()}
    rules = ResponseRules(
        default_ruleset=r.get(s, "default_ruleset", "response"),
        primary_ruleset=r.get(s, "primary_ruleset", "response"),
        exclude_irradiated=bool(r.get(s, "exclude_irradiated", "response")),
        primary_timepoint_week=r.count(s, "primary_timepoint_week", "response", 1, 200),
        crossover_timepoint_week=r.count(s, "crossover_timepoint_week", "response", 1, 200),
        sd_min_interval=r.quantity(s, "sd_min_interval", "response", "[time]"),
        confirmation_interval=r.quantity(s, "confirmation_interval", "response", "[time]"),
        max_ne_between=r.count(s, "max_ne_between", "response", 0, 10),
        rulesets=rulesets,
        quote=r.get(s, "quote", "response"),
        reading=r.get(s, "reading", "response").strip(),
        readings={k: v.strip() for k, v in s.items() if k.startswith("reading_")},
        irecist=_irecist(r, s["irecist"], rulesets) if "irecist" in s else None,
    )
    for name in (rules.default_ruleset, rules.primary_ruleset):
        try:
            rules.ruleset(name)
        except ValueError as error:
            raise r.fail("response", str(error)) from error
    return rules


def load_protocol(path: str | Path | None = None) -> Protocol:
    """Read and validate a protocol file (default: the one shipped with studylib).

    Parameters
    ----------
    path
        A TOML file in the shape of ``studylib/protocol.toml``.

    Raises
    ------
    ProtocolError
        Naming the file, the section and the entry that is missing or invalid.
    """
    if path is None:
        source = resources.files("studylib") / PROTOCOL_FILENAME
        shown = f"studylib/{PROTOCOL_FILENAME}"
    else:
        source = Path(path)
        shown = str(path)
    try:
        raw = source.read_bytes()
    except OSError as error:
        raise ProtocolError(f"{shown}: cannot be read ({error.strerror or error})") from error
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ProtocolError(f"{shown}: not UTF-8 text; save it as UTF-8") from error
    except tomllib.TOMLDecodeError as error:
        raise ProtocolError(f"{shown}: not valid TOML: {error}") from error
    r = _Reader(data, shown)
    try:
        arms = tuple(
            Arm(code=a["code"], name=a["name"], receives_sbrt=a["receives_sbrt"], quote=a["quote"])
            for a in data["arms"]
        )
        protocol = Protocol(
            trial=dict(data["trial"]),
            randomization_ratio=data["randomization"]["ratio"],
            arms=arms,
            il2=_il2(r),
            sbrt=_sbrt(r),
            crossover=_crossover(r),
            assessments=_assessments(r),
            eligibility=_eligibility(r),
            response=_response(r),
            plausibility=_plausibility(r, data["plausibility"]),
            analysis=_analysis(r),
            path=shown,
            sha256=hashlib.sha256(raw).hexdigest(),
            safety=_safety(r) if "safety" in data else None,
            source_text=raw.decode("utf-8"),
        )
    except KeyError as error:
        raise ProtocolError(
            f"{shown}: the section or entry {error} is missing; copy it from"
            " studylib/protocol.toml and adapt it"
        ) from error
    _check_whole(r, protocol)
    return protocol


def _plausibility(r: _Reader, s: dict[str, Any]) -> Plausibility:
    where = "plausibility"

    def optional(key: str, dim: str) -> pint.Quantity | None:
        return r.quantity(s, key, where, dim) if key in s else None

    earliest = s.get("earliest_date")
    if earliest is not None:
        try:
            earliest = earliest if isinstance(earliest, date) else date.fromisoformat(earliest)
        except (TypeError, ValueError):
            raise r.fail(
                where, f"earliest_date = {earliest!r}: expected a date, 1900-01-01"
            ) from None
        if earliest >= date.today():
            raise r.fail(where, "earliest_date: expected a date in the past")
    return Plausibility(
        weight_min=r.quantity(s, "weight_min", where, "kg"),
        weight_max=r.quantity(s, "weight_max", where, "kg"),
        ecog_max=r.count(s, "ecog_max", where, 0, 10),
        max_age=r.quantity(s, "max_age", where, "[time]"),
        earliest_date=earliest,
        il2_dose_max=optional("il2_dose_max", "[biological_activity]"),
        sbrt_dose_max=optional("sbrt_dose_max", "Gy"),
        lesion_diameter_max=optional("lesion_diameter_max", "[length]"),
        reading=s.get("reading", "").strip(),
    )


def _check_whole(r: _Reader, p: Protocol) -> None:
    """Entries of different sections that must agree with each other."""
    codes = [arm.code for arm in p.arms]
    if len(set(codes)) != len(codes) or not all(isinstance(a.receives_sbrt, bool) for a in p.arms):
        raise r.fail("arms", "expected arms with distinct codes and receives_sbrt true or false")
    if not all(a.quote.strip() for a in p.arms):
        raise r.fail("arms", "each arm needs the registry's quote")
    enrollment = r.count(p.trial, "planned_enrollment", "trial", 1, 100_000)
    if not re.fullmatch(r"[1-9]\d*:[1-9]\d*", p.randomization_ratio):
        raise r.fail("randomization", f"ratio = {p.randomization_ratio!r}: expected 'n:m'")
    if p.crossover.from_arm not in codes or p.arm(p.crossover.from_arm).receives_sbrt:
        raise r.fail("crossover", "from_arm: expected the arm without SBRT")
    if p.crossover.first_cycle != p.crossover.after_cycle + 1:
        raise r.fail("crossover", "first_cycle: expected the cycle after after_cycle")
    if p.crossover.after_cycle != p.il2.cycles_in_first_course:
        raise r.fail("crossover", "after_cycle: expected the last cycle of the first course")
    weeks = {t.week for t in p.assessments.timepoints}
    primary = next(t.week for t in p.assessments.timepoints if t.primary)
    if p.response.primary_timepoint_week != primary:
        raise r.fail("response", "primary_timepoint_week: expected the primary timepoint's week")
    if p.response.crossover_timepoint_week not in weeks:
        raise r.fail("response", "crossover_timepoint_week: expected one of the timepoints")
    if p.plausibility.weight_min >= p.plausibility.weight_max:
        raise r.fail("plausibility", "weight_min: expected below weight_max")
    if p.plausibility.max_age <= p.eligibility.minimum_age:
        raise r.fail("plausibility", "max_age: expected above the minimum age")
    if p.plausibility.ecog_max < p.eligibility.max_ecog:
        raise r.fail("plausibility", "ecog_max: expected at least eligibility.max_ecog")
    il2_top = p.plausibility.il2_dose_max
    if il2_top is not None and il2_top < p.il2.dose_per_kg * p.plausibility.weight_max:
        raise r.fail("plausibility", "il2_dose_max: expected at least dose_per_kg x weight_max")
    sbrt_top = p.plausibility.sbrt_dose_max
    if sbrt_top is not None and sbrt_top < p.sbrt.dose_per_fraction:
        raise r.fail("plausibility", "sbrt_dose_max: expected at least [sbrt].dose_per_fraction")
    if p.sbrt.fractionation_for(enrollment).fractions < 1:
        raise r.fail("sbrt.fractionation", "expected fractions for every planned patient")


#: The protocol shipped with studylib, loaded once at import. Engines never read it: they take
#: ``protocol=`` and call :func:`resolve_protocol`.
PROTOCOL: Protocol = load_protocol()


def resolve_protocol(protocol: Protocol | None) -> Protocol:
    """``protocol``, or the bundled one when ``None``: how public functions default it.

    >>> resolve_protocol(None) is PROTOCOL
    True
    >>> resolve_protocol("protocol.toml")
    Traceback (most recent call last):
    ...
    TypeError: protocol= takes a Protocol (from studylib.load_protocol), not 'protocol.toml'
    """
    if protocol is None:
        return PROTOCOL
    if not isinstance(protocol, Protocol):
        raise TypeError(
            f"protocol= takes a Protocol (from studylib.load_protocol), not {protocol!r}"
        )
    return protocol


def protocol_for_folder(folder: str | Path) -> Protocol:
    """The protocol of a trial folder: its own ``protocol.toml`` if it has one, else the
    bundled protocol.

    Raises
    ------
    ProtocolError
        When the folder's file is malformed (naming the file, section and entry).
    """
    own = Path(folder) / PROTOCOL_FILENAME
    return load_protocol(own) if own.is_file() else PROTOCOL
