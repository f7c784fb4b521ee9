"""Assessed pages never state their keys (issue #18, part 7).

Keys come from the instructor notebooks (hidden tests and solutions); the text scanned is
the learner's release copy: every cell source and what its badges and glossary calls show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from nbformat import NotebookNode

from course.cases import get_case
from course.item_rules import items_from_notebook
from course.notebooks import (
    decision_table_rows,
    distinctive,
    key_leaks,
    nbgrader_meta,
    read_notebook,
    visible_cells,
)

from .conftest import ROOT

SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
GRADED = sorted(p for p in SOURCE.glob("*/*.ipynb")
                if any(nbgrader_meta(c).get("grade") for c in read_notebook(p).cells))
IDS = [f"{p.parent.name}/{p.stem}" for p in GRADED]


def case_keys(nb: NotebookNode) -> dict[str, tuple[str, list[str]]]:
    """Per case: the wording of its keyed reasons and steps, and of the other options."""
    keys = {}
    for cell in nb.cells:
        answer = cell.metadata.get("course", {}).get("answer", {})
        if answer.get("kind") != "case" or "BEGIN SOLUTION" not in cell.source:
            continue
        solution = cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION")[0]
        key = ast.literal_eval(solution.split("=", 1)[1].strip())
        case = get_case(answer["case"])
        menu = {o.code: o.text for o in (*case.reasons, *case.management)}
        chosen = set(key["reasons"]) | set(key["management"])
        keys[answer["name"].removeprefix("answer_")] = (
            " ".join(menu[c] for c in sorted(chosen)),
            [text for code, text in menu.items() if code not in chosen])
    return keys


def notebook_keys(nb: NotebookNode) -> dict[str, tuple[str, list[str]]]:
    keys = {item.grade_id.removesuffix("_check"): (item.options[item.key],
                                                   list(item.distractors.values()))
            for item in items_from_notebook(nb) if item.key}
    return keys | case_keys(nb)


def test_graded_notebooks_are_found_with_their_keys() -> None:
    names = {p.parent.name for p in GRADED}
    assert {"04-case-studies", "05-final-assessment", "01-principles"} <= names
    final = notebook_keys(read_notebook(SOURCE / "05-final-assessment" / "01-final.ipynb"))
    cases = notebook_keys(read_notebook(SOURCE / "04-case-studies" / "01-cases.ipynb"))
    assert len(final) >= 25 and len(cases) == 8


@pytest.mark.parametrize("path", GRADED, ids=IDS)
def test_no_graded_notebook_states_a_key(path: Path) -> None:
    keys = notebook_keys(read_notebook(path))
    released = read_notebook(RELEASE / path.parent.name / path.name)
    assert key_leaks(released, keys) == []


@pytest.mark.parametrize("path", GRADED, ids=IDS)
def test_no_table_anywhere_in_a_graded_notebook_decides_a_case(path: Path) -> None:
    """key_leaks scans from the first item on; a table pairing findings with decisions
    (the cases' screening-aid table) must not stand in the teaching before it either."""
    released = read_notebook(RELEASE / path.parent.name / path.name)
    rows = [f"cell {index}: {row[:80]}" for index, (_, text) in enumerate(visible_cells(released))
            for row in decision_table_rows(text)]
    assert rows == []


def test_a_key_point_that_restates_a_key_is_caught() -> None:
    path = SOURCE / "05-final-assessment" / "01-final.ipynb"
    nb = read_notebook(path)
    keys = notebook_keys(nb)
    key, _ = keys["q5_1_1_who_may_practise"]
    nb.cells.append(NotebookNode(cell_type="markdown", metadata={},
                                 source=f"## Key points\n\n- Remember: {key.lower()}"))
    leaks = key_leaks(nb, keys)
    assert len(leaks) == 1 and "q5_1_1_who_may_practise" in leaks[0]


def test_wording_shared_with_a_distractor_is_not_distinctive() -> None:
    runs = distinctive("Refer her to her GP for blood tests today.",
                       ["Refer her to her GP for reassurance only.", "Treat today."])
    assert ("gp", "for", "blood", "tests") in runs
    assert ("refer", "her", "to", "her") not in runs


def test_a_table_that_decides_a_case_is_caught() -> None:
    table = ("| Finding | Decision |\n|---|---|\n| Active cold sore at the site | defer |\n"
             "| Pregnant | `decline` |")
    assert len(decision_table_rows(table)) == 2
    html = "<table><tr><td>BDD screen positive</td><td>Refer</td></tr></table>"
    assert decision_table_rows(html)
    assert decision_table_rows("| Status | Meaning |\n| Licensed | approved |") == []
