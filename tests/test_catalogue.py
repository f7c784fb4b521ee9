"""The one loader every data file in course/data goes through (course.catalogue)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest

import course
from course.catalogue import (
    Catalogue,
    DataFile,
    Tables,
    check_ids,
    get_record,
    known_ids,
    loader,
    record_tables,
    registered,
)
from course.content import ContentError
from course.paths import DATA_DIR

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


# ---------------------------------------------------------------- one loader for every file


def _file(tmp_path: Path, text: str, name: str = "things.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_data_file_hands_its_table_and_path_to_its_parser(tmp_path: Path) -> None:
    path = _file(tmp_path, 'title = "A"\n[[part]]\nid = "p"\n')
    things = DataFile(path, lambda data, where: (data, where.name))
    assert things.load() == ({"title": "A", "part": [{"id": "p"}]}, "things.toml")
    other = _file(tmp_path, 'title = "B"\n', "other.toml")
    assert things.load(other) == ({"title": "B"}, "other.toml")


@pytest.mark.parametrize(("text", "message"), [
    (None, r"^\S*missing.toml: data file is missing$"),
    ("[broken\n", r"^\S*things.toml: not valid TOML \(.*\)$"),
])
def test_an_unreadable_file_is_one_line_naming_it(tmp_path: Path, text: str | None,
                                                    message: str) -> None:
    path = tmp_path / "missing.toml" if text is None else _file(tmp_path, text)
    things = DataFile(path, lambda data, where: data)
    with pytest.raises(ContentError, match=message) as error:
        things.load()
    assert "\n" not in str(error.value)


def test_context_left_out_or_none_takes_the_files_default(tmp_path: Path) -> None:
    path = _file(tmp_path, "[a]\nsize = 1\n")
    asked: list[str] = []

    def course_data() -> str:
        asked.append("data")
        return "the course's"

    def build(thing_id: str, record: Any, where: Path, data: str) -> str:
        return f"{thing_id} against {data}"

    things = Catalogue(path, None, build, {"data": course_data})
    assert things.load(path, data="planted") == {"a": "a against planted"}
    assert asked == []  # a default is made only when needed
    assert things.load(path, data=None) == {"a": "a against the course's"}
    assert things.load() == {"a": "a against the course's"}
    assert asked == ["data", "data"]


def test_the_cached_file_is_read_once_until_cleared(tmp_path: Path) -> None:
    path = _file(tmp_path, "[thing.a]\nsize = 1\n")
    reads: list[str] = []

    def build(thing_id: str, record: Any, where: Path) -> int:
        reads.append(thing_id)
        return record["size"]

    things = Catalogue(path, "thing", build)
    assert things.cached() == {"a": 1}
    path.write_text("[thing.a]\nsize = 2\n", encoding="utf-8")
    assert things.cached() == {"a": 1}
    assert reads == ["a"]
    assert things.load() == {"a": 2}  # load always reads the file
    things.cache_clear()
    assert things.cached() == {"a": 2}


def test_top_level_records_are_built_in_file_order(tmp_path: Path) -> None:
    path = _file(tmp_path, "[R2]\ncitation = 'B'\n\n[R1]\ncitation = 'A'\n")
    refs = Catalogue(path, None, lambda ref_id, record, where: record["citation"])
    assert list(refs.load().items()) == [("R2", "B"), ("R1", "A")]


def test_tables_build_each_table_then_join_them(tmp_path: Path) -> None:
    path = _file(tmp_path, '[area.face]\nmm = 2\n\n[technique.nappage]\narea = "face"\n')

    def finish(tables: dict[str, dict[str, Any]], where: Path) -> dict[str, Any]:
        for tech_id, record in tables["technique"].items():
            if record["area"] not in tables["area"]:
                raise ContentError(f"{where.name}: technique {tech_id!r}: unknown area")
        return tables

    skin = Tables(path, {"area": lambda area_id, record, where: record["mm"] * 10,
                         "technique": None, "note": None}, finish, optional=["note"])
    assert skin.load() == {"area": {"face": 20}, "technique": {"nappage": {"area": "face"}},
                           "note": {}}
    path.write_text('[area.face]\nmm = 2\n\n[technique.nappage]\narea = "scalp"\n',
                    encoding="utf-8")
    with pytest.raises(ContentError, match=r"^things.toml: technique 'nappage': unknown area"):
        skin.load()
    path.write_text("[area.face]\nmm = 2\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"^things.toml: expected one or more "
                                           r"\[technique.<id>\] tables$"):
        skin.load()


def test_get_record_can_say_it_the_modules_own_way() -> None:
    records = {"q1": 1, "q2": 2}
    with pytest.raises(KeyError, match=r"unknown question id 'q9' \(see bank; known q1, q2\)"):
        get_record(records, "q9", "question id", error=KeyError,
                   message="unknown {what} {got!r} (see bank; known {known})")


def test_a_file_has_one_loader_and_a_reloaded_module_replaces_its_own(tmp_path: Path) -> None:
    path = tmp_path / "things.toml"

    def parse(data: dict[str, Any], where: Path) -> int:
        return 1

    first = DataFile(path, parse)
    assert loader(path) is first
    again = DataFile(path, parse)  # the same module, defined again (importlib.reload)
    assert loader(path) is again and registered()[path] is again

    def elsewhere(data: dict[str, Any], where: Path) -> int:
        return 2

    elsewhere.__module__ = "course.elsewhere"
    with pytest.raises(ValueError, match=r"^things.toml has two loaders, in "
                                         r"tests.test_catalogue and course.elsewhere$"):
        DataFile(path, elsewhere)
    with pytest.raises(ContentError, match=r"^nothing.toml: no loader in course.catalogue"):
        loader(tmp_path / "nothing.toml")


COURSE = Path(course.__file__).parent


def _sources() -> dict[str, set[str]]:
    """Each module of course/ (as course/x.py) and the names it imports, anywhere in it."""
    found = {}
    for path in sorted(COURSE.rglob("*.py")):
        if "labextension" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names |= {node.module or "", *(f"{node.module}.{a.name}" for a in node.names)}
        found[path.relative_to(COURSE.parent).as_posix()] = names
    return found


def test_every_data_file_is_loaded_through_the_catalogue() -> None:
    for source, names in _sources().items():  # every module where a loader can be defined
        if "course.catalogue" in names and not source.endswith("__main__.py"):
            importlib.import_module(source.removesuffix(".py").removesuffix("/__init__")
                                    .replace("/", "."))
    files = sorted(DATA_DIR.glob("*.toml"))
    assert len(files) >= 14
    for path in files:
        data_file = loader(path)  # ContentError: a data file without a loader
        assert data_file.path == path
        assert data_file.cached(), path.name  # the course's own file loads and is not empty


READS_TOML_ITSELF = {
    "course/catalogue.py": "the one loader",
    "course/clinical_corrections.py": "scans every string of a file for corrected claims; "
                                      "it reads text, not records",
}


def test_no_other_module_reads_a_toml_file() -> None:
    readers = {source for source, names in _sources().items()
               if "tomllib" in names or any(name.endswith(".read_toml") for name in names)}
    assert readers == set(READS_TOML_ITSELF)
