"""SBRT foci at screening: which may be treated, and which the workbook proposes.

Registry (the ``sbrt_foci`` criterion of the bundled file): "Patients must have tumors amenable
to SBRT in lungs, mediastinum, chest wall, bones (other than long bones), or liver (inclusive of
immediately adjacent masses), 1 - 3 foci; no minimum size, but none greater than 7 cm. Patients
may have other metastases but only a maximum of 3 will be treated." The amenable sites, the size
limit and the number treated are the protocol's ``[sbrt]`` and ``[sbrt.sites]``.

A focus can be treated when its site is amenable and its longest diameter is at most the
limit. When more can be treated than the protocol allows, the workbook proposes the largest
ones ([sbrt.sites].reading); the radiation oncologist decides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.eligibility import text
from studylib.eligibility.values import Problems, is_blank, name_key
from studylib.protocol import Protocol, resolve_protocol
from studylib.units import parse_quantity

__all__ = ["read_foci", "judge_foci", "propose_sbrt_sites", "FOCUS_COLUMNS"]

# Problems with foci are listed after those with the record's own fields.
_AFTER_FIELDS = 1000

#: Columns of the foci table returned by :func:`propose_sbrt_sites`.
FOCUS_COLUMNS = [
    "patient_id",
    "site_id",
    "site",
    "longest_diameter",
    "longest_diameter_cm",
    "amenable",
    "within_size_limit",
    "proposed",
    "note",
]


def _site_name(value: object) -> str | None:
    return None if is_blank(value) else name_key(value)


def _diameter_cm(value: object, plausible_cm: float) -> float:
    expected = "a longest diameter with its unit, such as '2.5 cm' or '25 mm'"
    if is_blank(value):
        raise ValueError(expected)
    try:
        quantity = parse_quantity(str(value) if not hasattr(value, "units") else value, "cm")
    except ValueError as error:
        raise ValueError(f"{expected} ({error})") from None
    cm = float(quantity.to("cm").magnitude)
    if cm == 0 or cm > plausible_cm:
        raise ValueError(
            f"{expected}: a focus larger than 0 and at most"
            f" {text.amount(plausible_cm, 'cm', decimal=False)}; check the number and its unit"
        )
    return cm


def read_foci(
    foci: pd.DataFrame, problems: Problems, rows: dict[str, int], protocol: Protocol
) -> pd.DataFrame:
    """Check and type a table of foci (``patient_id``, ``site``, ``longest_diameter``).

    ``rows`` maps each patient id to its record's position, for the problems. A diameter that
    cannot be read, or beyond the protocol's ``plausible_max.sbrt_focus``, is a problem; an
    empty one is kept as missing (the criterion is then ``missing``).
    """
    plausible_cm = float(protocol.eligibility.plausible_max["sbrt_focus"].to("cm").magnitude)
    frame = foci.reset_index(drop=True)
    for needed in ("patient_id", "site", "longest_diameter"):
        if needed not in frame.columns:
            frame[needed] = None
    if "site_id" not in frame.columns:
        frame["site_id"] = [f"S{n}" for n in frame.groupby("patient_id").cumcount() + 1]
    cache: dict[str, tuple[bool, object]] = {}
    diameters = []
    for patient, site_id, raw in zip(
        frame["patient_id"], frame["site_id"], frame["longest_diameter"], strict=True
    ):
        if is_blank(raw):
            diameters.append(np.nan)
            continue
        key = str(raw)
        if key not in cache:
            try:
                cache[key] = (True, _diameter_cm(raw, plausible_cm))
            except ValueError as error:
                cache[key] = (False, str(error))
        ok, result = cache[key]
        diameters.append(result if ok else np.nan)
        if not ok and str(patient) in rows:
            column = f"sbrt_sites {site_id}: longest_diameter"
            problems.add(rows[str(patient)], column, raw, result, _AFTER_FIELDS)
    unknown = sorted({str(p) for p in frame["patient_id"]} - set(rows))
    for patient in unknown:
        problems.add(
            0,
            "sbrt_sites: patient_id",
            patient,
            "a patient of the screening records",
            _AFTER_FIELDS,
        )
    return pd.DataFrame(
        {
            "patient_id": frame["patient_id"].astype(object).map(str),
            "site_id": frame["site_id"].astype(object),
            "site": [_site_name(v) for v in frame["site"]],
            "longest_diameter": [
                None if is_blank(v) else str(v).strip() for v in frame["longest_diameter"]
            ],
            "longest_diameter_cm": np.array(diameters, dtype=float),
        }
    )


def _notes(foci: pd.DataFrame, protocol: Protocol) -> list[str]:
    limit = text.threshold(protocol.sbrt.max_site_diameter.to("cm"), decimal=False)
    most = protocol.sbrt.max_treated_sites
    notes = []
    for site, cm, amenable, within, proposed in zip(
        foci["site"],
        foci["longest_diameter_cm"],
        foci["amenable"],
        foci["within_size_limit"],
        foci["proposed"],
        strict=True,
    ):
        if site is None:
            notes.append("site not recorded")
        elif not amenable:
            notes.append("site not amenable to SBRT")
        elif np.isnan(cm):
            notes.append("longest diameter not recorded")
        elif not within:
            notes.append(f"larger than {limit}: cannot be treated")
        elif proposed:
            notes.append("proposed for SBRT")
        else:
            notes.append(
                f"could be treated; not proposed (at most {most} are treated, the largest are"
                " proposed)"
            )
    return notes


def propose_sbrt_sites(foci: pd.DataFrame, *, protocol: Protocol | None = None) -> pd.DataFrame:
    """Judge every focus and propose, per patient, which to treat with SBRT.

    Parameters
    ----------
    foci
        One row per focus: ``patient_id``, ``site``, ``longest_diameter`` (text with its
        unit), optionally ``site_id``; the ``sbrt_sites`` table of a cohort.
    protocol
        The protocol whose ``[sbrt]`` rules apply (default: the bundled one).

    Returns
    -------
    pandas.DataFrame
        :data:`FOCUS_COLUMNS`: ``amenable`` (site in ``[sbrt.sites].amenable``; in the bundled
        file lung, mediastinum, chest wall, bone other than long bones, liver),
        ``within_size_limit`` (at most ``max_site_diameter``, 7 cm; NA when the diameter is
        missing), ``proposed`` (among the ``max_treated_sites``, 3, largest foci that can be
        treated) and a ``note`` in plain English.

    Raises
    ------
    studylib.errors.DataError
        Naming every diameter that cannot be read.
    """
    protocol = resolve_protocol(protocol)
    ids = pd.Series(sorted({str(p) for p in foci.get("patient_id", pd.Series(dtype=str))}))
    problems = Problems(ids, by_patient=True)
    typed = read_foci(foci, problems, {p: i for i, p in enumerate(ids)}, protocol)
    problems.raise_any("the SBRT foci")
    return judge_foci(typed, protocol)


def judge_foci(typed: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Add ``amenable``, ``within_size_limit``, ``proposed`` and ``note`` to typed foci."""
    sbrt = protocol.sbrt
    foci = typed.copy()
    foci["amenable"] = foci["site"].isin(sbrt.amenable_sites).astype(bool)
    cm = foci["longest_diameter_cm"]
    within = ~text.above(cm, float(sbrt.max_site_diameter.to("cm").magnitude))
    foci["within_size_limit"] = pd.array(
        [pd.NA if np.isnan(c) else bool(w) for c, w in zip(cm, within, strict=True)],
        dtype="boolean",
    )
    treatable = foci["amenable"] & foci["within_size_limit"].fillna(False).astype(bool)
    order = (
        foci[treatable]
        .assign(_position=np.flatnonzero(treatable.to_numpy()))
        .sort_values(["longest_diameter_cm", "_position"], ascending=[False, True], kind="stable")
    )
    rank = order.groupby("patient_id", sort=False).cumcount()
    foci["proposed"] = False
    foci.loc[rank.index[rank < sbrt.max_treated_sites], "proposed"] = True
    foci["note"] = _notes(foci, protocol)
    return foci[FOCUS_COLUMNS]
