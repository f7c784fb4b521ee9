"""Browser fixtures: JupyterLab on a free loopback port, driven by Debian's Chromium.

Where Chromium is missing the browser tests skip with a reason, unless
COURSE_REQUIRE_BROWSER=1 (set by .ci/run), which makes the skip a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..conftest import ROOT, free_port, skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
OUTPUT = ROOT / "test-output" / "browser"

TIMEOUT_SCALE = float(os.environ.get("COURSE_BROWSER_TIMEOUT_SCALE", "1"))
"""Multiplies every browser wait (set it above 1 on a very slow machine)."""


def wait_ms(seconds: float) -> int:
    """Playwright's timeout, in ms, for a wait on a condition of about ``seconds``.

    The values passed are upper bounds sized for a loaded 2-core machine (every wait is
    on a condition, so a generous bound costs nothing when the condition comes early).
    """
    return int(seconds * 1000 * TIMEOUT_SCALE)


PAGE_TIMEOUT_S = 90
"""Default wait of every page action, navigation and expect() (Playwright's are 30 s for
actions and 5 s for expect, too short when other runs share the two cores)."""


def configure_page(page) -> None:
    """Give a page (and expect()) this suite's generous default timeouts."""
    from playwright.sync_api import expect

    page.set_default_timeout(wait_ms(PAGE_TIMEOUT_S))
    page.set_default_navigation_timeout(wait_ms(PAGE_TIMEOUT_S))
    expect.set_options(timeout=wait_ms(PAGE_TIMEOUT_S))


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (make test installs it from Debian when run as root)"
    skip_or_fail("browser tests", reason, "COURSE_REQUIRE_BROWSER")


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    """Wait up to 180 s for a Jupyter server's /api/status; fail with its log otherwise."""
    deadline = time.monotonic() + wait_ms(180) / 1000
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=10):
                return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.terminate()
    pytest.fail(f"{what} did not start:\n{log.read_text()[-2000:]}")


@dataclass
class Lab:
    url: str
    root: Path
    process: subprocess.Popen
    log: Path


def serve_lab(root: Path, env: dict[str, str]) -> Lab:
    """Start JupyterLab on a free loopback port over ``root``; wait until it serves."""
    port = free_port()
    log = root / "lab.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.expose_app_in_browser=True",
         f"--ServerApp.root_dir={root}", "--allow-root"],
        env=env, cwd=root, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log, "JupyterLab")
    return Lab(url, root, process, log)


def stop_lab(lab: Lab) -> None:
    lab.process.terminate()
    try:
        lab.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        lab.process.kill()


