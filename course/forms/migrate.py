"""Rewrite answer and check cells to the answer-form pattern (an instructor's tool).

For every graded answer cell (an nbgrader solution cell assigning one ``answer_*`` name):

- a first line ``answer_X = None  # …`` outside the solution region, so the released
  stub (a comment, see ``nbgrader_config.py``) leaves the name defined and nothing raises;
- ``course.answer`` metadata (:mod:`course.forms.spec`): labels from the stem, menus from
  the case catalogue;
- the visible part of each check cell becomes one call to a :mod:`course.answers`
  helper, which prints "Format OK", "Not answered yet" or one plain sentence and never
  raises; the hidden part keeps its rationale and its assertion, and reads the answer
  tolerantly (``choice_value``, ``number_within``), so "(B)" scores as "b";
- the locked set-up cell imports those helpers (the trusted tests see them too).

Practice answer cells (``answer_qX = ""`` followed by ``check("qX", answer_qX)``) get the
same metadata, with options from ``course/data/questions.toml``. nbgrader metadata, grade
ids, points, rationales and hidden assertions are kept; running it again changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from course.forms.spec import (
    answer_spec,
    case_spec,
    choice_spec,
    number_spec,
    practice_spec,
    set_answer_spec,
)
from course.grading.trusted_tests import answer_names, is_setup_cell, is_test_cell

HIDDEN = "### BEGIN HIDDEN TESTS"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
HELPERS = ("check_case", "check_choice", "check_format", "check_number", "choice_value",
           "number_within")
IMPORT_LINE = re.compile(r"^from course\.answers import (.+)$", re.MULTILINE)
HINTS = {
    "choice": 'one letter in quotes, for example "a"',
    "number": "a number, for example 2.5",
    "case": "one dict, as described above",
    "other": "as described above",
}
PROSE = (("replacing the line that raises `NotImplementedError`", "replacing `None` with "
          "your answer"),)
CONFIG_BEGIN = "# BEGIN answer-forms code stub"
CONFIG_END = "# END answer-forms code stub"
CONFIG_STUB = (
    f"{CONFIG_BEGIN} (python -m course.forms migrate rewrites this block)\n"
    "# Answer cells start `answer_… = None` above the solution region (course.forms), so the\n"
    "# stub that replaces the solution is a comment: Run All never stops at an answer cell.\n"
    "c.ClearSolutions.code_stub = {\n"
    '    "python": "# YOUR ANSWER HERE: replace None above with your answer, then run the "\n'
    '              "check cell below."\n'
    "}\n"
    f"{CONFIG_END}"
)

FEEDBACK_BEGIN = "# BEGIN answer-forms feedback"
FEEDBACK_BLOCK = (
    f"{FEEDBACK_BEGIN} (added by python -m course.forms migrate)\n"
    "# Feedback reads as sentences: question titles instead of \"Test cell\", rationales as\n"
    "# wrapped paragraphs, errors without exception names (course/forms/feedback.py and its\n"
    "# copy of nbgrader's feedback template, found first).\n"
    "from course.forms.feedback import template_dirs  # noqa: E402\n"
    "\n"
    "c.GenerateFeedback.preprocessors.insert(\n"
    "    c.GenerateFeedback.preprocessors.index(\n"
    '        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"),\n'
    '    "course.forms.feedback.PlainFeedback")\n'
    "c.HTMLExporter.extra_template_basedirs = template_dirs()\n"
    "# END answer-forms feedback"
)


def _nbgrader(cell: NotebookNode) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {})


def assigned_answers(source: str) -> list[str]:
    """Top-level ``answer_*`` names a cell assigns, in order, without repeats."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id.startswith("answer_") \
                    and target.id not in names:
                names.append(target.id)
    return names


def _split(source: str) -> tuple[str, str]:
    visible, marker, hidden = source.partition(HIDDEN)
    return visible, marker + hidden


def _docstring(visible: str) -> str:
    tree = ast.parse(visible)
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return "\n".join(visible.splitlines()[: first.end_lineno]) + "\n"
    return ""


