"""Batch planning and records without kernels: what runs, what is refused, what is written."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from batch_support import PROBES, TINY

from studylib.batch import files
from studylib.batch.manifest import cohort_rows, is_up_to_date
from studylib.batch.plan import (
    BatchError,
    Task,
    check_timeout,
    data_file_hashes,
    default_run_name,
    discover_notebooks,
    fingerprint,
)
from studylib.batch.runner import BatchReport, run_batch, summary
from studylib.cli import main
from studylib.record import record


def _task(tmp_path: Path, **changes) -> Task:
    notebook = discover_notebooks([PROBES[0]])[0]
    parameters = {"patient_id": "T001", "data_dir": str(TINY)}
    inputs = {
        "notebook": notebook,
        "parameters": parameters,
        "data_hashes": data_file_hashes(TINY),
        "package": {"version": "1.0"},
        "kernel": "python3",
    }
    inputs.update(changes)
    return Task("T001", "probe", PROBES[0], parameters, str(tmp_path), fingerprint(**inputs))


def test_a_changed_input_makes_a_notebook_out_of_date(tmp_path):
    """Data, protocol, notebook, parameters or package version changes invalidate an ok
    output."""
    task = _task(tmp_path)
    task.output.parent.mkdir(parents=True)
    task.output.write_text("{}")
    task.html.write_text("<html/>")
    entry = {"status": "ok", "fingerprint": task.fingerprint}
    assert is_up_to_date(task, entry)
    hashes = {**data_file_hashes(TINY), "dosing.csv": "0" * 64}
    changed = [
        _task(tmp_path, data_hashes=hashes),
        _task(tmp_path, protocol_sha256="0" * 64),
        _task(tmp_path, package={"version": "1.1"}),
        _task(tmp_path, parameters={"patient_id": "T001", "data_dir": "/elsewhere"}),
    ]
    assert not any(is_up_to_date(t, entry) for t in changed)
    assert not is_up_to_date(task, {**entry, "status": "failed"})
    task.html.unlink()
    assert not is_up_to_date(task, entry)


@pytest.mark.parametrize("bad", ["../T001", "T001/../../x", "/etc", "T 001", "..", "T001\n"])
def test_path_traversal_id_is_refused_before_anything_runs(tmp_path, capsys, bad):
    """An id that could name a path is refused with exit status 2 and nothing written."""
    out = tmp_path / "outputs"
    status = main(["batch", "--data", str(TINY), "--out", str(out), "--patients", bad])
    assert status == 2
    assert "refused patient id" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_patient_is_refused(tmp_path, capsys):
    """An id that is not in screening.csv is refused, naming the file and example ids."""
    out = tmp_path / "outputs"
    status = main(["batch", "--data", str(TINY), "--out", str(out), "--patients", "T001", "P999"])
    error = capsys.readouterr().err
    assert status == 2
    assert "unknown patient 'P999'" in error and "screening.csv" in error and "T001" in error
    assert not out.exists()
    assert main(["batch", "--data", str(TINY), "--out", str(out), "--patients", "t002"]) == 2
    assert "did you mean T002?" in capsys.readouterr().err


def test_a_scheduler_that_cannot_be_reached_leaves_nothing_on_disk(tmp_path, monkeypatch):
    """The workers (or cluster) are set up before the run folder is written."""
    import studylib.batch.runner as runner

    def unreachable(workers, scheduler):
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler}")

    monkeypatch.setattr(runner, "make_backend", unreachable)
    with pytest.raises(BatchError, match="cannot reach"):
        run_batch(TINY, notebooks=PROBES[:1], out=tmp_path / "out", scheduler="tcp://nowhere:1")
    assert not (tmp_path / "out").exists()


def _report(run_dir: Path, entries: dict, **details) -> BatchReport:
    """A report of a run of every entry, as the runner makes it."""
    return BatchReport(
        run_dir=run_dir,
        manifest=run_dir / "manifest.json",
        cohort_table=run_dir / "cohort.csv",
        entries=entries,
        skipped=0,
        elapsed_s=5.0,
        backend="2 local workers",
        warm=False,
        selection=frozenset(entries),
        **details,
    )


def _entry(patient, notebook, status, message=None):
    error = {"message": message} if message else None
    return {"patient_id": patient, "notebook": notebook, "status": status, "error": error}


def test_summary_groups_a_patients_failures_and_counts_what_did_not_run(tmp_path):
    """One line per patient and message; notebooks stopped by Ctrl-C in one line, not each."""
    bad = "DataError: 1 problem:\n  - screening.csv, line 12, column 'ecog': '7': 0 to 4"
    entries = {
        ("P010", "01_screening"): _entry("P010", "01_screening", "failed", bad),
        ("P010", "02_scheduling"): _entry("P010", "02_scheduling", "failed", bad),
        ("P011", "01_screening"): _entry("P011", "01_screening", "ok"),
    }
    entries.update(
        {
            (f"P0{n}", "01_screening"): _entry(f"P0{n}", "01_screening", "interrupted", "stop")
            for n in range(20, 40)
        }
    )
    report = _report(tmp_path, entries, ran=3, stop_signal=signal.SIGINT)
    lines = summary(report).splitlines()
    assert lines[0].startswith("studylib batch: 3 notebooks run in 5 s")
    assert lines[1] == "  2 failed, 20 interrupted, 1 ok"
    assert lines[2] == f"  FAILED P010 01_screening, 02_scheduling: {bad.splitlines()[0]}"
    assert lines[3].strip() == "- screening.csv, line 12, column 'ecog': '7': 0 to 4"
    stopped = [line for line in lines if "NOT RUN" in line]
    assert stopped == [
        "  NOT RUN 20 notebook(s) of 20 patient(s), stopped before they finished:"
        " P020, P021, P022, P023, P024, P025, P026, P027 ..."
    ]
    assert report.exit_code == 130


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({1: 8}, "keys must be strings"),
        ([{"cycle": {2: 1}}], "keys must be strings"),
        (float("nan"), "finite"),
        (__import__("datetime").date(2024, 1, 1), "JSON-native"),
    ],
)
def test_record_refuses_values_that_would_not_come_back_the_same(value, problem):
    """record() refuses what JSON would change or cannot store, saying what to do instead."""
    with pytest.raises(ValueError, match=problem):
        record("value", value)


def test_notebook_without_patient_parameters_is_refused(tmp_path):
    """A notebook whose parameters cell lacks patient_id/data_dir cannot be batched."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('title: str = "cohort"')
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    path = tmp_path / "cohort_view.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(BatchError, match="not a per-patient notebook"):
        run_batch(TINY, notebooks=[str(path)], out=tmp_path / "outputs")


