"""A learner's journey through the assessed quizzes, through the answer forms only.

The quizzes of modules 01 to 03 and the final assessment: each is opened, every graded
item answered (some right, some wrong: the keys come from the instructor's source/
notebooks), by mouse in one and by keyboard alone (focus, Space, arrow keys, typing,
Enter) in the next. Then Run All completes with no traceback, and "Check my answers"
shows, in the notebook, exactly the expected score and each item's result. Every wait is
on a condition (a form's status settled, the source written, every cell run, the score
shown), not on time. (The cases notebook, by keyboard, is tests/browser/test_keyboard.py.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat
import pytest

from ..conftest import ROOT
from .conftest import Lab, open_notebook, wait_ms

pytestmark = pytest.mark.browser

QUIZZES = ("01-principles/03-quiz.ipynb", "02-substances/04-quiz.ipynb",
           "03-risk-assessment/05-quiz.ipynb", "05-final-assessment/01-final.ipynb")
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(\w+) = (.+)\n")


@dataclass(frozen=True)
class Item:
    name: str
    kind: str
    key: str
    options: tuple[str, ...]

    @property
    def title(self) -> str:
        """The item's title in the results: answer_q1_3_10 -> Question 1.3.10."""
        return "Question " + self.name.removeprefix("answer_q").replace("_", ".")

    def answer(self, right: bool) -> str:
        """The key, or a wrong answer: another option, or the key plus one."""
        if right:
            return self.key
        if self.kind == "choice":
            return next(option for option in self.options if option != self.key)
        return f"{float(self.key) + 1:g}"


def graded_items(quiz: str) -> list[Item]:
    """The graded form items of a quiz, in order, with their keys from source/."""
    items = []
    for cell in nbformat.read(ROOT / "source" / quiz, as_version=4).cells:
        spec = cell.metadata.get("course", {}).get("answer")
        if not spec or spec.get("practice"):
            continue
        found = SOLUTION.search(cell.source)
        assert found and found.group(1) == spec["name"], f"no solution line for {spec['name']}"
        key = found.group(2).strip().strip('"')
        options = tuple(option["value"] for option in spec.get("options", []))
        items.append(Item(spec["name"], spec["kind"], key, options))
    assert items, f"{quiz} has no graded form items"
    return items


def _form(page, name: str):
    return page.locator(f'.jp-NotebookPanel:visible .course-AnswerForm[data-answer="{name}"]')


def _wait_answered(page, name: str, source: str) -> None:
    """Wait until the cell holds ``source`` and the form's check has answered."""
    page.wait_for_function("""([name, source]) => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cell = panel.content.widgets.find(
            c => (c.model.getMetadata('course') || {}).answer?.name === name);
        const status = panel.node.querySelector(
            `.course-AnswerForm[data-answer="${name}"] .course-AnswerForm-status`);
        const text = status?.textContent ?? '';
        return cell?.model.sharedModel.getSource() === source && text !== ''
            && !text.startsWith('Checking') && !text.startsWith('Running');
    }""", arg=[name, source], timeout=wait_ms(90))


def _by_mouse(page, item: Item, value: str) -> None:
    form = _form(page, item.name)
    if item.kind == "choice":
        form.locator(f'input[value="{value}"] + label').click()
    else:
        form.locator("input[type=text]").fill(value)
        form.locator("button:has-text('Check format')").click()


def _by_keyboard(page, item: Item, value: str) -> None:
    form = _form(page, item.name)
    if item.kind == "choice":
        form.locator("input[type=radio]").first.focus()
        page.keyboard.press("Space")
        for _ in range(item.options.index(value)):
            page.keyboard.press("ArrowDown")  # a radio group: the arrows move and choose
    else:
        form.locator("input[type=text]").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
        page.keyboard.press("Enter")


def _run_all(page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        return panel.sessionContext.session?.kernel?.status === 'idle'
            && panel.content.widgets.filter(c => c.model.type === 'code')
                .every(c => c.model.executionCount);
    }""", timeout=wait_ms(240))
    errors = page.locator(".jp-NotebookPanel:visible "
                          ".jp-OutputArea-output[data-mime-type*='error']")
    assert errors.count() == 0, errors.first.inner_text()


@pytest.mark.parametrize("quiz, way", [(quiz, "mouse" if i % 2 == 0 else "keyboard")
                                       for i, quiz in enumerate(QUIZZES)],
                         ids=[quiz.split("/")[0] for quiz in QUIZZES])
def test_a_learner_answers_runs_all_and_checks_a_quiz(lab: Lab, browser_page, quiz: str,
                                                      way: str) -> None:
    page, errors = browser_page
    items = graded_items(quiz)
    open_notebook(page, lab.url, f"assignments/{quiz}")
    _form(page, items[0].name).wait_for()
    answer = _by_mouse if way == "mouse" else _by_keyboard
    right = {item.name: index % 3 != 2 for index, item in enumerate(items)}
    for item in items:
        value = item.answer(right[item.name])
        _form(page, item.name).scroll_into_view_if_needed()
        answer(page, item, value)
        literal = f'"{value}"' if item.kind == "choice" else value
        _wait_answered(page, item.name, f"{item.name} = {literal}")
    _run_all(page)

    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".course-CheckButton button, button.course-CheckButton").first.click()
    results = panel.locator(".course-CheckResults")
    results.locator(".course-CheckResults-status:has-text('Your score')").wait_for(
        timeout=wait_ms(240))
    text = results.inner_text()
    assert f"Your score: {sum(right.values())} of {len(items)}." in text
    for item in items:
        verdict = "1 of 1 (credited)" if right[item.name] else "0 of 1 (not credited)"
        assert f"{item.title}: {verdict}" in text
    assert "Traceback" not in text and "AssertionError" not in text
    assert errors.messages == []
