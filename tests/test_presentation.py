"""Issue #18 (typography, responsive figures, reopened notebooks): a clinical course reads
as pages, not program output.

- no course text is rendered through ``print`` in a source notebook's visible code, and no
  cell with hidden input shows a bare Python value (a dict, a list of records);
- safety-relevant results are callouts with a role and an accessible name; dose results
  show the share of the limit as a bar with the number in words;
- widget input errors are one plain sentence, never a developer message;
- every symbol above Latin-1 is in the common fonts (or is an SVG icon);
- figures shrink with the notebook; the evidence map and onset timeline are HTML tables;
- a saved notebook keeps no widget view (a "run this cell" note instead).
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import nbformat
import pytest

from course import TEACHING_AID_LABEL
from course.callouts import COMMON_GLYPHS, Shown, callout, limit_bar, text_description
from tests.conftest import ROOT

SOURCE = ROOT / "source"
NOTEBOOKS = sorted(SOURCE.glob("*/*.ipynb"))
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?(### END HIDDEN TESTS?|\Z)", re.S)
ROLE = re.compile(r'role="(status|alert|note)"')


# ---------------------------------------------------------------- no prose through print


def _course_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Names a notebook imports from the course package (its setup cell and any other)."""
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(HIDDEN_TESTS.sub("", cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course"):
                names |= {alias.asname or alias.name for alias in node.names}
    return names


def _prints_course_text(node: ast.Call, course_names: set[str]) -> bool:
    """A print(...) whose argument is course text: a course function's result, a course
    constant, or a widget's or result's text (``.text.value``, ``.message``)."""
    for arg in node.args:
        for sub in ast.walk(arg):
            if isinstance(sub, ast.Name) and sub.id in course_names:
                return True
            if isinstance(sub, ast.Attribute) and sub.attr in ("message", "value") and (
                    sub.attr == "message" or (isinstance(sub.value, ast.Attribute)
                                              and sub.value.attr == "text")):
                return True
    return False


def print_offenders(path: Path) -> list[str]:
    """Visible code cells of a source notebook that print course text."""
    notebook = nbformat.read(path, as_version=4)
    names = _course_names(notebook)
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("solution"):
            continue  # the learner's own answer cells may print what they like
        try:
            tree = ast.parse(HIDDEN_TESTS.sub("", cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print" and _prints_course_text(node, names)):
                found.append(f"{path.name} cell {index}: "
                             f"{ast.get_source_segment(cell.source, node)}")
    return found


def test_the_print_scan_finds_course_text_and_spares_arithmetic(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from course.dose import lidocaine_check\n"
                                  "from course import TEACHING_AID_LABEL"),
        nbformat.v4.new_code_cell("print(lidocaine_check(70, 2, 5).message)"),
        nbformat.v4.new_code_cell("print(TEACHING_AID_LABEL)"),
        nbformat.v4.new_code_cell("print(form.text.value)"),
        nbformat.v4.new_code_cell('print(f"Total: {200 * 0.01:.2f} mL")'),
        nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\nprint(lidocaine_check(1, 1, 1))"
                                  "\n### END HIDDEN TESTS"),
    ]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    offenders = [line.split(": ", 1)[1] for line in print_offenders(path)]
    assert offenders == ["print(lidocaine_check(70, 2, 5).message)", "print(TEACHING_AID_LABEL)",
                         "print(form.text.value)"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_course_text_is_printed_in_a_source_notebook(path: Path) -> None:
    offenders = print_offenders(path)
    assert not offenders, ("show course text as HTML (monograph(), lidocaine_result(), "
                           "assessment_view(), text_description() …), not print():\n"
                           + "\n".join(offenders))


# ---------------------------------------------------------------- no raw Python values

RICH_REPRS = ("_repr_html_", "_repr_mimebundle_", "_ipython_display_", "_repr_svg_",
              "_repr_png_")


def _run(source: str, namespace: dict) -> object:
    """Run a cell's code in ``namespace``; the value of its last expression, as IPython."""
    import contextlib
    import io

    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last else tree.body
    with contextlib.redirect_stdout(io.StringIO()):  # display() outside IPython prints
        exec(compile(ast.Module(body, []), "<cell>", "exec"), namespace)
        return eval(compile(ast.Expression(last.value), "<cell>", "eval"),
                    namespace) if last else None


def raw_displays(notebook: nbformat.NotebookNode) -> list[str]:
    """Hidden-input cells whose result shows as a Python value (a dict, a list of records,
    a bare number) instead of course HTML. The set-up cells and the hidden-input cells run
    in this process, in order; nothing graded runs."""
    from course.notebooks import nbgrader_meta, source_hidden

    namespace: dict = {}
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        setup = nbgrader_meta(cell).get("grade_id") == "setup"
        if not (setup or source_hidden(cell)):
            continue
        try:
            value = _run(cell.source, namespace)
        except Exception as error:  # reported as the cell's problem
            found.append(f"cell {index}: {type(error).__name__}: {error}")
            continue
        if value is not None and not any(hasattr(value, name) for name in RICH_REPRS):
            found.append(f"cell {index}: {cell.source.strip()[:60]!r} shows "
                         f"{type(value).__name__} {str(value)[:60]!r}")
    return found


def test_the_raw_display_scan_finds_a_python_value() -> None:
    hidden = {"jupyter": {"source_hidden": True}}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from course.lesson import evidence\n"
                                  "from course.complications import attack_rates",
                                  metadata={"nbgrader": {"grade_id": "setup"}}),
        nbformat.v4.new_code_cell('evidence("ntm_attack_rates")', metadata=hidden),
        nbformat.v4.new_code_cell("attack_rates()", metadata=hidden),
        nbformat.v4.new_code_cell("attack_rates()"),  # visible code: a worked example
    ]
    found = raw_displays(nb)
    assert len(found) == 1 and found[0].startswith("cell 2:") and "list" in found[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hidden_input_cells_show_course_html_not_python_values(path: Path) -> None:
    """A learner sees only the output of a hidden-input cell: it must read as a page."""
    found = raw_displays(nbformat.read(path, as_version=4))
    assert not found, ("a cell with hidden input shows a Python value (show it as HTML, "
                       "or leave the code visible as a worked example):\n" + "\n".join(found))


# ---------------------------------------------------------------- callouts and bars


def test_callouts_have_a_role_and_an_accessible_name() -> None:
    html = callout("Above the limit", "<p>x</p>", kind="danger", role="alert")
    assert 'role="alert"' in html and 'aria-label="Above the limit"' in html
    assert '<svg class="course-icon" aria-hidden="true"' in html
    with pytest.raises(ValueError, match="kind"):
        callout("x", kind="purple")
    with pytest.raises(ValueError, match="role"):
        callout("x", role="banner")


@pytest.mark.parametrize(("share", "words"), [(0.5, "50% of the UK limit — within the limit"),
                                               (1.0, "100% of the UK limit — within the limit"),
                                               (1.2, "120% of the UK limit — above the limit")])
def test_the_limit_bar_states_the_percentage_in_words(share: float, words: str) -> None:
    html = limit_bar(share, "UK")
    assert f'aria-label="{words}"' in html and f"<strong>{words}</strong>" in html
    fill = float(re.search(r"width:([\d.]+)%", html).group(1))
    assert fill == pytest.approx(100 * share / max(1.0, share), abs=0.1)


def test_dose_results_are_callouts_with_a_bar_and_an_alert_above_the_limit() -> None:
    from course.dose import dose_result, lidocaine_result

    within = lidocaine_result(70, 2, 5)  # 100 mg of 200 mg
    above = lidocaine_result(70, 2, 12)  # 240 mg of 200 mg
    assert isinstance(within, Shown) and isinstance(above, Shown)
    assert 'role="status"' in within.html and "50% of the UK SmPC/BNF limit" in within.html
    assert 'role="alert"' in above.html and "Above the UK SmPC/BNF limit: 120%" in above.html
    assert "course-limit-bar" in above.html and TEACHING_AID_LABEL in above.html
    assert "<pre" not in above.html and "ABOVE the reference limit" in above.text
    from course.dose import US_LIDOCAINE_MAX_MG, US_LIDOCAINE_MG_PER_KG, share_of_limit

    check = dose_result(share_of_limit(150, 60, US_LIDOCAINE_MG_PER_KG, US_LIDOCAINE_MAX_MG),
                        "US label")
    assert "Within the US label limit: 56%" in check.html


def test_session_lidocaine_and_drill_feedback_are_callouts() -> None:
    from course.emergencies import (
        check_vo_order,
        lidocaine_session,
        vo_cards,
        vo_drill_feedback_html,
    )

    session = [("Skin booster", 3, 2), ("Plain lidocaine 1%", 10, 15)]  # 156 mg
    uk = lidocaine_session(session, label="UK")
    us = lidocaine_session(session, label="US", weight_kg=30)  # ceiling 135 mg
    assert 'role="status"' in uk.html and "within the ceiling of 200 mg" in uk.html
    assert 'role="alert"' in us.html and "above the ceiling of 135 mg" in us.html
    assert "<th scope=\"col\"" in uk.html
    wrong = vo_drill_feedback_html(check_vo_order("z"))
    assert ROLE.search(wrong) and "aria-label=" in wrong
    safe = "".join(letter for letter, step in sorted(vo_cards(), key=lambda c: c[1].rank)
                   if step.rank > 0)
    right = vo_drill_feedback_html(check_vo_order(safe))
    assert 'aria-label="Correct order"' in right and "<ol>" in right


@pytest.mark.parametrize("decision", ["decline", "refer", "defer", "proceed_with_precautions"])
def test_screening_decisions_are_prominent_status_callouts(decision: str) -> None:
    from course.risk import Assessment, Reason
    from course.screening import DECISION_DISPLAY, assessment_html

    html = assessment_html(Assessment(decision, [Reason("X_CODE", "why")]))
    words = DECISION_DISPLAY[decision][1]
    assert 'role="status"' in html and f'aria-label="Decision: {words}"' in html
    assert "<svg" in html  # the symbol is an SVG icon, never a font glyph


def test_the_other_results_are_html_not_monospace_text() -> None:
    from course.complications import ntm_onset, onset_timeline
    from course.consent import consent_elements_view, consent_feedback_view
    from course.schedules import schedule_descriptions
    from course.screening import rules_view, teaching_aid_note
    from course.substances import comparison, evidence_map, monograph

    shown = [monograph("hyaluronic_acid"), comparison("deoxycholic_acid", "pc_dc"),
             evidence_map(), onset_timeline(), ntm_onset(), rules_view(), teaching_aid_note(),
             schedule_descriptions(["face_r11", "knee_osteoarthritis"]),
             consent_elements_view(), consent_feedback_view({})]
    for item in shown:
        assert isinstance(item, Shown) and item.text.strip()
        assert "<pre" not in item.html and "monospace" not in item.html
        assert item._repr_html_() == item.html and repr(item) == item.text
    for table_html in (shown[1].html, shown[2].html, shown[3].html, shown[5].html):
        assert "<table" in table_html and "text-align:left" in table_html


# ---------------------------------------------------------------- plain-language errors


DEVELOPER_WORDS = re.compile(r"\w+_\w+|got |must be|\bNone\b|!r|Traceback")


@pytest.mark.parametrize(("field", "value", "sentence"), [
    ("weight", -5.0, "Enter the weight in kilograms: a number above 0, up to 350."),
    ("weight", 400.0, "Enter the weight in kilograms: a number above 0, up to 350."),
    ("concentration", 0.0, "Enter the lidocaine concentration in percent"),
    ("concentration", 25.0, "Enter the lidocaine concentration in percent"),
    ("volume", -1.0, "Enter the volume in millilitres: a number from 0 to 100."),
])
def test_the_dose_calculator_says_what_to_enter(field: str, value: float, sentence: str) -> None:
    from course.views.dose import dose_calculator

    calc = dose_calculator()
    getattr(calc, field).value = value
    assert sentence in calc.result.value and sentence in calc.text.value
    assert 'role="alert"' in calc.result.value
    shown = calc.text.value.removesuffix(TEACHING_AID_LABEL + ".")
    assert not DEVELOPER_WORDS.search(shown), shown


def test_the_screening_form_says_what_to_enter() -> None:
    from course.views.screening import screening_form

    form = screening_form()
    form.inputs["age"].value = 150
    form.screen()
    assert "Enter the age in years: a whole number from 0 to 120." in form.result.value
    shown = form.text.value.removesuffix(TEACHING_AID_LABEL)
    assert not DEVELOPER_WORDS.search(shown), shown
    assert 'role="alert"' in form.result.value


# ---------------------------------------------------------------- glyphs


def _texts() -> list[tuple[str, str]]:
    files = [*sorted((ROOT / "course").rglob("*.py")), *sorted((ROOT / "course" / "data")
                                                                .glob("*.toml"))]
    texts = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in files]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        texts.append((str(path.relative_to(ROOT)),
                      "\n".join(HIDDEN_TESTS.sub("", c.source) for c in notebook.cells)))
    return texts


def test_every_symbol_is_in_the_common_fonts() -> None:
    rare = {}
    for where, text in _texts():
        for char in set(text):
            if ord(char) > 0xFF and char not in COMMON_GLYPHS:
                rare.setdefault(f"{char} U+{ord(char):04X}", []).append(where)
    assert not rare, f"rare glyphs (use a common one, or an SVG icon with words): {rare}"


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_the_common_glyphs_are_in_the_fallback_font(font: Path = FONT) -> None:
    if not font.is_file():
        pytest.skip(f"{font} is not installed")
    ttlib = pytest.importorskip("fontTools.ttLib")
    cmap = ttlib.TTFont(font).getBestCmap()
    missing = sorted(c for c in COMMON_GLYPHS if ord(c) not in cmap)
    assert not missing, f"{font.name} lacks {missing}"


def test_the_decision_symbols_are_common_glyphs() -> None:
    from course.screening import DECISION_DISPLAY

    for symbol, _ in DECISION_DISPLAY.values():
        assert all(ord(c) < 0x100 or c in COMMON_GLYPHS for c in symbol), symbol


# ---------------------------------------------------------------- figures


def test_figures_shrink_with_the_notebook_and_can_be_svg() -> None:
    from matplotlib.figure import Figure

    from course.views.figures import show_figure

    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    svg = show_figure(fig, "A falling line.", fmt="svg")._repr_mimebundle_()
    assert svg["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert "data:image/svg+xml;base64," in svg["text/html"]
    assert "max-width:100%;height:auto" in svg["text/html"]
    with pytest.raises(ValueError, match="fmt"):
        show_figure(Figure(), "x", fmt="gif")


def test_the_evidence_map_is_one_row_per_substance_and_reflows() -> None:
    from course.content import content
    from course.substances import evidence_map_html

    html = evidence_map_html()
    assert html.count('<th scope="row"') == len(content().substances)
    assert "table-layout:fixed" in html and "width:100%" in html
    small = evidence_map_html(["caffeine"], ["cellulite"])
    assert small.count('<th scope="row"') == 1 and "L5 very low" in small


def test_text_description_is_collapsed_but_present() -> None:
    html = text_description("Line one.\n\nLine <two>.")
    assert html.startswith("<details") and "<summary>Text description</summary>" in html
    assert "<p>Line &lt;two&gt;.</p>" in html


# ---------------------------------------------------------------- reopened notebooks


def test_saved_notebooks_keep_a_note_instead_of_a_widget_view() -> None:
    from course.saved_outputs import RERUN_NOTE, WIDGET_VIEW, pre_save_hook

    widget = nbformat.v4.new_output(
        "display_data", {WIDGET_VIEW: {"model_id": "abc", "version_major": 2},
                         "text/plain": "VBox(...)"})
    html = nbformat.v4.new_output("display_data", {"text/html": "<b>x</b>"})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("w", outputs=[widget, html]),
                nbformat.v4.new_markdown_cell("text")]
    model = {"type": "notebook", "content": json.loads(nbformat.writes(nb))}
    html = model["content"]["cells"][0]["outputs"][1]
    pre_save_hook(model=model, path="x.ipynb", contents_manager=None)
    outputs = model["content"]["cells"][0]["outputs"]
    assert WIDGET_VIEW not in json.dumps(outputs)
    assert outputs[0]["data"]["text/plain"] == RERUN_NOTE
    assert "Run this cell to show the figure" in outputs[0]["data"]["text/html"]
    assert outputs[1] is html and outputs[1]["data"] == {"text/html": ["<b>x</b>"]}
    nbformat.validate(nbformat.reads(json.dumps(model["content"]), as_version=4))
    files = {"type": "file", "content": "text"}
    pre_save_hook(model=files, path="x.txt", contents_manager=None)
    assert files == {"type": "file", "content": "text"}


def test_the_save_hook_is_enabled_by_the_jupyter_config_and_installed() -> None:
    config = ROOT / "jupyter-config" / "jupyter_server_config.d" / "course.saved_outputs.json"
    enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {"course.saved_outputs": True}
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "data-files"]["etc/jupyter/jupyter_server_config.d"]
    assert str(config.relative_to(ROOT)) in data_files
