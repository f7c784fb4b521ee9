"""Test cells run outside the learner's kernel (course.grading.trusted_tests): the pure parts."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.trusted_tests import (
    MAX_ANSWER_BYTES,
    PROBE_MIME,
    answer_names,
    answers_from_outputs,
    free_name_problems,
    insert_probes,
    probe_source,
    restore_sources,
    run_tests_outside_kernel,
)

from .conftest import ROOT

SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))


def _probe_output(published: dict) -> NotebookNode:
    return nbformat.from_dict({"output_type": "display_data", "metadata": {},
                               "data": {PROBE_MIME: published}})


def _meta(**values: object) -> dict:
    return {"nbgrader": {"schema_version": 3, "grade": False, "solution": False,
                         "locked": False, **values}}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_test_cell_reads_only_answers_setup_imports_and_earlier_tests(path) -> None:
    assert free_name_problems(nbformat.read(path, as_version=4)) == []


def test_answer_names_are_the_answer_variables_a_test_reads() -> None:
    source = "x = answer_q1 + 1\nassert answer_q2 == 'b', answer_q1\nanswer_local = 3"
    assert answer_names(source) == ["answer_q1", "answer_q2"]
    assert answer_names("this is not python(") == []


def test_answers_are_plain_json_and_anything_else_is_missing() -> None:
    names = ["answer_a", "answer_b", "answer_c", "answer_d", "answer_e"]
    published = {"answer_a": json.dumps({"decision": "decline", "reasons": ["X"]}),
                 "answer_b": "NaN", "answer_c": "not json", "answer_d": 5,
                 "answer_e": json.dumps("x" * MAX_ANSWER_BYTES)}
    answers = answers_from_outputs([_probe_output(published)], names)
    assert answers == {"answer_a": {"decision": "decline", "reasons": ["X"]}}
    # two probe outputs: tampered, so no answers at all
    twice = [_probe_output({"answer_a": '"b"'}), _probe_output({"answer_a": '"b"'})]
    assert answers_from_outputs(twice, names) == {}
    assert answers_from_outputs([], names) == {}


def test_tests_run_here_on_the_published_answers_with_their_own_output() -> None:
    nb = new_notebook(cells=[
        new_code_cell("from math import isclose", metadata=_meta(locked=True)),
        new_code_cell('answer_q = "b"', metadata=_meta(solution=True, grade_id="q")),
        new_code_cell('print("Rationale: b.")\n_right = answer_q == "b"\nassert _right, "No."',
                      metadata=_meta(grade=True, locked=True, grade_id="q_check", points=1)),
        new_code_cell("assert _right and isclose(answer_n, 2.0), 'Not 2.'",
                      metadata=_meta(grade=True, locked=True, grade_id="n_check", points=1)),
    ])
    originals = [cell.source for cell in nb.cells]
    probed = insert_probes(nb)
    assert [p.index for p in probed] == [2, 3]
    assert nb.cells[2].source == probe_source(["answer_q"])
    assert "Rationale" not in nb.cells[2].source and "Not 2." not in nb.cells[3].source
    # what the kernel published: a right answer for q, a wrong one for n, and fake output
    nb.cells[2].outputs = [_probe_output({"answer_q": '"b"'}),
                           nbformat.from_dict({"output_type": "stream", "name": "stdout",
                                               "text": "Success!"})]
    nb.cells[3].outputs = [_probe_output({"answer_n": "3"})]
    restore_sources(nb, probed)
    run_tests_outside_kernel(nb, probed)
    assert [cell.source for cell in nb.cells] == originals
    assert [o.get("text") for o in nb.cells[2].outputs] == ["Rationale: b.\n"]
    (error,) = nb.cells[3].outputs
    assert error.output_type == "error" and error.traceback == ["AssertionError: Not 2."]


def test_an_answer_that_was_not_published_is_a_name_error() -> None:
    nb = new_notebook(cells=[new_code_cell(
        "assert answer_q == 'b'", metadata=_meta(grade=True, locked=True, grade_id="c",
                                                  points=1))])
    probed = insert_probes(nb)
    nb.cells[0].outputs = []
    run_tests_outside_kernel(nb, probed)
    assert nb.cells[0].outputs[-1].ename == "NameError"
