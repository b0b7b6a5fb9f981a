"""A notebook's parameters are checked in one place: unknown names, types, yes/no, folders."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from studylib.data import load_cohort
from studylib.errors import ParameterError
from studylib.parameters import Folder, check_parameters, require_patient

PARAMETERS_CELL = (
    'patient_id: str = "P001"\ndata_dir: str = "../data"\nshow_cohort_log: bool = True'
)


def _namespace(**injected) -> dict:
    """A notebook's namespace after papermill injected ``injected`` (IPython's ``In``)."""
    lines = "\n".join(f"{name} = {value!r}" for name, value in injected.items())
    namespace = {"patient_id": "P001", "data_dir": "../data", "show_cohort_log": True}
    namespace.update(injected)
    namespace["In"] = ["", PARAMETERS_CELL, f"# Parameters\n{lines}\n"]
    return namespace


def _check(namespace: dict) -> object:
    return check_parameters(namespace, patient_id=str, data_dir=Folder(), show_cohort_log=bool)


def test_a_misspelt_parameter_is_refused_naming_the_one_meant(data_dir, monkeypatch):
    """-p patientid P013 would run P001 and end well; it is an error saying patient_id."""
    monkeypatch.chdir(data_dir)
    namespace = _namespace(patientid="P013", data_dir=".")
    with pytest.raises(ParameterError) as error:
        _check(namespace)
    assert str(error.value) == (
        "1 notebook parameter to fix:\n"
        "  - patientid: not a parameter of this notebook (did you mean patient_id?); its"
        " parameters are patient_id, data_dir, show_cohort_log"
    )


@pytest.mark.parametrize(
    ("written", "read"),
    [("no", False), ("N", False), ("yes", True), ("true", True), (0, False), (True, True)],
)
def test_yes_no_text_is_read_as_a_bool(written, read, data_dir):
    """-p show_cohort_log no arrives as the text 'no', which Python counts as true."""
    namespace = _namespace(show_cohort_log=written, data_dir=str(data_dir))
    _check(namespace)
    assert namespace["show_cohort_log"] is read


def test_every_wrong_parameter_is_listed_in_one_error(tmp_path, monkeypatch):
    """A number for a folder, a word for a flag and a number for text: one error, three lines,
    each saying what to write."""
    monkeypatch.chdir(tmp_path)
    namespace = _namespace(data_dir=5, show_cohort_log="perhaps", patient_id=13)
    with pytest.raises(ParameterError) as error:
        _check(namespace)
    assert str(error.value).splitlines() == [
        "3 notebook parameters to fix:",
        "  - patient_id: 13 is a int, not text: papermill reads -p values as YAML, so pass text"
        " with -r patient_id 13",
        "  - data_dir: 5 is not a folder path; expected the path of a folder, such as -p data_dir"
        " ../data (pass a path that papermill would read as another type with -r data_dir ...)",
        "  - show_cohort_log: 'perhaps' is not yes or no (Y/N, yes/no, true/false, 1/0); such as"
        " -p show_cohort_log no",
    ]


def test_a_relative_folder_is_resolved_against_the_working_folder_and_said(data_dir, monkeypatch):
    """'data' from the repository is the bundled folder; the notebook is told how it was read."""
    monkeypatch.chdir(data_dir.parent)
    namespace = _namespace(data_dir="data")
    params = _check(namespace)
    assert namespace["data_dir"] == data_dir.resolve()
    assert params.notes == [
        f"data_dir 'data' is relative: read as {data_dir.resolve()} (relative to the working"
        f" folder {data_dir.parent})"
    ]
    assert "relative to the working folder" in params._repr_markdown_()


def test_the_notebooks_own_relative_default_is_not_repeated(data_dir, monkeypatch):
    """Without papermill, the default '../data' is resolved but not announced on every run."""
    monkeypatch.chdir(data_dir.parent / "notebooks")
    namespace = {"patient_id": "P001", "data_dir": "../data", "show_cohort_log": True}
    params = _check(namespace)
    assert namespace["data_dir"] == data_dir.resolve() and params.notes == []


def test_a_folder_that_does_not_exist_names_where_it_was_looked_for(tmp_path, monkeypatch):
    """A relative path that names nothing says the absolute path and the working folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match=rf"no folder at {tmp_path}/nowhere \('nowhere', "):
        _check(_namespace(data_dir="nowhere"))


def test_without_papermill_nothing_is_unknown(data_dir):
    """Run interactively (no injected cell), only the values are checked."""
    namespace = {"patient_id": "P001", "data_dir": str(data_dir), "show_cohort_log": "N"}
    assert _check(namespace).values["show_cohort_log"] is False


def test_whole_numbers_and_optional_values():
    """'21' given as text (-r) is 21; None is accepted where the type allows it."""
    namespace = {"number": "21", "start": None}
    check_parameters(namespace, number=int, start=str | None)
    assert namespace == {"number": 21, "start": None}
    with pytest.raises(ParameterError, match="number: True is not a whole number"):
        check_parameters({"number": True}, number=int)


def test_an_unknown_patient_is_one_short_error(data_dir):
    """p001 suggests P001, without a traceback in a report."""
    cohort = load_cohort(data_dir)
    with pytest.raises(ParameterError, match=r"'p001' is not in .*; did you mean P001\?"):
        require_patient(cohort, "p001")
    require_patient(cohort, "P001")


def test_papermill_shows_the_sentence_without_a_traceback(tmp_path, repo_dir):
    """Run by papermill with a misspelt parameter, the notebook fails with the sentence alone."""
    import papermill as pm

    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(PARAMETERS_CELL)
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        parameters,
        nbformat.v4.new_code_cell(
            "from studylib.parameters import Folder, check_parameters\n"
            "check_parameters(globals(), patient_id=str, data_dir=Folder(),"
            " show_cohort_log=bool)"
        ),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    source, output = tmp_path / "n.ipynb", tmp_path / "out.ipynb"
    nbformat.write(notebook, source)
    with pytest.raises(pm.PapermillExecutionError) as error:
        pm.execute_notebook(
            str(source),
            str(output),
            parameters={"patientid": "P013", "data_dir": str(repo_dir / "data")},
            progress_bar=False,
            cwd=str(tmp_path),
        )
    assert error.value.ename == "ParameterError"
    assert error.value.traceback == [
        "ParameterError: 1 notebook parameter to fix:",
        "  - patientid: not a parameter of this notebook (did you mean patient_id?); its"
        " parameters are patient_id, data_dir, show_cohort_log",
    ]
    assert Path(output).exists()
