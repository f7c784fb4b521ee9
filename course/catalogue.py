"""One loader for every data file in ``course/data``: read, shape, build, cache, look up.

A topic module describes its records (frozen dataclasses) and how one record is validated
and built (with :func:`course.content.validated`); this module does the rest the same way
for every file:

- :func:`read_toml` reads a file; every failure is one :class:`ContentError` line naming it;
- :class:`DataFile` is one file: :meth:`DataFile.load` reads it and hands the table to the
  file's parser (with the context it is checked against, e.g. the bibliography),
  :meth:`DataFile.cached` is the course's own copy, loaded once per process;
- :class:`Catalogue` is a file of ``[<table>.<id>]`` records (or of ``[<id>]`` records at
  the top level), each built by ``build(id, record, path)``, in file order;
- :class:`Tables` is a file of several such tables, built table by table and then joined
  (and cross-checked) by ``finish``; :func:`record_tables` checks their shape;
- :func:`known_ids` and :func:`check_ids` check cross-references to another file
  (``references.toml``, ``claims.toml``) by id;
- :func:`get_record` looks an id up, or names the known ids in one sentence;
- :func:`registered` lists every data file and its loader: each file of ``course/data``
  has exactly one (tests/test_catalogue.py), so no file is read another way.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from course.paths import DATA_DIR

R = TypeVar("R")
T = TypeVar("T")


class ContentError(ValueError):
    """A data file is unreadable or a record in it is invalid."""


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML data file, turning every failure into a ContentError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: data file is missing") from None
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path}: not valid TOML ({error})") from None


# ---------------------------------------------------------------- shapes and look-ups


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


NOT_KNOWN = "{what} must be one of {known}; got {got!r}"


def get_record(records: Mapping[str, R], record_id: object, what: str, *,
               message: str = NOT_KNOWN, error: type[Exception] = ValueError) -> R:
    """One record by id; ``error`` names the argument and every known id.

    ``message`` is a template with ``{what}``, ``{known}`` (the ids, comma-separated) and
    ``{got}`` (the id asked for), for a module whose look-up has always said it another way.
    """
    if not isinstance(record_id, str) or record_id not in records:
        raise error(message.format(what=what, known=", ".join(records), got=record_id))
    return records[record_id]


# ---------------------------------------------------------------- the loader

_REGISTRY: dict[Path, DataFile[Any]] = {}


def registered() -> Mapping[Path, DataFile[Any]]:
    """Every data file with a loader, by path (a loader registers when it is defined)."""
    return dict(_REGISTRY)


def loader(path: Path) -> DataFile[Any]:
    """The loader of one data file; ContentError if none is registered for it."""
    try:
        return _REGISTRY[Path(path)]
    except KeyError:
        raise ContentError(f"{Path(path).name}: no loader in course.catalogue "
                           "(define a DataFile, Catalogue or Tables for it)") from None


class DataFile(Generic[T]):
    """One data file, parsed as a whole by ``parse(data, path, **context)``.

    ``context`` is what the file is checked against (the bibliography, the course map…);
    ``defaults`` gives each context value that a caller leaves out (or passes as None), so
    that :meth:`cached`, which passes none, checks the course's own file against the
    course's own data.
    """

    def __init__(self, path: Path, parse: Callable[..., T] | None = None,
                 defaults: Mapping[str, Callable[[], Any]] | None = None, *,
                 owner: Callable[..., Any] | None = None) -> None:
        self.path = Path(path)
        self._parse = parse
        self.defaults = dict(defaults or {})
        self._cache: dict[str, T] = {}
        self.module = getattr(parse or owner, "__module__", None)
        """The module that defines the loader (a module reloaded replaces its own)."""
        other = _REGISTRY.get(self.path)
        if other is not None and other.module != self.module:
            raise ValueError(f"{self.path.name} has two loaders, in {other.module} and "
                             f"{self.module}")
        _REGISTRY[self.path] = self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path.name!r})"

    def parse(self, data: dict[str, Any], path: Path, /, **context: Any) -> T:
        """The value of one file's parsed table (ContentError if it is invalid)."""
        if self._parse is None:
            raise NotImplementedError(f"{self!r} has no parser")
        return self._parse(data, path, **context)

    def load(self, path: Path | None = None, /, **context: Any) -> T:
        """Read, validate and build the file (``path`` or the course's own); ContentError."""
        path = self.path if path is None else Path(path)
        given = {key: value for key, value in context.items() if value is not None}
        for key, default in self.defaults.items():
            if key not in given:
                given[key] = default()
        return self.parse(read_toml(path), path, **given)

    def cached(self) -> T:
        """The course's own file, loaded once per process."""
        if "value" not in self._cache:
            self._cache["value"] = self.load()
        return self._cache["value"]

    def cache_clear(self) -> None:
        """Forget the cached value (the next :meth:`cached` reads the file again)."""
        self._cache.clear()


Build = Callable[..., Any]
"""``build(id, record, path, **context)``: one validated record (ContentError if invalid)."""


def build_records(records: Mapping[str, Any], build: Build, path: Path, /,
                  **context: Any) -> dict[str, Any]:
    """Every record built by ``build``, by id, in file order."""
    return {record_id: build(record_id, record, path, **context)
            for record_id, record in records.items()}


class Catalogue(DataFile[dict[str, R]]):
    """A file of ``[<table>.<id>]`` records, each built by ``build(id, record, path)``.

    With ``table`` None the records are the file's top-level ``[<id>]`` tables.
    """

    def __init__(self, path: Path, table: str | None, build: Build,
                 defaults: Mapping[str, Callable[[], Any]] | None = None) -> None:
        super().__init__(path, defaults=defaults, owner=build)
        self.table = table
        self.build = build

    def parse(self, data: dict[str, Any], path: Path, /, **context: Any) -> dict[str, R]:
        """Every record, built in file order."""
        records = data if self.table is None else record_tables(data, path, [self.table])[
            self.table]
        return build_records(records, self.build, path, **context)


class Tables(DataFile[T]):
    """A file of several ``[<table>.<id>]`` tables, joined by ``finish(tables, path)``.

    ``builders`` maps each table to the build of one of its records, or to None to hand
    the raw records to ``finish`` (e.g. when they refer to another table's records).
    Tables in ``optional`` may be missing; every other one needs a record.
    """

    def __init__(self, path: Path, builders: Mapping[str, Build | None],
                 finish: Callable[[dict[str, dict[str, Any]], Path], T],
                 optional: Sequence[str] = ()) -> None:
        super().__init__(path, owner=finish)
        self.builders = dict(builders)
        self.optional = tuple(optional)
        self.finish = finish

    def parse(self, data: dict[str, Any], path: Path, /, **context: Any) -> T:
        """Each table's records built, then joined by ``finish``."""
        required = [name for name in self.builders if name not in self.optional]
        tables = record_tables(data, path, required, self.optional)
        built = {name: records if self.builders[name] is None
                 else build_records(records, self.builders[name], path, **context)
                 for name, records in tables.items()}
        return self.finish(built, path)
