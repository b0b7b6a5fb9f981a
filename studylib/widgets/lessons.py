"""The rules each section of the tour teaches, in plain words, with the protocol's numbers.

The tour's Markdown cells tell the story; the numbers (doses, limits, days, percentages) are
written here from the protocol the tour shows (default: the bundled one), never typed into the
notebook, so that the page and the engines cannot disagree. The rules are the rulebook's
sentences (:mod:`studylib.rulebook`), as in every other report.
"""

from __future__ import annotations

from studylib.protocol import Protocol, resolve_protocol
from studylib.rulebook import rules_markdown
from studylib.units import format_quantity
from studylib.wording import and_list, plural

__all__ = [
    "trial_introduction",
    "design_rules",
    "screening_rules",
    "screening_exercises",
    "schedule_rules",
    "schedule_exercises",
    "response_rules",
    "response_exercises",
    "irecist_exercise",
    "pseudo_progression_diameters",
    "dose_rules",
    "dose_cases",
]


def trial_introduction(protocol: Protocol | None = None) -> str:
    """The trial the tour shows, from ``[trial]`` and ``[[arms]]``: its title, registry number,
    sponsor and arms, so that a tour of another protocol file names its own trial."""
    protocol = resolve_protocol(protocol)
    trial = protocol.trial
    arms = and_list(f"**arm {arm.code}** ({arm.name})" for arm in protocol.arms)
    with_sbrt = [f"arm {arm.code}" for arm in protocol.arms if arm.receives_sbrt]
    sbrt_arms = and_list(with_sbrt) + (" receives" if len(with_sbrt) == 1 else " receive")
    return "\n".join(
        [
            f"### {trial.get('nct_id', '')}: {trial.get('title', '')}",
            "",
            f"Sponsor: {trial.get('sponsor', 'not given')}. Patients are **randomised**"
            f" {protocol.randomization_ratio} between {arms}; {sbrt_arms}"
            " **stereotactic body radiation (SBRT)** to a few metastases before the same"
            " high-dose IL-2. The protocol file: "
            f"`{protocol.path}`.",
        ]
    )


def design_rules(protocol: Protocol | None = None) -> str:
    """The design: randomisation, fractions by enrolment number, weekdays, crossover."""
    return rules_markdown("design", protocol)


def screening_rules(protocol: Protocol | None = None) -> str:
    """The limits a screening nurse checks most often, from ``[eligibility]``."""
    return rules_markdown("screening", protocol)


def _criterion_id(protocol: Protocol, rule: str) -> str:
    """The file's id of the criterion judged by ``rule`` (empty when it has none)."""
    return next((c.id for c in protocol.eligibility.criteria if c.rule == rule), "")


def screening_exercises(protocol: Protocol | None = None) -> str:
    """What to try on the screening form, naming this protocol's criteria and limits."""
    protocol = resolve_protocol(protocol)
    e = protocol.eligibility
    low_wbc = float(e.wbc_min.to("G_per_L").magnitude) - 0.5
    wbc_id = _criterion_id(protocol, "wbc")
    foci_id = _criterion_id(protocol, "sbrt_foci")
    no_site_id = _criterion_id(protocol, "no_amenable_site")
    unsuitable = protocol.sbrt.not_amenable_sites[0] if protocol.sbrt.not_amenable_sites else ""
    steps = [
        f"In *Laboratory*, change **WBC to {low_wbc:.1f}** (unit x10^9/L): the verdict turns"
        f" *Ineligible* and names {wbc_id} with the values compared.",
        "Type the WBC as the lab may report it, **4100** with unit **/µL**: the same count in"
        " another unit. Type creatinine in µmol/L or mg/dL: the form converts, you do not.",
        "Clear a box: the screening becomes *Incomplete*. Remove the unit: the form tells you"
        " what it needs instead of guessing.",
        f"In *Patient*, set **ECOG {e.max_ecog + 1}**, then back to 0.",
    ]
    if unsuitable and foci_id and no_site_id:
        steps.append(
            f"In *Disease and SBRT sites*, change focus 1 to `{unsuitable}`: {foci_id} now"
            " lists it as not treatable, yet the candidate stays eligible through the other"
            f" focus; change that one to `{unsuitable}` too and {no_site_id} fails."
        )
    numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))
    return (
        f"The form starts with an invented candidate who meets every criterion. Try:\n\n{numbered}"
    )


