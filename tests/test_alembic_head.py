"""A new gradebook's schema revision is read in process (course/grading/alembic_head.py)."""

from __future__ import annotations

import subprocess

import pytest
from nbgrader import api
from sqlalchemy import text

from course.grading import alembic_head as module
from course.grading.alembic_head import alembic_head, use_in_process_alembic_head
from course.grading.config import _parsed, load_config

from .conftest import ROOT


def _nbgraders_own() -> object:
    return getattr(api.get_alembic_version, "nbgrader_original", api.get_alembic_version)


@pytest.fixture
def stock_nbgrader(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader.api as nbgrader ships it, put back after the test."""
    monkeypatch.setattr(api, "get_alembic_version", _nbgraders_own())


@pytest.mark.slow
def test_the_revision_is_the_one_alembic_heads_prints(stock_nbgrader) -> None:
    assert alembic_head() == api.get_alembic_version()  # nbgrader's subprocess


def test_a_new_gradebook_records_the_revision_without_a_subprocess(
        stock_nbgrader, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"subprocess started: {args}")

    use_in_process_alembic_head()
    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    with api.Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        recorded = gradebook.db.execute(
            text("SELECT version_num FROM alembic_version")).scalar_one()
    assert recorded == alembic_head()


def test_installing_twice_keeps_nbgraders_own_function(stock_nbgrader) -> None:
    original = api.get_alembic_version
    use_in_process_alembic_head()
    use_in_process_alembic_head()
    assert api.get_alembic_version is not original
    assert api.get_alembic_version.nbgrader_original is original


def test_the_course_configuration_installs_it(stock_nbgrader) -> None:
    _parsed.cache_clear()  # run nbgrader_config.py again in this process
    assert not hasattr(api.get_alembic_version, "nbgrader_original")
    load_config(ROOT)
    assert hasattr(api.get_alembic_version, "nbgrader_original")


def test_other_than_one_head_is_left_to_nbgrader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_heads", lambda: ("aaa", "bbb"))
    assert alembic_head(lambda: "from nbgrader") == "from nbgrader"
    monkeypatch.setattr(module, "_heads", lambda: ("aaa",))
    assert alembic_head(lambda: "from nbgrader") == "aaa"
