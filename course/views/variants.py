"""The learner's own numbers of a per-learner variant item (course.variants).

A notebook shows them in a display-only cell under the question's stem; only the
numbers are shown, never the key.
"""

from __future__ import annotations

from html import escape

from course.callouts import Shown, callout
from course.variants import learner_id, variant


def your_numbers(item: str, learner: str | None = None) -> Shown:
    """The numbers ``learner`` (default: this kernel's learner) answers ``item`` with."""
    chosen = variant(item, learner or learner_id())
    title = "Your numbers (each learner has their own)"
    return Shown(callout(title, f"<p>{escape(chosen.stem)}</p>", kind="info", role="note"),
                 f"{title}: {chosen.stem}")
