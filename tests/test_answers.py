"""The tolerant answer reader and the check helpers learners see (course.answers)."""

from __future__ import annotations

import pytest

from course.answers import (
    NOT_ANSWERED,
    check_case,
    check_choice,
    check_format,
    check_number,
    choice_value,
    name_error_message,
    number_value,
    number_within,
    read_choice,
    read_number,
)
from course.forms.spec import decimals_for, number_spec, stem_options


@pytest.mark.parametrize("typed", ["b", "B", "b)", "(B)", " b ", "[b]", "b.", "( b )"])
def test_every_usual_way_of_writing_a_letter_reads_as_that_letter(typed: str) -> None:
    assert choice_value(typed, "abcd") == "b"


@pytest.mark.parametrize("typed", ["e", "bb", "b c", "option b", 2, True, ["b"], {"b": 1}])
def test_anything_else_is_not_a_letter_and_says_so_in_one_sentence(typed: object) -> None:
    reading = read_choice(typed, "abcd")
    assert reading.value is None and reading.answered
    assert reading.problem.endswith(".") and "\n" not in reading.problem
    assert '"a", "b", "c" or "d"' in reading.problem


@pytest.mark.parametrize("typed, value", [
    (2.5, 2.5), (3, 3.0), ("2.5", 2.5), ("2,5", 2.5), ("2,5 mL", 2.5), ("2,5ml", 2.5),
    (" 2.5 millilitres ", 2.5), (",5", 0.5), ("-1", -1.0),
])
def test_numbers_accept_a_comma_and_the_items_own_unit(typed: object, value: float) -> None:
    assert number_value(typed, "mL") == pytest.approx(value)


@pytest.mark.parametrize("typed", ["2.5 mg", "two", "1,000", True, float("inf"), (2, 5), "2.5.1"])
def test_wrong_numbers_get_one_plain_sentence(typed: object) -> None:
    reading = read_number(typed, "mL")
    assert reading.value is None and reading.problem
    assert "\n" not in reading.problem and "Error" not in reading.problem


def test_a_tuple_from_a_comma_without_quotes_is_explained() -> None:
    assert "2.5" in read_number([2, 5], "mL").problem  # a tuple arrives as a JSON list


def test_a_unit_is_refused_when_the_item_asks_for_none() -> None:
    assert number_value("24 points", None) is None
    assert number_value("24", None) == 24


def test_number_within_uses_the_tolerance_and_reads_like_the_check() -> None:
    assert number_within("1,25 mg/kg", 1.25, 0.01, unit="mg/kg")
    assert number_within(1.26, 1.25, 0.01)
    assert not number_within(1.27, 1.25, 0.01)
    assert not number_within(None, 1.25, 0.01)
    assert not number_within("1.25 mL", 1.25, 0.01, unit="mg/kg")


@pytest.mark.parametrize("helper, args", [
    (check_choice, ("abcd",)), (check_number, ("mL",)),
    (check_format, (False, "answer_x must be a dict")),
])
@pytest.mark.parametrize("answer", [None, "", "zz", 3.5, object(), [1, 2]])
def test_check_helpers_never_raise_and_print_one_line(capsys, helper, args, answer) -> None:
    helper("answer_x", answer, *args)
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "Traceback" not in out and "Error" not in out
    if answer in (None, ""):
        assert NOT_ANSWERED in out


def test_check_choice_says_format_ok_for_a_tolerated_letter(capsys) -> None:
    check_choice("answer_x", "(C)", "abcd")
    assert capsys.readouterr().out.startswith("Format OK.")


def test_check_case_reports_unanswered_problems_and_ok(capsys) -> None:
    from course.cases import cases

    case = next(iter(cases().values()))
    check_case("answer_q4_1_1", None, case.id)
    assert NOT_ANSWERED in capsys.readouterr().out
    check_case("answer_q4_1_1", "proceed", case.id)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "dict" in out
    good = {"decision": "defer", "reasons": [case.reason_codes[0]],
            "management": [case.management_codes[0]]}
    check_case("answer_q4_1_1", good, case.id, "reasons")
    assert capsys.readouterr().out.startswith("Format OK. Your reasons will be scored")


