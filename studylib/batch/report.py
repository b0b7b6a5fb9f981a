"""What a batch run did (:class:`BatchReport`) and the summary ``studylib batch`` prints.

The summary is about the notebooks the run was asked for; what the run folder holds from
earlier runs, and what the loader reports about patients this run did not run, are one line
each, so that a data manager sees them without their changing the exit status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from studylib.batch.stopping import signal_name

__all__ = ["BatchReport", "summary", "EXIT_WRITE_ERROR"]

SHOWN_LINES = 6  # of an error message in the summary; the manifest keeps all of it
#: the exit status of a run stopped because its outputs could not be written
EXIT_WRITE_ERROR = 3


@dataclass
class BatchReport:
    """What a batch run did; ``exit_code`` is what the command returns."""

    run_dir: Path
    manifest: Path
    cohort_table: Path
    entries: dict = field(repr=False)
    ran: int
    skipped: int
    elapsed_s: float
    backend: str
    warm: bool
    not_enrolled: list[str] = field(default_factory=list)
    #: the (patient, notebook) pairs this run was asked for; the folder may hold others
    selection: frozenset = field(default_factory=frozenset, repr=False)
    #: the signal that stopped the run (SIGINT for Ctrl-C), if one did
    stop_signal: int | None = None
    #: why the run stopped writing (a full disk), if it did
    write_failure: str | None = None
    #: why manifest.json or cohort.csv could not be written at the end, if they could not
    records_error: str | None = None
    #: notebooks that ended but are missing from the manifest on disk (with records_error)
    unrecorded: list[str] = field(default_factory=list)
    #: when the manifest on disk was last written
    recorded_at: str | None = None
    #: the protocol file (``studylib.batch.plan.TrialProtocol``)
    protocol: object = None
    #: the loader's problems on rows of patients this run did not run
    data_problems: list = field(default_factory=list)
    #: what the loader noticed without refusing the data
    data_warnings: list = field(default_factory=list)
    #: a stale lock taken over, said so
    lock_note: str | None = None
    #: local workers that died and were replaced
    lost_workers: int = 0

    @property
    def interrupted(self) -> bool:
        return self.stop_signal is not None

    def _selected(self, wanted: bool) -> list[dict]:
        return [e for key, e in sorted(self.entries.items()) if (key in self.selection) == wanted]

    @property
    def problems(self) -> list[dict]:
        """This run's notebooks that did not end ``ok``, patient by patient."""
        return [e for e in self._selected(True) if e["status"] != "ok"]

    @property
    def earlier(self) -> list[dict]:
        """Entries of the run folder outside this run's selection (kept from earlier runs)."""
        return self._selected(False)

    @property
    def exit_code(self) -> int:
        if self.write_failure or self.records_error:
            return EXIT_WRITE_ERROR
        if self.stop_signal is not None:
            return 128 + self.stop_signal  # the shell's convention (130 for Ctrl-C)
        return 1 if self.problems else 0


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is inside it."""
    relative = os.path.relpath(Path(path).resolve())
    return relative if not relative.startswith("..") else str(Path(path).resolve())


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _listed(items: list[str], at_most: int = 8) -> str:
    return ", ".join(items[:at_most]) + (" ..." if len(items) > at_most else "")


def _message_lines(entry: dict) -> str:
    lines = ((entry.get("error") or {}).get("message") or "").strip().splitlines()
    if len(lines) > SHOWN_LINES:
        hidden = len(lines) - SHOWN_LINES
        lines = lines[:SHOWN_LINES] + [f"... {hidden} more in the manifest"]
    return "\n      ".join(lines)


def _problem_lines(problems: list[dict]) -> list[str]:
    """One line per patient and error: a bad record fails all of a patient's notebooks alike."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for entry in problems:
        key = (entry["patient_id"], entry["status"], _message_lines(entry))
        grouped.setdefault(key, []).append(entry["notebook"])
    return [
        f"  {status.upper()} {patient} {', '.join(notebooks)}: {message}"
        for (patient, status, message), notebooks in grouped.items()
    ]


def _loader_lines(label: str, found: list, what: str) -> list[str]:
    if not found:
        return []
    lines = [f"  {label} {len(found)} {what}:"]
    lines += [f"      - {p}" for p in found[:SHOWN_LINES]]
    if len(found) > SHOWN_LINES:
        lines.append(f"      ... {len(found) - SHOWN_LINES} more in the manifest (data_check)")
    return lines


def _backend(report: BatchReport) -> str:
    """Where the notebooks ran; on a cluster, how many of its workers ran them."""
    if not report.backend.startswith("Dask"):
        return report.backend
    ran_on = {
        e.get("worker")
        for key, e in report.entries.items()
        if key in report.selection and not e.get("reused") and e.get("worker")
    }
    return f"{report.backend} ({len(ran_on)} worker{'s' if len(ran_on) != 1 else ''} ran them)"


