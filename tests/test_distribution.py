"""`course dist`: the student distribution holds no source, tests, solutions or keys."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest

from course import LIMITS_STATEMENT
from course.cli import main
from course.errors import GradingError
from course.grading.distribution import build_distribution, distribution_leaks
from course.notebooks import read_notebook, secret_lines

from .conftest import ROOT


def test_distribution_has_the_student_side_only(tmp_path: Path) -> None:
    tree = build_distribution(ROOT, tmp_path / "student")
    assert (tree / "course" / "__init__.py").is_file()
    assert sorted(p.name for p in (tree / "release").iterdir()) == \
        sorted(p.name for p in (ROOT / "release").iterdir())
    assert (tree / "assignments" / "README.md").is_file()
    assert LIMITS_STATEMENT in (tree / "README.md").read_text()
    assert not (tree / "source").exists() and not (tree / "tests").exists()
    assert (ROOT / "course" / "instructor").is_dir()
    assert not (tree / "course" / "instructor").exists()  # instructor notebooks stay home
    assert not list(tree.rglob("__pycache__"))
    assert distribution_leaks(ROOT, tree) == []


def test_a_planted_hidden_test_withholds_the_distribution(tmp_path: Path) -> None:
    tree = build_distribution(ROOT, tmp_path / "student")
    source, hidden = next(
        (path, sorted(lines)[0])
        for path in sorted((ROOT / "source").glob("*/*.ipynb"))
        if (lines := secret_lines(read_notebook(path), include_solutions=False))
    )
    released = tree / "release" / source.parent.name / source.name
    nb = read_notebook(released)
    nb.cells[-1].source += "\n" + hidden
    nbformat.write(nb, released)
    (tree / "tests").mkdir()
    (tree / "tests" / "keys.py").write_text("x = 1\n")
    (tree / "course" / "instructor").mkdir()
    (tree / "course" / "instructor" / "item-analysis.ipynb").write_text("{}")
    leaks = distribution_leaks(ROOT, tree)
    assert any(hidden in leak for leak in leaks)
    assert "tests/keys.py: must not be distributed" in leaks
    assert "course/instructor/item-analysis.ipynb: must not be distributed" in leaks


def test_zip_distribution_and_refusal_to_overwrite(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    archive = build_distribution(ROOT, tmp_path / "student.zip", as_zip=True)
    names = zipfile.ZipFile(archive).namelist()
    assert "student/README.md" in names
    assert not any(name.startswith("student/source/") for name in names)
    with pytest.raises(GradingError, match="already exists"):
        build_distribution(ROOT, tmp_path / "student.zip", as_zip=True)
    assert main(["dist", "--output", str(tmp_path / "student.zip"), "--zip"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_distribution_holds_every_file_its_install_needs(tmp_path: Path) -> None:
    """pip installs the distribution: the data files pyproject.toml names must be in it."""
    import glob
    import tomllib

    tree = build_distribution(ROOT, tmp_path / "student")
    project = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = [p for files in project["tool"]["setuptools"]["data-files"].values()
                for p in files]
    assert patterns
    for pattern in patterns:
        assert glob.glob(str(tree / pattern)), f"{pattern} is missing from the distribution"
    assert (tree / "LICENSE").is_file()
