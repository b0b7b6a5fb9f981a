"""Best overall response: from timepoint responses to one verdict per patient (layer 3).

RECIST 1.1 section 4.4 (Eisenhauer et al. 2009) defines the best overall response (BOR) as the
best timepoint response from the start of treatment until progression, taking any
confirmation requirement into account (Table 3). The rules below follow admiralonco's
definitions (``derive_param_bor`` / ``derive_param_confirmed_bor`` and the event objects of
``R/response_sources.R``), which are the reference the conformance tests check against:

* **SD minimum.** SD and NON-CR/NON-PD count only on or after ``reference + sd_min_days``
  (inclusive); earlier they count as NE. CR, PR and PD count at any date. The SD minimum,
  the confirmation interval and the NE allowed between default to the protocol's
  ``[response]`` (:func:`protocol_bor_options`).
* **Confirmation** (``confirm=True``). A CR is confirmed by the first later CR at least
  ``confirm_min_days`` after it; a PR by the first later CR or PR at least that far. Every
  assessment after the response up to and including the confirming one must be CR or NE (for
  a CR), or CR, PR or NE (for a PR; one SD too with ``accept_sd_between``), with at most
  ``max_ne_between`` NE, and, for a PR, no PR after a CR. Anything else (PD, ND,
  NON-CR/NON-PD) breaks it. An unconfirmed CR or PR counts as SD on or after the SD minimum,
  as NE before it. A confirmed response is dated at its first scan.
* **Ranking.** CR > PR > SD > NON-CR/NON-PD > PD > NE > ND > MISSING; ties go to the earliest
  date.

Input handling (admiralonco leaves it to pre-processing; here it is part of the engine so
every caller gets the same result):

* **Several records on one date** are reduced to the worst one, ranked
  PD > NON-CR/NON-PD > SD > PR > CR > NE > ND. This is the ADRS template's ``ANL01FL`` order:
  an evaluable result beats NE, and the most pessimistic evaluable result wins, so a
  disagreement is never resolved in the patient's favour.
* ``cutoff_dates`` drops assessments after a patient's cut-off date (the day of the cut-off is
  kept), then ``pd_cutoff`` drops those after the first PD (RECIST 1.1 section 4.4: the best
  response is recorded "until disease progression").
* A CR followed later by a PR is a data issue (Table 3, note a: after a true CR any later
  disease is PD): it is flagged in ``cr_then_pr``, named in ``reason`` and warned about, never
  changed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from studylib.errors import DataError, Problem, ResponseError
from studylib.protocol import Protocol, resolve_protocol
from studylib.vocabulary import BOR_ORDER, DISEASE_CONTROL, RESPONSE_CODES, SAME_DATE_ORDER

__all__ = [
    "RESPONSE_CODES",
    "BOR_ORDER",
    "SAME_DATE_ORDER",
    "CrThenPrWarning",
    "best_overall_response",
    "objective_response",
    "disease_control",
    "protocol_bor_options",
]

_RANK = {code: number for number, code in enumerate(BOR_ORDER, start=1)}
_SD, _NE = _RANK["SD"], _RANK["NE"]


class CrThenPrWarning(UserWarning):
    """A patient has a PR after a CR: the CR is probably wrong and should be queried."""


def protocol_bor_options(protocol: Protocol | None = None) -> dict[str, int]:
    """The trial's own settings for :func:`best_overall_response`, read from the protocol.

    Parameters
    ----------
    protocol
        A :class:`studylib.protocol.Protocol`; default the bundled one.

    Returns
    -------
    dict
        ``sd_min_days`` (``[response].sd_min_interval``), ``confirm_min_days``
        (``[response].confirmation_interval``) and ``max_ne_between``, to pass as
        ``best_overall_response(responses, refs, **protocol_bor_options())``; they are
        also its defaults. Whether confirmation is required is the caller's choice
        (``confirm``): the protocol's reading is that this randomised trial does not require
        it (RECIST 1.1 section 4.4).
    """
    rules = resolve_protocol(protocol).response

    def whole_days(quantity: Any, name: str) -> int:
        days = float(quantity.to("day").magnitude)
        if not days.is_integer():
            raise ValueError(f"[response].{name} must be a whole number of days, got {quantity}")
        return int(days)

    return {
        "sd_min_days": whole_days(rules.sd_min_interval, "sd_min_interval"),
        "confirm_min_days": whole_days(rules.confirmation_interval, "confirmation_interval"),
        "max_ne_between": int(rules.max_ne_between),
    }


def best_overall_response(
    responses: pd.DataFrame,
    reference_dates: pd.Series | Mapping[str, Any],
    *,
    confirm: bool = False,
    confirm_min_days: int | None = None,
    max_ne_between: int | None = None,
    accept_sd_between: bool = False,
    sd_min_days: int | None = None,
    cutoff_dates: pd.Series | Mapping[str, Any] | Any = None,
    pd_cutoff: bool = True,
    missing_as_ne: bool = False,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Best overall response of every patient, unconfirmed or confirmed (RECIST 1.1 4.4).

    Parameters
    ----------
    responses
        Timepoint responses with ``patient_id``, ``date`` and ``response`` (one of
        :data:`RESPONSE_CODES`; an ``overall_response`` column, as returned by
        ``timepoint_responses``, is used when there is no ``response`` column). Other columns
        are ignored.
    reference_dates
        Every patient's reference date (randomisation or first dose), as a Series indexed by
        ``patient_id`` or a dict. Every patient listed gets a row, with or without assessments.
    confirm
        Require confirmation of CR and PR (RECIST 1.1 Table 3).
    confirm_min_days
        Minimum days between a response and its confirming assessment (inclusive); default
        the protocol's ``[response].confirmation_interval``.
    max_ne_between
        NE assessments allowed between a response and its confirmation; default the
        protocol's ``[response].max_ne_between``.
    accept_sd_between
        Allow one SD between a PR and its confirmation.
    sd_min_days
        SD and NON-CR/NON-PD count only on or after ``reference + sd_min_days`` days; default
        the protocol's ``[response].sd_min_interval``.
    cutoff_dates
        A date for everyone, or per patient (Series or dict; a patient left out, or with an
        empty date, has no cut-off). Assessments after it are not counted.
    pd_cutoff
        Do not count assessments after the first PD.
    missing_as_ne
        A patient without assessments gets NE instead of MISSING.
    protocol
        The :class:`~studylib.protocol.Protocol` whose ``[response]`` gives the defaults
        (default: the bundled one).

    Returns
    -------
    DataFrame
        One row per patient, in the order of ``reference_dates``:

        ``patient_id``; ``bor`` (one of :data:`BOR_ORDER`); ``date`` (the assessment that gave
        it; for a confirmed response its first scan; empty for MISSING); ``reason`` (plain
        English: which assessment and which rule); ``reference_date``;
        ``days_from_reference`` (``date`` minus the reference date, in days);
        ``confirmed_by_date`` (the confirming assessment of a confirmed CR/PR);
        ``first_response_date`` (first CR/PR, or first confirmed CR/PR with ``confirm``);
        ``disease_control_date`` (the earlier of ``first_response_date`` and the first CR, PR,
        SD or NON-CR/NON-PD on or after the SD minimum); ``progression_date`` (first PD
        counted); ``n_assessments`` (dates counted after the cut-offs);
        ``dates_with_several_records`` (dates reduced to their worst record); ``cr_then_pr``
        (True when a PR follows a CR: a data issue to query).

    Raises
    ------
    ValueError
        A :class:`studylib.errors.ResponseError` (a ``DataError``) listing every problem of
        ``responses``: missing columns, unknown or empty response codes, unreadable dates,
        patients without a reference date; a :class:`~studylib.errors.DataError` for invalid
        options or dates per patient.

    Warns
    -----
    CrThenPrWarning
        Naming the patients with a PR after a CR.
    """
    defaults = protocol_bor_options(protocol)
    if confirm_min_days is None:
        confirm_min_days = defaults["confirm_min_days"]
    if max_ne_between is None:
        max_ne_between = defaults["max_ne_between"]
    if sd_min_days is None:
        sd_min_days = defaults["sd_min_days"]
    _check_options(
        confirm_min_days=confirm_min_days,
        max_ne_between=max_ne_between,
        sd_min_days=sd_min_days,
        confirm=confirm,
        accept_sd_between=accept_sd_between,
        pd_cutoff=pd_cutoff,
        missing_as_ne=missing_as_ne,
    )
    refs = _patient_dates(reference_dates, "reference_dates")
    records = _read_responses(responses, refs)
    cutoffs = _cutoffs(cutoff_dates, refs)

    records, several = _worst_per_date(records)
    records, n_after_cutoff = _apply_cutoff(records, cutoffs)
    first_pd = records.loc[records["code"] == "PD"].groupby("patient_id")["date"].min()
    n_after_pd = pd.Series(0, index=refs.index)
    if pd_cutoff:
        after_pd = records["date"] > records["patient_id"].map(first_pd)
        n_after_pd = records.loc[after_pd].groupby("patient_id").size()
        records = records.loc[~after_pd]
    records = records.sort_values(["patient_id", "date"], kind="stable").reset_index(drop=True)
    records["reference_date"] = records["patient_id"].map(refs)
    records["sd_ok"] = records["date"] >= records["reference_date"] + pd.Timedelta(days=sd_min_days)

    if confirm:
        _confirm(records, confirm_min_days, max_ne_between, accept_sd_between)
    else:
        records["confirmed"] = records["code"].isin(["CR", "PR"])
    records["rank"] = _rank(records, confirm)

    best = (
        records.sort_values(["patient_id", "rank", "date"], kind="stable")
        .drop_duplicates("patient_id")
        .set_index("patient_id")
    )
    out = pd.DataFrame(index=refs.index.rename("patient_id"))
    out["bor"] = best["rank"].map(dict(enumerate(BOR_ORDER, start=1)))
    missing_code = "NE" if missing_as_ne else "MISSING"
    out["bor"] = out["bor"].fillna(missing_code).astype("str")
    out["date"] = best["date"]
    out["reference_date"] = refs
    out["days_from_reference"] = (out["date"] - out["reference_date"]).dt.days.astype("Int64")
    if confirm:
        out["confirmed_by_date"] = best["confirm_date"]
    else:
        out["confirmed_by_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    out["first_response_date"] = _first_date(records, records["confirmed"], refs)
    benefit = records["code"].isin(DISEASE_CONTROL) & records["sd_ok"]
    out["disease_control_date"] = pd.concat(
        [out["first_response_date"], _first_date(records, benefit, refs)], axis=1
    ).min(axis=1)
    out["progression_date"] = first_pd.reindex(refs.index)
    out["n_assessments"] = records.groupby("patient_id").size().reindex(refs.index).fillna(0)
    out["n_assessments"] = out["n_assessments"].astype("int64")
    out["dates_with_several_records"] = several.reindex(refs.index).fillna(0).astype("int64")
    crpr = _cr_then_pr(records, refs)
    out["cr_then_pr"] = crpr["pr_date"].notna()

    out["reason"] = _reasons(
        out,
        best,
        crpr,
        confirm=confirm,
        confirm_min_days=confirm_min_days,
        sd_min_days=sd_min_days,
        missing_code=missing_code,
        n_after_cutoff=n_after_cutoff.reindex(refs.index).fillna(0).astype("int64"),
        cutoffs=cutoffs,
        n_after_pd=n_after_pd.reindex(refs.index).fillna(0).astype("int64"),
        first_pd=first_pd.reindex(refs.index),
    )
    if out["cr_then_pr"].any():
        flagged = out.index[out["cr_then_pr"]].tolist()
        warnings.warn(
            f"{len(flagged)} patient(s) have a PR after a CR, which RECIST 1.1 (Table 3, "
            f"note a) treats as a data issue: query the CR of {', '.join(flagged[:20])}"
            + (" ..." if len(flagged) > 20 else "")
            + " (see the cr_then_pr column)",
            CrThenPrWarning,
            stacklevel=2,
        )
    columns = [
        "bor",
        "date",
        "reason",
        "reference_date",
        "days_from_reference",
        "confirmed_by_date",
        "first_response_date",
        "disease_control_date",
        "progression_date",
        "n_assessments",
        "dates_with_several_records",
        "cr_then_pr",
    ]
    result = out[columns].reset_index()
    for name in ("patient_id", "bor", "reason"):
        result[name] = result[name].astype("str")
    return result


def objective_response(bor: pd.DataFrame) -> pd.DataFrame:
    """Objective response (responder Y/N) from :func:`best_overall_response`'s result.

    RECIST 1.1 section 4.4 / admiralonco ``RSP`` (``CRSP`` when the BOR was confirmed): a
    patient responds when the best overall response is CR or PR. ``date`` is the first
    (confirmed) response, the start of the duration of response; empty for non-responders.

    Returns
    -------
    DataFrame
        ``patient_id``, ``responder`` (``"Y"``/``"N"``), ``date``.
    """
    responder = bor["bor"].isin(["CR", "PR"])
    return pd.DataFrame(
        {
            "patient_id": bor["patient_id"],
            "responder": np.where(responder, "Y", "N"),
            "date": bor["first_response_date"].where(responder),
        }
    )


def disease_control(bor: pd.DataFrame) -> pd.DataFrame:
    """Disease control (clinical benefit, Y/N) from :func:`best_overall_response`'s result.

    RECIST 1.1 section 4.4 / admiralonco ``CB`` (``CCB`` when confirmed): the best overall
    response is CR, PR, SD or NON-CR/NON-PD, the last two only on or after the SD minimum.
    ``date`` is when control was first shown: the first (confirmed) response, or the first
    CR, PR, SD or NON-CR/NON-PD on or after the SD minimum, whichever is earlier.

    Returns
    -------
    DataFrame
        ``patient_id``, ``disease_control`` (``"Y"``/``"N"``), ``date``.
    """
    control = bor["bor"].isin(DISEASE_CONTROL)
    return pd.DataFrame(
        {
            "patient_id": bor["patient_id"],
            "disease_control": np.where(control, "Y", "N"),
            "date": bor["disease_control_date"].where(control),
        }
    )


# -- input -------------------------------------------------------------------------------------


def _check_options(**options: Any) -> None:
    problems = []
    for name in ("confirm_min_days", "max_ne_between", "sd_min_days"):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            problems.append(
                Problem("options", None, name, value, "a whole number of days, 0 or more")
            )
    for name in ("confirm", "accept_sd_between", "pd_cutoff", "missing_as_ne"):
        if not isinstance(options[name], bool | np.bool_):
            problems.append(Problem("options", None, name, options[name], "True or False"))
    if problems:
        raise DataError(problems, "the best_overall_response options")


def _to_dates(values: pd.Series) -> pd.Series:
    """Parse dates strictly (ISO text or datetime values); unreadable ones become NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    return parsed.astype("datetime64[us]")


def _patient_dates(values: Any, name: str) -> pd.Series:
    """Dates per patient; an empty value is NaT, an unreadable one an error."""
    if isinstance(values, Mapping):
        values = pd.Series(dict(values), dtype=object)
    if not isinstance(values, pd.Series):
        raise DataError(
            [
                Problem(
                    name,
                    None,
                    None,
                    type(values).__name__,
                    "a Series indexed by patient_id or a dict",
                )
            ],
            name,
        )
    index = values.index.astype("str")
    dates = _to_dates(pd.Series(values.to_numpy(), index=index))
    problems = [
        Problem(name, None, None, pid, "each patient once", pid)
        for pid in index[index.duplicated()].unique()
    ]
    bad = dates.isna() & pd.Series(values.to_numpy(), index=index).notna()
    problems += [
        Problem(name, None, None, values.iloc[i], f"a date (YYYY-MM-DD) for {index[i]}", index[i])
        for i in np.flatnonzero(bad.to_numpy())
    ]
    if problems:
        raise DataError(problems, name)
    return dates.rename_axis("patient_id")


def _read_responses(
    responses: pd.DataFrame, refs: pd.Series, codes: tuple[str, ...] = RESPONSE_CODES
) -> pd.DataFrame:
    """The records as ``patient_id, date, code``; ``codes`` are the allowed ones (iRECIST
    passes its own); every problem of the input in one error."""
    column = "response"
    if column not in responses.columns and "overall_response" in responses.columns:
        column = "overall_response"
    missing = [c for c in ("patient_id", "date", column) if c not in responses.columns]
    if missing:
        raise ResponseError(
            [Problem("responses", None, c, None, "this column is required") for c in missing],
            "responses",
        )
    records = pd.DataFrame(
        {
            "patient_id": responses["patient_id"].astype("str").to_numpy(),
            "date": _to_dates(responses["date"]).to_numpy(),
            "code": responses[column].to_numpy(),
        }
    )
    problems = []
    shown = records["code"].astype("str").where(records["code"].notna(), "(empty)")
    unknown = ~records["code"].isin(codes)
    for value, rows in records.loc[unknown].groupby(shown[unknown]):
        first = rows.iloc[0]
        problems.append(
            Problem(
                "responses",
                None,
                column,
                value,
                f"one of {', '.join(codes)} ({len(rows)} row(s), the first for "
                f"patient {first['patient_id']} on {_day(first['date'])})",
                first["patient_id"],
            )
        )
    for i in np.flatnonzero(records["date"].isna().to_numpy()):
        pid = records["patient_id"].iloc[i]
        problems.append(
            Problem(
                "responses",
                None,
                "date",
                responses["date"].iloc[i],
                f"a date (YYYY-MM-DD) for patient {pid}",
                pid,
            )
        )
    known = records["patient_id"].map(refs)
    without = ~records["patient_id"].isin(refs.index) | known.isna()
    for pid in records.loc[without, "patient_id"].unique():
        problems.append(
            Problem(
                "reference_dates",
                None,
                None,
                pid,
                "a reference date for every patient with assessments (the SD minimum counts "
                "from it)",
                pid,
            )
        )
    if problems:
        raise ResponseError(problems, "responses")
    records["code"] = records["code"].astype("str")
    return records


def _cutoffs(cutoff_dates: Any, refs: pd.Series) -> pd.Series:
    if cutoff_dates is None:
        return pd.Series(pd.NaT, index=refs.index, dtype="datetime64[us]")
    if isinstance(cutoff_dates, pd.Series | Mapping):
        dates = _patient_dates(cutoff_dates, "cutoff_dates")
        unknown = dates.index.difference(refs.index)
        if len(unknown):
            raise DataError(
                [
                    Problem(
                        "cutoff_dates", None, None, pid, "a patient listed in reference_dates", pid
                    )
                    for pid in unknown
                ],
                "cutoff_dates",
            )
        return dates.reindex(refs.index)
    date = _to_dates(pd.Series([cutoff_dates]))
    if date.isna().any():
        raise DataError(
            [Problem("cutoff_dates", None, None, cutoff_dates, "a date, or dates per patient")],
            "cutoff_dates",
        )
    return pd.Series(date.iloc[0], index=refs.index, dtype="datetime64[us]")


def _worst_per_date(
    records: pd.DataFrame, order: tuple[str, ...] = SAME_DATE_ORDER
) -> tuple[pd.DataFrame, pd.Series]:
    severity = records["code"].map({code: i for i, code in enumerate(order)})
    keys = ["patient_id", "date"]
    duplicated = records.duplicated(keys, keep=False)
    several = records.loc[duplicated].drop_duplicates(keys).groupby("patient_id").size()
    worst = (
        records.assign(_severity=severity)
        .sort_values([*keys, "_severity"], kind="stable")
        .drop_duplicates(keys)
        .drop(columns="_severity")
    )
    return worst, several


def _apply_cutoff(records: pd.DataFrame, cutoffs: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    after = records["date"] > records["patient_id"].map(cutoffs)
    return records.loc[~after], records.loc[after].groupby("patient_id").size()


# -- rules -------------------------------------------------------------------------------------


def _confirm(records: pd.DataFrame, min_days: int, max_ne: int, accept_sd: bool) -> None:
    """Mark each CR/PR confirmed or not, with the confirming date and why not (in place).

    Vectorised: cumulative counts of each code per patient give the counts inside any window
    (i, j] as a difference; ``merge_asof`` finds, for every response, the first qualifying
    assessment at least ``min_days`` later.
    """
    # records are sorted by patient: integer group keys are much cheaper than the ids
    pid = pd.Series(pd.factorize(records["patient_id"])[0], index=records.index)
    code = records["code"]
    records["pos"] = pid.groupby(pid).cumcount()
    for name in ("CR", "PR", "SD", "PD", "NE", "ND", "NON-CR/NON-PD"):
        records[f"n_{name}"] = (code == name).astype("int64").groupby(pid).cumsum()
    cr_pos = records["pos"].where(code == "CR")
    # the first CR strictly after each assessment, and the last PR at or before it
    records["next_cr_pos"] = cr_pos.groupby(pid).shift(-1).groupby(pid).bfill()
    records["last_pr_pos"] = records["pos"].where(code == "PR").groupby(pid).ffill()

    counted = [c for c in records.columns if c.startswith("n_")]
    later = records[["patient_id", "date", "pos", "code", "last_pr_pos", *counted]]
    records["confirmed"] = False
    records["confirm_date"] = pd.NaT
    records["confirm_date"] = records["confirm_date"].astype("datetime64[us]")
    records["confirm_code"] = pd.Series(pd.NA, index=records.index, dtype="str")
    records["why_unconfirmed"] = ""
    records["ne_between"] = 0.0
    records["sd_between"] = 0.0
    for response, closers in (("CR", ["CR"]), ("PR", ["CR", "PR"])):
        is_response = code == response
        if not is_response.any():
            continue
        left = records.loc[is_response, ["patient_id", "date", "pos", "next_cr_pos", *counted]]
        key = (left["date"] + pd.Timedelta(days=min_days)).astype("datetime64[us]")
        left = left.assign(_key=key).reset_index()
        right = later.loc[later["code"].isin(closers)].rename(columns=lambda c: c + "_j")
        matched = pd.merge_asof(
            left.sort_values("_key"),
            right.sort_values("date_j"),
            left_on="_key",
            right_on="date_j",
            left_by="patient_id",
            right_by="patient_id_j",
            direction="forward",
            allow_exact_matches=min_days > 0,
        ).set_index("index")

        def between(name: str, m: pd.DataFrame = matched) -> pd.Series:
            return m[f"{name}_j"] - m[name]

        found = matched["date_j"].notna()
        ne = between("n_NE")
        sd = between("n_SD")
        if response == "CR":
            breaking = ["PR", "SD", "PD", "NON-CR/NON-PD", "ND"]
            sd_allowed = 0
            pr_after_cr = pd.Series(False, index=matched.index)
        else:
            breaking = ["PD", "NON-CR/NON-PD", "ND"]
            sd_allowed = 1 if accept_sd else 0
            pr_after_cr = (matched["next_cr_pos"] <= matched["pos_j"]) & (
                matched["last_pr_pos_j"] > matched["next_cr_pos"]
            )
        counts = {name: between(f"n_{name}") for name in breaking}
        broken = sum(counts.values()) > 0
        ok = found & ~broken & (ne <= max_ne) & pr_after_cr.eq(False)
        if response == "PR":
            ok &= sd <= sd_allowed
        records.loc[matched.index, "confirmed"] = ok.to_numpy(dtype=bool)
        records.loc[matched.index, "confirm_date"] = matched["date_j"].where(ok)
        records.loc[matched.index, "confirm_code"] = matched["code_j"].where(ok)
        why = _why_unconfirmed(
            response,
            closers,
            found,
            counts,
            ne,
            sd,
            sd_allowed,
            pr_after_cr,
            matched["code_j"] + " on " + matched["date_j"].dt.strftime("%Y-%m-%d"),
            min_days,
            max_ne,
        )
        records.loc[matched.index, "why_unconfirmed"] = why.where(~ok, "").to_numpy()
        records.loc[matched.index, "ne_between"] = ne.to_numpy()
        records.loc[matched.index, "sd_between"] = sd.to_numpy()


def _why_unconfirmed(
    response: str,
    closers: list[str],
    found: pd.Series,
    counts: dict[str, pd.Series],
    ne: pd.Series,
    sd: pd.Series,
    sd_allowed: int,
    pr_after_cr: pd.Series,
    closing_scan: pd.Series,
    min_days: int,
    max_ne: int,
) -> pd.Series:
    """Plain-English reason why each response was not confirmed."""
    index = found.index
    closing = " or ".join(closers)
    none_later = f"no {closing} {min_days} or more days later"
    offenders = _join(
        [pd.Series(np.where(n > 0, name, ""), index=index) for name, n in counts.items()], ", "
    )
    closing_scan = closing_scan.fillna("")
    parts = [
        pd.Series(
            np.where(offenders != "", offenders + " before the " + closing_scan, ""), index=index
        ),
        pd.Series(
            np.where(
                ne > max_ne,
                ne.fillna(0).astype("int64").astype("str") + f" NE between (at most {max_ne})",
                "",
            ),
            index=index,
        ),
        pd.Series(
            np.where(
                (response == "PR") & (sd > sd_allowed),
                sd.fillna(0).astype("int64").astype("str")
                + (
                    " SD between (at most 1 accepted)"
                    if sd_allowed
                    else " SD between (not accepted)"
                ),
                "",
            ),
            index=index,
        ),
        pd.Series(np.where(pr_after_cr, "a PR after a CR in between", ""), index=index),
    ]
    return pd.Series(np.where(found, _join(parts, "; "), none_later), index=index)


def _rank(records: pd.DataFrame, confirm: bool) -> pd.Series:
    code = records["code"]
    sd_ok = records["sd_ok"]
    rank = code.map(_RANK).astype("int64")
    early = code.isin(["SD", "NON-CR/NON-PD"]) & ~sd_ok
    rank = rank.mask(early, _NE)
    if confirm:
        unconfirmed = code.isin(["CR", "PR"]) & ~records["confirmed"]
        rank = rank.mask(unconfirmed & sd_ok, _SD).mask(unconfirmed & ~sd_ok, _NE)
    return rank


def _first_date(records: pd.DataFrame, which: pd.Series, refs: pd.Series) -> pd.Series:
    return (
        records.loc[which.to_numpy(dtype=bool)]
        .groupby("patient_id")["date"]
        .min()
        .reindex(refs.index)
    )


def _cr_then_pr(records: pd.DataFrame, refs: pd.Series) -> pd.DataFrame:
    """First CR, and the first PR after it, per patient (a PR after a CR is a data issue)."""
    first_cr = records.loc[records["code"] == "CR"].groupby("patient_id")["date"].min()
    later_pr = (records["code"] == "PR") & (records["date"] > records["patient_id"].map(first_cr))
    pr_date = records.loc[later_pr].groupby("patient_id")["date"].min()
    return pd.DataFrame({"cr_date": first_cr, "pr_date": pr_date}).reindex(refs.index)


# -- reasons -----------------------------------------------------------------------------------


def _day(value: Any) -> str:
    return "?" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _join(parts: list[pd.Series], sep: str) -> pd.Series:
    """Join the non-empty strings of each row."""
    joined = parts[0]
    for part in parts[1:]:
        both = (joined != "") & (part != "")
        joined = pd.Series(np.where(both, joined + sep + part, joined + part), index=joined.index)
    return joined


def _reasons(
    out: pd.DataFrame,
    best: pd.DataFrame,
    crpr: pd.DataFrame,
    *,
    confirm: bool,
    confirm_min_days: int,
    sd_min_days: int,
    missing_code: str,
    n_after_cutoff: pd.Series,
    cutoffs: pd.Series,
    n_after_pd: pd.Series,
    first_pd: pd.Series,
) -> pd.Series:
    index = out.index
    bor = out["bor"]
    code = best["code"].reindex(index).fillna("")
    when = out["date"].dt.strftime("%Y-%m-%d").fillna("")
    day = out["days_from_reference"].astype("str")
    at = code + " on " + when + " (day " + day + ")"
    minimum = f"the {sd_min_days}-day SD minimum"
    n = out["n_assessments"].astype("str")

    if confirm:
        confirm_date = best["confirm_date"].reindex(index)
        gap = (confirm_date - out["date"]).dt.days.astype("Int64").astype("str")
        ne = best["ne_between"].reindex(index).fillna(0).astype("int64")
        sd = best["sd_between"].reindex(index).fillna(0).astype("int64")
        closing = best["confirm_code"].reindex(index).fillna("")
        response_text = (
            at
            + " confirmed by "
            + closing
            + " on "
            + confirm_date.dt.strftime("%Y-%m-%d").fillna("")
            + " ("
            + gap
            + " days later"
            + pd.Series(np.where(ne > 0, ", across " + ne.astype("str") + " NE", ""), index=index)
            + pd.Series(
                np.where(sd > 0, ", with " + sd.astype("str") + " SD between", ""), index=index
            )
            + ")"
        )
        why = best["why_unconfirmed"].reindex(index).fillna("")
        not_confirmed = at + " not confirmed (" + why + ")"
    else:
        response_text = at + ": the best of " + n + " assessment(s); confirmation not required"
        not_confirmed = at

    is_response_code = code.isin(["CR", "PR"])
    pd_text = (
        at
        + (": no confirmed CR or PR" if confirm else ": no CR or PR")
        + f", and no SD or NON-CR/NON-PD on or after {minimum}"
    )
    missing_text = pd.Series(
        np.where(
            n_after_cutoff > 0,
            "no assessment on or before the cut-off date "
            + cutoffs.dt.strftime("%Y-%m-%d").fillna("")
            + " ("
            + n_after_cutoff.astype("str")
            + " after it)",
            "no response assessment",
        ),
        index=index,
    ) + (": NE (missing counted as NE)" if missing_code == "NE" else ": MISSING")

    conditions = [
        best["rank"].reindex(index).isna(),
        bor.isin(["CR", "PR"]),
        (bor == "SD") & is_response_code,
        (bor == "SD") | (bor == "NON-CR/NON-PD"),
        bor == "PD",
        (bor == "NE") & is_response_code,
        (bor == "NE") & code.isin(["SD", "NON-CR/NON-PD"]),
        bor == "NE",
        bor == "ND",
    ]
    choices = [
        missing_text,
        response_text,
        not_confirmed + f"; on or after {minimum}: SD",
        at + f", on or after {minimum}",
        pd_text,
        not_confirmed + f", and before {minimum}: NE",
        code + " on " + when + " is on day " + day + f", before {minimum}: NE",
        at + ": nothing better was assessed",
        at + ": assessment not done, nothing better",
    ]
    reason = pd.Series(np.select(conditions, choices, default=""), index=index)

    notes = [
        pd.Series(
            np.where(
                (n_after_cutoff > 0) & (out["n_assessments"] > 0),
                n_after_cutoff.astype("str")
                + " assessment(s) after the cut-off date "
                + cutoffs.dt.strftime("%Y-%m-%d").fillna("")
                + " not counted",
                "",
            ),
            index=index,
        ),
        pd.Series(
            np.where(
                n_after_pd > 0,
                n_after_pd.astype("str")
                + " assessment(s) after the first PD on "
                + first_pd.dt.strftime("%Y-%m-%d").fillna("")
                + " not counted",
                "",
            ),
            index=index,
        ),
        pd.Series(
            np.where(
                out["cr_then_pr"],
                "data issue: PR on "
                + crpr["pr_date"].dt.strftime("%Y-%m-%d").fillna("")
                + " after CR on "
                + crpr["cr_date"].dt.strftime("%Y-%m-%d").fillna("")
                + " (after a true CR any later disease is PD: query the CR; RECIST 1.1 "
                "Table 3, note a)",
                "",
            ),
            index=index,
        ),
    ]
    return _join([reason, *notes], "; ")
