"""The skin explorer's view: the cross-section figure and the explorer widget.

Every value shown comes from :mod:`course.skin` (the geometry, the layer reached and the
text equivalent); this module only draws and wires. matplotlib and ipywidgets are
imported inside the functions that need them, so importing it stays light.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any

from course.display import OmittedWhileGrading, grading_run
from course.skin import (
    ANGLE_RANGE_DEG,
    AXES_RECT,
    BELOW_COLOUR,
    DEPOSIT_COLOUR,
    FIG_SIZE,
    ILLUSTRATIVE_LABEL,
    LAYER_NAMES,
    LAYER_STYLE,
    NEEDLE_COLOUR,
    NEEDLE_RANGE_MM,
    assess_injection,
    cross_section_alt_text,
    explorer_summary,
    figure_layout,
    format_angle,
    get_area,
    get_technique,
    skin_data,
)
from course.views.figures import figure_display_data

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


def _label_positions(wanted: list[float], gap: float = 0.11) -> list[float]:
    """Spread label heights (axes fraction, top first) so that they do not overlap."""
    pos: list[float] = []
    for y in wanted:
        pos.append(min(y, pos[-1] - gap) if pos else min(y, 0.95))
    overflow = 0.03 - pos[-1] if pos else 0
    return [p + overflow for p in pos] if overflow > 0 else pos


def cross_section_figure(area: str, technique: str, needle_mm: float,
                         angle_deg: float) -> Figure:
    """A to-scale cross-section of the area's skin with the needle and its deposit."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    record, tech = get_area(area), get_technique(technique)
    result = assess_injection(area, technique, needle_mm, angle_deg)
    lay = figure_layout(record, needle_mm, angle_deg)
    theta = math.radians(angle_deg)

    fig = plt.figure(figsize=FIG_SIZE)
    plt.close(fig)  # detach from pyplot: returned figures display once and never leak
    ax = fig.add_axes(AXES_RECT)
    span = lay.y_bottom - lay.y_top

    def frac(y: float) -> float:
        return 1 - (y - lay.y_top) / span

    labels: list[tuple[float, str, float]] = []  # (axes-fraction height, text, data y)
    for layer, top, bottom in record.bounds():
        shown_bottom = min(bottom, lay.y_bottom)
        style = LAYER_STYLE[layer]
        ax.add_patch(Rectangle(
            (lay.x_min, top), lay.x_max - lay.x_min, shown_bottom - top,
            facecolor=style["colour"], alpha=0.55, edgecolor="#333333", linewidth=0.8,
            hatch=style["hatch"], gid=f"layer:{layer}", label=layer,
        ))
        text = f"{LAYER_NAMES[layer].capitalize()}: {record.thickness(layer):g} mm"
        text += " (illustrative)"
        if layer == "hypodermis" and lay.truncated:
            text += "\n(cut off at the break mark)"
        mid = (top + shown_bottom) / 2
        labels.append((frac(mid), text, mid))
    if lay.shows_below:
        ax.add_patch(Rectangle(
            (lay.x_min, record.total_mm), lay.x_max - lay.x_min,
            lay.y_bottom - record.total_mm, facecolor=BELOW_COLOUR, alpha=0.4,
            edgecolor="#333333", linewidth=0.8, gid="region:below",
        ))
        mid = (record.total_mm + lay.y_bottom) / 2
        labels.append((frac(mid), "Below the hypodermis\n(not modelled)", mid))
    if lay.truncated:
        xs = [lay.x_min + i * (lay.x_max - lay.x_min) / 24 for i in range(25)]
        for offset in (0.035, 0.055):
            ys = [lay.y_bottom - span * (offset + (0.012 if i % 2 else 0)) for i in range(25)]
            ax.plot(xs, ys, color="#000000", linewidth=1.2, gid="break")

    placed = _label_positions([wanted for wanted, _, _ in labels])
    for (_, text, y), height in zip(labels, placed, strict=True):
        ax.annotate(text, xy=(lay.x_max, y), xycoords="data", xytext=(1.04, height),
                    textcoords="axes fraction", va="center", fontsize=9,
                    arrowprops={"arrowstyle": "-", "color": "#333333", "linewidth": 0.8},
                    gid="layer-label")

    ax.axhline(0, color="#000000", linewidth=1.0)
    ax.text(lay.x_max - 0.02 * (lay.x_max - lay.x_min), -0.015 * span, "Skin surface",
            fontsize=8, va="bottom", ha="right")
    start = (-lay.outside * math.cos(theta), -lay.outside * math.sin(theta))
    ax.plot([start[0], lay.run], [start[1], lay.depth], color=NEEDLE_COLOUR, linewidth=2.5,
            solid_capstyle="butt", gid="needle", label="needle")
    radius = min(0.35 * needle_mm, 0.15 * span)
    arc_t = [theta * i / 20 for i in range(21)]
    ax.plot([radius * math.cos(t) for t in arc_t], [radius * math.sin(t) for t in arc_t],
            color="#000000", linewidth=0.8, gid="angle")
    ax.text(radius * 1.1 * math.cos(theta / 2), radius * 1.1 * math.sin(theta / 2),
            format_angle(angle_deg), fontsize=9, va="top", ha="left")
    ax.plot([lay.run], [lay.depth], marker="o", markersize=10, color=DEPOSIT_COLOUR,
            markeredgecolor="#000000", linestyle="none", gid="deposit", label="deposit")

    ax.set_xlim(lay.x_min, lay.x_max)
    ax.set_ylim(lay.y_bottom, lay.y_top)  # depth grows downwards
    ax.set_aspect("equal", adjustable="box")
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= lay.y_bottom])
    ax.set_ylabel("Depth below the skin surface (mm)")
    ax.set_xlabel("Distance along the skin (mm)")
    ax.set_title(f"{record.name}: {tech.short_name.lower()} technique — "
                 f"{needle_mm:.1f} mm insertion at {format_angle(angle_deg)}", fontsize=11,
                 loc="left")
    verdict = "Match" if result.matches_intent else "Mismatch"
    caption = (f"● Deposit (blue circle): {result.depth_mm:.2f} mm deep, in the "
               f"{LAYER_NAMES[result.layer]}. {verdict}: the {tech.short_name.lower()} "
               f"technique aims at {tech.aim}.")
    fig.text(AXES_RECT[0], 0.015, textwrap.fill(caption, 105), fontsize=9, va="bottom",
             gid="verdict")
    fig.text(0.985, 0.965, ILLUSTRATIVE_LABEL, fontsize=10, fontweight="bold", ha="right",
             va="top", gid="illustrative")
    return fig


