"""Module 04 case studies: the catalogue, key-feature scoring, branching and the notebook.

KEYS are the answer keys of the graded cases: for every case they classify each option as
key, acceptable (neutral), harmful or, by default, wrong. They exist only here and in the
hidden tests of source/04-case-studies/01-cases.ipynb (tests/ and source/ are never
shipped to learners); a test below checks that the notebook's hidden keys are identical.
Decisions follow clinical-brief.md §3, §5, §6, §7 and §9.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import itertools
import re
import tomllib
from html import escape
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.answers import check_case
from course.cases import (
    CASES_PATH,
    WRONG_PENALTY,
    case_markdown,
    case_text,
    cases,
    consequence,
    follow_up,
    format_problems,
    get_case,
    limits,
    load_cases,
    score_case,
)
from course.content import ContentError
from course.notebooks import read_notebook
from course.questions import questions
from course.risk import DECISIONS, assess

from .conftest import ROOT

NOTEBOOK = ROOT / "source" / "04-case-studies" / "01-cases.ipynb"
UNSAFE = ["proceed", "proceed_with_precautions"]


def _key(case: str, decision: str, decisive: list[str], management: list[str], *,
         harmful_decisions: list[str], neutral_reasons: list[str], neutral_actions: list[str],
         harmful_actions: list[str], harmful_reasons: list[str] | None = None
         ) -> dict[str, Any]:
    key: dict[str, Any] = {
        "case": case, "decision": decision, "harmful_decisions": harmful_decisions,
        "decisive": decisive, "neutral_reasons": neutral_reasons,
        "management": management, "neutral_actions": neutral_actions,
        "harmful_actions": harmful_actions, "points": 4, "management_points": 2,
    }
    if harmful_reasons:
        key["harmful_reasons"] = harmful_reasons
    return key


KEYS: dict[str, dict[str, Any]] = {
    # Licensed deoxycholic acid on its label, nothing found at screening [R23, R20]; the
    # session follows a cooling-off period after the consultation [GK].
    "submental_dca": _key(
        "submental_dca", "proceed", ["LICENSED_ON_LABEL", "SCREEN_CLEAR"],
        ["CONSENT_LABEL_RISKS", "LABEL_SCHEDULE"], harmful_decisions=[],
        neutral_reasons=["CONSIDERED_DECISION"], neutral_actions=["CHECK_RECORD_BATCH"],
        harmful_actions=["TREAT_JOWLS_TOO"]),
    # PC/DC is unapproved and unlicensed [R24, R25, R60, R10]; deoxycholic acid is approved
    # for submental fat only [R23]; device "fat dissolvers" are not medicines [GK].
    "lipodissolve_request": _key(
        "lipodissolve_request", "decline", ["PCDC_UNAPPROVED"],
        ["EXPLAIN_UNAPPROVED", "DCA_CHIN_ONLY"], harmful_decisions=UNSAFE,
        neutral_reasons=["DETERGENT_HARMS"], neutral_actions=["WARN_OTHER_PROVIDERS"],
        harmful_actions=["INJECT_PCDC_WITH_CONSENT", "DCA_ABDOMEN_INSTEAD", "DEVICE_DISSOLVER",
                         "HALF_STRENGTH"]),
    # Anticoagulant: caution [R23, R26]; never stop it for a cosmetic procedure [GK].
    "apixaban_rejuvenation": _key(
        "apixaban_rejuvenation", "proceed_with_precautions",
        ["ANTICOAGULANT", "PRESCRIBER_CONSULTED"], ["CONTINUE_APIXABAN", "CONSENT_BRUISING"],
        harmful_decisions=[], neutral_reasons=["ATRIAL_FIBRILLATION"],
        neutral_actions=["REALISTIC_OUTCOME"],
        harmful_actions=["STOP_APIXABAN_48H", "SKIP_MORNING_DOSE"],
        harmful_reasons=["APIXABAN_CAN_PAUSE"]),
    # Teratogenic antiandrogen while a pregnancy is planned; no licensed injectable
    # dutasteride or minoxidil exists [GK, §9].
    "dutasteride_pregnancy": _key(
        "dutasteride_pregnancy", "decline", ["TRYING_TO_CONCEIVE", "DUTASTERIDE_TERATOGEN"],
        ["EXPLAIN_NOT_WHEN_CONCEIVING", "DISCUSS_ALTERNATIVES"], harmful_decisions=UNSAFE,
        neutral_reasons=["UNLICENSED_PREPARATION"], neutral_actions=["HAIR_EVIDENCE_POOR"],
        harmful_actions=["LOWER_DOSE", "CONTRACEPTION_DURING_COURSE", "MINOXIDIL_INSTEAD"]),
    # Positive BDD screen: procedures "virtually never helpful" [R61]; severe distress and
    # housebound: ask about suicidal thoughts, urgent mental-health referral [GK, §9].
    "bdd_screen": _key(
        "bdd_screen", "refer", ["BDD_SCREEN_POSITIVE", "SEVERE_DISTRESS"],
        ["ASK_SUICIDAL_THOUGHTS", "URGENT_MH_REFERRAL"], harmful_decisions=UNSAFE,
        neutral_reasons=["UNHAPPY_ELSEWHERE"], neutral_actions=["DOCUMENT_SCREEN"],
        harmful_actions=["TRIAL_SESSION", "SUGGEST_LASER_ELSEWHERE"]),
    # Active herpes at the site: defer [GK].
    "herpes_at_site": _key(
        "herpes_at_site", "defer", ["ACTIVE_HERPES"], ["REBOOK_WHEN_HEALED", "RECORD_AND_RESCREEN"],
        harmful_decisions=UNSAFE, neutral_reasons=["RECURRENT_COLD_SORES"],
        neutral_actions=["PHOTOGRAPH_LESION"],
        harmful_actions=["TREAT_AROUND_LESION", "ANTISEPTIC_THEN_TREAT", "SHORTER_NEEDLE"]),
    # Suspected NTM infection: culture ± PCR and specialist care [R35, R37, R38]; standard
    # antibiotics typically fail [GK]; no injection into an infected site [R23]; hyaluronidase
    # is a wasp venom allergen [GK, §9].
    "ntm_nodules": _key(
        "ntm_nodules", "refer", ["NODULES_WEEKS_AFTER"],
        ["CULTURE_MYCOBACTERIA", "REFER_SPECIALIST"],
        harmful_decisions=UNSAFE,
        neutral_reasons=["NO_BENEFIT_FLUCLOXACILLIN", "WASP_STING_ALLERGY"],
        neutral_actions=["RECORD_SPA_DETAILS"],
        harmful_actions=["LONGER_STANDARD_ANTIBIOTIC", "ENZYME_INTO_NODULE", "REASSURE_SETTLE"]),
    # Anaphylaxis: adrenaline 500 micrograms IM = 0.5 mL of 1 mg/mL, thigh, repeat at 5 min;
    # lie flat with legs raised (sit if breathing is the problem); high-flow oxygen;
    # antihistamines not initial treatment [R58]; call for help [GK].
    "anaphylaxis_session": _key(
        "anaphylaxis_session", "refer", ["ANAPHYLAXIS_FEATURES"],
        ["ADRENALINE_IM_THIGH", "CALL_FOR_HELP", "LIE_FLAT_LEGS_RAISED", "HIGH_FLOW_OXYGEN",
         "REPEAT_AFTER_5_MIN"],
        harmful_decisions=UNSAFE, neutral_reasons=[], neutral_actions=[],
        harmful_actions=["ANTIHISTAMINE_FIRST", "ADRENALINE_5_ML", "STAND_AND_WALK"]),
}

ENGINE_APPLIES = ("submental_dca", "lipodissolve_request", "apixaban_rejuvenation",
                  "dutasteride_pregnancy", "bdd_screen", "herpes_at_site")
"""Cases whose record is a pre-treatment screen: the screening aid must agree with the key
(a consistency check between the cases and course/risk.py; the notebook no longer shows
the aid's output, which would give the keys away)."""


def solution(case_id: str) -> dict[str, Any]:
    """The smallest full-credit answer: the key decision, decisive reasons, required steps."""
    key = KEYS[case_id]
    return {"decision": key["decision"], "reasons": list(key["decisive"]),
            "management": list(key["management"])}


def wrong_reasons(case_id: str) -> list[str]:
    key = KEYS[case_id]
    named = {*key["decisive"], *key["neutral_reasons"], *key.get("harmful_reasons", [])}
    return [c for c in get_case(case_id).reason_codes if c not in named]


def wrong_steps(case_id: str) -> list[str]:
    key = KEYS[case_id]
    named = {*key["management"], *key["neutral_actions"], *key["harmful_actions"]}
    return [c for c in get_case(case_id).management_codes if c not in named]


def parts(score) -> dict[str, float]:
    return {p.name: p.points for p in score.parts}


# ---------------------------------------------------------------- the catalogue


def test_catalogue_has_the_required_spread_of_cases() -> None:
    catalogue = cases()
    assert len(catalogue) >= 8
    assert [c.number for c in catalogue.values()] == list(range(1, len(catalogue) + 1))
    assert set(KEYS) == set(catalogue)
    assert sum(c.branching for c in catalogue.values()) >= 6
    substances = {c.patient["substance"] for c in catalogue.values()}
    assert {"deoxycholic_acid", "pc_dc", "dutasteride", "hyaluronic_acid"} <= substances
    assert catalogue["apixaban_rejuvenation"].patient.get("anticoagulant") is True
    assert catalogue["bdd_screen"].patient.get("bdd_screen_positive") is True
    assert catalogue["herpes_at_site"].patient.get("active_herpes_at_site") is True


@pytest.mark.parametrize("case_id", list(KEYS))
def test_every_patient_record_passes_the_engine_validation(case_id: str) -> None:
    case = get_case(case_id)
    assessment = assess(dict(case.patient))
    assert assessment.decision in DECISIONS
    assert case.patient["age"] == case.age


@pytest.mark.parametrize("case_id", ENGINE_APPLIES)
def test_screening_aid_agrees_with_the_key(case_id: str) -> None:
    assert assess(dict(get_case(case_id).patient)).decision == KEYS[case_id]["decision"]


def test_where_the_aid_does_not_apply_it_still_never_allows_injecting_an_infection() -> None:
    assert assess(dict(get_case("ntm_nodules").patient)).decision not in UNSAFE
    # The screen before the session was clear: anaphylaxis cannot be screened out.
    assert assess(dict(get_case("anaphylaxis_session").patient)).decision == "proceed"


def test_the_catalogue_holds_no_answer_key_and_no_consequence() -> None:
    raw = tomllib.loads(CASES_PATH.read_text(encoding="utf-8"))
    for record in raw["cases"].values():
        assert not {"key", "decision", "decisive", "harmful", "answer", "correct", "neutral",
                    "branches", "consequences"} & set(record)
    for case in cases().values():  # decisive and harmful options sit among the others
        assert len(case.reason_codes) - len(KEYS[case.id]["decisive"]) >= 3, case.id


def test_limits_are_explicit_data_in_the_catalogue() -> None:
    raw = tomllib.loads(CASES_PATH.read_text(encoding="utf-8"))
    for case_id, record in raw["cases"].items():
        case = get_case(case_id)
        assert (record["max_reasons"], record["max_management"]) == \
            (case.max_reasons, case.max_management)
        assert limits(case_id) == {"max_reasons": case.max_reasons,
                                   "max_management": case.max_management}
        md = case_markdown(case_id)
        assert f"Choose up to {case.max_reasons}:" in md
        assert f"Choose up to {case.max_management}:" in md
    # Case 8 needs five first steps; the others allow four.
    assert limits("anaphylaxis_session")["max_management"] == 5
    five = {**solution("anaphylaxis_session")}
    assert len(five["management"]) == 5 and format_problems("anaphylaxis_session", five) == []
    too_many = {**solution("herpes_at_site"),
                "management": list(get_case("herpes_at_site").management_codes[:5])}
    assert any("choose at most 4" in p for p in format_problems("herpes_at_site", too_many))


@pytest.mark.parametrize("case_id", list(KEYS))
def test_every_key_is_valid_for_its_case_and_its_solution_scores_full(case_id: str) -> None:
    score = score_case(solution(case_id), KEYS[case_id])
    assert score.points == score.max_points == 4 and not score.harmful
    assert parts(score) == {"decision": 1, "reasons": 1, "management": 2}


@pytest.mark.parametrize("case_id", list(KEYS))
def test_menus_offer_wrong_and_harmful_options(case_id: str) -> None:
    key = KEYS[case_id]
    assert key["harmful_actions"], "each case offers at least one harmful action"
    assert len(wrong_reasons(case_id)) >= 3


def test_vignettes_read_as_markdown_and_as_text() -> None:
    md = case_markdown("herpes_at_site")
    assert md.startswith("**Patient.** Mrs F., a hairdresser, aged 45.")
    assert "- `ACTIVE_HERPES`: She has an active cold sore" in md
    assert "Choose up to 3" in md and "`proceed_with_precautions`" in md
    text = case_text("herpes_at_site")
    assert text.startswith("Case 6: ") and "`" not in text and "**" not in text
    assert "Medications. None." in case_text("lipodissolve_request")


def test_case_content_follows_the_december_corrections() -> None:
    """clinical-brief.md §9 and the revision issue, where the cases touch them."""
    def everything(case_id: str) -> str:
        return case_text(case_id).lower()

    first = everything("submental_dca")  # cooling-off: consultation 2 weeks before
    assert "consultation 2 weeks ago" in first and "think it over" in first
    assert "belkyra" in first and "kybella" in first
    hair = everything("dutasteride_pregnancy")
    assert "no licensed injectable dutasteride exists" in hair
    assert get_case("dutasteride_pregnancy").patient["product_source"] != "licensed"
    assert "licensed dutasteride" not in hair.replace("no licensed injectable dutasteride", "")
    bdd = everything("bdd_screen")
    assert "thoughts of harming himself or of ending his life" in bdd
    assert "urgent mental-health assessment" in bdd and "routine letter" in bdd
    anaphylaxis = everything("anaphylaxis_session")
    assert "legs raised" in anaphylaxis and "sit up if breathing" in anaphylaxis
    assert "high-flow oxygen" in anaphylaxis and "500 micrograms" in anaphylaxis
    ntm = everything("ntm_nodules")
    assert "wasp" in ntm and "hyaluronidase" in ntm
    assert "device" in everything("lipodissolve_request")
    assert "uncontrolled" in everything("apixaban_rejuvenation")


def test_unknown_case_id_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="case_id: unknown case 'nope'"):
        get_case("nope")
    with pytest.raises(ValueError, match="case_id"):
        format_problems("nope", {})


