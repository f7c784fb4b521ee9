"""The post-course evaluation (#23 part 2): ungraded, anonymous, exported for the instructor."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest

from course.cli import main
from course.evaluation import (
    ASSIGNMENT,
    COLUMNS,
    META_FIELD,
    NO_ANSWER,
    NOTEBOOK,
    QUESTIONS,
    TEXT_FIELDS,
    anonymous_rows,
    free_text,
    read_response,
    recorded,
    summary_text,
    write_evaluation,
)
from course.forms.spec import answer_spec, label_problems
from course.notebooks import read_notebook

from .conftest import ROOT

SOURCE = ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
RELEASE = ROOT / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def test_the_evaluation_is_ungraded_and_asks_what_the_issue_asks() -> None:
    nb = read_notebook(SOURCE)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
              or c.metadata.get("nbgrader", {}).get("solution")]
    assert graded == []  # no points, no answer key
    specs = [answer_spec(c) for c in nb.cells if answer_spec(c)]
    assert [s["name"] for s in specs] == [q.name for q in QUESTIONS]
    for spec, question in zip(specs, QUESTIONS, strict=True):
        assert spec["kind"] == "choice"
        assert [(o["value"], o["label"]) for o in spec["options"]] == list(question.options)
    assert label_problems(nb) == []  # each form's options are its stem's
    fields = [c.metadata["course"][META_FIELD] for c in nb.cells
              if c.cell_type == "markdown" and META_FIELD in c.metadata.get("course", {})]
    assert fields == [f for f, _ in TEXT_FIELDS]
    text = "\n".join(c.source for c in nb.cells).lower()
    for words in ("relevant", "commercial bias", "change", "missing", "anonymous"):
        assert words in text, words
    assert not re.search(r"student[_ ]?id|your name\b.*=|learner_id", text)


def test_the_release_is_the_source(tmp_path: Path) -> None:
    """Nothing to hide: the released notebook has the same cells."""
    source, release = read_notebook(SOURCE), read_notebook(RELEASE)
    assert [c.source for c in source.cells] == [c.source for c in release.cells]


def _filled(answers: dict[str, str | None], texts: dict[str, str]) -> nbformat.NotebookNode:
    nb = read_notebook(RELEASE)
    for cell in nb.cells:
        spec = answer_spec(cell)
        if spec and answers.get(spec["name"]) is not None:
            cell.source = f'{spec["name"]} = {answers[spec["name"]]!r}'
        field = cell.metadata.get("course", {}).get(META_FIELD)
        if field in texts:
            cell.source = texts[field]
    return nb


def test_a_response_is_read_without_running_code() -> None:
    nb = _filled({"answer_eval_relevance": " B ", "answer_eval_bias": "c",
                  "answer_eval_change": "z"},
                 {"bias_where": "Module 2 named a brand.", "what_will_change": ""})
    nb.cells.append(nbformat.v4.new_code_cell("answer_eval_objectives = open('/etc/passwd')"))
    response = read_response(nb)
    assert response["relevance"] == "Mostly relevant"
    assert response["commercial_bias"] == "Clear bias"
    assert response["commitment_to_change"] == NO_ANSWER  # not an option
    assert response["objectives_met"] == NO_ANSWER  # not a literal: never run
    assert response["bias_where"] == "Module 2 named a brand."
    assert response["what_will_change"] == "" and response["comments"] == ""  # placeholder
    assert set(response) == set(COLUMNS)
    assert free_text("## Heading\n*Type your answer here (double-click to edit).*") == ""


def test_recorded_confirms_a_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert recorded("answer_eval_relevance", "a").startswith("Recorded: (a) Very relevant")
    assert "Not answered yet" in recorded("answer_eval_bias", None)
    assert "Recorded" in capsys.readouterr().out
    with pytest.raises(ValueError, match="answer_eval_relevance"):
        recorded("answer_x", "a")


RESPONSES = [
    {"relevance": "Very relevant", "objectives_met": "Fully",
     "commercial_bias": "No bias perceived", "commitment_to_change": "Unsure",
     "bias_where": "", "what_will_change": "", "what_was_missing": "=HYPERLINK(\"x\")",
     "comments": ""},
    {"relevance": "Partly relevant", "objectives_met": NO_ANSWER,
     "commercial_bias": "Some bias", "commitment_to_change": "Yes, I will change something",
     "bias_where": "A <b>brand</b> in module 2", "what_will_change": "Ask about BDD",
     "what_was_missing": "", "comments": ""},
]


def test_export_is_anonymous_sorted_neutralised_and_summarised(tmp_path: Path) -> None:
    written = write_evaluation(RESPONSES, [], tmp_path)
    assert [p.name for p in written] == ["evaluation.csv", "evaluation-summary.png",
                                         "evaluation.md"]
    with (tmp_path / "evaluation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS)
    assert rows[1:] == [[c if not c.startswith("=") else "'" + c for c in row]
                        for row in anonymous_rows(RESPONSES)]
    assert rows[1][0] == "Partly relevant"  # sorted by content, not by who answered
    assert not any(c.startswith("=") for row in rows for c in row)
    assert (tmp_path / "evaluation-summary.png").read_bytes().startswith(b"\x89PNG")
    summary = summary_text(RESPONSES)
    assert "2 anonymous response(s)" in summary and "Fewer than 3 responses" in summary
    assert "Very relevant: 1; Mostly relevant: 0; Partly relevant: 1" in summary
    assert "Fully: 1; Mostly: 0; Partly: 0; Not at all: 0; (no answer): 1" in summary
    markdown = (tmp_path / "evaluation.md").read_text(encoding="utf-8")
    assert summary in markdown and "](evaluation-summary.png)" in markdown
    assert "<b>" not in markdown and "Ask about BDD" in markdown


def test_course_report_exports_the_submitted_evaluations(course_copy: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    students = {"zoe_h": ("a", "Nothing."), "yan": ("d", "Dose tables for US labels.")}
    for student, (letter, missing) in students.items():
        folder = course_copy / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(_filled({"answer_eval_relevance": letter},
                               {"what_was_missing": missing}), folder / f"{NOTEBOOK}.ipynb")
    bad = course_copy / "submitted" / "xavier" / ASSIGNMENT
    bad.mkdir(parents=True)
    (bad / f"{NOTEBOOK}.ipynb").write_text("{not json", encoding="utf-8")
    assert main(["report", ASSIGNMENT]) == 0
    out = capsys.readouterr().out
    assert "2 anonymous response(s)" in out
    folder = course_copy / "reports" / ASSIGNMENT
    exported = "\n".join(p.read_text(encoding="utf-8") for p in
                         (folder / "evaluation.csv", folder / "evaluation.md"))
    assert "Very relevant" in exported and "Dose tables for US labels." in exported
    assert "not a readable notebook" in exported
    for student in (*students, "xavier"):
        assert student not in exported and student not in out
    assert main(["report", ASSIGNMENT, "--export", "canvas"]) == 2  # ungraded


def test_no_submitted_evaluation_is_one_clear_line(course_copy: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", ASSIGNMENT]) == 1
    err = capsys.readouterr().err
    assert "no submitted evaluation" in err and "Traceback" not in err
