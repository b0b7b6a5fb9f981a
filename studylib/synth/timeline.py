"""Every date of a synthetic cohort: screening, randomisation, SBRT, IL-2 cycles and scans.

The synthetic calendar is "the rules plus noise": every date the protocol fixes comes from
:mod:`studylib.calendar_rules` (the same rules the planner and the deviation review apply):
IL-2 cycles start on the protocol's weekday, a course's later cycle one cycle interval after
the previous one (sometimes after the allowed delay), SBRT fractions on the fractionation
rule's weekdays before the first IL-2 dose, responders' courses when a scan window closes,
scans at their weeks. The noise is the generator's own: screening and randomisation days,
how often a delay is used, when within its window a scan is done, the baseline scan within
the baseline window. Crossover patients receive SBRT before the crossover's first cycle,
which starts so that the crossover scan falls the crossover assessment interval after it.

All dates are whole days since 1970-01-01 (see :mod:`studylib.synth.calendar`); ``-1`` marks
what does not happen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib import calendar_rules as rules
from studylib.protocol import Protocol
from studylib.synth import calendar as cal
from studylib.synth.facts import TrialFacts
from studylib.synth.plan import timepoints
from studylib.wording import whole_days

__all__ = ["build_timeline", "first_dose_minute", "max_fractions", "SBRT_MINUTE"]

#: Synthetic convention (not a protocol rule): the clinic treats SBRT at 10:00. IL-2 starts at
#: the protocol's ``[il2].first_dose_time``.
SBRT_MINUTE = 10 * 60
# Synthetic choices: days from screening to randomisation, from randomisation to the first
# possible IL-2 Monday (time to plan SBRT), and how often cycle 2 uses the allowed delay.
_RANDOMISED_AFTER = (1, 6)
_PLANNING_DAYS = 10
_DELAYED_CYCLE_SHARE = 0.12


def first_dose_minute(protocol: Protocol) -> int:
    """Minutes after midnight of a cycle's first IL-2 dose (``[il2].first_dose_time``)."""
    time = protocol.il2.first_dose_time
    return time.hour * 60 + time.minute


def max_fractions(protocol: Protocol) -> int:
    """The most SBRT fractions any enrollment number receives."""
    return max(rule.fractions for rule in protocol.sbrt.fractionation)


def _fraction_days(numbers: np.ndarray, start: np.ndarray, protocol: Protocol) -> np.ndarray:
    """SBRT fraction days (n x max fractions, ``-1`` when fewer) before each IL-2 start."""
    out = np.full((len(numbers), max_fractions(protocol)), cal.NONE, dtype=np.int64)
    due = rules.fraction_days(numbers, start, protocol)
    out[due["row"].to_numpy(), due["number"].to_numpy() - 1] = cal.days_of(due["planned_on"])
    return out


def _next_cycle(day: np.ndarray, delayed: np.ndarray, protocol: Protocol) -> np.ndarray:
    """The next cycle of a course: planned, or, where ``delayed``, on the last start weekday
    the allowed delay leaves."""
    planned, _ = rules.next_cycle(day, protocol)
    latest = rules.last_start_day(planned, protocol)
    return np.where(delayed, cal.days_of(latest), cal.days_of(planned))


def _add_course(cycles, first_number, count, start, rng, protocol: Protocol) -> None:
    """Add a course of ``count`` cycles starting on ``start`` (``-1``: none) to ``cycles``.

    Each later cycle follows the rules' next-cycle window, sometimes on its last day.
    """
    day = start
    for number in range(first_number, first_number + count):
        if number > first_number:
            delayed = rng.random(len(day)) < _DELAYED_CYCLE_SHARE
            day = np.where(day >= 0, _next_cycle(day, delayed, protocol), -1)
        previous = cycles.get(number, np.full(len(day), cal.NONE, dtype=np.int64))
        cycles[number] = np.where(day >= 0, day, previous)


