"""ADaM datasets after pharmaverse admiralonco's conventions: ADSL, ADRS, ADTR and ADTTE.

The analysis decides; these builders only lay its results out, so that a statistician who
loads them in R or SAS reproduces the workbook's numbers:

- **ADSL**: one record per randomised subject; ``TRT01P``/``TRT01A`` the arm's name from the
  protocol, ``RANDDT``/``RANDFL``, ``CROSSFL``/``CROSSDT`` and the period dates of a crossover
  (``TRT02A`` the arm crossed over to), ``RSREFDT`` (the day SD's minimum interval counts from)
  and ``RSCUTDT`` (the last scan date the primary endpoint counts).
- **ADRS**: ``OVR`` at every scan; ``BOR`` the primary endpoint exactly as
  :func:`studylib.analysis.primary_endpoint` computes it; ``CBOR`` the same with confirmation
  (RECIST 1.1 section 4.4, the protocol's interval); ``RSP`` responder (``[analysis]``
  responders); ``PD`` first progression (``followup.csv``); ``XBOR`` the crossover response
  (:func:`studylib.analysis.crossover_endpoint`). ``ANL01FL`` marks the primary endpoint's
  records (its OVR are the responses it counted, in its window), ``ANL02FL`` the crossover's.
  From ADSL ``RSREFDT`` and the OVR records with ``ANL01FL`` = Y, the unconfirmed best overall
  response with the protocol's SD minimum gives ``BOR`` again.
- **ADTR**: ``SDIAM``, the sum of the target diameters at every scan with its baseline,
  change, percent change, nadir and change from nadir; ``ANL01FL`` every target measured,
  ``ANL02FL`` also a follow-up scan of the primary window (the waterfall plot's records).
- **ADTTE**: ``OS`` and ``PFS`` from :func:`studylib.analysis.survival_times`, ``AVAL`` in
  days from ``STARTDT`` (the protocol's survival origin) to ``ADT``; ``CNSR`` 0 event, 1
  censored. admiral's ``derive_vars_duration`` adds one day by default; the workbook does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.export import terminology as ct
from studylib.export.metadata import dataset
from studylib.export.source import StudySource
from studylib.wording import and_list, weeks

__all__ = [
    "build_adam",
    "subject_level",
    "tumour_response",
    "tumour_results",
    "time_to_event",
]


def _yes(flag: pd.Series) -> np.ndarray:
    return np.where(flag.fillna(False).astype(bool), "Y", None)


def adam_frame(name: str, columns: dict, sort: list[str] | None = None) -> pd.DataFrame:
    """A dataset in the metadata's order, with ``ASEQ`` per subject after ``sort``."""
    frame = pd.DataFrame(columns)
    if sort:
        frame = frame.sort_values(sort, kind="stable")
    if "ASEQ" in dataset(name).names:
        frame["ASEQ"] = frame.groupby("USUBJID", sort=False).cumcount() + 1
    return frame.reindex(columns=dataset(name).names).reset_index(drop=True)


def _subject_columns(source: StudySource, adsl: pd.DataFrame, ids: pd.Series) -> dict:
    """STUDYID, USUBJID and the treatments of ADSL for each record's patient."""
    trt = adsl.set_index("SUBJID")
    return {
        "STUDYID": source.ids.studyid,
        "USUBJID": source.usubjid(ids),
        "TRT01P": ids.map(trt["TRT01P"]),
        "TRT01A": ids.map(trt["TRT01A"]),
    }


