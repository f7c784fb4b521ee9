"""Text from rosters and file names, made safe for the views that show it.

- :func:`csv_cell`: a cell a spreadsheet will not run as a formula (OWASP "CSV
  injection"): text starting with ``= + - @``, a tab or a carriage return gets a ``'``
  prefix. Numbers (``-1.5``) are left as they are.
- :func:`markdown_text`: text shown as itself in Markdown and HTML (JupyterLab renders
  Markdown with inline HTML): HTML metacharacters become entities and Markdown
  punctuation is backslash-escaped, so a name cannot add a link, an image, a script or
  a table cell.
"""

from __future__ import annotations

import html
import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()!|~$])")  # inline syntax, and $ math


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_cell(value: object) -> object:
    """``value`` for a CSV export, with a ``'`` before a formula-like text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def markdown_text(text: str) -> str:
    """``text`` escaped for inline Markdown (and the HTML it may hold); one line.

    Meant for text inside a line (a table cell, a list item): block syntax at the start
    of a line is not escaped.
    """
    escaped = html.escape(" ".join(str(text).split()), quote=False)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", escaped)
