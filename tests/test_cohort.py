"""`course grade`: nbgrader's own scores for a whole cohort, with a clear status per student.

The identity test grades one mixed cohort twice -- with plain `nbgrader autograde` in one
course copy and with `course grade` in another -- and compares every grade row. The
other slow tests feed `course grade` a folder, an LMS zip and a roster with problems.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from benchmarks.grade_throughput import (
    BIN,
    build_cohort,
    grade_rows,
    make_course,
    release_and_solutions,
    submission,
    tool_env,
)
from course.cli import main
from course.grading.assignments import nbgrader_api
from course.grading.intake import CohortInputError
from course.grading.outcome import (
    FAILED,
    GRADED,
    CohortReport,
    Outcome,
    Progress,
    progress_line,
    status_table,
    write_status_file,
)
from course.grading.roster import read_roster

from .conftest import ROOT, unsandboxed_args

ASSIGNMENT = "00-orientation"  # one notebook, one graded answer worth 1 point
NOTEBOOK = "00-start-here"


# ---------------------------------------------------------------- pure parts


def test_progress_line_shows_counts_rate_and_time_left() -> None:
    line = progress_line(10, 40, 1, 20.0, width=8)
    assert line.startswith("[##......] 10/40, 1 failed")
    assert "0.50/s" in line and "ETA 1:00" in line
    assert "ETA --:--" in progress_line(0, 40, 0, 3.0)
    assert progress_line(40, 40, 0, 80.0, width=4).startswith("[####] 40/40")
    with pytest.raises(ValueError, match="done"):
        progress_line(41, 40, 0, 1.0)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_on_a_terminal_and_prints_one_line_elsewhere() -> None:
    for stream in (io.StringIO(), _Terminal()):
        progress = Progress(stream)
        progress.start(3)
        progress.update(1, 0, force=True)
        progress.finish(3, 1)
        text = stream.getvalue()
        assert text.endswith("2 of 3 submission(s) graded, 1 failed, in "
                             + text.rsplit(" in ", 1)[1])
        if stream.isatty():
            assert "\r[" in text and "ETA" in text
        else:
            assert text.count("\n") == 1 and "ETA" not in text


def test_status_table_and_exit_code_name_each_failure() -> None:
    graded = Outcome("alice", score=3, max_score=4)
    broken = Outcome("bob")
    broken.fail("not a valid notebook: quiz.ipynb")
    report = CohortReport("01-x", [graded, broken], [], 12.0, 2)
    table = status_table(report)
    assert "alice" in table and "3/4" in table and GRADED in table
    bob_line = next(line for line in table.splitlines() if line.startswith("bob"))
    assert FAILED in bob_line and "not a valid notebook: quiz.ipynb" in bob_line
    assert "1 graded, 1 failed" in table
    assert report.exit_code == 1
    assert CohortReport("01-x", [graded], [], 1.0, 1).exit_code == 0
    assert CohortReport("01-x", [graded], ["roster line 3: id is empty"], 1.0, 1).exit_code == 1


def test_roster_keeps_good_rows_and_reports_each_bad_row(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "ID,First_Name,last_name,email,tutor group\n"   # line 1: extra column ignored
        "alice,Alice,Liddell,alice@example.org,A\n"     # 2
        ",No,Id,none@example.org,A\n"                   # 3
        "bad id,Bad,Id,bad@example.org,B\n"             # 4
        "alice,Alice,Again,alice2@example.org,B\n"      # 5
        "carol,Carol,Doe,not-an-email,B\n"              # 6
        "dan,Dan,,,\n"                                  # 7: names may be empty
        "erin,Erin,Ek,erin@example.org,C,surplus\n",    # 8
        encoding="utf-8")
    entries, problems = read_roster(roster)
    assert [e.id for e in entries] == ["alice", "dan"]
    assert entries[0].first_name == "Alice" and entries[1].last_name is None
    assert len(problems) == 5
    for line, words in ((3, "id is empty"), (4, "'bad id' is not a valid student id"),
                        (5, "repeats line 2"), (6, "email 'not-an-email'"),
                        (8, "more field(s) than the header")):
        assert any(f"line {line}: " in p and words in p for p in problems), (line, problems)
    headless = tmp_path / "names.csv"
    headless.write_text("name,email\nalice,alice@example.org\n", encoding="utf-8")
    with pytest.raises(CohortInputError, match="'id' column"):
        read_roster(headless)


def test_malformed_rosters_are_reported_not_tracebacks(tmp_path: Path) -> None:
    """Issue 20: a huge field, an unclosed quote and duplicate id columns."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "alice,Alice,A,alice@example.org\n"               # 2
                      f"bob,{'B' * 300},B,bob@example.org\n"            # 3: long field
                      'carol,"Carol,C,carol@example.org\n'              # 4: unclosed quote...
                      "dan,Dan,D,dan@example.org\n"                     # 5: ...swallows dan
                      "erin,Erin,E,erin@example.org\n", encoding="utf-8")
    entries, problems = read_roster(roster)
    assert [e.id for e in entries] == ["alice"]
    assert any("line 3: first_name is longer than" in p for p in problems), problems
    assert any("lines 4-" in p and "unclosed quote" in p for p in problems), problems
    huge = tmp_path / "huge.csv"
    huge.write_text(f"id,first_name\nalice,Alice\nbob,\"{'x' * 200_000}\"\ncarol,C\n",
                    encoding="utf-8")
    entries, problems = read_roster(huge)
    assert [e.id for e in entries] == ["alice"] and "line 3: cannot be read" in problems[0]
    twice = tmp_path / "twice.csv"
    twice.write_text("id,first_name,ID\nalice,Alice,mallory\n", encoding="utf-8")
    with pytest.raises(CohortInputError, match="'id' appears more than once"):
        read_roster(twice)
    unicode = tmp_path / "unicode.csv"
    unicode.write_text("id\nélodie\njane_doe\njohn_doe\n", encoding="utf-8")
    assert [e.id for e in read_roster(unicode)[0]] == ["élodie", "jane_doe", "john_doe"]
    big = tmp_path / "big.csv"
    big.write_bytes(b"id\n" + b"a\n" * (3 * 2**20))
    with pytest.raises(CohortInputError, match="larger than"):
        read_roster(big)


