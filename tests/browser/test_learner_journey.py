"""A learner's journey through every assessed notebook, through the answer forms only.

The orientation's graded question, the quizzes of modules 01 to 03, the key-feature
cases of module 04 and the final assessment: each is opened, every graded item and case
answered (some right, some wrong: the keys come from the instructor's source/ notebooks;
a per-learner item's, 3.5.11's, is the lab's learner's, whose numbers the lab shows),
by mouse in one and by keyboard alone (focus, Space, arrow keys, typing, Enter) in the
next; the cases by mouse and by keyboard in turn. Then Run All completes with no
traceback, and "Check my answers" shows, in the notebook, exactly the expected score and
each item's result. The saved notebook is then graded as an instructor grades it, as
that learner, in a copy of one course template generated once for the module: the tool
gives exactly the expected score per test cell, the score the notebook showed. Every wait
is on a condition (a form's status settled, the source written, every cell run, the score
shown), not on time. (Tab order through the cases notebook is tests/browser/test_keyboard.py.)
Last, on the same page, axe-core checks the answered notebook with its results, and the
notebook is photographed (tests/browser/notebook_axe.py): test_axe.py leaves these out.

The grading tool (GRADED_BY): stock `nbgrader autograde` is the reference; `course grade`
grades a notebook where another test proves that it scores exactly as stock nbgrader does
on that notebook:

- the orientation: tests/test_cohort.py::test_scores_are_identical_to_nbgrader_autograde;
- the 03-risk-assessment quiz: tests/test_variant_grading.py::
  test_nbgrader_autograde_and_course_grade_score_each_learner_on_their_own_numbers;
- the final (certainty-based marks): tests/test_cbm_roundtrip.py::
  test_nbgrader_and_course_grade_agree_on_every_cbm_score.

The cases notebook, whose key-feature cases no other test grades with both tools, is
graded by both, and their rows must be equal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.variants import ITEMS, variant

from .conftest import (
    Lab,
    answer_form,
    form_state,
    fresh_learner_copy,
    open_notebook,
    require_axe,
    wait_ms,
)
from .journey_grading import (
    LEARNER,
    LEVELS,
    STUDENT,
    TOOLS,
    Item,
    certainty_name,
    credit,
    expected_headings,
    expected_scores,
    grade_saved_notebooks,
    graded_items,
    make_template,
    numbers_shown,
    shown,
    verdict,
)
from .notebook_axe import JOURNEY_NOTEBOOKS, check_axe, wait_for_every_widget

pytestmark = pytest.mark.browser

JOURNEY = (("00-orientation/00-start-here.ipynb", "keyboard"),
           ("01-principles/03-quiz.ipynb", "mouse"),
           ("02-substances/04-quiz.ipynb", "keyboard"),
           ("03-risk-assessment/05-quiz.ipynb", "mouse"),
           ("04-case-studies/01-cases.ipynb", "both"),
           ("05-final-assessment/01-final.ipynb", "keyboard"))
STOCK, OURS = TOOLS
GRADED_BY = {"00-orientation": (OURS,), "01-principles": (STOCK,), "02-substances": (STOCK,),
             "03-risk-assessment": (OURS,), "04-case-studies": TOOLS,
             "05-final-assessment": (OURS,)}
"""Assignment -> the tools that grade its saved notebook (see the module's docstring)."""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One course generated with every journey's assignment (copied for each grading)."""
    return make_template(tmp_path_factory.mktemp("journey") / "template",
                         [notebook.split("/")[0] for notebook, _ in JOURNEY])


def _wait_kernel_idle(page) -> None:
    """The notebook's kernel has started and is idle (a first answer runs the set-up cell)."""
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
        .session?.kernel?.status === 'idle'""", timeout=wait_ms(180))


def _wait_answered(page, name: str, source: str) -> None:
    """Wait until the cell holds ``source`` and the form's check has answered."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        _wait_for_answer(page, name, source)
    except PlaywrightTimeout:
        pytest.fail(f"{name}: expected {source!r}; the page shows {form_state(page, name)}")


def _wait_for_answer(page, name: str, source: str) -> None:
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


def _wait_case_answered(page, name: str, answer: dict) -> None:
    """Wait until the case's cell holds ``answer`` (codes in any order) and its form's
    check has answered."""
    page.wait_for_function("""([name, want]) => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cell = panel.content.widgets.find(
            c => (c.model.getMetadata('course') || {}).answer?.name === name);
        const status = panel.node.querySelector(
            `.course-AnswerForm[data-answer="${name}"] .course-AnswerForm-status`);
        const text = status?.textContent ?? '';
        if (!cell || text === '' || text.startsWith('Checking') || text.startsWith('Running'))
            return false;
        const source = cell.model.sharedModel.getSource();
        const prefix = `${name} = `;
        if (!source.startsWith(prefix)) return false;
        let got;
        try { got = JSON.parse(source.slice(prefix.length)); } catch { return false; }
        const same = (a, b) => JSON.stringify([...(a || [])].sort())
            === JSON.stringify([...b].sort());
        return got.decision === want.decision && same(got.reasons, want.reasons)
            && same(got.management, want.management);
    }""", arg=[name, answer], timeout=wait_ms(90))


def _by_mouse(page, item: Item, value: str) -> None:
    form = answer_form(page, item.name)
    if item.kind == "choice":
        form.locator(f'input[value="{value}"] + label').click()
    else:
        form.locator("input[type=text]").fill(value)
        form.locator("button:has-text('Check format')").click()


def _by_keyboard(page, item: Item, value: str) -> None:
    form = answer_form(page, item.name)
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


def _settled(page, name: str) -> None:
    """Wait until the form's check has answered (its status is no longer "Checking…")."""
    page.wait_for_function("""name => {
        const status = document.querySelector(
            `.course-AnswerForm[data-answer="${name}"] .course-AnswerForm-status`);
        const text = status?.textContent ?? '';
        return text && !text.startsWith('Checking') && !text.startsWith('Running');
    }""", arg=name, timeout=wait_ms(90))


def _answer_case(page, item: Item, answer: dict, mouse: bool) -> None:
    """The decision (a click on its label, or Space and ArrowDown from the first option),
    then each reason and step (a click, or focus and Space), each change checked."""
    form = answer_form(page, item.name)
    if mouse:
        form.locator(f'input[type=radio][value="{answer["decision"]}"] + label').click()
    else:
        form.locator("input[type=radio]").first.focus()
        page.keyboard.press("Space")
        for _ in range(item.options.index(answer["decision"])):
            _settled(page, item.name)
            page.keyboard.press("ArrowDown")
    for group in ("reasons", "management"):
        for code in answer[group]:
            _settled(page, item.name)
            box = f'fieldset[data-group="{group}"] input[value="{code}"]'
            if mouse:
                form.locator(f"{box} + label").click()
            else:
                form.locator(box).focus()
                page.keyboard.press("Space")


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


def _choose_certainty(page, item: Item, level: str, way: str) -> None:
    """The certainty picker: a click on the level's label, or Space on the first level
    and ArrowDown to the chosen one."""
    group = answer_form(page, item.name).locator("fieldset.course-AnswerForm-certainty")
    if way == "mouse":
        group.locator(f'input[value="{level}"] + label').click()
        return
    group.locator("input[type=radio]").first.focus()
    page.keyboard.press("Space")
    for _ in range(LEVELS.index(level)):
        page.keyboard.press("ArrowDown")


def _answer_all(page, items: list[Item], right: dict[str, bool], way: str,
                sure: dict[str, str]) -> None:
    for index, item in enumerate(items):
        value = item.answer(right[item.name])
        answer_form(page, item.name).scroll_into_view_if_needed()
        if item.kind == "case":
            _answer_case(page, item, value, mouse=way == "mouse" or
                         (way == "both" and index % 2 == 0))
            _wait_case_answered(page, item.name, value)
            continue
        (_by_mouse if way == "mouse" else _by_keyboard)(page, item, value)
        literal = json.dumps(value) if item.kind == "choice" else value
        _wait_answered(page, item.name, f"{item.name} = {literal}")
        if item.certainty:
            _choose_certainty(page, item, sure[item.name], way)
            _wait_answered(page, item.name, f"{item.name} = {literal}\n"
                           f"{certainty_name(item.name)} = {json.dumps(sure[item.name])}")


@pytest.mark.parametrize("notebook, way", JOURNEY, ids=[nb.split("/")[0] for nb, _ in JOURNEY])
def test_a_learner_answers_runs_all_checks_and_is_graded(lab: Lab, browser_page,
                                                         template: Path, tmp_path: Path,
                                                         notebook: str, way: str) -> None:
    page, errors = browser_page
    items = graded_items(notebook)
    # other browser tests answer (and save) the same notebooks in the shared lab: an
    # answer already in a cell would not change it, and its form would never run
    open_notebook(page, lab.url, fresh_learner_copy(lab, notebook))
    answer_form(page, items[0].name).wait_for()
    _wait_kernel_idle(page)
    # Every third item wrong; with one item, the first (the orientation's) is wrong.
    right = {item.name: index % 3 != (2 if len(items) > 1 else 0)
             for index, item in enumerate(items)}
    # Items that ask "How sure are you?" (the final): low, medium and high in turn.
    sure = {item.name: LEVELS[(index // 2) % 3] for index, item in enumerate(items)
            if item.certainty}
    _answer_all(page, items, right, way, sure)
    _run_all(page)

    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".course-CheckButton button, button.course-CheckButton").first.click()
    results = panel.locator(".course-CheckResults")
    results.locator(".course-CheckResults-status:has-text('Your score')").wait_for(
        timeout=wait_ms(240))
    text = results.inner_text()
    expected = expected_scores(notebook, right, sure)
    score = sum(got for got, _ in expected.values())
    total = sum(points for _, points in expected.values())
    assert f"Your score: {shown(score)} of {shown(total)}." in text
    for heading in expected_headings(notebook, expected):
        assert heading in text
    for item in items:
        if item.kind != "case":
            got = credit(1.0, right[item.name], sure.get(item.name))
            assert f"{item.title}: {verdict(got, 1.0)}" in text
    if sure:  # certainty-based marking: accuracy decides the pass, shown with calibration
        answered_right = sum(got > 0 for got, _ in expected.values())
        assert f"Accuracy: {answered_right:g} of {total:g} points answered right" in text
        assert "Calibration: the share of answers right at each certainty level" in text
    assert "Traceback" not in text and "AssertionError" not in text
    assert errors.messages == []
    # per-learner items (course.variants): the lab showed the journey's learner's numbers,
    # the ones its keys were computed for
    boxes = numbers_shown(lab.root / "assignments" / notebook)
    assert set(boxes) == {i for i in ITEMS if f"answer_{i}" in {it.name for it in items}}
    for item, numbers in boxes.items():
        assert variant(item, LEARNER).stem in numbers, (item, numbers)

    # The notebook as saved by "Check my answers", graded as an instructor grades it.
    assignment, name = notebook.removesuffix(".ipynb").split("/")
    graded = grade_saved_notebooks(template, lab.root / "assignments", notebook, tmp_path,
                                   GRADED_BY[assignment])
    assert tuple(graded) == GRADED_BY[assignment]
    for tool, rows in graded.items():
        got = {grade_id: (row[0], row[2]) for (student, nb, grade_id), row in rows.items()
               if student == STUDENT and nb == name and grade_id in expected}
        assert got == expected, f"{tool} scored {got}, expected {expected}"
    if len(graded) == 2:
        assert graded[OURS] == graded[STOCK]

    # axe over the answered, run and checked notebook (tests/browser/notebook_axe.py)
    require_axe()
    wait_for_every_widget(page)
    check_axe(page, notebook)


def test_the_journey_is_where_its_notebooks_are_checked_with_axe() -> None:
    assert [notebook for notebook, _ in JOURNEY] == JOURNEY_NOTEBOOKS
