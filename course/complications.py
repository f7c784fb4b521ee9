"""Complications of mesotherapy: event cards, onset timeline and NTM outbreak data.

The data live in ``course/data/complications.toml`` (clinical-brief.md §5) and are
validated on load: a bad record raises :class:`~course.content.ContentError` naming the
file, the record and the field; an unknown reference or claim id is refused.

Incidence is unknown (HAS could not establish it [R8]), so each card gives a frequency
**descriptor** (expected, reported, rare, reported in outbreaks, measured in trials),
never an invented rate; a percentage appears only where the brief gives a trial figure
(bruising 72%, marginal mandibular nerve injury 4%, dysphagia 2% with submental
deoxycholic acid [R23]).

Decisions documented here:

- **Onset windows** are a course convention for the timeline, wide on purpose:
  *immediate* = during the session or within hours; *days* = the first week; *weeks* =
  from about 1 week to about 3 months; *months* = about 3 months or later. A card may
  span a contiguous run of windows (alopecia: weeks to about a year [R41, R42]).
- Where the brief gives **no onset** for an event, the card gives the usual onset as
  expert practice (``onset_basis = "expert_practice"``, "(expert practice)" in the text)
  and the timeline hatches that bar and says so in its label.
- **Attack rates** are computed only where the brief gives both the number infected and
  the number treated in the same cluster: Paris 2006–07, 16 of 105 outpatients [R40];
  Balearic Islands 2009, 17 of 77 [R32]. Washington DC 2005 [R29] is not an NTM cluster
  (skin reactions of undetermined cause), so it has no cluster record and no NTM onset.
  Colombia's "33 of 80 confirmed" [R35] is stored as
  given (33 confirmed of 80) but not turned into a rate, because the brief does not say
  that the 80 were the people treated. These are rates **within outbreaks**, not the
  risk of a typical session, and every figure and text says so.
- **The NTM onset window** used by :func:`in_ntm_window` is 1–12 weeks, the range of a
  15-case series [R34], inclusive at both ends. It is a teaching aid for thinking about
  timing, not a diagnostic rule: outside it NTM infection is still possible (in one
  series diagnosis came at a mean of 9.8 weeks [R39]).

Pure functions: :func:`card_text`, :func:`card_html`, :func:`cards_by_onset`,
:func:`onset_timeline_alt_text`, :func:`attack_rates`, :func:`ntm_attack_rate_alt_text`,
:func:`ntm_onset_text`, :func:`weeks_since`, :func:`in_ntm_window`. The two figures are in
:mod:`course.views.complications`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

from course.catalogue import Tables, check_ids, get_record
from course.content import TEXT, TEXT_LIST, ContentError, Rule, validated
from course.paths import DATA_DIR

COMPLICATIONS_FILE = DATA_DIR / "complications.toml"

ONSET_WINDOWS = ("immediate", "days", "weeks", "months")
ONSET_SPANS = {
    "immediate": "during the session or within hours",
    "days": "within the first week",
    "weeks": "about 1 week to 3 months",
    "months": "about 3 months or later",
}
ONSET_BASES = ("sourced", "expert_practice")
FREQUENCIES = ("expected", "reported", "rare", "outbreaks", "trial")
FREQUENCY_LABELS = {
    "expected": "expected",
    "reported": "reported (incidence unknown)",
    "rare": "rare (incidence unknown)",
    "outbreaks": "reported in outbreaks (no rate for a typical session)",
    "trial": "measured in trials (see the trial figures)",
}
CARD_SECTIONS = (
    ("signs", "Signs"), ("prevention", "Prevention"),
    ("first_management", "First management"), ("when_to_refer", "When to refer"),
)
EXPERT_PRACTICE = "expert practice"
GK_NOTE = "GK = expert practice: general medical knowledge, not graded evidence."
OUTBREAK_NOTE = (
    "These are attack rates within outbreaks (people infected among those treated in "
    "that cluster), not the risk of a typical session."
)
UNITS = ("days", "weeks")
STATISTICS = ("range", "median", "mean")

# Okabe–Ito palette; each frequency also appears as a word on every bar.
FREQUENCY_COLOURS = {
    "expected": "#009E73", "reported": "#56B4E9", "rare": "#E69F00",
    "outbreaks": "#D55E00", "trial": "#CC79A7",
}
FREQUENCY_WORDS = {
    "expected": "Expected", "reported": "Reported", "rare": "Rare",
    "outbreaks": "Outbreaks", "trial": "Trial figures",
}
BAND_COLOURS = ("#F2F2F2", "#FFFFFF")
BAR_COLOUR = "#0072B2"
EXPERT_HATCH = "///"

_CITATION = re.compile(r"\[((?:R\d+|GK)(?:,\s*(?:R\d+|GK))*)\]")


# ---------------------------------------------------------------- data model


@dataclass(frozen=True)
class TrialFigure:
    """A trial figure the brief gives (a percentage of treated patients)."""

    what: str
    percent: float
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    """One complication card (ACE-style layout)."""

    id: str
    name: str
    frequency: str
    frequency_text: str
    onset_window: tuple[str, ...]
    onset_basis: str
    onset_text: str
    signs: str
    prevention: str
    first_management: str
    when_to_refer: str
    refs: tuple[str, ...]
    claims: tuple[str, ...]
    figures: tuple[TrialFigure, ...] = ()

    @property
    def onset_label(self) -> str:
        """'immediate', or 'weeks to months' for a span of windows."""
        first, last = self.onset_window[0], self.onset_window[-1]
        return first if first == last else f"{first} to {last}"

    @property
    def frequency_label(self) -> str:
        return FREQUENCY_LABELS[self.frequency]


@dataclass(frozen=True)
class Cluster:
    """A mesotherapy NTM cluster; counts only where the brief gives them."""

    id: str
    label: str
    counts_text: str
    refs: tuple[str, ...]
    cases: int | None = None
    treated: int | None = None
    confirmed: int | None = None
    total: int | None = None
    total_meaning: str | None = None


@dataclass(frozen=True)
class OnsetFigure:
    """An NTM onset figure: a range (low–high) or a single median or mean value."""

    id: str
    text: str
    statistic: str
    measure: str
    unit: str
    refs: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    value: float | None = None
    defines_window: bool = False

    def weeks(self) -> tuple[float, float]:
        """The figure in weeks, as (low, high); a single value gives (v, v)."""
        scale = 1 / 7 if self.unit == "days" else 1.0
        if self.statistic == "range":
            return (self.low or 0.0) * scale, (self.high or 0.0) * scale
        return (self.value or 0.0) * scale, (self.value or 0.0) * scale


@dataclass(frozen=True)
class ComplicationData:
    events: Mapping[str, Event]
    clusters: Mapping[str, Cluster]
    onsets: Mapping[str, OnsetFigure]

    @property
    def ntm_window(self) -> OnsetFigure:
        return next(o for o in self.onsets.values() if o.defines_window)


class AttackRate(NamedTuple):
    """Infected (cases) among treated in one cluster; rate is cases / treated (0–1)."""

    cluster: str
    cases: int
    treated: int
    rate: float


# ---------------------------------------------------------------- loading


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _windows_ok(value: Any) -> bool:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(v in ONSET_WINDOWS for v in items):
        return False
    positions = [ONSET_WINDOWS.index(v) for v in items]
    return positions == list(range(positions[0], positions[0] + len(positions)))


ONSET_WINDOW = Rule(
    _windows_ok,
    f"one of {', '.join(ONSET_WINDOWS)}, or a list of neighbouring windows in that order",
)
POSITIVE_INT = Rule(lambda v: type(v) is int and v > 0, "a whole number above 0")
REFS = Rule(lambda v: TEXT_LIST.check(v) and bool(v), "a non-empty list of reference ids")
FIGURES = Rule(lambda v: isinstance(v, list) and bool(v), "a non-empty list of tables")
FIGURE_FIELDS = {
    "what": TEXT,
    "percent": Rule(lambda v: _is_number(v) and 0 <= v <= 100, "a percentage from 0 to 100"),
    "refs": REFS,
}
EVENT_FIELDS = {
    "name": TEXT,
    "frequency": Rule(lambda v: v in FREQUENCIES,
                      f"a descriptor, one of {', '.join(FREQUENCIES)} (never a rate)"),
    "frequency_text": TEXT,
    "onset_window": ONSET_WINDOW,
    "onset_basis": Rule(lambda v: v in ONSET_BASES, f"one of {', '.join(ONSET_BASES)}"),
    "onset_text": TEXT,
    "signs": TEXT, "prevention": TEXT, "first_management": TEXT, "when_to_refer": TEXT,
    "refs": REFS, "claims": TEXT_LIST,
}
CLUSTER_FIELDS = {"label": TEXT, "counts_text": TEXT, "refs": REFS}
CLUSTER_OPTIONAL = {
    "cases": POSITIVE_INT, "treated": POSITIVE_INT, "confirmed": POSITIVE_INT,
    "total": POSITIVE_INT, "total_meaning": TEXT,
}
WEEKS_VALUE = Rule(lambda v: _is_number(v) and 0 <= v <= 520, "a number from 0 to 520")
ONSET_FIELDS = {
    "text": TEXT,
    "statistic": Rule(lambda v: v in STATISTICS, f"one of {', '.join(STATISTICS)}"),
    "measure": TEXT,
    "unit": Rule(lambda v: v in UNITS, f"one of {', '.join(UNITS)}"),
    "refs": REFS,
}
ONSET_OPTIONAL = {
    "low": WEEKS_VALUE, "high": WEEKS_VALUE, "value": WEEKS_VALUE,
    "defines_window": Rule(lambda v: type(v) is bool, "true or false"),
}


def cited_ids(text: str) -> list[str]:
    """Reference ids cited in brackets in a text: '[R8, R66]' → ['R8', 'R66']."""
    return [ref.strip() for group in _CITATION.findall(text) for ref in group.split(",")]


def _check_refs(refs: list[str], where: str) -> tuple[str, ...]:
    return check_ids(refs, "references.toml", where, "refs")


def _figure(record: Any, where: str) -> TrialFigure:
    fields = validated(record, where, FIGURE_FIELDS)
    return TrialFigure(fields["what"], float(fields["percent"]), _check_refs(fields["refs"], where))


def _event(event_id: str, record: Any, path: Path) -> Event:
    where = f"{path.name}: event {event_id!r}"
    fields = validated(record, where, EVENT_FIELDS, {"figures": FIGURES})
    refs = _check_refs(fields["refs"], where)
    check_ids(fields["claims"], "claims.toml", where, "claims", kind="claim")
    figures = tuple(_figure(f, f"{where}: figures[{i}]")
                    for i, f in enumerate(fields.pop("figures", [])))
    if fields["frequency"] == "trial" and not figures:
        raise ContentError(f"{where}: field 'frequency' is 'trial' but no 'figures' are given")
    texts = {name: fields[name] for name in
             ("frequency_text", "onset_text", *(s for s, _ in CARD_SECTIONS))}
    for name, text in texts.items():
        for ref in cited_ids(text):
            if ref not in refs:
                raise ContentError(f"{where}: field {name!r} cites {ref!r}, which is not in "
                                   f"'refs'")
    cited = {ref for text in texts.values() for ref in cited_ids(text)}
    cited |= {ref for f in figures for ref in f.refs}
    expert = any(EXPERT_PRACTICE in text for text in texts.values())
    for ref in refs:
        if ref == "GK":
            if not expert:
                raise ContentError(f"{where}: field 'refs' has GK but no text says "
                                   f"\"({EXPERT_PRACTICE})\"")
        elif ref not in cited:
            raise ContentError(f"{where}: field 'refs': {ref!r} is not cited in any text")
    if expert and "GK" not in refs:
        raise ContentError(f"{where}: a text says \"{EXPERT_PRACTICE}\", so 'refs' needs GK")
    if (fields["onset_basis"] == "expert_practice") != (EXPERT_PRACTICE in fields["onset_text"]):
        raise ContentError(f"{where}: field 'onset_text' must say \"{EXPERT_PRACTICE}\" exactly "
                           "when 'onset_basis' is 'expert_practice'")
    window = fields["onset_window"]
    fields["onset_window"] = (window,) if isinstance(window, str) else tuple(window)
    fields["refs"], fields["claims"] = refs, tuple(fields["claims"])
    return Event(id=event_id, figures=figures, **fields)


def _cluster(cluster_id: str, record: Any, path: Path) -> Cluster:
    where = f"{path.name}: ntm_cluster {cluster_id!r}"
    fields = validated(record, where, CLUSTER_FIELDS, CLUSTER_OPTIONAL)
    fields["refs"] = _check_refs(fields["refs"], where)
    if "treated" in fields and "cases" not in fields:
        raise ContentError(f"{where}: field 'treated' needs 'cases' (people infected)")
    if "treated" in fields and fields["cases"] > fields["treated"]:
        raise ContentError(f"{where}: field 'cases' ({fields['cases']}) is greater than "
                           f"'treated' ({fields['treated']})")
    paired = {"confirmed", "total", "total_meaning"}
    if paired & set(fields) and not paired <= set(fields):
        raise ContentError(f"{where}: 'confirmed', 'total' and 'total_meaning' go together")
    if "total" in fields and fields["confirmed"] > fields["total"]:
        raise ContentError(f"{where}: field 'confirmed' ({fields['confirmed']}) is greater "
                           f"than 'total' ({fields['total']})")
    return Cluster(id=cluster_id, **fields)


def _onset(onset_id: str, record: Any, path: Path) -> OnsetFigure:
    where = f"{path.name}: ntm_onset {onset_id!r}"
    fields = validated(record, where, ONSET_FIELDS, ONSET_OPTIONAL)
    fields["refs"] = _check_refs(fields["refs"], where)
    if fields["statistic"] == "range":
        if not {"low", "high"} <= set(fields) or "value" in fields:
            raise ContentError(f"{where}: a range needs 'low' and 'high' (and no 'value')")
        if fields["low"] > fields["high"]:
            raise ContentError(f"{where}: field 'low' ({fields['low']}) is greater than "
                               f"'high' ({fields['high']})")
    elif "value" not in fields or {"low", "high"} & set(fields):
        raise ContentError(f"{where}: a {fields['statistic']} needs 'value' "
                           "(and no 'low' or 'high')")
    if fields.get("defines_window") and fields["statistic"] != "range":
        raise ContentError(f"{where}: only a range can define the onset window")
    return OnsetFigure(id=onset_id, **fields)


def _complications(tables: dict[str, dict[str, Any]], path: Path) -> ComplicationData:
    onsets = tables["ntm_onset"]
    windows = [o.id for o in onsets.values() if o.defines_window]
    if len(windows) != 1:
        raise ContentError(f"{path.name}: exactly one ntm_onset record needs "
                           f"defines_window = true (found {len(windows)})")
    return ComplicationData(tables["event"], tables["ntm_cluster"], onsets)


COMPLICATIONS = Tables(COMPLICATIONS_FILE,
                       {"event": _event, "ntm_cluster": _cluster, "ntm_onset": _onset},
                       _complications)


def load_complications(path: Path = COMPLICATIONS_FILE) -> ComplicationData:
    """Load and validate the complication data; raise ContentError if anything is wrong."""
    return COMPLICATIONS.load(path)


def complication_data() -> ComplicationData:
    """The course's own complication data, loaded once per process."""
    return COMPLICATIONS.cached()


