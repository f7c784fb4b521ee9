"""Per-module completion statuses for CPD (#23): not started, in progress, completed, passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.completion import (
    COMPLETED,
    FINAL_ASSESSMENT,
    IN_PROGRESS,
    NOT_STARTED,
    PASSED,
    assessed_modules,
    completion_problems,
    completion_table,
    scored_status,
    self_study_statuses,
    status_from_report_row,
    statuses_from_cells,
)
from course.grade_export import Cell
from course.report import FAILED, GRADED, MISSING, NEEDS_MANUAL
from course.syllabus import course_map


def test_every_assessed_module_is_listed_and_the_evaluation_is_not() -> None:
    ids = [a.id for a in assessed_modules()]
    assert ids == [a.id for a in course_map() if a.id not in ("00-review", "06-evaluation")]
    assert FINAL_ASSESSMENT in ids and "00-orientation" in ids


@pytest.mark.parametrize(("score", "status"), [(7, PASSED), (6.99, COMPLETED), (10, PASSED),
                                               (0, COMPLETED)])
def test_the_final_is_passed_at_the_pass_mark(score: float, status: str) -> None:
    assert scored_status(FINAL_ASSESSMENT, score, 10)[0] == status


def test_a_module_without_a_pass_mark_is_completed_with_any_score() -> None:
    assert scored_status("01-principles", 0, 18) == (COMPLETED, "scored 0% (no pass mark)")
    with pytest.raises(ValueError, match="score"):
        scored_status("01-principles", 19, 18)


@pytest.mark.parametrize(("state", "score", "expected"), [
    (GRADED, 8.0, PASSED), (FAILED, None, IN_PROGRESS), (NEEDS_MANUAL, None, IN_PROGRESS),
    (MISSING, None, NOT_STARTED), (None, None, NOT_STARTED)])
def test_report_states_map_to_statuses(state: str | None, score: float | None,
                                       expected: str) -> None:
    status, detail = status_from_report_row(FINAL_ASSESSMENT, state, "failed: kernel died",
                                            score, 10.0)
    assert status == expected
    if state == FAILED:
        assert "kernel died" in detail


def test_self_study_statuses_come_from_checks_and_working_copies(tmp_path: Path) -> None:
    folder = tmp_path / "assignments"
    for name in ("00-orientation", "01-principles", "02-substances"):
        (folder / name).mkdir(parents=True)
        (folder / name / "nb.ipynb").write_text("{}", encoding="utf-8")
    (folder / "03-risk-assessment").mkdir()  # an empty folder is not a working copy
    (folder / "progress.json").write_text(json.dumps({
        "00-orientation": {"score": 1, "max_score": 1, "checked": "2026-12-01"},
        FINAL_ASSESSMENT: {"score": 20, "max_score": 32, "checked": "2026-12-02"}}),
        encoding="utf-8")
    statuses = {s.assignment: s for s in self_study_statuses(folder)}
    assert statuses["00-orientation"].status == COMPLETED
    assert "checked 2026-12-01" in statuses["00-orientation"].detail
    assert statuses["01-principles"].status == statuses["02-substances"].status == IN_PROGRESS
    assert statuses["03-risk-assessment"].status == NOT_STARTED
    assert statuses["04-case-studies"].status == NOT_STARTED
    final = statuses[FINAL_ASSESSMENT]
    assert final.status == COMPLETED and "below the pass mark of 70%" in final.detail
    problems = completion_problems(list(statuses.values()))
    assert any(p.startswith("01-principles") and IN_PROGRESS in p for p in problems)
    assert any(p.startswith("03-risk-assessment") and NOT_STARTED in p for p in problems)
    assert any(p.startswith(FINAL_ASSESSMENT) for p in problems)
    assert "06-evaluation" not in statuses


def test_no_progress_file_means_nothing_checked(tmp_path: Path) -> None:
    assert {s.status for s in self_study_statuses(tmp_path / "nowhere")} == {NOT_STARTED}


def test_cohort_statuses_and_their_table() -> None:
    cells = {("ann", FINAL_ASSESSMENT): Cell(GRADED, "graded", 25.0),
             ("ann", "01-principles"): Cell(FAILED, "failed: not a valid notebook", None),
             ("ben", FINAL_ASSESSMENT): Cell(GRADED, "graded", 10.0)}
    statuses = statuses_from_cells(cells, ["ann", "ben"],
                                   {FINAL_ASSESSMENT: 32.0, "01-principles": 18.0})
    ann = {s.assignment: s for s in statuses["ann"]}
    assert ann[FINAL_ASSESSMENT].status == PASSED
    assert ann["01-principles"].status == IN_PROGRESS
    assert ann["02-substances"].status == NOT_STARTED
    assert {s.assignment: s.status for s in statuses["ben"]}[FINAL_ASSESSMENT] == COMPLETED
    header, rows = completion_table(statuses)
    assert header[:4] == ["student_id", "assignment", "title", "status"]
    assert len(rows) == 2 * len(assessed_modules())
    final = next(r for r in rows if r[0] == "ann" and r[1] == FINAL_ASSESSMENT)
    assert final[3:7] == [PASSED, "25", "32", "78.1"]
    assert completion_problems([s for s in statuses["ann"]
                                if s.assignment == FINAL_ASSESSMENT]) == []
