"""The start-here notebook in a real browser: widgets, the self-study journey, the
learner's JupyterLab (`make lab`: no instructor tools, no source/) and the formgrader of
the full course."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import (
    OUTPUT,
    _require_browser,
    answer_form,
    configure_page,
    form_state,
    fresh_learner_copy,
    open_notebook,
    rendered_check,
    wait_check_says,
    wait_form_says,
    wait_ms,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "00-orientation/00-start-here.ipynb"
PRACTICE = "answer_q0_1"


def _open_and_run_all(page, lab) -> None:
    # unanswered: the journey (tests/browser/test_learner_journey.py) answers this notebook
    open_notebook(page, lab.url, fresh_learner_copy(lab, NOTEBOOK))
    # JupyterLab's own command (the app is exposed as window.jupyterapp by
    # --LabApp.expose_app_in_browser).
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # Run All runs to the end: the unanswered graded item's check says so, without an error.
    wait_check_says(page, "answer_q0_2", "Not answered yet")


def _choose(page, letter: str, says: str) -> str:
    """Click option ``letter`` of the practice question's form; once the form's status
    line gives the check's result, the check cell's rendered output."""
    answer_form(page, PRACTICE).locator(f"label:has-text('({letter}) ')").click()
    wait_form_says(page, PRACTICE, says)
    shown = rendered_check(page, PRACTICE)
    assert shown.startswith(says), (shown, form_state(page, PRACTICE))
    return shown


def test_practice_form_gives_feedback_for_each_choice(lab, browser_page, screenshots) -> None:
    """The practice question (once, as a form): a wrong choice, then the right one."""
    page, errors = browser_page
    _open_and_run_all(page, lab)
    _choose(page, "a", "Not the best answer (a)")
    text = _choose(page, "b", "Correct.")
    assert "supervised practice" in text.lower()
    page.screenshot(path=str(screenshots / "00-start-here.png"), full_page=True)
    assert errors.messages == []


def test_learner_answers_in_the_form_and_reads_the_rationale(lab, browser_page) -> None:
    """The practice question is answered by choosing in its form, not by typing code."""
    page, errors = browser_page
    _open_and_run_all(page, lab)
    text = _choose(page, "d", "Not the best answer (d)")
    assert "observed, supervised practice" in text
    assert form_state(page, PRACTICE)["source"].startswith('answer_q0_1 = "d"')
    assert errors.messages == []


def test_formgrader_lists_the_course_assignments(lab, browser_page) -> None:
    page, errors = browser_page
    page.goto(f"{lab.url}/formgrader")
    page.wait_for_selector("text=00-orientation", timeout=wait_ms(120))
    assert errors.messages == []


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """JupyterLab started with the command `make lab` runs, in a copy of the course."""
    from ..test_workspace import _serve

    _require_browser()
    yield from _serve(tmp_path_factory.mktemp("learner-browser"), "lab")


def test_the_learner_lab_shows_no_instructor_tools_and_no_source(learner_lab,
                                                                 module_browser) -> None:
    from playwright.sync_api import expect

    from ..test_workspace import LEARNER_OFF_LAB, LEARNER_ON_LAB

    page = module_browser.new_page()
    try:
        configure_page(page)
        page.goto(learner_lab.url)  # make lab's address opens the start-here notebook
        heading = page.locator(".jp-NotebookPanel .jp-RenderedMarkdown h1").first
        expect(heading).to_be_visible(timeout=wait_ms(120))
        assert page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path") == \
            "00-orientation/00-start-here.ipynb"
        plugins = page.evaluate("""ids => Object.fromEntries(ids.map(
            id => [id, window.jupyterapp.hasPlugin(id)]))""", [*LEARNER_OFF_LAB, *LEARNER_ON_LAB])
        assert plugins == {**dict.fromkeys(LEARNER_OFF_LAB, False),
                           **dict.fromkeys(LEARNER_ON_LAB, True)}
        menus = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").all_inner_texts()
        assert "File" in menus and "Nbgrader" not in menus
        assert page.get_by_text("Create Assignment").count() == 0
        assert page.get_by_text("Formgrader").count() == 0
        # The file browser's root is assignments/: source/ and release/ are not in it.
        page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:go-to-path', "
                      "{path: '/'})")
        listing = page.locator(".jp-FileBrowser .jp-DirListing-itemName")
        expect(listing.filter(has_text="00-orientation")).to_be_visible(timeout=wait_ms(60))
        names = {name.strip() for name in listing.all_inner_texts()}
        assert "source" not in names and "release" not in names, names
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "learner-lab.png"))
    finally:
        page.close()
