"""Per-learner variants through the grader: keys recomputed there only, for the learner graded.

Fast tests: the learner a grader hands the tests (``LEARNER_ID``) and the kernel
(``COURSE_LEARNER_ID``), the real hidden tests of 2.3.4, 2.3.5 and 3.5.11 run outside a kernel,
and what the release and a learner's kernel hold (numbers, never a key). Slow tests:
learners answering their own numbers, and another learner's, graded by stock ``nbgrader
autograde``, by ``course grade`` and by ``course check``, with the feedback they get
(the graders get the notebooks that carry points, the lessons have no grade cell; the
check's course copy holds the items' notebook alone).
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from benchmarks.grade_throughput import (
    BIN,
    generate,
    grade_rows,
    make_course,
    release_and_solutions,
    submission,
    tool_env,
)
from course.grading.bwrap import kernel_env
from course.grading.nbgrader_plugins import learner_env, learner_of
from course.grading.trusted_tests import (
    LEARNER_NAME,
    PROBE_MIME,
    free_name_problems,
    insert_probes,
    is_setup_cell,
    restore_sources,
    run_tests_outside_kernel,
    trusted_namespace,
)
from course.notebooks import html_to_text, read_notebook, secret_lines
from course.variants import ITEMS, LEARNER_ENV, SELF_STUDY_ID, variant
from course.views.variants import your_numbers

from .conftest import ROOT, scored_notebooks, unsandboxed_args

HOMES = {"q2_3_4": ("02-substances", "03-dose-and-volume"),
         "q2_3_5": ("02-substances", "03-dose-and-volume"),
         "q3_5_11": ("03-risk-assessment", "05-quiz")}
"""Item -> (assignment, notebook) it is asked in."""
NOTEBOOKS = sorted(set(HOMES.values()))
CHECKS = {"q2_3_4": "q2_3_4_lidocaine_mg_check", "q2_3_5": "q2_3_5_volume_220_points_check",
          "q3_5_11": "q3_5_11_onset_weeks_check"}
UNITS = {"q2_3_4": "mg", "q2_3_5": "mL", "q3_5_11": "weeks"}


def _source(home: tuple[str, str]) -> Path:
    return ROOT / "source" / home[0] / f"{home[1]}.ipynb"


def _release(home: tuple[str, str]) -> Path:
    return ROOT / "release" / home[0] / f"{home[1]}.ipynb"


def _items(home: tuple[str, str]) -> list[str]:
    """The per-learner items asked in ``home``'s notebook."""
    return sorted(item for item, where in HOMES.items() if where == home)


def _id(home: tuple[str, str]) -> str:
    return home[0]


def test_every_variant_item_has_a_home() -> None:
    assert set(HOMES) == set(ITEMS) == set(CHECKS) == set(UNITS)
ANA, CARA, BEN = "ana", "cara", "ben"
"""Ana and Cara answer their own numbers; Ben answers Ana's (see test_the_learners_differ)."""


def _meta(**values: object) -> dict:
    return {"nbgrader": {"schema_version": 3, "grade": False, "solution": False,
                         "locked": False, **values}}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _key_pattern(value: float) -> re.Pattern[str]:
    """The key as a number on its own (40 matches "40" and "40.0", not "140" or "4.0")."""
    return re.compile(rf"(?<![\d.]){re.escape(f'{value:g}')}(?:\.0+)?(?![\d.])")


# ---------------------------------------------------------------- the learner graded


def test_the_learner_graded_is_nbgraders_student_and_self_study_is_the_hub_user(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEARNER_ENV, raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "jane")
    assert learner_of({"nbgrader": {"student": "ana"}}) == "ana"
    assert learner_of({"nbgrader": {"student": SELF_STUDY_ID}}) == "jane"
    monkeypatch.delenv("JUPYTERHUB_USER")
    assert learner_of({"nbgrader": {"student": SELF_STUDY_ID}}) == SELF_STUDY_ID
    assert learner_of({"metadata": {"path": "."}}) is None and learner_of(None) is None


