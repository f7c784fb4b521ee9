"""Session planner: the session schedules that studies report, on one timeline.

There is no standard mesotherapy protocol [R8, R48]. Each schedule in
``course/data/schedules.toml`` is what one source reported; this module turns it into
session days and a timeline without adding anything the source does not say:

- "up to N" and ranges ("1–5 sessions") use the largest number and say so;
- "a month apart" is drawn as 30 days, and every text that uses it says so;
- "5 sessions over 13 days" gives the span, not the spacing: sessions are spread
  evenly from day 0 to day 13 and rounded to whole days, and the text says so;
- a source that reports no interval gets no session days (an empty list) and a total
  of ``nan`` weeks: the course does not invent an interval.

Pure functions: :func:`load_schedules`, :func:`session_days`, :func:`total_weeks`,
:func:`describe_schedule`, :func:`timeline_figure`, :func:`timeline_alt_text`.
The widget (:func:`session_planner`) only wires them together.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.content import TEXT, ContentError, Rule, read_toml, validated
from course.display import OmittedWhileGrading, grading_run
from course.figures import figure_display_data
from course.paths import DATA_DIR
from course.skin import known_ids

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

SCHEDULES_FILE = DATA_DIR / "schedules.toml"
DAYS_PER_MONTH = 30
NO_STANDARD_PROTOCOL = (
    "These are schedules reported in individual studies: no standard protocol exists "
    "[R8, R48]."
)
DEFAULT_SELECTION = ("face_r13", "face_r12", "face_r11")

# Okabe–Ito palette, cycled over rows; each row also carries its text label.
ROW_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
ROW_MARKERS = ("o", "s", "D", "^", "v", "P", "X")


@dataclass(frozen=True)
class Schedule:
    """One schedule as a source reported it."""

    id: str
    use: str
    source: str
    note: str
    sessions: int                    # the number drawn: the maximum of a range or limit
    sessions_min: int | None = None  # set when the source gives a range
    upper_limit: bool = False        # "up to N"
    interval_days: int | None = None
    interval_months: int | None = None
    interval_is_minimum: bool = False
    total_days: int | None = None
    injections_per_session_max: int | None = None
    reading: str | None = None

    @property
    def timed(self) -> bool:
        """Whether the source gives enough timing to place sessions on a calendar."""
        return any(v is not None for v in
                   (self.interval_days, self.interval_months, self.total_days))

    @property
    def label(self) -> str:
        return f"{self.use} [{self.source}]"

    @property
    def sessions_text(self) -> str:
        if self.sessions_min is not None:
            return f"{self.sessions_min}–{self.sessions} sessions (a range)"
        if self.upper_limit:
            return f"up to {self.sessions} sessions"
        return f"{self.sessions} session{'s' if self.sessions != 1 else ''}"


# ---------------------------------------------------------------- loading


def _positive_int(what: str) -> Rule:
    return Rule(lambda v: type(v) is int and 1 <= v <= 1000,
                f"{what}, a whole number from 1 to 1000")


BOOL = Rule(lambda v: type(v) is bool, "true or false")
FIELDS = {"use": TEXT, "source": TEXT, "note": TEXT}
OPTIONAL = {
    "sessions": _positive_int("a number of sessions"),
    "sessions_min": _positive_int("a number of sessions"),
    "sessions_max": _positive_int("a number of sessions"),
    "upper_limit": BOOL,
    "interval_days": _positive_int("a number of days"),
    "interval_months": _positive_int("a number of months"),
    "interval_is_minimum": BOOL,
    "total_days": _positive_int("a number of days"),
    "injections_per_session_max": _positive_int("a number of injections"),
    "reading": TEXT,
}
TIMING_FIELDS = ("interval_days", "interval_months", "total_days")


def _schedule(schedule_id: str, record: Any, path: Path) -> Schedule:
    where = f"{path.name}: schedule {schedule_id!r}"
    fields = validated(record, where, FIELDS, OPTIONAL)
    if fields["source"] not in known_ids("references.toml"):
        raise ContentError(f"{where}: field 'source': unknown reference id {fields['source']!r}")
    has_range = "sessions_min" in fields or "sessions_max" in fields
    if ("sessions" in fields) == has_range:
        raise ContentError(f"{where}: give either 'sessions' or both 'sessions_min' and "
                           "'sessions_max'")
    if has_range:
        if "sessions_min" not in fields or "sessions_max" not in fields:
            raise ContentError(f"{where}: a range needs both 'sessions_min' and 'sessions_max'")
        if fields["sessions_min"] >= fields["sessions_max"]:
            raise ContentError(f"{where}: field 'sessions_min' must be less than "
                               "'sessions_max'")
        if fields.get("upper_limit"):
            raise ContentError(f"{where}: field 'upper_limit' applies to 'sessions', "
                               "not to a range")
        fields["sessions"] = fields.pop("sessions_max")
    timing = [name for name in TIMING_FIELDS if name in fields]
    if len(timing) > 1:
        raise ContentError(f"{where}: give at most one of {', '.join(TIMING_FIELDS)}, "
                           f"got {', '.join(timing)}")
    if fields.get("interval_is_minimum") and not {"interval_days", "interval_months"} & {
        *timing
    }:
        raise ContentError(f"{where}: field 'interval_is_minimum' needs 'interval_days' "
                           "or 'interval_months'")
    if "total_days" in fields and fields["sessions"] < 2:
        raise ContentError(f"{where}: field 'total_days' needs 2 or more sessions")
    return Schedule(id=schedule_id, **fields)


def load_schedules(path: Path = SCHEDULES_FILE) -> dict[str, Schedule]:
    """Load and validate the schedules, in file order; raise ContentError if invalid."""
    data = read_toml(path)
    for key in data:
        if key != "schedule":
            raise ContentError(f"{path.name}: unknown table {key!r} (known: schedule)")
    tables = data.get("schedule")
    if not isinstance(tables, dict) or not tables:
        raise ContentError(f"{path.name}: expected one or more [schedule.<id>] tables")
    return {sid: _schedule(sid, record, path) for sid, record in tables.items()}


@lru_cache(maxsize=1)
def schedules() -> dict[str, Schedule]:
    """The course's own schedules, loaded once per process."""
    return load_schedules()


