"""Regression checks for clinical-brief.md §9 ("Corrections and additions") in Module 02.

The scanner (:mod:`course.clinical_corrections`) is tested on the wrong statements the blind
review found (each must be caught) and on their corrections (none may be flagged); then the
Module 02 files are scanned: its notebooks, the substance catalogue, the dose module, and the
Module 02 records of the shared data files (claims on substances and evidence, the q2_*
practice questions, the glossary terms its notebooks show).

The course-wide scan (``test_every_course_file_is_free_of_the_corrected_claims``) covers
every notebook and data file except those listed in ``NOT_YET_SCANNED``, which other helpers
are still revising.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from course.clinical_corrections import (
    RULES,
    findings,
    scan_notebook,
    scan_toml,
    sentences,
)
from course.content import content

from .conftest import ROOT

DATA = ROOT / "course" / "data"
MODULE_NOTEBOOKS = sorted((ROOT / "source" / "02-substances").glob("*.ipynb"))
MODULE_CLAIM_TOPICS = {"substances", "evidence"}


def _rules(text: str) -> set[str]:
    return {f.rule for f in findings(text, "test")}


# ---------------------------------------------------------------- the rules catch the old text

WRONG = [
    # lidocaine: US figures taught without naming the label (§9)
    ("For plain lidocaine a maximum of about 4.5 mg/kg, and no more than 300 mg in US "
     "labelling, is commonly quoted.", "lidocaine_us_figure_unlabelled"),
    ("The limit is the lower of 4.5 mg/kg × weight and 300 mg.", "lidocaine_us_figure_unlabelled"),
    ("Working. 4.5 mg/kg × 80 kg = 360 mg, which is above the 300 mg maximum.",
     "lidocaine_us_figure_unlabelled"),
    # injectable hair drugs called licensed
    ("The product would be a licensed dutasteride preparation, used off-label.",
     "hair_injectable_licensed"),
    ("Minoxidil is a licensed drug; injection into the scalp is off-label.",
     "hair_injectable_licensed"),
    # collagenase
    ("Use of collagenase in mesotherapy is off-label.", "collagenase_off_label"),
    ("| Enzyme | Qwo approved 2020, discontinued; mesotherapy use off-label [R26] |",
     "collagenase_off_label"),
    ("Collagenase for cellulite: two randomised trials of a licensed product [R26].",
     "collagenase_available"),
    ("Qwo was approved by the FDA for buttock cellulite.", "collagenase_available"),
    # hyaluronic acid series called controlled
    ("When treated skin was examined, small controlled studies found no benefit: Amin 2006 "
     "(n=10) [R11].", "ha_series_called_controlled"),
    ("Small controlled studies with histology found no significant change in the skin [R11].",
     "ha_series_called_controlled"),
    # outbreaks
    ("In Paris in 2006–07, 15 of 111 people treated were infected [R40].",
     "paris_outbreak_figures"),
    ("| 4 | Case series | Mycobacterial outbreaks after mesotherapy [R29, R32, R40] |",
     "dc_cluster_as_ntm"),
    ("Every outbreak described in the last notebook was a failure of ordinary injection safety.",
     "every_outbreak_injection_safety"),
]

RIGHT = [
    "The maximum for plain lidocaine depends on the label: UK SmPC/BNF 200 mg; US label "
    "4.5 mg/kg, not over 300 mg.",
    "Under the US label it is the lower of 4.5 mg/kg × weight and 300 mg.",
    "In a UK clinic the UK SmPC/BNF maximum of 200 mg applies.",
    "No licensed injectable minoxidil or dutasteride exists anywhere: every injectable "
    "preparation is compounded or unlicensed.",
    "No injectable dutasteride is licensed anywhere.",
    "Dutasteride is not a licensed injectable product.",
    "Qwo was FDA-approved in July 2020 for buttock cellulite only and has since been "
    "discontinued: any other use is an unapproved use of a product no longer marketed.",
    "A discontinued product is declined like off-label deoxycholic acid; collagenase (Qwo) "
    "has been discontinued.",
    "Infection at the site is a contraindication on the collagenase label [R26].",
    "Two tiny uncontrolled before–after series with histology found no benefit [R11, R12].",
    "In Paris, 16 of 105 outpatients treated (15.2%) were infected [R40].",
    "Washington DC 2005 was not an NTM cluster [R29].",
    "Plant extracts have been implicated in outbreaks of skin reactions [R29, R32], and a "
    "Mycobacterium abscessus outbreak in Spain came from homeopathic vials [R32].",
    "Not every outbreak was a failure of injection technique.",
    "A controlled thigh study of a mixture (n=20) found no effect [R14].",
]


@pytest.mark.parametrize(("text", "rule"), WRONG, ids=[f"{r}-{i}" for i, (_, r) in
                                                       enumerate(WRONG)])
def test_each_wrong_statement_is_caught(text: str, rule: str) -> None:
    assert rule in _rules(text)


@pytest.mark.parametrize("text", RIGHT, ids=[f"right-{i}" for i in range(len(RIGHT))])
def test_corrected_statements_are_not_flagged(text: str) -> None:
    assert _rules(text) == set()


def test_every_rule_has_a_wrong_example() -> None:
    assert {rule for _, rule in WRONG} == set(RULES)


def test_the_us_label_must_be_near_the_figure() -> None:
    far = "US label. " + "x " * 200 + "The cap is 300 mg."
    assert "lidocaine_us_figure_unlabelled" in _rules(far)
    assert _rules("The US cap is 300 mg.") == set()


def test_the_discontinuation_may_be_anywhere_in_the_unit() -> None:
    assert _rules("Qwo was approved for buttock cellulite. It was later discontinued.") == set()


def test_sentences_split_tables_and_lists() -> None:
    assert sentences("A one. B two.\n| row one |\n| row two |\n\n- item") == [
        "A one.", "B two.", "row one |", "row two |", "item"]


def test_a_printed_rationale_is_read_across_string_joins(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [],
            "execution_count": None,
            "source": 'print(\n    "In Paris 15 of "\n    "111 were infected."\n)'}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    [finding] = scan_notebook(path)
    assert finding.rule == "paris_outbreak_figures" and "cell 0 (c1)" in finding.where


# ---------------------------------------------------------------- Module 02 files are clean


@pytest.mark.parametrize("path", MODULE_NOTEBOOKS, ids=lambda p: p.stem)
def test_module_notebooks_are_free_of_the_corrected_claims(path: Path) -> None:
    found = scan_notebook(path)
    assert found == [], "\n".join(map(str, found))


def _glossary_ids_shown_in_module() -> set[str]:
    ids: set[str] = set()
    for path in MODULE_NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "glossary":
                    ids |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return ids


def test_module_data_records_are_free_of_the_corrected_claims() -> None:
    glossary_ids = _glossary_ids_shown_in_module()
    assert "biorevitalisation" in glossary_ids  # the scope is not empty by mistake
    found = [
        *scan_toml(DATA / "substances.toml"),
        *scan_toml(DATA / "claims.toml",
                   lambda key, record: record.get("topic") in MODULE_CLAIM_TOPICS),
        *scan_toml(DATA / "questions.toml", lambda key, record: key.startswith("q2_")),
        *scan_toml(DATA / "glossary.toml", lambda key, record: key in glossary_ids),
    ]
    assert found == [], "\n".join(map(str, found))


@pytest.mark.parametrize("module", ["dose.py", "substances.py"])
def test_module_code_texts_are_free_of_the_corrected_claims(module: str) -> None:
    text = (ROOT / "course" / module).read_text(encoding="utf-8")
    found = findings(text, module)
    assert found == [], "\n".join(map(str, found))


def test_hyaluronic_acid_claims_are_graded_as_uncontrolled_series() -> None:
    """§9: R11/R12 were uncontrolled before–after series, OCEBM 4 (not 3)."""
    graded = [c for c in content().claims.values()
              if c.kind == "evidence" and {"R11", "R12"} & set(c.refs)
              and set(c.refs) <= {"R11", "R12", "R13", "R8"}]
    assert graded, "the hyaluronic acid claims are missing"
    for claim in graded:
        assert claim.ocebm is not None and claim.ocebm >= 4, claim.id


# Files left out of the course-wide scan, each with the reason (none today: every notebook
# and data file is scanned).
NOT_YET_SCANNED: set[str] = set()


def _scanned(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.relative_to(ROOT).as_posix() not in NOT_YET_SCANNED]


def test_the_files_left_out_of_the_course_wide_scan_exist() -> None:
    for name in NOT_YET_SCANNED:
        assert (ROOT / name).is_file(), f"{name} no longer exists: drop it from NOT_YET_SCANNED"


def test_every_course_file_is_free_of_the_corrected_claims() -> None:
    notebooks = _scanned(sorted((ROOT / "source").glob("*/*.ipynb")))
    data_files = _scanned(sorted(DATA.glob("*.toml")))
    assert len(notebooks) >= 13 and len(data_files) >= 10  # the scope is not empty by mistake
    found = [f for path in notebooks for f in scan_notebook(path)]
    found += [f for path in data_files for f in scan_toml(path)]
    assert found == [], "\n".join(map(str, found))
