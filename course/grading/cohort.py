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
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import multiprocessing
import os
import queue
import re
import signal
import sys
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

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
from course.errors import GradingError, InputError
from course.grading.intake import STUDENT_ID, STUDENT_ID_RULE, CohortInputError, stage_submissions
from course.grading.intake import check_submissions_path as check_submissions_path
from course.grading.intake import submitted_root as _submitted_root

GRADED, FAILED = "graded", "failed"
NOT_A_NOTEBOOK = "not a valid notebook"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")
MAX_ROSTER_FIELD = 200
MAX_WORKERS = 64
WARM_AHEAD = 2  # kernels a worker starts ahead of the notebook it runs
TASKS_PER_WORKER = 1 + WARM_AHEAD  # one running, the others' kernels warming up
STOP_SECONDS = 1.0  # a terminated worker's time to stop its kernels before it is killed
_EXTRA_FIELDS = "__extra__"


# ---------------------------------------------------------------- results


@dataclass
class Outcome:
    """What happened to one student's submission."""

    student: str
    status: str = GRADED
    score: float | None = None
    max_score: float | None = None
    needs_manual_grade: bool = False
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self.status = FAILED
        self.reasons.append(reason)

    @property
    def score_text(self) -> str:
        if self.score is None or self.max_score is None:
            return "-"
        return f"{self.score:g}/{self.max_score:g}"

    @property
    def detail(self) -> str:
        return "; ".join(self.reasons + self.notes)


@dataclass
class CohortReport:
    """Every student's outcome, plus problems with the roster or the input files."""

    assignment: str
    outcomes: list[Outcome]
    problems: list[str]
    seconds: float
    workers: int
    status_file: Path | None = None
    log_file: Path | None = None
    sandbox: str = ""  # how the learners' code ran (course.grading.sandbox.autograde_sandbox)
    notes: list[str] = field(default_factory=list)  # e.g. earlier submissions kept aside

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def exit_code(self) -> int:
        """0 when every submission was graded and nothing was skipped, else 1."""
        return 1 if self.failed or self.problems else 0


def status_table(report: CohortReport) -> str:
    """The per-student status table, then any roster or input problems, then a total."""
    rows = [("student", "status", "score", "detail")]
    rows += [(o.student, o.status, o.score_text, o.detail) for o in report.outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)),
                        row[3]]).rstrip() for row in rows]
    if report.problems:
        lines += ["", "Problems with the roster or the submissions (nothing graded for these):"]
        lines += [f"  - {problem}" for problem in report.problems]
    if report.notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in report.notes)]
    graded = len(report.outcomes) - len(report.failed)
    lines += ["", f"{report.assignment}: {graded} graded, {len(report.failed)} failed, "
                  f"{len(report.problems)} problem(s), {report.seconds:.1f} s with "
                  f"{report.workers} worker(s)."]
    if report.status_file:
        lines.append(f"Status file: {report.status_file}")
    if report.log_file:
        lines.append(f"Log: {report.log_file}")
    if report.sandbox:
        lines.append(f"Grading kernels: {report.sandbox}")
    return "\n".join(lines)


STATUS_COLUMNS = ["student", "status", "score", "max_score", "needs_manual_grade", "detail",
                  "run"]


def _status_rows(report: CohortReport, run: str) -> list[list[str]]:
    return [[o.student, o.status, "" if o.score is None else f"{o.score:g}",
             "" if o.max_score is None else f"{o.max_score:g}", str(o.needs_manual_grade),
             o.detail, run] for o in report.outcomes]


def _write_csv_atomically(path: Path, rows: Sequence[Sequence[str]]) -> None:
    from course.escaping import csv_cell

    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(STATUS_COLUMNS)
        writer.writerows([[csv_cell(c) for c in row] for row in rows])
    os.replace(temporary, path)


