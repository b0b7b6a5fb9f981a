"""Teaching widgets for the protocol tour: thin ipywidgets views over the engines.

Each panel maps controls to an engine's arguments and shows what the engine returns; none
holds a rule, a threshold or a response decision of its own. Panels are
``ipywidgets.VBox`` subclasses, so ``display(panel)`` shows them in JupyterLab or Voilà, and
tests set ``panel.<control>.value`` and read the result synchronously.

The names are imported on first use, so ``import studylib.widgets`` stays cheap.
"""

from __future__ import annotations

from studylib._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "show": "studylib.widgets.display",
    "Question": "studylib.widgets.quiz",
    "SelfCheck": "studylib.widgets.quiz",
    "ScreeningForm": "studylib.widgets.screening",
    "ScheduleExplorer": "studylib.widgets.schedule",
    "RecistCalculator": "studylib.widgets.recist",
    "DoseExercise": "studylib.widgets.dose_exercise",
    "design_questions": "studylib.widgets.questions",
    "screening_questions": "studylib.widgets.questions",
    "schedule_questions": "studylib.widgets.questions",
    "response_questions": "studylib.widgets.questions",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
