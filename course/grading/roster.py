"""``course grade --roster CSV``: students read from a roster, bad rows reported by line."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.grading.intake import STUDENT_ID, STUDENT_ID_RULE, CohortInputError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")
MAX_ROSTER_FIELD = 200
_EXTRA_FIELDS = "__extra__"


# ---------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterEntry:
    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


def _roster_problem(row: Mapping[str, Any], seen: Mapping[str, int]) -> str | None:
    if row.get(_EXTRA_FIELDS):
        return f"{len(row[_EXTRA_FIELDS])} more field(s) than the header has columns"
    long = [k for k in ROSTER_COLUMNS if len(row.get(k) or "") > MAX_ROSTER_FIELD]
    if long:
        return f"{long[0]} is longer than {MAX_ROSTER_FIELD} characters"
    student = (row.get("id") or "").strip()
    if not student:
        return "id is empty"
    if not STUDENT_ID.match(student):
        return f"id {student!r} is not a valid student id (allowed: {STUDENT_ID_RULE})"
    if student in seen:
        return f"id {student!r} repeats line {seen[student]}"
    email = (row.get("email") or "").strip()
    if email and not EMAIL.match(email):
        return f"email {email!r} is not an e-mail address (name@example.org)"
    return None


MAX_ROSTER_BYTES = 4 * 2**20


def _roster_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise CohortInputError(f"--roster {path}: larger than "
                                   f"{MAX_ROSTER_BYTES // 2**20} MiB; is it a roster?")
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CohortInputError(f"--roster {path}: cannot read it as a UTF-8 CSV file "
                               f"({error})") from None


def read_roster(path: Path) -> tuple[list[RosterEntry], list[str]]:
    """Students from a CSV roster: columns id, first_name, last_name, email (others ignored).

    Returns the valid entries and one message per bad row (that row is skipped): a row
    whose quoted field runs over several lines (an unclosed quote swallowing the rows
    after it) or holds an over-long field is reported, never used. A file that cannot be
    read, has no ``id`` column or names a column twice raises CohortInputError.
    """
    path = Path(path)
    reader = csv.DictReader(io.StringIO(_roster_text(path), newline=""), restkey=_EXTRA_FIELDS)
    try:
        names = reader.fieldnames or []
    except csv.Error as error:
        raise CohortInputError(f"--roster {path}: the header line cannot be read ({error})"
                               ) from None
    header = [(name or "").strip().lower() for name in names]
    if "id" not in header:
        raise CohortInputError(
            f"--roster {path}: needs an 'id' column (expected columns "
            f"{', '.join(ROSTER_COLUMNS)}; found: {', '.join(header) or 'nothing'})")
    twice = sorted({n for n in header if n in ROSTER_COLUMNS and header.count(n) > 1})
    if twice:
        raise CohortInputError(f"--roster {path}: column {', '.join(map(repr, twice))} "
                               "appears more than once; keep one")
    reader.fieldnames = header
    entries: list[RosterEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows = iter(reader)
    while True:
        first = reader.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:  # a field over csv's size limit, a NUL byte...
            problems.append(f"roster {path.name} line {first}: cannot be read ({error}); "
                            "the rest of the file was not read")
            break
        if reader.line_num > first and any("\n" in (v or "") or "\r" in (v or "")
                                           for v in row.values() if isinstance(v, str)):
            problems.append(f"roster {path.name} lines {first}-{reader.line_num}: a quoted "
                            "field runs over several lines (an unclosed quote?); skipped")
            continue
        problem = _roster_problem(row, seen)
        if problem:
            problems.append(f"roster {path.name} line {reader.line_num}: {problem}")
            continue
        values = {key: (row.get(key) or "").strip() or None for key in ROSTER_COLUMNS}
        entries.append(RosterEntry(**values))
        seen[values["id"]] = reader.line_num
    return entries, problems


def import_roster(gradebook: Any, entries: Sequence[RosterEntry]) -> None:
    """Create or update each student in the gradebook (empty fields leave names as they are)."""
    for entry in entries:
        details = {k: v for k, v in (("first_name", entry.first_name),
                                     ("last_name", entry.last_name),
                                     ("email", entry.email)) if v}
        gradebook.update_or_create_student(entry.id, **details)
