"""Item analysis: difficulty, discrimination and flags per item, and the options chosen.

Pure functions over plain data (no gradebook, no figures): :mod:`course.report` reads the
course and writes the files; the method is described in its docstring and in report.md.
Answers are read from notebooks with :mod:`ast` and never run.

Blank submissions (no answer given to any auto-graded item) and all-zero submissions (every
auto-graded item scored 0, which is what a tampered or emptied notebook gets) are *flagged*
and left out of the statistics: each one is a student at the bottom of every item and of
the rest of the test at once, so it inflates every discrimination value.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbformat import NotebookNode

LOW_DISCRIMINATION = 0.20
VERY_EASY = 0.90
VERY_HARD = 0.30
GROUP_FRACTION = 0.27
MIN_STUDENTS = 5
BLANK, INVALID = "(blank)", "(invalid)"
LETTER, DECISION = "letter", "decision"
BLANK_SUBMISSION = "blank submission"
ALL_ZERO_SUBMISSION = "every auto-graded item scored 0"

ANSWER_NAME = re.compile(r"\banswer_\w+\b")
ANSWER_LINE = re.compile(r"(?m)^\s*(answer_\w+)\s*[:=]")
LETTER_CHOICES = re.compile(r"\.strip\(\)\.lower\(\)\s+in\s+(\([^()]*\))")
# The answer-forms check cell (course.forms.migrate): check_choice("answer_…", answer_…, "abcd")
CHECK_CHOICE = re.compile(r'check_choice\(\s*"answer_\w+",\s*answer_\w+,\s*"([a-z]+)"\s*\)')
HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"


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


MIN_ITEMS_FOR_ZERO_FLAG = 3


def _given(value: object) -> bool:
    """An answer was given: not None, not an empty or blank string or container."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (dict, list, tuple, set)):
        return any(_given(v) for v in (value.values() if isinstance(value, dict) else value))
    return True


def submission_flag(scores: Sequence[float], answers: Mapping[str, object] | None,
                    asked: Sequence[str]) -> str | None:
    """Why a submission is left out of the item statistics, or None when it is analysed.

    ``scores``: its auto-graded item scores; ``answers``: what its notebooks assign (None
    when they cannot be read); ``asked``: the answer names the auto-graded items read.
    Blank: none of them given. All zero: every auto-graded item scored 0 (with at least
    three items), which an emptied or tampered notebook gets.
    """
    if answers is not None and asked and not any(_given(answers.get(a)) for a in asked):
        return BLANK_SUBMISSION
    if len(scores) >= MIN_ITEMS_FOR_ZERO_FLAG and not any(scores):
        return ALL_ZERO_SUBMISSION
    return None


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
