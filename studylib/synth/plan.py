"""The design of a synthetic cohort: who is screened out, enrolled, randomised, and how they fare.

One row per screened patient says what the other modules must produce: the screening outcome
and its reason, the arm and enrollment number, the best overall response the tumour
measurements must yield, at which scan progression is seen and how, and the crossover. The
counts come from :func:`studylib.synth.facts.scale_flow`; which patient gets which is drawn
at random, except that the first patient (``P001``, the notebooks' demo patient) is always
enrolled in the (first) arm that receives SBRT, with a partial response.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.errors import SynthError
from studylib.protocol import Protocol
from studylib.synth.facts import Flow, apportion

__all__ = [
    "Timepoints",
    "timepoints",
    "plan_cohort",
    "beyond_progression",
    "patient_ids",
    "demo_arm",
    "DEMO_RESPONSE",
]

#: The notebooks' demo patient P001 has a clear partial response (in :func:`demo_arm`).
DEMO_RESPONSE = "PR"


def demo_arm(protocol: Protocol) -> str:
    """The arm of the demo patient P001: the first arm that receives SBRT, so that every
    notebook has SBRT, IL-2 and irradiated lesions to show."""
    return next((a.code for a in protocol.arms if a.receives_sbrt), protocol.arms[0].code)


# Synthetic choices (no source gives them): how progression shows itself, and how often
# patients with stable disease or a partial response progress on the later scans.
_PD_MECHANISMS = ("target", "new", "nontarget")
_PD_MECHANISM_P = (0.45, 0.35, 0.20)
_SD_PROGRESS_AT_PRIMARY = 0.35
_SD_PROGRESS_LATER = 0.25
_PR_PROGRESS_LATER = 0.35
# Synthetic choices: share of partial responders already responding on the first scan, and of
# responders who take each further course of IL-2 the protocol offers them.
_PR_EARLY = 0.7
_TAKES_COURSE = 0.8


@dataclass(frozen=True)
class Timepoints:
    """Which of the protocol's scheduled scans (1-based) play which part in the design."""

    first: int
    primary: int
    crossover: int
    weeks: tuple[int, ...]


def timepoints(protocol: Protocol) -> Timepoints:
    """The first scan, the primary-endpoint scan and the crossover scan of the protocol.

    The design needs a scan before the primary one (where progressors are seen) and the
    crossover scan after it, as the bundled protocol's weeks 7, 14 and 21 are; further scans
    are done by the patients still on study.

    Raises
    ------
    SynthError
        When the protocol's scans are not in that order.
    """
    weeks = tuple(t.week for t in protocol.assessments.timepoints)
    primary = weeks.index(protocol.response.primary_timepoint_week) + 1
    crossover = weeks.index(protocol.response.crossover_timepoint_week) + 1
    if not 1 < primary < crossover:
        raise SynthError(
            "the generator designs responses for a first scan, then the primary one, then the"
            f" crossover one; {protocol.path} has weeks {weeks} with the primary scan at week"
            f" {protocol.response.primary_timepoint_week} and the crossover scan at week"
            f" {protocol.response.crossover_timepoint_week}"
        )
    return Timepoints(first=1, primary=primary, crossover=crossover, weeks=weeks)


def patient_ids(count: int) -> np.ndarray:
    """``P001``, ``P002``, ... (at least three digits, more for larger cohorts)."""
    width = max(3, len(str(count)))
    return np.char.add("P", np.char.zfill(np.arange(1, count + 1).astype(str), width))


def _labels(counts: dict[str, int]) -> np.ndarray:
    return np.repeat(np.array(list(counts), dtype=object), list(counts.values()))


def _shuffled_with_first(labels: np.ndarray, first: str, rng: np.random.Generator):
    """``labels`` in random order, with one ``first`` label at the front when there is one."""
    labels = np.asarray(labels, dtype=object)
    hits = np.flatnonzero(labels == first)
    if len(hits) == 0:
        return rng.permutation(labels)
    rest = np.delete(labels, hits[0])
    return np.concatenate([[first], rng.permutation(rest)])


