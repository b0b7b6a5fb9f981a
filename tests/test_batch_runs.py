"""Batch runs of per-patient notebooks: outputs, records, failures, resume, warm kernels, Dask."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest
from batch_support import (
    NOTEBOOKS,
    PROBES,
    REPO,
    copy_trial,
    read_entries,
    read_manifest,
    temporary_files,
)

from studylib.batch.plan import default_run_name
from studylib.batch.runner import run_batch, summary
from studylib.cli import main
from studylib.record import collect

STATE = [str(NOTEBOOKS / "state_setter.ipynb"), str(NOTEBOOKS / "state_checker.ipynb")]


def _merged_streams(outputs: list) -> list:
    # a kernel sends printed text in chunks as time passes; a reader sees them joined
    merged: list = []
    for output in outputs:
        if output["output_type"] == "stream":
            output = {**output, "text": "".join(output["text"])}
            previous = merged[-1] if merged else {}
            if previous.get("output_type") == "stream" and previous["name"] == output["name"]:
                merged[-1] = {**previous, "text": previous["text"] + output["text"]}
                continue
        merged.append(output)
    return merged


def _outputs(notebook: Path) -> list:
    """A notebook's cells and outputs, without timings, memory addresses or stream chunks."""
    text = re.sub(r"0x[0-9a-f]+", "0xADDRESS", notebook.read_text())
    cells = json.loads(text)["cells"]
    return [
        (
            c["cell_type"],
            c["source"],
            c.get("execution_count"),
            _merged_streams(c.get("outputs", [])),
        )
        for c in cells
    ]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The two probe notebooks for the tiny trial's three patients (T003 is not enrolled)."""
    tmp = tmp_path_factory.mktemp("small")
    data = copy_trial(tmp)
    report = run_batch(data, notebooks=PROBES, out=tmp / "outputs", workers=2, progress=False)
    return report, data


@pytest.mark.slow
def test_small_batch_writes_every_output_table_and_manifest(small_run):
    """Each applicable notebook has its .ipynb and .html; the cohort table has one row each."""
    report, _ = small_run
    run_dir = report.run_dir
    assert report.exit_code == 0 and report.ran == 5
    for patient in ("T001", "T002", "T003"):
        assert (run_dir / patient / "probe_screening.ipynb").is_file()
        assert (run_dir / patient / "probe_screening.html").is_file()
    # T003 was screened but not randomised: the enrolled-only notebook does not apply
    assert not (run_dir / "T003" / "probe_enrolled.ipynb").exists()
    table = (run_dir / "cohort.csv").read_text().splitlines()
    assert table[0] == (
        "patient_id,probe_screening.run_status,probe_screening.outcome,probe_screening.ecog,"
        "probe_enrolled.run_status,probe_enrolled.arm,run_problems,data_problems"
    )
    assert table[1:] == [
        "T001,ok,enrolled,0,ok,B,,",
        "T002,ok,enrolled,1,ok,A,,",
        "T003,ok,screen_failure,2,,,,",
    ]
    assert not temporary_files(run_dir)


@pytest.mark.slow
def test_manifest_records_inputs_versions_times_and_statuses(small_run):
    """The manifest has the sha256 of every data file and notebook, the version and times."""
    report, data = small_run
    manifest = read_manifest(report.run_dir)
    for table in data.glob("*.csv"):
        expected = hashlib.sha256(table.read_bytes()).hexdigest()
        assert manifest["inputs"]["data_sha256"][table.name] == expected
    probe = NOTEBOOKS / "probe_screening.ipynb"
    assert manifest["inputs"]["notebooks"]["probe_screening"]["sha256"] == (
        hashlib.sha256(probe.read_bytes()).hexdigest()
    )
    assert manifest["studylib"]["version"] == __import__("studylib").__version__
    assert manifest["started_at"] <= manifest["ended_at"]
    entry = read_entries(report.run_dir)[("T002", "probe_enrolled")]
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["parameters"] == {"patient_id": "T002", "data_dir": str(data.resolve())}
    assert entry["recorded"] == {"arm": "A"}
    assert entry["started_at"] <= entry["ended_at"]
    assert collect(report.run_dir / entry["output"]) == {"arm": "A"}


