"""Display-only work is skipped while nbgrader runs a notebook.

nbgrader sets ``NBGRADER_EXECUTION`` (``autograde`` or ``validate``) while it executes
a notebook. No browser is attached then, so interactive widgets and practice figures
can never be used or graded; building them only costs grading time (importing
matplotlib and drawing a figure is most of a lesson notebook's run time). Under
nbgrader, the practice-only factories (:func:`course.views.skin.skin_explorer`,
:func:`course.views.schedules.session_planner`, :func:`course.lesson.practice`, the
lesson figures) return an :class:`OmittedWhileGrading` instead: it displays the same text
equivalent the widget or figure would have shown, and says why the picture is missing.
Nothing graded ever depends on these objects.
"""

from __future__ import annotations

import functools
import html
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

GRADING_RUNS = ("autograde", "validate")
P = ParamSpec("P")
R = TypeVar("R")


def grading_run() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return os.environ.get("NBGRADER_EXECUTION", "") in GRADING_RUNS


@dataclass(frozen=True)
class _Text:
    """Mimics a text widget's ``.value`` so notebook cells that read it still work."""

    value: str


@dataclass(frozen=True)
class OmittedWhileGrading:
    """Stands in for a practice widget or figure during grading: its text equivalent."""

    what: str
    summary: str
    text: _Text = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _Text(self.summary))

    @property
    def notice(self) -> str:
        return f"[{self.what}: interactive view omitted while grading; its text follows.]"

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        body = html.escape(self.summary).replace("\n", "<br>")
        return {
            "text/plain": f"{self.notice}\n{self.summary}",
            "text/html": f"<p><em>{html.escape(self.notice)}</em></p><p>{body}</p>",
        }

    def __repr__(self) -> str:
        return f"{self.notice}\n{self.summary}"


def practice_figure(what: str) -> Callable[[Callable[P, R]], Callable[P, R | OmittedWhileGrading]]:
    """Decorate a lesson-figure builder: while grading it returns a stand-in, not a Figure.

    :func:`course.views.figures.show_figure` turns the stand-in into its alt text.
    """

    def decorate(builder: Callable[P, R]) -> Callable[P, R | OmittedWhileGrading]:
        @functools.wraps(builder)
        def build(*args: P.args, **kwargs: P.kwargs) -> R | OmittedWhileGrading:
            if grading_run():
                return OmittedWhileGrading(what, "")
            return builder(*args, **kwargs)

        return build

    return decorate
