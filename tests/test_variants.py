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
