"""Peer answer distributions in feedback: how the cohort answered each single-best-answer item.

After a cohort is graded, :class:`PeerAnswers` (a ``GenerateFeedback`` preprocessor) adds,
under every graded single-best-answer item of a learner's feedback, the share of the
cohort that chose each option: a small table with a bar per option and the same facts in
words. The rules:

- **Who counts.** A learner counts when their submission of the assignment was graded: it
  is in the gradebook, ``course grade``'s status file does not mark it failed, and their
  autograded copy of the notebook can be read. Failed and corrupt submissions are left
  out; a blank answer counts, as "not answered"; an answer that is not one of the
  options counts as "another answer".
- **Only for a cohort.** Nothing is shown below ``PeerAnswers.min_cohort`` counted learners
  (:data:`MIN_COHORT`, 10); a threshold below :data:`MIN_FLOOR` is refused, because with
  so few learners a share points at a person.
- **Never before submitting.** A learner without a graded submission sees nothing.
- **No names.** Student ids serve only to find the notebooks and to check that the learner
  was graded; a :class:`Distribution` holds counts only.
- **Marks in words.** The learner's own choice is marked "your answer". The key is marked
  "the best answer" only where the feedback already shows it: when the item's rationale
  in that feedback names it ("(b) is the best answer").

Answers are read from the notebooks with :mod:`ast`, as ``course report`` reads them
(:mod:`course.item_analysis`), never run. Options, labels and keys come from the
instructor's ``source/`` notebook, never from a learner's copy. Every text is escaped.
"""

from __future__ import annotations

import csv
import glob
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool, Int, TraitError, validate

from course.item_analysis import BLANK, INVALID, LETTER, choice, notebook_answers, solution_keys

MIN_COHORT = 10
MIN_FLOOR = 5
FAILED = "failed"  # course grade's status for a failed submission
STATUS_FILE = "{assignment}.grading-status.csv"
BAR_COLOUR = "#1f5f99"  # 6.6:1 on white
LABEL_LIMIT = 90
ROW_WORDS = {BLANK: "Not answered", INVALID: "Another answer (not one of the options)"}


class PeerAnswersError(Exception):
    """The cohort cannot be read safely (the feedback then shows no distribution)."""


# ---------------------------------------------------------------- the items


@dataclass(frozen=True)
class ChoiceItem:
    """A graded single-best-answer item of an instructor notebook."""

    answer: str  # the answer variable, e.g. answer_q1_3_1
    options: tuple[tuple[str, str], ...]  # (letter, label), in the stem's order
    check_ids: tuple[str, ...]  # grade ids of the graded cells that check it
    key: str | None  # the instructor's letter

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(letter for letter, _ in self.options)


def _nbgrader(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {})


def _graded(cell: Mapping[str, Any]) -> bool:
    meta = _nbgrader(cell)
    return bool(meta.get("grade")) and float(meta.get("points") or 0) > 0


def choice_items(source: NotebookNode) -> list[ChoiceItem]:
    """The graded single-best-answer items of an instructor notebook, in order.

    An item is an answer cell whose ``course.answer`` form is a choice (not a practice
    question) followed by at least one graded check cell worth points.
    """
    keys = solution_keys({"notebook": source})
    items = []
    for index, cell in enumerate(source.cells):
        spec = cell.get("metadata", {}).get("course", {}).get("answer")
        if not isinstance(spec, dict) or spec.get("kind") != "choice" or spec.get("practice"):
            continue
        checks = source.cells[index + 1: index + 1 + int(spec.get("checks", 1))]
        check_ids = tuple(str(_nbgrader(c)["grade_id"]) for c in checks if _graded(c))
        options = tuple((str(o.get("value", "")).strip().lower(), str(o.get("label", "")))
                        for o in spec.get("options", []) if isinstance(o, dict))
        if not check_ids or len(options) < 2:
            continue
        name = str(spec.get("name", ""))
        key = choice(keys[name], LETTER, [o for o, _ in options]) if name in keys else None
        items.append(ChoiceItem(name, options, check_ids,
                                key if key in {o for o, _ in options} else None))
    return items


