"""The lidocaine dose calculator widget: inputs wired to :mod:`course.dose`.

ipywidgets is imported when a calculator is built.
"""

from __future__ import annotations

from typing import Any

from course import TEACHING_AID_LABEL
from course.dose import (
    DEFAULT_LIDOCAINE_LABEL,
    LIDOCAINE_LABELS,
    calculator_html,
    calculator_text,
    lidocaine_label,
)


class DoseCalculator:
    """Label, weight, concentration (%) and volume inputs; the result updates on change.

    Attributes: ``label`` (Dropdown: "UK" or "US"), ``weight``, ``concentration``
    (percent), ``volume`` (FloatText), ``result`` (HTML), ``text`` (the plain-text
    equivalent, collapsed under "Text description") and ``view``. Invalid input shows a
    refusal text in ``result`` and ``text``; it never raises.
    """

    def __init__(self, weight_kg: float = 70.0, percent: float = 2.0,
                 volume_ml: float = 5.0, label: str = DEFAULT_LIDOCAINE_LABEL) -> None:
        import ipywidgets as widgets

        from course.views.widgets import text_description_widget

        style = {"description_width": "initial"}
        self.label = widgets.Dropdown(
            options=[(f"{record.summary}", code) for code, record in LIDOCAINE_LABELS.items()],
            value=lidocaine_label(label).code, description="Label", style=style,
            layout=widgets.Layout(width="auto"))
        self.weight = widgets.FloatText(value=weight_kg, description="Weight (kg)",
                                        style=style)
        self.concentration = widgets.FloatText(
            value=percent, description="Lidocaine concentration (%)", style=style)
        self.volume = widgets.FloatText(value=volume_ml, description="Volume (mL)",
                                        style=style)
        self.result = widgets.HTML()
        self.text = text_description_widget("Text description of the result")
        for control in (self.label, self.weight, self.concentration, self.volume):
            control.observe(self.refresh, names="value")
        self.view = widgets.VBox([
            widgets.HTML(f"<p><strong>{TEACHING_AID_LABEL}</strong></p>"),
            self.label, self.weight, self.concentration, self.volume, self.result, self.text,
        ])
        self.refresh()

    def refresh(self, _change: Any = None) -> None:
        """Recompute the result from the current input values."""
        values = (self.weight.value, self.concentration.value, self.volume.value,
                  self.label.value)
        self.text.value = calculator_text(*values)
        self.result.value = calculator_html(*values)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view; text-only front ends get its plain-text twin instead."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.text.value
        return bundle


def dose_calculator(weight_kg: float = 70.0, percent: float = 2.0,
                    volume_ml: float = 5.0,
                    label: str = DEFAULT_LIDOCAINE_LABEL) -> DoseCalculator:
    """The lidocaine dose calculator widget (practice only; ``.text`` is its text twin).

    ``label`` is "UK" (SmPC/BNF, 200 mg; the default) or "US" (4.5 mg/kg, not over 300 mg).
    """
    return DoseCalculator(weight_kg, percent, volume_ml, label)