def test_status_history_is_kept_per_run(tmp_path: Path) -> None:
    """Issue 20: a run that graded nobody erased the reasons of the last run."""
    path = tmp_path / "autograded" / "a.grading-status.csv"
    failed = Outcome("=evil", FAILED, reasons=["kernel died"])
    write_status_file(CohortReport("a", [Outcome("alice", score=1, max_score=1), failed],
                                   [], 1.0, 1), path)
    write_status_file(CohortReport("a", [], ["no notebooks"], 1.0, 1), path)
    write_status_file(CohortReport("a", [Outcome("alice", score=0, max_score=1)], [], 1.0, 1),
                      path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["alice"]["score"] == "0"
    assert rows["'=evil"]["status"] == FAILED and "kernel died" in rows["'=evil"]["detail"]
    runs = sorted((path.parent / "a.grading-status.history").glob("*.csv"))
    assert len(runs) == 3


def _exit_code(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_info:
        return int(exit_info.code)


@pytest.mark.parametrize("extra", [
    [], ["99-nonexistent"], [ASSIGNMENT, "--workers", "0"], [ASSIGNMENT, "--workers", "many"],
    [ASSIGNMENT, "--timeout", "0"], [ASSIGNMENT, "--submissions", "no/such/folder"],
    [ASSIGNMENT, "--submissions", "nbgrader_config.py"], [ASSIGNMENT, "--roster", "no.csv"],
    [ASSIGNMENT, "--submissions", "{fake_zip}"],
])
def test_wrong_arguments_exit_2(course_copy: Path, extra: list[str], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    fake_zip = tmp_path / "download.zip"
    fake_zip.write_text("not a zip", encoding="utf-8")
    extra = [arg.format(fake_zip=fake_zip) for arg in extra]
    assert _exit_code(["grade", *extra]) == 2
    err = capsys.readouterr().err
    assert "usage: course" in err
    assert not (course_copy / "gradebook.db").exists()  # nothing was started


# ---------------------------------------------------------------- with nbgrader


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course holding 00-orientation with its gradebook generated (no submissions)."""
    course = make_course(tmp_path_factory.mktemp("cohort-template"), ASSIGNMENT)
    result = nbgrader_api(course).generate_assignment(ASSIGNMENT, force=True, create=True)
    assert result["success"], result.get("error")
    return course


@pytest.fixture
def course(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "course")
    return tmp_path / "course"


def grade(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT, *args,
                           *unsandboxed_args()],
                          capture_output=True, text=True, timeout=300,
                          env=tool_env(COURSE_ROOT=str(course)))


def status_rows(course: Path) -> dict[str, dict[str, str]]:
    path = course / "autograded" / f"{ASSIGNMENT}.grading-status.csv"
    with path.open(encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def gradebook(course: Path):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{course / 'gradebook.db'}")


def has_submission(course: Path, student: str) -> bool:
    from nbgrader.api import MissingEntry

    with gradebook(course) as gb:
        try:
            gb.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return False
        return True


def notebook_text(kind: str) -> str:
    release, solutions = release_and_solutions(ROOT, ASSIGNMENT)
    nb = submission(kind, release, solutions)[NOTEBOOK]
    return nb if isinstance(nb, str) else nbformat.writes(nb)


@pytest.mark.slow
def test_no_submissions_is_a_usage_error(course: Path) -> None:
    result = grade(course)
    assert result.returncode == 2
    assert "no submissions of 00-orientation" in result.stderr


@pytest.mark.slow
def test_scores_are_identical_to_nbgrader_autograde(template: Path, tmp_path: Path) -> None:
    stock, ours = tmp_path / "stock", tmp_path / "ours"
    shutil.copytree(template, stock)
    shutil.copytree(template, ours)
    kinds = build_cohort(ROOT, ASSIGNMENT, ["correct", "wrong", "blank", "editedtests",
                                            "changedpoints", "deletedtests"],
                         stock / "submitted")
    shutil.copytree(stock / "submitted", ours / "submitted")

    plain = subprocess.run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"],
                           cwd=stock, env=tool_env(), capture_output=True, text=True,
                           timeout=300)
    assert plain.returncode == 0, plain.stderr[-2000:]
    result = grade(ours)
    assert result.returncode == 0, result.stdout + result.stderr

    expected, got = grade_rows(stock), grade_rows(ours)
    assert got == expected
    assert {key[0] for key in got} == set(kinds)
    score = {student: got[(student, NOTEBOOK, grade_id)][0]
             for student, _nb, grade_id in got}
    by_kind = {kinds[s]: value for s, value in score.items()}
    # the restored tests and points are what make these right:
    assert by_kind == {"correct": 1, "changedpoints": 1, "wrong": 0, "blank": 0,
                       "editedtests": 0, "deletedtests": 0}
    assert all(row[2] == 1 for row in got.values())  # max score back to 1 point
    assert all(status_rows(ours)[s]["status"] == GRADED for s in kinds)


@pytest.mark.slow
def test_each_failure_is_named_and_leaves_no_zero_in_the_gradebook(course: Path,
                                                                   tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(notebook_text("correct"), encoding="utf-8")
    (folder / "bob").mkdir()
    (folder / "bob" / f"{NOTEBOOK}.ipynb").write_text(notebook_text("corrupted"),
                                                     encoding="utf-8")
    (folder / "carol").mkdir()  # submitted nothing
    (folder / "dave.ipynb").write_text(notebook_text("infiniteloop"), encoding="utf-8")
    dies = nbformat.reads(notebook_text("correct"), as_version=4)
    answer = next(c for c in dies.cells if c.get("metadata", {}).get("nbgrader", {})
                  .get("solution"))
    answer.source += "\nimport os\nos._exit(1)"
    (folder / "erin.ipynb").write_text(nbformat.writes(dies), encoding="utf-8")
    (folder / "bad name.ipynb").write_text(notebook_text("correct"), encoding="utf-8")
    invalid = json.loads(notebook_text("correct"))  # JSON, but not nbformat's schema
    invalid["cells"].append({"cell_type": "markdown", "metadata": {}, "source": 42})
    (folder / "frank.ipynb").write_text(json.dumps(invalid), encoding="utf-8")

    result = grade(course, "--submissions", str(folder), "--timeout", "3")
    assert result.returncode == 1, result.stdout + result.stderr
    rows = status_rows(course)
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert (rows["alice"]["status"], rows["alice"]["score"]) == (GRADED, "1")
    assert rows["dave"]["status"] == GRADED and rows["dave"]["score"] == "1"
    assert "interrupted" in rows["dave"]["detail"]  # the loop timed out; the answer counts
    for student, why in (("bob", "not a valid notebook"), ("carol", "missing notebook"),
                         ("erin", "kernel died"), ("frank", "not a valid notebook")):
        assert rows[student]["status"] == FAILED and why in rows[student]["detail"], rows
        assert rows[student]["score"] == ""
        assert not has_submission(course, student)  # nothing that exports as a real 0
    assert has_submission(course, "alice") and has_submission(course, "dave")
    assert "'bad name' is not a valid student id" in result.stdout
    assert (course / "submitted" / "alice" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()
    table = result.stdout.splitlines()
    assert any(line.startswith("bob") and "not a valid notebook" in line for line in table)


def lms_name(student: str, stamp: str) -> str:
    return f"{ASSIGNMENT}_{student}_attempt_{stamp}_{NOTEBOOK}.ipynb"


@pytest.mark.slow
def test_lms_zip_and_roster_then_a_broken_resubmission(course: Path, tmp_path: Path) -> None:
    archive = tmp_path / "lms-download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(lms_name("alice", "2031-01-01-09-00-00"), notebook_text("wrong"))
        zf.writestr(lms_name("alice", "2031-01-02-10-00-00"), notebook_text("correct"))
        zf.writestr(lms_name("bob", "2031-01-02-11-00-00"), notebook_text("wrong"))
        zf.writestr("notes_from_carol.ipynb", notebook_text("correct"))
        zf.writestr(f"{ASSIGNMENT}_erin_attempt_2031-01-02-12-00-00_quiz.ipynb",
                    notebook_text("correct"))
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "alice,Alice,Liddell,alice@example.org\n"
                      "bob,Bob,Bobson,bob@example.org\n"
                      ",Nobody,,\n"
                      "dan,Dan,Dunn,dan@example.org\n", encoding="utf-8")

    result = grade(course, "--submissions", str(archive), "--roster", str(roster))
    assert result.returncode == 1  # the bad roster row and the unusable files
    assert "line 4: id is empty" in result.stdout
    assert "notes_from_carol.ipynb does not match the LMS file-name pattern" in result.stdout
    assert "_erin_attempt_2031-01-02-12-00-00_quiz.ipynb names no notebook" in result.stdout
    rows = status_rows(course)
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["score"] == "1" and rows["bob"]["score"] == "0"  # newest attempt
    with gradebook(course) as gb:
        assert gb.find_student("alice").first_name == "Alice"
        assert gb.find_student("dan").submissions == []  # on the roster, nothing submitted
        stamp = gb.find_submission(ASSIGNMENT, "alice").timestamp
        assert stamp == datetime(2031, 1, 2, 10, 0)

    resubmitted = tmp_path / "late"
    resubmitted.mkdir()
    (resubmitted / "alice.ipynb").write_text(notebook_text("corrupted"), encoding="utf-8")
    again = grade(course, "--submissions", str(resubmitted))
    assert again.returncode == 1
    row = status_rows(course)["alice"]
    assert row["status"] == FAILED and "not a valid notebook" in row["detail"]
    assert "earlier grades kept, flagged for manual review" in row["detail"]
    with gradebook(course) as gb:
        kept = gb.find_submission(ASSIGNMENT, "alice")
        assert kept.score == 1 and kept.needs_manual_grade


@pytest.mark.slow
def test_links_in_submissions_are_refused_and_nothing_is_lost(course: Path,
                                                             tmp_path: Path) -> None:
    """Issue 20: a link to a source/ notebook scored full marks; a link to the course root
    crashed the run and copied gradebook.db and source/ into submitted/; a re-upload
    silently replaced a student's earlier submitted copy."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "alice.ipynb").write_text(notebook_text("blank"), encoding="utf-8")
    source = course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert source.is_file()
    (uploads / "bob").mkdir()
    (uploads / "bob" / f"{NOTEBOOK}.ipynb").symlink_to(source)
    (uploads / "carol").symlink_to(course)
    earlier = course / "submitted" / "alice" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    earlier.parent.mkdir(parents=True)
    earlier.write_text(notebook_text("correct"), encoding="utf-8")

    result = grade(course, "--submissions", str(uploads))
    assert result.returncode == 1, result.stderr
    assert set(status_rows(course)) == {"alice"}
    assert status_rows(course)["alice"]["score"] == "0"
    assert "symbolic link" in result.stdout and "bob" in result.stdout
    assert "carol" in result.stdout
    assert not has_submission(course, "bob") and not has_submission(course, "carol")
    assert not list((course / "submitted").rglob("gradebook.db"))
    kept = list((course / "replaced-submissions" / ASSIGNMENT / "alice").rglob("*.ipynb"))
    assert [k.read_text(encoding="utf-8") for k in kept] == [notebook_text("correct")]
    assert "kept in replaced-submissions" in result.stdout


def _mini_assignment(course: Path) -> str:
    """A two-notebook assignment: a quiz worth 1 point and a lesson worth nothing."""
    from nbformat.v4 import new_code_cell, new_notebook

    def cell(source: str, grade_id: str, **flags: object) -> nbformat.NotebookNode:
        meta = {"grade": False, "solution": False, "locked": False, "task": False,
                "schema_version": 3, "grade_id": grade_id, **flags}
        return new_code_cell(source, metadata={"nbgrader": meta})

    kernelspec = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}}
    quiz = new_notebook(metadata=kernelspec, cells=[
        cell("### BEGIN SOLUTION\nanswer_mini = 2\n### END SOLUTION", "answer", solution=True),
        cell("assert answer_mini == 2", "answer_check", grade=True, locked=True, points=1)])
    lesson = new_notebook(metadata=kernelspec, cells=[new_code_cell('print("lesson ran")')])
    folder = course / "source" / "99-mini"
    folder.mkdir(parents=True)
    nbformat.write(quiz, folder / "quiz.ipynb")
    nbformat.write(lesson, folder / "lesson.ipynb")
    result = nbgrader_api(course).generate_assignment("99-mini", force=True, create=True)
    assert result["success"], result.get("error")
    return "99-mini"


@pytest.mark.slow
def test_skip_unscored_keeps_nbgrader_scores_without_running_lessons(course: Path,
                                                                     tmp_path: Path) -> None:
    mini = _mini_assignment(course)
    stock = tmp_path / "stock"
    shutil.copytree(course, stock)
    kinds = build_cohort(course, mini, ["correct", "wrong"], stock / "submitted")
    shutil.copytree(stock / "submitted", course / "submitted")
    plain = subprocess.run([str(BIN / "nbgrader"), "autograde", mini, "--force"], cwd=stock,
                           env=tool_env(), capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr[-2000:]
    result = subprocess.run([sys.executable, "-m", "course.cli", "grade", mini,
                             "--skip-unscored", *unsandboxed_args()], capture_output=True,
                            text=True, timeout=300,
                            env=tool_env(COURSE_ROOT=str(course)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert grade_rows(course) == grade_rows(stock)
    assert sorted(row[0] for row in grade_rows(course).values()) == [0, 1]
    for student in kinds:
        ran, skipped = (nbformat.read(c / "autograded" / student / mini / "lesson.ipynb",
                                      as_version=4).cells[0].outputs for c in (stock, course))
        assert "lesson ran" in ran[0]["text"] and skipped == []


@pytest.mark.slow
def test_cohort_grading_refuses_to_run_unsandboxed_unless_told(
        course: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import course.grading.sandbox as sandbox
    from course.errors import GradingError
    from course.grading.cohort import grade_cohort

    monkeypatch.setattr(sandbox, "sandbox_available", lambda: (False, "no bubblewrap here"))
    monkeypatch.delenv(sandbox.REQUIRE_ENV, raising=False)
    with pytest.raises(GradingError, match=r"refusing to grade a cohort.*no bubblewrap here"
                                           r".*--unsandboxed"):
        grade_cohort(course, ASSIGNMENT)
    assert not (course / "autograded").exists()  # refused before anything was touched
    # told to: it goes on (and stops at the next problem: nothing was submitted)
    with pytest.raises(CohortInputError, match="no submissions"):
        grade_cohort(course, ASSIGNMENT, allow_unsandboxed=True)
    monkeypatch.chdir(course)
    monkeypatch.setenv("COURSE_ROOT", str(course))
    assert main(["grade", ASSIGNMENT]) == 1
    assert "--unsandboxed" in capsys.readouterr().err


def _with_copy_of_answer_cell(kind: str, copy_source: str | None) -> str:
    """A ``kind`` submission whose answer cell was duplicated (JupyterLab's "Duplicate
    cell": same metadata); the copy holds ``copy_source`` (None: the released stub)."""
    import copy

    nb = nbformat.reads(notebook_text(kind), as_version=4)
    index, answer = next((i, c) for i, c in enumerate(nb.cells)
                         if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    released = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                             as_version=4)
    stub = next(c for c in released.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == answer.metadata.nbgrader
                .grade_id)
    twin = copy.deepcopy(answer)
    twin.id = f"{answer.get('id', 'cell')}-copy"  # JupyterLab gives a copy a new id
    twin.source = stub.source if copy_source is None else copy_source
    nb.cells.insert(index + 1, twin)  # below the original, where JupyterLab puts it
    return nbformat.writes(nb)


@pytest.mark.slow
def test_a_duplicated_answer_cell_is_graded_or_named_never_a_traceback(
        course: Path, tmp_path: Path) -> None:
    """Issue 20: an honest learner who duplicated an answer cell got nbgrader's
    KeyError: 'grade_id' (the add_missing_cells path) instead of a grade."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(_with_copy_of_answer_cell("correct", None),
                                        encoding="utf-8")
    answered = nbformat.reads(notebook_text("correct"), as_version=4)
    key_line = next(c.source for c in answered.cells
                    if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    other = key_line.replace('"b"', '"a"').replace("'b'", "'a'")
    assert other != key_line
    (folder / "bob.ipynb").write_text(_with_copy_of_answer_cell("correct", other),
                                      encoding="utf-8")
    (folder / "carol.ipynb").write_text(_with_copy_of_answer_cell("correct", key_line),
                                        encoding="utf-8")
    result = grade(course, "--submissions", str(folder))
    assert "KeyError" not in result.stdout + result.stderr
    rows = status_rows(course)
    for student in ("alice", "carol"):  # the answered copy counts: nothing lost
        assert (rows[student]["status"], rows[student]["score"]) == (GRADED, "1"), rows
        assert "copies of cell" in rows[student]["detail"]
    assert rows["bob"]["status"] == FAILED
    assert (f"Notebook {NOTEBOOK}.ipynb has 2 copies of the answer cell for question "
            in rows["bob"]["detail"]) and "delete one" in rows["bob"]["detail"], rows["bob"]
    assert not has_submission(course, "bob")
    assert result.returncode == 1


@pytest.mark.slow
def test_stock_nbgrader_autograde_grades_a_duplicated_answer_cell(course: Path) -> None:
    """The fix is in the course's nbgrader config, so stock autograde (and `course check`,
    which uses nbgrader's API) grade the answered copy too."""
    folder = course / "submitted" / "alice" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOK}.ipynb").write_text(_with_copy_of_answer_cell("correct", None),
                                              encoding="utf-8")
    plain = subprocess.run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"],
                           cwd=course, env=tool_env(),
                           capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "KeyError" not in plain.stderr
    with gradebook(course) as gb:
        assert gb.find_submission(ASSIGNMENT, "alice").score == 1