def subject_level(source: StudySource, primary, dm: pd.DataFrame) -> pd.DataFrame:
    """ADSL: one record per randomised subject (``dm``: the SDTM DM domain)."""
    from studylib.analysis.arms import compared_arms
    from studylib.recist.variants import crossover_sbrt_starts

    cohort, protocol = source.cohort, source.protocol
    rand = cohort.randomization.reset_index(drop=True)
    ids = rand["patient_id"]
    dm = dm.set_index("SUBJID")
    follow = cohort.followup.set_index("patient_id")
    arms = {arm.code: (number, arm.name) for number, arm in enumerate(protocol.arms, start=1)}
    planned = rand["arm"].map(lambda code: arms[code][1])
    number = rand["arm"].map(lambda code: arms[code][0]).astype("Int64")
    treated = ids.isin(source.first_dose.index)
    first = ids.map(source.first_dose).dt.normalize()
    last = ids.map(source.last_dose).dt.normalize()
    crossed = rand["crossover"].fillna(False).astype(bool)
    crossed_on = crossover_sbrt_starts(cohort.dosing, rand, protocol=protocol).dt.normalize()
    cross_day = ids.map(crossed_on)
    given = cohort.dosing[cohort.dosing["status"] == "given"]
    before = given[given["given_at"].dt.normalize() < given["patient_id"].map(crossed_on)]
    period_one_end = ids.map(before.groupby("patient_id")["given_at"].max()).dt.normalize()
    moved = cross_day.notna()
    patients = primary.patients.set_index("patient_id")
    reference = ids.map(patients["first_il2_dose"]).fillna(rand["randomized_on"])
    died = ids.map(follow["died_on"]) if len(follow) else pd.Series(pd.NaT, index=ids.index)
    return adam_frame(
        "ADSL",
        {
            "STUDYID": source.ids.studyid,
            "USUBJID": source.usubjid(ids),
            "SUBJID": ids,
            "SITEID": source.ids.siteid,
            "AGE": ids.map(dm["AGE"]).astype("Int64"),
            "AGEU": ids.map(dm["AGEU"]),
            "SEX": ids.map(dm["SEX"]),
            **{name: ids.map(dm[name]) for name in ("ARM", "ARMCD", "ACTARM", "ACTARMCD")},
            "TRT01P": planned,
            "TRT01PN": number,
            "TRT01A": planned.where(treated, None),
            "TRT01AN": number.where(treated),
            "TRT02A": np.where(
                moved, protocol.arm(compared_arms(protocol).experimental).name, None
            ),
            "RANDDT": rand["randomized_on"],
            "RANDFL": "Y",
            "ITTFL": "Y",
            "SAFFL": _yes(treated),
            "TRTSDT": first,
            "TRTEDT": last,
            "TR01SDT": first,
            "TR01EDT": period_one_end.where(moved, last),
            "TR02SDT": cross_day,
            "TR02EDT": last.where(moved),
            "CROSSFL": np.where(crossed, "Y", "N"),
            "CROSSDT": cross_day,
            "RSREFDT": pd.to_datetime(reference).dt.normalize(),
            "RSCUTDT": ids.map(patients["cutoff_date"]),
            "DTHFL": ids.map(dm["DTHFL"]),
            "DTHDT": died,
            "LSTALVDT": ids.map(follow["last_contact_on"]) if len(follow) else died,
        },
    )


def _parameters(protocol) -> dict[str, str]:
    """PARAM of each ADRS parameter, in words, from the protocol's response rules."""
    rules = protocol.response
    rules_used = ct.ruleset_category(rules.primary_ruleset)
    if rules.exclude_irradiated:
        rules_used += ", non-irradiated lesions"
    week = rules.primary_timepoint_week
    responders = and_list(protocol.analysis.responders).replace(" and ", " or ")
    crossover = protocol.crossover
    return {
        "OVR": f"Overall Response ({rules_used})",
        "BOR": f"Best Overall Response up to Week {week} ({rules_used}, confirmation not required)",
        "CBOR": f"Best Confirmed Overall Response up to Week {week} ({rules_used})",
        "RSP": f"Response ({responders}) up to Week {week} ({rules_used}, "
        "confirmation not required)",
        "PD": "Disease Progression (follow-up form)",
        "XBOR": f"Best Overall Response after Crossover ({rules_used}, "
        f"{weeks(crossover.response_assessment_after)} after cycle {crossover.first_cycle})",
    }


def _response_rows(patients: pd.Series, codes: pd.Series, dates: pd.Series, **flags):
    return pd.DataFrame(
        {
            "patient_id": patients.to_numpy(),
            "AVALC": codes.to_numpy(),
            "AVAL": [ct.response_value(code) for code in codes],
            "ADT": pd.to_datetime(dates).to_numpy(),
            **flags,
        }
    )