# ---------------------------------------------------------------- loading errors


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(CASES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[cases.submental_dca]\nnumber = 1\n",
         "[cases.submental_dca]\nnumber = 1\ndecision = \"proceed\"\n",
         r"case 'submental_dca': unknown field 'decision'"),
        ("number = 2\n", "number = 1\n", r"case numbers must run 1, 2, 3"),
        ("[cases.submental_dca.patient]\nage = 42\n", "[cases.submental_dca.patient]\nage = 41\n",
         r"field 'age' \(42\) differs from patient.age \(41\)"),
        ('indication = "submental_fat"\n', 'indication = "chin"\n',
         r"case 'submental_dca': field 'patient' is not a valid screening record"),
        ('OVER_FORTY = "She is over 40."', 'over_forty = "She is over 40."',
         r"field 'reasons' must be a table of 4–8 reasons"),
        ('question = "q4_1_13"', 'question = "the cold sore"',
         r"field 'follow_up' must be a table with intro"),
        ('PHOTOGRAPH_LESION = "Photograph', 'ACTIVE_HERPES = "Photograph',
         r"ACTIVE_HERPES appear in both menus"),
        ("max_reasons = 3\nmax_management = 4\n\n[cases.submental_dca.patient]",
         "max_reasons = 8\nmax_management = 4\n\n[cases.submental_dca.patient]",
         r"field 'max_reasons' \(8\) is larger than the reasons menu \(7 entries\)"),
        ("max_reasons = 3\nmax_management = 4\n\n[cases.submental_dca.patient]",
         "max_reasons = 3\n\n[cases.submental_dca.patient]",
         r"missing required field 'max_management'"),
        ('management_question = "Which steps belong in your plan?"',
         'management_question = "Which steps belong in your plan? Choose up to 4."',
         r"field 'management_question' must be a non-empty string without the limit"),
    ],
)
def test_invalid_case_data_is_refused_naming_case_and_field(case_file: Path, old: str, new: str,
                                                           message: str) -> None:
    _edit(case_file, old, new)
    with pytest.raises(ContentError, match=message):
        load_cases(case_file)


