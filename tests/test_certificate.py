"""The completion summary: issued on a pass, refused clearly otherwise."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from course import LIMITS_STATEMENT
from course.certificate import (
    FINAL_ASSESSMENT,
    SummaryRefused,
    record_progress,
    scores_from_gradebook,
    scores_from_progress,
    summarise,
    summary_html,
    summary_text,
    without_failed_runs,
)
from course.cli import main
from course.syllabus import course_map

TODAY = date(2026, 11, 27)
MINUTES = {a.id: a.minutes for a in course_map()}
# A result for every assessed module (the evaluation is ungraded), the final passed.
EVERY_MODULE = {"00-orientation": (1, 1), "01-principles": (15, 18), "02-substances": (14, 20),
                "03-risk-assessment": (18, 24), "04-case-studies": (20, 32),
                FINAL_ASSESSMENT: (20, 25)}


def every_module(**final: tuple[float, float]) -> dict[str, tuple[float, float]]:
    return {**EVERY_MODULE, **({FINAL_ASSESSMENT: final["final"]} if final else {})}


def test_a_passed_learner_gets_scores_minutes_date_and_limits() -> None:
    scores = every_module()
    summary = summarise("Ana <Ruiz>", scores, TODAY, "self-study checks")
    assert [m.assignment for m in summary.modules] == list(scores)
    assert summary.final_percent == pytest.approx(80.0)
    assert summary.minutes == sum(MINUTES[a] for a in scores)
    html = summary_html(summary)
    assert "Ana &lt;Ruiz&gt;" in html and "2026-11-27" in html
    assert "This is not a certificate of competence." in html
    assert LIMITS_STATEMENT in html
    assert "15 / 18" in html and "83%" in html
    assert "<td>passed</td>" in html and html.count("<td>completed</td>") == 5
    # every module of the course map is on the page: the ungraded ones as not assessed
    assert html.count("<td>not assessed</td>") == 2
    for entry in course_map():
        assert f"<td>{entry.id}</td>" in html, entry.id
    text = summary_text(summary)
    assert "Not assessed (ungraded, not required for completion): 00-review (Spaced " \
        "review); 06-evaluation (Post-course evaluation)." in text


def test_a_summary_is_refused_until_every_assessed_module_has_a_result() -> None:
    """Issue 23: a self-study summary was issued with 3 of 6 modules never checked."""
    scores = every_module()
    for missing in ("01-principles", "02-substances", "04-case-studies"):
        del scores[missing]
    with pytest.raises(SummaryRefused, match="01-principles, 02-substances, 04-case-studies"):
        summarise("Ana", scores, TODAY, "self-study checks")
    assert summarise("Ana", every_module(), TODAY, "x").modules[-1].assignment == \
        FINAL_ASSESSMENT  # the ungraded evaluation is not required


def test_exactly_the_pass_mark_passes() -> None:
    assert summarise("A", every_module(final=(7, 10)), TODAY, "x").final_percent == 70


@pytest.mark.parametrize(("scores", "message"), [
    ({FINAL_ASSESSMENT: (17, 25)}, "scored 68%, below the pass mark of 70%"),
    ({"00-orientation": (1, 1)}, "the final assessment .* has no result yet"),
])
def test_a_missing_or_failed_final_is_refused(scores: dict, message: str) -> None:
    with pytest.raises(SummaryRefused, match=message):
        summarise("Ben", scores, TODAY, "x")


def test_unknown_assignment_and_blank_name_are_refused() -> None:
    with pytest.raises(ValueError, match="assignment: unknown ids 99-x"):
        summarise("Ben", {**every_module(), "99-x": (1, 1)}, TODAY, "x")
    with pytest.raises(ValueError, match="learner"):
        summarise(" ", every_module(), TODAY, "x")


def test_progress_records_the_latest_check(tmp_path: Path) -> None:
    record_progress(tmp_path, "01-principles", 10, 18, TODAY)
    record_progress(tmp_path, "01-principles", 16, 18, TODAY)
    assert scores_from_progress(tmp_path / "progress.json") == {"01-principles": (16.0, 18.0)}


def test_corrupted_progress_file_gets_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "progress.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        scores_from_progress(tmp_path / "progress.json")


def test_a_corrupt_progress_file_is_kept_aside_and_replaced_atomically(tmp_path: Path) -> None:
    """Issue 20: `course check` crashed after printing the result, and recorded nothing."""
    progress = tmp_path / "progress.json"
    progress.write_text("{oops", encoding="utf-8")
    notes: list[str] = []
    record_progress(tmp_path, "01-principles", 16, 18, TODAY, notes)
    assert scores_from_progress(progress) == {"01-principles": (16.0, 18.0)}
    kept = list(tmp_path.glob("progress.json.unreadable-*"))
    assert [k.read_text(encoding="utf-8") for k in kept] == ["{oops"]
    assert notes and kept[0].name in notes[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["progress.json", kept[0].name])


@pytest.mark.parametrize("score", ['"abc"', "null", "[1]", "-1", "1e999", "99"])
def test_a_malformed_score_is_one_line_and_exit_2(course_copy: Path, score: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    progress = course_copy / "assignments" / "progress.json"
    progress.write_text(f'{{"{FINAL_ASSESSMENT}": {{"score": {score}, "max_score": 25}}}}',
                        encoding="utf-8")
    assert main(["certificate", "--self-study"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "progress.json" in err
    assert "Traceback" not in err


def test_self_study_command_writes_or_refuses(course_copy: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    progress = course_copy / "assignments" / "progress.json"
    assert main(["certificate", "--self-study"]) == 1
    assert "run `course check ASSIGNMENT` first" in capsys.readouterr().err
    progress.write_text(json.dumps({FINAL_ASSESSMENT: {"score": 10, "max_score": 25}}))
    assert main(["certificate", "--self-study"]) == 1
    assert "below the pass mark" in capsys.readouterr().err
    assert not (course_copy / "assignments" / "completion-summary.html").exists()
    progress.write_text(json.dumps({FINAL_ASSESSMENT: {"score": 22, "max_score": 25}}))
    assert main(["certificate", "--self-study", "--name", "Ana"]) == 1
    assert "these have none yet: 00-orientation, 01-principles" in capsys.readouterr().err
    progress.write_text(json.dumps({a: {"score": s, "max_score": m} for a, (s, m)
                                    in every_module(final=(22, 25)).items()}))
    assert main(["certificate", "--self-study", "--name", "Ana"]) == 0
    html = (course_copy / "assignments" / "completion-summary.html").read_text()
    assert "Ana" in html and "88%" in html


def test_certificate_needs_exactly_one_learner(course_copy: Path) -> None:
    assert main(["certificate"]) == 2
    assert main(["certificate", "ana", "--self-study"]) == 2


def _gradebook_with(tmp_path: Path, final_score: float | None,
                    needs_tutor: bool = False) -> str:
    """A gradebook with ana's final of ten 1-point items: ``final_score`` of them answered
    right at low certainty (1/3 point each, as certainty-based marking scores them) and
    the rest wrong (0); None: never autograded; still awaiting a tutor when
    ``needs_tutor``."""
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    items = [f"q{number}" for number in range(1, 11)]
    with Gradebook(db_url, "mesotherapy-practitioner") as gradebook:
        gradebook.add_assignment(FINAL_ASSESSMENT)
        gradebook.add_notebook("01-final", FINAL_ASSESSMENT)
        for item in items:
            gradebook.add_grade_cell(item, "01-final", FINAL_ASSESSMENT, max_score=1,
                                     cell_type="code")
        gradebook.add_student("ana")
        gradebook.add_submission(FINAL_ASSESSMENT, "ana")
        if final_score is not None:  # what nbgrader autograde records
            for number, item in enumerate(items):
                grade = gradebook.find_grade(item, "01-final", FINAL_ASSESSMENT, "ana")
                grade.auto_score = 1 / 3 if number < final_score else 0.0
                grade.needs_manual_grade = needs_tutor
        gradebook.db.commit()
    return db_url


@pytest.mark.slow
@pytest.mark.parametrize(("score", "passed"), [(8, True), (6, False)])
def test_gradebook_scores_feed_the_summary(tmp_path: Path, score: float, passed: bool) -> None:
    scores = scores_from_gradebook(_gradebook_with(tmp_path, score),
                                   "mesotherapy-practitioner", "ana")
    # the pass is on accuracy: items right, however sure (nbgrader's total is 1/3 of it)
    assert scores == {FINAL_ASSESSMENT: (score, 10.0)}
    if passed:
        assert summarise("ana", {**EVERY_MODULE, **scores}, TODAY,
                         "gradebook").final_percent == 80
    else:
        with pytest.raises(SummaryRefused, match="below the pass mark"):
            summarise("ana", {**EVERY_MODULE, **scores}, TODAY, "gradebook")


@pytest.mark.slow
@pytest.mark.parametrize(("score", "needs_tutor"), [(None, False), (8, True)])
def test_an_unscored_gradebook_submission_is_no_result(tmp_path: Path, score: float | None,
                                                       needs_tutor: bool) -> None:
    """Never autograded (a failed run), or awaiting a tutor: no result, never a 0."""
    scores = scores_from_gradebook(_gradebook_with(tmp_path, score, needs_tutor),
                                   "mesotherapy-practitioner", "ana")
    assert scores == {}
    others = {k: v for k, v in EVERY_MODULE.items() if k != FINAL_ASSESSMENT}
    with pytest.raises(SummaryRefused, match=r"\(05-final-assessment\) has no result yet"):
        summarise("ana", {**others, **scores}, TODAY, "gradebook")


def _status_file(folder: Path, student: str, status: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{FINAL_ASSESSMENT}.grading-status.csv").write_text(
        f"student,status,score,max_score,needs_manual_grade,detail\n"
        f"{student},{status},,,,kernel died\n", encoding="utf-8")


@pytest.mark.parametrize(("status", "kept"), [("failed", False), ("graded", True)])
def test_a_failed_last_grading_run_is_no_result(tmp_path: Path, status: str,
                                               kept: bool) -> None:
    """An older score left in the gradebook does not stand for a submission whose last
    `course grade` run failed (its status file says so)."""
    _status_file(tmp_path / "autograded", "ana", status)
    scores = {FINAL_ASSESSMENT: (8.0, 10.0), "01-principles": (5.0, 5.0)}
    kept_scores = without_failed_runs(scores, "ana", tmp_path / "autograded")
    assert (FINAL_ASSESSMENT in kept_scores) is kept
    assert kept_scores["01-principles"] == (5.0, 5.0)
    assert without_failed_runs(scores, "bo", tmp_path / "autograded") == scores
    assert without_failed_runs(scores, "ana", tmp_path / "nowhere") == scores


@pytest.mark.slow
def test_unknown_student_in_gradebook_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'zed' is not in the gradebook"):
        scores_from_gradebook(_gradebook_with(tmp_path, 8), "mesotherapy-practitioner", "zed")
