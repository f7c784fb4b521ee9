"""Release, learner copies and self-study checking, through nbgrader's own API.

Everything runs in process with :class:`nbgrader.apps.NbGraderAPI`, so nbgrader's
start-up is paid once, and its checksums, cell restoration and gradebook apply
exactly as they do for ``nbgrader autograde``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.errors import GradingError, InputError
from course.notebooks import (
    HIDDEN_MARKERS,
    NotebookError,
    find_leaks,
    html_to_text,
    notebook_text,
    read_notebook,
    secret_lines,
)
from course.paths import assignments_dir, release_dir, source_dir

SELF_STUDY_STUDENT = "self-study"
__all__ = ["GradingError"]  # re-exported for callers of the grading API


def ensure_tools_on_path() -> None:
    """nbgrader runs ``alembic`` as a subprocess: put this interpreter's bin/ on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(course_dir: Path, config_root: Path | None = None):
    """An NbGraderAPI for ``course_dir`` configured by ``config_root/nbgrader_config.py``."""
    ensure_tools_on_path()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from course.grading.config import load_config

    # nbgrader 0.9.6 with SQLAlchemy 2.1 warns "not in session" on every autograde;
    # the results are correct (see nbgrader-notes), so keep the learner's terminal quiet.
    warnings.filterwarnings("ignore", message=".*not in session.*")
    config = load_config(config_root or course_dir, course_dir=course_dir)
    return NbGraderAPI(CourseDirectory(config=config), config=config)


