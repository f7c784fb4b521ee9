"""`course report`: grades with a status column, item analysis, option counts and figures.

One small cohort of 01-principles is graded once for the module with the real grading path
(`course.grading.cohort.grade_cohort`): seven graded students whose answers are constructed so
that one item is right for everybody, one discriminates positively and one negatively;
plus a fully blank submission (graded 0, flagged and left out of the item analysis),
a corrupted file, a rostered student who submitted nothing, a student whose
autograded folder is gone and one with a gradebook submission that was never graded. The
expected values below come from that construction, not from the report's code.
"""

from __future__ import annotations

import ast
import csv
import re
import shutil
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course.cli import main
from course.grading.assignments import nbgrader_api
from course.grading.cohort import grade_cohort
from course.report import (
    BLANK,
    DECISION,
    FAILED,
    GRADED,
    INVALID,
    LETTER,
    MISSING,
    NEEDS_MANUAL,
    UNREADABLE,
    GradeItem,
    Question,
    Report,
    StudentRow,
    Submission,
    assignment_notebooks,
    build_report,
    cell_answers,
    check_cell_texts,
    choice,
    corrected_item_total,
    difficulty,
    item_flags,
    item_map_alt_text,
    item_statistics,
    letter_options,
    markdown_table,
    option_counts,
    ordered_items,
    pearson,
    questions,
    reliability_warning,
    score_bins,
    score_distribution_alt_text,
    solution_keys,
    student_status,
    upper_lower_index,
    write_report,
)

from .conftest import ROOT, unsandboxed_args

ASSIGNMENT = "01-principles"
NOTEBOOK = "03-quiz"
INSTRUCTOR_NOTEBOOK = ROOT / "course" / "instructor" / "item-analysis.ipynb"
SOLUTION = re.compile(r"(?m)^answer_q1_3_(\d+) = (.+)$")
# items 4..N (N = the quiz's last item): a student answers item k correctly when k <= LAST[student]
LAST = {"ann": 18, "ben": 16, "cat": 14, "dan": 11, "eve": 8, "fay": 6, "gus": 3}
GRADED_STUDENTS = sorted(LAST)
POSITIVE = {"ann", "ben", "cat"}  # right on q1_3_2 (the strongest three)
NEGATIVE = {"eve", "fay"}  # right on q1_3_3 (two of the weakest)
BLANK_STUDENT = "lea"  # submits the released notebook untouched: graded 0, flagged


# ---------------------------------------------------------------- the constructed cohort


def source_keys() -> dict[int, object]:
    """Question number -> the instructor's answer, read from the source notebook."""
    nb = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return {int(k): ast.literal_eval(v) for k, v in SOLUTION.findall(text)}


def wrong(value: object) -> object:
    if isinstance(value, str):
        return "abcd"[("abcd".index(value) + 1) % 4]
    return value + 1


def design(keys: dict[int, object]) -> dict[str, dict[int, str | None]]:
    """Student -> question number -> the source code of the answer (None: left blank)."""
    answers: dict[str, dict[int, str | None]] = {}
    for student, last in LAST.items():
        mine: dict[int, str | None] = {1: repr(keys[1])}
        mine[2] = repr(keys[2]) if student in POSITIVE else None
        mine[3] = repr(keys[3]) if student in NEGATIVE else None
        for k in range(4, len(keys) + 1):
            mine[k] = repr(keys[k] if k <= last else wrong(keys[k]))
        answers[student] = mine
    answers["ann"][1] = repr(f" {str(keys[1]).upper()} ")  # normalised by strip().lower()
    answers["dan"][2], answers["eve"][2], answers["fay"][2] = '"a"', '"b"', '"c"'
    answers["ann"][3], answers["ben"][3], answers["cat"][3] = '"b"', '"b"', '"c"'
    answers["dan"][3] = '"e"'  # not an option: invalid, scores 0
    answers["gus"] = {1: repr(keys[1]), **dict.fromkeys(range(2, len(keys) + 1))}  # blank but one
    return answers


def right(student: str, k: int, keys: dict[int, object]) -> int:
    if student == "gus":
        return int(k == 1)
    if k == 1:
        return 1
    if k == 2:
        return int(student in POSITIVE)
    if k == 3:
        return int(student in NEGATIVE)
    return int(k <= LAST[student])


