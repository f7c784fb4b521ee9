"""Source notebooks are stored clean, follow the notebook anatomy and cite known sources."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from nbformat import NotebookNode

from course.content import content
from course.notebooks import (
    activity_card,
    display_only,
    heading_problems,
    hide_helpers,
    hygiene_problems,
    read_notebook,
    source_hidden,
    study_load,
)
from course.questions import questions
from course.syllabus import course_map, within_tolerance

from .conftest import ROOT, ExecutedNotebooks

SOURCE_NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))
IDS = [f"{p.parent.name}/{p.stem}" for p in SOURCE_NOTEBOOKS]


def test_there_are_source_notebooks() -> None:
    assert SOURCE_NOTEBOOKS


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_clean_with_valid_nbgrader_metadata(path: Path) -> None:
    assert hygiene_problems(read_notebook(path)) == []


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_notebook_opens_with_one_h1_and_headings_in_order(path: Path) -> None:
    assert heading_problems(read_notebook(path)) == []


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_activity_card_matches_the_course_map(path: Path) -> None:
    card = activity_card(read_notebook(path))
    entries = {(a.id, nb.id): nb for a in course_map() for nb in a.notebooks}
    entry = entries.get((path.parent.name, path.stem))
    assert entry is not None, f"{path} is not in course/data/course_map.toml"
    assert card.minutes == entry.minutes
    assert len(card.objectives) >= 2


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_stated_minutes_are_within_15_percent_of_the_estimate(path: Path) -> None:
    """The course map's minutes follow the content (the model is in course.syllabus)."""
    load = study_load(read_notebook(path))
    card = activity_card(read_notebook(path))
    assert within_tolerance(card.minutes, load.minutes), \
        f"stated {card.minutes} min, estimated {load.minutes:.0f} min from {load}"


def test_the_time_model_counts_words_items_cases_and_widgets() -> None:
    def cell(kind: str, source: str, **metadata: object) -> NotebookNode:
        return NotebookNode(cell_type=kind, source=source, metadata=NotebookNode(metadata))

    nb = NotebookNode(cells=[
        cell("markdown", "word " * 260),
        cell("code", 'answer_q1 = ""', course={"answer": {"kind": "choice"}}),
        cell("code", "answer_q2 = None", course={"answer": {"kind": "case"}}),
        cell("code", "explorer = substance_explorer()\nexplorer"),
        cell("code", "total_volume_ml(200, 0.01)"),
        cell("code", 'check("q1", answer_q1)'),
        cell("markdown", "I would defer.", nbgrader={"solution": True, "grade_id": "q2_j"}),
        cell("markdown", "**Case 2** " + "word " * 500, nbgrader={"grade_id": "q2_stem"}),
    ])
    load = study_load(nb)
    assert (load.words, load.items, load.cases, load.widgets, load.examples, load.written) \
        == (260, 1, 1, 1, 1, 1)
    assert load.minutes == pytest.approx(2 + 1.5 + 13 + 5 + 1 + 2)
    assert within_tolerance(25, 24.5) and not within_tolerance(30, 24.5)


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_display_only_cells_have_their_input_hidden(path: Path) -> None:
    """Badges, figures, widgets and questions show without their code (issue #18)."""
    nb = read_notebook(path)
    wrong = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and display_only(c) != source_hidden(c)]
    assert wrong == [], f"cells {wrong}: run `python -m course.notebooks hide-helpers`"
    assert not any(source_hidden(c) for c in nb.cells
                   if c.metadata.get("nbgrader") or "answer" in c.metadata.get("course", {}))


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_released_notebook_keeps_the_hidden_inputs(path: Path) -> None:
    source = [source_hidden(c) for c in read_notebook(path).cells]
    released = read_notebook(ROOT / "release" / path.parent.name / path.name)
    assert [source_hidden(c) for c in released.cells] == source


def test_hide_helpers_hides_displays_only_and_is_idempotent() -> None:
    def code(source: str, **metadata: object) -> NotebookNode:
        return NotebookNode(cell_type="code", source=source, metadata=NotebookNode(metadata))

    cells = [code('evidence("a", "b")'), code("explorer = substance_explorer()\nexplorer"),
             code("for e in ('x', 'y'):\n    display(Rich(card_html(e), card_text(e)))"),
             code('check("q0_1", answer_q0_1)'), code("total_volume_ml(200, 0.01)"),
             code('answer_q0_1 = ""', course={"answer": {}}),
             code("from course.lesson import evidence", nbgrader={"locked": True}),
             code("x = 1\nx"), code("this is not python"),
             code('print(monograph_text("x"))', jupyter={"source_hidden": True})]
    nb = NotebookNode(cells=cells)
    assert hide_helpers(nb) == 3
    assert [source_hidden(c) for c in nb.cells] == [True] * 3 + [False] * 6 + [True]
    assert hide_helpers(nb) == 0
    nb.cells[0].source = "weeks_since('2025-01-14', '2025-03-18')"
    assert hide_helpers(nb) == 1 and not source_hidden(nb.cells[0])
    assert "jupyter" not in nb.cells[0].metadata


