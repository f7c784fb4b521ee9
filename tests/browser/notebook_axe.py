"""A course notebook run in JupyterLab and checked with axe-core: by test_axe.py, and on
the page they already opened and ran, by test_module_widgets.py (after operating a
lesson's widgets) and by test_learner_journey.py (after answering and checking).

The notebook is answered (test_axe.py and the widget tests: a copy whose graded answer
cells hold the source's solutions; the journey: through the answer forms), every cell
runs, the widgets render, and axe-core (WCAG 2 A and AA rules and axe's best practices)
checks the course's own content only: the rendered Markdown cells and the cell outputs
(HTML, figures, widgets). JupyterLab's own chrome -- menus, tool bars, side panels, cell
editors, prompts -- is not the course's and is left out.

Each notebook is photographed whole after axe, at 1400 px (the width axe runs at) and at
800 px wide (``test-output/browser/screens/<assignment>--<notebook>--<width>px.png``).
A violation of impact "serious" or "critical" fails, except the few in ALLOWED, each
limited to one rule and one selector and explained there. The full results go to
``test-output/browser/axe/<assignment>--<notebook>.json``.

axe-core comes from npm (``npm install --prefix .cache/axe axe-core@4.14.1``; ``make
test`` runs it). Without it the tests skip, unless COURSE_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

from .conftest import AXE_JS, OUTPUT, wait_ms

if TYPE_CHECKING:  # pragma: no cover - typing only
    from playwright.sync_api import Page

    from .conftest import Lab

WIDGET_LESSONS = [
    "01-principles/01-what-is-mesotherapy.ipynb",
    "01-principles/02-techniques-and-sessions.ipynb",
    "02-substances/01-substance-classes.ipynb",
    "02-substances/02-appraising-evidence.ipynb",
    "02-substances/03-dose-and-volume.ipynb",
    "03-risk-assessment/01-screening-and-contraindications.ipynb",
    "03-risk-assessment/02-complications.ipynb",
    "03-risk-assessment/03-safety-and-emergencies.ipynb",
    "03-risk-assessment/04-consent-and-records.ipynb",
]
"""The lessons whose widgets test_module_widgets.py operates: their axe check runs there,
on the page that Run All ran once for both."""
JOURNEY_NOTEBOOKS = [
    "00-orientation/00-start-here.ipynb",
    "01-principles/03-quiz.ipynb",
    "02-substances/04-quiz.ipynb",
    "03-risk-assessment/05-quiz.ipynb",
    "04-case-studies/01-cases.ipynb",
    "05-final-assessment/01-final.ipynb",
]
"""The assessed notebooks that test_learner_journey.py answers through the forms, runs
and checks: their axe check runs there, at the end, over the answered notebook with its
"Check my answers" results. test_axe.py checks every other notebook."""


SCREEN_WIDTHS = (1400, 800)
"""Widths of the screenshots: a desktop window and a narrow one (issue #18)."""
MAX_SCREEN_HEIGHT = 16000
"""Chromium draws at most 16384 px in one capture; a longer notebook is cut there."""

FAILING_IMPACTS = ("serious", "critical")
RUN_ALL_MS = wait_ms(600)
"""Longest Run All (the final assessment runs in seconds on a quiet machine)."""
RENDER_MS = wait_ms(180)
"""Longest wait for JupyterLab to open a notebook, lay out its cells or draw its widgets
(the widgets of a long notebook come after the kernel's last reply, slowly under load)."""

ALLOWED: dict[tuple[str, str], str] = {
    ("aria-input-field-name", ".widget-slider .noUi-handle"):
        "ipywidgets 8.1 draws FloatSlider with noUiSlider but passes it no handle "
        "attributes, so the handle (role=slider) has no accessible name; Python cannot "
        "reach it. The slider's visible <label> names the widget, its editable readout "
        "takes typed values, and the text summary beside it states the value in words.",
    ("link-in-text-block", ".jp-MarkdownOutput a"):
        "JupyterLab's theme draws links in rendered Markdown without an underline "
        "(jupyterlab/jupyterlab#9399); a Markdown cell cannot restyle them. Links in the "
        "course's own HTML outputs are underlined and are checked.",
}
"""(axe rule, CSS selector of the offending element) → why it is not the course's to fix."""

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
PAGE_ERRORS: list[str] = []
"""JavaScript errors of the module's page, quoted when JupyterLab stops laying out cells."""

# Test-only style for JupyterLab's chrome, so that axe sees the content as a reader does:
# JupyterLab's <body> is 0 px high with overflow hidden (its shell is absolutely
# positioned), which makes axe treat every element as clipped and skip the visual rules
# (colour contrast among them); the floating cell tool bar covers the active cell; cells
# off screen are not laid out (content-visibility), so the notebook's height is unknown.
CHROME_STYLE = """html, body { height: 100%; }
.jp-cell-toolbar { display: none !important; }
.jp-WindowedPanel-viewport > .jp-Cell { content-visibility: visible !important; }"""

RUN_AXE = """async (allowed) => {
    const panel = window.jupyterapp.shell.currentWidget.node;
    const content = [...panel.querySelectorAll('.jp-MarkdownOutput, .jp-OutputArea-output')];
    const results = await axe.run({include: content},
                                  {resultTypes: ['violations', 'incomplete']});
    for (const violation of results.violations) {
        for (const node of violation.nodes) {
            const el = document.querySelector(node.target[node.target.length - 1]);
            const cell = el?.closest('[data-windowed-list-index]');
            const reason = allowed.find(([rule, selector]) =>
                rule === violation.id && el?.matches(selector));
            node.course = {cell: cell ? Number(cell.dataset.windowedListIndex) + 1 : null,
                           region: el?.closest('.jp-MarkdownOutput') ? 'Markdown' : 'output',
                           allowed: reason ? reason[2] : null};
        }
    }
    results.errors = results.incomplete.flatMap(rule => rule.nodes.flatMap(node =>
        [...node.any, ...node.all, ...node.none].filter(c => c.id === 'error-occurred')
            .map(c => `${rule.id}: ${c.data?.message ?? c.message}`)));
    results.disabled_textareas = panel.querySelectorAll(
        '.jp-OutputArea-output textarea:disabled').length;
    results.checked_contrast = results.violations.some(v => v.id === 'color-contrast')
        || !results.inapplicable.some(r => r.id === 'color-contrast');
    return results;
}"""


def answer_code_cells(learner: Path, source: Path, target: Path) -> int:
    """Write the learner's copy to target with each graded code cell holding its solution;
    return how many cells were answered.

    Written answers (Markdown cells) stay as released: they do not stop Run All.
    """
    solutions = {}
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            found = SOLUTION.search(cell.source)
            assert found, f"{source}: {meta.get('grade_id')} has no solution region"
            solutions[meta["grade_id"]] = found.group(1)
    notebook = nbformat.read(learner, as_version=4)
    answered = 0
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in solutions:
            cell.source = solutions[grade_id]
            answered += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return answered


def open_alone(page: Page, lab: Lab, path: str) -> None:
    """Open a notebook alone in the page's JupyterLab and wait until it is current and
    its file is loaded (its cells are in the model).

    JupyterLab is loaded once per page (in its own workspace, reset); a notebook left open
    in it is disposed first; that notebook's kernel keeps running (``fresh_learner_copy``
    stops it before a test copies the notebook again).
    """
    page.set_viewport_size({"width": 1280, "height": 900})
    if not page.url.startswith(lab.url):
        page.goto(f"{lab.url}/lab/workspaces/notebook-axe?reset")
        page.wait_for_function("() => window.jupyterapp?.shell !== undefined",
                               timeout=RENDER_MS)
    page.evaluate("""async (path) => {
        const app = window.jupyterapp;
        await app.restored;
        // dispose(), not close(): a notebook changed by Run All would ask to be saved.
        for (const widget of [...app.shell.widgets('main')]) widget.dispose();
        await app.commands.execute('docmanager:open', {path});
    }""", path)
    # The opened notebook becomes the current widget once activated (focused); a page that
    # never got the focus left it open but not current (seen once under load), so it is
    # activated again until it is current.
    page.wait_for_function(
        """p => { const shell = window.jupyterapp.shell;
                  const w = [...shell.widgets('main')].find(w => w.context?.path === p);
                  if (w && shell.currentWidget !== w) shell.activateById(w.id);
                  return !!w && shell.currentWidget === w
                      && w.sessionContext !== undefined && w.context.isReady; }""",
        arg=path, timeout=RENDER_MS)


def open_and_run_all(page: Page, lab: Lab, path: str) -> None:
    """Open a notebook alone in the page's JupyterLab (:func:`open_alone`) and run every
    cell (no error, none left unrun; the kernel idle, so that every output is in)."""
    open_alone(page, lab, path)
    ok = page.evaluate("""async (timeout) => {
        const app = window.jupyterapp, panel = app.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        const late = new Promise(resolve => setTimeout(() => resolve('timeout'), timeout));
        return await Promise.race([app.commands.execute('notebook:run-all-cells'), late]);
    }""", RUN_ALL_MS)
    # Run All settles on the last cell's reply; outputs still on their way (the kernel's
    # other channel) are in once the kernel is idle.
    if ok is True:
        page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
                                      .session?.kernel?.status === 'idle'""", timeout=RENDER_MS)
    report = page.evaluate("""(ok) => {
        const panel = window.jupyterapp.shell.currentWidget;
        const code = panel.content.widgets.filter(cell => cell.model.type === 'code');
        const errors = code.flatMap(cell => cell.model.outputs.toJSON())
            .filter(output => output.output_type === 'error')
            .map(output => `${output.ename}: ${output.evalue}`);
        return {ok, errors, unrun: code.filter(cell => !cell.model.executionCount).length};
    }""", ok)
    assert report["ok"] is True and report["errors"] == [] and report["unrun"] == 0, report


def wait_for_every_widget(page: Page) -> None:
    """Lay out every cell of the current notebook and wait until each widget output is
    drawn.

    Every cell is laid out first: a widget in a cell not yet added to the page (a long
    notebook's cells come as its list updates) is never drawn, however long one waits.
    """
    lay_out_every_cell(page)
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const views = panel.content.widgets.filter(cell => cell.model.type === 'code')
            .flatMap(cell => cell.model.outputs.toJSON())
            .filter(output => output.data?.['application/vnd.jupyter.widget-view+json']).length;
        return panel.node.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length
            >= views; }""", polling=250, timeout=RENDER_MS)


def lay_out_every_cell(page: Page) -> None:
    """Put every cell of the notebook on the page (JupyterLab adds cells to the page as
    its cell list updates, on scroll or resize; setting the list's ``windowingActive`` to
    false, its value in the default "contentVisibility" mode, updates it with every cell).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("""() => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.viewModel.windowingActive = false;
            return notebook.node.querySelectorAll('.jp-WindowedPanel-viewport > .jp-Cell')
                .length === notebook.widgets.length; }""", polling=250, timeout=RENDER_MS)
    except PlaywrightTimeout:
        missing = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
            .map((cell, i) => [i + 1, cell.model.type, cell.node.isConnected])
            .filter(([, , connected]) => !connected).map(([i, type]) => `${i} (${type})`)""")
        pytest.fail(f"{len(missing)} cells never laid out in {RENDER_MS / 1000:.0f} s, from "
                    f"cell {missing[0] if missing else '?'}: {', '.join(missing[:10])}; "
                    f"page errors: {PAGE_ERRORS[-5:]}")