# ---------------------------------------------------------------- scoring rules


def test_exact_key_scores_full_credit() -> None:
    score = score_case(solution("herpes_at_site"), KEYS["herpes_at_site"])
    assert score.points == 4 and parts(score) == {"decision": 1, "reasons": 1, "management": 2}
    assert all(p.full for p in score.parts)
    assert "4 of 4 points" in score.feedback


@pytest.mark.parametrize("case_id", list(KEYS))
def test_key_plus_one_wrong_reason_scores_less(case_id: str) -> None:
    answer = solution(case_id)
    extra = wrong_reasons(case_id)[0]
    answer["reasons"] = [*answer["reasons"], extra]
    score = score_case(answer, KEYS[case_id])
    assert score.points == 4 - WRONG_PENALTY and not score.harmful
    assert parts(score)["reasons"] == 0 and extra in score.feedback


@pytest.mark.parametrize("case_id", [c for c in KEYS if wrong_steps(c)])
def test_key_plus_one_wrong_step_scores_less(case_id: str) -> None:
    answer = solution(case_id)
    extra = wrong_steps(case_id)[0]
    answer["management"] = [*answer["management"], extra]
    score = score_case(answer, KEYS[case_id])
    assert parts(score)["management"] == 2 - WRONG_PENALTY and score.points == 3
    assert extra in score.feedback and "minus 1 each" in score.feedback