def _yes_no_rows(patients: pd.Series, flag: pd.Series, dates: pd.Series, **flags):
    flag = flag.fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "patient_id": patients.to_numpy(),
            "AVALC": np.where(flag, "Y", "N"),
            "AVAL": flag.astype(float).to_numpy(),
            "ADT": pd.to_datetime(dates).where(flag.to_numpy()).to_numpy(),
            **flags,
        }
    )


def _confirmed_bor(source: StudySource, primary, adsl: pd.DataFrame) -> pd.DataFrame:
    """CBOR: the primary endpoint's responses and window, with confirmation required."""
    from studylib.recist.bor import best_overall_response

    ids = adsl["SUBJID"]
    reference = pd.Series(adsl["RSREFDT"].to_numpy(), index=ids)
    cutoff = pd.Series(adsl["RSCUTDT"].to_numpy(), index=ids).dropna()
    return best_overall_response(
        primary.responses,
        reference,
        confirm=True,
        cutoff_dates=cutoff,
        pd_cutoff=True,
        protocol=source.protocol,
    )


def tumour_response(source: StudySource, primary, crossover, adsl: pd.DataFrame):
    """ADRS: OVR, BOR, CBOR, RSP, PD and XBOR (module docstring)."""
    responses = source.responses
    follow_up = responses[responses["date"] != responses["baseline_date"]]
    counted = pd.MultiIndex.from_frame(primary.responses[["patient_id", "date"]])
    after = pd.MultiIndex.from_frame(crossover.responses[["patient_id", "date"]])
    rest = follow_up[
        ~pd.MultiIndex.from_frame(follow_up[["patient_id", "date"]]).isin(counted.union(after))
    ]
    p, x = primary.patients, crossover.patients
    confirmed = _confirmed_bor(source, primary, adsl)
    follow = source.cohort.followup
    randomised = source.cohort.randomization["patient_id"]
    progressed = randomised.map(follow.set_index("patient_id")["progressed_on"])
    one = {"ANL01FL": "Y"}
    two = {"ANL02FL": "Y"}
    parts = {
        "OVR": [
            _response_rows(
                primary.responses["patient_id"],
                primary.responses["overall_response"],
                primary.responses["date"],
                **one,
            ),
            _response_rows(
                crossover.responses["patient_id"],
                crossover.responses["overall_response"],
                crossover.responses["date"],
                **two,
            ),
            _response_rows(rest["patient_id"], rest["overall_response"], rest["date"]),
        ],
        "BOR": [_response_rows(p["patient_id"], p["bor"], p["date"], **one)],
        "CBOR": [
            _response_rows(confirmed["patient_id"], confirmed["bor"], confirmed["date"], **one)
        ],
        "RSP": [_yes_no_rows(p["patient_id"], p["responder"], p["date"], **one)],
        # without followup.csv nothing is known of progression: no PD record at all
        "PD": [_yes_no_rows(randomised, progressed.notna(), progressed, **one)]
        if source.has_form("followup")
        else [],
        "XBOR": [_response_rows(x["patient_id"], x["bor"], x["date"], **two)],
    }
    names = _parameters(source.protocol)
    rows = pd.concat(
        [part.assign(PARAMCD=code) for code, frames in parts.items() for part in frames],
        ignore_index=True,
    )
    rows["order"] = rows["PARAMCD"].map(list(parts).index)
    visit = source.visit_of(rows["patient_id"], rows["ADT"])
    return adam_frame(
        "ADRS",
        {
            **_subject_columns(source, adsl, rows["patient_id"]),
            "PARAMCD": rows["PARAMCD"],
            "PARAM": rows["PARAMCD"].map(names),
            "PARCAT1": "Tumor Response",
            "PARCAT2": "Investigator",
            "PARCAT3": ct.ruleset_category(source.protocol.response.primary_ruleset),
            "AVALC": rows["AVALC"],
            "AVAL": rows["AVAL"].astype(float),
            "ADT": rows["ADT"],
            "AVISIT": visit["visit"],
            "AVISITN": visit["visitnum"],
            "ANL01FL": rows["ANL01FL"].where(rows["ANL01FL"].notna(), None),
            "ANL02FL": rows["ANL02FL"].where(rows["ANL02FL"].notna(), None),
            "order": rows["order"],
        },
        sort=["USUBJID", "order", "ADT"],
    )


