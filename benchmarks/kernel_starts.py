"""Benchmark: how many kernels (one per notebook execution) a pytest run starts, per test file.

Every way the suite executes a notebook in the pytest process starts one Jupyter kernel
per notebook: nbclient (the shared ``executed_notebook`` fixture), nbgrader's autograde
and nbval. This script runs pytest with the given arguments and counts the kernel starts
of each test file, with their wall-clock seconds. Kernels that JupyterLab starts for the
browser tests (in the lab's own server process) are not counted. Prints figures; it is
not a test.

Usage (never the whole suite on a shared machine):
    python benchmarks/kernel_starts.py tests/test_accessibility.py tests/test_notebooks.py
    python benchmarks/kernel_starts.py tests/test_grading_roundtrip.py -k 01-principles
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import pytest


class KernelStarts:
    """A pytest plugin counting kernel starts and seconds per test file."""

    def __init__(self) -> None:
        self.starts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.current = "(collection and fixtures outside tests)"

    def pytest_configure(self, config: pytest.Config) -> None:
        from jupyter_client.manager import KernelManager

        original = KernelManager._async_launch_kernel  # every start, sync or async, passes here
        plugin = self

        async def counted(manager, *args, **kwargs):
            plugin.starts[plugin.current] += 1
            return await original(manager, *args, **kwargs)

        KernelManager._async_launch_kernel = counted

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem):
        self.current = Path(str(item.path)).name
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            self.seconds[self.current] += time.perf_counter() - started

    def pytest_terminal_summary(self, terminalreporter) -> None:
        write = terminalreporter.write_line
        write("")
        write(f"{'test file':<40} {'kernel starts':>13} {'seconds':>9}")
        for name in sorted(set(self.starts) | set(self.seconds)):
            write(f"{name:<40} {self.starts[name]:>13} {self.seconds[name]:>9.1f}")
        write(f"{'total':<40} {sum(self.starts.values()):>13} "
              f"{sum(self.seconds.values()):>9.1f}")


if __name__ == "__main__":
    sys.exit(pytest.main(sys.argv[1:], plugins=[KernelStarts()]))
