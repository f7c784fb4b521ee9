"""nbgrader's autograde, phase by phase, in the grading process (the only gradebook writer).

:func:`converter_class` is nbgrader's ``Autograde`` converter with its two passes
callable separately: the sanitize pass (:meth:`begin`) and, once a worker has executed
the notebooks, the autograde pass (:meth:`finish`). :class:`Cohort` drives them for every
student and keeps the workers fed (:meth:`Cohort.run`).
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from course.errors import GradingError
from course.grading.config import environment
from course.grading.outcome import FAILED, GRADED, Outcome, Progress
from course.grading.run_control import Ledger, StopSignals
from course.grading.workers import TASKS_PER_WORKER, Result, Task, WorkerPool, failure_reason

NOT_A_NOTEBOOK = "not a valid notebook"


# ---------------------------------------------------------------- nbgrader, phase by phase


@lru_cache(maxsize=1)
def converter_class() -> type:
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

    from course.grading.nbgrader_plugins import (
        compile_nbgrader_metadata_schema,
        share_gradebook_engines,
    )

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

        def setup(self) -> None:
            """What BaseConverter.start does before converting (always --force); the
            assignment is the course directory's (``CourseDirectory.assignment_id``)."""
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
                    raise NotebookFailure(notebook, error) from error
            return [os.path.join(self.destination(student), os.path.basename(nb))
                    for nb in self.notebooks]

        def finish(self, student: str, notebooks: list[str], paths: list[str],
                   executed: Mapping[str, Any]) -> None:
            """The autograde pass on the executed notebooks: grades go into the gradebook."""
            assignment = self.coursedir.assignment_id
            self.notebooks = notebooks
            self._sanitizing = False
            try:
                with environment(NBGRADER_EXECUTION="autograde"):
                    for path in paths:
                        self.executed = executed[path]
                        self._init_preprocessors()
                        try:
                            BaseConverter.convert_single_notebook(self, path)
                        except Exception as error:
                            raise NotebookFailure(path, error) from error
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


class NotebookFailure(Exception):
    def __init__(self, path: str, error: BaseException) -> None:
        super().__init__(f"{os.path.basename(path)}: {error}")
        self.path, self.error = path, error


def describe_failure(failure: NotebookFailure) -> str:
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
class Submission:
    student: str
    outcome: Outcome
    student_existed: bool
    submission_existed: bool
    submitted: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    executed: dict[str, Any] = field(default_factory=dict)
    received: int = 0


class Cohort:
    """The parent process: nbgrader's converter and the only gradebook writer."""

    def __init__(self, converter: Any, assignment: str, db_url: str, course_id: str,
                 notebook_points: Mapping[str, float], timeout: Any,
                 execute_unscored: bool = True, stop: StopSignals | None = None,
                 ledger: Ledger | None = None) -> None:
        self.converter = converter
        self.assignment = assignment
        self.db_url, self.course_id = db_url, course_id
        self.notebook_points = notebook_points
        self.timeout = timeout
        self.execute_unscored = execute_unscored
        self.stop = stop  # checked between two steps of a run
        self.ledger = ledger  # students graded to the end (resume)
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

    def begin(self, student: str) -> Submission:
        """Sanitize one student's notebooks (nbgrader's first pass) in this process."""
        with self.gradebook() as gb:
            sub = Submission(student, Outcome(student),
                              self._exists(gb, "find_student", student),
                              self._exists(gb, "find_submission", self.assignment, student))
        sub.submitted = self.converter.submitted_notebooks(student)
        sub.outcome.notes += duplicate_notes(sub.submitted)
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
        except NotebookFailure as failure:
            sub.outcome.fail(describe_failure(failure))
        except Exception as error:
            sub.outcome.fail(failure_reason(error))
        if not self.execute_unscored:
            self._skip_unscored(sub)
        return sub

    def _skip_unscored(self, sub: Submission) -> None:
        """Opt-in: a notebook worth 0 points goes through the autograde pass unexecuted
        (its grades are 0 of 0 either way; its autograded copy has no outputs)."""
        import nbformat

        for path in sub.paths:
            if self.notebook_points.get(Path(path).stem, 0) == 0:
                sub.executed[path] = nbformat.read(path, as_version=4)
                sub.received += 1

    def to_execute(self, sub: Submission) -> list[str]:
        return [path for path in sub.paths if path not in sub.executed]

    def record(self, sub: Submission, path: str, result: Result) -> None:
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

    def conclude(self, sub: Submission) -> Outcome:
        """nbgrader's second pass (grades saved here), or clean up after a failure."""
        outcome = sub.outcome
        executed_all = sub.paths and len(sub.executed) == len(sub.paths)
        if executed_all and not any(not r.startswith("missing notebook ")
                                    for r in outcome.reasons):
            try:
                self.converter.finish(sub.student, sub.submitted, sub.paths, sub.executed)
            except NotebookFailure as failure:
                outcome.fail(describe_failure(failure))
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

    def _forget(self, sub: Submission, gb: Any = None) -> str:
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

    def run(self, students: Sequence[str], pool: WorkerPool,
            progress: Progress | None) -> list[Outcome]:
        """Keep every worker fed. A student's notebooks all go to one worker, which runs
        them one after another in nbgrader's order; each student is concluded as soon as
        its last notebook is back."""
        waiting: deque[str] = deque(students)
        queued: dict[int, deque[Task]] = {slot: deque() for slot in pool.slots}
        owner: dict[int, tuple[str, Submission]] = {}
        outcomes: list[Outcome] = []
        self.outcomes = outcomes
        ids = itertools.count()
        failed = 0
        check = self.stop.check if self.stop is not None else (lambda: None)

        def conclude(sub: Submission) -> None:
            nonlocal failed
            outcome = self.conclude(sub)
            if self.ledger is not None:
                self.ledger.record(outcome.student, outcome.status == GRADED)
            outcomes.append(outcome)
            failed += outcome.status == FAILED
            if progress:
                progress.update(len(outcomes), failed, force=True)

        def next_task(slot: int) -> Task | None:
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
                    task = Task(next(ids), path, sub.student, number == len(paths))
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

    def abandon(self, subs: Sequence[Submission]) -> None:
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


def duplicate_notes(paths: Sequence[str]) -> list[str]:
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
