"""Spaced review of practice questions (FSRS), for self-study learners.

A practice question the learner misses, or answers right but unsure, becomes a review
card scheduled with the FSRS algorithm (the ``fsrs`` package): missed items come back
within minutes, then after growing intervals as they are answered right. Items answered
right with medium or high certainty are not scheduled, unless they already are.

The schedule lives in the learner's ``progress.json`` (``assignments/progress.json``,
the file ``course check`` writes) under the key ``"review"``. Everything here is pure
apart from :func:`load_schedule`, :func:`save_answer` and :func:`review_note` (which
saves); :func:`review_summary` says what is due in words. The widget is in
``course/views/review.py`` and the command in ``course review``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Literal

from fsrs import Card, Rating, Scheduler

from course.certificate import PROGRESS_FILE, REVIEW_KEY
from course.paths import assignments_dir

CERTAINTIES = ("low", "medium", "high")
Certainty = Literal["low", "medium", "high"]

# Fuzzing off: the same answers on the same days always give the same schedule.
_SCHEDULER = Scheduler(enable_fuzzing=False)


@dataclass(frozen=True)
class DueItem:
    """A practice question due for review."""

    qid: str
    due: datetime
    reviews: int


def rating_for(correct: bool, certainty: Certainty) -> Rating:
    """FSRS rating of one answer: wrong is Again; right is Hard, Good or Easy by certainty."""
    if certainty not in CERTAINTIES:
        raise ValueError(f"certainty must be one of {', '.join(CERTAINTIES)}, not {certainty!r}")
    if not correct:
        return Rating.Again
    return {"low": Rating.Hard, "medium": Rating.Good, "high": Rating.Easy}[certainty]


def needs_review(correct: bool, certainty: Certainty) -> bool:
    """A missed item, or a right answer given with low certainty, is worth reviewing."""
    return not correct or certainty == "low"


def record_answer(schedule: Mapping[str, dict], qid: str, correct: bool, certainty: Certainty,
                  when: datetime) -> dict[str, dict]:
    """The schedule after one answer (a new mapping; ``schedule`` is not changed).

    A question already scheduled is reviewed with the answer's rating; an unscheduled one
    is added only when :func:`needs_review` says so.
    """
    rating = rating_for(correct, certainty)
    updated = {k: dict(v) for k, v in schedule.items()}
    if qid in schedule:
        card = _card(schedule[qid])
        reviews = int(schedule[qid].get("reviews", 0))
    elif needs_review(correct, certainty):
        card, reviews = Card(card_id=_card_id(qid), due=when), 0
    else:
        return updated
    card, _ = _SCHEDULER.review_card(card, rating, review_datetime=_utc(when))
    updated[qid] = {**card.to_dict(), "reviews": reviews + 1}
    return updated


def due_items(schedule: Mapping[str, dict], now: datetime) -> list[DueItem]:
    """The scheduled questions due at ``now``, the most overdue first."""
    items = [DueItem(qid, _card(entry).due, int(entry.get("reviews", 0)))
             for qid, entry in schedule.items()]
    return sorted((i for i in items if i.due <= _utc(now)), key=lambda i: (i.due, i.qid))


def next_due(schedule: Mapping[str, dict]) -> datetime | None:
    """When the next scheduled question falls due (None when nothing is scheduled)."""
    dues = [_card(entry).due for entry in schedule.values()]
    return min(dues) if dues else None


def validated_schedule(value: object) -> dict[str, dict]:
    """The schedule stored in a progress file, or ValueError in one plain sentence."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("the review schedule in progress.json is not a table of questions")
    for qid, entry in value.items():
        try:
            _card(entry)
        except (TypeError, KeyError, ValueError, AttributeError):
            raise ValueError(f"the review schedule entry for {qid!r} in progress.json is "
                             "damaged") from None
    return value


# ---------------------------------------------------------------- the learner's file


