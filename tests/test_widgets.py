"""Presentation helpers of course.views.widgets: read-only text twins and prose HTML."""

from __future__ import annotations

import pytest

from course import lesson
from course.views.dose import dose_calculator
from course.views.schedules import SessionPlanner
from course.views.screening import screening_form
from course.views.skin import SkinExplorer
from course.views.substances import substance_explorer
from course.views.widgets import ReadOnlyTextarea, prose, question_widget, text_twin


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Messages the widgets send to the front end (no kernel here)."""
    messages: list[dict] = []
    monkeypatch.setattr(ReadOnlyTextarea, "_send",
                        lambda self, msg, buffers=None: messages.append(msg))
    return messages


def test_an_edit_from_the_browser_is_discarded_and_the_text_sent_back(sent) -> None:
    twin = text_twin("Text summary", "The course's text.")
    twin.set_state({"value": "typed by the learner"})
    assert twin.value == "The course's text."
    assert {"method": "update", "state": {"value": "The course's text."},
            "buffer_paths": []} in sent


def test_other_front_end_state_and_python_updates_still_apply(sent) -> None:
    twin = text_twin("Text summary", "old")
    twin.set_state({"rows": 4})
    assert twin.rows == 4
    twin.value = "new"
    assert twin.value == "new"
    assert not any(m.get("state", {}).get("value") == "old" for m in sent)


def test_a_twin_is_enabled_full_width_and_labelled() -> None:
    twin = text_twin("Result (text)", height="10em")
    assert not twin.disabled
    assert (twin.layout.width, twin.layout.height) == ("100%", "10em")
    assert twin.description == "Result (text)"
    assert twin.style.description_width == "initial"


def test_prose_sets_body_line_height_around_the_html() -> None:
    html = prose("<p>One</p><p>Two</p>")
    assert html.startswith('<div class="course-prose" style="line-height:1.5">')
    assert html.endswith("<p>One</p><p>Two</p></div>")


def test_no_course_widget_shows_a_disabled_text_twin() -> None:
    import ipywidgets as widgets

    from course.questions import question

    views = [question_widget(question("q0_1")), SkinExplorer().view, SessionPlanner().view,
             substance_explorer().view, dose_calculator().view, screening_form().view]

    def textareas(widget) -> list:
        found = [widget] if isinstance(widget, widgets.Textarea) else []
        for child in getattr(widget, "children", ()):
            found += textareas(child)
        return found

    twins = [t for view in views for t in textareas(view)]
    assert len(twins) == 7  # feedback, 2 summaries, monograph, comparison, result, screening
    assert all(isinstance(t, ReadOnlyTextarea) and not t.disabled for t in twins)


def test_reference_links_are_underlined() -> None:
    from course.content import content

    linked = [ref_id for ref_id, ref in content().references.items() if ref.link][:2]
    html = lesson.cite(*linked).html
    assert html.count("<a href=") == html.count('style="text-decoration:underline"') == 2
