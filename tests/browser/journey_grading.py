"""The learner journey's keys, expected scores and grading of the saved notebooks.

The keys are read from the instructor's source/ notebooks (a per-learner item's key is
computed for the journey's learner, :data:`LEARNER`); a journey answers each graded
item right or wrong, and the expected score of each test cell follows from that alone
(a right answer is the key, so it earns every point; a wrong one earns none). On the
final, single-best-answer items also take a certainty (certainty-based marking): a right
answer earns 1/3, 2/3 or all of the points at low, medium or high certainty. The saved
learner notebooks are then graded as that same learner (:data:`STUDENT`) by stock
``nbgrader autograde``, by ``course grade`` or by both, each in its own copy of one course
template that a single ``nbgrader generate_assignment`` made for every journey
(:func:`make_template`).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from benchmarks.grade_throughput import (
    BIN,
    for_learner,
    grade_rows,
    make_course,
    tool_env,
)
from course.forms.feedback import item_titles
from course.grading.trusted_tests import is_test_cell
from course.variants import learner_id

from ..conftest import ROOT, scored_notebooks, unsandboxed_args

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(\w+) = (.+)\n")
LEVELS = ("low", "medium", "high")
CBM_RIGHT = {"low": 1, "medium": 2, "high": 3}  # Gardner-Medwin's marks for a right answer
LEARNER = learner_id()
"""The learner the journey is: the lab runs in this process's environment (conftest's
lab_environment adds no learner), so its kernels show this learner's numbers of the
per-learner items (course.variants) and "Check my answers" grades them."""
STUDENT = LEARNER
"""The nbgrader student the saved notebooks are graded as: the learner who answered them,
so both tools recompute the keys the lab showed (a student ``self-study`` stands, in the
grader too, for this process's learner: course.variants.graded_learner)."""
GRADING_TIMEOUT_S = 600


@dataclass(frozen=True)
class Item:
    """One graded form item: its variable, kind, key and options (decisions for a case)."""

    name: str
    kind: str
    key: str | dict
    options: tuple[str, ...]
    certainty: bool = False  # the form also asks "How sure are you?"

    @property
    def title(self) -> str:
        """The item's title in the results: answer_q1_3_10 -> Question 1.3.10."""
        return "Question " + self.name.removeprefix("answer_q").replace("_", ".")

    def answer(self, right: bool) -> str | dict:
        """The key, or a wrong answer: another option, the key plus one, or for a case
        another decision with no reason or step (which scores 0 in every part)."""
        if right:
            return self.key
        if self.kind == "case":
            decision = next(d for d in self.options if d != self.key["decision"])
            return {"decision": decision, "reasons": [], "management": []}
        if self.kind == "choice":
            return next(option for option in self.options if option != self.key)
        return f"{float(self.key) + 1:g}"


def graded_items(notebook: str, learner: str = LEARNER) -> list[Item]:
    """The graded form items of a notebook, in order, with their keys from source/ (a
    per-learner item's key is ``learner``'s, computed here as the grader computes it)."""
    items = []
    for cell in nbformat.read(ROOT / "source" / notebook, as_version=4).cells:
        spec = cell.metadata.get("course", {}).get("answer")
        if not spec or spec.get("practice"):
            continue
        found = SOLUTION.search(for_learner(cell.source, learner))
        assert found and found.group(1) == spec["name"], f"no solution line for {spec['name']}"
        if spec["kind"] == "case":
            key: str | dict = ast.literal_eval(found.group(2).strip())
            options = tuple(option["value"] for option in spec["decision"])
        else:
            key = found.group(2).strip().strip('"')
            options = tuple(option["value"] for option in spec.get("options", []))
        items.append(Item(spec["name"], spec["kind"], key, options,
                          bool(spec.get("certainty"))))
    assert items, f"{notebook} has no graded form items"
    return items


def numbers_shown(saved: Path) -> dict[str, str]:
    """item -> the text of its "your own numbers" box in a saved notebook (per-learner
    items: course.views.variants.your_numbers)."""
    shown = {}
    for cell in nbformat.read(saved, as_version=4).cells:
        found = re.fullmatch(r'your_numbers\("(\w+)"\)', cell.source.strip())
        if cell.cell_type == "code" and found:
            shown[found.group(1)] = "\n".join(
                str(output.get("data", {}).get("text/plain", output.get("text", "")))
                for output in cell.get("outputs", []))
    return shown


def certainty_name(name: str) -> str:
    return "certainty_" + name.removeprefix("answer_")


def credit(points: float, right: bool, sure: str | None) -> float:
    """An item's points: all or nothing, or with a certainty (CBM) 1/3, 2/3 or all of
    them when right, as nbgrader stores them (6 decimals); nothing when wrong."""
    if not right:
        return 0.0
    return points if sure is None else round(points * CBM_RIGHT[sure] / 3, 6)


def shown(value: float) -> str:
    """A score as "Check my answers" shows it (at most 2 decimals)."""
    return f"{round(value, 2):g}"


def verdict(score: float, points: float) -> str:
    """ "1 of 1 (credited)", "0.33 of 1 (partly credited)", "0 of 1 (not credited)"."""
    label = "credited" if score >= points else "partly credited" if score > 0 \
        else "not credited"
    return f"{shown(score)} of {shown(points)} ({label})"


def expected_scores(notebook: str, right: Mapping[str, bool],
                    sure: Mapping[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """grade_id -> (expected score, points) of every test cell of a source/ notebook.

    Each test cell checks one item (it names the item's variable in quotes): it earns its
    points when the journey answered that item right, and nothing otherwise; an item
    answered with a certainty (``sure``) earns its CBM share of them.
    """
    expected = {}
    for cell in nbformat.read(ROOT / "source" / notebook, as_version=4).cells:
        if not is_test_cell(cell):
            continue
        names = [name for name in right if f'"{name}"' in cell.source]
        grade_id = cell.metadata.nbgrader["grade_id"]
        assert len(names) == 1, f"test cell {grade_id} checks {names}, not one item"
        points = float(cell.metadata.nbgrader["points"])
        expected[grade_id] = (credit(points, right[names[0]], (sure or {}).get(names[0])),
                              points)
    assert expected, f"{notebook} has no test cells"
    return expected


def expected_headings(notebook: str, expected: Mapping[str, tuple[float, float]]) -> list[str]:
    """The heading "Check my answers" shows for each test cell, e.g.
    "Question 1.3.1: 1 of 1 (credited)", "Question 5.1.1: 0.67 of 1 (partly credited)"."""
    titles = item_titles(nbformat.read(ROOT / "source" / notebook, as_version=4))
    return [f"{titles[grade_id][1]}: {verdict(score, points)}"
            for grade_id, (score, points) in expected.items()]


def _start(command: Sequence[str], course: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(list(command), cwd=course, env=tool_env(**env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(process: subprocess.Popen[str]) -> str:
    """Wait for a tool (killed after GRADING_TIMEOUT_S); '' if it succeeded, else why not."""
    try:
        output, _ = process.communicate(timeout=GRADING_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    if process.returncode == 0:
        return ""
    command = " ".join(str(part) for part in process.args[:4])
    return f"{command} exited {process.returncode}:\n{output[-3000:]}"


TOOLS = ("nbgrader autograde", "course grade")


def make_template(folder: Path, assignments: Sequence[str]) -> Path:
    """A course holding ``assignments`` (source, release, config), all generated by one
    `nbgrader generate_assignment` (its gradebook knows every notebook and grade cell):
    each grading copies it instead of generating its assignment again."""
    for assignment in assignments:
        make_course(folder, assignment)
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", "*", "--force"],
                   cwd=folder, env=tool_env(), check=True, capture_output=True,
                   timeout=GRADING_TIMEOUT_S)
    return folder


def _command(tool: str, assignment: str) -> list[str]:
    if tool == "nbgrader autograde":
        return [str(BIN / "nbgrader"), "autograde", assignment, "--force"]
    return [sys.executable, "-m", "course.cli", "grade", assignment, *unsandboxed_args()]


def grade_saved_notebooks(template: Path, learner_root: Path, notebook: str, folder: Path,
                          tools: Sequence[str] = TOOLS
                          ) -> dict[str, dict[tuple[str, str, str], tuple]]:
    """Grade the learner's saved assignment (``notebook`` is assignment/name.ipynb under
    ``learner_root``; the assignment's other notebooks that carry points go with it) with
    each of ``tools`` (stock nbgrader, `course grade`), at once, each in its own copy of
    ``template`` (:func:`make_template`); every grade row of each, by tool.

    Notebooks worth no points are left out: they have no grade rows, and both tools
    grade a submission without them (as `course grade --skip-unscored` would).
    """
    assignment, name = notebook.removesuffix(".ipynb").split("/")
    assert (learner_root / notebook).is_file() and name in scored_notebooks(assignment), \
        f"{notebook} carries no points"
    courses = {tool: folder / tool.split()[0] for tool in tools}
    running = []
    for tool, course in courses.items():
        shutil.copytree(template, course)
        submitted = course / "submitted" / STUDENT / assignment
        submitted.mkdir(parents=True)
        for scored in scored_notebooks(assignment):
            shutil.copy2(learner_root / assignment / f"{scored}.ipynb",
                         submitted / f"{scored}.ipynb")
        env = {} if tool == "nbgrader autograde" else {"COURSE_ROOT": str(course)}
        running.append(_start(_command(tool, assignment), course, **env))
    failures = [failure for failure in map(_finish, running) if failure]
    assert not failures, "\n".join(failures)
    return {tool: grade_rows(course) for tool, course in courses.items()}
