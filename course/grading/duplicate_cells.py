"""A learner who duplicated an answer cell is graded on the copy they answered.

JupyterLab's "Duplicate cell" copies a cell's nbgrader metadata, so a notebook can hold
two cells with one ``grade_id``. nbgrader's ``DeduplicateIds`` then empties the metadata
of every copy but the last, and ``OverwriteCells.add_missing_cells`` (on in this course)
fails on the emptied copy with ``KeyError: 'grade_id'``: the whole submission fails with
a traceback, although nothing is wrong with the answer.

:class:`MergeDuplicateCells` runs just before ``DeduplicateIds`` (``nbgrader_config.py``,
``Autograde.sanitize_preprocessors``: ``nbgrader autograde``, ``course grade`` and
``course check`` alike) and keeps one copy of each duplicated cell:

- an answer (solution) cell: the copy that differs from the released cell (the answered
  one). Copies identical to the released cell, or to the kept copy, are removed -- they
  hold no answer, so nothing is lost. Two copies holding *different* answers cannot be
  told apart: :class:`DuplicateAnswerCells` names the notebook and the question ("delete
  one"), and that submission fails with that line;
- any other cell (a locked test or set-up cell): the last copy, as nbgrader keeps; the
  others are removed (nbgrader restores a locked cell's source from the gradebook anyway).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from course.errors import InputError


class DuplicateAnswerCells(InputError):
    """Two copies of one answer cell hold different answers; the message says which."""


def _nbgrader(cell: NotebookNode) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _graded_id(cell: NotebookNode) -> str | None:
    """The grade_id of a cell nbgrader tracks (grade, solution, locked or task)."""
    meta = _nbgrader(cell)
    if not any(meta.get(flag) for flag in ("grade", "solution", "locked", "task")):
        return None
    grade_id = meta.get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else None


def duplicated_ids(nb: NotebookNode) -> dict[str, list[int]]:
    """Each grade_id held by more than one cell, with the indices of its cells."""
    seen: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if (grade_id := _graded_id(cell)) is not None:
            seen.setdefault(grade_id, []).append(index)
    return {grade_id: found for grade_id, found in seen.items() if len(found) > 1}


def _question(grade_id: str) -> str:
    return grade_id.removesuffix("_check")


def merge_duplicates(nb: NotebookNode, released_source: Callable[[str], str | None],
                     notebook: str) -> list[str]:
    """Keep one copy of each duplicated cell in ``nb`` (changed in place); one note each.

    ``released_source(grade_id)`` gives the released cell's source (None when unknown).
    Raises DuplicateAnswerCells when two copies of an answer cell hold different answers.
    """
    notes, remove = [], set()
    for grade_id, found in duplicated_ids(nb).items():
        cells = [nb.cells[i] for i in found]
        if any(_nbgrader(cell).get("solution") for cell in cells):
            released = (released_source(grade_id) or "").strip()
            answered = [i for i in found if nb.cells[i].source.strip() != released]
            if len({nb.cells[i].source.strip() for i in answered}) > 1:
                raise DuplicateAnswerCells(
                    f"Notebook {notebook} has {len(found)} copies of the answer cell for "
                    f"question {_question(grade_id)}, with different answers: delete one, "
                    "then submit again")
            keep = answered[-1] if answered else found[-1]
            notes.append(f"{notebook} had {len(found)} copies of the answer cell for question "
                         f"{_question(grade_id)}; graded the "
                         f"{'answered' if answered else 'unanswered'} one (delete the others)")
        else:
            keep = found[-1]
        remove |= set(found) - {keep}
    nb.cells = [cell for index, cell in enumerate(nb.cells) if index not in remove]
    return notes


def check_duplicates(learner: NotebookNode, released: NotebookNode, notebook: str) -> list[str]:
    """What :func:`merge_duplicates` would do to a learner's copy, judged against the
    released notebook; the learner's notebook is not changed."""
    sources = {grade_id: cell.source for cell in released.cells
               if (grade_id := _graded_id(cell)) is not None}
    return merge_duplicates(copy.deepcopy(learner), sources.get, notebook)


class MergeDuplicateCells(NbGraderPreprocessor):
    """nbgrader sanitize step: one copy of each duplicated cell (see the module)."""

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        if not duplicated_ids(nb):
            return nb, resources
        info = resources.get("nbgrader", {})
        notes = merge_duplicates(nb, lambda grade_id: _released(info, grade_id),
                                 f"{info.get('notebook', 'this notebook')}.ipynb")
        for note in notes:
            self.log.warning(note)
        return nb, resources


def _released(info: dict[str, Any], grade_id: str) -> str | None:
    """The released source of a cell, from the gradebook nbgrader is grading with."""
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(info["db_url"]) as gb:
            return gb.find_source_cell(grade_id, info["notebook"], info["assignment"]).source
    except (KeyError, MissingEntry):
        return None
