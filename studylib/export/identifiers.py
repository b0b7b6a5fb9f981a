"""The study's identifiers in SDTM and ADaM, read from the protocol.

``STUDYID`` is the sponsor's protocol number (``[trial].org_study_id``), ``SITEID`` and
``COUNTRY`` come from ``[trial.cdisc]``, and every subject's ``USUBJID`` is
``STUDYID-patient_id``: unique across studies, as SDTMIG asks, while ``SUBJID`` keeps the
trial folder's patient id.

>>> from studylib.protocol import load_protocol
>>> ids = study_identifiers(load_protocol())
>>> ids.studyid, ids.siteid, ids.country, ids.usubjid("P001")
('11-062A', '01', 'USA', '11-062A-P001')
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib.errors import ProtocolError

__all__ = ["StudyIdentifiers", "study_identifiers"]


@dataclass(frozen=True)
class StudyIdentifiers:
    """STUDYID, SITEID and COUNTRY of one trial, and how its subjects are named."""

    studyid: str
    siteid: str
    country: str

    def usubjid(self, patient_id):
        """``STUDYID-patient_id`` of one id, or of a Series of them."""
        if isinstance(patient_id, pd.Series):
            return self.studyid + "-" + patient_id.astype(str)
        return f"{self.studyid}-{patient_id}"


def study_identifiers(protocol) -> StudyIdentifiers:
    """The identifiers of the trial a protocol describes.

    Raises
    ------
    ProtocolError
        When ``[trial].org_study_id`` or ``[trial.cdisc]`` (``site_id``, ``country``) is
        missing, naming the protocol file.
    """
    trial = protocol.trial
    cdisc = trial.get("cdisc", {})
    missing = [
        key
        for key, value in (
            ("[trial] org_study_id", trial.get("org_study_id")),
            ("[trial.cdisc] site_id", cdisc.get("site_id")),
            ("[trial.cdisc] country", cdisc.get("country")),
        )
        if not str(value or "").strip()
    ]
    if missing:
        raise ProtocolError(
            f"{protocol.path}: the CDISC export needs {', '.join(missing)} "
            "(see [trial.cdisc] in studylib/protocol.toml)"
        )
    return StudyIdentifiers(
        studyid=str(trial["org_study_id"]).strip(),
        siteid=str(cdisc["site_id"]).strip(),
        country=str(cdisc["country"]).strip(),
    )
