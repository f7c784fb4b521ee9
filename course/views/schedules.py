"""The session planner's view: the timeline figure and the planner widget.

The session days, totals and text equivalents come from :mod:`course.schedules`; this
module only draws and wires. matplotlib and ipywidgets are imported inside the functions
that need them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from course.display import OmittedWhileGrading, grading_run
from course.schedules import (
    DAYS_PER_MONTH,
    DEFAULT_SELECTION,
    NO_STANDARD_PROTOCOL,
    ROW_COLOURS,
    ROW_MARKERS,
    Schedule,
    checked_ids,
    get_schedule,
    schedules,
    session_days,
    timeline_alt_text,
    total_weeks,
)
from course.views.figures import figure_display_data

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


def timeline_figure(schedule_ids: Sequence[str]) -> Figure:
    """One labelled row per schedule, a marker on each session day; x axis in weeks."""
    import matplotlib.pyplot as plt

    ids = checked_ids(schedule_ids)
    rows = [get_schedule(sid) for sid in ids]
    longest = max((total_weeks(s.id) for s in rows if s.timed), default=1.0)
    fig = plt.figure(figsize=(10.0, 1.6 + 0.75 * len(rows)))
    plt.close(fig)  # detach from pyplot: returned figures display once and never leak
    height = fig.get_figheight()
    ax = fig.add_axes((0.3, 1.0 / height, 0.66, 1 - 1.5 / height))
    for row, s in enumerate(rows):
        colour, marker = ROW_COLOURS[row % len(ROW_COLOURS)], ROW_MARKERS[row % len(ROW_MARKERS)]
        ax.axhline(row, color="#DDDDDD", linewidth=0.8, zorder=0)
        if s.timed:
            weeks = [d / 7 for d in session_days(s.id)]
            ax.plot(weeks, [row] * len(weeks), linestyle="-", linewidth=1.0, color=colour,
                    marker=marker, markersize=8, markerfacecolor="white" if s.upper_limit
                    else colour, markeredgecolor=colour, gid=f"sessions:{s.id}")
        else:
            ax.text(0, row, f"  no interval reported ({s.sessions_text})", va="center",
                    fontsize=9, fontstyle="italic", gid=f"untimed:{s.id}")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{s.label}\n{textwrap.fill(s.note, 40)}" for s in rows], fontsize=8.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first schedule on top
    ax.set_xlim(-0.05 * longest - 0.2, longest * 1.05 + 0.5)
    ax.set_xlabel("Weeks from the first session")
    ax.set_title("Session schedules reported in studies — no standard protocol [R8, R48]",
                 fontsize=11, loc="left")
    fig.text(0.015, 0.08 / height, textwrap.fill(_figure_caption(rows), 150), fontsize=8,
             va="bottom", gid="caption")
    return fig


def _figure_caption(rows: Sequence[Schedule]) -> str:
    parts = ["Each marker is one session."]
    if any(s.upper_limit for s in rows):
        parts.append("Hollow markers: an upper limit (\"up to\"), drawn at the largest "
                     "number and shortest interval.")
    if any(s.interval_months is not None for s in rows):
        parts.append(f"A month is drawn as {DAYS_PER_MONTH} days.")
    if any(s.total_days is not None for s in rows):
        parts.append("\"Over N days\": spacing not reported, drawn evenly spread.")
    if any(not s.timed for s in rows):
        parts.append("Rows without markers: the source reports no interval.")
    return " ".join(parts)


class SessionPlanner:
    """A multiple choice of schedules, their timeline and its text equivalent.

    A thin view over the pure functions above. Display it as the last expression of
    a cell, or display ``.view``.
    """

    def __init__(self, selected: Sequence[str] = DEFAULT_SELECTION) -> None:
        import ipywidgets as widgets

        from course.views.widgets import prose, text_description_widget

        chosen = checked_ids(selected)
        self.schedules = widgets.SelectMultiple(
            options=[(f"{s.label}: {s.note}", s.id) for s in schedules().values()],
            value=tuple(chosen), rows=len(schedules()),
            description="Schedules", style={"description_width": "initial"},
            layout=widgets.Layout(width="auto"),
        )
        self.figure = widgets.Output()
        self.summary = text_description_widget("Text description of the timeline")
        self.schedules.observe(self._changed, names="value")
        help_text = widgets.HTML(prose(
            "<p>Choose one or more schedules (Ctrl- or Cmd-click to choose several). "
            "The text description below the timeline says the same in words.</p>"
        ))
        self.view = widgets.VBox([help_text, self.schedules, self.figure, self.summary])
        self.refresh()

    def _changed(self, _change: Any = None) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw the timeline and rewrite the summary from the current choice."""
        ids = list(self.schedules.value)
        if not ids:
            self.figure.outputs = ()
            self.summary.value = ("Choose at least one schedule to draw its timeline. "
                                  f"{NO_STANDARD_PROTOCOL}")
            return
        text = timeline_alt_text(ids)
        self.figure.outputs = (figure_display_data(timeline_figure(ids), text),)
        self.summary.value = text

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view; text-only front ends get the text summary instead."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.summary.value
        return bundle


def session_planner(
        selected: Sequence[str] = DEFAULT_SELECTION) -> SessionPlanner | OmittedWhileGrading:
    """The interactive session planner (practice only, never graded).

    While nbgrader runs the notebook: its starting text summary only (course.display).
    """
    if grading_run():
        return OmittedWhileGrading("Session planner", timeline_alt_text(checked_ids(selected)))
    return SessionPlanner(selected)
