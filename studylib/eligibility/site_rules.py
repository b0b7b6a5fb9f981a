"""The SBRT criteria: treatable foci (rule ``sbrt_foci``) and a site amenable to SBRT (rule
``no_amenable_site``).

Both read the foci judged by :func:`studylib.eligibility.foci.judge_foci`, summarised per
record by :func:`summarise_foci`; the sites, size limit and number treated are the protocol's
``[sbrt]``. A patient with metastatic melanoma has at least one metastasis, so a record
without any focus is ``missing`` (the foci were not entered), never a failure; a focus whose
site, or (in an amenable site) whose size, is not recorded also keeps ``sbrt_foci``
``missing``, since it might be the one to treat. The size of a focus is ``sbrt_foci``'s
concern alone: ``no_amenable_site`` asks only for a site.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.eligibility import text
from studylib.eligibility.registry import evaluator
from studylib.eligibility.verdicts import outcome, records, rowwise
from studylib.protocol import Criterion, Protocol
from studylib.wording import and_list, or_list, plural

__all__ = ["summarise_foci", "amenable_sites", "sbrt_foci", "no_amenable_site"]


def amenable_sites(protocol: Protocol) -> str:
    """The amenable sites as a sentence says them, from ``[sbrt.sites]``.

    >>> from studylib.protocol import resolve_protocol
    >>> amenable_sites(resolve_protocol(None))
    'lung, mediastinum, chest wall, bone (not long bone) or liver'
    """
    sbrt = protocol.sbrt
    names = []
    for site in sbrt.amenable_sites:
        excepted = [n for n in sbrt.not_amenable_sites if n.endswith(f"_{site}")]
        shown = site.replace("_", " ")
        if excepted:
            shown += f" (not {or_list(n.replace('_', ' ') for n in excepted)})"
        names.append(shown)
    return or_list(names)


def _size_limit(protocol: Protocol) -> str:
    """``"7 cm"``: the largest focus SBRT may treat."""
    return text.threshold(protocol.sbrt.max_site_diameter.to("cm"), decimal=False)


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


@evaluator("sbrt_foci")
def sbrt_foci(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """At least one focus in an amenable site and at most ``max_site_diameter``; at most
    ``max_treated_sites`` are treated (the largest are proposed)."""
    none_recorded = v["foci_count"].eq(0)
    incomplete = v["foci_unknown_site"].gt(0) | v["foci_unknown_size"].gt(0)
    status = np.select(
        [none_recorded, incomplete, v["foci_treatable"].eq(0)],
        ["missing", "missing", "fail"],
        "pass",
    )
    most = protocol.sbrt.max_treated_sites
    limit, amenable = _size_limit(protocol), amenable_sites(protocol)

    def reason(r: dict, s: str) -> str:
        if s == "missing" and r["foci_count"] == 0:
            return "No metastatic focus is recorded."
        if s == "missing":
            parts = []
            if r["foci_unknown_site_list"]:
                parts.append(f"the site of {and_list(r['foci_unknown_site_list'])}")
            if r["foci_unknown_size_list"]:
                parts.append(f"the longest diameter of {and_list(r['foci_unknown_size_list'])}")
            return f"Not recorded: {and_list(parts)}."
        notes = [f"{d} (larger than {limit})" for d in r["foci_too_large_list"]] + [
            f"{d} (site not amenable)" for d in r["foci_not_amenable_list"]
        ]
        if s == "fail":
            if r["foci_amenable"] == 0:
                return (
                    f"No focus is in a site amenable to SBRT"
                    f" ({and_list(r['foci_not_amenable_list'])}); amenable sites are"
                    f" {amenable}."
                )
            return (
                f"Every focus in an amenable site is larger than {limit}"
                f" ({and_list(r['foci_too_large_list'])})."
            )
        said = (
            f"{plural(r['foci_treatable'], 'focus', 'foci')} amenable to SBRT and at most"
            f" {limit}; proposed for SBRT: {and_list(r['foci_proposed_list'])}"
        )
        if r["foci_spare_list"]:
            said += (
                f". Not proposed, as at most {most} are treated (the largest are proposed):"
                f" {and_list(r['foci_spare_list'])}"
            )
        if notes:
            said += f". Not treatable: {and_list(notes)}"
        return said + ". The radiation oncologist decides."

    def resolve(r: dict, s: str) -> str:
        if s != "missing":
            return ""
        if r["foci_count"] == 0:
            return _ASK_FOCI
        return "Record the site and longest diameter of every focus (sbrt_sites)."

    rows = records(v, _SUMMARY)
    return outcome(v.index, status, rowwise(reason, rows, status), rowwise(resolve, rows, status))


@evaluator("no_amenable_site")
def no_amenable_site(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """No metastatic site amenable to SBRT excludes (whatever the size of its foci)."""
    amenable_list = amenable_sites(protocol)
    amenable = v["foci_amenable"].gt(0)
    unknown = v["foci_count"].eq(0) | v["foci_unknown_site"].gt(0)
    status = np.select([amenable, unknown], ["pass", "missing"], "fail")

    def reason(r: dict, s: str) -> str:
        if s == "missing" and r["foci_count"] == 0:
            return "No metastatic focus is recorded."
        if s == "missing":
            return f"Not recorded: the site of {and_list(r['foci_unknown_site_list'])}."
        if s == "fail":
            return (
                "No metastatic site amenable to SBRT"
                f" ({and_list(r['foci_not_amenable_list'])}); amenable sites are"
                f" {amenable_list}."
            )
        count = r["foci_amenable"]
        where = "is in a site" if count == 1 else "are in sites"
        return f"{plural(count, 'focus', 'foci')} {where} amenable to SBRT."

    def resolve(r: dict, s: str) -> str:
        if s != "missing":
            return ""
        return _ASK_FOCI if r["foci_count"] == 0 else "Record the site of every focus (sbrt_sites)."

    rows = records(v, _SUMMARY)
    return outcome(v.index, status, rowwise(reason, rows, status), rowwise(resolve, rows, status))
