"""The `course` command line: exit codes, messages, and the self-study journey."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course.cli import main

from .conftest import ASSIGNMENTS


def run(*args: str, root: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"COURSE_ROOT": str(root)} if root else {})}
    return subprocess.run([sys.executable, "-m", "course.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["check"], ["check", "a", "b"],
                                  ["release", "--fast"]])
def test_wrong_arguments_print_usage_and_exit_2(args: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "usage: course" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["release", "start", "check"])
def test_unknown_assignment_exits_2_and_lists_the_choices(
    course_copy: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "99-nonexistent"]) == 2
    err = capsys.readouterr().err
    assert "unknown" in err and "99-nonexistent" in err and ASSIGNMENTS[0] in err


def test_start_copies_once_and_never_overwrites(course_copy: Path) -> None:
    assert main(["start"]) == 0
    copies = sorted((course_copy / "assignments").rglob("*.ipynb"))
    assert copies
    copies[0].write_text("my work", encoding="utf-8")
    assert main(["start"]) == 0
    assert copies[0].read_text(encoding="utf-8") == "my work"


def test_start_when_a_target_is_a_file_is_one_line_and_exit_2(
        course_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = course_copy / "assignments" / ASSIGNMENTS[0]
    blocker.write_text("my notes", encoding="utf-8")
    assert main(["start", ASSIGNMENTS[0]]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is a file, not a folder" in err
    assert blocker.read_text(encoding="utf-8") == "my notes"


def test_check_of_another_assignments_notebook_is_one_line_and_exit_2(
        course_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["start", ASSIGNMENTS[0]]) == 0
    mine = next((course_copy / "assignments" / ASSIGNMENTS[0]).glob("*.ipynb"))
    other = next(p for a in ASSIGNMENTS[1:] for p in
                 sorted((course_copy / "release" / a).glob("*quiz*.ipynb")))
    mine.write_bytes(other.read_bytes())
    capsys.readouterr()
    assert main(["check", ASSIGNMENTS[0]]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "questions of another notebook" in err
    assert mine.read_bytes() == other.read_bytes()  # nothing changed
    assert not (course_copy / "assignments" / "progress.json").exists()


def test_grade_exports_gradebooks_and_reports_are_git_ignored() -> None:
    """Issue 20: `nbgrader export` writes grades.csv at the root, which was not ignored."""
    from .conftest import ROOT

    paths = ["grades.csv", "reports/01-principles/grades.csv", "gradebook.db",
             "gradebook.db-journal", "replaced-submissions/00-orientation/a/x/n.ipynb",
             "autograded/00-orientation.grading-status.csv", "exports/grades-2031.csv"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                            capture_output=True, text=True)
    assert sorted(result.stdout.split()) == sorted(paths)


def test_check_before_start_says_what_to_do(course_copy: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", ASSIGNMENTS[0]]) == 1
    assert f"run `course start {ASSIGNMENTS[0]}`" in capsys.readouterr().err


@pytest.mark.slow
def test_check_of_a_malformed_notebook_is_clear_and_loses_nothing(course_copy: Path) -> None:
    assignment = ASSIGNMENTS[0]
    assert run("start", assignment, root=course_copy).returncode == 0
    notebook = next((course_copy / "assignments" / assignment).glob("*.ipynb"))
    notebook.write_text('{"cells": [ oops', encoding="utf-8")
    result = run("check", assignment, root=course_copy)
    assert result.returncode == 1
    assert "not a valid Jupyter notebook" in result.stderr
    assert "Traceback" not in result.stderr
    assert notebook.read_text(encoding="utf-8") == '{"cells": [ oops'


@pytest.mark.slow
def test_learner_journey_release_start_answer_check(course_copy: Path) -> None:
    assignment = "00-orientation"
    released = run("release", assignment, root=course_copy)
    assert released.returncode == 0, released.stderr
    assert "no solution, hidden test or mark scheme found" in released.stdout
    assert run("start", assignment, root=course_copy).returncode == 0

    blank = run("check", assignment, root=course_copy)
    assert blank.returncode == 0, blank.stderr
    assert re.search(r"Total \(auto-graded\): 0 / [1-9]", blank.stdout)

    # Answer like a learner: copy the instructor's answers into the learner's cells.
    source = json.loads((course_copy / "source" / assignment / "00-start-here.ipynb")
                        .read_text(encoding="utf-8"))
    answers = {
        c["metadata"]["nbgrader"]["grade_id"]:
            [line for line in c["source"] if "SOLUTION" not in line]
        for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
    }
    copy_path = course_copy / "assignments" / assignment / "00-start-here.ipynb"
    learner = json.loads(copy_path.read_text(encoding="utf-8"))
    for cell in learner["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    copy_path.write_text(json.dumps(learner), encoding="utf-8")

    checked = run("check", assignment, root=course_copy)
    assert checked.returncode == 0, checked.stderr
    total = re.search(r"Total \(auto-graded\): (\S+) / (\S+)", checked.stdout)
    assert total and total.group(1) == total.group(2)
    progress = json.loads((course_copy / "assignments" / "progress.json").read_text())
    assert progress[assignment]["score"] == progress[assignment]["max_score"] > 0
    feedback = course_copy / "assignments" / assignment / "00-start-here.feedback.html"
    assert feedback.is_file()
    assert "BEGIN HIDDEN TESTS" not in feedback.read_text(encoding="utf-8")
    # what the learner sees in the terminal says how their code ran and shows no hidden test
    from course.notebooks import HIDDEN_MARKERS, find_leaks, read_notebook, secret_lines

    secrets = secret_lines(read_notebook(course_copy / "source" / assignment
                                         / "00-start-here.ipynb"), include_solutions=False)
    for shown in (blank, checked):
        assert find_leaks(secrets, shown.stdout + shown.stderr, HIDDEN_MARKERS) == []
        assert "kernels are" in shown.stdout and "sandboxed" in shown.stdout


def _subcommands() -> dict[str, object]:
    from course.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_subcommand_help_describes_its_arguments_and_gives_an_example(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: course {command}")
    parser = _subcommands()[command]
    for action in parser._actions:  # every argument says what it is
        assert action.help, f"course {command}: {action.dest} has no description"
    examples = re.search(r"^examples?:\s*(.*)", text, re.MULTILINE | re.IGNORECASE | re.DOTALL)
    assert examples, f"course {command} --help gives no example"
    assert f"course {command}" in examples.group(1)  # a real command line, as typed
    # the example's line breaks are kept (not re-wrapped into one paragraph)
    if "\n  course" in parser.epilog:
        assert "\n  course" in text


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"course {version('mesotherapy-course')}"
    assert re.fullmatch(r"course \d+\.\d+\.\d+\S*", done.stdout.strip())


def test_a_failed_grading_step_in_check_is_one_sentence_and_keeps_its_log_out_of_reach(
        course_copy: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader's log (which may quote a hidden test) is kept for the maintainer, outside
    assignments/, and the learner reads one sentence without a traceback."""
    from course.grading import assignments

    assignment = ASSIGNMENTS[0]
    assert main(["start", assignment]) == 0
    before = {p: p.read_bytes() for p in (course_copy / "assignments").rglob("*.ipynb")}
    detail = 'Traceback (most recent call last):\n  assert answer_q0_2 == "c"  # hidden'

    def fail(*_args, **_kwargs):
        raise assignments.ToolFailure(f"autograde {assignment} for self-study", detail)

    monkeypatch.setattr(assignments, "prepare_course", fail)
    capsys.readouterr()
    assert main(["check", assignment]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "answer_q0_2" not in err
    assert f"Checking {assignment} could not finish" in err and "not changed" in err
    logs = list((course_copy / ".course" / "logs").glob(f"check-{assignment}-*.log"))
    assert len(logs) == 1 and detail in logs[0].read_text(encoding="utf-8")
    assert str(logs[0].relative_to(course_copy)) in err
    assert {p: p.read_bytes() for p in (course_copy / "assignments").rglob("*.ipynb")} == before
    assert not list((course_copy / "assignments").rglob("*.log"))
