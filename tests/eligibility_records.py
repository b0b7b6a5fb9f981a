"""Synthetic screening records for the eligibility tests (no real person's data)."""

from __future__ import annotations

import copy

_ELIGIBLE = {
    "patient_id": "X01",
    "screening_date": "2024-03-04",
    "birth_date": "1970-06-15",
    "sex": "F",
    "histology_confirmed": "Y",
    # Read only by the sister trial's criteria (NCT02306954): subtype and agreements.
    "histology_subtype": "clear_cell",
    "registry_agreed": "Y",
    "pregnancy_precautions_agreed": "Y",
    "ecog": 1,
    "childbearing_potential": "Y",
    "pregnancy_test": "negative",
    "pregnancy_test_at": "2024-03-16T09:00",
    "planned_start_at": "2024-03-18T08:00",
    "consent_signed": "Y",
    "sbrt_sites": [
        {"site": "lung", "longest_diameter": "2.5 cm"},
        {"site": "liver", "longest_diameter": "41 mm"},
    ],
    "brain_mets": "none",
    "prior_rt_to_sbrt_sites": "N",
    "active_infection": "N",
    "pregnant_or_lactating": "N",
    "cardiac_ischemia": "N",
    "pulmonary_disease_significant": "N",
    "pft_dlco_pct": 101,
    "pft_fev1_pct": 104,
    "pft_fev1_fvc_pct": 100,
    "wbc": "5.2 x10^9/L",
    "hgb": "13.1 g/dL",
    "ast": "30 U/L",
    "ast_uln": "40 U/L",
    "alt": "28 U/L",
    "alt_uln": "40 U/L",
    "bilirubin": "0.8 mg/dL",
    "creatinine": "0.9 mg/dL",
    "chronic_steroids": "N",
}


def eligible(**changes: object) -> dict[str, object]:
    """A woman of childbearing potential who meets every criterion, with ``changes``."""
    record = copy.deepcopy(_ELIGIBLE)
    record.update(changes)
    return record


def man(**changes: object) -> dict[str, object]:
    """An eligible man (no pregnancy test), with ``changes``."""
    record = eligible(
        sex="M",
        childbearing_potential="N",
        pregnancy_test=None,
        pregnancy_test_at=None,
        pregnant_or_lactating=None,
    )
    record.update(changes)
    return record