def event_ids() -> list[str]:
    """Event ids in the order of the brief's §5 table."""
    return list(complication_data().events)


def get_event(event_id: str) -> Event:
    """The event card's record, or ValueError listing the known events."""
    return get_record(complication_data().events, event_id, "event_id")


# ---------------------------------------------------------------- cards


def _figures_text(event: Event) -> str:
    return "; ".join(f"{f.what} {f.percent:g}% [{', '.join(f.refs)}]" for f in event.figures)


def _card_rows(event: Event) -> list[tuple[str, str]]:
    frequency = f"{event.frequency_label} — {event.frequency_text}"
    rows = [("Frequency", frequency)]
    if event.figures:
        rows.append(("Trial figures", _figures_text(event)))
    onset = f"{event.onset_label} — {event.onset_text}"
    rows.append(("Onset", onset))
    rows += [(label, getattr(event, name)) for name, label in CARD_SECTIONS]
    refs = ", ".join(event.refs)
    rows.append(("References", f"{refs}. {GK_NOTE}" if "GK" in event.refs else refs))
    return rows


def card_text(event_id: str) -> str:
    """The card as plain text: name, then one 'Heading: text' line per section."""
    event = get_event(event_id)
    return "\n".join([event.name, *(f"{h}: {t}" for h, t in _card_rows(event))])


