"""The self-check questions of the tour, one bank per section, answered by the engines.

No answer is typed in: each is computed from the protocol the tour shows (default: the
bundled one) or by the engine the section teaches (eligibility, schedule, RECIST), and each
quotes the protocol or RECIST sentence it rests on. If ``protocol.toml`` changes, the answers
change with it; criteria are found by their rule, so each question names the file's own id.
"""

from __future__ import annotations

import pandas as pd

from studylib.dosing import il2_dose
from studylib.eligibility import screen
from studylib.protocol import Protocol, resolve_protocol
from studylib.recist.rulesets import get_ruleset
from studylib.recist.timepoint import timepoint_responses
from studylib.schedule import plan_treatment
from studylib.units import format_quantity
from studylib.widgets.quiz import Question
from studylib.widgets.recist import TargetLesion, teaching_frames, timepoints
from studylib.widgets.schedule import demo_start
from studylib.widgets.screening import DEMO_CANDIDATE, status_word
from studylib.wording import and_list, plural, weeks

__all__ = ["design_questions", "screening_questions", "schedule_questions", "response_questions"]


def _fractions_answer(enrollment_number: int, protocol: Protocol) -> str:
    rule = protocol.sbrt.fractionation_for(enrollment_number)
    return (
        f"patient {enrollment_number}: {plural(rule.fractions, 'fraction')} of "
        f"{format_quantity(protocol.sbrt.dose_per_fraction)} ({and_list(rule.weekdays)})"
    )


def _sbrt_arm(protocol: Protocol):
    return next(a for a in protocol.arms if a.receives_sbrt)


def design_questions(protocol: Protocol | None = None) -> list[Question]:
    """Questions on the design: fractions by enrolment number, the IL-2 weekday, crossover."""
    protocol = resolve_protocol(protocol)
    sbrt, il2, cross = protocol.sbrt, protocol.il2, protocol.crossover
    # The two patients either side of the first change of fractionation (or the first two
    # patients, when every patient gets the same).
    boundary = sbrt.fractionation[1] if len(sbrt.fractionation) > 1 else sbrt.fractionation[0]
    second_number = max(boundary.first_enrollment_number, 2)
    first, second = sbrt.fractionation_for(second_number - 1), sbrt.fractionation_for(second_number)
    quotes = " ".join(dict.fromkeys((first.quote, second.quote)))
    arm_a = protocol.arm(cross.from_arm)
    last_cycle = cross.first_cycle + cross.cycles - 1
    by_number = "fractions by enrolment number, " if len(sbrt.fractionation) > 1 else ""
    return [
        Question(
            prompt=(
                f"Patients {second_number - 1} and {second_number} (by enrolment number) are "
                f"both randomised to {_sbrt_arm(protocol).name}. How many SBRT fractions does "
                "each receive, and on which days?"
            ),
            answer=(
                f"{_fractions_answer(second_number - 1, protocol)};"
                f" {_fractions_answer(second_number, protocol)}. The last fraction is on the"
                f" {sbrt.last_fraction_weekday} before IL-2 starts."
            ),
            rule=quotes,
            source="protocol.toml [[sbrt.fractionation]]",
        ),
        Question(
            prompt="On which weekday does an IL-2 cycle start, and how often is a dose given?",
            answer=(
                f"On a {il2.start_weekday}; {format_quantity(il2.dose_per_kg)} every "
                f"{format_quantity(il2.dose_interval)}, up to {il2.max_doses_per_cycle} doses "
                "per cycle."
            ),
            rule=il2.quote,
            source="protocol.toml [il2]",
        ),
        Question(
            prompt=(
                f"A patient in arm {arm_a.code} ({arm_a.name}) has progressive disease after "
                f"cycle {cross.after_cycle}. What does the protocol offer?"
            ),
            answer=(
                f"Crossover: SBRT ({by_number}as in the SBRT arm), then IL-2 "
                f"cycles {cross.first_cycle} to {last_cycle}, starting on the "
                f"{il2.start_weekday} after the last fraction; the crossover response is read "
                f"{weeks(cross.response_assessment_after)} after cycle "
                f"{cross.first_cycle} starts."
            ),
            rule=cross.quote,
            source="protocol.toml [crossover]",
        ),
    ]


def _criterion_question(
    prompt: str, rule: str, protocol: Protocol, reading: str = "", **changes: object
) -> Question:
    """A question answered by screening the demo candidate with ``changes``, about the
    criterion the protocol judges by ``rule`` (named by the file's own id).

    ``reading`` adds a protocol reading to the criterion's own (e.g. how "<" is read).
    """
    result = screen({**DEMO_CANDIDATE, **changes}, protocol=protocol)
    verdict = result.for_rule(rule)
    criterion = protocol.eligibility.criterion(verdict.id)
    return Question(
        prompt=prompt,
        answer=(
            f"{verdict.id} {verdict.label}: {verdict.status}. {verdict.reason} "
            f"Overall: {status_word(result.status)}."
        ),
        rule=criterion.quote,
        source=f"protocol.toml [[eligibility.criteria]] {verdict.id}",
        reading=" ".join(r for r in (criterion.reading, reading) if r),
    )


