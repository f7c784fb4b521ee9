"""The final's "How sure are you?" picker (certainty-based marking), by mouse and keyboard.

In the final, each single-best-answer form has a second radio group, labelled, with low,
medium and high; choosing writes ``certainty_q… = "level"`` under the answer line. The
choice survives a save and a reopen; number forms have no picker; the learner's copy
starts with none (the released stub).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import (
    Lab,
    answer_form,
    form_state,
    fresh_learner_copy,
    open_notebook,
    save_notebook,
    wait_ms,
)

pytestmark = pytest.mark.browser

FINAL = "05-final-assessment/01-final.ipynb"


def _wait_source(page, name: str, source: str) -> None:
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


def _picker(page, name: str):
    return answer_form(page, name).locator("fieldset.course-AnswerForm-certainty")


def test_certainty_picker_by_mouse_and_keyboard(lab: Lab, browser_page,
                                                screenshots: Path) -> None:
    page, errors = browser_page
    path = fresh_learner_copy(lab, FINAL)
    open_notebook(page, lab.url, path)
    answer_form(page, "answer_q5_1_1").wait_for(timeout=wait_ms(60))
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
        .session?.kernel?.status === 'idle'""", timeout=wait_ms(180))

    # Labelled and native: a fieldset whose legend asks the question, a label per level.
    picker = _picker(page, "answer_q5_1_1")
    picker.scroll_into_view_if_needed()
    assert picker.locator("legend").text_content() == "How sure are you?"
    labels = picker.locator("label").all_text_contents()
    assert [text.split(" ")[0] for text in labels] == ["Low", "Medium", "High"]
    for radio in picker.locator("input[type=radio]").all():
        assert page.locator(f'label[for="{radio.get_attribute("id")}"]').count() == 1
        assert not radio.is_checked()  # the released stub holds no certainty
    assert form_state(page, "answer_q5_1_1")["source"].startswith("answer_q5_1_1 = None")
    assert _picker(page, "answer_q5_1_2").count() == 0  # a number item: no picker

    # Mouse: an answer, then a certainty; both lines in the cell.
    form = answer_form(page, "answer_q5_1_1")
    form.locator("label:has-text('(b) ')").click()
    _wait_source(page, "answer_q5_1_1", 'answer_q5_1_1 = "b"')
    picker.locator("label:has-text('Medium')").click()
    _wait_source(page, "answer_q5_1_1",
                 'answer_q5_1_1 = "b"\ncertainty_q5_1_1 = "medium"')
    # changing the answer keeps the certainty
    form.locator("label:has-text('(c) ')").click()
    _wait_source(page, "answer_q5_1_1",
                 'answer_q5_1_1 = "c"\ncertainty_q5_1_1 = "medium"')
    form.scroll_into_view_if_needed()
    form.screenshot(path=str(screenshots / "answer-form-certainty.png"))

    # Keyboard: Space and the arrows in the answer group, Tab into the picker, Space and
    # the arrows there; the focus stays visible.
    keyboard = answer_form(page, "answer_q5_1_3")
    keyboard.scroll_into_view_if_needed()
    keyboard.locator("input[type=radio]").first.focus()
    page.keyboard.press("Space")
    _wait_source(page, "answer_q5_1_3", 'answer_q5_1_3 = "a"')
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => [document.activeElement.name,
        document.activeElement.value,
        getComputedStyle(document.activeElement).outlineStyle]""")
    assert focused[1] == "low" and focused[0].endswith("-certainty") and focused[2] != "none"
    page.keyboard.press("Space")
    _wait_source(page, "answer_q5_1_3", 'answer_q5_1_3 = "a"\ncertainty_q5_1_3 = "low"')
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    _wait_source(page, "answer_q5_1_3", 'answer_q5_1_3 = "a"\ncertainty_q5_1_3 = "high"')
    assert _picker(page, "answer_q5_1_3").locator('input[value="high"]').is_checked()

    # Saved and reopened: the form shows what the cell holds.
    save_notebook(page, lab.root / path, 'certainty_q5_1_3 = \\"high\\"')
    open_notebook(page, lab.url, path)
    reopened = _picker(page, "answer_q5_1_3")
    reopened.wait_for(timeout=wait_ms(60))
    page.wait_for_function("""() => document.querySelector(
        '.course-AnswerForm[data-answer="answer_q5_1_3"] input[value="high"]')?.checked""",
                           timeout=wait_ms(30))
    assert _picker(page, "answer_q5_1_1").locator('input[value="medium"]').is_checked()
    assert errors.messages == []
