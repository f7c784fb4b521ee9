"""Certainty-based marking on the final: hidden-test scoring, the pass on accuracy, feedback.

Fast tests: each final item's real hidden test is run as the grader runs it
(course.grading.trusted_tests, on the answers a kernel would publish) and scored by
nbgrader's own ``determine_grade``. The nbgrader round trip is in
tests/test_cbm_roundtrip.py.
"""

from __future__ import annotations

import copy
import re

import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.utils import determine_grade

from course.certainty import ACCURACY_PASS, cbm_points, certainty_name, right_points
from course.certainty_feedback import (
    CertaintyFeedback,
    cbm_items,
    certainty_block,
    learner_answers,
)
from course.completion import COMPLETED, PASSED, statuses_from_cells
from course.forms.feedback import plain_outputs
from course.grade_export import Cell
from course.grading.trusted_tests import (
    answer_names,
    answers_from_outputs,
    is_test_cell,
    probe_source,
    run_test,
    run_tests_outside_kernel,
    trusted_namespace,
)
from course.item_analysis import notebook_answers
from course.notebooks import read_notebook

from .conftest import ROOT

FINAL = "05-final-assessment"
SOURCE = ROOT / "source" / FINAL / "01-final.ipynb"
RELEASE = ROOT / "release" / FINAL / "01-final.ipynb"
# Gardner-Medwin's marks (1/2/3 right, 0/-2/-6 wrong) on a 1-point item, floor 0 (the spec)
POINTS = {(True, "low"): 1 / 3, (True, "medium"): 2 / 3, (True, "high"): 1.0,
          (True, None): 1 / 3, (False, "low"): 0.0, (False, "medium"): 0.0,
          (False, "high"): 0.0, (False, None): 0.0}


@pytest.fixture(scope="module")
def source() -> NotebookNode:
    return read_notebook(SOURCE)


@pytest.fixture(scope="module")
def keys(source: NotebookNode) -> dict[str, object]:
    return {k: v for k, v in notebook_answers(source).items() if k.startswith("answer_")}


def _wrong(key: str) -> str:
    return next(letter for letter in "abcd" if letter != key)


def _graded_cell(source: str, outputs: list) -> NotebookNode:
    cell = new_code_cell(source, metadata={"nbgrader": {
        "grade": True, "solution": False, "points": 1, "grade_id": "x", "locked": True}})
    cell.outputs = outputs
    return cell


def _score(nb: NotebookNode, check: NotebookNode, published: dict[str, object]) -> float:
    """Run one test cell as the grader does, with these answers published by the kernel."""
    namespace = trusted_namespace(nb)
    names = answer_names(check.source)
    outputs = [{"output_type": "display_data", "metadata": {}, "data": {
        "application/vnd.course.answers+json": {
            n: __import__("json").dumps(v) for n, v in published.items()}}}]
    answers = answers_from_outputs([NotebookNode(o) for o in outputs], names)
    namespace.update(answers)
    result = run_test(check.source, namespace, "test")
    score, _ = determine_grade(_graded_cell(check.source, result))
    return score


def test_every_single_best_answer_of_the_final_asks_for_certainty(source) -> None:
    specs = [c.metadata["course"]["answer"] for c in source.cells
             if c.get("metadata", {}).get("course", {}).get("answer")]
    choices = [s for s in specs if s["kind"] == "choice"]
    assert len(choices) == 28 and all(s.get("certainty") is True for s in choices)
    assert all(not s.get("certainty") for s in specs if s["kind"] != "choice")
    assert len(cbm_items(source)) == 28


@pytest.mark.parametrize(("correct", "certainty"), list(POINTS))
def test_hidden_test_gives_cbm_partial_credit(source, keys, correct, certainty) -> None:
    for item in cbm_items(source)[:3]:  # three real items, each scored by nbgrader
        check = next(c for c in source.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                     == item.check_id)
        key = str(keys[item.answer])
        published: dict[str, object] = {item.answer: key if correct else _wrong(key)}
        if certainty is not None:
            published[certainty_name(item.answer)] = certainty
        assert _score(source, check, published) == pytest.approx(
            POINTS[(correct, certainty)], abs=1e-5)