def quiz_submission(answers: dict[int, str | None]) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        number = re.match(r"q1_3_(\d+)_", meta.get("grade_id", ""))
        if meta.get("solution") and number and answers.get(int(number.group(1))):
            k = int(number.group(1))
            cell.source = f"answer_q1_3_{k} = {answers[k]}"
    return nb


@dataclass
class Cohort:
    course: Path
    report: Report
    keys: dict[int, object]
    answers: dict[str, dict[int, str | None]]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    course = tmp_path_factory.mktemp("report-course")
    for name in ("source", "release"):
        shutil.copytree(ROOT / name, course / name)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    generated = nbgrader_api(course).generate_assignment(ASSIGNMENT, force=True, create=True)
    assert generated["success"], generated.get("error")

    keys = source_keys()
    answers = design(keys)
    submitted = course / "submitted"
    everyone = {**answers, "jay": {k: repr(v) for k, v in keys.items()}, BLANK_STUDENT: {}}
    for student, mine in everyone.items():
        folder = submitted / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(quiz_submission(mine), folder / f"{NOTEBOOK}.ipynb")
    broken = submitted / "hal" / ASSIGNMENT
    broken.mkdir(parents=True)
    text = nbformat.writes(quiz_submission(answers["ann"]))
    (broken / f"{NOTEBOOK}.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    roster = course / "roster.csv"
    names = [*answers, "hal", "ivy", "jay", "kim", BLANK_STUDENT]
    roster.write_text("id,first_name,last_name,email\n" + "".join(
        f"{s},{s.capitalize()},{s.upper()}son,{s}@example.org\n" for s in names),
        encoding="utf-8")

    graded = grade_cohort(course, ASSIGNMENT, workers=2, roster=roster,
                          allow_unsandboxed=bool(unsandboxed_args()))
    assert [o.student for o in graded.failed] == ["hal"], [(o.student, o.detail)
                                                           for o in graded.outcomes]
    shutil.rmtree(course / "autograded" / "jay" / ASSIGNMENT)  # grades stay in the gradebook
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "mesotherapy-practitioner") as gb:
        gb.add_submission(ASSIGNMENT, "kim")  # a row nobody autograded
    return Cohort(course, build_report(course, ASSIGNMENT), keys, answers)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def written(cohort: Cohort, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("report-output")
    write_report(cohort.report, output)
    return output


# ---------------------------------------------------------------- grades.csv


@pytest.mark.slow
def test_status_column_never_turns_a_failure_into_a_zero(cohort: Cohort, written: Path) -> None:
    rows = {row["student_id"]: row for row in read_csv(written / "grades.csv")}
    assert set(rows) == {*GRADED_STUDENTS, "hal", "ivy", "jay", "kim", BLANK_STUDENT}
    for student, why in (("hal", "failed: not a valid notebook"),
                         ("ivy", "missing: no submission"),
                         ("jay", "failed: no autograded notebooks"),
                         ("kim", "failed: the gradebook submission has no grades")):
        assert rows[student]["status"].startswith(why), rows[student]
        assert rows[student]["score"] == rows[student]["percent"] == "", rows[student]
        assert rows[student]["max_score"] == str(len(cohort.keys))
        assert not any(v for c, v in rows[student].items() if c.startswith("q1_3_")), student
    for student in GRADED_STUDENTS:
        expected = sum(right(student, k, cohort.keys) for k in range(1, len(cohort.keys) + 1))
        assert rows[student]["status"] == "graded"
        assert float(rows[student]["score"]) == expected
        assert float(rows[student]["percent"]) == pytest.approx(100 * expected / len(cohort.keys),
                                                                  abs=0.05)
        assert rows[student]["late_penalty"] == "0"
    assert rows["gus"]["score"] == "1"  # a real low score stays a score
    assert rows["gus"]["item_analysis"] == ""  # one answer given: analysed
    blank = rows[BLANK_STUDENT]
    assert (blank["status"], blank["score"], blank["item_analysis"]) == \
        ("graded", "0", "left out: blank submission")
    assert all(rows[s]["item_analysis"] == "" for s in GRADED_STUDENTS)
    assert (rows["ann"]["first_name"], rows["ann"]["last_name"]) == ("Ann", "ANNson")
    report = cohort.report
    assert (report.count(GRADED), report.count(FAILED), report.count(MISSING),
            report.count(NEEDS_MANUAL)) == (8, 3, 1, 0)
    assert report.excluded == ((BLANK_STUDENT, "blank submission"),)


@pytest.mark.slow
def test_per_question_columns_follow_the_notebook_and_match_the_gradebook(
        cohort: Cohort, written: Path) -> None:
    from nbgrader.api import Gradebook

    source = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("grade")]
    with (written / "grades.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["student_id", "last_name", "first_name", "status", "score", "max_score",
                      "percent", *grade_ids, "late_penalty", "item_analysis"]
    rows = {row["student_id"]: row for row in read_csv(written / "grades.csv")}
    with Gradebook(f"sqlite:///{cohort.course / 'gradebook.db'}",
                   "mesotherapy-practitioner") as gb:
        for student in GRADED_STUDENTS:
            for grade_id in grade_ids:
                grade = gb.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, student)
                assert float(rows[student][grade_id]) == grade.score, (student, grade_id)
    k = {gid: int(re.match(r"q1_3_(\d+)_", gid).group(1)) for gid in grade_ids}
    for student in GRADED_STUDENTS:
        assert [float(rows[student][g]) for g in grade_ids] == \
            [right(student, k[g], cohort.keys) for g in grade_ids]


