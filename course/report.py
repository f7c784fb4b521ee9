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
zeros. Only auto-graded items are analysed (code grade cells that are not answer
cells); tutor-graded items are listed in the summary.

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
"""

from __future__ import annotations

import ast
import csv
import math
import os
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.errors import GradingError
from course.escaping import csv_cell

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from nbformat import NotebookNode

GRADED, FAILED, MISSING, NEEDS_MANUAL = "graded", "failed", "missing", "needs manual grading"
ANALYSED_STATES = (GRADED, NEEDS_MANUAL)
LOW_DISCRIMINATION = 0.20
VERY_EASY = 0.90
VERY_HARD = 0.30
GROUP_FRACTION = 0.27
MIN_STUDENTS = 5
BLANK, INVALID = "(blank)", "(invalid)"
LETTER, DECISION = "letter", "decision"
STATUS_FILE = "{assignment}.grading-status.csv"
REPORT_FILES = ("grades.csv", "items.csv", "options.csv", "score-distribution.png",
                "item-map.png", "report.md")
FIXED_COLUMNS = ("student_id", "last_name", "first_name", "status", "score", "max_score",
                 "percent")

# Okabe–Ito palette; every colour is repeated by a marker shape or a written label.
BLUE, GREEN, ORANGE, VERMILLION, GREY = "#0072B2", "#009E73", "#E69F00", "#D55E00", "#999999"

ANSWER_NAME = re.compile(r"\banswer_\w+\b")
ANSWER_LINE = re.compile(r"(?m)^\s*(answer_\w+)\s*[:=]")
LETTER_CHOICES = re.compile(r"\.strip\(\)\.lower\(\)\s+in\s+(\([^()]*\))")
# The answer-forms check cell (course.forms.migrate): check_choice("answer_…", answer_…, "abcd")
CHECK_CHOICE = re.compile(r'check_choice\(\s*"answer_\w+",\s*answer_\w+,\s*"([a-z]+)"\s*\)')
HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"


class ReportError(GradingError):
    """There is nothing to report (no gradebook, assignment or submission); exit code 1."""


class _Unreadable:
    """An answer that cannot be read without running code (not a literal, or no parse)."""

    def __repr__(self) -> str:
        return "<unreadable answer>"


UNREADABLE = _Unreadable()


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class GradeItem:
    """One grade cell (or graded task) of the assignment."""

    notebook: str
    grade_id: str
    max_score: float
    auto: bool
    answer: str | None = None  # the answer_... variable its check cell reads

    @property
    def key(self) -> str:
        return f"{self.notebook}/{self.grade_id}"

    @property
    def label(self) -> str:
        return self.grade_id.removesuffix("_check")


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

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100 * self.score / self.max_score


@dataclass(frozen=True)
class ItemStats:
    item: GradeItem
    n: int
    difficulty: float | None
    discrimination: float | None  # corrected item-total correlation
    upper_lower: float | None
    flags: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """An answer variable whose options are counted."""

    answer: str
    kind: str  # LETTER or DECISION
    options: tuple[str, ...]
    key: str | None
    items: tuple[str, ...]  # grade ids of the cells that score it


@dataclass(frozen=True)
class OptionCount:
    answer: str
    items: tuple[str, ...]
    option: str
    count: int
    total: int
    key: bool
    note: str

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


@dataclass(frozen=True)
class Report:
    assignment: str
    max_score: float
    items: tuple[GradeItem, ...]  # every grade cell, in notebook order
    rows: tuple[StudentRow, ...]
    stats: tuple[ItemStats, ...]
    options: tuple[OptionCount, ...]
    warnings: tuple[str, ...]

    def count(self, state: str) -> int:
        return sum(row.state == state for row in self.rows)

    @property
    def analysed(self) -> tuple[StudentRow, ...]:
        return analysed_rows(self.rows, self.items)

    @property
    def flagged(self) -> tuple[ItemStats, ...]:
        return tuple(s for s in self.stats if s.flags)


# ---------------------------------------------------------------- statistics


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("values: at least one value is needed")
    return sum(values) / len(values)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when there are fewer than 2 pairs or either has no spread."""
    if len(xs) != len(ys):
        raise ValueError(f"xs, ys: need the same length, not {len(xs)} and {len(ys)}")
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _column(matrix: Sequence[Sequence[float]], j: int) -> list[float]:
    if matrix and not 0 <= j < len(matrix[0]):
        raise ValueError(f"column: must be in 0..{len(matrix[0]) - 1}, not {j}")
    return [row[j] for row in matrix]


