"""Generating a whole synthetic cohort: :func:`generate` and :func:`write_cohort`.

The cohort is drawn from one seed through independent random streams (one per concept:
design, dates, screening, dosing, tumours, follow-up), with numpy's ``Generator``; nothing
depends on the clock or on hash ordering, so the same seed and size give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES
from studylib.protocol import Protocol, resolve_protocol
from studylib.synth.deviations import choose_deviations, describe_deviations
from studylib.synth.dosing import dose_cohort
from studylib.synth.facts import TRIAL_FACTS, TrialFacts, scale_flow
from studylib.synth.followup import follow_cohort
from studylib.synth.plan import plan_cohort
from studylib.synth.safety import safety_records
from studylib.synth.screening import screen_cohort, screen_failure_kinds
from studylib.synth.timeline import build_timeline
from studylib.synth.tumours import measure_cohort
from studylib.synth.writer import SynthError, check_output_folder, write_tables

__all__ = ["DEFAULT_SEED", "DEFAULT_PATIENTS", "SynthCohort", "generate", "write_cohort"]

#: The seed of the bundled cohort in ``data/`` (the trial's registry number).
DEFAULT_SEED = 1416831
#: The trial screened 63 patients (NCT01416831.md 1.5).
DEFAULT_PATIENTS = TRIAL_FACTS.screened

# Streams are spawned by position: a stream appended at the end leaves the others unchanged.
_STREAMS = ("plan", "timeline", "screening", "dosing", "tumours", "followup", "safety")


@dataclass(frozen=True)
class SynthCohort:
    """A generated cohort.

    Attributes
    ----------
    tables
        One text DataFrame per CSV file of :data:`studylib.dictionary.TABLES`, as written.
    design
        One row per screened patient: what the generator intended (outcome, arm, best overall
        response, crossover and crossover response); for checking, never for analysis.
    deviations
        The deliberate protocol deviations planted (``patient_id``, ``kind``,
        ``description``); empty when generated within the rules.
    seed
        The seed it was drawn from.
    """

    tables: dict[str, pd.DataFrame]
    design: pd.DataFrame
    deviations: pd.DataFrame
    seed: int


def _check_request(patients, seed, protocol: Protocol, facts: TrialFacts) -> None:
    arms = len(protocol.arms)
    if isinstance(patients, bool) or not isinstance(patients, Integral):
        raise SynthError(f"--patients must be a whole number, got {patients!r}")
    if patients < arms:
        raise SynthError(
            f"--patients {patients} is fewer than the trial's {arms} arms; at least {arms} "
            "patients are needed so that every arm has one"
        )
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise SynthError(f"--seed must be a whole number of 0 or more, got {seed!r}")
    limit = TABLES["randomization"].column("enrollment_number").maximum
    flow = scale_flow(int(patients), protocol, facts)
    if flow.enrolled > limit:
        raise SynthError(
            f"--patients {patients} would enrol {flow.enrolled} patients; enrollment numbers "
            f"go up to {limit:g}, so ask for fewer patients"
        )


def generate(
    patients: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    *,
    deviations: bool = True,
    protocol: Protocol | None = None,
    facts: TrialFacts = TRIAL_FACTS,
) -> SynthCohort:
    """Generate a synthetic cohort of ``patients`` screened patients, shaped like the trial.

    Parameters
    ----------
    patients
        Patients screened; the trial's flow (screen failures, exclusions, arms, responses,
        crossover, survival) is scaled to this number. 63 gives the published counts.
    seed
        Seed of the random streams (0 or more).
    deviations
        Plant the documented deliberate deviations (:mod:`studylib.synth.deviations`);
        ``False`` generates a cohort entirely within the protocol's rules.
    protocol
        The protocol whose rules the cohort follows (default: the bundled one). Its arms take
        the published counts of the trial's arm of the same kind (with or without SBRT).

    Raises
    ------
    SynthError
        For fewer patients than arms, a negative or non-integer seed, or more patients than
        enrollment numbers allow.
    """
    protocol = resolve_protocol(protocol)
    _check_request(patients, seed, protocol, facts)
    patients, seed = int(patients), int(seed)
    rng = dict(
        zip(
            _STREAMS,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STREAMS))),
            strict=True,
        )
    )
    flow = scale_flow(patients, protocol, facts)
    plan = plan_cohort(flow, screen_failure_kinds(protocol), rng["plan"], protocol)
    chosen = choose_deviations(plan, deviations, protocol)
    timeline = build_timeline(plan, facts, chosen, rng["timeline"], protocol)
    screening, foci, weight_kg = screen_cohort(plan, timeline, rng["screening"], protocol)
    dosing = dose_cohort(plan, timeline, weight_kg, rng["dosing"], protocol)
    lesions, assessments, focus_lesion = measure_cohort(
        plan, timeline, foci, rng["tumours"], protocol
    )
    followup = follow_cohort(plan, timeline, flow, facts, rng["followup"], protocol)
    enrolled = plan["outcome"].eq("enrolled").to_numpy()
    ids = plan["patient_id"].to_numpy()
    randomization = pd.DataFrame(
        {
            "patient_id": ids[enrolled],
            "arm": plan["arm"].to_numpy()[enrolled],
            "enrollment_number": plan["enrollment_number"].to_numpy()[enrolled].astype(str),
            "randomized_on": np.datetime_as_string(
                timeline["randomized_on"].to_numpy()[enrolled].astype("datetime64[D]")
            ),
            "crossover": np.where(plan["crossover"].to_numpy()[enrolled], "Y", "N"),
        }
    )
    sbrt_sites = pd.DataFrame(
        {
            "patient_id": ids[foci["row"].to_numpy()],
            "site_id": foci["site_id"].to_numpy(),
            "site": foci["site"].to_numpy(),
            "longest_diameter": foci["longest_diameter"].to_numpy(),
            "lesion_id": focus_lesion,
        }
    )
    tables = {
        "screening": screening,
        "sbrt_sites": sbrt_sites,
        "randomization": randomization,
        "dosing": dosing,
        "lesions": lesions,
        "assessments": assessments,
        "followup": followup,
    }
    if protocol.safety is not None:
        vitals, labs, events, hold_reason = safety_records(
            screening, dosing, rng["safety"], protocol
        )
        dosing["hold_reason"] = hold_reason
        tables |= {"vitals": vitals, "labs": labs, "adverse_events": events}
    return SynthCohort(
        tables={name: tables[name] for name in TABLES if name in tables},
        design=plan,
        deviations=describe_deviations(chosen, plan, timeline),
        seed=seed,
    )


def write_cohort(
    out: str | Path,
    patients: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    *,
    deviations: bool = True,
    protocol: Protocol | None = None,
) -> SynthCohort:
    """Generate a cohort (see :func:`generate`) and write it to ``out``, validated.

    A protocol other than the bundled one is written beside the data as ``protocol.toml``.

    Raises
    ------
    SynthError
        For an impossible request, or an ``out`` folder holding files the generator did not
        write (it never overwrites other data).
    """
    protocol = resolve_protocol(protocol)
    _check_request(patients, seed, protocol, TRIAL_FACTS)
    own = protocol if protocol != resolve_protocol(None) else None
    check_output_folder(Path(out), own)
    cohort = generate(patients, seed, deviations=deviations, protocol=protocol)
    write_tables(cohort.tables, Path(out), protocol)
    return cohort
