"""Grading round trip for every assignment, through nbgrader's own autograde.

The instructor version scores full marks; the untouched release scores zero; tampered
releases (edited test cell, changed points, deleted test cell) score no more than the
untouched release; feedback never shows a hidden test or its traceback.

nbgrader's autograde is the slow part (a kernel per notebook): the instructor version of
each assignment is autograded once per module (fixture ``instructor_grade``) and serves
as the full-marks submission, the "right" student of the feedback test and the reference
of the case-study gate.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from nbformat import NotebookNode

from course.grading.assignments import GradeResult, autograde_notebooks, nbgrader_api
from course.grading.nbgrader_plugins import is_test_cell
from course.notebooks import HIDDEN_MARKERS, find_leaks, html_to_text, read_notebook, secret_lines

from .conftest import ASSIGNMENTS, GRADED_ASSIGNMENTS, ROOT

pytestmark = pytest.mark.slow


def _notebooks(folder: Path) -> dict[str, NotebookNode]:
    return {p.stem: read_notebook(p) for p in sorted(folder.glob("*.ipynb"))}


def _tamper(notebooks: dict[str, NotebookNode], how: str) -> dict[str, NotebookNode]:
    tampered = copy.deepcopy(notebooks)
    for nb in tampered.values():
        tests = [c for c in nb.cells if is_test_cell(c)]
        if how == "edit_tests":
            for cell in tests:
                cell.source = "pass  # tests removed by the student"
        elif how == "change_points":
            for cell in tests:
                cell.metadata.nbgrader["points"] = 100
        elif how == "delete_tests":
            nb.cells = [c for c in nb.cells if not is_test_cell(c)]
    return tampered


@pytest.fixture(scope="module")
def api(generated_course: Path):
    return nbgrader_api(generated_course, config_root=ROOT)


INSTRUCTOR = "instructor"
"""The student id under which the instructor version (source/) is autograded."""


@pytest.fixture(scope="module")
def instructor_grade(api) -> Callable[[str], GradeResult]:
    """The autograde of an assignment's instructor version, run at most once per module
    (the notebooks are read from source/ at first use); its feedback can be generated for
    student INSTRUCTOR."""
    grades: dict[str, GradeResult] = {}

    def grade(assignment: str) -> GradeResult:
        if assignment not in grades:
            grades[assignment] = autograde_notebooks(
                api, assignment, INSTRUCTOR, _notebooks(ROOT / "source" / assignment))
        return grades[assignment]

    return grade


@pytest.mark.parametrize("assignment", GRADED_ASSIGNMENTS)
def test_instructor_version_scores_full_marks(instructor_grade, assignment: str) -> None:
    result = instructor_grade(assignment)
    assert result.auto_max > 0
    assert result.auto_score == result.auto_max


@pytest.mark.parametrize("assignment", GRADED_ASSIGNMENTS)
def test_untouched_and_tampered_releases_score_zero(api, assignment: str) -> None:
    release = _notebooks(ROOT / "release" / assignment)
    blank = autograde_notebooks(api, assignment, "blank", release)
    assert blank.auto_score == 0
    for how in ("edit_tests", "change_points", "delete_tests"):
        result = autograde_notebooks(api, assignment, f"tamper-{how.replace('_', '-')}",
                                     _tamper(release, how))
        assert result.auto_score <= blank.auto_score, how
        assert result.auto_max == blank.auto_max, how


def _answer_everything(notebooks: dict[str, NotebookNode], value: str
                       ) -> dict[str, NotebookNode]:
    """The instructor notebooks with every answer variable set to ``value``."""
    answered = copy.deepcopy(notebooks)
    for nb in answered.values():
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = re.sub(r"(?m)^(answer_\w+)\s*=.*$", rf'\1 = "{value}"',
                                     cell.source)
    return answered


@pytest.mark.parametrize("assignment", GRADED_ASSIGNMENTS)
def test_feedback_hides_hidden_tests_and_their_tracebacks(api, instructor_grade,
                                                          assignment: str) -> None:
    source = _notebooks(ROOT / "source" / assignment)
    students = {  # a format error, two sets of valid letters (each item wrong in one), the key
        "format-error": _answer_everything(source, "z"),
        "all-a": _answer_everything(source, "a"),
        "all-c": _answer_everything(source, "c"),
        INSTRUCTOR: None,  # the key: the instructor version, already autograded
    }
    scores = {}
    for student, notebooks in students.items():
        scores[student] = (instructor_grade(assignment) if notebooks is None else
                           autograde_notebooks(api, assignment, student, notebooks)).auto_score
        assert api.generate_feedback(assignment, student, force=True)["success"]
        folder = Path(api.coursedir.root) / "feedback" / student / assignment
        feedback = sorted(folder.glob("*.html"))
        assert feedback
        for html in feedback:
            source_nb = read_notebook(ROOT / "source" / assignment / f"{html.stem}.ipynb")
            secrets = secret_lines(source_nb, include_solutions=False)
            graded = any(is_test_cell(cell) for cell in source_nb.cells)
            text = html_to_text(html.read_text(encoding="utf-8"))
            assert find_leaks(secrets, text, HIDDEN_MARKERS) == []
            for trace_mark in ("most recent call last", "Cell In[", "---->"):
                assert trace_mark not in text
            if student == "format-error" and graded:  # the teaching message stays visible
                assert re.search(r"answer_q\w+: ", text) and "AssertionError" not in text
    assert scores["format-error"] == 0
    assert scores["all-a"] + scores["all-c"] <= scores[INSTRUCTOR]


@pytest.mark.skipif("04-case-studies" not in ASSIGNMENTS, reason="no case studies yet")
def test_a_harmful_action_in_one_case_loses_that_case_entirely(api, instructor_grade) -> None:
    """Key-feature gate through nbgrader: stopping apixaban zeroes case 3 and nothing else."""
    source = _notebooks(ROOT / "source" / "04-case-studies")
    harmful = copy.deepcopy(source)
    for nb in harmful.values():
        for cell in nb.cells:
            if cell.cell_type == "code" and "answer_q4_1_3 = " in cell.source:
                cell.source = cell.source.replace('"CONTINUE_APIXABAN"', '"STOP_APIXABAN_48H"')
    right = instructor_grade("04-case-studies")
    wrong = autograde_notebooks(api, "04-case-studies", "case-harmful", harmful)
    scores = {i.grade_id: i.score for i in right.items if not i.needs_manual_grade}
    harmed = {i.grade_id: i.score for i in wrong.items if not i.needs_manual_grade}
    case3 = {g for g in scores if g.startswith("q4_1_3_")}
    assert case3 and all(scores[g] > 0 for g in case3)
    assert all(harmed[g] == 0 for g in case3)
    assert all(harmed[g] == scores[g] for g in scores if g not in case3)
