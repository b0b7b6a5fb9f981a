"""SDTM domains from a trial folder: DM, DS, EX, PR, TU, TR and RS.

Each builder takes the :class:`~studylib.export.source.StudySource` and returns the domain as
a DataFrame with the variables of the metadata table (:mod:`.metadata`), in its order; values
are checked and typed afterwards (:mod:`.conform`). Terms come from :mod:`.terminology`,
everything trial-specific from ``cohort.protocol``.

Mapping (SDTMIG 3.4 and its RECIST 1.1 oncology supplement; the data dictionary names the
SDTM variable of every CSV column):

- **DM**: every screened patient who signed consent or was randomised (a candidate who never
  consented is not a study subject). Not randomised: ``ARMNRS`` SCREEN FAILURE; randomised but
  never treated: ASSIGNED, NOT TREATED. ``AGE`` in whole years at informed consent.
- **DS**: informed consent and randomisation (protocol milestones), screen failure with the
  collected reason, and death.
- **EX**: every SBRT fraction and IL-2 dose given (held doses are not exposure).
- **PR**: every irradiated lesion, linked to TU by ``PRLNKID``: what
  :func:`studylib.sdtm.read_tumour_sdtm` leaves to the user (irradiation is not part of TU/TR).
- **TU**: every lesion (TARGET, NON-TARGET, NEW) at its first scan; nodal lesions at LYMPH NODE.
- **TR**: every lesion at every scan: LDIAM (longest diameter; LPERP, the short axis, for a
  node) for target lesions, TUMSTATE for non-target and new lesions; a lesion not evaluated is
  ``TRSTAT`` NOT DONE; a target too small to measure is TOO SMALL TO MEASURE, standardised to
  the ruleset's default size. A diameter recorded for a non-target or new lesion (iRECIST
  measures new lesions) is not written: :func:`studylib.sdtm.read_tumour_sdtm` reads a size
  and a state of one lesion on one date as a conflict. PET avidity has no TR test here.
- **RS**: the timepoint responses of every scan (TRGRESP, NTRGRESP, NEWLPROG, OVRLRESP) by
  the primary ruleset, as :func:`studylib.sdtm.responses_to_rs` writes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.export import terminology as ct
from studylib.export.iso import iso_date, iso_datetime
from studylib.export.metadata import dataset
from studylib.export.source import StudySource
from studylib.units import parse_quantity

__all__ = ["build_sdtm", "demographics", "disposition", "exposure", "procedures"]
__all__ += ["tumour_identification", "tumour_results", "disease_response"]


def sdtm_frame(name: str, source: StudySource, columns: dict) -> pd.DataFrame:
    """A domain in the metadata's variable order, with STUDYID and DOMAIN filled in and a
    sequence number per subject in the given row order."""
    meta = dataset(name)
    frame = pd.DataFrame(columns)
    frame.insert(0, "STUDYID", source.ids.studyid)
    frame.insert(1, "DOMAIN", name)
    seq = f"{name}SEQ"
    if seq in meta.names:
        frame[seq] = frame.groupby("USUBJID", sort=False).cumcount() + 1
    return frame.reindex(columns=meta.names).reset_index(drop=True)


def _whole_years(born: pd.Series, on: pd.Series) -> pd.Series:
    """Age in completed years on a day (a birthday on that day counts)."""
    before_birthday = (on.dt.month < born.dt.month) | (
        (on.dt.month == born.dt.month) & (on.dt.day < born.dt.day)
    )
    years = on.dt.year - born.dt.year - before_birthday.astype(int)
    return years.where(born.notna() & on.notna()).astype("Int64")


def _subjects(source: StudySource) -> pd.DataFrame:
    """Screening rows of the study's subjects: consent signed, or randomised."""
    screening = source.cohort.screening
    randomised = screening["patient_id"].isin(source.cohort.randomization["patient_id"])
    consented = screening["consent_signed"].fillna(False).astype(bool)
    return screening[consented | randomised].reset_index(drop=True)


