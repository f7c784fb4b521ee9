"""Every course widget of modules 01–03 in a real browser: operate it, read what it shows.

One JupyterLab (the session ``lab`` fixture), one Chromium for the module and one page
per notebook. The learner's copies of the notebooks tested here are first "answered"
(each graded answer cell gets the source notebook's solution), so that JupyterLab's Run
All completes. Each notebook is opened and run once (the module fixture ``lesson``), for
its widget tests and then its axe check (tests/browser/notebook_axe.py): each widget test
operates the widgets by their visible labels, checks that the page shows the expected
change, fails on any JavaScript error and saves one screenshot; the axe check then runs
over the notebook as the widgets left it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

from course.questions import check_answer
from course.questions import question as find_question

from .conftest import (
    PAGE_TIMEOUT_S,
    configure_page,
    open_notebook,
    require_axe,
    shut_down_kernel,
    wait_ms,
)
from .notebook_axe import (
    PAGE_ERRORS,
    WIDGET_LESSONS,
    answer_code_cells,
    check_axe,
    wait_for_every_widget,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from playwright.sync_api import Locator, Page

    from .conftest import Lab

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

WAIT_MS = wait_ms(90)
"""Longest wait for what the page shows (a kernel round trip that redraws a figure takes
about a second, much more when other test runs share the two cores)."""
RUN_ALL_MS = wait_ms(600)

PRINCIPLES_1 = "01-principles/01-what-is-mesotherapy.ipynb"
PRINCIPLES_2 = "01-principles/02-techniques-and-sessions.ipynb"
SUBSTANCES = "02-substances/01-substance-classes.ipynb"
DOSE = "02-substances/03-dose-and-volume.ipynb"
SCREENING = "03-risk-assessment/01-screening-and-contraindications.ipynb"
PRACTICE_ONLY = [
    "02-substances/02-appraising-evidence.ipynb",
    "03-risk-assessment/02-complications.ipynb",
    "03-risk-assessment/03-safety-and-emergencies.ipynb",
    "03-risk-assessment/04-consent-and-records.ipynb",
]
TESTED = [PRINCIPLES_1, PRINCIPLES_2, SUBSTANCES, DOSE, SCREENING, *PRACTICE_ONLY]
TEACHING_AID = "Teaching aid — not a validated clinical tool"

PRACTICE_CALL = re.compile(r'^practice\("(q[0-9_]+)"\)', re.MULTILINE)


# ---------------------------------------------------------------- preparing the copies


@pytest.fixture(scope="module", autouse=True)
def expect_timeout():
    """Every expect() of this module waits up to WAIT_MS (Playwright's default is 5 s)."""
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=wait_ms(PAGE_TIMEOUT_S))


@pytest.fixture(scope="module")
def answered(lab: Lab) -> Lab:
    """The lab, with the learner's copies of the tested notebooks answered."""
    count = sum(answer_code_cells(lab.root / "assignments" / nb, lab.root / "source" / nb,
                                  lab.root / "assignments" / nb) for nb in TESTED)
    assert count > 0, "no graded answer cell found: the copies were not prepared"
    return lab


# ---------------------------------------------------------------- driving JupyterLab


def open_and_run_all(page: Page, lab: Lab, notebook: str) -> Locator:
    """Open the learner's copy in its own workspace, run all cells, return the notebook."""
    path = f"assignments/{notebook}"
    open_notebook(page, lab.url, path)
    # JupyterLab's own Run All; its promise settles when the last cell has replied and
    # is false when a cell failed (Run All stops there).
    report = page.evaluate("""async (timeout) => {
        const app = window.jupyterapp, panel = app.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        const late = new Promise(resolve => setTimeout(() => resolve('timeout'), timeout));
        const ok = await Promise.race([app.commands.execute('notebook:run-all-cells'), late]);
        const code = panel.content.widgets.filter(cell => cell.model.type === 'code');
        const errors = code.flatMap(cell => cell.model.outputs.toJSON())
            .filter(output => output.output_type === 'error')
            .map(output => `${output.ename}: ${output.evalue}`);
        return {ok, errors, cells: code.length,
                unrun: code.filter(cell => !cell.model.executionCount).length};
    }""", RUN_ALL_MS)
    assert report["ok"] is True and report["errors"] == [] and report["unrun"] == 0, report
    return page.locator(".jp-Notebook")