def lab_environment(root: Path) -> dict[str, str]:
    """The environment of a test JupyterLab over the course copy ``root``.

    As an installed package sets it up: the prebuilt answer-form extension (found through
    JUPYTER_PATH) and the "Check my answers" server extension (JUPYTER_CONFIG_PATH).
    Settings and workspaces stay inside the copy: the saved layout of another run (or of
    another person's lab) is never restored here.
    """
    from course.forms.bundle import BUNDLE_DIR, NAME

    if not (BUNDLE_DIR / "package.json").is_file():
        pytest.fail("no built extension in course/labextension: run `make labextension`")
    jupyter_path = root / ".jupyter-path"
    (jupyter_path / "labextensions").mkdir(parents=True, exist_ok=True)
    link = jupyter_path / "labextensions" / NAME
    if not link.exists():
        link.symlink_to(BUNDLE_DIR)
    config = root / ".jupyter-config" / "jupyter_server_config.d"
    config.mkdir(parents=True, exist_ok=True)
    for name in ("course.check_service.json", "course.saved_outputs.json"):
        shutil.copy2(ROOT / "jupyter-config" / "jupyter_server_config.d" / name, config)
    settings = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # The learner's lab's build settings: no build check on each page load (JupyterLab
    # would run `yarn config` in a node process every time; the extension is prebuilt)
    learner = json.loads((ROOT / "jupyter-config" / "learner" / "labconfig"
                          / "page_config.json").read_text(encoding="utf-8"))
    (config.parent / "labconfig").mkdir(exist_ok=True)
    (config.parent / "labconfig" / "page_config.json").write_text(json.dumps(
        {key: learner[key] for key in ("buildCheck", "buildAvailable")}))
    return {**os.environ, "COURSE_ROOT": str(root), "JUPYTER_PATH": str(jupyter_path),
            "JUPYTER_CONFIG_PATH": str(config.parent),
            "JUPYTERLAB_SETTINGS_DIR": str(root / ".lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(root / ".lab-workspaces")}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A course copy with released notebooks and learner copies, served by JupyterLab
    with the answer forms and "Check my answers" (one lab for every browser test).

    release/ is the committed one, which tests/test_release.py holds equal to what
    `course release` generates from source/; `course start` makes the learner copies.
    """
    _require_browser()
    root = tmp_path_factory.mktemp("lab-course")
    for name in ("source", "release"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    env = lab_environment(root)
    subprocess.run([sys.executable, "-m", "course.cli", "start"], env=env, cwd=root,
                   check=True, capture_output=True)
    served = serve_lab(root, env)
    yield served
    stop_lab(served)


@dataclass
class PageErrors:
    messages: list[str] = field(default_factory=list)


@pytest.fixture
def browser_page(module_browser) -> Iterator[tuple]:
    """A fresh page in the module's Chromium that records every JavaScript error."""
    errors = PageErrors()
    page = module_browser.new_page()
    configure_page(page)
    page.on("pageerror", lambda error: errors.messages.append(f"page error: {error}"))
    page.on("console", lambda message: errors.messages.append(f"console: {message.text}")
            if message.type == "error" else None)
    yield page, errors
    page.close()


@pytest.fixture(scope="module")
def module_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One Chromium for a test module, with one profile, in which each test opens fresh
    pages (1280 x 900 px).

    Starting Playwright's driver and Chromium costs about 3 CPU-s: once per module, not
    once per test. The module's pages share the profile's HTTP and code caches, which makes
    each JupyterLab load after the first cheaper. They also share cookies and local storage,
    where JupyterLab keeps only its window names and the user's initials and colour: a
    test's state is the lab's files, kernels and workspaces, which the tests reset.

    Not for the whole session: while Playwright's sync API runs, its event loop is the
    thread's, and the in-process nbgrader and nbclient calls of other modules
    (``asyncio.run``) would fail.
    """
    from playwright.sync_api import sync_playwright

    _require_browser()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


# ---------------------------------------------------------------- axe-core over a fragment

AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from npm (``make axe``), as tests/browser/test_axe.py uses it."""


def require_axe() -> None:
    if not AXE_JS.is_file():
        skip_or_fail("axe tests", f"{AXE_JS} is missing (run `make axe`)", "COURSE_REQUIRE_BROWSER")


def axe_violations(page, selector: str) -> list[dict]:
    """axe-core's WCAG 2 A/AA and best-practice violations inside the elements matching
    ``selector`` (axe is injected into the page the first time)."""
    require_axe()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("""async (selector) => {
        const nodes = [...document.querySelectorAll(selector)];
        if (!nodes.length) return [{id: 'no-node', help: selector, nodes: []}];
        const result = await window.axe.run({include: nodes}, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']},
            rules: {region: {enabled: false}}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""", selector)


# ---------------------------------------------------------------- opening a notebook

def open_notebook(page, url: str, path: str) -> None:
    """Open ``path`` in its own fresh workspace and wait until it is the current notebook.

    One lab serves every browser test: in the default workspace, tabs that earlier tests
    opened are restored and one of them may be current while this notebook is still
    loading, so a command run "on the current notebook" would run on the wrong one.
    A workspace named after the path, reset on load, holds only this notebook.
    """
    workspace = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/{path}?reset")
    page.wait_for_function(
        """p => { const w = window.jupyterapp?.shell.currentWidget;
                  return w?.context?.path === p && w.sessionContext !== undefined; }""",
        arg=path, timeout=wait_ms(120))
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
    }""")


def save_notebook(page, file: Path, expected: str, seconds: float = 60) -> str:
    """Save the current notebook until ``file`` on disk holds ``expected``; its text.

    The save is awaited (``context.save()``), not dispatched as a command; a form that
    writes its cell just after a save started is caught by saving again.
    """
    deadline = time.monotonic() + seconds * TIMEOUT_SCALE
    while True:
        page.evaluate("() => window.jupyterapp.shell.currentWidget.context.save()")
        text = file.read_text(encoding="utf-8")
        if expected in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{file.name} never saved with {expected!r}")
        time.sleep(0.5)


def shut_down_kernel(lab: Lab, path: str) -> None:
    """Stop the notebook's kernel (one JupyterLab serves every test of the session)."""
    with urllib.request.urlopen(f"{lab.url}/api/sessions", timeout=60) as reply:
        sessions = json.load(reply)
    for session in sessions:
        if session["path"] == path:
            request = urllib.request.Request(f"{lab.url}/api/sessions/{session['id']}",
                                             method="DELETE")
            urllib.request.urlopen(request, timeout=60).close()


def fresh_learner_copy(lab: Lab, notebook: str) -> str:
    """Replace the learner's copy of ``notebook`` (assignment/name.ipynb) with the released
    one, as `course start` made it; return its path in the lab. A kernel that an earlier
    test left running for it is shut down first: the copy opens with a new kernel.

    One lab serves every browser test, and tests answer and save the same notebooks: a test
    that needs an unanswered notebook (or whose answers must change the cells) starts here.
    """
    shut_down_kernel(lab, f"assignments/{notebook}")
    shutil.copy2(lab.root / "release" / notebook, lab.root / "assignments" / notebook)
    return f"assignments/{notebook}"


# ------------------------------------------------------------------ answer forms on the page

def answer_form(page, name: str):
    """The answer form of item ``name`` (e.g. ``answer_q0_1``) in the visible notebook."""
    return page.locator(f'.jp-NotebookPanel:visible .course-AnswerForm[data-answer="{name}"]')


def form_state(page, name: str) -> dict:
    """What the answer cell of ``name`` holds, what its form's status line says, the
    kernel's status, and the text of the cell after the answer cell (its check), for a
    failure's message and for the tests that read them."""
    return page.evaluate("""name => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cells = panel.content.widgets;
        const at = cells.findIndex(
            c => (c.model.getMetadata('course') || {}).answer?.name === name);
        const status = panel.node.querySelector(
            `.course-AnswerForm[data-answer="${name}"] .course-AnswerForm-status`);
        const check = cells[at + 1]?.model.outputs;
        const said = [];
        for (let i = 0; check && i < check.length; i++) {
            const output = check.get(i).toJSON();
            said.push([].concat(output.text ?? output.evalue ?? '').join(''));
        }
        return {source: at < 0 ? null : cells[at].model.sharedModel.getSource(),
                status: status?.textContent ?? null, check: said.join(''),
                kernel: panel.sessionContext.session?.kernel?.status ?? null};
    }""", name)


def wait_form_says(page, name: str, text: str, seconds: float = 90) -> None:
    """Wait until the status line of ``name``'s form (which repeats its check's result
    once the answer cell and its check have run) contains ``text``; fail with what the
    page shows otherwise."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        answer_form(page, name).locator(
            ".course-AnswerForm-status", has_text=text).wait_for(timeout=wait_ms(seconds))
    except PlaywrightTimeout:
        pytest.fail(f"{name}: the form never said {text!r}; the page shows "
                    f"{form_state(page, name)}")


def wait_check_says(page, name: str, text: str, seconds: float = 300) -> None:
    """Wait until the check cell after ``name``'s answer cell holds ``text`` in its
    outputs (read from the notebook's model: windowing may not render the cell)."""
    deadline = time.monotonic() + seconds * TIMEOUT_SCALE
    while text not in (state := form_state(page, name))["check"]:
        if time.monotonic() > deadline:
            pytest.fail(f"{name}: its check never said {text!r}; the page shows {state}")
        page.wait_for_timeout(250)


def rendered_check(page, name: str) -> str:
    """The rendered output of the check cell after ``name``'s answer cell, as the learner
    reads it (the cell is scrolled into view first: windowing may not render it)."""
    return page.evaluate("""async name => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        const at = notebook.widgets.findIndex(
            c => (c.model.getMetadata('course') || {}).answer?.name === name);
        await notebook.scrollToItem(at + 1, 'center');
        const check = notebook.widgets[at + 1];
        await check.ready;
        for (let frame = 0; frame < 600 && !check.outputArea.node.isConnected; frame++) {
            await new Promise(resolve => requestAnimationFrame(resolve));
        }
        return check.outputArea.node.innerText;
    }""", name)
