"""Certainty-based marking round trip: the final answered with certainties, graded by stock
``nbgrader autograde`` and by ``course grade``: identical gradebooks, the exact CBM partial
credit per item, the pass on accuracy, and the feedback block."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat import NotebookNode

from benchmarks.grade_throughput import BIN, grade_rows, make_course, tool_env, write_submission
from course.certainty import certainty_name
from course.certainty_feedback import cbm_items
from course.certificate import scores_from_gradebook
from course.grading.assignments import nbgrader_api
from course.item_analysis import notebook_answers
from course.notebooks import HIDDEN_MARKERS, find_leaks, html_to_text, read_notebook, secret_lines

from .conftest import ROOT, unsandboxed_args

pytestmark = pytest.mark.slow

FINAL = "05-final-assessment"
NOTEBOOK = "01-final"
COURSE_ID = "mesotherapy-practitioner"
LEVELS = ("low", "medium", "high", None)
# Gardner-Medwin's marks on a 1-point item, floor 0: right 1/3, 2/3, 1 (none: low); wrong 0
CREDIT = {"low": 1 / 3, "medium": 2 / 3, "high": 1.0, None: 1 / 3}


def _spec(cell: NotebookNode) -> dict | None:
    return cell.get("metadata", {}).get("course", {}).get("answer")


def _plan(index: int) -> tuple[bool, str | None]:
    """Item i of the mixed learner: right/wrong × low/medium/high/none, in turn."""
    return index % 8 < 4, LEVELS[index % 4]


def _mixed_submission(release: NotebookNode, keys: dict[str, object], plan=_plan
                      ) -> tuple[NotebookNode, dict[str, float]]:
    """The release answered as the forms write it, and each check's expected points."""
    nb = copy.deepcopy(release)
    expected: dict[str, float] = {}
    index = 0
    for position, cell in enumerate(nb.cells):
        spec = _spec(cell)
        if not spec:
            continue
        check = nb.cells[position + spec["checks"]].metadata.nbgrader.grade_id
        key = keys[spec["name"]]
        if spec["kind"] == "number":
            cell.source = f"{spec['name']} = {key}"
            expected[check] = 1.0
            continue
        right, sure = plan(index)
        index += 1
        letter = key if right else next(x for x in "abcd" if x != key)
        cell.source = f'{spec["name"]} = "{letter}"' + (
            f'\n{certainty_name(spec["name"])} = "{sure}"' if sure else "")
        expected[check] = CREDIT[sure] if right else 0.0
    return nb, expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    source = read_notebook(ROOT / "source" / FINAL / f"{NOTEBOOK}.ipynb")
    release = read_notebook(ROOT / "release" / FINAL / f"{NOTEBOOK}.ipynb")
    keys = {k: v for k, v in notebook_answers(source).items()}
    mixed, expected = _mixed_submission(release, keys)
    base = make_course(tmp_path_factory.mktemp("cbm") / "template", FINAL)
    result = nbgrader_api(base).generate_assignment(FINAL, force=True, create=True)
    assert result["success"], result.get("error")
    stock, ours = base.parent / "stock", base.parent / "ours"
    shutil.copytree(base, stock)
    shutil.copytree(base, ours)
    for course in (stock, ours):
        write_submission(course / "submitted" / "mixed" / FINAL, {NOTEBOOK: mixed})
        write_submission(course / "submitted" / "blank" / FINAL, {NOTEBOOK: release})
    plain = subprocess.run([str(BIN / "nbgrader"), "autograde", FINAL, "--force"], cwd=stock,
                           env=tool_env(), capture_output=True, text=True, timeout=600)
    assert plain.returncode == 0, plain.stderr[-2000:]
    run = subprocess.run([sys.executable, "-m", "course.cli", "grade", FINAL,
                          *unsandboxed_args()], capture_output=True, text=True, timeout=600,
                         env=tool_env(COURSE_ROOT=str(ours)))
    assert run.returncode == 0, run.stdout + run.stderr
    return {"stock": stock, "ours": ours, "expected": expected, "source": source}


