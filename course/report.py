"""Grades export and item analysis (``course report ASSIGNMENT``).

Everything is read, nothing is graded or executed: the gradebook (``nbgrader.api.Gradebook``
at the course's ``CourseDirectory.db_url``, any SQLAlchemy URL), the status file that
``course grade`` writes (``autograded/<assignment>.grading-status.csv``), the autograded
notebooks (``autograded/<student>/<assignment>/*.ipynb``) and the assignment's own
notebooks (``source/``, or ``release/`` when there is no source: then no answer keys).

Grades (``grades.csv``)
-----------------------
One row per student in the gradebook (plus any student the status file names whose
gradebook row ``course grade`` removed). The ``status`` column says what the score means:

- ``graded`` -- every item has a score: ``score`` is nbgrader's export score (total minus
  the late penalty, never below 0) and ``percent`` is ``100 * score / max_score``;
- ``failed: <reason>`` -- the status file says the submission failed (its reason), the
  gradebook submission has no grades at all, an auto-graded item has no score, or the
  autograded notebooks are missing (folder missing or empty, or a notebook worth points
  absent);
- ``missing: no submission`` -- in the gradebook, nothing submitted;
- ``needs manual grading`` -- an item still waits for a tutor (formgrader).

The status file describes the students of the last ``course grade`` run; a failure there
wins over the gradebook until that student is graded again.

Only ``graded`` rows have a ``score`` and ``percent``: a failed, missing or unfinished
submission is an empty cell, never a 0. The per-question columns (one per grade cell id,
in notebook order) hold every score the gradebook has; an item waiting for a tutor is
empty. ``late_penalty`` is nbgrader's ``late_submission_penalty`` (graded rows only).

Item analysis (``items.csv``)
-----------------------------
Over the *analysed* students only: those whose auto-graded items all have a score, that
is ``graded`` rows and ``needs manual grading`` rows (a tutor's pending marks do not
change auto-graded scores). Failed and missing students are left out, never counted as
zeros. Blank and all-zero submissions are flagged (``item_analysis`` column of grades.csv,
a warning) and left out as well (:func:`course.item_analysis.submission_flag`). Only
auto-graded items are analysed (code grade cells that are not answer cells); tutor-graded
items are listed in the summary. The statistics and option counting live in
:mod:`course.item_analysis`, the figures in :mod:`course.report_figures`.

- difficulty ``p``: the mean proportion of the item's points scored (1.0 = everybody
  scored full marks);
- discrimination ``r``: the **corrected item-total correlation**, the Pearson
  correlation between the item's score and the total of the *other* auto-graded items
  (the item is taken out of the total so that it does not correlate with itself). For a
  one-point item this is the point-biserial correlation. Undefined (``None``, flagged
  "no spread") when the item or the rest of the test has zero variance;
- ``upper_lower``: Kelley's upper-lower index ``D`` (a second view, not used for
  flags): students ranked by their auto-graded total (ties in student-id order), the
  top and bottom 27 % (``floor(0.27 n + 0.5)`` students each, at least one); ``D`` is the
  item's mean proportion in the upper group minus that in the lower group.

Flags: discrimination below 0.20 (low) or below 0 (negative), no spread, difficulty above
0.90 (very easy) or below 0.30 (very hard), each with a plain-language reason. With fewer
than 5 analysed students the report says the statistics are unreliable.

Options (``options.csv``)
-------------------------
For single-best-answer items (a check cell that accepts ``.strip().lower() in ("a",
"b", ...)``) and for the decision of case items (a dict answer with a ``"decision"``
key), how often each option was chosen, read from the autograded notebooks. Answers are
the student's top-level assignments ``answer_... = <literal>`` in code cells that are not
tests, parsed with :mod:`ast` (``ast.literal_eval``; student code is never run),
normalised as the hidden tests do (``strip().lower()``; decisions as
:func:`course.cases._decision` reads them). No assignment or an empty value counts as
``(blank)``; anything else that is not an option -- another value, a value that is not a
plain literal, a cell that does not parse -- as ``(invalid)``.

Files (default ``reports/<assignment>/`` in the course root): grades.csv, items.csv,
options.csv, score-distribution.png, item-map.png and report.md (the summary, method and
each figure's text equivalent).
``--export canvas|moodle|nbgrader`` adds the assignment's grades in that LMS's import
format (:mod:`course.grade_export`; ``course export`` does it for every assignment).
``course report 06-evaluation`` writes the anonymous evaluation (:mod:`course.evaluation`).
"""

