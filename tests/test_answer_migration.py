"""The answer-form migration (course.forms.migrate), run on a copy of every source notebook.

After it: metadata describes every answer (labels matching the stem, no keys), nbgrader
metadata and hidden assertions are kept, a second run changes nothing, released
notebooks Run All without an error, and autograde gives full marks to the solution, 0 to
the blank release, and the same marks to answers written "(B)" or "2,5 mL".
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from benchmarks.grade_throughput import for_learner
from course.forms.migrate import CONFIG_BEGIN, main, migrate_notebook
from course.forms.spec import answer_spec, label_problems
from course.grading.assignments import autograde_notebooks, nbgrader_api
from course.grading.trusted_tests import free_name_problems, is_test_cell
from course.notebooks import read_notebook
from course.variants import SELF_STUDY_ID, variant

from .conftest import ASSIGNMENTS, GRADED_ASSIGNMENTS, ROOT

HIDDEN = "### BEGIN HIDDEN TESTS"
SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))
# notebooks with answer cells: the only ones whose released version differs from source/
# (the lessons without graded items run, unchanged, in tests/test_notebooks.py)
ANSWERED = [p for p in SOURCES
            if any(c.get("metadata", {}).get("nbgrader", {}).get("solution")
                   for c in read_notebook(p).cells)]


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course's source/ and nbgrader_config.py, migrated."""
    root = tmp_path_factory.mktemp("migrated")
    shutil.copytree(ROOT / "source", root / "source")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    assert main(["migrate", str(root / "source")]) == 0
    return root


@pytest.fixture(scope="module")
def generated(migrated: Path) -> Path:
    api = nbgrader_api(migrated, config_root=migrated)
    for assignment in ASSIGNMENTS:
        result = api.generate_assignment(assignment, force=True, create=True)
        assert result["success"], result.get("error")
    return migrated


def _pairs(migrated: Path):
    for path in SOURCES:
        yield path, read_notebook(path), read_notebook(migrated / path.relative_to(ROOT))


def test_a_second_run_changes_nothing(migrated: Path, capsys) -> None:
    before = {p: p.read_bytes() for p in (migrated / "source").rglob("*.ipynb")}
    config = (migrated / "nbgrader_config.py").read_text()
    assert main(["migrate", str(migrated / "source")]) == 0
    assert "0 of" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in before} == before
    assert (migrated / "nbgrader_config.py").read_text() == config
    assert CONFIG_BEGIN in config and "NotImplementedError" not in config


def test_nbgrader_metadata_hidden_assertions_and_rationales_are_kept(migrated: Path) -> None:
    for path, old, new in _pairs(migrated):
        assert len(old.cells) == len(new.cells), path
        for before, after in zip(old.cells, new.cells, strict=True):
            assert before.metadata.get("nbgrader") == after.metadata.get("nbgrader"), path
            if is_test_cell(before) and HIDDEN in before.source:
                old_hidden = before.source.split(HIDDEN, 1)[1]
                new_hidden = after.source.split(HIDDEN, 1)[1]
                assert re.findall(r"^assert .*$", old_hidden, re.M) == \
                    re.findall(r"^assert .*$", new_hidden, re.M)
                assert re.findall(r'^\s+"(.*)"$', old_hidden, re.M) == \
                    re.findall(r'^\s+"(.*)"$', new_hidden, re.M)  # rationale text
        assert free_name_problems(new) == [], path


def test_every_graded_answer_and_practice_question_has_a_form(migrated: Path) -> None:
    kinds: dict[str, int] = {}
    for path, _old, new in _pairs(migrated):
        for cell in new.cells:
            meta = cell.metadata.get("nbgrader", {})
            spec = answer_spec(cell)
            if cell.cell_type == "code" and meta.get("solution"):
                lines = cell.source.splitlines()
                assert lines[0].startswith("answer_") and " = None" in lines[0], path
                if spec is None:  # only the free-form consent record has no form
                    assert "consent" in cell.source, (path, lines[0])
                    continue
            if spec:
                kinds[spec["kind"]] = kinds.get(spec["kind"], 0) + 1
        assert label_problems(new) == [], path
    assert set(kinds) == {"choice", "number", "case"}


def test_metadata_holds_no_key(migrated: Path) -> None:
    for path, _old, new in _pairs(migrated):
        for cell in new.cells:
            spec = answer_spec(cell)
            if not spec:
                continue
            assert not {"key", "answer", "correct", "solution", "value"} & set(spec), path
            if spec["kind"] == "choice":
                assert len(spec["options"]) >= 4 and \
                    [o["value"] for o in spec["options"]] == list("abcde")[:len(spec["options"])]
            if spec["kind"] == "case":
                for menu in ("decision", "reasons", "management"):
                    assert all(set(o) == {"value", "label"} for o in spec[menu])
            if spec["kind"] == "number" and "BEGIN SOLUTION" in cell.source:
                solution = re.search(r"^answer_\w+ = (.+)$", cell.source.split(
                    "BEGIN SOLUTION")[1], re.M).group(1)
                item = re.fullmatch(r'variant\("(\w+)", LEARNER_ID\)\.key', solution)
                keys = {f"{variant(item.group(1), learner).key:g}" for learner in
                        (SELF_STUDY_ID, "ana", "ben")} if item else {solution}
                assert not keys & {str(v) for v in spec.values()}


