"""What a batch run will do: which notebooks, which patients, and whether each is up to date.

Everything here happens before the first kernel starts, so that a bad request (an unknown
patient, an id that would escape the output folder, a notebook that takes no ``patient_id``)
is refused while nothing has been written yet.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studylib.errors import BatchError

__all__ = [
    "BatchError",
    "PatientNotebook",
    "Task",
    "Population",
    "default_notebooks_dir",
    "discover_notebooks",
    "select_population",
    "check_patient_ids",
    "data_file_hashes",
    "studylib_fingerprint",
    "sha256_file",
    "plan_tasks",
    "task_inputs",
    "default_run_name",
    "check_timeout",
]

#: Notebooks run for every screened patient; every other per-patient notebook needs
#: treatment or tumour data and runs only for patients in randomization.csv.
SCREENED_NOTEBOOKS = frozenset({"01_screening"})

#: Values passed to a notebook only when its parameters cell declares them: a batch report
#: is static (no widgets) and about one patient (no cohort-wide screening log).
BATCH_PARAMETERS = {"interactive": False, "show_cohort_log": False}

REQUIRED_PARAMETERS = ("patient_id", "data_dir")


def sha256_file(path: Path) -> str:
    """The SHA-256 digest of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_notebooks_dir() -> Path:
    """The workbook's ``notebooks/`` folder, beside the ``studylib`` package."""
    return Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class PatientNotebook:
    """A notebook that runs once per patient (its parameters include ``patient_id``)."""

    path: Path
    parameters: tuple[str, ...]
    population: str
    sha256: str

    @property
    def name(self) -> str:
        return self.path.stem

    def parameters_for(self, patient_id: str, data_dir: Path, patient_dir: Path) -> dict:
        """The papermill parameters of one patient's run (plain values only).

        A notebook that declares ``output_dir`` (for files it exports, such as a calendar)
        writes them in the patient's output folder, beside the executed notebook.
        """
        values = {"patient_id": patient_id, "data_dir": str(data_dir)}
        values.update({k: v for k, v in BATCH_PARAMETERS.items() if k in self.parameters})
        if "output_dir" in self.parameters:
            values["output_dir"] = str(patient_dir)
        return values


def _parameter_names(notebook: dict) -> tuple[str, ...] | None:
    """Names assigned in the notebook's ``parameters`` cell, or None without one."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            names = []
            for node in ast.parse(source).body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    names.append(node.target.id)
                elif isinstance(node, ast.Assign):
                    names += [t.id for t in node.targets if isinstance(t, ast.Name)]
            return tuple(names)
    return None


def _read_notebook(path: Path) -> PatientNotebook | None:
    """The notebook as a per-patient notebook, or None if it takes no patient."""
    with open(path, encoding="utf-8") as stream:
        notebook = json.load(stream)
    names = _parameter_names(notebook)
    if names is None or not set(REQUIRED_PARAMETERS) <= set(names):
        return None
    declared = notebook.get("metadata", {}).get("studylib", {}).get("population")
    if declared is not None and declared not in ("screened", "enrolled"):
        raise BatchError(
            f"{path}: metadata studylib.population is {declared!r};"
            " expected 'screened' or 'enrolled'"
        )
    population = declared or ("screened" if path.stem in SCREENED_NOTEBOOKS else "enrolled")
    return PatientNotebook(path.resolve(), names, population, sha256_file(path))


def discover_notebooks(
    choices: Sequence[str] | None = None, folder: Path | None = None
) -> list[PatientNotebook]:
    """The per-patient notebooks to run.

    Parameters
    ----------
    choices
        Notebook names (``01_screening``), files or folders; default: every notebook in
        ``folder`` whose parameters cell declares ``patient_id`` and ``data_dir``.
    folder
        Where names are looked up (default :func:`default_notebooks_dir`).

    Raises
    ------
    BatchError
        A named notebook does not exist or takes no ``patient_id``/``data_dir``, or none
        was found.
    """
    folder = Path(folder) if folder is not None else default_notebooks_dir()
    explicit: list[Path] = []
    scanned: list[Path] = []
    for choice in choices or [str(folder)]:
        path = Path(choice)
        if path.is_dir():
            scanned += sorted(path.glob("*.ipynb"))
        elif path.is_file():
            explicit.append(path)
        elif (folder / f"{choice}.ipynb").is_file() or (folder / choice).is_file():
            explicit.append(folder / (choice if choice.endswith(".ipynb") else f"{choice}.ipynb"))
        else:
            raise BatchError(f"no notebook {choice!r} (looked in {folder} and the current folder)")
    found: list[PatientNotebook] = []
    for path in explicit:
        notebook = _read_notebook(path)
        if notebook is None:
            raise BatchError(
                f"{path} is not a per-patient notebook: its cell tagged 'parameters' must"
                f" declare {' and '.join(REQUIRED_PARAMETERS)}"
            )
        found.append(notebook)
    found += [nb for nb in map(_read_notebook, scanned) if nb is not None]
    unique = list({nb.path: nb for nb in found}.values())
    names = [nb.name for nb in unique]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise BatchError(f"two notebooks share the output name {clashes[0]!r}; rename one")
    if not unique:
        raise BatchError(
            f"no per-patient notebooks in {folder}: a per-patient notebook declares"
            f" {' and '.join(REQUIRED_PARAMETERS)} in its cell tagged 'parameters'"
        )
    return unique


@dataclass(frozen=True)
class TrialProtocol:
    """The protocol file a run's notebooks follow: ``cohort.protocol`` of the trial folder."""

    path: str
    sha256: str
    #: True when the folder has no protocol.toml and the one shipped with studylib applies
    bundled: bool

    def as_dict(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "bundled": self.bundled}


