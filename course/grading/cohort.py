"""Cohort grading (``course grade``): nbgrader's own autograde for a class, in parallel.

How scores stay identical to ``nbgrader autograde --force``
----------------------------------------------------------
nbgrader's ``Autograde`` converter grades a notebook in two passes: a *sanitize* pass
(ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata:
locked cells, grade cells, checksums and points are restored from the gradebook, and
with ``OverwriteCells.add_missing_cells`` deleted grade cells are put back) and an
*autograde* pass (Execute, IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades,
AssignLatePenalties, CheckCellMetadata). Only ``Execute`` is slow.

:func:`grade_cohort` runs that converter -- nbgrader's class, its preprocessors and the
course's ``nbgrader_config.py`` -- in this process, one phase at a time:

1. for each student, nbgrader's ``init_destination`` and ``init_assignment`` (student and
   submission rows, a zero for each notebook not submitted) and the sanitize pass;
2. the ``Execute`` preprocessor (the class named in ``Autograde.autograde_preprocessors``,
   with the same configuration) runs in one of N worker processes (default: one per
   CPU), which never open the gradebook. All of a student's notebooks go to the same
   worker, which runs them one after another in nbgrader's order. Every notebook gets
   a new kernel, as in nbgrader; a kernel never runs a second notebook. A student's
   kernels share one sandbox (a private copy of the student's folder, as nbgrader runs
   all of a student's notebooks in one folder), in which a zygote that has imported
   ipykernel once forks each new kernel (:mod:`course.grading.kernel_forkserver`). Every
   student gets a new sandbox, removed after the student's last notebook: nothing of
   one student (process, file, IPC object, socket) can reach the next. A worker starts the kernel
   for its next notebook while the current one runs ("warm" kernels: the next kernel
   boots, it runs nothing until its turn), and kills a kernel as soon as its notebook's
   last cell has replied (nbclient's ``shutdown_kernel = "immediate"``) instead of waiting for a
   graceful shutdown;
3. back in this process, the autograde pass with ``Execute`` replaced by the notebook
   the worker returned: SaveAutoGrades and AssignLatePenalties write the gradebook here,
   so the SQLite gradebook has exactly one writer.

Submissions (``--submissions PATH``)
------------------------------------
- nothing, or the course's ``submitted/`` folder: nbgrader's own layout,
  ``submitted/<student>/<assignment>/<notebook>.ipynb`` (optional ``timestamp.txt``);
- a folder: ``PATH/<student>/<notebook>.ipynb`` (other files in the student's folder,
  such as ``timestamp.txt``, come along), ``PATH/<student>/<assignment>/<notebook>.ipynb``
  (another ``submitted/`` tree), or -- for a one-notebook assignment only --
  ``PATH/<student>.ipynb``. Student ids use letters (any alphabet), digits and
  ``_ . @ + -``;
- a ``.zip`` downloaded from an LMS, read (never blindly extracted) by
  :mod:`course.grading.intake`: file names follow nbgrader's documented LMS convention,
  ``<assignment>_<student>_attempt_<YYYY-MM-DD-HH-MM-SS>_<notebook>.ipynb``, parsed on
  the file name only; the newest attempt of each notebook wins and its time becomes the
  submission timestamp. Ambiguous names, nested archives, links and zip bombs are
  refused and reported per student (see that module).

A folder or zip is copied into ``submitted/<student>/<assignment>/``; an earlier copy of
that student's submission is kept in ``replaced-submissions/`` (a note says where).

``--roster CSV`` adds or updates students first: columns ``id, first_name, last_name,
email`` (header names are case-insensitive; other columns are ignored). A bad row (no
id, an id with other characters, a repeated id, an e-mail without ``@``, more fields
than columns) is skipped and reported with its line number; the good rows are used.

Opt-in: ``--skip-unscored`` (``execute_unscored=False``) sends a notebook worth 0 points
through both passes without executing it. Its grades are 0 of 0 either way, so the
gradebook is the same, but its autograded copy and feedback have no outputs -- which is
why it is not the default. (01-principles: two of its three notebooks are lessons.)

Failures
--------
One failed submission never stops the others. A student *fails* when a notebook is
not a valid notebook, its kernel died, a cell ran past ``Execute.timeout`` and did not
stop when interrupted, a notebook that carries points is missing (nbgrader's zero for
it stays in the gradebook: that zero is nbgrader's rule for an absent file), or no
notebook was submitted. A cell that times out but stops when interrupted is graded
exactly as nbgrader grades it (later cells still run); the status table says so.

For a failed student no gradebook row that would export as a real zero is left
behind: nbgrader creates the submission row before it reads the notebook, so the row
is removed again (and the student too, when this run created it and it has no other
submission). A submission graded by an earlier run keeps its earlier grades, each
flagged ``needs_manual_grade`` so formgrader lists it for review. Note that
``nbgrader export`` writes 0 for every student without a submission: read the status
file, not the export, to tell "failed" from "scored 0".

Outputs: a progress bar with the time left on stderr (on a terminal; elsewhere only the
final line), the status table on stdout, ``autograded/<assignment>.grading-status.csv``
(student, status, score, max_score, needs_manual_grade, detail) and
``autograded/<assignment>.grading.log`` (nbgrader's, the workers' and the kernels' log).
Exit code: 0 when every submission was graded; 1 when a submission failed, a roster row
was bad or an input file could not be used (the table says which); 2 for wrong
arguments (nothing is graded); 128 + the signal number when stopped by a signal.

Interrupts, lock, resume (:mod:`course.grading.run_control`): SIGINT, SIGTERM or SIGHUP stop the
run at the next safe point -- workers, kernels and sandboxes first (each run's sandboxes
live in one temporary folder, removed at the end), then the unfinished students' rows --
and the message says what was kept. One run at a time per gradebook (``--wait`` to
queue). Students graded to the end from the same files are skipped (``--regrade``).

Where: this module runs it all (:func:`grade_cohort`); :mod:`course.grading.intake` and
:mod:`course.grading.roster` take the submissions and students in;
:mod:`course.grading.phases` holds nbgrader's two passes and the scheduling;
:mod:`course.grading.workers` the worker processes; :mod:`course.grading.outcome` what
is reported; :mod:`course.grading.config` nbgrader's configuration.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from course.errors import GradingError
from course.grading.config import environment, load_config, quiet_warnings, working_directory
from course.grading.intake import CohortInputError, check_submissions_path, stage_submissions
from course.grading.intake import submitted_root as _submitted_root
from course.grading.outcome import GRADED, CohortReport, Progress, write_status_file
from course.grading.phases import Cohort, converter_class
from course.grading.roster import import_roster, read_roster
from course.grading.run_control import (
    GradingInterrupted,
    Ledger,
    StopSignals,
    course_lock,
    fingerprint,
    interrupt_message,
    lock_path,
    skipped_note,
)
from course.grading.workers import MAX_WORKERS, Tuning, WorkerPool


def _sandbox_notice(config: Any, allow_unsandboxed: bool) -> str:
    """How the kernels will run; GradingError when unsandboxed and not allowed."""
    from course.grading.sandbox import autograde_sandbox

    sandboxed, notice = autograde_sandbox(config)
    if not sandboxed and not allow_unsandboxed:
        raise GradingError(f"refusing to grade a cohort: {notice}. Student code would run "
                           "with your permissions; install bubblewrap, or pass "
                           "--unsandboxed to grade anyway")
    return notice



def _notebook_points(db_url: str, course_id: str, assignment: str) -> dict[str, float]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(
                f"{assignment} is not in the gradebook ({db_url}): run `course release "
                f"{assignment}` (nbgrader generate_assignment) first") from None
        return {nb.name: float(nb.max_score) for nb in found.notebooks}


def _parent_logger(log_path: Path) -> logging.Logger:
    log = logging.getLogger(f"course.grading.cohort.{log_path.stem}")
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s] %(message)s"))
    log.addHandler(handler)
    return log


def check_workers(workers: int | None) -> int:
    """The worker count to use: the number of CPUs unless given (1..MAX_WORKERS)."""
    if workers is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
    if not 1 <= workers <= MAX_WORKERS:
        raise CohortInputError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
    return workers


def grade_cohort(root: Path, assignment: str, *, submissions: Path | None = None,
                 workers: int | None = None, roster: Path | None = None,
                 overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 progress: Progress | None = None, warm_kernels: bool = True,
                 kill_kernels: bool = True, execute_unscored: bool = True,
                 allow_unsandboxed: bool = False, fork_kernels: bool = True,
                 regrade: bool = False, wait: bool = False) -> CohortReport:
    """Autograde every submission of ``assignment`` in the course at ``root``.

    ``warm_kernels``, ``kill_kernels`` and ``fork_kernels`` switch the speed-ups off for
    measurement.
    ``execute_unscored=False`` (opt-in, not nbgrader's behaviour) does not run notebooks
    worth 0 points: same grades, but their autograded copies and feedback have no
    outputs. Raises CohortInputError for unusable arguments (nothing graded) and
    GradingError when the assignment is not in the gradebook, or when the learners'
    kernels cannot be sandboxed (course.grading.sandbox) and ``allow_unsandboxed`` is False.

    One run at a time per gradebook: another run's lock raises GradingError, or with
    ``wait`` is waited for. Students graded to the end from the same files are skipped
    unless ``regrade``. SIGINT, SIGTERM or SIGHUP stop the run between two steps:
    GradingInterrupted, whose message says what was kept (course.grading.run_control).
    """
    from course.grading.assignments import ensure_tools_on_path

    started = time.monotonic()
    tuning = Tuning(check_workers(workers), warm_kernels, kill_kernels, fork_kernels)
    overrides = {k: dict(v) for k, v in (overrides or {}).items()}
    ensure_tools_on_path()
    quiet_warnings()
    if not allow_unsandboxed:  # cohort grading runs untrusted code: never unsandboxed by default
        overrides.setdefault("SandboxedKernels", {})["sandbox"] = "require"
    with StopSignals() as stop, course_lock(_gradebook_lock(root, overrides), wait, stop), \
            _run_folder() as run_tmp, environment(TMPDIR=str(run_tmp)):
        stop.check()
        with WorkerPool(root, overrides, tuning) as pool:  # ready while this process sets up
            return _grade(root, assignment, pool, started, tuning, overrides, submissions,
                          roster, progress, execute_unscored, allow_unsandboxed, stop,
                          regrade)


@contextmanager
def _run_folder() -> Iterator[Path]:
    """A temporary folder for one run (the workers' TMPDIR: their sandboxes go there),
    removed at the end even when a worker was killed before it could clean up."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cg-"))  # short: sandbox socket paths are limited
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _gradebook_lock(root: Path, overrides: Mapping[str, Mapping[str, Any]]) -> Path:
    """The lock file of the course's gradebook (nbgrader's default database unless the
    configuration names another)."""
    config = load_config(root, overrides)
    db_url = config.CourseDirectory.get("db_url") or \
        f"sqlite:///{os.path.abspath(os.path.join(root, 'gradebook.db'))}"
    return lock_path(str(db_url), Path(root))


