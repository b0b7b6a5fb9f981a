"""The safety forms as SDTM AE, LB and VS and ADaM ADAE, when the trial folder holds them.

``adverse_events.csv``, ``labs.csv`` and ``vitals.csv`` are optional forms; a dataset is built
only for a form the folder has (:meth:`~studylib.export.source.StudySource.has_form`).

- **AE**: one record per adverse event; ``AEDECOD`` and ``AEBODSYS`` are the CTCAE v5.0 term
  and system organ class (:data:`studylib.safety.CTCAE`), ``AETOXGR`` the grade recorded.
- **LB**: one record per test per panel: the value as written (number and unit, the unit in
  CDISC's ASCII spelling), the same in SI units (:func:`studylib.units.convert`), the
  laboratory's limit, and the CTCAE v5.0 grade :func:`studylib.safety.lab_grades` gives.
- **VS**: heart rate, systolic pressure, oxygen saturation, weight and urine output over the
  shift (a sponsor-defined test, UROUT) measured before each IL-2 dose slot. The yes/no events
  and durations of the label's criteria in ``vitals.csv`` are not vital signs and are not
  written.
- **ADAE**: AE with the arm, numeric dates and grade, and ``TRTEMFL``: the event started in
  the reporting window the adverse-event tables count (:func:`studylib.safety.events.at_risk`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES
from studylib.export import terminology as ct
from studylib.export.iso import iso_date, iso_datetime
from studylib.export.source import StudySource
from studylib.export.tabulations import sdtm_frame
from studylib.units import convert, parse_quantity

__all__ = ["adverse_events", "laboratory", "vital_signs", "adverse_event_analysis"]

_NUMBER = re.compile(r"\s*([-+]?[\d.,]+)\s*(.*?)\s*")


def _split(text) -> tuple[str | None, str | None]:
    """The number and the unit of a quantity as written (``2,900/µL``: ``2,900``, ``/uL``)."""
    if pd.isna(text):
        return None, None
    match = _NUMBER.fullmatch(str(text))
    if not match:
        return str(text).strip(), None
    return match.group(1), ct.unit_term(match.group(2)) or None


def _standard(text, test: ct.Measurement) -> float:
    """A quantity as written, in the test's standard unit."""
    if pd.isna(text):
        return np.nan
    quantity = parse_quantity(str(text))
    return float(convert(quantity, test.unit, analyte=test.analyte).magnitude)


