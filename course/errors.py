"""Error types shared by the command line and the grading code (kept import-light)."""

from __future__ import annotations


class GradingError(RuntimeError):
    """nbgrader could not do what was asked; the message says why."""


class InputError(ValueError):
    """A learner's or instructor's file cannot be used (one clear line, exit code 2)."""
