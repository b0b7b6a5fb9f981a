"""The protocol's rules in words: one sentence per rule, with the protocol's numbers.

Every place that tells a person a rule (the scheduling notebook's rules table, the tour's
lessons, a report) takes the sentence from here, so that "at most 14 doses per cycle" reads
the same everywhere and follows the protocol file it is given. Each rule names its ``source``:
``registry`` (the ClinicalTrials.gov record), ``reading`` (the workbook's interpretation where
the record is ambiguous or silent, recorded in the protocol file), ``label`` (the Proleukin
label), the response criteria the protocol names, or ``irecist`` (``[response.irecist]``,
Seymour et al. 2017).

>>> book = rulebook()
>>> book.set_index("what").loc["IL-2", "rule"][:44]
'starts on a Monday; 600,000 IU/kg of actual '
>>> sorted(book["topic"].unique())
['design', 'response', 'screening', 'treatment']
"""

from __future__ import annotations

import pandas as pd

from studylib import calendar_rules as calendar
from studylib.protocol import Protocol, resolve_protocol
from studylib.units import format_quantity
from studylib.wording import and_list, days, fraction_group, hours, plural, weeks

__all__ = ["TOPICS", "rulebook", "rules_markdown"]

#: The topics of the rulebook, in the order a reader meets them.
TOPICS = ("design", "screening", "treatment", "response")


def _fractions(protocol: Protocol) -> str:
    """``"enrollment 1-20: 1 fraction on the Friday; ..."``; ``"every patient: ..."`` for one
    rule from the first patient on (NCT02306954)."""
    return "; ".join(
        f"{fraction_group(r.first_enrollment_number, r.last_enrollment_number)}:"
        f" {plural(r.fractions, 'fraction')} on the {and_list(r.weekdays)} before the"
        f" {protocol.il2.start_weekday} IL-2 start"
        for r in protocol.sbrt.fractionation
    )


def _design(protocol: Protocol) -> list[tuple[str, str, str]]:
    sbrt, il2, cross = protocol.sbrt, protocol.il2, protocol.crossover
    plain = protocol.arm(cross.from_arm)
    arms = and_list(f"arm {arm.code} ({arm.name})" for arm in protocol.arms)
    by_number = ", by enrolment number (not by tumour):" if len(sbrt.fractionation) > 1 else ";"
    last = cross.first_cycle + cross.cycles - 1
    return [
        (
            "randomisation",
            f"{protocol.randomization_ratio} between {arms};"
            f" {protocol.trial['planned_enrollment']} patients planned",
            "registry",
        ),
        (
            "SBRT fractions",
            f"{format_quantity(sbrt.dose_per_fraction)} per fraction{by_number}"
            f" {_fractions(protocol)}",
            "registry",
        ),
        (
            "weekdays",
            f"IL-2 starts on a {il2.start_weekday}; the last SBRT fraction is on the"
            f" {sbrt.last_fraction_weekday} before",
            "registry",
        ),
        (
            "crossover",
            f"arm {plain.code} ({plain.name}) patients progressing after cycle"
            f" {cross.after_cycle} may cross over: SBRT, then IL-2 cycles {cross.first_cycle}"
            f" to {last}",
            "registry",
        ),
    ]


