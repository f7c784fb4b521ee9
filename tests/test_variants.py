"""Per-learner variants: stable seeds, different learners, keys from the same numbers."""

from __future__ import annotations

import pytest

from course.variants import (
    ITEMS,
    LEARNER_ENV,
    SELF_STUDY_ID,
    UnknownVariant,
    graded_learner,
    learner_id,
    seed,
    variant,
)


def test_the_learner_is_the_hub_user_or_self_study() -> None:
    assert learner_id({"JUPYTERHUB_USER": "jane_doe"}) == "jane_doe"
    assert learner_id({"JUPYTERHUB_USER": "  "}) == SELF_STUDY_ID
    assert learner_id({}) == SELF_STUDY_ID


def test_a_grading_kernel_is_the_learner_the_grader_names() -> None:
    assert learner_id({LEARNER_ENV: "ana", "JUPYTERHUB_USER": "instructor"}) == "ana"
    assert learner_id({LEARNER_ENV: " ", "JUPYTERHUB_USER": "jane"}) == "jane"


def test_learner_id_is_read_when_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv(LEARNER_ENV, "ana")
    from course.variants import LEARNER_ID

    assert LEARNER_ID == "ana"
    monkeypatch.setenv(LEARNER_ENV, "ben")
    from course.variants import LEARNER_ID as again

    assert again == "ben"


def test_the_learner_graded_is_the_student_or_for_self_study_whoever_checks() -> None:
    assert graded_learner("ana", {"JUPYTERHUB_USER": "jane"}) == "ana"
    assert graded_learner(SELF_STUDY_ID, {"JUPYTERHUB_USER": "jane"}) == "jane"
    assert graded_learner(SELF_STUDY_ID, {}) == SELF_STUDY_ID


def test_the_feedback_shows_the_learners_numbers_then_the_working() -> None:
    shown = variant("q2_3_4", "ana")
    assert shown.feedback == f"Your numbers: {shown.stem}\n{shown.working}"


def test_the_same_learner_always_gets_the_same_numbers() -> None:
    assert seed("ana", "q2_3_4") == seed("ana", "q2_3_4")
    assert variant("q2_3_4", "ana").parameters == variant("q2_3_4", "ana").parameters
    assert variant("q2_3_4", "ana").stem == variant("q2_3_4", "ana").stem


def test_learners_and_items_get_different_seeds() -> None:
    assert seed("ana", "q2_3_4") != seed("ben", "q2_3_4")
    assert seed("ana", "q2_3_4") != seed("ana", "q2_3_5")
    # the separator keeps ids from running into each other
    assert seed("a", "bq") != seed("ab", "q")


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_a_cohort_sees_many_variants(item: str) -> None:
    stems = {variant(item, f"learner{n:03d}").stem for n in range(40)}
    assert len(stems) >= 6, stems


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_few_pairs_of_learners_share_their_numbers(item: str) -> None:
    drawn = [variant(item, f"student{n}").stem for n in range(60)]
    pairs = [(a, b) for i, a in enumerate(drawn) for b in drawn[i + 1:]]
    assert sum(a == b for a, b in pairs) / len(pairs) < 0.15


@pytest.mark.parametrize(("parameters", "key", "working"), [
    ({"volume_ml": 4, "percent": 2}, 80, "20 mg/mL. 4 mL × 20 mg/mL = 80 mg."),
    ({"volume_ml": 2.5, "percent": 1}, 25, "10 mg/mL. 2.5 mL × 10 mg/mL = 25 mg."),
])
def test_lidocaine_key_and_working_use_the_learners_numbers(parameters, key, working) -> None:
    from course.variants import Variant

    shown = Variant(ITEMS["q2_3_4"], "x", parameters)
    assert shown.key == key
    assert working in shown.working
    assert f"gives {key / 10:g} mg, ten times too little" in shown.working
    assert f"draws up {parameters['volume_ml']} mL of plain lidocaine {parameters['percent']}%" \
        in shown.stem


def test_volume_key_and_tolerance() -> None:
    from course.variants import Variant

    shown = Variant(ITEMS["q2_3_5"], "x", {"points": 220})
    assert shown.key == pytest.approx(2.2)
    assert "220 × 0.01 mL = 2.2 mL" in shown.working
    assert shown.within(2.2) and shown.within(2.21) and not shown.within(2.22)
    assert not shown.within(None)


def test_every_drawn_value_is_one_of_the_allowed_values() -> None:
    for item, spec in ITEMS.items():
        for n in range(50):
            drawn = variant(item, f"l{n}").parameters
            assert set(drawn) == set(spec.choices)
            assert all(drawn[name] in spec.choices[name] for name in drawn)


def test_unknown_items_and_blank_learners_are_refused() -> None:
    with pytest.raises(UnknownVariant, match="q9_9 has no per-learner variant"):
        variant("q9_9", "ana")
    with pytest.raises(ValueError, match="needs a learner id"):
        variant("q2_3_4", " ")


def test_session_span_key_and_working_use_the_learners_dates() -> None:
    from course.variants import Variant

    shown = Variant(ITEMS["q3_5_11"], "x", {"treatment_day": 36, "weeks": 11})  # 6 February
    assert shown.key == 11
    assert shown.stem.startswith("A 39-year-old woman had mesotherapy to her abdomen on "
                                 "6 February 2025. She presents on 24 April 2025 ")
    assert ("22 left in February 2025 after the 6th (February 2025 has 28 days), 31 in March "
            "and 24 in April: 22 + 31 + 24 = 77 days; 77 ÷ 7 = 11 weeks, as "
            'weeks_since("2025-02-06", "2025-04-24") gives') in shown.working
    assert "near the mean of 9.8 weeks to diagnosis in another series [R39]" in shown.working
    assert shown.within(11.1) and not shown.within(11.2)


@pytest.mark.parametrize(("weeks", "clause"), [
    (2, "earlier than the mean"), (7, "earlier than the mean"), (8, "near the mean"),
    (11, "near the mean"), (12, "later than the mean")])
def test_the_mean_is_called_near_only_when_it_is(weeks: int, clause: str) -> None:
    from course.variants import Variant

    shown = Variant(ITEMS["q3_5_11"], "x", {"treatment_day": 0, "weeks": weeks})
    assert f"{clause} of 9.8 weeks" in shown.working


def test_every_session_span_is_a_whole_number_of_weeks_in_the_ntm_window() -> None:
    from datetime import date

    from course.complications import in_ntm_window, weeks_since
    from course.variants import Variant, span_day

    spec = ITEMS["q3_5_11"]
    for day in spec.choices["treatment_day"]:
        for weeks in spec.choices["weeks"]:
            shown = Variant(spec, "x", {"treatment_day": day, "weeks": weeks})
            treated = span_day(day)
            presented = date.fromordinal(treated.toordinal() + 7 * weeks)
            assert shown.key == weeks == weeks_since(treated, presented)
            assert in_ntm_window(shown.key) and presented.year == 2025 and treated.day <= 28
            assert f'weeks_since("{treated}", "{presented}")' in shown.working
            assert f"= {7 * weeks} days; {7 * weeks} ÷ 7 = {weeks} weeks" in shown.working


def test_days_are_counted_month_by_month() -> None:
    from datetime import date

    from course.variants import days_counted, ordinal

    assert days_counted(date(2025, 3, 3), date(2025, 3, 24)) == "24 − 3 = 21 days"
    assert days_counted(date(2025, 1, 21), date(2025, 2, 4)) == (
        "10 left in January 2025 after the 21st (January 2025 has 31 days) and 4 in "
        "February: 10 + 4 = 14 days")
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 28)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "28th"]