def card_html(event_id: str) -> str:
    """The card as escaped HTML (a labelled section with a definition list)."""
    event = get_event(event_id)
    rows = "".join(f"<dt>{escape(h)}</dt><dd>{escape(t)}</dd>" for h, t in _card_rows(event))
    heading_id = f"complication-{escape(event.id, quote=True)}"
    return (
        f'<section class="course-complication-card" aria-labelledby="{heading_id}" '
        f'style="border:1px solid #999999;padding:6px 12px;margin:6px 0">'
        f'<h3 id="{heading_id}">{escape(event.name)}</h3><dl>{rows}</dl></section>'
    )


def cards_by_onset() -> dict[str, list[str]]:
    """Event ids under each onset window (every window present, in time order)."""
    grouped: dict[str, list[str]] = {window: [] for window in ONSET_WINDOWS}
    for event in complication_data().events.values():
        for window in event.onset_window:
            grouped[window].append(event.id)
    return grouped


# ---------------------------------------------------------------- onset timeline
def bar_label(event: Event) -> str:
    """An event's bar label on the onset timeline: frequency, then the onset basis."""
    word = FREQUENCY_WORDS[event.frequency]
    if event.frequency == "trial":
        word += ": " + " / ".join(f"{f.percent:g}%" for f in event.figures)
    basis = "onset: expert practice" if event.onset_basis == "expert_practice" \
        else "onset: sourced"
    return f"{word}\n{basis}"



