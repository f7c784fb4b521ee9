"""Benchmark: kernel start-up, stock against sandboxed (course/grading/sandbox.py).

A grader starts one kernel per notebook, so what the sandbox adds to a kernel start is
paid once per notebook. Measures, alternately for the stock AsyncKernelManager and for
SandboxedKernelManager: start the kernel (from a folder holding one small file), wait
until it is ready, run one trivial cell, and, separately, one cell importing
matplotlib.pyplot and ipywidgets (what the course's notebooks do first). Prints
medians; it is not a test.

Usage:
    python benchmarks/sandbox_startup.py          # 8 rounds
    python benchmarks/sandbox_startup.py 20
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from course.grading.sandbox import SandboxedKernelManager, sandbox_available

IMPORTS = "import matplotlib.pyplot, ipywidgets"


async def one_start(manager: type, folder: Path, code: str) -> tuple[float, float]:
    """Seconds until the kernel is ready, and until ``code`` has run."""
    started = time.perf_counter()
    km = manager(kernel_name="python3")
    await km.start_kernel(cwd=str(folder))
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        ready = time.perf_counter() - started
        reply = await kc.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{manager.__name__}: {code!r} failed: {reply['content']}")
        return ready, time.perf_counter() - started
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


async def run(rounds: int) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "answer.txt").write_text("a", encoding="utf-8")
        for manager in (AsyncKernelManager, SandboxedKernelManager):  # warm-up, not timed
            await one_start(manager, folder, IMPORTS)
        for _ in range(rounds):
            for manager in (AsyncKernelManager, SandboxedKernelManager):
                row = times.setdefault(manager.__name__, {"ready": [], "trivial": [],
                                                          "imports": []})
                ready, trivial = await one_start(manager, folder, "1 + 1")
                row["ready"].append(ready)
                row["trivial"].append(trivial)
                row["imports"].append((await one_start(manager, folder, IMPORTS))[1])
    return times


def main(argv: list[str]) -> None:
    ok, reason = sandbox_available()
    if not ok:
        raise SystemExit(f"the sandbox cannot run here: {reason}")
    started = time.perf_counter()
    sandbox_available.cache_clear()
    sandbox_available()
    print(f"sandbox_available() probe: {time.perf_counter() - started:.3f} s (once per process)")
    rounds = int(argv[0]) if argv else 8
    times = asyncio.run(run(rounds))
    stock = times["AsyncKernelManager"]
    print(f"{rounds} rounds, medians in seconds")
    print(f"{'':24}{'ready':>8}{'+ 1 cell':>10}{'+ imports':>11}")
    for name, row in times.items():
        print(f"{name:24}" + "".join(f"{statistics.median(row[k]):>{w}.3f}" for k, w in
                                     (("ready", 8), ("trivial", 10), ("imports", 11))))
    sandboxed = times["SandboxedKernelManager"]
    print("sandbox adds" + " " * 12 + "".join(
        f"{statistics.median(sandboxed[k]) - statistics.median(stock[k]):>+{w}.3f}"
        for k, w in (("ready", 8), ("trivial", 10), ("imports", 11))))


if __name__ == "__main__":
    main(sys.argv[1:])
