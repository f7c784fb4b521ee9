"""The one catalogue pattern every record file in course/data uses (course.catalogue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from course.catalogue import Catalogue, check_ids, get_record, known_ids, record_tables
from course.content import ContentError

HERE = Path("things.toml")


def test_record_tables_returns_each_table_and_an_empty_optional_one() -> None:
    data = {"thing": {"a": {"x": 1}}}
    assert record_tables(data, HERE, ["thing"], optional=["extra"]) == {
        "thing": {"a": {"x": 1}}, "extra": {}}


@pytest.mark.parametrize(("data", "message"), [
    ({"thing": {"a": {}}, "stray": {}},
     r"things.toml: unknown table 'stray' \(known: thing, extra\)"),
    ({}, r"things.toml: expected one or more \[thing.<id>\] tables"),
    ({"thing": {}}, r"expected one or more \[thing.<id>\] tables"),
    ({"thing": {"a": {}}, "extra": 3}, r"'extra' must hold \[extra.<id>\] tables"),
])
def test_record_tables_refuses_a_wrong_file_in_one_sentence(data: dict, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        record_tables(data, HERE, ["thing"], optional=["extra"])


def test_get_record_names_every_known_id() -> None:
    records = {"face": 1, "scalp": 2}
    assert get_record(records, "scalp", "area") == 2
    for wrong in ("moon", None, 3):
        with pytest.raises(ValueError, match=r"^area must be one of face, scalp; got "):
            get_record(records, wrong, "area")


def test_check_ids_accepts_known_references_and_names_a_stranger() -> None:
    real = sorted(known_ids("references.toml"))[:2]
    assert check_ids(real, "references.toml", "f: x 'a'", "refs") == tuple(real)
    with pytest.raises(ContentError, match=r"^f: x 'a': field 'claims': unknown claim id 'no'"):
        check_ids(["no"], "claims.toml", "f: x 'a'", "claims", kind="claim")


def test_a_catalogue_builds_every_record_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "things.toml"
    path.write_text('[thing.b]\nsize = 2\n\n[thing.a]\nsize = 1\n', encoding="utf-8")

    def build(thing_id: str, record: Any, where: Path) -> tuple[str, int, str]:
        return thing_id, record["size"], where.name

    things = Catalogue(tmp_path / "missing.toml", "thing", build)
    assert things.load(path) == {"b": ("b", 2, "things.toml"), "a": ("a", 1, "things.toml")}
    path.write_text('[other.a]\nsize = 1\n', encoding="utf-8")
    with pytest.raises(ContentError, match="unknown table 'other'"):
        things.load(path)
