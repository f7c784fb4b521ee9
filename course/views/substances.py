"""The substance explorer's view: the evidence-map figure and the explorer widget.

Filtering, monographs, the map's rows and columns and its text equivalent come from
:mod:`course.substances`; this module only draws and wires. matplotlib and ipywidgets are
imported inside the functions that need them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from course.content import (
    CERTAINTIES,
    INDICATIONS,
    REGULATORY_STATUSES,
    SUBSTANCE_CLASSES,
    Content,
    Substance,
)
from course.display import practice_figure
from course.evidence import _COLOURS, GRADE_WORDING, OCEBM_LEVELS
from course.substances import (
    CLASS_LABELS,
    EMPTY_CELL_COLOUR,
    INDICATION_LABELS,
    MAP_KEY,
    MAP_TITLE,
    NO_ENTRY,
    STATUS_LABELS,
    cell_label,
    certainty_words,
    compare_html,
    compare_text,
    data_or_default,
    filter_substances,
    map_axes,
    monograph_html,
    monograph_text,
    short_name,
    text_colour_on,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


@practice_figure("Evidence map")
def evidence_map_figure(
    substance_ids: Iterable[str] | None = None,
    indications: Iterable[str] | None = None,
    data: Content | None = None,
) -> Figure:
    """Grid of substances (rows) × indications (columns), one cell per pair.

    A filled cell is coloured by GRADE certainty and labelled with its OCEBM level and
    certainty in words; an empty cell shows "—" (no data). Each cell's text has the gid
    ``cell:<substance_id>:<indication>`` and its square ``patch:<substance_id>:<indication>``.
    Defaults: every substance, and the indications that at least one of them has evidence
    for.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    data = data_or_default(data)
    rows, cols = map_axes(substance_ids, indications, data)
    fig = Figure(figsize=(2.6 + 1.15 * len(cols), 1.9 + 0.5 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    for r, substance in enumerate(rows):
        for c, indication in enumerate(cols):
            entry = substance.evidence_for(indication)
            colour = _COLOURS[entry.certainty] if entry else EMPTY_CELL_COLOUR
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=colour,
                                   edgecolor="#555555", linewidth=0.6,
                                   gid=f"patch:{substance.id}:{indication}"))
            ax.text(c, r, cell_label(entry) if entry else NO_ENTRY, ha="center", va="center",
                    fontsize=8, color=text_colour_on(colour) if entry else "#444444",
                    gid=f"cell:{substance.id}:{indication}")
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(len(cols)), [INDICATION_LABELS[i] for i in cols],
                  rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), [short_name(s) for s in rows])
    ax.tick_params(length=0)
    ax.set_title(MAP_TITLE, fontsize=11)
    handles = [
        Patch(facecolor=_COLOURS[c], edgecolor="#555555",
              label=f"{certainty_words(c)} certainty: “{GRADE_WORDING[c]}”")
        for c in CERTAINTIES
    ]
    handles.append(Patch(facecolor=EMPTY_CELL_COLOUR, edgecolor="#555555",
                         label=f"{NO_ENTRY} no entry (no data recorded)"))
    ax.legend(handles=handles, title="GRADE certainty (colour and cell text)",
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title_fontsize=8)
    fig.supxlabel(textwrap.fill(MAP_KEY, 90), fontsize=8)
    return fig


ANY = "any"


