"""What ``course grade`` reports: each student's outcome, the status table and file, progress."""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

GRADED, FAILED = "graded", "failed"


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
