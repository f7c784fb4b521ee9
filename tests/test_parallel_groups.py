"""The suite's parallel layout (``make test`` runs two pytest-xdist workers)."""

from __future__ import annotations

import pytest

from .conftest import SHARED_FIXTURES, xdist_groups


def test_files_sharing_an_expensive_fixture_run_on_one_worker() -> None:
    groups = xdist_groups({
        "tests/test_a.py": {"executed_notebook", "tmp_path"},
        "tests/test_b.py": {"generated_course"},
        "tests/test_c.py": {"tmp_path"},
        "tests/browser/test_d.py": {"lab", "page"},
    })
    assert groups["tests/test_a.py"] == groups["tests/test_b.py"] == "shared"
    assert groups["tests/test_c.py"] == "tests/test_c.py"
    assert groups["tests/browser/test_d.py"] == "tests/browser/test_d.py"


def test_every_collected_test_has_its_group(request: pytest.FixtureRequest) -> None:
    """pytest_collection_modifyitems marks every test (here: this one) with its group."""
    marks = [m for m in request.node.iter_markers("xdist_group")]
    assert [m.args[0] for m in marks] == ["tests/test_parallel_groups.py"]
    assert set(SHARED_FIXTURES) == {"executed_notebook", "generated_course"}
