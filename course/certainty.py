"""Certainty-based marking (CBM): the rules, the item points, calibration and review lists.

Gardner-Medwin's scheme (LAPT, University College London; Gardner-Medwin AR, Gahan M.
Formative and summative confidence-based assessment. Proc. 7th International CAA
Conference, Loughborough, 2003:147-155): with each
answer the learner states how sure they are. A right answer earns 1, 2 or 3 marks at low,
medium or high certainty; a wrong one 0, -2 or -6. Stating "high" pays only when the
chance of being right is above 80%, "medium" between 67% and 80%, "low" below 67%: an
honest learner maximises the expected mark by reporting how sure they really are, and a
confident error (the thing most worth catching before someone injects a patient) costs
the most.

Pure functions, no display: the views and the grading steps call them.

* :func:`cbm_mark`: the mark of one answer (-6 … 3).
* :func:`item_points`: that mark on the item's nbgrader points, for partial credit. nbgrader
  stores no negative score for a cell, so the documented floor is 0: a wrong answer at any
  certainty scores 0 points there, and the signed marks are kept for the CBM score.
* :func:`cbm_points`: what a final's hidden test returns as nbgrader partial credit, from
  whether the answer is right and the certainty written beside it (``certainty_…``).
* :func:`summarise`: accuracy (which decides the pass, 70%), the average CBM mark and
  the CBM score as a percentage of the best possible, reported beside it.
* :func:`calibration`: the share right at each certainty level, with a plain-text
  description, for the learner's calibration chart.
* :func:`review_before_practice`: confident errors (medium or high certainty) on
  safety-critical items, with the lesson to revisit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

PASS_MARK = 0.70
"""The final's pass mark, on accuracy alone (certainty never decides a pass)."""

ACCURACY_PASS = frozenset({"05-final-assessment"})
"""Assignments marked with CBM: their pass is decided on accuracy, the share of points of
the items answered right (an item scoring above 0), not on nbgrader's CBM points."""


def right_points(grades: Iterable[tuple[float | None, float]]) -> tuple[float, float]:
    """(points of the items answered right, points of all items) from (score, max) pairs.

    Under CBM a right answer always scores above 0 and a wrong one 0, so "right" is a
    score above 0; an item without a score is not right.
    """
    grades = list(grades)
    return (sum(top for score, top in grades if score is not None and score > 0),
            sum(top for _, top in grades))


