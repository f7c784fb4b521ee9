"""Grade exports for an LMS or a spreadsheet (``course export``, ``course report --export``).

Every export is built from :func:`course.report.build_report`, so a score means what the
report's ``status`` column says it means: only a ``graded`` submission has a score. A
failed, missing or unfinished submission (awaiting a tutor) is an **empty cell (``-`` for
Moodle), never a 0**, and each such cell is listed, with its reason, in a status file
beside the export.

Formats (one row per student, one column per assignment unless said otherwise):

- ``nbgrader`` -- ``grades.csv`` with the columns of ``nbgrader export`` (assignment,
  duedate, timestamp, student_id, last_name, first_name, email, raw_score,
  late_submission_penalty, score, max_score), one row per student and assignment, plus a
  ``status`` column. It replaces ``nbgrader export``, which writes 0 for a failure or an
  unsubmitted assignment.
- ``canvas`` -- a Canvas gradebook import CSV: Student ("Last, First"), ID (Canvas's own
  user id: left empty, Canvas matches on SIS User ID), SIS User ID (the course's student
  id), SIS Login ID, Section, then one column per assignment, headed by its name; the
  second row is Canvas's "Points Possible" row. An empty cell leaves that grade
  ungraded in Canvas.
- ``moodle`` -- a Moodle grade import CSV: ID number, Email address, First name, Last
  name, then one column per assignment; at import map "ID number" to ``useridnumber``
  (or "Email address" to ``useremail``) and each assignment column to its grade item.
  A cell without a score is ``-``, as in Moodle's own grade export: Moodle's CSV import
  reads ``-`` as "no grade" both for an existing grade item and for a new one, whereas an
  empty cell is "no grade" only for an existing item (``grade/import/csv/classes/
  load_data.php``).

Text cells are neutralised for spreadsheets (:func:`course.escaping.csv_cell`). Files go
to ``exports/`` in the course root by default (git-ignored: grades are personal data).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.errors import GradingError
from course.escaping import csv_cell
from course.report import GRADED, Report, ReportError, build_report

FORMATS = ("nbgrader", "canvas", "moodle")
FILE_NAMES = {"nbgrader": "grades.csv", "canvas": "canvas-grades.csv",
              "moodle": "moodle-grades.csv"}
NBGRADER_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name",
                    "first_name", "email", "raw_score", "late_submission_penalty", "score",
                    "max_score")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"
MOODLE_COLUMNS = ("ID number", "Email address", "First name", "Last name")
MOODLE_NO_GRADE = "-"
STATUS_COLUMNS = ("student_id", "assignment", "status")

Table = tuple[list[str], list[list[str]]]


class ExportError(GradingError):
    """Nothing to export (no gradebook, or no graded assignment); exit code 1."""


@dataclass(frozen=True)
class Learner:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Cell:
    """One student's result on one assignment, as the export shows it."""

    state: str
    status: str
    score: float | None  # None unless graded
    raw_score: float | None = None
    late_penalty: float | None = None
    timestamp: str = ""
    right: float | None = None  # points of the items answered right (graded rows only)


@dataclass(frozen=True)
class GradeSheet:
    assignments: tuple[tuple[str, float, str], ...]  # id, max score, due date
    learners: tuple[Learner, ...]
    cells: Mapping[tuple[str, str], Cell]  # (student, assignment) -> cell

    def cell(self, student: str, assignment: str) -> Cell:
        return self.cells.get((student, assignment),
                              Cell("missing", "missing: no submission", None))


def _right(report: Report, row: Any) -> float:
    """Points of the auto-graded items this row answered right (score above 0): the
    accuracy on which a certainty-marked assignment's pass is decided (course.certainty)."""
    from course.certainty import right_points

    return right_points((row.item_scores.get(item.key), item.max_score)
                        for item in report.items if item.auto)[0]


def sheet_from_reports(reports: Sequence[Report], learners: Sequence[Learner] = (),
                       due: Mapping[str, str] | None = None,
                       timestamps: Mapping[tuple[str, str], str] | None = None) -> GradeSheet:
    """Combine assignment reports into one sheet; every student of any report is a row."""
    people = {learner.id: learner for learner in learners}
    cells: dict[tuple[str, str], Cell] = {}
    for report in reports:
        for row in report.rows:
            people.setdefault(row.student_id, Learner(row.student_id, row.first_name,
                                                      row.last_name))
            graded = row.state == GRADED and row.score is not None
            cells[(row.student_id, report.assignment)] = Cell(
                row.state, row.status, row.score if graded else None,
                row.raw_score if graded else None, row.late_penalty if graded else None,
                (timestamps or {}).get((row.student_id, report.assignment), ""),
                _right(report, row) if graded else None)
    assignments = tuple((r.assignment, r.max_score, (due or {}).get(r.assignment, ""))
                        for r in reports)
    return GradeSheet(assignments, tuple(people[sid] for sid in sorted(people)), cells)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def nbgrader_table(sheet: GradeSheet) -> Table:
    """``nbgrader export``'s columns plus ``status``; empty scores unless graded."""
    rows = []
    for assignment, max_score, due in sheet.assignments:
        for learner in sheet.learners:
            cell = sheet.cell(learner.id, assignment)
            rows.append([assignment, due, cell.timestamp, learner.id, learner.last_name,
                         learner.first_name, learner.email, _number(cell.raw_score),
                         _number(cell.late_penalty), _number(cell.score), _number(max_score),
                         cell.status])
    return [*NBGRADER_COLUMNS, "status"], rows


