"""Code that runs inside a warm kernel, between two notebooks (``studylib batch --warm``).

A warm kernel keeps the imported modules (pandas, pint, matplotlib, studylib) across the
notebooks it runs, so only the first notebook of a worker pays for them. Everything a
notebook can change that would show in the next one's outputs is put back between them, so
that each notebook sees what a fresh kernel would show it:

- the user namespace and the execution counter (IPython's ``reset(new_session=True)``),
- the working directory, ``sys.path`` and the environment variables,
- the warning filters,
- pandas display and behaviour options, numpy's print options,
- matplotlib's open figures and ``rcParams``,
- IPython's configuration (``%config``, ``%precision``), such as the inline backend's
  ``print_figure_kwargs``: ``%config InlineBackend.print_figure_kwargs = {"dpi": 72}`` in one
  notebook would otherwise draw the next notebook's figures at 72 dpi.

State a notebook hides in a module's globals is not reset: per-patient notebooks must not
rely on it.
"""

from __future__ import annotations

import copy
import gc
import os
import sys
import warnings

_START: dict = {}


def _configurables() -> list:
    """What ``%config`` and friends change: the shell's configurables and its formatters."""
    from IPython import get_ipython

    shell = get_ipython()
    found = list(shell.configurables) + list(shell.display_formatter.formatters.values())
    return list({id(c): c for c in found}.values())


def _copied(value):
    try:
        return copy.deepcopy(value)
    except Exception:  # a class or a handle: kept as is (such settings are not edited)
        return value


def _settings(configurable) -> dict:
    return {n: _copied(getattr(configurable, n)) for n in configurable.trait_names(config=True)}


def _restore_settings() -> None:
    for configurable, saved in _START["config"]:
        for name, value in saved.items():
            # only what changed: setting a trait runs its observers (the inline backend
            # re-registers its figure formatter when print_figure_kwargs is set)
            if getattr(configurable, name) != value:
                setattr(configurable, name, _copied(value))


def snapshot() -> None:
    """Remember the fresh kernel's state; called once, before the first notebook."""
    # batch kernels start with the inline backend active (execute.KERNEL_ARGUMENTS), so
    # these rcParams include what it set, such as interactive mode
    import matplotlib
    import numpy

    _START.update(
        cwd=os.getcwd(),
        path=list(sys.path),
        environ=dict(os.environ),
        filters=list(warnings.filters),
        rc={k: v for k, v in matplotlib.rcParams.items() if k != "backend"},
        config=[(c, _settings(c)) for c in _configurables()],
        numpy_print=numpy.get_printoptions(),
    )


def reset() -> None:
    """Put the kernel back in the state :func:`snapshot` saw, ready for the next notebook."""
    os.chdir(_START["cwd"])
    sys.path[:] = _START["path"]
    os.environ.clear()
    os.environ.update(_START["environ"])
    warnings.resetwarnings()  # also invalidates the "already warned" registries
    warnings.filters.extend(_START["filters"])
    with warnings.catch_warnings():
        # resetting deprecated pandas options warns; the reset itself is what matters here
        warnings.simplefilter("ignore")
        if "pandas" in sys.modules:
            sys.modules["pandas"].reset_option("all")
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        sys.modules["matplotlib"].rcParams.update(_START["rc"])
        sys.modules["numpy"].set_printoptions(**_START["numpy_print"])
    _restore_settings()
    from IPython import get_ipython

    get_ipython().reset(new_session=True)  # ends with a full garbage collection
    # What survives that collection is the imported modules' state, kept for the next
    # notebooks: frozen, the collector skips it, and the next reset's collection only scans
    # what one notebook made (about 80 ms less per notebook with pandas, scipy, matplotlib)
    gc.freeze()