def test_over_selection_in_the_first_case_loses_points() -> None:
    """The reviewer's examples: weekly sessions, and promising that the fat will be gone."""
    answer = solution("submental_dca")
    answer["management"] = [*answer["management"], "WEEKLY_SESSIONS", "PROMISE_RESULT"]
    score = score_case(answer, KEYS["submental_dca"])
    assert parts(score)["management"] == 0 and score.points == 2
    answer["management"] = [*solution("submental_dca")["management"], "CHECK_RECORD_BATCH"]
    assert score_case(answer, KEYS["submental_dca"]).points == 4  # acceptable: no penalty


@pytest.mark.parametrize("case_id", list(KEYS))
def test_acceptable_extras_cost_nothing(case_id: str) -> None:
    key, answer = KEYS[case_id], solution(case_id)
    case = get_case(case_id)
    answer["reasons"] = [*answer["reasons"], *key["neutral_reasons"]][:case.max_reasons]
    answer["management"] = [*answer["management"],
                            *key["neutral_actions"]][:case.max_management]
    score = score_case(answer, key)
    assert score.points == 4
    if key["neutral_reasons"] or key["neutral_actions"]:
        assert "no penalty" in score.feedback


def test_half_the_required_steps_earn_half_the_management_points() -> None:
    answer = {**solution("herpes_at_site"), "management": ["REBOOK_WHEN_HEALED"]}
    score = score_case(answer, KEYS["herpes_at_site"])
    assert parts(score) == {"decision": 1, "reasons": 1, "management": 1}
    assert "RECORD_AND_RESCREEN" in score.feedback
    four_of_five = {**solution("anaphylaxis_session"),
                    "management": KEYS["anaphylaxis_session"]["management"][:4]}
    assert parts(score_case(four_of_five, KEYS["anaphylaxis_session"]))["management"] == 1


def test_right_decision_with_incomplete_reasons_earns_the_decision_point_only() -> None:
    answer = {**solution("apixaban_rejuvenation"), "reasons": ["ANTICOAGULANT"]}
    score = score_case(answer, KEYS["apixaban_rejuvenation"])
    assert parts(score) == {"decision": 1, "reasons": 0, "management": 2}
    assert score.points == 3 and "PRESCRIBER_CONSULTED" in score.feedback


