"""Benchmark: from a click on an answer form to its rendered "Format OK", in the browser.

Releases and starts 01-principles in a temporary course copy, serves it with JupyterLab
and the prebuilt answer-form extension (as tests/browser does), opens the quiz in
Debian's Chromium, and clicks the options of one single-best-answer form in turn. Each
time is measured in the page, from the mouse press (a capturing listener) to the moment
the form's status line shows "Format OK" (a MutationObserver): writing the cell, running
it and its check cell in the kernel, rendering the result. The first click also runs the
set-up cell and is reported apart. Prints median and 90th percentile, and the machine's
busy CPU per click (browser, server and kernel together; /proc/stat); it is not a test.
Target: median at most 300 ms.

Usage:
    python benchmarks/forms_latency.py        # 25 clicks
    python benchmarks/forms_latency.py 50
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# A sibling module: run as a script, this file's folder (benchmarks/) is on sys.path.
from grade_throughput import machine_busy_seconds

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
QUIZ = "assignments/01-principles/03-quiz.ipynb"
FORM = "answer_q1_3_2"

WATCH = """(name) => {
    const form = document.querySelector(`.course-AnswerForm[data-answer="${name}"]`);
    const status = form.querySelector('.course-AnswerForm-status');
    window.courseLatency = [];
    form.addEventListener('mousedown', () => { window.courseClick = performance.now(); }, true);
    new MutationObserver(() => {
        if (window.courseClick !== null && status.textContent.startsWith('Format OK')) {
            window.courseLatency.push(performance.now() - window.courseClick);
            window.courseClick = null;
        }
    }).observe(status, {childList: true, characterData: true, subtree: true});
}"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _serve(root: Path) -> tuple[subprocess.Popen, str]:
    from course.forms.bundle import BUNDLE_DIR, NAME

    labext = root / ".jupyter-path" / "labextensions"
    labext.mkdir(parents=True)
    (labext / NAME).symlink_to(BUNDLE_DIR)
    settings = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {**os.environ, "COURSE_ROOT": str(root), "JUPYTER_PATH": str(root / ".jupyter-path"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".lab-workspaces")}
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={root}", "--allow-root"],
        env=env, cwd=root, stdout=(root / "lab.log").open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(360):
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=5):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"JupyterLab did not start:\n{(root / 'lab.log').read_text()[-2000:]}")


def measure(url: str, clicks: int) -> tuple[float, list[float], float | None]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/lab/tree/{QUIZ}")
        form = page.locator(f'.course-AnswerForm[data-answer="{FORM}"]')
        form.wait_for()
        page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext"
                               "?.session?.kernel?.status === 'idle'")
        form.scroll_into_view_if_needed()
        page.evaluate(WATCH, FORM)
        letters = form.locator("input[type=radio]").evaluate_all("els => els.map(e => e.id)")
        before = None
        for n in range(clicks + 1):
            if n == 1:  # the first click (set-up cell) is left out of the CPU too
                before = machine_busy_seconds()
            page.locator(f"label[for='{letters[n % len(letters)]}']").click()
            page.wait_for_function("n => window.courseLatency.length > n", arg=n)
            page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext"
                                   ".session.kernel.status === 'idle'")
        after = machine_busy_seconds()
        times = page.evaluate("() => window.courseLatency")
        browser.close()
    cpu = None if before is None or after is None else (after - before) / max(1, clicks)
    return times[0], times[1:], cpu


def main(clicks: int) -> None:
    from course.grading.assignments import ensure_tools_on_path, generate_release, start_assignments

    ensure_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="forms-latency-") as folder:
        root = Path(folder)
        shutil.copytree(ROOT / "source" / "01-principles", root / "source" / "01-principles")
        shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        os.environ["COURSE_ROOT"] = str(root)
        generate_release(root, ["01-principles"])
        start_assignments(root, ["01-principles"])
        process, url = _serve(root)
        try:
            first, times, cpu_per_click = measure(url, clicks)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"click -> rendered 'Format OK' ({FORM}, {len(times)} clicks, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}):")
    print(f"  first click (runs the set-up cell too): {first:.0f} ms")
    print(f"  median {statistics.median(times):.0f} ms, p90 {_percentile(times, 0.9):.0f} ms, "
          f"min {min(times):.0f} ms, max {max(times):.0f} ms")
    if cpu_per_click is not None:  # Linux only
        print(f"  busy CPU per click (the whole machine): {cpu_per_click:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)