@dataclass(frozen=True)
class Population:
    """The trial folder's patients: screened (in file order) and enrolled; its protocol; and
    what the loader found wrong or worth a warning anywhere in the folder."""

    screened: tuple[str, ...]
    enrolled: frozenset[str]
    source: Path
    protocol: TrialProtocol | None = None
    #: every patient's problems (a notebook of that patient fails with them when it runs)
    problems: tuple = ()
    #: what the loader noticed without refusing the data (``Cohort.warnings``)
    warnings: tuple = ()


def _trial_protocol(data_dir: Path, protocol) -> TrialProtocol:
    from studylib.protocol import PROTOCOL_FILENAME

    own = Path(data_dir) / PROTOCOL_FILENAME
    if own.is_file():
        return TrialProtocol(str(own.resolve()), protocol.sha256, bundled=False)
    bundled = Path(__file__).resolve().parents[1] / PROTOCOL_FILENAME
    return TrialProtocol(str(bundled), protocol.sha256, bundled=True)


def select_population(data_dir: Path) -> Population:
    """Read which patients were screened and enrolled, the folder's protocol, and every
    problem and warning the loader reports.

    Only problems with whole files stop this (a missing file, a missing column) and a
    malformed protocol.toml: one patient's bad values are that patient's notebooks'
    business, so that they fail alone; they are kept in ``problems`` so that a run of other
    patients can still show them.

    Raises
    ------
    BatchError
        With the loader's message (file, line, column) when the folder cannot be read.
    """
    from studylib.data import load_cohort
    from studylib.errors import DataError, ProtocolError

    problems: list = []
    try:
        try:
            cohort = load_cohort(data_dir)
        except DataError as error:
            problems = list(error.problems)
            # the patients' rows as read, refusing only problems with whole files
            cohort = load_cohort(data_dir, patients=[])
    except FileNotFoundError as error:
        raise BatchError(str(error)) from error
    except ProtocolError as error:
        raise BatchError(f"the trial folder's protocol cannot be used:\n{error}") from error
    except DataError as error:
        raise BatchError(f"cannot tell which patients to run:\n{error}") from error
    screened = tuple(dict.fromkeys(cohort.screening["patient_id"].dropna()))
    enrolled = frozenset(cohort.randomization["patient_id"].dropna())
    return Population(
        screened,
        enrolled,
        Path(data_dir),
        protocol=_trial_protocol(data_dir, cohort.protocol),
        problems=tuple(problems),
        warnings=tuple(cohort.warnings),
    )


def default_run_name(data_dir: Path) -> str:
    """The data folder's name and a digest of its full path: two folders both called
    ``data`` never share a run folder.

    >>> default_run_name(Path("/trials/melanoma/data"))
    'data-d3300710'
    >>> default_run_name(Path("/tmp/my trial <2>"))
    'my_trial__2_-5b4386b7'
    """
    resolved = Path(data_dir).resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_-]", "_", resolved.name)[:40].lstrip("_-") or "trial"
    return f"{name}-{digest}"


def check_timeout(timeout_s) -> float | None:
    """A notebook's time limit in seconds: a finite number above 0, or None for no limit.

    Raises
    ------
    BatchError
        For anything else, before anything runs.
    """
    if timeout_s is None:
        return None
    try:
        value = float(timeout_s)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(timeout_s, bool) or not math.isfinite(value) or value <= 0:
        raise BatchError(
            f"timeout {timeout_s!r}: expected a number of seconds above 0 (such as 600 or 2.5)"
        )
    return value


def _id_pattern():
    # the loader's pattern for ids; an id becomes a folder name, so it is the safety rule too
    from studylib.data import ID_PATTERN

    return ID_PATTERN


def unsafe_ids(ids: Iterable[str]) -> list[str]:
    """The ids that do not match the data dictionary's id pattern (and so could name a path)."""
    pattern = _id_pattern()
    return [i for i in ids if not isinstance(i, str) or not pattern.fullmatch(i)]


