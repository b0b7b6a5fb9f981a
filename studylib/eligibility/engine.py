"""Screening a candidate, or a whole cohort, against every criterion of the protocol.

:func:`screen_cohort` is the engine: it reads every record, judges every criterion the
protocol file lists (``[[eligibility.criteria]]``, in the file's order: the registry's) for all
patients at once, and returns one row per patient and criterion. :func:`screen` screens one
record (a dict or a pandas row) through the same engine and returns a
:class:`ScreeningResult` to read, show or record.

Every public function takes ``protocol=`` (default: the bundled file); the protocol is
resolved once here and handed to every evaluator. Each criterion's ``rule`` names its
evaluator (:mod:`studylib.eligibility.registry`); a rule no evaluator judges is a
:class:`~studylib.errors.ProtocolError` the first time the protocol screens anyone.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES

# The evaluators register themselves under their rule names when their modules are imported.
from studylib.eligibility import labs, rules, site_rules  # noqa: F401
from studylib.eligibility.foci import FOCUS_COLUMNS, judge_foci, read_foci
from studylib.eligibility.recorded import record_table
from studylib.eligibility.registry import evaluators_for
from studylib.eligibility.site_rules import summarise_foci
from studylib.eligibility.values import FILE, Problems, column, is_blank, read_records
from studylib.eligibility.verdicts import explain, overall_status
from studylib.errors import DataError, Problem, quote_value
from studylib.protocol import Protocol, resolve_protocol

__all__ = [
    "CriterionResult",
    "ScreeningResult",
    "screen",
    "screen_patient",
    "screen_cohort",
    "RESULT_COLUMNS",
]

#: Columns of :func:`screen_cohort`'s result, one row per patient and criterion.
RESULT_COLUMNS = [
    "patient_id",
    "id",
    "kind",
    "label",
    "status",
    "reason",
    "resolve",
    "quote",
    "overall_status",
]


@dataclass(frozen=True)
class CriterionResult:
    """One criterion judged for one patient."""

    id: str
    kind: str
    label: str
    status: str
    reason: str
    resolve: str
    quote: str


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """A patient's screening: the verdict, every criterion, and the SBRT foci proposed.

    Attributes
    ----------
    patient_id
        As given in the record (empty when it had none).
    status
        ``eligible``, ``ineligible``, ``needs_review`` or ``incomplete``.
    criteria
        Every criterion of the protocol file, in its order (the registry's).
    explanation
        One sentence saying why.
    foci
        Every focus recorded, judged (``amenable``, ``within_size_limit``, ``proposed``,
        ``note``).
    data
        Every field of the record: ``field``, ``meaning``, ``entered`` (as written) and
        ``read_as`` (what the criteria compared, in the threshold's unit, or ``missing``).
    protocol
        The protocol the record was screened under.
    """

    patient_id: str
    status: str
    criteria: list[CriterionResult]
    explanation: str
    foci: pd.DataFrame = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    protocol: Protocol = field(repr=False)

    @property
    def proposed_sites(self) -> list[dict[str, object]]:
        """The foci proposed for SBRT (largest first): ``site_id``, ``site``, size in cm."""
        chosen = self.foci[self.foci["proposed"]].sort_values(
            "longest_diameter_cm", ascending=False, kind="stable"
        )
        return [
            {"site_id": i, "site": s, "longest_diameter_cm": round(float(c), 3)}
            for i, s, c in zip(
                chosen["site_id"], chosen["site"], chosen["longest_diameter_cm"], strict=True
            )
        ]

    def _ids(self, status: str) -> list[str]:
        return [c.id for c in self.criteria if c.status == status]

    @property
    def failed(self) -> list[str]:
        """Ids of the criteria that fail."""
        return self._ids("fail")

    @property
    def missing(self) -> list[str]:
        """Ids of the criteria that lack data."""
        return self._ids("missing")

    @property
    def review(self) -> list[str]:
        """Ids of the criteria that a person must review."""
        return self._ids("review")

    def criterion(self, criterion_id: str) -> CriterionResult:
        """The result of one criterion, by its id in the protocol file.

        Code that must work under any protocol file names criteria by rule
        (:meth:`for_rule`); ids are for people, who read them in the file.
        """
        for item in self.criteria:
            if item.id == criterion_id:
                return item
        ids = ", ".join(c.id for c in self.criteria)
        raise KeyError(f"no criterion {criterion_id!r} in {self.protocol.name}; its ids are {ids}")

    def for_rule(self, rule: str) -> CriterionResult:
        """The result of the criterion judged by ``rule`` (``"wbc"``), whatever its id in the
        protocol file: how code refers to a criterion without naming a file's id.

        Raises
        ------
        KeyError
            When the protocol has no criterion with this rule, or more than one.
        """
        ids = [c.id for c in self.protocol.eligibility.criteria if c.rule == rule]
        if len(ids) != 1:
            rules = ", ".join(dict.fromkeys(c.rule for c in self.protocol.eligibility.criteria))
            has = "no criterion" if not ids else f"{len(ids)} criteria ({', '.join(ids)})"
            raise KeyError(f"{self.protocol.name} has {has} of rule {rule!r}; its rules: {rules}")
        return self.criterion(ids[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: id, kind, label, status, reason, resolve, quote."""
        return pd.DataFrame(
            [vars(c) for c in self.criteria], columns=list(CriterionResult.__dataclass_fields__)
        )

    def to_do(self) -> pd.DataFrame:
        """What would resolve each ``review`` or ``missing`` criterion."""
        frame = self.to_frame()
        open_items = frame[frame["status"].isin(["missing", "review"])]
        return open_items[["id", "label", "status", "resolve"]].reset_index(drop=True)

    def __str__(self) -> str:
        return f"{self.patient_id or 'patient'}: {self.status}. {self.explanation}"


def _foci_rows(value: object, patient_id: str) -> list[dict[str, object]]:
    """The foci of one record given as a list of dicts (or a DataFrame); [] when empty."""
    if isinstance(value, pd.DataFrame):
        return [{**row, "patient_id": patient_id} for row in value.to_dict("records")]
    if not isinstance(value, list | tuple) and is_blank(value):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(x, Mapping) for x in value):
        raise ValueError(value)
    return [{**x, "patient_id": patient_id} for x in value]


def _foci_of_lists(lists: pd.Series, ids: pd.Series, problems: Problems) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for position, (pid, value) in enumerate(zip(ids, lists, strict=True)):
        try:
            rows.extend(_foci_rows(value, pid))
        except ValueError:
            expected = "a list of foci such as [{'site': 'lung', 'longest_diameter': '2.5 cm'}]"
            problems.add(position, "sbrt_sites", value, expected, 999)
    return pd.DataFrame(rows, columns=None if rows else ["patient_id", "site", "longest_diameter"])


def _judge(
    frame: pd.DataFrame, foci: pd.DataFrame | None, context: str, one: bool, protocol: Protocol
):
    """Read, check and judge; returns the long result, the judged foci (with ``_row``) and
    the typed records.

    Without a ``foci`` table, the foci come from the records' ``sbrt_sites`` lists.
    """
    # The protocol is checked before the records: a rule without evaluator is its file's fault.
    evaluated = evaluators_for(protocol)
    frame = frame.reset_index(drop=True)
    ids = frame["patient_id"] if "patient_id" in frame.columns else pd.Series([""] * len(frame))
    ids = pd.Series(["" if is_blank(x) else str(x).strip() for x in ids])
    problems = Problems(ids, by_patient=not one)
    if not one:
        for position in np.flatnonzero(ids.eq("").to_numpy()):
            problems.add(int(position), "patient_id", None, "a patient id", -1)
        for position in np.flatnonzero((ids.duplicated() & ids.ne("")).to_numpy()):
            problems.add(int(position), "patient_id", ids[position], "each patient once", -1)
    values = read_records(frame, problems, protocol)
    values["patient_id"] = ids
    rows = {pid: position for position, pid in enumerate(ids)}
    if foci is None:
        foci = _foci_of_lists(column(frame, "sbrt_sites"), ids, problems)
    typed = read_foci(foci, problems, rows, protocol)
    problems.raise_any(context)
    judged = judge_foci(typed, protocol).assign(_row=typed["patient_id"].map(rows))
    values = values.join(summarise_foci(judged, len(values)))
    criteria = [criterion for criterion, _ in evaluated]
    judged_by_criterion = pd.concat(
        [judge(values, criterion, protocol) for criterion, judge in evaluated], ignore_index=True
    )
    # Rows come criterion by criterion; reorder them patient by patient.
    patients, count = len(values), len(criteria)
    order = (np.arange(patients)[:, None] + np.arange(count)[None, :] * patients).ravel()
    long = judged_by_criterion.iloc[order].reset_index(drop=True)
    long["patient_id"] = np.repeat(ids.to_numpy(dtype=object), count)
    for name in ("id", "kind", "label", "quote"):
        long[name] = np.tile(np.array([getattr(c, name) for c in criteria], dtype=object), patients)
    row = np.repeat(np.arange(patients), count)
    overall = overall_status(long["status"], pd.Series(row))
    long["overall_status"] = overall.to_numpy()[row]
    return long[RESULT_COLUMNS].reset_index(drop=True), judged, values


def screen_cohort(
    frame: pd.DataFrame,
    sbrt_sites: pd.DataFrame | None = None,
    *,
    protocol: Protocol | None = None,
) -> pd.DataFrame:
    """Screen every patient of a cohort against every criterion of the protocol.

    Parameters
    ----------
    frame
        One screening record per row (``data/screening.csv``, or
        ``load_cohort(...).screening``), with a unique ``patient_id``.
    sbrt_sites
        The foci considered for SBRT: ``patient_id``, ``site``, ``longest_diameter``
        (``data/sbrt_sites.csv``). Without it, a ``sbrt_sites`` column of lists in ``frame``
        is used; a patient with no focus has the ``sbrt_foci`` and ``no_amenable_site``
        criteria ``missing``.
    protocol
        The protocol whose criteria and thresholds apply (a cohort's ``cohort.protocol``);
        default: the bundled file.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`: one row per patient and criterion, patients in the order given
        and criteria in the protocol file's order; ``overall_status`` repeats the patient's
        status.

    Raises
    ------
    studylib.errors.ProtocolError
        When a criterion of the protocol names a rule no evaluator judges.
    studylib.errors.DataError
        Listing every value of every record that cannot be read (field, value, patient).
    """
    protocol = resolve_protocol(protocol)
    long, _, _ = _judge(frame, sbrt_sites, "the screening records", one=False, protocol=protocol)
    return long


def screen(
    record: Mapping[str, object] | pd.Series, *, protocol: Protocol | None = None
) -> ScreeningResult:
    """Screen one candidate against every eligibility criterion of the protocol.

    Parameters
    ----------
    record
        A dict with the fields of a screening record (the DESIGN's "Screening record"), or one
        row of the screening table. ``sbrt_sites`` is a list of ``{"site": ...,
        "longest_diameter": ...}``; missing fields are missing values.
    protocol
        The protocol whose criteria and thresholds apply; default: the bundled file.

    Returns
    -------
    ScreeningResult

    Raises
    ------
    studylib.errors.ProtocolError
        When a criterion of the protocol names a rule no evaluator judges.
    studylib.errors.DataError
        (a ``ValueError``) naming every field whose value cannot be read.
    """
    protocol = resolve_protocol(protocol)
    fields = _record_fields(record)
    patient_id = "" if is_blank(fields.get("patient_id")) else str(fields["patient_id"]).strip()
    context = f"the screening record of {patient_id}" if patient_id else "the screening record"
    foci = fields.pop("sbrt_sites", None)
    frame = pd.DataFrame([fields], dtype=object)
    frame["sbrt_sites"] = pd.Series([foci], dtype=object)
    long, judged, values = _judge(frame, None, context, one=True, protocol=protocol)
    criteria = [
        CriterionResult(**{k: row[k] for k in CriterionResult.__dataclass_fields__})
        for row in long.to_dict("records")
    ]
    status = long["overall_status"].iloc[0]
    return ScreeningResult(
        patient_id=patient_id,
        status=status,
        criteria=criteria,
        explanation=explain(status, long),
        foci=judged[FOCUS_COLUMNS].reset_index(drop=True),
        data=record_table(fields, values.iloc[0], protocol),
        protocol=protocol,
    )


#: The keys of a screening record: the data dictionary's columns and the record's SBRT foci.
_RECORD_KEYS = tuple(c.name for c in TABLES["screening"].columns) + ("sbrt_sites",)


def _record_fields(record: object) -> dict[str, object]:
    """The record's fields; not a record, or a key that is a misspelt field, is refused.

    A key close to a field (``hbg`` for ``hgb``) would otherwise leave the field missing
    without a word; other keys (a site's own notes) are kept and not judged.
    """
    if not isinstance(record, Mapping | pd.Series):
        raise DataError(
            [
                Problem(
                    FILE,
                    None,
                    None,
                    None,
                    "a screening record (a dict of its fields: patient_id, screening_date, ...;"
                    f" or one row of screening.csv), not {quote_value(record)}",
                )
            ],
            context="screen()",
        )
    fields = dict(record.items())
    whose = None if is_blank(fields.get("patient_id")) else str(fields["patient_id"])
    problems = []
    for key in fields:
        if key in _RECORD_KEYS or not isinstance(key, str):
            continue
        close = difflib.get_close_matches(key.lower(), _RECORD_KEYS, n=1, cutoff=0.8)
        close += [name for name in _RECORD_KEYS if sorted(name) == sorted(key.lower())]
        if close:
            problems.append(
                Problem(
                    FILE,
                    None,
                    key,
                    None,
                    f"a field of the screening record (data/README.md): did you mean {close[0]!r}?",
                    patient_id=whose,
                )
            )
    if problems:
        raise DataError(problems, context="the screening record")
    return fields


def screen_patient(cohort, patient_id: str, *, protocol: Protocol | None = None) -> ScreeningResult:
    """Screen one patient of a loaded trial folder (:func:`studylib.data.load_cohort`).

    The patient's row of ``screening`` and their foci in ``sbrt_sites`` make the record.

    Parameters
    ----------
    protocol
        The protocol to screen under; default: the cohort's own (``cohort.protocol``: its
        folder's ``protocol.toml``, else the bundled file), as the data were checked against
        it.

    Raises
    ------
    KeyError
        When the patient is not in the screening table (naming the ids that exist).
    """
    protocol = resolve_protocol(cohort.protocol if protocol is None else protocol)
    tables = cohort.patient(patient_id)
    record = tables["screening"].iloc[0].to_dict()
    record["sbrt_sites"] = tables["sbrt_sites"].drop(columns="patient_id").to_dict("records")
    return screen(record, protocol=protocol)