def _screening(protocol: Protocol) -> list[tuple[str, str, str]]:
    e = protocol.eligibility
    inclusion = sum(c.kind == "inclusion" for c in e.criteria)
    exclusion = sum(c.kind == "exclusion" for c in e.criteria)
    rules = {c.rule for c in e.criteria}
    labs = []
    if "wbc" in rules:
        labs.append(f"WBC below {format_quantity(e.wbc_min)}")
    if "hemoglobin" in rules:
        labs.append(f"haemoglobin below {format_quantity(e.hgb_min)}")
    if "transaminases" in rules:
        labs.append(f"AST or ALT above {e.transaminase_max_x_uln:g} x the upper limit of normal")
    if "bilirubin" in rules:
        labs.append(f"total bilirubin above {format_quantity(e.bilirubin_max)}")
    if "creatinine" in rules:
        labs.append(f"creatinine above {format_quantity(e.creatinine_max)}")
    rows = [
        ("criteria", f"{inclusion} inclusion and {exclusion} exclusion criteria", "registry"),
        (
            "age and performance status",
            f"age at least {round(float(e.minimum_age.to('year').magnitude))} years; ECOG"
            f" performance status 0 to {e.max_ecog}",
            "registry",
        ),
    ]
    if labs:
        rows.append(
            (
                "laboratory",
                f"excluded if {and_list(labs)} (in any unit: values are converted)",
                "registry",
            )
        )
    if "pregnancy_test" in rules:
        rows.append(
            (
                "pregnancy test",
                "a woman who could be pregnant needs a negative test within"
                f" {hours(e.pregnancy_test_window)} before the first treatment",
                "registry",
            )
        )
    rows.append(
        (
            "SBRT sites",
            f"up to {protocol.sbrt.max_treated_sites} metastases amenable to SBRT"
            f" ({and_list(site.replace('_', ' ') for site in protocol.sbrt.amenable_sites)}),"
            " none larger than"
            f" {format_quantity(protocol.sbrt.max_site_diameter)}",
            "registry",
        )
    )
    return rows


def _treatment(protocol: Protocol) -> list[tuple[str, str, str]]:
    il2, sbrt, crossover = protocol.il2, protocol.sbrt, protocol.crossover
    monday = il2.start_weekday
    per_course = il2.cycles_in_first_course
    scan_weeks = and_list(t.week for t in protocol.assessments.timepoints)
    sbrt_arms = and_list(f"arm {a.code}" for a in protocol.arms if a.receives_sbrt)
    scan_source = "registry" if protocol.assessments.registry else "not in the registry record"
    return [
        (
            "IL-2",
            f"starts on a {monday}; {format_quantity(il2.dose_per_kg)} of actual body weight"
            f" every {format_quantity(il2.dose_interval)}, at most {il2.max_doses_per_cycle}"
            f" doses per cycle and {il2.max_doses_first_course} over {per_course} cycles",
            "registry",
        ),
        (
            f"cycle {per_course}" if per_course == 2 else "later cycles of a course",
            "each cycle of a course after the first"
            f" ({calendar.registry_phrase_or_reading(il2.quote)}) is planned on the {monday}"
            f" {days(il2.cycle_interval)} after the previous cycle starts, and may start up to"
            f" {days(il2.allowed_delay)} later",
            "reading",
        ),
        (
            "responders",
            f"up to {il2.additional_cycles_for_responders} more cycles (registry), planned as"
            f" courses of {per_course} cycles from the {monday} each scan window closes",
            "reading",
        ),
        (
            "SBRT",
            f"{sbrt_arms}, and arm {crossover.from_arm} on crossover:"
            f" {format_quantity(sbrt.dose_per_fraction)} per fraction; {_fractions(protocol)}",
            "registry",
        ),
        (
            "crossover",
            f"arm {crossover.from_arm} patients progressing after cycle {crossover.after_cycle}:"
            f" SBRT by the same rule, cycle {crossover.first_cycle} on the {monday} after the"
            " last fraction, later cycles as in the first course, response scan"
            f" {weeks(crossover.response_assessment_after)} after cycle"
            f" {crossover.first_cycle} starts",
            "registry",
        ),
        (
            "scans",
            f"weeks {scan_weeks} after the first IL-2 dose ({scan_source}); each may be done up to"
            f" {days(protocol.assessments.window)} after its planned day",
            "reading",
        ),
        (
            "dose preparation",
            f"{format_quantity(il2.activity_per_mass_iu)} ="
            f" {format_quantity(il2.activity_per_mass_mg)};"
            f" {format_quantity(il2.reconstituted_concentration)} after reconstitution;"
            f" whole single-dose vials of {format_quantity(il2.vial_content)}",
            "label",
        ),
        (
            "dose given",
            "a dose given more than"
            f" {format_quantity(il2.dose_tolerance)} from the dose for the screening weight"
            " is reported as a deviation",
            "reading",
        ),
    ]


