"""iRECIST best overall response (iBOR), Seymour et al., Lancet Oncol 2017, Table 3.

The iBOR is the best iRECIST timepoint response up to the first confirmed progression, ranked
iCR > iPR > iSD > NON-iCR/NON-iUPD > iCPD > iUPD > NE > ND > MISSING (the order of admiralonco's
iRECIST vignette); ties go to the earliest date. It follows Table 3 of Seymour et al.:

- a response after an iUPD counts (example 2: iUPD, then iCR: iBOR iCR);
- iUPD then iCPD gives iCPD (examples 6 and 7), dated at the iUPD it confirms, the first of the
  iUPD and NE assessments just before the iCPD (iRECIST dates progression at the iUPD);
- iUPD followed only by NE stays iUPD (example 8);
- iSD and NON-iCR/NON-iUPD count only on or after the SD minimum (RECIST 1.1 section 4.4),
  earlier they count as NE; no confirmation of iCR or iPR ("Table assumes a randomised study in
  which confirmation of complete response or partial response is not required").

Input handling as for :func:`~studylib.recist.bor.best_overall_response`: several records on
one date are reduced to the worst, ``cutoff_dates`` drops later assessments, and assessments
after the first iCPD are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from studylib.errors import Problem, ResponseError
from studylib.protocol import Protocol, resolve_protocol
from studylib.recist.bor import (
    _apply_cutoff,
    _cutoffs,
    _join,
    _patient_dates,
    _read_responses,
    _worst_per_date,
    protocol_bor_options,
)
from studylib.vocabulary import IBOR_ORDER, IRECIST_CODES, IRECIST_SAME_DATE_ORDER

__all__ = ["irecist_best_response"]

_RANK = {code: number for number, code in enumerate(IBOR_ORDER, start=1)}
#: Codes that reset an iUPD: a later iCPD confirms only an iUPD with iUPD or NE since.
_OPEN = ("iUPD", "NE")


def irecist_best_response(
    responses: pd.DataFrame,
    reference_dates: pd.Series | Mapping[str, Any],
    *,
    sd_min_days: int | None = None,
    cutoff_dates: pd.Series | Mapping[str, Any] | Any = None,
    missing_as_ne: bool = False,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Best overall iRECIST response of every patient (Seymour et al. 2017, Table 3).

    Parameters
    ----------
    responses
        iRECIST timepoint responses with ``patient_id``, ``date`` and ``response`` (one of
        iCR, iPR, iSD, NON-iCR/NON-iUPD, iUPD, iCPD, NE, ND), or the ``overall_response`` of
        ``timepoint_responses(..., ruleset="irecist")``.
    reference_dates
        Every patient's reference date (randomisation or first dose), as a Series indexed by
        ``patient_id`` or a dict; every patient listed gets a row.
    sd_min_days
        iSD and NON-iCR/NON-iUPD count only on or after ``reference + sd_min_days``; default
        the protocol's ``[response].sd_min_interval`` (DESIGN's contract names 42 days, which
        is the bundled protocol's value; another protocol's own interval applies to it).
    cutoff_dates
        A date for everyone, or per patient; assessments after it are not counted.
    missing_as_ne
        A patient without assessments gets NE instead of MISSING.
    protocol
        The :class:`~studylib.protocol.Protocol` (``None``: the bundled one).

    Returns
    -------
    DataFrame
        One row per patient, in the order of ``reference_dates``: ``patient_id``, ``ibor``
        (one of :data:`~studylib.vocabulary.IBOR_ORDER`), ``date`` (the assessment that gave
        it; for iCPD the iUPD it confirmed), ``reason``, ``reference_date``,
        ``days_from_reference``, ``first_response_date`` (first iCR or iPR),
        ``progression_date`` (the iUPD confirmed by the first iCPD: iRECIST's date of
        progression), ``icpd_date`` (that iCPD), ``open_iupd_date`` (an iUPD neither confirmed
        nor reset by the last assessment counted), ``n_assessments`` and
        ``dates_with_several_records``.

    Raises
    ------
    studylib.errors.ResponseError
        (a ``ValueError``) listing every problem: missing columns, unknown or empty codes,
        unreadable dates, patients without a reference date, invalid options.
    """
    if sd_min_days is None:
        sd_min_days = protocol_bor_options(resolve_protocol(protocol))["sd_min_days"]
    _check(sd_min_days, missing_as_ne)
    refs = _patient_dates(reference_dates, "reference_dates")
    records = _read_responses(responses, refs, IRECIST_CODES)
    records, several = _worst_per_date(records, IRECIST_SAME_DATE_ORDER)
    cutoffs = _cutoffs(cutoff_dates, refs)
    records, n_after_cutoff = _apply_cutoff(records, cutoffs)
    records = records.sort_values(["patient_id", "date"], kind="stable").reset_index(drop=True)

    first_icpd = records.loc[records["code"] == "iCPD"].groupby("patient_id")["date"].min()
    after_icpd = records["date"] > records["patient_id"].map(first_icpd)
    n_after_icpd = records.loc[after_icpd].groupby("patient_id").size()
    records = records.loc[~after_icpd].reset_index(drop=True)

    # The iUPD an iCPD confirms: the first iUPD of the run of iUPD and NE just before it.
    resets = ~records["code"].isin(_OPEN)
    run = resets.astype(int).groupby(records["patient_id"]).cumsum()
    records["run"] = run
    icpd_run = records.loc[records["code"] == "iCPD"].set_index("patient_id")["run"]
    before = records["run"] == records["patient_id"].map(icpd_run) - 1
    confirmed_iupd = (
        records.loc[before & (records["code"] == "iUPD")].groupby("patient_id")["date"].min()
    )
    last_run = records.groupby("patient_id")["run"].transform("max")
    still_open = (records["run"] == last_run) & (records["code"] == "iUPD")
    open_iupd = records.loc[still_open].groupby("patient_id")["date"].min()
    open_iupd = open_iupd.drop(first_icpd.index, errors="ignore")

    records["reference_date"] = records["patient_id"].map(refs)
    sd_ok = records["date"] >= records["reference_date"] + pd.Timedelta(days=sd_min_days)
    rank = records["code"].map(_RANK).astype("int64")
    early = records["code"].isin(["iSD", "NON-iCR/NON-iUPD"]) & ~sd_ok
    records["rank"] = rank.mask(early, _RANK["NE"])
    best = (
        records.sort_values(["patient_id", "rank", "date"], kind="stable")
        .drop_duplicates("patient_id")
        .set_index("patient_id")
    )

    out = pd.DataFrame(index=refs.index.rename("patient_id"))
    missing_code = "NE" if missing_as_ne else "MISSING"
    out["ibor"] = best["rank"].map(dict(enumerate(IBOR_ORDER, start=1)))
    out["ibor"] = out["ibor"].fillna(missing_code).astype("str")
    out["code"] = best["code"]
    out["date"] = best["date"]
    is_icpd = out["ibor"] == "iCPD"
    out.loc[is_icpd, "date"] = confirmed_iupd.reindex(out.index)[is_icpd].fillna(
        out.loc[is_icpd, "date"]
    )
    out["date"] = out["date"].astype("datetime64[us]")
    out["reference_date"] = refs
    out["days_from_reference"] = (out["date"] - out["reference_date"]).dt.days.astype("Int64")
    responded = records["code"].isin(["iCR", "iPR"])
    out["first_response_date"] = records.loc[responded].groupby("patient_id")["date"].min()
    out["progression_date"] = confirmed_iupd.reindex(out.index).fillna(
        first_icpd.reindex(out.index)
    )
    out["icpd_date"] = first_icpd.reindex(out.index)
    out["open_iupd_date"] = open_iupd.reindex(out.index)
    for column in ("first_response_date", "progression_date", "icpd_date", "open_iupd_date"):
        out[column] = out[column].astype("datetime64[us]")
    counts = records.groupby("patient_id").size().reindex(out.index).fillna(0)
    out["n_assessments"] = counts.astype("int64")
    out["dates_with_several_records"] = several.reindex(out.index).fillna(0).astype("int64")
    iupd_before = records.loc[records["code"] == "iUPD"].groupby("patient_id")["date"].min()
    out["reason"] = _reasons(
        out,
        sd_min_days=sd_min_days,
        iupd_before=iupd_before.reindex(out.index),
        without_iupd=is_icpd & confirmed_iupd.reindex(out.index).isna(),
        n_after_icpd=n_after_icpd.reindex(out.index).fillna(0).astype("int64"),
        n_after_cutoff=n_after_cutoff.reindex(out.index).fillna(0).astype("int64"),
        cutoffs=cutoffs,
    )
    columns = [
        "ibor",
        "date",
        "reason",
        "reference_date",
        "days_from_reference",
        "first_response_date",
        "progression_date",
        "icpd_date",
        "open_iupd_date",
        "n_assessments",
        "dates_with_several_records",
    ]
    result = out[columns].reset_index()
    for name in ("patient_id", "ibor", "reason"):
        result[name] = result[name].astype("str")
    return result


