"""Item-writing rules over every graded single-best-answer item in source/, per notebook
and per rule (each failure lists the offending grade ids), plus unit tests of each rule
on small synthetic items."""

from __future__ import annotations

import json

import pytest

from course import item_rules as ir

from .conftest import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "source").glob("*/*.ipynb")
                   if ir.items_from_notebook(json.loads(p.read_text(encoding="utf-8"))))
RULES = {**ir.ITEM_RULES, **ir.QUIZ_RULES}


def _items(path):
    return ir.items_from_notebook(json.loads(path.read_text(encoding="utf-8")),
                                  str(path.relative_to(ROOT)))


def test_the_graded_quizzes_and_the_final_are_checked() -> None:
    names = {str(p.relative_to(ROOT / "source")) for p in NOTEBOOKS}
    for quiz in ("01-principles/03-quiz.ipynb", "02-substances/04-quiz.ipynb",
                 "03-risk-assessment/05-quiz.ipynb", "05-final-assessment/01-final.ipynb"):
        assert quiz in names


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "source")))
def test_item_writing_rule(path, rule: str) -> None:
    items = _items(path)
    offending = RULES[rule](items)
    detail = ""
    if rule == "no absolutes only in distractors":
        by_id = {i.grade_id: i for i in items}
        detail = "; absolute words: " + ", ".join(
            f"{gid} {sorted(set().union(*map(ir.absolutes, by_id[gid].distractors.values())))}"
            for gid in offending)
    assert offending == [], f"{path.relative_to(ROOT)} breaks '{rule}': {offending}{detail}"


# ---------------------------------------------------------------- synthetic items


def item(gid="q9_1_1_x_check", *, lead="Which step is most appropriate?",
         vignette="Ms A, 30, asks about a session.", options=None, key="a") -> ir.Item:
    options = options or {"a": "Defer until healed.", "b": "Proceed with a margin.",
                          "c": "Proceed with antivirals.", "d": "Decline her for good."}
    return ir.Item(gid, "nb", f"{vignette}\n\n{lead}", lead, options, key)


def test_parse_stem_and_key_from_a_notebook() -> None:
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {"nbgrader": {"grade_id": "q9_1_1_x_stem"},
                                               "course": {"item": {"type": "recall"}}},
         "source": "**Question 9.1.1** {1 point}\n\nMs A asks.\n\nWhich is best?\n\n"
                   "- (a) One.\n- (b) Two.\n\nAssign your answer to `answer_q9_1_1`."},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "q9_1_1_x_check"}},
         "source": 'assert x in ("a", "b")\n### BEGIN HIDDEN TESTS\n_r = a == "b"\n'},
        {"cell_type": "markdown", "metadata": {"nbgrader": {"grade_id": "q9_1_2_n_stem"}},
         "source": "How many mg? Answer in mg."},
    ]}
    [one] = ir.items_from_notebook(nb, "nb")
    assert one.grade_id == "q9_1_1_x_check" and one.key == "b"
    assert one.lead_in == "Which is best?" and one.options == {"a": "One.", "b": "Two."}
    assert "Assign" not in one.stem and "Question" not in one.stem
    assert one.meta == {"type": "recall"}


def test_lead_in_must_be_a_focused_question() -> None:
    assert ir.rule_lead_in_question([item()]) == []
    assert ir.rule_lead_in_question([item(lead="Choose the best step.")]) == ["q9_1_1_x_check"]
    generic = item(lead="Which of the following is true?", vignette="Mesotherapy is old.")
    assert ir.rule_lead_in_question([generic]) == ["q9_1_1_x_check"]
    # a generic lead-in is focused by the patient's question in the vignette
    asked = item(lead="Which reply is accurate?", vignette="She asks if it is safe.")
    assert ir.rule_lead_in_question([asked]) == []


def test_option_count_and_key() -> None:
    assert ir.rule_option_count([item()]) == []
    three = item(options={"a": "x", "b": "y", "c": "z"})
    assert ir.rule_option_count([three]) == ["q9_1_1_x_check"]
    assert ir.rule_option_count([item(key="e")]) == ["q9_1_1_x_check"]
    assert ir.rule_option_count([item(key=None)]) == ["q9_1_1_x_check"]