def _calls(path: Path, name: str) -> list[str]:
    """String arguments of calls to ``name(...)`` in the notebook's code cells."""
    found = []
    for cell in read_notebook(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                found += [a.value for a in node.args if isinstance(a, ast.Constant)]
    return found


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_evidence_citations_and_questions_exist(path: Path) -> None:
    data = content()
    assert set(_calls(path, "evidence")) <= set(data.claims)
    assert set(_calls(path, "cite")) <= set(data.references)
    assert set(_calls(path, "glossary")) <= set(data.glossary)
    assert set(_calls(path, "question")) <= set(questions())
    markdown = "\n".join(c.source for c in read_notebook(path).cells
                         if c.cell_type == "markdown")
    assert set(re.findall(r"\[(R\d+)\]", markdown)) <= set(data.references)


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_setup_cell_is_locked_and_imports_from_course(path: Path) -> None:
    setup = next(c for c in read_notebook(path).cells if c.cell_type == "code")
    assert setup.metadata.get("nbgrader", {}).get("locked") is True
    assert "from course" in setup.source


NBVAL_MARKERS = re.compile(r"#\s*NBVAL_|^nbval-|^raises-exception$", re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_notebook_runs_every_cell_without_an_error(executed_notebook: ExecutedNotebooks,
                                                   path: Path) -> None:
    """Every cell of the instructor notebook runs in a fresh kernel without an error.

    This is the suite's execution check of source/ (it replaces nbval over source/, which
    ran every notebook a second time): the session's one executed copy of each notebook
    is shared with the accessibility checks. Like nbval --nbval-lax, every cell runs and
    any error output fails; nbval's cell markers are refused, since nothing here honours
    them (`pytest source/<assignment>/<notebook>.ipynb` still runs nbval on one notebook).
    """
    markers = [i for i, cell in enumerate(read_notebook(path).cells, 1)
               if NBVAL_MARKERS.search(cell.source if cell.cell_type == "code" else "")
               or any(NBVAL_MARKERS.search(tag) for tag in cell.metadata.get("tags", []))]
    assert markers == [], f"nbval markers in cells {markers}: the execution check ignores them"
    errors = error_outputs(executed_notebook(path))
    assert errors == [], "\n".join(errors)


def error_outputs(nb: NotebookNode) -> list[str]:
    """``cell <n>: <error name>: <message>`` for each error output of an executed notebook."""
    return [f"cell {i}: {output.ename}: {output.evalue}"
            for i, cell in enumerate(nb.cells, 1) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.output_type == "error"]


def test_the_execution_check_lists_every_error_output() -> None:
    error = {"output_type": "error", "ename": "NameError", "evalue": "name 'x' is not defined",
             "traceback": []}
    nb = NotebookNode(cells=[
        NotebookNode(cell_type="markdown", source="# Title"),
        NotebookNode(cell_type="code", outputs=[NotebookNode(output_type="stream", text="ok")]),
        NotebookNode(cell_type="code", outputs=[NotebookNode(error)]),
    ])
    assert error_outputs(nb) == ["cell 3: NameError: name 'x' is not defined"]
    assert NBVAL_MARKERS.search("# NBVAL_IGNORE_OUTPUT\nx = 1")
    assert NBVAL_MARKERS.search("nbval-skip") and not NBVAL_MARKERS.search("x = 1")


@pytest.mark.slow
def test_an_executed_notebook_is_shared_by_the_workers(tmp_path: Path) -> None:
    """Two workers' ExecutedNotebooks over one shared folder run a notebook once; a changed
    notebook is run again."""
    import nbformat

    notebook = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]),
                   notebook)
    first, second = ExecutedNotebooks(tmp_path / "shared"), ExecutedNotebooks(tmp_path / "shared")
    outputs = [nb.cells[0].outputs[0].text for nb in (first(notebook), second(notebook))]
    assert outputs == ["42\n", "42\n"]
    assert (first.executions, second.executions) == (1, 0)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(7)")]),
                   notebook)
    assert ExecutedNotebooks(tmp_path / "shared")(notebook).cells[0].outputs[0].text == "7\n"


def test_course_map_lists_only_existing_or_planned_assignments() -> None:
    mapped = {a.id for a in course_map()}
    on_disk = {p.name for p in (ROOT / "source").iterdir() if p.is_dir()}
    assert on_disk <= mapped