def schedule_exercises(protocol: Protocol | None = None) -> str:
    """What to try on the schedule explorer: the fractionation boundary, the arm without SBRT,
    a start on the wrong weekday, a weight in pounds."""
    protocol = resolve_protocol(protocol)
    rules = protocol.sbrt.fractionation
    if len(rules) > 1:
        boundary = (
            f"the last enrolment number with {plural(rules[0].fractions, 'SBRT fraction')}"
            f" ({rules[0].last_enrollment_number}) and the first with"
            f" {rules[1].fractions} ({rules[1].first_enrollment_number})"
        )
    else:
        boundary = (
            f"any enrolment number (every patient gets {plural(rules[0].fractions, 'fraction')})"
        )
    plain = protocol.arm(protocol.crossover.from_arm)
    weekday = protocol.il2.start_weekday
    return (
        f"Try {boundary}, arm **{plain.code}**, a start on the day after a {weekday}, and a"
        " weight in pounds (`176 lb`). Open *Dose and vials, step by step* for the arithmetic"
        " and *Every fraction, dose and scan, with its rule* for the rule behind each date."
    )


def schedule_rules(protocol: Protocol | None = None) -> str:
    """Dose, timing, vials and scans, from ``[il2]``, ``[il2.product]`` and ``[assessments]``."""
    return rules_markdown("treatment", protocol)


def response_rules(ruleset: str | None = None, protocol: Protocol | None = None) -> str:
    """The response thresholds of a ruleset (default: the protocol's), from ``[response]``."""
    return rules_markdown("response", protocol, ruleset=ruleset)


#: The calculator's "small rise from a small nadir" exercise: the targets' diameters (mm) at
#: the second scan and at the last one. Example values, not protocol numbers.
SMALL_NADIR_MM = (5, 5, 8)
SMALL_RISE_MM = (7, 6, 9)


def small_rise_responses(protocol: Protocol | None = None) -> dict[str, str]:
    """The last scan's overall response of the small-rise exercise under each ruleset.

    The teaching patient (:func:`studylib.widgets.recist.demo_patient`) with
    :data:`SMALL_NADIR_MM` at the second scan and :data:`SMALL_RISE_MM` at the last, judged by
    the RECIST engine: the exercise's rulesets are compared on what the engine returns.
    """
    from studylib.recist.timepoint import timepoint_responses
    from studylib.widgets.recist import TargetLesion, demo_patient, teaching_frames

    protocol = resolve_protocol(protocol)
    targets, nontarget = demo_patient(protocol)
    count = len(targets[0].diameters_mm)
    changed = []
    for lesion, low, high in zip(targets, SMALL_NADIR_MM, SMALL_RISE_MM, strict=False):
        values = list(lesion.diameters_mm)
        values[min(2, count - 1)], values[-1] = low, high
        changed.append(TargetLesion(lesion.lesion_id, lesion.site, lesion.nodal, tuple(values)))
    lesions, assessments = teaching_frames(changed, nontarget, protocol=protocol)
    return {
        name: timepoint_responses(lesions, assessments, ruleset=name, protocol=protocol)[
            "overall_response"
        ].iloc[-1]
        for name in protocol.response.rulesets
    }


def _ruleset_step(protocol: Protocol, last: str) -> str | None:
    """Switch to a ruleset that judges the small-rise exercise otherwise, saying why."""
    default = protocol.response.default_ruleset
    responses = small_rise_responses(protocol)
    differing = [name for name, code in responses.items() if code != responses[default]]
    if not differing:
        return None
    other = differing[0]
    ours, theirs = protocol.response.ruleset(default), protocol.response.ruleset(other)
    why = (
        f"`{other}` needs no increase in millimetres for PD, `{default}` needs"
        f" {format_quantity(ours.pd_min_increase)}"
        if theirs.pd_min_increase.magnitude == 0 < ours.pd_min_increase.magnitude
        else f"`{other}` judges progression against the {theirs.pd_reference}, with"
        f" {theirs.pd_change_from_nadir:g}% and {format_quantity(theirs.pd_min_increase)}"
    )
    return (
        f"Keep the values of step 2 and switch the ruleset to `{other}`: {last} turns"
        f" **{responses[other]}** instead of {responses[default]} ({why})."
    )