def test_no_all_or_none_of_the_above() -> None:
    opts = {"a": "Defer.", "b": "Refer.", "c": "Decline.", "d": "None of the above."}
    assert ir.rule_no_above_options([item(options=opts)]) == ["q9_1_1_x_check"]
    assert ir.rule_no_above_options([item()]) == []


def test_no_except_or_not_stems() -> None:
    assert ir.rule_no_negative_lead_in([item(lead="Which step is NOT advised?")]) \
        == ["q9_1_1_x_check"]
    assert ir.rule_no_negative_lead_in([item(lead="All are advised EXCEPT which?")]) \
        == ["q9_1_1_x_check"]
    assert ir.rule_no_negative_lead_in([item(lead="Which step should you not take?")]) \
        == ["q9_1_1_x_check"]
    assert ir.rule_no_negative_lead_in([item()]) == []


def test_absolutes_only_in_distractors_are_a_cue() -> None:
    cue = {"a": "Defer until healed.", "b": "Never treat her.", "c": "Proceed.", "d": "Refer."}
    assert ir.rule_absolutes_only_in_distractors([item(options=cue)]) == ["q9_1_1_x_check"]
    both = dict(cue, a="Defer until it has completely healed.")
    assert ir.rule_absolutes_only_in_distractors([item(options=both)]) == []
    plain = {"a": "Defer.", "b": "Refer.", "c": "Proceed.", "d": "Decline."}
    assert ir.rule_absolutes_only_in_distractors([item(options=plain)]) == []


def _quiz(keys: str, lengths: str = "") -> list[ir.Item]:
    """Items keyed by ``keys``; ``lengths`` marks per item whether the key is the
    s(hortest), l(ongest) or m(iddle) option."""
    out = []
    for n, key in enumerate(keys):
        shape = lengths[n] if lengths else "m"
        texts = {"a": "x" * 20, "b": "x" * 30, "c": "x" * 40, "d": "x" * 50}
        order = {"s": 10, "m": 35, "l": 60}[shape]
        texts[key] = "y" * order
        out.append(ir.Item(f"q9_{n}_check", "nb", "S?", "S?", texts, key))
    return out


def test_key_length_share() -> None:
    assert ir.rule_key_length(_quiz("abcdabcdab", "smmmmmmmml")) == []
    too_short = ir.rule_key_length(_quiz("abcdabcdab", "ssssmmmmmm"))
    assert len(too_short) == 1 and "shortest option in 4 of 10" in too_short[0]
    too_long = ir.rule_key_length(_quiz("abcdabcdab", "llllmmmmmm"))
    assert len(too_long) == 1 and "longest option in 4 of 10" in too_long[0]
    assert ir.key_is_shortest(_quiz("a", "s")[0]) and ir.key_is_longest(_quiz("a", "l")[0])


def test_key_letter_balance() -> None:
    assert ir.rule_key_letters(_quiz("abcdabcdab")) == []
    lopsided = ir.rule_key_letters(_quiz("aaaabcdabc"))
    assert any(p.startswith("(a)") for p in lopsided)
    missing = ir.rule_key_letters(_quiz("abcabcabca"))
    assert any(p.startswith("(d) is the key in 0") for p in missing)
    assert ir.rule_key_letters(_quiz("aaaaa")) == []  # fewer than 6 items: not checked


def test_check_items_names_every_rule() -> None:
    results = ir.check_items([item()])
    assert set(results) == set(RULES)
    assert all(v == [] for v in results.values())


def test_similarity_catches_copies_and_light_paraphrases() -> None:
    stem = "Ms A, 29, has a crusting cold sore on her lip. What is the decision today?"
    opts = ["Proceed with a margin.", "Defer until healed.", "Give an antiviral.", "Decline."]
    same = ir.similarity(stem, opts, stem.replace("29", "31"), list(reversed(opts)))
    assert same["stem"] > 0.9 and same["options"] == 1.0
    other = ir.similarity(stem, opts, "A man on apixaban asks about knee pain. Which plan?",
                          ["Stop apixaban.", "Liaise with his GP.", "Decline.", "Refer."])
    assert other["stem"] < 0.5 and other["options"] < 0.6
