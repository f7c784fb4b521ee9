"""Said once (#18): an item's options are on screen once, in its answer form.

A graded item's stem (a Markdown cell) lists its options, and the answer form below lists
them again. In JupyterLab the extension hides the stem's list where the form shows every
one of its options in full (letter or code and text); the form's labels stay. Checked on
a quiz, the final, the cases and the evaluation, in both windowing modes ("contentVisibility", the
default, attaches every cell; "full" only those in view). A list that does not match
every option (a teaching list, a stem edited to differ) stays visible, the list comes back
when its form goes, and the final's status line reminds the learner of an answer that has
no certainty yet.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Lab, fresh_learner_copy, open_notebook, save_notebook, wait_ms
from .notebook_axe import open_alone

pytestmark = pytest.mark.browser

QUIZ = "01-principles/03-quiz.ipynb"
FINAL = "05-final-assessment/01-final.ipynb"
CASES = "04-case-studies/01-cases.ipynb"
LESSON = "03-risk-assessment/03-safety-and-emergencies.ipynb"
EVALUATION = "06-evaluation/01-evaluation.ipynb"
TRACKER = "/lab/api/settings/@jupyterlab/notebook-extension:tracker"
HIDDEN = "course-mod-optionsInForm"
REMINDER = "How sure are you? not chosen yet: it counts as low."

FORMS = """() => {
    // The choice and case forms whose stem is a Markdown cell right above (a practice
    // question printed by question() is a code cell's output, hidden by its own style).
    const widgets = window.jupyterapp.shell.currentWidget.content.widgets;
    return widgets.map((cell, at) => [cell, widgets[at - 1]])
        .map(([cell, above]) => [(cell.model.getMetadata('course') || {}).answer, above])
        .filter(([spec, above]) => spec && spec.kind !== 'number'
                && above?.model.type === 'markdown')
        .map(([spec]) => spec.name);
}"""

SHOW = """async name => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const index = notebook.widgets.findIndex(
        cell => (cell.model.getMetadata('course') || {}).answer?.name === name);
    await notebook.scrollToItem(index, 'center');
}"""

SHOWN_ONCE = """name => {
    // Where each option of form `name` is on screen: the stem's lists (the Markdown
    // cells right above the answer cell) that hold it, and the form's labels.
    const widgets = window.jupyterapp.shell.currentWidget.content.widgets;
    const index = widgets.findIndex(
        cell => (cell.model.getMetadata('course') || {}).answer?.name === name);
    const cell = widgets[index];
    const spec = cell.model.getMetadata('course').answer;
    const form = cell.node.querySelector('.course-AnswerForm');
    const stems = [];
    for (let at = index - 1; at >= 0 && widgets[at].model.type === 'markdown'; at--) {
        stems.push(widgets[at].node.querySelector('.jp-RenderedMarkdown'));
    }
    // The nearest must be on the page (windowing "full" may leave a heading cell above
    // it off the page).
    if (!form?.isConnected || !stems[0]?.isConnected || !stems[0].textContent.trim()) {
        return {ready: false};
    }
    const norm = text => text.replace(/\\s+/g, ' ').trim();
    const lists = stems.filter(stem => stem?.isConnected)
        .flatMap(stem => [...stem.querySelectorAll('ul, ol')]);
    const groups = spec.kind === 'choice' ? [['choice', spec.options]]
        : [['decision', spec.decision], ['reasons', spec.reasons],
           ['management', spec.management]];
    const problems = [];
    let options = 0;
    for (const [group, choices] of groups) {
        for (const option of choices) {
            options++;
            // As the stem writes it: "(a) text", or "CODE: text" in a case.
            const keyed = group === 'choice' ? `(${option.value}) ${option.label}`
                : `${option.value}: ${option.label}`;
            const items = lists.flatMap(list => [...list.children])
                .filter(item => norm(item.textContent) === norm(keyed));
            if (!items.length) problems.push(`${keyed}: not in the stem's lists`);
            for (const item of items) {
                const list = item.parentElement;
                if (item.checkVisibility() || getComputedStyle(list).display !== 'none'
                    || !list.classList.contains('""" + HIDDEN + """')) {
                    problems.push(`${keyed}: still shown in the stem`);
                }
            }
            const labels = [...form.querySelectorAll('label')]
                .filter(label => norm(label.textContent) === norm(keyed));
            if (labels.length !== 1 || !labels[0].checkVisibility()) {
                problems.push(`${keyed}: ${labels.length} visible labels in the form`);
            }
        }
    }
    return {ready: true, problems, options};
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


def _private_copy(lab: Lab, notebook: str) -> str:
    """A copy of the released ``notebook`` that only this file opens (its edits never
    reach the learner copies that other tests open)."""
    target = lab.root / "assignments" / notebook.replace(".ipynb", "-options-once.ipynb")
    shutil.copy2(lab.root / "release" / notebook, target)
    return str(target.relative_to(lab.root))


def _shown_once(page, name: str) -> dict:
    """Scroll form ``name`` into view and wait (a few seconds at most) until its options
    are shown once; return what the page shows."""
    page.evaluate(SHOW, name)
    deadline = time.monotonic() + wait_ms(20) / 1000
    while True:
        shown = page.evaluate(SHOWN_ONCE, name)
        if (shown["ready"] and not shown["problems"]) or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(200)


def _hidden_lists(page) -> list[str]:
    return page.evaluate(f"""() => [...window.jupyterapp.shell.currentWidget.content.node
        .querySelectorAll('.{HIDDEN}')].map(list => list.dataset.courseAnswer)""")


def test_every_form_shows_its_options_once(lab: Lab, browser_page, windowing: str,
                                           screenshots: Path) -> None:
    page, errors = browser_page
    for notebook, count in ((QUIZ, 16), (FINAL, 28), (CASES, 8),
                             (EVALUATION, 4)):
        open_alone(page, lab, fresh_learner_copy(lab, notebook))  # one load for the four
        assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content"
                             ".notebookConfig.windowingMode") == windowing
        page.locator(".jp-NotebookPanel:visible .jp-Cell").first.wait_for(
            timeout=wait_ms(60))
        names = page.evaluate(FORMS)
        assert len(names) == count, (notebook, names)
        for name in names:
            shown = _shown_once(page, name)
            assert shown["ready"], f"{notebook} {name}: the form or its stem never showed"
            assert shown["problems"] == [], (notebook, name, shown["problems"])
            assert shown["options"] >= 4
        if windowing == "contentVisibility":  # the first item, stem and form, as seen
            page.evaluate(SHOW, names[0])
            page.locator(".jp-NotebookPanel:visible").screenshot(
                path=str(screenshots / f"options-once-{Path(notebook).stem}.png"))
    assert errors.messages == []


