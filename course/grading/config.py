"""nbgrader's configuration, loaded in one place, and the process settings grading runs under."""

from __future__ import annotations

import copy
import functools
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CONFIG_FILE = "nbgrader_config.py"


@functools.lru_cache(maxsize=8)
def _parsed(config_file: Path, stamp: tuple[int, int]) -> Any:
    """``config_file`` run once (``stamp``: its modification time and size)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()


def nbgrader_config(root: Path) -> Any:
    """The course's nbgrader configuration, ``root/nbgrader_config.py``: read once per
    course root (again only when the file changes). Returns a copy the caller may change.
    A missing file raises traitlets' ``ConfigFileNotFound``."""
    config_file = Path(root).resolve() / CONFIG_FILE
    try:
        found = config_file.stat()
        stamp = (found.st_mtime_ns, found.st_size)
    except OSError:  # the loader says so, in its words
        stamp = (0, 0)
    return copy.deepcopy(_parsed(config_file, stamp))


def load_config(root: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                course_dir: Path | None = None) -> Any:
    """The one way to get nbgrader's configuration: :func:`nbgrader_config` of the course
    at ``root``, with ``CourseDirectory.root`` set to ``course_dir`` (default: ``root``)
    and ``overrides`` merged in, e.g. ``{"Execute": {"timeout": 5}}``."""
    from traitlets.config import Config

    config = nbgrader_config(root)
    config.CourseDirectory.root = str(course_dir or root)
    if overrides:
        config.merge(Config({name: dict(values) for name, values in overrides.items()}))
    return config


def quiet_warnings() -> None:
    # SQLAlchemy 2.1 warns "not in session" during autograde; results are correct
    # (see nbgrader-notes). jupyter_client warns about deprecated APIs.
    warnings.filterwarnings("ignore", message=".*not in session.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
