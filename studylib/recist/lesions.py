"""Layer 1 of the RECIST engine: the lesions, their codes, and the baseline checks.

The input is two frames in the shape of ``data/lesions.csv`` and ``data/assessments.csv``
(``data/README.md``). :func:`prepare_lesions` and :func:`prepare_assessments` check
every code and raise one error listing all unknown values; :func:`baseline_problems` reports
what RECIST 1.1 section 3 does not allow at baseline (non-measurable targets, too many
targets, irradiated targets) as a table, and never changes the data to make it fit.

Conventions
-----------
- A lesion's diameter is its longest diameter, or its short axis for a lymph node
  (RECIST 1.1 §3.1.1); the data carry the right one in ``diameter_mm``.
- The baseline of a patient is the first date on which any of their lesions was assessed.
- A lesion irradiated before the first follow-up assessment (SBRT before cycle 1, or the
  crossover SBRT before a crossover baseline) is excluded from the response; one irradiated
  later (on study) is missing from that date on (EORTC RECIST FAQ, surgery/radiotherapy).
  See ``[response].reading_irradiated`` in ``protocol.toml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.errors import DataError, Problem
from studylib.protocol import Protocol, Ruleset, resolve_protocol
from studylib.recist.rulesets import Thresholds, thresholds
from studylib.vocabulary import (
    IMAGING_METHODS,
    LESION_ROLES,
    LESION_STATES,
    YES_NO_EXPECTED,
    yes_no_series,
)

__all__ = [
    "ROLES",
    "STATES",
    "METHODS",
    "prepare_lesions",
    "prepare_assessments",
    "baseline_dates",
    "irradiation_status",
    "measurability",
    "lesion_table",
    "lesion_measurements",
    "baseline_problems",
]

ROLES = LESION_ROLES
STATES = LESION_STATES
METHODS = IMAGING_METHODS

_LESION_COLUMNS = ("patient_id", "lesion_id", "role", "site", "nodal", "irradiated")
_ASSESSMENT_COLUMNS = ("patient_id", "lesion_id", "date", "diameter_mm", "state")


# --------------------------------------------------------------------------------------------
# Input checks


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            [Problem(name, None, c, None, "this column is required") for c in missing], name
        )


def _text(series: pd.Series, case: str | None = None) -> pd.Series:
    """Strings stripped of surrounding blanks (optionally lower/upper case), missing as None.

    Each distinct value is cleaned once, so a long column of repeated codes stays cheap.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    clean = pd.Series(uniques, dtype=object).map(lambda v: str(v).strip())
    if case == "lower":
        clean = clean.str.lower()
    elif case == "upper":
        clean = clean.str.upper()
    table = np.append(clean.where(clean != "", None).to_numpy(dtype=object), None)
    return pd.Series(table[codes], index=series.index, dtype=object)


def _unknown(
    values: pd.Series, allowed, frame: pd.DataFrame, name: str, column: str, expected: str
) -> list[Problem]:
    """One problem per distinct value outside ``allowed`` (missing values are not checked)."""
    present = values[values.notna()]
    allowed = set(allowed)
    bad_values = [v for v in pd.unique(present) if v not in allowed]
    if not bad_values:
        return []
    bad = present[present.isin(bad_values)]
    problems = []
    for value, rows in bad.groupby(bad, sort=True):
        first = rows.index[0]
        patient = frame.at[first, "patient_id"] if "patient_id" in frame.columns else None
        count = f" ({len(rows)} rows, first at row {int(first)})" if len(rows) > 1 else ""
        problems.append(
            Problem(
                name,
                None,
                column,
                value,
                expected + count,
                None if pd.isna(patient) else str(patient),
            )
        )
    return problems


def _boolean(
    series: pd.Series, frame: pd.DataFrame, name: str, column: str, problems: list[Problem]
) -> pd.Series:
    """Yes/no values as a nullable boolean Series (Y/N, yes/no, true/false, 1/0, bools)."""
    out, bad = yes_no_series(series)
    text = _text(series)
    problems += _unknown(text.where(bad), (), frame, name, column, f"expected {YES_NO_EXPECTED}")
    return out


