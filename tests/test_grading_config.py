"""nbgrader's configuration is loaded in one place (course.grading.config), once per course."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from course.grading import config as grading_config
from course.grading.config import load_config, nbgrader_config

from .conftest import ROOT

COUNTING_CONFIG = """\
import builtins
builtins.course_config_runs = getattr(builtins, "course_config_runs", 0) + 1
c = get_config()
c.Execute.timeout = {timeout}
"""


def _runs() -> int:
    import builtins

    return getattr(builtins, "course_config_runs", 0)


def test_the_config_file_runs_once_per_course_and_again_when_it_changes(
        tmp_path: Path) -> None:
    config_file = tmp_path / "nbgrader_config.py"
    config_file.write_text(COUNTING_CONFIG.format(timeout=7), encoding="utf-8")
    before = _runs()
    first, second = load_config(tmp_path), load_config(tmp_path, {"Execute": {"timeout": 9}})
    assert _runs() == before + 1
    assert first.Execute.timeout == 7 and second.Execute.timeout == 9  # copies, not shared
    assert nbgrader_config(tmp_path).Execute.timeout == 7
    config_file.write_text(COUNTING_CONFIG.format(timeout=11), encoding="utf-8")
    os.utime(config_file, ns=(1, 1))  # a different modification time, whatever the clock
    assert load_config(tmp_path).Execute.timeout == 11
    assert _runs() == before + 2


def test_course_dir_and_overrides_are_the_callers(tmp_path: Path) -> None:
    config = load_config(ROOT, {"SandboxedKernels": {"sandbox": "off"}}, course_dir=tmp_path)
    assert config.CourseDirectory.root == str(tmp_path)
    assert config.SandboxedKernels.sandbox == "off"
    assert load_config(ROOT).CourseDirectory.root == str(ROOT)
    assert nbgrader_config(ROOT).get("SandboxedKernels", {}).get("sandbox") != "off"


def test_a_missing_config_file_is_an_error_not_an_empty_config(tmp_path: Path) -> None:
    from traitlets.config.loader import ConfigFileNotFound

    with pytest.raises(ConfigFileNotFound):
        load_config(tmp_path)


def test_no_other_module_reads_nbgrader_config_py() -> None:
    from course.paths import PACKAGE_DIR

    readers = sorted(str(path.relative_to(PACKAGE_DIR.parent))
                     for path in PACKAGE_DIR.rglob("*.py")
                     if "PyFileConfigLoader" in path.read_text(encoding="utf-8"))
    assert readers == [str(Path(grading_config.__file__).relative_to(PACKAGE_DIR.parent))]
