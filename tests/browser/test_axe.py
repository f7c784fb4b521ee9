"""axe-core over every learner notebook, rendered by JupyterLab after Run All.

For each notebook of the learner's copies (``course start``) that no other browser test
opens and runs (test_module_widgets.py and test_learner_journey.py check theirs on their
own pages: notebook_axe.WIDGET_LESSONS and JOURNEY_NOTEBOOKS), a copy is made whose
graded answer cells hold the source's solutions, so that JupyterLab's Run All completes;
the learner's own copies, which other browser tests operate, are left alone. The copy is
opened in the session's JupyterLab, every cell runs, the widgets render, axe-core checks
the course's own content and the notebook is photographed at two widths
(tests/browser/notebook_axe.py says how).

One test saves a run notebook, closes it and opens it again: no widget may then say
"Error displaying widget" (course.saved_outputs saves a "Run this cell…" note instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ..conftest import ROOT
from .conftest import configure_page, require_axe, shut_down_kernel
from .notebook_axe import (
    JOURNEY_NOTEBOOKS,
    PAGE_ERRORS,
    RENDER_MS,
    WIDGET_LESSONS,
    answer_code_cells,
    check_axe,
    lay_out_every_cell,
    open_and_run_all,
    wait_for_every_widget,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from playwright.sync_api import Page

    from .conftest import Lab

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

COPIES = "axe-copies"
"""Folder (in the lab's course copy) of the answered copies that this module opens."""
RELEASED = sorted(p.relative_to(ROOT / "release").as_posix()
                  for p in (ROOT / "release").glob("*/*.ipynb"))
CHECKED_ELSEWHERE = WIDGET_LESSONS + JOURNEY_NOTEBOOKS
NOTEBOOKS = [notebook for notebook in RELEASED if notebook not in CHECKED_ELSEWHERE]
"""Every released notebook that no other browser test checks with axe."""
REOPENED = "01-principles/01-what-is-mesotherapy.ipynb"
"""The notebook saved, closed and reopened: it has practice widgets and the skin explorer."""


def test_every_released_notebook_is_checked_once() -> None:
    assert sorted(NOTEBOOKS + CHECKED_ELSEWHERE) == RELEASED


@pytest.fixture(scope="module")
def copies(lab: Lab) -> Lab:
    """The lab, with answered copies of every learner notebook under COPIES/."""
    require_axe()
    for notebook in NOTEBOOKS:
        answer_code_cells(lab.root / "assignments" / notebook, lab.root / "source" / notebook,
                          lab.root / COPIES / notebook)
    return lab


@pytest.fixture
def page(copies: Lab, module_browser) -> Iterator[Page]:
    """A fresh page (a fresh JupyterLab) for each notebook.

    One page reused for every notebook made the last one (the final assessment) stall
    when it ran after the others in the same JupyterLab (its cells were never all laid
    out, even in 180 s), while it passed alone.
    """
    page = module_browser.new_page()
    configure_page(page)
    PAGE_ERRORS.clear()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    yield page
    page.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.removesuffix(".ipynb") for n in NOTEBOOKS])
def test_course_content_has_no_serious_axe_violation(copies: Lab, page: Page,
                                                    notebook: str) -> None:
    path = f"{COPIES}/{notebook}"
    try:
        open_and_run_all(page, copies, path)
        wait_for_every_widget(page)
        check_axe(page, notebook)
    finally:
        shut_down_kernel(copies, path)


WIDGET_ERROR = "Error displaying widget"


def test_a_reopened_saved_notebook_shows_no_widget_error(copies: Lab, page: Page) -> None:
    """Run All, save, close, reopen: every widget output is a "Run this cell…" note."""
    from playwright.sync_api import expect

    from course.saved_outputs import RERUN_NOTE, WIDGET_VIEW

    path = f"reopen/{REOPENED}"
    answer_code_cells(copies.root / "assignments" / REOPENED, copies.root / "source" / REOPENED,
                      copies.root / path)
    try:
        open_and_run_all(page, copies, path)
        wait_for_every_widget(page)
        views = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
            .filter(cell => cell.model.type === 'code')
            .flatMap(cell => cell.model.outputs.toJSON())
            .filter(output => output.data?.['application/vnd.jupyter.widget-view+json'])
            .length""")
        assert views > 0, "the notebook showed no widget: nothing to reopen"
        page.evaluate("""async () => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.context.save();
            panel.dispose(); }""")
    finally:
        shut_down_kernel(copies, path)
    saved = (copies.root / path).read_text(encoding="utf-8")
    assert WIDGET_VIEW not in saved and saved.count("course-rerun") == views

    page.evaluate("async path => { await window.jupyterapp.commands.execute("
                  "'docmanager:open', {path}); }", path)  # the widget is not serializable
    page.wait_for_function("p => window.jupyterapp.shell.currentWidget?.context?.path === p",
                           arg=path, timeout=RENDER_MS)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.isReady",
                           timeout=RENDER_MS)
    lay_out_every_cell(page)
    panel = page.locator(".jp-NotebookPanel:visible")
    expect(panel.locator(".course-rerun")).to_have_count(views, timeout=RENDER_MS)
    expect(panel.locator(".course-rerun").first).to_have_text(RERUN_NOTE)
    expect(panel.get_by_text(WIDGET_ERROR)).to_have_count(0)
    shut_down_kernel(copies, path)
