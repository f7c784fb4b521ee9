"""Presentation helpers of course.views.widgets: collapsed text descriptions of widgets,
the read-only feedback box and prose HTML."""

from __future__ import annotations

import re
from html import escape, unescape

import pytest

from course import lesson
from course.views.dose import dose_calculator
from course.views.schedules import SessionPlanner
from course.views.screening import screening_form
from course.views.skin import SkinExplorer
from course.views.substances import substance_explorer
from course.views.widgets import (
    ReadOnlyTextarea,
    TextDescription,
    prose,
    question_widget,
    text_description_widget,
    text_twin,
)


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


def _all(widget, kind: type) -> list:
    found = [widget] if isinstance(widget, kind) else []
    for child in getattr(widget, "children", ()):
        found += _all(child, kind)
    return found


def _views() -> list:
    from course.questions import question

    return [question_widget(question("q0_1")), SkinExplorer().view, SessionPlanner().view,
            substance_explorer().view, dose_calculator().view, screening_form().view]


def test_no_widget_text_equivalent_is_a_visible_text_box() -> None:
    import ipywidgets as widgets

    views = _views()
    boxes = [t for view in views for t in _all(view, widgets.Textarea)]
    # Only the practice widget's feedback is a (read-only, enabled) text box.
    assert [t.description for t in boxes] == ["Feedback"]
    assert all(isinstance(t, ReadOnlyTextarea) and not t.disabled for t in boxes)
    described = [d for view in views for d in _all(view, TextDescription)]
    assert [d.summary for d in described] == [
        "Text description of the cross-section", "Text description of the timeline",
        "Text description of the comparison", "Text description of the monograph",
        "Text description of the result", "Text description of the result"]


def test_a_text_description_is_collapsed_and_follows_its_value() -> None:
    described = text_description_widget("Text description of the result", "Line <one>.")
    html = described.html.value
    assert html.startswith('<div class="course-prose"')
    assert '<details class="course-text-description"' in html and " open" not in html
    assert "<summary>Text description of the result</summary>" in html
    assert "<p>Line &lt;one&gt;.</p>" in html
    described.value = "Line two."
    assert "<p>Line two.</p>" in described.html.value and "one" not in described.html.value
    described.value = ""
    assert described.html.value == ""
    assert "value" not in described.keys  # the plain text is not sent as a widget state


def test_a_text_description_body_reads_as_the_plain_text() -> None:
    """Copied or read by a script, the description's body is the plain text itself."""
    text = "Decision: || Defer\nReasons: <herpes> & more\n\nTeaching aid."
    html = text_description_widget("Text description of the result", text).html.value
    body = html.split('<div class="course-text-description-body">', 1)[1]
    assert unescape(re.sub(r"<[^>]+>", "", body)) == text


def test_each_widget_rewrites_its_text_description_when_it_changes() -> None:
    calc = dose_calculator(weight_kg=70, percent=1, volume_ml=5)
    calc.weight.value = 0
    assert "Enter the weight" in calc.text.value
    assert escape(calc.text.value.splitlines()[0]) in calc.text.html.value
    form = screening_form()
    form.screen()
    assert escape(form.text.value.splitlines()[0]) in form.text.html.value
    explorer = SkinExplorer()
    explorer.angle.value = 45
    assert "At 45°" in explorer.summary.value and "At 45°" in explorer.summary.html.value
    planner = SessionPlanner()
    planner.schedules.value = ()
    assert "Choose at least one schedule" in planner.summary.html.value
    catalogue = substance_explorer()
    catalogue.compare_with.value = next(
        v for _, v in catalogue.compare_with.options if v not in ("any", catalogue.results.value))
    assert catalogue.compare.value and "<details" in catalogue.compare.html.value


def test_reference_links_are_underlined() -> None:
    from course.content import content

    linked = [ref_id for ref_id, ref in content().references.items() if ref.link][:2]
    html = lesson.cite(*linked).html
    assert html.count("<a href=") == html.count('style="text-decoration:underline"') == 2
