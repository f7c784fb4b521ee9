"""Grading: nbgrader with the course's safeguards (see the modules)."""
