"""Per-module completion statuses for CPD: not started, in progress, completed, passed.

One status per learner and assessed module of the course map, from the instructor's
gradebook (through :mod:`course.report`'s status rules) or from a learner's own
``course check`` results (``assignments/progress.json``):

- **not started** -- nothing submitted (gradebook), or no working copy and no check
  (self-study);
- **in progress** -- submitted but with no score yet (grading failed, or a tutor still
  has to mark it), or a working copy that was never checked;
- **completed** -- a score, for a module without a pass mark, or below the pass mark;
- **passed** -- a score at or above the module's pass mark (the final assessment: 70%).

Modules whose course-map assessment says "ungraded" (the spaced review and the post-course
evaluation) are not assessed and are left out of these statuses; a summary or certificate
shows every assessed module with its status and lists the ungraded ones as "not assessed"
(:mod:`course.certificate`). :func:`completion_problems` says what still stands in the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.syllabus import AssignmentEntry, course_map

NOT_STARTED, IN_PROGRESS, COMPLETED, PASSED = "not started", "in progress", "completed", "passed"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, PASSED)
FINAL_ASSESSMENT = "05-final-assessment"
PASS_MARKS = {FINAL_ASSESSMENT: 0.70}
UNASSESSED = "ungraded"


@dataclass(frozen=True)
class ModuleStatus:
    assignment: str
    title: str
    status: str
    detail: str
    score: float | None = None
    max_score: float | None = None

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100 * self.score / self.max_score


def assessed_modules(entries: Sequence[AssignmentEntry] | None = None
                     ) -> tuple[AssignmentEntry, ...]:
    """The course map's assignments that are assessed (not the ungraded evaluation)."""
    entries = course_map() if entries is None else entries
    return tuple(a for a in entries if not a.assessment.lower().startswith(UNASSESSED))


def scored_status(assignment: str, score: float, max_score: float) -> tuple[str, str]:
    """(status, detail) of a module with a score: passed at its pass mark, else completed."""
    if max_score <= 0 or score < 0 or score > max_score:
        raise ValueError(f"score: must be in 0..max_score (above 0), not {score}/{max_score}")
    share = score / max_score
    mark = PASS_MARKS.get(assignment)
    if mark is None:
        return COMPLETED, f"scored {100 * share:.0f}% (no pass mark)"
    if share >= mark:
        return PASSED, f"scored {100 * share:.0f}%, pass mark {100 * mark:.0f}%"
    return COMPLETED, f"scored {100 * share:.0f}%, below the pass mark of {100 * mark:.0f}%"


def status_from_report_row(assignment: str, state: str | None, status: str,
                           score: float | None, max_score: float) -> tuple[str, str]:
    """(status, detail) from a report row's state (see :mod:`course.report`)."""
    from course.report import FAILED, GRADED, NEEDS_MANUAL

    if state == GRADED and score is not None:
        return scored_status(assignment, score, max_score)
    if state in (FAILED, NEEDS_MANUAL):
        return IN_PROGRESS, f"submitted, no score yet ({status})"
    return NOT_STARTED, "nothing submitted"


def statuses_from_progress(progress: Mapping[str, Mapping[str, object]],
                           started: Sequence[str],
                           entries: Sequence[AssignmentEntry] | None = None
                           ) -> tuple[ModuleStatus, ...]:
    """Self-study: ``progress.json``'s results, and the assignments with a working copy."""
    found = []
    for entry in assessed_modules(entries):
        result = progress.get(entry.id)
        if result is not None:
            score, max_score = float(result["score"]), float(result["max_score"])
            status, detail = scored_status(entry.id, score, max_score)
            checked = result.get("checked")
            detail += f"; checked {checked}" if checked else ""
            found.append(ModuleStatus(entry.id, entry.title, status, detail, score, max_score))
        elif entry.id in started:
            found.append(ModuleStatus(entry.id, entry.title, IN_PROGRESS,
                                      "working copy present, not checked yet"))
        else:
            found.append(ModuleStatus(entry.id, entry.title, NOT_STARTED,
                                      "no working copy, never checked"))
    return tuple(found)