def _kind(name: str, tests: list[NotebookNode]) -> tuple[str, dict[str, Any]]:
    """What kind of item the check cells describe, and what they tell about it."""
    text = "\n".join(cell.source for cell in tests)
    case = re.search(rf'(?:format_problems|check_case)\((?:"{name}", {name}, )?"(\w+)"', text)
    if case:
        return "case", {"case": case.group(1)}
    number = re.search(rf"abs\({name} - [-\d.e]+\) <= ([\d.e]+)|number_within\({name}, "
                       r"[-\d.e]+, ([\d.e]+)", text)
    if number or f"check_number(\"{name}\"" in text or \
            f"isinstance({name}, (int, float))" in text:
        tolerance = next((float(g) for g in (number.groups() if number else ()) if g), None)
        return "number", {"tolerance": tolerance}
    letters = re.search(rf'{name}\.strip\(\)\.lower\(\) in \(((?:"[a-e]",? ?)+)\)'
                        rf'|check_choice\("{name}", {name}, "([a-e]+)"\)', text)
    if letters:
        found = letters.group(1) or letters.group(2)
        return "choice", {"letters": "".join(re.findall(r"[a-e]", found))}
    return "other", {}


def _part(visible: str) -> str:
    found = re.search(r"Your (\w+) will be scored", visible)
    return found.group(1) if found else "answer"


def _visible_call(name: str, kind: str, info: dict[str, Any], spec: dict[str, Any] | None,
                  visible: str) -> str | None:
    if kind == "choice":
        letters = "".join(o["value"] for o in spec["options"]) if spec else info["letters"]
        return f'check_choice("{name}", {name}, "{letters}")'
    if kind == "number":
        return f'check_number("{name}", {name}, {(spec or {}).get("unit")!r})'
    if kind == "case":
        return f'check_case("{name}", {name}, "{info["case"]}", "{_part(visible)}")'
    tree = ast.parse(visible)
    check = next((n for n in tree.body if isinstance(n, ast.Assert) and n.msg is not None), None)
    if check is None:
        return None
    condition = ast.get_source_segment(visible, check.test)
    hint = ast.get_source_segment(visible, check.msg)
    return (f'check_format("{name}", {name},\n             ok={condition},\n'
            f'             hint={hint},\n             what="{_part(visible)}")')


def _migrate_check(cell: NotebookNode, name: str, kind: str, info: dict[str, Any],
                   spec: dict[str, Any] | None) -> set[str]:
    """Rewrite one check cell in place; the helpers it now uses."""
    visible, hidden = _split(cell.source)
    used = {h for h in HELPERS if f"{h}(" in cell.source}
    if not any(f"{h}(" in visible for h in HELPERS[:4]):
        call = _visible_call(name, kind, info, spec, visible)
        if call is not None:
            visible = _docstring(visible) + call + "\n"
            used.add(call.split("(", 1)[0])
    if kind == "choice":
        letters = "".join(o["value"] for o in spec["options"]) if spec else info["letters"]
        hidden, count = re.subn(
            rf'type\({name}\) is str and {name}\.strip\(\)\.lower\(\) == "([a-e])"',
            rf'choice_value({name}, "{letters}") == "\1"', hidden)
        used |= {"choice_value"} if count or "choice_value(" in hidden else set()
    elif kind == "number":
        unit = (spec or {}).get("unit")
        hidden, count = re.subn(
            rf"type\({name}\) in \(int, float\) and abs\({name} - ([-\d.e]+)\) <= ([\d.e]+)",
            rf"number_within({name}, \1, \2, unit={unit!r})", hidden)
        used |= {"number_within"} if count or "number_within(" in hidden else set()
    cell.source = visible + hidden
    return used


def _with_default(source: str, name: str, kind: str) -> str:
    if source.lstrip().startswith(f"{name} = None"):
        return source
    return f"{name} = None  # {HINTS[kind]}\n" + source


def _stem(cells: list[NotebookNode], index: int, name: str) -> str:
    return next((c.source for c in reversed(cells[:index])
                 if c.cell_type == "markdown" and f"`{name}`" in c.source), "")


def _migrate_graded(cells: list[NotebookNode], index: int) -> set[str]:
    cell = cells[index]
    names = assigned_answers(cell.source)
    if len(names) != 1:
        return set()
    name = names[0]
    tests = []
    for later in cells[index + 1:]:
        if not (is_test_cell(later) and name in answer_names(later.source)):
            break
        tests.append(later)
    if not tests:
        return set()
    kind, info = _kind(name, tests)
    spec = answer_spec(cell)
    if spec is None:
        stem = _stem(cells, index, name)
        if kind == "choice":
            spec = choice_spec(name, stem, len(tests))
        elif kind == "number":
            spec = number_spec(name, stem, len(tests), info.get("tolerance"))
        elif kind == "case":
            spec = case_spec(name, info["case"], len(tests))
        if spec is not None:
            set_answer_spec(cell, spec)
    if BEGIN_SOLUTION in cell.source:
        cell.source = _with_default(cell.source, name, kind)
    used: set[str] = set()
    for test in tests:
        used |= _migrate_check(test, name, kind, info, spec)
    return used