def plan_cohort(
    flow: Flow,
    screen_failure_kinds: tuple[str, ...],
    rng: np.random.Generator,
    protocol: Protocol,
) -> pd.DataFrame:
    """One row per screened patient, in screening order: what the cohort must show.

    Columns: ``patient_id``, ``outcome`` (enrolled / screen_failure / excluded_after_consent),
    ``reason`` (the screen-failure kind or exclusion), ``arm``, ``enrollment_number`` (0 when
    not enrolled), ``bor`` (the best overall response to produce), ``progress_at`` (the
    scheduled scan, 1-based, showing the first progression; 0 when none is scanned),
    ``pd_mechanism`` (target / new / nontarget), ``crossover``, ``crossover_bor`` and
    ``beyond_progression`` (what the scan after the first progression shows, see
    :func:`beyond_progression`).
    """
    n = flow.screened
    tp = timepoints(protocol)
    outcome_counts = {
        "enrolled": flow.enrolled,
        "screen_failure": flow.screen_failures,
        **{k: v for k, v in flow.excluded_after_consent.items()},
    }
    outcome = _shuffled_with_first(_labels(outcome_counts), "enrolled", rng)
    reason = np.where(outcome == "enrolled", "", outcome).astype(object)
    is_failure = outcome == "screen_failure"
    kinds = np.array(
        [screen_failure_kinds[i % len(screen_failure_kinds)] for i in range(is_failure.sum())],
        dtype=object,
    )
    reason[is_failure] = rng.permutation(kinds)
    outcome = np.where(
        np.isin(outcome, ["enrolled", "screen_failure"]), outcome, "excluded_after_consent"
    )

    enrolled = np.flatnonzero(outcome == "enrolled")
    arm = np.full(n, "", dtype=object)
    demo = demo_arm(protocol)
    arm[enrolled] = _shuffled_with_first(_labels(flow.arms), demo, rng)
    enrollment_number = np.zeros(n, dtype=np.int64)
    enrollment_number[enrolled] = np.arange(1, len(enrolled) + 1)

    bor = np.full(n, "", dtype=object)
    for code, counts in flow.best_response.items():
        members = np.flatnonzero(arm == code)
        first = DEMO_RESPONSE if code == demo else ""
        bor[members] = _shuffled_with_first(_labels(counts), first, rng)

    crossover = np.zeros(n, dtype=bool)
    crossover_bor = np.full(n, "", dtype=object)
    progressors = np.flatnonzero((arm == protocol.crossover.from_arm) & (bor == "PD"))
    chosen = rng.permutation(progressors)[: flow.crossover]
    crossover[chosen] = True
    crossover_bor[chosen] = rng.permutation(_labels(flow.crossover_response))

    progress_at, mechanism = _progression(bor, crossover, tp, rng)
    progress_at[0] = 0 if bor[0] != "PD" else progress_at[0]  # the demo patient stays clear
    mechanism[progress_at == 0] = ""
    beyond = beyond_progression(progress_at, mechanism, crossover, tp)
    responds_at, courses = _responses(bor, tp, rng, protocol)
    return pd.DataFrame(
        {
            "patient_id": patient_ids(n),
            "outcome": outcome.astype(str),
            "reason": reason.astype(str),
            "arm": arm.astype(str),
            "enrollment_number": enrollment_number,
            "bor": bor.astype(str),
            "progress_at": progress_at,
            "pd_mechanism": mechanism.astype(str),
            "crossover": crossover,
            "crossover_bor": crossover_bor.astype(str),
            "beyond_progression": beyond.astype(str),
            "responds_at": responds_at,
            "responder_courses": courses,
        }
    )