def started_assignments(assignments_folder: Path) -> list[str]:
    """Assignments with a working copy (a folder holding a notebook) in assignments/."""
    if not assignments_folder.is_dir():
        return []
    return sorted(p.name for p in assignments_folder.iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def self_study_statuses(assignments_folder: Path) -> tuple[ModuleStatus, ...]:
    """Statuses of a learner's own copy (``assignments/``); no progress file: none checked."""
    from course.certificate import PROGRESS_FILE, read_progress

    path = assignments_folder / PROGRESS_FILE
    progress = read_progress(path) if path.exists() else {}
    return statuses_from_progress(progress, started_assignments(assignments_folder))


def cohort_statuses(rows: Mapping[str, Mapping[str, tuple[str | None, str, float | None,
                                                           float]]],
                    entries: Sequence[AssignmentEntry] | None = None
                    ) -> dict[str, tuple[ModuleStatus, ...]]:
    """Per learner: assignment -> (state, status text, score, max score) from the reports."""
    found = {}
    for student, by_assignment in rows.items():
        mine = []
        for entry in assessed_modules(entries):
            state, text, score, max_score = by_assignment.get(entry.id, (None, "", None, 0.0))
            status, detail = status_from_report_row(entry.id, state, text, score, max_score)
            mine.append(ModuleStatus(entry.id, entry.title, status, detail, score,
                                     max_score or None))
        found[student] = tuple(mine)
    return found


def completion_problems(statuses: Sequence[ModuleStatus]) -> list[str]:
    """What stands between these statuses and a completion record (empty: none)."""
    problems = [f"{s.assignment} ({s.title}): {s.status}" for s in statuses
                if s.status in (NOT_STARTED, IN_PROGRESS)]
    final = next((s for s in statuses if s.assignment == FINAL_ASSESSMENT), None)
    if final is not None and final.status == COMPLETED:
        problems.append(f"{final.assignment}: {final.detail}")
    return problems


def completion_table(statuses: Mapping[str, Sequence[ModuleStatus]]
                     ) -> tuple[list[str], list[list[str]]]:
    """completion.csv: one row per learner and module."""
    header = ["student_id", "assignment", "title", "status", "score", "max_score",
              "percent", "detail"]
    rows = [[student, s.assignment, s.title, s.status,
             "" if s.score is None else f"{s.score:g}",
             "" if s.max_score is None else f"{s.max_score:g}",
             "" if s.percent is None else f"{s.percent:.1f}", s.detail]
            for student in sorted(statuses) for s in statuses[student]]
    return header, rows


def completion_text(statuses: Sequence[ModuleStatus]) -> str:
    """Plain lines: every module with its status."""
    return "\n".join(f"{s.assignment:<22} {s.status:<12} {s.detail}" for s in statuses)


def _passing_score(assignment: str, cell: Any) -> float | None:
    """The score a pass is judged on: for a certainty-marked assignment (the final), the
    points of the items answered right (accuracy), never the certainty-based points."""
    from course.certainty import ACCURACY_PASS

    right = getattr(cell, "right", None)
    return right if assignment in ACCURACY_PASS and right is not None else cell.score


def statuses_from_cells(cells: Mapping[tuple[str, str], Any], students: Sequence[str],
                        max_scores: Mapping[str, float],
                        entries: Sequence[AssignmentEntry] | None = None
                        ) -> dict[str, tuple[ModuleStatus, ...]]:
    """Statuses from a grade sheet's cells ((student, assignment) -> an object with
    ``state``, ``status`` and ``score``, as :class:`course.grade_export.Cell`)."""
    rows: dict[str, dict[str, tuple[str | None, str, float | None, float]]] = {}
    for student in students:
        rows[student] = {}
        for (sid, assignment), cell in cells.items():
            if sid == student:
                rows[student][assignment] = (cell.state, cell.status, _passing_score(
                    assignment, cell), max_scores.get(assignment, 0.0))
    return cohort_statuses(rows, entries)