def demographics(source: StudySource) -> pd.DataFrame:
    """DM: one record per subject."""
    cohort, protocol = source.cohort, source.protocol
    subjects = _subjects(source)
    ids = subjects["patient_id"]
    rand = cohort.randomization.set_index("patient_id")
    follow = cohort.followup.set_index("patient_id")
    arm = ids.map(rand["arm"])
    treated = ids.isin(source.first_dose.index)
    arm_name = arm.map(lambda code: None if pd.isna(code) else protocol.arm(code).name)
    died = ids.map(follow["died_on"]) if len(follow) else pd.Series(pd.NaT, index=ids.index)
    return sdtm_frame(
        "DM",
        source,
        {
            "USUBJID": source.usubjid(ids),
            "SUBJID": ids,
            "RFSTDTC": iso_datetime(ids.map(source.first_dose)),
            "RFENDTC": iso_datetime(ids.map(source.last_dose)),
            "RFXSTDTC": iso_datetime(ids.map(source.first_dose)),
            "RFXENDTC": iso_datetime(ids.map(source.last_dose)),
            "RFICDTC": iso_date(subjects["screening_date"]),
            "RFPENDTC": iso_date(ids.map(follow["last_contact_on"]) if len(follow) else died),
            "DTHDTC": iso_date(died),
            "DTHFL": np.where(died.notna(), "Y", None),
            "SITEID": source.ids.siteid,
            "BRTHDTC": iso_date(subjects["birth_date"]),
            "AGE": _whole_years(subjects["birth_date"], subjects["screening_date"]),
            "AGEU": np.where(subjects["birth_date"].notna(), "YEARS", None),
            "SEX": subjects["sex"].astype(object).where(subjects["sex"].notna(), None),
            "RACE": None,
            "ARMCD": arm.astype(object).where(arm.notna(), None),
            "ARM": arm_name,
            "ACTARMCD": arm.astype(object).where(arm.notna() & treated, None),
            "ACTARM": arm_name.where(treated, None),
            "ARMNRS": np.select(
                [arm.isna(), ~treated], ["SCREEN FAILURE", "ASSIGNED, NOT TREATED"], None
            ),
            "COUNTRY": source.ids.country,
        },
    )


def disposition(source: StudySource) -> pd.DataFrame:
    """DS: informed consent, randomisation, screen failure and death of each subject."""
    cohort = source.cohort
    subjects = _subjects(source)
    consented = subjects[subjects["consent_signed"].fillna(False).astype(bool)]
    rand = cohort.randomization
    failed = subjects[~subjects["patient_id"].isin(rand["patient_id"])]
    died = cohort.followup.dropna(subset=["died_on"])
    reason = failed["outcome_reason"].astype(object)
    parts = [
        (ct.MILESTONE, "INFORMED CONSENT OBTAINED", consented["patient_id"],
         None, consented["screening_date"], 0),
        (ct.MILESTONE, "RANDOMIZED", rand["patient_id"], None, rand["randomized_on"], 1),
        (ct.DISPOSITION_EVENT, "SCREEN FAILURE", failed["patient_id"],
         reason.where(reason.notna(), None), pd.Series(pd.NaT, index=failed.index), 1),
        (ct.DISPOSITION_EVENT, "DEATH", died["patient_id"], None, died["died_on"], 2),
    ]  # fmt: skip
    rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "patient_id": ids.to_numpy(),
                    "DSCAT": category,
                    "DSDECOD": decode,
                    "DSTERM": term if term is not None else decode,
                    "date": pd.to_datetime(dates).to_numpy(),
                    "order": order,
                }
            )
            for category, decode, ids, term, dates, order in parts
        ],
        ignore_index=True,
    )
    rows["DSTERM"] = rows["DSTERM"].fillna(rows["DSDECOD"])
    position = {p: i for i, p in enumerate(subjects["patient_id"])}
    rows = rows.assign(subject=rows["patient_id"].map(position)).sort_values(
        ["subject", "order"], kind="stable"
    )
    return sdtm_frame(
        "DS",
        source,
        {
            "USUBJID": source.usubjid(rows["patient_id"]),
            "DSTERM": rows["DSTERM"],
            "DSDECOD": rows["DSDECOD"],
            "DSCAT": rows["DSCAT"],
            "DSSTDTC": iso_date(rows["date"]),
        },
    )


