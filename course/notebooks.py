"""Notebook anatomy, hygiene and leak checks (pure functions over nbformat nodes).

Used by the test suite, by ``course release`` (leak scan) and by later tooling that
reads activity cards (minutes of study).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path

import nbformat
from nbformat import NotebookNode

GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")
MEASURABLE_VERBS = {
    "identify", "explain", "calculate", "compare", "decide", "justify", "describe",
    "list", "recognise", "distinguish", "apply", "appraise", "interpret", "state",
    "use", "locate", "summarise", "classify", "plan", "select", "outline", "name",
    "define", "check", "read", "find", "evaluate", "choose", "recall", "document",
}
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME", "END MARK SCHEME")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", *HIDDEN_MARKERS)


class NotebookError(ValueError):
    """A notebook file cannot be read as a valid Jupyter notebook."""


def read_notebook(path: Path) -> NotebookNode:
    """Read and validate a notebook, with a clear message when it is malformed."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such notebook") from None
    except Exception as error:  # nbformat raises several unrelated types
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NotebookError(f"{path}: not a valid Jupyter notebook ({reason})") from None
    return nb


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# ---------------------------------------------------------------- anatomy


@dataclass(frozen=True)
class ActivityCard:
    objectives: tuple[str, ...]
    minutes: int
    prerequisites: str
    reviewed: date


def headings(nb: NotebookNode) -> list[tuple[int, str]]:
    """Markdown headings (level, text) in order, ignoring fenced code."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and (match := re.match(r"^(#{1,6})\s+(.*\S)", line)):
                found.append((len(match.group(1)), match.group(2)))
    return found


def heading_problems(nb: NotebookNode) -> list[str]:
    """One H1 in the first cell, and no level skipped on the way down."""
    found = headings(nb)
    problems = []
    if not nb.cells or not re.match(r"^#\s", nb.cells[0].source):
        problems.append("the first cell must open with the H1 title")
    h1s = [text for level, text in found if level == 1]
    if len(h1s) != 1:
        problems.append(f"expected exactly one H1, found {len(h1s)}")
    for (before, _), (after, text) in itertools.pairwise(found):
        if after > before + 1:
            problems.append(f"heading {text!r} jumps from H{before} to H{after}")
    return problems


def activity_card(nb: NotebookNode) -> ActivityCard:
    """Parse the activity card from the notebook's opening markdown cells."""
    opening = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    if "Activity card" not in opening:
        raise ValueError("no activity card in the first markdown cells")

    def field(pattern: str, what: str) -> str:
        match = re.search(pattern, opening)
        if not match:
            raise ValueError(f"activity card: missing {what}")
        return match.group(1).strip()

    minutes = int(field(r"\*\*Estimated time:\*\*\s*(\d+)\s*minutes", "estimated time"))
    prerequisites = field(r"\*\*Prerequisites:\*\*\s*([^·\n]+)", "prerequisites")
    reviewed = date.fromisoformat(
        field(r"\*\*Last reviewed:\*\*\s*(\d{4}-\d{2}-\d{2})", "last reviewed date")
    )
    objectives_block = opening.split("Learning objectives", 1)[-1].split("Estimated time", 1)[0]
    objectives = tuple(re.findall(r"^>?\s*\d+\.\s+(.+)$", objectives_block, re.MULTILINE))
    if not objectives:
        raise ValueError("activity card: no numbered learning objectives")
    for objective in objectives:
        verb = objective.split()[0].lower().strip(",.;:")
        if verb not in MEASURABLE_VERBS:
            raise ValueError(f"activity card: objective {objective!r} does not open with a "
                             f"measurable verb")
    return ActivityCard(objectives, minutes, prerequisites, reviewed)


# ---------------------------------------------------------------- hygiene


def hygiene_problems(nb: NotebookNode) -> list[str]:
    """What is wrong with how a source notebook is stored or marked up for nbgrader."""
    problems = []
    grade_ids: list[str] = []
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: outputs or an execution count are committed")
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader schema_version must be 3")
        grade_id = meta.get("grade_id", "")
        if not GRADE_ID.match(grade_id):
            problems.append(f"{where}: invalid grade_id {grade_id!r}")
        grade_ids.append(grade_id)
        if meta.get("grade") and not (isinstance(meta.get("points"), int | float)
                                      and meta["points"] > 0):
            problems.append(f"{where}: a graded cell needs positive points")
        if meta.get("grade") and not meta.get("solution") and not meta.get("locked"):
            problems.append(f"{where}: test cell {grade_id!r} must be locked")
        if meta.get("solution") and meta.get("locked"):
            problems.append(f"{where}: answer cell {grade_id!r} must not be locked")
    duplicates = sorted({g for g in grade_ids if grade_ids.count(g) > 1})
    if duplicates:
        problems.append(f"duplicate grade ids: {', '.join(duplicates)}")
    extra_meta = set(nb.metadata) - {"kernelspec", "language_info"}
    if extra_meta:
        problems.append(f"volatile notebook metadata committed: {', '.join(sorted(extra_meta))}")
    return problems


# ---------------------------------------------------------------- leaks


def _regions(source: str, begin: str, end: str) -> list[str]:
    lines, inside, found = source.splitlines(), False, []
    for line in lines:
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            found.append(line)
    return found


def secret_lines(nb: NotebookNode, *, include_solutions: bool = True) -> set[str]:
    """Distinctive lines of solutions, hidden tests and mark schemes in a source notebook."""
    lines: list[str] = []
    for cell in nb.cells:
        if include_solutions:
            lines += _regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        lines += _regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        lines += _regions(cell.source, "BEGIN MARK SCHEME", "END MARK SCHEME")
    return {s for line in lines if len(s := line.strip()) >= 8 and not s.startswith("#")}


def notebook_text(nb: NotebookNode) -> str:
    """Everything a learner can read in a notebook: cell sources and text outputs."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(v) for v in output.get("data", {}).values()]
            parts += output.get("traceback", [])
    return "\n".join(parts)


def html_to_text(html: str) -> str:
    """Strip tags and entities, so highlighted code reads as its source again."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def find_leaks(secrets: set[str], text: str, markers: tuple[str, ...] = MARKERS) -> list[str]:
    """Markers and secret lines that appear in a student-facing text.

    Feedback is scanned with ``HIDDEN_MARKERS`` only: a learner's own answer may
    legitimately contain anything, including a copied solution marker.
    """
    found = [marker for marker in markers if marker in text]
    found += sorted(line for line in secrets if line in text)
    return found