class SubstanceExplorer:
    """Filters, a result list, an HTML monograph, a compare view and a text equivalent.

    Attributes: ``substance_class``, ``indication``, ``certainty``, ``level``, ``status``
    (dropdowns; value ``"any"`` means no filter), ``results`` (Select of substance ids),
    ``count`` (HTML), ``monograph`` (HTML), ``compare_with`` (Dropdown), ``compare``
    and ``text`` (the comparison and the monograph as plain text, each collapsed under
    a "Text description") and ``view`` (the container).
    """

    def __init__(self, data: Content | None = None) -> None:
        import ipywidgets as widgets

        from course.views.widgets import text_description_widget

        self._data = data_or_default(data)
        wide = {"description_width": "initial"}
        layout = widgets.Layout(width="auto")

        def dropdown(label: str, options: list[tuple[str, Any]]) -> widgets.Dropdown:
            return widgets.Dropdown(options=[("Any", ANY), *options], value=ANY,
                                    description=label, style=wide, layout=layout)

        self.substance_class = dropdown(
            "Class", [(CLASS_LABELS[c], c) for c in SUBSTANCE_CLASSES])
        self.indication = dropdown(
            "Indication", [(INDICATION_LABELS[i], i) for i in INDICATIONS])
        self.certainty = dropdown(
            "GRADE certainty at least", [(certainty_words(c), c) for c in CERTAINTIES])
        self.level = dropdown(
            "OCEBM level at most", [(f"{n} ({OCEBM_LEVELS[n]})", n) for n in range(1, 6)])
        self.status = dropdown(
            "Regulatory status", [(STATUS_LABELS[s], s) for s in REGULATORY_STATUSES])
        self.results = widgets.Select(options=[], description="Substances", rows=8,
                                      style=wide, layout=widgets.Layout(width="95%"))
        self.count = widgets.HTML()
        self.monograph = widgets.HTML()
        self.compare_with = widgets.Dropdown(
            options=[("Nothing", ANY)] + [(s.name, s.id) for s in self._data.substances.values()],
            value=ANY, description="Compare with", style=wide, layout=layout)
        self.compare_table = widgets.HTML()
        self.compare = text_description_widget("Text description of the comparison")
        self.text = text_description_widget("Text description of the monograph")
        filters = [self.substance_class, self.indication, self.certainty, self.level,
                   self.status]
        for control in filters:
            control.observe(self._filters_changed, names="value")
        self.results.observe(self._selection_changed, names="value")
        self.compare_with.observe(self._selection_changed, names="value")
        self.view = widgets.VBox([
            widgets.HTML("<h3>Filter the catalogue</h3>"), *filters, self.count, self.results,
            self.monograph, self.compare_with, self.compare_table, self.compare, self.text,
        ])
        self._filters_changed()

    @staticmethod
    def _value(control: Any) -> Any:
        return None if control.value == ANY else control.value

    def filtered(self) -> list[Substance]:
        """The substances the current filter values select."""
        return filter_substances(
            substance_class=self._value(self.substance_class),
            indication=self._value(self.indication),
            min_certainty=self._value(self.certainty),
            max_ocebm=self._value(self.level),
            regulatory_status=self._value(self.status),
            data=self._data,
        )

    def _filters_changed(self, _change: Any = None) -> None:
        found = self.filtered()
        previous = self.results.value
        self.results.options = [(s.name, s.id) for s in found]
        ids = [s.id for s in found]
        self.results.value = previous if previous in ids else (ids[0] if ids else None)
        one = len(found) == 1
        self.count.value = (f"<p>{len(found)} substance{'' if one else 's'} "
                            f"match{'es' if one else ''} these filters.</p>")
        self._selection_changed()

    def _selection_changed(self, _change: Any = None) -> None:
        chosen = self.results.value
        if chosen is None:
            self.monograph.value = "<p>No substance matches these filters.</p>"
            self.text.value = "No substance matches these filters."
            self.compare.value = self.compare_table.value = ""
            return
        self.monograph.value = monograph_html(chosen, self._data)
        self.text.value = monograph_text(chosen, self._data)
        other = self._value(self.compare_with)
        self.compare.value = compare_text(chosen, other, data=self._data) if other else ""
        self.compare_table.value = compare_html(chosen, other, self._data) if other else ""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view; text-only front ends get its plain-text twin instead."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.text.value
        return bundle


def substance_explorer(data: Content | None = None) -> SubstanceExplorer:
    """The substance explorer widget (practice only; its text twin is ``.text``)."""
    return SubstanceExplorer(data)
