"""Criteria on test results: blood counts, liver and kidney tests, pulmonary function.

Laboratory values arrive in whatever unit the laboratory used and are compared in the unit of
the protocol's threshold (converted by :mod:`studylib.eligibility.values`); the reason shows
the converted value, the threshold and, when it differs, what the laboratory wrote
("WBC 2.9 x10^9/L (reported as 2,900/µL) is below 3.0 x10^9/L"). Comparisons are exactly as
printed in the registry ([eligibility].reading_comparisons).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.eligibility import text
from studylib.eligibility.registry import Evaluator, evaluator
from studylib.eligibility.values import LAB_FIELDS, PFT_FIELDS, lab_thresholds, lab_unit
from studylib.eligibility.verdicts import is_false, is_true, outcome, records, rowwise
from studylib.protocol import Criterion, Protocol
from studylib.wording import and_list

__all__ = [
    "wbc",
    "hemoglobin",
    "transaminases",
    "bilirubin",
    "creatinine",
    "pulmonary_function",
]


def _as_reported(field: str, reported: str | None, unit: str | None, compared_in: str) -> str:
    if reported is None or unit == compared_in:
        return ""
    return f" (reported as {reported})"


def _limit_rule(name: str, field: str, fails: str, called: str) -> Evaluator:
    """A criterion (rule ``name``) that fails when ``field`` is ``"below"`` or ``"above"``
    the protocol's limit for it (:func:`studylib.eligibility.values.lab_thresholds`)."""
    label = LAB_FIELDS[field].name
    compare = text.below if fails == "below" else text.above
    holds = "at least" if fails == "below" else "at most"

    @evaluator(name)
    def rule(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
        limit = lab_thresholds(protocol)[field]
        unit = lab_unit(field, protocol)
        bound = float(limit.to(unit).magnitude)
        shown_limit = text.threshold(limit)
        values = v[field]
        status = np.select([values.isna(), compare(values, bound)], ["missing", "fail"], "pass")

        def reason(s: str, x: float, reported: str | None, shown_unit: str | None) -> str:
            if s == "missing":
                return f"{label} is not recorded."
            reported_as = _as_reported(field, reported, shown_unit, unit)
            said = f"{label} {text.amount(x, unit, bound)}{reported_as}"
            return f"{said} is {fails if s == 'fail' else holds} {shown_limit}."

        ask = f"Enter the {called} of the screening labs with its unit ({field})."
        return outcome(
            v.index,
            status,
            rowwise(reason, status, values, v[f"{field}_reported"], v[f"{field}_unit"]),
            [ask if s == "missing" else "" for s in status],
        )

    rule.__doc__ = f"{label} {fails} the protocol's limit excludes (exactly at it passes)."
    return rule


wbc = _limit_rule("wbc", "wbc", "below", "white blood cell count")
hemoglobin = _limit_rule("hemoglobin", "hgb", "below", "haemoglobin")
bilirubin = _limit_rule("bilirubin", "bilirubin", "above", "total bilirubin")
creatinine = _limit_rule("creatinine", "creatinine", "above", "creatinine")

_ENZYMES = tuple((LAB_FIELDS[field].name, field) for field in ("ast", "alt"))


@evaluator("transaminases")
def transaminases(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """AST or ALT above ``transaminase_max_x_uln`` times its upper limit of normal excludes.

    Each is divided by the upper limit of normal (ULN) the laboratory gave with it; exactly
    the limit (3 x ULN in the bundled file) passes.
    """
    factor = float(protocol.eligibility.transaminase_max_x_uln)
    shown_factor = text.number(factor, decimal=False)
    ratios = {field: v[field] / v[f"{field}_uln"] for _, field in _ENZYMES}
    high = text.above(ratios["ast"], factor) | text.above(ratios["alt"], factor)
    known = pd.concat([v[f] for _, field in _ENZYMES for f in (field, f"{field}_uln")], axis=1)
    missing = known.isna().any(axis=1)
    status = np.select([high, missing], ["fail", "missing"], "pass")

    def describe(label: str, field: str, r: dict) -> str | None:
        value, uln = r[field], r[f"{field}_uln"]
        if np.isnan(value) or np.isnan(uln):
            return None
        unit = lab_unit(field, protocol)
        reported = _as_reported(field, r[f"{field}_reported"], r[f"{field}_unit"], unit)
        ratio = text.number(value / uln, factor)
        # Against the limit (factor x ULN), so that 120.1 U/L is not printed as 120 U/L
        # beside a ratio of 3.002.
        return (
            f"{label} {text.amount(value, unit, factor * uln)}{reported} is {ratio} x ULN"
            f" ({text.amount(uln, lab_unit(f'{field}_uln', protocol))})"
        )

    def reason(r: dict, s: str) -> str:
        parts = [describe(label, field, r) for label, field in _ENZYMES]
        said = "; ".join(p for p in parts if p)
        if s == "fail":
            return f"{said}: above {shown_factor} x the upper limit of normal."
        if s == "pass":
            return f"{said}: neither is above {shown_factor} x the upper limit of normal."
        absent = [
            LAB_FIELDS[f].name
            for _, field in _ENZYMES
            for f in (field, f"{field}_uln")
            if np.isnan(r[f])
        ]
        known_part = f" ({said})" if said else ""
        return f"Not recorded: {and_list(absent)}{known_part}."

    ask = (
        "Enter AST and ALT with the upper limit of normal the laboratory gives for each"
        " (ast, ast_uln, alt, alt_uln)."
    )
    columns = [
        f"{field}{suffix}" for _, field in _ENZYMES for suffix in ("", "_uln", "_reported", "_unit")
    ]
    return outcome(
        v.index,
        status,
        rowwise(reason, records(v, columns), status),
        [ask if s == "missing" else "" for s in status],
    )


_PFT_NAMES = dict(zip(PFT_FIELDS, ("DLCO", "FEV1", "FEV1/FVC"), strict=True))


@evaluator("pulmonary_function")
def pulmonary_function(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """DLCO, FEV1 or FEV1/FVC below ``pft_exclusion_below`` of predicted with clinically
    significant lung disease excludes.

    Registry (the bundled file's ``pulmonary_function`` criterion): "For any pulmonary function
    test values less than predicted values, the PI will review, and document the patient's
    suitability for high dose IL-2 therapy." Any value below ``pft_review_below`` otherwise
    (including below the exclusion limit without clinically significant lung disease) asks for
    the principal investigator's review, which ``pft_pi_approved`` records. A missing value
    keeps the criterion ``missing`` unless another value already excludes.
    """
    rules = protocol.eligibility
    excluding = float(rules.pft_exclusion_below.to("percent").magnitude)
    predicted = float(rules.pft_review_below.to("percent").magnitude)
    values = v[list(PFT_FIELDS)]
    very_low = pd.concat([text.below(values[f], excluding) for f in PFT_FIELDS], axis=1).any(axis=1)
    low = pd.concat([text.below(values[f], predicted) for f in PFT_FIELDS], axis=1).any(axis=1)
    disease = v["pulmonary_disease_significant"]
    absent = values.isna().any(axis=1)
    undecided = very_low & disease.isna()
    # The PI's documented decision closes the review the registry asks for.
    approved = v["pft_pi_approved"]
    reviewable = low & ~(very_low & is_true(disease)) & ~(absent | undecided)
    status = np.select(
        [
            very_low & is_true(disease),
            absent | undecided,
            reviewable & is_true(approved),
            reviewable & is_false(approved),
            low,
        ],
        ["fail", "missing", "pass", "fail", "review"],
        "pass",
    )
    shown_excluding = text.amount(excluding, "%", decimal=False)
    shown_predicted = text.amount(predicted, "%", decimal=False)

    def reason(r: dict, s: str) -> str:
        known = [(name, r[f]) for f, name in _PFT_NAMES.items() if not np.isnan(r[f])]
        listed = ", ".join(f"{n} {text.amount(x, '%', decimal=False)}" for n, x in known)
        listed = f"{listed} of predicted" if listed else ""

        def under(limit: float) -> str:
            return and_list(n for n, x in known if text.is_below(x, limit))

        decided = None if pd.isna(r["pft_pi_approved"]) else bool(r["pft_pi_approved"])
        if s == "fail" and decided is False:
            return (
                f"{listed}: {under(predicted)} below predicted; the principal investigator"
                " documented that the patient is not suitable for high-dose IL-2"
                " (pft_pi_approved: no)."
            )
        if s == "fail":
            return (
                f"{listed}: {under(excluding)} below {shown_excluding} of predicted, with"
                " clinically significant underlying lung disease."
            )
        if s == "pass" and decided is True and under(predicted):
            return (
                f"{listed}: {under(predicted)} below predicted; the principal investigator"
                " documented the patient's suitability for high-dose IL-2 (pft_pi_approved: yes)."
            )
        if s == "missing":
            lacking = [n for f, n in _PFT_NAMES.items() if np.isnan(r[f])]
            if lacking:
                shown = f" ({listed})" if listed else ""
                return f"Not recorded: {and_list(lacking)}{shown}."
            return (
                f"{listed}: {under(excluding)} below {shown_excluding}; whether the patient has"
                " clinically significant underlying lung disease is not recorded."
            )
        if s == "review" and under(excluding):
            return (
                f"{listed}: {under(predicted)} below predicted ({under(excluding)} below"
                f" {shown_excluding}, without clinically significant lung disease)."
            )
        if s == "review":
            return f"{listed}: {under(predicted)} below predicted ({shown_predicted})."
        return f"{listed}: none below predicted ({shown_predicted})."

    def resolve(r: dict, s: str) -> str:
        if s == "review":
            return (
                "The principal investigator reviews the pulmonary function tests and documents"
                " the patient's suitability for high-dose IL-2 (record it in pft_pi_approved)."
            )
        if s != "missing":
            return ""
        if any(np.isnan(r[f]) for f in PFT_FIELDS):
            return (
                "Enter DLCO, FEV1 and FEV1/FVC as percent of predicted (pft_dlco_pct,"
                " pft_fev1_pct, pft_fev1_fvc_pct)."
            )
        return (
            "Record whether the patient has clinically significant underlying lung disease"
            f" (pulmonary_disease_significant): with it, a value below {shown_excluding} of"
            " predicted excludes; without it, the principal investigator reviews."
        )

    rows = records(v, (*PFT_FIELDS, "pft_pi_approved"))
    return outcome(v.index, status, rowwise(reason, rows, status), rowwise(resolve, rows, status))
