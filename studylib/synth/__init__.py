"""A synthetic cohort shaped like NCT01416831, at any size (``studylib synth``).

The trial shared no individual patient data, so the workbook runs on a generated cohort that
behaves like the published one: 63 screened, 50 consented, 6 excluded after consent, 44
enrolled (20 in arm A, 24 in arm B), the published best overall responses, 7 crossovers (1 CR,
2 PR), and 5-year overall survival near 25% in both arms (facts: :mod:`studylib.synth.facts`).
Every rule it follows is read from the protocol it is given (default: the bundled one;
``studylib synth --protocol PATH`` for another, copied beside the data as ``protocol.toml``).

Modules, one concept each: ``facts`` (published counts), ``plan`` (who fares how),
``calendar`` (day arithmetic),
``timeline`` (dates), ``screening`` (screening records, SBRT foci), ``dosing`` (SBRT fractions,
IL-2 dose slots), ``tumours`` (lesions and measurements), ``followup`` (progression and
survival), ``deviations`` (the deliberate ones), ``writer`` (safe output), ``cohort``
(:func:`generate`, :func:`write_cohort`) and ``command`` (the ``studylib synth`` subcommand).
"""

from __future__ import annotations

from studylib.synth.cohort import (
    DEFAULT_PATIENTS,
    DEFAULT_SEED,
    SynthCohort,
    generate,
    write_cohort,
)
from studylib.synth.command import add_arguments, run
from studylib.synth.facts import TRIAL_FACTS, TrialFacts
from studylib.synth.writer import SynthError, notice_line

__all__ = [
    "DEFAULT_PATIENTS",
    "DEFAULT_SEED",
    "notice_line",
    "TRIAL_FACTS",
    "SynthCohort",
    "SynthError",
    "TrialFacts",
    "add_arguments",
    "generate",
    "run",
    "write_cohort",
]
