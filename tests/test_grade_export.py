"""LMS grade exports (#23 part 4) and `course export` (#20 part 7): a failure is never a 0.

The columns are checked against each format's documented import columns (written out here
from the vendors' documentation and importers, not read from the module under test):
- Canvas, "How do I import grades in the Gradebook?" and canvas-lms
  app/models/gradebook_importer.rb: a header row Student, ID, SIS User ID, SIS Login ID,
  Section (Section closes the student columns), then one column per assignment; a row whose
  first cell holds "Points Possible" sets each assignment's points; a student is matched by
  ID, then SIS User ID, then SIS Login ID; a blank or "-" cell is no score;
- Moodle, "Grade import" (CSV) and grade/import/csv/classes/load_data.php: user identifier
  columns (ID number, Email address) mapped at import to useridnumber / useremail, names,
  then one column per grade item; "-" is no grade for an existing and for a new grade
  item (an empty cell only for an existing one), as in Moodle's own export;
- nbgrader's CsvExportPlugin: assignment, duedate, timestamp, student_id, last_name,
  first_name, email, raw_score, late_submission_penalty, score, max_score.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from course.grade_export import (
    FILE_NAMES,
    GradeSheet,
    Learner,
    canvas_table,
    export_summary,
    moodle_table,
    nbgrader_table,
    sheet_from_reports,
    status_path,
    write_export,
    write_table,
)
from course.report import FAILED, GRADED, MISSING, NEEDS_MANUAL, GradeItem, Report, StudentRow

CANVAS_DOCUMENTED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_DOCUMENTED = ["ID number", "Email address", "First name", "Last name"]
NBGRADER_DOCUMENTED = ["assignment", "duedate", "timestamp", "student_id", "last_name",
                       "first_name", "email", "raw_score", "late_submission_penalty", "score",
                       "max_score"]


def _row(sid: str, state: str, status: str, score: float | None, penalty: float | None = None,
         first: str = "", last: str = "") -> StudentRow:
    graded = state == GRADED
    return StudentRow(sid, last, first, state, status, score, 10.0,
                      (penalty or 0.0) if graded else None, {},
                      (score + (penalty or 0.0)) if graded and score is not None else None)


def _report(assignment: str, rows: list[StudentRow]) -> Report:
    return Report(assignment, 10.0, (GradeItem("nb", "q_check", 10.0, True),), tuple(rows),
                  (), (), ())


@pytest.fixture
def sheet() -> GradeSheet:
    quiz = _report("01-principles", [
        _row("ann", GRADED, "graded", 8.0, first="Ann", last="Lee"),
        _row("ben", FAILED, "failed: not a valid notebook", None),
        _row("cat", MISSING, "missing: no submission", None),
        _row("dan", GRADED, "graded", 0.0),  # a real zero stays a zero
    ])
    final = _report("05-final-assessment", [
        _row("ann", GRADED, "graded", 7.0, penalty=1.0, first="Ann", last="Lee"),
        _row("ben", NEEDS_MANUAL, NEEDS_MANUAL, None),
        _row("=evil", GRADED, "graded", 9.0, first="=HYPERLINK(\"x\")", last="@x"),
    ])
    learners = [Learner("ann", "Ann", "Lee", "ann@example.org"),
                Learner("ben", "Ben", "Roe", "ben@example.org")]
    return sheet_from_reports([quiz, final], learners, {"05-final-assessment": "2027-01-01"},
                              {("ann", "05-final-assessment"): "2026-12-30 10:00:00"})


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_has_the_documented_columns_and_blank_for_failures(sheet: GradeSheet,
                                                                  tmp_path: Path) -> None:
    path, status = write_export(sheet, "canvas", tmp_path)
    rows = read(path)
    assert rows[0] == [*CANVAS_DOCUMENTED, "01-principles", "05-final-assessment"]
    # the importer's header test: Student, ID, then SIS User ID and SIS Login ID, and
    # Section as the last of the student columns
    assert rows[0][0] == "Student" and rows[0][1] == "ID" and rows[0][4] == "Section"
    assert "Points Possible" in rows[1][0] and rows[1][5:] == ["10", "10"]
    by_id = {r[2]: r for r in rows[2:]}  # SIS User ID holds the course's student id
    assert by_id["ann"][0] == "Lee, Ann" and by_id["ann"][5:] == ["8", "7"]
    assert by_id["ann"][3] == "ann@example.org"
    assert by_id["ben"][5:] == ["", ""]  # failed, then awaiting a tutor: never 0
    assert by_id["cat"][5:] == ["", ""]  # missing; not in the final at all: missing too
    assert by_id["dan"][5] == "0"
    statuses = {(r[0], r[1]): r[2] for r in read(status)[1:]}
    assert statuses[("ben", "01-principles")] == "failed: not a valid notebook"
    assert statuses[("ben", "05-final-assessment")] == NEEDS_MANUAL
    assert statuses[("cat", "01-principles")] == "missing: no submission"
    assert ("ann", "01-principles") not in statuses and ("dan", "01-principles") not in statuses
    assert status == status_path(path) and path.name == FILE_NAMES["canvas"]


def test_moodle_has_the_documented_columns_and_blank_for_failures(sheet: GradeSheet,
                                                                  tmp_path: Path) -> None:
    path, _ = write_export(sheet, "moodle", tmp_path)
    rows = read(path)
    assert rows[0] == [*MOODLE_DOCUMENTED, "01-principles", "05-final-assessment"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["ann"] == ["ann", "ann@example.org", "Ann", "Lee", "8", "7"]
    # failed, awaiting a tutor, missing: Moodle's "no grade" (never 0, never a blank that
    # a new grade item would store)
    assert by_id["ben"][4:] == ["-", "-"] and by_id["cat"][4:] == ["-", "-"]
    assert by_id["dan"][4:] == ["0", "-"]  # a real zero stays a zero
    assert all(cell not in ("", "'-") for row in rows[1:] for cell in row[4:])


def test_nbgrader_grades_csv_keeps_its_columns_and_adds_a_status(sheet: GradeSheet,
                                                                 tmp_path: Path) -> None:
    path, _ = write_export(sheet, "nbgrader", tmp_path)
    rows = read(path)
    assert rows[0] == [*NBGRADER_DOCUMENTED, "status"] and path.name == "grades.csv"
    cells = {(r[0], r[3]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    ann = cells[("05-final-assessment", "ann")]
    assert (ann["raw_score"], ann["late_submission_penalty"], ann["score"]) == ("8", "1", "7")
    assert ann["duedate"] == "2027-01-01" and ann["timestamp"] == "2026-12-30 10:00:00"
    for key in (("01-principles", "ben"), ("01-principles", "cat"),
                ("05-final-assessment", "ben"), ("05-final-assessment", "cat")):
        row = cells[key]
        assert row["score"] == row["raw_score"] == "" and row["status"] != "graded", key
        assert row["max_score"] == "10"
    assert cells[("01-principles", "dan")]["score"] == "0"


def test_every_export_neutralises_formulas(sheet: GradeSheet, tmp_path: Path) -> None:
    for fmt in ("canvas", "moodle", "nbgrader"):
        path, _ = write_export(sheet, fmt, tmp_path / fmt)
        text = path.read_text(encoding="utf-8")
        assert "'=evil" in text and "'@x" in text, fmt  # "@x, =HYPERLINK…" in Canvas
        assert fmt == "canvas" or "'=HYPERLINK" in text, fmt
        for row in read(path):
            assert not any(c.startswith(("=", "+", "@")) for c in row), (fmt, row)


def test_only_a_lone_dash_escapes_neutralising(tmp_path: Path) -> None:
    path = write_table((["a", "b", "c"], [["-", "-2+3", "-1.5"]]), tmp_path / "t.csv")
    assert read(path)[1] == ["-", "'-2+3", "-1.5"]


def test_tables_and_summary_say_what_was_left_empty(sheet: GradeSheet) -> None:
    summary = export_summary(sheet)
    # =evil has no 01-principles row and cat none in the final: missing, not 0
    assert "01-principles: 2 score(s) exported; left empty (never 0): 1 failed, 2 missing" \
        in summary
    assert "05-final-assessment: 2 score(s) exported; left empty (never 0): 2 missing, " \
        "1 needs manual grading" in summary
    _header, rows = canvas_table(sheet)
    assert len(rows) == 1 + len(sheet.learners)
    assert moodle_table(sheet)[0][:4] == MOODLE_DOCUMENTED
    assert nbgrader_table(sheet)[0][:11] == NBGRADER_DOCUMENTED
    with pytest.raises(ValueError, match="fmt"):
        write_export(sheet, "blackboard", Path("unused"))


def test_exports_go_where_git_ignores_them() -> None:
    import subprocess

    from .conftest import ROOT

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("exports/grades.csv", "exports/canvas-grades.csv",
                 "exports/canvas-grades.status.csv", "exports/completion.csv",
                 "reports/06-evaluation/evaluation.csv", "reports/01-principles/grades.csv"):
        result = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False)
        assert result.returncode == 0, f"{name} is not git-ignored"