@pytest.mark.slow
def test_html_shows_results_without_code(small_run):
    """The clinicians' HTML page has the notebook's output and markdown but none of its code."""
    report, _ = small_run
    page = (report.run_dir / "T001" / "probe_screening.html").read_text()
    assert "T001: enrolled" in page
    assert "Screening outcome" in page
    assert "load_cohort" not in page and "patient_id:" not in page
    # the header names the patient and the package; the cohort table's raw values are left out
    version = __import__("studylib").__version__
    assert "<strong>Patient T001</strong> · probe_screening" in page
    assert f"studylib {version}" in page
    assert "outcome = " not in page and "ecog = " not in page
    assert "incomplete" not in page


@pytest.mark.slow
def test_rerun_skips_unchanged_notebooks_and_force_reruns(small_run):
    """A second run skips every unchanged ok notebook; --force reruns those selected."""
    report, data = small_run
    out = report.run_dir.parent
    output = report.run_dir / "T001" / "probe_screening.ipynb"
    before = output.stat().st_mtime_ns
    again = run_batch(data, notebooks=PROBES, out=out, workers=2, progress=False)
    assert (again.ran, again.skipped) == (0, 5)
    assert output.stat().st_mtime_ns == before
    forced = run_batch(
        data, notebooks=PROBES, out=out, patients=["T003"], force=True, progress=False
    )
    assert (forced.ran, forced.skipped) == (1, 0)
    entries = read_entries(report.run_dir)
    assert entries[("T003", "probe_screening")]["reused"] is False
    assert entries[("T001", "probe_screening")]["reused"] is True  # kept from the first run
    assert len((report.run_dir / "cohort.csv").read_text().splitlines()) == 4


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    """T002 has an arm that does not exist; a fourth row has an id that names a path."""
    tmp = tmp_path_factory.mktemp("broken")
    data = copy_trial(tmp)
    randomization = data / "randomization.csv"
    randomization.write_text(randomization.read_text().replace("T002,A,", "T002,C,"))
    screening = data / "screening.csv"
    rows = screening.read_text().splitlines()
    rows.append(rows[-1].replace("T003,", "../T004,", 1))
    screening.write_text("\n".join(rows) + "\n")
    report = run_batch(data, notebooks=PROBES[:1], out=tmp / "outputs", workers=2, progress=False)
    return report


@pytest.mark.slow
def test_broken_patient_fails_alone_with_file_line_and_column(broken_run):
    """Only T002 fails, and its error is the loader's, naming file, line and column."""
    entries = read_entries(broken_run.run_dir)
    assert entries[("T001", "probe_screening")]["status"] == "ok"
    assert entries[("T003", "probe_screening")]["status"] == "ok"
    failed = entries[("T002", "probe_screening")]
    assert failed["status"] == "failed"
    assert failed["error"]["ename"] == "DataError"
    assert "randomization.csv, line 3, column 'arm': 'C': one of A, B" in failed["error"]["message"]
    assert broken_run.exit_code == 1
    with open(broken_run.cohort_table, newline="") as stream:
        rows = {row["patient_id"]: row for row in csv.DictReader(stream)}
    assert rows["T001"]["run_problems"] == ""
    problem = rows["T002"]["run_problems"]
    assert problem.startswith("probe_screening: DataError: 1 problem in ")
    assert problem.endswith(
        " - randomization.csv, line 3, column 'arm': 'C': one of A, B (patient T002)"
    )


@pytest.mark.slow
def test_failed_patients_report_says_why_and_stops_where_the_notebook_stopped(broken_run):
    """T002's page opens with the loader's message, has no traceback, and ends at the error."""
    page = (broken_run.run_dir / "T002" / "probe_screening.html").read_text()
    assert "This report is incomplete" in page
    head, _, rest = page.partition("randomization.csv, line 3, column 'arm'")
    assert "This report is incomplete" in head and rest
    assert "Traceback" not in page and "An Exception was encountered" not in page
    assert "the rest of this report was not produced" in page
    assert "Screening outcome" not in page  # a heading after the failing cell