def build_timeline(
    plan: pd.DataFrame,
    facts: TrialFacts,
    deviations: dict[str, int],
    rng: np.random.Generator,
    protocol: Protocol,
) -> pd.DataFrame:
    """The dates of every screened patient, aligned with ``plan``.

    Columns (day numbers unless said otherwise): ``screening_date``, ``planned_start_minute``
    (minutes), ``randomized_on``, ``cycle_1``, ... (every IL-2 cycle, the crossover's too),
    ``sbrt_1``, ``sbrt_2``, ... (scheduled fraction days before cycle 1, as many as the most
    fractions a rule gives), ``sbrt_given_1``, ..., ``xo_sbrt_1``, ... (before the crossover's
    first cycle), ``scan_0`` (baseline),
    ``scan_1`` ... (the protocol's scheduled scans), ``scan_xo`` (crossover baseline), and
    ``did_scan_*`` flags saying which scans were done.
    """
    n = len(plan)
    il2 = protocol.il2
    tp = timepoints(protocol)
    start_day = il2.start_weekday
    window = whole_days(protocol.assessments.window)
    baseline_within = whole_days(protocol.assessments.baseline_within)
    enrolled = plan["outcome"].eq("enrolled").to_numpy()
    crossover = plan["crossover"].to_numpy()
    sbrt_arms = [a.code for a in protocol.arms if a.receives_sbrt]
    gets_sbrt = np.isin(plan["arm"].to_numpy(), sbrt_arms)
    numbers = plan["enrollment_number"].to_numpy()
    width = max_fractions(protocol)

    first = cal.day_number(facts.first_enrollment)
    last = cal.day_number(facts.last_enrollment)
    screening = np.sort(rng.integers(first, last - _RANDOMISED_AFTER[1] - 3, n))
    screening = cal.to_workday(screening, forward=True)

    randomized = np.full(n, cal.NONE, dtype=np.int64)
    drawn = screening + rng.integers(*_RANDOMISED_AFTER, n)
    drawn = cal.to_workday(drawn, forward=True)
    randomized[enrolled] = np.minimum(np.maximum.accumulate(drawn[enrolled]), last)

    first_monday = cal.days_of(rules.first_on_or_after(randomized + _PLANNING_DAYS, start_day))
    cycle_1 = np.where(enrolled, first_monday, -1)
    cycles = {1: cycle_1}
    for number in range(2, il2.cycles_in_first_course + 1):
        delayed = rng.random(n) < _DELAYED_CYCLE_SHARE
        cycles[number] = np.where(enrolled, _next_cycle(cycles[number - 1], delayed, protocol), -1)
        if number == 2 and "late_cycle" in deviations:
            # a week after the last start weekday the delay allows; later cycles follow it
            row = deviations["late_cycle"]
            planned, _ = rules.next_cycle(cycle_1[row : row + 1], protocol)
            cycles[2][row] = cal.days_of(rules.last_start_day(planned, protocol))[0] + 7

    sbrt = np.full((n, width), cal.NONE, dtype=np.int64)
    primary_sbrt = enrolled & gets_sbrt
    sbrt[primary_sbrt] = _fraction_days(numbers[primary_sbrt], cycle_1[primary_sbrt], protocol)
    sbrt_given = sbrt.copy()
    if "sbrt_weekday" in deviations:
        sbrt_given[deviations["sbrt_weekday"], 0] -= 1

    xo = protocol.crossover
    xo_weeks = tp.weeks[tp.crossover - 1]
    after = whole_days(xo.response_assessment_after)
    # Synthetic choice: the crossover starts so that its response scan (the crossover
    # assessment interval after its first dose) falls on the protocol's crossover scan.
    xo_start = cal.days_of(rules.first_on_or_after(cycle_1 + 7 * xo_weeks - after, start_day))
    _add_course(cycles, xo.first_cycle, xo.cycles, np.where(crossover, xo_start, -1), rng, protocol)

    # Responders' further courses start on the start weekday the window of the scan that
    # showed the response closes ([il2].responder_courses_reading).
    per_course = il2.cycles_in_first_course
    responds_at = plan["responds_at"].to_numpy()
    courses = plan["responder_courses"].to_numpy()
    for k in range(int(courses.max(initial=0))):
        scan = responds_at + k
        week = np.array(tp.weeks)[np.clip(scan - 1, 0, len(tp.weeks) - 1)]
        start = cal.days_of(rules.responder_course_start(cycle_1, week, protocol))
        first_number = per_course * (k + 1) + 1
        _add_course(
            cycles, first_number, per_course, np.where(courses > k, start, -1), rng, protocol
        )

    xo_sbrt = np.full((n, width), cal.NONE, dtype=np.int64)
    xo_sbrt[crossover] = _fraction_days(numbers[crossover], xo_start[crossover], protocol)

    first_treatment = np.where(primary_sbrt, sbrt_given[:, 0], cycle_1)
    baseline = first_treatment - rng.integers(2, baseline_within - 2, n)
    baseline = np.where(enrolled, cal.to_workday(baseline, forward=False), -1)
    columns = {
        "screening_date": screening,
        "randomized_on": randomized,
        **{f"cycle_{number}": day for number, day in sorted(cycles.items())},
        "scan_0": baseline,
    }
    progress_at = plan["progress_at"].to_numpy()
    # iRECIST: some progressors have the next scan too, to confirm or reset the progression.
    scanned_again = plan["beyond_progression"].to_numpy() != ""
    latest = min(4, window)
    scans = rules.scan_days(cycle_1, protocol)
    for k in range(1, len(tp.weeks) + 1):
        planned = cal.days_of(scans.loc[scans["number"] == k, "planned_on"])
        columns[f"scan_{k}"] = np.where(enrolled, planned + rng.integers(0, latest + 1, n), -1)
        done = enrolled & (
            (progress_at == 0) | (k <= progress_at) | (scanned_again & (k == progress_at + 1))
        )
        if k == tp.crossover:
            done |= crossover
        elif k > tp.first:
            done &= ~crossover
        columns[f"did_scan_{k}"] = done
    columns["did_scan_0"] = enrolled
    xo_baseline = xo_sbrt[:, 0] - rng.integers(2, min(16, baseline_within - 2), n)
    columns["scan_xo"] = np.where(crossover, cal.to_workday(xo_baseline, forward=False), -1)
    columns["did_scan_xo"] = crossover
    for k in range(width):
        columns[f"sbrt_{k + 1}"] = sbrt[:, k]
        columns[f"sbrt_given_{k + 1}"] = sbrt_given[:, k]
        columns[f"xo_sbrt_{k + 1}"] = xo_sbrt[:, k]

    planned_if_screened = cal.days_of(rules.first_on_or_after(screening + 14, start_day))
    il2_start = np.where(enrolled, cycle_1, planned_if_screened)
    columns["planned_start_minute"] = np.where(
        primary_sbrt,
        sbrt[:, 0] * cal.MINUTES_PER_DAY + SBRT_MINUTE,
        il2_start * cal.MINUTES_PER_DAY + first_dose_minute(protocol),
    )
    return pd.DataFrame(columns)
