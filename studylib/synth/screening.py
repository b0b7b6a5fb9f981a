"""Screening records and SBRT foci of a synthetic cohort (``screening.csv``, ``sbrt_sites.csv``).

Enrolled patients, and those excluded after consent for reasons that are not eligibility
criteria (rapid progression, insurance), pass every criterion with a margin: adults, ECOG
within the limit, a negative pregnancy test inside the window before the first treatment for
women of childbearing potential, pulmonary function at or above predicted (no review needed),
laboratory values inside the limits, 1-3 amenable foci no larger than the limit. Every screen
failure carries values that fail the criterion its ``outcome_reason`` names (for example
``EXCL09: haemoglobin 8.4 g/dL below 9.0 g/dL``), derived from the protocol's thresholds; the
failures are chosen by the criterion's rule, and named by the protocol's own criterion id.
Screen failures never signed consent (``consent_signed`` is empty, ``N`` for those who
declined), so the recorded criterion is the only one they fail.

Laboratories report in their own units (creatinine in mg/dL or umol/L, white cells per litre,
per microlitre or in K/uL, haemoglobin in g/dL or g/L) and clinics write weights in kg or lb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES
from studylib.protocol import Protocol
from studylib.synth import calendar as cal
from studylib.units import Q_, convert

__all__ = [
    "SCREEN_FAILURES",
    "LABORATORIES",
    "Laboratory",
    "screen_cohort",
    "screen_failure_kinds",
    "POUND_KG",
]

#: The kinds of screen failure (the rule of the criterion failed), in the order a cohort uses
#: them; the first 13 make up the bundled cohort's 13 screen failures. A protocol without a
#: criterion of some rule skips that kind (:func:`screen_failure_kinds`).
SCREEN_FAILURES = (
    "cardiac_ischemia",
    "hemoglobin",
    "wbc",
    "ecog",
    "brain_mets",
    "no_amenable_site",
    "creatinine",
    "transaminases",
    "chronic_steroids",
    "pulmonary_function",
    "consent",
    "infection",
    "bilirubin",
    "prior_radiation",
    "histology",
    "pregnant_or_lactating",
)

#: Exclusions after consent (NCT01416831.md 1.5); ``None``: not an eligibility criterion, else the
#: rule of the criterion whose id the text names.
_EXCLUDED_REASONS = {
    "rapid_progression": (None, "rapid {diagnosis} progression during screening"),
    "cardiac_ischemia": ("cardiac_ischemia", "ischaemia on exercise tolerance test"),
    "insurance": (None, "insurance authorisation for treatment not obtained"),
}


def screen_failure_kinds(protocol: Protocol) -> tuple[str, ...]:
    """The kinds of :data:`SCREEN_FAILURES` the protocol has a criterion for."""
    rules = {criterion.rule for criterion in protocol.eligibility.criteria}
    return tuple(kind for kind in SCREEN_FAILURES if kind in rules)


def _diagnosis(protocol: Protocol) -> str:
    """The disease the protocol's histology criterion confirms (bundled: melanoma)."""
    for criterion in protocol.eligibility.criteria:
        if "diagnosis" in criterion.options:
            return str(criterion.options["diagnosis"]).strip()
    return "disease"


def _sister_fields(protocol: Protocol, n: int, consented: np.ndarray) -> dict[str, np.ndarray]:
    """Columns only some protocols read (NCT02306954): every patient's predominant subtype is
    the first one the histology criterion admits, and each agreement a criterion asks for is
    recorded yes for those who signed consent (screen failures were not asked)."""
    fields: dict[str, np.ndarray] = {}
    for criterion in protocol.eligibility.criteria:
        if criterion.rule == "histology_subtype":
            fields["histology_subtype"] = np.full(n, criterion.options["subtypes"][0], object)
        elif criterion.rule == "agreement":
            fields[criterion.options["field"]] = np.where(consented, "Y", "").astype(object)
    return fields


def _criterion_ids(protocol: Protocol) -> dict[str, str]:
    """The criterion id of each rule in the protocol (the first, if two share a rule)."""
    ids: dict[str, str] = {}
    for criterion in protocol.eligibility.criteria:
        ids.setdefault(criterion.rule, criterion.id)
    return ids


