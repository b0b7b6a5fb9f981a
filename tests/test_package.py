"""The package's public names resolve, and importing it stays light."""

from __future__ import annotations

import re
import subprocess
import sys

import studylib


def test_every_public_name_resolves():
    """Each name in studylib.__all__ imports from its module."""
    for name in studylib.__all__:
        assert getattr(studylib, name) is not None, name


def test_import_is_lazy():
    """`import studylib` imports no engine, pandas or widgets until a name is used."""
    code = (
        "import sys, studylib; "
        "heavy = [m for m in ('pandas', 'ipywidgets', 'matplotlib', 'studylib.recist.timepoint')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readme_make_commands_exist(repo_dir):
    """Every `make <target>` the README tells a user to run is a target of the Makefile."""
    readme = (repo_dir / "README.md").read_text(encoding="utf-8")
    makefile = (repo_dir / "Makefile").read_text(encoding="utf-8")
    named = set(re.findall(r"(?:^|`)make ([a-z][a-z-]*)", readme, flags=re.M))
    defined = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    assert {"demo", "test", "lab", "teach"} <= named
    assert named - defined == set()


def test_ci_runs_the_readme_test_command(repo_dir):
    """CI installs system packages and then runs `make test`, refusing skipped tests."""
    script = (repo_dir / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install" in script and "chromium" in script
    assert script.rstrip().splitlines()[-1] == "STUDYLIB_NO_SKIPS=1 make test"
