"""The SBRT criteria: 1-3 treatable foci (INCL03) and a site amenable to SBRT (EXCL01).

Both read the foci judged by :func:`studylib.eligibility.foci.judge_foci`, summarised per
record by :func:`summarise_foci`. A patient with metastatic melanoma has at least one
metastasis, so a record without any focus is ``missing`` (the foci were not entered), never a
failure; a focus whose site, or (in an amenable site) whose size, is not recorded also keeps
INCL03 ``missing``, since it might be the one to treat.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from studylib.eligibility import text
from studylib.eligibility.verdicts import outcome, records, rowwise
from studylib.protocol import PROTOCOL

__all__ = ["summarise_foci", "SITE_RULES"]

_SBRT = PROTOCOL.sbrt
_LIMIT = text.threshold(_SBRT.max_site_diameter.to("cm"), decimal=False)


def _amenable_sites() -> str:
    """``"lung, mediastinum, chest wall, bone (not long bone) or liver"``."""
    names = []
    for site in _SBRT.amenable_sites:
        excepted = [n for n in _SBRT.not_amenable_sites if n.endswith(f"_{site}")]
        shown = site.replace("_", " ")
        if excepted:
            shown += f" (not {text.listing([n.replace('_', ' ') for n in excepted], 'or')})"
        names.append(shown)
    return text.listing(names, "or")


_AMENABLE = _amenable_sites()
_COUNTS = ("foci", "unknown_site", "amenable", "unknown_size", "treatable", "too_large")
_LISTS = ("proposed", "spare", "too_large", "not_amenable", "unknown_size", "unknown_site")
#: The columns :func:`summarise_foci` adds to the records.
_SUMMARY = [
    "foci_count",
    *(f"foci_{name}" for name in _COUNTS[1:]),
    *(f"foci_{name}_list" for name in _LISTS),
]


def _describe(site: str | None, cm: float, site_id: object) -> str:
    """``"chest wall 2.5 cm"``; a focus without a site by its id: ``"focus S2 (2.5 cm)"``."""
    size = "" if np.isnan(cm) else text.amount(cm, "cm", decimal=False)
    if not site:
        return f"focus {site_id}" + (f" ({size})" if size else "")
    return f"{site.replace('_', ' ')} {size}".strip()


def summarise_foci(foci: pd.DataFrame, records: int) -> pd.DataFrame:
    """Counts and descriptions of each record's foci (index: record position ``_row``).

    ``foci`` is judged (:func:`studylib.eligibility.foci.judge_foci`) with a ``_row`` column.
    """
    f = foci.assign(
        _described=[
            _describe(s, c, i)
            for s, c, i in zip(
                foci["site"], foci["longest_diameter_cm"], foci["site_id"], strict=True
            )
        ],
        _unknown_site=foci["site"].isna(),
        _unknown_size=foci["amenable"] & foci["longest_diameter_cm"].isna(),
        _treatable=foci["amenable"] & foci["within_size_limit"].fillna(False).astype(bool),
        _too_large=foci["amenable"] & foci["within_size_limit"].eq(False).fillna(False),
    )
    f["_spare"] = f["_treatable"] & ~f["proposed"]
    f["_not_amenable"] = ~f["amenable"] & ~f["_unknown_site"]
    grouped = f.groupby("_row")
    summary = pd.DataFrame(
        {
            "foci": grouped.size(),
            "unknown_site": grouped["_unknown_site"].sum(),
            "amenable": grouped["amenable"].sum(),
            "unknown_size": grouped["_unknown_size"].sum(),
            "treatable": grouped["_treatable"].sum(),
            "too_large": grouped["_too_large"].sum(),
        }
    )
    for name in _LISTS:
        mask = f["proposed"] if name == "proposed" else f[f"_{name}"]
        joined = f[mask.astype(bool)].groupby("_row")["_described"].agg(list)
        summary[f"{name}_list"] = joined
    summary = summary.reindex(range(records))
    for name in _COUNTS:
        summary[name] = summary[name].fillna(0).astype(int)
    for name in _LISTS:
        summary[f"{name}_list"] = [
            x if isinstance(x, list) else [] for x in summary[f"{name}_list"]
        ]
    return summary.add_prefix("foci_").rename(columns={"foci_foci": "foci_count"})


_ASK_FOCI = (
    "Record every metastatic focus from the staging scans with its site and longest diameter"
    " (sbrt_sites), including foci in sites not amenable to SBRT."
)


def sbrt_foci(v: pd.DataFrame) -> pd.DataFrame:
    """INCL03: at least one focus in an amenable site and at most 7 cm; at most 3 treated."""
    none_recorded = v["foci_count"].eq(0)
    incomplete = v["foci_unknown_site"].gt(0) | v["foci_unknown_size"].gt(0)
    status = np.select(
        [none_recorded, incomplete, v["foci_treatable"].eq(0)],
        ["missing", "missing", "fail"],
        "pass",
    )
    most = _SBRT.max_treated_sites

    def reason(r: dict, s: str) -> str:
        if s == "missing" and r["foci_count"] == 0:
            return "No metastatic focus is recorded."
        if s == "missing":
            parts = []
            if r["foci_unknown_site_list"]:
                parts.append(f"the site of {text.listing(r['foci_unknown_site_list'])}")
            if r["foci_unknown_size_list"]:
                parts.append(f"the longest diameter of {text.listing(r['foci_unknown_size_list'])}")
            return f"Not recorded: {text.listing(parts)}."
        notes = [f"{d} (larger than {_LIMIT})" for d in r["foci_too_large_list"]] + [
            f"{d} (site not amenable)" for d in r["foci_not_amenable_list"]
        ]
        if s == "fail":
            if r["foci_amenable"] == 0:
                return (
                    f"No focus is in a site amenable to SBRT"
                    f" ({text.listing(r['foci_not_amenable_list'])}); amenable sites are"
                    f" {_AMENABLE}."
                )
            return (
                f"Every focus in an amenable site is larger than {_LIMIT}"
                f" ({text.listing(r['foci_too_large_list'])})."
            )
        count = r["foci_treatable"]
        said = (
            f"{count} {'focus' if count == 1 else 'foci'} amenable to SBRT and at most {_LIMIT};"
            f" proposed for SBRT: {text.listing(r['foci_proposed_list'])}"
        )
        if r["foci_spare_list"]:
            said += (
                f". Not proposed, as at most {most} are treated (the largest are proposed):"
                f" {text.listing(r['foci_spare_list'])}"
            )
        if notes:
            said += f". Not treatable: {text.listing(notes)}"
        return said + ". The radiation oncologist decides."

    def resolve(r: dict, s: str) -> str:
        if s != "missing":
            return ""
        if r["foci_count"] == 0:
            return _ASK_FOCI
        return "Record the site and longest diameter of every focus (sbrt_sites)."

    rows = records(v, _SUMMARY)
    return outcome(v.index, status, rowwise(reason, rows, status), rowwise(resolve, rows, status))


def no_amenable_site(v: pd.DataFrame) -> pd.DataFrame:
    """EXCL01: no metastatic site amenable to SBRT (whatever the size of its foci)."""
    amenable = v["foci_amenable"].gt(0)
    unknown = v["foci_count"].eq(0) | v["foci_unknown_site"].gt(0)
    status = np.select([amenable, unknown], ["pass", "missing"], "fail")

    def reason(r: dict, s: str) -> str:
        if s == "missing" and r["foci_count"] == 0:
            return "No metastatic focus is recorded."
        if s == "missing":
            return f"Not recorded: the site of {text.listing(r['foci_unknown_site_list'])}."
        if s == "fail":
            return (
                "No metastatic site amenable to SBRT"
                f" ({text.listing(r['foci_not_amenable_list'])}); amenable sites are"
                f" {_AMENABLE}."
            )
        count = r["foci_amenable"]
        where = "focus is in a site" if count == 1 else "foci are in sites"
        return f"{count} {where} amenable to SBRT."

    def resolve(r: dict, s: str) -> str:
        if s != "missing":
            return ""
        return _ASK_FOCI if r["foci_count"] == 0 else "Record the site of every focus (sbrt_sites)."

    rows = records(v, _SUMMARY)
    return outcome(v.index, status, rowwise(reason, rows, status), rowwise(resolve, rows, status))


#: Evaluators of the SBRT criteria, by the ``rule`` name in protocol.toml.
SITE_RULES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "sbrt_foci": sbrt_foci,
    "no_amenable_site": no_amenable_site,
}
