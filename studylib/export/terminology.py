"""CDISC controlled terminology for the workbook's own codes, in one place.

The trial folder's vocabulary (``studylib.vocabulary``, the data dictionary) is mapped to the
submission values of the CDISC terminology each SDTM variable takes: LOC (``TULOC``), METHOD
(``TUMETHOD``/``TRMETHOD``), the tumour-identification and tumour-state results of the RECIST
1.1 supplement (``TUSTRESC``, ``TRSTRESC``), UNIT (``EXDOSU``, ``TRSTRESU``), ROUTE, FRM and
FREQ for exposure, NCOMPLT and the protocol milestones for disposition. Terms were checked
against the pharmaverse SDTM examples (pharmaversesdtm ``tu_onco_recist``, ``tr_onco``,
``rs_onco``).

>>> location("chest_wall"), location("adrenal"), location("lymph_node")
('CHEST WALL', 'ADRENAL GLAND', 'LYMPH NODE')
>>> response_value("PR"), response_value("MISSING")
(2, 7)
>>> ruleset_category("recist1.1")
'RECIST 1.1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "LOCATIONS",
    "NODAL_LOCATION",
    "METHODS",
    "ROLES",
    "STATES",
    "TOO_SMALL",
    "TREATMENTS",
    "Treatment",
    "EVALUATOR",
    "MILESTONE",
    "DISPOSITION_EVENT",
    "RESPONSE_VALUES",
    "Measurement",
    "LAB_TESTS",
    "VITAL_TESTS",
    "ACTIONS",
    "OUTCOMES",
    "location",
    "response_value",
    "ruleset_category",
    "unit_term",
]

#: Workbook sites (``lesions.csv`` site) whose CDISC LOC submission value is not simply the
#: site in capitals; any other site is written in capitals, ``_`` as a space.
LOCATIONS = {
    "adrenal": "ADRENAL GLAND",
    "chest_wall": "CHEST WALL",
    "lymph_node": "LYMPH NODE",
    "soft_tissue": "SOFT TISSUE",
    "long_bone": "BONE",
}
#: TULOC of every nodal lesion: RECIST 1.1 section 3.3.1 counts all lymph nodes as one organ,
#: and ``studylib.sdtm`` reads a lesion as nodal from this location.
NODAL_LOCATION = "LYMPH NODE"

#: Imaging method (``assessments.csv``) to METHOD submission value.
METHODS = {"CT": "CT SCAN", "MRI": "MRI", "PET": "PET SCAN"}
#: Lesion role to TUSTRESC / TRGRPID (RECIST 1.1 supplement).
ROLES = {"target": "TARGET", "non_target": "NON-TARGET", "new": "NEW"}
#: Lesion state to the TUMSTATE result (non-target and new lesions).
STATES = {
    "present": "PRESENT",
    "absent": "ABSENT",
    "unequivocal_progression": "UNEQUIVOCAL",
    "equivocal": "EQUIVOCAL",
    "unequivocal": "UNEQUIVOCAL",
}
#: TRORRES of a target lesion too small to measure (RECIST 1.1 appendix II).
TOO_SMALL = "TOO SMALL TO MEASURE"
#: DSCAT of the disposition events DS records (consent and randomisation are milestones).
MILESTONE = "PROTOCOL MILESTONE"
DISPOSITION_EVENT = "DISPOSITION EVENT"
#: Who assessed the images: the trial's investigators (no central review).
EVALUATOR = "INVESTIGATOR"


@dataclass(frozen=True)
class Treatment:
    """EX terms of one treatment of ``dosing.csv``: name, dose unit, dose form, route."""

    name: str
    unit: str
    form: str | None
    route: str | None


#: ``dosing.csv`` treatment to its EX terms. Aldesleukin (Proleukin) is a lyophilised powder
#: given intravenously (the registry: "600,000 IU per kilogram IV"); radiation has no dose
#: form or route in the terminology.
TREATMENTS = {
    "il2": Treatment(
        "ALDESLEUKIN", "IU", "INJECTION, POWDER, LYOPHILIZED, FOR SOLUTION", "INTRAVENOUS"
    ),
    "sbrt": Treatment("STEREOTACTIC BODY RADIATION THERAPY", "Gy", None, None),
}

#: ADRS AVAL of each response code: admiralonco's coding (CR 1 to MISSING 7), ND after it.
RESPONSE_VALUES = {
    "CR": 1,
    "PR": 2,
    "SD": 3,
    "NON-CR/NON-PD": 4,
    "PD": 5,
    "NE": 6,
    "MISSING": 7,
    "ND": 8,
}


def location(site: str) -> str:
    """The TULOC submission value of a workbook site name."""
    key = str(site).strip().lower()
    return LOCATIONS.get(key, key.replace("_", " ").upper())


def response_value(code: str) -> int:
    """ADRS AVAL of a response code.

    Raises
    ------
    KeyError
        For a code outside :data:`RESPONSE_VALUES`, naming it.
    """
    try:
        return RESPONSE_VALUES[code]
    except KeyError:
        raise KeyError(f"response {code!r} has no AVAL; known: {list(RESPONSE_VALUES)}") from None


def ruleset_category(name: str) -> str:
    """RSCAT / PARCAT3 of a ruleset of ``protocol.toml`` (``recist1.1`` is ``RECIST 1.1``)."""
    match = re.fullmatch(r"(i?recist)(\d+)\.(\d+)", name.strip().lower())
    if match:
        prefix = "iRECIST" if match.group(1) == "irecist" else "RECIST"
        return f"{prefix} {match.group(2)}.{match.group(3)}"
    return name.strip().upper()


@dataclass(frozen=True)
class Measurement:
    """A measurement of the safety forms as an SDTM findings test."""

    code: str
    name: str
    category: str
    unit: str  # the standard unit, in the unit registry's spelling
    unit_term: str  # the standard unit as CDISC UNIT spells it
    analyte: str | None = None


#: ``labs.csv`` test columns (as :func:`studylib.safety.grade_lab` names them) to LB tests,
#: with the standard (SI) unit of ``LBSTRESN``.
LAB_TESTS = {
    "creatinine": Measurement("CREAT", "Creatinine", "CHEMISTRY", "umol/L", "umol/L", "creatinine"),
    "bilirubin": Measurement("BILI", "Bilirubin", "CHEMISTRY", "umol/L", "umol/L", "bilirubin"),
    "ast": Measurement("AST", "Aspartate Aminotransferase", "CHEMISTRY", "U/L", "U/L"),
    "alt": Measurement("ALT", "Alanine Aminotransferase", "CHEMISTRY", "U/L", "U/L"),
    "albumin": Measurement("ALB", "Albumin", "CHEMISTRY", "g/L", "g/L"),
    "bicarbonate": Measurement("BICARB", "Bicarbonate", "CHEMISTRY", "mmol/L", "mmol/L"),
    "hemoglobin": Measurement("HGB", "Hemoglobin", "HEMATOLOGY", "g/L", "g/L"),
    "platelets": Measurement("PLAT", "Platelets", "HEMATOLOGY", "G_per_L", "10^9/L"),
    "wbc": Measurement("WBC", "Leukocytes", "HEMATOLOGY", "G_per_L", "10^9/L"),
    "neutrophils": Measurement("NEUT", "Neutrophils", "HEMATOLOGY", "G_per_L", "10^9/L"),
    "lymphocytes": Measurement("LYM", "Lymphocytes", "HEMATOLOGY", "G_per_L", "10^9/L"),
}
#: ``vitals.csv`` columns to VS tests (the yes/no events and durations of the label's criteria
#: are findings about the dose decision, not vital signs).
VITAL_TESTS = {
    "heart_rate": Measurement("HR", "Heart Rate", "VITAL SIGNS", "1/min", "beats/min"),
    "systolic_bp": Measurement("SYSBP", "Systolic Blood Pressure", "VITAL SIGNS", "mmHg", "mmHg"),
    "o2_saturation": Measurement("OXYSAT", "Oxygen Saturation", "VITAL SIGNS", "percent", "%"),
    "weight": Measurement("WEIGHT", "Weight", "VITAL SIGNS", "kg", "kg"),
    # no CDISC VS test: a sponsor-defined code, as the data dictionary maps it
    "urine_output_8h": Measurement("UROUT", "Urine Output over 8 Hours", "VITAL SIGNS", "mL", "mL"),
}
#: ``adverse_events.csv`` codes to AE terminology: action taken (ACN), outcome (OUT).
ACTIONS = {
    "drug_interrupted": "DRUG INTERRUPTED",
    "drug_withdrawn": "DRUG WITHDRAWN",
    "dose_reduced": "DOSE REDUCED",
    "dose_not_changed": "DOSE NOT CHANGED",
    "not_applicable": "NOT APPLICABLE",
    "unknown": "UNKNOWN",
}
OUTCOMES = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def unit_term(text: str) -> str:
    """A unit as written, in the ASCII CDISC UNIT spells (``µmol/L`` is ``umol/L``,
    ``x10^9/L`` and ``× 10⁹/L`` are ``10^9/L``); any other character is kept, for the export
    to refuse with its subject.

    >>> unit_term("µmol/L"), unit_term("x10^9/L"), unit_term("× 10⁹/L"), unit_term("mg/dL")
    ('umol/L', '10^9/L', '10^9/L', 'mg/dL')
    """
    out = text.strip().replace("µ", "u").replace("μ", "u")
    out = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS), out)
    return re.sub(r"^[x×]\s*(?=10)", "", out)
