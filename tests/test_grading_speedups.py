"""Speed-ups of nbgrader's own steps in ``course grade`` (course/grading/nbgrader_plugins.py):
each must leave nbgrader's behaviour as it was. Scores identical to stock
``nbgrader autograde`` are checked end to end in test_cohort.py.

Also the byte limits on outputs (LimitOutputBytes and the cut on arrival in
ExecuteWithTrustedTests): pure checks, and a cell printing 60 MB through nbgrader's own
autograde (as ``nbgrader autograde`` and ``course check`` run it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.api import Gradebook

from course.grading.nbgrader_plugins import (
    SHARED_ENGINES,
    CompiledSchemas,
    LimitOutputBytes,
    is_cut_note,
    limit_outputs,
    output_bytes,
    share_gradebook_engines,
)

from .conftest import ROOT


def test_compiled_schemas_raise_what_jsonschema_raises() -> None:
    schema = {"type": "object", "properties": {"points": {"type": "number"},
                                               "grade_id": {"type": "string"}},
              "required": ["grade_id"], "additionalProperties": False}
    compiled = CompiledSchemas(jsonschema)
    compiled.validate({"grade_id": "a", "points": 1}, schema)
    for bad in ({"points": "x", "grade_id": "a"}, {"points": 1}, {"grade_id": "a", "z": 1}):
        with pytest.raises(jsonschema.ValidationError) as ours:
            compiled.validate(bad, schema)
        with pytest.raises(jsonschema.ValidationError) as stock:
            jsonschema.validate(bad, schema)
        assert str(ours.value) == str(stock.value)
    assert len(compiled._compiled) == 1
    with pytest.raises(jsonschema.SchemaError):
        compiled.validate({}, {"type": 12})


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty gradebook file of course "course", made once: nbgrader runs ``alembic
    heads`` in a subprocess (seconds) for each new database, never for an existing one."""
    path = tmp_path_factory.mktemp("gradebook") / "empty.db"
    with Gradebook(f"sqlite:///{path}", "course"):
        pass
    return path


def gradebook_urls(empty: Path, folder: Path, count: int) -> list[str]:
    """URLs of ``count`` new gradebook databases in ``folder``, copies of ``empty``."""
    urls = []
    for number in range(count):
        shutil.copyfile(empty, folder / f"g{number}.db")
        urls.append(f"sqlite:///{folder / f'g{number}.db'}")
    return urls


@pytest.mark.slow
def test_gradebooks_for_one_database_share_one_engine(tmp_path: Path,
                                                      empty_gradebook: Path) -> None:
    share_gradebook_engines()
    share_gradebook_engines()  # a second call changes nothing
    url, other = gradebook_urls(empty_gradebook, tmp_path, 2)
    with Gradebook(url, "course") as first:
        first.add_student("ada")
    with Gradebook(url, "course") as second:
        assert second.engine is first.engine
        assert [s.id for s in second.students] == ["ada"]  # the commit of the first
        second.add_student("ben")
    with Gradebook(other, "course") as third:
        assert third.engine is not first.engine
        assert third.students == []
    with Gradebook(url, "course") as again:
        assert sorted(s.id for s in again.students) == ["ada", "ben"]


@pytest.mark.slow
def test_only_a_few_engines_are_kept(tmp_path: Path, empty_gradebook: Path) -> None:
    share_gradebook_engines()
    urls = gradebook_urls(empty_gradebook, tmp_path, SHARED_ENGINES + 2)
    with Gradebook(urls[0], "course") as first:
        for url in urls[1:]:
            with Gradebook(url, "course"):
                pass
        first.add_student("ada")  # its engine was disposed of: it reconnects
    with Gradebook(urls[0], "course") as again:
        assert again.engine is not first.engine
        assert [s.id for s in again.students] == ["ada"]


# ---------------------------------------------------------------- output bytes


def stream(text: str, name: str = "stdout") -> NotebookNode:
    return NotebookNode(output_type="stream", name=name, text=text)


def image(size: int) -> NotebookNode:
    return NotebookNode(output_type="display_data", metadata={},
                        data={"image/png": "A" * size, "text/plain": "<Figure>"})


def code_cell(*outputs: NotebookNode, grade: bool = False) -> NotebookNode:
    cell = new_code_cell("pass")
    cell.outputs = list(outputs)
    if grade:
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1,
                                     "solution": False, "locked": True, "schema_version": 3}
    return cell


