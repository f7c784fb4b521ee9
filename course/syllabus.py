"""The course map: assignments, their notebooks and estimated minutes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.catalogue import DataFile
from course.content import TEXT, ContentError, Rule, validated
from course.paths import DATA_DIR


@dataclass(frozen=True)
class NotebookEntry:
    id: str
    title: str
    minutes: int


@dataclass(frozen=True)
class AssignmentEntry:
    id: str
    title: str
    assessment: str
    notebooks: tuple[NotebookEntry, ...]
    label: str = ""  # set for an assignment that is not a module ("Orientation")

    @property
    def minutes(self) -> int:
        return sum(nb.minutes for nb in self.notebooks)


MINUTES = Rule(lambda v: type(v) is int and 1 <= v <= 600, "whole minutes between 1 and 600")
LIST = Rule(lambda v: isinstance(v, list) and bool(v), "a non-empty list")


def _course_map(data: dict[str, Any], path: Path) -> tuple[AssignmentEntry, ...]:
    records = data.get("assignment")
    if not isinstance(records, list) or not records:
        raise ContentError(f"{path.name}: expected one or more [[assignment]] tables")
    assignments = []
    for index, record in enumerate(records):
        where = f"{path.name}: assignment #{index + 1}"
        fields = validated(
            record, where,
            {"id": TEXT, "title": TEXT, "assessment": TEXT, "notebooks": LIST},
            {"label": TEXT},
        )
        notebooks = tuple(
            NotebookEntry(**validated(nb, f"{where} notebook #{i + 1}",
                                      {"id": TEXT, "title": TEXT, "minutes": MINUTES}))
            for i, nb in enumerate(fields.pop("notebooks"))
        )
        assignments.append(AssignmentEntry(notebooks=notebooks, **fields))
    ids = [a.id for a in assignments]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{path.name}: assignment ids must be unique, got {ids}")
    return tuple(assignments)


COURSE_MAP = DataFile(DATA_DIR / "course_map.toml", _course_map)


def load_course_map(path: Path = COURSE_MAP.path) -> tuple[AssignmentEntry, ...]:
    """Load and validate the course map."""
    return COURSE_MAP.load(path)


def course_map() -> tuple[AssignmentEntry, ...]:
    """The course's own map, loaded once per process."""
    return COURSE_MAP.cached()


def assignment_ids() -> list[str]:
    return [a.id for a in course_map()]


# ---------------------------------------------------------------- where a notebook sits


def locate(assignment_id: str, notebook_id: str) -> tuple[int, int]:
    """(index of the assignment, index of the notebook in it), both from 0."""
    for a_index, assignment in enumerate(course_map()):
        if assignment.id != assignment_id:
            continue
        for n_index, nb in enumerate(assignment.notebooks):
            if nb.id == notebook_id:
                return a_index, n_index
    raise KeyError(f"{assignment_id}/{notebook_id} is not in course/data/course_map.toml")


def after_course(assignment: AssignmentEntry) -> bool:
    """An ungraded assignment that follows the modules (the post-course evaluation)."""
    return assignment.assessment.lower().startswith("ungraded")


def position_label(assignment_id: str, notebook_id: str) -> str:
    """Where a notebook sits, e.g. "Module 2 of 5 · notebook 3 of 4".

    Modules are the numbered assignments (01 to 05); 00 is the orientation, and an
    ungraded assignment after them (the post-course evaluation) is "After the course".
    """
    a_index, n_index = locate(assignment_id, notebook_id)
    modules = [a for a in course_map() if not a.id.startswith("00-") and not after_course(a)]
    assignment = course_map()[a_index]
    where = f"notebook {n_index + 1} of {len(assignment.notebooks)}"
    if assignment.id.startswith("00-"):  # the orientation, and the spaced review beside it
        return f"{assignment.label or 'Orientation'} · {where}"
    if after_course(assignment):
        return f"After the course · {where}"
    return f"Module {modules.index(assignment) + 1} of {len(modules)} · {where}"


def next_notebook(assignment_id: str,
                  notebook_id: str) -> tuple[AssignmentEntry, NotebookEntry] | None:
    """The notebook that follows in the course map, or None after the last one."""
    order = [(a, nb) for a in course_map() for nb in a.notebooks]
    index = [(a.id, nb.id) for a, nb in order].index((assignment_id, notebook_id))
    return order[index + 1] if index + 1 < len(order) else None


def learner_link(from_assignment: str, to_assignment: str, to_notebook: str) -> str:
    """Relative link between two notebooks of a learner's copy.

    Learner copies keep the course layout, one folder per assignment
    (``assignments/<A>/<nb>.ipynb`` in self-study, ``~/<A>/<nb>.ipynb`` in a cohort),
    so a link to a sibling assignment goes up one folder.
    """
    if from_assignment == to_assignment:
        return f"{to_notebook}.ipynb"
    return f"../{to_assignment}/{to_notebook}.ipynb"


# ---------------------------------------------------------------- time estimates
#
# The minutes of the course map are estimated from each notebook's content
# (course.notebooks.study_load counts it) with this model, after learners needed
# 12-14 h for a course that stated 11 h 10 min (issue #18):
# - reading: every word a learner reads (markdown, and the badges and glossary entries
#   that cells show) at 130 words a minute, a careful pace for clinical text;
# - each answered item (practice or graded, choice or number): 1.5 minutes, reading its
#   stem included;
# - each key-feature case: 13 minutes, reading it included, and 2 more for its written
#   justification (learners took 2-2.5 h for the eight cases with their follow-ups);
# - each written answer (a justification, a free-text box): 2 minutes;
# - each interactive widget (an explorer, calculator, planner or form): 5 minutes;
# - each figure: 2 minutes; each worked code example a learner reads and may change:
#   1 minute.
# Stated minutes are rounded to 5 and must stay within 15% of the estimate
# (tests/test_notebooks.py).

WORDS_PER_MINUTE = 130
MINUTES_PER_ITEM = 1.5
MINUTES_PER_CASE = 13.0
MINUTES_PER_WRITTEN = 2.0
MINUTES_PER_WIDGET = 5.0
MINUTES_PER_FIGURE = 2.0
MINUTES_PER_EXAMPLE = 1.0
TOLERANCE = 0.15


@dataclass(frozen=True)
class StudyLoad:
    """What a notebook asks of a learner, counted from its content."""

    words: int = 0
    items: int = 0
    cases: int = 0
    widgets: int = 0
    figures: int = 0
    examples: int = 0
    written: int = 0

    @property
    def minutes(self) -> float:
        return (self.words / WORDS_PER_MINUTE + self.items * MINUTES_PER_ITEM
                + self.cases * MINUTES_PER_CASE + self.widgets * MINUTES_PER_WIDGET
                + self.figures * MINUTES_PER_FIGURE + self.examples * MINUTES_PER_EXAMPLE
                + self.written * MINUTES_PER_WRITTEN)

    @property
    def stated(self) -> int:
        """The estimate as the course states it: whole minutes, rounded to 5."""
        return max(5, 5 * round(self.minutes / 5))


def within_tolerance(stated: int, estimate: float, tolerance: float = TOLERANCE) -> bool:
    return abs(stated - estimate) <= tolerance * estimate
