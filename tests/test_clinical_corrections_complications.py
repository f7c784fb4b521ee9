"""Regression tests for the December 2026 clinical corrections (clinical-brief.md §9).

They fail if a corrected claim comes back in Module 03's complication and emergency
material: the complication data and cards, the claims, glossary terms and practice
questions of these topics, and the source and release copies of 02-complications and
03-safety-and-emergencies (every cell, hidden tests included).

- Washington DC 2005 [R29] was skin reactions of undetermined cause after an unlicensed
  practitioner's injections: never an NTM cluster, and no NTM onset is quoted from it.
- Paris 2006–07: 16 of 105 outpatients; source the tap water used to rinse a
  multi-injection device [R40]. Spain: factory contamination most likely [R32]; so
  "every outbreak was a failure of ordinary injection safety" is wrong.
- Antihistamines are not part of the initial treatment of anaphylaxis (RCUK 2021) [R58].
"""

from __future__ import annotations

import re

import pytest

from course.complications import (
    attack_rates,
    card_text,
    complication_data,
    event_ids,
    ntm_attack_rate_alt_text,
    ntm_onset_text,
    onset_timeline_alt_text,
)
from course.content import content
from course.notebooks import read_notebook
from course.questions import check_answer, questions

from .conftest import ROOT

NOTEBOOKS = [f"{kind}/03-risk-assessment/{name}.ipynb" for kind in ("source", "release")
             for name in ("02-complications", "03-safety-and-emergencies")]
MY_TOPICS = ("complications", "ntm", "emergencies", "safety")
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _notebook_text(relative: str) -> str:
    return "\n".join(cell.source for cell in read_notebook(ROOT / relative).cells)


def _texts() -> dict[str, str]:
    """Every text these corrections govern, by where it comes from."""
    data = content()
    texts = {f"card {e}": card_text(e) for e in event_ids()}
    texts["onset timeline"] = onset_timeline_alt_text()
    texts["attack-rate figure"] = ntm_attack_rate_alt_text()
    texts["NTM onset"] = ntm_onset_text()
    texts["complications.toml"] = (ROOT / "course/data/complications.toml").read_text("utf-8")
    for claim in data.claims.values():
        if claim.topic in MY_TOPICS:
            texts[f"claim {claim.id}"] = claim.statement
    for term in data.glossary.values():
        texts[f"glossary {term.id}"] = term.definition
    for qid, q in questions().items():
        if qid.startswith(("q3_2_", "q3_3_")):
            texts[f"question {qid}"] = " ".join(
                [q.stem, q.lead_in, *(f"{o.text} {o.rationale}" for o in q.options)])
    for relative in NOTEBOOKS:
        texts[relative] = _notebook_text(relative)
    return texts


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(text) if s.strip()]


# ---------------------------------------------------------------- Washington DC 2005


def test_dc_2005_is_not_an_ntm_cluster_in_the_data() -> None:
    data = complication_data()
    assert all("R29" not in c.refs for c in data.clusters.values())
    assert all("R29" not in o.refs for o in data.onsets.values())
    assert "R29" not in data.events["ntm_infection"].refs
    for claim in content().claims.values():
        if claim.topic == "ntm" and claim.id != "ntm_dc_2005_not_ntm":
            assert "R29" not in claim.refs, claim.id
    dc = content().claims["ntm_dc_2005_not_ntm"].statement
    assert "not determined" in dc and "not an NTM cluster" in dc and "unlicensed" in dc


def test_no_text_calls_dc_2005_an_ntm_cluster_or_quotes_an_ntm_onset_from_it() -> None:
    for where, text in _texts().items():
        assert not re.search(r"(Washington\s+)?DC\s+(cluster|outbreak)", text), where
        assert "6–10 weeks" not in text and "6-10 weeks" not in text, where
        for sentence in _sentences(text):
            if "Washington" in sentence and re.search(r"NTM|mycobacter", sentence, re.I):
                assert re.search(r"\bnot\b|undetermined|never", sentence), (where, sentence)


# ---------------------------------------------------------------- outbreak sources


def test_paris_is_16_of_105_outpatients() -> None:
    paris = next(r for r in attack_rates() if r.cluster == "paris")
    assert (paris.cases, paris.treated) == (16, 105)
    for where, text in _texts().items():
        assert "15 of 111" not in text and "15/111" not in text, where
        assert "13.5%" not in text, where