def screening_questions(protocol: Protocol | None = None) -> list[Question]:
    """Questions on screening: a count in another unit, a limit hit exactly, SI creatinine,
    performance status, and a pregnancy test done too early. Each starts from the demo
    candidate (who meets every criterion) and changes one value; a protocol without the
    criterion a question is about leaves that question out."""
    protocol = resolve_protocol(protocol)
    rules = protocol.eligibility
    judged = {criterion.rule for criterion in rules.criteria}
    wbc_limit = float(rules.wbc_min.to("G_per_L").magnitude)
    creatinine_limit = rules.creatinine_max.to("mg/dL")
    # An SI creatinine just above the limit, so that only the conversion shows it fails.
    creatinine_si = round(float(creatinine_limit.to("µmol/L", "creatinine").magnitude) + 10, -1)
    start = pd.Timestamp(str(DEMO_CANDIDATE["planned_start_at"]))
    early = start - pd.Timedelta(days=4)
    asked = [
        (
            "wbc",
            "The laboratory reports a white cell count of 2,900/µL. Does the candidate pass "
            "the white blood cell criterion?",
            "",
            {"wbc": "2,900/µL"},
        ),
        (
            "wbc",
            f"The white cell count is exactly {wbc_limit:.1f} x10^9/L. Eligible on this criterion?",
            " ".join(rules.reading_comparisons.split()),
            {"wbc": f"{wbc_limit:.1f} x10^9/L"},
        ),
        (
            "creatinine",
            f"Creatinine is reported in SI units: {creatinine_si:g} µmol/L. Is it above the "
            f"protocol's limit of {creatinine_limit:~P}?",
            "",
            {"creatinine": f"{creatinine_si:g} µmol/L"},
        ),
        (
            "ecog",
            f"The candidate is up and about but cannot work (ECOG {rules.max_ecog + 1}). Can she"
            " enter the trial?",
            "",
            {"ecog": rules.max_ecog + 1},
        ),
        (
            "pregnancy_test",
            f"Her negative pregnancy test was taken on {early:%A %d %B %Y at %H:%M}, four days "
            f"before the planned first treatment ({start:%A %d %B %Y at %H:%M}). Is that enough?",
            "",
            {"pregnancy_test_at": early.isoformat()},
        ),
    ]
    return [
        _criterion_question(prompt, rule, protocol, reading, **changes)
        for rule, prompt, reading, changes in asked
        if rule in judged
    ]


def schedule_questions(protocol: Protocol | None = None) -> list[Question]:
    """Questions on the calendar: SBRT days, cycle 2's window, dose and vials, a start on the
    wrong weekday.

    Every date and amount is planned by :func:`studylib.schedule.plan_treatment` and
    :func:`studylib.dosing.il2_dose`."""
    protocol = resolve_protocol(protocol)
    il2, sbrt = protocol.il2, protocol.sbrt
    most = max(sbrt.fractionation, key=lambda r: r.fractions)
    number = most.first_enrollment_number
    start = demo_start(protocol)
    sbrt_arm, plain_arm = _sbrt_arm(protocol), protocol.arm(protocol.crossover.from_arm)
    plan = plan_treatment(sbrt_arm.code, number, start, "70 kg", protocol=protocol)
    events = plan.events
    fractions = events[events["event"] == "sbrt_fraction"]
    days = " and ".join(f"{d:%A %d %B}" for d in fractions["planned_at"])
    second = plan.cycles().set_index("cycle").loc[2]
    weight = "176 lb"
    dose = il2_dose(weight, protocol=protocol)
    steps = dose.preparation_table().set_index("item")
    vial_rule = steps.loc["Vials per dose", "rule"]
    next_day = start + pd.Timedelta(days=1)
    try:
        plan_treatment(plain_arm.code, number, next_day, "70 kg", protocol=protocol)
        refused = "The engine accepted it."
    except ValueError as error:
        refused = f"Not allowed. {error}."
    return [
        Question(
            prompt=(
                f"Patient {number} is randomised to {sbrt_arm.name} and IL-2 is to start on "
                f"{start:%A %d %B %Y}. On which days is the SBRT given?"
            ),
            answer=(
                f"{days} ({len(fractions)} fractions of "
                f"{format_quantity(sbrt.dose_per_fraction)}); the last one on the "
                f"{sbrt.last_fraction_weekday} before IL-2 starts."
            ),
            rule=f"{most.quote} {sbrt.quote}",
            source="protocol.toml [sbrt]",
        ),
        Question(
            prompt=(
                f"Cycle 1 started on that {il2.start_weekday}. When is cycle 2 planned, and how"
                " late may it start?"
            ),
            answer=(
                f"Planned {second['planned_start']:%A %d %B %H:%M}; it may slip to "
                f"{second['latest_start']:%A %d %B} at the latest. {second['rule']}."
            ),
            rule=il2.quote,
            source="protocol.toml [il2]",
            reading=" ".join(il2.reading.split()),
        ),
        Question(
            prompt=(
                f"The patient weighs {weight}. How much IL-2 is one dose, and how many vials "
                "does pharmacy prepare for each dose?"
            ),
            # The dose as the preparation table shows it (dosing.IL2Dose), not more precise.
            answer=(
                f"{dose.shown_iu} = {dose.miu:.1f} MIU ({dose.mg:.2f} mg) for "
                f"{dose.shown_weight}; {dose.vials} vials of "
                f"{format_quantity(il2.vial_content)} per dose."
            ),
            rule=il2.quote,
            source="protocol.toml [il2] and [il2.product] (Proleukin label)",
            reading=f"Vials: {vial_rule}.",
        ),
        Question(
            prompt=(
                f"The ward proposes to start IL-2 on {next_day:%A %d %B %Y} because"
                f" {il2.start_weekday} is full. What does the protocol say?"
            ),
            answer=refused,
            rule=il2.quote,
            source="protocol.toml [il2].start_weekday",
        ),
    ]