def learner_choices(nb: NotebookNode, items: Sequence[ChoiceItem]) -> dict[str, str]:
    """answer name -> the letter a notebook chose, or BLANK / INVALID (never run)."""
    answers = notebook_answers(nb)
    return {item.answer: choice(answers.get(item.answer), LETTER, item.letters)
            for item in items}


# ---------------------------------------------------------------- counting


@dataclass(frozen=True)
class Distribution:
    """How a cohort answered one item: counts only, no learner."""

    answer: str
    rows: tuple[tuple[str, int], ...]  # (letter, BLANK or INVALID, count), options first

    @property
    def n(self) -> int:
        return sum(count for _, count in self.rows)

    def shown_rows(self) -> tuple[tuple[str, int], ...]:
        """Every option and "not answered"; "another answer" only when someone gave one."""
        return tuple((what, count) for what, count in self.rows
                     if what != INVALID or count)


def tally(item: ChoiceItem, chosen: Iterable[str]) -> Distribution:
    """Count the choices of one item: each option, then not answered, then another answer."""
    counts = Counter(chosen)
    strays = set(counts) - {*item.letters, BLANK, INVALID}
    if strays:
        raise ValueError(f"chosen: {sorted(strays)} are not options of {item.answer}")
    return Distribution(item.answer, tuple((what, counts[what])
                                           for what in (*item.letters, BLANK, INVALID)))


def cohort_distributions(items: Sequence[ChoiceItem], notebooks: Iterable[NotebookNode]
                         ) -> dict[str, Distribution]:
    """answer name -> its distribution over the given (graded) notebooks."""
    chosen: dict[str, list[str]] = {item.answer: [] for item in items}
    for nb in notebooks:
        for answer, letter in learner_choices(nb, items).items():
            chosen[answer].append(letter)
    return {item.answer: tally(item, chosen[item.answer]) for item in items}


def rounded_percents(counts: Sequence[int]) -> list[int]:
    """Whole percentages of ``counts`` that add up to 100 (largest remainders round up)."""
    if any(c < 0 for c in counts):
        raise ValueError(f"counts: must not be negative, not {list(counts)}")
    total = sum(counts)
    if total == 0:
        return [0] * len(counts)
    exact = [100 * c / total for c in counts]
    floors = [int(e) for e in exact]
    order = sorted(range(len(counts)), key=lambda i: (floors[i] - exact[i], i))
    for i in order[:100 - sum(floors)]:
        floors[i] += 1
    return floors


def is_shown(distribution: Distribution, min_cohort: int = MIN_COHORT) -> bool:
    """A distribution is shown only for at least ``min_cohort`` counted learners."""
    return distribution.n >= min_cohort


# ---------------------------------------------------------------- the block


def key_in_feedback(texts: Iterable[str], key: str | None) -> bool:
    """The feedback already names ``key`` as the best answer ("(b) is the best answer")."""
    if not key:
        return False
    mark = re.compile(rf"\({re.escape(key)}\) is the best answer")
    return any(mark.search(text) for text in texts)


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_LIMIT else label[:LABEL_LIMIT - 1].rstrip() + "…"


def _marks(what: str, own: str | None, key: str | None) -> list[str]:
    marks = []
    if what == own:
        marks.append("your answer" if what not in ROW_WORDS else "you")
    if what == key:
        marks.append("the best answer")
    return marks


def _row_name(item: ChoiceItem, what: str, with_label: bool) -> str:
    if what in ROW_WORDS:
        return ROW_WORDS[what]
    label = dict(item.options).get(what, "")
    return f"({what}) {_short(label)}" if with_label and label else f"({what})"


def distribution_text(item: ChoiceItem, distribution: Distribution, own: str | None,
                      key: str | None) -> str:
    """The block's text equivalent: a heading line, then one sentence."""
    rows = distribution.shown_rows()
    percents = rounded_percents([count for _, count in rows])
    parts = []
    for (what, count), percent in zip(rows, percents, strict=True):
        marks = _marks(what, own, key)
        name = _row_name(item, what, with_label=False)
        name = name[0].lower() + name[1:] if what in ROW_WORDS else name
        note = f"{count} of {distribution.n}" + "".join(f", {m}" for m in marks)
        parts.append(f"{name} {percent}% ({note})")
    return (f"How the cohort answered (n = {distribution.n})\n"
            f"In words: {'; '.join(parts)}.")