def _check(sd_min_days: Any, missing_as_ne: Any) -> None:
    problems = []
    if (
        isinstance(sd_min_days, bool)
        or not isinstance(sd_min_days, int | np.integer)
        or sd_min_days < 0
    ):
        problems.append(
            Problem(
                "options", None, "sd_min_days", sd_min_days, "a whole number of days, 0 or more"
            )
        )
    if not isinstance(missing_as_ne, bool | np.bool_):
        problems.append(Problem("options", None, "missing_as_ne", missing_as_ne, "True or False"))
    if problems:
        raise ResponseError(problems, "the irecist_best_response options")


def _reasons(
    out: pd.DataFrame,
    *,
    sd_min_days: int,
    iupd_before: pd.Series,
    without_iupd: pd.Series,
    n_after_icpd: pd.Series,
    n_after_cutoff: pd.Series,
    cutoffs: pd.Series,
) -> pd.Series:
    index = out.index
    ibor = out["ibor"]
    code = out["code"].fillna("")
    when = out["date"].dt.strftime("%Y-%m-%d").fillna("")
    day = " (day " + out["days_from_reference"].astype("str") + ")"
    n = out["n_assessments"].astype("str")
    minimum = f"the {sd_min_days}-day SD minimum"
    icpd = out["icpd_date"].dt.strftime("%Y-%m-%d").fillna("")
    after_iupd = (iupd_before < out["date"]).fillna(False).to_numpy()
    response = (
        ibor
        + " on "
        + when
        + day
        + ": the best of "
        + n
        + " assessment(s); confirmation not required"
        + pd.Series(
            np.where(after_iupd, " (a response after an iUPD counts, Seymour Table 3)", ""),
            index=index,
        )
    )
    conditions = [
        out["code"].isna(),
        ibor.isin(["iCR", "iPR"]),
        ibor.isin(["iSD", "NON-iCR/NON-iUPD"]),
        (ibor == "iCPD") & without_iupd,
        ibor == "iCPD",
        ibor == "iUPD",
        (ibor == "NE") & code.isin(["iSD", "NON-iCR/NON-iUPD"]),
        ibor.isin(["NE", "ND"]),
    ]
    missing = pd.Series(
        np.where(
            n_after_cutoff > 0,
            "no assessment on or before the cut-off date",
            "no response assessment",
        ),
        index=index,
    ) + np.where(ibor == "NE", ": NE (missing counted as NE)", ": MISSING")
    choices = [
        missing,
        response,
        ibor + " on " + when + day + f", on or after {minimum}",
        "iCPD on " + icpd + day + " with no iUPD just before it (a data issue: iCPD confirms an "
        "iUPD)",
        "iCPD: the iUPD of " + when + day + " was confirmed on " + icpd + "; no iCR, iPR or iSD "
        f"on or after {minimum}",
        "iUPD on " + when + day + " never confirmed: no iCPD by the last assessment, and no "
        f"iCR, iPR or iSD on or after {minimum} (Seymour Table 3, example 8)",
        code + " on " + when + day + f" is before {minimum}: NE",
        ibor + " on " + when + day + ": nothing better was assessed",
    ]
    reason = pd.Series(np.select(conditions, choices, default=""), index=index)
    notes = [
        pd.Series(
            np.where(
                n_after_icpd > 0,
                n_after_icpd.astype("str")
                + " assessment(s) after the iCPD on "
                + icpd
                + " not counted",
                "",
            ),
            index=index,
        ),
        pd.Series(
            np.where(
                n_after_cutoff > 0,
                n_after_cutoff.astype("str")
                + " assessment(s) after the cut-off date "
                + cutoffs.dt.strftime("%Y-%m-%d").fillna("")
                + " not counted",
                "",
            ),
            index=index,
        ),
    ]
    return _join([reason, *notes], "; ")
