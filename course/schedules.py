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
:func:`describe_schedule`, :func:`timeline_alt_text`. The timeline figure and the
widget are in :mod:`course.views.schedules` and only draw and wire.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.catalogue import Catalogue, check_ids, get_record
from course.content import TEXT, ContentError, Rule, validated
from course.paths import DATA_DIR

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
    check_ids([fields["source"]], "references.toml", where, "source")
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


SCHEDULES = Catalogue(SCHEDULES_FILE, "schedule", _schedule)


def load_schedules(path: Path = SCHEDULES_FILE) -> dict[str, Schedule]:
    """Load and validate the schedules, in file order; raise ContentError if invalid."""
    return SCHEDULES.load(path)


def schedules() -> dict[str, Schedule]:
    """The course's own schedules, loaded once per process."""
    return SCHEDULES.cached()


def schedule_ids() -> list[str]:
    return list(schedules())


def get_schedule(schedule_id: str) -> Schedule:
    """The schedule record, or ValueError in plain words listing the known ids."""
    known = schedules()
    if not isinstance(schedule_id, str) or schedule_id not in known:
        raise ValueError(f"There is no schedule called {schedule_id!r}: choose one of "
                         f"{', '.join(known)}.")
    return get_record(known, schedule_id, "schedule_id")


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

    ids = checked_ids(schedule_ids)
    html = "".join(describe_schedule_html(sid) for sid in ids) + callout(
        "No standard protocol", f"<p>{escape(NO_STANDARD_PROTOCOL)}</p>", kind="info",
        role="note")
    return Shown(html, "\n\n".join(describe_schedule(sid) for sid in ids))


# ---------------------------------------------------------------- figure text


def checked_ids(schedule_ids: Sequence[str]) -> list[str]:
    """The schedule ids, each checked: a string, an empty list or an unknown id is refused."""
    if isinstance(schedule_ids, str) or not schedule_ids:
        raise ValueError("Choose at least one schedule, as a list in square brackets, from: "
                         f"{', '.join(schedules())}.")
    return [get_schedule(sid).id for sid in schedule_ids]


def timeline_alt_text(schedule_ids: Sequence[str]) -> str:
    """A full text equivalent of :func:`course.views.schedules.timeline_figure`."""
    rows = [get_schedule(sid) for sid in checked_ids(schedule_ids)]
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
