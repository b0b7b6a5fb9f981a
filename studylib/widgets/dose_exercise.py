""" "Should dose 9 be given?": practise the IL-2 hold criteria on the cohort's own dose slots.

A new staff member sees what the nurse recorded before one dose (vital signs, the latest
laboratory panel, the weight against the screening weight), answers give, hold or stop, and
then sees what the protocol's ``[safety]`` criteria say and why, quoted from their source. The
answer is :func:`studylib.safety.judge_slots`'s; the panel holds no criterion of its own.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from studylib.protocol import Protocol, resolve_protocol
from studylib.safety.decision import ACTIONS
from studylib.widgets.style import message_html, table_html

__all__ = ["DoseExercise", "exercise_cases"]

_COLOURS = {"give": "#d9f0d3", "hold": "#fff2cc", "stop": "#f4cccc"}


def exercise_cases(judged: pd.DataFrame, number: int = 9) -> pd.DataFrame:
    """The assessed slots with dose ``number`` of their cycle, one per decision where the
    cohort has one (give, hold, stop, in that order), then the others, in file order."""
    slots = judged[judged["assessed"] & (judged["number"] == number)]
    first = [slots[slots["action"] == a].head(1) for a in ACTIONS]
    chosen = pd.concat(first)
    rest = slots.drop(chosen.index)
    return pd.concat([chosen, rest]).reset_index(drop=True)


class DoseExercise(widgets.VBox):
    """Practise the dose-hold criteria on recorded dose slots.

    Parameters
    ----------
    judged
        :func:`studylib.safety.judge_slots` of a trial folder.
    protocol
        The protocol those decisions were made with (its criteria are quoted).
    number
        Which dose of the cycle to ask about.

    Attributes
    ----------
    case, answer, check, feedback
        The case chooser, the give/hold/stop buttons, the check button and the result.
    """

    def __init__(
        self, judged: pd.DataFrame, *, protocol: Protocol | None = None, number: int = 9
    ) -> None:
        self.protocol = resolve_protocol(protocol)
        self.number = number
        self.cases = exercise_cases(judged, number)
        self.observations = [c for c in self.protocol.safety.observations if c in judged]
        labels = [
            (f"Case {i + 1}: patient {r.patient_id}, cycle {r.cycle}", i)
            for i, r in enumerate(self.cases.itertuples())
        ]
        self.case = widgets.Dropdown(options=labels, description="Case")
        self.shown = widgets.HTML()
        self.answer = widgets.ToggleButtons(options=list(ACTIONS), value=None)
        self.check = widgets.Button(description="Check my answer", icon="check")
        self.feedback = widgets.HTML()
        self.case.observe(lambda _: self.show(), names="value")
        self.check.on_click(lambda _: self.mark())
        title = widgets.HTML(f"<h4>Should dose {number} be given?</h4>")
        super().__init__([title, self.case, self.shown, self.answer, self.check, self.feedback])
        self.add_class("studylib-dose-exercise")
        if len(self.cases):
            self.show()
        else:
            self.shown.value = message_html(
                f"No dose {number} was assessed in this trial folder.", "missing"
            )

    @property
    def current(self) -> pd.Series:
        return self.cases.iloc[self.case.value]

    def show(self) -> None:
        """Show the chosen case's observations; clear the answer."""
        row = self.current
        recorded = row[self.observations].dropna()
        recorded = recorded[recorded.astype(str).str.strip() != ""]
        frame = pd.DataFrame(
            {
                "observation": [k.replace("_", " ") for k in recorded.index],
                "recorded": recorded.astype(str).to_numpy(),
            }
        )
        when = pd.Timestamp(row["scheduled_at"]).strftime("%a %Y-%m-%d %H:%M")
        self.shown.value = (
            f"<p>Dose {self.number} of cycle {row['cycle']} is due {when}. Before it, the"
            " nurse recorded (the laboratory values are the latest panel):</p>"
            + table_html(frame, css_class="studylib-table dose-observations")
        )
        self.answer.value = None
        self.feedback.value = ""

    def mark(self) -> None:
        """Say whether the answer is the criteria's, and why."""
        row = self.current
        if self.answer.value is None:
            self.feedback.value = message_html("Choose give, hold or stop first.", "missing")
            return
        right = self.answer.value == row["action"]
        verdict = "Right" if right else f"Not quite: the criteria say {row['action'].upper()}"
        reasons = html.escape(str(row["reasons"])).replace(". ", ".<br>")
        met = [c.strip() for c in str(row["criteria_met"]).split(",") if c.strip()]
        quotes = "".join(
            f"<li><b>{html.escape(c.id)}</b> ({html.escape(c.kind)}): “{html.escape(c.quote)}”"
            f" <i>{html.escape(c.source)}</i></li>"
            for c in self.protocol.safety.criteria
            if c.id in met
        )
        recorded = f"<p>The ward recorded: <b>{html.escape(str(row['recorded']))}</b>.</p>"
        self.feedback.value = (
            f'<div style="background:{_COLOURS[row["action"]]};padding:6px;border-radius:4px">'
            f"<b>{verdict}.</b><br>{reasons}</div>"
            + (
                f"<p>The criteria, as their sources word them (not from the registry):</p>"
                f"<ul>{quotes}</ul>"
                if quotes
                else ""
            )
            + recorded
        )