from __future__ import annotations

import csv
import os
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import GradingError
from course.escaping import csv_cell
from course.item_analysis import (  # noqa: F401  (re-exported: course.report is the API)
    ALL_ZERO_SUBMISSION,
    ANSWER_NAME,
    BLANK,
    BLANK_SUBMISSION,
    DECISION,
    GROUP_FRACTION,
    INVALID,
    LETTER,
    LOW_DISCRIMINATION,
    MIN_STUDENTS,
    UNREADABLE,
    VERY_EASY,
    VERY_HARD,
    GradeItem,
    ItemStats,
    OptionCount,
    Question,
    cell_answers,
    check_cell_texts,
    choice,
    corrected_item_total,
    difficulty,
    grade_cell_order,
    item_flags,
    item_statistics,
    letter_options,
    mean,
    notebook_answers,
    option_counts,
    pearson,
    questions,
    reliability_warning,
    solution_keys,
    submission_flag,
    upper_lower_index,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode

GRADED, FAILED, MISSING, NEEDS_MANUAL = "graded", "failed", "missing", "needs manual grading"
ANALYSED_STATES = (GRADED, NEEDS_MANUAL)
STATUS_FILE = "{assignment}.grading-status.csv"
REPORT_FILES = ("grades.csv", "items.csv", "options.csv", "score-distribution.png",
                "item-map.png", "report.md")
FIXED_COLUMNS = ("student_id", "last_name", "first_name", "status", "score", "max_score",
                 "percent")

FIGURES = ("score_distribution_figure", "item_map_figure", "save_figure")


def __getattr__(name: str) -> Any:
    """The figures live in :mod:`course.report_figures` (loaded on first use)."""
    if name in FIGURES:
        from course import report_figures

        return getattr(report_figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ReportError(GradingError):
    """There is nothing to report (no gradebook, assignment or submission); exit code 1."""


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Submission:
    """A student's submission as the gradebook holds it (plain data)."""

    student: str
    scores: Mapping[str, float | None]  # item key -> score, None while not scored
    has_scores: bool  # any auto or manual score at all
    needs_manual_grade: bool
    raw_score: float
    late_penalty: float


@dataclass(frozen=True)
class GradebookData:
    assignment: str
    max_score: float
    items: tuple[GradeItem, ...]
    students: tuple[tuple[str, str, str], ...]  # id, last name, first name
    submissions: Mapping[str, Submission]
    scored_notebooks: tuple[str, ...]  # notebooks worth points


@dataclass(frozen=True)
class StudentRow:
    student_id: str
    last_name: str
    first_name: str
    state: str  # GRADED, FAILED, MISSING or NEEDS_MANUAL
    status: str  # the text of the status column
    score: float | None
    max_score: float
    late_penalty: float | None
    item_scores: Mapping[str, float | None]
    raw_score: float | None = None  # before the late penalty (graded rows only)

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100 * self.score / self.max_score


@dataclass(frozen=True)
class Report:
    assignment: str
    max_score: float
    items: tuple[GradeItem, ...]  # every grade cell, in notebook order
    rows: tuple[StudentRow, ...]
    stats: tuple[ItemStats, ...]
    options: tuple[OptionCount, ...]
    warnings: tuple[str, ...]
    # (student, why) for submissions left out of the statistics: blank or all zero
    excluded: tuple[tuple[str, str], ...] = ()

    def count(self, state: str) -> int:
        return sum(row.state == state for row in self.rows)

    @property
    def analysed(self) -> tuple[StudentRow, ...]:
        left_out = dict(self.excluded)
        return tuple(row for row in analysed_rows(self.rows, self.items)
                     if row.student_id not in left_out)

    @property
    def flagged(self) -> tuple[ItemStats, ...]:
        return tuple(s for s in self.stats if s.flags)


# ---------------------------------------------------------------- status of each student


def student_status(submission: Submission | None, status_row: Mapping[str, str] | None,
                   auto_keys: Iterable[str], autograded_problem: str | None
                   ) -> tuple[str, str]:
    """(state, status text) of one student; the status file's failure wins."""
    if status_row and (status_row.get("status") or "").strip() == FAILED:
        detail = (status_row.get("detail") or "").strip() or "see the grading log"
        return FAILED, f"failed: {detail}"
    if submission is None:
        return MISSING, "missing: no submission"
    if not submission.has_scores:
        return FAILED, "failed: the gradebook submission has no grades (never autograded)"
    unscored = [k.split("/", 1)[1] for k in auto_keys if submission.scores.get(k) is None]
    if unscored and not submission.needs_manual_grade:
        return FAILED, f"failed: auto-graded item(s) without a score: {', '.join(unscored)}"
    if autograded_problem:
        return FAILED, f"failed: {autograded_problem}"
    if submission.needs_manual_grade:
        return NEEDS_MANUAL, NEEDS_MANUAL
    return GRADED, GRADED


def autograded_problem(folder: Path, scored_notebooks: Sequence[str], shown: str) -> str | None:
    """Why the autograded copy cannot back a score (None when it is there)."""
    if not folder.is_dir() or not any(folder.glob("*.ipynb")):
        return f"no autograded notebooks ({shown} is missing or empty)"
    absent = [name for name in scored_notebooks if not (folder / f"{name}.ipynb").is_file()]
    if absent:
        return f"autograded notebook(s) missing: {', '.join(f'{n}.ipynb' for n in absent)}"
    return None


def student_rows(data: GradebookData, status_rows: Mapping[str, Mapping[str, str]],
                 problems: Mapping[str, str | None]) -> list[StudentRow]:
    """One row per student of the gradebook or the status file, sorted by id."""
    people = {sid: (last, first) for sid, last, first in data.students}
    for sid in status_rows:
        people.setdefault(sid, ("", ""))
    auto_keys = [item.key for item in data.items if item.auto]
    rows = []
    for sid in sorted(people):
        submission = data.submissions.get(sid)
        state, status = student_status(submission, status_rows.get(sid), auto_keys,
                                       problems.get(sid))
        scores = dict(submission.scores) if submission and state != FAILED else {}
        graded = state == GRADED and submission is not None
        score = max(0.0, submission.raw_score - submission.late_penalty) if graded else None
        penalty = submission.late_penalty if graded else None
        rows.append(StudentRow(sid, *people[sid], state, status, score, data.max_score,
                               penalty, scores,
                               submission.raw_score if graded and submission else None))
    return rows


def analysed_rows(rows: Iterable[StudentRow], items: Sequence[GradeItem]
                  ) -> tuple[StudentRow, ...]:
    """Rows whose auto-graded items all have a score (graded, or awaiting a tutor)."""
    keys = [item.key for item in items if item.auto and item.max_score > 0]
    return tuple(row for row in rows if row.state in ANALYSED_STATES
                 and all(row.item_scores.get(k) is not None for k in keys))


# ---------------------------------------------------------------- reading the course


def read_status_file(path: Path) -> dict[str, dict[str, str]]:
    """Rows of ``course grade``'s status CSV by student ({} when there is no file)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot read the grading status file ({error})") from None
    reader = csv.DictReader(text.splitlines())
    if not {"student", "status"} <= set(reader.fieldnames or ()):
        raise ReportError(f"{path}: not a grading status file (needs columns student, "
                          "status, detail); run `course grade` again")
    return {row["student"]: row for row in reader if row.get("student")}


def gradebook_problem(db_url: str) -> str | None:
    """Why an SQLite gradebook cannot be read (other databases are asked directly)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not Path(database).is_file():
        return f"there is no gradebook at {database}"
    return None


def _grade_score(grade: Any) -> float | None:
    extra = float(grade.extra_credit or 0)
    if grade.manual_score is not None:
        return float(grade.manual_score) + extra
    if grade.needs_manual_grade or grade.auto_score is None:
        return None
    return float(grade.auto_score) + extra


def read_gradebook(db_url: str, course_id: str, assignment: str) -> GradebookData:
    """The assignment's grade cells, students and submissions, as plain data."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise ReportError(f"{assignment} has no rows in the gradebook: release it "
                              f"(`course release {assignment}`) and grade it (`course grade "
                              f"{assignment}`) first") from None
        items = []
        for nb in found.notebooks:
            answers = {cell.name for cell in nb.solution_cells}
            items += [GradeItem(nb.name, cell.name, float(cell.max_score),
                                cell.cell_type == "code" and cell.name not in answers)
                      for cell in nb.grade_cells]
            items += [GradeItem(nb.name, cell.name, float(cell.max_score), False)
                      for cell in nb.task_cells]
        submissions = {}
        for sub in found.submissions:
            grades = [(f"{snb.name}/{g.cell.name}", g) for snb in sub.notebooks
                      for g in snb.grades]
            submissions[sub.student.id] = Submission(
                sub.student.id, {key: _grade_score(g) for key, g in grades},
                any(g.auto_score is not None or g.manual_score is not None for _, g in grades),
                any(g.needs_manual_grade for _, g in grades), float(sub.score or 0),
                float(sub.late_submission_penalty or 0))
        students = tuple((s.id, s.last_name or "", s.first_name or "") for s in gb.students)
        return GradebookData(assignment, float(found.max_score or 0), tuple(items), students,
                             submissions, tuple(nb.name for nb in found.notebooks
                                                if float(nb.max_score or 0) > 0))


def assignment_notebooks(root: Path, assignment: str) -> tuple[dict[str, NotebookNode], bool]:
    """The assignment's notebooks from source/ (with keys) or else release/ (without)."""
    from course.notebooks import NotebookError, read_notebook

    for folder, has_keys in ((root / "source" / assignment, True),
                             (root / "release" / assignment, False)):
        paths = sorted(folder.glob("*.ipynb"))
        if paths:
            try:
                return {p.stem: read_notebook(p) for p in paths}, has_keys
            except NotebookError as error:
                raise ReportError(str(error)) from None
    return {}, False


def ordered_items(items: Sequence[GradeItem], notebooks: Mapping[str, NotebookNode]
                  ) -> tuple[GradeItem, ...]:
    """Grade cells in notebook order, each with the answer variable its check reads."""
    order = grade_cell_order(notebooks)
    texts = check_cell_texts(notebooks)
    linked = []
    for item in items:
        names = ANSWER_NAME.findall(texts.get(item.key, ""))
        linked.append(GradeItem(item.notebook, item.grade_id, item.max_score, item.auto,
                                names[0] if names else None))
    return tuple(sorted(linked, key=lambda i: (i.notebook, order.get(i.key, len(order)),
                                               i.grade_id)))


def student_answers(folder: Path) -> dict[str, object] | None:
    """Answers in a student's autograded notebooks (None when one cannot be read)."""
    from course.notebooks import NotebookError, read_notebook

    answers: dict[str, object] = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            answers.update(notebook_answers(read_notebook(path)))
        except NotebookError:
            return None
    return answers


def _course_directory(root: Path) -> Any:
    from nbgrader.coursedir import CourseDirectory

    from course.grading.config import load_config

    return CourseDirectory(config=load_config(root))


def build_report(root: Path, assignment: str) -> Report:
    """Read the gradebook, the status file and the autograded notebooks; analyse them.

    Raises ReportError when there is no gradebook, the assignment is not in it, or it has
    no submission and no grading status yet.
    """
    from course.grading.assignments import ensure_tools_on_path
    from course.risk import DECISIONS

    ensure_tools_on_path()
    coursedir = _course_directory(root)
    problem = gradebook_problem(coursedir.db_url)
    if problem:
        raise ReportError(f"{problem}: release and grade {assignment} first "
                          f"(`course grade {assignment}`)")
    data = read_gradebook(coursedir.db_url, coursedir.course_id, assignment)

    def folder(student: str) -> Path:
        return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))

    autograded = Path(os.path.normpath(coursedir.format_path(
        coursedir.autograded_directory, ".", ".")))
    status = read_status_file(autograded / STATUS_FILE.format(assignment=assignment))
    if not data.submissions and not status:
        raise ReportError(f"{assignment} has no submissions in the gradebook and no grading "
                          f"status: grade it first (`course grade {assignment}`)")
    students = {sid for sid, _, _ in data.students} | set(status)
    problems = {sid: autograded_problem(folder(sid), data.scored_notebooks,
                                        _shown(folder(sid), root))
                for sid in students if sid in data.submissions}
    rows = student_rows(data, status, problems)
    notebooks, has_keys = assignment_notebooks(root, assignment)
    items = ordered_items(data.items, notebooks)
    auto = [item for item in items if item.auto and item.max_score > 0]
    candidates = analysed_rows(rows, items)
    read = {row.student_id: student_answers(folder(row.student_id)) for row in candidates}
    excluded = excluded_submissions(candidates, auto, read)
    left_out = dict(excluded)
    analysed = [row for row in candidates if row.student_id not in left_out]
    warnings = []
    if excluded:
        warnings.append("Left out of the item analysis and option counts (flagged; their "
                        "grades stand): " + ", ".join(f"{sid} ({why})" for sid, why
                                                      in excluded) + ". Such submissions "
                        "would inflate every discrimination value; check these notebooks.")
    matrix = [[float(row.item_scores[i.key] or 0) for i in auto] for row in analysed]
    stats = item_statistics(auto, matrix) if analysed else []
    if not analysed:
        warnings.append("No graded student yet: there is no item analysis.")
    elif note := reliability_warning(len(analysed)):
        warnings.append(note)
    if not has_keys:
        warnings.append(f"No source notebooks for {assignment}: option counts have no key.")
    answers: dict[str, dict[str, object]] = {}
    for row in analysed:
        mine = read[row.student_id]
        if mine is None:
            warnings.append(f"{row.student_id}: an autograded notebook cannot be read; "
                            "their answers are left out of the option counts")
        else:
            answers[row.student_id] = mine
    asked = questions(items, check_cell_texts(notebooks),
                      solution_keys(notebooks) if has_keys else {}, DECISIONS)
    options = [count for q in asked for count in option_counts(q, [
        choice(chosen.get(q.answer), q.kind, q.options) for chosen in answers.values()])]
    return Report(assignment, data.max_score, items, tuple(rows), tuple(stats),
                  tuple(options), tuple(warnings), excluded)


