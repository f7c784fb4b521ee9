"""One ``course grade`` run: safe to interrupt, one at a time per gradebook, resumable.

- **Signals.** While a run grades, SIGINT (Ctrl-C), SIGTERM and SIGHUP only *ask* it to
  stop (:class:`StopSignals`); the run acts on the request between two steps, never in
  the middle of writing the gradebook. It then kills its workers and their sandboxes,
  removes the students it had not finished (no empty-score row: a new submission row is
  removed, an earlier one keeps its grades, flagged for review), writes the status file
  for the students it finished and raises :class:`GradingInterrupted`, whose message
  says what was kept. The exit code is 128 + the signal number (130 for Ctrl-C, 143 for
  SIGTERM), as a shell reports a process stopped by a signal.
- **Lock.** :func:`course_lock` takes an exclusive ``flock`` on a file beside the
  gradebook (``gradebook.db-course-grade.lock``, git-ignored with ``gradebook.db-*``) for
  the whole run. A second run on the same gradebook refuses at once with one line, or
  with ``--wait`` waits its turn (a signal still stops the wait).
- **Resume.** :class:`Ledger` (``autograded/<assignment>.grading-done.json``) records, for
  each student graded to the end, a fingerprint of the submitted files (their
  ``timestamp.txt`` included) and of the released notebooks. A later run skips a student
  whose fingerprint is unchanged and whose submission is still in the gradebook, so a run
  after an interrupt grades only what is missing; ``--regrade`` grades everyone again. A
  new upload, a new ``timestamp.txt`` or a new release changes the fingerprint.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from course.errors import GradingError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LOCK_NAME = "-course-grade.lock"
LOCK_POLL_SECONDS = 0.25


class GradingInterrupted(KeyboardInterrupt):
    """A signal stopped the run; ``str()`` says what was kept."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message or f"stopped by {signal_name(signum)} before grading "
                                    "began: nothing was graded")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    with contextlib.suppress(ValueError):
        return signal.Signals(signum).name
    return f"signal {signum}"


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP stop the run: at once (GradingInterrupted from the
    handler) until :meth:`defer` is called -- nothing has been changed yet -- then as a
    request that :meth:`check` acts on between two steps.

    Installed only in the main thread (signal handlers live there); elsewhere it does
    nothing and :meth:`check` never raises.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.deferred = False
        self._before: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._before[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._before.items():
            signal.signal(number, handler)
        self._before.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if not self.deferred:
            raise GradingInterrupted(signum)

    def defer(self) -> None:
        """From now on a signal is a request, acted on at the next :meth:`check`."""
        self.deferred = True
        self.check()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def check(self) -> None:
        """Raise GradingInterrupted when a stop was asked for."""
        if self.signum is not None:
            raise GradingInterrupted(self.signum)


# ---------------------------------------------------------------- lock


def lock_path(db_url: str, fallback_folder: Path) -> Path:
    """The lock file of a gradebook: beside an SQLite file, else in ``fallback_folder``."""
    prefix = "sqlite:///"
    if db_url.startswith(prefix) and db_url[len(prefix):] not in ("", ":memory:"):
        database = Path(db_url[len(prefix):])
        return database.with_name(database.name + LOCK_NAME)
    return fallback_folder / f".gradebook{LOCK_NAME}"


@contextlib.contextmanager
def course_lock(path: Path, wait: bool = False, stop: StopSignals | None = None
                ) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the ``with`` block.

    Held by another process: GradingError at once, or with ``wait`` a wait until it is
    free (``stop`` may end the wait with GradingInterrupted). The lock goes with the
    process, even a killed one (``flock``).
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    handle.seek(0)
                    holder = " ".join(handle.read(200).split()) or "another process"
                    raise GradingError(
                        f"another `course grade` is grading with this gradebook ({holder}; "
                        f"lock {path}): wait for it to finish, or pass --wait to start "
                        "when it has") from None
                if stop is not None:
                    stop.check()
                time.sleep(LOCK_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock; the file stays (removing it would race)


# ---------------------------------------------------------------- resume


def fingerprint(submitted: Path, release: Path) -> str:
    """SHA-256 of a student's submitted folder (names and contents, ``timestamp.txt``
    included) and of the released notebooks it is graded against."""
    digest = hashlib.sha256()
    for label, folder in (("submitted", submitted), ("release", release)):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) \
            if folder.is_dir() else []
        for path in files:
            if label == "release" and path.suffix != ".ipynb":
                continue
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class Ledger:
    """Students graded to the end, with the fingerprint they were graded from."""

    def __init__(self, path: Path, fingerprints: Mapping[str, str]) -> None:
        self.path = path
        self.fingerprints = dict(fingerprints)
        self.entries = self._read()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or damaged: grade everyone
            return {}
        entries = data.get("graded") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, str)}

    def done(self, students: Sequence[str], in_gradebook: set[str]) -> list[str]:
        """Those already graded from the very same files (and still in the gradebook)."""
        return [s for s in students if s in in_gradebook and s in self.fingerprints
                and self.entries.get(s) == self.fingerprints[s]]

    def record(self, student: str, graded: bool) -> None:
        """After a student: remember a graded one, forget any other; saved at once."""
        if graded and student in self.fingerprints:
            self.entries[student] = self.fingerprints[student]
        elif self.entries.pop(student, None) is None:
            return
        self.save()

    def save(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"graded": dict(sorted(self.entries.items()))},
                                        indent=1), encoding="utf-8")
        os.replace(temporary, self.path)


def skipped_note(skipped: Sequence[str]) -> str:
    names = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5
                                      else "")
    return (f"{len(skipped)} student(s) skipped, already graded from the same submission "
            f"and release: {names} (--regrade grades them again)")


def interrupt_message(signum: int, graded: int, failed: int, cleaned: Mapping[str, int],
                      not_started: int, status_file: Path | None) -> str:
    """What a stopped run kept, in one paragraph for the terminal."""
    parts = [f"{graded} graded and saved" + (f", {failed} failed" if failed else "")]
    removed = cleaned.get("removed", 0)
    kept = cleaned.get("kept", 0)
    if removed:
        parts.append(f"{removed} in progress left no gradebook row")
    if kept:
        parts.append(f"{kept} in progress kept their earlier grades, flagged for review")
    if not_started:
        parts.append(f"{not_started} not started")
    where = f" Status file: {status_file}." if status_file else ""
    return (f"stopped by {signal_name(signum)}: {'; '.join(parts)}.{where} Run the same "
            "command again to grade only what is missing.")
