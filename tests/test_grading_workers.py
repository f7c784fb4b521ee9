"""`course grade`'s worker pool: workers forked from a fork server take the run's place.

multiprocessing's fork server is started once per grading process, by its first run,
and keeps the environment and folder it started with. A later run's workers must still
see that run's environment (TMPDIR is the run's own folder: the sandboxes go there, and
it is removed when the run ends) and working folder, as a worker started with ``spawn``
would. The full grading runs (test_cohort.py, test_adversarial.py,
test_grading_interrupts.py) go through the real workers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from course.grading import workers
from course.grading.workers import Result, Tuning, WorkerPool

from .conftest import ROOT


def report_place(root: str, overrides: Any, tuning: Tuning, environ: dict[str, str],
                 cwd: str, inbox: Any, results: Any) -> None:
    """Stands in for ``worker_main``: takes the parent's place, reports what it sees."""
    workers._take_parents_place(environ, cwd)
    results.put(Result(0, notebook=(os.environ.get("TMPDIR"), tempfile.gettempdir(),
                                    os.getcwd(), os.environ.get("COURSE_RUN_MARK"))))
    while inbox.get() is not None:  # the pool's settings, then None when it closes
        pass


def place_seen_by_a_worker() -> tuple:
    with WorkerPool(ROOT, {}, Tuning(workers=1)) as pool:
        result = pool.next_result(timeout=120)
        assert result is not None, "the worker reported nothing"
        return result.notebook


def test_a_later_runs_worker_takes_that_runs_environment_and_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "worker_main", report_place)
    first, later, folder = tmp_path / "first-run", tmp_path / "later-run", tmp_path / "here"
    for made in (first, later, folder):
        made.mkdir()
    monkeypatch.setenv("TMPDIR", str(first))
    monkeypatch.setenv("COURSE_RUN_MARK", "first")
    place_seen_by_a_worker()  # the fork server is running from here on (if not before)
    first.rmdir()  # as the first run's folder is removed when it ends
    monkeypatch.setenv("TMPDIR", str(later))
    monkeypatch.setenv("COURSE_RUN_MARK", "later")
    monkeypatch.chdir(folder)
    assert place_seen_by_a_worker() == (str(later), str(later), str(folder), "later")


def test_the_fork_server_preloads_only_modules_that_exist() -> None:
    """A misspelt name would be skipped silently by multiprocessing (and every worker
    would import it again)."""
    import importlib.util

    assert [name for name in workers.PRELOADED if importlib.util.find_spec(name) is None] == []
