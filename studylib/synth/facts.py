"""What the trial published, which the synthetic cohort reproduces (facts, not protocol rules).

Every figure here comes from ``docs/research/NCT01416831.md`` (the ClinicalTrials.gov results page,
posted Nov 2022, and the abstract of Curti et al., J Immunother Cancer 2020). They are counts
of what happened in the trial, not rules of the protocol, so they live here rather than in
``protocol.toml``. Where the sources are silent and the generator needs a number (the split of
the four crossover patients who did not respond, the data cut-off), the entry says so.

A cohort of another size is shaped like the trial by :func:`scale_flow`, which apportions each
published count in proportion (largest remainders), so that 63 patients give the published
counts exactly. A cohort under another protocol of the same design (other arm codes, a sister
trial) takes each of its arms' counts from the published arm of the same kind: the arm with
SBRT from arm B, the arm without from arm A (:func:`published_arm`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from studylib.errors import SynthError
from studylib.protocol import Arm, Protocol

__all__ = ["TrialFacts", "TRIAL_FACTS", "Flow", "apportion", "published_arm", "scale_flow"]


@dataclass(frozen=True)
class TrialFacts:
    """Published counts of NCT01416831, with where each one comes from (NCT01416831.md sections)."""

    #: NCT01416831.md 1.5 (CTG-RES): "63 potential patients were screened".
    screened: int
    #: NCT01416831.md 1.5: 63 screened, 50 signed consent; the 13 others screen failures [DERIVED].
    screen_failures: int
    #: NCT01416831.md 1.5: "6 were excluded: 3 for rapid melanoma progression during screening,
    #: 2 for cardiac ischemia on exercise tolerance testing, 1 for insurance issues".
    excluded_after_consent: MappingProxyType
    #: NCT01416831.md 1.5: "44 enrolled".
    enrolled: int
    #: NCT01416831.md 1.5: "20 were assigned to Arm A"; arm B 44 - 20 = 24 [DERIVED].
    arms: MappingProxyType
    #: NCT01416831.md 1.1: "Arm A: IL-2 Monotherapy", "Arm B: SBRT + IL-2" (which arm had SBRT).
    arm_receives_sbrt: MappingProxyType
    #: NCT01416831.md 1.5: "7 of those chose the optional crossover".
    crossover: int
    #: NCT01416831.md 2.2: the only integer counts matching the abstract's percentages [DERIVED].
    best_response: MappingProxyType
    #: NCT01416831.md 2.2: "1 CR and 2 PR" among the 7 crossover patients [SOURCE]; the split of the
    #: other four between SD and PD is not published: 2 and 2 is this generator's choice.
    crossover_response: MappingProxyType
    #: NCT01416831.md 2.2: "5-year OS: 26% (SBRT + IL-2) vs 25% (IL-2)".
    five_year_os: MappingProxyType
    #: NCT01416831.md 1.1: actual start July 1 2011; actual primary completion April 5 2017.
    first_enrollment: dt.date
    last_enrollment: dt.date
    #: Not published: the synthetic data cut-off, after every patient's fifth year (results
    #: were first posted on Nov 15 2022, NCT01416831.md 1.1).
    data_cutoff: dt.date


TRIAL_FACTS = TrialFacts(
    screened=63,
    screen_failures=13,
    excluded_after_consent=MappingProxyType(
        {"rapid_progression": 3, "cardiac_ischemia": 2, "insurance": 1}
    ),
    enrolled=44,
    arms=MappingProxyType({"A": 20, "B": 24}),
    arm_receives_sbrt=MappingProxyType({"A": False, "B": True}),
    crossover=7,
    best_response=MappingProxyType(
        {
            "A": MappingProxyType({"CR": 3, "PR": 4, "SD": 5, "PD": 8}),
            "B": MappingProxyType({"CR": 5, "PR": 8, "SD": 5, "PD": 6}),
        }
    ),
    crossover_response=MappingProxyType({"CR": 1, "PR": 2, "SD": 2, "PD": 2}),
    five_year_os=MappingProxyType({"A": 0.25, "B": 0.26}),
    first_enrollment=dt.date(2011, 7, 1),
    last_enrollment=dt.date(2017, 4, 5),
    data_cutoff=dt.date(2022, 9, 30),
)


def apportion(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to integer ``weights`` by largest remainders.

    Integer arithmetic only, so that ``apportion(sum(w), w) == w`` exactly; ties go to the
    earlier weight.
    """
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class Flow:
    """The counts of one synthetic cohort: the published flow scaled to its size."""

    screened: int
    screen_failures: int
    excluded_after_consent: dict[str, int]
    enrolled: int
    arms: dict[str, int]
    best_response: dict[str, dict[str, int]]
    crossover: int
    crossover_response: dict[str, int]
    survivors: dict[str, int]