def excluded_submissions(rows: Sequence[StudentRow], auto: Sequence[GradeItem],
                         answers: Mapping[str, Mapping[str, object] | None]
                         ) -> tuple[tuple[str, str], ...]:
    """(student, why) for each row left out of the statistics (blank or all-zero)."""
    asked = sorted({item.answer for item in auto if item.answer})
    found = []
    for row in rows:
        scores = [float(row.item_scores.get(item.key) or 0) for item in auto]
        flag = submission_flag(scores, answers.get(row.student_id), asked)
        if flag:
            found.append((row.student_id, flag))
    return tuple(found)


def _shown(path: Path, root: Path) -> str:
    try:
        return f"{path.relative_to(root)}/"
    except ValueError:
        return f"{path}/"


# ---------------------------------------------------------------- tables


Table = tuple[list[str], list[list[str]]]


def _number(value: float | None, digits: int | None = None) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}f}" if digits is not None else f"{value:g}"


def item_columns(items: Sequence[GradeItem]) -> dict[str, str]:
    """Item key -> grades.csv column: the grade id, or notebook/grade id when ambiguous."""
    names = Counter(item.grade_id for item in items)
    reserved = {*FIXED_COLUMNS, "late_penalty", "item_analysis"}
    return {item.key: item.grade_id if names[item.grade_id] == 1
            and item.grade_id not in reserved else item.key for item in items}