class Certainty(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


MARKS: Mapping[Certainty, tuple[int, int]] = {
    Certainty.LOW: (1, 0),
    Certainty.MEDIUM: (2, -2),
    Certainty.HIGH: (3, -6),
}
"""(mark when right, mark when wrong) at each certainty level."""

BEST_MARK = MARKS[Certainty.HIGH][0]
WORST_MARK = MARKS[Certainty.HIGH][1]

RIGHT_CHANCE_FOR: Mapping[Certainty, tuple[float, float]] = {
    Certainty.LOW: (0.0, 2 / 3),
    Certainty.MEDIUM: (2 / 3, 0.8),
    Certainty.HIGH: (0.8, 1.0),
}
"""The chance of being right for which each level gives the best expected mark."""


class CertaintyError(ValueError):
    """A certainty that is not low, medium or high (the message is one plain sentence)."""


def parse_certainty(value: object) -> Certainty | None:
    """``"low"``/``"medium"``/``"high"`` (any case, or 1/2/3) as a Certainty; None when blank.

    Raises CertaintyError for anything else, with a sentence a learner can act on.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Certainty):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        for level in Certainty:
            if text in (level.label, str(int(level))):
                return level
    elif isinstance(value, int) and not isinstance(value, bool) and value in (1, 2, 3):
        return Certainty(value)
    raise CertaintyError("Choose how sure you are: low, medium or high.")


def cbm_mark(correct: bool, certainty: Certainty | None) -> int:
    """The CBM mark of one answer; no certainty stated counts as low (the safest)."""
    right, wrong = MARKS[certainty or Certainty.LOW]
    return right if correct else wrong


def item_points(mark: int, max_points: float) -> float:
    """A CBM mark on an item worth ``max_points`` (nbgrader partial credit, floor 0).

    ``max_points × max(mark, 0) / 3``: 3 marks earn the item's points, 0 or less earn 0.
    """
    if not WORST_MARK <= mark <= BEST_MARK:
        raise ValueError(f"a CBM mark is between {WORST_MARK} and {BEST_MARK}, not {mark}")
    if max_points < 0:
        raise ValueError("an item's points cannot be negative")
    return round(max_points * max(mark, 0) / BEST_MARK, 6)


CERTAINTY_PREFIX = "certainty_"


def certainty_name(answer_name: str) -> str:
    """The variable that holds an answer's certainty: answer_q5_1_1 → certainty_q5_1_1."""
    return CERTAINTY_PREFIX + answer_name.removeprefix("answer_")


def lenient_certainty(value: object) -> Certainty | None:
    """A certainty, or None when it is missing or not low/medium/high (counted as low)."""
    try:
        return parse_certainty(value)
    except CertaintyError:
        return None


def cbm_points(correct: bool, certainty: object, max_points: float) -> float:
    """An item's nbgrader partial credit under CBM (floor 0; no or unreadable certainty: low).

    A final's hidden test ends with this expression: nbgrader scores a test cell whose
    output is a single number as that many points. A wrong answer's test fails its assert
    before it, so it scores 0, as :func:`item_points` would.
    """
    return item_points(cbm_mark(bool(correct), lenient_certainty(certainty)), max_points)


@dataclass(frozen=True)
class Answer:
    """One assessed answer: the item, whether it was right and how sure the learner was."""

    item: str
    correct: bool
    certainty: Certainty | None

    @property
    def mark(self) -> int:
        return cbm_mark(self.correct, self.certainty)


@dataclass(frozen=True)
class Summary:
    items: int
    right: int
    average_mark: float
    """Average CBM mark per item, -6 … 3."""

    @property
    def accuracy(self) -> float:
        return self.right / self.items if self.items else 0.0

    @property
    def passed(self) -> bool:
        return self.items > 0 and self.accuracy >= PASS_MARK

    @property
    def cbm_percent(self) -> float:
        """The average mark as a percentage of the best (3), floored at 0 for reporting."""
        return max(self.average_mark, 0.0) / BEST_MARK * 100

    def text(self) -> str:
        verdict = "passed" if self.passed else "not passed"
        return (f"Accuracy {self.right} of {self.items} ({self.accuracy:.0%}): {verdict} "
                f"(the pass mark is {PASS_MARK:.0%}, on accuracy alone). Certainty-based "
                f"score: average mark {self.average_mark:+.2f} per item (from -6 to +3), "
                f"{self.cbm_percent:.0f}% of the best possible.")


def summarise(answers: Iterable[Answer]) -> Summary:
    answers = list(answers)
    if not answers:
        return Summary(0, 0, 0.0)
    marks = [a.mark for a in answers]
    return Summary(len(answers), sum(a.correct for a in answers), sum(marks) / len(marks))


@dataclass(frozen=True)
class Level:
    """How the learner did at one certainty level."""

    certainty: Certainty
    answered: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answered if self.answered else None

    @property
    def judgement(self) -> str:
        """Over-confident, well calibrated or under-confident at this level (or no answers)."""
        if self.accuracy is None:
            return "no answers"
        low, high = RIGHT_CHANCE_FOR[self.certainty]
        if self.accuracy < low:
            return "over-confident"
        if self.accuracy > high:
            return "under-confident"
        return "well calibrated"

    def text(self) -> str:
        if self.accuracy is None:
            return f"{self.certainty.label.capitalize()} certainty: no answers."
        low, high = RIGHT_CHANCE_FOR[self.certainty]
        return (f"{self.certainty.label.capitalize()} certainty: {self.right} of "
                f"{self.answered} right ({self.accuracy:.0%}); this level pays best "
                f"between {low:.0%} and {high:.0%} right: {self.judgement}.")


def calibration(answers: Iterable[Answer]) -> tuple[Level, ...]:
    """The share right at each certainty level (unstated certainty counts as low)."""
    answers = list(answers)
    levels = []
    for level in Certainty:
        chosen = [a for a in answers if (a.certainty or Certainty.LOW) is level]
        levels.append(Level(level, len(chosen), sum(a.correct for a in chosen)))
    return tuple(levels)


@dataclass(frozen=True)
class ReviewItem:
    item: str
    certainty: Certainty
    lesson: str

    def text(self) -> str:
        return (f"{self.item}: answered wrongly with {self.certainty.label} certainty. "
                f"Review {self.lesson} before practice.")


def review_before_practice(answers: Iterable[Answer], safety_critical: Mapping[str, str]
                           ) -> tuple[ReviewItem, ...]:
    """Confident errors (medium or high certainty) on safety-critical items.

    ``safety_critical`` maps an item id to the lesson that teaches it.
    """
    return tuple(ReviewItem(a.item, a.certainty, safety_critical[a.item])
                 for a in answers
                 if not a.correct and a.certainty is not None
                 and a.certainty >= Certainty.MEDIUM and a.item in safety_critical)
