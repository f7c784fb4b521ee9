"""Peer answer distributions in feedback (course/peer_answers.py; issue 22 item 3).

Pure parts on small synthetic notebooks: counting and shares, the threshold (9 learners
no, 10 yes), anonymity, blank and failed submissions, the key marked only where the
feedback names it, escaping. The slow test grades a real cohort of 00-orientation with
`course grade` (10 graded, 1 corrupted, names from a roster) and generates its feedback
with `nbgrader generate_feedback` and the course's nbgrader_config.py.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets import TraitError
from traitlets.config import Config

from course import peer_answers
from course.item_analysis import BLANK, INVALID
from course.peer_answers import (
    MIN_COHORT,
    NO_COHORT,
    ChoiceItem,
    PeerAnswers,
    choice_items,
    cohort_distributions,
    distribution_html,
    distribution_text,
    is_shown,
    key_in_feedback,
    read_cohort,
    rounded_percents,
    tally,
)

from .conftest import ROOT

ASSIGNMENT, NOTEBOOK = "01-demo", "quiz"
LABELS = ("Plain option", '<script>alert("x")</script> & <b>bold</b>', "Third", "Fourth")
RATIONALE = "Rationale. (b) is the best answer: because. (a) is not."


def _nbgrader(grade_id: str, **flags: object) -> dict:
    meta = {"grade": False, "solution": False, "locked": False, "task": False,
            "schema_version": 3, "grade_id": grade_id}
    meta.update(flags)
    return {"nbgrader": meta}


def source_notebook() -> NotebookNode:
    """An instructor notebook: one graded choice item (key b), one practice item."""
    options = [{"value": v, "label": label} for v, label in zip("abcd", LABELS, strict=True)]
    answer = new_code_cell('answer_q9_1 = None\n### BEGIN SOLUTION\nanswer_q9_1 = "b"\n'
                           "### END SOLUTION",
                           metadata={**_nbgrader("q9_1", solution=True),
                                     "course": {"answer": {"name": "answer_q9_1",
                                                           "kind": "choice", "checks": 1,
                                                           "options": options}}})
    check = new_code_cell('"""Question 9.1."""\ncheck_choice("answer_q9_1", answer_q9_1, '
                          '"abcd")', metadata=_nbgrader("q9_1_check", grade=True, points=1,
                                                        locked=True))
    practice = new_code_cell("answer_p1 = None",
                             metadata={"course": {"answer": {
                                 "name": "answer_p1", "kind": "choice", "checks": 1,
                                 "practice": True, "options": options}}})
    return new_notebook(cells=[new_markdown_cell("**Question 9.1**"), answer, check,
                               practice, new_code_cell("check(answer_p1)")])


def learner_notebook(answer_source: str, rationale: str | None = RATIONALE) -> NotebookNode:
    """An autograded copy: the learner's answer cell, the check cell with its output."""
    nb = copy.deepcopy(source_notebook())
    nb.cells[1].source = answer_source
    outputs = [new_output("stream", name="stdout", text="Format OK.\n")]
    if rationale:
        outputs.append(new_output("stream", name="stdout", text=rationale + "\n"))
    nb.cells[2].outputs = outputs
    return nb


def item() -> ChoiceItem:
    return choice_items(source_notebook())[0]


# ---------------------------------------------------------------- items and counting


def test_items_are_graded_choice_forms_with_their_key() -> None:
    items = choice_items(source_notebook())
    assert [i.answer for i in items] == ["answer_q9_1"]  # the practice item is not graded
    assert items[0].letters == ("a", "b", "c", "d")
    assert items[0].key == "b" and items[0].check_ids == ("q9_1_check",)


