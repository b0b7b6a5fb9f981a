"""The trial's published figures, as data, each with its source mark.

These are facts about the trial, not protocol rules: what the registry's results posting and
the paper's abstract say, as compiled in docs/research/NCT01416831.md (§1.5, §2.2, §2.4).
Each figure carries the mark NCT01416831.md gives it:

``SOURCE``
    appears in the cited source as given;
``DERIVED``
    arithmetic on sourced figures (arm B's size, counts implied by percentages);
``COMPUTED – NOT PUBLISHED``
    a statistic computed on the derived counts only to check the workbook. The paper's test,
    p-value and intervals were not available: these must never be shown as trial results.

:func:`compare_with_publication` sets the workbook's own figures beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "SOURCE",
    "DERIVED",
    "COMPUTED",
    "PUBLISHED_TRIAL",
    "PUBLISHED_ARMS",
    "PublishedFigure",
    "PUBLISHED",
    "published",
    "compare_with_publication",
]

SOURCE = "SOURCE"
DERIVED = "DERIVED"
COMPUTED = "COMPUTED – NOT PUBLISHED"

#: The trial the figures are about.
PUBLISHED_TRIAL = "NCT01416831"
#: The publication's arm labels by their role in the comparison (studylib.analysis.arms): its
#: arm B is SBRT + IL-2, the experimental arm, and its arm A IL-2 monotherapy, the comparator.
#: The keys of :data:`PUBLISHED` end in these labels (``orr_pct_B``); a protocol's own arm
#: codes are matched to them by role, never by letter.
PUBLISHED_ARMS = {"experimental": "B", "comparator": "A"}

_SOURCES = {
    "CTG-RES": "ClinicalTrials.gov NCT01416831 results, recruitment and pre-assignment (Nov 2022)",
    "JITC": "Curti et al., J Immunother Cancer 2020;8:e000773, abstract",
    "NCT01416831.md": "studylib research notes, docs/research/NCT01416831.md",
}


@dataclass(frozen=True)
class PublishedFigure:
    """One figure of the publication (or derived from it), with where it comes from.

    Attributes
    ----------
    key
        Stable name used to match the workbook's figure (``"orr_B"``).
    label
        What it is, in words.
    value
        The figure as given: a count, a percentage, a p-value or a ratio.
    unit
        ``"patients"``, ``"%"``, ``"p"`` or ``"ratio"``.
    decimals
        Decimals the figure was given with; the workbook's figure agrees when it rounds to it.
    mark
        :data:`SOURCE`, :data:`DERIVED` or :data:`COMPUTED`.
    source
        Key of the source (``CTG-RES``, ``JITC``, ``NCT01416831.md``).
    section
        Where in docs/research/NCT01416831.md it is compiled.
    """

    key: str
    label: str
    value: float
    unit: str
    decimals: int
    mark: str
    source: str
    section: str

    @property
    def source_name(self) -> str:
        """The source in words."""
        return _SOURCES[self.source]


def _fig(key, label, value, unit, decimals, mark, source, section) -> PublishedFigure:
    return PublishedFigure(key, label, value, unit, decimals, mark, source, section)


_FLOW = [
    ("screened", "Screened", 63, SOURCE),
    ("consented", "Signed consent", 50, SOURCE),
    ("excluded", "Excluded after consent", 6, SOURCE),
    ("randomized", "Enrolled (randomized)", 44, SOURCE),
    ("arm_A", "Assigned to arm A (IL-2)", 20, SOURCE),
    ("crossover", "Arm A patients who crossed over", 7, SOURCE),
]
_RESPONSE_PCT = {
    "B": {"orr": 54, "cr": 21, "pr": 33, "sd": 21, "pd": 25},
    "A": {"orr": 35, "cr": 15, "pr": 20, "sd": 25, "pd": 40},
}
_RESPONSE_COUNTS = {
    "B": {"responders": 13, "cr": 5, "pr": 8, "sd": 5, "pd": 6},
    "A": {"responders": 7, "cr": 3, "pr": 4, "sd": 5, "pd": 8},
}
_ARM_WORDS = {"A": "IL-2 monotherapy", "B": "SBRT + IL-2"}
_WHAT = {
    "orr": "objective response rate",
    "responders": "responders (CR or PR)",
    "cr": "complete response",
    "pr": "partial response",
    "sd": "stable disease",
    "pd": "progressive disease",
}


def _build() -> tuple[PublishedFigure, ...]:
    s15, s22, s24 = "NCT01416831.md §1.5", "NCT01416831.md §2.2", "NCT01416831.md §2.4"
    figures = [_fig(k, label, v, "patients", 0, m, "CTG-RES", s15) for k, label, v, m in _FLOW]
    figures.insert(
        5,
        _fig(
            "arm_B",
            "Assigned to arm B (SBRT + IL-2): 44 - 20",
            24,
            "patients",
            0,
            DERIVED,
            "CTG-RES",
            s15,
        ),
    )
    figures.append(_fig("analysed", "Patients analysed", 44, "patients", 0, SOURCE, "JITC", s22))
    for arm in ("B", "A"):
        for what, pct in _RESPONSE_PCT[arm].items():
            figures.append(
                _fig(
                    f"{what}_pct_{arm}",
                    f"{_ARM_WORDS[arm]}: {_WHAT[what]}",
                    pct,
                    "%",
                    0,
                    SOURCE,
                    "JITC",
                    s22,
                )
            )
        for what, count in _RESPONSE_COUNTS[arm].items():
            figures.append(
                _fig(
                    f"{what}_{arm}",
                    f"{_ARM_WORDS[arm]}: {_WHAT[what]}, patients",
                    count,
                    "patients",
                    0,
                    DERIVED,
                    "JITC",
                    s22,
                )
            )
    figures += [
        _fig(
            "crossover_cr",
            "Crossover after SBRT: complete response",
            1,
            "patients",
            0,
            SOURCE,
            "JITC",
            s22,
        ),
        _fig(
            "crossover_pr",
            "Crossover after SBRT: partial response",
            2,
            "patients",
            0,
            SOURCE,
            "JITC",
            s22,
        ),
        _fig(
            "crossover_responders",
            "Crossover after SBRT: responders (1 CR + 2 PR)",
            3,
            "patients",
            0,
            DERIVED,
            "JITC",
            s22,
        ),
        _fig(
            "crossover_orr_pct",
            "Crossover after SBRT: response rate, 3/7",
            42.9,
            "%",
            1,
            DERIVED,
            "JITC",
            s22,
        ),
        _fig(
            "os_5y_pct_B",
            "SBRT + IL-2: overall survival at 5 years",
            26,
            "%",
            0,
            SOURCE,
            "JITC",
            s22,
        ),
        _fig(
            "os_5y_pct_A",
            "IL-2 monotherapy: overall survival at 5 years",
            25,
            "%",
            0,
            SOURCE,
            "JITC",
            s22,
        ),
        _fig(
            "fisher_p",
            "ORR B vs A, Fisher's exact test, two-sided p",
            0.238,
            "p",
            3,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "fisher_odds_ratio",
            "ORR B vs A, sample odds ratio",
            2.19,
            "ratio",
            2,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "fisher_p_one_sided",
            "ORR B vs A, Fisher's exact test, one-sided p (B greater)",
            0.167,
            "p",
            3,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "cr_fisher_p",
            "CR rate B vs A, Fisher's exact test, two-sided p",
            0.71,
            "p",
            2,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "orr_ci_low_pct_B",
            "SBRT + IL-2: ORR, Clopper-Pearson 95% CI lower bound",
            32.8,
            "%",
            1,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "orr_ci_high_pct_B",
            "SBRT + IL-2: ORR, Clopper-Pearson 95% CI upper bound",
            74.4,
            "%",
            1,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "orr_ci_low_pct_A",
            "IL-2 monotherapy: ORR, Clopper-Pearson 95% CI lower bound",
            15.4,
            "%",
            1,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
        _fig(
            "orr_ci_high_pct_A",
            "IL-2 monotherapy: ORR, Clopper-Pearson 95% CI upper bound",
            59.2,
            "%",
            1,
            COMPUTED,
            "NCT01416831.md",
            s24,
        ),
    ]
    return tuple(figures)


#: Every published (or derived, or computed-for-checking) figure, in reading order.
PUBLISHED: tuple[PublishedFigure, ...] = _build()


def published(marks: tuple[str, ...] = (SOURCE, DERIVED, COMPUTED)) -> pd.DataFrame:
    """The figures as a table: ``key``, ``label``, ``value``, ``unit``, ``mark``, ``source``,
    ``section``; only those whose mark is in ``marks``."""
    rows = [
        {
            "key": f.key,
            "label": f.label,
            "value": f.value,
            "unit": f.unit,
            "mark": f.mark,
            "source": f.source_name,
            "section": f.section,
        }
        for f in PUBLISHED
        if f.mark in marks
    ]
    return pd.DataFrame(rows)


def compare_with_publication(workbook: Mapping[str, float]) -> pd.DataFrame:
    """Each published figure beside the workbook's figure from the data, and the difference.

    Parameters
    ----------
    workbook
        The workbook's figures by the keys of :data:`PUBLISHED` (percentages in percent,
        p-values and ratios as such); a key left out shows as not computed.

    Returns
    -------
    DataFrame
        ``figure`` (label); ``mark``; ``reference`` (the figure as the notes give it: published
        when the mark is SOURCE, arithmetic on published figures when DERIVED, and a check
        computed by the research notes, never a trial result, when COMPUTED – NOT PUBLISHED);
        ``workbook``; ``difference`` (workbook minus reference, in the figure's unit);
        ``unit``; ``agrees`` (the workbook's figure rounds to the reference at the decimals it
        was given with; NA when not computed); ``source``; ``key``.
    """
    unknown = sorted(set(workbook) - {f.key for f in PUBLISHED})
    if unknown:
        raise KeyError(f"no published figure is called {unknown}; see PUBLISHED for the keys")
    rows = []
    for f in PUBLISHED:
        value = workbook.get(f.key)
        ours = np.nan if value is None else float(value)
        computed = not np.isnan(ours)
        rows.append(
            {
                "figure": f.label,
                "mark": f.mark,
                "reference": f.value,
                "workbook": ours,
                "difference": ours - f.value if computed else np.nan,
                "unit": f.unit,
                "agrees": bool(np.round(ours, f.decimals) == f.value) if computed else pd.NA,
                "source": f.section if f.source == "NCT01416831.md" else f"{f.source}, {f.section}",
                "key": f.key,
            }
        )
    frame = pd.DataFrame(rows)
    frame["agrees"] = frame["agrees"].astype("boolean")
    return frame
