"""CDISC datasets out: SDTM and ADaM as SAS transport (XPT v5) and Dataset-JSON 1.1.

``studylib export --data DIR --out DIR`` (or :func:`export_datasets`) writes a trial folder's
SDTM domains (DM, DS, EX, PR, TU, TR, RS; AE, LB, VS from the safety forms) and ADaM datasets
(ADSL, ADRS, ADTR, ADTTE; ADAE), with one metadata table driving both formats. One module per
concept:

- :mod:`~studylib.export.metadata`: the metadata table (``datasets.csv``, ``variables.csv``).
- :mod:`~studylib.export.terminology`: CDISC controlled terminology for the workbook's codes.
- :mod:`~studylib.export.identifiers`: STUDYID, SITEID, COUNTRY, USUBJID from the protocol.
- :mod:`~studylib.export.visits`: each scan's visit from the protocol's timepoints.
- :mod:`~studylib.export.source`: what every builder reads, worked out once.
- :mod:`~studylib.export.tabulations`: the SDTM builders.
- :mod:`~studylib.export.analysis_datasets`: the ADaM builders (admiralonco's conventions).
- :mod:`~studylib.export.safety_datasets`: AE, LB, VS and ADAE from the safety forms.
- :mod:`~studylib.export.conform`: every value checked against its type and length.
- :mod:`~studylib.export.xpt`: the XPT v5 writer (pyreadstat) and reader.
- :mod:`~studylib.export.dataset_json`: the Dataset-JSON 1.1 writer and reader.
- :mod:`~studylib.export.dataset_json_check`: the Dataset-JSON 1.1 structural check.
- :mod:`~studylib.export.datasets`: the whole export in one call.
- :mod:`~studylib.export.command`: the ``studylib export`` command.
"""

from __future__ import annotations

from studylib._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "export_datasets": "studylib.export.datasets",
    "build_datasets": "studylib.export.datasets",
    "ExportResult": "studylib.export.datasets",
    "metadata_table": "studylib.export.metadata",
    "dataset_table": "studylib.export.metadata",
    "write_xpt": "studylib.export.xpt",
    "read_xpt": "studylib.export.xpt",
    "write_dataset_json": "studylib.export.dataset_json",
    "read_dataset_json": "studylib.export.dataset_json",
    "check_dataset_json": "studylib.export.dataset_json_check",
    "add_arguments": "studylib.export.command",
    "run": "studylib.export.command",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