@pytest.mark.slow
def test_rerun_of_some_patients_reports_them_and_notes_the_others(tmp_path):
    """Rerunning T001 alone exits 0; T002's failure and changed data are noted, not blamed."""
    data = copy_trial(tmp_path)
    randomization = data / "randomization.csv"
    randomization.write_text(randomization.read_text().replace("T002,A,", "T002,C,"))
    out = tmp_path / "outputs"
    first = run_batch(data, notebooks=PROBES[:1], out=out, workers=2, progress=False)
    assert first.exit_code == 1
    again = run_batch(data, notebooks=PROBES[:1], out=out, patients=["T001"], progress=False)
    assert (again.ran, again.skipped, again.exit_code) == (0, 1, 0)
    text = summary(again)
    assert "FAILED" not in text
    assert "earlier runs" in text and "not ok: T002" in text
    assert not any(e.get("outdated") for e in again.earlier)
    screening = data / "screening.csv"
    screening.write_text(screening.read_text().replace("T003,2012-03-06", "T003,2012-03-07"))
    changed = run_batch(data, notebooks=PROBES[:1], out=out, patients=["T003"], progress=False)
    assert changed.exit_code == 0 and changed.ran == 1
    outdated = {e["patient_id"] for e in changed.earlier if e["outdated"]}
    assert outdated == {"T001", "T002"}
    assert "2 made from other data files" in summary(changed)
    entry = read_entries(changed.run_dir)[("T003", "probe_screening")]
    assert entry["inputs"]["data_sha256"]["screening.csv"] == (
        hashlib.sha256(screening.read_bytes()).hexdigest()
    )


@pytest.mark.slow
def test_unsafe_id_in_the_data_is_refused_and_nothing_escapes(broken_run):
    """A screening row whose id would leave the output folder is refused, not run."""
    entry = read_entries(broken_run.run_dir)[("../T004", "probe_screening")]
    assert entry["status"] == "refused"
    assert "not a valid id" in entry["error"]["message"]
    outputs = broken_run.run_dir.parent
    assert sorted(p.name for p in outputs.iterdir()) == [broken_run.run_dir.name]
    assert not (broken_run.run_dir.parent.parent / "T004").exists()


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    """For T002, sleepy.ipynb's cell outlives a 1 s limit and crash.ipynb kills its kernel."""
    tmp = tmp_path_factory.mktemp("failing")
    notebooks = [str(NOTEBOOKS / "sleepy.ipynb"), str(NOTEBOOKS / "crash.ipynb")]
    report = run_batch(
        copy_trial(tmp),
        notebooks=notebooks,
        patients=["T002"],
        out=tmp / "outputs",
        workers=2,
        timeout_s=1,
        progress=False,
    )
    return report


@pytest.mark.slow
def test_timeout_is_recorded_with_a_banner_and_the_run_goes_on(failing_run):
    """The timed-out notebook is recorded and saved with a banner; the other still ran."""
    entries = read_entries(failing_run.run_dir)
    timed_out = entries[("T002", "sleepy")]
    assert timed_out["status"] == "timeout"
    assert "longer than the limit of 1 s" in timed_out["error"]["message"]
    assert "import time" in timed_out["error"]["message"]  # the cell that was running
    notebook = json.loads((failing_run.run_dir / "T002" / "sleepy.ipynb").read_text())
    assert "did not finish" in "".join(notebook["cells"][0]["source"])
    page = (failing_run.run_dir / "T002" / "sleepy.html").read_text()
    assert "This report is incomplete" in page and "longer than the limit of 1 s" in page
    assert entries[("T002", "crash")]["status"] != "interrupted"
    assert failing_run.exit_code == 1


@pytest.mark.slow
def test_dead_kernel_is_recorded(failing_run):
    """A kernel that dies is reported as such for that notebook."""
    crashed = read_entries(failing_run.run_dir)[("T002", "crash")]
    assert crashed["status"] == "dead_kernel"
    assert "kernel died" in crashed["error"]["message"]
    assert not temporary_files(failing_run.run_dir)


