"""Spaced review (course/review.py, course/views/review.py): FSRS schedule in progress.json."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from course.certificate import read_progress, record_progress, scores_from_progress
from course.questions import check_answer, questions
from course.review import (
    due_items,
    learner_folder,
    load_schedule,
    needs_review,
    next_due,
    rating_for,
    record_answer,
    review_note,
    review_summary,
    save_answer,
)
from course.views.review import review_session, reviewable_question

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_ratings_follow_correctness_then_certainty() -> None:
    assert [rating_for(False, c).name for c in ("low", "medium", "high")] == ["Again"] * 3
    assert [rating_for(True, c).name for c in ("low", "medium", "high")] == ["Hard", "Good", "Easy"]
    with pytest.raises(ValueError, match="certainty must be one of"):
        rating_for(True, "sure")  # type: ignore[arg-type]


def test_missed_or_unsure_items_are_scheduled_confident_right_ones_are_not() -> None:
    assert needs_review(False, "high") and needs_review(True, "low")
    assert not needs_review(True, "medium") and not needs_review(True, "high")
    assert record_answer({}, "q1_1_1", True, "high", T0) == {}
    schedule = record_answer({}, "q1_1_1", False, "high", T0)
    assert list(schedule) == ["q1_1_1"]
    assert T0 < next_due(schedule) <= T0 + timedelta(minutes=10)


def test_record_answer_does_not_change_its_input() -> None:
    before = record_answer({}, "q1_1_1", False, "low", T0)
    copy = json.loads(json.dumps(before))
    record_answer(before, "q1_1_1", True, "high", T0 + timedelta(minutes=5))
    assert before == copy


def test_intervals_grow_while_answers_stay_right_and_a_miss_brings_the_item_back() -> None:
    schedule, now, gaps = record_answer({}, "q", False, "medium", T0), T0, []
    for _ in range(5):
        now = next_due(schedule)
        schedule = record_answer(schedule, "q", True, "medium", now)
        gaps.append(next_due(schedule) - now)
    assert gaps[-1] > timedelta(days=7)
    assert all(later >= earlier for earlier, later in itertools.pairwise(gaps))
    now = next_due(schedule)
    schedule = record_answer(schedule, "q", False, "high", now)
    assert next_due(schedule) - now <= timedelta(hours=1)
    assert schedule["q"]["reviews"] == 7


def test_due_items_are_only_the_due_ones_most_overdue_first() -> None:
    schedule = record_answer({}, "q_b", False, "low", T0)
    schedule = record_answer(schedule, "q_a", False, "low", T0 + timedelta(minutes=3))
    assert due_items(schedule, T0) == []
    due = due_items(schedule, T0 + timedelta(hours=1))
    assert [d.qid for d in due] == ["q_b", "q_a"]
    assert next_due({}) is None


def test_the_schedule_shares_progress_json_with_check_results(tmp_path: Path) -> None:
    record_progress(tmp_path, "01-principles", 7, 10, T0.date())
    save_answer(tmp_path, "q1_1_1", False, "medium", T0)
    record_progress(tmp_path, "02-substances", 5, 10, T0.date())
    assert set(load_schedule(tmp_path)) == {"q1_1_1"}
    assert scores_from_progress(tmp_path / "progress.json") == {
        "01-principles": (7.0, 10.0), "02-substances": (5.0, 10.0)}
    assert "review" in read_progress(tmp_path / "progress.json")


def test_a_damaged_schedule_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    path.write_text(json.dumps({"review": {"q1": {"due": "tomorrow"}}}))
    before = path.read_bytes()
    with pytest.raises(ValueError, match="damaged"):
        save_answer(tmp_path, "q1", False, "low", T0)
    assert path.read_bytes() == before
    assert "cannot be read" in review_summary(tmp_path, T0)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot be read"):
        load_schedule(tmp_path)


def test_learner_folder_is_the_assignments_folder_only(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_PROGRESS_DIR", raising=False)
    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("")
    (root / "assignments" / "01-principles").mkdir(parents=True)
    (root / "release" / "01-principles").mkdir(parents=True)
    monkeypatch.setenv("COURSE_ROOT", str(root))
    inside = learner_folder(root / "assignments" / "01-principles")
    assert inside == (root / "assignments").resolve()
    assert learner_folder(root / "release" / "01-principles") is None
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path / "hub-home"))
    assert learner_folder(root / "release") == tmp_path / "hub-home"


def _a_question():
    question = next(iter(questions().values()))
    right = next(o.letter for o in question.options if check_answer(question, o.letter).correct)
    wrong = next(o.letter for o in question.options if o.letter != right)
    return question, right, wrong


def test_the_widget_checks_and_schedules_a_missed_answer(tmp_path: Path) -> None:
    question, _, wrong = _a_question()
    box = reviewable_question(question, lambda: tmp_path)
    _, choices, certainty, button, feedback = box.children
    button.click()
    assert "Choose an option and how sure you are" in feedback.value
    choices.value, certainty.value = wrong, "high"
    button.click()
    assert "Not the best answer" in feedback.value and "comes back for review" in feedback.value
    assert 'role="status"' in feedback.value
    assert question.id in load_schedule(tmp_path)


def test_review_note_says_what_happens_next(tmp_path: Path) -> None:
    question, _, _ = _a_question()
    assert "assignments folder" in review_note(None, question.id, True, "high")
    assert "not scheduled" in review_note(tmp_path, question.id, True, "high", T0)
    assert "in a few minutes" in review_note(tmp_path, question.id, False, "high", T0)


def test_the_session_shows_only_due_questions(tmp_path: Path) -> None:
    question, _, _ = _a_question()
    assert "Nothing is scheduled yet" in review_summary(tmp_path, T0)
    save_answer(tmp_path, question.id, False, "low", T0)
    assert "Nothing is due now" in review_summary(tmp_path, T0)
    later = T0 + timedelta(hours=2)
    assert review_summary(tmp_path, later).startswith("1 practice question due")
    session = review_session(folder=tmp_path, now=later)
    assert len(session.view.children) == 3  # summary, heading, question
    assert question.number in session.view.children[1].value
    assert session.text.startswith("1 practice question due") and question.stem in session.text
    assert len(review_session(folder=tmp_path, now=T0).view.children) == 1
    assert "open this notebook from the assignments folder" in review_summary(None)


def test_practice_locations_name_the_notebook_that_teaches_each_question() -> None:
    from course.paths import release_dir
    from course.review_cli import practice_locations

    where = practice_locations(release_dir())
    assert where and set(where) <= set(questions())
    assert all(value.count("/") == 1 for value in where.values())


def test_review_lines_list_due_questions_and_where_they_are_taught(tmp_path: Path) -> None:
    from course.paths import release_dir
    from course.review_cli import practice_locations, review_lines

    qid, place = next(iter(practice_locations(release_dir()).items()))
    save_answer(tmp_path, qid, False, "low", T0)
    lines = review_lines(tmp_path, release_dir(), T0 + timedelta(hours=1))
    assert lines[0].startswith("1 practice question due")
    assert place in lines[1] and "spaced-review" in lines[-1]
    assert len(review_lines(tmp_path, release_dir(), T0)) == 1
    assert "due " in review_lines(tmp_path, release_dir(), T0, show_all=True)[1]


def test_course_review_prints_what_is_due_and_refuses_a_missing_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from course.cli import main

    assert main(["review", "--folder", str(tmp_path)]) == 0
    assert "Nothing is scheduled yet" in capsys.readouterr().out
    save_answer(tmp_path, "q1_1_1", False, "low", datetime.now(UTC) - timedelta(days=1))
    assert main(["review", "--folder", str(tmp_path)]) == 0
    assert "1 practice question due" in capsys.readouterr().out
    (tmp_path / "progress.json").write_text("{broken")
    assert main(["review", "--folder", str(tmp_path)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert main(["review", "--folder", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_missed_practice_check_in_the_learners_copy_is_scheduled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from course.lesson import check

    question, right, wrong = _a_question()
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path))
    check(question.id, right)
    assert load_schedule(tmp_path) == {} and "come back" not in capsys.readouterr().out
    check(question.id, wrong)
    assert "will come back for review" in capsys.readouterr().out
    assert list(load_schedule(tmp_path)) == [question.id]
    check(question.id, "z")  # not an option: nothing recorded
    assert load_schedule(tmp_path)[question.id]["reviews"] == 1
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path / "missing" / "deeper"))
    check(question.id, wrong)  # an unwritable place: the check still prints, no traceback
    assert "could not be saved" in capsys.readouterr().out