def _dose(text, unit: str) -> float:
    """A dose as the folder wrote it (``46500000 IU``, ``43.2 MIU``), in ``unit``."""
    if pd.isna(text):
        return np.nan
    return float(parse_quantity(str(text), expected=unit).to(unit).magnitude)


def exposure(source: StudySource) -> pd.DataFrame:
    """EX: one record per SBRT fraction and IL-2 dose given."""
    dosing = source.cohort.dosing
    given = dosing[dosing["status"] == "given"].sort_values(
        ["patient_id", "given_at", "treatment"], kind="stable"
    )
    terms = given["treatment"].map(ct.TREATMENTS)
    unit = terms.map(lambda t: t.unit)
    return sdtm_frame(
        "EX",
        source,
        {
            "USUBJID": source.usubjid(given["patient_id"]),
            "EXSPID": given["treatment"].str.upper()
            + "-C"
            + given["cycle"].astype(str)
            + "-"
            + given["number"].astype(int).map("{:02d}".format),
            "EXTRT": terms.map(lambda t: t.name),
            "EXDOSE": [_dose(d, u) for d, u in zip(given["dose"], unit, strict=True)],
            "EXDOSU": unit,
            "EXDOSFRM": terms.map(lambda t: t.form),
            "EXDOSFRQ": "ONCE",
            "EXROUTE": terms.map(lambda t: t.route),
            "EXSTDTC": iso_datetime(given["given_at"]),
            "EXENDTC": iso_datetime(given["given_at"]),
        },
    )


def _locations(lesions: pd.DataFrame) -> pd.Series:
    nodal = lesions["nodal"].fillna(False).astype(bool)
    return lesions["site"].map(ct.location).where(~nodal, ct.NODAL_LOCATION)


def procedures(source: StudySource) -> pd.DataFrame:
    """PR: the SBRT each irradiated lesion received, dated when ``irradiated_on`` says."""
    lesions = source.cohort.lesions
    hit = lesions[lesions["irradiated"].fillna(False).astype(bool)].sort_values(
        ["patient_id", "irradiated_on", "lesion_id"], kind="stable"
    )
    return sdtm_frame(
        "PR",
        source,
        {
            "USUBJID": source.usubjid(hit["patient_id"]),
            "PRLNKID": hit["lesion_id"],
            "PRTRT": ct.TREATMENTS["sbrt"].name,
            "PRLOC": _locations(hit),
            "PRSTDTC": iso_date(hit["irradiated_on"]),
        },
    )


def tumour_identification(source: StudySource) -> pd.DataFrame:
    """TU: every lesion, identified at its first scan."""
    lesions, scans = source.cohort.lesions, source.cohort.assessments
    first = scans.sort_values("date", kind="stable").drop_duplicates(["patient_id", "lesion_id"])
    rows = lesions.merge(
        first[["patient_id", "lesion_id", "date", "method"]],
        on=["patient_id", "lesion_id"],
        how="left",
    ).sort_values(["patient_id", "date", "lesion_id"], kind="stable")
    visit = source.visit_of(rows["patient_id"], rows["date"])
    role = rows["role"].map(ct.ROLES)
    return sdtm_frame(
        "TU",
        source,
        {
            "USUBJID": source.usubjid(rows["patient_id"]),
            "TULNKID": rows["lesion_id"],
            "TUTESTCD": "TUMIDENT",
            "TUTEST": "Tumor Identification",
            "TUORRES": role,
            "TUSTRESC": role,
            "TULOC": _locations(rows),
            "TUMETHOD": rows["method"].map(ct.METHODS),
            "TUEVAL": ct.EVALUATOR,
            "VISITNUM": visit["visitnum"],
            "VISIT": visit["visit"],
            "TUDTC": iso_date(rows["date"]),
        },
    )


_TESTS = {
    "LDIAM": "Longest Diameter",
    "LPERP": "Longest Perpendicular",
    "TUMSTATE": "Tumor State",
}


def _number(value: float) -> str:
    """A diameter as text, as written (``13``, ``12.5``)."""
    return f"{value:g}"


