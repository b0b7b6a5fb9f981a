""" "Should dose 9 be given?": practise the IL-2 hold criteria at the bedside.

A new staff member sees what the nurse recorded before a dose (vital signs, the latest
laboratory values, the weight against the weight before the cycle), answers give, hold or
stop, and sees what the protocol's ``[safety]`` criteria say and why, quoted from their
source. The cases come from :func:`studylib.widgets.lessons.dose_cases` (made from the
protocol's own criteria) and every answer from :func:`studylib.safety.dose_decision`; the panel
holds no criterion of its own.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from studylib.protocol import Protocol, resolve_protocol
from studylib.safety.decision import ACTIONS, DoseDecision, dose_decision
from studylib.widgets.style import message_html, table_html

__all__ = ["DoseExercise"]

_COLOURS = {"give": "#d9f0d3", "hold": "#fff2cc", "stop": "#f4cccc"}


class DoseExercise(widgets.VBox):
    """Practise the dose-hold criteria on a few recorded shifts.

    Parameters
    ----------
    cases
        ``(title, observations)`` pairs (:func:`studylib.widgets.lessons.dose_cases`).
    protocol
        Whose criteria decide (and are quoted).
    number
        Which dose of the cycle the cases come before.

    Attributes
    ----------
    case, answer, check, feedback
        The case chooser, the give/hold/stop buttons, the check button and the result.
    decisions
        What the criteria decide for each case.
    """

    def __init__(
        self,
        cases: list[tuple[str, dict[str, str]]],
        *,
        protocol: Protocol | None = None,
        number: int = 9,
    ) -> None:
        self.protocol = resolve_protocol(protocol)
        self.number = number
        self.cases = list(cases)
        self.decisions: list[DoseDecision] = [
            dose_decision(observations, protocol=self.protocol) for _, observations in self.cases
        ]
        self.case = widgets.Dropdown(
            options=[(f"Case {i + 1}", i) for i in range(len(self.cases))], description="Case"
        )
        self.shown = widgets.HTML()
        self.answer = widgets.ToggleButtons(options=list(ACTIONS), value=None)
        self.check = widgets.Button(description="Check my answer", icon="check")
        self.feedback = widgets.HTML()
        self.case.observe(lambda _: self.show(), names="value")
        self.check.on_click(lambda _: self.mark())
        title = widgets.HTML(f"<h4>Should dose {number} be given?</h4>")
        super().__init__([title, self.case, self.shown, self.answer, self.check, self.feedback])
        self.add_class("studylib-dose-exercise")
        if self.cases:
            self.show()
        else:
            self.shown.value = message_html(
                f"{self.protocol.name} has no dose criteria ([safety]): nothing to practise.",
                "missing",
            )

    def observations_html(self, index: int) -> str:
        """What the nurse recorded before the dose, in case ``index``."""
        _, observations = self.cases[index]
        frame = pd.DataFrame(
            {
                "observation": [k.replace("_", " ") for k in observations],
                "recorded": list(observations.values()),
            }
        )
        return (
            f"<p>Dose {self.number} of the cycle is due. Before it, the nurse recorded (the"
            " laboratory values are the latest panel):</p>"
            + table_html(frame, css_class="studylib-table dose-observations")
        )

    def answer_html(self, index: int) -> str:
        """What the criteria decide for case ``index`` and why, quoting them."""
        decision = self.decisions[index]
        reasons = "<br>".join(html.escape(r) for r in decision.reasons)
        met = {f.criterion for f in decision.findings if f.met}
        quotes = "".join(
            f"<li><b>{html.escape(c.id)}</b> ({html.escape(c.kind)}): “{html.escape(c.quote)}”"
            f" <i>{html.escape(c.source)}</i></li>"
            for c in self.protocol.safety.criteria
            if c.id in met
        )
        words = (
            "<p>The criteria met, as their sources word them (not from the registry):</p>"
            f"<ul>{quotes}</ul>"
            if quotes
            else ""
        )
        return (
            f'<div style="background:{_COLOURS[decision.action]};padding:6px;border-radius:4px">'
            f"<b>{decision.action.upper()}.</b><br>{reasons}</div>{words}"
        )

    def show(self) -> None:
        """Show the chosen case's observations; clear the answer."""
        self.shown.value = self.observations_html(self.case.value)
        self.answer.value = None
        self.feedback.value = ""

    def mark(self) -> None:
        """Say whether the answer is the criteria's, and why."""
        if self.answer.value is None:
            self.feedback.value = message_html("Choose give, hold or stop first.", "missing")
            return
        action = self.decisions[self.case.value].action
        verdict = "Right" if self.answer.value == action else "Not quite"
        self.feedback.value = f"<p><b>{verdict}.</b></p>" + self.answer_html(self.case.value)

    def static(self) -> list[object]:
        """Every case with its answer, for the tour without a front end."""
        from IPython.display import HTML

        parts = [f"<h4>Should dose {self.number} be given?</h4>"]
        for index, (title, _) in enumerate(self.cases):
            parts.append(f"<h5>Case {index + 1}: {html.escape(title)}</h5>")
            parts.append(self.observations_html(index))
            parts.append(self.answer_html(index))
        return [HTML("".join(parts))]