def grades_table(report: Report) -> Table:
    columns = item_columns(report.items)
    header = [*FIXED_COLUMNS, *columns.values(), "late_penalty", "item_analysis"]
    left_out = dict(report.excluded)
    rows = [[row.student_id, row.last_name, row.first_name, row.status, _number(row.score),
             _number(row.max_score), _number(row.percent, 1),
             *(_number(row.item_scores.get(key)) for key in columns),
             _number(row.late_penalty),
             f"left out: {left_out[row.student_id]}" if row.student_id in left_out else ""]
            for row in report.rows]
    return header, rows


def items_table(report: Report) -> Table:
    header = ["item", "notebook", "answer", "max_score", "n", "difficulty", "discrimination",
              "upper_lower", "flags", "reasons"]
    rows = [[s.item.grade_id, s.item.notebook, s.item.answer or "", _number(s.item.max_score),
             str(s.n), _number(s.difficulty, 3), _number(s.discrimination, 3),
             _number(s.upper_lower, 3), "; ".join(s.flags), "; ".join(s.reasons)]
            for s in report.stats]
    return header, rows


def options_table(report: Report, answers: Iterable[str] | None = None) -> Table:
    wanted = set(answers) if answers is not None else None
    header = ["answer", "items", "option", "count", "percent", "key", "note"]
    rows = [[o.answer, " ".join(o.items), o.option, str(o.count), f"{100 * o.share:.0f}",
             "yes" if o.key else "", o.note]
            for o in report.options if wanted is None or o.answer in wanted]
    return header, rows