def tumour_results(source: StudySource) -> pd.DataFrame:
    """TR: every lesion at every scan (module docstring: the tests and results)."""
    cohort, protocol = source.cohort, source.protocol
    rows = cohort.assessments.merge(
        cohort.lesions[["patient_id", "lesion_id", "role", "nodal"]],
        on=["patient_id", "lesion_id"],
        how="left",
    )
    rules = protocol.response.ruleset(protocol.response.primary_ruleset)
    default_mm = float(rules.too_small_default.to("mm").magnitude)
    nodal = rows["nodal"].fillna(False).astype(bool)
    target = rows["role"] == "target"
    too_small = target & (rows["state"] == "too_small").fillna(False) & rows["diameter_mm"].isna()
    size = rows[target].copy()
    size["test"] = np.where(nodal[size.index], "LPERP", "LDIAM")
    small = too_small[size.index]
    value = size["diameter_mm"].astype(float).where(~small, default_mm)
    size["orres"] = np.where(small, ct.TOO_SMALL, value.map(_number))
    size["stresc"] = value.map(_number)
    size["stresn"] = value
    size["unit"] = "mm"
    state = rows[rows["role"] != "target"].copy()
    state["test"] = "TUMSTATE"
    state["orres"] = state["state"].map(ct.STATES)
    state["stresc"] = state["orres"]
    state["stresn"] = np.nan
    state["unit"] = None
    out = pd.concat([size, state]).sort_values(
        ["patient_id", "date", "lesion_id", "test"], kind="stable"
    )
    done = out["stresn"].notna() | out["orres"].notna()
    out["orres"] = out["orres"].where(done, None)
    out["stresc"] = out["stresc"].where(done, None)
    visit = source.visit_of(out["patient_id"], out["date"])
    return sdtm_frame(
        "TR",
        source,
        {
            "USUBJID": source.usubjid(out["patient_id"]),
            "TRGRPID": out["role"].map(ct.ROLES),
            "TRLNKID": out["lesion_id"],
            "TRTESTCD": out["test"],
            "TRTEST": out["test"].map(_TESTS),
            "TRORRES": out["orres"],
            "TRORRESU": out["unit"].where(done, None),
            "TRSTRESC": out["stresc"],
            "TRSTRESN": out["stresn"],
            "TRSTRESU": out["unit"].where(done, None),
            "TRSTAT": np.where(done, None, "NOT DONE"),
            "TRMETHOD": out["method"].map(ct.METHODS),
            "TREVAL": ct.EVALUATOR,
            "VISITNUM": visit["visitnum"],
            "VISIT": visit["visit"],
            "TRDTC": iso_date(out["date"]),
        },
    )


def disease_response(source: StudySource) -> pd.DataFrame:
    """RS: the timepoint responses of every follow-up scan (TRGRESP to OVRLRESP)."""
    from studylib.sdtm import responses_to_rs

    responses = source.responses
    follow_up = responses[responses["date"] != responses["baseline_date"]].copy()
    follow_up["visit"] = source.visit_of(follow_up["patient_id"], follow_up["date"])["visit"]
    follow_up["patient_id"] = source.usubjid(follow_up["patient_id"])
    rules = source.protocol.response
    rs = responses_to_rs(
        follow_up,
        studyid=source.ids.studyid,
        evaluator=ct.EVALUATOR,
        category=ct.ruleset_category(rules.primary_ruleset),
    )
    keys = pd.MultiIndex.from_arrays([rs["USUBJID"], rs["RSDTC"]])
    visitnum = source.visits.assign(
        patient_id=source.usubjid(source.visits["patient_id"]),
        day=source.visits["date"].dt.strftime("%Y-%m-%d"),
    ).set_index(["patient_id", "day"])["visitnum"]
    rs["VISITNUM"] = visitnum.reindex(keys).to_numpy()
    rs["VISIT"] = rs["VISIT"].where(rs["VISIT"].notna(), None)
    return rs.reindex(columns=dataset("RS").names)


def build_sdtm(source: StudySource) -> dict[str, pd.DataFrame]:
    """Every SDTM domain the trial folder holds data for, by lower-case name."""
    return {
        "dm": demographics(source),
        "ds": disposition(source),
        "ex": exposure(source),
        "pr": procedures(source),
        "tu": tumour_identification(source),
        "tr": tumour_results(source),
        "rs": disease_response(source),
    }