class SkinExplorer:
    """Area and technique menus, needle and angle sliders, the figure and its summary.

    A thin view: every value shown comes from the pure functions above. Display it as
    the last expression of a cell, or display ``.view``.
    """

    def __init__(self, area: str = "face", technique: str = "intraepidermal") -> None:
        import ipywidgets as widgets

        from course.views.widgets import text_description_widget

        data = skin_data()
        get_area(area)
        tech = get_technique(technique)
        self._holding = False
        self.area = widgets.Dropdown(
            options=[(a.name, a.id) for a in data.areas.values()], value=area,
            description="Body area", style={"description_width": "initial"},
        )
        self.technique = widgets.Dropdown(
            options=[(t.name, t.id) for t in data.techniques.values()], value=technique,
            description="Technique", style={"description_width": "initial"},
            layout=widgets.Layout(width="auto"),
        )
        slider_style = {"description_width": "14em"}
        self.needle = widgets.FloatSlider(
            value=tech.example_needle_mm, min=NEEDLE_RANGE_MM[0], max=NEEDLE_RANGE_MM[1],
            step=0.1, readout_format=".1f", continuous_update=False,
            description="Needle inserted (mm)", style=slider_style,
            layout=widgets.Layout(width="36em"),
        )
        self.angle = widgets.FloatSlider(
            value=tech.example_angle_deg, min=ANGLE_RANGE_DEG[0], max=ANGLE_RANGE_DEG[1],
            step=0.5, readout_format=".1f", continuous_update=False,
            description="Angle to the skin (°)", style=slider_style,
            layout=widgets.Layout(width="36em"),
        )
        self.reset = widgets.Button(
            description="Use the technique's described needle and angle",
            tooltip="Set the sliders to the technique's starting values",
            layout=widgets.Layout(width="auto"),
        )
        self.figure = widgets.Output()
        self.summary = text_description_widget("Text description of the cross-section")
        for control in (self.area, self.technique, self.needle, self.angle):
            control.observe(self._changed, names="value")
        self.reset.on_click(self._use_described)
        self.view = widgets.VBox([
            widgets.HBox([self.area, self.technique]), self.needle, self.angle,
            self.reset, self.figure, self.summary,
        ])
        self.refresh()

    def _changed(self, _change: Any = None) -> None:
        if not self._holding:
            self.refresh()

    def _use_described(self, _button: Any = None) -> None:
        tech = get_technique(self.technique.value)
        self._holding = True
        try:
            self.needle.value = tech.example_needle_mm
            self.angle.value = tech.example_angle_deg
        finally:
            self._holding = False
        self.refresh()

    def refresh(self) -> None:
        """Redraw the figure and rewrite the summary from the current values."""
        args = (self.area.value, self.technique.value, self.needle.value, self.angle.value)
        fig = cross_section_figure(*args)
        self.figure.outputs = (figure_display_data(fig, cross_section_alt_text(*args)),)
        self.summary.value = explorer_summary(*args)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view; text-only front ends get the text summary instead."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.summary.value
        return bundle


def skin_explorer(area: str = "face") -> SkinExplorer | OmittedWhileGrading:
    """The interactive skin cross-section explorer (practice only, never graded).

    While nbgrader runs the notebook: its starting text summary only (course.display).
    """
    if grading_run():
        tech = get_technique("intraepidermal")
        return OmittedWhileGrading("Skin explorer", explorer_summary(
            area, tech.id, tech.example_needle_mm, tech.example_angle_deg))
    return SkinExplorer(area=area)
