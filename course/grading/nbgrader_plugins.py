"""nbgrader/nbconvert preprocessors the course adds to nbgrader's pipeline."""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool, Integer

from course.grading.sandbox import SandboxedKernels
from course.grading.trusted_tests import PROBE_MIME, is_test_cell
from course.variants import LEARNER_ENV, graded_learner

SHARED_ENGINES = 4  # databases whose engine is kept (connections pooled) at a time
MAX_CELL_OUTPUT_BYTES = 1024**2       # defaults of LimitOutputBytes (nbgrader_config.py)
MAX_NOTEBOOK_OUTPUT_BYTES = 8 * 1024**2
CUT_NOTE = re.compile(r"\A\n?\[Output cut by the course's grading limits: ")

__all__ = ["CompiledSchemas", "ExecuteWithTrustedTests", "LimitOutputBytes",
           "ShortenTestTracebacks", "compile_nbgrader_metadata_schema", "is_test_cell",
           "learner_env", "learner_of", "limit_outputs", "output_bytes",
           "share_gradebook_engines"]


class CompiledSchemas:
    """Stands in for the ``jsonschema`` module inside ``nbgrader.nbgraderformat.common``.

    nbgrader checks every cell's nbgrader metadata with ``jsonschema.validate(meta,
    schema)``, which checks and compiles the schema again for each cell: about a fifth of
    ``course grade``'s own CPU. :meth:`validate` does the same check, raising the same
    error (``best_match``), with each schema checked and compiled once.
    """

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._compiled: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def validate(self, instance: Any, schema: Any, cls: Any = None, *args: Any,
                 **kwargs: Any) -> None:
        if cls is not None or args or kwargs:
            return self._module.validate(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True)
        validator = self._compiled.get(key)
        if validator is None:
            cls = self._module.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._compiled[key] = cls(schema)
        error = self._module.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error
        return None


def share_gradebook_engines() -> None:
    """In this process, every nbgrader ``Gradebook`` for one database URL uses one
    SQLAlchemy engine.

    nbgrader opens a new Gradebook, with a new engine, for nearly every step of every
    notebook, so SQLAlchemy compiles each query again each time (about a fifth of
    ``course grade``'s own CPU). A shared engine keeps its compiled queries;
    ``Gradebook.close`` still disposes of its connections, as before. The queries,
    sessions and commits are nbgrader's own.
    """
    from nbgrader import api

    if getattr(api.create_engine, "shared_by_course", False):
        return
    original = api.create_engine
    engines: OrderedDict[tuple, Any] = OrderedDict()

    def create_engine(url: Any, *args: Any, **kwargs: Any) -> Any:
        key = (str(url), args, tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = original(url, *args, **kwargs)
            while len(engines) > SHARED_ENGINES:  # a Gradebook still using it reconnects
                engines.popitem(last=False)[1].dispose()
        engines.move_to_end(key)
        return engines[key]

    create_engine.shared_by_course = True  # type: ignore[attr-defined]
    api.create_engine = create_engine


def compile_nbgrader_metadata_schema() -> CompiledSchemas:
    """Make nbgrader's metadata checks in this process use :class:`CompiledSchemas`."""
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, CompiledSchemas):
        common.jsonschema = CompiledSchemas(common.jsonschema)
    return common.jsonschema


class ShortenTestTracebacks(Preprocessor):
    """Reduce every error in a test cell to one line: its exception type and message.

    A full traceback quotes the failing line of the test, which may be a hidden test.
    The learner keeps the teaching message of the assertion and nothing else.
    """

    # nbconvert preprocessors are off by default; this one must always run.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if is_test_cell(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = str(output.get("evalue", "")).strip()
                    summary = output.get("ename", "Error")
                    output["traceback"] = [f"{summary}: {message}" if message else summary]
        return cell, resources


# ---------------------------------------------------------------- output bytes


def _text_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sum(_text_bytes(v) for v in value)
    return len(json.dumps(value, default=str).encode("utf-8", "surrogatepass"))


def output_bytes(output: NotebookNode) -> int:
    """Bytes an output takes in the notebook: its text, data, or error message."""
    kind = output.get("output_type")
    if kind == "stream":
        return _text_bytes(output.get("text", ""))
    if kind == "error":
        return sum(_text_bytes(output.get(key, "")) for key in ("ename", "evalue", "traceback"))
    return sum(_text_bytes(value) for value in output.get("data", {}).values())


def is_cut_note(output: NotebookNode) -> bool:
    return (output.get("output_type") == "stream"
            and CUT_NOTE.match(str(output.get("text", ""))) is not None)