def schedule_ids() -> list[str]:
    return list(schedules())


def get_schedule(schedule_id: str) -> Schedule:
    """The schedule record, or ValueError listing the known ids."""
    known = schedules()
    if schedule_id not in known:
        raise ValueError(f"schedule_id must be one of {', '.join(known)}; got {schedule_id!r}")
    return known[schedule_id]


# ---------------------------------------------------------------- arithmetic


def session_days(schedule_id: str) -> list[int]:
    """Day of each session, counting the first as day 0; empty when no timing is reported."""
    s = get_schedule(schedule_id)
    if s.interval_days is not None:
        step = s.interval_days
    elif s.interval_months is not None:
        step = s.interval_months * DAYS_PER_MONTH
    elif s.total_days is not None:
        # Evenly spread from day 0 to the last day, rounded half up to whole days.
        return [math.floor(i * s.total_days / (s.sessions - 1) + 0.5)
                for i in range(s.sessions)]
    else:
        return []
    return [i * step for i in range(s.sessions)]


def total_weeks(schedule_id: str) -> float:
    """Weeks from the first to the last session; ``nan`` when no timing is reported."""
    days = session_days(schedule_id)
    return days[-1] / 7 if days else math.nan


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _timing_text(s: Schedule) -> str:
    """How the sessions fall, with every assumption said in words."""
    if not s.timed:
        return ("The source reports no interval between sessions, so no session days or "
                "total length can be given.")
    days = session_days(s.id)
    day_list = _join([str(d) for d in days])
    weeks = f"{total_weeks(s.id):.1f} weeks from the first to the last session"
    notes = []
    if s.reading:
        notes.append(f"The course reads “{s.note}” as: {s.reading}.")
    if s.interval_months is not None:
        notes.append(f"A month is drawn as {DAYS_PER_MONTH} days.")
    if s.total_days is not None:
        notes.append(f"The source gives the span ({s.total_days} days), not the spacing: "
                     "the sessions are spread evenly and rounded to whole days, which is "
                     "an assumption.")
    if s.upper_limit:
        minimum = " at the shortest interval" if s.interval_is_minimum else ""
        timing = (f"Up to {s.sessions} sessions: if all {s.sessions} are given{minimum}, "
                  f"they fall on days {day_list}, {weeks}; fewer sessions or longer "
                  "intervals change this.")
    else:
        timing = f"Sessions fall on days {day_list}: {weeks}."
    return " ".join([*notes, timing])