def learner_folder(cwd: Path | None = None) -> Path | None:
    """Where this learner's progress.json lives, or None outside a learner's copy.

    ``COURSE_PROGRESS_DIR`` wins (a hub image may set it); otherwise the course's
    ``assignments/`` folder when the current folder is inside it. Notebooks run from
    ``source/`` or ``release/`` record nothing.
    """
    if env := os.environ.get("COURSE_PROGRESS_DIR"):
        return Path(env)
    here = (cwd or Path.cwd()).resolve()
    folder = assignments_dir().resolve()
    return folder if here == folder or folder in here.parents else None


def load_schedule(folder: Path) -> dict[str, dict]:
    """The review schedule in ``folder/progress.json`` ({} when there is none yet)."""
    path = folder / PROGRESS_FILE
    if not path.exists():
        return {}
    return validated_schedule(_read_json(path).get(REVIEW_KEY))


def save_answer(folder: Path, qid: str, correct: bool, certainty: Certainty,
                when: datetime | None = None) -> dict[str, dict]:
    """Record one practice answer in ``folder/progress.json``; return the new schedule.

    Other keys of the file (the assignments' check results) are kept; the file is
    replaced atomically. A damaged schedule raises ValueError and nothing is written.
    """
    path = folder / PROGRESS_FILE
    progress = _read_json(path) if path.exists() else {}
    schedule = validated_schedule(progress.get(REVIEW_KEY))
    progress[REVIEW_KEY] = record_answer(schedule, qid, correct, certainty,
                                         when or datetime.now(UTC))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(progress, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return progress[REVIEW_KEY]


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path} cannot be read; run `course check` on an assignment to "
                         "start a new one") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} has unexpected content; run `course check` on an assignment "
                         "to start a new one")
    return data


def _card(entry: Mapping) -> Card:
    fields = {k: entry[k] for k in ("card_id", "state", "step", "stability", "difficulty",
                                    "due", "last_review")}
    return Card.from_dict(fields)


def _card_id(qid: str) -> int:
    """A stable card id from the question id (fsrs otherwise uses the clock)."""
    return int.from_bytes(hashlib.sha256(qid.encode()).digest()[:6], "big")


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# ---------------------------------------------------------------- in words


def _when(moment: datetime, now: datetime) -> str:
    """A plain-language date: 'in a few minutes', 'today', or '7 December 2026'."""
    if moment - now < timedelta(hours=1):
        return "in a few minutes"
    if moment.date() == now.date():
        return "later today"
    return f"on {moment.day} {moment:%B %Y}"


def review_note(folder: Path | None, qid: str, correct: bool, certainty: str,
                now: datetime | None = None) -> str:
    """Record one answer for review and say, in one sentence, what happens next."""
    if folder is None:
        return ("Your answers are saved for review only in your own copy of the course "
                "(the assignments folder).")
    now = now or datetime.now(UTC)
    try:
        schedule = save_answer(folder, qid, correct, certainty, now)
    except (ValueError, OSError) as error:
        return f"This answer could not be saved for review: {escape(str(error))}"
    if qid not in schedule:
        return "Answered right and with confidence: not scheduled for review."
    due = next_due({qid: schedule[qid]})
    return f"This question comes back for review {_when(due, now)}." if due else ""


def review_summary(folder: Path | None, now: datetime | None = None) -> str:
    """What is due, in plain words (also the text equivalent of the session)."""
    if folder is None:
        return ("Spaced review works in your own copy of the course: open this notebook "
                "from the assignments folder (make lab does this for you).")
    now = now or datetime.now(UTC)
    try:
        schedule = load_schedule(folder)
    except ValueError as error:
        return f"Your review schedule cannot be read: {error}"
    due = due_items(schedule, now)
    if due:
        return (f"{len(due)} practice question{'s' if len(due) != 1 else ''} due for review "
                f"now, of {len(schedule)} scheduled.")
    upcoming = next_due(schedule)
    if upcoming is None:
        return ("Nothing is scheduled yet: practice questions you miss, or answer while "
                "guessing, will be scheduled for review.")
    return f"Nothing is due now. The next review is {_when(upcoming, now)}."