def test_the_grading_kernel_is_told_the_learner_even_in_the_sandbox() -> None:
    env = learner_env("ana", {"HOME": "/home/grader", "JUPYTERHUB_USER": "instructor"})
    assert env == {"HOME": "/home/grader", "JUPYTERHUB_USER": "instructor", LEARNER_ENV: "ana"}
    assert learner_env(None) is None
    boxed = kernel_env(env)
    assert boxed[LEARNER_ENV] == "ana" and "JUPYTERHUB_USER" not in boxed


def _learner_notebook() -> NotebookNode:
    return new_notebook(cells=[
        new_code_cell("from course.variants import LEARNER_ID", metadata=_meta(locked=True)),
        new_code_cell("print(LEARNER_ID)",
                      metadata=_meta(grade=True, locked=True, grade_id="c", points=1)),
    ])


def test_tests_read_the_learner_the_grader_gives_whatever_the_setup_imported() -> None:
    nb = _learner_notebook()
    assert trusted_namespace(nb, "ana")[LEARNER_NAME] == "ana"
    for learner in ("ana", "ben"):
        probed = insert_probes(nb)
        nb.cells[1].outputs = []
        restore_sources(nb, probed)
        run_tests_outside_kernel(nb, probed, learner)
        assert [o.get("text") for o in nb.cells[1].outputs] == [f"{learner}\n"]


def test_a_test_may_read_learner_id_without_a_setup_import() -> None:
    nb = _learner_notebook()
    assert free_name_problems(nb) == []
    nb.cells[0].source = "from math import isclose"
    assert free_name_problems(nb) == []
    nb.cells[1].source = "print(LEARNER_ID, learner_name)"
    assert free_name_problems(nb) == ["test cell c reads learner_name"]


# ---------------------------------------------------------------- the real items


def test_the_learners_differ() -> None:
    """The premises of the round trips: Ana's and Cara's keys differ in every item; Ben's
    match Ana's in 2.3.4 (4 mL of 1%) but not in 2.3.5 or 3.5.11."""
    for item in ITEMS:
        assert variant(item, ANA).key != variant(item, CARA).key, item
    assert variant("q2_3_4", BEN).key == variant("q2_3_4", ANA).key
    assert variant("q2_3_5", BEN).key != variant("q2_3_5", ANA).key
    assert variant("q3_5_11", BEN).key != variant("q3_5_11", ANA).key