def _take_from_largest(counts: list[int], need: int, keep: int) -> list[int]:
    """Move ``need`` patients into position ``keep``, taking them from the largest others."""
    counts = list(counts)
    while need > 0:
        donor = max((i for i in range(len(counts)) if i != keep), key=lambda i: counts[i])
        counts[donor] -= 1
        counts[keep] += 1
        need -= 1
    return counts


def published_arm(arm: Arm, facts: TrialFacts = TRIAL_FACTS) -> str:
    """The published arm whose counts a protocol's arm takes: the one with the same SBRT."""
    for code, receives_sbrt in facts.arm_receives_sbrt.items():
        if receives_sbrt == arm.receives_sbrt:
            return code
    raise SynthError(f"no published arm is like arm {arm.code} ({arm.name})")


def scale_flow(screened: int, protocol: Protocol, facts: TrialFacts = TRIAL_FACTS) -> Flow:
    """The published flow apportioned to ``screened`` patients, for the protocol's arms.

    At least one patient is enrolled in every arm; the caller refuses fewer screened patients
    than arms. Crossover patients come from the crossover arm's progressors, so there are never
    more of them than that arm has patients with progressive disease. Counts are keyed by the
    protocol's arm codes.
    """
    arm_codes = protocol.arm_codes
    crossover_arm = protocol.crossover.from_arm
    like = {arm.code: published_arm(arm, facts) for arm in protocol.arms}
    outcomes = ["screen_failure", *facts.excluded_after_consent, "enrolled"]
    weights = [facts.screen_failures, *facts.excluded_after_consent.values(), facts.enrolled]
    counts = apportion(screened, weights)
    enrolled_at = len(outcomes) - 1
    counts = _take_from_largest(counts, len(arm_codes) - counts[enrolled_at], enrolled_at)
    by_outcome = dict(zip(outcomes, counts, strict=True))
    enrolled = by_outcome["enrolled"]

    arm_counts = apportion(enrolled, [facts.arms[like[code]] for code in arm_codes])
    for i, count in enumerate(arm_counts):
        if count == 0:
            arm_counts = _take_from_largest(arm_counts, 1, i)
    arms = dict(zip(arm_codes, arm_counts, strict=True))

    best = {}
    for code in arm_codes:
        published = facts.best_response[like[code]]
        best[code] = dict(
            zip(published, apportion(arms[code], list(published.values())), strict=True)
        )
    progressors = best[crossover_arm]["PD"]
    crossover_share = apportion(
        arms[crossover_arm],
        [facts.crossover, facts.arms[like[crossover_arm]] - facts.crossover],
    )[0]
    crossover = min(crossover_share, progressors)
    published = facts.crossover_response
    crossover_response = dict(
        zip(published, apportion(crossover, list(published.values())), strict=True)
    )
    survivors = {code: int(facts.five_year_os[like[code]] * arms[code] + 0.5) for code in arm_codes}
    return Flow(
        screened=screened,
        screen_failures=by_outcome["screen_failure"],
        excluded_after_consent={k: by_outcome[k] for k in facts.excluded_after_consent},
        enrolled=enrolled,
        arms=arms,
        best_response=best,
        crossover=crossover,
        crossover_response=crossover_response,
        survivors=survivors,
    )