def _protocol_line(protocol) -> str:
    if protocol is None:
        return "Protocol:     unknown"
    where = _shown(Path(protocol.path))
    whose = ", the bundled one (the trial folder has none)" if protocol.bundled else ""
    return f"Protocol:     {where}{whose}, sha256 {protocol.sha256[:12]}"


def summary(report: BatchReport) -> str:
    """The end-of-run summary printed by ``studylib batch``, about the notebooks it was asked
    to run; entries of other patients kept in the run folder are mentioned in one line."""
    mode = "warm kernels" if report.warm else "a fresh kernel per notebook"
    plural = "s" if report.ran != 1 else ""
    if report.ran or report.interrupted or report.write_failure:
        head = (
            f"studylib batch: {report.ran} notebook{plural} run in"
            f" {_duration(report.elapsed_s)} on {_backend(report)}, {mode}"
        )
    else:
        head = f"studylib batch: nothing to run ({report.skipped} up to date; --force reruns them)"
    lines = [head]
    if report.lock_note:
        lines.append(f"  Note: {report.lock_note}")
    selected = [
        e for e in report.entries.values() if (e["patient_id"], e["notebook"]) in report.selection
    ]
    counts: dict[str, int] = {}
    for entry in selected:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    lines.append(
        "  "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + (
            f" ({report.skipped} of them skipped: inputs unchanged, already ok)"
            if report.skipped
            else ""
        )
    )
    if report.not_enrolled:
        lines.append(
            f"  {len(report.not_enrolled)} patient(s) not in randomization.csv ran the screening"
            f" notebook only: {_listed(report.not_enrolled)}"
        )
    retried = [e for e in selected if e.get("retried_after") and not e.get("reused")]
    for entry in retried:
        lines.append(
            f"  RETRIED {entry['patient_id']} {entry['notebook']}: its worker died"
            f" ({entry['retried_after']}); a new worker ran it again: {entry['status']}"
        )
    problems = [e for e in report.problems if e["status"] != "interrupted"]
    lines += _problem_lines(problems)
    # an earlier result kept because this run stopped before rerunning it is not this run's
    stopped = [e for e in report.problems if e["status"] == "interrupted"]
    stopped += [e for e in selected if e["status"] != "interrupted" and e.get("outdated")]
    if stopped:
        patients = list(dict.fromkeys(e["patient_id"] for e in stopped))
        lines.append(
            f"  NOT RUN {len(stopped)} notebook(s) of {len(patients)} patient(s), stopped"
            f" before they finished: {_listed(patients)}"
        )
    lines += _loader_lines(
        "DATA",
        report.data_problems,
        "problem(s) in rows of patients this run did not run (their notebooks fail until"
        " they are fixed; the exit status does not count them)",
    )
    lines += _loader_lines("WARNING", report.data_warnings, "warning(s) from the loader")
    earlier = report.earlier
    if earlier:
        not_ok = list(dict.fromkeys(e["patient_id"] for e in earlier if e["status"] != "ok"))
        outdated = [e for e in earlier if e.get("outdated")]
        details = []
        if not_ok:
            details.append(f"patients with a notebook not ok: {_listed(not_ok)}")
        if outdated:
            details.append(
                f"{len(outdated)} made from other data files, protocol, notebooks or"
                " studylib version"
            )
        lines.append(
            f"  The run folder also holds {len(earlier)} notebook(s) of earlier runs, not part"
            f" of this one{' (' + '; '.join(details) + ')' if details else ''}: they are in"
            " the cohort table; run without --patients/--notebooks to bring them up to date."
        )
    if report.write_failure:
        said = any((e.get("error") or {}).get("message") == report.write_failure for e in problems)
        why = " after the write error above" if said else f": {report.write_failure}"
        lines.append(
            f"STOPPED{why}. The notebooks that finished before are kept and recorded; free"
            " space (or fix the folder) and rerun the same command to resume."
        )
    elif report.interrupted:
        lines.append(
            f"Interrupted by {signal_name(report.stop_signal)}: rerun the same command to"
            " resume; the notebooks that finished are kept."
        )
    elif problems:
        lines.append(
            "Each failed notebook's .html shows where it stopped, the manifest the whole"
            " message. Fix the cause and rerun the same command: notebooks already ok with"
            " unchanged inputs are skipped."
        )
    if report.records_error:
        since = f" (written {report.recorded_at})" if report.recorded_at else ""
        missing = ""
        if report.unrecorded:
            missing = "; it does not list these notebooks, which ended since:"
            missing += f" {_listed(report.unrecorded)}"
        lines.append(
            f"RECORDS NOT UPDATED: {report.records_error}. The manifest on disk is the last one"
            f" written{since}{missing}. Free space and rerun the same command: what it does not"
            " list runs again."
        )
    lines += [
        f"Outputs:      {_shown(report.run_dir)}/<patient_id>/<notebook>.ipynb and .html",
        f"Cohort table: {_shown(report.cohort_table)}",
        f"Manifest:     {_shown(report.manifest)}",
        _protocol_line(report.protocol),
    ]
    return "\n".join(lines)