def canvas_table(sheet: GradeSheet) -> Table:
    """Canvas gradebook import: identity columns, then one column per assignment."""
    names = [a for a, _, _ in sheet.assignments]
    header = [*CANVAS_COLUMNS, *names]
    points = [CANVAS_POINTS_POSSIBLE, "", "", "", "",
              *(_number(m) for _, m, _ in sheet.assignments)]
    rows = [points]
    for learner in sheet.learners:
        name = ", ".join(part for part in (learner.last_name, learner.first_name) if part)
        rows.append([name or learner.id, "", learner.id, learner.email, "",
                     *(_number(sheet.cell(learner.id, a).score) for a in names)])
    return header, rows


def moodle_table(sheet: GradeSheet) -> Table:
    """Moodle grade import: ID number, Email address, names, one column per assignment;
    ``-`` (no grade) where there is no score."""
    names = [a for a, _, _ in sheet.assignments]
    header = [*MOODLE_COLUMNS, *names]
    rows = [[learner.id, learner.email, learner.first_name, learner.last_name,
             *(_number(sheet.cell(learner.id, a).score) or MOODLE_NO_GRADE for a in names)]
            for learner in sheet.learners]
    return header, rows


def status_table(sheet: GradeSheet) -> Table:
    """Every cell left empty in an export, with the reason (never exported as 0)."""
    rows = [[learner.id, assignment, cell.status]
            for assignment, _, _ in sheet.assignments for learner in sheet.learners
            if (cell := sheet.cell(learner.id, assignment)).score is None]
    return list(STATUS_COLUMNS), rows


TABLES = {"nbgrader": nbgrader_table, "canvas": canvas_table, "moodle": moodle_table}


def _cell(value: str) -> object:
    """A CSV cell, neutralised; a lone ``-`` (Moodle's "no grade") is not a formula."""
    return value if value == MOODLE_NO_GRADE else csv_cell(value)


def write_table(table: Table, path: Path) -> Path:
    header, rows = table
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)  # no cell runs as a spreadsheet formula
        writer.writerow([_cell(c) for c in header])
        writer.writerows([[_cell(c) for c in row] for row in rows])
    temporary.replace(path)
    return path


def status_path(path: Path) -> Path:
    """``canvas-grades.csv`` -> ``canvas-grades.status.csv``."""
    return path.with_name(f"{path.stem}.status.csv")


def write_export(sheet: GradeSheet, fmt: str, folder: Path) -> list[Path]:
    """Write the export and its status file into ``folder``; returns both paths."""
    if fmt not in TABLES:
        raise ValueError(f"fmt: must be one of {', '.join(FORMATS)}, not {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    path = write_table(TABLES[fmt](sheet), folder / FILE_NAMES[fmt])
    return [path, write_table(status_table(sheet), status_path(path))]


def export_summary(sheet: GradeSheet) -> str:
    """Counts per assignment: how many scores were exported and how many left empty."""
    lines = []
    for assignment, _, _ in sheet.assignments:
        cells = [sheet.cell(learner.id, assignment) for learner in sheet.learners]
        empty: dict[str, int] = {}
        for cell in cells:
            if cell.score is None:
                empty[cell.state] = empty.get(cell.state, 0) + 1
        why = ", ".join(f"{n} {state}" for state, n in sorted(empty.items()))
        lines.append(f"{assignment}: {sum(c.score is not None for c in cells)} score(s) "
                     f"exported" + (f"; left empty (never 0): {why}" if why else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------- reading the course


def gradebook_details(root: Path) -> tuple[list[str], list[Learner], dict[str, str],
                                            dict[tuple[str, str], str]]:
    """Assignments, learners (with e-mail), due dates and submission times."""
    from nbgrader.api import Gradebook

    from course.report import _course_directory, gradebook_problem

    coursedir = _course_directory(root)
    problem = gradebook_problem(coursedir.db_url)
    if problem:
        raise ExportError(f"{problem}: grade an assignment first (`course grade ASSIGNMENT`)")
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        assignments = [a.name for a in gb.assignments]
        learners = [Learner(s.id, s.first_name or "", s.last_name or "", s.email or "")
                    for s in gb.students]
        due = {a.name: _text(a.duedate) for a in gb.assignments}
        times = {(s.student.id, a.name): _text(s.timestamp) for a in gb.assignments
                 for s in a.submissions}
    return assignments, learners, due, times


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def build_sheet(root: Path, assignments: Sequence[str] = ()) -> tuple[GradeSheet, list[str]]:
    """The sheet of the given assignments (default: every assignment in the gradebook
    that has been graded), and notes on assignments left out."""
    from course.evaluation import ASSIGNMENT as EVALUATION  # ungraded: no grades

    known, learners, due, times = gradebook_details(root)
    wanted = list(assignments) or [a for a in known if a != EVALUATION]
    reports, notes = [], []
    for assignment in wanted:
        try:
            reports.append(build_report(root, assignment))
        except ReportError as error:
            if assignments:
                raise
            notes.append(f"{assignment}: not exported ({error})")
    if not reports:
        raise ExportError("no graded assignment to export: grade one first "
                          "(`course grade ASSIGNMENT`)")
    return sheet_from_reports(reports, learners, due, times), notes
