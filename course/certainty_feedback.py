"""Certainty-based marking in a learner's results: score, calibration chart, review list.

The final assessment's single-best-answer forms also ask "How sure are you?"
(``course.answer.certainty: true`` in the answer cell's metadata); the form writes
``certainty_q5_1_1 = "medium"`` under the answer. Each item's hidden test gives nbgrader the
item's partial credit (:func:`course.certainty.cbm_points`). This module reads the result
back, after grading, for the learner:

- **accuracy** over every auto-graded item of the notebook (an item is right when it
  scored more than 0: a right answer always does under CBM, a wrong one never): the pass
  (70%) is decided on it;
- the **certainty-based score** (:func:`course.certainty.summarise`, signed marks -6 … 3)
  over the items that asked for a certainty, beside it;
- a **calibration chart**: the share right at each certainty level, as HTML bars with a
  text equivalent;
- **review before practice**: confident (medium or high) errors on safety-critical items
  (``course.answer.review``: the lesson that teaches it), with links to the lessons.

:class:`CertaintyFeedback` adds this block at the top of nbgrader's feedback;
``course check`` and "Check my answers" show the same block (:func:`certainty_block`).
Answers are read with :mod:`ast` (never run); every text is escaped. No keys are shown.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from traitlets import Bool

from course.certainty import (
    CERTAINTY_PREFIX,
    PASS_MARK,
    Answer,
    Level,
    ReviewItem,
    Summary,
    calibration,
    certainty_name,
    lenient_certainty,
    review_before_practice,
    summarise,
)
from course.grading.trusted_tests import is_test_cell

BAR_COLOUR = "#1f5f99"  # 6.6:1 on white
BLOCK_CLASS = "course-certainty"


@dataclass(frozen=True)
class CbmItem:
    """An answer cell that asks for a certainty, and the test cell that checks it."""

    answer: str
    check_id: str
    lesson: str | None = None  # e.g. 03-risk-assessment/03-safety-and-emergencies
    lesson_title: str | None = None


def _spec(cell: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spec = cell.get("metadata", {}).get("course", {}).get("answer")
    return spec if isinstance(spec, Mapping) else None


def _grade_id(cell: Mapping[str, Any]) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def cbm_items(nb: NotebookNode) -> list[CbmItem]:
    """Items whose answer form asks for a certainty, with their check's grade id."""
    items = []
    for index, cell in enumerate(nb.cells):
        spec = _spec(cell)
        if not spec or not spec.get("certainty"):
            continue
        checks = [c for c in nb.cells[index + 1:index + 1 + int(spec.get("checks", 1))]
                  if is_test_cell(c)]
        if not checks:
            continue
        review = spec.get("review") if isinstance(spec.get("review"), Mapping) else {}
        items.append(CbmItem(spec["name"], str(_grade_id(checks[-1])),
                             review.get("lesson"), review.get("title")))
    return items


def right_items(scores: Mapping[str, float | None], points: Mapping[str, float]
                ) -> tuple[float, float]:
    """(points of the items answered right, points of all items): accuracy, on which the
    final's pass is decided. Right means a score above 0; an unscored item is not right."""
    right = sum(points[k] for k, score in scores.items() if score is not None and score > 0)
    return right, sum(points[k] for k in scores)


def written_certainties(nb: NotebookNode) -> dict[str, object]:
    """``certainty_…`` values assigned in the notebook's answer cells (later ones win),
    read with :func:`ast.literal_eval`, never run; unreadable values are left out."""
    found: dict[str, object] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or meta.get("locked") or is_test_cell(cell):
            continue
        try:
            tree = ast.parse(cell.get("source", ""))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.startswith(CERTAINTY_PREFIX):
                        try:
                            found[target.id] = ast.literal_eval(node.value)
                        except (ValueError, TypeError, SyntaxError, MemoryError,
                                RecursionError):
                            found.pop(target.id, None)
    return found


def learner_answers(nb: NotebookNode, items: Sequence[CbmItem],
                    scores: Mapping[str, float | None]) -> list[Answer]:
    """Each CBM item's result: right when its check scored above 0, with the certainty
    written in the notebook (missing or unreadable: None, counted as low)."""
    written = written_certainties(nb)
    return [Answer(item.answer, (scores.get(item.check_id) or 0) > 0,
                   lenient_certainty(written.get(certainty_name(item.answer))))
            for item in items]


def safety_lessons(items: Sequence[CbmItem]) -> dict[str, str]:
    return {i.answer: i.lesson for i in items if i.lesson}


def _question(answer: str) -> str:
    return "Question " + answer.removeprefix("answer_q").replace("_", ".")


def accuracy_text(right: float, total: float) -> str:
    share = right / total if total else 0.0
    verdict = "passed" if total and share >= PASS_MARK else "not passed"
    return (f"Accuracy: {right:g} of {total:g} points answered right ({share:.0%}): "
            f"{verdict} (the pass mark is {PASS_MARK:.0%} of the questions right; how sure "
            "you were never decides the pass).")


def cbm_text(summary: Summary) -> str:
    return (f"Certainty-based score on the {summary.items} single best answer questions: "
            f"average mark {summary.average_mark:+.2f} per question (from -6 to +3), "
            f"{summary.cbm_percent:.0f}% of the best possible.")


