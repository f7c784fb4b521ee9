"""Module 04 case studies: the catalogue, key-feature scoring, branching and the notebook.

KEYS are the answer keys of the graded cases. They exist only here and in the hidden
tests of source/04-case-studies/01-cases.ipynb (tests/ and source/ are never shipped to
learners); a test below checks that the notebook's hidden keys are identical. Decisions
follow clinical-brief.md §3, §5, §6 and §7 and the screening rules of course/risk.py.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.cases import (
    CASES_PATH,
    MAX_MANAGEMENT,
    MAX_REASONS,
    case_markdown,
    case_text,
    cases,
    format_problems,
    get_case,
    load_cases,
    reveal,
    score_case,
    screening_table,
)
from course.content import ContentError
from course.notebooks import read_notebook
from course.risk import DECISIONS, assess

from .conftest import ROOT

NOTEBOOK = ROOT / "source" / "04-case-studies" / "01-cases.ipynb"
UNSAFE = ["proceed", "proceed_with_precautions"]


def _key(case: str, decision: str, decisive: list[str], management: list[str], *,
         harmful_decisions: list[str], harmful_actions: list[str],
         harmful_reasons: list[str] | None = None) -> dict[str, Any]:
    key: dict[str, Any] = {
        "case": case, "decision": decision, "decisive": decisive,
        "harmful_decisions": harmful_decisions, "harmful_actions": harmful_actions,
        "management": management, "points": 4, "management_points": 2,
    }
    if harmful_reasons:
        key["harmful_reasons"] = harmful_reasons
    return key


KEYS: dict[str, dict[str, Any]] = {
    # Licensed deoxycholic acid on its label, nothing found at screening [R23, R20].
    "submental_dca": _key(
        "submental_dca", "proceed", ["LICENSED_ON_LABEL", "SCREEN_CLEAR"],
        ["CONSENT_LABEL_RISKS", "LABEL_SCHEDULE"],
        harmful_decisions=[], harmful_actions=["TREAT_JOWLS_TOO"]),
    # PC/DC is unapproved and unlicensed [R24, R25, R60, R10]; deoxycholic acid is approved
    # for submental fat only [R23].
    "lipodissolve_request": _key(
        "lipodissolve_request", "decline", ["PCDC_UNAPPROVED"],
        ["EXPLAIN_UNAPPROVED", "DCA_CHIN_ONLY"],
        harmful_decisions=UNSAFE,
        harmful_actions=["INJECT_PCDC_WITH_CONSENT", "DCA_ABDOMEN_INSTEAD", "HALF_STRENGTH"]),
    # Anticoagulant: caution [R23, R26]; never stop it for a cosmetic procedure [GK].
    "apixaban_rejuvenation": _key(
        "apixaban_rejuvenation", "proceed_with_precautions",
        ["ANTICOAGULANT", "PRESCRIBER_CONSULTED"], ["CONTINUE_APIXABAN", "CONSENT_BRUISING"],
        harmful_decisions=[], harmful_actions=["STOP_APIXABAN_48H", "SKIP_MORNING_DOSE"],
        harmful_reasons=["APIXABAN_CAN_PAUSE"]),
    # Teratogenic substance while a pregnancy is planned [GK]: declined (course/risk.py).
    "dutasteride_pregnancy": _key(
        "dutasteride_pregnancy", "decline", ["TRYING_TO_CONCEIVE", "DUTASTERIDE_TERATOGEN"],
        ["EXPLAIN_NOT_WHEN_CONCEIVING", "DISCUSS_ALTERNATIVES"],
        harmful_decisions=UNSAFE, harmful_actions=["LOWER_DOSE", "CONTRACEPTION_DURING_COURSE"]),
    # Positive BDD screen: refer; procedures "virtually never helpful" [R61].
    "bdd_screen": _key(
        "bdd_screen", "refer", ["BDD_SCREEN_POSITIVE"], ["REFER_SENSITIVELY", "DOCUMENT_SCREEN"],
        harmful_decisions=UNSAFE, harmful_actions=["TRIAL_SESSION", "SUGGEST_LASER_ELSEWHERE"]),
    # Active herpes at the site: defer [GK].
    "herpes_at_site": _key(
        "herpes_at_site", "defer", ["ACTIVE_HERPES"], ["REBOOK_WHEN_HEALED", "RECORD_AND_RESCREEN"],
        harmful_decisions=UNSAFE,
        harmful_actions=["TREAT_AROUND_LESION", "ANTISEPTIC_THEN_TREAT", "SHORTER_NEEDLE"]),
    # Suspected NTM infection: culture ± PCR and specialist care [R35, R37, R38]; standard
    # antibiotics typically fail [GK]; no injection into an infected site [R23].
    "ntm_nodules": _key(
        "ntm_nodules", "refer", ["NODULES_WEEKS_AFTER"],
        ["CULTURE_MYCOBACTERIA", "REFER_SPECIALIST"],
        harmful_decisions=UNSAFE,
        harmful_actions=["LONGER_STANDARD_ANTIBIOTIC", "ENZYME_INTO_NODULE", "REASSURE_SETTLE"]),
    # Anaphylaxis: adrenaline 500 micrograms IM = 0.5 mL of 1 mg/mL, thigh, repeat at 5 min;
    # antihistamines third-line [R58]; call for help [GK].
    "anaphylaxis_session": _key(
        "anaphylaxis_session", "refer", ["ANAPHYLAXIS_FEATURES"],
        ["ADRENALINE_IM_THIGH", "CALL_FOR_HELP", "REPEAT_AFTER_5_MIN"],
        harmful_decisions=UNSAFE,
        harmful_actions=["ANTIHISTAMINE_FIRST", "ADRENALINE_5_ML", "FINISH_SLOWLY"]),
}

ENGINE_APPLIES = ("submental_dca", "lipodissolve_request", "apixaban_rejuvenation",
                  "dutasteride_pregnancy", "bdd_screen", "herpes_at_site")
"""Cases whose record is a pre-treatment screen: the screening aid must agree with the key.

