"""One pattern for the record files in ``course/data``: tables, cross-checks and look-ups.

Each data file holds ``[<table>.<id>]`` records. A topic module describes its record (a
frozen dataclass) and how one record is validated and built (with
:func:`course.content.validated`); this module does the rest the same way for every file:

- :func:`record_tables` refuses an unknown top-level table and a missing or empty one;
- :class:`Catalogue` reads a one-table file and builds every record, in file order;
- :func:`known_ids` and :func:`check_ids` check cross-references to another file
  (``references.toml``, ``claims.toml``) by id;
- :func:`get_record` looks an id up, or names the known ids in one sentence.

Loaded records are cached by the topic module's own one-line function (``schedules()``,
``skin_data()``, …), so that a test can load a planted file with ``load_*(path)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from course.content import ContentError, read_toml
from course.paths import DATA_DIR

R = TypeVar("R")


@lru_cache(maxsize=4)
def known_ids(filename: str) -> frozenset[str]:
    """The record ids of a course data file (e.g. references.toml), for cross-checks.

    Only the ids are read: the records themselves are validated by course.content.
    """
    return frozenset(read_toml(DATA_DIR / filename))


def check_ids(ids: Iterable[str], filename: str, where: str, field: str,
              kind: str = "reference") -> tuple[str, ...]:
    """The ids as a tuple, each checked against ``filename``; ContentError names a stranger."""
    known = known_ids(filename)
    checked = tuple(ids)
    for record_id in checked:
        if record_id not in known:
            raise ContentError(f"{where}: field {field!r}: unknown {kind} id {record_id!r}")
    return checked


def record_tables(data: Mapping[str, Any], path: Path, required: Sequence[str],
                  optional: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """The ``[<table>.<id>]`` records of each table of a data file, by table name.

    A table not in ``required`` or ``optional`` is refused, and so is a required table that
    is missing or empty; a missing optional table is empty.
    """
    known = (*required, *optional)
    for key in data:
        if key not in known:
            raise ContentError(f"{path.name}: unknown table {key!r} (known: {', '.join(known)})")
    tables: dict[str, dict[str, Any]] = {}
    for key in required:
        records = data.get(key)
        if not isinstance(records, dict) or not records:
            raise ContentError(f"{path.name}: expected one or more [{key}.<id>] tables")
        tables[key] = records
    for key in optional:
        records = data.get(key, {})
        if not isinstance(records, dict):
            raise ContentError(f"{path.name}: {key!r} must hold [{key}.<id>] tables")
        tables[key] = records
    return tables


def get_record(records: Mapping[str, R], record_id: object, what: str) -> R:
    """One record by id; ValueError names the argument and every known id."""
    if not isinstance(record_id, str) or record_id not in records:
        raise ValueError(f"{what} must be one of {', '.join(records)}; got {record_id!r}")
    return records[record_id]


@dataclass(frozen=True)
class Catalogue(Generic[R]):
    """A data file of ``[<table>.<id>]`` records, each built by ``build(id, record, path)``."""

    path: Path
    table: str
    build: Callable[[str, Any, Path], R]

    def load(self, path: Path | None = None) -> dict[str, R]:
        """Read and validate every record, in file order; ContentError if any is invalid."""
        path = path or self.path
        records = record_tables(read_toml(path), path, [self.table])[self.table]
        return {record_id: self.build(record_id, record, path)
                for record_id, record in records.items()}
