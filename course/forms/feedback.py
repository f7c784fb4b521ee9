"""Feedback that reads as plain sentences: question titles, wrapped rationales, no Python.

:class:`PlainFeedback` runs in ``GenerateFeedback.preprocessors`` (after the course's
``ShortenTestTracebacks``). For every graded cell it records a title ("Question 1.3.1",
"Case 4.1.1, decision") in ``cell.metadata.course.title``, which the course's feedback
template shows instead of "Test cell" or a grade id; it turns what a test cell printed
into wrapped HTML paragraphs (not a monospace box), and an error into one sentence
without its exception name ("AssertionError: …"). Every text is HTML-escaped: a test may
echo a learner's own words. :func:`item_titles` gives the same titles, in question order,
to ``course check``.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

from course.grading.trusted_tests import is_test_cell

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "feedback"  # shadows nbgrader's: its API forces this name
_TITLE = re.compile(r"(?:\"\"\"|\*\*|#+\s*)?\s*((?:Question|Case|Justification|Calculation)"
                    r"\s+\d+(?:\.\d+)*(?:,\s*[a-z]+)?)")
PARAGRAPH_STYLE = ("white-space:normal;font-family:inherit;font-size:1em;line-height:1.5;"
                   "max-width:48em;margin:0.4em 0")


def cell_title(cell: NotebookNode) -> str | None:
    """The question a graded cell belongs to, as its docstring or stem names it."""
    found = _TITLE.search(cell.get("source", "")[:300])
    return found.group(1) if found else None


def _fallback(grade_id: str) -> str:
    return grade_id.replace("_", " ").strip().capitalize()


def item_titles(nb: NotebookNode) -> dict[str, tuple[int, str]]:
    """grade_id → (position in the notebook, title), for every graded cell."""
    titles = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            titles[meta["grade_id"]] = (index, cell_title(cell) or _fallback(meta["grade_id"]))
    return titles


def _paragraphs(text: str) -> str:
    """One paragraph per printed line, and per option in a rationale ("… (b) …")."""
    blocks: list[str] = []
    for line in text.splitlines():
        for part in re.split(r"(?<=[.\]]) (?=\([a-e]\) )", line):
            if blocks and re.fullmatch(r"[\w ()]{1,30}\.", blocks[-1]):
                blocks[-1] += " " + part.strip()  # "Rationale." stays with its first option
            else:
                blocks.append(part.strip())
    return "".join(f'<p style="{PARAGRAPH_STYLE}">{escape(b)}</p>' for b in blocks if b)


def _html_output(html: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="display_data", metadata={},
                        data={"text/html": f'<div class="course-feedback">{html}</div>',
                              "text/plain": text})


def _points(output: dict[str, Any]) -> float | None:
    """The partial credit a test cell's result gives (a single number), or None."""
    text = output.get("data", {}).get("text/plain", "")
    try:
        return float("".join(text) if isinstance(text, list) else text)
    except (TypeError, ValueError):
        return None


def plain_outputs(outputs: list[dict[str, Any]]) -> list[NotebookNode]:
    """A test cell's outputs as wrapped, readable HTML (with an equal plain text)."""
    result = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            result.append(_html_output(_paragraphs(text), text))
        elif kind == "error":
            message = str(output.get("evalue", "")).strip() or "This part was not credited."
            text = f"Not credited. {message}"
            result.append(_html_output(
                f'<p style="{PARAGRAPH_STYLE}"><strong>Not credited.</strong> '
                f"{escape(message)}</p>", text))
        elif kind == "stream":
            continue  # stderr of a test: warnings, never shown to learners
        elif kind == "execute_result" and (points := _points(output)) is not None:
            text = (f"Right. Points for this answer: {points:.2f} (certainty-based marking: "
                    "1/3, 2/3 or 1 point for a right answer given with low, medium or high "
                    "certainty).")
            result.append(_html_output(f'<p style="{PARAGRAPH_STYLE}">{escape(text)}</p>',
                                       text))
        else:
            result.append(output)
    return result


class PlainFeedback(Preprocessor):
    """Titles, wrapped rationales and plain sentences in nbgrader's feedback."""

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off by default

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            title = cell_title(cell) or _fallback(meta.get("grade_id", ""))
            cell.metadata.setdefault("course", {})["title"] = title
        if is_test_cell(cell):
            cell.outputs = plain_outputs(cell.get("outputs", []))
        return cell, resources


def template_dirs() -> list[str]:
    """Template folders for nbgrader's feedback exporter: the course's, then nbgrader's."""
    import nbgrader

    formgrader = Path(nbgrader.__file__).resolve().parent / "server_extensions" / \
        "formgrader" / "templates"
    return [str(TEMPLATES), str(formgrader)]


def titled_items(source_folder: Path, items: list[Any]) -> list[tuple[str, Any]]:
    """``course check``'s items in question order, each with its question title.

    ``items`` have ``notebook`` and ``grade_id`` (course.grading.assignments.ItemScore);
    an item whose notebook or cell is not in ``source_folder`` keeps its grade id, after
    the others.
    """
    from course.notebooks import read_notebook

    titles: dict[str, dict[str, tuple[int, str]]] = {}
    for name in sorted({item.notebook for item in items}):
        path = source_folder / f"{name}.ipynb"
        titles[name] = item_titles(read_notebook(path)) if path.is_file() else {}
    notebooks = sorted(titles)

    def where(item: Any) -> tuple[int, int, str]:
        position, _ = titles[item.notebook].get(item.grade_id, (10**6, ""))
        return notebooks.index(item.notebook), position, item.grade_id

    return [(titles[i.notebook].get(i.grade_id, (0, i.grade_id))[1], i)
            for i in sorted(items, key=where)]
