"""Answer forms in a real JupyterLab: choice, number and case, by mouse and by keyboard.

The session's JupyterLab (tests/browser/conftest.py: the course released and started,
served with the prebuilt extension from ``course/labextension`` found through
JUPYTER_PATH, as an installed package would place it, and the "Check my answers"
endpoint). Screenshots of each kind of form go to test-output/browser/; axe-core checks
the rendered forms, focused and answered; a kernel restart does not break answering.
Each test opens a fresh learner copy: other tests answer and save the same notebooks in
the shared lab, and a choice a cell already holds would change nothing (no check runs).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from .conftest import (
    Lab,
    answer_form,
    axe_violations,
    form_state,
    fresh_learner_copy,
    open_notebook,
)

pytestmark = pytest.mark.browser

QUIZ = "01-principles/03-quiz.ipynb"
CASES = "04-case-studies/01-cases.ipynb"


def _open(page, lab: Lab, notebook: str, run_all: bool = False) -> None:
    """Open a fresh learner copy of ``notebook`` (assignment/name.ipynb)."""
    open_notebook(page, lab.url, fresh_learner_copy(lab, notebook))
    page.wait_for_selector(".jp-NotebookPanel:visible .course-AnswerForm", timeout=60_000)
    if run_all:
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _wait_status(form, text: str) -> None:
    form.locator(f".course-AnswerForm-status:has-text('{text}')").wait_for(timeout=60_000)


def test_choice_and_number_by_mouse_then_run_all(lab: Lab, browser_page,
                                                 screenshots: Path) -> None:
    page, errors = browser_page
    _open(page, lab, QUIZ)
    choice = answer_form(page, "answer_q1_3_1")
    choice.locator("label:has-text('(b) ')").click()
    _wait_status(choice, "Format OK")
    assert form_state(page, "answer_q1_3_1")["source"] == 'answer_q1_3_1 = "b"'
    choice.scroll_into_view_if_needed()
    choice.screenshot(path=str(screenshots / "answer-form-choice.png"))

    number = answer_form(page, "answer_q1_3_10")
    number.locator("input").fill("3,7")
    number.locator("button:has-text('Check format')").click()
    _wait_status(number, "Format OK")
    assert form_state(page, "answer_q1_3_10")["source"] == "answer_q1_3_10 = 3.7"
    number.screenshot(path=str(screenshots / "answer-form-number.png"))

    # "Show code" brings the editor back; what is typed there shows in the form.
    choice.locator("button:has-text('Show code')").click()
    editor = page.locator(".jp-CodeCell.course-mod-codeShown .cm-content").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type('answer_q1_3_1 = "(D)"')
    page.wait_for_function("""() => document.querySelector(
        '.course-AnswerForm[data-answer="answer_q1_3_1"] input[value="d"]').checked""",
                           timeout=10_000)
    page.keyboard.press("Escape")

    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cells = panel.content.widgets;
        return cells[cells.length - 1].model.type !== 'code'
            || cells.filter(c => c.model.type === 'code').every(c => c.model.executionCount);
    }""", timeout=120_000)
    assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0
    assert errors.messages == []


def test_choice_and_number_by_keyboard(lab: Lab, browser_page) -> None:
    page, errors = browser_page
    _open(page, lab, QUIZ)
    choice = answer_form(page, "answer_q1_3_2")
    first = choice.locator("input[type=radio]").first
    first.focus()
    page.keyboard.press("Space")
    _wait_status(choice, "Format OK")
    page.keyboard.press("ArrowDown")  # native radio group: arrows move and choose
    page.wait_for_function("""() => document.querySelector(
        '.course-AnswerForm[data-answer="answer_q1_3_2"] input[value="b"]').checked""")
    _wait_status(choice, "Format OK")
    assert form_state(page, "answer_q1_3_2")["source"] == 'answer_q1_3_2 = "b"'
    focused = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focused != "none"
    number = answer_form(page, "answer_q1_3_11")
    number.locator("input").focus()
    page.keyboard.type("24 points")
    page.keyboard.press("Enter")
    _wait_status(number, "answer_q1_3_11")  # a plain sentence: no unit is asked for
    text = number.locator(".course-AnswerForm-status").inner_text()
    assert "Error" not in text and "Traceback" not in text
    page.keyboard.press("Control+A")
    page.keyboard.type("24")
    page.keyboard.press("Enter")
    _wait_status(number, "Format OK")
    assert errors.messages == []