@pytest.mark.slow
def test_warm_kernels_give_the_same_outputs_as_fresh_kernels(tmp_path):
    """State a notebook leaves (variables, options, cwd, figures, %config) never reaches the
    next one."""
    data = copy_trial(tmp_path)
    runs = {}
    for warm, workers in ((False, 2), (True, 1)):
        runs[warm] = run_batch(
            data,
            notebooks=STATE,
            patients=["T001"],
            out=tmp_path / ("warm" if warm else "cold"),
            workers=workers,
            warm=warm,
            progress=False,
        ).run_dir
    checker = collect(runs[True] / "T001" / "state_checker.ipynb")
    assert checker["leftover_visible"] is False and checker["env_leftover"] is None
    assert checker["precision"] == 6 and checker["cwd"] == "notebooks"
    assert checker["numpy_linewidth"] == 75
    assert checker["figure_kwargs"] == {"bbox_inches": "tight"}  # not the setter's 30 dpi
    for name in ("state_setter", "state_checker"):
        cold, warm = (runs[mode] / "T001" / f"{name}.ipynb" for mode in (False, True))
        assert collect(warm) == collect(cold)
        assert _outputs(warm) == _outputs(cold)


@pytest.mark.slow
def test_every_displayed_figure_is_an_image_in_the_report(small_run):
    """A figure built without pyplot is a PNG in the report, not '<Figure size ...>' text."""
    report, data = small_run
    run_dir = run_batch(
        data,
        notebooks=STATE[1:],
        patients=["T001"],
        out=report.run_dir.parent,
        run="figure",
        progress=False,
    ).run_dir
    cells = json.loads((run_dir / "T001" / "state_checker.ipynb").read_text())["cells"]
    last = [c for c in cells if c["cell_type"] == "code"][-1]
    assert [sorted(o["data"]) for o in last["outputs"]] == [["image/png", "text/plain"]]


