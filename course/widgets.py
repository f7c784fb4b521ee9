"""Thin ipywidgets views over the package's pure functions.

Widgets are for practice only: autograde runs without a browser, so a widget never
holds a graded answer. Each view has a text equivalent elsewhere in the notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets

from course.questions import Question, check_answer


def question_widget(question: Question) -> widgets.VBox:
    """Radio buttons, a Check button and a feedback area for a formative question."""
    choices = widgets.RadioButtons(
        options=[(f"({o.letter}) {o.text}", o.letter) for o in question.options],
        value=None,
        description="Your answer",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="auto"),
    )
    button = widgets.Button(description="Check", tooltip="Check your answer",
                            button_style="primary")
    feedback = widgets.Textarea(value="", description="Feedback", disabled=True,
                                layout=widgets.Layout(width="100%", height="8em"))

    def on_check(_: widgets.Button) -> None:
        if choices.value is None:
            feedback.value = "Choose an option first."
            return
        feedback.value = check_answer(question, choices.value).text()

    button.on_click(on_check)
    stem = widgets.HTML(
        f"<p>{escape(question.stem)}</p><p><strong>{escape(question.lead_in)}</strong></p>"
    )
    return widgets.VBox([stem, choices, button, feedback])


@dataclass(frozen=True)
class WidgetWithText:
    """A widget view that text-only front ends (and screen readers) read as plain text."""

    view: widgets.Widget
    text: str

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = dict(self.view._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.text
        return bundle


def practice_widget(question: Question) -> WidgetWithText:
    """The practice widget of a question, with the question's text as its equivalent."""
    return WidgetWithText(question_widget(question), question.text())