def code_cell(notebook: Locator, source_text: str) -> Locator:
    """The code cell whose source contains this text (its outputs hold the widget).

    Found through the notebook's model, not the editor's text: a cell that only shows a
    widget has its input hidden (issue #18), so its source is not on the page.
    """
    index = notebook.page.evaluate("""text => {
        const cells = window.jupyterapp.shell.currentWidget.content.widgets;
        const found = cells.flatMap((cell, i) => cell.model.type === 'code'
            && cell.model.sharedModel.getSource().includes(text) ? [i] : []);
        return found.length === 1 ? found[0] : -found.length; }""", source_text)
    assert index >= 0, f"{-index} code cells contain {source_text!r} (expected one)"
    cell = notebook.locator(f'.jp-CodeCell[data-windowed-list-index="{index}"]')
    expect(cell).to_have_count(1)
    return cell


def labelled(cell: Locator, kind: str, label: str) -> Locator:
    """An ipywidgets control of a kind (dropdown, hslider, text…) by its description."""
    return cell.locator(f".widget-{kind}").filter(
        has=cell.page.locator("label.widget-label", has_text=re.compile(f"^{re.escape(label)}$")))


SHOWN_HTML = ".widget-html:not(:has(.course-text-description))"
"""An HTML widget the page shows, not a widget's collapsed text description."""


def described(cell: Locator, what: str) -> Locator:
    """The body of a widget's collapsed "Text description of <what>" (its plain text)."""
    details = cell.locator("details.course-text-description").filter(
        has=cell.page.locator("summary", has_text=f"Text description of {what}"))
    return details.locator(".course-text-description-body")


def open_description(body: Locator) -> None:
    """Open a text description by its summary (a keyboard user's Enter); it shows its text."""
    details = body.locator("xpath=..")
    expect(details).not_to_have_attribute("open", "")  # collapsed: said once on screen
    expect(body).to_be_hidden()
    summary = details.locator("summary")
    summary.focus()
    summary.press("Enter")
    expect(details).to_have_attribute("open", "")
    expect(body).to_be_visible()


def set_slider(slider: Locator, value: float) -> None:
    """Type a value into a slider's editable readout (ipywidgets 8) and press Enter."""
    readout = slider.locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.press_sequentially(f"{value:g}")
    readout.press("Enter")


def set_number(box: Locator, value: str) -> None:
    """Type into a FloatText/IntText and press Enter (the value is sent then)."""
    field = box.locator("input")
    field.fill(value)
    field.press("Enter")


STILL_CHECKS = 3
"""Checks, two animation frames apart, that must find an element at the same place."""

SETTLE = """async (e, [block, checks, timeout]) => {
    // Scroll e into view; then read its top every two animation frames (the page has
    // been laid out and painted in between) until `checks` readings in a row agree.
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
    const deadline = performance.now() + timeout;
    let top = null, same = 0;
    e.scrollIntoView({block});
    while (performance.now() < deadline) {
        await frame();
        await frame();
        const now = Math.round(e.getBoundingClientRect().top);
        same = now === top ? same + 1 : 0;
        if (same >= checks) return true;
        if (now !== top) e.scrollIntoView({block});
        top = now;
    }
    return false;
}"""


def settle(element: Locator, block: str = "center") -> None:
    """Scroll an element into view inside the notebook panel until it stays put.

    Cells coming into view take their real height (JupyterLab's content-visibility
    windowing), so the page moves for a moment after a scroll and a click right away
    can miss its target (seen once in five runs); operating a widget starts here. The
    element must keep its place over STILL_CHECKS readings two frames apart (a loaded
    machine draws fewer frames, so the wait grows with the load), within WAIT_MS.
    """
    still = element.evaluate(SETTLE, [block, STILL_CHECKS, WAIT_MS])
    assert still, f"{element} kept moving for {WAIT_MS / 1000:.0f} s after a scroll"