def test_an_unreadable_certainty_counts_as_low_and_an_answer_stays_required(
        source, keys) -> None:
    item = cbm_items(source)[0]
    check = next(c for c in source.cells if c.get("metadata", {}).get("nbgrader", {}).get(
        "grade_id") == item.check_id)
    right = {item.answer: str(keys[item.answer])}
    assert _score(source, check, {**right, certainty_name(item.answer): "sure!"}) == \
        pytest.approx(1 / 3, abs=1e-5)
    assert _score(source, check, {certainty_name(item.answer): "high"}) == 0


def test_the_probe_publishes_the_certainty_beside_the_answer(source) -> None:
    item = cbm_items(source)[0]
    check = next(c for c in source.cells if c.get("metadata", {}).get("nbgrader", {}).get(
        "grade_id") == item.check_id)
    names = answer_names(check.source)
    assert certainty_name(item.answer) in names and item.answer in names
    assert certainty_name(item.answer) in probe_source(names)


def test_run_test_shows_a_last_expression_as_a_kernel_does() -> None:
    assert run_test("x = 1\nx + 1", {}, "t")[-1]["data"]["text/plain"] == "2"
    assert run_test("print('hi')", {}, "t")[0]["output_type"] == "stream"
    assert all(o["output_type"] != "execute_result" for o in run_test("None", {}, "t"))
    failed = run_test("assert False, 'no'\n0.5", {}, "t")
    assert [o["output_type"] for o in failed] == ["error"]


def test_missing_certainty_of_an_earlier_item_never_leaks_into_a_later_one(source, keys
                                                                          ) -> None:
    """Tests share a namespace: a certainty not published now must be missing now."""
    nb = copy.deepcopy(source)
    first, second = cbm_items(nb)[:2]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for item, published in ((first, {first.answer: keys[first.answer],
                                     certainty_name(first.answer): "high"}),
                            (second, {second.answer: keys[second.answer]})):
        cell = cells[item.check_id]
        cell.outputs = [NotebookNode({"output_type": "display_data", "metadata": {}, "data": {
            "application/vnd.course.answers+json": {
                n: __import__("json").dumps(v) for n, v in published.items()}}})]
    probed = [type("P", (), {"index": nb.cells.index(cells[i.check_id]),
                             "source": cells[i.check_id].source,
                             "names": answer_names(cells[i.check_id].source)})()
              for i in (first, second)]
    run_tests_outside_kernel(nb, probed)
    scores = [determine_grade(cells[i.check_id])[0] for i in (first, second)]
    assert scores == [pytest.approx(1.0), pytest.approx(1 / 3, abs=1e-5)]


def test_released_stub_has_no_certainty_and_its_tests_still_run(keys) -> None:
    release = read_notebook(RELEASE)
    assert "certainty_q" not in "".join(
        c.source for c in release.cells if c.cell_type == "code" and not is_test_cell(c))
    assert "cbm_points" not in "".join(c.source for c in release.cells if is_test_cell(c))


# ---------------------------------------------------------------- the pass, on accuracy


def test_right_points_count_items_scoring_above_zero() -> None:
    assert right_points([(1 / 3, 1), (0.0, 1), (1.0, 1), (None, 1), (2 / 3, 2)]) == (4, 6)
    assert right_points([]) == (0, 0)


def test_final_passes_on_accuracy_not_on_cbm_points() -> None:
    final = next(iter(ACCURACY_PASS))
    # 24 of 32 right, all at low certainty: 8 CBM points (25%) but 75% right -> passed
    cells = {("ann", final): Cell("graded", "graded", 8.0, right=24.0),
             # 22 right at high certainty: 22 points (69%), 69% right -> not passed
             ("bob", final): Cell("graded", "graded", 22.0, right=22.0),
             ("ann", "02-substances"): Cell("graded", "graded", 5.0, right=9.0)}
    statuses = statuses_from_cells(cells, ["ann", "bob"], {final: 32.0, "02-substances": 10})
    status = {(s, m.assignment): m for s, mods in statuses.items() for m in mods}
    assert status[("ann", final)].status == PASSED
    assert status[("bob", final)].status == COMPLETED
    assert status[("ann", "02-substances")].score == 5.0  # other modules: nbgrader's score


# ---------------------------------------------------------------- feedback