# ---------------------------------------------------------------- items.csv


def _matrix(keys: dict[int, object]) -> list[list[int]]:
    return [[right(s, k, keys) for k in range(1, len(keys) + 1)] for s in GRADED_STUDENTS]


@pytest.mark.slow
def test_item_statistics_are_as_constructed(cohort: Cohort, written: Path) -> None:
    stats = {s.item.grade_id: s for s in cohort.report.stats}
    assert len(stats) == len(cohort.keys)
    assert {s.n for s in stats.values()} == {7}  # failed, missing and blank out
    everybody, positive, negative = (stats[g] for g in ("q1_3_1_origin_check",
                                                        "q1_3_2_motto_check",
                                                        "q1_3_3_lit_term_check"))
    assert everybody.difficulty == 1.0 and everybody.discrimination is None
    assert {"no spread", "very easy"} <= set(everybody.flags)

    matrix = _matrix(cohort.keys)
    for item, k in ((positive, 2), (negative, 3)):
        column = [row[k - 1] for row in matrix]
        rest = [sum(row) - row[k - 1] for row in matrix]
        assert item.discrimination == pytest.approx(statistics.correlation(column, rest))
        assert item.difficulty == pytest.approx(sum(column) / 7)
    assert positive.discrimination > 0.5 and "negative discrimination" not in positive.flags
    assert negative.discrimination < 0 and "negative discrimination" in negative.flags
    assert "check the key" in "; ".join(negative.reasons)
    # upper-lower groups of 2 (27% of 7): ann, ben on top; fay, gus at the bottom
    assert positive.upper_lower == pytest.approx(1.0)
    assert negative.upper_lower == pytest.approx(-0.5)

    rows = {row["item"]: row for row in read_csv(written / "items.csv")}
    assert rows["q1_3_1_origin_check"]["discrimination"] == ""
    assert float(rows["q1_3_1_origin_check"]["difficulty"]) == 1.0
    assert "negative discrimination" in rows["q1_3_3_lit_term_check"]["flags"]
    assert rows["q1_3_2_motto_check"]["answer"] == "answer_q1_3_2"


@pytest.mark.slow
def test_option_counts_match_what_was_submitted(cohort: Cohort, written: Path) -> None:
    rows = read_csv(written / "options.csv")

    def counts(answer: str) -> dict[str, int]:
        return {r["option"]: int(r["count"]) for r in rows if r["answer"] == answer}

    for k, key in cohort.keys.items():
        if not isinstance(key, str):
            assert not counts(f"answer_q1_3_{k}")  # calculations have no options
            continue
        expected = Counter({"a": 0, "b": 0, "c": 0, "d": 0, BLANK: 0, INVALID: 0})
        for student in GRADED_STUDENTS:  # jay's autograded copy is gone: not analysed
            given = cohort.answers[student][k]
            text = ast.literal_eval(given).strip().lower() if given else ""
            expected[text if text in ("a", "b", "c", "d") else INVALID if text else BLANK] += 1
        assert counts(f"answer_q1_3_{k}") == dict(expected), k
        keyed = [r["option"] for r in rows if r["answer"] == f"answer_q1_3_{k}" and r["key"]]
        assert keyed == [key]
    assert counts("answer_q1_3_1")["b"] == 7  # " B " was read as b
    assert counts("answer_q1_3_3")[INVALID] == 1 and counts("answer_q1_3_3")[BLANK] == 1
    unused = next(r for r in rows if r["answer"] == "answer_q1_3_3" and r["option"] == "d")
    assert unused["count"] == "0" and "nobody" in unused["note"]