def test_nbgrader_and_course_grade_agree_on_every_cbm_score(graded) -> None:
    stock, ours = grade_rows(graded["stock"]), grade_rows(graded["ours"])
    assert stock == ours
    mixed = {cell: row[0] for (student, _nb, cell), row in ours.items() if student == "mixed"}
    assert mixed.keys() >= graded["expected"].keys()
    for cell, points in graded["expected"].items():
        assert mixed[cell] == pytest.approx(points, abs=1e-5), cell
    assert all(row[0] == 0 for (student, *_), row in ours.items() if student == "blank")


def test_the_pass_is_decided_on_accuracy(graded) -> None:
    expected = graded["expected"]
    right = sum(points > 0 for points in expected.values())
    cbm_total = sum(expected.values())
    db = f"sqlite:///{graded['ours'] / 'gradebook.db'}"
    assert scores_from_gradebook(db, COURSE_ID, "mixed")[FINAL] == (right, len(expected))
    assert right / len(expected) >= 0.5 > cbm_total / len(expected)  # the two differ


def test_feedback_shows_calibration_and_review_and_no_hidden_test(graded) -> None:
    ours, source = graded["ours"], graded["source"]
    api = nbgrader_api(ours, config_root=ROOT)
    result = api.generate_feedback(FINAL, "mixed", force=True)
    assert result["success"], result.get("error")
    html = (ours / "feedback" / "mixed" / FINAL / f"{NOTEBOOK}.html").read_text(
        encoding="utf-8")
    right = sum(points > 0 for points in graded["expected"].values())
    assert f"Accuracy: {right} of 32 points answered right" in html
    assert "Calibration: the share of answers right at each certainty level" in html
    assert "High certainty:" in html and "Points for this answer: 0.33" in html
    items = cbm_items(source)
    confident = [item for index, item in enumerate(items)
                 if item.lesson and not _plan(index)[0] and _plan(index)[1] in (
                     "medium", "high")]
    assert confident  # the plan has confident errors on safety questions
    for item in confident:
        assert f'href="../{item.lesson}.ipynb"' in html
    assert not find_leaks(secret_lines(source, include_solutions=False), html_to_text(html),
                          HIDDEN_MARKERS)


def _unsure(index: int) -> tuple[bool, str | None]:
    """Mostly right but unsure: the last four wrong at high certainty."""
    return (True, "low") if index < 24 else (False, "high")


def test_course_check_records_accuracy_and_shows_the_block(course_copy: Path) -> None:
    from course.completion import PASSED, self_study_statuses

    env = tool_env(COURSE_ROOT=str(course_copy))
    course = [sys.executable, "-m", "course.cli"]
    assert subprocess.run([*course, "start", FINAL], env=env, capture_output=True,
                          timeout=300).returncode == 0
    source = read_notebook(ROOT / "source" / FINAL / f"{NOTEBOOK}.ipynb")
    learner = course_copy / "assignments" / FINAL / f"{NOTEBOOK}.ipynb"
    answered, expected = _mixed_submission(read_notebook(learner),
                                           dict(notebook_answers(source)), _unsure)
    write_submission(learner.parent, {NOTEBOOK: answered})
    checked = subprocess.run([*course, "check", FINAL], env=env, capture_output=True,
                             text=True, timeout=900)
    assert checked.returncode == 0, checked.stderr[-2000:]
    right = sum(points > 0 for points in expected.values())
    assert right == 28 and sum(expected.values()) < 0.7 * 32  # passes only on accuracy
    assert f"Accuracy: {right} of 32 points answered right" in checked.stdout
    assert "Review before practice: Question" in checked.stdout
    assert "Low certainty: 24 of 24 right" in checked.stdout
    progress = json.loads((learner.parent.parent / "progress.json").read_text("utf-8"))
    assert (progress[FINAL]["score"], progress[FINAL]["max_score"]) == (right, 32)
    assert progress[FINAL]["cbm_score"] == pytest.approx(sum(expected.values()), abs=1e-4)
    final = next(s for s in self_study_statuses(learner.parent.parent) if s.assignment == FINAL)
    assert final.status == PASSED
    html = (learner.parent / f"{NOTEBOOK}.feedback.html").read_text(encoding="utf-8")
    assert "Your result and how sure you were" in html
