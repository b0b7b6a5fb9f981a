"""Benchmark: `studylib batch` against a serial loop over the papermill command line.

Runs the per-patient notebooks for a subset of enrolled patients of the bundled cohort (so
that every per-patient notebook applies) and prints, from the same run:

- the baseline: what a user would write, a serial loop calling the ``papermill`` command
  once per patient and notebook, with the same parameters;
- ``studylib batch`` with a fresh kernel per notebook, and with ``--warm``, each as a command
  (Python start-up and imports included), with their speed-up over the baseline;
- the floor: an empty notebook's papermill time (Python API, kernel shut down at once) x the
  number of notebooks / the number of workers, and each batch time relative to it;
- whether the recorded values are identical with fresh and warm kernels.

Aims (issue 8): at least 1.8 x faster than the loop on 2 cores, and within 1.3 x the floor.

Usage: ``.venv/bin/python benchmarks/bench_batch.py [--patients 10] [--workers N]``
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _notebooks_and_patients(count: int):
    from studylib.batch.plan import discover_notebooks, select_population

    notebooks = discover_notebooks()
    population = select_population(REPO / "data")
    enrolled = [p for p in population.screened if p in population.enrolled][:count]
    return notebooks, enrolled


def _empty_notebook(folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata.kernelspec = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    parameters = nbformat.v4.new_code_cell('patient_id: str = "P001"\ndata_dir: str = "data"')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell("pass")]
    path = folder / "empty.ipynb"
    nbformat.write(notebook, path)
    return path


def empty_notebook_seconds(folder: Path, repeats: int = 5) -> float:
    """Median time of an empty notebook through papermill's Python API (the floor's unit)."""
    import papermill as pm

    path = _empty_notebook(folder)
    times = []
    for index in range(repeats + 1):
        started = time.perf_counter()
        pm.execute_notebook(
            str(path),
            str(folder / "empty-out.ipynb"),
            parameters={"patient_id": f"P{index:03d}"},
            kernel_name="python3",
            progress_bar=False,
            shutdown_kernel="immediate",
        )
        if index:  # the first run warms the disk cache
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def serial_papermill_cli(notebooks, patients, folder: Path) -> float:
    """The baseline: one papermill command per patient and notebook, one after another."""
    started = time.perf_counter()
    for patient in patients:
        for notebook in notebooks:
            command = [
                str(BIN / "papermill"),
                str(notebook.path),
                str(folder / f"{patient}-{notebook.name}.ipynb"),
            ]
            parameters = notebook.parameters_for(patient, REPO / "data", folder / patient)
            for name, value in parameters.items():
                command += ["-p", name, str(value)]
            subprocess.run(command, check=True, capture_output=True, cwd=notebook.path.parent)
    return time.perf_counter() - started


def studylib_batch(patients, workers: int, out: Path, warm: bool) -> float:
    """``studylib batch`` as a user runs it, timed from the shell's point of view."""
    command = [str(BIN / "studylib"), "batch", "--data", str(REPO / "data"), "--out", str(out)]
    command += ["--force", "--workers", str(workers), "--patients", *patients]
    if warm:
        command.append("--warm")
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - started


