"""Formative questions: salted-hash keys, rationales, and friendly messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.content import ContentError
from course.questions import check_answer, hash_answer, load_questions, question, questions

QUESTION = """
[qx_1]
stem = "Stem"
lead_in = "Which?"
salt = "s"
answer_hash = "{hash}"
refs = ["R8"]
{options}
"""


def _bank(tmp_path: Path, key: str = "c", letters: str = "abcd") -> Path:
    options = "".join(
        f'[qx_1.options.{x}]\ntext = "Option {x}"\nrationale = "Because {x}"\n' for x in letters
    )
    path = tmp_path / "questions.toml"
    path.write_text(QUESTION.format(hash=hash_answer("s", key), options=options), "utf-8")
    return path


def test_right_answer_is_correct_and_shows_its_rationale(tmp_path: Path) -> None:
    q = load_questions(_bank(tmp_path))["qx_1"]
    feedback = check_answer(q, "c")
    assert feedback.correct and feedback.valid
    assert "Because c" in feedback.text() and "R8" in feedback.text()


def test_wrong_answer_shows_the_chosen_option_rationale(tmp_path: Path) -> None:
    q = load_questions(_bank(tmp_path))["qx_1"]
    feedback = check_answer(q, "a")
    assert not feedback.correct
    assert "Because a" in feedback.text() and "Because c" not in feedback.text()


def test_answer_is_case_and_space_insensitive(tmp_path: Path) -> None:
    q = load_questions(_bank(tmp_path))["qx_1"]
    assert check_answer(q, " C ").correct


@pytest.mark.parametrize("answer", [3, None, ["c"], b"c"])
def test_non_string_answers_get_a_teaching_message(tmp_path: Path, answer: object) -> None:
    q = load_questions(_bank(tmp_path))["qx_1"]
    feedback = check_answer(q, answer)
    assert not feedback.correct and not feedback.valid
    assert "letter in quotes" in feedback.message


def test_letter_outside_the_options_is_named(tmp_path: Path) -> None:
    q = load_questions(_bank(tmp_path))["qx_1"]
    feedback = check_answer(q, "e")
    assert not feedback.valid and '"a", "b", "c", "d"' in feedback.message


def test_empty_answer_says_no_answer_yet(tmp_path: Path) -> None:
    q = load_questions(_bank(tmp_path))["qx_1"]
    assert check_answer(q, "  ").message.startswith("No answer yet")


def test_an_object_equal_to_everything_is_not_correct(tmp_path: Path) -> None:
    class Always(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    q = load_questions(_bank(tmp_path))["qx_1"]
    assert not check_answer(q, Always("a")).correct


def test_hash_matching_no_option_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="answer_hash matches 0 options"):
        load_questions(_bank(tmp_path, key="z"))


def test_three_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="options must be lettered a–d or a–e"):
        load_questions(_bank(tmp_path, key="a", letters="abc"))


def test_course_questions_load_and_unknown_id_is_clear() -> None:
    assert "q0_1" in questions()
    with pytest.raises(KeyError, match="unknown question id"):
        question("q9_9")