def write_status_file(report: CohortReport, path: Path) -> Path:
    """Write the status table as CSV (read it to tell a failed submission from a zero).

    Nothing is lost between runs: this run's rows go to ``<name>.history/<UTC time>.csv``,
    and ``path`` keeps the latest row of every student (a run that graded nobody, or
    only some students, leaves the others' rows and reasons as they were). Text cells
    are neutralised for spreadsheets (:func:`course.escaping.csv_cell`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    run = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rows = _status_rows(report, run)
    history = path.with_name(f"{path.stem}.history")
    history.mkdir(exist_ok=True)
    stamp = run.replace(":", "").replace("-", "")
    n = len(list(history.glob(f"{stamp}*.csv")))
    _write_csv_atomically(history / f"{stamp}{f'-{n}' if n else ''}.csv", rows)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            earlier = {row["student"]: row for row in csv.DictReader(handle)
                       if row.get("student")}
    except (OSError, ValueError, csv.Error):  # none yet, or unreadable: the history has it
        earlier = {}
    this_run = {row[0] for row in rows}
    kept = [[old.get(c) or "" for c in STATUS_COLUMNS] for student, old in earlier.items()
            if student not in this_run]
    _write_csv_atomically(path, sorted(kept + rows, key=lambda row: row[0]))
    return path


# ---------------------------------------------------------------- progress


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(done: int, total: int, failed: int, elapsed: float, width: int = 24) -> str:
    """One line of the progress bar: bar, counts, rate and estimated time left."""
    if total < 0 or not 0 <= done <= max(total, 0) or failed < 0:
        raise ValueError(f"progress: done must be in 0..{total} and failed >= 0")
    filled = width * done // total if total else width
    rate = done / elapsed if done and elapsed > 0 else 0.0
    eta = _clock((total - done) / rate) if rate else "--:--"
    failures = f", {failed} failed" if failed else ""
    return (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{failures}"
            f"  {rate:.2f}/s  ETA {eta}")


class Progress:
    """A plain-text progress bar on a stream (stderr): redrawn in place on a terminal;
    elsewhere silent until the final line."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.total = 0
        self._started = self._drawn = 0.0
        self._width = 0

    def start(self, total: int) -> None:
        self.total, self._started = total, time.monotonic()
        self.update(0, 0, force=True)

    def update(self, done: int, failed: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self.tty or (not force and now - self._drawn < self.interval):
            return
        self._drawn = now
        line = progress_line(done, self.total, failed, now - self._started)
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def finish(self, done: int, failed: int) -> None:
        elapsed = time.monotonic() - self._started
        rate = f" ({done / elapsed:.2f} submissions/s)" if done and elapsed > 0 else ""
        line = (f"{done - failed} of {self.total} submission(s) graded, {failed} failed, "
                f"in {elapsed:.1f} s{rate}")
        self.stream.write(("\r" + line.ljust(self._width) if self.tty else line) + "\n")
        self.stream.flush()


# ---------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterEntry:
    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


def _roster_problem(row: Mapping[str, Any], seen: Mapping[str, int]) -> str | None:
    if row.get(_EXTRA_FIELDS):
        return f"{len(row[_EXTRA_FIELDS])} more field(s) than the header has columns"
    long = [k for k in ROSTER_COLUMNS if len(row.get(k) or "") > MAX_ROSTER_FIELD]
    if long:
        return f"{long[0]} is longer than {MAX_ROSTER_FIELD} characters"
    student = (row.get("id") or "").strip()
    if not student:
        return "id is empty"
    if not STUDENT_ID.match(student):
        return f"id {student!r} is not a valid student id (allowed: {STUDENT_ID_RULE})"
    if student in seen:
        return f"id {student!r} repeats line {seen[student]}"
    email = (row.get("email") or "").strip()
    if email and not EMAIL.match(email):
        return f"email {email!r} is not an e-mail address (name@example.org)"
    return None


MAX_ROSTER_BYTES = 4 * 2**20


def _roster_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise CohortInputError(f"--roster {path}: larger than "
                                   f"{MAX_ROSTER_BYTES // 2**20} MiB; is it a roster?")
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CohortInputError(f"--roster {path}: cannot read it as a UTF-8 CSV file "
                               f"({error})") from None


def read_roster(path: Path) -> tuple[list[RosterEntry], list[str]]:
    """Students from a CSV roster: columns id, first_name, last_name, email (others ignored).

    Returns the valid entries and one message per bad row (that row is skipped): a row
    whose quoted field runs over several lines (an unclosed quote swallowing the rows
    after it) or holds an over-long field is reported, never used. A file that cannot be
    read, has no ``id`` column or names a column twice raises CohortInputError.
    """
    path = Path(path)
    reader = csv.DictReader(io.StringIO(_roster_text(path), newline=""), restkey=_EXTRA_FIELDS)
    try:
        names = reader.fieldnames or []
    except csv.Error as error:
        raise CohortInputError(f"--roster {path}: the header line cannot be read ({error})"
                               ) from None
    header = [(name or "").strip().lower() for name in names]
    if "id" not in header:
        raise CohortInputError(
            f"--roster {path}: needs an 'id' column (expected columns "
            f"{', '.join(ROSTER_COLUMNS)}; found: {', '.join(header) or 'nothing'})")
    twice = sorted({n for n in header if n in ROSTER_COLUMNS and header.count(n) > 1})
    if twice:
        raise CohortInputError(f"--roster {path}: column {', '.join(map(repr, twice))} "
                               "appears more than once; keep one")
    reader.fieldnames = header
    entries: list[RosterEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows = iter(reader)
    while True:
        first = reader.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:  # a field over csv's size limit, a NUL byte...
            problems.append(f"roster {path.name} line {first}: cannot be read ({error}); "
                            "the rest of the file was not read")
            break
        if reader.line_num > first and any("\n" in (v or "") or "\r" in (v or "")
                                           for v in row.values() if isinstance(v, str)):
            problems.append(f"roster {path.name} lines {first}-{reader.line_num}: a quoted "
                            "field runs over several lines (an unclosed quote?); skipped")
            continue
        problem = _roster_problem(row, seen)
        if problem:
            problems.append(f"roster {path.name} line {reader.line_num}: {problem}")
            continue
        values = {key: (row.get(key) or "").strip() or None for key in ROSTER_COLUMNS}
        entries.append(RosterEntry(**values))
        seen[values["id"]] = reader.line_num
    return entries, problems


def import_roster(gradebook: Any, entries: Sequence[RosterEntry]) -> None:
    """Create or update each student in the gradebook (empty fields leave names as they are)."""
    for entry in entries:
        details = {k: v for k, v in (("first_name", entry.first_name),
                                     ("last_name", entry.last_name),
                                     ("email", entry.email)) if v}
        gradebook.update_or_create_student(entry.id, **details)


# ---------------------------------------------------------------- inputs


# ---------------------------------------------------------------- configuration


def _sandbox_notice(config: Any, allow_unsandboxed: bool) -> str:
    """How the kernels will run; GradingError when unsandboxed and not allowed."""
    from course.grading.sandbox import autograde_sandbox

    sandboxed, notice = autograde_sandbox(config)
    if not sandboxed and not allow_unsandboxed:
        raise GradingError(f"refusing to grade a cohort: {notice}. Student code would run "
                           "with your permissions; install bubblewrap, or pass "
                           "--unsandboxed to grade anyway")
    return notice


def load_config(root: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    """The course's nbgrader configuration (``root/nbgrader_config.py``) plus overrides,
    e.g. ``{"Execute": {"timeout": 5}}``."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    if overrides:
        config.merge(Config({name: dict(values) for name, values in overrides.items()}))
    return config


def _quiet_warnings() -> None:
    # SQLAlchemy 2.1 warns "not in session" during autograde; results are correct
    # (see nbgrader-notes). jupyter_client warns about deprecated APIs.
    warnings.filterwarnings("ignore", message=".*not in session.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


# ---------------------------------------------------------------- workers


@dataclass(frozen=True)
class Tuning:
    """Speed options, each measured by ``benchmarks/grade_throughput.py``."""

    workers: int
    warm_kernels: bool = True   # start the next notebook's kernel while one runs
    kill_kernels: bool = True   # kill a kernel once its last cell replied
    fork_kernels: bool = True   # one sandbox per submission; its kernels forked by a zygote


@dataclass(frozen=True)
class _Task:
    task_id: int
    path: str
    student: str
    last: bool  # the student's last notebook: its sandbox can go


@dataclass
class _Result:
    task_id: int
    notebook: Any = None
    failure: str | None = None
    interrupted_cells: list[int] = field(default_factory=list)
    seconds: float = 0.0


def failure_reason(error: BaseException) -> str:
    """A short, plain reason for a notebook that could not be executed or sanitized."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if isinstance(error, InputError):  # e.g. two different copies of one answer cell
        return " ".join(str(error).split())
    if isinstance(error, DeadKernelError):
        return "kernel died"
    if isinstance(error, CellTimeoutError):
        return ("timeout: a cell ran past the time limit and did not stop when "
                "interrupted")
    if isinstance(error, TimeoutError | RuntimeError) and "kernel" in str(error).lower():
        return f"kernel did not start ({str(error).strip().splitlines()[0]})"
    text = str(error).strip().splitlines()
    return f"error: {type(error).__name__}" + (f": {text[0][:200]}" if text else "")


class _Job:
    def __init__(self, task: _Task) -> None:
        self.task = task
        self.nb: Any = None
        self.ep: Any = None
        self.km: Any = None
        self.submission: Any = None  # course.grading.sandbox.SubmissionKernels, with fork_kernels
        self.error: BaseException | None = None


class _NotebookRunner:
    """Executes sanitized notebooks with nbgrader's Execute preprocessor, one fresh kernel each."""

    def __init__(self, config: Any, execute_class: str, tuning: Tuning) -> None:
        from traitlets.utils.importstring import import_item

        self.config = config
        self.execute_class = import_item(execute_class)
        self.tuning = tuning
        self.log = logging.getLogger("course.grading.cohort.worker")
        self._submissions: dict[str, Any] = {}  # student -> SubmissionKernels

    def _submission(self, task: _Task) -> Any:
        """The task's submission's own new sandbox (made at its first notebook)."""
        from course.grading.sandbox import SubmissionKernels

        if task.student not in self._submissions:
            self._submissions[task.student] = SubmissionKernels(os.path.dirname(task.path))
        return self._submissions[task.student]

    def _release(self, job: _Job) -> None:
        """After a student's last notebook: stop its zygote, remove its sandbox."""
        if job.submission is not None and job.task.last:
            self._submissions.pop(job.task.student, None)
            job.submission.close()
        job.submission = None

    def close(self) -> None:
        """Stop every submission sandbox still open (the worker is stopping)."""
        for submission in self._submissions.values():
            submission.close()
        self._submissions.clear()

    def prepare(self, task: _Task) -> _Job:
        """Read the notebook and, with warm kernels, start its kernel now."""
        import nbformat

        job = _Job(task)
        try:
            job.nb = nbformat.read(task.path, as_version=4)
            job.ep = self.execute_class(config=self.config, log=self.log)
            if self.tuning.fork_kernels:
                job.submission = self._submission(task)
            if self.tuning.warm_kernels:
                job.km = self._start_kernel(job)
        except Exception as error:  # reported with the task; never stops the worker
            job.error = error
        return job

    def _start_kernel(self, job: _Job) -> Any:
        """Start a kernel exactly as nbclient would for this notebook (name, cwd, args)."""
        from jupyter_core.utils import run_sync

        ep = job.ep
        name = ep.kernel_name or job.nb.metadata.get("kernelspec", {}).get("name")
        km = (ep.kernel_manager_class(kernel_name=name, config=ep.config) if name
              else ep.kernel_manager_class(config=ep.config))
        if job.submission is not None and hasattr(km, "submission"):
            km.submission = job.submission
        arguments = list(ep.extra_arguments)
        if (getattr(km, "ipykernel", False) and ep.ipython_hist_file
                and not any(a.startswith("--HistoryManager.hist_file") for a in arguments)):
            arguments.append(f"--HistoryManager.hist_file={ep.ipython_hist_file}")
        run_sync(km.start_kernel)(extra_arguments=arguments,
                                  cwd=os.path.dirname(job.task.path))
        return km

    def run(self, job: _Job) -> _Result:
        started = time.perf_counter()
        result = _Result(job.task.task_id)
        try:
            if job.error is not None:
                raise job.error
            if job.km is None and self.tuning.kill_kernels:
                job.km = self._start_kernel(job)
            nb = job.nb
            if job.ep.enabled:
                resources = {"metadata": {"path": os.path.dirname(job.task.path)}}
                nb, _ = job.ep.preprocess(nb, resources, km=job.km)
            result.notebook = nb
            result.interrupted_cells = _interrupted_cells(nb, job.ep.error_on_timeout)
        except Exception as error:
            result.failure = failure_reason(error)
        finally:
            self.dispose(job)
        result.seconds = time.perf_counter() - started
        return result

    def dispose(self, job: _Job) -> None:
        """Stop the kernel we started (nbclient shuts down the ones it started)."""
        from jupyter_core.utils import run_sync

        if job.km is not None:
            try:
                if job.ep is not None and job.ep.kc is not None:
                    job.ep.kc.stop_channels()
                run_sync(job.km.shutdown_kernel)(now=True)
            except Exception:  # the kernel may already be gone
                self.log.debug("kernel cleanup failed", exc_info=True)
            job.km = None
        self._release(job)


def _interrupted_cells(nb: Any, error_on_timeout: Mapping[str, Any] | None) -> list[int]:
    """1-based numbers of the cells that timed out and were interrupted."""
    ename = (error_on_timeout or {}).get("ename")
    if not ename:
        return []
    return [number for number, cell in enumerate(nb.cells, start=1)
            if cell.cell_type == "code"
            and any(out.get("output_type") == "error" and out.get("ename") == ename
                    for out in cell.get("outputs", []))]


def _serve(runner: _NotebookRunner, inbox: Any, results: Any) -> None:
    """Run tasks from ``inbox`` until a ``None``; with warm kernels, prepare one ahead."""
    ahead: deque[_Job] = deque()
    more = True
    try:
        while ahead or more:
            if ahead:
                job = ahead.popleft()
            else:
                task = inbox.get()
                if task is None:
                    break
                job = runner.prepare(task)
            while runner.tuning.warm_kernels and more and len(ahead) < WARM_AHEAD:
                try:
                    task = inbox.get_nowait()
                except queue.Empty:
                    break
                if task is None:
                    more = False
                else:
                    ahead.append(runner.prepare(task))
            results.put(runner.run(job))
    finally:  # stopped early (SIGTERM): kill the kernels started ahead
        for job in ahead:
            runner.dispose(job)
        runner.close()


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@dataclass(frozen=True)
class _WorkerSettings:
    """What a worker learns once the parent has set up: sent as its first message."""

    execute_class: str
    log_path: str


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when the grading process dies, even by SIGKILL (the
    worker then stops its kernels and sandboxes, as when the parent closes the pool)."""
    with suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _worker_main(root: str, overrides: Mapping[str, Any], tuning: Tuning, inbox: Any,
                 results: Any) -> None:
    """A worker process: executes notebooks, never touches the gradebook.

    It starts while the parent sets up, so it loads nbgrader's configuration (and the
    modules that brings in) first, then waits for its settings.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, _exit_on_signal)
    _die_with_parent()
    _quiet_warnings()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it for the kernel
    try:
        config = load_config(Path(root), overrides)
        import nbclient  # noqa: F401  (loaded now, while the parent is still setting up)
    except Exception as error:  # the parent meets it too; reported in the log if not
        config, failed = None, error
    else:
        failed = None
    settings: _WorkerSettings | None = inbox.get()
    if settings is None:  # the parent stopped before it was ready
        return
    log_fd = os.open(settings.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 1)  # this worker's chatter goes to the log; a sandboxed kernel never
    os.dup2(log_fd, 2)  # gets these, only a relay (course.grading.sandbox.OutputRelay)
    os.close(log_fd)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"[worker {os.getpid()}] %(levelname)s %(message)s")
    if failed is not None:
        raise failed
    runner = _NotebookRunner(config, settings.execute_class, tuning)
    _serve(runner, inbox, results)