def test_decisive_reasons_without_the_right_decision_earn_nothing_for_them() -> None:
    answer = {**solution("herpes_at_site"), "decision": "decline"}
    score = score_case(answer, KEYS["herpes_at_site"])
    assert parts(score) == {"decision": 0, "reasons": 0, "management": 2}
    assert not score.harmful


@pytest.mark.parametrize(("case_id", "action"), [
    (case_id, action) for case_id, key in KEYS.items() for action in key["harmful_actions"]])
def test_key_plus_a_harmful_action_scores_zero_for_the_whole_case(case_id: str,
                                                                   action: str) -> None:
    answer = solution(case_id)
    cap = get_case(case_id).max_management
    answer["management"] = [*answer["management"][:cap - 1], action]
    score = score_case(answer, KEYS[case_id])
    assert score.points == 0 and score.harmful and action in score.feedback
    assert not any(p.points for p in score.parts)


@pytest.mark.parametrize("case_id", [c for c in KEYS if KEYS[c]["harmful_decisions"]])
def test_a_harmful_decision_scores_zero_whatever_else_is_right(case_id: str) -> None:
    for decision in KEYS[case_id]["harmful_decisions"]:
        score = score_case({**solution(case_id), "decision": decision}, KEYS[case_id])
        assert score.points == 0 and score.harmful and score.max_points == 4
        assert "key-feature gating" in score.feedback


def test_a_harmful_reason_scores_zero_for_the_whole_case() -> None:
    answer = solution("apixaban_rejuvenation")
    answer["reasons"] = [*answer["reasons"], "APIXABAN_CAN_PAUSE"]
    score = score_case(answer, KEYS["apixaban_rejuvenation"])
    assert score.points == 0 and score.harmful


@pytest.mark.parametrize("case_id", list(KEYS))
def test_selecting_everything_scores_low(case_id: str) -> None:
    """Every option at once is refused by the caps; filling the caps never pays."""
    case, key = get_case(case_id), KEYS[case_id]
    everything = {"decision": key["decision"], "reasons": list(case.reason_codes),
                  "management": list(case.management_codes)}
    with pytest.raises(ValueError, match="choose at most"):
        score_case(everything, key)
    in_menu_order = {"decision": key["decision"],
                     "reasons": list(case.reason_codes[:case.max_reasons]),
                     "management": list(case.management_codes[:case.max_management])}
    assert score_case(in_menu_order, key).points <= 2
    allowed_reasons = {*key["decisive"], *key["neutral_reasons"]}
    allowed_steps = {*key["management"], *key["neutral_actions"]}
    scores = []
    for reasons in itertools.combinations(case.reason_codes, case.max_reasons):
        for steps in itertools.combinations(case.management_codes, case.max_management):
            score = score_case({"decision": key["decision"], "reasons": list(reasons),
                                "management": list(steps)}, key).points
            scores.append(score)
            if score == 4:  # full marks only when nothing wrong was chosen
                assert set(reasons) <= allowed_reasons and set(steps) <= allowed_steps
    assert sum(scores) / len(scores) <= 1.5


def test_an_empty_answer_scores_nothing_and_says_why() -> None:
    key = KEYS["herpes_at_site"]
    for blank in ({}, None, "", {"decision": "", "reasons": [], "management": []}):
        with pytest.raises(ValueError, match=r"^answer: "):
            score_case(blank, key)  # type: ignore[arg-type]
        assert format_problems("herpes_at_site", blank)
    nothing = {"decision": "decline", "reasons": [], "management": []}
    assert score_case(nothing, key).points == 0


def test_decisions_and_codes_are_read_leniently() -> None:
    answer = {"decision": " Proceed with precautions ",
              "reasons": ["anticoagulant", "Prescriber_Consulted"],
              "management": ["continue_apixaban", "CONSENT_BRUISING"]}
    assert score_case(answer, KEYS["apixaban_rejuvenation"]).points == 4


def test_scoring_is_pure() -> None:
    answer, key = solution("ntm_nodules"), KEYS["ntm_nodules"]
    before = (copy.deepcopy(answer), copy.deepcopy(key))
    assert score_case(answer, key) == score_case(answer, key)
    assert (answer, key) == before