def test_the_labels_check_catches_an_edited_stem(migrated: Path) -> None:
    nb = read_notebook(migrated / "source" / "01-principles" / "03-quiz.ipynb")
    stem = next(c for c in nb.cells if c.cell_type == "markdown" and "- (b) " in c.source)
    stem.source = stem.source.replace("- (b) ", "- (b) Rewritten: ", 1)
    assert len(label_problems(nb)) == 1


def test_migrating_a_migrated_notebook_in_memory_is_a_no_op(migrated: Path) -> None:
    nb = read_notebook(migrated / "source" / "04-case-studies" / "01-cases.ipynb")
    assert migrate_notebook(copy.deepcopy(nb)) == nb


@pytest.mark.slow
@pytest.mark.parametrize("path", ANSWERED, ids=_ids(ANSWERED))
def test_released_notebook_runs_all_without_an_error(generated: Path, path: Path) -> None:
    from nbclient import NotebookClient

    released = generated / "release" / path.parent.name / path.name
    nb = nbformat.read(released, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(released.parent)}}).execute()
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "AssertionError" not in text and "Traceback" not in text
    if any(is_test_cell(c) for c in nb.cells):
        assert "Not answered yet" in text


def _unit(spec: dict) -> str:
    return f" {spec['unit']}" if spec.get("unit") else ""


def _tolerant(nb: nbformat.NotebookNode, student: str) -> nbformat.NotebookNode:
    """The solution written as a learner might: "(B)" for "b", "2,5 mL" for 2.5 (a
    per-learner variant's key is the student's own, course.variants)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        spec = answer_spec(cell)
        if not spec or spec.get("practice") or spec["kind"] not in ("choice", "number"):
            continue
        name = spec["name"]
        cell.source = for_learner(cell.source, student)
        if spec["kind"] == "choice":
            cell.source = re.sub(rf'^({name}) = "([a-e])"$',
                                 lambda m: f'{m.group(1)} = " ({m.group(2).upper()}) "',
                                 cell.source, flags=re.M)
        else:
            cell.source = re.sub(rf"^({name}) = ([\d.]+)$", rf'\1 = "\2{_unit(spec)}"',
                                 cell.source, flags=re.M)
            cell.source = re.sub(rf'^({name} = "\d+)\.', r"\1,", cell.source, flags=re.M)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("assignment", GRADED_ASSIGNMENTS)
def test_autograde_gives_tolerant_answers_full_marks(generated: Path, assignment: str) -> None:
    """The solution written as "(B)" or "2,5 mL" scores full marks (the solution itself and
    the blank release are autograded in tests/test_grading_roundtrip.py)."""
    api = nbgrader_api(generated, config_root=generated)
    source = {p.stem: read_notebook(p)
              for p in sorted((generated / "source" / assignment).glob("*.ipynb"))
              if ROOT / "source" / assignment / p.name in ANSWERED}
    tolerant = {name: _tolerant(nb, "tolerant") for name, nb in source.items()}
    assert tolerant != source or assignment == "04-case-studies"
    if assignment == "02-substances":  # per-learner items, typed as numbers with units
        assert any('\nanswer_q2_3_5 = "' in c.source for c in tolerant["03-dose-and-volume"].cells)
    if assignment == "03-risk-assessment":
        assert any(re.search(r'\nanswer_q3_5_11 = "\d+ weeks"', c.source)
                   for c in tolerant["05-quiz"].cells)
    graded = autograde_notebooks(api, assignment, "tolerant", tolerant)
    assert graded.auto_max > 0 and graded.auto_score == graded.auto_max


@pytest.mark.slow
def test_feedback_has_titles_wrapped_rationales_and_no_exception_names(generated: Path) -> None:
    from course.notebooks import HIDDEN_MARKERS, find_leaks, html_to_text, secret_lines

    api = nbgrader_api(generated, config_root=generated)
    assignment = "01-principles"
    release = {p.stem: read_notebook(p)
               for p in sorted((generated / "release" / assignment).glob("*.ipynb"))}
    autograde_notebooks(api, assignment, "feedback-blank", release)
    assert api.generate_feedback(assignment, "feedback-blank", force=True)["success"]
    html = (generated / "feedback" / "feedback-blank" / assignment / "03-quiz.html").read_text()
    toc = html.split('<div id="toc">', 1)[1].split("</ol>", 1)[0]
    titles = [t for t in re.findall(r'<a href="#[\w-]+">([^<]+)</a>', toc) if t != "Comment"]
    assert titles[:3] == ["Question 1.3.1", "Question 1.3.2", "Question 1.3.3"]
    assert "Test cell" not in html and "Grade cell" not in html
    assert "AssertionError" not in html and "Not answered yet" in html
    assert 'class="course-feedback"' in html and "white-space:normal" in html
    source = read_notebook(generated / "source" / assignment / "03-quiz.ipynb")
    assert find_leaks(secret_lines(source, include_solutions=False), html_to_text(html),
                      HIDDEN_MARKERS) == []
