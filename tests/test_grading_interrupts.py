"""Issue 20 part 4 and the duplicated answer cell: `course grade` is safe to interrupt,
one run at a time per course, resumable; a duplicated answer cell is graded or named."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.duplicate_cells import (
    DuplicateAnswerCells,
    check_duplicates,
    duplicated_ids,
    merge_duplicates,
)
from course.grading.workers import TASKS_PER_WORKER


def _cell(source: str, grade_id: str, **flags: object) -> nbformat.NotebookNode:
    meta = {"grade": False, "solution": False, "locked": False, "task": False,
            "schema_version": 3, "grade_id": grade_id, **flags}
    return new_code_cell(source, metadata={"nbgrader": meta})


STUB = "answer_q1_1 = None"


def _released() -> nbformat.NotebookNode:
    return new_notebook(cells=[_cell("import math", "setup", locked=True),
                               _cell(STUB, "q1_1", solution=True),
                               _cell("assert answer_q1_1", "q1_1_check", grade=True,
                                     locked=True, points=1)])


def _duplicated(*answers: str) -> nbformat.NotebookNode:
    nb = _released()
    copies = [_cell(answer, "q1_1", solution=True) for answer in answers]
    nb.cells[1:2] = copies
    return nb


def test_the_answered_copy_is_kept_and_unanswered_or_identical_copies_go() -> None:
    released = {c.metadata.nbgrader.grade_id: c.source for c in _released().cells}.get
    for answers in ((STUB, 'answer_q1_1 = "b"'), ('answer_q1_1 = "b"', STUB),
                    ('answer_q1_1 = "b"', 'answer_q1_1 = "b"', STUB)):
        nb = _duplicated(*answers)
        assert duplicated_ids(nb) == {"q1_1": list(range(1, 1 + len(answers)))}
        notes = merge_duplicates(nb, released, "quiz.ipynb")
        assert [c.source for c in nb.cells] == ["import math", 'answer_q1_1 = "b"',
                                                "assert answer_q1_1"], answers
        assert notes == [f"quiz.ipynb had {len(answers)} copies of the answer cell for "
                         "question q1_1; graded the answered one (delete the others)"]
        assert duplicated_ids(nb) == {}


def test_two_different_answers_are_named_in_one_line_and_nothing_is_changed() -> None:
    learner = _duplicated('answer_q1_1 = "a"', 'answer_q1_1 = "b"')
    before = nbformat.writes(learner)
    with pytest.raises(DuplicateAnswerCells) as caught:
        check_duplicates(learner, _released(), "quiz.ipynb")
    assert str(caught.value) == ("Notebook quiz.ipynb has 2 copies of the answer cell for "
                                 "question q1_1, with different answers: delete one, then "
                                 "submit again")
    assert nbformat.writes(learner) == before


def test_a_duplicated_locked_cell_keeps_the_last_copy_as_nbgrader_does() -> None:
    nb = _released()
    nb.cells.append(_cell("assert answer_q1_1  # edited", "q1_1_check", grade=True,
                          locked=True, points=1))
    assert check_duplicates(nb, _released(), "quiz.ipynb") == []
    merge_duplicates(nb, lambda _id: None, "quiz.ipynb")
    assert [c.source for c in nb.cells][-1] == "assert answer_q1_1  # edited"
    assert len(nb.cells) == 3


# ---------------------------------------------------------------- lock and ledger


def test_a_second_run_refuses_in_one_line_or_waits_until_stopped(tmp_path) -> None:
    from course.errors import GradingError
    from course.grading.run_control import GradingInterrupted, StopSignals, course_lock, lock_path

    path = lock_path(f"sqlite:///{tmp_path / 'gradebook.db'}", tmp_path)
    assert path == tmp_path / "gradebook.db-course-grade.lock"
    with course_lock(path):
        assert "pid " in path.read_text(encoding="utf-8")
        refusal = (r"another `course grade` is grading with this gradebook \(pid \d+, "
                   r"started .* UTC; lock .*pass --wait")
        with pytest.raises(GradingError, match=refusal) as refused, course_lock(path):
            pass
        assert "\n" not in str(refused.value)
        stop = StopSignals()
        stop.signum = 15  # as if SIGTERM came while waiting
        with pytest.raises(GradingInterrupted, match="SIGTERM"), \
                course_lock(path, wait=True, stop=stop):
            pass
    with course_lock(path, wait=True):  # free again
        pass


def test_the_ledger_skips_only_students_graded_from_the_same_files(tmp_path) -> None:
    from course.grading.run_control import Ledger, fingerprint

    submitted, release = tmp_path / "submitted", tmp_path / "release"
    for folder in (submitted / "alice", submitted / "bob", release):
        folder.mkdir(parents=True)
        (folder / "quiz.ipynb").write_text("{}", encoding="utf-8")
    prints = {s: fingerprint(submitted / s, release) for s in ("alice", "bob")}
    ledger = Ledger(tmp_path / "a.grading-done.json", prints)
    ledger.record("alice", True)
    ledger.record("bob", False)
    again = Ledger(tmp_path / "a.grading-done.json", prints)
    assert again.done(["alice", "bob"], {"alice", "bob"}) == ["alice"]
    assert again.done(["alice"], set()) == []  # no longer in the gradebook: graded again
    (submitted / "alice" / "timestamp.txt").write_text("2031-01-02 10:00:00 UTC")
    assert fingerprint(submitted / "alice", release) != prints["alice"]
    (release / "quiz.ipynb").write_text("{ }", encoding="utf-8")  # a new release
    assert fingerprint(submitted / "bob", release) != prints["bob"]
    (tmp_path / "a.grading-done.json").write_text("not json", encoding="utf-8")
    assert Ledger(tmp_path / "a.grading-done.json", prints).entries == {}


# ---------------------------------------------------------------- real runs, real signals

ASSIGNMENT, NOTEBOOK = "00-orientation", "00-start-here"
WORKERS = 2
STUDENTS = [f"s{n:02d}" for n in range(2 + WORKERS * TASKS_PER_WORKER)]
"""s00 is graded at once; the others wait at a gate (see _uploads): a signal finds s00
graded, students in progress (each worker holds TASKS_PER_WORKER of them) and at least
the last one not started."""


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` now, with its start time (to tell a reused pid)."""
    import os

    parents: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
        starts[int(entry)] = fields[19]
    found, todo = {}, [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(processes: dict[int, str]) -> list[int]:
    alive = []
    for pid, start in processes.items():
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == start and fields[0] != "Z":  # a zombie has stopped already
            alive.append(pid)
    return alive


@pytest.fixture(scope="module")
def slow_cohort(tmp_path_factory: pytest.TempPathFactory):
    """A course with 00-orientation generated, and a correct submission of it."""
    from benchmarks.grade_throughput import make_course, release_and_solutions, submission
    from course.grading.assignments import nbgrader_api

    from .conftest import ROOT

    course = make_course(tmp_path_factory.mktemp("interrupts") / "course", ASSIGNMENT)
    assert nbgrader_api(course).generate_assignment(ASSIGNMENT, force=True,
                                                    create=True)["success"]
    release, solutions = release_and_solutions(ROOT, ASSIGNMENT)
    return course, submission("correct", release, solutions)[NOTEBOOK]


def _uploads(course, correct: nbformat.NotebookNode, folder):
    """One correct upload per student; all but the first wait in their answer cell until
    the file ``folder``/gate/open exists (shown read-only to the sandboxed kernels): they
    are still running when the test stops the run, and quick once it resumes. (A cell
    still waiting after the 30 s cell limit is interrupted and its answer counts: the
    test then fails, it finds them graded.)"""
    import copy

    gate = folder / "gate"
    gate.mkdir(parents=True)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.SandboxedKernelManager.extra_read_only = [{str(gate)!r}]\n")
    waits = copy.deepcopy(correct)
    answer = next(c for c in waits.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += (f"\nimport os, time\nwhile not os.path.exists({str(gate / 'open')!r}):"
                      "\n    time.sleep(0.05)")
    uploads = folder / "uploads"
    uploads.mkdir()
    for student in STUDENTS:
        nbformat.write(waits if student != STUDENTS[0] else correct,
                       uploads / f"{student}.ipynb")
    return uploads, gate / "open"


def _start(course, *args: str, tmp=None):
    import subprocess
    import sys

    from benchmarks.grade_throughput import tool_env

    from .conftest import unsandboxed_args

    env = tool_env(COURSE_ROOT=str(course), **({"TMPDIR": str(tmp)} if tmp else {}))
    return subprocess.Popen([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT, *args,
                             *unsandboxed_args()], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop_if_running(run) -> None:
    """Kill a run the test left running (it failed before stopping it)."""
    import contextlib
    import os
    import signal

    if run.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.communicate()


def _graded_in_gradebook(course) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {sub.student_id: float(sub.score)
                for sub in gb.find_assignment(ASSIGNMENT).submissions}


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_mid_run_stops_everything_keeps_only_finished_students_and_resumes(
        slow_cohort, tmp_path, request, signum: str) -> None:
    """Issue 20: SIGTERM mid-run left 14 processes, temp folders and empty-score rows;
    Ctrl-C left an empty-score row although the CLI said "no new row"; two runs at once
    had no lock; a re-run graded everyone again."""
    import csv
    import json
    import os
    import shutil
    import signal
    import tempfile
    import time
    from pathlib import Path

    template, correct = slow_cohort
    course = tmp_path / "course"
    shutil.copytree(template, course)
    uploads, gate = _uploads(course, correct, tmp_path)
    private_tmp = Path(tempfile.mkdtemp(prefix="gi-", dir="/tmp"))  # short: socket paths
    request.addfinalizer(lambda: shutil.rmtree(private_tmp, ignore_errors=True))
    run = _start(course, "--submissions", str(uploads), "--workers", str(WORKERS),
                 tmp=private_tmp)
    request.addfinalizer(lambda: _stop_if_running(run))
    ledger = course / "autograded" / f"{ASSIGNMENT}.grading-done.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run.poll() is None:
        try:
            if json.loads(ledger.read_text(encoding="utf-8"))["graded"]:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    assert run.poll() is None, run.communicate()

    if signum == "SIGTERM":  # a second run meanwhile: refused in one line, nothing touched
        second = _start(course)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 1, out + err
        assert err.strip().startswith("course grade: another `course grade` is grading "
                                      f"with this gradebook (pid {run.pid}")
        assert len(err.strip().splitlines()) == 1 and out == ""
        assert run.poll() is None, "the first run finished before it could be stopped"

    processes = _descendants(run.pid)
    assert len(processes) >= 2  # workers, sandboxes, kernels
    sent = time.monotonic()
    if signum == "SIGINT":  # Ctrl-C in a terminal: the whole foreground process group
        os.killpg(run.pid, signal.SIGINT)
    else:  # `kill PID`: the grading process alone
        os.kill(run.pid, signal.SIGTERM)
    grading = {pid: start for pid, start in processes.items()  # multiprocessing's
               if "resource_tracker" not in _command(pid)}  # tracker goes with the parent
    while _alive(grading) and time.monotonic() - sent < 30:
        time.sleep(0.1)
    stopped_after = time.monotonic() - sent  # workers, sandboxes and kernels all gone
    assert _alive(grading) == [], f"still running: {_alive(grading)}"
    assert stopped_after < 5, f"took {stopped_after:.1f} s to stop the workers"
    out, err = run.communicate(timeout=60)
    leftover = {pid: _command(pid) for pid in _alive(processes)}
    while _alive(processes) and time.monotonic() - sent < 10:  # multiprocessing's resource
        time.sleep(0.1)  # tracker leaves once the grading process has gone
    assert _alive(processes) == [], leftover
    assert run.returncode == 128 + getattr(signal, signum)
    assert list(private_tmp.iterdir()) == []  # no sandbox (course-sandbox-*) left

    graded = _graded_in_gradebook(course)  # only finished students, each with its score
    assert set(graded) == {STUDENTS[0]}, (graded, err)
    assert set(graded.values()) == {1.0}
    assert set(graded) == set(json.loads(ledger.read_text(encoding="utf-8"))["graded"])
    with (course / "autograded" / f"{ASSIGNMENT}.grading-status.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s for s, row in rows.items() if row["status"] == "graded"} == set(graded)
    assert all("interrupted" in row["detail"] for s, row in rows.items() if s not in graded)
    message = err.strip().splitlines()[-1]
    assert message.startswith(f"course grade: stopped by {signum}: {len(graded)} graded "
                              "and saved"), err
    assert "Run the same command again to grade only what is missing." in message
    unfinished = sum(row["status"] == "failed" for row in rows.values())
    not_started = len(STUDENTS) - len(graded) - unfinished
    assert unfinished >= 1 and not_started >= 1, (rows, message)
    assert f"{unfinished} in progress left no gradebook row" in message
    assert f"{not_started} not started" in message

    gate.touch()
    again = _start(course, "--submissions", str(uploads), tmp=private_tmp)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    assert f"{len(graded)} student(s) skipped, already graded from the same submission" in out
    assert f"{len(STUDENTS) - len(graded)} graded, 0 failed" in out
    assert _graded_in_gradebook(course) == dict.fromkeys(STUDENTS, 1.0)
    with (course / "autograded" / f"{ASSIGNMENT}.grading-status.csv").open() as handle:
        details = {row["student"]: row["detail"] for row in csv.DictReader(handle)}
    # the gate opened: no cell waited until the time limit
    assert not any("ran past the" in detail for detail in details.values()), details


def test_course_check_names_two_different_copies_of_an_answer_cell_in_one_line(
        course_copy, capsys: pytest.CaptureFixture[str]) -> None:
    import copy

    from course.cli import main

    assert main(["start", ASSIGNMENT]) == 0
    path = course_copy / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    index, answer = next((i, c) for i, c in enumerate(nb.cells)
                         if c.metadata.get("nbgrader", {}).get("solution"))
    name = answer.metadata["course"]["answer"]["name"]
    answer.source = answer.source.replace(f"{name} = None", f'{name} = "a"', 1)
    twin = copy.deepcopy(answer)
    twin.id = "copy-of-answer"
    twin.source = twin.source.replace(f'{name} = "a"', f'{name} = "b"', 1)
    nb.cells.insert(index + 1, twin)
    nbformat.write(nb, path)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["check", ASSIGNMENT]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"course check: Notebook {NOTEBOOK}.ipynb has 2 copies of the "
                          "answer cell for question "), err
    assert "delete one" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert path.read_bytes() == before  # the learner's file is only read


@pytest.mark.slow
def test_sigterm_stops_course_check_and_removes_its_temporary_folder(course_copy) -> None:
    """SIGTERM killed `course check` without removing its course-check-* folder."""
    import contextlib
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    from benchmarks.grade_throughput import tool_env
    from course.cli import main

    assert main(["start", ASSIGNMENT]) == 0
    path = course_copy / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\nimport time\ntime.sleep(120)"
    nbformat.write(nb, path)
    before = path.read_bytes()
    private_tmp = Path(tempfile.mkdtemp(prefix="gc-", dir="/tmp"))
    check = subprocess.Popen(
        [sys.executable, "-m", "course.cli", "check", ASSIGNMENT],
        env=tool_env(COURSE_ROOT=str(course_copy), TMPDIR=str(private_tmp)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not list(private_tmp.glob("course-check-*")) and time.monotonic() < deadline:
            assert check.poll() is None, check.communicate()
            time.sleep(0.2)
        assert list(private_tmp.glob("course-check-*")), "the check never started grading"
        time.sleep(2)  # well inside the sleeping cell
        check.send_signal(signal.SIGTERM)
        out, err = check.communicate(timeout=60)
        assert check.returncode == 128 + signal.SIGTERM, out + err
        assert "stopped by SIGTERM: nothing was recorded" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
        assert not list(private_tmp.glob("course-check-*"))
        assert not (course_copy / "assignments" / "progress.json").exists()
        assert path.read_bytes() == before
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(check.pid, signal.SIGKILL)
        shutil.rmtree(private_tmp, ignore_errors=True)