_PRACTICE_ANSWER = re.compile(r'^(answer_\w+) = ""')


def _migrate_practice(cells: list[NotebookNode], index: int) -> None:
    cell, following = cells[index], cells[index + 1] if index + 1 < len(cells) else None
    found = _PRACTICE_ANSWER.match(cell.source)
    if not found or following is None or following.cell_type != "code":
        return
    name = found.group(1)
    called = re.match(rf'check\("(\w+)", {name}\)', following.source.strip())
    if called and answer_spec(cell) is None:
        spec = practice_spec(name, called.group(1))
        if spec is not None:
            set_answer_spec(cell, spec)


def _import_helpers(cells: list[NotebookNode], used: set[str]) -> None:
    setup = next((c for c in cells if is_setup_cell(c)), None)
    if setup is None or not used:
        return
    present = IMPORT_LINE.search(setup.source)
    names = set(used) | ({n.strip() for n in present.group(1).split(",")} if present else set())
    line = f"from course.answers import {', '.join(sorted(names))}"
    if present:
        setup.source = setup.source[: present.start()] + line + setup.source[present.end():]
    else:
        setup.source = setup.source.rstrip("\n") + "\n" + line


def migrate_notebook(nb: NotebookNode) -> NotebookNode:
    """Migrate one notebook in place (idempotent); returns it."""
    cells = nb.cells
    used: set[str] = set()
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and _nbgrader(cell).get("solution"):
            used |= _migrate_graded(cells, index)
        elif cell.cell_type == "code" and not _nbgrader(cell).get("grade"):
            _migrate_practice(cells, index)
        elif cell.cell_type == "markdown":
            for old, new in PROSE:
                cell.source = cell.source.replace(old, new)
    _import_helpers(cells, used)
    return nb


def migrate_file(path: Path) -> bool:
    """Migrate one notebook file; True when it changed."""
    before = path.read_text(encoding="utf-8")
    nb = migrate_notebook(nbformat.reads(before, as_version=4))
    after = nbformat.writes(nb) + "\n"
    if after.rstrip("\n") == before.rstrip("\n"):
        return False
    path.write_text(after, encoding="utf-8")
    return True


def patch_config(path: Path) -> bool:
    """Make the released stub a comment (the block between the markers) and add the
    plain-feedback settings at the end; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(CONFIG_BEGIN)}.*?^{re.escape(CONFIG_END)}",
                         re.MULTILINE | re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no '{CONFIG_BEGIN}' block to rewrite")
    new = pattern.sub(lambda _: CONFIG_STUB, text)
    if FEEDBACK_BEGIN not in new:
        new = new.rstrip("\n") + "\n\n" + FEEDBACK_BLOCK + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.forms",
        description="Rewrite answer and check cells to the answer-form pattern.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("migrate", help="migrate notebooks in place (idempotent)")
    run.add_argument("paths", nargs="*", type=Path, help="notebooks or folders (default: "
                     "source/ of the course root)")
    run.add_argument("--config", type=Path, help="nbgrader_config.py whose code stub to "
                     "rewrite (default: the one beside source/, when migrating source/)")
    commands.add_parser("stamp", help="record the hash of labextension/ sources in the "
                        "built bundle (run by `make labextension` after a build)")
    args = parser.parse_args(argv)
    if args.command == "stamp":
        from course.forms.bundle import STAMP, write_stamp

        print(f"{write_stamp()} written to {STAMP}")
        return 0
    from course.paths import course_root

    paths = args.paths or [course_root() / "source"]
    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*.ipynb"))
                    if ".ipynb_checkpoints" not in f.parts})
    if not files:
        print("no notebooks found", file=sys.stderr)
        return 2
    changed = [f for f in files if migrate_file(f)]
    for path in changed:
        print(f"migrated {path}")
    config = args.config or next((p.parent / "nbgrader_config.py" for p in paths
                                  if p.is_dir() and p.name == "source"
                                  and (p.parent / "nbgrader_config.py").is_file()), None)
    if config is not None and patch_config(config):
        print(f"answer stub set in {config}")
    print(f"{len(changed)} of {len(files)} notebook(s) changed")
    return 0
