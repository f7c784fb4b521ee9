"""release/ is exactly what nbgrader generates from source/, and hides every secret."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course.grading import leaks_in_release
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