def test_name_errors_of_learners_get_one_sentence() -> None:
    quotes = name_error_message("b", 'answer_q1_3_1 = b\n')
    assert quotes is not None and 'answer_q1_3_1 = "b"' in quotes
    early = name_error_message("answer_q1_3_1", 'check_choice("answer_q1_3_1", answer_q1_3_1)')
    assert early is not None and "run its answer cell" in early
    assert name_error_message("pandas", "x = pandas.read_csv('a')") is None


def test_options_and_number_precision_come_from_the_stem() -> None:
    stem = ("Which?\n\n- (a) One thing.\n- (b) Another thing.\n- (c) A third.\n\n"
            "Assign your answer to `answer_q9_1` as a number without quotes or units, in "
            "millilitres (answers within 0.01 mL of the correct value score).")
    assert [o["value"] for o in stem_options(stem)] == ["a", "b", "c"]
    assert stem_options(stem)[1]["label"] == "Another thing."
    spec = number_spec("answer_q9_1", stem, 1, None)
    assert spec["unit"] == "mL" and spec["decimals"] == 2
    assert [decimals_for(t) for t in (0.01, 0.1, 0.5, 1)] == [2, 1, 0, 0]


def test_feedback_outputs_are_wrapped_escaped_sentences() -> None:
    from course.forms.feedback import plain_outputs

    outputs = plain_outputs([
        {"output_type": "stream", "name": "stdout",
         "text": "Rationale. (b) is right [R7]. (a) is wrong <script>x</script> [R7].\n"},
        {"output_type": "stream", "name": "stderr", "text": "a warning"},
        {"output_type": "error", "ename": "AssertionError", "evalue": "Not the best answer.",
         "traceback": ["AssertionError: Not the best answer."]},
    ])
    html = "".join(o["data"]["text/html"] for o in outputs)
    assert len(outputs) == 2 and html.count("<p ") == 3
    assert "<pre" not in html and "white-space:normal" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "AssertionError" not in html and "Not credited." in html
    assert "Rationale. (b) is right" in outputs[0]["data"]["text/plain"]


def test_course_check_items_get_titles_in_question_order(tmp_path) -> None:
    import nbformat

    from course.forms.feedback import titled_items
    from course.grading.assignments import ItemScore

    nb = nbformat.v4.new_notebook()
    for number in (1, 2, 10):
        cell = nbformat.v4.new_code_cell(f'"""Question 1.3.{number}: checks the format."""')
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"q1_3_{number}_check"}
        nb.cells.append(cell)
    case = nbformat.v4.new_code_cell('"""Case 4.1.1, reasons {1 point}: checks."""')
    case.metadata["nbgrader"] = {"grade": True, "grade_id": "q4_1_1_reasons_check"}
    nb.cells.append(case)
    nbformat.write(nb, tmp_path / "quiz.ipynb")
    items = [ItemScore("quiz", gid, 1, 1, False) for gid in
             ("q1_3_10_check", "q1_3_1_check", "q4_1_1_reasons_check", "q1_3_2_check",
              "gone_check")]
    titles = [title for title, _ in titled_items(tmp_path, items)]
    assert titles == ["Question 1.3.1", "Question 1.3.2", "Question 1.3.10",
                      "Case 4.1.1, reasons", "gone_check"]


def test_item_analysis_reads_migrated_check_cells_and_tolerant_letters() -> None:
    from course.report import LETTER, choice, letter_options

    assert letter_options('check_choice("answer_q1_3_1", answer_q1_3_1, "abcd")') == \
        ("a", "b", "c", "d")
    assert choice(" (B) ", LETTER, ("a", "b", "c", "d")) == "b"
    assert choice("z", LETTER, ("a", "b", "c", "d")) != "b"