def beyond_progression(progress_at, mechanism, crossover, tp: Timepoints) -> np.ndarray:
    """Which progressors are scanned once more, and what that scan shows (iRECIST).

    Immunotherapy may shrink tumours after they first grew (pseudo-progression), so iRECIST
    (Seymour et al. 2017) confirms a first progression on the next scan. Progressors by target
    growth or a new lesion, seen before the crossover scan and not crossing over, show in turn,
    in patient order: a ``pseudo_progression`` (the next scan shows a response), a
    ``confirmed_progression`` (the next scan shows further growth), and ``""`` (no further
    scan, as before). Nothing is drawn at random, so the rest of the cohort is unchanged, and
    the RECIST 1.1 best response (which stops at the first progression) is as designed.
    """
    beyond = np.full(len(progress_at), "", dtype=object)
    candidates = np.flatnonzero(
        (progress_at > 0)
        & (progress_at < tp.crossover)
        & ~np.asarray(crossover, dtype=bool)
        & np.isin(mechanism, ["target", "new"])
    )
    turns = np.array(["pseudo_progression", "confirmed_progression", ""], dtype=object)
    beyond[candidates] = turns[np.arange(len(candidates)) % len(turns)]
    return beyond


def _responses(bor, tp: Timepoints, rng: np.random.Generator, protocol: Protocol):
    """The first scan showing a response (0 for none), and how many further IL-2 courses
    each responder takes ("patients who respond after two cycles can receive 4 more cycles").

    Complete responders respond on the first scan; most partial responders do too, the others
    on the primary scan. A course is the first course's number of cycles; a responder takes a
    course after each scan that shows the response, up to the protocol's additional cycles.
    """
    n = len(bor)
    responds_at = np.zeros(n, dtype=np.int64)
    responds_at[bor == "CR"] = tp.first
    pr = bor == "PR"
    responds_at[pr] = np.where(rng.random(n)[pr] < _PR_EARLY, tp.first, tp.primary)
    il2 = protocol.il2
    most = il2.additional_cycles_for_responders // il2.cycles_in_first_course
    offered = np.where(responds_at == 0, 0, tp.primary - responds_at + 1)
    offered = np.minimum(offered, most)
    takes = rng.random((n, max(most, 1))) < _TAKES_COURSE
    courses = np.zeros(n, dtype=np.int64)
    for k in range(most):
        courses += (k < offered) & takes[:, : k + 1].all(axis=1)
    return responds_at, courses


def _progression(bor, crossover, tp: Timepoints, rng: np.random.Generator):
    """At which scan each patient is first seen to progress, and by which kind of finding.

    Progressive disease as best response is seen on the first scan (so it cannot be preceded
    by stable disease). Crossover patients progress by growth of their target lesions, so
    their crossover baseline holds no new lesions.
    """
    n = len(bor)
    draw = rng.random(n)
    progress_at = np.zeros(n, dtype=np.int64)
    progress_at[bor == "PD"] = tp.first
    sd = bor == "SD"
    progress_at[sd & (draw < _SD_PROGRESS_AT_PRIMARY)] = tp.primary
    later = draw >= 1 - _SD_PROGRESS_LATER
    progress_at[sd & later] = tp.crossover
    progress_at[(bor == "PR") & (draw < _PR_PROGRESS_LATER)] = tp.crossover
    mechanism = rng.choice(np.array(_PD_MECHANISMS, dtype=object), size=n, p=_PD_MECHANISM_P)
    # Progressors on the first scan show every kind of progression in proportion, so even a
    # small cohort has growth, a new lesion and non-target progression to show.
    first = np.flatnonzero((progress_at == tp.first) & ~crossover)
    weights = [round(100 * p) for p in _PD_MECHANISM_P]
    counts = dict(zip(_PD_MECHANISMS, apportion(len(first), weights), strict=True))
    mechanism[first] = rng.permutation(_labels(counts))
    # Progression after a response is growth or a new lesion; a crossover starts from growth.
    late = progress_at > tp.first
    mechanism[late & (mechanism == "nontarget")] = "new"
    # After a partial response the sum may be too small to grow by the minimum absolute
    # increase with a margin, so those patients progress with a new lesion.
    mechanism[late & (bor == "PR")] = "new"
    mechanism[crossover] = "target"
    return progress_at, mechanism
