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

__all__ = ["design_rules", "screening_rules", "schedule_rules", "response_rules"]


def _fractions(rule: Fractionation) -> str:
    numbers = enrollment_range(
        rule.first_enrollment_number, rule.last_enrollment_number, open_end="onwards"
    )
    return (
        f"patients **{numbers}** (by enrolment number): **{plural(rule.fractions, 'fraction')}**"
        f" ({and_list(rule.weekdays)})"
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