def _answered(source: NotebookNode, keys, plan) -> tuple[NotebookNode, dict, dict]:
    """A learner copy answered per ``plan`` (item index -> (right, certainty)), with the
    scores the hidden tests would give."""
    nb = copy.deepcopy(source)
    items = cbm_items(nb)
    scores, points = {}, {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if is_test_cell(cell):
            scores[meta["grade_id"]], points[meta["grade_id"]] = 1.0, 1.0
    for index, item in enumerate(items):
        right, sure = plan.get(index, (True, "high"))
        key = str(keys[item.answer])
        cell = next(c for c in nb.cells if c.get("metadata", {}).get("course", {}).get(
            "answer", {}).get("name") == item.answer)
        cell.source = f'{item.answer} = "{key if right else _wrong(key)}"' + (
            f'\n{certainty_name(item.answer)} = "{sure}"' if sure else "")
        scores[item.check_id] = cbm_points(right, sure, 1)
    return nb, scores, points


def test_feedback_block_has_accuracy_cbm_calibration_and_review(source, keys) -> None:
    items = cbm_items(source)
    safety = next(i for i, item in enumerate(items) if item.lesson)
    plain = next(i for i, item in enumerate(items) if not item.lesson)
    unsure = next(i for i in range(len(items)) if i not in (safety, plain))
    nb, scores, points = _answered(source, keys, {safety: (False, "high"),
                                                  plain: (False, "high"),
                                                  unsure: (True, None)})
    html, text = certainty_block(nb, scores, points)
    answers = learner_answers(nb, items, scores)
    assert sum(not a.correct for a in answers) == 2
    assert "Accuracy: 30 of 32" in text and "passed" in text
    assert "High certainty: 25 of 27 right" in text
    assert "Low certainty: 1 of 1 right" in text
    lesson = items[safety]
    question = "Question " + lesson.answer.removeprefix("answer_q").replace("_", ".")
    assert f"{question}: answered wrongly with high certainty" in text
    plain_q = "Question " + items[plain].answer.removeprefix("answer_q").replace("_", ".")
    assert plain_q + ":" not in text  # not a safety item: no review entry
    assert f'href="../{lesson.lesson}.ipynb"' in html and "<caption>" in html
    assert re.search(r'width:\d+%', html)


def test_no_confident_error_and_no_cbm_items_cases(source, keys) -> None:
    nb, scores, points = _answered(source, keys, {})
    _, text = certainty_block(nb, scores, points)
    assert "no confident errors" in text and "Accuracy: 32 of 32" in text
    plain = copy.deepcopy(nb)
    for cell in plain.cells:
        cell.get("metadata", {}).get("course", {}).get("answer", {}).pop("certainty", None)
    assert certainty_block(plain, scores, points) is None


def test_learner_text_is_escaped_in_the_block(source, keys) -> None:
    nb, scores, points = _answered(source, keys, {})
    item = cbm_items(nb)[0]
    cell = next(c for c in nb.cells if c.get("metadata", {}).get("course", {}).get(
        "answer", {}).get("name") == item.answer)
    cell.source += '\nanswer_q5_1_1 = "<script>x</script>"'
    html, _ = certainty_block(nb, scores, points)
    assert "<script>" not in html


def test_feedback_preprocessor_puts_the_block_first(source, keys) -> None:
    nb, scores, points = _answered(source, keys, {0: (False, "medium")})
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if is_test_cell(cell):  # as nbgrader's GetGrades leaves them
            meta["score"], meta["points"] = scores[meta["grade_id"]], points[meta["grade_id"]]
    done, _ = CertaintyFeedback().preprocess(nb, {})
    assert done.cells[1].cell_type == "markdown"
    assert "Your result and how sure you were" in done.cells[1].source
    untouched, _ = CertaintyFeedback().preprocess(copy.deepcopy(read_notebook(
        ROOT / "source" / "01-principles" / "03-quiz.ipynb")), {})
    assert not any("course-certainty" in c.source for c in untouched.cells)


def test_partial_credit_reads_as_a_sentence_in_feedback() -> None:
    out = plain_outputs([{"output_type": "execute_result", "execution_count": None,
                          "metadata": {}, "data": {"text/plain": "0.666667"}}])
    assert "Points for this answer: 0.67" in out[0]["data"]["text/plain"]
    other = {"output_type": "execute_result", "data": {"text/plain": "'text'"}}
    assert plain_outputs([other]) == [other]
