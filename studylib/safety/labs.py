"""CTCAE v5.0 grades of every laboratory panel: the lab grades over time of a patient or arm.

``labs.csv`` holds one row per panel, one column per test named as :func:`grade_lab` names it
(``creatinine``, ``platelets``, ...), each with the laboratory's limit beside it
(``creatinine_uln`` for a test CTCAE grades upward, ``platelets_lln`` for one graded
downward). The baseline of each test is the patient's screening value where ``screening.csv``
has one (creatinine, bilirubin, AST, ALT; the CTCAE x baseline and abnormal-baseline rules);
weight gain is graded from ``vitals.csv`` against the screening weight.
"""

from __future__ import annotations

import pandas as pd

from studylib.safety.ctcae import CTCAE
from studylib.safety.grading import grade_values

__all__ = ["lab_grades", "limit_column", "LAB_GRADE_COLUMNS", "BASELINE_COLUMNS"]

#: The columns of :func:`lab_grades`.
LAB_GRADE_COLUMNS = ["patient_id", "collected_at", "test", "term", "value", "limit", "grade"]

#: Which ``screening.csv`` column is the baseline of a test graded against its baseline.
BASELINE_COLUMNS = {
    "creatinine": "creatinine",
    "bilirubin": "bilirubin",
    "ast": "ast",
    "alt": "alt",
    "weight": "weight",
}


def limit_column(test: str) -> str:
    """The ``labs.csv`` column of a test's reference limit: ``creatinine_uln``,
    ``platelets_lln``.

    >>> limit_column("creatinine"), limit_column("platelets")
    ('creatinine_uln', 'platelets_lln')
    """
    term = CTCAE.term(test)
    return f"{term.test}_{'uln' if term.direction == 'increased' else 'lln'}"


def lab_grades(
    labs: pd.DataFrame,
    screening: pd.DataFrame | None = None,
    vitals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The CTCAE v5.0 grade of every value of every panel (and of every weight recorded).

    Parameters
    ----------
    labs
        ``labs.csv`` as loaded: ``patient_id``, ``collected_at`` and test columns with their
        limit columns (:func:`limit_column`); a test not in the file is skipped.
    screening
        Gives each patient's baseline (:data:`BASELINE_COLUMNS`); without it, creatinine is
        graded on its x ULN scale only and AST, ALT and bilirubin as for a normal baseline.
    vitals
        ``vitals.csv``: its ``weight`` is graded (weight gain) against the screening weight.

    Returns
    -------
    pandas.DataFrame
        One row per value (:data:`LAB_GRADE_COLUMNS`): ``limit`` is the laboratory's limit as
        written (empty for the weight); ``grade`` is ``<NA>`` where the grade needs a limit the
        row does not have.
    """
    baselines = screening.set_index("patient_id") if screening is not None else pd.DataFrame()
    sources = [(labs, "collected_at", [t.test for t in CTCAE.terms if t.test != "weight"])]
    if vitals is not None and "weight" in vitals:
        sources.append((vitals, "measured_at", ["weight"]))
    frames = []
    for table, when, tests in sources:
        for test in tests:
            if test not in table:
                continue
            rows = table[table[test].notna() & (table[test].astype(str).str.strip() != "")]
            limit = limit_column(test)
            limits = rows.get(limit)
            base = None
            if test in BASELINE_COLUMNS and BASELINE_COLUMNS[test] in baselines:
                base = rows["patient_id"].map(baselines[BASELINE_COLUMNS[test]])
            grades = grade_values(
                test,
                rows[test],
                **{limit.rsplit("_", 1)[1]: limits},
                baseline=base,
            )
            frames.append(
                pd.DataFrame(
                    {
                        "patient_id": rows["patient_id"],
                        "collected_at": rows[when],
                        "test": test,
                        "term": CTCAE.term(test).term,
                        "value": rows[test],
                        "limit": limits if limits is not None else "",
                        "grade": grades,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=LAB_GRADE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["patient_id", "collected_at", "test"], kind="stable").reset_index(
        drop=True
    )[LAB_GRADE_COLUMNS]
