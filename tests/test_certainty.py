"""Certainty-based marking: Gardner-Medwin's rules, item points, calibration, review list."""

from __future__ import annotations

import pytest

from course.certainty import (
    Answer,
    Certainty,
    CertaintyError,
    calibration,
    cbm_mark,
    item_points,
    parse_certainty,
    review_before_practice,
    summarise,
)

LOW, MEDIUM, HIGH = Certainty.LOW, Certainty.MEDIUM, Certainty.HIGH


@pytest.mark.parametrize(("correct", "certainty", "mark"), [
    (True, LOW, 1), (True, MEDIUM, 2), (True, HIGH, 3),
    (False, LOW, 0), (False, MEDIUM, -2), (False, HIGH, -6),
    (True, None, 1), (False, None, 0),  # no certainty stated: scored as low
])
def test_marks_follow_gardner_medwin(correct, certainty, mark) -> None:
    assert cbm_mark(correct, certainty) == mark


def test_each_level_pays_best_in_its_own_range_of_confidence() -> None:
    """The scheme is proper: reporting one's real chance of being right pays best."""
    def expected(p: float, level: Certainty) -> float:
        return p * cbm_mark(True, level) + (1 - p) * cbm_mark(False, level)

    def best(p: float) -> Certainty:
        return max(Certainty, key=lambda level: expected(p, level))

    assert best(0.5) is LOW and best(0.6) is LOW
    assert best(0.7) is MEDIUM and best(0.78) is MEDIUM
    assert best(0.85) is HIGH and best(1.0) is HIGH


@pytest.mark.parametrize(("value", "level"), [
    ("low", LOW), (" Medium ", MEDIUM), ("HIGH", HIGH), ("3", HIGH), (1, LOW), (HIGH, HIGH),
    ("", None), (None, None), ("  ", None),
])
def test_certainty_is_read_from_the_form(value, level) -> None:
    assert parse_certainty(value) is level


@pytest.mark.parametrize("value", ["sure", "4", 0, 2.5, True, ["high"]])
def test_an_unknown_certainty_is_one_plain_sentence(value) -> None:
    with pytest.raises(CertaintyError, match=r"^Choose how sure you are: low, medium or high\.$"):
        parse_certainty(value)


@pytest.mark.parametrize(("mark", "points", "expected"), [
    (3, 1, 1.0), (2, 1, 0.666667), (1, 1, 0.333333), (0, 1, 0.0), (-2, 1, 0.0), (-6, 1, 0.0),
    (3, 2, 2.0), (1, 3, 1.0), (3, 0, 0.0),
])
def test_item_points_are_partial_credit_floored_at_zero(mark, points, expected) -> None:
    assert item_points(mark, points) == expected


@pytest.mark.parametrize(("mark", "points"), [(4, 1), (-7, 1), (3, -1)])
def test_item_points_refuse_impossible_values(mark, points) -> None:
    with pytest.raises(ValueError):
        item_points(mark, points)


def test_the_pass_is_on_accuracy_and_the_cbm_score_is_beside_it() -> None:
    # 7 of 10 right, all at high certainty, 3 confident errors: passes on accuracy,
    # while the CBM average is (7*3 - 3*6) / 10 = 0.3
    answers = [Answer(f"q{i}", i < 7, HIGH) for i in range(10)]
    summary = summarise(answers)
    assert summary.accuracy == 0.7 and summary.passed
    assert summary.average_mark == pytest.approx(0.3)
    assert summary.cbm_percent == pytest.approx(10.0)
    assert "7 of 10 (70%): passed" in summary.text()
    assert "+0.30 per item" in summary.text()
    failing = summarise([Answer(f"q{i}", i < 6, LOW) for i in range(10)])
    assert not failing.passed and failing.average_mark == pytest.approx(0.6)
    assert summarise([]).items == 0 and not summarise([]).passed


def test_a_cbm_score_below_zero_is_reported_as_zero_percent_but_kept_signed() -> None:
    summary = summarise([Answer("q1", False, HIGH), Answer("q2", True, LOW)])
    assert summary.average_mark == pytest.approx(-2.5)
    assert summary.cbm_percent == 0.0
    assert "-2.50 per item" in summary.text()


def test_calibration_judges_each_level_against_its_range() -> None:
    answers = ([Answer(f"h{i}", i < 6, HIGH) for i in range(10)]      # 60% at high
               + [Answer(f"m{i}", i < 3, MEDIUM) for i in range(4)]   # 75% at medium
               + [Answer(f"l{i}", True, LOW) for i in range(2)])      # 100% at low
    levels = {level.certainty: level for level in calibration(answers)}
    assert levels[HIGH].judgement == "over-confident"
    assert levels[MEDIUM].judgement == "well calibrated"
    assert levels[LOW].judgement == "under-confident"
    assert levels[HIGH].text() == ("High certainty: 6 of 10 right (60%); this level pays best "
                                   "between 80% and 100% right: over-confident.")
    empty = calibration([Answer("q", True, None)])
    assert [level.answered for level in empty] == [1, 0, 0]
    assert empty[2].text() == "High certainty: no answers."


def test_confident_errors_on_safety_items_are_listed_for_review() -> None:
    answers = [Answer("q5_1", False, HIGH), Answer("q5_2", False, MEDIUM),
               Answer("q5_3", False, LOW), Answer("q5_4", True, HIGH),
               Answer("q5_5", False, HIGH), Answer("q5_6", False, None)]
    safety = {"q5_1": "03-risk-assessment/02-emergencies", "q5_2": "03-risk-assessment/01",
              "q5_3": "x", "q5_4": "y", "q5_6": "z"}
    review = review_before_practice(answers, safety)
    assert [item.item for item in review] == ["q5_1", "q5_2"]  # q5_5 is not safety-critical
    assert review[0].text() == ("q5_1: answered wrongly with high certainty. Review "
                                "03-risk-assessment/02-emergencies before practice.")