def test_items_of_a_real_quiz_match_the_keys_its_rationales_name() -> None:
    source = nbformat.read(ROOT / "source" / "01-principles" / "03-quiz.ipynb", as_version=4)
    items = choice_items(source)
    assert len(items) == 16
    for found in items:
        check = next(c for c in source.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") == found.check_ids[-1])
        assert f"({found.key}) is the best answer" in check.source, found.answer
    lesson = ROOT / "source" / "01-principles" / "01-what-is-mesotherapy.ipynb"
    assert choice_items(nbformat.read(lesson, as_version=4)) == []  # practice only
    evaluation = ROOT / "source" / "06-evaluation" / "01-evaluation.ipynb"
    assert choice_items(nbformat.read(evaluation, as_version=4)) == []  # ungraded


def test_counts_read_answers_as_the_hidden_tests_do_and_never_run_them() -> None:
    answers = ['answer_q9_1 = "a"', 'answer_q9_1 = "B"', 'answer_q9_1 = "(b)"',
               'answer_q9_1 = " c "', "answer_q9_1 = None", 'answer_q9_1 = ""',
               'answer_q9_1 = "z"', "answer_q9_1 = 42",
               'answer_q9_1 = __import__("os").system("touch /tmp/ran")',
               'answer_q9_1 = "a"\nanswer_q9_1 = "d"']  # the later assignment wins
    distribution = cohort_distributions([item()], [learner_notebook(a) for a in answers]
                                        )["answer_q9_1"]
    assert dict(distribution.rows) == {"a": 1, "b": 2, "c": 1, "d": 1, BLANK: 2, INVALID: 3}
    assert distribution.n == len(answers)


def test_shares_are_whole_percentages_that_add_up_to_100() -> None:
    assert rounded_percents([1, 1, 1]) == [34, 33, 33]
    assert rounded_percents([2, 1, 0, 0, 1]) == [50, 25, 0, 0, 25]
    assert rounded_percents([7, 5, 5, 3, 3]) == [30, 22, 22, 13, 13]
    assert sum(rounded_percents([3, 3, 3, 2, 1, 1])) == 100
    assert rounded_percents([0, 0]) == [0, 0]
    with pytest.raises(ValueError, match="negative"):
        rounded_percents([1, -1])


def test_tally_refuses_what_is_not_an_option() -> None:
    assert tally(item(), ["a", BLANK]).n == 2
    with pytest.raises(ValueError, match="not options"):
        tally(item(), ["e"])


def test_threshold_is_ten_learners() -> None:
    assert MIN_COHORT == 10
    assert not is_shown(tally(item(), ["a"] * 9))
    assert is_shown(tally(item(), ["a"] * 9 + [BLANK]))  # a blank answer counts


# ---------------------------------------------------------------- the block


def test_block_marks_own_answer_and_key_in_words_and_has_a_text_equivalent() -> None:
    distribution = tally(item(), ["a"] * 3 + ["b"] * 6 + [BLANK])
    text = distribution_text(item(), distribution, own="a", key="b")
    assert text.splitlines()[0] == "How the cohort answered (n = 10)"
    assert ("(a) 30% (3 of 10, your answer); (b) 60% (6 of 10, the best answer); "
            "(c) 0% (0 of 10); (d) 0% (0 of 10); not answered 10% (1 of 10).") in text
    assert "another answer" not in text  # shown only when someone gave one
    html = distribution_html(item(), distribution, own="b", key="b")
    assert "<caption" in html and "How the cohort answered (n = 10)" in html
    assert html.count('<th scope="row"') == 5 and html.count('aria-hidden="true"') == 5
    assert "(your answer, the best answer)" in html and "60%" in html
    alone = distribution_text(item(), tally(item(), ["c"] * 9 + [INVALID]), INVALID, None)
    assert "another answer (not one of the options) 10% (1 of 10, you)" in alone
    assert "best answer" not in alone


def test_block_escapes_every_text() -> None:
    html = distribution_html(item(), tally(item(), ["b"] * 10), own="b", key="b")
    assert "<script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html


def test_key_is_marked_only_where_the_feedback_names_it() -> None:
    assert key_in_feedback(["Format OK.", RATIONALE], "b")
    assert not key_in_feedback([RATIONALE], "a")  # "(a) is not." names no key
    assert not key_in_feedback(["Format OK."], "b")
    assert not key_in_feedback([RATIONALE], None)


# ---------------------------------------------------------------- the preprocessor


def synthetic_course(root: Path, answers: dict[str, str]) -> Path:
    """source/ and autograded/ of a course whose learners answered ``answers``."""
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / f"{NOTEBOOK}.ipynb")
    for student, answer in answers.items():
        folder = root / "autograded" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(learner_notebook(answer), folder / f"{NOTEBOOK}.ipynb")
    return root


def feedback(root: Path, student: str, in_gradebook: set[str],
             monkeypatch: pytest.MonkeyPatch, **traits: int) -> list[str]:
    """The texts of the distribution blocks PeerAnswers adds to one learner's feedback."""
    monkeypatch.setattr(peer_answers, "gradebook_students", lambda *_: set(in_gradebook))
    config = Config()
    config.CourseDirectory.root = str(root)
    nb = learner_notebook('answer_q9_1 = "a"')
    before = len(nb.cells[2].outputs)
    resources = {"nbgrader": {"student": student, "assignment": ASSIGNMENT,
                              "notebook": NOTEBOOK, "db_url": "sqlite:///unused.db"}}
    nb, _ = PeerAnswers(config=config, **traits).preprocess(nb, resources)
    added = nb.cells[2].outputs[before:]
    return [o.data["text/html"] + "\n" + o.data["text/plain"] for o in added]


