"""Shared fixtures: the repository root and generated course directories."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from course.grading.assignments import available_assignments, ensure_tools_on_path, nbgrader_api

if TYPE_CHECKING:  # pragma: no cover - typing only
    from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on loopback, for a server a test starts."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def skip_or_fail(tests: str, reason: str, require_env: str) -> NoReturn:
    """Skip with ``reason``; fail instead where ``require_env`` is 1 (CI sets it, so that
    ``tests`` always run there)."""
    import os

    if os.environ.get(require_env) == "1":
        pytest.fail(f"{tests} are required here but {reason}")
    pytest.skip(reason)


def unsandboxed_args() -> list[str]:
    """`course grade` refuses to run unsandboxed: tests that are not about the sandbox
    pass --unsandboxed where bubblewrap cannot run (never when CI requires the sandbox)."""
    import os

    from course.grading.sandbox import REQUIRE_ENV, sandbox_available

    if sandbox_available()[0] or os.environ.get(REQUIRE_ENV) == "1":
        return []
    return ["--unsandboxed"]
ASSIGNMENTS = available_assignments(ROOT)
UNGRADED_ASSIGNMENTS = ("00-review", "06-evaluation")  # spaced review, evaluation: no points
GRADED_ASSIGNMENTS = [a for a in ASSIGNMENTS if a not in UNGRADED_ASSIGNMENTS]


@functools.cache
def scored_notebooks(assignment: str) -> tuple[str, ...]:
    """The names (stems) of an assignment's source/ notebooks that carry points, sorted.

    Only these have test cells, grades or hidden tests; nbgrader grades a submission that
    lacks the others (lessons), so grading tests submit these alone.
    """
    from course.notebooks import read_notebook

    return tuple(path.stem for path in sorted((ROOT / "source" / assignment).glob("*.ipynb"))
                 if any(cell.get("metadata", {}).get("nbgrader", {}).get("points")
                        for cell in read_notebook(path).cells))


@pytest.fixture(autouse=True, scope="session")
def _tools_on_path() -> None:
    ensure_tools_on_path()


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway course directory with every assignment generated from source/."""
    course = tmp_path_factory.mktemp("generated")
    shutil.copytree(ROOT / "source", course / "source")
    api = nbgrader_api(course, config_root=ROOT)
    for assignment in ASSIGNMENTS:
        result = api.generate_assignment(assignment, force=True, create=True)
        assert result["success"], result.get("error")
    return course


@pytest.fixture
def course_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the course (source, release, config) that commands may change freely."""
    for name in ("source", "release"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "assignments").mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    return tmp_path


EXECUTION_TIMEOUT_S = 600
"""Longest wait for one cell (a cell takes well under a second on a quiet machine; a
loaded machine shared by other runs can be many times slower)."""


class ExecutedNotebooks:
    """Each notebook executed at most once per test session, read from disk at first use.

    Every test that needs a notebook's outputs calls the session's instance (fixture
    ``executed_notebook``) instead of starting a kernel of its own. Errors are kept as
    error outputs (the whole notebook runs, as nbval runs every cell), so each caller
    decides what to check. A notebook that cannot finish (timeout, dead kernel) raises the
    same error for every caller without being run again.

    Under pytest-xdist the workers share ``shared``: the first worker to need a notebook
    executes it while holding that notebook's lock and saves the result there (named by
    the notebook's path and content); the others read it. A run that raised is not shared.
    """

    def __init__(self, shared: Path) -> None:
        self._done: dict[Path, NotebookNode | Exception] = {}
        self._shared = shared
        self.executions = 0  # how many notebooks this process executed itself

    def __call__(self, path: Path) -> NotebookNode:
        path = path.resolve()
        if path not in self._done:
            try:
                self._done[path] = self._shared_or_executed(path)
            except Exception as error:  # kept for every later caller
                self._done[path] = error
        found = self._done[path]
        if isinstance(found, Exception):
            raise found
        return found

    def _shared_or_executed(self, path: Path) -> NotebookNode:
        import fcntl
        import hashlib

        import nbformat

        digest = hashlib.sha256(str(path).encode() + b"\0" + path.read_bytes()).hexdigest()
        saved = self._shared / f"{path.stem}-{digest[:16]}.ipynb"
        self._shared.mkdir(parents=True, exist_ok=True)
        with (self._shared / f"{saved.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            if saved.is_file():
                return nbformat.read(saved, as_version=4)
            executed = execute_notebook(path)
            self.executions += 1
            partial = saved.with_suffix(".partial")
            nbformat.write(executed, partial)
            partial.replace(saved)
            return executed


def execute_notebook(path: Path) -> NotebookNode:
    """Run every cell of a notebook in a fresh kernel started in its folder (as nbval
    does); errors become error outputs instead of stopping the run. A cell's printed lines
    are one output per stream (a loaded kernel may send one line in two messages)."""
    from nbclient import NotebookClient

    from course.notebooks import read_notebook

    nb = read_notebook(path)
    NotebookClient(nb, timeout=EXECUTION_TIMEOUT_S, kernel_name="python3", allow_errors=True,
                   coalesce_streams=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory: pytest.TempPathFactory,
                      worker_id: str) -> ExecutedNotebooks:
    """Call with a notebook's path for its executed copy (each runs once per session, for
    all pytest-xdist workers together)."""
    base = tmp_path_factory.getbasetemp()
    return ExecutedNotebooks((base.parent if worker_id != "master" else base) / "executed")

