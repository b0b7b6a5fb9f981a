"""The one treatment calendar: the protocol's date rules, applied to whole tables.

Three users share these rules, so that a date is computed, and worded, in one place:

- the planner (:mod:`studylib.schedule`) is "plan = rules": a patient's calendar;
- the deviation review (:mod:`studylib.deviations`) is "actual against rules": each cycle
  and fraction given, against the date the rules give from what happened before it;
- the synthetic cohort (:mod:`studylib.synth`) is "rules + noise", for thousands of patients.

Every function takes the protocol and works on whole columns (pandas Series of dates, or
numpy ``datetime64[D]`` arrays) and returns dates with the sentence of the rule that produced
them. Dates are calendar days (midnight); dose times add the protocol's first-dose time.

>>> from studylib.protocol import load_protocol
>>> bundled = load_protocol()
>>> friday = pd.Series(pd.to_datetime(["2024-03-01"]))
>>> first_after(friday, "Monday").dt.date.tolist()
[datetime.date(2024, 3, 4)]
>>> planned, latest = next_cycle(pd.Series(pd.to_datetime(["2024-03-04"])), bundled)
>>> planned.dt.date.tolist(), latest.dt.date.tolist()
([datetime.date(2024, 3, 18)], [datetime.date(2024, 3, 25)])

References
----------
ClinicalTrials.gov NCT01416831, arms and interventions (quoted in ``protocol.toml``
``[il2]``, ``[sbrt]``, ``[crossover]``, ``[assessments]``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from studylib.protocol import WEEKDAYS, Fractionation, Protocol
from studylib.wording import and_list, days, fraction_group, plural, whole_days, whole_hours

__all__ = [
    "weekday_number",
    "first_on_or_after",
    "first_after",
    "last_before",
    "fractionation_of",
    "fractions_due",
    "fraction_days",
    "next_cycle",
    "last_start_day",
    "il2_start_after",
    "dose_times",
    "scan_days",
    "responder_course_start",
    "registry_phrase",
    "registry_phrase_or_reading",
    "sentence_with",
    "cited",
    "start_weekday_rule",
    "first_cycle_rule",
    "next_cycle_rule",
    "responder_cycle_rule",
    "crossover_cycle_rule",
    "fraction_rule",
    "fraction_count_rule",
    "fraction_ranges",
    "scan_rule",
    "crossover_scan_rule",
]

_DAY = np.timedelta64(1, "D")


def weekday_number(name: str) -> int:
    """Monday = 0 ... Sunday = 6, from the weekday's name as the protocol writes it."""
    return WEEKDAYS.index(name)


def _days_array(dates) -> np.ndarray:
    """Calendar days as ``datetime64[D]`` (NaT stays NaT)."""
    if isinstance(dates, pd.Series):
        return dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return np.asarray(dates).astype("datetime64[D]")


def _like(dates, days_array: np.ndarray):
    """``days_array`` in the type ``dates`` came in (a Series keeps its index)."""
    if isinstance(dates, pd.Series):
        return pd.Series(days_array.astype("datetime64[us]"), index=dates.index)
    return days_array


