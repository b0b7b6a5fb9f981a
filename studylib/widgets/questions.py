"""The self-check questions of the tour, one bank per section, answered by the engines.

No answer is typed in: each is computed from :data:`studylib.protocol.PROTOCOL` or by the
engine the section teaches (eligibility, schedule, RECIST), and each quotes the protocol or
RECIST sentence it rests on. If ``protocol.toml`` changes, the answers change with it.
"""

from __future__ import annotations

import pandas as pd

from studylib.dosing import il2_dose
from studylib.eligibility import screen
from studylib.protocol import PROTOCOL
from studylib.recist.rulesets import get_ruleset
from studylib.recist.timepoint import timepoint_responses
from studylib.schedule import plan_treatment
from studylib.units import format_quantity
from studylib.widgets.quiz import Question
from studylib.widgets.recist import TargetLesion, teaching_frames, timepoints
from studylib.widgets.schedule import demo_start
from studylib.widgets.screening import DEMO_CANDIDATE, status_word

__all__ = ["design_questions", "screening_questions", "schedule_questions", "response_questions"]


def _weeks(quantity) -> str:
    return f"{round(float(quantity.to('week').magnitude))} weeks"


def _fractions_answer(enrollment_number: int) -> str:
    rule = PROTOCOL.sbrt.fractionation_for(enrollment_number)
    days = " and ".join(rule.weekdays)
    plural = "s" if rule.fractions > 1 else ""
    return (
        f"patient {enrollment_number}: {rule.fractions} fraction{plural} of "
        f"{format_quantity(PROTOCOL.sbrt.dose_per_fraction)} ({days})"
    )


def design_questions() -> list[Question]:
    """Questions on the design: fractions by enrolment number, the IL-2 weekday, crossover."""
    sbrt, il2, cross = PROTOCOL.sbrt, PROTOCOL.il2, PROTOCOL.crossover
    boundary = sbrt.fractionation[1].first_enrollment_number
    first, second = sbrt.fractionation_for(boundary - 1), sbrt.fractionation_for(boundary)
    arm_a = PROTOCOL.arm(cross.from_arm)
    last_cycle = cross.first_cycle + cross.cycles - 1
    return [
        Question(
            prompt=(
                f"Patients {boundary - 1} and {boundary} (by enrolment number) are both "
                "randomised to SBRT + IL-2. How many SBRT fractions does each receive, and on "
                "which days?"
            ),
            answer=(
                f"{_fractions_answer(boundary - 1)}; {_fractions_answer(boundary)}. The last "
                f"fraction is on the {sbrt.last_fraction_weekday} before IL-2 starts."
            ),
            rule=f"{first.quote} {second.quote}",
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
                f"Crossover: SBRT (fractions by enrolment number, as in the SBRT arm), then IL-2 "
                f"cycles {cross.first_cycle} to {last_cycle}, starting on the "
                f"{il2.start_weekday} after the last fraction; the crossover response is read "
                f"{_weeks(cross.response_assessment_after)} after cycle "
                f"{cross.first_cycle} starts."
            ),
            rule=cross.quote,
            source="protocol.toml [crossover]",
        ),
    ]


def _criterion_question(
    prompt: str, criterion_id: str, reading: str = "", **changes: object
) -> Question:
    """A question answered by screening the demo candidate with ``changes``.

    ``reading`` adds a protocol reading to the criterion's own (e.g. how "<" is read).
    """
    result = screen({**DEMO_CANDIDATE, **changes})
    verdict = result.criterion(criterion_id)
    rule = PROTOCOL.eligibility.criterion(criterion_id)
    return Question(
        prompt=prompt,
        answer=(
            f"{criterion_id} {verdict.label}: {verdict.status}. {verdict.reason} "
            f"Overall: {status_word(result.status)}."
        ),
        rule=rule.quote,
        source=f"protocol.toml [[eligibility.criteria]] {criterion_id}",
        reading=" ".join(r for r in (rule.reading, reading) if r),
    )