def test_case_by_mouse_and_keyboard_with_its_limits(lab: Lab, browser_page,
                                                    screenshots: Path) -> None:
    page, errors = browser_page
    _open(page, lab, CASES)
    form = answer_form(page, "answer_q4_1_1")
    form.locator("label:has-text('Give the requested treatment')").click()
    boxes = form.locator("fieldset[data-group=reasons] input[type=checkbox]")
    for index in range(3):
        boxes.nth(index).click()
    _wait_status(form, "Format OK")
    assert boxes.nth(3).is_disabled()  # "choose up to 3"
    assert "3 of up to 3 chosen" in form.locator("fieldset[data-group=reasons]").inner_text()
    steps = form.locator("fieldset[data-group=management] input[type=checkbox]")
    steps.nth(0).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    _wait_status(form, "Format OK")
    name, _, value = form_state(page, "answer_q4_1_1")["source"].partition(" = ")
    answer = ast.literal_eval(value)
    assert name == "answer_q4_1_1" and answer["decision"] == "proceed"
    assert len(answer["reasons"]) == 3 and len(answer["management"]) == 2
    form.screenshot(path=str(screenshots / "answer-form-case.png"))
    assert errors.messages == []


def test_check_my_answers_shows_score_and_rationales_in_the_notebook(
        lab: Lab, browser_page, screenshots: Path) -> None:
    page, errors = browser_page
    _open(page, lab, QUIZ)
    form = answer_form(page, "answer_q1_3_1")
    form.locator("label:has-text('(b) ')").click()
    _wait_status(form, "Format OK")
    panel = page.locator(".jp-NotebookPanel:visible")  # other notebooks may be restored
    panel.locator(".course-CheckButton button, button.course-CheckButton").first.click()
    results = panel.locator(".course-CheckResults")
    results.locator(".course-CheckResults-status:has-text('Your score')").wait_for(
        timeout=240_000)
    text = results.inner_text()
    assert "Question 1.3.1: 1 of 1 (credited)" in text
    assert "Question 1.3.2: 0 of 1 (not credited)" in text
    assert "Rationale" in text and "HIDDEN" not in text and "AssertionError" not in text
    titles = re.findall(r"Question 1\.3\.(\d+):", text)
    assert titles == sorted(titles, key=int) and len(titles) >= 15
    results.screenshot(path=str(screenshots / "check-my-answers.png"))
    assert errors.messages == []


def _restart_kernel(page) -> None:
    """Restart the notebook's kernel (as Kernel > Restart Kernel does, without the dialog)."""
    page.evaluate("""async () => {
        const context = window.jupyterapp.shell.currentWidget.sessionContext;
        await context.session.kernel.restart();
        await context.ready;
    }""")
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
        .session?.kernel?.status === 'idle'""")


def test_answering_after_a_kernel_restart_runs_the_setup_cell_first(lab: Lab,
                                                                     browser_page) -> None:
    """The saved execution counts survive a restart; the helpers the check cell needs do
    not. Choosing an answer then runs the set-up cell first, and the check says Format OK."""
    page, errors = browser_page
    _open(page, lab, QUIZ, run_all=True)
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code').every(c => c.model.executionCount)""")
    _restart_kernel(page)
    choice = answer_form(page, "answer_q1_3_3")
    choice.locator("label:has-text('(c) ')").click()
    _wait_status(choice, "Format OK")
    status = choice.locator(".course-AnswerForm-status").inner_text()
    assert "not defined" not in status and "Error" not in status
    number = answer_form(page, "answer_q1_3_11")  # and again, by keyboard, after a second restart
    _restart_kernel(page)
    number.locator("input").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("60")
    page.keyboard.press("Enter")
    _wait_status(number, "Format OK")
    assert form_state(page, "answer_q1_3_11")["source"] == "answer_q1_3_11 = 60"
    # JupyterLab's debugger logs that a restart cancelled its state request: not ours.
    assert [m for m in errors.messages if "restore the debugger state" not in m] == []


def _axe_clean(page, selector: str, state: str) -> None:
    found = [v for v in axe_violations(page, selector)]
    assert not found, f"axe violations in the answer forms ({state}):\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
        for v in found)


@pytest.mark.parametrize("notebook, names", [
    (QUIZ, ("answer_q1_3_1", "answer_q1_3_10")),  # single best answer, numeric
    (CASES, ("answer_q4_1_2",)),  # key-feature case
], ids=["choice-and-number", "case"])
def test_the_forms_are_axe_clean_rendered_focused_and_answered(
        lab: Lab, browser_page, notebook: str, names: tuple[str, ...]) -> None:
    page, errors = browser_page
    _open(page, lab, notebook)
    forms = ", ".join(f'.jp-NotebookPanel:not(.lm-mod-hidden) '
                      f'.course-AnswerForm[data-answer="{n}"]' for n in names)
    for name in names:
        answer_form(page, name).scroll_into_view_if_needed()
    _axe_clean(page, forms, "rendered")
    for name in names:  # focus on the first control, then an answer and its status line
        form = answer_form(page, name)
        first = form.locator("input").first
        first.focus()
        _axe_clean(page, forms, f"{name} focused")
        if form.locator("input[type=radio]").count():
            page.keyboard.press("Space")
        else:
            page.keyboard.type("2")
            page.keyboard.press("Enter")
        form.locator(".course-AnswerForm-status:not(:empty)").wait_for()
        _axe_clean(page, forms, f"{name} answered")
    assert errors.messages == []