def onset_timeline_alt_text() -> str:
    """A full text equivalent of :func:`course.views.complications.onset_timeline_figure`."""
    events = list(complication_data().events.values())
    windows = "; ".join(f"{w} ({ONSET_SPANS[w]})" for w in ONSET_WINDOWS)
    lines = [
        f"Chart: when {len(events)} complications of mesotherapy begin. Columns are onset "
        f"windows, from left to right: {windows}. Each complication is a row with one bar "
        "across the windows in which it begins; the bar's colour and its written label "
        "give the frequency descriptor, and hatching marks an onset given as expert "
        "practice because the course's sources give none.",
    ]
    for event in events:
        basis = ("onset from expert practice" if event.onset_basis == "expert_practice"
                 else "onset from the sources")
        figures = f"; trial figures: {_figures_text(event)}" if event.figures else ""
        lines.append(f"- {event.name}: {event.onset_label} ({basis}); "
                     f"frequency {event.frequency_label}{figures}.")
    lines.append("Bars show onset, not frequency or duration. Incidence is unknown [R8].")
    return "\n".join(lines)


def onset_timeline_html() -> str:
    """The onset timeline as an HTML table that reflows at 800 px: one row per event, one
    column per onset window, a coloured cell spanning the windows in which it begins.

    The frequency is written in every bar (colour is never the only carrier) and an onset
    from expert practice is hatched and says so in words.
    """
    from course.callouts import CELL_STYLE, TABLE_STYLE
    from course.substances import text_colour_on

    head = "".join(
        f'<th scope="col" style="{CELL_STYLE};min-width:5em">{escape(w.capitalize())}<br>'
        f'<small style="font-weight:normal">{escape(ONSET_SPANS[w])}</small></th>'
        for w in ONSET_WINDOWS)
    rows = []
    for event in complication_data().events.values():
        start = ONSET_WINDOWS.index(event.onset_window[0])
        width = len(event.onset_window)
        colour = FREQUENCY_COLOURS[event.frequency]
        ink = text_colour_on(colour)
        expert = event.onset_basis == "expert_practice"
        pattern = (";background-image:repeating-linear-gradient(45deg,transparent 0 6px,"
                   "rgba(255,255,255,0.35) 6px 9px)") if expert else ""
        label = escape(bar_label(event).replace("\n", " · "))
        empty = f'<td style="{CELL_STYLE}"></td>'
        rows.append(
            f'<tr><th scope="row" style="{CELL_STYLE};font-weight:normal">'
            f"{escape(event.name)}</th>{empty * start}"
            f'<td colspan="{width}" style="{CELL_STYLE};background:{colour};color:{ink}'
            f'{pattern}"><span style="background:{colour};padding:0 2px">{label}</span></td>'
            f"{empty * (len(ONSET_WINDOWS) - start - width)}</tr>")
    caption = "When complications of mesotherapy begin (onset windows)"
    note = ("Bars show when each complication begins, not how often or how long. Incidence "
            "is unknown [R8]: words, not rates, except trial figures [R23]. Hatched: onset "
            "not given by the course's sources (expert practice).")
    return (f'<div class="course-table course-timeline" style="overflow-x:auto;max-width:100%">'
            f'<table style="{TABLE_STYLE};width:100%">'
            f'<caption style="text-align:left;font-weight:bold">{escape(caption)}</caption>'
            f'<thead><tr><th scope="col" style="{CELL_STYLE}">Complication</th>{head}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
            f'<p style="font-size:0.9em;line-height:1.4">{escape(note)}</p></div>')