def review_text(review: Sequence[ReviewItem], titles: Mapping[str, str]) -> str:
    if not review:
        return "Review before practice: no confident errors on safety questions."
    return "Review before practice: " + " ".join(
        f"{_question(r.item)}: answered wrongly with {r.certainty.label} certainty; review "
        f"{titles.get(r.item, r.lesson)} ({r.lesson})." for r in review)


def block_text(accuracy: tuple[float, float], summary: Summary, levels: Sequence[Level],
               review: Sequence[ReviewItem], titles: Mapping[str, str]) -> str:
    """The whole block in plain sentences (the chart's text equivalent included)."""
    return "\n".join([accuracy_text(*accuracy), cbm_text(summary),
                      "How sure you were and how often you were right:",
                      *(level.text() for level in levels), review_text(review, titles)])


def _bar(level: Level) -> str:
    share = level.accuracy
    width = 0 if share is None else round(100 * share)
    shown = "no answers" if share is None else f"{level.right} of {level.answered} right " \
        f"({share:.0%})"
    return (f'<tr><th scope="row" style="text-align:left;padding-right:1em">'
            f'{escape(level.certainty.label.capitalize())}</th>'
            f'<td style="width:12em"><div aria-hidden="true" style="background:#e8e8e8;'
            f'width:12em;height:1em"><div style="background:{BAR_COLOUR};width:{width}%;'
            f'height:1em"></div></div></td><td style="padding-left:0.5em">{escape(shown)}'
            f'</td><td style="padding-left:0.5em">{escape(level.judgement)}</td></tr>')


def block_html(accuracy: tuple[float, float], summary: Summary, levels: Sequence[Level],
               review: Sequence[ReviewItem], titles: Mapping[str, str],
               link_prefix: str = "../") -> str:
    """The block as HTML: scores, the calibration chart (a table with bars) and the review
    list with links to the lessons (relative to the final's notebook)."""
    rows = "".join(_bar(level) for level in levels)
    described = " ".join(level.text() for level in levels)
    if review:
        entries = "".join(
            f'<li>{escape(_question(r.item))}: answered wrongly with '
            f'<strong>{escape(r.certainty.label)}</strong> certainty. Review '
            f'<a href="{escape(link_prefix + r.lesson + ".ipynb")}">'
            f'{escape(titles.get(r.item, r.lesson))}</a> before practice.</li>'
            for r in review)
        review_html = f"<ul>{entries}</ul>"
    else:
        review_html = "<p>No confident errors on safety questions.</p>"
    return (f'<section class="{BLOCK_CLASS}" aria-labelledby="course-certainty-title">'
            '<h2 id="course-certainty-title">Your result and how sure you were</h2>'
            f"<p><strong>{escape(accuracy_text(*accuracy))}</strong></p>"
            f"<p>{escape(cbm_text(summary))}</p>"
            '<table aria-describedby="course-certainty-described">'
            "<caption>Calibration: the share of answers right at each certainty level"
            "</caption><thead><tr><th scope=\"col\">How sure</th><th scope=\"col\">Chart"
            "</th><th scope=\"col\">Right</th><th scope=\"col\">Judgement</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f'<p id="course-certainty-described">{escape(described)}</p>'
            "<h3>Review before practice</h3>"
            "<p>Confident errors (medium or high certainty) on safety questions:</p>"
            f"{review_html}</section>")


def certainty_block(nb: NotebookNode, scores: Mapping[str, float | None],
                    points: Mapping[str, float]) -> tuple[str, str] | None:
    """(HTML, text) of the block for a graded notebook, or None when no item asks for a
    certainty. ``scores`` and ``points`` map every auto-graded test cell's grade id to its
    score (None while unscored) and its points."""
    items = cbm_items(nb)
    if not items:
        return None
    answers = learner_answers(nb, items, scores)
    accuracy = right_items(scores, points)
    summary, levels = summarise(answers), calibration(answers)
    review = review_before_practice(answers, safety_lessons(items))
    titles = {i.answer: i.lesson_title for i in items if i.lesson_title}
    return (block_html(accuracy, summary, levels, review, titles),
            block_text(accuracy, summary, levels, review, titles))


def learner_blocks(folder: Path, items: Sequence[Any]) -> list[tuple[str, str]]:
    """(HTML, text) for each of a learner's checked notebooks in ``folder`` that asks for
    certainties; ``items`` have ``notebook``, ``grade_id``, ``score`` and ``max_score``
    (course.grading.assignments.ItemScore)."""
    from course.notebooks import read_notebook

    blocks = []
    for name in sorted({item.notebook for item in items}):
        path = folder / f"{name}.ipynb"
        mine = [item for item in items if item.notebook == name]
        if not path.is_file():
            continue
        block = certainty_block(read_notebook(path), {i.grade_id: i.score for i in mine},
                                {i.grade_id: i.max_score for i in mine})
        if block is not None:
            blocks.append(block)
    return blocks


class CertaintyFeedback(Preprocessor):
    """At the top of a graded notebook's feedback: accuracy, the CBM score, calibration and
    the review list (only for notebooks whose items ask for a certainty)."""

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off by default

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        scores: dict[str, float | None] = {}
        points: dict[str, float] = {}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if is_test_cell(cell) and "points" in meta:  # GetGrades ran before
                score = meta.get("score")
                scores[meta["grade_id"]] = None if score is None else float(score)
                points[meta["grade_id"]] = float(meta["points"])
        block = certainty_block(nb, scores, points) if scores else None
        if block is not None:
            nb.cells.insert(min(1, len(nb.cells)), new_markdown_cell(block[0]))
        return nb, resources
