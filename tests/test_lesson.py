"""Notebook-facing helpers give equal HTML and text views; widgets wrap pure checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import nbformat
import pytest

from course import LIMITS_STATEMENT, lesson
from course.questions import question
from course.syllabus import course_map
from course.views.widgets import question_widget
from tests.conftest import ROOT


def test_evidence_shows_each_claim_in_html_and_text() -> None:
    shown = lesson.evidence("has_2014_no_positive_evidence", "course_limits_competence")
    assert shown.html.count('class="course-badge"') == 2
    assert "R8" in repr(shown) and "GK" in repr(shown)


def test_cite_unknown_reference_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="R999"):
        lesson.cite("R8", "R999")


def test_course_map_shows_every_notebook_available_without_release(
        tmp_path: Path) -> None:
    """On a hub the package is installed without release/ and COURSE_ROOT may point
    anywhere: the map still offers every notebook (issue #18: nothing is 'planned')."""
    env = {**os.environ, "COURSE_ROOT": str(tmp_path)}
    code = "from course import lesson; print(repr(lesson.course_map()))"
    text = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env, cwd=tmp_path).stdout
    assert "planned" not in text
    entries = [(a, nb) for a in course_map() for nb in a.notebooks]
    for assignment, nb in entries:
        assert f"{assignment.id} | {nb.title} | {nb.minutes} | available |" in text
    assert text.count("| available |") == len(entries)
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


def test_printed_options_are_hidden_where_the_answer_form_lists_them() -> None:
    html = lesson.question("q1_1_1").html
    rule = lesson.options_hidden_by_form("answer_q1_1_1")
    assert html.startswith(f"<style>{rule}</style>")
    assert ".jp-Cell:has(~ .jp-Cell .course-AnswerForm[data-answer=\"answer_q1_1_1\"])" in rule
    assert rule.endswith("{display:none}")
    assert "<ul class='course-question-options' data-answer='answer_q1_1_1'" in html
    # Outside JupyterLab's forms (nbgrader's HTML, feedback, text) every option stays.
    for option in question("q1_1_1").options:
        assert escape(option.text) in html and option.text in repr(lesson.question("q1_1_1"))


def _question_cells() -> list[tuple[str, str, str | None]]:
    """(notebook, question id, name of the next answer cell) for each printed question."""
    from course.cases import get_case

    found = []
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells[:-1]):
            if cell.cell_type != "code":
                continue
            for call in re.finditer(r'\b(question|follow_up)\("([^"]+)"\)', cell.source):
                qid = call.group(2) if call.group(1) == "question" else \
                    get_case(call.group(2)).follow_up.question
                answers = [c.metadata["course"]["answer"]["name"] for c in cells[i + 1:]
                           if "answer" in c.metadata.get("course", {})]
                found.append((path.stem, qid, answers[0] if answers else None))
    return found


def test_every_printed_question_is_followed_by_its_own_answer_form() -> None:
    found = _question_cells()
    assert len(found) >= 40
    wrong = [(nb, qid, name) for nb, qid, name in found if name != f"answer_{qid}"]
    assert not wrong, f"the options rule would not find these forms: {wrong}"


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


def test_course_map_links_each_notebook_relative_to_the_learner_copy() -> None:
    html = lesson.course_map(here="02-substances").html
    assert 'href="../01-principles/03-quiz.ipynb"' in html
    assert 'href="04-quiz.ipynb"' in html
