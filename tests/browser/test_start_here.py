"""The start-here notebook in a real browser: widgets, the self-study journey, formgrader."""

from __future__ import annotations

import pytest

from .conftest import wait_ms

pytestmark = pytest.mark.browser

NOTEBOOK = "assignments/00-orientation/00-start-here.ipynb"


def _open_and_run_all(page, url: str) -> None:
    page.goto(f"{url}/lab/tree/{NOTEBOOK}")
    page.wait_for_selector(".jp-Notebook", timeout=wait_ms(120))
    # JupyterLab's own command, once the notebook and its kernel are ready (the app is
    # exposed as window.jupyterapp by --LabApp.expose_app_in_browser).
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext !== undefined",
        timeout=wait_ms(120))
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        await window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")
    # Run All runs to the end: the unanswered graded item's check says so, without an error.
    page.wait_for_selector(".jp-OutputArea-output:has-text('Not answered yet')",
                           timeout=wait_ms(300))


def test_practice_widget_gives_feedback_for_each_choice(lab, browser_page, screenshots) -> None:
    page, errors = browser_page
    _open_and_run_all(page, lab.url)
    widget = page.locator(".widget-vbox:has(.widget-radio-box)")
    feedback = widget.locator("textarea")
    widget.locator("button:has-text('Check')").click()
    page.wait_for_function("t => t.value.startsWith('Choose')",
                           arg=feedback.element_handle(), timeout=wait_ms(60))
    widget.locator("label:has-text('(a) ')").click()
    widget.locator("button:has-text('Check')").click()
    page.wait_for_function("t => t.value.startsWith('Not the best answer')",
                           arg=feedback.element_handle(), timeout=wait_ms(60))
    widget.locator("label:has-text('(b) ')").click()
    widget.locator("button:has-text('Check')").click()
    page.wait_for_function("t => t.value.startsWith('Correct.')",
                           arg=feedback.element_handle(), timeout=wait_ms(60))
    assert "supervised practice" in feedback.input_value().lower()
    page.screenshot(path=str(screenshots / "00-start-here.png"), full_page=True)
    assert errors.messages == []


def test_learner_answers_in_the_form_and_reads_the_rationale(lab, browser_page) -> None:
    """The practice question is answered by choosing in its form, not by typing code."""
    page, errors = browser_page
    _open_and_run_all(page, lab.url)
    form = page.locator(
        '.jp-NotebookPanel:visible .course-AnswerForm[data-answer="answer_q0_1"]')
    form.locator("label:has-text('(d) ')").click()
    check = page.locator(".jp-CodeCell:has(.cm-content:has-text('check(\"q0_1\"'))")
    check.locator(".jp-OutputArea-output:has-text('Not the best answer (d)')").wait_for(
        timeout=wait_ms(90))
    text = check.locator(".jp-OutputArea-output").inner_text()
    assert text.startswith("Not the best answer (d)")
    assert "observed, supervised practice" in text
    assert errors.messages == []


def test_formgrader_lists_the_course_assignments(lab, browser_page) -> None:
    page, errors = browser_page
    page.goto(f"{lab.url}/formgrader")
    page.wait_for_selector("text=00-orientation", timeout=wait_ms(120))
    assert errors.messages == []
