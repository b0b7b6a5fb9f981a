"""The rules each section of the tour teaches, in plain words, with the protocol's numbers.

The tour's Markdown cells tell the story; the numbers (doses, limits, days, percentages) are
written here from the protocol the tour shows (default: the bundled one), never typed into the
notebook, so that the page and the engines cannot disagree. Phrases come from
:mod:`studylib.wording`, as in every other report.
"""

from __future__ import annotations

from studylib.protocol import Fractionation, Protocol, resolve_protocol
from studylib.units import format_quantity
from studylib.wording import and_list, days, enrollment_range, hours, plural

__all__ = [
    "trial_introduction",
    "design_rules",
    "screening_rules",
    "screening_exercises",
    "schedule_rules",
    "schedule_exercises",
    "response_rules",
    "response_exercises",
]


def _fractions(rule: Fractionation) -> str:
    numbers = enrollment_range(
        rule.first_enrollment_number, rule.last_enrollment_number, open_end="onwards"
    )
    return (
        f"patients **{numbers}** (by enrolment number): **{plural(rule.fractions, 'fraction')}**"
        f" ({and_list(rule.weekdays)})"
    )


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
    """The design in five bullets: randomisation, fractions, weekdays, crossover."""
    protocol = resolve_protocol(protocol)
    sbrt, il2, cross = protocol.sbrt, protocol.il2, protocol.crossover
    arm_a = protocol.arm(cross.from_arm)
    return "\n".join(
        [
            f"* Randomisation **{protocol.randomization_ratio}**; "
            f"{protocol.trial['planned_enrollment']} patients planned.",
            f"* SBRT, **{format_quantity(sbrt.dose_per_fraction)}** per fraction: "
            + "; ".join(_fractions(rule) for rule in sbrt.fractionation)
            + ".",
            f"* IL-2 starts on a **{il2.start_weekday}**; the last SBRT fraction is on the "
            f"**{sbrt.last_fraction_weekday}** before.",
            f"* Arm {arm_a.code} ({arm_a.name}): progression after cycle {cross.after_cycle} "
            f"opens the **crossover**: SBRT, then IL-2 cycles {cross.first_cycle} to "
            f"{cross.first_cycle + cross.cycles - 1}.",
        ]
    )


def screening_rules(protocol: Protocol | None = None) -> str:
    """The limits a screening nurse checks most often, from ``[eligibility]``."""
    protocol = resolve_protocol(protocol)
    e = protocol.eligibility
    n_incl = sum(c.kind == "inclusion" for c in e.criteria)
    n_excl = sum(c.kind == "exclusion" for c in e.criteria)
    return "\n".join(
        [
            f"* **{n_incl} inclusion** and **{n_excl} exclusion** criteria.",
            f"* Age at least **{round(float(e.minimum_age.to('year').magnitude))} years**; "
            f"ECOG performance status **0 to {e.max_ecog}**.",
            f"* Excluded if WBC below **{e.wbc_min.to('G_per_L').magnitude:.1f} x10^9/L**, "
            f"haemoglobin below **{e.hgb_min.to('g/dL').magnitude:.1f} g/dL**, AST or ALT above "
            f"**{e.transaminase_max_x_uln:g} x the upper limit of normal**, total bilirubin above "
            f"**{format_quantity(e.bilirubin_max)}**, creatinine above "
            f"**{format_quantity(e.creatinine_max)}** (in any unit: the form converts).",
            "* A woman who could be pregnant needs a negative test within "
            f"**{hours(e.pregnancy_test_window)}** before the first treatment.",
            f"* Up to **{protocol.sbrt.max_treated_sites}** metastases amenable to SBRT, none "
            f"larger than **{format_quantity(protocol.sbrt.max_site_diameter)}**.",
        ]
    )


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
    """Dose, timing and vials, from ``[il2]``, ``[il2.product]`` and ``[assessments]``."""
    protocol = resolve_protocol(protocol)
    il2 = protocol.il2
    weeks = and_list(t.week for t in protocol.assessments.timepoints)
    return "\n".join(
        [
            f"* IL-2 **{format_quantity(il2.dose_per_kg)}** of actual body weight, every "
            f"**{hours(il2.dose_interval)}**, up to **{il2.max_doses_per_cycle} doses** per "
            "cycle.",
            f"* Each later cycle of a course starts **{days(il2.cycle_interval)}** after the one "
            f"before and may be delayed up to **{days(il2.allowed_delay)}**; at most "
            f"**{il2.max_doses_first_course} doses** in the first {il2.cycles_in_first_course} "
            "cycles.",
            "* Pharmacy prepares whole single-dose vials of "
            f"**{format_quantity(il2.vial_content)}**.",
            f"* Scans at weeks **{weeks}** after the first IL-2 dose.",
        ]
    )


def response_rules(ruleset: str | None = None, protocol: Protocol | None = None) -> str:
    """The response thresholds of a ruleset (default: the protocol's), from ``[response]``."""
    protocol = resolve_protocol(protocol)
    rules = protocol.response.ruleset(ruleset)
    reference = "smallest sum so far (the nadir)" if rules.pd_reference == "nadir" else "baseline"
    minimum = rules.pd_min_increase.to("mm").magnitude
    also = f" **and** at least **{minimum:g} mm** above it" if minimum > 0 else ""
    irradiated = (
        "Irradiated lesions are left out."
        if protocol.response.exclude_irradiated
        else "Irradiated lesions count like the others."
    )
    return "\n".join(
        [
            f"* Ruleset **{rules.name}** ({rules.source}). {irradiated}",
            f"* **PR**: the sum at least **{-rules.pr_change_from_baseline:g}% below the "
            "baseline** sum.",
            f"* **PD**: the sum at least **{rules.pd_change_from_nadir:g}% above the "
            f"{reference}**{also}; or clear growth of a non-target lesion; or an unequivocal new "
            "lesion.",
            f"* **CR**: every target lesion gone (lymph nodes below "
            f"**{format_quantity(rules.node_pathological_min)}** short axis). **SD**: none of "
            "the above.",
        ]
    )


def response_exercises(protocol: Protocol | None = None) -> str:
    """What to try on the RECIST calculator, at this protocol's scans and thresholds."""
    protocol = resolve_protocol(protocol)
    names = [t.name for t in protocol.assessments.timepoints]
    first, second, last = names[0], names[min(1, len(names) - 1)], names[-1]
    others = [
        name for name in protocol.response.rulesets if name != protocol.response.default_ruleset
    ]
    steps = [
        f"Set lesion **T1 at {last} to 30 mm**: {last} turns **PD**.",
        "Make a small rise from a small nadir that reaches the percentage but not the"
        f" millimetres: {second} at 5, 5 and 8 mm, then {last} at 7, 6 and 9 mm. Not PD.",
        "Mark an **unequivocal new lesion** at a follow-up (PD), then an equivocal one (not PD).",
        "Empty a box: a lesion not measured makes that scan *NE*, not evaluable.",
    ]
    if others:
        steps.append(f"Switch the ruleset to `{others[0]}` to see what changes.")
    numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))
    return (
        f"The example patient responds at every scan (the first at {first}). Try, one at a time"
        f" (reload the page to start again):\n\n{numbered}"
    )
