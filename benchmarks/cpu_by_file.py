"""Benchmark: the CPU seconds each test file costs, with the suite's own workers.

The suite is CPU-bound on two cores (both busy ~95% of a ``make test`` run), so its wall
time falls only with less CPU work: this shows where that work is. It runs pytest with
the given arguments (``-n 2 --dist loadfile`` as ``make test`` does, unless you pass
your own ``-n``) with a plugin in every worker that samples, around each test (set-up,
call and tear-down), the CPU time of the worker's whole process tree: the worker, the
processes it has reaped (a grading run, nbgrader, pip) and the ones still running (a
JupyterLab server, Chromium, kernels; their CPU counts for the file during which it was
spent). A process that is not reaped by one of these (a daemon re-parented to init) is
missed; the machine's total busy CPU over the run is printed beside the sum to show how
much was seen. A session fixture's set-up counts for the first file that needs it.
Prints figures; it is not a test.

Usage (on a quiet machine; the whole suite takes as long as ``make test``):
    python benchmarks/cpu_by_file.py tests
    python benchmarks/cpu_by_file.py tests/browser -n 1
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

OUT_ENV = "COURSE_CPU_BY_FILE_DIR"


def tree_cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of ``process``, its reaped children and every live descendant
    (with the children each of those has reaped)."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.Error:  # ended between the listing and the reading
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class CpuByFile:
    """A pytest plugin adding each test's CPU (whole process tree) and wall seconds to
    its file; written as JSON at the end of the session when ``OUT_ENV`` names a folder."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.cpu: Counter[str] = Counter()
        self.wall: Counter[str] = Counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        file = item.nodeid.split("::")[0]
        cpu, wall = tree_cpu_seconds(self.process), time.monotonic()
        yield
        self.cpu[file] += tree_cpu_seconds(self.process) - cpu
        self.wall[file] += time.monotonic() - wall

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        folder = os.environ.get(OUT_ENV)
        if folder:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            Path(folder, f"{worker}.json").write_text(
                json.dumps({"cpu": self.cpu, "wall": self.wall}), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    """Loaded with ``-p cpu_by_file`` (this folder on PYTHONPATH): one plugin per worker."""
    if os.environ.get(OUT_ENV):
        config.pluginmanager.register(CpuByFile(), "cpu-by-file")


def _table(folder: Path) -> list[tuple[str, float, float]]:
    cpu: Counter[str] = Counter()
    wall: Counter[str] = Counter()
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        cpu.update(data["cpu"])
        wall.update(data["wall"])
    return sorted(((file, cpu[file], wall[file]) for file in cpu), key=lambda row: -row[1])


def main(arguments: list[str]) -> int:
    if not any(a == "-n" or a.startswith("-n") or a.startswith("--numprocesses")
               for a in arguments):
        arguments = ["-n", "2", "--dist", "loadfile", *arguments]
    root = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="cpu-by-file-") as folder:
        env = {**os.environ, OUT_ENV: folder,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                           os.environ.get("PYTHONPATH")]))}
        machine, started = psutil.cpu_times(), time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "cpu_by_file", "-q",
                               *arguments], env=env, check=False)
        after, wall = psutil.cpu_times(), time.monotonic() - started
        busy = (sum(after) - after.idle - after.iowait) - (
            sum(machine) - machine.idle - machine.iowait)
        rows = _table(Path(folder))
    seen = sum(row[1] for row in rows)
    print(f"\n{'CPU s':>8} {'wall s':>8}  test file")
    for file, cpu, file_wall in rows:
        print(f"{cpu:8.1f} {file_wall:8.1f}  {file}")
    print(f"{seen:8.1f} {'':8}  all files (CPU seen in the workers' process trees)")
    print(f"{busy:8.1f} {wall:8.1f}  the machine: busy CPU and wall seconds of the run "
          f"({psutil.cpu_count()} CPUs)")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