Not here: ntm_nodules (a complication of treatment elsewhere: the aid can only say not to
inject into an infected site, it cannot diagnose) and anaphylaxis_session (an emergency
during a session whose screen was clear)."""


def solution(case_id: str) -> dict[str, Any]:
    """The smallest full-credit answer: the key decision, decisive reasons, required steps."""
    key = KEYS[case_id]
    return {"decision": key["decision"], "reasons": list(key["decisive"]),
            "management": list(key["management"])}


def parts(score) -> dict[str, float]:
    return {p.name: p.points for p in score.parts}


# ---------------------------------------------------------------- the catalogue


def test_catalogue_has_the_required_spread_of_cases() -> None:
    catalogue = cases()
    assert len(catalogue) >= 8
    assert [c.number for c in catalogue.values()] == list(range(1, len(catalogue) + 1))
    assert set(KEYS) == set(catalogue)
    assert sum(c.branching for c in catalogue.values()) >= 2
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
    ntm = assess(dict(get_case("ntm_nodules").patient))
    assert ntm.decision == "defer" and KEYS["ntm_nodules"]["decision"] == "refer"
    # The screen before the session was clear: anaphylaxis cannot be screened out.
    assert assess(dict(get_case("anaphylaxis_session").patient)).decision == "proceed"


def test_the_catalogue_holds_no_answer_key() -> None:
    raw = tomllib.loads(CASES_PATH.read_text(encoding="utf-8"))
    for record in raw["cases"].values():
        assert not {"key", "decision", "decisive", "harmful", "answer", "correct"} & set(record)
    for case in cases().values():  # decisive and harmful options sit among the others
        codes = case.reason_codes
        decisive = KEYS[case.id]["decisive"]
        assert len(codes) - len(decisive) >= 3, case.id


@pytest.mark.parametrize("case_id", list(KEYS))
def test_every_key_is_valid_for_its_case_and_its_solution_scores_full(case_id: str) -> None:
    score = score_case(solution(case_id), KEYS[case_id])
    assert score.points == score.max_points == 4 and not score.harmful


@pytest.mark.parametrize("case_id", list(KEYS))
def test_menus_offer_a_tempting_harmful_or_irrelevant_option(case_id: str) -> None:
    key, case = KEYS[case_id], get_case(case_id)
    assert key["harmful_actions"], "each case offers at least one harmful action"
    irrelevant = set(case.reason_codes) - set(key["decisive"]) - set(key.get("harmful_reasons", []))
    assert len(irrelevant) >= 3


def test_vignettes_read_as_markdown_and_as_text() -> None:
    md = case_markdown("herpes_at_site")
    assert md.startswith("**Patient.** Mrs F., a hairdresser, aged 45.")
    assert "- `ACTIVE_HERPES`: She has an active cold sore" in md
    assert f"Choose up to {MAX_REASONS}" in md and "`proceed_with_precautions`" in md
    text = case_text("herpes_at_site")
    assert text.startswith("Case 6: ") and "`" not in text and "**" not in text
    assert "Medications. None." in case_text("lipodissolve_request")


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
        ('decline = "You tell her that you will not treat her again.', 'declined = "x',
         r"field 'branches' must be a table with one text for each decision"),
        ('PHOTOGRAPH_LESION = "Photograph', 'ACTIVE_HERPES = "Photograph',
         r"ACTIVE_HERPES appear in both menus"),
    ],
)
def test_invalid_case_data_is_refused_naming_case_and_field(case_file: Path, old: str, new: str,
                                                           message: str) -> None:
    _edit(case_file, old, new)
    with pytest.raises(ContentError, match=message):
        load_cases(case_file)


# ---------------------------------------------------------------- scoring rules


def test_full_credit_needs_decision_decisive_reasons_and_required_steps() -> None:
    score = score_case(solution("herpes_at_site"), KEYS["herpes_at_site"])
    assert score.points == 4 and parts(score) == {"decision": 1, "reasons": 1, "management": 2}
    assert all(p.full for p in score.parts)
    assert "4 of 4 points" in score.feedback


def test_right_decision_with_incomplete_reasons_earns_half_of_the_decision_share() -> None:
    answer = solution("apixaban_rejuvenation")
    answer["reasons"] = ["ANTICOAGULANT"]  # PRESCRIBER_CONSULTED missing
    score = score_case(answer, KEYS["apixaban_rejuvenation"])
    assert parts(score) == {"decision": 1, "reasons": 0, "management": 2}
    assert score.points == 3 and not score.harmful
    assert "PRESCRIBER_CONSULTED" in score.feedback


def test_decisive_reasons_without_the_right_decision_earn_nothing_for_the_decision() -> None:
    answer = {**solution("herpes_at_site"), "decision": "decline"}
    score = score_case(answer, KEYS["herpes_at_site"])
    assert parts(score) == {"decision": 0, "reasons": 0, "management": 2}
    assert not score.harmful


def test_missing_a_required_step_loses_the_management_part_only() -> None:
    answer = {**solution("anaphylaxis_session"),
              "management": ["ADRENALINE_IM_THIGH", "CALL_FOR_HELP"]}
    score = score_case(answer, KEYS["anaphylaxis_session"])
    assert parts(score) == {"decision": 1, "reasons": 1, "management": 0}
    assert "REPEAT_AFTER_5_MIN" in score.feedback


def test_a_harmful_decision_scores_zero_whatever_else_is_right() -> None:
    answer = {**solution("herpes_at_site"), "decision": "proceed_with_precautions"}
    score = score_case(answer, KEYS["herpes_at_site"])
    assert score.points == 0 and score.harmful and score.max_points == 4
    assert not any(p.points for p in score.parts) and not any(p.full for p in score.parts)
    assert "key-feature gating" in score.feedback


@pytest.mark.parametrize(("case_id", "action"), [
    ("apixaban_rejuvenation", "STOP_APIXABAN_48H"),
    ("herpes_at_site", "TREAT_AROUND_LESION"),
    ("ntm_nodules", "LONGER_STANDARD_ANTIBIOTIC"),
    ("anaphylaxis_session", "ANTIHISTAMINE_FIRST"),
])
def test_a_harmful_action_scores_zero_for_the_whole_case(case_id: str, action: str) -> None:
    answer = solution(case_id)
    answer["management"] = [*answer["management"], action]
    score = score_case(answer, KEYS[case_id])
    assert score.points == 0 and score.harmful and action in score.feedback


def test_a_harmful_reason_scores_zero_for_the_whole_case() -> None:
    answer = solution("apixaban_rejuvenation")
    answer["reasons"] = [*answer["reasons"], "APIXABAN_CAN_PAUSE"]
    score = score_case(answer, KEYS["apixaban_rejuvenation"])
    assert score.points == 0 and score.harmful


def test_an_irrelevant_reason_or_step_costs_nothing() -> None:
    answer = solution("herpes_at_site")
    answer["reasons"] = ["HOLIDAY_SOON", "ACTIVE_HERPES", "FORMER_SMOKER"]
    answer["management"] = [*answer["management"], "PHOTOGRAPH_LESION"]
    score = score_case(answer, KEYS["herpes_at_site"])
    assert score.points == 4
    assert "no penalty" in score.feedback and "HOLIDAY_SOON" in score.feedback


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


@settings(max_examples=60, deadline=None)
@given(case_id=st.sampled_from(list(KEYS)), data=st.data())
def test_scores_stay_in_range_and_irrelevant_choices_never_change_them(case_id: str,
                                                                      data: st.DataObject) -> None:
    case, key = get_case(case_id), KEYS[case_id]
    answer = {
        "decision": data.draw(st.sampled_from(DECISIONS)),
        "reasons": data.draw(st.lists(st.sampled_from(case.reason_codes), max_size=2,
                                      unique=True)),
        "management": data.draw(st.lists(st.sampled_from(case.management_codes),
                                          max_size=MAX_MANAGEMENT - 1, unique=True)),
    }
    score = score_case(answer, key)
    assert 0 <= score.points <= score.max_points
    assert score.points == sum(p.points for p in score.parts)
    assert score.harmful == (score.points == 0 and (
        answer["decision"] in key["harmful_decisions"]
        or bool(set(answer["reasons"]) & set(key.get("harmful_reasons", [])))
        or bool(set(answer["management"]) & set(key["harmful_actions"]))))
    neutral = [c for c in case.reason_codes if c not in answer["reasons"]
               and c not in key["decisive"] and c not in key.get("harmful_reasons", [])]
    if neutral:
        more = {**answer, "reasons": [*answer["reasons"], neutral[0]]}
        assert score_case(more, key).points == score.points


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
         f"'reasons': choose at most {MAX_REASONS}"),
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
        ({"harmful_actions": ["REBOOK_WHEN_HEALED"]}, "both decisive/required and harmful"),
        ({"points": 1}, "key: field 'points'"),
        ({"management_points": 0}, "key: field 'management_points'"),
        ({"extra": 1}, "key: unknown field 'extra'"),
    ],
)
def test_bad_keys_raise_value_error_naming_the_field(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        score_case(GOOD, {**KEYS["herpes_at_site"], **change})


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


# ---------------------------------------------------------------- branching and screening


def test_reveal_branches_on_the_recorded_decision() -> None:
    proceed = repr(reveal("herpes_at_site", {"decision": "proceed"}))
    defer = repr(reveal("herpes_at_site", {"decision": "defer"}))
    assert "blisters and crusts have spread" in proceed and "your decision: proceed" in proceed
    assert "heals" in defer and proceed != defer
    assert repr(reveal("herpes_at_site", "Proceed with precautions")).count("spread") == 1
    nerve = repr(reveal("submental_dca", solution("submental_dca")))
    assert "lower lip does not pull down" in nerve
    html = reveal("submental_dca", "decline")._repr_html_()
    assert html.startswith("<blockquote") and "another clinic" in html


@pytest.mark.parametrize("answer", ["z", 3, None, {"decision": 1}, {"reasons": []}])
def test_reveal_without_a_valid_decision_asks_for_one(answer: object) -> None:
    assert repr(reveal("herpes_at_site", answer)).startswith("No decision recorded yet")


def test_reveal_refuses_a_case_that_does_not_branch() -> None:
    with pytest.raises(ValueError, match="does not branch"):
        reveal("bdd_screen", "refer")


def test_screening_table_shows_each_case_with_the_teaching_aid_label() -> None:
    table = repr(screening_table())
    assert "Teaching aid — not a validated clinical tool" in table
    assert len([line for line in table.splitlines() if re.match(r"^\d+ \|", line)]) == len(KEYS)


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


def _hidden_keys(source: str) -> list[dict[str, Any]]:
    keys = []
    for node in ast.walk(ast.parse(_hidden(source))):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.startswith("_KEY_") for t in node.targets):
            keys.append(ast.literal_eval(node.value))
    return keys


def _cells_for(case_id: str) -> tuple[int, dict[str, Any]]:
    number = get_case(case_id).number
    cells = _grade_cells(number)
    assert cells, f"no graded cells for case {number}"
    return number, cells


def _tests(cells: dict[str, Any]) -> list[Any]:
    return [c for name, c in cells.items() if name.endswith("_check")]


@pytest.mark.parametrize("case_id", list(KEYS))
def test_notebook_hidden_keys_equal_the_test_keys(case_id: str) -> None:
    _, cells = _cells_for(case_id)
    tests = _tests(cells)
    assert len(tests) == 3
    for cell in tests:
        assert _hidden_keys(cell.source) == [KEYS[case_id]]


@pytest.mark.parametrize("case_id", list(KEYS))
def test_notebook_case_cells_follow_the_pattern(case_id: str) -> None:
    number, cells = _cells_for(case_id)
    key = KEYS[case_id]
    share = (key["points"] - key["management_points"]) / 2
    stem = next(c for name, c in cells.items() if name.endswith("_stem"))
    assert stem.cell_type == "markdown" and stem.metadata.nbgrader["locked"]
    assert case_markdown(case_id) in stem.source
    assert f"answer_q4_1_{number}" in stem.source
    points = [c.metadata.nbgrader["points"] for c in _tests(cells)]
    assert points == [share, share, key["management_points"]]  # decision, reasons, management
    assert sum(points) == key["points"]
    for cell in _tests(cells):
        meta = cell.metadata.nbgrader
        assert meta["grade"] and meta["locked"] and not meta["solution"]
    answer = next(c for name, c in cells.items() if c.cell_type == "code"
                  and c.metadata.nbgrader["solution"])
    line = next(x for x in answer.source.splitlines() if x.startswith(f"answer_q4_1_{number} ="))
    solved = ast.literal_eval(line.split("=", 1)[1].strip())
    assert score_case(solved, key).points == key["points"]
    justification = cells["justification"]
    meta = justification.metadata.nbgrader
    assert justification.cell_type == "markdown"
    assert meta["solution"] and meta["grade"] and meta["points"] == 2
    scheme = [c for c in cells.values() if c.metadata.nbgrader.get("task")]
    assert len(scheme) == 1 and "BEGIN MARK SCHEME" in scheme[0].source


@pytest.mark.parametrize("case_id", [c for c in KEYS if get_case(c).branching])
def test_branching_cases_reveal_after_the_answer(case_id: str) -> None:
    number = get_case(case_id).number
    calls = [c.source for c in read_notebook(NOTEBOOK).cells if c.cell_type == "code"
             and f'reveal("{case_id}", answer_q4_1_{number})' in c.source]
    assert calls


def _run(source: str, namespace: dict[str, Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<test cell>", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("case_id", list(KEYS))
def test_visible_checks_fail_cleanly_for_a_string_answer(case_id: str) -> None:
    number, cells = _cells_for(case_id)
    for cell in _tests(cells):
        visible = cell.source.split("### BEGIN HIDDEN TESTS", 1)[0]
        namespace = {"format_problems": format_problems, f"answer_q4_1_{number}": "z"}
        with pytest.raises(AssertionError, match=f"^answer_q4_1_{number}"):
            _run(visible, namespace)


@pytest.mark.parametrize("case_id", list(KEYS))
def test_hidden_tests_pass_the_key_and_the_harmful_gate_zeroes_every_cell(case_id: str) -> None:
    number, cells = _cells_for(case_id)
    key = KEYS[case_id]

    def outcomes(answer: dict[str, Any]) -> list[bool]:
        results = []
        for cell in _tests(cells):
            namespace = {"format_problems": format_problems, f"answer_q4_1_{number}": answer}
            try:
                printed = _run(cell.source, namespace)
            except AssertionError:
                results.append(False)
            else:
                assert "Rationale" in printed and re.search(r"\[(R\d+|GK)", printed)
                results.append(True)
        return results

    assert outcomes(solution(case_id)) == [True, True, True]
    harmful = {**solution(case_id),
               "management": [*key["management"][:MAX_MANAGEMENT - 1], key["harmful_actions"][0]]}
    assert outcomes(harmful) == [False, False, False]
    if key["harmful_decisions"]:
        assert outcomes({**solution(case_id), "decision": key["harmful_decisions"][0]}) == \
            [False, False, False]
    no_reasons = {**solution(case_id), "reasons": []}
    assert outcomes(no_reasons) == [True, False, True]