def test_a_list_that_differs_stays_and_comes_back_with_its_form(lab: Lab,
                                                                browser_page) -> None:
    page, errors = browser_page
    # A lesson: its three graded items' lists are hidden; its teaching lists are not.
    open_notebook(page, lab.url, fresh_learner_copy(lab, LESSON))
    page.locator(".jp-NotebookPanel:visible .course-AnswerForm").first.wait_for(
        timeout=wait_ms(60))
    for name in ("answer_q3_3_10", "answer_q3_3_11", "answer_q3_3_12"):
        assert _shown_once(page, name)["problems"] == [], name
    assert sorted(_hidden_lists(page)) == ["answer_q3_3_10", "answer_q3_3_11",
                                           "answer_q3_3_12"]
    teaching = page.evaluate("""() => [...window.jupyterapp.shell.currentWidget.content.node
        .querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown ul')]
        .filter(list => list.checkVisibility()).length""")
    assert teaching > 0

    # A stem whose list no longer matches every option (one option left out, then one
    # reworded) is shown in full; put back, it is hidden again. Edit, then run: the
    # Markdown cell renders anew.
    open_alone(page, lab, _private_copy(lab, QUIZ))  # in the JupyterLab already loaded
    page.locator(".jp-NotebookPanel:visible .course-AnswerForm").first.wait_for(
        timeout=wait_ms(60))
    assert _shown_once(page, "answer_q1_3_2")["problems"] == []
    original = page.evaluate("""() => {
        const widgets = window.jupyterapp.shell.currentWidget.content.widgets;
        const index = widgets.findIndex(cell =>
            (cell.model.getMetadata('course') || {}).answer?.name === 'answer_q1_3_2');
        window.__stem = widgets[index - 1];
        return window.__stem.model.sharedModel.getSource();
    }""")
    partial = original.replace("- (d) Little, rarely, and in the right place.\n", "")
    reworded = original.replace("(b) Little, often,", "(b) Little, very often,")
    for source in (partial, reworded):
        assert source != original
        page.evaluate("""source => {
            const stem = window.__stem;
            stem.rendered = false;
            stem.model.sharedModel.setSource(source);
            stem.rendered = true;
        }""", source)
        page.wait_for_function(f"""() => {{
            const list = window.__stem.node.querySelector('.jp-RenderedMarkdown ul');
            return list && list.checkVisibility() && !list.classList.contains('{HIDDEN}')
                && list.textContent.includes('(a) Gently');
        }}""", timeout=wait_ms(30))
        page.wait_for_timeout(500)  # a late re-hide would show here
        assert "answer_q1_3_2" not in _hidden_lists(page)
    page.evaluate("""source => {
        const stem = window.__stem;
        stem.rendered = false;
        stem.model.sharedModel.setSource(source);
        stem.rendered = true;
    }""", original)
    assert _shown_once(page, "answer_q1_3_2")["problems"] == []

    # Without its form (the cell's answer metadata gone), the item's list comes back.
    assert _shown_once(page, "answer_q1_3_1")["problems"] == []
    page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .find(cell => (cell.model.getMetadata('course') || {}).answer?.name
              === 'answer_q1_3_1').model.deleteMetadata('course')""")
    page.wait_for_function(f"""() => {{
        const form = document.querySelector('.course-AnswerForm[data-answer="answer_q1_3_1"]');
        const lists = [...document.querySelectorAll('.jp-RenderedMarkdown ul')]
            .filter(list => list.textContent.includes('(a) A patient with asthma'));
        return !form && lists.length === 1 && lists[0].checkVisibility()
            && !lists[0].classList.contains('{HIDDEN}');
    }}""", timeout=wait_ms(30))
    assert "answer_q1_3_1" not in _hidden_lists(page)
    assert "answer_q1_3_3" in _hidden_lists(page)  # the other items keep theirs hidden
    assert errors.messages == []


def _status(page, name: str) -> str:
    """The form's status line (its aria-live region), as shown once scrolled to."""
    page.evaluate(SHOW, name)
    status = page.locator(f'.jp-NotebookPanel:visible .course-AnswerForm[data-answer="{name}"] '
                          "[role=status]")
    status.scroll_into_view_if_needed()
    return status.inner_text()