def _resume(coursedir: Any, assignment: str, students: Sequence[str], autograded: Path,
            regrade: bool) -> tuple[list[str], list[str], Ledger]:
    """The students to grade, those skipped (graded to the end from the same files and
    still in the gradebook), and the ledger that remembers who was graded."""
    from nbgrader.api import Gradebook

    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    prints = {s: fingerprint(Path(coursedir.format_path(coursedir.submitted_directory, s,
                                                        assignment)), release)
              for s in students}
    ledger = Ledger(autograded / f"{assignment}.grading-done.json", prints)
    if regrade or not ledger.entries:
        return list(students), [], ledger
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        in_gradebook = {sub.student_id for sub in gb.find_assignment(assignment).submissions}
    done = set(ledger.done(students, in_gradebook))
    return [s for s in students if s not in done], sorted(done), ledger


def _grade(root: Path, assignment: str, pool: WorkerPool, started: float, tuning: Tuning,
           overrides: Mapping[str, Mapping[str, Any]], submissions: Path | None,
           roster: Path | None, progress: Progress | None, execute_unscored: bool,
           allow_unsandboxed: bool, stop: StopSignals, regrade: bool) -> CohortReport:
    """:func:`grade_cohort` once its workers are starting."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from traitlets.utils.importstring import import_item

    stop.check()
    config = load_config(root, overrides)
    sandbox_notice = _sandbox_notice(config, allow_unsandboxed)
    coursedir = CourseDirectory(config=config, assignment_id=assignment)  # its one place
    check_submissions_path(submissions, _submitted_root(coursedir))
    roster_entries, problems = read_roster(roster) if roster else ([], [])
    points = _notebook_points(coursedir.db_url, coursedir.course_id, assignment)
    autograded = Path(os.path.normpath(coursedir.format_path(
        coursedir.autograded_directory, ".", ".")))
    stop.defer()  # nothing changed so far; from here a signal waits for a safe point
    autograded.mkdir(parents=True, exist_ok=True)
    log_path = autograded / f"{assignment}.grading.log"
    log_path.write_text("", encoding="utf-8")
    log = _parent_logger(log_path)
    log.info("grading kernels: %s", sandbox_notice)
    if roster_entries:
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            import_roster(gb, roster_entries)
    roster_ids = {e.id for e in roster_entries} if roster else None
    intake = stage_submissions(coursedir, config, assignment, sorted(points), submissions,
                               roster_ids)
    problems += intake.problems
    stop.check()
    students, skipped, ledger = _resume(coursedir, assignment, intake.students, autograded,
                                        regrade)
    notes = [*intake.notes, *([skipped_note(skipped)] if skipped else [])]
    converter = converter_class()(coursedir=coursedir, config=config, log=log)
    converter.setup()
    execute_class = converter.execute_class()
    timeout = import_item(execute_class)(config=config).timeout
    cohort = Cohort(converter, assignment, coursedir.db_url, coursedir.course_id, points,
                    timeout, execute_unscored, stop=stop, ledger=ledger)
    if progress:
        progress.start(len(students))
    pool.configure(execute_class, log_path)
    try:
        with working_directory(Path(coursedir.root)), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat/nbconvert chatter would break the bar
            outcomes = cohort.run(students, pool, progress)
    except GradingInterrupted as stopped:
        pool.close(wait=0)  # workers stop their kernels and remove their sandboxes
        report = CohortReport(assignment, sorted(cohort.outcomes + cohort.abandoned,
                                                 key=lambda o: o.student),
                              problems, time.monotonic() - started, tuning.workers,
                              log_file=log_path, sandbox=sandbox_notice, notes=notes)
        status = write_status_file(report, autograded / f"{assignment}.grading-status.csv")
        cleaned = {"removed": sum("earlier grades kept" not in o.detail
                                  for o in cohort.abandoned),
                   "kept": sum("earlier grades kept" in o.detail for o in cohort.abandoned)}
        graded = [o for o in cohort.outcomes if o.status == GRADED]
        log.info("stopped by signal %s", stopped.signum)
        raise GradingInterrupted(stopped.signum, interrupt_message(
            stopped.signum, len(graded), len(cohort.outcomes) - len(graded), cleaned,
            cohort.not_started, status)) from None
    pool.close()  # waits for the workers to stop their kernels
    outcomes.sort(key=lambda o: o.student)
    report = CohortReport(assignment, outcomes, problems, time.monotonic() - started,
                          tuning.workers, log_file=log_path, sandbox=sandbox_notice,
                          notes=notes)
    if progress:
        progress.finish(len(outcomes), len(report.failed))
    report.status_file = write_status_file(report, autograded /
                                           f"{assignment}.grading-status.csv")
    return report