def test_output_bytes_count_text_data_and_errors() -> None:
    assert output_bytes(stream("é" * 10)) == 20
    assert output_bytes(image(100)) == 100 + len("<Figure>")
    error = NotebookNode(output_type="error", ename="E", evalue="ab", traceback=["x", "yz"])
    assert output_bytes(error) == 6


def test_outputs_are_cut_at_the_limit() -> None:
    kept, produced, used = limit_outputs([stream("a" * 60), stream("b" * 60), image(10)], 100)
    assert [o.get("text") for o in kept] == ["a" * 60, "b" * 40]  # the image is left out
    assert (produced, used) == (60 + 60 + 10 + 8, 100)
    kept, _produced, used = limit_outputs([stream("€" * 10)], 10)  # never half a character
    assert kept[0].text == "€" * 3 and used == 9
    big_error = NotebookNode(output_type="error", ename="ValueError", evalue="v" * 500,
                             traceback=["t" * 500])
    kept, _produced, _used = limit_outputs([stream("a" * 100), big_error], 100)
    assert kept[-1].output_type == "error" and kept[-1].ename == "ValueError"  # still shown


def test_the_preprocessor_caps_cells_and_the_notebook_with_a_note() -> None:
    nb = new_notebook(cells=[code_cell(stream("a" * 5000)), code_cell(stream("b" * 500)),
                             code_cell(stream("t" * 3000), grade=True),
                             code_cell(stream("c" * 800)), code_cell(stream("d" * 10))])
    limiter = LimitOutputBytes(max_cell_bytes=1000, max_notebook_bytes=2500)
    nb, _ = limiter.preprocess(nb, {})
    texts = [[o.text for o in cell.outputs] for cell in nb.cells]
    assert texts[0][0] == "a" * 1000 and is_cut_note(nb.cells[0].outputs[-1])
    assert "5,000 bytes" in texts[0][1] and "first 1,000" in texts[0][1]
    assert texts[1] == ["b" * 500]
    assert texts[2] == ["t" * 3000]  # a graded cell is never changed (it is counted)
    assert nb.cells[3].outputs[-1].text.startswith("\n[Output cut")  # the notebook is full
    assert all(not o.text.startswith("c") for o in nb.cells[3].outputs)
    assert is_cut_note(nb.cells[4].outputs[-1])
    again = [[dict(o) for o in cell.outputs] for cell in nb.cells]
    nb, _ = limiter.preprocess(nb, {})  # a second pass changes nothing
    assert [[dict(o) for o in cell.outputs] for cell in nb.cells] == again
    unlimited = new_notebook(cells=[code_cell(stream("a" * 5000))])
    LimitOutputBytes(max_cell_bytes=-1, max_notebook_bytes=-1).preprocess(unlimited, {})
    assert [o.text for o in unlimited.cells[0].outputs] == ["a" * 5000]


def test_the_course_config_caps_output_bytes_in_autograde() -> None:
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    chain = list(config.Autograde.autograde_preprocessors)
    assert chain.index("course.grading.nbgrader_plugins.LimitOutputBytes") < chain.index(
        "nbgrader.preprocessors.SaveAutoGrades")
    limiter = LimitOutputBytes(config=config)
    assert (limiter.max_cell_bytes, limiter.max_notebook_bytes) == (1024**2, 8 * 1024**2)


@pytest.mark.slow
def test_a_cell_printing_60_mb_is_cut_in_the_autograded_notebook(tmp_path: Path) -> None:
    """Through nbgrader's own autograde with the course's configuration (what
    ``nbgrader autograde`` and ``course check`` run); ``course grade``: test_adversarial."""
    import nbformat

    from course.grading.assignments import autograde_notebooks, prepare_course

    assignment, notebook = "00-orientation", "00-start-here"
    api = prepare_course(tmp_path, ROOT, assignment)
    nb = nbformat.read(tmp_path / "release" / assignment / f"{notebook}.ipynb", as_version=4)
    answer = next(c for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "q0_2_badge")
    answer.source = 'answer_q0_2 = "b"\nprint("x" * 60_000_000)'
    result = autograde_notebooks(api, assignment, "flood", {notebook: nb})
    graded = tmp_path / "autograded" / "flood" / assignment / f"{notebook}.ipynb"
    assert graded.stat().st_size < 1024**2 + 200_000
    outputs = nbformat.read(graded, as_version=4).cells[nb.cells.index(answer)].outputs
    assert is_cut_note(outputs[-1]) and "60,000,001 bytes" in outputs[-1].text
    assert result.auto_score == result.auto_max == 1  # the grade is the answer's