@settings(max_examples=80, deadline=None)
@given(case_id=st.sampled_from(list(KEYS)), data=st.data())
def test_scores_stay_in_range_and_follow_the_rules(case_id: str, data: st.DataObject) -> None:
    case, key = get_case(case_id), KEYS[case_id]
    answer = {
        "decision": data.draw(st.sampled_from(DECISIONS)),
        "reasons": data.draw(st.lists(st.sampled_from(case.reason_codes),
                                      max_size=case.max_reasons, unique=True)),
        "management": data.draw(st.lists(st.sampled_from(case.management_codes),
                                         max_size=case.max_management, unique=True)),
    }
    score = score_case(answer, key)
    assert 0 <= score.points <= score.max_points
    for part in score.parts:  # floor 0 per part, whole points (one notebook cell each)
        assert 0 <= part.points <= part.max_points and part.points == int(part.points)
    assert score.points == sum(p.points for p in score.parts)
    harmful = (answer["decision"] in key["harmful_decisions"]
               or bool(set(answer["reasons"]) & set(key.get("harmful_reasons", [])))
               or bool(set(answer["management"]) & set(key["harmful_actions"])))
    assert score.harmful == harmful and (not harmful or score.points == 0)
    wrong = [c for c in wrong_steps(case_id) if c not in answer["management"]]
    if wrong and not harmful and len(answer["management"]) < case.max_management:
        more = {**answer, "management": [*answer["management"], wrong[0]]}
        assert score_case(more, key).points <= score.points


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(answer=JSONISH | st.fixed_dictionaries(
    {"decision": JSONISH, "reasons": JSONISH, "management": JSONISH}))
def test_malformed_answers_get_a_clear_message_never_a_traceback(answer: object) -> None:
    problems = format_problems("herpes_at_site", answer)
    assert all(isinstance(p, str) and p for p in problems)
    try:
        score = score_case(answer, KEYS["herpes_at_site"])  # type: ignore[arg-type]
    except ValueError as error:
        assert problems and str(error).startswith("answer: ")
    else:
        assert not problems and 0 <= score.points <= 4


# ---------------------------------------------------------------- answer and key shapes


GOOD = {"decision": "defer", "reasons": ["ACTIVE_HERPES"], "management": ["REBOOK_WHEN_HEALED"]}


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("z", "must be a dict"),
        (None, "must be a dict"),
        ({"decision": "defer", "reasons": []}, "missing key 'management'"),
        ({**GOOD, "notes": "x"}, "unknown key 'notes'"),
        ({**GOOD, "decision": 3}, "'decision' must be one decision in quotes"),
        ({**GOOD, "decision": "maybe"}, "'decision' 'maybe' is not one of"),
        ({**GOOD, "reasons": "ACTIVE_HERPES"}, "'reasons' must be a list of codes"),
        ({**GOOD, "reasons": [1]}, "'reasons' item 1 must be a code in quotes"),
        ({**GOOD, "reasons": ["FEVER"]}, "'reasons': 'FEVER' is not a code"),
        ({**GOOD, "reasons": ["ACTIVE_HERPES", "active_herpes"]}, "listed twice"),
        ({**GOOD, "reasons": ["ACTIVE_HERPES", "HOLIDAY_SOON", "FORMER_SMOKER", "LEVOTHYROXINE"]},
         "'reasons': choose at most 3"),
        ({**GOOD, "management": ["ACTIVE_HERPES"]}, "'management': 'ACTIVE_HERPES' is not a code"),
        ({**GOOD, "management": ("REBOOK_WHEN_HEALED",)}, "'management' must be a list"),
    ],
)
def test_bad_answers_raise_value_error_naming_the_field(answer: object, field: str) -> None:
    with pytest.raises(ValueError, match=re.escape(field)):
        score_case(answer, KEYS["herpes_at_site"])  # type: ignore[arg-type]
    problems = format_problems("herpes_at_site", answer)
    assert any(field in p for p in problems)