def test_atomic_write_leaves_no_partial_file_when_it_fails(tmp_path, monkeypatch):
    """A write that fails (or is interrupted) leaves neither the file nor a temporary."""
    target = tmp_path / "P001" / "report.html"

    def failing_replace(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(target, "<html>complete</html>")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    monkeypatch.undo()
    files.write_atomic(target, "<html>complete</html>")
    assert target.read_text() == "<html>complete</html>"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "ten", ""])
def test_a_bad_timeout_is_refused_before_anything_runs(tmp_path, capsys, value):
    """--timeout takes a finite number of seconds above 0; anything else is exit 2, no output."""
    out = tmp_path / "outputs"
    with pytest.raises(SystemExit) as stopped:
        main(["batch", "--data", str(TINY), "--out", str(out), f"--timeout={value}"])
    assert stopped.value.code == 2
    assert "expected a number of seconds above 0" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(BatchError, match="number of seconds"):
        run_batch(TINY, out=out, timeout_s=value)
    assert not out.exists()


def test_a_timeout_takes_fractions_of_a_second():
    """2.5 s is a limit (nbclient's own per-cell limit takes whole seconds only)."""
    assert check_timeout("2.5") == 2.5
    assert check_timeout(600) == 600.0
    assert check_timeout(None) is None