def difficulty(points: Sequence[float], max_score: float) -> float | None:
    """Mean proportion of the item's points scored (None without students or points)."""
    if max_score <= 0:
        raise ValueError(f"max_score: must be above 0, not {max_score}")
    return mean([p / max_score for p in points]) if points else None


def rest_scores(matrix: Sequence[Sequence[float]], j: int) -> list[float]:
    """Each student's total without item ``j``."""
    return [sum(row) - row[j] for row in matrix]


def corrected_item_total(matrix: Sequence[Sequence[float]], j: int) -> float | None:
    """Correlation of item ``j`` with the total of the other items (rows: students)."""
    return pearson(_column(matrix, j), rest_scores(matrix, j))


def group_size(n: int, fraction: float = GROUP_FRACTION) -> int:
    """Students in each of the upper and lower groups: floor(fraction n + 0.5), at least 1."""
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction: must be in (0, 0.5], not {fraction}")
    return max(1, math.floor(fraction * n + 0.5))


def upper_lower_index(matrix: Sequence[Sequence[float]], maxima: Sequence[float], j: int,
                      fraction: float = GROUP_FRACTION) -> float | None:
    """Kelley's D: item ``j``'s mean proportion in the top group minus the bottom group.

    Students are ranked by their total over all items (ties keep the rows' order).
    None with fewer than 2 students.
    """
    n = len(matrix)
    if n < 2:
        return None
    size = group_size(n, fraction)
    order = sorted(range(n), key=lambda i: -sum(matrix[i]))
    upper, lower = order[:size], order[-size:]
    share = [row[j] / maxima[j] for row in matrix]
    return mean([share[i] for i in upper]) - mean([share[i] for i in lower])


def item_flags(p: float | None, r: float | None, item_spread: bool, rest_spread: bool
               ) -> list[tuple[str, str]]:
    """(flag, plain-language reason) pairs for one item."""
    flags: list[tuple[str, str]] = []
    if p is None:
        return [("no data", "no analysed student has a score for this item")]
    if not item_spread:
        flags.append(("no spread", "everybody scored the same on this item, so it cannot "
                                   "tell stronger from weaker students (discrimination "
                                   "undefined)"))
    elif not rest_spread or r is None:
        flags.append(("no spread", "the rest of the test has no spread, so discrimination "
                                   "is undefined"))
    elif r < 0:
        flags.append(("negative discrimination",
                      f"r = {r:.2f}: students who did better on the rest of the test did "
                      "worse on this item; check the key first, then the wording and "
                      "whether a distractor is also defensible"))
    elif r < LOW_DISCRIMINATION:
        flags.append(("low discrimination",
                      f"r = {r:.2f}, below {LOW_DISCRIMINATION:.2f}: the item barely "
                      "separates stronger from weaker students; review the wording and "
                      "the distractors"))
    if p > VERY_EASY:
        flags.append(("very easy", f"{100 * p:.0f}% of its points were scored: keep it if "
                                   "it checks an essential fact, otherwise make the "
                                   "distractors more plausible"))
    elif p < VERY_HARD:
        flags.append(("very hard", f"only {100 * p:.0f}% of its points were scored: check "
                                   "the key, the wording, and whether the module teaches it"))
    return flags


def reliability_warning(n: int) -> str | None:
    """A warning when too few students were analysed for the statistics to mean much."""
    if n >= MIN_STUDENTS:
        return None
    return (f"Only {n} student(s) in the item analysis: with fewer than {MIN_STUDENTS} the "
            "statistics are unreliable; read them as hints, not verdicts.")