def distribution_html(item: ChoiceItem, distribution: Distribution, own: str | None,
                      key: str | None) -> str:
    """The block: a captioned table, one row per option with its share and a bar (hidden
    from screen readers: the percentage says it), the marks in words, and the text
    equivalent. Everything is escaped."""
    n = distribution.n
    rows = distribution.shown_rows()
    percents = rounded_percents([count for _, count in rows])
    body = []
    for (what, _count), percent in zip(rows, percents, strict=True):
        marks = _marks(what, own, key)
        said = f" <strong>({escape(', '.join(marks))})</strong>" if marks else ""
        bar = (f'<span aria-hidden="true" style="display:inline-block;height:0.8em;'
               f'width:{percent / 10:.1f}em;background:{BAR_COLOUR};'
               f'vertical-align:middle"></span>')
        body.append(f'<tr><th scope="row" style="text-align:left;font-weight:normal;'
                    f'padding:0.15em 0.6em 0.15em 0">{escape(_row_name(item, what, True))}'
                    f'{said}</th><td style="white-space:nowrap;padding:0.15em 0">'
                    f'<span style="display:inline-block;min-width:3em;text-align:right;'
                    f'margin-right:0.4em">{percent}%</span>{bar}</td></tr>')
    words = escape(distribution_text(item, distribution, own, key).split("\n", 1)[1])
    return (f'<div class="course-peer-answers" style="margin:0.6em 0;max-width:48em">'
            f'<table style="border-collapse:collapse">'
            f'<caption style="caption-side:top;text-align:left;font-weight:bold;'
            f'color:inherit">How the cohort answered (n = {n})</caption>'
            f'<thead><tr><th scope="col" style="text-align:left">Option</th>'
            f'<th scope="col" style="text-align:left">Share</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>'
            f'<p style="margin:0.3em 0">{words}</p>'
            f'<p style="margin:0.3em 0;font-size:0.9em">Shares of the {n} learners whose '
            f"submissions were graded; no names are shown.</p></div>")


def distribution_output(item: ChoiceItem, distribution: Distribution, own: str | None,
                        key: str | None) -> NotebookNode:
    """The block as a display output (HTML, with its text equivalent as plain text)."""
    return nbformat.v4.new_output(
        "display_data", data={"text/html": distribution_html(item, distribution, own, key),
                              "text/plain": distribution_text(item, distribution, own, key)})


# ---------------------------------------------------------------- the cohort on disk


def failed_students(path: Path) -> set[str]:
    """Students ``course grade``'s status file marks failed (none when there is no file)."""
    if not path.exists():
        return set()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise PeerAnswersError(f"{path}: cannot read the grading status file ({error})"
                               ) from None
    if rows and not {"student", "status"} <= set(rows[0]):
        raise PeerAnswersError(f"{path}: not a grading status file (no student, status)")
    return {(row.get("student") or "").strip() for row in rows
            if (row.get("status") or "").strip() == FAILED}


def gradebook_students(db_url: str, course_id: str, assignment: str) -> set[str]:
    """Students with a submission of the assignment in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        return {sub.student.id for sub in gradebook.assignment_submissions(assignment)}


def read_graded(path: Path) -> NotebookNode | None:
    """An autograded notebook, or None when it is missing or cannot be read."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None


def graded_notebooks(paths: Mapping[str, Path], failed: set[str]) -> dict[str, NotebookNode]:
    """student -> autograded notebook, for submitted students not failed and readable."""
    found = {}
    for student, path in sorted(paths.items()):
        nb = None if student in failed else read_graded(path)
        if nb is not None:
            found[student] = nb
    return found


