"""The vascular occlusion drill and the cumulative lidocaine arithmetic (course.emergencies).

Expected values come from clinical-brief.md §9: the occlusion response (stop; visual, eye
or neurological signs = emergency services and urgent ophthalmology; high-dose
hyaluronidase repeated until reperfusion; warmth and massage) and the lidocaine labels
(UK SmPC/BNF plain lidocaine 200 mg; US 4.5 mg/kg up to 300 mg).
"""

from __future__ import annotations

import itertools
import math

import pytest

from course import TEACHING_AID_LABEL
from course.emergencies import (
    VO_DISPLAY_ORDER,
    VO_STEPS,
    check_vo_order,
    lidocaine_ceiling_mg,
    lidocaine_session_text,
    session_lidocaine_mg,
    vo_cards,
    vo_drill_check,
    vo_drill_html,
    vo_drill_text,
)
from course.questions import check_answer, question


def _letter(step_id: str) -> str:
    return next(letter for letter, step in vo_cards() if step.id == step_id)


def _order(*step_ids: str) -> str:
    return "".join(_letter(s) for s in step_ids)


SAFE = ("stop", "red_flags", "hyaluronidase", "warmth_massage", "reassess_repeat",
        "record_follow_up")


# ---------------------------------------------------------------- the drill's content


def test_every_step_is_shown_once_and_the_display_is_scrambled() -> None:
    assert sorted(VO_DISPLAY_ORDER) == sorted(s.id for s in VO_STEPS)
    assert len(set(VO_DISPLAY_ORDER)) == len(VO_DISPLAY_ORDER)
    ranks = [dict((s.id, s.rank) for s in VO_STEPS)[sid] for sid in VO_DISPLAY_ORDER]
    assert ranks != sorted(ranks)  # the cards are not shown in the answer order
    assert [letter for letter, _ in vo_cards()] == list("abcdefgh")


def test_the_steps_follow_the_brief() -> None:
    steps = {s.id: s for s in VO_STEPS}
    assert steps["stop"].rank == 1
    assert "emergency services" in steps["red_flags"].text
    assert "ophthalmology" in steps["red_flags"].text
    assert "high-dose hyaluronidase" in steps["hyaluronidase"].text
    assert "until the skin reperfuses" in steps["reassess_repeat"].text
    assert "warmth" in steps["warmth_massage"].text.lower()
    harmful = {s.id for s in VO_STEPS if s.rank == 0}
    assert harmful == {"ice", "wait"}
    for step in VO_STEPS:
        assert step.why.strip(), step.id


def test_text_and_html_views_show_the_same_cards_and_the_label() -> None:
    text, html = vo_drill_text(), vo_drill_html()
    for letter, step in vo_cards():
        assert f"({letter}) {step.text}" in text
        assert f"<strong>({letter})</strong>" in html
    assert TEACHING_AID_LABEL in text and TEACHING_AID_LABEL in html
    assert "role='group'" in html and "aria-label=" in html


# ---------------------------------------------------------------- checking an order


def test_the_right_order_is_correct_and_shows_the_working() -> None:
    feedback = check_vo_order(_order(*SAFE))
    assert feedback.correct
    text = feedback.text()
    assert text.startswith("Correct order.")
    for n, step_id in enumerate(SAFE, start=1):
        step = next(s for s in VO_STEPS if s.id == step_id)
        assert f"{n}. {step.text}" in text
    assert text.count("Left out:") == 2


def test_steps_of_the_same_rank_may_swap() -> None:
    swapped = ("stop", "red_flags", "warmth_massage", "hyaluronidase", "reassess_repeat",
               "record_follow_up")
    assert check_vo_order(_order(*swapped)).correct


def test_answer_format_is_forgiving_about_case_spaces_and_commas() -> None:
    plain = _order(*SAFE)
    assert check_vo_order(" " + ", ".join(plain.upper()) + " ").correct


@pytest.mark.parametrize("harmful", ["ice", "wait"])
def test_a_harmful_step_is_named_and_explained(harmful: str) -> None:
    answer = _order("stop", "red_flags", harmful, "hyaluronidase", "warmth_massage",
                    "reassess_repeat", "record_follow_up")
    feedback = check_vo_order(answer)
    assert not feedback.correct
    assert f"({_letter(harmful)})" in feedback.lines[0]
    assert feedback.lines[1].startswith("Harmful")