def _response(protocol: Protocol, ruleset: str | None) -> list[tuple[str, str, str]]:
    rules = protocol.response.ruleset(ruleset)
    reference = "smallest sum so far (the nadir)" if rules.pd_reference == "nadir" else "baseline"
    minimum = rules.pd_min_increase.to("mm").magnitude
    also = f" and at least {minimum:g} mm above it" if minimum > 0 else ""
    irradiated = (
        "irradiated lesions are left out"
        if protocol.response.exclude_irradiated
        else "irradiated lesions count like the others"
    )
    return [
        ("ruleset", f"{rules.name} ({rules.source}); {irradiated}", rules.name),
        (
            "PR",
            f"the sum at least {-rules.pr_change_from_baseline:g}% below the baseline sum",
            rules.name,
        ),
        (
            "PD",
            f"the sum at least {rules.pd_change_from_nadir:g}% above the {reference}{also};"
            " or clear growth of a non-target lesion; or an unequivocal new lesion",
            rules.name,
        ),
        (
            "CR",
            "every target lesion gone (lymph nodes below"
            f" {format_quantity(rules.node_pathological_min)} short axis); SD: none of the"
            " above",
            rules.name,
        ),
        *_irecist(protocol),
    ]


def _irecist(protocol: Protocol) -> list[tuple[str, str, str]]:
    """iRECIST, the sensitivity analysis (``[response.irecist]``), when the protocol has it."""
    rules = protocol.response.irecist
    if rules is None:
        return []
    return [
        (
            "iRECIST (sensitivity analysis)",
            "the first progression is unconfirmed (iUPD); a later scan confirms it (iCPD) by"
            f" {format_quantity(rules.confirm_min_increase)} more in the target sum or in the"
            " new target lesions' sum, or growth of a non-target or new non-target lesion (from"
            f" {weeks(rules.confirmation_window_min)} after the iUPD), or another new lesion;"
            " stable disease or a response again resets it; new lesions are measured apart, up"
            f" to {rules.new_target_max} as new targets ({rules.new_target_max_per_organ} per"
            " organ)",
            "irecist",
        )
    ]


def rulebook(protocol: Protocol | None = None, *, ruleset: str | None = None) -> pd.DataFrame:
    """Every rule a person is told, worded once from the protocol.

    Parameters
    ----------
    protocol
        The protocol (default: the bundled one).
    ruleset
        The response ruleset to word (default: the protocol's ``[response].default_ruleset``).

    Returns
    -------
    DataFrame
        ``topic`` (one of :data:`TOPICS`), ``what``, ``rule`` (a sentence with the protocol's
        numbers) and ``source`` (``registry``, ``reading``, ``label`` or the ruleset's name).
    """
    protocol = resolve_protocol(protocol)
    parts = {
        "design": _design(protocol),
        "screening": _screening(protocol),
        "treatment": _treatment(protocol),
        "response": _response(protocol, ruleset),
    }
    rows = [(topic, *row) for topic in TOPICS for row in parts[topic]]
    return pd.DataFrame(rows, columns=["topic", "what", "rule", "source"])


def rules_markdown(
    topic: str, protocol: Protocol | None = None, *, ruleset: str | None = None
) -> str:
    """One topic of the rulebook as Markdown bullets (``* **what**: rule.``), for a lesson.

    >>> print(rules_markdown("design").splitlines()[2])
    * **weekdays**: IL-2 starts on a Monday; the last SBRT fraction is on the Friday before.
    """
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; choose one of {', '.join(TOPICS)}")
    book = rulebook(protocol, ruleset=ruleset)
    rows = book[book["topic"] == topic]
    return "\n".join(
        f"* **{what}**: {rule}." for what, rule in zip(rows["what"], rows["rule"], strict=True)
    )