COHORT = {f"learner{i:02d}": 'answer_q9_1 = "b"' if i % 2 else 'answer_q9_1 = "a"'
          for i in range(1, 11)}


@pytest.mark.parametrize(("graded", "shown"), [(9, False), (10, True)])
def test_preprocessor_shows_shares_from_ten_graded_learners(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graded: int, shown: bool) -> None:
    students = dict(list(COHORT.items())[:graded])
    root = synthetic_course(tmp_path, students)
    blocks = feedback(root, "learner01", set(students), monkeypatch)
    assert len(blocks) == int(shown)
    if shown:
        assert "How the cohort answered (n = 10)" in blocks[0]
        assert "(a) 50% (5 of 10, your answer)" in blocks[0]
        assert "(b) 50% (5 of 10, the best answer)" in blocks[0]


def test_failed_corrupt_and_unsubmitted_learners_are_not_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    students = {**COHORT, "blank11": "answer_q9_1 = None", "failed12": 'answer_q9_1 = "c"',
                "corrupt13": 'answer_q9_1 = "c"', "absent14": 'answer_q9_1 = "c"'}
    root = synthetic_course(tmp_path, students)
    (root / "autograded" / "corrupt13" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_text(
        '{"cells": [', encoding="utf-8")
    shutil.rmtree(root / "autograded" / "absent14")
    (root / "autograded" / f"{ASSIGNMENT}.grading-status.csv").write_text(
        "student,status,score,max_score,needs_manual_grade,detail,run\n"
        "learner01,graded,1,1,False,,t\nfailed12,failed,,,False,kernel died,t\n",
        encoding="utf-8")
    in_gradebook = set(students) - {"failed12"} | {"nosuch15"}
    blocks = feedback(root, "learner01", in_gradebook | {"failed12"}, monkeypatch)
    assert len(blocks) == 1
    assert "n = 11" in blocks[0] and "not answered 9% (1 of 11)" in blocks[0]
    assert "(c) 0% (0 of 11)" in blocks[0]
    for student in ("failed12", "corrupt13", "absent14", "nosuch15"):  # never before graded
        assert feedback(root, student, in_gradebook | {"failed12"}, monkeypatch) == []
    extra = {**students, "late16": 'answer_q9_1 = "c"'}
    assert feedback(synthetic_course(tmp_path / "other", extra), "late16", set(students),
                    monkeypatch) == []  # autograded, but not in the gradebook


def test_no_student_id_or_name_appears_in_any_output(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [f"élodie_{i}_secret" for i in range(12)]
    root = synthetic_course(tmp_path, {sid: f'answer_q9_1 = "{"abcd"[i % 4]}"'
                                  for i, sid in enumerate(ids)})
    for student in ids:
        blocks = feedback(root, student, set(ids), monkeypatch)
        assert len(blocks) == 1
        for sid in ids:
            assert sid not in blocks[0] and "secret" not in blocks[0]


def test_threshold_is_configurable_but_never_below_five(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    students = dict(list(COHORT.items())[:5])
    root = synthetic_course(tmp_path, students)
    assert len(feedback(root, "learner01", set(students), monkeypatch, min_cohort=5)) == 1
    assert feedback(root, "learner01", set(students), monkeypatch, min_cohort=6) == []
    with pytest.raises(TraitError, match=r"at least 5, not 4: .* points at a person"):
        PeerAnswers(min_cohort=4)


def test_an_unreadable_cohort_leaves_the_feedback_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = synthetic_course(tmp_path, COHORT)
    (root / "autograded" / f"{ASSIGNMENT}.grading-status.csv").write_bytes(b"\xff\xfe\x00")
    assert feedback(root, "learner01", set(COHORT), monkeypatch) == []
    (root / "autograded" / f"{ASSIGNMENT}.grading-status.csv").unlink()
    (root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").unlink()
    assert feedback(root, "learner01", set(COHORT), monkeypatch) == []


def test_a_self_study_check_never_opens_the_gradebook(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> set[str]:
        raise AssertionError("the gradebook was read for a single learner")

    from nbgrader.coursedir import CourseDirectory

    root = synthetic_course(tmp_path, {"self-study": 'answer_q9_1 = "a"'})
    monkeypatch.setattr(peer_answers, "gradebook_students", refuse)
    config = Config()
    config.CourseDirectory.root = str(root)
    cohort = read_cohort(CourseDirectory(config=config), "sqlite:///unused.db", ASSIGNMENT,
                         NOTEBOOK, MIN_COHORT)
    assert cohort == NO_COHORT


def test_key_is_not_marked_when_the_feedback_does_not_show_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = synthetic_course(tmp_path, COHORT)
    monkeypatch.setattr(peer_answers, "gradebook_students", lambda *_: set(COHORT))
    config = Config()
    config.CourseDirectory.root = str(root)
    nb = learner_notebook('answer_q9_1 = "b"', rationale=None)
    resources = {"nbgrader": {"student": "learner01", "assignment": ASSIGNMENT,
                              "notebook": NOTEBOOK, "db_url": "sqlite:///unused.db"}}
    nb, _ = PeerAnswers(config=config).preprocess(nb, resources)
    block = nb.cells[2].outputs[-1].data["text/plain"]
    assert "(b) 50% (5 of 10, your answer)" in block and "best answer" not in block


# ---------------------------------------------------------------- a real feedback run


@pytest.mark.slow
def test_feedback_of_a_graded_cohort_shows_shares_without_names(tmp_path: Path) -> None:
    from benchmarks.grade_throughput import build_cohort, make_course, tool_env
    from course.grading.assignments import nbgrader_api
    from course.notebooks import HIDDEN_MARKERS, find_leaks, html_to_text, secret_lines

    from .conftest import unsandboxed_args

    assignment, notebook = "00-orientation", "00-start-here"
    course = make_course(tmp_path / "course", assignment)
    assert nbgrader_api(course).generate_assignment(assignment, force=True,
                                                    create=True)["success"]
    kinds = ["correct"] * 5 + ["wrong"] * 3 + ["blank"] * 2 + ["corrupted"]
    students = build_cohort(ROOT, assignment, kinds, course / "submitted")
    names = {sid: (f"Firstname{sid.upper()}", f"Surname{sid[::-1].upper()}")
             for sid in students}
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\n" + "".join(
        f"{sid},{first},{last},{sid}@example.org\n" for sid, (first, last) in names.items()),
        encoding="utf-8")
    env = tool_env(COURSE_ROOT=str(course))
    graded = subprocess.run([sys.executable, "-m", "course.cli", "grade", assignment,
                             "--roster", str(roster), *unsandboxed_args()],
                            capture_output=True, text=True, timeout=300, env=env)
    assert "10 graded, 1 failed" in graded.stdout, graded.stdout + graded.stderr

    def generate(*args: str) -> None:
        result = subprocess.run([str(Path(sys.executable).parent / "nbgrader"),
                                 "generate_feedback", assignment, "--force", *args],
                                cwd=course, capture_output=True, text=True, timeout=300,
                                env=env)
        assert result.returncode == 0, result.stderr[-2000:]

    generate()
    pages = {sid: course / "feedback" / sid / assignment / f"{notebook}.html"
             for sid in students}
    corrupted = next(sid for sid, kind in students.items() if kind == "corrupted")
    assert not pages.pop(corrupted).exists()
    wrong = next(sid for sid, kind in students.items() if kind == "wrong")
    text = html_to_text(pages[wrong].read_text(encoding="utf-8"))
    assert "How the cohort answered (n = 10)" in text
    assert ("(a) 30% (3 of 10, your answer); (b) 50% (5 of 10, the best answer); "
            "(c) 0% (0 of 10); (d) 0% (0 of 10); not answered 20% (2 of 10).") in text
    secrets = secret_lines(nbformat.read(ROOT / "source" / assignment / f"{notebook}.ipynb",
                                         as_version=4), include_solutions=False)
    for sid, page in pages.items():
        html = page.read_text(encoding="utf-8")
        assert html.count('class="course-peer-answers"') == 1, sid
        assert find_leaks(secrets, html_to_text(html), HIDDEN_MARKERS) == []
        for other, (first, last) in names.items():
            assert first not in html and last not in html
            if other != sid:
                assert other not in html, (sid, other)
        block = re.search(r'<div class="course-peer-answers".*?</div>', html, re.S)
        assert block and sid not in block.group(0)
    generate("--student", wrong, "--PeerAnswers.min_cohort=11")
    assert "course-peer-answers" not in pages[wrong].read_text(encoding="utf-8")