class ToolFailure(GradingError):
    """An nbgrader step failed; ``detail`` is its log (for whoever maintains the course)."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what} failed:\n{detail[-2000:]}")
        self.what, self.detail = what, detail


def _require(result: Mapping, what: str) -> None:
    if not result.get("success"):
        raise ToolFailure(what, (result.get("error") or result.get("log") or "no detail").strip())


CHECK_LOGS = Path(".course") / "logs"
"""Where ``course check`` keeps an nbgrader log it could not turn into a result: under the
course root, outside ``assignments/`` (the learner's JupyterLab is rooted there), since a
log may quote a hidden test."""


def _learner_failure(root: Path, assignment: str, failure: ToolFailure) -> GradingError:
    """One sentence for the learner; the log kept for the maintainer, never shown."""
    import time

    folder = root / CHECK_LOGS
    log = folder / f"check-{assignment}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        log.write_text(f"{failure.what} failed\n\n{failure.detail}\n", encoding="utf-8")
        kept = f" The technical details are in {log.relative_to(root)} for whoever looks " \
               "after the course."
    except OSError:
        kept = ""
    return GradingError(f"Checking {assignment} could not finish (the grading step "
                        f"\"{failure.what.split()[0]}\" failed). Your notebooks were not "
                        f"changed; try again, and if it happens again, ask for help.{kept}")


def _check_log(root: Path, name: str, form: str) -> logging.Handler:
    """A handler writing to ``CHECK_LOGS/name`` (the file made at its first record), or
    one that drops records where that folder cannot be made: never the terminal."""
    folder = root / CHECK_LOGS
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(folder / name, encoding="utf-8",
                                                       delay=True)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter(form))
    return handler


@contextmanager
def kernel_output_kept(root: Path, assignment: str) -> Iterator[None]:
    """While ``course check`` grades: what its sandboxed kernels write to their own
    output (a crash, a traceback) goes to a log under CHECK_LOGS for whoever looks after
    the course (the file is made only if something is written), never to the learner."""
    import time

    from course.grading.bwrap import KERNEL_OUTPUT_LOGGER

    handler = _check_log(root, f"check-{assignment}-{time.strftime('%Y%m%d-%H%M%S')}"
                         ".kernel.log", "[%(asctime)s] %(message)s")
    logger = logging.getLogger(KERNEL_OUTPUT_LOGGER)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


def keep_stray_log_records(root: Path) -> None:
    """For the rest of this process (the ``course check`` command): a log record that no
    handler takes goes to CHECK_LOGS/course-check.log, not to the learner's terminal
    through Python's last-resort handler. Stopped by a signal, a check once printed an
    interrupted kernel's leftover asyncio error ("Task exception was never retrieved …
    DeadKernelError") there as the process ended."""
    if getattr(logging.lastResort, "course_check", False):
        return
    handler = _check_log(root, "course-check.log", "[%(asctime)s %(name)s] %(message)s")
    handler.setLevel(logging.WARNING)
    handler.course_check = True  # type: ignore[attr-defined]
    logging.lastResort = handler


def available_assignments(root: Path | None = None) -> list[str]:
    """Assignment ids that have a folder in source/."""
    folder = source_dir(root)
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def released_assignments(root: Path | None = None) -> list[str]:
    folder = release_dir(root)
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def leaks_in_release(root: Path, assignment: str) -> list[str]:
    """Solution, hidden-test or mark-scheme text found in the released notebooks."""
    found = []
    for source_nb in sorted((source_dir(root) / assignment).glob("*.ipynb")):
        released = release_dir(root) / assignment / source_nb.name
        if not released.is_file():
            found.append(f"{released}: missing from release")
            continue
        secrets = secret_lines(read_notebook(source_nb))
        text = notebook_text(read_notebook(released)) + released.read_text(encoding="utf-8")
        found += [f"{released.name}: {leak}" for leak in find_leaks(secrets, text)]
    return found


def generate_release(root: Path, assignments: Iterable[str], config_root: Path | None = None
                     ) -> list[Path]:
    """Generate release/<assignment>/ from source/ with nbgrader, then scan it for leaks."""
    from course.grading.distribution import check_test_cells

    assignments = list(assignments)
    for assignment in assignments:  # refused before anything is generated (InputError)
        check_test_cells(root, assignment)
    api = nbgrader_api(root, config_root)
    written = []
    for assignment in assignments:
        _require(api.generate_assignment(assignment, force=True, create=True),
                 f"generate_assignment {assignment}")
        leaks = leaks_in_release(root, assignment)
        if leaks:
            shutil.rmtree(release_dir(root) / assignment, ignore_errors=True)
            raise GradingError(f"release of {assignment} removed: it leaked " + "; ".join(leaks))
        written += sorted((release_dir(root) / assignment).rglob("*.ipynb"))
    return written


def start_assignments(root: Path, assignments: Iterable[str]) -> tuple[list[Path], list[Path]]:
    """Copy released files into assignments/, never overwriting a learner's file.

    Returns the files copied and the learner files that were kept as they were.
    """
    copied, kept = [], []
    for assignment in assignments:
        released = release_dir(root) / assignment
        if not released.is_dir():
            raise GradingError(f"{assignment} has not been released (no {released})")
        for path in sorted(p for p in released.rglob("*") if p.is_file()):
            target = assignments_dir(root) / assignment / path.relative_to(released)
            if target.exists() or target.is_symlink():
                kept.append(target)
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            except (FileExistsError, NotADirectoryError):
                blocking = next((p for p in (target.parent, *target.parent.parents)
                                 if p.exists() and not p.is_dir()), target.parent)
                raise InputError(f"{blocking} is a file, not a folder: rename or move it, "
                                 "then run `course start` again (files already copied are "
                                 "kept)") from None
            copied.append(target)
    return copied, kept


# ---------------------------------------------------------------- grading


@dataclass(frozen=True)
class ItemScore:
    notebook: str
    grade_id: str
    score: float
    max_score: float
    needs_manual_grade: bool


@dataclass(frozen=True)
class GradeResult:
    student: str
    items: tuple[ItemScore, ...]

    @property
    def auto_score(self) -> float:
        return sum(i.score for i in self.items if not i.needs_manual_grade)

    @property
    def auto_max(self) -> float:
        return sum(i.max_score for i in self.items if not i.needs_manual_grade)


def read_scores(api, assignment: str, student: str) -> GradeResult:
    """Scores per graded cell from the gradebook, in notebook order."""
    from nbgrader.api import Gradebook

    items = []
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        for notebook in sorted(submission.notebooks, key=lambda n: n.name):
            for grade in sorted(notebook.grades, key=lambda g: g.name):
                items.append(ItemScore(notebook.name, grade.name, float(grade.score or 0),
                                       float(grade.max_score), bool(grade.needs_manual_grade)))
    return GradeResult(student, tuple(items))


def prepare_course(tmp: Path, root: Path, assignment: str):
    """A throwaway course directory holding one assignment's source, generated."""
    shutil.copytree(source_dir(root) / assignment, source_dir(tmp) / assignment)
    api = nbgrader_api(tmp, config_root=root)
    _require(api.generate_assignment(assignment, force=True, create=True),
             f"generate_assignment {assignment}")
    return api


def autograde_notebooks(api, assignment: str, student: str,
                        notebooks: Mapping[str, NotebookNode]) -> GradeResult:
    """Submit notebooks for one student in the api's course directory and autograde them."""
    folder = Path(api.coursedir.root) / "submitted" / student / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    _require(api.autograde(assignment, student, force=True, create=True),
             f"autograde {assignment} for {student}")
    return read_scores(api, assignment, student)


def _grade_ids(nb: NotebookNode) -> set[str]:
    """Ids of the answer and graded cells (not shared headers such as ``intro``)."""
    marks = [cell.get("metadata", {}).get("nbgrader", {}) for cell in nb.cells]
    return {str(m["grade_id"]) for m in marks
            if m.get("grade_id") and (m.get("grade") or m.get("solution"))}


def foreign_questions(learner: NotebookNode, released: NotebookNode) -> str:
    """The learner copy's question ids when it shares none with the released notebook
    (another notebook's copy), else ''."""
    theirs, ours = _grade_ids(learner), _grade_ids(released)
    if not ours or theirs & ours:
        return ""
    strangers = sorted(theirs)
    return ", ".join(strangers[:3]) + (" …" if len(strangers) > 3 else "")


@dataclass(frozen=True)
class CheckReport:
    result: GradeResult
    feedback: tuple[Path, ...]
    sandbox: str = ""  # how the learner's code ran (course.grading.sandbox.autograde_sandbox)


def self_check(root: Path, assignment: str) -> CheckReport:
    """Grade the learner's copy of an assignment against the hidden tests.

    Works in a temporary course directory, so the learner's files are only read;
    sanitized feedback HTML is written next to the learner's notebooks.
    """
    learner = assignments_dir(root) / assignment
    released = sorted((release_dir(root) / assignment).glob("*.ipynb"))
    if not (source_dir(root) / assignment).is_dir():
        raise GradingError(f"no source for {assignment}: self-study checking needs source/")
    if not learner.is_dir():
        raise GradingError(f"no learner copy of {assignment}: run `course start {assignment}`")
    notebooks = {}
    for path in released:
        copy = learner / path.name
        if not copy.is_file():
            raise GradingError(f"{copy} is missing: run `course start {assignment}` "
                               "to copy it again (your other files are kept)")
        try:
            notebooks[path.stem] = read_notebook(copy)
        except NotebookError as error:
            raise GradingError(f"{error}. Your file was not changed; rename it and run "
                               f"`course start {assignment}` for a fresh copy.") from None
        if strangers := foreign_questions(notebooks[path.stem], read_notebook(path)):
            raise InputError(f"{copy} holds questions of another notebook ({strangers}), not "
                             f"those of {assignment}/{path.name}. Your file was not changed; "
                             f"rename it and run `course start {assignment}` for a fresh copy.")
        from course.grading.duplicate_cells import (
            check_duplicates,  # two different answers: one line
        )

        check_duplicates(notebooks[path.stem], read_notebook(path), path.name)
    with tempfile.TemporaryDirectory(prefix="course-check-") as tmp, \
            kernel_output_kept(root, assignment):
        try:
            api = prepare_course(Path(tmp), root, assignment)
            from course.grading.sandbox import autograde_sandbox

            _sandboxed, sandbox_notice = autograde_sandbox(api.config)
            result = autograde_notebooks(api, assignment, SELF_STUDY_STUDENT, notebooks)
            _require(api.generate_feedback(assignment, SELF_STUDY_STUDENT, force=True),
                     f"generate_feedback {assignment}")
        except ToolFailure as failure:
            raise _learner_failure(root, assignment, failure) from None
        written = []
        feedback_dir = Path(tmp) / "feedback" / SELF_STUDY_STUDENT / assignment
        for html in sorted(feedback_dir.glob("*.html")):
            source_nb = read_notebook(source_dir(root) / assignment / f"{html.stem}.ipynb")
            text = html.read_text(encoding="utf-8")
            leaks = find_leaks(secret_lines(source_nb, include_solutions=False),
                               html_to_text(text), HIDDEN_MARKERS)
            if leaks:
                raise GradingError(f"feedback for {html.stem} withheld: it would show "
                                   f"hidden material ({len(leaks)} item(s))")
            target = learner / f"{html.stem}.feedback.html"
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return CheckReport(result, tuple(written), sandbox_notice)
