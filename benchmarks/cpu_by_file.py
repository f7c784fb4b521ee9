"""Benchmark: the CPU seconds each test file costs.

The suite is CPU-bound on two cores (both busy ~95% of a ``make test`` run), so its wall
time falls only with less CPU work: this shows where that work is. It runs pytest with
the given arguments and a plugin that samples, around each test (set-up, call and
tear-down), two measures and adds them to the test's file:

- ``machine``: the whole machine's busy CPU. Complete, but only meaningful when the
  tests run one at a time on an otherwise quiet machine: the default here (``-n 0``,
  about twice ``make test``'s wall time).
- ``tree``: the CPU of the pytest process's tree: itself, the processes it has reaped and
  the ones still running (their CPU counts for the file during which it was spent). It
  can be split between xdist workers (pass ``-n 2 --dist loadfile``) but misses what is
  not reaped through the tree: Chromium's renderers are not (a renderer's CPU vanishes
  from the tree when the browser closes), so it undercounts the browser tests.

A session fixture's set-up counts for the first file that needs it. Prints figures; it
is not a test.

Usage (on a quiet machine):
    python benchmarks/cpu_by_file.py                       # the whole suite, one process
    python benchmarks/cpu_by_file.py tests/browser -n 2 --dist loadfile
    python benchmarks/cpu_by_file.py tests/browser --by-test  # a row per test
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
BY_TEST_ENV = "COURSE_CPU_BY_TEST"
"""Set (by ``--by-test``): each test is its own row instead of adding to its file's."""


def machine_busy_seconds() -> float:
    """The machine's CPU seconds spent on anything but idling, since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


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
    """A pytest plugin adding each test's machine and tree CPU and wall seconds to its
    file; written as JSON at the end of the session when ``OUT_ENV`` names a folder."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.machine: Counter[str] = Counter()
        self.tree: Counter[str] = Counter()
        self.wall: Counter[str] = Counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        file = item.nodeid if os.environ.get(BY_TEST_ENV) else item.nodeid.split("::")[0]
        machine, tree = machine_busy_seconds(), tree_cpu_seconds(self.process)
        wall = time.monotonic()
        yield
        self.machine[file] += machine_busy_seconds() - machine
        self.tree[file] += tree_cpu_seconds(self.process) - tree
        self.wall[file] += time.monotonic() - wall

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        folder = os.environ.get(OUT_ENV)
        if folder:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            Path(folder, f"{worker}.json").write_text(json.dumps(
                {"machine": self.machine, "tree": self.tree, "wall": self.wall}),
                encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    """Loaded with ``-p cpu_by_file`` (this folder on PYTHONPATH): one plugin per worker."""
    if os.environ.get(OUT_ENV):
        config.pluginmanager.register(CpuByFile(), "cpu-by-file")


def _table(folder: Path) -> tuple[list[tuple[str, float, float, float]], int]:
    """(file, machine CPU, tree CPU, wall) rows, most machine CPU first; the worker count."""
    totals: dict[str, Counter[str]] = {"machine": Counter(), "tree": Counter(),
                                       "wall": Counter()}
    workers = list(folder.glob("*.json"))
    for path in workers:
        data = json.loads(path.read_text(encoding="utf-8"))
        for measure, counter in totals.items():
            counter.update(data[measure])
    rows = [(file, totals["machine"][file], totals["tree"][file], totals["wall"][file])
            for file in totals["wall"]]
    return sorted(rows, key=lambda row: (-row[1], -row[2])), len(workers)


def main(arguments: list[str]) -> int:
    by_test = "--by-test" in arguments
    arguments = [a for a in arguments if a != "--by-test"]
    if not any(a == "-n" or a.startswith("-n") or a.startswith("--numprocesses")
               for a in arguments):
        arguments = ["-n", "0", *arguments]
    root = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="cpu-by-file-") as folder:
        env = {**os.environ, OUT_ENV: folder, **({BY_TEST_ENV: "1"} if by_test else {}),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                           os.environ.get("PYTHONPATH")]))}
        busy, started = machine_busy_seconds(), time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "cpu_by_file", "-q",
                               *arguments], env=env, check=False)
        busy, wall = machine_busy_seconds() - busy, time.monotonic() - started
        rows, workers = _table(Path(folder))
    alone = workers == 1
    print(f"\n{'machine':>8} {'tree':>8} {'wall':>8}  CPU and wall seconds by test "
          + ("" if by_test else "file")
          + ("" if alone else f" (machine CPU: n/a with {workers} workers)"))
    for file, machine, tree, file_wall in rows:
        shown = f"{machine:8.1f}" if alone else f"{'n/a':>8}"
        print(f"{shown} {tree:8.1f} {file_wall:8.1f}  {file}")
    print(f"{busy:8.1f} {sum(row[2] for row in rows):8.1f} {wall:8.1f}  the whole run "
          f"({psutil.cpu_count()} CPUs)")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