def item_statistics(items: Sequence[GradeItem], matrix: Sequence[Sequence[float]]
                    ) -> list[ItemStats]:
    """Difficulty, discrimination, D and flags for each item (columns of ``matrix``)."""
    stats = []
    maxima = [item.max_score for item in items]
    for j, item in enumerate(items):
        column = _column(matrix, j)
        rest = rest_scores(matrix, j)
        p = difficulty(column, item.max_score)
        r = corrected_item_total(matrix, j)
        flags = item_flags(p, r, len(set(column)) > 1, len(set(rest)) > 1)
        stats.append(ItemStats(item, len(matrix), p, r, upper_lower_index(matrix, maxima, j),
                               tuple(f for f, _ in flags), tuple(why for _, why in flags)))
    return stats


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
                               penalty, scores))
    return rows


def analysed_rows(rows: Iterable[StudentRow], items: Sequence[GradeItem]
                  ) -> tuple[StudentRow, ...]:
    """Rows whose auto-graded items all have a score (graded, or awaiting a tutor)."""
    keys = [item.key for item in items if item.auto and item.max_score > 0]
    return tuple(row for row in rows if row.state in ANALYSED_STATES
                 and all(row.item_scores.get(k) is not None for k in keys))


# ---------------------------------------------------------------- answers (never run)


def _assigned_names(node: ast.stmt) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [t.id for t in targets if isinstance(t, ast.Name) and t.id.startswith("answer_")]


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return UNREADABLE
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNREADABLE


def cell_answers(source: str) -> dict[str, object]:
    """``answer_...`` names assigned at the top level of a code cell, with their values.

    The value is the literal (``ast.literal_eval``) or :data:`UNREADABLE`; the code is
    never run. A cell that does not parse makes every answer it seems to assign unreadable.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return dict.fromkeys(ANSWER_LINE.findall(source), UNREADABLE)
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) or (isinstance(node, ast.AnnAssign) and node.value):
            for name in _assigned_names(node):
                found[name] = _literal(node.value)
    return found


def _meta(cell: Any) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_test(cell: Any) -> bool:
    meta = _meta(cell)
    return bool(meta.get("grade") and not meta.get("solution")) or bool(meta.get("locked"))


def notebook_answers(nb: NotebookNode) -> dict[str, object]:
    """Every answer a notebook assigns, in cell order (later cells win), tests skipped."""
    found: dict[str, object] = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and not _is_test(cell):
            found.update(cell_answers(cell.source))
    return found


def normalise_decision(text: str) -> str:
    """A decision as course.cases reads it: 'Proceed with precautions' -> snake case."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def choice(value: object, kind: str, options: Sequence[str]) -> str:
    """The option an answer chose, or BLANK / INVALID."""
    if kind == DECISION and isinstance(value, dict):
        value = value.get("decision")
    elif kind == DECISION and value is not None and value is not UNREADABLE:
        return INVALID
    if value is None:
        return BLANK
    if type(value) is not str:  # as the hidden tests: type(answer) is str
        return INVALID
    if kind != DECISION:  # read as the hidden tests read it: "(B)" and "b)" are b
        from course.answers import choice_value

        value = choice_value(value, options) or value
    text = normalise_decision(value) if kind == DECISION else value.strip().lower()
    if not text:
        return BLANK
    return text if text in options else INVALID


# ---------------------------------------------------------------- the assignment's notebooks


def _visible(source: str) -> str:
    return source.split(HIDDEN_TESTS, 1)[0]


def grade_cell_order(notebooks: Mapping[str, NotebookNode]) -> dict[str, int]:
    """Item key -> position, in notebook (name) order then cell order."""
    order: dict[str, int] = {}
    for name in sorted(notebooks):
        for cell in notebooks[name].cells:
            meta = _meta(cell)
            if meta.get("grade") or meta.get("task"):
                order.setdefault(f"{name}/{meta.get('grade_id')}", len(order))
    return order


