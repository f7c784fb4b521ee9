"""'Check my answers' in the notebook: the server-side grading of one learner notebook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course.check_service import OFF_MESSAGE, check_enabled, check_notebook
from course.errors import GradingError
from course.grading.assignments import start_assignments
from course.notebooks import read_notebook

ASSIGNMENT, NOTEBOOK = "00-orientation", "00-start-here"
PATH = f"assignments/{ASSIGNMENT}/{NOTEBOOK}.ipynb"


def test_only_learner_notebooks_with_graded_items_can_be_checked(course_copy: Path) -> None:
    for path in ("source/00-orientation/00-start-here.ipynb", "../etc/passwd.ipynb",
                 "assignments/00-orientation/missing.ipynb", "nbgrader_config.py"):
        with pytest.raises(GradingError):
            check_notebook(course_copy, path)


def test_the_config_switches_it_off_for_a_cohort(course_copy: Path) -> None:
    assert check_enabled(course_copy)
    config = course_copy / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.InNotebookCheck.enabled = False\n")
    assert not check_enabled(course_copy)
    assert "switched off" in OFF_MESSAGE


@pytest.mark.slow
def test_a_notebook_is_graded_with_titles_rationales_and_no_hidden_test(course_copy: Path
                                                                        ) -> None:
    start_assignments(course_copy, [ASSIGNMENT])
    blank = check_notebook(course_copy, PATH)
    assert blank["max_score"] > 0 and blank["score"] == 0
    learner = course_copy / PATH
    nb = json.loads(learner.read_text())
    source = read_notebook(course_copy / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    answers = {c.metadata["nbgrader"]["grade_id"]: re.sub(r"### (BEGIN|END) SOLUTION\n?", "",
                                                          c.source)
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    learner.write_text(json.dumps(nb))
    right = check_notebook(course_copy, PATH)
    assert right["score"] == right["max_score"] == blank["max_score"]
    assert right["items"][0]["title"].startswith("Question")
    html = "".join(i["html"] for i in right["items"])
    assert "Rationale" in html and "HIDDEN" not in html and "AssertionError" not in html


def test_the_generated_course_is_regenerated_when_source_changes(course_copy: Path) -> None:
    import os

    from course.check_service import _fingerprint, _generated

    made = []

    def prepare(folder: Path, root: Path, assignment: str) -> str:
        made.append(folder)
        return f"api-{len(made)}"

    first = _generated(course_copy, ASSIGNMENT, prepare)
    assert _generated(course_copy, ASSIGNMENT, prepare) == first and len(made) == 1
    source = course_copy / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    before = _fingerprint(course_copy, ASSIGNMENT)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    assert _fingerprint(course_copy, ASSIGNMENT) != before
    assert _generated(course_copy, ASSIGNMENT, prepare)[1] == "api-2" and len(made) == 2