def _weekday(days_array: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday (3 with Monday = 0).
    return (days_array.astype("int64") + 3) % 7


def first_on_or_after(dates, weekday: str):
    """The first ``weekday`` on or after each date."""
    day = _days_array(dates)
    return _like(dates, day + ((weekday_number(weekday) - _weekday(day)) % 7) * _DAY)


def first_after(dates, weekday: str):
    """The first ``weekday`` strictly after each date (the Monday after a Friday fraction)."""
    day = _days_array(dates)
    ahead = (weekday_number(weekday) - _weekday(day)) % 7
    return _like(dates, day + np.where(ahead == 0, 7, ahead) * _DAY)


def last_before(dates, weekday: str):
    """The last ``weekday`` strictly before each date (the Friday before a Monday start)."""
    day = _days_array(dates)
    back = (_weekday(day) - weekday_number(weekday)) % 7
    return _like(dates, day - np.where(back == 0, 7, back) * _DAY)


# ---------------------------------------------------------------------------------------------
# SBRT fractions


def fractionation_of(enrollment_numbers, protocol: Protocol) -> np.ndarray:
    """The index in ``protocol.sbrt.fractionation`` of each enrollment number's rule (-1: none)."""
    numbers = np.asarray(pd.to_numeric(pd.Series(enrollment_numbers)), dtype="float64")
    which = np.full(len(numbers), -1, dtype=np.int64)
    for k, rule in enumerate(protocol.sbrt.fractionation):
        last = rule.last_enrollment_number if rule.last_enrollment_number else np.inf
        which[(numbers >= rule.first_enrollment_number) & (numbers <= last)] = k
    return which


def fractions_due(enrollment_numbers, protocol: Protocol) -> np.ndarray:
    """How many SBRT fractions each enrollment number receives (0 where no rule covers it)."""
    counts = np.array([0] + [rule.fractions for rule in protocol.sbrt.fractionation])
    return counts[fractionation_of(enrollment_numbers, protocol) + 1]


def fraction_days(
    enrollment_numbers, il2_starts, protocol: Protocol, *, cycle: int = 1
) -> pd.DataFrame:
    """Every SBRT fraction the rules give before each IL-2 start, one row per fraction.

    The last fraction falls on the protocol's last-fraction weekday immediately before the
    start (a Friday before a Monday), the others on their weekdays of the days before it
    (registry: "the doses can be administered on the Wednesday and Friday before IL-2
    starts").

    Returns
    -------
    DataFrame
        ``row`` (position in the inputs), ``number``, ``fractions`` (due in all),
        ``weekday``, ``planned_on`` (``datetime64[D]``; NaT where the start is missing) and
        ``rule`` (:func:`fraction_rule`).
    """
    which = fractionation_of(enrollment_numbers, protocol)
    starts = _days_array(il2_starts)
    last = last_before(starts, protocol.sbrt.last_fraction_weekday)
    last_number = weekday_number(protocol.sbrt.last_fraction_weekday)
    frames = []
    for k, rule in enumerate(protocol.sbrt.fractionation):
        rows = np.flatnonzero(which == k)
        for number, weekday in enumerate(rule.weekdays, start=1):
            back = (last_number - weekday_number(weekday)) % 7
            frames.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "number": number,
                        "fractions": rule.fractions,
                        "weekday": weekday,
                        "planned_on": last[rows] - back * _DAY,
                        "rule": fraction_rule(number, rule, cycle, protocol),
                    }
                )
            )
    columns = ["row", "number", "fractions", "weekday", "planned_on", "rule"]
    if not frames:
        return pd.DataFrame({c: [] for c in columns})
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["row", "number"], kind="stable", ignore_index=True)[columns]


# ---------------------------------------------------------------------------------------------
# IL-2 cycles and doses


def next_cycle(previous_starts, protocol: Protocol):
    """The window of the cycle that follows a cycle in the same course: ``(planned, latest)``.

    Registry: "The second cycle is planned 16 days after cycle 1 but may be delayed up to one
    week", read (``[il2].reading``) as one cycle interval after the previous cycle's start, up
    to the allowed delay later. Both dates come back in the input's type (a Series keeps its
    index).
    """
    start = _days_array(previous_starts)
    planned = start + whole_days(protocol.il2.cycle_interval) * _DAY
    latest = planned + whole_days(protocol.il2.allowed_delay) * _DAY
    return _like(previous_starts, planned), _like(previous_starts, latest)


def last_start_day(planned, protocol: Protocol):
    """The last day within a cycle's allowed delay that falls on the start weekday: the latest
    a delayed cycle can still start by both rules ("IL-2 will be given on a Monday", "may be
    delayed up to one week"); the planned day itself when the delay is under a week."""
    weeks_of_delay = whole_days(protocol.il2.allowed_delay) // 7
    return _like(planned, _days_array(planned) + 7 * weeks_of_delay * _DAY)


def il2_start_after(last_fraction_on, protocol: Protocol):
    """The IL-2 start after SBRT: the first start weekday after the last fraction.

    Registry (crossover): "IL-2 will be given on the Monday following the last dose of
    radiation".
    """
    return first_after(last_fraction_on, protocol.il2.start_weekday)


def dose_times(first_doses, protocol: Protocol) -> pd.DataFrame:
    """Every dose slot of the cycles starting at ``first_doses`` (date-times), one row each.

    Registry: "every 8 hours for up to 14 doses each cycle".

    Returns
    -------
    DataFrame
        ``row`` (position in the input), ``number`` (1 to the protocol's maximum per cycle)
        and ``planned_at``.
    """
    starts = np.asarray(pd.Series(first_doses).to_numpy(dtype="datetime64[us]"))
    count = protocol.il2.max_doses_per_cycle
    step = np.timedelta64(int(round(whole_hours(protocol.il2.dose_interval) * 3600)), "s")
    offsets = np.arange(count) * step
    return pd.DataFrame(
        {
            "row": np.repeat(np.arange(len(starts)), count),
            "number": np.tile(np.arange(1, count + 1), len(starts)),
            "planned_at": (starts[:, None] + offsets[None, :]).ravel().astype("datetime64[us]"),
        }
    )