def cell_seconds(run_dir: Path) -> float:
    """The notebooks' own work: the sum of their cells' execution times."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    total = 0.0
    for entry in manifest["notebooks"]:
        notebook = json.loads((run_dir / entry["output"]).read_text())
        for cell in notebook["cells"]:
            total += cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
    return total


def _comparable(notebook: Path, run_dir: Path) -> list:
    """Cells and outputs, without what differs between any two runs of the same notebook:
    memory addresses, pandas Styler ids, the run folder, and how printed text was chunked."""
    text = notebook.read_text().replace(str(run_dir.parent), "OUT")
    text = re.sub(r"0x[0-9a-f]+", "0xADDRESS", re.sub(r"T_[0-9a-f]{5}", "T_ID", text))
    cells = []
    for cell in json.loads(text)["cells"]:
        outputs: list = []
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                output = {**output, "text": "".join(output["text"])}
                if outputs and outputs[-1].get("name") == output["name"]:
                    outputs[-1] = {**outputs[-1], "text": outputs[-1]["text"] + output["text"]}
                    continue
            outputs.append(output)
        cells.append((cell["source"], cell.get("execution_count"), outputs))
    return cells


def differing_notebooks(cold: Path, warm: Path) -> list[str]:
    """The notebooks that differ between two run folders (compared as above), each with
    the first cell that differs, so that a difference can be looked into."""
    differ = []
    for notebook in sorted(cold.rglob("*.ipynb")):
        other = warm / notebook.relative_to(cold)
        ours, theirs = _comparable(notebook, cold), _comparable(other, warm)
        if ours != theirs:
            cell = next(
                (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                min(len(ours), len(theirs)),
            )
            differ.append(f"{notebook.relative_to(cold)} (cell {cell})")
    return differ


def _inputs(run_dir: Path) -> tuple:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return manifest["inputs"]["notebooks"], manifest["studylib"]["source_sha256"]


def recorded_values(run_dir: Path) -> dict:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {(e["patient_id"], e["notebook"]): e.get("recorded") for e in manifest["notebooks"]}


def main() -> int:
    from studylib.batch.plan import default_run_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10, help="enrolled patients (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="batch workers (default 2)")
    args = parser.parse_args()

    notebooks, patients = _notebooks_and_patients(args.patients)
    count = len(notebooks) * len(patients)
    print(
        f"subset: {len(patients)} enrolled patients ({patients[0]}..{patients[-1]}) x"
        f" {len(notebooks)} notebooks ({', '.join(nb.name for nb in notebooks)}) ="
        f" {count} notebook runs; {args.workers} workers"
    )
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        unit = empty_notebook_seconds(scratch)
        floor = unit * count / args.workers
        (scratch / "cli").mkdir()
        baseline = serial_papermill_cli(notebooks, patients, scratch / "cli")
        cold = studylib_batch(patients, args.workers, scratch / "cold", warm=False)
        warm = studylib_batch(patients, args.workers, scratch / "warm", warm=True)
        run = default_run_name(REPO / "data")
        cold_run, warm_run = scratch / "cold" / run, scratch / "warm" / run
        same = recorded_values(cold_run) == recorded_values(warm_run)
        work = cell_seconds(warm_run) / args.workers
        differ = differing_notebooks(cold_run, warm_run)
        # in a shared checkout, someone may edit studylib between the two runs
        changed = _inputs(cold_run) != _inputs(warm_run)

    print(f"floor: empty notebook {unit:.2f} s x {count} / {args.workers} workers = {floor:.1f} s")
    print(
        f"serial papermill CLI loop:      {baseline:6.1f} s ({baseline / count:.2f} s a notebook)"
    )
    for label, seconds in (("studylib batch", cold), ("studylib batch --warm", warm)):
        print(
            f"{label + ':':31s} {seconds:6.1f} s   {baseline / seconds:4.2f} x faster than the loop"
            f"   {seconds / floor:4.2f} x the floor"
        )
    print(
        f"the notebooks' own work (their cells, warm run): {work:.1f} s per worker; the floor"
        f" counts none of it; --warm spends {warm - work:.1f} s on everything else"
        f" ({(warm - work) / floor:.2f} x the floor)"
    )
    print(f"recorded values identical with fresh and warm kernels: {'yes' if same else 'NO'}")
    if changed:
        print("outputs not compared: studylib or a notebook changed between the two runs")
    else:
        print(
            f"notebooks whose outputs differ between fresh and warm kernels: {len(differ)} of"
            f" {count}" + (f": {', '.join(differ[:5])}" if differ else "")
        )
    print("aims: >= 1.80 x faster than the loop, <= 1.30 x the floor")
    return 0 if changed or (same and not differ) else 1


if __name__ == "__main__":
    sys.exit(main())