def onset_timeline():
    """The onset timeline for a notebook cell: responsive HTML with its text equivalent."""
    from course.callouts import Shown

    return Shown(onset_timeline_html(), onset_timeline_alt_text())


def ntm_onset():
    """The NTM onset figures for a notebook cell, as a note callout (HTML + text)."""
    from course.callouts import Shown, callout

    text = ntm_onset_text()
    return Shown(callout("When NTM infection appears", f"<p>{escape(text)}</p>", kind="info",
                         role="note"), text)


# ---------------------------------------------------------------- NTM


def attack_rates() -> list[AttackRate]:
    """(cluster id, cases, treated, rate) for clusters where the brief gives both counts."""
    return [AttackRate(c.id, c.cases, c.treated, c.cases / c.treated)
            for c in complication_data().clusters.values()
            if c.cases is not None and c.treated is not None]


def counts_only_text() -> str:
    """The clusters reported without a rate, in one sentence with references."""
    rated = {r.cluster for r in attack_rates()}
    parts = [f"{c.label} {c.counts_text} [{', '.join(c.refs)}]"
             for c in complication_data().clusters.values() if c.id not in rated]
    return "Other clusters, without a rate: " + "; ".join(parts) + "."


def rate_label(rate: AttackRate) -> str:
    """An attack rate as a percentage with its n/N."""
    return f"{100 * rate.rate:.1f}% ({rate.cases}/{rate.treated})"


