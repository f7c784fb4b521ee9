"""Regression tests for the clinical corrections of clinical-brief.md §9 in 00-orientation,
01-principles and their shared data (claims, glossary, practice questions, schedules).

Each wrong statement that a blind clinical review found is described by a small detector;
the detectors are unit-tested on planted wrong sentences and on the correction's own
wording, then run over every teaching text of these assignments: lesson prose, the
rationales printed by hidden tests, the keyed options of graded and practice items, the
badges and glossary entries the notebooks show, and the data records they read.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course import item_rules
from course.content import content
from course.questions import hash_answer, questions
from course.schedules import load_schedules

from .conftest import ROOT

NOTEBOOKS = [ROOT / "source" / "00-orientation" / "00-start-here.ipynb",
             *sorted((ROOT / "source" / "01-principles").glob("*.ipynb"))]
QUIZ = ROOT / "source" / "01-principles" / "03-quiz.ipynb"
LESSON = ROOT / "source" / "01-principles" / "01-what-is-mesotherapy.ipynb"
MY_TOPICS = {"principles", "history", "techniques", "definition", "regulation"}


@dataclass(frozen=True)
class Text:
    where: str
    text: str


# ---------------------------------------------------------------- collecting the texts


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _calls(nb: nbformat.NotebookNode, name: str) -> list[str]:
    found = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                    found += [a.value for a in node.args if isinstance(a, ast.Constant)]
    return found


def _printed_strings(source: str) -> list[str]:
    """The string literals printed by a (hidden) test cell: the rationales."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            out += [a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return out


def _keyed_options(nb: nbformat.NotebookNode, where: str) -> Iterator[Text]:
    raw = json.loads(nbformat.writes(nb))
    for item in item_rules.items_from_notebook(raw, where):
        if item.key:
            yield Text(f"{where} {item.grade_id} key", item.options[item.key])


def notebook_texts(path: Path) -> list[Text]:
    """Prose (graded stems excluded: their distractors are wrong on purpose), rationales
    and keyed options of one source notebook."""
    nb, name = _read(path), f"{path.parent.name}/{path.stem}"
    texts: list[Text] = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "markdown" and not gid.endswith("_stem"):
            texts.append(Text(f"{name} cell {cell.id}", cell.source))
        elif cell.cell_type == "code" and "BEGIN HIDDEN TESTS" in cell.source:
            texts += [Text(f"{name} {gid}", s) for s in _printed_strings(cell.source)]
    return texts + list(_keyed_options(nb, name))


def practice_key(qid: str) -> str:
    q = questions()[qid]
    return next(o.letter for o in q.options if hash_answer(q.salt, o.letter) == q.answer_hash)


def question_texts() -> list[Text]:
    texts = []
    for qid, q in questions().items():
        if not qid.startswith(("q0_", "q1_")):
            continue
        texts += [Text(f"{qid} stem", q.stem), Text(f"{qid} key", q.option(practice_key(qid)).text)]
        texts += [Text(f"{qid} ({o.letter}) rationale", o.rationale) for o in q.options]
    return texts


def data_texts() -> list[Text]:
    """Claims and glossary entries shown by these notebooks, and claims of my topics."""
    data = content()
    shown_claims = {c for p in NOTEBOOKS for c in _calls(_read(p), "evidence")}
    shown_terms = {t for p in NOTEBOOKS for t in _calls(_read(p), "glossary")}
    claims = shown_claims | {cid for cid, c in data.claims.items() if c.topic in MY_TOPICS}
    texts = [Text(f"claim {cid}", f"[{', '.join(data.claims[cid].refs)}] {s}")  # refs on each
             for cid in sorted(claims) for s in sentences(data.claims[cid].statement)]
    texts += [Text(f"glossary {t}", data.glossary[t].definition) for t in sorted(shown_terms)]
    return texts


def all_texts() -> list[Text]:
    return [t for p in NOTEBOOKS for t in notebook_texts(p)] + question_texts() + data_texts()