class _WorkerPool:
    """Worker processes in numbered slots, each with its own inbox (worked in order).

    Workers start at once and get ready while the parent sets up; :meth:`configure`
    sends them what they need before the first task.
    """

    def __init__(self, root: Path, overrides: Mapping[str, Any], tuning: Tuning) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._args = (str(root), {k: dict(v) for k, v in overrides.items()}, tuning)
        self._settings: _WorkerSettings | None = None
        self._closed = False
        self._results = self._ctx.Queue()
        self._workers: dict[int, tuple[Any, Any]] = {}
        self.held: dict[int, deque[_Task]] = {}
        self.returned: dict[int, deque[_Task]] = {}
        self._lost: deque[_Result] = deque()
        self._deaths = 0
        self._max_deaths = 2 * tuning.workers + 2
        for slot in range(tuning.workers):
            self.held[slot], self.returned[slot] = deque(), deque()
            self._spawn(slot)

    @property
    def slots(self) -> list[int]:
        return sorted(self._workers)

    def _spawn(self, slot: int) -> None:
        inbox = self._ctx.Queue()
        if self._settings is not None:  # a replacement worker
            inbox.put(self._settings)
        process = self._ctx.Process(target=_worker_main,
                                    args=(*self._args, inbox, self._results),
                                    name=f"course-grade-worker-{slot}", daemon=True)
        before = signal.getsignal(signal.SIGINT) if _main_thread() else None
        if before is not None:  # inherited across exec: a Ctrl-C while it boots is ours
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.start()
        finally:
            if before is not None:
                signal.signal(signal.SIGINT, before)
        self._workers[slot] = (process, inbox)

    def __enter__(self) -> _WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.close(wait=0 if kind else 15.0)  # interrupted or failed: stop the kernels now

    def configure(self, execute_class: str, log_path: Path) -> None:
        self._settings = _WorkerSettings(execute_class, str(log_path))
        for _process, inbox in self._workers.values():
            inbox.put(self._settings)

    def assign(self, slot: int, task: _Task) -> None:
        self.held[slot].append(task)
        self._workers[slot][1].put(task)

    def next_result(self, timeout: float) -> _Result | None:
        if self._lost:
            return self._lost.popleft()
        try:
            result: _Result = self._results.get(timeout=timeout)
        except queue.Empty:
            self._reap()
            return self._lost.popleft() if self._lost else None
        for held in self.held.values():
            for task in held:
                if task.task_id == result.task_id:
                    held.remove(task)
                    return result
        return result

    def _reap(self) -> None:
        """Restart a worker that died: its running task fails, the ones it held wait
        in ``returned`` for the new worker in the same slot."""
        for slot, (process, _inbox) in list(self._workers.items()):
            if process.is_alive():
                continue
            self._deaths += 1
            if self._deaths > self._max_deaths:
                raise GradingError(f"grading workers keep stopping (exit code "
                                   f"{process.exitcode}); see the log")
            held = self.held[slot]
            if held:
                first = held.popleft()
                self._lost.append(_Result(first.task_id, failure="grading worker stopped "
                                          f"unexpectedly (exit code {process.exitcode})"))
                self.returned[slot].extend(held)
                held.clear()
            self._spawn(slot)

    def close(self, wait: float = 15.0) -> None:
        """Ask the workers to stop; after ``wait`` seconds, terminate them (SIGTERM: each
        kills its kernels and removes its sandboxes on the way out); a worker still there
        after :data:`STOP_SECONDS` more is killed."""
        if self._closed:
            return
        self._closed = True
        processes = [process for process, _inbox in self._workers.values()]
        for _process, inbox in self._workers.values():
            with suppress(Exception):
                inbox.put(None)
        deadline = time.monotonic() + wait
        for process in processes:
            process.join(timeout=max(0.1 if wait else 0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(timeout=max(0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(timeout=1)


# ---------------------------------------------------------------- nbgrader, phase by phase


@lru_cache(maxsize=1)
def _converter_class() -> type:
    """nbgrader's Autograde converter, driven one phase at a time (built lazily so that
    importing this module stays cheap)."""
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor
    from nbconvert.writers import FilesWriter
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import BaseConverter
    from nbgrader.preprocessors import NbGraderPreprocessor
    from nbgrader.utils import rmtree
    from traitlets import Any as AnyTrait
    from traitlets.utils.importstring import import_item

    from course.grading.nbgrader_plugins import compile_nbgrader_metadata_schema, share_gradebook_engines

    compile_nbgrader_metadata_schema()  # same checks, each schema compiled once
    share_gradebook_engines()  # same queries, each compiled once per database

    def is_execute(item: Any) -> bool:
        cls = import_item(item) if isinstance(item, str) else item
        return isinstance(cls, type) and issubclass(cls, ExecutePreprocessor)

    class ExecutedElsewhere(NbGraderPreprocessor):
        """Takes the place of Execute: hands on the notebook a worker executed."""

        executed = AnyTrait(None)

        def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
            if self.executed is None or len(self.executed.cells) != len(nb.cells):
                raise GradingError("the executed notebook does not match the sanitized one")
            return self.executed, resources

    class ValidateNotebook(NbGraderPreprocessor):
        """The check nbconvert makes after every step: ``nbformat.validate``."""

        def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
            nbformat.validate(nb, relax_add_props=True)
            return nb, resources

    class CohortAutograde(Autograde):
        """nbgrader's Autograde with its two passes callable separately.

        nbconvert validates the notebook after every step of a pass (about a fifth of
        this process's CPU). Here it validates after a pass's first step (the input,
        as nbconvert first checks it) and after its last (``optimistic_validation``):
        the steps in between only restore cells and metadata from the gradebook and
        record grades, so a notebook they left invalid is still refused, at the end.
        """

        executed = AnyTrait(None)

        def setup(self, assignment: str) -> None:
            """What BaseConverter.start does before converting (always --force)."""
            self.coursedir.assignment_id = assignment
            self.coursedir.student_id = "*"
            self.force = True
            self.create_student = True
            self.writer = FilesWriter(parent=self, config=self.config)
            self.exporter = self.exporter_class(parent=self, config=self.config)
            self.exporter.optimistic_validation = True
            for pp in self.preprocessors:
                self.exporter.register_preprocessor(pp)

        def execute_class(self) -> str:
            """Import path of the Execute preprocessor the autograde pass would use."""
            for item in self.autograde_preprocessors:
                if is_execute(item):
                    cls = import_item(item) if isinstance(item, str) else item
                    return f"{cls.__module__}.{cls.__qualname__}"
            raise GradingError("Autograde.autograde_preprocessors has no Execute step")

        def _init_preprocessors(self) -> None:
            if self._sanitizing:
                super()._init_preprocessors()
            else:
                self.exporter._preprocessors = []
                for item in self.autograde_preprocessors:
                    if is_execute(item):
                        item = ExecutedElsewhere(executed=self.executed,
                                                 parent=self.exporter)
                    self.exporter.register_preprocessor(item)
            self.exporter._preprocessors.insert(1, ValidateNotebook(parent=self.exporter))

        def submitted_notebooks(self, student: str) -> list[str]:
            folder = self._format_source(self.coursedir.assignment_id, student)
            return sorted(str(p) for p in Path(folder).glob("*.ipynb"))

        def destination(self, student: str) -> str:
            return os.path.normpath(self._format_dest(self.coursedir.assignment_id, student))

        def begin(self, student: str, notebooks: list[str]) -> list[str]:
            """nbgrader's set-up and sanitize pass; returns the sanitized notebook paths."""
            assignment = self.coursedir.assignment_id
            self.notebooks = notebooks  # coursedir.student_id stays "*", as in the CLI
            self.init_destination(assignment, student)
            self.run_pre_convert_hook()
            self.init_assignment(assignment, student)  # keeps the notebooks it knows
            self._sanitizing = True
            for notebook in self.notebooks:
                self._init_preprocessors()
                try:
                    BaseConverter.convert_single_notebook(self, notebook)
                except Exception as error:
                    raise _NotebookFailure(notebook, error) from error
            return [os.path.join(self.destination(student), os.path.basename(nb))
                    for nb in self.notebooks]

        def finish(self, student: str, notebooks: list[str], paths: list[str],
                   executed: Mapping[str, Any]) -> None:
            """The autograde pass on the executed notebooks: grades go into the gradebook."""
            assignment = self.coursedir.assignment_id
            self.notebooks = notebooks
            self._sanitizing = False
            try:
                with _environment(NBGRADER_EXECUTION="autograde"):
                    for path in paths:
                        self.executed = executed[path]
                        self._init_preprocessors()
                        try:
                            BaseConverter.convert_single_notebook(self, path)
                        except Exception as error:
                            raise _NotebookFailure(path, error) from error
            finally:
                self._sanitizing, self.executed = True, None
            self.set_permissions(assignment, student)
            self.run_post_convert_hook()

        def discard(self, student: str) -> None:
            """What nbgrader does with a failed submission's output: remove it."""
            dest = self.destination(student)
            if os.path.exists(dest):
                rmtree(dest)
            with suppress(OSError):  # and the student's folder, if nothing else is in it
                os.rmdir(os.path.dirname(dest))

    return CohortAutograde


class _NotebookFailure(Exception):
    def __init__(self, path: str, error: BaseException) -> None:
        super().__init__(f"{os.path.basename(path)}: {error}")
        self.path, self.error = path, error


def _describe_failure(failure: _NotebookFailure) -> str:
    from course.notebooks import NotebookError, read_notebook

    name = os.path.basename(failure.path)
    try:
        read_notebook(Path(failure.path))
    except NotebookError as error:
        detail = str(error).split("not a valid Jupyter notebook", 1)[-1].strip(" ()")
        detail = detail.split(": '", 1)[0][:120]  # not the file's contents
        return f"{NOT_A_NOTEBOOK}: {name}" + (f" ({detail})" if detail else "")
    return f"{failure_reason(failure.error)} ({name})"


# ---------------------------------------------------------------- the cohort


@dataclass
class _Submission:
    student: str
    outcome: Outcome
    student_existed: bool
    submission_existed: bool
    submitted: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    executed: dict[str, Any] = field(default_factory=dict)
    received: int = 0


class _Cohort:
    """The parent process: nbgrader's converter and the only gradebook writer."""

    def __init__(self, converter: Any, db_url: str, course_id: str,
                 notebook_points: Mapping[str, float], timeout: Any,
                 execute_unscored: bool = True) -> None:
        self.converter = converter
        self.db_url, self.course_id = db_url, course_id
        self.assignment = converter.coursedir.assignment_id
        self.notebook_points = notebook_points
        self.timeout = timeout
        self.execute_unscored = execute_unscored
        self.stop: StopSignals | None = None  # checked between two steps of a run
        self.ledger: Ledger | None = None  # students graded to the end (resume)
        self.outcomes: list[Outcome] = []  # concluded so far
        self.abandoned: list[Outcome] = []  # cut short by a stop request
        self.not_started = 0

    def gradebook(self) -> Any:
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.course_id)

    def _exists(self, gb: Any, finder: str, *args: str) -> bool:
        from nbgrader.api import MissingEntry

        try:
            getattr(gb, finder)(*args)
        except MissingEntry:
            return False
        return True

    def begin(self, student: str) -> _Submission:
        """Sanitize one student's notebooks (nbgrader's first pass) in this process."""
        with self.gradebook() as gb:
            sub = _Submission(student, Outcome(student),
                              self._exists(gb, "find_student", student),
                              self._exists(gb, "find_submission", self.assignment, student))
        sub.submitted = self.converter.submitted_notebooks(student)
        sub.outcome.notes += _duplicate_notes(sub.submitted)
        names = {Path(p).stem for p in sub.submitted}
        for path in sub.submitted:
            if Path(path).stem not in self.notebook_points:
                sub.outcome.notes.append(f"ignored {Path(path).name} (not a notebook of "
                                         f"{self.assignment})")
        for name, points in self.notebook_points.items():
            if name in names:
                continue
            if points > 0:
                sub.outcome.fail(f"missing notebook {name}.ipynb ({points:g} point(s) scored "
                                 "0, as nbgrader does)")
            else:
                sub.outcome.notes.append(f"missing {name}.ipynb (no points)")
        if not names & set(self.notebook_points):
            sub.outcome.reasons = [f"missing notebook(s): no notebook of {self.assignment} "
                                   "was submitted"]
            return sub
        try:
            sub.paths = self.converter.begin(student, sub.submitted)
        except _NotebookFailure as failure:
            sub.outcome.fail(_describe_failure(failure))
        except Exception as error:
            sub.outcome.fail(failure_reason(error))
        if not self.execute_unscored:
            self._skip_unscored(sub)
        return sub

    def _skip_unscored(self, sub: _Submission) -> None:
        """Opt-in: a notebook worth 0 points goes through the autograde pass unexecuted
        (its grades are 0 of 0 either way; its autograded copy has no outputs)."""
        import nbformat

        for path in sub.paths:
            if self.notebook_points.get(Path(path).stem, 0) == 0:
                sub.executed[path] = nbformat.read(path, as_version=4)
                sub.received += 1

    def to_execute(self, sub: _Submission) -> list[str]:
        return [path for path in sub.paths if path not in sub.executed]

    def record(self, sub: _Submission, path: str, result: _Result) -> None:
        sub.received += 1
        name = os.path.basename(path)
        if result.failure:
            sub.outcome.fail(f"{result.failure} ({name})")
            return
        sub.executed[path] = result.notebook
        for number in result.interrupted_cells:
            sub.outcome.notes.append(
                f"{name}: cell {number} ran past the {self.timeout} s limit and was "
                "interrupted (later cells ran; graded as nbgrader does)")

    def conclude(self, sub: _Submission) -> Outcome:
        """nbgrader's second pass (grades saved here), or clean up after a failure."""
        outcome = sub.outcome
        executed_all = sub.paths and len(sub.executed) == len(sub.paths)
        if executed_all and not any(not r.startswith("missing notebook ")
                                    for r in outcome.reasons):
            try:
                self.converter.finish(sub.student, sub.submitted, sub.paths, sub.executed)
            except _NotebookFailure as failure:
                outcome.fail(_describe_failure(failure))
            except Exception as error:
                outcome.fail(failure_reason(error))
            else:
                self._read_score(outcome)
                return outcome
        outcome.status = FAILED
        self.converter.discard(sub.student)
        outcome.notes.append(self._forget(sub))
        return outcome

    def _read_score(self, outcome: Outcome) -> None:
        with self.gradebook() as gb:
            submission = gb.find_submission(self.assignment, outcome.student)
            outcome.score = float(submission.score)
            outcome.max_score = float(submission.max_score)
            outcome.needs_manual_grade = bool(submission.needs_manual_grade)
            penalty = float(submission.late_submission_penalty or 0)
        if penalty:
            outcome.notes.append(f"late: penalty {penalty:g}")
        if outcome.needs_manual_grade:
            outcome.notes.append("needs manual grading")

    def _forget(self, sub: _Submission, gb: Any = None) -> str:
        """Leave no gradebook row that would export as a real zero; say what was done."""
        from nbgrader.api import MissingEntry

        if gb is None:
            with self.gradebook() as gb:
                return self._forget(sub, gb)
        try:
            submission = gb.find_submission(self.assignment, sub.student)
        except MissingEntry:
            return "no gradebook row"
        if sub.submission_existed:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.needs_manual_grade = True
            gb.db.commit()
            return "earlier grades kept, flagged for manual review"
        gb.remove_submission(self.assignment, sub.student)
        if not sub.student_existed and not gb.find_student(sub.student).submissions:
            gb.remove_student(sub.student)
        return "gradebook row removed"

    def run(self, students: Sequence[str], pool: _WorkerPool,
            progress: Progress | None) -> list[Outcome]:
        """Keep every worker fed. A student's notebooks all go to one worker, which runs
        them one after another in nbgrader's order; each student is concluded as soon as
        its last notebook is back."""
        waiting: deque[str] = deque(students)
        queued: dict[int, deque[_Task]] = {slot: deque() for slot in pool.slots}
        owner: dict[int, tuple[str, _Submission]] = {}
        outcomes: list[Outcome] = []
        self.outcomes = outcomes
        ids = itertools.count()
        failed = 0
        check = self.stop.check if self.stop is not None else (lambda: None)

        def conclude(sub: _Submission) -> None:
            nonlocal failed
            outcome = self.conclude(sub)
            if self.ledger is not None:
                self.ledger.record(outcome.student, outcome.status == GRADED)
            outcomes.append(outcome)
            failed += outcome.status == FAILED
            if progress:
                progress.update(len(outcomes), failed, force=True)

        def next_task(slot: int) -> _Task | None:
            if pool.returned[slot]:
                return pool.returned[slot].popleft()
            while not queued[slot] and waiting:
                check()  # never stop between a student's begin and its tasks
                sub = self.begin(waiting.popleft())
                if not self.to_execute(sub):
                    conclude(sub)
                    continue
                paths = self.to_execute(sub)
                for number, path in enumerate(paths, start=1):
                    task = _Task(next(ids), path, sub.student, number == len(paths))
                    owner[task.task_id] = (path, sub)
                    queued[slot].append(task)
            return queued[slot].popleft() if queued[slot] else None

        try:
            while waiting or owner:
                check()
                for slot in pool.slots:
                    while len(pool.held[slot]) < TASKS_PER_WORKER and (
                            task := next_task(slot)):
                        pool.assign(slot, task)
                if not owner:
                    continue
                result = pool.next_result(timeout=0.5)
                check()  # a worker stopped by the same signal is no failure of its student
                if progress:
                    progress.update(len(outcomes), failed)
                if result is None or result.task_id not in owner:
                    continue
                path, sub = owner.pop(result.task_id)
                self.record(sub, path, result)
                if sub.received == len(sub.paths):
                    conclude(sub)
        except BaseException:  # interrupted: half-graded students leave no rows either
            self.not_started = len(waiting)
            stopping = time.monotonic()
            pool.close(wait=0)  # first the workers, kernels and sandboxes; then the gradebook
            self.converter.log.info("workers stopped in %.1f s", time.monotonic() - stopping)
            self.abandon([sub for sub in {id(sub): sub for _path, sub in owner.values()}
                          .values()])
            raise
        return outcomes

    def abandon(self, subs: Sequence[_Submission]) -> None:
        """Clean up after students whose grading was cut short (one gradebook session);
        never raises."""
        started = time.monotonic()
        for sub in subs:
            outcome = sub.outcome
            outcome.status, outcome.score, outcome.max_score = FAILED, None, None
            outcome.reasons.append("interrupted: grading stopped before this student "
                                   "finished")
            self.abandoned.append(outcome)
        try:
            if self.ledger is not None:
                for sub in subs:
                    self.ledger.entries.pop(sub.student, None)
                self.ledger.save()
            with self.gradebook() as gb:
                for sub in subs:
                    self.converter.discard(sub.student)
                    sub.outcome.notes.append(self._forget(sub, gb))
        except Exception:
            self.converter.log.exception("could not clean up after %s",
                                         ", ".join(sub.student for sub in subs))
        self.converter.log.info("%d unfinished student(s) cleaned up in %.1f s", len(subs),
                                time.monotonic() - started)


def _duplicate_notes(paths: Sequence[str]) -> list[str]:
    """A note per notebook holding two copies of one cell (graded as
    course.grading.duplicate_cells decides; an unreadable notebook fails later, with its reason)."""
    from course.grading.duplicate_cells import duplicated_ids
    from course.notebooks import NotebookError, read_notebook

    notes = []
    for path in paths:
        try:
            twice = duplicated_ids(read_notebook(Path(path)))
        except (NotebookError, OSError, AttributeError, TypeError):
            continue
        notes += [f"{Path(path).name} holds {len(found)} copies of cell {grade_id}"
                  for grade_id, found in twice.items()]
    return notes


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
    _quiet_warnings()
    if not allow_unsandboxed:  # cohort grading runs untrusted code: never unsandboxed by default
        overrides.setdefault("SandboxedKernels", {})["sandbox"] = "require"
    with StopSignals() as stop, course_lock(_gradebook_lock(root, overrides), wait, stop), \
            _run_folder() as run_tmp, _environment(TMPDIR=str(run_tmp)):
        stop.check()
        with _WorkerPool(root, overrides, tuning) as pool:  # ready while this process sets up
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


def _grade(root: Path, assignment: str, pool: _WorkerPool, started: float, tuning: Tuning,
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
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
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
    intake = stage_submissions(coursedir, config, sorted(points), submissions, roster_ids)
    problems += intake.problems
    stop.check()
    students, skipped, ledger = _resume(coursedir, assignment, intake.students, autograded,
                                        regrade)
    notes = [*intake.notes, *([skipped_note(skipped)] if skipped else [])]
    converter = _converter_class()(coursedir=coursedir, config=config)
    converter.log = log
    converter.setup(assignment)
    execute_class = converter.execute_class()
    timeout = import_item(execute_class)(config=config).timeout
    cohort = _Cohort(converter, coursedir.db_url, coursedir.course_id, points, timeout,
                     execute_unscored)
    cohort.stop, cohort.ledger = stop, ledger
    if progress:
        progress.start(len(students))
    pool.configure(execute_class, log_path)
    try:
        with _working_directory(Path(coursedir.root)), warnings.catch_warnings():
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