def test_default_run_folders_of_two_data_folders_never_collide(tmp_path):
    """Two folders both called 'data' get two run folders, each named after its folder."""
    first, second = tmp_path / "x1" / "data", tmp_path / "x2" / "data"
    assert default_run_name(first) != default_run_name(second)
    assert default_run_name(first).startswith("data-")
    assert default_run_name(first) == default_run_name(tmp_path / "x1" / ".." / "x1" / "data")


def test_a_run_folder_of_another_data_folder_is_refused(tmp_path, capsys):
    """--run naming a folder that holds another data folder's run is exit 2, nothing run."""
    out = tmp_path / "outputs"
    run = out / "night"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(
        '{"parameters": {"data": "/somewhere/else/data"}, "notebooks": []}'
    )
    status = main(["batch", "--data", str(TINY), "--out", str(out), "--run", "night"])
    error = capsys.readouterr().err
    assert status == 2
    assert "holds the run of the trial folder /somewhere/else/data" in error
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json"]  # no lock left


def test_notebook_discovery_picks_up_a_new_per_patient_notebook(tmp_path):
    """A notebook added to the folder (such as 05_safety) runs without a change to the batch:
    per patient when its parameters cell declares patient_id and data_dir, for enrolled
    patients unless its metadata says otherwise."""
    import nbformat

    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, source in (("05_safety", 'patient_id: str = "P001"\ndata_dir: str = "data"'),
                         ("06_cohort", 'data_dir: str = "data"')):  # fmt: skip
        notebook = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["parameters"]
        notebook.cells = [cell]
        nbformat.write(notebook, folder / f"{name}.ipynb")
    found = discover_notebooks(folder=folder)
    assert [(nb.name, nb.population) for nb in found] == [("05_safety", "enrolled")]


def test_the_cohort_table_lists_data_problems_of_patients_without_results():
    """A patient the loader reports has a row, with the problem, even with no notebook run."""
    entries = {("T001", "probe"): {"status": "ok", "recorded": {"ecog": 0}, "error": None}}
    for key, entry in entries.items():
        entry.update(patient_id=key[0], notebook=key[1])
    notes = {"T003": ["problem: dosing.csv, line 5: a patient listed in randomization.csv"]}
    columns, rows = cohort_rows(entries, ["T001", "T002", "T003"], ["probe"], notes)
    assert columns[-2:] == ["run_problems", "data_problems"]
    assert [r["patient_id"] for r in rows] == ["T001", "T003"]
    assert rows[1]["data_problems"] == notes["T003"][0]
    assert rows[0]["data_problems"] == ""


def test_an_earlier_result_kept_by_a_stopped_run_counts_as_not_run(tmp_path):
    """Stopped before rerunning a notebook whose inputs changed, the run keeps its earlier
    result (the files still match it) but marks it outdated and counts it as not run."""
    entries = {
        ("P001", "01_screening"): {**_entry("P001", "01_screening", "ok"), "outdated": True},
        ("P002", "01_screening"): _entry("P002", "01_screening", "ok"),
    }
    report = _report(tmp_path, entries, ran=1, stop_signal=signal.SIGTERM)
    text = summary(report)
    assert "NOT RUN 1 notebook(s) of 1 patient(s), stopped before they finished: P001" in text
    assert "Interrupted by SIGTERM" in text and report.exit_code == 143


def test_one_run_at_a_time_per_run_folder(tmp_path):
    """A second lock on a run folder is refused naming the holder; once released it is free;
    a file left by a run that died is taken over, and said so."""
    import json
    import os

    from studylib.batch.lock import LOCK_FILE, RunLock

    run_dir = tmp_path / "outputs" / "night"
    first = RunLock(run_dir)
    first.acquire()
    with pytest.raises(BatchError, match=f"another studylib batch is running .*pid {os.getpid()}"):
        RunLock(run_dir).acquire()
    first.release()
    assert not (run_dir / LOCK_FILE).exists()
    (run_dir / LOCK_FILE).write_text(json.dumps({"pid": 4242, "host": "ward-pc"}))
    with RunLock(run_dir) as again:
        assert again.took_over == (
            "took over the lock left by a run that is no longer running (pid 4242 on ward-pc,"
            " started ?)"
        )
        assert json.loads((run_dir / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (run_dir / LOCK_FILE).exists()
