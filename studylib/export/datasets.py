"""``export_datasets``: a trial folder's SDTM and ADaM datasets, as XPT and Dataset-JSON.

Every dataset is built (:mod:`.tabulations`, :mod:`.analysis_datasets`), then checked against
the metadata table (:mod:`.conform`): a value that does not fit stops the export with one
error listing every such value, before any file is written. Then each dataset is written as
``<name>.xpt`` (SAS transport version 5) and ``<name>.json`` (Dataset-JSON 1.1), and the
metadata table of the datasets written as ``metadata.csv`` (variables) and ``datasets.csv``
(datasets, with their record counts), all in one folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from studylib.batch.files import write_atomic
from studylib.errors import DataError
from studylib.export.conform import conform
from studylib.export.dataset_json import write_dataset_json
from studylib.export.metadata import dataset, dataset_table, metadata_table
from studylib.export.source import study_source
from studylib.export.xpt import write_xpt

__all__ = ["ExportResult", "build_datasets", "export_datasets"]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes
    ----------
    folder
        Where the files are.
    datasets
        Each dataset as written (conformed), by lower-case name.
    files
        Every file written, in order.
    left_out
        Datasets not written, by name, with the reason (a form the trial folder lacks).
    """

    folder: Path
    datasets: dict[str, pd.DataFrame]
    files: list[Path]
    left_out: dict[str, str] = field(default_factory=dict)


def build_datasets(cohort) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Every SDTM and ADaM dataset of a loaded trial folder, conformed, by lower-case name,
    and the datasets left out with the reason.

    Raises
    ------
    DataError
        Listing every value, in every dataset, that does not fit its variable.
    """
    from studylib.export import safety_datasets as safety
    from studylib.export.analysis_datasets import build_adam
    from studylib.export.tabulations import build_sdtm

    source = study_source(cohort)
    frames = build_sdtm(source)
    left_out = {}
    builders = {
        "adverse_events": ("ae", safety.adverse_events),
        "labs": ("lb", safety.laboratory),
        "vitals": ("vs", safety.vital_signs),
    }
    for form, (name, build) in builders.items():
        if source.has_form(form):
            frames[name] = build(source)
        else:
            left_out[name] = f"the trial folder has no {form}.csv"
    frames.update(build_adam(source, frames["dm"]))
    if "adtte" not in frames:
        left_out["adtte"] = "the trial folder has no followup.csv"
    if "ae" in frames:
        frames["adae"] = safety.adverse_event_analysis(source, frames["ae"], frames["adsl"])
    else:
        left_out["adae"] = left_out["ae"]
    conformed, problems = {}, []
    for name, frame in frames.items():
        try:
            conformed[name] = conform(frame, dataset(name))
        except DataError as error:
            problems += error.problems
    if problems:
        raise DataError(problems, context="the exported datasets")
    return conformed, left_out


def export_datasets(data, out, *, created: datetime | None = None) -> ExportResult:
    """Write a trial folder's SDTM and ADaM datasets as XPT v5 and Dataset-JSON 1.1.

    Parameters
    ----------
    data
        A trial folder, or a :class:`studylib.data.Cohort` already loaded. Everything
        trial-specific is read from its protocol (``cohort.protocol``).
    out
        The folder to write to (created when absent; files of the same names are replaced,
        and the files of a dataset left out, from an earlier export, are removed so that the
        folder never mixes two exports).
    created
        The creation time recorded in the Dataset-JSON files (default: now).

    Returns
    -------
    ExportResult

    Raises
    ------
    DataError
        When the folder's data are invalid (the loader's problems), or a value does not fit
        its variable (dataset, variable, value, subject); nothing is written then.
    """
    from studylib import __version__
    from studylib.data import load_cohort

    cohort = data if hasattr(data, "protocol") else load_cohort(data)
    frames, left_out = build_datasets(cohort)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    created = created or datetime.now(UTC).replace(microsecond=0)
    studyid = frames["dm"]["STUDYID"].iloc[0] if len(frames["dm"]) else ""
    options = {
        "study": studyid,
        "originator": str(cohort.protocol.trial.get("sponsor", "")),
        "system_version": __version__,
        "created": created,
        "metadata_ref": "metadata.csv",
    }
    files = []
    for name, frame in frames.items():
        meta = dataset(name)
        files.append(write_xpt(frame, meta, folder / f"{name}.xpt"))
        files.append(write_dataset_json(frame, meta, folder / f"{name}.json", **options))
    for name in left_out:
        for suffix in (".xpt", ".json"):
            (folder / f"{name}{suffix}").unlink(missing_ok=True)
    names = [n.upper() for n in frames]
    table = dataset_table(names).assign(records=[len(f) for f in frames.values()])
    for filename, content in (("metadata.csv", metadata_table(names)), ("datasets.csv", table)):
        write_atomic(folder / filename, content.to_csv(index=False))
        files.append(folder / filename)
    return ExportResult(folder=folder, datasets=frames, files=files, left_out=left_out)
