"""The screening form: one input per patient field over :mod:`course.screening`.

The record is built and screened by the pure functions of :mod:`course.screening` (and
:func:`course.risk.assess`); this module only wires the widgets. ipywidgets is imported
when a form is built.
"""

from __future__ import annotations

from typing import Any

from course.content import INDICATIONS, content
from course.risk import BOOLEAN_FIELDS, DIABETES_STATES, PRODUCT_SOURCES, SEXES
from course.screening import (
    DEFAULT_PATIENT,
    FIELD_LABELS,
    NOT_RECORDED_CHOICE,
    NOT_RECORDED_FIELDS,
    PROMPT,
    STALE,
    label_html,
    notice,
    screening_result,
)


class ScreeningForm:
    """One input per patient field, a Screen button, the result and its text equivalent.

    ``inputs`` maps each patient field to its widget. Display the form as the last
    expression of a cell, or display ``.view``.
    """

    def __init__(self, patient: dict[str, Any] | None = None) -> None:
        import ipywidgets as widgets

        from course.views.widgets import text_description_widget

        style = {"description_width": "12em"}
        wide = widgets.Layout(width="32em")
        substances = content().substances
        self.inputs: dict[str, Any] = {
            "age": widgets.IntText(value=40, description=FIELD_LABELS["age"], style=style),
            "indication": widgets.Dropdown(
                options=[(i.replace("_", " ").capitalize(), i) for i in INDICATIONS],
                description=FIELD_LABELS["indication"], style=style, layout=wide),
            "area": widgets.Text(value="", placeholder="e.g. face, submental (optional)",
                                 description=FIELD_LABELS["area"], style=style, layout=wide),
            "substance": widgets.Dropdown(
                options=[(s.name, s.id) for s in substances.values()],
                description=FIELD_LABELS["substance"], style=style, layout=wide),
            "product_source": widgets.Dropdown(
                options=[*((p.replace("_", " ").capitalize(), p) for p in PRODUCT_SOURCES),
                         ("Not recorded", NOT_RECORDED_CHOICE)],
                description=FIELD_LABELS["product_source"], style=style, layout=wide),
            "sex": widgets.Dropdown(
                options=[("Not recorded", NOT_RECORDED_CHOICE),
                         *((x.capitalize(), x) for x in SEXES)],
                description=FIELD_LABELS["sex"], style=style, layout=wide),
            "childbearing_potential": widgets.Dropdown(
                options=[("Not recorded", NOT_RECORDED_CHOICE), ("Yes", True), ("No", False)],
                description=FIELD_LABELS["childbearing_potential"], style=style, layout=wide),
            "diabetes": widgets.Dropdown(
                options=[(d.replace("_", " ").capitalize(), d) for d in DIABETES_STATES],
                description=FIELD_LABELS["diabetes"], style=style, layout=wide),
            "allergies": widgets.Text(
                value="", placeholder="free text, comma-separated, e.g. lignocaine, salmon",
                description=FIELD_LABELS["allergies"], style=style, layout=wide),
        }
        for name in BOOLEAN_FIELDS:
            self.inputs[name] = widgets.Checkbox(
                value=False, description=FIELD_LABELS[name], indent=False,
                layout=widgets.Layout(width="auto"))
        self.set_values({**DEFAULT_PATIENT, **(patient or {})})
        self.label = widgets.HTML(label_html())
        self.screen_button = widgets.Button(
            description="Screen", button_style="primary",
            tooltip="Screen this patient with the teaching aid")
        text, html = notice(PROMPT)
        self.result = widgets.HTML(html)
        self.text = text_description_widget("Text description of the result", text)
        self.screen_button.on_click(self.screen)
        self._screened = False
        for control in self.inputs.values():
            control.observe(self._changed, names="value")
        details = [self.inputs[n] for n in
                   ("age", "sex", "indication", "area", "substance", "product_source",
                    "childbearing_potential", "diabetes", "allergies")]
        # Columns as wide as the longest label (ipywidgets cuts a checkbox label off with
        # an ellipsis), as many as fit the notebook's width.
        longest = max(len(FIELD_LABELS[n]) for n in BOOLEAN_FIELDS)
        flags = widgets.GridBox(
            [self.inputs[n] for n in BOOLEAN_FIELDS],
            layout=widgets.Layout(grid_template_columns=(
                f"repeat(auto-fill, minmax({0.6 * longest + 3:.0f}em, 1fr))")))
        self.view = widgets.VBox([
            self.label, *details, widgets.HTML("<strong>Medical history and flags</strong>"),
            flags, self.screen_button, self.result, self.text,
        ])

    def set_values(self, patient: dict[str, Any]) -> None:
        """Set the inputs from a patient record; ValueError names an unknown field."""
        from traitlets import TraitError

        for name, value in patient.items():
            if name not in self.inputs:
                raise ValueError(f"unknown patient field {name!r} (known fields: "
                                 f"{', '.join(self.inputs)})")
            if name == "allergies" and isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value)
            elif name in NOT_RECORDED_FIELDS and value is None:
                value = ""
            try:
                self.inputs[name].value = value
            except TraitError as error:
                raise ValueError(f"patient field {name!r}: {value!r} is not one of the form's "
                                 f"choices ({error})") from None

    def values(self) -> dict[str, Any]:
        """The current input values, keyed by patient field."""
        return {name: control.value for name, control in self.inputs.items()}

    def screen(self, _button: Any = None) -> None:
        """Ask the engine about the current values and show its answer (never raises)."""
        text, html = screening_result(self.values())
        self.text.value, self.result.value = text, html
        self._screened = True

    def _changed(self, _change: Any = None) -> None:
        if self._screened:
            self.text.value, self.result.value = notice(STALE)
            self._screened = False

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view; text-only front ends get the text equivalent instead."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.text.value
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)


def screening_form(patient: dict[str, Any] | None = None) -> ScreeningForm:
    """The screening form over the risk engine (practice only, never graded)."""
    return ScreeningForm(patient)