def test_an_object_pretending_to_be_the_key_decision_is_refused() -> None:
    class Always(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    answer = {**solution("herpes_at_site"), "decision": Always("defer")}
    with pytest.raises(ValueError, match="'decision' must be one decision in quotes"):
        score_case(answer, KEYS["herpes_at_site"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"case": "nope"}, "case_id: unknown case"),
        ({"decision": "maybe"}, "key: field 'decision'"),
        ({"decisive": ["NOT_A_CODE"]}, "key: field 'decisive': NOT_A_CODE not in the case menu"),
        ({"decisive": []}, "key: field 'decisive' must not be empty"),
        ({"harmful_decisions": ["defer"]}, "contains the key decision"),
        ({"harmful_actions": ["REBOOK_WHEN_HEALED"]}, "cannot be both required and harmful"),
        ({"neutral_actions": ["REBOOK_WHEN_HEALED"]}, "cannot be both required and neutral"),
        ({"neutral_reasons": ["ACTIVE_HERPES"]}, "cannot be both decisive and neutral"),
        ({"points": 1}, "key: field 'points'"),
        ({"management_points": 0}, "key: field 'management_points'"),
        ({"points": 5}, "must be even"),
        ({"extra": 1}, "key: unknown field 'extra'"),
    ],
)
def test_bad_keys_raise_value_error_naming_the_field(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        score_case(GOOD, {**KEYS["herpes_at_site"], **change})


def test_a_key_must_classify_its_options() -> None:
    key = {k: v for k, v in KEYS["herpes_at_site"].items() if k != "neutral_reasons"}
    with pytest.raises(ValueError, match="key: missing field 'neutral_reasons'"):
        score_case(GOOD, key)


def test_format_problems_is_empty_for_a_good_answer_and_never_raises() -> None:
    assert format_problems("herpes_at_site", GOOD) == []
    assert format_problems("herpes_at_site", {**GOOD, "reasons": [], "management": []}) == []
    for odd in (3, 2.5, b"x", [], (), {1: 2}, {"decision": ["defer"]}, object(), {"reasons": [[]]}):
        problems = format_problems("herpes_at_site", odd)
        assert problems and all(isinstance(p, str) and p for p in problems)


def test_format_messages_teach_the_format_without_the_key() -> None:
    problems = format_problems("herpes_at_site", "defer")
    assert problems == [
        'must be a dict like {"decision": "...", "reasons": ["CODE", ...], "management": '
        '["CODE", ...]}; you gave str \'defer\''
    ]
    listing = format_problems("herpes_at_site", {**GOOD, "reasons": ["X"]})[0]
    assert all(code in listing for code in get_case("herpes_at_site").reason_codes)


# ---------------------------------------------------------------- branching


def test_consequence_follows_the_recorded_decision() -> None:
    story = {d: f"after {d}" for d in DECISIONS}
    assert consequence({"decision": "Proceed with precautions"}, story) == \
        "What happened next after your decision (proceed_with_precautions): after " \
        "proceed_with_precautions"
    assert consequence("defer", story).endswith("after defer")
    for odd in ("z", 3, None, {"decision": 1}, {"reasons": []}):
        assert consequence(odd, story).startswith("What happens next: no decision was recorded")
    with pytest.raises(ValueError, match="consequences: must be a table with one text"):
        consequence("defer", {"defer": "x"})


@pytest.mark.parametrize("case_id", [c for c in KEYS if get_case(c).branching])
def test_follow_up_continues_the_story_without_the_key(case_id: str) -> None:
    case = get_case(case_id)
    shown = follow_up(case_id)
    assert case.follow_up is not None and case.follow_up.question in questions()
    practice = questions()[case.follow_up.question]
    assert practice.stem in repr(shown) and escape(practice.stem) in shown._repr_html_()
    assert "whatever you decided" in case.follow_up.intro.lower()
    assert "second decision point" in repr(shown)
    # neither the intro nor the practice question names the case's decision or codes
    seen = (case.follow_up.intro + practice.stem + " ".join(o.text for o in practice.options))
    key = KEYS[case_id]
    for code in (*key["decisive"], *key["management"], *key["harmful_actions"]):
        assert code not in seen


def test_follow_up_refuses_a_case_without_one() -> None:
    plain = [c for c in KEYS if not get_case(c).branching]
    for case_id in plain:
        with pytest.raises(ValueError, match="has no follow-up"):
            follow_up(case_id)


# ---------------------------------------------------------------- the notebook


def _grade_cells(number: int) -> dict[str, Any]:
    prefix = f"q4_1_{number}_"
    found = {}
    for cell in read_notebook(NOTEBOOK).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.startswith(prefix):
            found[grade_id.removeprefix(prefix)] = cell
    return found


def _hidden(source: str) -> str:
    return source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]


def _hidden_values(source: str, prefix: str) -> list[Any]:
    values = []
    for node in ast.walk(ast.parse(_hidden(source))):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.startswith(prefix) for t in node.targets):
            values.append(ast.literal_eval(node.value))
    return values


def _cells_for(case_id: str) -> tuple[int, dict[str, Any]]:
    number = get_case(case_id).number
    cells = _grade_cells(number)
    assert cells, f"no graded cells for case {number}"
    return number, cells


def _tests(cells: dict[str, Any]) -> list[Any]:
    return [c for name, c in cells.items() if name.endswith("_check")]


def test_the_notebook_is_reviewed_and_shows_no_screening_table() -> None:
    nb = read_notebook(NOTEBOOK)
    text = "\n".join(c.source for c in nb.cells)
    assert "**Last reviewed:** 2026-12-02" in nb.cells[0].source
    assert "screening_table" not in text and "Screening aid says" not in text
    assert "reveal(" not in text and "assess(" not in text


@pytest.mark.parametrize("case_id", list(KEYS))
def test_notebook_hidden_keys_equal_the_test_keys(case_id: str) -> None:
    _, cells = _cells_for(case_id)
    tests = _tests(cells)
    assert len(tests) == 4
    for cell in tests:
        assert _hidden_values(cell.source, "_KEY_") == [KEYS[case_id]]


@pytest.mark.parametrize("case_id", list(KEYS))
def test_notebook_consequences_cover_every_decision(case_id: str) -> None:
    _, cells = _cells_for(case_id)
    stories = [v for cell in _tests(cells) for v in _hidden_values(cell.source, "_NEXT_")]
    assert len(stories) == 1
    story = stories[0]
    assert set(story) == set(DECISIONS)
    assert len(set(story.values())) == len(DECISIONS)
    for decision in DECISIONS:
        assert consequence({"decision": decision}, story).endswith(story[decision])