def check_patient_ids(requested: Sequence[str], population: Population) -> list[str]:
    """The requested patients in screening order, after refusing unsafe or unknown ids.

    Raises
    ------
    BatchError
        Naming every id that could escape the output folder or is not in screening.csv.
    """
    bad = unsafe_ids(requested)
    if bad:
        shown = ", ".join(repr(i) for i in bad)
        raise BatchError(
            f"refused patient id {shown}: an id is letters, digits, '-' and '_' only"
            " (at most 64 characters, starting with a letter or digit), because it names"
            " the patient's output folder; nothing was run"
        )
    known = set(population.screened)
    unknown = [i for i in requested if i not in known]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown)
        examples = ", ".join(population.screened[:3])
        # ids are case-sensitive (they name folders); a coordinator typing p001 meant P001
        by_case = {i.casefold(): i for i in population.screened}
        meant = [by_case[i.casefold()] for i in unknown if i.casefold() in by_case]
        hint = (
            f"ids are case-sensitive: did you mean {', '.join(meant)}?"
            if meant
            else f"ids there look like {examples}"
        )
        raise BatchError(
            f"unknown patient {shown}: not in {population.source / 'screening.csv'}"
            f" ({hint}); nothing was run"
        )
    wanted = set(requested)
    return [i for i in population.screened if i in wanted]


def data_file_hashes(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every CSV file of the trial folder, by file name."""
    return {p.name: sha256_file(p) for p in sorted(Path(data_dir).glob("*.csv"))}


def studylib_fingerprint() -> dict[str, str]:
    """The package version, and a digest of its source for the audit trail.

    Only the version decides whether a notebook reruns: the source digest changes with every
    edit in a development checkout, where ``--force`` reruns after a change to studylib.
    """
    import studylib

    root = Path(studylib.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return {"version": studylib.__version__, "source_sha256": digest.hexdigest()}


@dataclass(frozen=True)
class Task:
    """One notebook for one patient, with everything a worker needs (picklable)."""

    patient_id: str
    notebook: str
    notebook_path: str
    parameters: dict = field(hash=False)
    run_dir: str
    fingerprint: str
    timeout_s: float | None = None
    warm: bool = False
    kernel_name: str = "python3"
    #: what the outputs are made from, for the manifest: the data files' and the notebook's
    #: SHA-256 and the studylib version (the fingerprint is a digest of these and more)
    inputs: dict = field(default_factory=dict, hash=False)

    @property
    def output(self) -> Path:
        return Path(self.run_dir) / self.patient_id / f"{self.notebook}.ipynb"

    @property
    def html(self) -> Path:
        return self.output.with_suffix(".html")

    @property
    def key(self) -> tuple[str, str]:
        return (self.patient_id, self.notebook)


def fingerprint(
    notebook: PatientNotebook,
    parameters: dict,
    data_hashes: dict,
    package: dict,
    kernel: str,
    protocol_sha256: str = "",
) -> str:
    """A digest of everything a notebook's outputs depend on (rerun when it changes): the
    notebook, its parameters, the data files, the protocol file, the studylib version."""
    inputs = {
        "notebook_sha256": notebook.sha256,
        "parameters": parameters,
        "data_sha256": data_hashes,
        "studylib_version": package["version"],
        "kernel": kernel,
        "protocol_sha256": protocol_sha256,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def plan_tasks(
    patients: Sequence[str],
    notebooks: Sequence[PatientNotebook],
    population: Population,
    *,
    run_dir: Path,
    data_hashes: dict,
    package: dict,
    timeout_s: float | None,
    warm: bool,
    kernel_name: str = "python3",
) -> list[Task]:
    """Every (patient, notebook) pair that applies, patient by patient in screening order."""
    protocol_sha = population.protocol.sha256 if population.protocol else ""
    tasks = []
    for patient_id in patients:
        for notebook in notebooks:
            if notebook.population == "enrolled" and patient_id not in population.enrolled:
                continue
            parameters = notebook.parameters_for(
                patient_id, population.source.resolve(), Path(run_dir).resolve() / patient_id
            )
            tasks.append(
                Task(
                    patient_id=patient_id,
                    notebook=notebook.name,
                    notebook_path=str(notebook.path),
                    parameters=parameters,
                    run_dir=str(Path(run_dir).resolve()),
                    fingerprint=fingerprint(
                        notebook, parameters, data_hashes, package, kernel_name, protocol_sha
                    ),
                    timeout_s=timeout_s,
                    warm=warm,
                    kernel_name=kernel_name,
                    inputs=task_inputs(notebook, data_hashes, package, protocol_sha),
                )
            )
    return tasks


def task_inputs(
    notebook: PatientNotebook, data_hashes: dict, package: dict, protocol_sha256: str = ""
) -> dict:
    """The inputs a manifest entry names: data files, protocol file, notebook and studylib
    version."""
    return {
        "data_sha256": dict(data_hashes),
        "protocol_sha256": protocol_sha256,
        "notebook_sha256": notebook.sha256,
        "studylib_version": package["version"],
    }