def scan_days(first_doses, protocol: Protocol) -> pd.DataFrame:
    """Every scheduled scan after each first IL-2 dose, one row per patient and timepoint.

    Registry: scans "after one course of IL-2 (7 weeks), and after each subsequent course of
    IL-2 (Weeks 14 and 21)", counted from the first IL-2 dose; each may be done up to the
    assessment window later (``[assessments].reading``).

    Returns
    -------
    DataFrame
        ``row``, ``number`` (1-based timepoint), ``name``, ``purpose``, ``week``,
        ``planned_on``, ``latest_on`` and ``rule``.
    """
    day = _days_array(first_doses)
    window = whole_days(protocol.assessments.window) * _DAY
    frames = [
        pd.DataFrame(
            {
                "row": np.arange(len(day)),
                "number": number,
                "name": timepoint.name,
                "purpose": timepoint.purpose,
                "week": timepoint.week,
                "planned_on": day + 7 * timepoint.week * _DAY,
                "latest_on": day + 7 * timepoint.week * _DAY + window,
                "rule": scan_rule(timepoint.name, timepoint.week, protocol),
            }
        )
        for number, timepoint in enumerate(protocol.assessments.timepoints, start=1)
    ]
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["row", "number"], kind="stable", ignore_index=True)


def responder_course_start(first_doses, scan_week, protocol: Protocol):
    """The first cycle of a responder's further course: the start weekday on or after the day
    the window of the scan that showed the response closes (``[il2].responder_courses_reading``).
    """
    day = _days_array(first_doses)
    week = np.asarray(scan_week)
    closes = day + (7 * week + whole_days(protocol.assessments.window)) * _DAY
    return _like(first_doses, first_on_or_after(closes, protocol.il2.start_weekday))


# ---------------------------------------------------------------------------------------------
# The rules in words: one sentence per rule, used by the plan, the review and the reports


#: The registry's wording of the interval before a course's second cycle ("planned 16 days
#: after cycle 1"), found in its quotes so that no number of it is typed here.
SECOND_CYCLE_PHRASE = r"planned \d+ days? after cycle \d+"


def registry_phrase(quote: str, pattern: str = SECOND_CYCLE_PHRASE) -> str:
    """The words of a registry quote matching ``pattern``, to cite a rule the workbook reads.

    >>> from studylib.protocol import load_protocol
    >>> registry_phrase(load_protocol().il2.quote)
    'planned 16 days after cycle 1'
    """
    found = re.search(pattern, quote, flags=re.IGNORECASE)
    if found is None:
        raise ValueError(f"no {pattern!r} in the registry quote {quote!r}")
    return found.group(0)


def sentence_with(quote: str, *words: str) -> str:
    """The sentence of a registry quote that holds every word (the whole quote otherwise)."""
    for sentence in re.split(r"(?<=[.!?])\s+", quote):
        if all(word.lower() in sentence.lower() for word in words):
            return sentence
    return quote


def registry_phrase_or_reading(quote: str) -> str:
    """How a rule cites the registry's interval: its own words when the quote has them."""
    try:
        return f"reading of the registry's '{registry_phrase(quote)}'"
    except ValueError:
        return "reading: [il2].reading of the protocol file"


def cited(quote: str, words: str, entry: str) -> str:
    """``registry: 'words'`` when the registry quote holds these words, else the protocol
    file's entry that gives the rule (a file whose quote does not say it is not misquoted).

    >>> cited("IL-2 will be given on a Monday at a dose of ...", "given on a Monday", "[il2]")
    "registry: 'given on a Monday'"
    >>> cited("IL-2 will be given on a Monday", "given on a Tuesday", "[il2].start_weekday")
    'protocol file: [il2].start_weekday'
    """
    if words.lower() in " ".join(quote.split()).lower():
        return f"registry: '{words}'"
    return f"protocol file: {entry}"


def start_weekday_rule(protocol: Protocol) -> str:
    """Where the start weekday comes from, for messages: the registry's words, or the file."""
    weekday = protocol.il2.start_weekday
    return cited(protocol.il2.quote, f"IL-2 will be given on a {weekday}", "[il2].start_weekday")