def check_cell_texts(notebooks: Mapping[str, NotebookNode]) -> dict[str, str]:
    """Item key -> the visible source of its grade cell (hidden tests cut off)."""
    return {f"{name}/{_meta(cell)['grade_id']}": _visible(cell.source)
            for name, nb in notebooks.items() for cell in nb.cells
            if _meta(cell).get("grade") and cell.cell_type == "code"}


def letter_options(text: str) -> tuple[str, ...] | None:
    """The letters a check cell accepts (``.strip().lower() in ("a", "b", ...)``)."""
    forms = CHECK_CHOICE.search(text)
    if forms:
        return tuple(forms.group(1))
    match = LETTER_CHOICES.search(text)
    if not match:
        return None
    try:
        value = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, tuple) and value and all(
            isinstance(v, str) and len(v.strip()) == 1 for v in value):
        return tuple(v.strip().lower() for v in value)
    return None


def solution_keys(notebooks: Mapping[str, NotebookNode]) -> dict[str, object]:
    """Answer name -> the instructor's answer, from the source notebooks' solution cells."""
    keys: dict[str, object] = {}
    for name in sorted(notebooks):
        for cell in notebooks[name].cells:
            if cell.cell_type == "code" and _meta(cell).get("solution"):
                source = "\n".join(line for line in cell.source.splitlines()
                                   if "### BEGIN SOLUTION" not in line
                                   and "### END SOLUTION" not in line)
                keys.update(cell_answers(source))
    return keys


def questions(items: Sequence[GradeItem], texts: Mapping[str, str],
              keys: Mapping[str, object], decisions: Sequence[str]) -> list[Question]:
    """The answers whose options can be counted: single-best-answer letters and the
    decision of case items. Others (numbers, lists, free text) are skipped."""
    by_answer: dict[str, list[GradeItem]] = {}
    for item in items:
        if item.answer and item.auto:
            by_answer.setdefault(item.answer, []).append(item)
    found = []
    for answer, scoring in by_answer.items():
        key = keys.get(answer)
        letters = next((o for i in scoring if (o := letter_options(texts.get(i.key, "")))),
                       None)
        if letters:
            kind, options = LETTER, letters
        elif isinstance(key, dict) and "decision" in key:
            kind, options = DECISION, tuple(decisions)
        else:
            continue
        key_choice = choice(key, kind, options) if answer in keys else None
        found.append(Question(answer, kind, options,
                              key_choice if key_choice in options else None,
                              tuple(i.grade_id for i in scoring)))
    return found


def _option_note(option: str, count: int, key_count: int | None, is_key: bool) -> str:
    if option == BLANK:
        return "no answer, or an empty one"
    if option == INVALID:
        return "not one of the options, or not a plain value (answers are never run)"
    if is_key:
        return "key"
    if key_count is None:
        return ""
    if count == 0:
        return "distractor chosen by nobody: it does no work; make it more plausible"
    if count > key_count:
        return "chosen more often than the key: check the key and the wording"
    return ""


def option_counts(question: Question, chosen: Sequence[str]) -> list[OptionCount]:
    """One row per option (then blank and invalid) of a question, over the given choices."""
    counts = Counter(chosen)
    key_count = counts[question.key] if question.key else None
    return [OptionCount(question.answer, question.items, option, counts[option], len(chosen),
                        option == question.key,
                        _option_note(option, counts[option], key_count,
                                     option == question.key))
            for option in (*question.options, BLANK, INVALID)]


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

    from course.cohort import load_config

    return CourseDirectory(config=load_config(root))


