"""nbgrader/nbconvert preprocessors the course adds to nbgrader's pipeline."""

from __future__ import annotations

import json
from collections import OrderedDict
from types import ModuleType
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

from course.sandbox import SandboxedKernels
from course.trusted_tests import is_test_cell

SHARED_ENGINES = 4  # databases whose engine is kept (connections pooled) at a time

__all__ = ["CompiledSchemas", "ExecuteWithTrustedTests", "ShortenTestTracebacks",
           "compile_nbgrader_metadata_schema", "is_test_cell", "share_gradebook_engines"]


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


def _execute_base() -> type:
    from nbgrader.preprocessors import Execute

    return Execute


class ExecuteWithTrustedTests(SandboxedKernels, _execute_base()):
    """nbgrader's Execute, with every test cell run outside the learner's kernel,
    and the learner's kernel in the bubblewrap sandbox (course.sandbox) where it can run.

    See :mod:`course.trusted_tests`: the kernel only publishes the answers; the tests
    run here, on plain data. Configured in ``nbgrader_config.py`` as the Execute step of
    ``Autograde.autograde_preprocessors``, so ``nbgrader autograde``, ``course check`` and
    ``course grade`` all grade this way.
    """

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        from course.trusted_tests import insert_probes, restore_sources, run_tests_outside_kernel

        probed = insert_probes(nb)
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        finally:
            restore_sources(nb, probed)
        run_tests_outside_kernel(nb, probed)
        return nb, resources
