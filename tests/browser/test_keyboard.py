"""Keyboard-only answering: Tab, Space and the arrow keys reach and answer every form.

A learner who uses only the keyboard goes through the key-feature cases notebook
(eight cases and seven practice questions): Tab into each form, choose with Space and
the arrow keys, Tab on to the next form. The focus must stay in the notebook all the
way: issue 17 found it lost part-way through the cases, where JupyterLab's windowing
("full" mode attaches only the cells in view) had taken the next form off the page and
Tab left the notebook for the tab bar. The journey runs in the default windowing mode
("contentVisibility") and in "full", each on a fresh learner copy (the shared lab's copy
may already hold answers from another test, and a Space that changes nothing runs no check).
"""

from __future__ import annotations

import ast
import json
import urllib.request
from collections.abc import Iterator

import pytest

from .conftest import Lab, fresh_learner_copy, open_notebook, wait_ms

pytestmark = pytest.mark.browser

CASES = "04-case-studies/01-cases.ipynb"
TRACKER = "/lab/api/settings/@jupyterlab/notebook-extension:tracker"
MAX_TABS_BETWEEN_FORMS = 3
"""Tab presses from one form's last control to the next form's first (1 in this notebook:
no link or other control sits between its forms)."""

FOCUS = """() => {
    const active = document.activeElement;
    const panel = window.jupyterapp.shell.currentWidget;
    const form = active?.closest('.course-AnswerForm');
    return {form: form ? form.dataset.answer : null,
            inNotebook: !!active && panel.content.node.contains(active),
            where: active ? `${active.tagName.toLowerCase()}.${active.className}` : 'none',
            type: active?.type ?? null,
            group: active?.closest('fieldset')?.dataset.group ?? null,
            button: active?.tagName === 'BUTTON'};
}"""


def _put_tracker_settings(lab: Lab, raw: str) -> None:
    request = urllib.request.Request(
        f"{lab.url}{TRACKER}", method="PUT", data=json.dumps({"raw": raw}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30):
        pass


@pytest.fixture(params=["contentVisibility", "full"])
def windowing(lab: Lab, request: pytest.FixtureRequest) -> Iterator[str]:
    """The notebook windowing mode of the lab's user settings, restored afterwards."""
    with urllib.request.urlopen(f"{lab.url}{TRACKER}", timeout=30) as response:
        saved = json.load(response)["raw"]
    _put_tracker_settings(lab, json.dumps({"windowingMode": request.param}))
    yield request.param
    _put_tracker_settings(lab, saved)


def _focus(page) -> dict:
    return page.evaluate(FOCUS)


def _press(page, key: str) -> dict:
    """Press ``key`` and return where the focus is once it has moved (a Tab that the
    forms hand on to a cell off the page moves it a few frames later)."""
    page.evaluate("() => { window.__courseFrom = document.activeElement; }")
    page.keyboard.press(key)
    if key.startswith("Tab") or key.startswith("Shift+Tab"):
        page.wait_for_function("() => document.activeElement !== window.__courseFrom",
                               timeout=wait_ms(30))
    return _focus(page)


def _settled(page, name: str) -> None:
    """Wait until the form's check has answered (its status is no longer "Checking…")."""
    page.wait_for_function("""name => {
        const status = document.querySelector(
            `.course-AnswerForm[data-answer="${name}"] .course-AnswerForm-status`);
        const text = status?.textContent ?? '';
        return text && !text.startsWith('Checking') && !text.startsWith('Running');
    }""", arg=name, timeout=wait_ms(60))


def _tab_to(page, name: str, key: str = "Tab") -> dict:
    """Tab from the last control of a form to the first of form ``name`` (or Shift+Tab
    back to its last); the focus must stay in the notebook on the way."""
    for _ in range(MAX_TABS_BETWEEN_FORMS):
        at = _press(page, key)
        assert at["inNotebook"], f"focus left the notebook on the way to {name}: {at['where']}"
        if at["form"] == name:
            return at
    pytest.fail(f"{MAX_TABS_BETWEEN_FORMS} Tabs did not reach {name}: focus on {at['where']}")


def _answer_case(page, name: str) -> None:
    """Decision: Space, then ArrowDown (the second option); two reasons and one step."""
    for key in ("Space", "ArrowDown"):
        page.keyboard.press(key)
        _settled(page, name)
    at = _press(page, "Tab")
    assert at["group"] == "reasons", at
    for index in range(2):
        if index:
            at = _press(page, "Tab")
        page.keyboard.press("Space")
        _settled(page, name)
    while at["group"] != "management":
        at = _press(page, "Tab")
        assert at["form"] == name, f"Tab left {name} before its steps: {at['where']}"
    page.keyboard.press("Space")
    _settled(page, name)
    while not at["button"]:  # on to "Show code", the form's last control
        at = _press(page, "Tab")
        assert at["form"] == name, f"focus left {name} after the answer: {at['where']}"


def _answer_choice(page, name: str) -> None:
    """Space chooses (a), ArrowDown moves to and chooses (b); then on to "Show code"."""
    for key in ("Space", "ArrowDown"):
        page.keyboard.press(key)
        _settled(page, name)
    at = _press(page, "Tab")
    assert at["form"] == name and at["button"], f"focus left {name}: {at['where']}"


def test_every_case_and_question_is_answered_by_keyboard_alone(
        lab: Lab, browser_page, windowing: str) -> None:
    page, errors = browser_page
    open_notebook(page, lab.url, fresh_learner_copy(lab, CASES))
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content"
                         ".notebookConfig.windowingMode") == windowing
    forms = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .map(cell => (cell.model.getMetadata('course') || {}).answer)
        .filter(Boolean).map(spec => [spec.name, spec.kind])""")
    assert len(forms) == 15
    first = forms[0][0]
    page.evaluate("""name => { const notebook = window.jupyterapp.shell.currentWidget.content;
        return notebook.scrollToItem(notebook.widgets.findIndex(
            cell => (cell.model.getMetadata('course') || {}).answer?.name === name), 'center');
    }""", first)
    # The starting point: the first form's first option (the learner's first Tab stop).
    page.locator(f'.jp-NotebookPanel:visible .course-AnswerForm[data-answer="{first}"] '
                 "input").first.focus()
    for index, (name, kind) in enumerate(forms):
        if index:
            _tab_to(page, name)
        (_answer_case if kind == "case" else _answer_choice)(page, name)
    # And back: Shift+Tab from the last form's option reaches the form before it (by way
    # of the active cell itself, which JupyterLab makes a Tab stop).
    last, before = forms[-1][0], forms[-2][0]
    at = _press(page, "Shift+Tab")
    assert at["form"] == last and at["type"] == "radio", at
    at = _tab_to(page, before, "Shift+Tab")
    assert at["button"], f"Shift+Tab from {last} reached {at['where']}"
    sources = page.evaluate("""() => Object.fromEntries(
        window.jupyterapp.shell.currentWidget.content.widgets
            .filter(cell => (cell.model.getMetadata('course') || {}).answer)
            .map(cell => [cell.model.getMetadata('course').answer.name,
                          cell.model.sharedModel.getSource()]))""")
    for name, kind in forms:
        _, _, value = sources[name].partition(" = ")
        answer = ast.literal_eval(value)
        if kind == "case":
            assert answer["decision"] == "proceed_with_precautions", (name, answer)
            assert len(answer["reasons"]) == 2 and len(answer["management"]) == 1, answer
        else:
            assert answer == "b", (name, answer)
    assert errors.messages == []