def build_report(root: Path, assignment: str) -> Report:
    """Read the gradebook, the status file and the autograded notebooks; analyse them.

    Raises ReportError when there is no gradebook, the assignment is not in it, or it has
    no submission and no grading status yet.
    """
    from course.grading import ensure_tools_on_path
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
    analysed = analysed_rows(rows, items)
    warnings = []
    auto = [item for item in items if item.auto and item.max_score > 0]
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
        read = student_answers(folder(row.student_id))
        if read is None:
            warnings.append(f"{row.student_id}: an autograded notebook cannot be read; "
                            "their answers are left out of the option counts")
        else:
            answers[row.student_id] = read
    asked = questions(items, check_cell_texts(notebooks),
                      solution_keys(notebooks) if has_keys else {}, DECISIONS)
    options = [count for q in asked for count in option_counts(q, [
        choice(chosen.get(q.answer), q.kind, q.options) for chosen in answers.values()])]
    return Report(assignment, data.max_score, items, tuple(rows), tuple(stats),
                  tuple(options), tuple(warnings))


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
    reserved = {*FIXED_COLUMNS, "late_penalty"}
    return {item.key: item.grade_id if names[item.grade_id] == 1
            and item.grade_id not in reserved else item.key for item in items}


def grades_table(report: Report) -> Table:
    columns = item_columns(report.items)
    header = [*FIXED_COLUMNS, *columns.values(), "late_penalty"]
    rows = [[row.student_id, row.last_name, row.first_name, row.status, _number(row.score),
             _number(row.max_score), _number(row.percent, 1),
             *(_number(row.item_scores.get(key)) for key in columns),
             _number(row.late_penalty)] for row in report.rows]
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


# ---------------------------------------------------------------- figures


