"""The student-only distribution: what a cohort receives, with no source or keys.

``course dist`` copies the package (without ``course/instructor/``), ``release/``, the
``assignments/`` README, the Binder files and the environment pins, writes a student
README, then scans every file for solution, hidden-test and mark-scheme text from every
source notebook. A leak deletes the output and fails.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from course import LIMITS_STATEMENT
from course.errors import GradingError, InputError
from course.notebooks import MARKERS, find_leaks, notebook_text, read_notebook, secret_lines
from course.paths import source_dir

INCLUDED = ("course", "release", "binder", "jupyter-config", "nbgrader_config.py",
            "pyproject.toml", "constraints.txt", "LICENSE")
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", "gradebook.db", ".pytest_cache"}
INSTRUCTOR_ONLY = "instructor"  # course/instructor/: notebooks for the teaching team
FORBIDDEN_PARTS = {"source", "tests", "autograded", "submitted", "feedback", "downloaded",
                   INSTRUCTOR_ONLY}
# The package's own feedback template must be named "feedback" (nbgrader's exporter asks for
# that name): it is course code, not learners' feedback, so it may be distributed.
PACKAGE_TEMPLATES = Path("course", "forms", "templates")

STUDENT_README = """\
# Mesotherapy for practitioners — student distribution

This folder holds the course package and the student notebooks only.

    python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e .
    .venv/bin/course start          # copies the notebooks into assignments/
    .venv/bin/jupyter lab assignments/00-orientation/00-start-here.ipynb

In a cohort, fetch and submit assignments through Nbgrader → Assignment List in
JupyterLab instead. Self-checking with `course check` needs the instructor sources,
which this distribution does not contain: your instructor grades your submissions.

{limits}
"""


def _copy_tree(root: Path, target: Path) -> None:
    for name in INCLUDED:
        origin = root / name
        if origin.is_dir():
            skipped = (*SKIPPED_NAMES, INSTRUCTOR_ONLY) if name == "course" else SKIPPED_NAMES
            shutil.copytree(origin, target / name,
                            ignore=shutil.ignore_patterns(*skipped, "*.pyc", "*.egg-info"))
        elif origin.is_file():
            shutil.copy2(origin, target / name)
    (target / "assignments").mkdir()
    shutil.copy2(root / "assignments" / "README.md", target / "assignments" / "README.md")
    readme = STUDENT_README.format(limits=LIMITS_STATEMENT)
    (target / "README.md").write_text(readme, encoding="utf-8")


def distribution_leaks(root: Path, tree: Path) -> list[str]:
    """Forbidden folders and secret text found anywhere in a distribution tree."""
    secrets: set[str] = set()
    for notebook in sorted(source_dir(root).glob("*/*.ipynb")):
        secrets |= secret_lines(read_notebook(notebook))
    found = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        relative = path.relative_to(tree)
        if FORBIDDEN_PARTS & set(relative.parts) and not relative.is_relative_to(
                PACKAGE_TEMPLATES):
            found.append(f"{relative}: must not be distributed")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary files (images) carry no notebook text
        if path.suffix == ".ipynb":
            text += notebook_text(read_notebook(path))
        # The package's own code names nbgrader's markers (to find them); only its
        # content files are checked for markers, every file for secret lines.
        markers = () if path.suffix == ".py" else MARKERS
        found += [f"{relative}: {leak}" for leak in find_leaks(secrets, text, markers)]
    return found


def build_distribution(root: Path, output: Path, as_zip: bool = False) -> Path:
    """Write the student distribution to ``output`` (a folder, or a .zip when asked)."""
    tree = output.with_suffix("") if as_zip else output
    if tree.exists() or (as_zip and output.exists()):
        raise GradingError(f"{output if as_zip and output.exists() else tree} already exists: "
                           "choose another --output or remove it first")
    tree.mkdir(parents=True)
    try:
        _copy_tree(root, tree)
        leaks = distribution_leaks(root, tree)
        if leaks:
            raise GradingError("distribution withheld: " + "; ".join(leaks[:5]))
        if not as_zip:
            return tree
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in tree.rglob("*") if p.is_file()):
                archive.write(path, Path(tree.name) / path.relative_to(tree))
        shutil.rmtree(tree)
        return output
    except BaseException:
        shutil.rmtree(tree, ignore_errors=True)
        raise


# ---------------------------------------------------------------- release-time check

TEST_CELL_RULE = (
    "test cells run outside the learner's kernel (course/grading/trusted_tests.py) and see only "
    "answer_* values, the set-up cell's imports and names earlier test cells defined; "
    "ask for the result in an answer cell (e.g. answer_q1_1 = total_dose(...)) and test "
    "that value (see the README's authoring quick start)")


def test_cell_problems(root: Path, assignment: str) -> list[str]:
    """Test cells of ``source/<assignment>/`` that read a name the trusted tests cannot see
    (a learner's function or variable), as ``notebook: grade_id reads name``."""
    from course.grading.trusted_tests import free_name_problems

    problems = []
    for path in sorted((source_dir(root) / assignment).glob("*.ipynb")):
        problems += [f"{path.name}: {problem}"
                     for problem in free_name_problems(read_notebook(path))]
    return problems


def check_test_cells(root: Path, assignment: str) -> None:
    """Refuse to release an assignment whose test cells would score a correct learner 0.

    Raises InputError (one line; exit code 2 on the command line) naming each cell.
    """
    problems = test_cell_problems(root, assignment)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more"
                                           if len(problems) > 5 else "")
        raise InputError(f"{assignment} not released: {shown}. The grader would score a "
                         f"correct learner 0 there: {TEST_CELL_RULE}.")