@dataclass(frozen=True)
class Cohort:
    """Who was graded on one notebook, and how they answered (counts only)."""

    graded: frozenset[str]
    distributions: Mapping[str, Distribution]
    items: tuple[ChoiceItem, ...]


NO_COHORT = Cohort(frozenset(), {}, ())


def read_cohort(coursedir: Any, db_url: str, assignment: str, notebook: str,
                min_cohort: int) -> Cohort:
    """The graded learners of one notebook and their distributions (nbgrader's
    ``CourseDirectory`` gives the folders). Fewer than ``min_cohort`` autograded copies or
    gradebook submissions: :data:`NO_COHORT`, without reading the notebooks."""
    autograded = coursedir.autograded_directory
    copies = glob.glob(str(Path(coursedir.format_path(autograded, "*", glob.escape(
        assignment))) / glob.escape(f"{notebook}.ipynb")))
    if len(copies) < min_cohort:  # `course check` (one learner) stops here
        return NO_COHORT
    students = gradebook_students(db_url, coursedir.course_id, assignment)
    if len(students) < min_cohort:
        return NO_COHORT
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    items = choice_items(nbformat.read(source / f"{notebook}.ipynb", as_version=4))
    status = Path(coursedir.format_path(autograded, ".", ".")) / STATUS_FILE.format(
        assignment=assignment)
    paths = {s: Path(coursedir.format_path(autograded, s, assignment)) / f"{notebook}.ipynb"
             for s in students}
    graded = graded_notebooks(paths, failed_students(status))
    return Cohort(frozenset(graded), cohort_distributions(items, graded.values()),
                  tuple(items))


# ---------------------------------------------------------------- the preprocessor


def _output_texts(cell: NotebookNode) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        texts.append("".join(text) if isinstance(text, list) else str(text))
    return texts


class PeerAnswers(Preprocessor):
    """Under each graded single-best-answer item: how the cohort answered it."""

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off by default
    min_cohort = Int(MIN_COHORT, help="Fewest graded learners for which shares are shown "
                     f"(at least {MIN_FLOOR}).").tag(config=True)

    @validate("min_cohort")
    def _at_least_floor(self, proposal: Any) -> int:
        if proposal["value"] < MIN_FLOOR:
            raise TraitError(f"PeerAnswers.min_cohort must be at least {MIN_FLOOR}, not "
                             f"{proposal['value']}: with fewer learners a share points at "
                             "a person.")
        return proposal["value"]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cohorts: dict[tuple[str, str], Cohort] = {}

    def _cohort(self, info: Mapping[str, Any]) -> Cohort:
        """The cohort of one notebook, read once per feedback run."""
        from nbgrader.coursedir import CourseDirectory

        where = (info["assignment"], info["notebook"])
        if where not in self._cohorts:
            coursedir = CourseDirectory(config=self.config)
            self._cohorts[where] = read_cohort(coursedir, info.get("db_url") or coursedir.db_url,
                                               *where, self.min_cohort)
        return self._cohorts[where]

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources.get("nbgrader") or {}
        if not {"student", "assignment", "notebook"} <= set(info):
            return nb, resources
        try:
            cohort = self._cohort(info)
        except Exception as error:  # a gradebook or file problem: the feedback goes on
            self.log.warning("Peer answer distributions left out: %s", error)
            return nb, resources
        if info["student"] not in cohort.graded:
            return nb, resources  # never before the learner's own submission was graded
        own = learner_choices(nb, cohort.items)
        cells = {str(_nbgrader(c).get("grade_id")): c for c in nb.cells if _nbgrader(c)}
        for item in cohort.items:
            distribution = cohort.distributions[item.answer]
            check = cells.get(item.check_ids[-1])
            if check is None or check.cell_type != "code" or not is_shown(
                    distribution, self.min_cohort):
                continue
            texts = [t for grade_id in item.check_ids if grade_id in cells
                     for t in _output_texts(cells[grade_id])]
            key = item.key if key_in_feedback(texts, item.key) else None
            check.setdefault("outputs", []).append(
                distribution_output(item, distribution, own[item.answer], key))
        return nb, resources