@dataclass(frozen=True)
class Laboratory:
    """A laboratory and the units it reports in (synthetic names)."""

    name: str
    wbc: str  # "giga" (x10^9/L), "kilo" (K/uL) or "per_ul" (/uL)
    hgb: str  # "g/dL" or "g/L"
    chemistry: str  # "mg/dL", or a molar unit ("umol/L", "µmol/L")
    ast_uln: int
    alt_uln: int
    share: float


LABORATORIES = (
    Laboratory("Main campus laboratory", "giga", "g/dL", "mg/dL", 40, 56, 0.35),
    Laboratory("Community oncology clinic laboratory", "kilo", "g/dL", "mg/dL", 34, 45, 0.25),
    Laboratory("Regional reference laboratory", "per_ul", "g/dL", "mg/dL", 37, 40, 0.15),
    Laboratory("Referring hospital laboratory (SI units)", "giga", "g/L", "umol/L", 35, 35, 0.15),
    Laboratory("Cross-border referral laboratory", "giga", "g/L", "µmol/L", 40, 40, 0.10),
)

POUND_KG = float(Q_(1, "lb").to("kg").magnitude)
_CREATININE_UMOL = float(convert(Q_(1, "mg/dL"), "umol/L", "creatinine").magnitude)
_BILIRUBIN_UMOL = float(convert(Q_(1, "mg/dL"), "umol/L", "bilirubin").magnitude)
# Synthetic choices: share of men, age distribution, share of women of childbearing
# potential under 50, share of clinics writing pounds and millimetres.
_MALE_SHARE = 0.6
_AGE_MEAN, _AGE_SD, _AGE_MAX = 55.0, 12.0, 84.0
_CHILDBEARING_SHARE = 0.85
_POUND_SHARE = 0.4
_SITE_ORGAN_WEIGHTS = {"lung": 0.4, "liver": 0.2, "bone": 0.15, "chest_wall": 0.15}
_FOCI_COUNT_P = (0.45, 0.35, 0.20)


def _fmt(template: str, values: np.ndarray) -> np.ndarray:
    return np.char.mod(template, np.asarray(values, dtype=float))


def _magnitude(quantity, unit: str) -> float:
    return float(quantity.to(unit).magnitude)


def _show(quantity, unit: str, digits: int = 1) -> str:
    shown = {"G_per_L": "x10^9/L"}.get(unit, unit)
    return f"{_magnitude(quantity, unit):.{digits}f} {shown}"


def _write_wbc(value: np.ndarray, style: np.ndarray) -> np.ndarray:
    return np.select(
        [style == "giga", style == "kilo"],
        [np.char.add(_fmt("%.1f", value), " x10^9/L"), np.char.add(_fmt("%.1f", value), " K/uL")],
        np.char.add(_fmt("%.0f", np.round(value * 10) * 100), "/uL"),
    )


def _write_hgb(value: np.ndarray, style: np.ndarray) -> np.ndarray:
    return np.where(
        style == "g/dL",
        np.char.add(_fmt("%.1f", value), " g/dL"),
        np.char.add(_fmt("%.0f", value * 10), " g/L"),
    )


def _write_chemistry(value: np.ndarray, style: np.ndarray, per_mg_dl: float, digits: int):
    molar = np.char.add(np.char.add(_fmt("%.0f", value * per_mg_dl), " "), style)
    mass = np.char.add(_fmt(f"%.{digits}f", value), " mg/dL")
    return np.where(style == "mg/dL", mass, molar)


def _gumbel_top(rng, n: int, weights: np.ndarray) -> np.ndarray:
    """Each row: the column indices in a weighted random order without replacement."""
    keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((n, len(weights)))))
    return np.argsort(-keys, axis=1, kind="stable")