def first_cycle_rule(protocol: Protocol) -> str:
    """The rule that dates cycle 1: the start weekday given."""
    return (
        f"IL-2 cycle 1: starts on the {protocol.il2.start_weekday} given"
        f" ({start_weekday_rule(protocol)})"
    )


def next_cycle_rule(
    cycle: int, previous: int, protocol: Protocol, *, crossover: bool = False
) -> str:
    """The rule that dates a course's next cycle from the previous one's start."""
    il2 = protocol.il2
    quote = protocol.crossover.quote if crossover else il2.quote
    interval, delay = whole_days(il2.cycle_interval), whole_days(il2.allowed_delay)
    return (
        f"IL-2 cycle {cycle}: {days(il2.cycle_interval)} after the start of cycle {previous},"
        f" up to {days(il2.allowed_delay)} later ({interval}-{interval + delay} days;"
        f" {registry_phrase_or_reading(quote)})"
    )


def responder_cycle_rule(cycle: int, scan_name: str, protocol: Protocol) -> str:
    """The rule that dates the first cycle of a responder's further course."""
    il2 = protocol.il2
    return (
        f"IL-2 cycle {cycle} (responders): the {il2.start_weekday} the {scan_name} scan window"
        f" closes, up to {days(il2.allowed_delay)} later (reading: responder courses)"
    )


def crossover_cycle_rule(protocol: Protocol) -> str:
    """The rule that dates the crossover's first cycle: the start weekday after SBRT."""
    weekday = protocol.il2.start_weekday
    first = protocol.crossover.first_cycle
    source = cited(
        protocol.crossover.quote,
        f"IL-2 will be given on the {weekday} following the last dose of radiation",
        "[il2].start_weekday and [crossover]",
    )
    return f"IL-2 cycle {first} (crossover): the {weekday} after the last SBRT fraction ({source})"


def _numbers(rule: Fractionation, template: str = "{numbers}") -> str:
    return fraction_group(
        rule.first_enrollment_number, rule.last_enrollment_number, template=template
    )


def fraction_rule(number: int, rule: Fractionation, cycle: int, protocol: Protocol) -> str:
    """The rule that dates one SBRT fraction before the IL-2 start of ``cycle``."""
    gy = f"{protocol.sbrt.dose_per_fraction.to('Gy').magnitude:g} Gy"
    which = "the last fraction" if number == rule.fractions else f"fraction {number}"
    weekday = rule.weekdays[number - 1]
    return (
        f"SBRT: {which} on the {weekday} before the {protocol.il2.start_weekday} IL-2 start of"
        f" cycle {cycle} (registry; {_numbers(rule, 'enrollment {numbers}')}:"
        f" {plural(rule.fractions, 'fraction')} of {gy})"
    )


def fraction_ranges(protocol: Protocol) -> str:
    """Every fractionation rule in short: ``"1-20: 1 fraction, 21 on: 2 fractions"``."""
    return ", ".join(
        f"{_numbers(rule)}: {plural(rule.fractions, 'fraction')}"
        for rule in protocol.sbrt.fractionation
    )


def fraction_count_rule(rule: Fractionation, cycle: int) -> str:
    """The rule that says how many fractions precede ``cycle`` for an enrollment range."""
    return (
        f"SBRT before IL-2 cycle {cycle}: {plural(rule.fractions, 'fraction')} for enrollment"
        f" numbers {_numbers(rule)} ({and_list(rule.weekdays)})"
    )


def scan_rule(name: str, week: int, protocol: Protocol) -> str:
    """The rule that dates a scheduled scan."""
    return (
        f"Scan {name}: {week} weeks after the first IL-2 dose (registry), up to"
        f" {days(protocol.assessments.window)} later (reading: window)"
    )


def crossover_scan_rule(protocol: Protocol) -> str:
    """The rule that dates the crossover response scan."""
    crossover = protocol.crossover
    weeks = f"{crossover.response_assessment_after.to('week').magnitude:g}"
    source = cited(
        crossover.response_quote,
        f"{weeks} weeks following IL-2 course that was preceded by radiation",
        "[crossover].response_assessment_after",
    )
    return (
        f"Crossover response scan: {weeks} weeks after the start of cycle"
        f" {crossover.first_cycle} ({source}), up to {days(protocol.assessments.window)} later"
        " (reading: window)"
    )
