"""The course map: assignments, their notebooks and estimated minutes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from course.content import TEXT, ContentError, Rule, read_toml, validated
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

    @property
    def minutes(self) -> int:
        return sum(nb.minutes for nb in self.notebooks)


MINUTES = Rule(lambda v: type(v) is int and 1 <= v <= 600, "whole minutes between 1 and 600")
LIST = Rule(lambda v: isinstance(v, list) and bool(v), "a non-empty list")


def load_course_map(path: Path = DATA_DIR / "course_map.toml") -> tuple[AssignmentEntry, ...]:
    """Load and validate the course map."""
    records = read_toml(path).get("assignment")
    if not isinstance(records, list) or not records:
        raise ContentError(f"{path.name}: expected one or more [[assignment]] tables")
    assignments = []
    for index, record in enumerate(records):
        where = f"{path.name}: assignment #{index + 1}"
        fields = validated(
            record, where,
            {"id": TEXT, "title": TEXT, "assessment": TEXT, "notebooks": LIST},
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


@lru_cache(maxsize=1)
def course_map() -> tuple[AssignmentEntry, ...]:
    return load_course_map()


def assignment_ids() -> list[str]:
    return [a.id for a in course_map()]
