"""nbgrader/nbconvert preprocessors the course adds to nbgrader's pipeline."""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

from course.sandbox import SandboxedKernels


def is_test_cell(cell: NotebookNode) -> bool:
    """A graded cell that is not a solution: an autograder test cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get(
        "solution"
    )


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
