"""release/ is exactly what nbgrader generates from source/, and hides every secret."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course.grading.assignments import leaks_in_release
from course.notebooks import read_notebook, secret_lines

from .conftest import ASSIGNMENTS, ROOT

pytestmark = pytest.mark.slow


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_does_not_drift_from_source(generated_course: Path, assignment: str) -> None:
    committed = _files(ROOT / "release" / assignment)
    generated = _files(generated_course / "release" / assignment)
    assert sorted(committed) == sorted(generated), "run `course release` and commit release/"
    drifted = [name for name in generated if committed[name] != generated[name]]
    assert drifted == [], "run `course release` and commit release/"


def test_every_source_assignment_is_released() -> None:
    released = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_hidden_test_or_mark_scheme(assignment: str) -> None:
    assert leaks_in_release(ROOT, assignment) == []


def test_leak_scan_catches_a_planted_hidden_test(course_copy: Path) -> None:
    assignment = ASSIGNMENTS[0]
    source = next((course_copy / "source" / assignment).glob("*.ipynb"))
    hidden = next(line for line in secret_lines(read_notebook(source), include_solutions=False))
    released = course_copy / "release" / assignment / source.name
    nb = read_notebook(released)
    nb.cells[-1].source += "\n" + hidden
    nbformat.write(nb, released)
    assert leaks_in_release(course_copy, assignment) == [f"{released.name}: {hidden}"]


def _function_item(course: Path, test_source: str) -> str:
    """A one-question assignment in the ordinary nbgrader style: the learner writes a
    function, the test cell reads what ``test_source`` reads."""
    from nbformat.v4 import new_code_cell, new_notebook

    def cell(source: str, grade_id: str, **flags: object) -> nbformat.NotebookNode:
        meta = {"grade": False, "solution": False, "locked": False, "task": False,
                "schema_version": 3, "grade_id": grade_id, **flags}
        return new_code_cell(source, metadata={"nbgrader": meta})

    nb = new_notebook(cells=[
        cell("import math", "setup", locked=True),
        cell("### BEGIN SOLUTION\ndef total_dose(a, b):\n    return a + b\n"
             "answer_total = total_dose(1, 2)\n### END SOLUTION", "answer", solution=True),
        cell(test_source, "total_check", grade=True, locked=True, points=1)])
    folder = course / "source" / "99-function"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "quiz.ipynb")
    return "99-function"


def test_release_refuses_a_test_cell_that_calls_a_learner_function(
        course_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 20: such an item released cleanly, then scored a correct learner 0
    (NameError: the trusted tests see only answer_* values)."""
    from course.cli import main

    assignment = _function_item(course_copy, "assert total_dose(1, 2) == 3\n"
                                             "assert math.isclose(answer_total, 3)")
    assert main(["release", assignment]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "quiz.ipynb: test cell total_check reads total_dose" in err
    assert "answer_*" in err and "authoring quick start" in err
    assert "math" not in err.split("reads", 1)[1].split(".", 1)[0]  # set-up import is fine
    assert not (course_copy / "release" / assignment).exists()  # nothing generated


def test_release_check_accepts_answers_setup_imports_and_earlier_test_names(
        course_copy: Path) -> None:
    from course.grading.distribution import test_cell_problems

    assignment = _function_item(course_copy, "expected = 3\n"
                                             "assert math.isclose(answer_total, expected)")
    assert test_cell_problems(course_copy, assignment) == []
    for existing in ASSIGNMENTS:
        assert test_cell_problems(ROOT, existing) == [], existing
