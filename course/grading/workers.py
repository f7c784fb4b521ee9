"""``course grade``'s worker processes: they execute notebooks and never open the gradebook.

The parent (:mod:`course.grading.phases`) sends each worker a student's sanitized
notebooks as :class:`Task` s; the worker runs nbgrader's Execute step on each, one fresh
kernel per notebook, in the student's own new sandbox, and sends back a :class:`Result`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import sys
import time
from collections import deque
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.errors import GradingError, InputError
from course.grading.config import load_config, main_thread, quiet_warnings

MAX_WORKERS = 64
WARM_AHEAD = 2  # kernels a worker starts ahead of the notebook it runs
TASKS_PER_WORKER = 1 + WARM_AHEAD  # one running, the others' kernels warming up
STOP_SECONDS = 1.0  # a terminated worker's time to stop its kernels before it is killed


# ---------------------------------------------------------------- workers


@dataclass(frozen=True)
class Tuning:
    """Speed options, each measured by ``benchmarks/grade_throughput.py``."""

    workers: int
    warm_kernels: bool = True   # start the next notebook's kernel while one runs
    kill_kernels: bool = True   # kill a kernel once its last cell replied
    fork_kernels: bool = True   # one sandbox per submission; its kernels forked by a zygote


@dataclass(frozen=True)
class Task:
    task_id: int
    path: str
    student: str
    last: bool  # the student's last notebook: its sandbox can go


@dataclass
class Result:
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


class Job:
    def __init__(self, task: Task) -> None:
        self.task = task
        self.nb: Any = None
        self.ep: Any = None
        self.km: Any = None
        self.submission: Any = None  # course.grading.zygote.SubmissionKernels, with fork_kernels
        self.error: BaseException | None = None


class NotebookRunner:
    """Executes sanitized notebooks with nbgrader's Execute preprocessor, one fresh kernel each."""

    def __init__(self, config: Any, execute_class: str, tuning: Tuning) -> None:
        from traitlets.utils.importstring import import_item

        self.config = config
        self.execute_class = import_item(execute_class)
        self.tuning = tuning
        self.log = logging.getLogger("course.grading.cohort.worker")
        self._submissions: dict[str, Any] = {}  # student -> SubmissionKernels

    def _submission(self, task: Task) -> Any:
        """The task's submission's own new sandbox (made at its first notebook)."""
        from course.grading.zygote import SubmissionKernels

        if task.student not in self._submissions:
            self._submissions[task.student] = SubmissionKernels(os.path.dirname(task.path))
        return self._submissions[task.student]

    def _release(self, job: Job) -> None:
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

    def prepare(self, task: Task) -> Job:
        """Read the notebook and, with warm kernels, start its kernel now."""
        import nbformat

        job = Job(task)
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

    def _start_kernel(self, job: Job) -> Any:
        """Start a kernel exactly as nbclient would for this notebook (name, cwd, args)."""
        from jupyter_core.utils import run_sync

        from course.grading.sandbox import new_kernel_manager

        ep = job.ep
        name = ep.kernel_name or job.nb.metadata.get("kernelspec", {}).get("name")
        km = new_kernel_manager(ep.kernel_manager_class, ep.config, name, job.submission)
        arguments = list(ep.extra_arguments)
        if (getattr(km, "ipykernel", False) and ep.ipython_hist_file
                and not any(a.startswith("--HistoryManager.hist_file") for a in arguments)):
            arguments.append(f"--HistoryManager.hist_file={ep.ipython_hist_file}")
        run_sync(km.start_kernel)(extra_arguments=arguments,
                                  cwd=os.path.dirname(job.task.path),
                                  **self._learner_env(job.task.student))
        return km

    @staticmethod
    def _learner_env(student: str) -> dict[str, Any]:
        """The kernel's ``env`` naming the student's learner, as the Execute step would."""
        from course.grading.nbgrader_plugins import learner_env
        from course.variants import graded_learner

        return {"env": learner_env(graded_learner(student))}

    def run(self, job: Job) -> Result:
        started = time.perf_counter()
        result = Result(job.task.task_id)
        try:
            if job.error is not None:
                raise job.error
            if job.km is None and self.tuning.kill_kernels:
                job.km = self._start_kernel(job)
            nb = job.nb
            if job.ep.enabled:
                resources = {"metadata": {"path": os.path.dirname(job.task.path)},
                             "nbgrader": {"student": job.task.student}}
                nb, _ = job.ep.preprocess(nb, resources, km=job.km)
            result.notebook = nb
            result.interrupted_cells = interrupted_cells(nb, job.ep.error_on_timeout)
        except Exception as error:
            result.failure = failure_reason(error)
        finally:
            self.dispose(job)
        result.seconds = time.perf_counter() - started
        return result

    def dispose(self, job: Job) -> None:
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