def _findings(table: pd.DataFrame, tests: dict, when: str, limits=None) -> pd.DataFrame:
    """One row per patient, moment and test of ``table``: the result as written and in the
    test's standard unit, with the reference limit (``limits(column)``: its column, or
    ``None``) as written and standardised."""
    parts = []
    for column, test in tests.items():
        if column not in table:
            continue
        rows = table[table[column].notna()]
        limit = limits(column) if limits else None
        given = rows[limit] if limit in rows else pd.Series(None, index=rows.index, dtype=object)
        upper = bool(limit) and limit.endswith("_uln")
        value = rows[column].map(lambda v, t=test: _standard(v, t))
        bound = given.map(lambda v, t=test: _standard(v, t))
        written = given.map(lambda v: _split(v)[0])
        nothing = pd.Series(None, index=rows.index, dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": rows["patient_id"],
                    "when": rows[when],
                    "column": column,
                    "orres": rows[column].map(lambda v: _split(v)[0]),
                    "orresu": rows[column].map(lambda v: _split(v)[1]),
                    "stresn": value,
                    "stresc": value.map(lambda v: None if pd.isna(v) else f"{v:.6g}"),
                    "low": nothing if upper else written,
                    "high": written if upper else nothing,
                    "low_n": np.nan if upper else bound,
                    "high_n": bound if upper else np.nan,
                    **{c: rows[c] for c in ("cycle", "number") if c in rows},
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["patient_id", "when", "column", "orres", "orresu"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["patient_id", "when", "column"], kind="stable").reset_index(drop=True)


#: The columns of ``adverse_events.csv`` as the data dictionary lists them (an absent optional
#: one is empty).
_EVENT_COLUMNS = [column.name for column in TABLES["adverse_events"].columns]


def adverse_events(source: StudySource) -> pd.DataFrame:
    """AE: one record per adverse event of ``adverse_events.csv``."""
    from studylib.safety import CTCAE

    events = source.cohort.adverse_events.reindex(columns=_EVENT_COLUMNS)
    events = events.sort_values(["patient_id", "start_date"], kind="stable")
    terms = events["term"].map(CTCAE.event)
    related = (events[["related_il2", "related_sbrt"]] == "related").any(axis=1)
    serious = events["serious"].astype("boolean")
    return sdtm_frame(
        "AE",
        source,
        {
            "USUBJID": source.usubjid(events["patient_id"]),
            "AESPID": events["ae_id"],
            "AETERM": events["term"],
            "AEDECOD": terms.map(lambda t: t.term),
            "AEBODSYS": terms.map(lambda t: t.soc),
            "AETOXGR": events["grade"].map(lambda g: None if pd.isna(g) else str(int(g))),
            "AESER": serious.map({True: "Y", False: "N"}).astype(object),
            "AEREL": np.where(related, "RELATED", "NOT RELATED"),
            "AEACN": events["action_il2"].map(ct.ACTIONS),
            "AEOUT": events["outcome"].map(ct.OUTCOMES),
            "AESTDTC": iso_date(pd.to_datetime(events["start_date"])),
            "AEENDTC": iso_date(pd.to_datetime(events["end_date"])),
        },
    )


def laboratory(source: StudySource) -> pd.DataFrame:
    """LB: every test of every panel of ``labs.csv``, with its CTCAE v5.0 grade."""
    from studylib.safety import CTCAE, lab_grades
    from studylib.safety.labs import limit_column

    cohort = source.cohort
    rows = _findings(
        cohort.labs,
        ct.LAB_TESTS,
        "collected_at",
        lambda column: limit_column(column) if column in CTCAE.tests else None,
    )
    graded = lab_grades(cohort.labs, cohort.screening).set_index(
        ["patient_id", "collected_at", "test"]
    )
    key = pd.MultiIndex.from_frame(rows[["patient_id", "when", "column"]])
    test = rows["column"].map(ct.LAB_TESTS)
    return sdtm_frame(
        "LB",
        source,
        {
            "USUBJID": source.usubjid(rows["patient_id"]),
            "LBTESTCD": test.map(lambda t: t.code),
            "LBTEST": test.map(lambda t: t.name),
            "LBCAT": test.map(lambda t: t.category),
            "LBORRES": rows["orres"],
            "LBORRESU": rows["orresu"],
            "LBORNRLO": rows["low"],
            "LBORNRHI": rows["high"],
            "LBSTRESC": rows["stresc"],
            "LBSTRESN": rows["stresn"].astype(float),
            "LBSTRESU": test.map(lambda t: t.unit_term),
            "LBSTNRLO": rows["low_n"].astype(float),
            "LBSTNRHI": rows["high_n"].astype(float),
            "LBTOX": graded["term"].reindex(key).to_numpy(),
            "LBTOXGR": [None if pd.isna(g) else str(int(g)) for g in graded["grade"].reindex(key)],
            "LBDTC": iso_datetime(rows["when"]),
        },
    )


def vital_signs(source: StudySource) -> pd.DataFrame:
    """VS: the vital signs of ``vitals.csv`` that SDTM has tests for."""
    rows = _findings(source.cohort.vitals, ct.VITAL_TESTS, "measured_at")
    test = rows["column"].map(ct.VITAL_TESTS)
    slot = None
    if {"cycle", "number"} <= set(rows.columns):
        number = rows["number"].astype(int).map("{:02d}".format)
        slot = "IL2-C" + rows["cycle"].astype(str) + "-" + number
    return sdtm_frame(
        "VS",
        source,
        {
            "USUBJID": source.usubjid(rows["patient_id"]),
            "VSSPID": slot,
            "VSTESTCD": test.map(lambda t: t.code),
            "VSTEST": test.map(lambda t: t.name),
            "VSORRES": rows["orres"],
            "VSORRESU": rows["orresu"],
            "VSSTRESC": rows["stresc"],
            "VSSTRESN": rows["stresn"].astype(float),
            "VSSTRESU": test.map(lambda t: t.unit_term),
            "VSDTC": iso_datetime(rows["when"]),
        },
    )


def adverse_event_analysis(source: StudySource, ae: pd.DataFrame, adsl: pd.DataFrame):
    """ADAE: AE with the arm, numeric dates, the grade as a number and ``TRTEMFL``."""
    from studylib.export.analysis_datasets import adam_frame
    from studylib.safety.events import at_risk

    cohort = source.cohort
    window = at_risk(cohort.dosing, cohort.randomization, protocol=source.protocol)
    window["USUBJID"] = source.usubjid(window["patient_id"])
    window = window.set_index("USUBJID")
    start = pd.to_datetime(ae["AESTDTC"])
    inside = start.between(
        ae["USUBJID"].map(window["from_date"]), ae["USUBJID"].map(window["to_date"])
    )
    treatment = adsl.set_index("USUBJID")
    return adam_frame(
        "ADAE",
        {
            **{c: ae[c] for c in ("STUDYID", "USUBJID", "AESEQ", "AETERM", "AEDECOD")},
            **{c: ae[c] for c in ("AEBODSYS", "AESER", "AEREL", "AETOXGR")},
            "TRT01P": ae["USUBJID"].map(treatment["TRT01P"]),
            "TRT01A": ae["USUBJID"].map(treatment["TRT01A"]),
            "ATOXGRN": pd.to_numeric(ae["AETOXGR"]).astype("Int64"),
            "ASTDT": start,
            "AENDT": pd.to_datetime(ae["AEENDTC"]),
            "TRTEMFL": np.where(inside, "Y", None),
        },
    )
