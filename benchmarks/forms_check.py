"""Benchmark: "Check my answers" on the quiz of module 1, as the in-notebook button runs it.

Copies the course (source/ and nbgrader_config.py) to a temporary folder, releases and
starts 01-principles, answers the quiz with the key (so every item's rationale prints),
then times :func:`course.check_service.check_notebook` -- what ``POST /course/check``
runs for the toolbar button: the first check (which generates the assignment into a
throwaway course, kept while source/ is unchanged) and the following ones. Prints the
figures; it is not a test. Target: a check in at most 5 s on 2 cores.

Usage:
    python benchmarks/forms_check.py        # 1 cold + 5 warm checks
    python benchmarks/forms_check.py 10     # 1 cold + 10 warm checks
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT, NOTEBOOK = "01-principles", "03-quiz"


def _answer_with_key(learner: Path, source: Path) -> None:
    """Write the source's solutions into the learner copy's answer cells."""
    keys = {}
    for cell in nbformat.read(source, as_version=4).cells:
        if "### BEGIN SOLUTION" in cell.source:
            region = cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION")[0]
            for name, value in re.findall(r"(?m)^(answer_\w+)\s*=\s*(.+)$", region):
                keys[name] = value
    nb = nbformat.read(learner, as_version=4)
    for cell in nb.cells:
        for name, value in keys.items():
            if cell.cell_type == "code" and cell.source.startswith(f"{name} = None"):
                cell.source = f"{name} = {value}"
    nbformat.write(nb, learner)


def main(rounds: int) -> None:
    from course.check_service import check_notebook
    from course.grading.assignments import ensure_tools_on_path, generate_release, start_assignments

    ensure_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="forms-check-") as folder:
        root = Path(folder)
        shutil.copytree(ROOT / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
        shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        os.environ["COURSE_ROOT"] = str(root)
        generate_release(root, [ASSIGNMENT])
        start_assignments(root, [ASSIGNMENT])
        path = f"assignments/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
        _answer_with_key(root / path, root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        times = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            result = check_notebook(root, path)
            times.append(time.perf_counter() - started)
        cold, warm = times[0], times[1:]
    print(f"check of {ASSIGNMENT}/{NOTEBOOK} ({len(result['items'])} items, score "
          f"{result['score']:g} of {result['max_score']:g}) on {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}:")
    print(f"  first check (generates the assignment): {cold:.2f} s")
    print(f"  later checks: median {statistics.median(warm):.2f} s, "
          f"max {max(warm):.2f} s over {len(warm)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