def screening_questions() -> list[Question]:
    """Questions on screening: a count in another unit, a limit hit exactly, SI creatinine,
    performance status, and a pregnancy test done too early. Each starts from the demo
    candidate (who meets every criterion) and changes one value."""
    rules = PROTOCOL.eligibility
    wbc_limit = float(rules.wbc_min.to("G_per_L").magnitude)
    creatinine_limit = rules.creatinine_max.to("mg/dL")
    # An SI creatinine just above the limit, so that only the conversion shows it fails.
    creatinine_si = round(float(creatinine_limit.to("µmol/L", "creatinine").magnitude) + 10, -1)
    start = pd.Timestamp(str(DEMO_CANDIDATE["planned_start_at"]))
    early = start - pd.Timedelta(days=4)
    return [
        _criterion_question(
            "The laboratory reports a white cell count of 2,900/µL. Does the candidate pass "
            "the white blood cell criterion?",
            "EXCL08",
            wbc="2,900/µL",
        ),
        _criterion_question(
            f"The white cell count is exactly {wbc_limit:.1f} x10^9/L. Eligible on this criterion?",
            "EXCL08",
            reading=" ".join(rules.reading_comparisons.split()),
            wbc=f"{wbc_limit:.1f} x10^9/L",
        ),
        _criterion_question(
            f"Creatinine is reported in SI units: {creatinine_si:g} µmol/L. Is it above the "
            f"protocol's limit of {creatinine_limit:~P}?",
            "EXCL12",
            creatinine=f"{creatinine_si:g} µmol/L",
        ),
        _criterion_question(
            "The candidate is up and about but cannot work (ECOG 2). Can she enter the trial?",
            "INCL04",
            ecog=2,
        ),
        _criterion_question(
            f"Her negative pregnancy test was taken on {early:%A %d %B %Y at %H:%M}, four days "
            f"before the planned first treatment ({start:%A %d %B %Y at %H:%M}). Is that enough?",
            "INCL05",
            pregnancy_test_at=early.isoformat(),
        ),
    ]


def schedule_questions() -> list[Question]:
    """Questions on the calendar: SBRT days, cycle 2's window, dose and vials, a Tuesday start.

    Every date and amount is planned by :func:`studylib.schedule.plan_treatment` and
    :func:`studylib.dosing.il2_dose`."""
    il2, sbrt = PROTOCOL.il2, PROTOCOL.sbrt
    two_fractions = next(r for r in sbrt.fractionation if r.fractions > 1)
    number = two_fractions.first_enrollment_number
    plan = plan_treatment("B", number, demo_start(), "70 kg")
    events = plan.events
    fractions = events[events["event"] == "sbrt_fraction"]
    days = " and ".join(f"{d:%A %d %B}" for d in fractions["planned_at"])
    second = plan.cycles().set_index("cycle").loc[2]
    weight = "176 lb"
    dose = il2_dose(weight)
    steps = dose.preparation_table().set_index("item")
    vial_rule = steps.loc["Vials per dose", "rule"]
    tuesday = demo_start() + pd.Timedelta(days=1)
    try:
        plan_treatment("A", number, tuesday, "70 kg")
        refused = "The engine accepted it."
    except ValueError as error:
        refused = f"Not allowed. {error}."
    return [
        Question(
            prompt=(
                f"Patient {number} is randomised to SBRT + IL-2 and IL-2 is to start on "
                f"{demo_start():%A %d %B %Y}. On which days is the SBRT given?"
            ),
            answer=(
                f"{days} ({len(fractions)} fractions of "
                f"{format_quantity(sbrt.dose_per_fraction)}); the last one on the "
                f"{sbrt.last_fraction_weekday} before IL-2 starts."
            ),
            rule=f"{two_fractions.quote} {sbrt.quote}",
            source="protocol.toml [sbrt]",
        ),
        Question(
            prompt=(
                "Cycle 1 started on that Monday. When is cycle 2 planned, and how late may it "
                "start?"
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
                f"The ward proposes to start IL-2 on {tuesday:%A %d %B %Y} because Monday is "
                "full. What does the protocol say?"
            ),
            answer=refused,
            rule=il2.quote,
            source="protocol.toml [il2].start_weekday",
        ),
    ]


def _response_at(diameters: tuple, timepoint: str, new_lesions: dict[str, str] | None = None):
    """The engine's response row at ``timepoint`` for one target lesion with these diameters."""
    lesion = TargetLesion("T1", "liver", False, diameters)
    lesions, assessments = teaching_frames([lesion], None, new_lesions)
    result = timepoint_responses(lesions, assessments)
    return result.set_index("visit").loc[timepoint]


def response_questions() -> list[Question]:
    """Questions on RECIST: the -30% line, the +20% and +5 mm rule from the nadir, new lesions."""
    rules = get_ruleset(PROTOCOL.response.default_ruleset)
    names = [name for name, _ in timepoints()]
    first, second = names[1], names[2]
    pr_drop = 1 + rules.pr_change_from_baseline / 100
    pd_rise = 1 + rules.pd_change_from_nadir / 100
    baseline, nadir, near_nadir_baseline = 50.0, 20.0, 25.0

    def ask(diameters, at, new=None) -> str:
        row = _response_at(diameters, at, new)
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
            reading=PROTOCOL.response.readings["reading_new_lesions"],
        ),
    ]