def test_a_missing_step_is_named() -> None:
    answer = _order("stop", "hyaluronidase", "warmth_massage", "reassess_repeat",
                    "record_follow_up")
    feedback = check_vo_order(answer)
    assert not feedback.correct
    assert "missing" in feedback.lines[0] and f"({_letter('red_flags')})" in feedback.lines[0]


def test_hyaluronidase_before_stopping_is_out_of_order() -> None:
    answer = _order("hyaluronidase", "stop", "red_flags", "warmth_massage", "reassess_repeat",
                    "record_follow_up")
    feedback = check_vo_order(answer)
    assert not feedback.correct
    assert feedback.lines[0] == (f"Not yet: ({_letter('stop')}) comes before "
                                 f"({_letter('hyaluronidase')}).")


def test_only_orders_consistent_with_the_ranks_are_correct() -> None:
    ranks = {s.id: s.rank for s in VO_STEPS}
    for perm in itertools.permutations(SAFE):
        expected = all(ranks[a] <= ranks[b] for a, b in itertools.pairwise(perm))
        assert check_vo_order(_order(*perm)).correct == expected, perm


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "must be letters in quotes"),
        (123, "must be letters in quotes"),
        ("", "No answer yet"),
        ("   ", "No answer yet"),
        ("abz", "z is not a card"),
        ("aab", "Each card goes in once; repeated: a"),
    ],
)
def test_bad_answers_get_one_clear_message(answer, message: str) -> None:
    feedback = check_vo_order(answer)
    assert not feedback.correct and len(feedback.lines) == 1
    assert message in feedback.lines[0]


def test_vo_drill_check_prints_the_feedback(capsys: pytest.CaptureFixture[str]) -> None:
    vo_drill_check(_order(*SAFE))
    assert capsys.readouterr().out.startswith("Correct order.")


# ---------------------------------------------------------------- cumulative lidocaine


def test_session_total_adds_every_product() -> None:
    products = [("booster", 3, 2), ("plain 2%", 20, 10)]
    assert session_lidocaine_mg(products) == pytest.approx(206.0)
    assert session_lidocaine_mg([]) == 0.0


def test_ceilings_name_the_label() -> None:
    assert lidocaine_ceiling_mg("UK") == 200.0
    assert lidocaine_ceiling_mg("UK", weight_kg=90) == 200.0  # plain lidocaine, not per kg
    assert lidocaine_ceiling_mg("US", weight_kg=50) == pytest.approx(225.0)
    assert lidocaine_ceiling_mg("US", weight_kg=80) == 300.0  # 4.5 × 80 = 360, capped


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lidocaine_ceiling_mg("EU"), "^Choose the label: \"UK\" or \"US\""),
        (lambda: lidocaine_ceiling_mg("US"), "^The US label .* needs the patient's weight"),
        (lambda: lidocaine_ceiling_mg("US", weight_kg=0),
         r"^Enter the weight in kilograms: a number above 0, up to 350 \(you entered 0\)"),
        (lambda: lidocaine_ceiling_mg("US", weight_kg=True), "^Enter the weight in kilograms"),
        (lambda: session_lidocaine_mg([("x", math.nan, 1)]),
         "^Enter the lidocaine in mg per mL of x: a number"),
        (lambda: session_lidocaine_mg([("x", 10, -1)]), "^Enter the mL of x injected: a number"),
        (lambda: session_lidocaine_mg([("x", 10)]), r"^Give product 1 as \(name, "),
    ],
)
def test_bad_input_is_refused_clearly(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_session_text_judges_against_the_named_label() -> None:
    products = [("booster", 3, 2), ("plain 2%", 20, 10)]
    uk = lidocaine_session_text(products, "UK")
    assert "206 mg" in uk and "above the ceiling of 200 mg" in uk and "UK SmPC/BNF" in uk
    us = lidocaine_session_text(products, "US", weight_kg=50)
    assert "within the ceiling of 225 mg" in us and "4.5 mg/kg up to 300 mg" in us
    assert TEACHING_AID_LABEL in uk and TEACHING_AID_LABEL in us


def test_practice_question_key_agrees_with_the_arithmetic() -> None:
    # q3_3_9: 2 mL booster at 3 mg/mL plus 10 mL of plain lidocaine 2%, UK clinic.
    total = session_lidocaine_mg([("booster", 3, 2), ("plain 2%", 20, 10)])
    assert total > lidocaine_ceiling_mg("UK")
    q = question("q3_3_9")
    right = [o.letter for o in q.options if check_answer(q, o.letter).correct]
    assert len(right) == 1
    assert f"{total:g} mg" in q.option(right[0]).text and "above" in q.option(right[0]).text