def response_exercises(protocol: Protocol | None = None) -> str:
    """What to try on the RECIST calculator, at this protocol's scans and thresholds."""
    protocol = resolve_protocol(protocol)
    names = [t.name for t in protocol.assessments.timepoints]
    first, second, last = names[0], names[min(1, len(names) - 1)], names[-1]
    nadir = ", ".join(f"{mm}" for mm in SMALL_NADIR_MM[:-1]) + f" and {SMALL_NADIR_MM[-1]}"
    rise = ", ".join(f"{mm}" for mm in SMALL_RISE_MM[:-1]) + f" and {SMALL_RISE_MM[-1]}"
    steps = [
        f"Set lesion **T1 at {last} to 30 mm**: {last} turns **PD**.",
        "Make a small rise from a small nadir that reaches the percentage but not the"
        f" millimetres: {second} at {nadir} mm, then {last} at {rise} mm. Not PD.",
        "Mark an **unequivocal new lesion** at a follow-up (PD), then an equivocal one (not PD).",
        "Empty a box: a lesion not measured makes that scan *NE*, not evaluable.",
    ]
    ruleset_step = _ruleset_step(protocol, last)
    if ruleset_step:
        steps.insert(2, ruleset_step)
    numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))
    return (
        f"The example patient responds at every scan (the first at {first}). Try, one at a time"
        f" (reload the page to start again):\n\n{numbered}"
    )


def pseudo_progression_diameters(protocol: Protocol | None = None) -> tuple[float, float]:
    """Lesion T1 of the calculator's example patient, for the iRECIST exercise: its diameter at
    the first follow-up that makes that scan a progression (from the baseline sum, the nadir
    then), and its diameter at the second follow-up that would confirm it.

    Computed from the example patient (:func:`studylib.widgets.recist.demo_patient`) and the
    thresholds of iRECIST's base ruleset, so the exercise holds for any protocol file.
    """
    import math

    from studylib.recist.rulesets import thresholds
    from studylib.widgets.recist import demo_patient

    protocol = resolve_protocol(protocol)
    rules = protocol.response.irecist
    t = thresholds(rules.base_ruleset, protocol)
    targets, _ = demo_patient(protocol)
    baseline = sum(float(lesion.diameters_mm[0]) for lesion in targets)
    others = [sum(float(lesion.diameters_mm[k]) for lesion in targets[1:]) for k in (1, 2)]
    progressed = max(baseline * (1 + t.pd_change_pct / 100), baseline + t.pd_min_increase_mm)
    first = float(math.ceil(progressed - others[0]))
    increase = float(rules.confirm_min_increase.to("mm").magnitude)
    confirming = float(math.ceil(first + others[0] + increase - others[1]))
    return first, confirming


def irecist_exercise(protocol: Protocol | None = None) -> str:
    """The calculator's pseudo-progression exercise, at this protocol's scans and iRECIST
    numbers (``[response.irecist]``); empty when the protocol has none."""
    protocol = resolve_protocol(protocol)
    rules = protocol.response.irecist
    if rules is None:
        return ""
    names = [t.name for t in protocol.assessments.timepoints]
    first, second = names[0], names[min(1, len(names) - 1)]
    grown, confirming = pseudo_progression_diameters(protocol)
    increase = format_quantity(rules.confirm_min_increase)
    return "\n".join(
        [
            "Tick **iRECIST** under the table, then:",
            "",
            f"1. Set lesion **T1 at {first} to {grown:g} mm**: RECIST 1.1 calls {first} **PD**"
            " (and the best response stops there); iRECIST calls it **iUPD**, unconfirmed.",
            f"2. Leave {second} as it is: the tumours shrank again, so {second} is a response"
            " and the iUPD is **reset**: a *pseudo-progression*.",
            f"3. Now set **T1 at {second} to {confirming:g} mm**: the sum is {increase} or more"
            f" above {first}'s, which **confirms** the progression: **iCPD**.",
        ]
    )


# --- each dose at the bedside ([safety]) -----------------------------------------------------

