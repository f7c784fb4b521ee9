"""Test cells that a learner's code cannot fool: they run outside the learner's kernel.

nbgrader runs the tests in the same kernel as the learner's code, so that code can
redefine ``isinstance``, patch ``builtins``, hand back an object whose ``__eq__`` is always
true, print a fake "Success", or hook IPython to read and rewrite the test cells. Here a
test cell never runs in that kernel:

1. before execution each autograder test cell is replaced by a *probe*: a few lines
   that publish the learner's answers -- the ``answer_*`` names the test reads -- as JSON
   (one ``display_data`` output with the media type :data:`PROBE_MIME`); keys and tests
   never enter the kernel;
2. after execution the original test source is put back and run in the grading
   process, in a namespace holding only the notebook's locked import-only set-up cells,
   what earlier test cells defined, and the answers decoded from JSON. JSON gives plain
   ``str``/``int``/``float``/``bool``/``None``/``list``/``dict`` values: no learner
   object, method or class reaches the test. The cell's outputs become the test's own
   output (its printed rationale) and, when it fails, a one-line error, which is what
   nbgrader's SaveAutoGrades scores.

Tampering with the probe can only publish some other answer, or none (a missing or
unreadable answer is a ``NameError``: no points), never a pass. An answer that is not
plain data (a custom class, NaN, more than :data:`MAX_ANSWER_BYTES` of JSON) counts as
missing. A cell with two probe outputs is treated as tampered: no answers at all.

Course convention, checked by :func:`free_name_problems` over every source notebook:
a test cell may read builtins, ``answer_*`` names, the names the locked set-up cells
import, names an earlier test cell assigned, and :data:`LEARNER_NAME` -- nothing else
from the learner.

:data:`LEARNER_NAME` (``LEARNER_ID``) is the learner being graded, given by the grader
(never by the kernel): a per-learner variant's hidden test recomputes its key from it
(course.variants). Set-up cells import it too (``from course.variants import
LEARNER_ID``), so a test cell run in a kernel (the instructor's own run) finds it there.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode

PROBE_MIME = "application/vnd.course.answers+json"
ANSWER_NAME = re.compile(r"^(?:answer|certainty)_\w+$")  # certainty: course/certainty.py
MAX_ANSWER_BYTES = 100_000
LEARNER_NAME = "LEARNER_ID"
_BUILTIN_NAMES = frozenset(dir(builtins))


def _nbgrader(cell: NotebookNode) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell: NotebookNode) -> bool:
    """A graded code cell that is not a solution: an autograder test cell."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get(
        "solution")


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def is_setup_cell(cell: NotebookNode) -> bool:
    """A locked, ungraded code cell made only of imports: trusted set-up."""
    meta = _nbgrader(cell)
    if cell.get("cell_type") != "code" or not meta.get("locked") or meta.get("grade") \
            or meta.get("solution"):
        return False
    tree = _parse(cell.get("source", ""))
    return tree is not None and bool(tree.body) and all(
        isinstance(node, ast.Import | ast.ImportFrom) for node in tree.body)


def _loaded_and_stored(tree: ast.AST) -> tuple[set[str], set[str]]:
    loaded, stored = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store | ast.Del) else loaded).add(node.id)
        elif isinstance(node, ast.alias):
            stored.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            stored.add(node.name)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            stored.add(node.name)
    return loaded, stored


def answer_names(source: str) -> list[str]:
    """The ``answer_*`` names a test cell reads, sorted."""
    tree = _parse(source)
    if tree is None:
        return []
    loaded, _ = _loaded_and_stored(tree)
    return sorted(name for name in loaded if ANSWER_NAME.match(name))


def probe_source(names: Iterable[str]) -> str:
    """Kernel code that publishes the named answers as JSON (one display output)."""
    return (
        "# Answers are collected here; this cell's test runs outside your kernel.\n"
        "def __course_probe(names):\n"
        "    import json\n"
        "    from IPython.display import display\n"
        "    found = {}\n"
        "    for name in names:\n"
        "        if name in globals():\n"
        "            try:\n"
        "                found[name] = json.dumps(globals()[name], allow_nan=False)\n"
        "            except (TypeError, ValueError, RecursionError):\n"
        "                pass\n"
        f"    display({{{PROBE_MIME!r}: found}}, raw=True)\n"
        f"__course_probe({sorted(names)!r})\n"
        "del __course_probe\n"
    )