def _describe_core(s: Schedule) -> str:
    return (f"{s.label}: {s.sessions_text}, reported as “{s.note}”. {_timing_text(s)} "
            f"Source: {s.source}.")


def describe_schedule(schedule_id: str) -> str:
    """Sessions, intervals, total weeks and source in words, with the protocol caveat."""
    return f"{_describe_core(get_schedule(schedule_id))} {NO_STANDARD_PROTOCOL}"


def describe_schedule_html(schedule_id: str) -> str:
    """One schedule as HTML: its label as a heading, then sessions, timing and source."""
    from html import escape

    sched = get_schedule(schedule_id)
    return (f'<section class="course-schedule" aria-label="{escape(sched.label, quote=True)}" '
            f'style="line-height:1.5;max-width:60em">'
            f"<h4>{escape(sched.label)}</h4>"
            f"<p><strong>Sessions:</strong> {escape(sched.sessions_text)}, reported as "
            f"“{escape(sched.note)}”.</p><p><strong>Timing:</strong> "
            f"{escape(_timing_text(sched))}</p><p><strong>Source:</strong> "
            f"{escape(sched.source)}.</p></section>")


def schedule_descriptions(schedule_ids: Sequence[str]):
    """Several schedules for a notebook cell: HTML sections, then the protocol caveat once."""
    from html import escape

    from course.callouts import Shown, callout

    ids = _checked_ids(schedule_ids)
    html = "".join(describe_schedule_html(sid) for sid in ids) + callout(
        "No standard protocol", f"<p>{escape(NO_STANDARD_PROTOCOL)}</p>", kind="info",
        role="note")
    return Shown(html, "\n\n".join(describe_schedule(sid) for sid in ids))


# ---------------------------------------------------------------- figure


def _checked_ids(schedule_ids: Sequence[str]) -> list[str]:
    if isinstance(schedule_ids, str) or not schedule_ids:
        raise ValueError("schedule_ids must be a non-empty list of schedule ids, from: "
                         f"{', '.join(schedules())}")
    return [get_schedule(sid).id for sid in schedule_ids]


def timeline_figure(schedule_ids: Sequence[str]) -> Figure:
    """One labelled row per schedule, a marker on each session day; x axis in weeks."""
    import matplotlib.pyplot as plt

    ids = _checked_ids(schedule_ids)
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


def timeline_alt_text(schedule_ids: Sequence[str]) -> str:
    """A full text equivalent of :func:`timeline_figure`."""
    rows = [get_schedule(sid) for sid in _checked_ids(schedule_ids)]
    lines = [
        f"Timeline of {len(rows)} session schedule{'s' if len(rows) != 1 else ''} reported "
        "in studies, one row each, with a marker on each session day; the horizontal axis "
        "is weeks from the first session."
    ]
    for number, s in enumerate(rows, start=1):
        if s.timed:
            weeks = _join([f"{d / 7:.1f}" for d in session_days(s.id)])
            where = f" Markers at weeks {weeks}."
        else:
            where = " No markers: no interval reported."
        lines.append(f"Row {number}. {_describe_core(s)}{where}")
    lines.append(NO_STANDARD_PROTOCOL)
    return "\n".join(lines)


# ---------------------------------------------------------------- widget


class SessionPlanner:
    """A multiple choice of schedules, their timeline and its text equivalent.

    A thin view over the pure functions above. Display it as the last expression of
    a cell, or display ``.view``.
    """

    def __init__(self, selected: Sequence[str] = DEFAULT_SELECTION) -> None:
        import ipywidgets as widgets

        from course.widgets import prose, text_twin

        chosen = _checked_ids(selected)
        self.schedules = widgets.SelectMultiple(
            options=[(f"{s.label}: {s.note}", s.id) for s in schedules().values()],
            value=tuple(chosen), rows=len(schedules()),
            description="Schedules", style={"description_width": "initial"},
            layout=widgets.Layout(width="auto"),
        )
        self.figure = widgets.Output()
        self.summary = text_twin("Text summary")
        self.schedules.observe(self._changed, names="value")
        help_text = widgets.HTML(prose(
            "<p>Choose one or more schedules (Ctrl- or Cmd-click to choose several). "
            "The text summary below the timeline says the same in words.</p>"
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
        return OmittedWhileGrading("Session planner", timeline_alt_text(_checked_ids(selected)))
    return SessionPlanner(selected)
