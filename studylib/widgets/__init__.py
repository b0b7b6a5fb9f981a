"""Teaching widgets for the protocol tour: thin ipywidgets views over the engines.

Each panel maps controls to an engine's arguments and shows what the engine returns; none
holds a rule, a threshold or a response decision of its own (shared/DESIGN.md). Panels are
``ipywidgets.VBox`` subclasses, so ``display(panel)`` shows them in JupyterLab or Voilà, and
tests set ``panel.<control>.value`` and read the result synchronously.

The names are imported on first use, so ``import studylib.widgets`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    "show": "studylib.widgets.display",
    "Question": "studylib.widgets.quiz",
    "SelfCheck": "studylib.widgets.quiz",
    "ScreeningForm": "studylib.widgets.screening",
    "ScheduleExplorer": "studylib.widgets.schedule",
    "RecistCalculator": "studylib.widgets.recist",
    "design_questions": "studylib.widgets.questions",
    "screening_questions": "studylib.widgets.questions",
    "schedule_questions": "studylib.widgets.questions",
    "response_questions": "studylib.widgets.questions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'studylib.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