def _foci(plan, rng, style_mm, protocol: Protocol) -> pd.DataFrame:
    """1-3 foci per screened patient in distinct amenable organs, no larger than the limit."""
    n = len(plan)
    organs = np.array(protocol.sbrt.amenable_sites, dtype=object)
    weights = np.array([_SITE_ORGAN_WEIGHTS.get(o, 0.1) for o in organs])
    order = _gumbel_top(rng, n, weights)
    count = rng.choice(np.arange(1, len(_FOCI_COUNT_P) + 1), size=n, p=_FOCI_COUNT_P)
    count = np.minimum(count, protocol.sbrt.max_treated_sites)
    count[0] = min(2, protocol.sbrt.max_treated_sites)  # the demo patient: two SBRT sites
    rows = np.repeat(np.arange(n), count)
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    site = organs[order[rows, rank]]
    no_site = plan["reason"].to_numpy()[rows] == "no_amenable_site"
    others = np.array([*protocol.sbrt.not_amenable_sites, "skin", "soft_tissue"], dtype=object)
    site[no_site] = others[rank[no_site] % len(others)]
    limit_mm = _magnitude(protocol.sbrt.max_site_diameter, "mm")
    diameter = rng.integers(12, int(0.85 * limit_mm) + 1, len(rows))
    # A focus in a lymph-node site is a node a target can be made of: its short axis (here its
    # size) measurable under the primary ruleset.
    rules = protocol.response.ruleset(protocol.response.primary_ruleset)
    node_min = int(_magnitude(rules.node_measurable_min, "mm")) + 1
    nodal = np.isin(site, protocol.sbrt.nodal_sites)
    diameter[nodal] = np.maximum(diameter[nodal], node_min)
    written = np.where(
        style_mm[rows],
        np.char.add(diameter.astype(str), " mm"),
        np.char.add(_fmt("%.1f", diameter / 10), " cm"),
    )
    return pd.DataFrame(
        {
            "row": rows,
            "site_id": np.char.add("S", (rank + 1).astype(str)),
            "site": site.astype(str),
            "diameter_mm": diameter,
            "longest_diameter": written,
        }
    )


