"""The package, tests and benchmarks are ruff clean."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_ruff_reports_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "course", "tests", "benchmarks",
         "deploy", "nbgrader_config.py"], cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