#: The dose of the cycle the exercise asks about (a teaching choice, capped at the cycle's
#: maximum number of doses).
DOSE_EXERCISE_NUMBER = 9
# The weight before the cycle of the exercise's patient (a teaching choice).
_EXAMPLE_WEIGHT_KG = 80.0
_WRITTEN = {
    "heart_rate": ("%.0f", " bpm"),
    "systolic_bp": ("%.0f", " mmHg"),
    "o2_saturation": ("%.0f", " %"),
    "urine_output_8h": ("%.0f", " mL"),
    "creatinine": ("%.2f", " mg/dL"),
    "platelets": ("%.0f", " x10^9/L"),
    "bilirubin": ("%.1f", " mg/dL"),
    "bicarbonate": ("%.0f", " mmol/L"),
}


def _written(key: str, value: float) -> str:
    """An exercise value as a ward writes it (a weight gain as the weight in kg)."""
    if key == "weight":
        return f"{_EXAMPLE_WEIGHT_KG * (1 + value / 100):.1f} kg"
    if key == "mental_status_change":
        return "Y" if value else "N"
    template, unit = _WRITTEN[key]
    return (template % value) + unit


def dose_rules(protocol: Protocol | None = None) -> str:
    """How a dose is decided, with this protocol's numbers (``[safety]``); empty when the
    protocol has no dose criteria."""
    protocol = resolve_protocol(protocol)
    rules = protocol.safety
    if rules is None:
        return ""
    kinds = {
        "relative": "relative (hold)",
        "withhold": "the label's withhold (hold)",
        "absolute": "absolute (stop)",
        "discontinue": "the label's discontinue (stop)",
    }
    counts = {k: sum(c.kind == k for c in rules.criteria) for k in kinds}
    listed = and_list(f"{n} {kinds[k]}" for k, n in counts.items() if n)
    return (
        "Before each dose the nurse checks the observations of the last shift against the"
        f" protocol's {len(rules.criteria)} criteria: {listed}."
        f" Any hold criterion met holds the dose; any stop criterion stops the cycle; and"
        f" **{rules.relative_criteria_to_stop} relative criteria at once stop the cycle** too."
        " These criteria are **not from the registry**, which gives none: they are the Proleukin"
        " label's and the 2014 expert consensus's, quoted in the protocol file."
    )


def dose_cases(protocol: Protocol | None = None) -> list[tuple[str, dict[str, str]]]:
    """Observations before a dose for the tour's exercise, made from this protocol's
    criteria: every value at the edge of its limit yet on the safe side; one hold criterion
    met; the protocol's number of relative criteria at once; one stop criterion. Each is
    ``(title, observations)``; what to do is left to :func:`studylib.safety.dose_decision`."""
    from studylib.safety.bounds import TYPICAL, edge, inside

    protocol = resolve_protocol(protocol)
    rules = protocol.safety
    if rules is None:
        return []
    criteria = [c for c in rules.criteria if c.observation in TYPICAL]
    keys = list(dict.fromkeys(c.observation for c in criteria))
    base = {k: _written(k, edge(criteria, k)) for k in keys if k != "mental_status_change"}
    if "weight" in base:
        base["baseline_weight"] = f"{_EXAMPLE_WEIGHT_KG:g} kg"
    if "mental_status_change" in keys:
        base["mental_status_change"] = "N"

    def case(title: str, chosen: list) -> tuple[str, dict[str, str]]:
        met = {c.observation: _written(c.observation, inside(c, c.observation)) for c in chosen}
        return title, {**base, **met}

    cases = [("Every value at its limit", dict(base))]
    holds = [c for c in criteria if c.action == "hold" and not c.change_from]
    if holds:
        cases.append(case(holds[0].label, holds[:1]))
    relative: dict[str, object] = {}
    for c in criteria:
        if c.kind == "relative":
            relative.setdefault(c.observation, c)
    chosen = list(relative.values())[: rules.relative_criteria_to_stop]
    if len(chosen) == rules.relative_criteria_to_stop:
        cases.append(case("Several at once", chosen))
    stops = [c for c in criteria if c.action == "stop" and not c.change_from]
    if stops:
        cases.append(case(stops[0].label, stops[:1]))
    return cases