def whole_texts() -> list[Text]:
    """all_texts() with a claim's sentences joined again (one text per place)."""
    joined: dict[str, list[str]] = {}
    for t in all_texts():
        joined.setdefault(t.where, []).append(t.text)
    return [Text(where, " ".join(parts)) for where, parts in joined.items()]


# ---------------------------------------------------------------- detectors

_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|'[^'\n]{12,}'")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_NEGATED = re.compile(r"\b(not|no|never|nor)\b|n't\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Sentences with quoted wording removed (a quotation is not the course's claim)."""
    return [s for s in _SENTENCE.split(_QUOTED.sub(" ", text)) if s.strip()]


_PISTOR = re.compile(r"\bPistor\b|\b1952\b", re.IGNORECASE)
_MECHANISM = re.compile(r"mechanism|OCEBM (level )?5\b|\blevel 5\b", re.IGNORECASE)
_NOT_MECHANISM = re.compile(r"\b(not|no)\s+(?:[\w-]+\s+){0,2}?(mechanism|\(?level 5|OCEBM)",
                            re.IGNORECASE)


def pistor_as_mechanism(text: str) -> list[str]:
    """Sentences that tie Pistor's observation to mechanism-based reasoning (OCEBM 5)."""
    return [s for s in sentences(text) if _PISTOR.search(s) and _MECHANISM.search(s)
            and not _NOT_MECHANISM.search(s) and "motto" not in s]


_SKIN_LAYER = re.compile(r"\b(layer|part) of (the |adult |the adult )?skin\b|\bskin layer\b",
                         re.IGNORECASE)


def mesoderm_as_skin_layer(text: str) -> list[str]:
    """Sentences that call the mesoderm a layer of (adult) skin without negating it."""
    return [s for s in sentences(text) if re.search(r"mesoderm", s, re.IGNORECASE)
            and _SKIN_LAYER.search(s) and not _NEGATED.search(s)]


_HA_SERIES = re.compile(r"\bR1[12]\b|Amin|El-Domyati")
_CONTROLLED = re.compile(r"(?<!un)controlled (stud|trial|series)|randomi[sz]ed|\bRCTs?\b|"
                         r"\btrials?\b", re.IGNORECASE)


def ha_series_called_controlled(text: str) -> list[str]:
    """Sentences calling the R11/R12 before–after series controlled studies or trials."""
    return [s for s in sentences(text) if _HA_SERIES.search(s) and _CONTROLLED.search(s)]


def wrong_outbreak_figures(text: str) -> list[str]:
    return [s for s in sentences(text)
            if re.search(r"\b15 of 111\b|\bevery outbreak was\b|poor injection practice has "
                         r"caused outbreaks", s, re.IGNORECASE) and not _NEGATED.search(s)]


def dc_cited_for_ntm(text: str) -> list[str]:
    """Sentences about mycobacterial infection that cite the DC 2005 report (R29)."""
    return [s for s in sentences(text)
            if re.search(r"\bR29\b", s) and re.search(r"mycobact|\bNTM\b", s, re.IGNORECASE)]


def lidocaine_without_uk_label(text: str) -> bool:
    """A lidocaine maximum (mg/kg or 300 mg) given without the UK 200 mg label figure."""
    return (bool(re.search(r"lidocaine", text, re.IGNORECASE))
            and bool(re.search(r"mg/kg|300 mg", text)) and "200 mg" not in text)


def licensed_injectable_antiandrogen(text: str) -> list[str]:
    return [s for s in sentences(text) if re.search(r"dutasteride|minoxidil", s, re.IGNORECASE)
            and re.search(r"(?<!un)licensed", s, re.IGNORECASE) and not _NEGATED.search(s)]


# ---------------------------------------------------------------- the detectors are precise


@pytest.mark.parametrize(("detector", "wrong", "right"), [
    (pistor_as_mechanism,
     "Pistor's 1952 observation is mechanism-based reasoning (OCEBM level 5).",
     "It is not mechanism-based reasoning (level 5), because Pistor recorded what happened."),
    (pistor_as_mechanism,
     "Evidence type of Pistor's observation: OCEBM 5.",
     "Pistor's observation was a patient's report of an outcome; no mechanism was tested."),
    (mesoderm_as_skin_layer,
     "Deposits go into the mesoderm, the middle layer of the skin.",
     "The dermis develops from the mesoderm, but the germ layer is not a layer of adult skin."),
    (mesoderm_as_skin_layer,
     "The mesoderm is the vascular layer of adult skin.",
     'The article says the drug goes "into the mesoderm, the middle layer of the skin".'),
    (ha_series_called_controlled,
     "Small controlled studies found no benefit [R11, R12].",
     "Two small uncontrolled before–after series found no benefit [R11, R12]."),
    (ha_series_called_controlled,
     "In the facial rejuvenation trial of Amin and colleagues, each deposit was 0.01 mL.",
     "In the small facial rejuvenation study of Amin and colleagues, each deposit was 0.01 mL."),
    (wrong_outbreak_figures,
     "In Paris, 15 of 111 people treated were infected.",
     "In Paris, 16 of 105 outpatients were infected [R40]."),
    (wrong_outbreak_figures,
     "Poor injection practice has caused outbreaks of infection [R40].",
     "Not every outbreak was a failure of injection practice [R32]."),
    (dc_cited_for_ntm,
     "Mycobacterial outbreaks followed mesotherapy [R29, R40].",
     "Mycobacterial outbreaks followed mesotherapy [R32, R40]."),
    (licensed_injectable_antiandrogen,
     "Dutasteride is licensed, and used off-label by injection.",
     "No licensed injectable dutasteride exists."),
])
def test_each_detector_flags_the_error_and_not_its_correction(detector, wrong: str,
                                                              right: str) -> None:
    assert detector(wrong), wrong
    assert not detector(right), right


def test_the_lidocaine_detector_wants_the_uk_label() -> None:
    assert lidocaine_without_uk_label("For plain lidocaine about 4.5 mg/kg, up to 300 mg (US).")
    assert not lidocaine_without_uk_label("Plain lidocaine: UK SmPC/BNF 200 mg; US 4.5 mg/kg "
                                          "up to 300 mg.")
    assert not lidocaine_without_uk_label("Procaine and lidocaine are used off-label.")


def test_the_collected_texts_cover_prose_rationales_keys_and_data() -> None:
    wheres = " | ".join(t.where for t in all_texts())
    for part in ("01-principles/01-what-is-mesotherapy cell", "q1_3_5_mesoderm_check",
                 "q1_3_5_mesoderm_check key", "q1_1_1 key", "claim pistor_1952_procaine",
                 "claim mesoderm_not_skin_layer", "glossary mesoderm",
                 "00-orientation/00-start-here q0_2_badge_check"):
        assert part in wheres, part


# ---------------------------------------------------------------- the course stays corrected


@pytest.mark.parametrize("detector", [pistor_as_mechanism, mesoderm_as_skin_layer,
                                      ha_series_called_controlled, wrong_outbreak_figures,
                                      dc_cited_for_ntm, licensed_injectable_antiandrogen],
                         ids=lambda f: f.__name__)
def test_no_text_of_these_assignments_repeats_a_corrected_error(detector) -> None:
    found = [(t.where, s) for t in all_texts() for s in detector(t.text)]
    assert found == [], found


def test_lidocaine_maxima_name_the_uk_label() -> None:
    found = [t.where for t in all_texts() if lidocaine_without_uk_label(t.text)]
    assert found == [], found


def test_no_badge_or_claim_grades_pistor_as_ocebm_5() -> None:
    data = content()
    for cid, claim in data.claims.items():
        if cid.startswith("pistor_") or _PISTOR.search(claim.statement or ""):
            if "motto" in cid:
                continue
            assert claim.ocebm != 5, cid
    assert "outcome" in data.claims["pistor_1952_procaine"].statement


def test_the_practice_question_on_pistor_is_not_keyed_to_mechanism() -> None:
    q = questions()["q1_1_1"]
    assert not _MECHANISM.search(q.option(practice_key("q1_1_1")).text)
    assert any(_MECHANISM.search(o.text) for o in q.options)  # the distractor is still there


def test_the_mesoderm_correction_says_the_skin_is_mesoderm_derived() -> None:
    data = content()
    derived = re.compile(r"(dermis|hypodermis)[^.]{0,80}\b(develop|derive)", re.IGNORECASE)
    assert derived.search(data.claims["mesoderm_not_skin_layer"].statement)
    assert derived.search(data.glossary["mesoderm"].definition)
    lesson = "\n".join(c.source for c in _read(LESSON).cells if c.cell_type == "markdown")
    assert derived.search(lesson)


def test_collagenase_is_taught_as_discontinued_and_buttock_only() -> None:
    data = content()
    for text in [*(t.text for t in whole_texts() if re.search(r"Qwo|collagenase", t.text, re.I)),
                 load_schedules()["collagenase"].use]:
        assert "discontinued" in text, text
    assert "buttock" in data.claims["collagenase_schedule"].statement


def test_paris_outbreak_is_quoted_with_the_corrected_figure() -> None:
    stems = [Text(f"{nb.stem} stem", c.source) for nb in NOTEBOOKS for c in _read(nb).cells
             if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_stem")]
    paris = [(t.where, s) for t in [*all_texts(), *stems] for s in sentences(t.text)
             if re.search(r"\bParis\b", s) and re.search(r"\b\d+ of \d+\b", s)]
    assert paris, "the Paris outbreak figure is no longer taught here"
    for where, sentence in paris:
        assert "16 of 105" in sentence, where


def test_badges_on_the_ha_skin_series_grade_them_as_case_series() -> None:
    """R11/R12 are uncontrolled before–after series: OCEBM 4, never 3 (controlled)."""
    data = content()
    shown = {c for p in NOTEBOOKS for c in _calls(_read(p), "evidence")}
    graded = [cid for cid in shown if {"R11", "R12"} & set(data.claims[cid].refs)
              and data.claims[cid].ocebm is not None]
    assert graded, "no badge on the R11/R12 series is shown any more"
    assert [cid for cid in graded if data.claims[cid].ocebm != 4] == []


# ---------------------------------------------------------------- who may practise


def test_who_may_practise_section_is_taught_with_badges_and_a_practice_question() -> None:
    nb = _read(LESSON)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Who may practise" in markdown
    for ref in ("[R59]", "[R1]", "[R5]"):
        assert ref in markdown, ref
    assert re.search(r"not yet in force", markdown) and "Level 7" in markdown
    assert re.search(r"face to face", markdown) and re.search(r"jurisdiction|where you practise",
                                                              markdown)
    shown = set(_calls(nb, "evidence"))
    assert {"uk_licensing_act_2022", "uk_hee_level7", "regulation_pom_face_to_face",
            "italy_sim_qualified_physician", "us_who_may_perform",
            "regulation_check_own_jurisdiction"} <= shown
    assert "q1_1_5" in _calls(nb, "question") and "q1_1_5" in _calls(nb, "check")


def test_the_s180_scheme_is_never_taught_as_in_force() -> None:
    data = content()
    assert "not yet in force" in data.claims["uk_licensing_act_2022"].statement
    for t in whole_texts():
        if re.search(r"s\.\s?180|section 180", t.text, re.IGNORECASE):
            assert "not yet in force" in t.text, t.where
    assert not re.search(r"in force|already", questions()["q1_1_5"].option(
        practice_key("q1_1_5")).text.replace("not yet in force", ""))


def test_the_graded_who_may_practise_item_is_keyed_to_checking_local_rules() -> None:
    raw = json.loads(QUIZ.read_text(encoding="utf-8"))
    item = next(i for i in item_rules.items_from_notebook(raw)
                if i.grade_id == "q1_3_19_who_may_practise_check")
    key = item.options[item.key]
    assert "face to face" in key and "rules" in key
    assert not re.search(r"already|licen[cs]e", key)