def test_no_text_says_every_outbreak_was_a_failure_of_injection_safety() -> None:
    wrong = re.compile(r"(?<!not )every (one of these|outbreak)[^.]*\b(failure|lapse)", re.I)
    for where, text in _texts().items():
        assert not wrong.search(text), where


def test_the_supply_chain_lesson_is_taught_in_both_notebooks() -> None:
    claim = content().claims["ntm_supply_chain"].statement
    assert "factory" in claim and "supply chain" in claim
    for relative in NOTEBOOKS:
        text = _notebook_text(relative)
        assert '"ntm_supply_chain"' in text, relative
        assert "factory" in text, relative
        assert "rinse a multi-injection device" in text, relative
    assert "factory" in card_text("ntm_infection")


def test_the_paris_source_is_the_rinse_water_not_an_injector_gun() -> None:
    for where, text in _texts().items():
        assert "injector gun cleaned with tap water" not in text, where


# ---------------------------------------------------------------- anaphylaxis


ANTIHISTAMINE_FIRST = re.compile(
    r"antihistamines?\s+(are|is)\s+(first|second|third)[- ]line", re.I)


def test_no_text_ranks_antihistamines_in_the_initial_treatment() -> None:
    for where, text in _texts().items():
        assert not ANTIHISTAMINE_FIRST.search(text), where


def test_anaphylaxis_card_and_claim_say_antihistamines_are_not_initial_treatment() -> None:
    card = card_text("anaphylaxis")
    assert "Antihistamines are not part of the initial treatment [R58]" in card
    for word in ("legs raised", "high-flow oxygen", "two intramuscular doses",
                 "allergy clinic"):
        assert word in card, word
    assert "antihistamine" not in content().claims["anaphylaxis_adrenaline_dose"].statement


def test_no_antihistamine_is_the_key_of_an_anaphylaxis_item() -> None:
    # Practice questions: the keyed option never offers an antihistamine.
    for qid, q in questions().items():
        if not qid.startswith(("q3_2_", "q3_3_")):
            continue
        key = next(o for o in q.options if check_answer(q, o.letter).correct)
        assert not re.search(r"antihistamine|chlorphenamine", key.text, re.I), qid
    # Graded items: the solution's letter never names an antihistamine option.
    nb = read_notebook(ROOT / "source/03-risk-assessment/03-safety-and-emergencies.ipynb")
    stems = {c.metadata["nbgrader"]["grade_id"].removesuffix("_stem"): c.source
             for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "")
             .endswith("_stem")}
    keyed = 0
    for cell in nb.cells:
        found = re.search(r'answer_(q\d+_\d+_\d+) = "([a-e])"', cell.source)
        if not (found and cell.metadata.get("nbgrader", {}).get("solution")):
            continue
        stem = stems[cell.metadata["nbgrader"]["grade_id"]]
        option = re.search(rf"^- \({found.group(2)}\) (.*)$", stem, re.M)
        assert option, found.group(1)
        assert not re.search(r"antihistamine|chlorphenamine", option.group(1), re.I)
        keyed += 1
    assert keyed >= 3


@pytest.mark.parametrize("qid", ["q3_3_3", "q3_3_7"])
def test_anaphylaxis_practice_keys(qid: str) -> None:
    q = questions()[qid]
    key = next(o for o in q.options if check_answer(q, o.letter).correct)
    assert "[R58]" in key.rationale or "R58" in q.refs
    assert "antihistamine" not in key.text.lower()


def test_graded_rationales_name_their_key() -> None:
    nb = read_notebook(ROOT / "source/03-risk-assessment/03-safety-and-emergencies.ipynb")
    keys = {}
    for cell in nb.cells:
        found = re.search(r'answer_(q3_3_\d+) = "([a-e])"', cell.source)
        if found and cell.metadata.get("nbgrader", {}).get("solution"):
            keys[found.group(1)] = found.group(2)
    for cell in nb.cells:
        found = re.search(r'_(q3_3_\d+)_right = .*== "([a-e])"', cell.source)
        if found:
            qid, letter = found.groups()
            assert keys[qid] == letter, qid
            assert f"Rationale. ({letter}) is the best answer" in cell.source, qid
    assert {"q3_3_10", "q3_3_11", "q3_3_12"} <= set(keys)