def show_whole_notebook(page: Page, width: int = 1280) -> None:
    """Lay out every cell and make the window as tall as the notebook, scrolled to its top.

    axe checks colour contrast only for what is on screen (every cell is laid out:
    lay_out_every_cell). Figures may still change the height for a moment, so it is
    measured until it holds. Injects axe-core and CHROME_STYLE the first time.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_style_tag(content=CHROME_STYLE)
        page.add_script_tag(path=str(AXE_JS))
    lay_out_every_cell(page)
    measure = """() => { const outer = window.jupyterapp.shell.currentWidget.node
                             .querySelector('.jp-WindowedPanel-outer');
                         outer.scrollTop = 0;
                         return {content: outer.querySelector('.jp-WindowedPanel-viewport')
                                     .scrollHeight,
                                 chrome: window.innerHeight - outer.clientHeight}; }"""
    heights = [0]
    deadline = time.monotonic() + RENDER_MS / 1000
    while time.monotonic() < deadline:  # polled until two measures agree
        size = page.evaluate(measure)
        if abs(size["content"] - heights[-1]) < 2:
            break
        heights.append(size["content"])
        # never below one screen: while a narrowed window re-lays out, the measure can
        # briefly be negative (Chromium refuses a viewport that is not positive)
        height = max(900, min(size["content"] + size["chrome"] + 40, MAX_SCREEN_HEIGHT))
        page.set_viewport_size({"width": width, "height": height})
        if height == MAX_SCREEN_HEIGHT:
            break
        page.wait_for_timeout(250)
    else:
        pytest.fail(f"the notebook's height did not settle: {heights[1:]} px")
    page.evaluate("""async () => { await Promise.all([...document.images].map(
                         image => image.decode().catch(() => null))); }""")


def take_screenshots(page: Page, notebook: str) -> list[Path]:
    """Photograph the whole run notebook at each of SCREEN_WIDTHS (after axe: it resizes).

    The page already shows the whole notebook at the first width (axe ran there: see
    the test), so only the other widths are laid out again.
    """
    folder = OUTPUT / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    for index, width in enumerate(SCREEN_WIDTHS):
        if index:
            if width < 1000:  # a narrow window: the file browser folded away, as a reader would
                page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_function("w => window.innerWidth === w", arg=width)
            show_whole_notebook(page, width)
        assert page.evaluate("() => window.innerWidth") == width
        shot = folder / f"{notebook.removesuffix('.ipynb').replace('/', '--')}--{width}px.png"
        page.screenshot(path=str(shot))
        taken.append(shot)
    return taken


def run_axe(page: Page) -> dict:
    """axe over the notebook's rendered Markdown and outputs; one retry if axe errs.

    Each violation's node gets ``course``: its cell number, its region (Markdown or
    output) and, where ALLOWED covers it, why it is allowed.
    """
    allowed = [[rule, selector, why] for (rule, selector), why in ALLOWED.items()]
    for _ in range(2):
        results = page.evaluate(RUN_AXE, allowed)
        if not results["errors"]:
            break
        page.wait_for_timeout(1000)
    return results


def failures(results: dict) -> list[str]:
    """Readable lines for each serious or critical violation that is not allowed."""
    lines = []
    for violation in results["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        nodes = [n for n in violation["nodes"] if not n["course"]["allowed"]]
        if not nodes:
            continue
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"<{violation['helpUrl']}>")
        for node in nodes:
            where = f"cell {node['course']['cell']} ({node['course']['region']})"
            lines.append(f"    {where}: {' '.join(node['target'])}\n"
                         f"      {node['html'][:160]}\n"
                         f"      {node['failureSummary'].splitlines()[-1].strip()}")
    return lines


def check_axe(page: Page, notebook: str) -> None:
    """axe over the run notebook on ``page`` (every widget drawn: see
    :func:`wait_for_every_widget`), at the first screenshot's width; then the screenshots.
    The results go to ``test-output/browser/axe/``; a serious or critical violation that
    ALLOWED does not cover fails, as do axe's own errors and a disabled text twin."""
    show_whole_notebook(page, SCREEN_WIDTHS[0])  # axe at the first screenshot's width
    results = run_axe(page)
    shots = take_screenshots(page, notebook)
    assert all(shot.stat().st_size > 10_000 for shot in shots), shots
    folder = OUTPUT / "axe"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{notebook.removesuffix('.ipynb').replace('/', '--')}.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False))

    assert results["errors"] == [], f"axe could not finish its checks: {results['errors']}"
    assert results["checked_contrast"], "axe saw no text on screen: colour contrast unchecked"
    assert results["disabled_textareas"] == 0, (
        "a text twin is a disabled Textarea (greyed out, not focusable): use "
        "course.views.widgets.text_twin")
    found = failures(results)
    assert not found, (f"{notebook}: serious or critical axe violations in the course's "
                       "content:\n" + "\n".join(found))
