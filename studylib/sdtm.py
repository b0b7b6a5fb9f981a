"""CDISC SDTM tumour domains in and out: TU/TR to lesions and assessments, RS both ways.

Users who hold their tumour data as SDTM (TU: tumour identification, TR: tumour results,
RS: disease response) can run the RECIST engine on it:

>>> tu = pd.DataFrame({"USUBJID": ["S1"], "TULNKID": ["T01"], "TUSTRESC": ["TARGET"],
...                    "TULOC": ["LIVER"]})
>>> tr = pd.DataFrame({"USUBJID": ["S1", "S1"], "TRLNKID": ["T01", "T01"],
...                    "TRTESTCD": ["LDIAM", "LDIAM"], "TRSTRESN": ["40", "20"],
...                    "VISIT": ["SCREENING", "WEEK 7"],
...                    "TRDTC": ["2024-01-02", "2024-02-20"]})
>>> lesions, assessments = read_tumour_sdtm(tu, tr)
>>> lesions[["lesion_id", "role", "site"]].to_dict("records")
[{'lesion_id': 'T01', 'role': 'target', 'site': 'liver'}]
>>> assessments["diameter_mm"].tolist()
[40.0, 20.0]

With :func:`studylib.recist.timepoint_responses` (a -50% sum: PR) and
:func:`responses_to_rs`, the response goes back out as SDTM RS.

Mapping (SDTM IG 3.x oncology domains, RECIST 1.1 conventions of the CDISC oncology
examples):

- A lesion is a ``TULNKID`` of a subject; ``TUSTRESC`` TARGET / NON-TARGET / NEW gives its
  role, ``TULOC`` its site. It is nodal when ``TULOC`` is one of ``nodal_locations``
  (a lesion without ``TULOC`` is taken as non-nodal).
- A target's diameter is ``TRTESTCD = DIAMETER`` when present, else the short axis
  (``LPERP``) of a nodal lesion or the longest diameter (``LDIAM``) of another one.
  ``TRORRES = TOO SMALL TO MEASURE`` becomes the state ``too_small`` (the ruleset's default
  applies, not the standardised number); ``TRSTAT = NOT DONE`` leaves it not evaluated.
- ``TUMSTATE`` PRESENT / ABSENT / UNEQUIVOCAL gives a non-target's state (UNEQUIVOCAL is
  unequivocal progression); EQUIVOCAL / UNEQUIVOCAL a new lesion's (PRESENT counts as
  unequivocal). ABSENT on a target without a diameter is 0 mm.
- Dates: ``--DTC`` date part. A partial date (``2014-02``) is an error unless
  ``partial_dates`` says how to complete it ("first" or "last" day, as ADaM's ADTF = D);
  completed dates are flagged in ``date_imputed``.
- Irradiation is not part of TU/TR: every lesion is read as not irradiated; set
  ``irradiated``/``irradiated_on`` in the returned lesion table where it applies.

Several evaluators (``TUEVAL``/``TUEVALID``: investigator, radiologists) are separate reads
of the same patient; choose one with ``evaluator``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from studylib.errors import DataError, Problem
from studylib.export import terminology as terms
from studylib.vocabulary import LESION_STATES

__all__ = [
    "read_domain",
    "read_tumour_sdtm",
    "read_rs",
    "responses_to_rs",
    "write_rs",
]

# The reader inverts the controlled terms the export writes (one mapping for both ways), and
# also takes the spellings other sponsors' data use for the same thing.
_ROLES = {term: role for role, term in terms.ROLES.items()}
_NONTARGET_STATES = {
    **{terms.STATES[state]: state for state in LESION_STATES["non_target"]},
    "UNEQUIVOCAL PROGRESSION": "unequivocal_progression",
}
# A new lesion reported PRESENT is unequivocally there.
_NEW_STATES = {
    **{terms.STATES[state]: state for state in LESION_STATES["new"]},
    "PRESENT": "unequivocal",
}
_METHODS = {
    **{term: method for method, term in terms.METHODS.items()},
    **{method: method for method in terms.METHODS},
    "SPIRAL CT": "CT",
    "MRI SCAN": "MRI",
    "PET-CT": "PET",
    "PET/CT": "PET",
    "FDG-PET": "PET",
}
_TOO_SMALL = (terms.TOO_SMALL, "TOO SMALL")
_RS_TESTS = {
    "target_response": ("TRGRESP", "Target Response"),
    "nontarget_response": ("NTRGRESP", "Non-target Response"),
    "new_lesions": ("NEWLPROG", "New Lesion Progression"),
    "overall_response": ("OVRLRESP", "Overall Response"),
}


def read_domain(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """An SDTM domain from a DataFrame or a CSV file (all values read as text).

    SAS transport files can be read with ``pandas.read_sas(path, format="xport")`` and the
    frame passed here.
    """
    if isinstance(source, pd.DataFrame):
        return source.copy()
    return pd.read_csv(Path(source), dtype=str, keep_default_na=False, na_values=[""])


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    text = frame[column].astype("string").str.strip()
    return text.mask(text == "")


def _require(frame: pd.DataFrame, columns: Iterable[str], domain: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            [Problem(domain, None, c, None, "this variable is required") for c in missing], domain
        )


def _evaluator(frame: pd.DataFrame, prefix: str) -> pd.Series:
    """Who read the images: ``--EVALID`` (e.g. RADIOLOGIST 1) when given, else ``--EVAL``."""
    who = _text(frame, f"{prefix}EVALID").fillna(_text(frame, f"{prefix}EVAL"))
    return who.fillna("")


def _select_evaluator(
    frame: pd.DataFrame, prefix: str, evaluator: str | None, domain: str
) -> pd.DataFrame:
    who = _evaluator(frame, prefix)
    present = sorted(set(who))
    if evaluator is None:
        if len(present) > 1:
            raise ValueError(
                f"{domain} holds several evaluators {present}; choose one with evaluator=..."
            )
        return frame
    chosen = who.str.upper() == evaluator.strip().upper()
    if not chosen.any():
        raise ValueError(f"{domain}: no records of evaluator {evaluator!r}; found {present}")
    return frame[chosen.to_numpy()]


def _dates(
    values: pd.Series, frame: pd.DataFrame, domain: str, column: str, partial_dates: str
) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 ``--DTC`` values as dates, completing partial ones as asked."""
    if partial_dates not in ("error", "first", "last"):
        raise ValueError("partial_dates must be 'error', 'first' or 'last'")
    text = values.str.slice(0, 10)
    full = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    month = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False).astype(bool)
    invalid = ~full & ~(month & (partial_dates != "error"))
    problems = []
    for value, rows in text[invalid].fillna("<empty>").groupby(text[invalid].fillna("<empty>")):
        first = rows.index[0]
        subject = str(frame.at[first, "USUBJID"])
        problems.append(
            Problem(
                domain,
                None,
                column,
                value,
                f"expected a complete date YYYY-MM-DD ({len(rows)} records, first of "
                f"subject {subject}); partial_dates='first' or 'last' completes YYYY-MM",
                subject,
            )
        )
    if problems:
        raise DataError(problems, domain)
    completed = text.copy()
    if month.any():

        def complete(ym: str) -> str:
            year, mon = int(ym[:4]), int(ym[5:7])
            day = 1 if partial_dates == "first" else calendar.monthrange(year, mon)[1]
            return f"{ym}-{day:02d}"

        completed[month] = text[month].map(complete)
    return pd.to_datetime(completed, format="%Y-%m-%d").astype("datetime64[ns]"), month


