"""Self-check questions: a question, and on demand its answer and the rule it comes from.

A :class:`Question` holds text only; the question banks in :mod:`studylib.widgets.questions`
compute every answer with the engines and quote the rule from ``protocol.toml``, so an answer
can never disagree with the protocol file. :class:`SelfCheck` shows a list of them with a
button each that reveals (and hides again) the answer.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd

__all__ = ["Question", "SelfCheck"]


@dataclass(frozen=True)
class Question:
    """One self-check question.

    Attributes
    ----------
    prompt
        The question, in the words of the ward or the clinic.
    answer
        The answer, as the engine computed it (with the values and units it compared).
    rule
        The protocol or RECIST sentence the answer rests on, quoted word for word (empty when
        the answer rests on a reading alone).
    source
        Where that sentence is written (a ``protocol.toml`` section or a RECIST section).
    reading
        How the study reads that sentence where it is ambiguous (the ``reading`` of
        ``protocol.toml``). Shown apart from the quote, so that no one takes the study's
        reading for the registry's words.
    """

    prompt: str
    answer: str
    rule: str
    source: str = ""
    reading: str = ""


class SelfCheck(widgets.VBox):
    """Questions with a "Show answer" button each; the answer is not on the page until asked.

    Parameters
    ----------
    questions
        The questions, in the order to ask them.
    title
        A heading above them.

    Attributes
    ----------
    buttons
        One button per question; ``buttons[i].click()`` reveals or hides answer ``i``.
    answers
        One HTML widget per question, empty until revealed.
    """

    def __init__(self, questions: Sequence[Question], title: str = "Check yourself") -> None:
        self.questions = list(questions)
        self.buttons: list[widgets.Button] = []
        self.answers: list[widgets.HTML] = []
        rows: list[widgets.Widget] = [widgets.HTML(f"<h4>{html.escape(title)}</h4>")]
        for number, question in enumerate(self.questions, start=1):
            prompt = widgets.HTML(f"<b>{number}.</b> {html.escape(question.prompt)}")
            button = widgets.Button(description="Show answer", icon="eye")
            button.add_class("studylib-reveal")
            answer = widgets.HTML("")
            answer.add_class("studylib-answer")
            button.on_click(lambda _, i=number - 1: self.toggle(i))
            self.buttons.append(button)
            self.answers.append(answer)
            rows.append(widgets.VBox([prompt, button, answer]))
        super().__init__(rows)
        self.add_class("studylib-selfcheck")

    def revealed(self, index: int) -> bool:
        """Whether answer ``index`` is shown."""
        return bool(self.answers[index].value)

    def toggle(self, index: int) -> None:
        """Reveal answer ``index``, or hide it if it is shown."""
        if self.revealed(index):
            self.answers[index].value = ""
            self.buttons[index].description = "Show answer"
            return
        question = self.questions[index]
        source = f" <i>({html.escape(question.source)})</i>" if question.source else ""
        lines = [f"<b>Answer:</b> {html.escape(question.answer)}"]
        if question.rule:
            lines.append(f"<b>Rule:</b> “{html.escape(question.rule)}”{source}")
        if question.reading:
            lines.append(
                f"<b>How the study reads it:</b> {html.escape(question.reading)}"
                + ("" if question.rule else source)
            )
        self.answers[index].value = (
            '<div style="border-left:4px solid #4a90d9;padding:4px 8px;margin:2px 0 8px 0">'
            + "<br>".join(lines)
            + "</div>"
        )
        self.buttons[index].description = "Hide answer"

    def static(self) -> list[object]:
        """The questions with their answers, as a table (no front end needed)."""
        return [self.table()]

    def table(self) -> pd.DataFrame:
        """Questions, answers and rules as a table (for the notebook without a front end)."""
        return pd.DataFrame(
            {
                "question": [q.prompt for q in self.questions],
                "answer": [q.answer for q in self.questions],
                "rule": [q.rule for q in self.questions],
                "source": [q.source for q in self.questions],
                "reading": [q.reading for q in self.questions],
            }
        )
