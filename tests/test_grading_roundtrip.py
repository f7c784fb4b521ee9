"""Grading round trip for every assignment, through nbgrader's own autograde.

The instructor version scores full marks; the untouched release scores zero; a tampered
release (edited test cells, changed points, deleted test cells, a third of the test
cells each) scores zero out of the untouched release's maximum, graded from the
instructor's own test cells; feedback never shows a hidden test or its traceback.

nbgrader's autograde is the slow part (a kernel per notebook): the instructor version of
each assignment is autograded once per module (fixture ``instructor_grade``), with every
notebook, and serves as the full-marks submission, the "right" student of the feedback
test and the reference of the case-study gate. The other students submit only the
notebooks that carry points (``scored``): the others have no test cell, grade or hidden
test, and nbgrader grades a submission that lacks them.
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

from .conftest import ASSIGNMENTS, GRADED_ASSIGNMENTS, ROOT, scored_notebooks

pytestmark = pytest.mark.slow


def _notebooks(folder: Path) -> dict[str, NotebookNode]:
    return {p.stem: read_notebook(p) for p in sorted(folder.glob("*.ipynb"))}


def _scored(assignment: str, folder: Path) -> dict[str, NotebookNode]:
    """The notebooks of ``folder`` that carry points (the only ones a student submits)."""
    notebooks = {name: nb for name, nb in _notebooks(folder).items()
                 if name in scored_notebooks(assignment)}
    assert notebooks, f"{assignment} has no notebook with points"
    return notebooks


TAMPERS = ("edit_tests", "change_points", "delete_tests")


def _tamper(notebooks: dict[str, NotebookNode]) -> tuple[dict[str, NotebookNode],
                                                          dict[str, str]]:
    """A copy with test cell i (in notebook order) tampered by TAMPERS[i % 3]; and
    grade_id -> the tamper it got."""
    tampered = copy.deepcopy(notebooks)
    applied: dict[str, str] = {}
    for nb in tampered.values():
        kept = []
        for cell in nb.cells:
            if is_test_cell(cell):
                how = applied[cell.metadata.nbgrader["grade_id"]] = TAMPERS[len(applied) % 3]
                if how == "edit_tests":
                    cell.source = "pass  # tests removed by the student"
                elif how == "change_points":
                    cell.metadata.nbgrader["points"] = 100
                else:  # delete_tests
                    continue
            kept.append(cell)
        nb.cells = kept
    return tampered, applied


def _graded_tests(api, assignment: str, student: str) -> dict[str, tuple[str, float]]:
    """grade_id -> (source, points) of each test cell in a student's autograded copy."""
    folder = Path(api.coursedir.root) / "autograded" / student / assignment
    return {cell.metadata.nbgrader["grade_id"]: (cell.source,
                                                 float(cell.metadata.nbgrader["points"]))
            for path in sorted(folder.glob("*.ipynb"))
            for cell in read_notebook(path).cells if is_test_cell(cell)}


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
    """One tampered submission carries all three tampers, each on a third of the test
    cells (00-orientation has one test cell: edited; test_cohort and test_adversarial
    tamper with it in all three ways). Each tamper alone fails this test if nbgrader
    stopped restoring its cells (checked by switching each restoration off in turn):
    without OverwriteCells' source restore, an edited test ("pass") passes on a blank
    answer, so the score is not 0; without add_missing_cells, deleted tests drop out of
    the maximum; without the points restore, no score changes (a blank answer fails
    the test whatever its points), so the graded copy's test cells are compared with
    the untouched release's. The failures name each cell's tamper."""
    release = _scored(assignment, ROOT / "release" / assignment)
    blank = autograde_notebooks(api, assignment, "blank", release)
    assert blank.auto_score == 0
    assert sum(i.max_score for i in blank.items) == sum(  # every point of the assignment
        float(cell.metadata.nbgrader.get("points", 0)) for nb in release.values()
        for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade"))
    tampered, applied = _tamper(release)
    assert set(TAMPERS) <= set(applied.values()) or assignment == "00-orientation", applied
    result = autograde_notebooks(api, assignment, "tamper", tampered)
    scored = {i.grade_id: (applied.get(i.grade_id), i.score) for i in result.items if i.score}
    assert result.auto_score == 0, scored
    maxima = {i.grade_id: (i.max_score, i.needs_manual_grade) for i in blank.items}
    changed = {i.grade_id: applied.get(i.grade_id) for i in result.items
               if maxima.get(i.grade_id) != (i.max_score, i.needs_manual_grade)}
    assert result.auto_max == blank.auto_max, changed
    restored = _graded_tests(api, assignment, "blank")
    assert set(restored) == set(applied)
    got = _graded_tests(api, assignment, "tamper")
    wrong = {grade_id: how for grade_id, how in applied.items()  # a deleted cell comes
             if grade_id not in got or got[grade_id][1] != restored[grade_id][1]  # back
             or not got[grade_id][0].endswith(restored[grade_id][0])}  # under a note
    assert wrong == {}, f"graded from the student's test cells, not the instructor's: {wrong}"


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
    source = _scored(assignment, ROOT / "source" / assignment)
    students = {  # a format error, two sets of valid letters (each item wrong in one), the key
        "format-error": _answer_everything(source, "z"),
        "all-a": _answer_everything(source, "a"),
        "all-c": _answer_everything(source, "c"),
        INSTRUCTOR: None,  # the key: every notebook of the instructor version, graded
    }
    scores = {}
    for student, notebooks in students.items():
        scores[student] = (instructor_grade(assignment) if notebooks is None else
                           autograde_notebooks(api, assignment, student, notebooks)).auto_score
        assert api.generate_feedback(assignment, student, force=True)["success"]
        folder = Path(api.coursedir.root) / "feedback" / student / assignment
        feedback = sorted(folder.glob("*.html"))
        submitted = _notebooks(ROOT / "source" / assignment) if notebooks is None else notebooks
        assert [html.stem for html in feedback] == sorted(submitted)  # one page each
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