def score_distribution_figure(report: Report) -> Figure:
    """Histogram of graded students' percent scores, each bar labelled with its count."""
    from matplotlib.figure import Figure

    percents = _graded_percents(report)
    fig = Figure(figsize=(8.0, 4.8))
    ax = fig.add_axes((0.09, 0.27, 0.88, 0.62))
    counts = score_bins(percents)
    bars = ax.bar(range(len(counts)), counts, width=0.9, color=BLUE, edgecolor="#000000")
    for bar, count in zip(bars, counts, strict=True):
        if count:
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), str(count),
                    ha="center", va="bottom", fontsize=10)
    ax.set_xticks(range(len(counts)))
    ax.set_xticklabels(_bin_labels(), fontsize=8)
    ax.set_ylim(0, max([*counts, 1]) * 1.2)
    ax.set_xlabel("Percent score (graded submissions only)")
    ax.set_ylabel("Students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if not percents:
        ax.text(len(counts) / 2, 0.5, "No graded submission yet", ha="center", fontsize=12)
    fig.text(0.02, 0.97, f"{report.assignment}: score distribution (n = {len(percents)} "
                         "graded)", fontsize=12, fontweight="bold", va="top")
    fig.text(0.02, 0.03, f"{score_summary(report)}\n{_not_shown(report)}", fontsize=8.5,
             va="bottom", wrap=True)
    return fig


MAX_LABELS_PER_SPOT = 3


def _label_groups(stats: Sequence[ItemStats]) -> list[tuple[float, float, str]]:
    """One label per place: items at the same place share it (at most three names, then
    "+N more"; every item is in items.csv and in the text equivalent)."""
    groups: dict[tuple[float, float], list[str]] = {}
    for s in stats:
        where = (round(s.difficulty or 0, 2), round(s.discrimination or 0, 2))
        groups.setdefault(where, []).append(s.item.label + (" (!)" if s.flags else ""))
    labels = []
    for (x, y), names in groups.items():
        shown = names[:MAX_LABELS_PER_SPOT]
        if len(names) > MAX_LABELS_PER_SPOT:
            shown.append(f"+{len(names) - MAX_LABELS_PER_SPOT} more")
        labels.append((x + 0.015, y, "\n".join(shown)))
    return labels


def item_map_figure(report: Report) -> Figure:
    """Difficulty against discrimination, one labelled point per item, flag zones shaded
    and named; items with undefined discrimination are listed under the plot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 7.0))
    ax = fig.add_axes((0.09, 0.15, 0.88, 0.72))
    ax.set_xlim(-0.02, 1.08)
    ax.set_ylim(-1.05, 1.05)
    ax.axhspan(-1.05, 0, color=VERMILLION, alpha=0.12, linewidth=0)
    ax.axhspan(0, LOW_DISCRIMINATION, color=ORANGE, alpha=0.18, linewidth=0)
    ax.axvspan(-0.02, VERY_HARD, facecolor="none", edgecolor=GREY, hatch="\\\\", linewidth=0)
    ax.axvspan(VERY_EASY, 1.08, facecolor="none", edgecolor=GREY, hatch="//", linewidth=0)
    for x, y, text in ((0.6, -0.95, "Negative discrimination: check the key"),
                       (0.6, 0.07, f"Low discrimination (below {LOW_DISCRIMINATION:.2f}): "
                                   "review wording and distractors"),
                       (0.6, 0.23, "Working as intended (above both bands)")):
        ax.text(x, y, text, ha="center", fontsize=9, style="italic")
    for x, text in ((VERY_HARD / 2, f"Very hard (below {VERY_HARD:.2f})"),
                    ((VERY_EASY + 1.08) / 2, f"Very easy\n(above {VERY_EASY:.2f})")):
        ax.text(x, 1.07, text, fontsize=8.5, ha="center", va="bottom", clip_on=False)
    plotted = [s for s in report.stats if s.discrimination is not None]
    for flagged, marker, colour, name in ((False, "o", GREEN, "not flagged"),
                                          (True, "X", VERMILLION, "flagged (!)")):
        group = [s for s in plotted if bool(s.flags) == flagged]
        if group:
            ax.scatter([s.difficulty for s in group], [s.discrimination for s in group],
                       marker=marker, s=70, color=colour, edgecolor="#000000", label=name,
                       zorder=3)
    for x, y, text in _label_groups(plotted):
        ax.text(x, y, text, fontsize=7.5, va="center", zorder=4)
    ax.axhline(0, color="#000000", linewidth=0.6)
    ax.set_xlabel("Difficulty: mean proportion of the item's points scored "
                  "(0 = nobody, 1 = everybody)")
    ax.set_ylabel("Discrimination: corrected item–total r")
    if plotted:
        ax.legend(loc="upper left", fontsize=8, title="Marker (label ends (!) when flagged)",
                  title_fontsize=8)
    fig.text(0.02, 0.98, f"{report.assignment}: item difficulty and discrimination "
                         f"(n = {len(report.analysed)} students)", fontsize=12,
             fontweight="bold", va="top")
    undefined = [f"{s.item.label} (difficulty {s.difficulty:.2f})" for s in report.stats
                 if s.discrimination is None and s.difficulty is not None]
    notes = [f"Not plotted, discrimination undefined (no spread): {', '.join(undefined)}."
             if undefined else "Every item has a defined discrimination."]
    notes += [w for w in report.warnings if "unreliable" in w or "No graded" in w]
    fig.text(0.02, 0.02, "\n".join(notes), fontsize=8, va="bottom", wrap=True)
    return fig


def save_figure(fig: Figure, path: Path, dpi: int = 100) -> Path:
    fig.savefig(path, format="png", dpi=dpi, bbox_inches="tight")
    return path


# ---------------------------------------------------------------- report.md and files


METHOD = f"""\
## Method

- **Who is analysed.** Students whose auto-graded items all have a score (graded, or
  awaiting a tutor's marks). Failed and missing submissions are left out, never counted as
  zeros. Only auto-graded items are analysed.
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
    output.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[Path], Path]] = {
        "grades.csv": lambda p: write_csv(grades_table(report), p),
        "items.csv": lambda p: write_csv(items_table(report), p),
        "options.csv": lambda p: write_csv(options_table(report), p),
        "score-distribution.png": lambda p: save_figure(score_distribution_figure(report), p),
        "item-map.png": lambda p: save_figure(item_map_figure(report), p),
        "report.md": lambda p: _write_text(p, report_markdown(report)),
    }
    return [writers[name](output / name) for name in REPORT_FILES]


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