def read_tumour_sdtm(
    tu: pd.DataFrame | str | Path,
    tr: pd.DataFrame | str | Path,
    *,
    evaluator: str | None = None,
    partial_dates: str = "error",
    visit_date: str = "last",
    nodal_locations: Iterable[str] = ("LYMPH NODE",),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TU and TR as the workbook's lesion and assessment tables (module docstring: mapping).

    Parameters
    ----------
    tu, tr
        The domains as DataFrames or CSV files.
    evaluator
        ``--EVALID`` or ``--EVAL`` to read (``"INVESTIGATOR"``, ``"RADIOLOGIST 1"``); required
        when the data hold several.
    partial_dates
        ``"error"`` (default), or ``"first"``/``"last"`` day of the month for ``YYYY-MM``.
    visit_date
        ``"last"`` (default) or ``"first"``: every lesion of a visit gets that date of the
        visit's scans, so a visit is one timepoint; ``"as_recorded"`` keeps each date.
    nodal_locations
        ``TULOC`` values that are lymph nodes.

    Returns
    -------
    (lesions, assessments)
        In the shape of ``lesions.csv`` and ``assessments.csv``, plus ``visit``,
        ``visitnum`` and ``date_imputed`` on the assessments.

    Raises
    ------
    studylib.errors.DataError
        Listing unknown TUSTRESC/TUMSTATE values, incomplete dates, lesions measured but not
        identified, and lesions assessed twice at one date.
    """
    tu_frame = read_domain(tu)
    tr_frame = read_domain(tr)
    _require(tu_frame, ("USUBJID", "TULNKID", "TUSTRESC"), "TU")
    _require(tr_frame, ("USUBJID", "TRLNKID", "TRTESTCD", "TRDTC"), "TR")
    if visit_date not in ("last", "first", "as_recorded"):
        raise ValueError("visit_date must be 'last', 'first' or 'as_recorded'")
    tu_frame = _select_evaluator(tu_frame, "TU", evaluator, "TU")
    tr_frame = _select_evaluator(tr_frame, "TR", evaluator, "TR")
    if "TUTESTCD" in tu_frame.columns:
        tu_frame = tu_frame[
            _text(tu_frame, "TUTESTCD").fillna("TUMIDENT").str.upper() == "TUMIDENT"
        ]
    lesions = _lesions(tu_frame, {n.upper() for n in nodal_locations})
    assessments = _assessments(tr_frame, tu_frame, lesions, partial_dates, visit_date)
    return lesions, assessments


def _lesions(tu: pd.DataFrame, nodal_locations: set[str]) -> pd.DataFrame:
    role_code = _text(tu, "TUSTRESC").str.upper()
    problems = []
    bad = ~role_code.isin(list(_ROLES)).fillna(False).astype(bool)
    for value, rows in role_code[bad].groupby(role_code[bad].fillna("<empty>")):
        problems.append(
            Problem(
                "TU",
                None,
                "TUSTRESC",
                value,
                f"expected one of {sorted(_ROLES)} ({len(rows)} records)",
                None,
            )
        )
    if problems:
        raise DataError(problems, "TU")
    location = _text(tu, "TULOC")
    out = pd.DataFrame(
        {
            "patient_id": _text(tu, "USUBJID").to_numpy(),
            "lesion_id": _text(tu, "TULNKID").to_numpy(),
            "role": role_code.map(_ROLES).to_numpy(),
            "site": location.str.lower().str.replace(" ", "_").to_numpy(),
            "nodal": location.str.upper()
            .isin(list(nodal_locations))
            .fillna(False)
            .to_numpy(dtype=bool),
            "irradiated": False,
            "irradiated_on": pd.NaT,
        }
    )
    return out.drop_duplicates(["patient_id", "lesion_id"]).reset_index(drop=True)


def _assessments(
    tr: pd.DataFrame, tu: pd.DataFrame, lesions: pd.DataFrame, partial_dates: str, visit_date: str
) -> pd.DataFrame:
    test = _text(tr, "TRTESTCD").str.upper()
    tr = tr[test.isin(["DIAMETER", "LDIAM", "LPERP", "TUMSTATE"]).fillna(False).to_numpy()].copy()
    test = test[tr.index]
    rows = pd.DataFrame(
        {
            "patient_id": _text(tr, "USUBJID"),
            "lesion_id": _text(tr, "TRLNKID"),
            "test": test,
            "orres": _text(tr, "TRORRES").str.upper(),
            "value": pd.to_numeric(_text(tr, "TRSTRESN"), errors="coerce"),
            "state_code": _text(tr, "TRSTRESC").str.upper(),
            "not_done": (_text(tr, "TRSTAT").str.upper() == "NOT DONE").fillna(False).astype(bool),
            "visit": _text(tr, "VISIT"),
            "visitnum": pd.to_numeric(_text(tr, "VISITNUM"), errors="coerce"),
            "method": _text(tr, "TRMETHOD").str.upper(),
        }
    )
    rows["date"], rows["date_imputed"] = _dates(
        _text(tr, "TRDTC"), tr, "TR", "TRDTC", partial_dates
    )
    info = lesions.set_index(["patient_id", "lesion_id"])[["role", "nodal"]]
    key = pd.MultiIndex.from_frame(rows[["patient_id", "lesion_id"]])
    rows["role"] = info["role"].reindex(key).to_numpy()
    rows["nodal"] = info["nodal"].reindex(key).to_numpy()
    problems = []
    unknown = rows["role"].isna()
    for (patient, lesion), group in rows[unknown].groupby(["patient_id", "lesion_id"]):
        problems.append(
            Problem(
                "TR",
                None,
                "TRLNKID",
                lesion,
                f"has results but no TU identification ({len(group)} records)",
                patient,
            )
        )
    if problems:
        raise DataError(problems, "TR")

    if visit_date != "as_recorded":
        by_visit = rows.groupby(["patient_id", "visit"], dropna=False)["date"]
        rows["date"] = by_visit.transform("max" if visit_date == "last" else "min")
        rows["date_imputed"] = rows.groupby(["patient_id", "visit"], dropna=False)[
            "date_imputed"
        ].transform("all")

    rows["nodal"] = rows["nodal"].astype(bool)
    # The measurement RECIST uses: DIAMETER when given, else the short axis of a node, else the
    # longest diameter.
    rank = np.select(
        [
            rows["test"] == "DIAMETER",
            (rows["test"] == "LPERP") & rows["nodal"],
            (rows["test"] == "LDIAM") & ~rows["nodal"],
            rows["test"] == "TUMSTATE",
        ],
        [0, 1, 1, 2],
        9,
    )
    rows = rows[rank < 9].assign(rank=rank[rank < 9])
    too_small = rows["orres"].isin(list(_TOO_SMALL)).fillna(False).astype(bool)
    is_size = rows["rank"] < 2
    keys = ["patient_id", "lesion_id", "date", "visit"]
    rows = rows.assign(too_small=too_small)
    # Identical repeated records are read once; records that disagree are an error.
    size = rows[is_size & ~rows["not_done"]]
    size = size[size["rank"] == size.groupby(keys, dropna=False)["rank"].transform("min")]
    size = size.drop_duplicates(keys + ["value", "too_small"])
    state_rows = rows[(rows["rank"] == 2) & ~rows["not_done"]].drop_duplicates(
        keys + ["state_code"]
    )
    conflicts = pd.concat([size[keys], state_rows[keys]])
    conflicts = conflicts[conflicts.duplicated(keep="first")]
    if len(conflicts):
        raise DataError(
            [
                Problem(
                    "TR",
                    None,
                    "TRSTRESC",
                    r.visit,
                    f"lesion {r.lesion_id} has conflicting results dated {r.date.date()}",
                    r.patient_id,
                )
                for r in conflicts.drop_duplicates().itertuples()
            ],
            "TR",
        )
    base = rows[keys + ["visitnum", "date_imputed", "role"]].drop_duplicates(keys)
    method = rows.groupby(keys, dropna=False)["method"].first()
    out = base.merge(size[keys + ["value", "too_small"]], on=keys, how="left")
    out = out.merge(state_rows[keys + ["state_code"]], on=keys, how="left")
    out = out.merge(method.rename("method").reset_index(), on=keys, how="left")

    state = pd.Series("", index=out.index, dtype=object)
    is_nt = out["role"] == "non_target"
    is_new = out["role"] == "new"
    is_target = out["role"] == "target"
    code = out["state_code"]
    state[is_nt] = code[is_nt].map(_NONTARGET_STATES)
    state[is_new] = code[is_new].map(_NEW_STATES)
    bad = (is_nt | is_new) & code.notna() & state.isna()
    if bad.any():
        values = sorted(set(code[bad]))
        raise DataError(
            [
                Problem(
                    "TR",
                    None,
                    "TRSTRESC",
                    v,
                    "unknown TUMSTATE result for this lesion's "
                    "role (non-target: PRESENT/ABSENT/UNEQUIVOCAL; new: EQUIVOCAL/UNEQUIVOCAL)",
                )
                for v in values
            ],
            "TR",
        )
    diameter = out["value"].astype(float)
    small = out["too_small"].astype("boolean").fillna(False).astype(bool)
    state[is_target & small] = "too_small"
    diameter[is_target & small] = np.nan
    absent_target = is_target & diameter.isna() & (code == "ABSENT").fillna(False)
    diameter[absent_target] = 0.0
    # Non-target and new lesions carry a state, not a size.
    diameter[~is_target] = np.nan
    result = pd.DataFrame(
        {
            "patient_id": out["patient_id"],
            "lesion_id": out["lesion_id"],
            "date": out["date"],
            "diameter_mm": diameter,
            "state": state.fillna("").replace("", pd.NA),
            "method": out["method"].map(_METHODS).fillna(out["method"]),
            "pet_avid": pd.array([pd.NA] * len(out), dtype="boolean"),
            "visit": out["visit"],
            "visitnum": out["visitnum"],
            "date_imputed": out["date_imputed"].astype(bool),
        }
    )
    duplicated = result.duplicated(["patient_id", "lesion_id", "date"], keep=False)
    if duplicated.any():
        dups = result[duplicated].drop_duplicates(["patient_id", "lesion_id", "date"])
        raise DataError(
            [
                Problem(
                    "TR",
                    None,
                    "VISIT",
                    f"{r.visit}",
                    f"lesion {r.lesion_id} has several "
                    f"results dated {r.date.date()} (duplicated visit?)",
                    r.patient_id,
                )
                for r in dups.itertuples()
            ],
            "TR",
        )
    return result.sort_values(["patient_id", "date", "lesion_id"]).reset_index(drop=True)


def read_rs(
    rs: pd.DataFrame | str | Path,
    *,
    evaluator: str | None = None,
    testcd: str = "OVRLRESP",
    partial_dates: str = "error",
) -> pd.DataFrame:
    """RS records of one test as a response table for the best-overall-response engine.

    Returns
    -------
    DataFrame
        ``patient_id, date, response`` (``RSSTRESC``), ``visit``, ``visitnum`` and
        ``date_imputed``.
    """
    frame = read_domain(rs)
    _require(frame, ("USUBJID", "RSTESTCD", "RSSTRESC", "RSDTC"), "RS")
    frame = frame[_text(frame, "RSTESTCD").str.upper() == testcd.upper()]
    frame = _select_evaluator(frame, "RS", evaluator, "RS")
    dates, imputed = _dates(_text(frame, "RSDTC"), frame, "RS", "RSDTC", partial_dates)
    return pd.DataFrame(
        {
            "patient_id": _text(frame, "USUBJID").to_numpy(),
            "date": dates.to_numpy(),
            "response": _text(frame, "RSSTRESC").str.upper().to_numpy(),
            "visit": _text(frame, "VISIT").to_numpy(),
            "visitnum": pd.to_numeric(_text(frame, "VISITNUM"), errors="coerce").to_numpy(),
            "date_imputed": imputed.to_numpy(),
        }
    ).reset_index(drop=True)


def responses_to_rs(
    responses: pd.DataFrame,
    *,
    studyid: str,
    evaluator: str = "INVESTIGATOR",
    category: str = "RECIST 1.1",
) -> pd.DataFrame:
    """Timepoint responses as RS records (TRGRESP, NTRGRESP, NEWLPROG, OVRLRESP).

    ``responses`` is the output of :func:`studylib.recist.timepoint.timepoint_responses`.
    A category the patient has no disease in (``ND``) gets no record, NEWLPROG is written
    only when a new lesion was seen (EQUIVOCAL/UNEQUIVOCAL), as in the CDISC examples.

    Returns
    -------
    DataFrame
        ``STUDYID, DOMAIN, USUBJID, RSSEQ, RSTESTCD, RSTEST, RSCAT, RSORRES, RSSTRESC,
        RSEVAL, VISIT, RSDTC`` (VISIT empty when the responses have no ``visit``).
    """
    parts = []
    for column, (testcd, test) in _RS_TESTS.items():
        values = responses[column].astype(str)
        keep = values != "ND"
        if column == "new_lesions":
            keep = values != "none"
            values = values.str.upper()
        part = responses[keep]
        parts.append(
            pd.DataFrame(
                {
                    "USUBJID": part["patient_id"].to_numpy(),
                    "RSDTC": part["date"].dt.strftime("%Y-%m-%d").to_numpy(),
                    "VISIT": part["visit"].to_numpy() if "visit" in part.columns else "",
                    "order": list(_RS_TESTS).index(column),
                    "RSTESTCD": testcd,
                    "RSTEST": test,
                    "RSORRES": values[keep].to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True).sort_values(
        ["USUBJID", "RSDTC", "order"], kind="stable"
    )
    out["RSSTRESC"] = out["RSORRES"]
    out.insert(0, "STUDYID", studyid)
    out.insert(1, "DOMAIN", "RS")
    out["RSSEQ"] = out.groupby("USUBJID").cumcount() + 1
    out["RSCAT"] = category
    out["RSEVAL"] = evaluator
    columns = [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "RSSEQ",
        "RSTESTCD",
        "RSTEST",
        "RSCAT",
        "RSORRES",
        "RSSTRESC",
        "RSEVAL",
        "VISIT",
        "RSDTC",
    ]
    return out[columns].reset_index(drop=True)


def write_rs(rs: pd.DataFrame, path: str | Path) -> Path:
    """Write RS records (from :func:`responses_to_rs`) to a CSV file; returns the path."""
    path = Path(path)
    rs.to_csv(path, index=False)
    return path
