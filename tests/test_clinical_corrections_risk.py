"""Regression tests for the December 2026 clinical corrections and additions
(clinical-brief.md §9) in Module 03's screening, consent and quiz notebooks, their
practice questions, and the graded consent record."""

from __future__ import annotations

import collections
import json
import re
from typing import Any

import pytest

from course.answers import check_format
from course.content import content
from course.questions import check_answer, question

from .conftest import ROOT

SOURCE = ROOT / "source" / "03-risk-assessment"
SCREENING, CONSENT, QUIZ = (SOURCE / f"{name}.ipynb" for name in (
    "01-screening-and-contraindications", "04-consent-and-records", "05-quiz"))
MINE = (SCREENING, CONSENT, QUIZ)
PRACTICE = ("q3_1_1", "q3_1_2", "q3_1_3", "q3_1_4", "q3_1_5", "q3_1_6",
            "q3_4_1", "q3_4_2", "q3_4_3", "q3_4_5")
SCENARIO = "adeyemi_txa_melasma"


def _cells(path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _text(path) -> str:
    return "\n".join(_source(c) for c in _cells(path))


def _practice_text(qid: str) -> str:
    q = question(qid)
    return " ".join([q.stem, q.lead_in, *(o.text + " " + o.rationale for o in q.options)])


def _all_text() -> str:
    return "\n".join([*(_text(p) for p in MINE), *(_practice_text(q) for q in PRACTICE)])


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


def _cell(path, grade_id: str) -> str:
    [cell] = [c for c in _cells(path)
              if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    return _source(cell)


def _graded(path) -> dict[str, tuple[str, str]]:
    """grade-id stem → (key letter, check source) for the graded choice items."""
    out = {}
    for cell in _cells(path):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        key = re.search(r'(?:\.strip\(\)\.lower\(\)|choice_value\([^)]*\)) == "([a-e])"',
                        _source(cell))
        if gid.endswith("_check") and key:
            out[gid.removesuffix("_check")] = (key.group(1), _source(cell))
    return out


def _option(path, item: str, letter: str) -> str:
    stem = _cell(path, f"{item}_stem")
    return re.search(rf"^- \({letter}\) (.*)$", stem, re.M).group(1)


# ---------------------------------------------------------------- corrections


def test_bddq_dv_is_taught_as_validated_in_cosmetic_dermatology() -> None:
    text = _all_text()
    assert "not been validated against a gold standard in cosmetic" not in text
    assert "has not been validated" not in text
    screening = _text(SCREENING)
    assert "BDDQ-DV" in screening and "Dufresne" in screening and "2001" in screening
    claim = content().claims["bdd_bddq_accuracy"].statement
    assert "BDDQ-DV" in claim and "Dufresne" in claim and "not been validated" not in claim
    # the practice item no longer rewards the old error
    q = question("q3_1_4")
    wrong = [o.letter for o in q.options if "No version of the BDDQ" in o.text]
    assert wrong and not check_answer(q, wrong[0]).correct
    assert "Dufresne" in q.option(wrong[0]).rationale


def test_antihistamines_are_not_taught_as_initial_anaphylaxis_treatment() -> None:
    text = _all_text()
    assert "third-line" not in text
    key, check = _graded(QUIZ)["q3_5_13_anaphylaxis"]
    assert "Adrenaline 500 micrograms" in _option(QUIZ, "q3_5_13_anaphylaxis", key)
    assert "Chlorphenamine" in _option(QUIZ, "q3_5_13_anaphylaxis", "a") and key != "a"
    assert "not part of the initial" in check and "RCUK 2021" in check


def test_outbreak_facts_follow_the_corrected_brief() -> None:
    text = _all_text()
    assert "15 of 111" not in text and "111" not in text
    assert "16 of 105" in _cell(QUIZ, "q3_5_10_attack_rate_stem")
    assert "16 ÷ 105 = 15.2%" in _cell(QUIZ, "q3_5_10_attack_rate_check")
    key, check = _graded(QUIZ)["q3_5_8_ntm_source"]
    assert "factory" in _option(QUIZ, "q3_5_8_ntm_source", key)
    assert "judged correct" in check and "[R32]" in check
    assert "multi-injection device" in check and "[R40]" in check
    for sentence in _sentences(text):
        if "District of Columbia" in sentence or "Washington" in sentence:
            assert "undetermined" in sentence, sentence


def test_lidocaine_doses_name_the_label() -> None:
    for sentence in _sentences(_all_text()):
        if re.search(r"lidocaine", sentence, re.I) and re.search(r"\d\s*mg\b", sentence):
            assert "200 mg" in sentence and ("UK" in sentence or "BNF" in sentence), sentence
    check = _graded(QUIZ)["q3_5_18_local_anaesthetic_toxicity"][1]
    assert "200 mg" in check and "4.5 mg/kg up to 300 mg" in check


def test_no_injectable_dutasteride_or_minoxidil_is_called_licensed() -> None:
    for sentence in _sentences(_all_text()):
        if re.search(r"dutasteride|minoxidil", sentence, re.I) and "licensed" in sentence:
            assert re.search(r"\bNo injectable|\bunlicensed|not licensed", sentence), sentence
    assert "minoxidil" not in _cell(QUIZ, "q3_5_1_pregnancy_stem")


def test_collagenase_approval_is_buttock_cellulite_only_and_discontinued() -> None:
    for sentence in _sentences(_all_text()):
        if re.search(r"collagenase|Qwo", sentence) and "approv" in sentence:
            assert "buttock" in sentence and "discontinued" in sentence, sentence


# ---------------------------------------------------------------- additions


def test_bdd_suicidality_is_taught_with_a_badge_a_practice_item_and_a_graded_item() -> None:
    screening = _text(SCREENING)
    assert "suicidal thoughts" in screening and "urgent mental-health referral" in screening
    assert 'evidence("bdd_suicide_urgent_referral"' in screening
    assert 'question("q3_1_5")' in screening
    q = question("q3_1_5")
    key = [o for o in q.options if check_answer(q, o.letter).correct]
    assert len(key) == 1 and "urgent mental-health referral" in key[0].text
    routine = [o for o in q.options if "routine letter" in o.text]
    assert routine and not check_answer(q, routine[0].letter).correct
    letter, _ = _graded(QUIZ)["q3_5_6_bdd_suicidal_ideas"]
    assert "urgent mental-health referral" in _option(QUIZ, "q3_5_6_bdd_suicidal_ideas", letter)


def test_screening_interactions_are_taught_with_badges_and_items() -> None:
    screening = _text(SCREENING)
    for claim in ("screen_txa_thrombosis", "screen_hyaluronidase_venom",
                  "screen_aminophylline_epilepsy_heart", "screen_allergen_classes",
                  "screen_antiandrogen_pregnancy", "screen_nsaid_bleeding_age",
                  "screen_minor_hair_loss", "screen_discontinued_outside_approval"):
        assert claim in screening and claim in content().claims
    for phrase in ("thrombophilia", "bee and wasp venom", "epilepsy", "salmon",
                   "skin boosters", "could become pregnant", "75 or over", "under 18",
                   "discontinued"):
        assert phrase in screening, phrase
    q = question("q3_1_6")
    assert [o.letter for o in q.options if check_answer(q, o.letter).correct] == ["a"]
    letter, _ = _graded(QUIZ)["q3_5_7_txa_thrombosis"]
    assert _option(QUIZ, "q3_5_7_txa_thrombosis", letter).startswith("Decline")


def test_aftercare_is_taught_and_assessed() -> None:
    consent = _text(CONSENT)
    for phrase in ("24–48 hours", "Make-up", "saunas", "strenuous exercise", "sun",
                   "bruising", "spreading redness", "fever", "weeks later", "dusky",
                   "vision"):
        assert phrase in consent, phrase
    assert 'evidence("aftercare_avoid_expect", "aftercare_when_to_call"' in consent
    q = question("q3_4_5")
    key = [o for o in q.options if check_answer(q, o.letter).correct]
    assert len(key) == 1 and "culture" in key[0].text
    letter, _ = _graded(QUIZ)["q3_5_22_aftercare"]
    assert "24–48 hours" in _option(QUIZ, "q3_5_22_aftercare", letter)


def test_vascular_occlusion_and_last_items_cite_the_expert_guidelines() -> None:
    refs = content().references
    for ref in ("R85", "R86", "R87"):
        assert ref in refs
    assert "ACE" in refs["R85"].citation and "AAGBI" in refs["R86"].citation
    letter, check = _graded(QUIZ)["q3_5_17_vascular_occlusion"]
    assert "hyaluronidase" in _option(QUIZ, "q3_5_17_vascular_occlusion", letter).lower()
    assert "R85" in check and "ACE Group" in check
    letter, check = _graded(QUIZ)["q3_5_18_local_anaesthetic_toxicity"]
    assert "lipid emulsion" in _option(QUIZ, "q3_5_18_local_anaesthetic_toxicity", letter)
    assert "R86" in check and "R87" in check and "20% lipid emulsion" in check


def test_quiz_keys_are_balanced_and_reviewed() -> None:
    graded = _graded(QUIZ)
    letters = collections.Counter(key for key, _ in graded.values())
    n = len(graded)
    assert n == 20
    for letter in "abcd":
        assert 0.15 <= letters[letter] / n <= 0.35, letters
    for path in MINE:
        assert "**Last reviewed:** 2026-12-02" in _source(_cells(path)[0])


# ---------------------------------------------------------------- the graded consent record


def _solution_record() -> dict[str, str]:
    src = _cell(CONSENT, "q3_4_4_consent_record")
    namespace: dict[str, Any] = {}
    exec(src, namespace)  # the instructor solution: plain literals
    return namespace["answer_q3_4_4"]


def _grade(record: object) -> bool:
    """Run the graded check cell on a record, as the autograder does: True if it scores."""
    namespace: dict[str, Any] = {"answer_q3_4_4": record, "check_format": check_format}
    try:
        exec(_cell(CONSENT, "q3_4_4_consent_record_check"), namespace)
    except AssertionError:
        return False
    return True


def test_the_consent_check_scores_content_for_the_scenario() -> None:
    check = _cell(CONSENT, "q3_4_4_consent_record_check")
    assert f'"{SCENARIO}"' in check
    good = _solution_record()
    assert _grade(good)


@pytest.mark.parametrize("change", [
    {"specific_risks": "Bruising and swelling."},                    # key risks missing
    {"specific_risks": "Mycobacterial infection and scarring."},     # no pigment change
    {"alternatives": "Alternatives discussed."},                      # no real alternative
    {"alternatives": "No treatment."},                                # sun protection missing
    {"aftercare": "Avoid saunas for two days."},                      # no when-to-call
    {"aftercare": "Call if worried about fever."},                    # nothing to avoid
    {"batch_number": True},                                           # a tick is not a note
])
def test_a_partial_consent_record_does_not_score(change: dict[str, object]) -> None:
    assert not _grade({**_solution_record(), **change})


@pytest.mark.parametrize("filler", ["n/a", "discussed", "lorem ipsum dolor sit amet",
                                    "scarring scarring scarring", "yes yes yes yes"])
def test_filler_in_any_element_stops_the_record_scoring(filler: str) -> None:
    good = _solution_record()
    assert not _grade(dict.fromkeys(good, filler))
    for element in good:
        assert not _grade({**good, element: filler}), element