def cut_note(produced: int, kept: int, cell_limit: int, notebook_limit: int) -> NotebookNode:
    """The visible note that ends a cell whose outputs were cut."""
    return NotebookNode(output_type="stream", name="stdout", text=(
        f"\n[Output cut by the course's grading limits: this cell's output came to "
        f"{produced:,} bytes; the first {kept:,} are kept (at most {cell_limit:,} bytes "
        f"per cell and {notebook_limit:,} per notebook).]\n"))


def _head(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 form fits in ``limit`` bytes."""
    return text.encode("utf-8", "surrogatepass")[:max(0, limit)].decode("utf-8", "ignore")


def _shortened(output: NotebookNode, room: int) -> NotebookNode | None:
    """``output`` cut to ``room`` bytes: text is cut, an error keeps its name and the
    start of its message, other data (images, HTML) is left out whole."""
    kind = output.get("output_type")
    if kind == "stream" and room > 0:
        text = output.get("text", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        return NotebookNode(output_type="stream", name=output.get("name", "stdout"),
                            text=_head(text, room))
    if kind == "error":
        ename = _head(str(output.get("ename", "Error")), 200)
        evalue = _head(str(output.get("evalue", "")), max(0, room - len(ename)))
        return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                            traceback=[f"{ename}: {evalue}"])
    return None


def limit_outputs(outputs: Iterable[NotebookNode], room: int
                  ) -> tuple[list[NotebookNode], int, int]:
    """The outputs that fit in ``room`` bytes (the first one that does not is cut, the
    rest left out), the bytes produced and the bytes kept. Earlier cut notes are dropped
    and not counted."""
    kept: list[NotebookNode] = []
    produced = used = 0
    for output in outputs:
        if is_cut_note(output):
            continue
        size = output_bytes(output)
        produced += size
        if used + size <= room:
            kept.append(output)
            used += size
        elif used < room or output.get("output_type") == "error":
            short = _shortened(output, room - used)
            if short is not None:
                kept.append(short)
                used += output_bytes(short)
            room = used  # nothing more fits
    return kept, produced, used


class LimitOutputBytes(Preprocessor):
    """Cap the bytes of outputs per cell and per notebook, with a visible note.

    nbgrader's LimitOutput counts lines: one ``print`` of 60 MB is one line. This step
    counts bytes (text, data, error messages): a cell keeps at most ``max_cell_bytes``,
    a notebook ``max_notebook_bytes``; a cell that went over ends with a note that says
    so. Outputs of graded cells (the instructor's tests) are counted but never changed,
    so no grade changes. Placed in ``Autograde.autograde_preprocessors``
    (``nbgrader_config.py``): ``nbgrader autograde``, ``course check`` and ``course
    grade`` all use it; ``course grade`` also cuts outputs as they arrive (in
    :class:`ExecuteWithTrustedTests`), so a flood never fills a worker's memory.
    """

    enabled = Bool(True).tag(config=True)
    max_cell_bytes = Integer(MAX_CELL_OUTPUT_BYTES, help="bytes of outputs kept per cell "
                             "(-1: no limit)").tag(config=True)
    max_notebook_bytes = Integer(MAX_NOTEBOOK_OUTPUT_BYTES, help="bytes of outputs kept "
                                 "per notebook (-1: no limit)").tag(config=True)

    def limits(self) -> tuple[int, int]:
        big = 1 << 62
        return (big if self.max_cell_bytes < 0 else self.max_cell_bytes,
                big if self.max_notebook_bytes < 0 else self.max_notebook_bytes)

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        cell_limit, notebook_limit = self.limits()
        total = 0
        for cell in nb.cells:
            if cell.get("cell_type") != "code" or not cell.get("outputs"):
                continue
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                total += sum(output_bytes(o) for o in cell.outputs if not is_cut_note(o))
                continue
            room = max(0, min(cell_limit, notebook_limit - total))
            kept, produced, used = limit_outputs(cell.outputs, room)
            noted = any(is_cut_note(o) for o in cell.outputs)
            if produced > used or noted:
                before = _arrived_bytes(cell)
                kept.append(cut_note(max(produced, before), used, cell_limit,
                                     notebook_limit))
            cell.outputs = kept
            total += used
        return nb, resources


def _arrived_bytes(cell: NotebookNode) -> int:
    """Bytes a cell produced before it was cut on arrival (from its earlier note)."""
    for output in cell.get("outputs", []):
        if is_cut_note(output):
            found = re.search(r"came to ([\d,]+) bytes", str(output.get("text", "")))
            if found:
                return int(found.group(1).replace(",", ""))
    return 0


# ---------------------------------------------------------------- the graded learner


def learner_of(resources: Any) -> str | None:
    """The learner nbgrader is grading (``resources['nbgrader']['student']``, through
    :func:`course.variants.graded_learner`), or None when the resources do not say."""
    student = ((resources or {}).get("nbgrader") or {}).get("student")
    return graded_learner(student) if isinstance(student, str) and student.strip() else None


def learner_env(learner: str | None, env: Any = None) -> dict[str, str] | None:
    """A grading kernel's environment naming ``learner`` (:data:`LEARNER_ENV`), so the
    numbers its notebook shows are that learner's; None (the default) for no learner."""
    if learner is None:
        return None
    return {**(os.environ if env is None else env), LEARNER_ENV: learner}


def _execute_base() -> type:
    from nbgrader.preprocessors import Execute

    return Execute


class ExecuteWithTrustedTests(SandboxedKernels, _execute_base()):
    """nbgrader's Execute, with every test cell run outside the learner's kernel,
    and the learner's kernel in the bubblewrap sandbox (course.grading.sandbox) where it can run.

    See :mod:`course.grading.trusted_tests`: the kernel only publishes the answers; the tests
    run here, on plain data. Configured in ``nbgrader_config.py`` as the Execute step of
    ``Autograde.autograde_preprocessors``, so ``nbgrader autograde``, ``course check`` and
    ``course grade`` all grade this way.

    Outputs are cut as they arrive (:class:`LimitOutputBytes`' per-cell limit): a cell
    keeps what fits and ends with a note; a test cell keeps only its probe's answers
    (the test's own outputs replace them), so a flood of output never fills memory.

    The learner being graded (:func:`learner_of` the resources nbgrader passes) is the
    tests' ``LEARNER_ID`` and is named in the environment of the kernel this step
    starts (:func:`learner_env`): per-learner variants (course.variants) are checked and
    shown with that learner's numbers.
    """

    _learner: str | None = None

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        env = learner_env(self._learner, kwargs.get("env"))
        if env is not None:
            kwargs["env"] = env
        await super().async_start_new_kernel(**kwargs)

    def start_new_kernel(self, **kwargs: Any) -> None:
        from jupyter_core.utils import run_sync

        run_sync(self.async_start_new_kernel)(**kwargs)

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        from course.grading.trusted_tests import (
            insert_probes,
            restore_sources,
            run_tests_outside_kernel,
        )

        self._learner = learner_of(resources)
        probed = insert_probes(nb)
        self._cell_limit, self._notebook_limit = LimitOutputBytes(parent=self).limits()
        # cell -> (bytes produced, bytes kept, outputs kept, full)
        self._arrived: dict[int, tuple[int, int, int, bool]] = {}
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        finally:
            restore_sources(nb, probed)
            for index, (produced, kept, _count, _full) in self._arrived.items():
                if produced > kept:
                    nb.cells[index].outputs.append(cut_note(
                        produced, kept, self._cell_limit, self._notebook_limit))
        run_tests_outside_kernel(nb, probed, self._learner)
        return nb, resources

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int
               ) -> NotebookNode | None:
        """nbclient's output handler, within the per-cell byte limit."""
        arrived = getattr(self, "_arrived", None)
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or arrived is None or not outs or outs[-1] is not out:
            return out
        if is_test_cell(self.nb.cells[cell_index]):  # only the probe's answers matter
            probes = [o for o in outs if PROBE_MIME in o.get("data", {})]
            if PROBE_MIME not in out.get("data", {}) or len(probes) > 2:
                self._drop_last(outs, display_id, cell_index)  # two probes already mean
            return out                                         # "tampered": no answers
        produced, kept, count, full = arrived.get(cell_index, (0, 0, 0, False))
        if len(outs) - 1 < count:  # clear_output emptied the cell: count afresh
            produced, kept, count, full = 0, 0, 0, False
        size = output_bytes(out)
        produced += size
        if not full and kept + size <= self._cell_limit:
            kept += size
            count += 1
        else:
            self._drop_last(outs, display_id, cell_index)
            short = None if full else _shortened(out, self._cell_limit - kept)
            if short is not None:
                outs.append(short)
                kept += output_bytes(short)
                count += 1
            full = True
        arrived[cell_index] = (produced, kept, count, full)
        return out

    def _drop_last(self, outs: list, display_id: str | None, cell_index: int) -> None:
        """Remove the output just added, and nbclient's record of where it was."""
        outs.pop()
        if display_id:
            places = self._display_id_map.get(display_id, {}).get(cell_index, [])
            if len(outs) in places:
                places.remove(len(outs))
