"""The package's public names resolve, and importing it stays light."""

from __future__ import annotations

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