def markdown_table(table: Table) -> str:
    """A table as GitHub-flavoured Markdown; every cell escaped (names and file names
    come from rosters and uploads: no HTML, links or formatting get through)."""
    from course.escaping import markdown_text

    header, rows = table

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(markdown_text(c) for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])


def write_csv(table: Table, path: Path) -> Path:
    header, rows = table
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)  # no cell runs as a spreadsheet formula
        writer.writerow([csv_cell(c) for c in header])
        writer.writerows([[csv_cell(c) for c in row] for row in rows])
    return path


# ---------------------------------------------------------------- texts


def _state_counts(report: Report) -> str:
    return (f"{report.count(GRADED)} graded, {report.count(FAILED)} failed, "
            f"{report.count(MISSING)} missing, {report.count(NEEDS_MANUAL)} awaiting "
            "manual grading")


def _graded_percents(report: Report) -> list[float]:
    return [row.percent for row in report.rows
            if row.state == GRADED and row.percent is not None]


def score_summary(report: Report) -> str:
    percents = _graded_percents(report)
    if not percents:
        return "No graded submission yet."
    return (f"Graded scores: mean {mean(percents):.1f}%, median "
            f"{statistics.median(percents):.1f}%, range {min(percents):.1f}–"
            f"{max(percents):.1f}% (failed, missing and unfinished submissions are not "
            "counted as zeros).")