def _response_at(
    diameters: tuple, timepoint: str, protocol: Protocol, new_lesions: dict[str, str] | None = None
):
    """The engine's response row at ``timepoint`` for one target lesion with these diameters."""
    lesion = TargetLesion("T1", "liver", False, diameters)
    lesions, assessments = teaching_frames([lesion], None, new_lesions, protocol=protocol)
    result = timepoint_responses(lesions, assessments, protocol=protocol)
    return result.set_index("visit").loc[timepoint]


def response_questions(protocol: Protocol | None = None) -> list[Question]:
    """Questions on RECIST: the -30% line, the +20% and +5 mm rule from the nadir, new lesions."""
    protocol = resolve_protocol(protocol)
    rules = get_ruleset(protocol.response.default_ruleset, protocol=protocol)
    names = [name for name, _ in timepoints(protocol)]
    unseen = (None,) * (len(names) - 4)  # scans after the third follow-up: not done
    first, second = names[1], names[2]
    pr_drop = 1 + rules.pr_change_from_baseline / 100
    pd_rise = 1 + rules.pd_change_from_nadir / 100
    baseline, nadir, near_nadir_baseline = 50.0, 20.0, 25.0

    def ask(diameters, at, new=None) -> str:
        row = _response_at(diameters + unseen, at, protocol, new)
        return f"{row['overall_response']}. {row['reason']}."

    small_rise = nadir * pd_rise
    big_rise = nadir + float(rules.pd_min_increase.to("mm").magnitude)
    source = f'{rules.source}; protocol.toml [response.rulesets."{rules.name}"]'
    return [
        Question(
            prompt=(
                f"A patient has one target lesion: {baseline:g} mm at baseline, "
                f"{baseline * pr_drop:g} mm at {first}. What is the response at {first}?"
            ),
            answer=ask((baseline, baseline * pr_drop, None, None), first),
            rule=rules.quotes["quote_response"],
            source=source,
        ),
        Question(
            prompt=(
                f"Baseline {near_nadir_baseline:g} mm, {nadir:g} mm at {first} (the smallest "
                f"so far), {small_rise:g} mm at {second}: a rise of "
                f"{rules.pd_change_from_nadir:g}%. Is that progression?"
            ),
            answer=ask((near_nadir_baseline, nadir, small_rise, None), second),
            rule=rules.quotes["quote_response"],
            source=source,
        ),
        Question(
            prompt=f"Same patient, but {big_rise:g} mm at {second}?",
            answer=ask((near_nadir_baseline, nadir, big_rise, None), second),
            rule=rules.quotes["quote_response"],
            source=source,
        ),
        Question(
            prompt=(
                f"The target lesion shrinks from {baseline:g} to {nadir:g} mm at {first}, and "
                "the radiologist reports a possible new lesion in the liver (equivocal). Is "
                "that progression?"
            ),
            answer=ask((baseline, nadir, None, None), first, {first: "equivocal"}),
            rule="",
            source="protocol.toml [response].reading_new_lesions",
            reading=protocol.response.readings["reading_new_lesions"],
        ),
    ]
