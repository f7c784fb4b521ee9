"""Formative questions: answer in code, check at once, read the rationale.

The key of a formative question is stored only as a salted SHA-256 hash, so reading
the data file does not show it at a glance. Formative questions are for practice:
graded items never use this helper (their keys live in nbgrader's hidden tests).
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

from course.catalogue import Catalogue, get_record
from course.content import TEXT, TEXT_LIST, Content, ContentError, Rule, validated
from course.content import content as course_content
from course.paths import DATA_DIR

LETTERS = string.ascii_lowercase[:5]


@dataclass(frozen=True)
class Option:
    letter: str
    text: str
    rationale: str


@dataclass(frozen=True)
class Question:
    id: str
    stem: str
    lead_in: str
    options: tuple[Option, ...]
    salt: str
    answer_hash: str
    refs: tuple[str, ...]

    @property
    def number(self) -> str:
        """The visible question number: q1_2_3 → 1.2.3."""
        return self.id.removeprefix("q").replace("_", ".")

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(option.letter for option in self.options)

    def option(self, letter: str) -> Option:
        return next(option for option in self.options if option.letter == letter)

    def text(self) -> str:
        """The question as plain text (also its accessible equivalent)."""
        lines = [f"Question {self.number} (practice)", self.stem, ""]
        lines.append(self.lead_in)
        lines += [f"  ({o.letter}) {o.text}" for o in self.options]
        lines.append("")
        lines.append(
            f'Answer in code, e.g. answer_{self.id} = "{self.letters[0]}", then run the check.'
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class Feedback:
    """What the learner sees after checking an answer."""

    correct: bool
    valid: bool
    message: str
    rationale: str = ""
    refs: tuple[str, ...] = ()

    def text(self) -> str:
        parts = [self.message]
        if self.rationale:
            parts.append(f"Why: {self.rationale}")
        if self.refs:
            parts.append(f"References: {', '.join(self.refs)}")
        return "\n".join(parts)


def hash_answer(salt: str, letter: str) -> str:
    """The salted hash stored for a key."""
    return hashlib.sha256(f"{salt}:{letter}".encode()).hexdigest()


def _normalise(answer: object) -> str | None:
    if type(answer) is not str:
        return None
    return answer.strip().lower()


def check_answer(question: Question, answer: object) -> Feedback:
    """Compare an answer with the hashed key and return the chosen option's rationale."""
    letter = _normalise(answer)
    allowed = ", ".join(f'"{x}"' for x in question.letters)
    if letter is None:
        return Feedback(
            False, False,
            f"Your answer must be a letter in quotes (a string), one of {allowed}; "
            f"you gave {type(answer).__name__} {answer!r}.",
        )
    if letter == "":
        return Feedback(False, False, f"No answer yet: put one of {allowed} between the quotes.")
    if letter not in question.letters:
        return Feedback(False, False, f"{answer!r} is not an option: choose one of {allowed}.")
    correct = hash_answer(question.salt, letter) == question.answer_hash
    verdict = "Correct." if correct else f"Not the best answer ({letter}). Try again."
    return Feedback(correct, True, verdict, question.option(letter).rationale, question.refs)


def _question(qid: str, record: object, path: Path, data: Content) -> Question:
    where = f"{path.name}: question {qid!r}"
    fields = validated(
        record, where,
        {"stem": TEXT, "lead_in": TEXT, "options": Rule(lambda v: isinstance(v, dict),
         "a table of options a, b, c…"), "salt": TEXT, "answer_hash": TEXT, "refs": TEXT_LIST},
    )
    letters = list(fields["options"])
    if not 4 <= len(letters) <= 5 or letters != list(LETTERS[: len(letters)]):
        raise ContentError(f"{where}: options must be lettered a–d or a–e in order, got {letters}")
    options = tuple(
        Option(letter, **validated(opt, f"{where} option {letter!r}",
                                    {"text": TEXT, "rationale": TEXT}))
        for letter, opt in fields["options"].items()
    )
    keys = [o.letter for o in options if hash_answer(fields["salt"], o.letter) ==
            fields["answer_hash"]]
    if len(keys) != 1:
        raise ContentError(f"{where}: answer_hash matches {len(keys)} options; it must match one")
    for ref in fields["refs"]:
        if ref not in data.references:
            raise ContentError(f"{where}: unknown reference id {ref!r}")
    return Question(qid, fields["stem"], fields["lead_in"], options, fields["salt"],
                    fields["answer_hash"], tuple(fields["refs"]))


QUESTIONS: Catalogue[Question] = Catalogue(DATA_DIR / "questions.toml", None, _question,
                                           {"data": course_content})


def load_questions(path: Path = QUESTIONS.path,
                   data: Content | None = None) -> dict[str, Question]:
    """Load and validate the formative question bank (against the course's content)."""
    return QUESTIONS.load(path, data=data)


def questions() -> dict[str, Question]:
    """The course's own formative questions, loaded once per process."""
    return QUESTIONS.cached()


def question(qid: str) -> Question:
    """One question; KeyError names the id and the question bank."""
    return get_record(questions(), qid, "question id", error=KeyError,
                      message="unknown {what} {got!r} (see course/data/questions.toml)")
