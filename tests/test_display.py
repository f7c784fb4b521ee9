"""Practice-only widgets and figures are skipped while nbgrader runs a notebook."""

from __future__ import annotations

import pytest

from course.complications import ntm_attack_rate_alt_text
from course.display import OmittedWhileGrading, grading_run
from course.lesson import practice
from course.schedules import DEFAULT_SELECTION, timeline_alt_text
from course.skin import explorer_summary, get_technique
from course.views.complications import ntm_attack_rate_figure
from course.views.figures import AccessibleFigure, show_figure
from course.views.schedules import session_planner
from course.views.skin import skin_explorer
from course.views.substances import evidence_map_figure


@pytest.fixture
def grading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")


@pytest.mark.parametrize(("value", "expected"), [
    ("autograde", True), ("validate", True), ("", False), ("something-else", False)])
def test_grading_run_reads_nbgrader_execution(monkeypatch: pytest.MonkeyPatch, value: str,
                                              expected: bool) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", value)
    assert grading_run() is expected


def test_outside_grading_the_widgets_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not isinstance(skin_explorer(), OmittedWhileGrading)
    assert not isinstance(session_planner(), OmittedWhileGrading)
    assert not isinstance(practice("q0_1"), OmittedWhileGrading)
    assert isinstance(show_figure(ntm_attack_rate_figure(), "alt"), AccessibleFigure)


@pytest.mark.usefixtures("grading")
def test_skin_explorer_while_grading_shows_its_starting_text() -> None:
    stand_in = skin_explorer(area="scalp")
    tech = get_technique("intraepidermal")
    expected = explorer_summary("scalp", tech.id, tech.example_needle_mm, tech.example_angle_deg)
    assert isinstance(stand_in, OmittedWhileGrading)
    assert stand_in.text.value == expected
    bundle = stand_in._repr_mimebundle_()
    assert "omitted while grading" in bundle["text/plain"]
    assert bundle["text/plain"].endswith(expected)
    assert "image/png" not in bundle


@pytest.mark.usefixtures("grading")
def test_session_planner_while_grading_shows_its_timeline_text() -> None:
    stand_in = session_planner()
    assert stand_in.text.value == timeline_alt_text(list(DEFAULT_SELECTION))


@pytest.mark.usefixtures("grading")
def test_practice_widget_is_not_built_while_grading() -> None:
    assert isinstance(practice("q0_1"), OmittedWhileGrading)
    with pytest.raises(KeyError):
        practice("no_such_question")


@pytest.mark.usefixtures("grading")
def test_lesson_figures_become_their_alt_text_while_grading() -> None:
    stand_in = show_figure(ntm_attack_rate_figure(), ntm_attack_rate_alt_text())
    assert isinstance(stand_in, OmittedWhileGrading)
    assert stand_in.summary == ntm_attack_rate_alt_text()
    assert isinstance(evidence_map_figure(), OmittedWhileGrading)


def test_html_of_the_stand_in_is_escaped() -> None:
    html = OmittedWhileGrading("Figure", "a < b & c\nnext")._repr_mimebundle_()["text/html"]
    assert "a &lt; b &amp; c<br>next" in html