@pytest.mark.slow
def test_dask_executor_runs_the_same_tasks(tmp_path):
    """--scheduler sends the notebooks to a Dask cluster; the results match a local run."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask distributed is an optional extra (studylib[dask])"
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        report = run_batch(
            copy_trial(tmp_path),
            notebooks=PROBES[:1],
            patients=["T003"],
            out=tmp_path / "outputs",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert report.exit_code == 0 and "Dask cluster" in report.backend
    values = collect(report.run_dir / "T003" / "probe_screening.ipynb")
    assert values == {"outcome": "screen_failure", "ecog": 2}


@pytest.mark.slow
def test_real_notebooks_run_for_an_enrolled_patient(tmp_path, capsys, data_dir):
    """The workbook's per-patient notebooks run for P001 and the summary says where it all is."""
    present = [
        REPO / "notebooks" / f"{n}.ipynb" for n in ("01_screening", "02_scheduling", "03_response")
    ]
    if not any(p.exists() for p in present):
        pytest.skip("the per-patient notebooks are not in notebooks/ yet")
    out = tmp_path / "outputs"
    status = main(["batch", "--data", str(data_dir), "--out", str(out), "--patients", "P001"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    run_dir = out / default_run_name(data_dir)
    for notebook in (p for p in present if p.exists()):
        assert (run_dir / "P001" / f"{notebook.stem}.html").is_file()
    assert f"Cohort table: {run_dir / 'cohort.csv'}" in printed
    assert f"Manifest:     {run_dir / 'manifest.json'}" in printed
    header = (run_dir / "cohort.csv").read_text().splitlines()[0]
    if (REPO / "notebooks" / "01_screening.ipynb").exists():
        assert "01_screening.eligibility_status" in header


@pytest.mark.slow
def test_real_notebooks_fail_alone_for_a_broken_patient(tmp_path, bundled_copy):
    """P017's impossible arm fails P017's notebooks only; P001's all run."""
    present = sorted((REPO / "notebooks").glob("0[123]_*.ipynb"))
    if not present:
        pytest.skip("the per-patient notebooks are not in notebooks/ yet")
    randomization = bundled_copy / "randomization.csv"
    lines = randomization.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("P017,"))
    fields = lines[index].split(",")
    fields[1] = "C"
    lines[index] = ",".join(fields)
    randomization.write_text("\n".join(lines) + "\n")
    report = run_batch(
        bundled_copy, patients=["P001", "P017"], out=tmp_path / "out", warm=True, progress=False
    )
    entries = read_entries(report.run_dir)
    where = f"randomization.csv, line {index + 1}, column 'arm'"
    for notebook in (p.stem for p in present):
        assert entries[("P017", notebook)]["status"] == "failed"
        assert where in entries[("P017", notebook)]["error"]["message"]
        assert entries[("P001", notebook)]["status"] == "ok", notebook


@pytest.mark.slow
def test_the_protocol_file_is_recorded_and_a_change_reruns_what_it_affects(tmp_path, capsys):
    """The manifest names the protocol the run used (the folder's own, else the bundled one)
    with its SHA-256; changing the folder's protocol file reruns its notebooks."""
    from studylib.protocol import PROTOCOL

    data = copy_trial(tmp_path)
    out = tmp_path / "outputs"
    arguments = ["batch", "--data", str(data), "--out", str(out), "--patients", "T003"]
    arguments += ["--notebooks", PROBES[0]]
    assert main(arguments) == 0
    run_dir = out / default_run_name(data)
    bundled = read_manifest(run_dir)["inputs"]["protocol"]
    assert bundled["bundled"] is True and bundled["sha256"] == PROTOCOL.sha256
    assert bundled["path"] == str(REPO / "studylib" / "protocol.toml")
    assert "the bundled one (the trial folder has none)" in capsys.readouterr().out
    own = data / "protocol.toml"
    own.write_bytes((REPO / "studylib" / "protocol.toml").read_bytes() + b"\n# amended\n")
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert "1 notebook run" in printed and f"Protocol:     {own}" in printed
    recorded = read_manifest(run_dir)["inputs"]["protocol"]
    expected = hashlib.sha256(own.read_bytes()).hexdigest()
    assert recorded == {"path": str(own), "sha256": expected, "bundled": False}
    entry = read_entries(run_dir)[("T003", "probe_screening")]
    assert entry["inputs"]["protocol_sha256"] == expected
    assert main(arguments) == 0
    assert "nothing to run (1 up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_loader_problems_of_patients_not_run_are_shown_and_recorded(tmp_path, capsys):
    """A problem on another patient's rows (dosing of T003, who was not randomised) and a
    warning (an optional column absent) reach the summary, the manifest and the cohort table
    of a run of T001, without failing it."""
    data = copy_trial(tmp_path)
    dosing = data / "dosing.csv"
    dosing.write_text(
        dosing.read_text() + "T003,il2,1,1,2012-03-19T08:00,2012-03-19T08:10,given,48 MIU,\n"
    )
    screening = data / "screening.csv"
    lines = screening.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("patient_id,"))
    at = lines[header].split(",").index("pft_dlco_pct")
    lines[header:] = [
        ",".join(v for i, v in enumerate(line.split(",")) if i != at) for line in lines[header:]
    ]
    screening.write_text("\n".join(lines) + "\n")
    out = tmp_path / "outputs"
    arguments = ["batch", "--data", str(data), "--out", str(out), "--patients", "T001"]
    assert main([*arguments, "--notebooks", PROBES[0]]) == 0
    printed = capsys.readouterr().out
    problem = "dosing.csv, line 5, column 'patient_id': 'T003': a patient listed in"
    assert "DATA 1 problem(s) in rows of patients this run did not run" in printed
    assert problem in printed
    run_dir = out / default_run_name(data)
    (recorded,) = read_manifest(run_dir)["data_check"]["problems"]
    assert recorded["patient_id"] == "T003" and recorded["line"] == 5
    with open(run_dir / "cohort.csv", newline="") as stream:
        rows = {row["patient_id"]: row for row in csv.DictReader(stream)}
    assert rows["T001"]["probe_screening.run_status"] == "ok"
    assert rows["T003"]["probe_screening.run_status"] == ""
    assert rows["T003"]["data_problems"].startswith(f"problem: {problem}")
    assert "WARNING 1 warning(s) from the loader" in printed
    (warning,) = read_manifest(run_dir)["data_check"]["warnings"]
    assert warning["column"] == "pft_dlco_pct" and warning["patient_id"] is None
    for patient in ("T001", "T003"):
        assert f"warning: {warning['message']}" in rows[patient]["data_problems"]
