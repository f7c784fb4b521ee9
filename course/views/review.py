"""Widgets of the spaced review (the schedule itself is in ``course/review.py``).

:func:`reviewable_question` is a practice question with a certainty choice: a missed or
unsure answer is scheduled for review in the learner's ``progress.json``.
:func:`review_session` shows the questions that are due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import ipywidgets as widgets

from course.questions import Question, check_answer, questions
from course.review import (
    CERTAINTIES,
    due_items,
    learner_folder,
    load_schedule,
    review_note,
    review_summary,
)
from course.views.widgets import WidgetWithText

CERTAINTY_LABELS = {"low": "Guessing", "medium": "Fairly sure", "high": "Certain"}


def _status(html: str) -> str:
    return f'<div role="status" aria-live="polite" style="line-height:1.5">{html}</div>'


def reviewable_question(question: Question,
                        folder_of: Callable[[], Path | None] = learner_folder) -> widgets.VBox:
    """A practice question with 'How sure are you?'; checking records it for review."""
    choices = widgets.RadioButtons(
        options=[(f"({o.letter}) {o.text}", o.letter) for o in question.options],
        value=None, description="Your answer", style={"description_width": "initial"},
        layout=widgets.Layout(width="auto"))
    certainty = widgets.ToggleButtons(
        options=[(CERTAINTY_LABELS[c], c) for c in CERTAINTIES], value=None,
        description="How sure are you?", style={"description_width": "initial"})
    button = widgets.Button(description="Check", tooltip="Check your answer",
                            button_style="primary")
    feedback = widgets.HTML(_status(""))

    def on_check(_: widgets.Button) -> None:
        if choices.value is None or certainty.value is None:
            feedback.value = _status("Choose an option and how sure you are first.")
            return
        result = check_answer(question, choices.value)
        note = review_note(folder_of(), question.id, result.correct, certainty.value)
        parts = [f"<p><strong>{escape(result.message)}</strong></p>"]
        if result.rationale:
            parts.append(f"<p>Why: {escape(result.rationale)}</p>")
        if result.refs:
            parts.append(f"<p>References: {escape(', '.join(result.refs))}</p>")
        parts.append(f"<p>{note}</p>")
        feedback.value = _status("".join(parts))

    button.on_click(on_check)
    stem = widgets.HTML(f'<div style="line-height:1.5"><p>{escape(question.stem)}</p>'
                        f"<p><strong>{escape(question.lead_in)}</strong></p></div>")
    return widgets.VBox([stem, choices, certainty, button, feedback])


def review_session(limit: int = 10, folder: Path | None = None,
                   now: datetime | None = None) -> WidgetWithText:
    """The due practice questions (at most ``limit``), each ready to answer again.

    Its text equivalent is the summary plus each due question's text.
    """
    folder = folder if folder is not None else learner_folder()
    now = now or datetime.now(UTC)
    texts = [review_summary(folder, now)]
    summary = widgets.HTML(_status(escape(texts[0])))
    items: list[widgets.Widget] = [summary]
    if folder is not None:
        try:
            due = due_items(load_schedule(folder), now)[:limit]
        except ValueError:
            due = []
        known = questions()
        for item in due:
            if item.qid in known:
                items.append(widgets.HTML(f"<h3>Question {escape(known[item.qid].number)}</h3>"))
                items.append(reviewable_question(known[item.qid], lambda: folder))
                texts.append(known[item.qid].text())
    return WidgetWithText(widgets.VBox(items), "\n\n".join(texts))