def _dates(
    series: pd.Series, frame: pd.DataFrame, name: str, column: str, problems: list[Problem]
) -> pd.Series:
    """Dates as ``datetime64``; text that is not a date is a problem, not a missing value."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]")
    text = _text(series)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    problems += _unknown(
        text.where(parsed.isna()), [], frame, name, column, "expected an ISO date (YYYY-MM-DD)"
    )
    return parsed.astype("datetime64[ns]")


def prepare_lesions(lesions: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise the lesion table (one row per patient and lesion).

    Parameters
    ----------
    lesions
        Columns ``patient_id, lesion_id, role, site, nodal, irradiated`` and optionally
        ``irradiated_on``. Roles are ``target``, ``non_target`` or ``new``; yes/no columns
        may be booleans or Y/N text.

    Returns
    -------
    DataFrame
        The same rows with ``nodal``/``irradiated`` as booleans, ``irradiated_on`` as a date
        (``NaT`` when not given) and ``role`` in lower case.

    Raises
    ------
    studylib.errors.DataError
        Listing every unknown role, bad yes/no value, missing value or duplicated lesion.
    """
    name = "lesions"
    _require_columns(lesions, _LESION_COLUMNS, name)
    frame = lesions.copy()
    problems: list[Problem] = []
    for column in ("patient_id", "lesion_id", "role"):
        frame[column] = _text(frame[column])
        for row in frame.index[frame[column].isna()]:
            problems.append(
                Problem(
                    name,
                    None,
                    column,
                    None,
                    f"a value is required (row {row!r})",
                    _str_or_none(frame.at[row, "patient_id"]),
                )
            )
    frame["role"] = _text(frame["role"], case="lower")
    problems += _unknown(frame["role"], ROLES, frame, name, "role", f"expected one of {ROLES}")
    frame["site"] = _text(frame["site"])
    for column in ("nodal", "irradiated"):
        empty = _text(frame[column]).isna()
        frame[column] = _boolean(frame[column], frame, name, column, problems)
        for row in frame.index[empty]:
            problems.append(
                Problem(
                    name,
                    None,
                    column,
                    None,
                    f"expected Y or N, found nothing (row {row!r})",
                    _str_or_none(frame.at[row, "patient_id"]),
                )
            )
    if "irradiated_on" in frame.columns:
        frame["irradiated_on"] = _dates(
            frame["irradiated_on"], frame, name, "irradiated_on", problems
        )
    else:
        frame["irradiated_on"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    duplicated = frame.duplicated(["patient_id", "lesion_id"], keep="first")
    for row in frame.index[duplicated]:
        problems.append(
            Problem(
                name,
                None,
                "lesion_id",
                frame.at[row, "lesion_id"],
                "each lesion may be listed once per patient",
                _str_or_none(frame.at[row, "patient_id"]),
            )
        )
    if problems:
        raise DataError(problems, name)
    frame["nodal"] = frame["nodal"].astype(bool)
    frame["irradiated"] = frame["irradiated"].astype(bool)
    return frame


def _str_or_none(value) -> str | None:
    return None if pd.isna(value) else str(value)


def prepare_assessments(assessments: pd.DataFrame, lesions: pd.DataFrame) -> pd.DataFrame:
    """Check the assessments and join each row to its lesion.

    Parameters
    ----------
    assessments
        Columns ``patient_id, lesion_id, date, diameter_mm, state`` and optionally
        ``method`` (CT/MRI/PET) and ``pet_avid`` (yes/no). Other columns (``visit``) are kept.
    lesions
        The lesion table (raw or from :func:`prepare_lesions`).

    Returns
    -------
    DataFrame
        One row per patient, lesion and date, sorted by patient, date and lesion, with the
        lesion's ``role``, ``site``, ``nodal``, ``irradiated`` and ``irradiated_on``; ``state``
        is lower case, ``diameter_mm`` a float, ``pet_avid`` a nullable boolean.

    Raises
    ------
    studylib.errors.DataError
        Listing every unknown state or method (per role), negative or non-numeric diameter,
        missing date, lesion absent from the lesion table, and duplicated assessment.
    """
    name = "assessments"
    les = lesions if _is_prepared(lesions) else prepare_lesions(lesions)
    _require_columns(assessments, _ASSESSMENT_COLUMNS, name)
    frame = assessments.copy()
    problems: list[Problem] = []
    frame["patient_id"] = _text(frame["patient_id"])
    frame["lesion_id"] = _text(frame["lesion_id"])
    frame["date"] = _dates(frame["date"], frame, name, "date", problems)
    if frame["date"].isna().any():
        raw_date = _text(assessments["date"].astype("string"))
        for row in frame.index[frame["date"].isna() & raw_date.isna()]:
            problems.append(
                Problem(
                    name,
                    None,
                    "date",
                    None,
                    f"a date is required (row {row!r})",
                    _str_or_none(frame.at[row, "patient_id"]),
                )
            )
    diameter = frame["diameter_mm"]
    if not pd.api.types.is_numeric_dtype(diameter):
        diameter = pd.to_numeric(_text(diameter), errors="coerce")
        raw = _text(frame["diameter_mm"])
        problems += _unknown(
            raw.where(diameter.isna()), [], frame, name, "diameter_mm", "expected a number of mm"
        )
    diameter = diameter.astype(float)
    problems += _unknown(
        diameter.where(diameter < 0),
        [],
        frame,
        name,
        "diameter_mm",
        "a diameter cannot be negative",
    )
    # 'inf' reads as a number; an infinite lesion would make every sum infinite (and a
    # change from an infinite baseline a partial response).
    problems += _unknown(
        diameter.where(diameter == np.inf),
        [],
        frame,
        name,
        "diameter_mm",
        "a finite number of mm",
    )
    frame["diameter_mm"] = diameter
    frame["state"] = _text(frame["state"], case="lower")

    keys = les[["patient_id", "lesion_id", "role", "site", "nodal", "irradiated", "irradiated_on"]]
    merged = frame.drop(columns=[c for c in keys.columns[2:] if c in frame.columns]).merge(
        keys, on=["patient_id", "lesion_id"], how="left"
    )
    merged.index = frame.index
    unknown = merged["role"].isna()
    for (patient, lesion), rows in merged[unknown].groupby(["patient_id", "lesion_id"], sort=True):
        problems.append(
            Problem(
                name,
                None,
                "lesion_id",
                lesion,
                f"not in the lesion table for patient {patient} ({len(rows)} rows)",
                _str_or_none(patient),
            )
        )
    for role, allowed in STATES.items():
        of_role = merged["role"] == role
        problems += _unknown(
            merged["state"].where(of_role),
            allowed,
            merged,
            name,
            "state",
            f"expected one of {allowed} or empty for a {role.replace('_', '-')} lesion",
        )
    if "method" in merged.columns:
        merged["method"] = _text(merged["method"], case="upper")
        problems += _unknown(
            merged["method"], METHODS, merged, name, "method", f"expected one of {METHODS}"
        )
    else:
        merged["method"] = pd.Series(pd.NA, index=merged.index, dtype="string")
    if "pet_avid" in merged.columns:
        merged["pet_avid"] = _boolean(merged["pet_avid"], merged, name, "pet_avid", problems)
    else:
        merged["pet_avid"] = pd.Series(pd.NA, index=merged.index, dtype="boolean")
    duplicated = (
        merged.duplicated(["patient_id", "lesion_id", "date"], keep="first")
        & merged["date"].notna()
    )
    for row in merged.index[duplicated]:
        problems.append(
            Problem(
                name,
                None,
                "date",
                str(merged.at[row, "date"].date()),
                f"lesion {merged.at[row, 'lesion_id']} is assessed twice on this date",
                _str_or_none(merged.at[row, "patient_id"]),
            )
        )
    if problems:
        raise DataError(problems, name)
    merged["state"] = _codes(merged["state"])
    merged["method"] = _codes(merged["method"])
    order = np.lexsort(
        (
            pd.factorize(merged["lesion_id"], sort=True)[0],
            merged["date"].to_numpy(),
            pd.factorize(merged["patient_id"], sort=True)[0],
        )
    )
    return merged.iloc[order].reset_index(drop=True)


def _codes(series: pd.Series) -> pd.Series:
    """Codes as plain Python strings with "" for empty, so comparisons never give NA."""
    return pd.Series(series.fillna("").to_numpy(dtype=object), index=series.index, dtype=object)


def _is_prepared(lesions: pd.DataFrame) -> bool:
    return (
        "irradiated_on" in lesions.columns
        and lesions["nodal"].dtype == bool
        and lesions["irradiated"].dtype == bool
    )


def baseline_dates(assessments: pd.DataFrame) -> pd.Series:
    """The baseline date of each patient: the first date any lesion was assessed."""
    return assessments.groupby("patient_id", sort=True)["date"].min().rename("baseline_date")


# --------------------------------------------------------------------------------------------
# Irradiated lesions


def irradiation_status(
    lesions: pd.DataFrame, assessments: pd.DataFrame, *, follow_up: pd.Series | None = None
) -> pd.DataFrame:
    """How each irradiated lesion enters the response (``protocol.toml`` reading_irradiated).

    Parameters
    ----------
    lesions, assessments
        Prepared frames (:func:`prepare_lesions`, :func:`prepare_assessments`).
    follow_up
        Each patient's first follow-up scan date, when already known (else derived from
        ``assessments``).

    Returns
    -------
    DataFrame
        One row per lesion with ``patient_id``, ``lesion_id``, ``irradiation``
        (``"none"``, ``"excluded"``: irradiated before the first follow-up assessment, so
        not part of the response; ``"censored"``: irradiated on study, missing from
        ``censored_from`` on) and ``censored_from``.
    """
    if follow_up is None:
        dates = assessments[["patient_id", "date"]].drop_duplicates()
        first = baseline_dates(assessments)
        later = dates[dates["date"] > dates["patient_id"].map(first)]
        follow_up = later.groupby("patient_id")["date"].min()
    out = lesions[["patient_id", "lesion_id"]].copy()
    first_follow_up = lesions["patient_id"].map(follow_up)
    on = lesions["irradiated_on"]
    early = lesions["irradiated"] & (on.isna() | first_follow_up.isna() | (on <= first_follow_up))
    late = lesions["irradiated"] & ~early
    out["irradiation"] = np.select([early, late], ["excluded", "censored"], "none")
    out["censored_from"] = on.where(late)
    return out


# --------------------------------------------------------------------------------------------
# Measurability and the baseline lesion table


def measurability(
    diameter_mm,
    nodal,
    ruleset: str | Ruleset | None = None,
    protocol: Protocol | None = None,
) -> np.ndarray:
    """The measurability category of lesions from their baseline diameter (RECIST 1.1 §3.1).

    Parameters
    ----------
    diameter_mm
        Baseline diameters (longest; short axis for nodes); missing when not measured.
    nodal
        Whether each lesion is a lymph node.
    ruleset
        The ruleset whose size limits apply (default: the protocol's default ruleset).
    protocol
        The protocol holding the ruleset (default: the bundled one).

    Returns
    -------
    numpy.ndarray of str
        ``measurable``; ``non_measurable`` (non-nodal, below the minimum size);
        ``pathological_node`` (node between the pathological and the measurable short axis:
        non-target only); ``normal_node`` (node below the pathological size: not a lesion);
        ``not_measured``.
    """
    return _measurability(diameter_mm, nodal, thresholds(ruleset, protocol))


def _measurability(diameter_mm, nodal, t: Thresholds) -> np.ndarray:
    d = np.asarray(pd.to_numeric(pd.Series(diameter_mm), errors="coerce"), dtype=float)
    n = np.asarray(nodal, dtype=bool)
    return np.select(
        [
            np.isnan(d),
            ~n & (d >= t.measurable_min_mm),
            ~n,
            d >= t.node_measurable_min_mm,
            d >= t.node_pathological_min_mm,
        ],
        ["not_measured", "measurable", "non_measurable", "measurable", "pathological_node"],
        "normal_node",
    )


def _baseline_rows(lesions: pd.DataFrame, assessments: pd.DataFrame) -> pd.DataFrame:
    """Each lesion with its assessment on the patient's baseline date (if any)."""
    base = baseline_dates(assessments)
    at_base = assessments[assessments["date"] == assessments["patient_id"].map(base)]
    cols = ["patient_id", "lesion_id", "diameter_mm", "state", "method"]
    out = lesions.merge(at_base[cols], on=["patient_id", "lesion_id"], how="left")
    out["baseline_date"] = out["patient_id"].map(base)
    return out


def lesion_table(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    exclude_irradiated: bool | None = None,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """One row per lesion at baseline: what it is and whether it counts for the response.

    ``ruleset`` defaults to the protocol's default ruleset and ``exclude_irradiated`` to its
    ``[response].exclude_irradiated`` (``protocol``: default the bundled one).

    Returns
    -------
    DataFrame
        ``patient_id, lesion_id, role, site, nodal, irradiated, irradiated_on,
        baseline_date, baseline_mm, measurability, irradiation, in_response`` where
        ``baseline_mm`` applies the ruleset's too-small default, ``irradiation`` is
        ``none``/``excluded``/``censored`` (see :func:`irradiation_status`) and
        ``in_response`` says whether the lesion enters the timepoint responses.
    """
    protocol = resolve_protocol(protocol)
    t = thresholds(ruleset, protocol)
    if exclude_irradiated is None:
        exclude_irradiated = protocol.response.exclude_irradiated
    les = prepare_lesions(lesions)
    asm = prepare_assessments(assessments, les)
    rows = _baseline_rows(les, asm)
    measured = rows["diameter_mm"].where(
        rows["diameter_mm"].notna() | (rows["state"] != "too_small"), t.too_small_default_mm
    )
    rows["baseline_mm"] = measured.astype(float)
    rows["measurability"] = _measurability(rows["baseline_mm"], rows["nodal"], t)
    status = irradiation_status(les, asm)
    rows["irradiation"] = status["irradiation"].to_numpy()
    rows["censored_from"] = status["censored_from"].to_numpy()
    rows["in_response"] = (rows["irradiation"] != "excluded") | (not exclude_irradiated)
    columns = [
        "patient_id",
        "lesion_id",
        "role",
        "site",
        "nodal",
        "irradiated",
        "irradiated_on",
        "baseline_date",
        "baseline_mm",
        "measurability",
        "irradiation",
        "censored_from",
        "in_response",
    ]
    return rows[columns]


def lesion_measurements(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Each target lesion's diameter at every date, with its change from its own baseline.

    This is the per-lesion view of a spider plot; the response itself uses the sum
    (:func:`studylib.recist.timepoint.timepoint_responses`).

    Returns
    -------
    DataFrame
        ``patient_id, lesion_id, date, site, nodal, irradiated, diameter_mm`` (too small to
        measure replaced by the ruleset's default), ``baseline_mm``, ``pct_change_baseline``
        (missing when the lesion's baseline is 0 mm) and ``days_from_baseline`` (from the
        patient's baseline). The too-small size is the ruleset's (default: the protocol's
        default ruleset; ``protocol`` default: the bundled one).
    """
    t = thresholds(ruleset, protocol)
    les = prepare_lesions(lesions)
    asm = prepare_assessments(assessments, les)
    rows = asm[asm["role"] == "target"].copy()
    rows["diameter_mm"] = rows["diameter_mm"].where(
        rows["diameter_mm"].notna() | (rows["state"] != "too_small"), t.too_small_default_mm
    )
    base = baseline_dates(asm)
    at_base = rows[rows["date"] == rows["patient_id"].map(base)]
    base_mm = at_base.set_index(["patient_id", "lesion_id"])["diameter_mm"]
    key = pd.MultiIndex.from_frame(rows[["patient_id", "lesion_id"]])
    rows["baseline_mm"] = base_mm.reindex(key).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (rows["diameter_mm"] - rows["baseline_mm"]) / rows["baseline_mm"] * 100
    rows["pct_change_baseline"] = pct.where(rows["baseline_mm"] > 0)
    rows["days_from_baseline"] = (rows["date"] - rows["patient_id"].map(base)).dt.days
    columns = [
        "patient_id",
        "lesion_id",
        "date",
        "site",
        "nodal",
        "irradiated",
        "diameter_mm",
        "baseline_mm",
        "pct_change_baseline",
        "days_from_baseline",
    ]
    return rows[columns].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Baseline checks


def baseline_problems(
    lesions: pd.DataFrame,
    assessments: pd.DataFrame,
    *,
    ruleset: str | Ruleset | None = None,
    exclude_irradiated: bool | None = None,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """What RECIST does not allow at baseline, one row per finding; the data are not changed.

    Checks (RECIST 1.1 §3; limits from the ruleset, default the protocol's default ruleset;
    ``exclude_irradiated`` default ``[response].exclude_irradiated``; ``protocol`` default
    the bundled one):

    - ``target_not_measured``: a target lesion without a baseline diameter.
    - ``target_too_small``: a non-nodal target below the measurable size, or recorded as
      too small to measure.
    - ``target_node_not_measurable``: a nodal target whose short axis is below the measurable
      size (a pathological node is non-target only; a normal node is not a lesion).
    - ``normal_node``: a non-target node measured below the pathological size.
    - ``too_many_targets`` and ``too_many_targets_in_organ`` (all nodes count as one organ,
      RECIST 1.1 §3.3.1); targets excluded as irradiated are not counted.
    - ``non_target_not_assessed``: a non-target lesion without a baseline state.
    - ``new_lesion_at_baseline``: a lesion recorded as new on the baseline date.
    - ``target_measured_by_pet``: PET is not a measurement method for target lesions.
    - ``irradiated_lesion``: an irradiated lesion (excluded from the response, assessed as
      local control; or, when not excluded, measurable only if it progressed since).
    - ``no_target_disease`` and ``no_evaluable_disease``: which response table applies.

    Returns
    -------
    DataFrame
        ``patient_id, lesion_id, check, severity, value_mm, message``; ``severity`` is
        ``error`` (breaks a RECIST rule), ``warning`` (needs a look) or ``note``.
    """
    protocol = resolve_protocol(protocol)
    t = thresholds(ruleset, protocol)
    if exclude_irradiated is None:
        exclude_irradiated = protocol.response.exclude_irradiated
    les = prepare_lesions(lesions)
    asm = prepare_assessments(assessments, les)
    rows = _baseline_rows(les, asm)
    status = irradiation_status(les, asm)
    rows["excluded"] = (status["irradiation"].to_numpy() == "excluded") & exclude_irradiated
    found: list[pd.DataFrame] = []

    def add(mask, check, severity, message):
        mask = pd.Series(mask, index=rows.index).fillna(False).astype(bool)
        hit = rows[mask]
        if len(hit):
            found.append(
                pd.DataFrame(
                    {
                        "patient_id": hit["patient_id"].to_numpy(),
                        "lesion_id": hit["lesion_id"].to_numpy(),
                        "check": check,
                        "severity": severity,
                        "value_mm": hit["diameter_mm"].to_numpy(dtype=float),
                        "message": message
                        if isinstance(message, str)
                        else message[mask].to_numpy(),
                    }
                )
            )

    target = (rows["role"] == "target") & ~rows["excluded"]
    nontarget = (rows["role"] == "non_target") & ~rows["excluded"]
    d = rows["diameter_mm"]
    size = d.round(1).astype(str)
    add(
        target & d.isna() & (rows["state"] != "too_small"),
        "target_not_measured",
        "error",
        "target lesion has no baseline diameter",
    )
    add(
        target & (rows["state"] == "too_small") & d.isna(),
        "target_too_small",
        "error",
        f"target lesion recorded as too small to measure at baseline; a target must be "
        f"at least {t.measurable_min_mm:g} mm",
    )
    add(
        target & ~rows["nodal"] & (d < t.measurable_min_mm),
        "target_too_small",
        "error",
        "non-measurable: longest diameter " + size + f" mm is below {t.measurable_min_mm:g} mm "
        "(RECIST 1.1 §3.1.1); record it as a non-target lesion",
    )
    add(
        target & rows["nodal"] & (d < t.node_measurable_min_mm) & (d >= t.node_pathological_min_mm),
        "target_node_not_measurable",
        "error",
        "pathological but non-measurable node: short axis "
        + size
        + f" mm is {t.node_pathological_min_mm:g} to <{t.node_measurable_min_mm:g} mm; "
        "it can only be a non-target lesion",
    )
    add(
        target & rows["nodal"] & (d < t.node_pathological_min_mm),
        "target_node_not_measurable",
        "error",
        "normal node: short axis "
        + size
        + f" mm is below {t.node_pathological_min_mm:g} mm, so it is not a lesion",
    )
    add(
        nontarget & rows["nodal"] & (d < t.node_pathological_min_mm),
        "normal_node",
        "warning",
        "non-target node with short axis "
        + size
        + f" mm below {t.node_pathological_min_mm:g} mm is normal, not a lesion",
    )
    add(
        nontarget & (rows["state"].fillna("") == ""),
        "non_target_not_assessed",
        "error",
        "non-target lesion has no baseline state (present/absent)",
    )
    add(
        (rows["role"] == "new") & ((rows["state"].fillna("") != "") | d.notna()),
        "new_lesion_at_baseline",
        "error",
        "a lesion seen at baseline is existing disease, not a new lesion",
    )
    add(
        target & (rows["method"] == "PET"),
        "target_measured_by_pet",
        "warning",
        "target lesion measured on PET at baseline; RECIST 1.1 measures targets on CT or MRI "
        "(the CT of a PET/CT only when of diagnostic quality)",
    )
    irradiated = rows["irradiated"] & rows["role"].isin(["target", "non_target"])
    if exclude_irradiated:
        add(
            irradiated & rows["excluded"],
            "irradiated_lesion",
            "note",
            "irradiated (SBRT): excluded from the response, assessed as local control",
        )
        add(
            irradiated & ~rows["excluded"],
            "irradiated_lesion",
            "note",
            "irradiated on study on "
            + rows["irradiated_on"].dt.strftime("%Y-%m-%d").fillna("")
            + ": not evaluable from that date",
        )
    else:
        add(
            irradiated & (rows["role"] == "target"),
            "irradiated_lesion",
            "warning",
            "previously irradiated target lesion: measurable only if it progressed since "
            "irradiation (RECIST 1.1 §3.1.4)",
        )

    counted = rows[target]
    organ = counted["site"].where(~counted["nodal"], "lymph nodes")
    per_patient = counted.groupby("patient_id").size()
    per_organ = counted.assign(organ=organ).groupby(["patient_id", "organ"]).size()
    for patient, n in per_patient[per_patient > t.max_targets].items():
        found.append(
            _patient_row(
                patient,
                "too_many_targets",
                "error",
                f"{n} target lesions; at most {t.max_targets} are allowed ({t.name})",
            )
        )
    for (patient, organ_name), n in per_organ[per_organ > t.max_targets_per_organ].items():
        found.append(
            _patient_row(
                patient,
                "too_many_targets_in_organ",
                "error",
                f"{n} target lesions in {organ_name}; at most "
                f"{t.max_targets_per_organ} per organ are allowed ({t.name})",
            )
        )
    kinds = rows[~rows["excluded"]].groupby("patient_id")["role"].agg(set)
    for patient in sorted(rows["patient_id"].unique()):
        roles = kinds.get(patient, set())
        if "target" not in roles and "non_target" in roles:
            found.append(
                _patient_row(
                    patient,
                    "no_target_disease",
                    "note",
                    "non-target disease only: RECIST 1.1 Table 2 applies",
                )
            )
        elif not roles & {"target", "non_target"}:
            found.append(
                _patient_row(
                    patient,
                    "no_evaluable_disease",
                    "note",
                    "no target or non-target lesion counts for the response",
                )
            )
    columns = ["patient_id", "lesion_id", "check", "severity", "value_mm", "message"]
    if not found:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c == "value_mm" else object) for c in columns}
        )
    out = pd.concat(found, ignore_index=True)[columns]
    return out.sort_values(
        ["patient_id", "lesion_id", "check"], na_position="first", kind="stable"
    ).reset_index(drop=True)


def _patient_row(patient: str, check: str, severity: str, message: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [patient],
            "lesion_id": [pd.NA],
            "check": [check],
            "severity": [severity],
            "value_mm": [np.nan],
            "message": [message],
        }
    )