def _run_check(item: str, learner: str, answer: float) -> list[NotebookNode]:
    """The source's own check cell of ``item`` (its hidden test too), run as the grader
    runs it, for ``learner`` answering ``answer``; its outputs."""
    source = read_notebook(_source(HOMES[item]))
    check = next(c for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id") == CHECKS[item])
    nb = new_notebook(cells=[c for c in source.cells if is_setup_cell(c)] + [check])
    probed = insert_probes(nb)
    nb.cells[-1].outputs = [nbformat.from_dict({
        "output_type": "display_data", "metadata": {},
        "data": {PROBE_MIME: {f"answer_{item}": repr(answer)}}})]
    restore_sources(nb, probed)
    run_tests_outside_kernel(nb, probed, learner)
    return nb.cells[-1].outputs


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_the_hidden_test_scores_the_learners_own_key_and_shows_their_numbers(item) -> None:
    for learner, other in ((ANA, CARA), (CARA, ANA)):
        mine, theirs = variant(item, learner), variant(item, other)
        outputs = _run_check(item, learner, mine.key)
        assert [o.output_type for o in outputs] == ["stream"], outputs
        assert outputs[0].text.endswith("graded.\n" + mine.feedback + "\n")
        assert mine.stem in outputs[0].text and theirs.stem not in outputs[0].text
        wrong = _run_check(item, learner, theirs.key)
        assert wrong[-1].output_type == "error" and wrong[-1].ename == "AssertionError"
        assert wrong[0].text.endswith(mine.feedback + "\n")  # the working is shown either way


def test_the_key_is_within_tolerance_only() -> None:
    item = variant("q2_3_5", ANA)
    outputs = _run_check("q2_3_5", ANA, round(item.key + 2 * item.item.tolerance, 6))
    assert outputs[-1].output_type == "error"
    assert _run_check("q2_3_5", ANA, item.key + item.item.tolerance / 2)[-1].output_type \
        == "stream"


@pytest.mark.parametrize("home", NOTEBOOKS, ids=_id)
def test_no_hidden_test_line_is_a_solution_line(home: tuple[str, str]) -> None:
    """Feedback may show a submitted answer cell (the instructor's own, in the round
    trip): a hidden-test line equal to a solution line would read as a leak there."""
    source = read_notebook(_source(home))
    hidden = secret_lines(source, include_solutions=False)
    assert hidden and not hidden & (secret_lines(source) - hidden)


@pytest.mark.parametrize("home", NOTEBOOKS, ids=_id)
def test_the_benchmark_cohort_answers_each_learners_own_key_as_a_number(
        home: tuple[str, str]) -> None:
    release, solutions = release_and_solutions(ROOT, home[0])
    for student in (ANA, CARA):
        nb = submission("correct", release, solutions, student)[home[1]]
        lines = {line for c in nb.cells if c.source.startswith("answer_")
                 for line in c.source.splitlines()}
        for item in _items(home):
            assert f"answer_{item} = {variant(item, student).key:g}" in lines
        assert not any("variant" in line for line in lines)


# ---------------------------------------------------------------- no key reaches a learner


@pytest.mark.parametrize("home", NOTEBOOKS, ids=_id)
def test_the_release_holds_numbers_to_show_but_no_key(home: tuple[str, str]) -> None:
    release = _release(home).read_text(encoding="utf-8")
    assert "variant(" not in release and ".key" not in release and ".working" not in release
    nb = read_notebook(_release(home))
    setup = next(c for c in nb.cells if is_setup_cell(c))
    imported = {line for line in setup.source.splitlines() if "course.variants" in line}
    assert imported == {"from course.variants import LEARNER_ID  # your own numbers "
                        "(per-learner items)"}  # the id only: no key, no variant()
    for item in _items(home):
        mine = variant(item, SELF_STUDY_ID)
        shows = [c for c in nb.cells if c.source == f'your_numbers("{item}")']
        assert len(shows) == 1 and not shows[0].outputs
        assert f"answer_{item} = {mine.key:g}" not in release
        assert _flat(mine.working) not in _flat(release)
        stem = next(c.source for c in nb.cells
                    if c.cell_type == "markdown" and f"`answer_{item}`" in c.source)
        assert "your own number" in stem
        assert not re.search(r"draws up \d|plans \d|on \d+ [A-Z][a-z]+ \d{4}", stem)
        assert _flat(mine.stem) not in _flat(release)


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_your_numbers_show_the_learners_stem_and_never_the_key(
        item: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEARNER_ENV, raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    for learner in (None, ANA, CARA, *(f"learner{n}" for n in range(20))):
        mine = variant(item, learner or SELF_STUDY_ID)
        shown = your_numbers(item, learner)
        assert mine.stem in shown.text and "Your numbers" in shown.html
        for text in (shown.text, html_to_text(shown.html)):
            assert not _key_pattern(mine.key).search(text.replace(mine.stem, "")), text
        if not _key_pattern(mine.key).search(mine.stem):  # e.g. 220 points: 2.2 mL
            assert not _key_pattern(mine.key).search(shown.text)
    monkeypatch.setenv("JUPYTERHUB_USER", "jane")
    assert variant(item, "jane").stem in your_numbers(item).text
    monkeypatch.setenv(LEARNER_ENV, "ana")  # a grading kernel: the learner graded
    assert variant(item, ANA).stem in your_numbers(item).text


@pytest.mark.slow
@pytest.mark.parametrize("home", NOTEBOOKS, ids=_id)
def test_a_learners_kernel_shows_their_numbers_and_holds_no_key(
        home: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The released notebook run in a kernel (Run All, self-study): the boxes show the
    self-study numbers; no output shows a working, and nothing in the kernel's namespace
    is a variant or its key's computation."""
    from nbclient import NotebookClient

    nb = read_notebook(_release(home))
    nb.cells.append(new_code_cell(
        "print(sorted(n for n, v in globals().items() if type(v).__module__ == "
        "'course.variants' or n in ('variant', 'ITEMS', 'Variant')))"))
    shutil.copytree(_release(home).parent, tmp_path / home[0])
    monkeypatch.delenv(LEARNER_ENV, raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    NotebookClient(nb, timeout=120, kernel_name="python3", coalesce_streams=True,
                   resources={"metadata": {"path": str(tmp_path / home[0])}}).execute()
    text = "\n".join(_output_text(cell) for cell in nb.cells)
    assert nb.cells[-1].outputs[0].text == "[]\n"
    for item in _items(home):
        mine = variant(item, SELF_STUDY_ID)
        shows = next(c for c in nb.cells if c.source == f'your_numbers("{item}")')
        assert mine.stem in _output_text(shows)
        assert "Working." not in text and _flat(mine.working) not in _flat(text)


def _output_text(cell: NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(str(output.get("text", "")))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


# ---------------------------------------------------------------- round trips


ANSWERS = {ANA: ANA, CARA: CARA, BEN: ANA}
"""Student -> the learner whose numbers they answer (Ben answers Ana's)."""


def _answered(learner: str, home: tuple[str, str]) -> NotebookNode:
    nb = read_notebook(_release(home))
    for cell in nb.cells:
        for item in _items(home):
            if cell.cell_type == "code" and cell.source.startswith(f"answer_{item} = None"):
                cell.source = f"answer_{item} = {variant(item, learner).key:g}"
    return nb


def _expected(student: str, home: tuple[str, str]) -> dict[str, float]:
    """grade_id -> score: a point when the answer is within the student's own key."""
    return {CHECKS[item]: float(variant(item, student).within(
        variant(item, ANSWERS[student]).key)) for item in _items(home)}


def _submit(course: Path, student: str, assignment: str,
            notebooks: dict[str, NotebookNode]) -> None:
    """The scored notebooks: ``notebooks``' own, the others as released (unanswered)."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    assert set(notebooks) <= set(scored_notebooks(assignment))
    for name in scored_notebooks(assignment):
        nb = notebooks.get(name) or read_notebook(course / "release" / assignment
                                                  / f"{name}.ipynb")
        nbformat.write(nb, folder / f"{name}.ipynb")


def _shown_numbers(course: Path, student: str, home: tuple[str, str]) -> dict[str, str]:
    """item -> what the graded notebook's box shows (run in the sandboxed grading kernel)."""
    nb = read_notebook(course / "autograded" / student / home[0] / f"{home[1]}.ipynb")
    return {item: _output_text(next(c for c in nb.cells
                                    if c.source == f'your_numbers("{item}")'))
            for item in _items(home)}


BEN_EXPECTED = {"q2_3_4": 1.0, "q2_3_5": 0.0, "q3_5_11": 0.0}
"""Ben answers Ana's keys: right only where his own key is Ana's (test_the_learners_differ)."""


@pytest.mark.slow
@pytest.mark.parametrize("home", NOTEBOOKS, ids=_id)
def test_nbgrader_autograde_and_course_grade_score_each_learner_on_their_own_numbers(
        home: tuple[str, str], tmp_path: Path) -> None:
    assignment, notebook = home
    template = make_course(tmp_path / "template", assignment)
    generate(template, assignment)
    for student, learner in ANSWERS.items():
        _submit(template, student, assignment, {notebook: _answered(learner, home)})
    stock, ours = tmp_path / "stock", tmp_path / "ours"
    shutil.copytree(template, stock)
    shutil.copytree(template, ours)
    subprocess.run([str(BIN / "nbgrader"), "autograde", assignment, "--force"], cwd=stock,
                   env=tool_env(), check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "course.cli", "grade", assignment,
                    *unsandboxed_args()], cwd=ours, env=tool_env(COURSE_ROOT=str(ours)),
                   check=True, capture_output=True)
    rows = {"nbgrader autograde": grade_rows(stock), "course grade": grade_rows(ours)}
    assert rows["nbgrader autograde"] == rows["course grade"]
    checks = [CHECKS[item] for item in _items(home)]
    for tool, graded in rows.items():
        for student in ANSWERS:
            got = {grade: graded[(student, notebook, grade)][0] for grade in checks}
            assert got == _expected(student, home), (tool, student)
    assert _expected(ANA, home) == _expected(CARA, home) == {g: 1.0 for g in checks}
    assert _expected(BEN, home) == {CHECKS[item]: BEN_EXPECTED[item] for item in _items(home)}
    for course in (stock, ours):  # each kernel showed its own learner's numbers
        for student in ANSWERS:
            for item, shown in _shown_numbers(course, student, home).items():
                assert variant(item, student).stem in shown, (course.name, student, item)

    subprocess.run([str(BIN / "nbgrader"), "generate_feedback", assignment, "--force"],
                   cwd=stock, env=tool_env(), check=True, capture_output=True)
    for student in ANSWERS:
        html = (stock / "feedback" / student / assignment / f"{notebook}.html").read_text(
            encoding="utf-8")
        text = _flat(html_to_text(html))
        for item in _items(home):
            mine, other = variant(item, student), variant(item, CARA if student != CARA else ANA)
            for line in mine.feedback.splitlines():  # one paragraph each
                assert _flat(line) in text, (student, item, line)
            if mine.stem != other.stem:
                assert _flat(other.stem) not in text
        assert "variant(" not in text and "HIDDEN TESTS" not in text  # no hidden test


@pytest.mark.slow
@pytest.mark.parametrize("home", NOTEBOOKS, ids=_id)
def test_course_check_on_a_hub_grades_the_hub_users_numbers(
        home: tuple[str, str], course_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from course.grading.assignments import self_check, start_assignments

    assignment, notebook = home
    for part in ("source", "release"):  # `course check` grades every notebook released:
        for path in (course_copy / part / assignment).glob("*.ipynb"):  # keep the items'
            if path.stem != notebook:  # home only (it needs no other notebook)
                path.unlink()
    monkeypatch.delenv(LEARNER_ENV, raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", CARA)
    start_assignments(course_copy, [assignment])
    mine = course_copy / "assignments" / assignment / f"{notebook}.ipynb"
    answered = copy.deepcopy(_answered(CARA, home))
    nbformat.write(answered, mine)
    report = self_check(course_copy, assignment)
    scores = {i.grade_id: i.score for i in report.result.items if i.notebook == notebook}
    assert {CHECKS[item]: scores[CHECKS[item]] for item in _items(home)} == \
        {CHECKS[item]: 1.0 for item in _items(home)}
    feedback = _flat(html_to_text((mine.parent / f"{notebook}.feedback.html").read_text(
        encoding="utf-8")))
    for item in _items(home):
        for line in variant(item, CARA).feedback.splitlines():
            assert _flat(line) in feedback, line
    # the same answers checked as a self-study learner: their numbers, not Cara's
    monkeypatch.delenv("JUPYTERHUB_USER")
    report = self_check(course_copy, assignment)
    scores = {i.grade_id: i.score for i in report.result.items if i.notebook == notebook}
    for item in _items(home):
        own = variant(item, SELF_STUDY_ID)
        assert scores[CHECKS[item]] == float(own.within(variant(item, CARA).key)), item
    # Cara's numbers are not all the self-study ones
    assert 0.0 in [scores[CHECKS[item]] for item in _items(home)]
