"""Answer forms in a real JupyterLab: choice, number and case, by mouse and by keyboard.

A migrated copy of the course (``python -m course.forms migrate``) is released, started
and served with the prebuilt extension from ``course/labextension`` (found through
JUPYTER_PATH, as an installed package would place it). Screenshots of each kind of form
go to test-output/browser/.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.forms.bundle import BUNDLE_DIR, NAME

from ..conftest import ROOT, free_port
from .conftest import Lab, _require_browser, wait_until_serving

pytestmark = pytest.mark.browser

QUIZ = "assignments/01-principles/03-quiz.ipynb"
CASES = "assignments/04-case-studies/01-cases.ipynb"


@pytest.fixture(scope="module")
def forms_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _require_browser()
    if not (BUNDLE_DIR / "package.json").is_file():
        pytest.fail("no built extension in course/labextension: run `make labextension`")
    root = tmp_path_factory.mktemp("forms-course")
    shutil.copytree(ROOT / "source", root / "source")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    jupyter_path = root / ".jupyter-path"
    (jupyter_path / "labextensions").mkdir(parents=True)
    (jupyter_path / "labextensions" / NAME).symlink_to(BUNDLE_DIR)
    settings = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    config = root / ".jupyter-config" / "jupyter_server_config.d"
    config.mkdir(parents=True)  # as the package installs it: the "Check my answers" endpoint
    shutil.copy2(ROOT / "jupyter-config" / "jupyter_server_config.d" /
                 "course.check_service.json", config)
    env = {**os.environ, "COURSE_ROOT": str(root), "JUPYTER_PATH": str(jupyter_path),
           "JUPYTER_CONFIG_PATH": str(config.parent),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".lab-workspaces")}
    python = [sys.executable, "-m"]
    for args in (["course.forms", "migrate", str(root / "source")],
                 ["course.cli", "release", "01-principles", "04-case-studies"],
                 ["course.cli", "start", "01-principles", "04-case-studies"]):
        subprocess.run([*python, *args], env=env, cwd=root, check=True, capture_output=True)
    port = free_port()
    log = root / "lab.log"
    process = subprocess.Popen(
        [*python, "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={root}",
         "--allow-root"],
        env=env, cwd=root, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log, "JupyterLab")
    yield Lab(url, root, process, log)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _open(page, lab: Lab, notebook: str, run_all: bool = False) -> None:
    page.goto(f"{lab.url}/lab/tree/{notebook}")
    page.wait_for_selector(".course-AnswerForm", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel",
        timeout=60_000)
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.sessionContext.ready;
    }""")
    if run_all:
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _form(page, name: str):
    return page.locator(f'.jp-NotebookPanel:visible .course-AnswerForm[data-answer="{name}"]')


def _source(page, name: str) -> str:
    return page.evaluate("""name => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cell = panel.content.widgets.find(
            c => (c.model.getMetadata('course') || {}).answer?.name === name);
        return cell.model.sharedModel.getSource();
    }""", name)


def _wait_status(form, text: str) -> None:
    form.locator(f".course-AnswerForm-status:has-text('{text}')").wait_for(timeout=60_000)


def test_choice_and_number_by_mouse_then_run_all(forms_lab: Lab, browser_page,
                                                 screenshots: Path) -> None:
    page, errors = browser_page
    _open(page, forms_lab, QUIZ)
    choice = _form(page, "answer_q1_3_1")
    choice.locator("label:has-text('(b) ')").click()
    _wait_status(choice, "Format OK")
    assert _source(page, "answer_q1_3_1") == 'answer_q1_3_1 = "b"'
    choice.scroll_into_view_if_needed()
    choice.screenshot(path=str(screenshots / "answer-form-choice.png"))

    number = _form(page, "answer_q1_3_10")
    number.locator("input").fill("3,7")
    number.locator("button:has-text('Check format')").click()
    _wait_status(number, "Format OK")
    assert _source(page, "answer_q1_3_10") == "answer_q1_3_10 = 3.7"
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


def test_choice_and_number_by_keyboard(forms_lab: Lab, browser_page) -> None:
    page, errors = browser_page
    _open(page, forms_lab, QUIZ)
    choice = _form(page, "answer_q1_3_2")
    first = choice.locator("input[type=radio]").first
    first.focus()
    page.keyboard.press("Space")
    _wait_status(choice, "Format OK")
    page.keyboard.press("ArrowDown")  # native radio group: arrows move and choose
    page.wait_for_function("""() => document.querySelector(
        '.course-AnswerForm[data-answer="answer_q1_3_2"] input[value="b"]').checked""")
    _wait_status(choice, "Format OK")
    assert _source(page, "answer_q1_3_2") == 'answer_q1_3_2 = "b"'
    focused = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focused != "none"
    number = _form(page, "answer_q1_3_11")
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


def test_case_by_mouse_and_keyboard_with_its_limits(forms_lab: Lab, browser_page,
                                                    screenshots: Path) -> None:
    page, errors = browser_page
    _open(page, forms_lab, CASES)
    form = _form(page, "answer_q4_1_1")
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
    name, _, value = _source(page, "answer_q4_1_1").partition(" = ")
    answer = ast.literal_eval(value)
    assert name == "answer_q4_1_1" and answer["decision"] == "proceed"
    assert len(answer["reasons"]) == 3 and len(answer["management"]) == 2
    form.screenshot(path=str(screenshots / "answer-form-case.png"))
    assert errors.messages == []


def test_check_my_answers_shows_score_and_rationales_in_the_notebook(
        forms_lab: Lab, browser_page, screenshots: Path) -> None:
    page, errors = browser_page
    _open(page, forms_lab, QUIZ)
    form = _form(page, "answer_q1_3_1")
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