def screen_cohort(
    plan: pd.DataFrame,
    timeline: pd.DataFrame,
    rng: np.random.Generator,
    protocol: Protocol,
):
    """The screening table, the SBRT foci (with ``row`` and ``diameter_mm`` for the tumour
    module) and each patient's weight in kg (which IL-2 doses are computed from)."""
    n = len(plan)
    e = protocol.eligibility
    screening = timeline["screening_date"].to_numpy()
    planned = timeline["planned_start_minute"].to_numpy()
    reason = plan["reason"].to_numpy()
    outcome = plan["outcome"].to_numpy()

    male = rng.permutation(np.arange(n) < round(_MALE_SHARE * n))
    min_age = _magnitude(e.minimum_age, "year")
    age = np.clip(rng.normal(_AGE_MEAN, _AGE_SD, n), min_age + 5, _AGE_MAX)
    age[reason == "pregnant_or_lactating"] = min_age + 15
    male[reason == "pregnant_or_lactating"] = False
    birth = screening - np.floor(age * 365.25).astype(np.int64)
    childbearing = ~male & (age < 50) & (rng.random(n) < _CHILDBEARING_SHARE)
    window_min = cal.minutes(e.pregnancy_test_window)
    tested = planned - rng.integers(6 * 60, window_min - 6 * 60, n) // 5 * 5
    tested_at = np.where(childbearing, tested, cal.NONE)

    lab_index = rng.choice(len(LABORATORIES), size=n, p=[lab.share for lab in LABORATORIES])
    lab = [LABORATORIES[i] for i in lab_index]
    wbc_style = np.array([x.wbc for x in lab])
    hgb_style = np.array([x.hgb for x in lab])
    chem_style = np.array([x.chemistry for x in lab])
    ast_uln = np.array([x.ast_uln for x in lab], dtype=float)
    alt_uln = np.array([x.alt_uln for x in lab], dtype=float)

    # Values inside the limits with a margin, as healthy enough IL-2 candidates have them.
    wbc = np.round(rng.uniform(_magnitude(e.wbc_min, "G_per_L") + 1.0, 9.5, n), 1)
    hgb = np.round(rng.uniform(_magnitude(e.hgb_min, "g/dL") + 1.5, 15.8, n), 1)
    ast = np.round(ast_uln * rng.uniform(0.35, 1.4, n))
    alt = np.round(alt_uln * rng.uniform(0.3, 1.4, n))
    bili = np.round(rng.uniform(0.3, 0.6 * _magnitude(e.bilirubin_max, "mg/dL"), n), 1)
    creat = np.round(rng.uniform(0.6, 0.68 * _magnitude(e.creatinine_max, "mg/dL"), n), 2)
    review = _magnitude(e.pft_review_below, "percent")
    pfts = np.round(review + rng.uniform(0, 28, (3, n)))
    ecog = (rng.random(n) < 0.4).astype(np.int64)
    brain = np.where(rng.random(n) < 0.1, "radiosurgery_candidate", "none").astype(object)
    flags = {
        name: np.full(n, "N", dtype=object)
        for name in (
            "histology_confirmed",
            "prior_rt_to_sbrt_sites",
            "active_infection",
            "pregnant_or_lactating",
            "cardiac_ischemia",
            "pulmonary_disease_significant",
            "chronic_steroids",
        )
    }
    flags["histology_confirmed"][:] = "Y"
    consent = np.where(outcome == "screen_failure", "", "Y").astype(object)
    text = np.full(n, "", dtype=object)

    def failing(kind):
        return (reason == kind) & (outcome == "screen_failure")

    # Each screen failure: the criterion's value pushed past its threshold, and the reason.
    hgb_bad = _magnitude(e.hgb_min, "g/dL") - 0.6
    wbc_bad = _magnitude(e.wbc_min, "G_per_L") - 0.4
    creat_bad = round(_magnitude(e.creatinine_max, "mg/dL") * 1.08, 2)
    bili_bad = _magnitude(e.bilirubin_max, "mg/dL") + 0.5
    times_uln = e.transaminase_max_x_uln + 0.8
    hgb[failing("hemoglobin")] = hgb_bad
    wbc[failing("wbc")] = wbc_bad
    creat[failing("creatinine")] = creat_bad
    bili[failing("bilirubin")] = bili_bad
    ast[failing("transaminases")] = np.round(ast_uln[failing("transaminases")] * times_uln)
    ecog[failing("ecog")] = e.max_ecog + 1
    brain[failing("brain_mets")] = "not_radiosurgery_candidate"
    flags["cardiac_ischemia"][reason == "cardiac_ischemia"] = "Y"
    flags["chronic_steroids"][failing("chronic_steroids")] = "Y"
    flags["active_infection"][failing("infection")] = "Y"
    flags["prior_rt_to_sbrt_sites"][failing("prior_radiation")] = "Y"
    flags["histology_confirmed"][failing("histology")] = "N"
    flags["pulmonary_disease_significant"][failing("pulmonary_function")] = "Y"
    pft_bad = _magnitude(e.pft_exclusion_below, "percent") - 12
    pfts[1, failing("pulmonary_function")] = pft_bad
    consent[failing("consent")] = "N"
    flags["pregnant_or_lactating"][failing("pregnant_or_lactating")] = "Y"
    childbearing[failing("pregnant_or_lactating")] = True
    tested_at = np.where(childbearing, tested, cal.NONE)

    hgb_text = _write_hgb(hgb, hgb_style)
    wbc_text = _write_wbc(wbc, wbc_style)
    creat_text = _write_chemistry(creat, chem_style, _CREATININE_UMOL, 2)
    bili_text = _write_chemistry(bili, chem_style, _BILIRUBIN_UMOL, 1)
    ast_text = np.char.add(_fmt("%.0f", ast), " U/L")
    limit = {
        "hgb": _show(e.hgb_min, "g/dL"),
        "wbc": _show(e.wbc_min, "G_per_L"),
        "creatinine": _show(e.creatinine_max, "mg/dL"),
        "bilirubin": _show(e.bilirubin_max, "mg/dL"),
        "pft": f"{_magnitude(e.pft_exclusion_below, 'percent'):.0f}%",
    }
    reasons = {
        "cardiac_ischemia": lambda i: "ischaemia on baseline EKG",
        "hemoglobin": lambda i: f"haemoglobin {hgb_text[i]} below {limit['hgb']}",
        "wbc": lambda i: f"white cell count {wbc_text[i]} below {limit['wbc']}",
        "ecog": lambda i: f"ECOG performance status {ecog[i]} (0-{e.max_ecog} required)",
        "brain_mets": lambda i: "brain metastases not suitable for radiosurgery",
        "no_amenable_site": lambda i: "no metastatic site amenable to SBRT",
        "creatinine": lambda i: f"creatinine {creat_text[i]} above {limit['creatinine']}",
        "transaminases": lambda i: (
            f"AST {ast_text[i]}, {times_uln:.1f} times the upper limit "
            f"of normal ({ast_uln[i]:.0f} U/L); at most {e.transaminase_max_x_uln:g} times allowed"
        ),
        "chronic_steroids": lambda i: "requires chronic steroids",
        "pulmonary_function": lambda i: (
            f"FEV1 {pft_bad:.0f}% of predicted, below "
            f"{limit['pft']}, due to significant lung disease"
        ),
        "consent": lambda i: "declined to sign the study consent",
        "infection": lambda i: "active pulmonary infection",
        "bilirubin": lambda i: f"total bilirubin {bili_text[i]} above {limit['bilirubin']}",
        "prior_radiation": lambda i: "previous radiation to the site proposed for SBRT",
        "histology": lambda i: f"{_diagnosis(protocol)} not confirmed by biopsy or cytology",
        "pregnant_or_lactating": lambda i: "lactating",
    }
    ids = _criterion_ids(protocol)
    for i in np.flatnonzero(outcome == "screen_failure"):
        text[i] = f"{ids[reason[i]]}: {reasons[reason[i]](i)}"
    excluded = outcome == "excluded_after_consent"
    for key, (rule, template) in _EXCLUDED_REASONS.items():
        words = template.format(diagnosis=_diagnosis(protocol))
        named = (
            f"{ids[rule]}: {words}" if rule in ids else f"{words} (not an eligibility criterion)"
        )
        text[excluded & (reason == key)] = named

    pounds = rng.random(n) < _POUND_SHARE
    kg = np.where(male, rng.normal(86, 15, n), rng.normal(70, 13, n))
    kg = np.clip(kg, _magnitude(protocol.plausibility.weight_min, "kg") + 15, 150)
    lb = np.round(kg / POUND_KG)
    kg = np.round(kg, 1)
    weight_text = np.where(
        pounds, np.char.add(_fmt("%.0f", lb), " lb"), np.char.add(_fmt("%.1f", kg), " kg")
    )
    weight_kg = np.where(pounds, lb * POUND_KG, kg)

    frame = pd.DataFrame(
        {
            "patient_id": plan["patient_id"].to_numpy(),
            "screening_date": cal.format_dates(screening),
            "birth_date": cal.format_dates(birth),
            "sex": np.where(male, "M", "F"),
            "histology_confirmed": flags["histology_confirmed"],
            "ecog": ecog.astype(str),
            "childbearing_potential": np.where(childbearing, "Y", "N"),
            "pregnancy_test": np.where(childbearing, "negative", ""),
            "pregnancy_test_at": cal.format_datetimes(tested_at),
            "planned_start_at": cal.format_datetimes(planned),
            "consent_signed": consent,
            "brain_mets": brain,
            "prior_rt_to_sbrt_sites": flags["prior_rt_to_sbrt_sites"],
            "active_infection": flags["active_infection"],
            "pregnant_or_lactating": flags["pregnant_or_lactating"],
            "cardiac_ischemia": flags["cardiac_ischemia"],
            "pulmonary_disease_significant": flags["pulmonary_disease_significant"],
            "pft_dlco_pct": _fmt("%.0f", pfts[0]),
            "pft_fev1_pct": _fmt("%.0f", pfts[1]),
            "pft_fev1_fvc_pct": _fmt("%.0f", pfts[2]),
            # Every value is at or above predicted, or excludes outright: nothing for the
            # principal investigator to review, so the decision is empty, as the form leaves it.
            "pft_pi_approved": "",
            "wbc": wbc_text,
            "hgb": hgb_text,
            "ast": ast_text,
            "ast_uln": np.char.add(_fmt("%.0f", ast_uln), " U/L"),
            "alt": np.char.add(_fmt("%.0f", alt), " U/L"),
            "alt_uln": np.char.add(_fmt("%.0f", alt_uln), " U/L"),
            "bilirubin": bili_text,
            "creatinine": creat_text,
            "chronic_steroids": flags["chronic_steroids"],
            "weight": weight_text,
            "laboratory": np.array([x.name for x in lab], dtype=object),
            "screening_outcome": outcome,
            "outcome_reason": text,
            **_sister_fields(protocol, n, consent == "Y"),
        }
    )
    frame = frame[[c.name for c in TABLES["screening"].columns if c.name in frame.columns]]
    foci = _foci(plan, rng, pounds, protocol)
    return frame, foci, weight_kg
