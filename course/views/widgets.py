"""Thin ipywidgets views over the package's pure functions.

Widgets are for practice only: autograde runs without a browser, so a widget never
holds a graded answer. Each view has a text equivalent elsewhere in the notebook.

Presentation helpers shared by every course widget: :func:`text_description_widget`
(a widget's text equivalent, collapsed under "Text description" like a figure's, and
rewritten whenever the widget changes), :func:`text_twin` (a read-only text box, for
the practice widget's feedback) and :func:`prose` (HTML set at the line height of body
text).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets
import traitlets

from course.callouts import text_description
from course.questions import Question, check_answer

PROSE_STYLE = "line-height:1.5"
"""ipywidgets sets an HTML widget's line height to its 28 px control height, so
paragraphs and lists in it look double-spaced; prose sets it back to body text's."""


def prose(html: str) -> str:
    """HTML for an HTML widget, in a block at body-text line height."""
    return f'<div class="course-prose" style="{PROSE_STYLE}">{html}</div>'


class ReadOnlyTextarea(widgets.Textarea):
    """A Textarea the learner can focus, select, scroll and copy but not change.

    A ``disabled`` Textarea is drawn at 60% opacity (grey text #797979 on white, 4.4:1,
    below WCAG AA's 4.5:1), cannot be focused and cannot be scrolled with the keyboard.
    This one stays enabled; an edit made in the browser is discarded and the course's
    text is sent back to the view. Setting ``.value`` from Python works as usual.
    """

    def set_state(self, sync_data: dict[str, Any]) -> None:
        if "value" in sync_data:
            sync_data = {name: v for name, v in sync_data.items() if name != "value"}
            self.send_state("value")
        super().set_state(sync_data)


def text_twin(description: str, value: str = "", *, height: str = "14em",
              description_width: str = "initial") -> ReadOnlyTextarea:
    """The plain-text twin of a widget: full width, read-only, legible."""
    return ReadOnlyTextarea(value=value, description=description,
                            style={"description_width": description_width},
                            layout=widgets.Layout(width="100%", height=height))


class TextDescription(widgets.VBox):
    """A widget's text equivalent in a collapsed ``<details>`` ("Text description").

    Sighted readers see one summary line instead of a second copy of the result; the
    ``<summary>`` is focusable and screen readers reach it and its text. ``value`` is the
    plain text (kept in Python, not sent as such); setting it rewrites the HTML, so the
    description follows the widget. An empty value shows nothing.
    """

    value = traitlets.Unicode("")

    def __init__(self, summary: str = "Text description", value: str = "") -> None:
        self.summary = summary
        self.html = widgets.HTML(layout=widgets.Layout(width="100%"))
        super().__init__([self.html], layout=widgets.Layout(width="100%"))
        self.add_class("course-text-description-widget")
        self.observe(self._render, names="value")
        self.value = value
        self._render()

    def _render(self, _change: Any = None) -> None:
        self.html.value = prose(text_description(self.value, self.summary)) \
            if self.value.strip() else ""


def text_description_widget(summary: str = "Text description",
                            value: str = "") -> TextDescription:
    """The text equivalent of a widget, collapsed under ``summary``; set ``.value``."""
    return TextDescription(summary, value)


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
    feedback = text_twin("Feedback", height="8em", description_width="")

    def on_check(_: widgets.Button) -> None:
        if choices.value is None:
            feedback.value = "Choose an option first."
            return
        feedback.value = check_answer(question, choices.value).text()

    button.on_click(on_check)
    stem = widgets.HTML(prose(
        f"<p>{escape(question.stem)}</p><p><strong>{escape(question.lead_in)}</strong></p>"
    ))
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
