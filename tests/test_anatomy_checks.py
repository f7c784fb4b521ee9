"""The anatomy and hygiene checks themselves catch what they are meant to catch."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.notebooks import (
    NotebookError,
    activity_card,
    find_leaks,
    heading_problems,
    hygiene_problems,
    read_notebook,
    secret_lines,
)

CARD = """# Title

> **Activity card**
>
> **Learning objectives.** By the end you will be able to:
> 1. Explain one thing.
> 2. Calculate another.
>
> **Estimated time:** 20 minutes · **Prerequisites:** none · **Last reviewed:** 2026-11-27
"""


def _graded(grade_id: str, source: str = "x = 1", **meta: object) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade_id": grade_id, "grade": True,
                                 "solution": False, "locked": True, "points": 1, **meta}
    return cell


def test_activity_card_is_parsed() -> None:
    card = activity_card(new_notebook(cells=[new_markdown_cell(CARD)]))
    assert card.minutes == 20 and card.prerequisites == "none"
    assert card.objectives == ("Explain one thing.", "Calculate another.")


def test_numbered_lists_after_the_card_are_not_objectives() -> None:
    nb = new_notebook(cells=[new_markdown_cell(CARD), new_markdown_cell("1. Ask about pregnancy.")])
    assert len(activity_card(nb).objectives) == 2


def test_objective_without_a_measurable_verb_is_refused() -> None:
    nb = new_notebook(cells=[new_markdown_cell(CARD.replace("Explain", "Understand"))])
    with pytest.raises(ValueError, match="measurable verb"):
        activity_card(nb)


def test_heading_problems_are_found() -> None:
    nb = new_notebook(cells=[new_markdown_cell("Intro"),
                             new_markdown_cell("# A\n#### Deep\n```\n# not a heading\n```")])
    problems = heading_problems(nb)
    assert "the first cell must open with the H1 title" in problems
    assert any("jumps from H1 to H4" in p for p in problems)


def test_hygiene_finds_outputs_duplicates_and_unlocked_tests() -> None:
    run = new_code_cell("1", execution_count=3)
    nb = new_notebook(cells=[run, _graded("q1"), _graded("q1", locked=False),
                             _graded("bad id!")])
    problems = " ".join(hygiene_problems(nb))
    assert "outputs or an execution count" in problems
    assert "duplicate grade ids: q1" in problems
    assert "must be locked" in problems
    assert "invalid grade_id 'bad id!'" in problems


def test_leak_scan_finds_solution_and_hidden_lines() -> None:
    source = new_notebook(cells=[
        new_code_cell('### BEGIN SOLUTION\nanswer_q1_1 = "b"\n### END SOLUTION'),
        new_code_cell('### BEGIN HIDDEN TESTS\nassert answer_q1_1 == "b"\n### END HIDDEN TESTS'),
    ])
    secrets = secret_lines(source)
    assert find_leaks(secrets, 'x\nassert answer_q1_1 == "b"\n') == ['assert answer_q1_1 == "b"']
    assert find_leaks(secrets, "### BEGIN SOLUTION") == ["BEGIN SOLUTION"]
    assert find_leaks(secrets, "raise NotImplementedError()") == []
    assert 'answer_q1_1 = "b"' not in secret_lines(source, include_solutions=False)


def test_malformed_notebook_gets_a_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(NotebookError, match=r"broken\.ipynb: not a valid Jupyter notebook"):
        read_notebook(broken)