@pytest.mark.parametrize("case_id", list(KEYS))
def test_notebook_case_cells_follow_the_pattern(case_id: str) -> None:
    number, cells = _cells_for(case_id)
    key = KEYS[case_id]
    stem = next(c for name, c in cells.items() if name.endswith("_stem"))
    assert stem.cell_type == "markdown" and stem.metadata.nbgrader["locked"]
    assert case_markdown(case_id) in stem.source
    assert f"answer_q4_1_{number}" in stem.source
    names = [name for name in cells if name.endswith("_check")]
    assert [n.split("_", 1)[1] for n in names] == [
        "check", "reasons_check", "management_check", "management_2_check"]
    points = [c.metadata.nbgrader["points"] for c in _tests(cells)]
    assert points == [1, 1, 1, 1] and sum(points) == key["points"]
    for cell in _tests(cells):
        meta = cell.metadata.nbgrader
        assert meta["grade"] and meta["locked"] and not meta["solution"]
    answer = next(c for name, c in cells.items() if c.cell_type == "code"
                  and c.metadata.nbgrader["solution"])
    # the last assignment is the solution's (the first is the learner's `= None` default)
    line = [x for x in answer.source.splitlines() if x.startswith(f"answer_q4_1_{number} =")][-1]
    solved = ast.literal_eval(line.split("=", 1)[1].strip())
    assert score_case(solved, key).points == key["points"]
    justification = cells["justification"]
    meta = justification.metadata.nbgrader
    assert justification.cell_type == "markdown"
    assert meta["solution"] and meta["grade"] and meta["points"] == 2
    scheme = [c for c in cells.values() if c.metadata.nbgrader.get("task")]
    assert len(scheme) == 1 and "BEGIN MARK SCHEME" in scheme[0].source


@pytest.mark.parametrize("case_id", [c for c in KEYS if get_case(c).branching])
def test_branching_cases_show_their_follow_up_after_the_case(case_id: str) -> None:
    case = get_case(case_id)
    assert case.follow_up is not None
    sources = [c.source for c in read_notebook(NOTEBOOK).cells]
    call = sources.index(f'follow_up("{case_id}")')
    question_id = case.follow_up.question
    assert sources[call + 1].startswith(f'answer_{question_id} = ""')
    assert sources[call + 2] == f'check("{question_id}", answer_{question_id})'
    justification = next(i for i, s in enumerate(sources)
                         if s.startswith(f"**Justification 4.1.{case.number}**")
                         or f"**Justification 4.1.{case.number}**" in s)
    assert justification < call


def _run(source: str, namespace: dict[str, Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<test cell>", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("case_id", list(KEYS))
def test_visible_checks_explain_a_string_answer_without_raising(case_id: str) -> None:
    number, cells = _cells_for(case_id)
    for cell in _tests(cells):
        visible = cell.source.split("### BEGIN HIDDEN TESTS", 1)[0]
        namespace = {"check_case": check_case, f"answer_q4_1_{number}": "z"}
        printed = _run(visible, namespace)  # a learner's kernel: one sentence, no exception
        assert printed.startswith(f"answer_q4_1_{number}: ")
        assert "Error" not in printed and "Format OK" not in printed


def _outcomes(case_id: str, answer: object) -> tuple[list[bool], str]:
    """Run the case's four test cells, in order, on one answer: pass/fail and output."""
    number, cells = _cells_for(case_id)
    results, printed = [], []
    for cell in _tests(cells):
        namespace = {"check_case": check_case, f"answer_q4_1_{number}": answer}
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(cell.source, "<test cell>", "exec"), namespace)
        except (AssertionError, ValueError) as error:  # ValueError: an answer not scorable
            results.append(False)
            printed.append(out.getvalue() + str(error))
        else:
            results.append(True)
            printed.append(out.getvalue())
    return results, "\n".join(printed)


@pytest.mark.parametrize("case_id", list(KEYS))
def test_hidden_tests_grade_like_score_case(case_id: str) -> None:
    key = KEYS[case_id]
    right, printed = _outcomes(case_id, solution(case_id))
    assert right == [True, True, True, True]
    assert "Rationale" in printed and re.search(r"\[(R\d+|GK)", printed)
    assert "What happened next after your decision" in printed
    cap = get_case(case_id).max_management
    harmful = {**solution(case_id),
               "management": [*key["management"][:cap - 1], key["harmful_actions"][0]]}
    assert _outcomes(case_id, harmful)[0] == [False, False, False, False]
    if key["harmful_decisions"]:
        assert _outcomes(case_id, {**solution(case_id),
                                   "decision": key["harmful_decisions"][0]})[0] == [False] * 4
    assert _outcomes(case_id, {**solution(case_id), "reasons": []})[0] == \
        [True, False, True, True]
    one_wrong = {**solution(case_id), "reasons": [*key["decisive"], wrong_reasons(case_id)[0]]}
    assert _outcomes(case_id, one_wrong)[0] == [True, False, True, True]
    if wrong_steps(case_id):
        extra = {**solution(case_id), "management": [*key["management"], wrong_steps(case_id)[0]]}
        assert _outcomes(case_id, extra)[0] == [True, True, True, False]
    blank, message = _outcomes(case_id, {})
    assert blank == [False] * 4 and "Not answered yet" in message and "Traceback" not in message
    for answer in (solution(case_id), harmful, {**solution(case_id), "reasons": []}):
        passed = sum(_outcomes(case_id, answer)[0])
        assert passed == score_case(answer, key).points  # nbgrader grade == CaseScore.points