# ---------------------------------------------------------------- figures and files


@pytest.mark.slow
def test_figures_and_summary_are_written_with_text_equivalents(cohort: Cohort,
                                                               written: Path) -> None:
    for name in ("score-distribution.png", "item-map.png"):
        data = (written / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000, name
    histogram = score_distribution_alt_text(cohort.report)
    assert "8 graded student(s)" in histogram
    assert "3 failed, 1 missing" in histogram and "not counted as zeros" in histogram
    item_map = item_map_alt_text(cohort.report)
    assert item_map.count("\n- ") == len(cohort.keys)
    assert "q1_3_3_lit_term: difficulty 0.29, discrimination -" in item_map
    markdown = (written / "report.md").read_text(encoding="utf-8")
    assert "](score-distribution.png)" in markdown and "](item-map.png)" in markdown
    assert histogram in markdown and "**q1_3_3_lit_term_check**" in markdown


# ---------------------------------------------------------------- command line


def _exit_code(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_info:
        return int(exit_info.code)


@pytest.mark.slow
def test_cli_writes_the_report_and_exit_codes(cohort: Cohort, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COURSE_ROOT", str(cohort.course))
    assert _exit_code(["report", ASSIGNMENT]) == 0
    out = capsys.readouterr().out
    assert "8 graded, 3 failed, 1 missing" in out
    assert f"{BLANK_STUDENT} (blank submission)" in out
    folder = cohort.course / "reports" / ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["grades.csv", "items.csv", "options.csv", "score-distribution.png", "item-map.png",
         "report.md"])
    assert _exit_code(["report", "02-substances"]) == 1  # released, never generated/graded
    assert "02-substances has no rows in the gradebook" in capsys.readouterr().err
    a_file = tmp_path / "taken"
    a_file.write_text("x", encoding="utf-8")
    for args in (["report"], ["report", "99-nonexistent"], ["report", ASSIGNMENT, "--bogus"],
                 ["report", ASSIGNMENT, "--output", str(a_file)]):
        assert _exit_code(args) == 2, args
        assert "usage: course" in capsys.readouterr().err


def test_cli_without_a_gradebook_exits_1(course_copy: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", ASSIGNMENT]) == 1
    assert "there is no gradebook" in capsys.readouterr().err
    assert not (course_copy / "gradebook.db").exists()  # reading never creates one


# ---------------------------------------------------------------- instructor notebook


def test_instructor_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(INSTRUCTOR_NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in nb.cells)
    for words in ("difficulty", "discrimination", "key", "wording", "distractor"):
        assert words in text.lower()


@pytest.mark.slow
def test_instructor_notebook_runs_against_the_cohort(cohort: Cohort,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("COURSE_ROOT", str(cohort.course))
    nb = nbformat.read(INSTRUCTOR_NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", coalesce_streams=True,
                   resources={"metadata": {"path": str(cohort.course)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     + str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2
    assert "8 graded, 3 failed, 1 missing" in text
    assert score_distribution_alt_text(cohort.report) in text
    assert "q1_3_3_lit_term_check" in text and "negative discrimination" in text


# ---------------------------------------------------------------- pure parts


def test_pearson_and_corrected_item_total_match_an_independent_computation() -> None:
    xs, ys = [1, 0, 1, 0, 1], [4, 1, 3, 2, 2]
    assert pearson(xs, ys) == pytest.approx(statistics.correlation(xs, ys))
    # by hand: means 0.6 and 2.4; sxy = 1.8, sxx = 1.2, syy = 5.2
    assert pearson(xs, ys) == pytest.approx(1.8 / (1.2 * 5.2) ** 0.5)
    matrix = [[1, 1, 1, 0], [1, 0, 1, 1], [0, 1, 0, 0], [0, 0, 0, 1], [1, 1, 0, 0]]
    for j in range(4):
        item = [row[j] for row in matrix]
        rest = [sum(row) - row[j] for row in matrix]
        assert corrected_item_total(matrix, j) == pytest.approx(
            statistics.correlation(item, rest))
    assert pearson([1, 1, 1], [1, 2, 3]) is None and pearson([1], [2]) is None
    with pytest.raises(ValueError, match="same length"):
        pearson([1, 2], [1])


def test_difficulty_upper_lower_and_flags_on_small_matrices() -> None:
    assert difficulty([2, 1, 0, 2], 2) == pytest.approx(5 / 8)
    with pytest.raises(ValueError, match="max_score"):
        difficulty([1], 0)
    # totals 3, 2, 2, 1, 0 -> groups of floor(0.27*5 + 0.5) = 1: row 0 on top, row 4 below
    matrix = [[1, 1, 1], [0, 1, 1], [1, 0, 1], [0, 0, 1], [0, 0, 0]]
    assert upper_lower_index(matrix, [1, 1, 1], 0) == 1.0
    assert upper_lower_index(matrix, [1, 1, 1], 2) == 1.0
    assert upper_lower_index([[1]], [1], 0) is None

    items = [GradeItem("nb", f"i{j}", 1, True) for j in range(3)]
    same = [[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 0, 1], [1, 1, 0]]
    stats = item_statistics(items, same)
    assert stats[0].difficulty == 1.0 and stats[0].discrimination is None
    assert "no spread" in stats[0].flags
    assert item_flags(0.5, -0.3, True, True)[0][0] == "negative discrimination"
    assert item_flags(0.5, 0.1, True, True)[0][0] == "low discrimination"
    assert item_flags(0.5, 0.45, True, True) == []
    assert [f for f, _ in item_flags(0.95, 0.45, True, True)] == ["very easy"]
    assert [f for f, _ in item_flags(0.1, 0.45, True, True)] == ["very hard"]
    assert "unreliable" in (reliability_warning(4) or "") and reliability_warning(5) is None


def test_answers_are_parsed_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    answers = cell_answers(
        f'answer_a = " C "\nanswer_b = __import__("os").system("touch {marker}")\n'
        'answer_c = {"decision": "Proceed with precautions", "reasons": []}\n'
        "answer_d: str = None\nanswer_a = answer_a.strip()")
    assert not marker.exists()
    assert answers["answer_b"] is UNREADABLE and answers["answer_a"] is UNREADABLE
    assert answers["answer_c"]["decision"] == "Proceed with precautions"
    assert answers["answer_d"] is None
    assert cell_answers('answer_e = "b"\nif True\n') == {"answer_e": UNREADABLE}
    assert cell_answers('raise NotImplementedError("Write your answer")') == {}

    letters = ("a", "b", "c", "d")
    assert [choice(v, LETTER, letters) for v in (" B ", "", None, "e", 2, UNREADABLE)] == \
        ["b", BLANK, BLANK, INVALID, INVALID, INVALID]
    decisions = ("proceed", "proceed_with_precautions", "defer", "refer", "decline")
    assert choice(answers["answer_c"], DECISION, decisions) == "proceed_with_precautions"
    assert choice({"decision": ""}, DECISION, decisions) == BLANK
    assert choice("proceed", DECISION, decisions) == INVALID
    assert letter_options('assert x.strip().lower() in ("a", "b", "c"), "msg"') == \
        ("a", "b", "c")
    assert letter_options("assert abs(x - 2.5) <= 0.01") is None


def test_option_counts_mark_the_key_and_unused_distractors() -> None:
    question = Question("answer_q", LETTER, ("a", "b", "c", "d"), "b", ("q_check",))
    counts = {o.option: o for o in option_counts(question, ["b", "b", "a", BLANK, INVALID])}
    assert [counts[o].count for o in ("a", "b", "c", "d", BLANK, INVALID)] == [1, 2, 0, 0, 1, 1]
    assert counts["b"].key and not counts["a"].key and counts["b"].share == pytest.approx(0.4)
    assert "nobody" in counts["c"].note
    ahead = {o.option: o for o in option_counts(question, ["a", "a", "b"])}
    assert "more often than the key" in ahead["a"].note


def test_status_rules_for_each_kind_of_student() -> None:
    auto = ["nb/q1_check", "nb/q2_check"]

    def submission(scores: dict, manual: bool = False, any_score: bool = True) -> Submission:
        return Submission("s", scores, any_score, manual, 1.0, 0.0)

    full = submission({"nb/q1_check": 1.0, "nb/q2_check": 0.0})
    assert student_status(full, None, auto, None) == (GRADED, GRADED)
    assert student_status(None, None, auto, None)[0] == MISSING
    failed_row = {"status": "failed", "detail": "kernel died (03-quiz.ipynb)"}
    assert student_status(full, failed_row, auto, None) == \
        (FAILED, "failed: kernel died (03-quiz.ipynb)")
    assert student_status(full, {"status": "graded"}, auto, "no autograded notebooks")[1] == \
        "failed: no autograded notebooks"
    empty = submission(dict.fromkeys(auto), any_score=False)
    assert "no grades" in student_status(empty, None, auto, None)[1]
    partial = submission({"nb/q1_check": 1.0, "nb/q2_check": None})
    assert "q2_check" in student_status(partial, None, auto, None)[1]
    waiting = submission({"nb/q1_check": 1.0, "nb/q2_check": 0.0, "nb/essay": None}, True)
    assert student_status(waiting, None, auto, None) == (NEEDS_MANUAL, NEEDS_MANUAL)


def test_score_bins_and_markdown_table() -> None:
    assert score_bins([0, 9.9, 10, 55, 100, 90]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    with pytest.raises(ValueError, match="percent"):
        score_bins([101])
    table = markdown_table((["a", "b"], [["1", "x|y"]]))
    assert table.splitlines() == ["| a | b |", "| --- | --- |", "| 1 | x\\|y |"]


def test_roster_names_are_escaped_in_markdown_and_neutralised_in_csv(tmp_path: Path) -> None:
    """Issue 20: a roster name reached the item-analysis notebook as live Markdown/HTML and
    grades.csv as a formula."""
    from course.report import write_csv

    evil = ['<img src=x onerror="alert(1)">', "[click](javascript:alert(1))",
            "=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)", "+1+1", "-2+3", "\tx", "**b** $x$"]
    text = markdown_table((["student", "score"], [[name, "-1.5"] for name in evil]))
    assert "<img" not in text and "](" not in text and "**b**" not in text
    assert "&lt;img" in text and "\\[click\\]\\(javascript" in text and "\\$x\\$" in text
    assert "| -1.5 |" in text  # numbers stay readable
    path = write_csv((["student", "penalty"], [[name, "-1.5"] for name in evil]),
                     tmp_path / "g.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    for (cell, penalty), name in zip(rows, evil, strict=True):
        assert penalty == "-1.5"
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell.lstrip("'") == name



def test_case_items_count_decisions_and_leave_tutor_items_out() -> None:
    from course.risk import DECISIONS

    notebooks, has_keys = assignment_notebooks(ROOT, "04-case-studies")
    assert has_keys
    cells = [(name, c) for name, nb in notebooks.items() for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade")]
    items = ordered_items([GradeItem(name, c.metadata.nbgrader.grade_id,
                                     c.metadata.nbgrader.points,
                                     c.cell_type == "code" and not c.metadata.nbgrader.solution)
                           for name, c in reversed(cells)], notebooks)
    assert [i.grade_id for i in items] == [c.metadata.nbgrader.grade_id for _, c in cells]
    text = "\n".join(c.source for nb in notebooks.values() for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution"))
    expected = dict(re.findall(r'(answer_q4_1_\d+) = \{"decision": "(\w+)"', text))
    asked = questions(items, check_cell_texts(notebooks), solution_keys(notebooks), DECISIONS)
    assert {q.answer: q.key for q in asked} == expected and len(expected) >= 4
    assert {q.kind for q in asked} == {DECISION}
    justification = [i for i in items if i.grade_id.endswith("_justification")]
    assert justification and not any(i.auto for i in justification)


def test_a_report_without_graded_students_still_writes_every_file(tmp_path: Path) -> None:
    failed = StudentRow("amy", "", "", FAILED, "failed: kernel died", None, 4.0, None, {})
    report = Report("99-x", 4.0, (GradeItem("nb", "q_check", 4.0, True),), (failed,), (), (),
                    ("No graded student yet: there is no item analysis.",))
    written = write_report(report, tmp_path / "out")
    assert [p.name for p in written] == ["grades.csv", "items.csv", "options.csv",
                                         "score-distribution.png", "item-map.png", "report.md"]
    assert all(p.stat().st_size > 0 for p in written)
    (row,) = read_csv(tmp_path / "out" / "grades.csv")
    assert (row["status"], row["score"], row["percent"], row["q_check"]) == \
        ("failed: kernel died", "", "", "")
    assert "1 failed" in score_distribution_alt_text(report)


def test_items_at_one_place_share_one_short_label() -> None:
    from types import SimpleNamespace

    from course.report_figures import MAX_LABELS_PER_SPOT, _label_groups

    def item(label: str, p: float, r: float, flags: tuple = ()) -> SimpleNamespace:
        return SimpleNamespace(item=SimpleNamespace(label=label), difficulty=p,
                               discrimination=r, flags=flags)

    same = [item(f"q{n}", 0.5, 0.9) for n in range(MAX_LABELS_PER_SPOT + 2)]
    labels = _label_groups([*same, item("odd", 0.2, -0.1, ("negative",))])
    assert len(labels) == 2
    crowded = labels[0][2].splitlines()
    assert crowded == ["q0", "q1", "q2", "+2 more"]
    assert labels[1][2] == "odd (!)" and labels[1][1] == -0.1


# ---------------------------------------------------------------- blank submissions (#21)


def test_blank_and_all_zero_submissions_are_flagged() -> None:
    from course.item_analysis import ALL_ZERO_SUBMISSION, BLANK_SUBMISSION, submission_flag

    asked = ["answer_a", "answer_b", "answer_c"]
    none_given = {"answer_a": None, "answer_b": "  ", "answer_c": {"decision": None}}
    assert submission_flag([0, 0, 0], none_given, asked) == BLANK_SUBMISSION
    assert submission_flag([0, 0, 0], {}, asked) == BLANK_SUBMISSION
    # answers present but every item scored 0: an emptied or tampered notebook
    assert submission_flag([0, 0, 0], {"answer_a": "b"}, asked) == ALL_ZERO_SUBMISSION
    assert submission_flag([0, 0, 0], None, asked) == ALL_ZERO_SUBMISSION  # unreadable
    assert submission_flag([0, 1, 0], {"answer_a": "b"}, asked) is None
    assert submission_flag([0, 0], {"answer_a": "b"}, asked[:2]) is None  # too few items
    assert submission_flag([1, 0, 0], {"answer_a": "a"}, asked) is None


def test_a_blank_submission_would_inflate_discrimination() -> None:
    """Why blank submissions are left out: one all-zero row raises every item's r."""
    matrix = [[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0],
              [1, 0, 0, 1]]
    with_blank = [*matrix, [0, 0, 0, 0]]
    for j in range(4):
        honest, inflated = corrected_item_total(matrix, j), corrected_item_total(with_blank, j)
        assert honest is not None and inflated is not None
        assert inflated > honest, j


# ---------------------------------------------------------------- item-map labels (#21)


def _crowded_report(n: int) -> Report:
    from course.report import ItemStats

    stats = []
    for k in range(n):  # items packed close together, several at exactly one place
        p, r = (0.6, 0.4) if k % 4 == 0 else (0.55 + 0.01 * (k % 7), 0.35 + 0.015 * (k % 5))
        item = GradeItem("nb", f"q9_{k}_a_long_item_name_check", 1.0, True, f"answer_q9_{k}")
        stats.append(ItemStats(item, 30, p, r, 0.3, ("low discrimination",) if k % 3 else (),
                               ()))
    return Report("99-crowded", float(n), tuple(s.item for s in stats), (), tuple(stats), (),
                  ())


def _label_boxes(fig, gid: str = "item-label") -> list[tuple[float, float, float, float]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer() if not isinstance(
        fig.canvas, FigureCanvasAgg) else fig.canvas.get_renderer()
    return [tuple(t.get_window_extent(renderer).extents) for t in fig.axes[0].texts
            if t.get_gid() == gid]


@pytest.mark.parametrize("n", [6, 24])
def test_item_map_labels_do_not_overlap(n: int, tmp_path: Path) -> None:
    from course.report_figures import item_map_figure, overlaps, save_figure

    fig = item_map_figure(_crowded_report(n))
    boxes = _label_boxes(fig)
    assert len(boxes) >= min(n, 5)  # several labels, some of them at first on one spot
    clashes = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if overlaps(a, b)]
    assert not clashes, clashes
    zones = _label_boxes(fig, "zone-label")
    assert len(zones) == 3  # the zone names are not covered either
    assert not [(a, z) for a in boxes for z in zones if overlaps(a, z)]
    save_figure(fig, tmp_path / "map.png")  # still renders after the labels moved
    assert (tmp_path / "map.png").stat().st_size > 5000


def test_separate_moves_only_what_overlaps() -> None:
    from course.report_figures import overlaps, separate

    boxes = [(0, 0, 10, 10), (5, 5, 15, 15), (100, 0, 110, 10), (0, 4, 10, 14)]
    shifts = separate(boxes, step=1, gap=0)
    assert shifts[2] == 0  # far away: untouched
    moved = [(x0, y0 + d, x1, y1 + d) for (x0, y0, x1, y1), d in zip(boxes, shifts,
                                                                     strict=True)]
    assert not any(overlaps(a, b) for i, a in enumerate(moved) for b in moved[i + 1:])
    assert separate([]) == []
    with pytest.raises(ValueError, match="step"):
        separate(boxes, step=0)


# ---------------------------------------------------------------- course export (#20, #23)


@pytest.mark.slow
def test_course_export_never_writes_a_failure_as_zero(cohort: Cohort, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    monkeypatch.setenv("COURSE_ROOT", str(cohort.course))
    assert _exit_code(["export", "--format", "canvas", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{ASSIGNMENT}: 8 score(s) exported; left empty (never 0): 3 failed, 1 missing" \
        in out
    rows = {r["SIS User ID"]: r for r in read_csv(tmp_path / "canvas-grades.csv")
            if r["SIS User ID"]}
    for student in ("hal", "ivy", "jay", "kim"):
        assert rows[student][ASSIGNMENT] == "", student
    assert rows[BLANK_STUDENT][ASSIGNMENT] == "0"  # a real (blank) submission scored 0
    assert rows["ann"]["Student"] == "ANNson, Ann" and rows["ann"]["SIS Login ID"] == \
        "ann@example.org"
    statuses = {r["student_id"]: r["status"]
                for r in read_csv(tmp_path / "canvas-grades.status.csv")}
    assert set(statuses) == {"hal", "ivy", "jay", "kim"}
    assert statuses["ivy"] == "missing: no submission"
    completion = {(r["student_id"], r["assignment"]): r["status"]
                  for r in read_csv(tmp_path / "completion.csv")}
    assert completion[("ann", ASSIGNMENT)] == "completed"
    assert completion[("hal", ASSIGNMENT)] == "in progress"
    assert completion[("ivy", ASSIGNMENT)] == "not started"
    assert completion[("ann", "05-final-assessment")] == "not started"

    assert _exit_code(["export", "--output", str(tmp_path / "nb")]) == 0
    graded = {r["student_id"]: r for r in read_csv(tmp_path / "nb" / "grades.csv")}
    assert graded["hal"]["score"] == "" and graded["hal"]["status"].startswith("failed")
    assert float(graded["ann"]["score"]) == sum(right("ann", k, cohort.keys)
                                                for k in cohort.keys)

    assert _exit_code(["report", ASSIGNMENT, "--export", "moodle"]) == 0
    moodle = read_csv(cohort.course / "reports" / ASSIGNMENT / "moodle-grades.csv")
    assert {r["ID number"]: r[ASSIGNMENT] for r in moodle}["kim"] == "-"  # Moodle: no grade
    assert _exit_code(["export", "--assignment", "02-substances"]) == 1
    assert _exit_code(["export", "--format", "blackboard"]) == 2
