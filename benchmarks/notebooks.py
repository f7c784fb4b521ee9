"""Benchmark: seconds to execute each source notebook headless, and cold `import course`.

Targets (2 cores): each notebook ≤ 5 s; `import course` ≤ 0.3 s. Prints figures; it is
not a pass/fail test. Run with `make benchmark` or `python benchmarks/notebooks.py`.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_TARGET_S = 5.0
IMPORT_TARGET_S = 0.3


def time_notebook(path: Path) -> float:
    """Wall-clock seconds to start a kernel and run every cell of a notebook."""
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - started


def time_import(module: str, runs: int = 5) -> float:
    """Median extra seconds a fresh interpreter needs to import ``module``.

    The interpreter runs no ``.pth`` file (``-S``, the course and site-packages on
    PYTHONPATH): the course's start-up hook would otherwise import the course first.
    """
    import os
    import sysconfig

    path = os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]])
    env = {**os.environ, "PYTHONPATH": path}

    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-S", "-c", code], check=True, env=env)
        return time.perf_counter() - started

    base = statistics.median(run("pass") for _ in range(runs))
    return max(0.0, statistics.median(run(f"import {module}") for _ in range(runs)) - base)


def main() -> None:
    import os

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    for module in ("course", "course.lesson"):
        seconds = time_import(module)
        flag = "ok" if seconds <= IMPORT_TARGET_S else "OVER TARGET"
        print(f"import {module:<16} {seconds:6.3f} s  (target ≤ {IMPORT_TARGET_S} s) {flag}")
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        seconds = time_notebook(path)
        flag = "ok" if seconds <= NOTEBOOK_TARGET_S else "OVER TARGET"
        name = f"{path.parent.name}/{path.name}"
        print(f"{name:<55} {seconds:6.2f} s  (target ≤ {NOTEBOOK_TARGET_S} s) {flag}")


if __name__ == "__main__":
    main()