def ntm_attack_rate_alt_text() -> str:
    """A full text equivalent of :func:`course.views.complications.ntm_attack_rate_figure`."""
    clusters = complication_data().clusters
    bars = "; ".join(f"{clusters[r.cluster].label}: {rate_label(r)} "
                     f"[{', '.join(clusters[r.cluster].refs)}]" for r in attack_rates())
    return (f"Horizontal bar chart of NTM attack rates within mesotherapy outbreaks, on a "
            f"scale of 0 to 100%. {bars}. {OUTBREAK_NOTE} {counts_only_text()}")


def ntm_onset_text() -> str:
    """The NTM onset figures in words, with references, and the window they suggest."""
    data = complication_data()
    figures = "; ".join(f"{o.text} [{', '.join(o.refs)}]" for o in data.onsets.values())
    window = data.ntm_window
    return (
        f"NTM infection appears weeks after treatment: {figures}. The course uses "
        f"{window.low:g}–{window.high:g} {window.unit} [{', '.join(window.refs)}] as the "
        "window to think of NTM; it is a range from one case series, not a diagnostic "
        "rule, so nodules or abscesses outside it still need mycobacterial culture [R35]."
    )


DATE_WORDS = {"treatment_date": "the date of treatment",
              "presentation_date": "the date the patient presented"}
"""The dates of :func:`weeks_since` in the words of an error message."""


def _as_date(value: Any, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    words = DATE_WORDS.get(name, name)
    raise ValueError(f'Enter {words} as a date in quotes, year-month-day, for example '
                     f'"2024-03-01" (you entered {value!r}).')


def weeks_since(treatment_date: date | str, presentation_date: date | str) -> float:
    """Weeks from treatment to presentation (days / 7); ValueError if presentation is earlier."""
    treated = _as_date(treatment_date, "treatment_date")
    presented = _as_date(presentation_date, "presentation_date")
    if presented < treated:
        raise ValueError(f"The patient cannot present ({presented.isoformat()}) before the "
                         f"treatment ({treated.isoformat()}): check the two dates.")
    return (presented - treated).days / 7


def in_ntm_window(weeks: float) -> bool:
    """True when weeks after treatment fall within 1–12 weeks [R34], both ends included."""
    if not _is_number(weeks) or weeks < 0:
        raise ValueError(f"Enter the weeks since treatment: a number of 0 or more (you "
                         f"entered {weeks!r}).")
    low, high = complication_data().ntm_window.weeks()
    return low <= weeks <= high
