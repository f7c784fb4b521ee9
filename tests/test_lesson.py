"""Notebook-facing helpers give equal HTML and text views; widgets wrap pure checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course import LIMITS_STATEMENT, lesson
from course.questions import question
from course.syllabus import course_map
from course.views.widgets import question_widget


def test_evidence_shows_each_claim_in_html_and_text() -> None:
    shown = lesson.evidence("has_2014_no_positive_evidence", "course_limits_competence")
    assert shown.html.count('class="course-badge"') == 2
    assert "R8" in repr(shown) and "GK" in repr(shown)


def test_cite_unknown_reference_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="R999"):
        lesson.cite("R8", "R999")


def test_course_map_marks_released_notebooks_available(tmp_path: Path) -> None:
    first = course_map()[0]
    (tmp_path / first.id).mkdir()
    (tmp_path / first.id / f"{first.notebooks[0].id}.ipynb").write_text("{}")
    text = repr(lesson.course_map(release=tmp_path))
    assert f"{first.id} | {first.notebooks[0].title} | {first.notebooks[0].minutes} | available" \
        in text
    assert "planned" in text
    total = sum(a.minutes for a in course_map())
    assert f"about {total // 60} h {total % 60} min" in text


def test_check_prints_feedback(capsys: pytest.CaptureFixture[str]) -> None:
    lesson.check("q0_1", 42)
    assert "letter in quotes" in capsys.readouterr().out


def test_limits_statement_is_shown_as_text() -> None:
    assert LIMITS_STATEMENT in repr(lesson.limits())
    assert "cannot certify hands-on competence" in LIMITS_STATEMENT


def test_question_shows_its_visible_number() -> None:
    shown = lesson.question("q0_1")
    assert repr(shown).startswith("Question 0.1 (practice)")
    assert "<strong>Question 0.1</strong>" in shown.html
    assert "aria-label='Practice question 0.1'" in shown.html


def test_question_text_lists_every_option() -> None:
    text = repr(lesson.question("q0_1"))
    for option in question("q0_1").options:
        assert f"({option.letter}) {option.text}" in text


def test_widget_check_shows_the_same_feedback_as_the_function() -> None:
    q = question("q0_1")
    box = question_widget(q)
    _, choices, button, feedback = box.children
    button.click()
    assert feedback.value == "Choose an option first."
    choices.value = "a"
    button.click()
    assert q.option("a").rationale in feedback.value
    assert feedback.value.startswith("Not the best answer")


def test_practice_widget_reads_as_the_question_in_plain_text() -> None:
    bundle = lesson.practice("q0_1")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == question("q0_1").text()


@pytest.mark.parametrize("module", ["course", "course.lesson", "course.views.skin",
                                    "course.views.schedules", "course.views.figures"])
def test_import_stays_light(module: str) -> None:
    heavy = ["matplotlib", "nbgrader", "ipywidgets", "nbformat", "nbconvert"]
    code = f"import sys, {module}; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_text_description_is_collapsed_but_in_the_page() -> None:
    shown = lesson.text_description("Row 1: <HA> high", "Text description: the map")
    assert shown.html.startswith("<details")
    assert "<summary>Text description: the map</summary>" in shown.html
    assert "&lt;HA&gt;" in shown.html and "<HA>" not in shown.html
    assert repr(shown) == "Text description: the map:\nRow 1: <HA> high"


def test_course_map_links_each_notebook_relative_to_the_learner_copy(tmp_path: Path) -> None:
    html = lesson.course_map(release=tmp_path, here="02-substances").html
    assert 'href="../01-principles/03-quiz.ipynb"' in html
    assert 'href="04-quiz.ipynb"' in html