def interrupted_cells(nb: Any, error_on_timeout: Mapping[str, Any] | None) -> list[int]:
    """1-based numbers of the cells that timed out and were interrupted."""
    ename = (error_on_timeout or {}).get("ename")
    if not ename:
        return []
    return [number for number, cell in enumerate(nb.cells, start=1)
            if cell.cell_type == "code"
            and any(out.get("output_type") == "error" and out.get("ename") == ename
                    for out in cell.get("outputs", []))]


def serve(runner: NotebookRunner, inbox: Any, results: Any) -> None:
    """Run tasks from ``inbox`` until a ``None``; with warm kernels, prepare one ahead."""
    ahead: deque[Job] = deque()
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
class WorkerSettings:
    """What a worker learns once the parent has set up: sent as its first message."""

    execute_class: str
    log_path: str


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when the grading process dies, even by SIGKILL (the
    worker then stops its kernels and sandboxes, as when the parent closes the pool)."""
    with suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _take_parents_place(environ: Mapping[str, str], cwd: str) -> None:
    """Run with the environment and folder the grading process has now (TMPDIR: this
    run's folder), not those the fork server was started with (an earlier run's)."""
    import tempfile

    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    tempfile.tempdir = None  # found again from TMPDIR at its next use


def worker_main(root: str, overrides: Mapping[str, Any], tuning: Tuning,
                environ: Mapping[str, str], cwd: str, inbox: Any, results: Any) -> None:
    """A worker process: executes notebooks, never touches the gradebook.

    It starts while the parent sets up, so it loads nbgrader's configuration (and the
    modules that brings in) first, then waits for its settings.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, _exit_on_signal)
    _die_with_parent()
    _take_parents_place(environ, cwd)
    quiet_warnings()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it for the kernel
    try:
        config = load_config(Path(root), overrides)
        import nbclient  # noqa: F401  (loaded now, while the parent is still setting up)
    except Exception as error:  # the parent meets it too; reported in the log if not
        config, failed = None, error
    else:
        failed = None
    settings: WorkerSettings | None = inbox.get()
    if settings is None:  # the parent stopped before it was ready
        return
    log_fd = os.open(settings.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 1)  # this worker's chatter goes to the log; a sandboxed kernel never
    os.dup2(log_fd, 2)  # gets these, only a relay (course.grading.bwrap.OutputRelay)
    os.close(log_fd)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"[worker {os.getpid()}] %(levelname)s %(message)s")
    if failed is not None:
        raise failed
    runner = NotebookRunner(config, settings.execute_class, tuning)
    serve(runner, inbox, results)


PRELOADED = ["course.grading.workers", "course.grading.sandbox", "course.grading.zygote",
             "course.grading.nbgrader_plugins", "course.forms.feedback", "course.variants",
             "nbgrader.preprocessors", "nbclient", "jupyter_client"]
"""What the fork server imports once, so that no worker imports it again (about 1.5 CPU-s
each with ``spawn``). Nothing here starts a thread or reads a student's file."""


class WorkerPool:
    """Worker processes in numbered slots, each with its own inbox (worked in order).

    Workers start at once and get ready while the parent sets up; :meth:`configure`
    sends them what they need before the first task. They are forked from
    multiprocessing's fork server, a fresh Python that imported :data:`PRELOADED`, not
    from this process: a worker holds none of the parent's state (gradebook connections,
    threads, other runs' data), only what it is sent.
    """

    def __init__(self, root: Path, overrides: Mapping[str, Any], tuning: Tuning) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOADED)
        self._args = (str(root), {k: dict(v) for k, v in overrides.items()}, tuning)
        self._settings: WorkerSettings | None = None
        self._closed = False
        self._results = self._ctx.Queue()
        self._workers: dict[int, tuple[Any, Any]] = {}
        self.held: dict[int, deque[Task]] = {}
        self.returned: dict[int, deque[Task]] = {}
        self._lost: deque[Result] = deque()
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
        process = self._ctx.Process(target=worker_main,
                                    args=(*self._args, dict(os.environ), os.getcwd(), inbox,
                                          self._results),
                                    name=f"course-grade-worker-{slot}", daemon=True)
        before = signal.getsignal(signal.SIGINT) if main_thread() else None
        if before is not None:  # the fork server, started by the first worker, inherits it
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.start()
        finally:
            if before is not None:
                signal.signal(signal.SIGINT, before)
        self._workers[slot] = (process, inbox)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.close(wait=0 if kind else 15.0)  # interrupted or failed: stop the kernels now

    def configure(self, execute_class: str, log_path: Path) -> None:
        self._settings = WorkerSettings(execute_class, str(log_path))
        for _process, inbox in self._workers.values():
            inbox.put(self._settings)

    def assign(self, slot: int, task: Task) -> None:
        self.held[slot].append(task)
        self._workers[slot][1].put(task)

    def next_result(self, timeout: float) -> Result | None:
        if self._lost:
            return self._lost.popleft()
        try:
            result: Result = self._results.get(timeout=timeout)
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
                self._lost.append(Result(first.task_id, failure="grading worker stopped "
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
