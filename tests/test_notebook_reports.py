"""The committed notebooks read as reports: checked parameters, HTML tables, rules said once,
no raw dicts, no empty sections, and the kernel JupyterLab has (so opening one changes nothing).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(p.name for p in NOTEBOOKS.glob("[0-9]*.ipynb"))
REPORTS = [name for name in ALL if not name.startswith("00")]


def _notebook(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _parameters_cell(notebook) -> int:
    return next(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )


@pytest.mark.parametrize("name", ALL)
def test_every_parameter_is_checked_by_the_helper(name):
    """The cell after the parameters cell checks exactly the parameters the notebook declares."""
    notebook = _notebook(name)
    index = _parameters_cell(notebook)
    declared = [
        node.target.id
        for node in ast.parse(notebook.cells[index].source).body
        if isinstance(node, ast.AnnAssign)
    ]
    source = next(c.source for c in notebook.cells[index + 1 :] if c.cell_type == "code")
    call = next(
        node
        for node in ast.walk(ast.parse(source.replace("%", "#")))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check_parameters"
    )
    assert [k.arg for k in call.keywords] == declared


@pytest.mark.parametrize("name", ALL)
def test_kernelspec_is_the_installed_one(name, repo_dir):
    """JupyterLab would rewrite a kernelspec that differs from the kernel's (marking the
    notebook modified on open): the notebooks name the kernel `make setup` installs."""
    makefile = (repo_dir / "Makefile").read_text(encoding="utf-8")
    installed = re.search(r'--name (\S+) \\\s*--display-name "([^"]+)"', makefile)
    spec = _notebook(name).metadata["kernelspec"]
    assert (spec["name"], spec["display_name"]) == installed.groups()


@pytest.mark.parametrize("name", REPORTS)
def test_reports_show_tables_and_sentences_as_html_not_printed_text(name):
    """Printed text breaks inside words in JupyterLab and in the HTML reports: every table
    and sentence a report shows is HTML (studylib.tables), none a text stream."""
    outputs = [o for c in _notebook(name).cells if c.cell_type == "code" for o in c.outputs]
    assert outputs
    assert not [o for o in outputs if o.output_type == "stream"]


@pytest.mark.parametrize("name", REPORTS)
def test_no_raw_dict_is_shown(name):
    """A dict is shown as a table, never as Python's {'n': 7, ...}."""
    for cell in _notebook(name).cells:
        for output in getattr(cell, "outputs", []):
            shown = output.get("data", {}).get("text/html", "")
            assert not re.search(r"\{'\w+': ", shown), cell.source[:60]


def test_scheduling_says_each_slot_rule_once():
    """Each rule of the dose slots is one sentence above the slot table, not one per slot:
    the 14 doses of a cycle share one line."""
    notebook = _notebook("02_scheduling.ipynb")
    cell = next(c for c in notebook.cells if '"slots"' in c.source)
    html = "".join(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
    slots = re.search(r'id="studylib-slots".*', html, re.S).group(0)
    rules = re.search(r'id="studylib-slot-rules".*?</table>', html, re.S).group(0)
    sentences = re.findall(r"<td[^>]*>(IL-2 cycle[^<]*)</td>", rules)
    assert slots.count(">il2_dose<") >= 10 * len(sentences) > 0
    assert all(rules.count(s) == 1 and s not in slots for s in sentences)
    assert "rule" not in re.findall(r"<th[^>]*>([^<]*)</th>", slots)


def _run(name: str, folder: Path, **parameters) -> Path:
    """Run a committed notebook with papermill, from its folder, as the batch does."""
    import papermill as pm

    out = folder / name
    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters=parameters,
        progress_bar=False,
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
    )
    return out


def _failure(name: str, folder: Path, **parameters):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as error:
        _run(name, folder, **parameters)
    return error.value


def test_a_misspelt_parameter_stops_the_real_notebook_with_one_sentence(tmp_path, repo_dir):
    """-p patientid P013 no longer runs P001 and ends well."""
    error = _failure(
        "03_response.ipynb", tmp_path, patientid="P013", data_dir=str(repo_dir / "data")
    )
    assert error.ename == "ParameterError" and len(error.traceback) == 2
    assert "did you mean patient_id?" in error.traceback[1]


def test_an_unknown_patient_is_one_sentence(tmp_path, repo_dir):
    """A wrong patient_id is a short message naming the nearest ids, not a long traceback."""
    error = _failure(
        "02_scheduling.ipynb", tmp_path, patient_id="p001", data_dir=str(repo_dir / "data")
    )
    assert error.ename == "ParameterError" and len(error.traceback) == 1
    assert "did you mean P001?" in error.traceback[0]


def test_a_batch_screening_report_has_no_empty_log_section(tmp_path, repo_dir):
    """With show_cohort_log no (as text: papermill reads -p values as YAML), the report has
    no 'Screening log' heading or table; the value is read as False, not as true text."""
    out = _run(
        "01_screening.ipynb",
        tmp_path,
        patient_id="P005",
        data_dir=str(repo_dir / "data"),
        show_cohort_log="no",
    )
    report = out.read_text(encoding="utf-8")
    assert "Screening log" not in json.dumps(
        [c.outputs for c in nbformat.reads(report, 4).cells if c.cell_type == "code"]
    )
    assert not any(
        "Screening log" in c.source
        for c in nbformat.reads(report, 4).cells
        if c.cell_type == "markdown"
    )