def summary_text(report: Report) -> str:
    """A short plain-text summary: counts, scores, warnings and flagged items."""
    manual = [i for i in report.items if not i.auto]
    lines = [f"{report.assignment}: {len(report.rows)} student(s): {_state_counts(report)}.",
             score_summary(report),
             f"Item analysis over {len(report.analysed)} student(s) and {len(report.stats)} "
             f"auto-graded item(s): {len(report.flagged)} flagged."
             + (f" {len(manual)} tutor-graded item(s) are not analysed." if manual else "")]
    lines += [f"Warning: {w}" for w in report.warnings]
    lines += [f"  {s.item.grade_id}: {'; '.join(s.flags)}" for s in report.flagged]
    return "\n".join(lines)


def score_bins(percents: Iterable[float], width: int = 10) -> list[int]:
    """Counts per bin of ``width`` points from 0 to 100 (a boundary counts in the higher
    bin; 100% in the last)."""
    if width <= 0 or 100 % width:
        raise ValueError(f"width: must divide 100, not {width}")
    bins = [0] * (100 // width)
    for value in percents:
        if not 0 <= value <= 100:
            raise ValueError(f"percent: must be in 0..100, not {value}")
        bins[min(int(value // width), len(bins) - 1)] += 1
    return bins


def _bin_labels(width: int = 10) -> list[str]:
    return [f"{low}–{low + width}%" for low in range(0, 100, width)]


def _not_shown(report: Report) -> str:
    return (f"Not shown, and not counted as zeros: {report.count(FAILED)} failed, "
            f"{report.count(MISSING)} missing, {report.count(NEEDS_MANUAL)} awaiting manual "
            "grading.")


def score_distribution_alt_text(report: Report) -> str:
    """The text equivalent of :func:`score_distribution_figure`."""
    percents = _graded_percents(report)
    if not percents:
        return (f"Histogram of {report.assignment} scores: no graded submission yet. "
                f"{_not_shown(report)}")
    bins = "; ".join(f"{label}: {count}" for label, count
                     in zip(_bin_labels(), score_bins(percents), strict=True) if count)
    return (f"Histogram of percent scores of the {len(percents)} graded student(s) of "
            f"{report.assignment}, in bins of 10 points (only non-empty bins listed): "
            f"{bins}. {score_summary(report)} {_not_shown(report)}")


def _zone(p: float | None, r: float | None) -> str:
    parts = []
    if r is None:
        parts.append("discrimination undefined")
    elif r < 0:
        parts.append("negative discrimination zone")
    elif r < LOW_DISCRIMINATION:
        parts.append("low discrimination zone")
    if p is not None and p > VERY_EASY:
        parts.append("very easy zone")
    elif p is not None and p < VERY_HARD:
        parts.append("very hard zone")
    return ", ".join(parts) or "working as intended"


def item_map_alt_text(report: Report) -> str:
    """The text equivalent of :func:`item_map_figure`."""
    if not report.stats:
        return f"Item map of {report.assignment}: no item analysis (no graded student)."
    lines = [f"Scatter plot of the {len(report.stats)} auto-graded items of "
             f"{report.assignment} over {len(report.analysed)} student(s): difficulty "
             "(proportion of points scored, 0 to 1) across, discrimination (corrected "
             "item-total correlation, -1 to 1) up. Shaded zones: negative discrimination "
             f"(below 0), low discrimination (0 to {LOW_DISCRIMINATION:.2f}), very hard "
             f"(below {VERY_HARD:.2f}) and very easy (above {VERY_EASY:.2f}). Items:"]
    for s in report.stats:
        r = "undefined" if s.discrimination is None else f"{s.discrimination:.2f}"
        p = "none" if s.difficulty is None else f"{s.difficulty:.2f}"
        flags = f"; flagged: {', '.join(s.flags)}" if s.flags else ""
        lines.append(f"- {s.item.label}: difficulty {p}, discrimination {r} "
                     f"({_zone(s.difficulty, s.discrimination)}){flags}.")
    lines += [f"Warning: {w}" for w in report.warnings if "unreliable" in w]
    return "\n".join(lines)


# ---------------------------------------------------------------- report.md and files


METHOD = f"""\
## Method

- **Who is analysed.** Students whose auto-graded items all have a score (graded, or
  awaiting a tutor's marks). Failed and missing submissions are left out, never counted as
  zeros. Only auto-graded items are analysed. Blank submissions (no answer to any
  auto-graded item) and all-zero ones (every auto-graded item scored 0, as an emptied or
  tampered notebook gets) are flagged and left out too: each would sit at the bottom of
  every item and of the rest of the test at once and inflate every discrimination value.
  Their grades stand; `grades.csv` says so in its `item_analysis` column.
- **Difficulty** *p*: the mean proportion of the item's points scored (1.0: everybody
  scored full marks). Flagged very easy above {VERY_EASY:.2f}, very hard below {VERY_HARD:.2f}.
- **Discrimination** *r*: the corrected item–total correlation, the Pearson correlation of
  the item's score with the total of the other auto-graded items (point-biserial for
  one-point items). Flagged low below {LOW_DISCRIMINATION:.2f} and negative below 0;
  undefined (no spread) when everybody scored the same.
- **Upper–lower index** *D* (shown, not used for flags): the item's mean proportion in the
  top {GROUP_FRACTION:.0%} of students by auto-graded total minus that in the bottom
  {GROUP_FRACTION:.0%} (ties in student-id order).
- **Options**: answers read from the autograded notebooks with Python's `ast` (never run),
  normalised as the hidden tests do (`strip().lower()`); blank and invalid counted apart.
- With fewer than {MIN_STUDENTS} students the statistics are unreliable; even with a few
  dozen, read a flag as a reason to look at the item, not as a verdict.
"""


def report_markdown(report: Report) -> str:
    """report.md: summary, warnings, flagged items, figures with text equivalents, method."""
    flagged_answers = {s.item.answer for s in report.flagged if s.item.answer}
    lines = [f"# Report: {report.assignment}", "", summary_text(report).split("\n")[0], "",
             score_summary(report), ""]
    lines += [f"> **Warning.** {w}" for w in report.warnings]
    lines += ["", "## Flagged items", ""]
    if report.flagged:
        lines += [f"- **{s.item.grade_id}** ({', '.join(s.flags)}): {'; '.join(s.reasons)}."
                  for s in report.flagged]
    else:
        lines.append("None.")
    if flagged_answers and report.options:
        lines += ["", "### Options chosen on flagged items", "",
                  markdown_table(options_table(report, flagged_answers))]
    lines += ["", "## Figures", "",
              f"![Score distribution of {report.assignment}](score-distribution.png)", "",
              f"Text equivalent: {score_distribution_alt_text(report)}", "",
              f"![Item difficulty against discrimination for {report.assignment}]"
              "(item-map.png)", "", "Text equivalent:", "", item_map_alt_text(report), "",
              "## Files", "",
              "- `grades.csv`: one row per student; `status` says what the score means "
              "(an empty score is never a zero).",
              "- `items.csv`: difficulty, discrimination, upper–lower index and flags.",
              "- `options.csv`: how often each option was chosen.", "", METHOD]
    return "\n".join(lines)


def write_report(report: Report, output: Path) -> list[Path]:
    """Write the report files into ``output`` (created if needed); returns their paths."""
    from course import report_figures as figures

    output.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[Path], Path]] = {
        "grades.csv": lambda p: write_csv(grades_table(report), p),
        "items.csv": lambda p: write_csv(items_table(report), p),
        "options.csv": lambda p: write_csv(options_table(report), p),
        "score-distribution.png": lambda p: figures.save_figure(
            figures.score_distribution_figure(report), p),
        "item-map.png": lambda p: figures.save_figure(figures.item_map_figure(report), p),
        "report.md": lambda p: _write_text(p, report_markdown(report)),
    }
    return [writers[name](output / name) for name in REPORT_FILES]


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