def _wait_reminder(page, name: str, shown: bool) -> None:
    page.wait_for_function("""([name, reminder, shown]) => {
        const status = document.querySelector(
            `.course-AnswerForm[data-answer="${name}"] [role=status]`);
        const text = status?.innerText ?? '';
        return !!status && !text.startsWith('Checking') && !text.startsWith('Running')
            && text.includes(reminder) === shown;
    }""", arg=[name, REMINDER, shown], timeout=wait_ms(90))


def test_the_final_reminds_of_an_answer_without_certainty(lab: Lab, browser_page) -> None:
    page, errors = browser_page
    path = fresh_learner_copy(lab, FINAL)
    open_notebook(page, lab.url, path)
    form = page.locator('.jp-NotebookPanel:visible .course-AnswerForm[data-answer="answer_q5_1_1"]')
    form.wait_for(timeout=wait_ms(60))
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
        .session?.kernel?.status === 'idle'""", timeout=wait_ms(180))
    assert REMINDER not in _status(page, "answer_q5_1_1")  # no answer yet: nothing to say

    form.scroll_into_view_if_needed()
    form.locator("label:has-text('(b) ')").click()
    _wait_reminder(page, "answer_q5_1_1", True)
    status = _status(page, "answer_q5_1_1")
    assert "Format OK" in status and status.count(REMINDER) == 1
    form.locator("fieldset.course-AnswerForm-certainty label:has-text('Medium')").click()
    _wait_reminder(page, "answer_q5_1_1", False)
    assert "Format OK" in _status(page, "answer_q5_1_1")

    # A number item asks for no certainty: no reminder.
    number = page.locator(
        '.jp-NotebookPanel:visible .course-AnswerForm[data-answer="answer_q5_1_2"]')
    number.scroll_into_view_if_needed()
    number.locator("input[type=text]").fill("60")
    number.locator("button:has-text('Check format')").click()
    page.wait_for_function("""() => (document.querySelector(
        '.course-AnswerForm[data-answer="answer_q5_1_2"] [role=status]')?.innerText ?? '')
        .includes('Format OK')""", timeout=wait_ms(90))
    assert REMINDER not in _status(page, "answer_q5_1_2")

    # Saved and reopened: the answer without certainty still has its reminder.
    third = page.locator(
        '.jp-NotebookPanel:visible .course-AnswerForm[data-answer="answer_q5_1_3"]')
    third.scroll_into_view_if_needed()
    third.locator("label:has-text('(c) ')").click()
    _wait_reminder(page, "answer_q5_1_3", True)
    save_notebook(page, lab.root / path, 'answer_q5_1_3 = \\"c\\"')
    open_notebook(page, lab.url, path)
    page.locator('.jp-NotebookPanel:visible .course-AnswerForm[data-answer="answer_q5_1_3"]'
                 ).wait_for(timeout=wait_ms(60))
    assert REMINDER in _status(page, "answer_q5_1_3")
    assert REMINDER not in _status(page, "answer_q5_1_1")
    assert errors.messages == []