def screenshot(page: Page, widget: Locator, path: Path, block: str = "start") -> None:
    """Scroll the widget to the top (or "end") of the notebook panel; save the viewport."""
    settle(widget, block)
    page.screenshot(path=str(path))


@dataclass
class Lesson:
    """A lesson open in its own page, every cell run."""

    name: str
    page: Page
    notebook: Locator
    errors: list[str] = field(default_factory=list)  # JavaScript errors, console errors


@pytest.fixture(scope="module")
def lesson(request: pytest.FixtureRequest, answered: Lab, module_browser) -> Iterator[Lesson]:
    """The lesson ``request.param`` opened in a fresh page and run once, for all of its
    tests (its widget tests, then its axe check); its kernel is stopped afterwards."""
    name = request.param
    page = module_browser.new_page()
    configure_page(page)
    errors: list[str] = []
    PAGE_ERRORS.clear()  # quoted by notebook_axe when cells are not laid out
    page.on("pageerror", lambda error: (errors.append(f"page error: {error}"),
                                        PAGE_ERRORS.append(str(error))))
    page.on("console", lambda message: errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    try:
        yield Lesson(name, page, open_and_run_all(page, answered, name), errors)
    finally:
        page.close()
        shut_down_kernel(answered, f"assignments/{name}")


def on_lesson(*notebooks: str) -> pytest.MarkDecorator:
    """The test runs on each of these lessons (``lesson``: opened and run once for all)."""
    return pytest.mark.parametrize("lesson", notebooks, indirect=True,
                                   ids=[Path(notebook).stem for notebook in notebooks])


# ---------------------------------------------------------------- practice widgets


def practice_ids(lab: Lab, notebook: str) -> list[str]:
    """The question ids of the notebook's practice(...) cells, in order."""
    nb = nbformat.read(lab.root / "assignments" / notebook, as_version=4)
    return [qid for cell in nb.cells if cell.cell_type == "code"
            for qid in PRACTICE_CALL.findall(cell.source)]


def operate_practice(notebook: Locator, qid: str) -> None:
    """Check with no choice, a wrong choice and the keyed choice; read the feedback."""
    q = find_question(qid)
    key = next(o.letter for o in q.options if check_answer(q, o.letter).correct)
    wrong = next(o.letter for o in q.options if o.letter != key)
    cell = code_cell(notebook, f'practice("{qid}")')
    settle(cell)
    expect(cell.locator(".widget-html")).to_contain_text(q.lead_in)
    check = cell.get_by_role("button", name="Check")
    feedback = cell.locator(".widget-textarea textarea")
    expect(feedback).to_have_value("")
    check.click()
    expect(feedback).to_have_value("Choose an option first.")
    for letter in (wrong, key):
        cell.get_by_role("radio", name=re.compile(rf"^\({letter}\) ")).check()
        check.click()
        verdict = "Correct." if letter == key else f"Not the best answer ({letter}). Try again."
        expect(feedback).to_have_value(
            re.compile(rf"^{re.escape(verdict)}\nWhy: {re.escape(q.option(letter).rationale)}"))


# ---------------------------------------------------------------- the skin explorer


def depth_text(needle_mm: float, angle_deg: float) -> str:
    """The explorer's sentence start, from the geometry: depth = length × sin(angle)."""
    depth = needle_mm * math.sin(math.radians(angle_deg))
    return f"At {angle_deg:g}° a {needle_mm:.1f} mm insertion reaches {depth:.2f} mm"


def operate_skin_explorer(notebook: Locator) -> Locator:
    """Change area, technique, needle and angle; the summary and figure follow each."""
    from course.skin import skin_data

    data = skin_data()
    cell = code_cell(notebook, "skin_explorer(area=")
    area, technique = labelled(cell, "dropdown", "Body area"), labelled(cell, "dropdown",
                                                                         "Technique")
    needle = labelled(cell, "hslider", "Needle inserted (mm)")
    angle = labelled(cell, "hslider", "Angle to the skin (°)")
    summary = described(cell, "the cross-section")
    image = cell.locator(".widget-output img")
    settle(area, "start")
    open_description(summary)

    first = data.techniques["intraepidermal"]
    # ipywidgets' <option> values are the visible labels.
    expect(area.locator("select")).to_have_value(data.areas["face"].name)
    expect(technique.locator("select")).to_have_value(first.name)
    expect(needle.locator(".widget-readout")).to_have_text(f"{first.example_needle_mm:.1f}")
    expect(summary).to_have_text(re.compile(
        "^" + re.escape(depth_text(first.example_needle_mm, first.example_angle_deg))))
    expect(summary).to_have_text(re.compile(f"{re.escape(TEACHING_AID)}\\.$"))
    expect(image).to_have_attribute("alt", re.compile("^At "))
    before = image.get_attribute("src")

    other = data.techniques["point_by_point"]
    technique.locator("select").select_option(label=other.name)
    expect(summary).to_have_text(re.compile(rf"{re.escape(other.short_name)} technique aims"))
    # A new technique keeps the sliders where they were.
    expect(needle.locator(".widget-readout")).to_have_text(f"{first.example_needle_mm:.1f}")

    thigh = data.areas["thigh"]
    area.locator("select").select_option(label=thigh.name)
    expect(summary).to_have_text(re.compile(f"skin of the {thigh.name.lower()}"))

    set_slider(needle, 8.0)
    expect(needle.locator(".widget-readout")).to_have_text("8.0")
    set_slider(angle, 60)
    expect(angle.locator(".widget-readout")).to_have_text("60.0")
    expect(summary).to_have_text(re.compile("^" + re.escape(depth_text(8.0, 60))))
    # The keyboard moves a focused slider handle by one step (0.5°).
    angle.locator(".noUi-handle").focus()
    angle.locator(".noUi-handle").press("ArrowLeft")
    expect(angle.locator(".widget-readout")).to_have_text("59.5")
    expect(summary).to_have_text(re.compile("^" + re.escape(depth_text(8.0, 59.5))))
    expect(image).not_to_have_attribute("src", before)
    expect(image).to_have_attribute("alt", re.compile("^" + re.escape(depth_text(8.0, 59.5))))

    cell.get_by_role("button", name="Use the technique's described needle and angle").click()
    expect(needle.locator(".widget-readout")).to_have_text(f"{other.example_needle_mm:.1f}")
    expect(angle.locator(".widget-readout")).to_have_text(f"{other.example_angle_deg:.1f}")
    expect(summary).to_have_text(re.compile(
        "^" + re.escape(depth_text(other.example_needle_mm, other.example_angle_deg))))
    return cell


# ---------------------------------------------------------------- the session planner


def operate_session_planner(notebook: Locator) -> Locator:
    """Choose two schedules, then none; the summary and timeline follow the choice."""
    from course.schedules import DEFAULT_SELECTION, schedules

    rows = schedules()
    cell = code_cell(notebook, "session_planner()")
    choice = labelled(cell, "select-multiple", "Schedules").locator("select")
    summary = described(cell, "the timeline")
    image = cell.locator(".widget-output img")
    settle(choice, "start")
    open_description(summary)

    def option(schedule_id: str) -> str:
        return f"{rows[schedule_id].label}: {rows[schedule_id].note}"

    expect(choice).to_have_values([option(s) for s in DEFAULT_SELECTION])
    expect(summary).to_have_text(re.compile(f"^Timeline of {len(DEFAULT_SELECTION)} session "))
    expect(image).to_have_count(1)

    chosen = ["spinal_pain", "thigh_gun"]
    choice.select_option([option(s) for s in chosen])
    expect(summary).to_have_text(re.compile("^Timeline of 2 session schedules "))
    text = summary.text_content() or ""
    for number, schedule_id in enumerate(chosen, start=1):
        assert f"Row {number}. {rows[schedule_id].label}:" in text
    assert "Row 3." not in text
    assert "No markers: no interval reported." in text  # spinal pain: no interval
    expect(image).to_have_attribute("alt", text)

    choice.select_option([])
    expect(summary).to_have_text(re.compile("^Choose at least one schedule"))
    expect(image).to_have_count(0)
    choice.select_option([option(s) for s in chosen])
    expect(image).to_have_count(1)
    return cell


# ---------------------------------------------------------------- the substance explorer


def operate_substance_explorer(notebook: Locator) -> Locator:
    """Filter the catalogue, pick a result, compare two, and filter down to nothing."""
    from course.content import content
    from course.substances import CLASS_LABELS, STATUS_LABELS, filter_substances

    cell = code_cell(notebook, "explorer = substance_explorer()")
    count = cell.locator(".widget-html",
                         has_text=re.compile(r"^\d+ substances? match(es)? these filters"))
    results = labelled(cell, "select", "Substances").locator("select")
    heading = cell.locator(".course-monograph h3")
    twin = described(cell, "the monograph")
    compare = described(cell, "the comparison")
    settle(labelled(cell, "dropdown", "Class"), "start")

    catalogue = list(content().substances.values())
    expect(count).to_have_text(f"{len(catalogue)} substances match these filters.")
    expect(results.locator("option")).to_have_count(len(catalogue))
    expect(heading).to_have_text(catalogue[0].name)

    labelled(cell, "dropdown", "Class").locator("select").select_option(
        label=CLASS_LABELS["lipolytic_vasoactive"])
    found = filter_substances(substance_class="lipolytic_vasoactive")
    assert 2 <= len(found) < len(catalogue)
    expect(count).to_have_text(f"{len(found)} substances match these filters.")
    expect(results.locator("option")).to_have_text([s.name for s in found])
    expect(heading).to_have_text(found[0].name)  # the old choice is gone: the first is shown

    second = found[1]
    results.select_option(label=second.name)
    expect(heading).to_have_text(second.name)
    expect(twin).to_have_text(re.compile(f"^{re.escape(second.name)} \\[{second.id}\\]"))
    expect(cell.locator(".course-monograph .course-badge")).to_have_count(len(second.evidence))
    expect(compare).to_have_count(0)

    other = content().substances["deoxycholic_acid"]
    labelled(cell, "dropdown", "Compare with").locator("select").select_option(label=other.name)
    open_description(compare)
    expect(compare).to_have_text(
        re.compile(rf"^Substance +\| {re.escape(second.name)} +\| {re.escape(other.name)}\n"))

    labelled(cell, "dropdown", "Regulatory status").locator("select").select_option(
        label=STATUS_LABELS["suspended"])
    suspended = filter_substances(substance_class="lipolytic_vasoactive",
                                  regulatory_status="suspended")
    assert len(suspended) == 1
    expect(count).to_have_text("1 substance matches these filters.")
    expect(heading).to_have_text(suspended[0].name)
    expect(compare).to_have_text(re.compile(rf"^Substance +\| {re.escape(suspended[0].name)} "))

    labelled(cell, "dropdown", "Class").locator("select").select_option(
        label=CLASS_LABELS["enzyme"])
    assert filter_substances(substance_class="enzyme", regulatory_status="suspended") == []
    expect(count).to_have_text("0 substances match these filters.")
    expect(results.locator("option")).to_have_count(0)
    expect(cell.locator(SHOWN_HTML, has_text="No substance matches these filters.")
           ).to_be_visible()
    expect(twin).to_have_text("No substance matches these filters.")
    expect(compare).to_have_count(0)

    labelled(cell, "dropdown", "Regulatory status").locator("select").select_option(label="Any")
    enzymes = filter_substances(substance_class="enzyme")
    expect(count).to_have_text(f"{len(enzymes)} substances match these filters.")
    expect(heading).to_have_text(enzymes[0].name)
    return cell


# ---------------------------------------------------------------- the dose calculator


def operate_dose_calculator(notebook: Locator) -> Locator:
    """Change weight, concentration and volume; an impossible weight is refused."""
    cell = code_cell(notebook, "calculator = dose_calculator()")
    weight = labelled(cell, "text", "Weight (kg)")
    percent = labelled(cell, "text", "Lidocaine concentration (%)")
    volume = labelled(cell, "text", "Volume (mL)")
    status = cell.locator(".widget-html .course-dose-result")  # a status, or an alert above
    alert = cell.locator(".widget-html [role=alert]")
    twin = described(cell, "the result")
    settle(cell)

    expect(cell.locator(".widget-html").first).to_have_text(TEACHING_AID)
    expect(weight.locator("input")).to_have_value("70")
    # 2% = 20 mg/mL; 5 mL of it = 100 mg; the default label is the UK one, maximum 200 mg.
    expect(status).to_contain_text("2% lidocaine = 20 mg/mL.")
    expect(status).to_contain_text("5 mL × 20 mg/mL = 100 mg.")
    expect(status).to_contain_text("Label used: UK SmPC/BNF")
    expect(status).to_contain_text("Reference limit 200 mg")
    expect(status).to_contain_text("within the reference limit")

    expect(status).to_have_attribute("role", "status")
    expect(status.locator(".course-limit-bar")).to_contain_text("50% of the UK SmPC/BNF limit")

    set_number(volume, "20")  # 400 mg: above 200 mg
    expect(status).to_contain_text("20 mL × 20 mg/mL = 400 mg.")
    expect(status).to_contain_text("ABOVE the reference limit")
    expect(status).to_have_attribute("role", "alert")
    expect(status).to_have_attribute("aria-label", "Above the UK SmPC/BNF limit: 200% of 200 mg")
    set_number(percent, "1")  # 1% = 10 mg/mL; 200 mg: at the UK maximum, so within it
    expect(status).to_contain_text("1% lidocaine = 10 mg/mL.")
    expect(status).to_contain_text("20 mL × 10 mg/mL = 200 mg.")
    expect(status).to_contain_text("within the reference limit")
    labelled(cell, "dropdown", "Label").locator("select").select_option(
        label="US label: plain lidocaine 4.5 mg/kg, not over 300 mg")
    expect(status).to_contain_text("Label used: US label")
    expect(status).to_contain_text("Reference limit 300 mg")
    set_number(weight, "40")  # US limit 4.5 × 40 = 180 mg: 200 mg is above it
    expect(status).to_contain_text("Reference limit 180 mg")
    expect(status).to_contain_text("ABOVE the reference limit")
    expect(twin).to_have_text(re.compile(r"^1% lidocaine = 10 mg/mL\.\n"))

    set_number(weight, "-5")
    expect(alert).to_contain_text("Enter the weight in kilograms: a number above 0, up to 350.")
    expect(alert).not_to_contain_text("weight_kg")
    expect(alert).to_contain_text(TEACHING_AID)
    expect(cell.locator(SHOWN_HTML, has_text="lidocaine = ")).to_have_count(0)
    expect(twin).to_have_text(re.compile("^Cannot calculate: Enter the weight in kilograms"))
    return cell


# ---------------------------------------------------------------- the screening form


def operate_screening_form(notebook: Locator) -> Locator:
    """Screen with and without red flags, and with an impossible age."""
    from course.content import content

    cell = code_cell(notebook, "form = screening_form({")
    result = cell.locator(".course-screening-result")
    notice = cell.locator(SHOWN_HTML, has_text="The details have changed")
    twin = described(cell, "the result")
    screen = cell.get_by_role("button", name="Screen", exact=True)
    age = labelled(cell, "text", "Age (years)")
    settle(age, "start")

    def flag(label: str) -> Locator:
        return cell.get_by_role("checkbox", name=label, exact=True)

    # The notebook screens its patient (active herpes at the site) before showing the form.
    expect(result).to_contain_text("Decision: Defer")
    expect(result).to_have_attribute("aria-label", "Decision: Defer")
    expect(result).to_have_attribute("role", "status")
    expect(result).to_contain_text("DEFER_ACTIVE_HERPES_AT_SITE")
    expect(result.locator(".course-teaching-aid")).to_have_text(TEACHING_AID)
    expect(cell.locator(".course-teaching-aid").first).to_be_visible()

    flag("Active herpes (cold sore) at the site").uncheck()
    expect(notice).to_be_visible()  # the old decision is withdrawn
    expect(result).to_have_count(0)
    screen.click()
    expect(result).to_be_visible()
    expect(result).not_to_contain_text("DEFER_ACTIVE_HERPES_AT_SITE")
    expect(result).not_to_contain_text("Decision: Defer")

    set_number(age, "150")
    screen.click()
    message = "Enter the age in years: a whole number from 0 to 120."
    expect(result).to_contain_text("Cannot screen this patient")
    expect(result).to_contain_text(message)
    expect(result).not_to_contain_text("field 'age'")
    expect(result).to_have_attribute("role", "alert")
    expect(result.locator(".course-teaching-aid")).to_be_visible()
    expect(twin).to_have_text(f"Cannot screen this patient: {message}\n{TEACHING_AID}")
    set_number(age, "38")

    flag("Pregnant").check()
    screen.click()
    expect(result).to_contain_text("Decision: Defer")
    expect(result).to_contain_text("DEFER_PREGNANT")
    expect(result.locator(".course-teaching-aid")).to_have_text(TEACHING_AID)
    expect(result.locator(".course-teaching-aid")).to_be_visible()
    expect(twin).to_have_text(re.compile(f"^Decision: \\|\\| Defer\n.*{TEACHING_AID}$", re.DOTALL))

    dutasteride = content().substances["dutasteride"].name
    labelled(cell, "dropdown", "Substance").locator("select").select_option(label=dutasteride)
    labelled(cell, "dropdown", "Indication").locator("select").select_option(label="Hair loss")
    screen.click()
    expect(result).to_contain_text("Decision: Decline")
    expect(result).to_contain_text("DECLINE_TERATOGENIC_SUBSTANCE")
    expect(result.locator(".course-teaching-aid")).to_be_visible()
    return cell


# ---------------------------------------------------------------- tests


QUESTION_CALL = re.compile(r'^question\("(q[0-9_]+)"\)', re.MULTILINE)


def options_said_once(notebook: Locator, qid: str) -> None:
    """A printed practice question's options are hidden where its answer form lists them."""
    q = find_question(qid)
    cell = code_cell(notebook, f'question("{qid}")')
    settle(cell)
    expect(cell).to_contain_text(q.lead_in)
    form = notebook.locator(f'.course-AnswerForm[data-answer="answer_{qid}"]')
    first = f"({q.options[0].letter}) {q.options[0].text}"
    expect(form.get_by_role("radio", name=first)).to_be_visible()
    printed = cell.locator(".course-question-options")
    expect(printed).to_have_count(1)
    expect(printed).to_be_hidden()


def run_practice_widgets(lab: Lab, notebook_locator: Locator, notebook: str) -> list[str]:
    """Operate every practice widget of the notebook (issue #18 left most questions as
    text only, asked once), and check that each printed practice question's options are
    shown once, by its answer form; return the question ids."""
    ids = practice_ids(lab, notebook)
    for qid in ids:
        operate_practice(notebook_locator, qid)
    nb = nbformat.read(lab.root / "assignments" / notebook, as_version=4)
    asked = [qid for cell in nb.cells if cell.cell_type == "code"
             for qid in QUESTION_CALL.findall(cell.source)]
    for qid in asked:
        options_said_once(notebook_locator, qid)
    return ids + asked


@on_lesson(PRINCIPLES_1)
def test_what_is_mesotherapy_skin_explorer_and_practice(answered, lesson: Lesson,
                                                        screenshots) -> None:
    page, notebook = lesson.page, lesson.notebook
    cell = operate_skin_explorer(notebook)
    run_practice_widgets(answered, notebook, PRINCIPLES_1)
    screenshot(page, labelled(cell, "dropdown", "Body area"),
               screenshots / "01-what-is-mesotherapy.png")
    assert lesson.errors == []


@on_lesson(PRINCIPLES_2)
def test_techniques_skin_explorer_session_planner_and_practice(answered, lesson: Lesson,
                                                               screenshots) -> None:
    page, notebook = lesson.page, lesson.notebook
    operate_skin_explorer(notebook)
    cell = operate_session_planner(notebook)
    run_practice_widgets(answered, notebook, PRINCIPLES_2)
    screenshot(page, labelled(cell, "select-multiple", "Schedules"),
               screenshots / "02-techniques-and-sessions.png")
    assert lesson.errors == []


@on_lesson(SUBSTANCES)
def test_substance_explorer_and_practice(answered, lesson: Lesson, screenshots) -> None:
    page, notebook = lesson.page, lesson.notebook
    run_practice_widgets(answered, notebook, SUBSTANCES)
    cell = operate_substance_explorer(notebook)
    screenshot(page, labelled(cell, "dropdown", "Class"),
               screenshots / "01-substance-classes.png")
    assert lesson.errors == []


@on_lesson(DOSE)
def test_dose_calculator_refuses_an_impossible_weight(answered, lesson: Lesson,
                                                      screenshots) -> None:
    page, notebook = lesson.page, lesson.notebook
    run_practice_widgets(answered, notebook, DOSE)
    cell = operate_dose_calculator(notebook)
    screenshot(page, cell.locator(".widget-html").first, screenshots / "03-dose-and-volume.png")
    assert lesson.errors == []


@on_lesson(SCREENING)
def test_screening_form_decisions_and_refusal(answered, lesson: Lesson, screenshots) -> None:
    page, notebook = lesson.page, lesson.notebook
    run_practice_widgets(answered, notebook, SCREENING)
    cell = operate_screening_form(notebook)
    screenshot(page, cell.locator(".course-screening-result"),
               screenshots / "01-screening-and-contraindications.png", block="end")
    assert lesson.errors == []


RESULTS = {
    "02-substances/02-appraising-evidence.ipynb":
        (".course-evidence-map table", "Deoxycholic acid", None),
    "03-risk-assessment/02-complications.ipynb":
        (".course-timeline table", "Vascular occlusion", None),
    "03-risk-assessment/03-safety-and-emergencies.ipynb":
        (".course-dose-result", "Session total 156 mg: within the ceiling of 200 mg", "status"),
    "03-risk-assessment/04-consent-and-records.ipynb":
        (".course-consent-feedback", "Consent record:", "status"),
}
"""Per notebook: a result the course shows as HTML (selector, text it holds, its role)."""


@on_lesson(*PRACTICE_ONLY)
def test_results_are_html_and_practice_widgets_give_feedback(answered, lesson: Lesson,
                                                             screenshots) -> None:
    page, notebook_locator, notebook = lesson.page, lesson.notebook, lesson.name
    run_practice_widgets(answered, notebook_locator, notebook)
    selector, text, role = RESULTS[notebook]
    result = notebook_locator.locator(selector).filter(has_text=text).first
    expect(result).to_have_count(1)
    settle(result)
    expect(result).to_be_visible()
    if role:
        expect(result).to_have_attribute("role", role)
        expect(result).to_have_attribute("aria-label", re.compile(r"\w"))
    screenshot(page, result, screenshots / f"{Path(notebook).stem}.png")
    assert lesson.errors == []


def test_the_lessons_here_are_the_ones_test_axe_leaves_out() -> None:
    assert sorted(TESTED) == sorted(WIDGET_LESSONS)


@on_lesson(*TESTED)
def test_the_lesson_has_no_serious_axe_violation(lesson: Lesson) -> None:
    """After its widget tests (the same page, run once): axe and the two screenshots."""
    require_axe()
    wait_for_every_widget(lesson.page)
    check_axe(lesson.page, lesson.name)