def tumour_results(source: StudySource, primary, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADTR: the sum of target diameters at every scan (SDIAM)."""
    r = source.responses
    r = r[r["targets_expected"] > 0]
    baseline = r["date"] == r["baseline_date"]
    complete = r["targets_measured"] == r["targets_expected"]
    cutoff = r["patient_id"].map(primary.patients.set_index("patient_id")["cutoff_date"])
    window = complete & ~baseline & (r["date"] <= cutoff)
    visit = source.visit_of(r["patient_id"], r["date"])
    return adam_frame(
        "ADTR",
        {
            **_subject_columns(source, adsl, r["patient_id"]),
            "PARAMCD": "SDIAM",
            "PARAM": "Target Lesions Sum of Diameters (mm)",
            "PARCAT1": "Target Lesion(s)",
            "PARCAT3": ct.ruleset_category(source.protocol.response.primary_ruleset),
            "AVAL": r["sum_mm"].astype(float),
            "BASE": r["baseline_sum_mm"].astype(float),
            "CHG": r["change_baseline_mm"].astype(float),
            "PCHG": r["pct_change_baseline"].astype(float),
            "NADIR": r["nadir_sum_mm"].astype(float),
            "CHGNAD": r["change_nadir_mm"].astype(float),
            "PCHGNAD": r["pct_change_nadir"].astype(float),
            "ABLFL": _yes(baseline),
            "ADT": r["date"],
            "AVISIT": visit["visit"],
            "AVISITN": visit["visitnum"],
            "ANL01FL": _yes(complete),
            "ANL02FL": _yes(window),
        },
        sort=["USUBJID", "ADT"],
    )


_EVENTS = {
    "death": ("DEATH", "ADSL", "DTHDT"),
    "progression": ("DISEASE PROGRESSION", "ADRS", "ADT"),
    "censored at last contact": ("CENSORED AT LAST CONTACT", "ADSL", "LSTALVDT"),
}
_NAMES = {
    "os": ("OS", "Overall Survival (days)"),
    "pfs": ("PFS", "Progression-Free Survival (days)"),
}


def time_to_event(source: StudySource, adsl: pd.DataFrame) -> pd.DataFrame:
    """ADTTE: OS and PFS of every randomised subject."""
    from studylib.analysis import survival_times

    cohort = source.cohort
    times = survival_times(cohort.randomization, cohort.followup, protocol=source.protocol)
    parts = []
    for endpoint, (code, name) in _NAMES.items():
        rule = times[f"{endpoint}_rule"]
        event = times[f"{endpoint}_event"].astype(bool)
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": times["patient_id"],
                    "PARAMCD": code,
                    "PARAM": name,
                    "AVAL": (times[f"{endpoint}_date"] - times["origin"]).dt.days.astype(float),
                    "STARTDT": times["origin"],
                    "ADT": times[f"{endpoint}_date"],
                    "CNSR": (~event).astype(int),
                    "EVNTDESC": rule.map(lambda r: _EVENTS[r][0]),
                    "CNSDTDSC": np.where(event, None, "LAST CONTACT"),
                    "SRCDOM": rule.map(lambda r: _EVENTS[r][1]),
                    "SRCVAR": rule.map(lambda r: _EVENTS[r][2]),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    return adam_frame(
        "ADTTE",
        {
            **_subject_columns(source, adsl, rows["patient_id"]),
            **{c: rows[c] for c in rows.columns if c != "patient_id"},
        },
        sort=["USUBJID", "PARAMCD"],
    )


def build_adam(source: StudySource, dm: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every ADaM dataset, by lower-case name (ADTTE only when ``followup.csv`` exists)."""
    from studylib.analysis import crossover_endpoint, primary_endpoint

    cohort = source.cohort
    primary = primary_endpoint(cohort)
    crossover = crossover_endpoint(cohort)
    adsl = subject_level(source, primary, dm)
    out = {
        "adsl": adsl,
        "adrs": tumour_response(source, primary, crossover, adsl),
        "adtr": tumour_results(source, primary, adsl),
    }
    if source.has_form("followup"):
        out["adtte"] = time_to_event(source, adsl)
    return out