def answers_from_outputs(outputs: Iterable[NotebookNode], names: Iterable[str]) -> dict[str, Any]:
    """Decode the probe's answers; anything unexpected means no answer for that name."""
    probes = [out for out in outputs
              if out.get("output_type") in ("display_data", "execute_result")
              and PROBE_MIME in out.get("data", {})]
    if len(probes) != 1 or not isinstance(probes[0]["data"][PROBE_MIME], dict):
        return {}
    published = probes[0]["data"][PROBE_MIME]
    answers: dict[str, Any] = {}
    for name in names:
        text = published.get(name)
        if not isinstance(text, str) or len(text.encode("utf-8", "replace")) > MAX_ANSWER_BYTES:
            continue
        try:
            answers[name] = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            continue
    return answers


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not an answer")


def _error_output(error: BaseException) -> NotebookNode:
    message = str(error).strip()
    name = type(error).__name__
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"{name}: {message}" if message else name])


def _stream(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name=name, text=text)


def _result(value: Any) -> NotebookNode:
    return NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                        data={"text/plain": repr(value)})


def run_test(source: str, namespace: dict[str, Any], label: str) -> list[NotebookNode]:
    """Run one test cell's source in ``namespace``; its outputs as nbformat outputs.

    As in a kernel, a last expression that is not None becomes an ``execute_result``: a
    single number there is nbgrader's partial credit (certainty-based marking).
    """
    out, err = io.StringIO(), io.StringIO()
    failure: BaseException | None = None
    value: Any = None
    try:
        tree = ast.parse(source, f"<{label}>")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(tree, f"<{label}>", "exec"), namespace)  # the instructor's test
            if last is not None:
                value = eval(compile(ast.Expression(last.value), f"<{label}>", "eval"),
                             namespace)
    except Exception as error:  # a failed test is an error output, as in the kernel
        failure = error
    outputs = [_stream(name, text) for name, text in (("stdout", out.getvalue()),
                                                      ("stderr", err.getvalue())) if text]
    if failure is not None:
        outputs.append(_error_output(failure))
    elif value is not None:
        outputs.append(_result(value))
    return outputs


@dataclass
class Probed:
    """A test cell swapped for its probe: where it is and what to put back."""

    index: int
    source: str
    names: list[str]


def insert_probes(nb: NotebookNode) -> list[Probed]:
    """Replace every test cell's source by its probe; returns what to restore."""
    probed = []
    for index, cell in enumerate(nb.cells):
        if is_test_cell(cell):
            names = answer_names(cell.source)
            probed.append(Probed(index, cell.source, names))
            cell.source = probe_source(names)
    return probed


def restore_sources(nb: NotebookNode, probed: Iterable[Probed]) -> None:
    for item in probed:
        nb.cells[item.index].source = item.source


def trusted_namespace(nb: NotebookNode, learner: str | None = None) -> dict[str, Any]:
    """A fresh namespace with the notebook's locked import-only set-up cells run, and
    ``learner`` (when given) as :data:`LEARNER_NAME`, whatever the set-up imported."""
    namespace: dict[str, Any] = {"__name__": "__course_tests__", "__builtins__": builtins}
    for cell in nb.cells:
        if is_setup_cell(cell):
            exec(compile(cell.source, "<setup>", "exec"), namespace)
    if learner is not None:
        namespace[LEARNER_NAME] = learner
    return namespace


def run_tests_outside_kernel(nb: NotebookNode, probed: Iterable[Probed],
                             learner: str | None = None) -> None:
    """Put each test back, run it here with the probed answers (and ``learner``, see
    :func:`trusted_namespace`), set its outputs."""
    namespace = trusted_namespace(nb, learner)
    for item in probed:
        cell = nb.cells[item.index]
        answers = answers_from_outputs(cell.get("outputs", []), item.names)
        for name in item.names:
            namespace.pop(name, None)  # an answer not published now is missing now
        namespace.update(answers)
        cell.source = item.source
        label = _nbgrader(cell).get("grade_id", f"cell {item.index + 1}")
        cell.outputs = run_test(item.source, namespace, f"test {label}")


def free_name_problems(nb: NotebookNode) -> list[str]:
    """Names test cells read that would come from the learner's kernel (convention).

    ``course release`` refuses an assignment with any (course.grading.distribution): such a test
    would raise ``NameError`` here and score a correct learner 0.
    """
    available = set(_BUILTIN_NAMES) | {LEARNER_NAME}
    problems = []
    for cell in nb.cells:
        tree = _parse(cell.get("source", "")) if cell.get("cell_type") == "code" else None
        if is_setup_cell(cell) and tree is not None:
            available |= _loaded_and_stored(tree)[1]
        elif is_test_cell(cell):
            if tree is None:
                problems.append(f"test cell {_nbgrader(cell).get('grade_id')} is not "
                                "valid Python")
                continue
            loaded, stored = _loaded_and_stored(tree)
            stray = sorted(n for n in loaded - available - stored if not ANSWER_NAME.match(n))
            if stray:
                problems.append(f"test cell {_nbgrader(cell).get('grade_id')} reads "
                                f"{', '.join(stray)}")
            available |= stored
    return problems
