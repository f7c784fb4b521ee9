"""HTML building blocks for course results: callouts, limit bars, icons, text descriptions.

Notebooks show results as HTML (wrapped, proportional type, headings and lists), never
as monospace ``print`` output. Safety-relevant results (a dose over a limit; a decision to
decline, refer or defer) are callouts with ``role="status"`` (``role="alert"`` when
urgent) and an accessible name. Symbols are inline SVG (``aria-hidden``) next to words,
so no glyph depends on the fonts a learner has. Every builder returns a string of HTML;
:class:`Shown` pairs HTML with its plain-text equivalent for display in a notebook.

Pure string functions with no widget imports, so view code can move (issue #21) freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

KINDS = {
    # kind: (border colour, icon); Okabe–Ito colours, words always carry the meaning.
    "danger": ("#D55E00", "cross"),
    "warning": ("#E69F00", "warning"),
    "pause": ("#56B4E9", "pause"),
    "refer": ("#0072B2", "arrow"),
    "ok": ("#009E73", "check"),
    "info": ("#999999", "info"),
}
"""Callout kinds: their border colour and icon."""

_ICON_PATHS = {
    "check": '<path d="M3 8.5l3.2 3.2L13 5" fill="none" stroke="currentColor" '
             'stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>',
    "warning": '<path d="M8 1.5L15 14.5H1z" fill="none" stroke="currentColor" '
               'stroke-width="1.6" stroke-linejoin="round"/>'
               '<path d="M8 6v4" stroke="currentColor" stroke-width="1.8" '
               'stroke-linecap="round"/><circle cx="8" cy="12.3" r="1" fill="currentColor"/>',
    "pause": '<rect x="3.5" y="2.5" width="3" height="11" rx="0.6" fill="currentColor"/>'
             '<rect x="9.5" y="2.5" width="3" height="11" rx="0.6" fill="currentColor"/>',
    "arrow": '<path d="M2 8h10M8.5 4l4 4-4 4" fill="none" stroke="currentColor" '
             'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
    "cross": '<path d="M3.5 3.5l9 9M12.5 3.5l-9 9" stroke="currentColor" stroke-width="2.2" '
             'stroke-linecap="round"/>',
    "info": '<circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" '
            'stroke-width="1.5"/><path d="M8 7v4.5" stroke="currentColor" stroke-width="1.8" '
            'stroke-linecap="round"/><circle cx="8" cy="4.7" r="1" fill="currentColor"/>',
}

COMMON_GLYPHS = frozenset("μ‐–—‘’“”…→←↑↓√≤≥≈−▲▶►○●•€™")
"""Characters above Latin-1 that course text may use: each is in DejaVu Sans (the fallback
font of Linux desktops and of Debian's Chromium) and in the system fonts of Windows and
macOS, so it never shows as an empty box (U+23F8, the pause sign, is in none). Anything
rarer is an SVG icon next to words."""

TABLE_STYLE = ("border-collapse:collapse;margin:0.5em 0;max-width:100%;"
               "font-size:0.95em;line-height:1.4")
CELL_STYLE = "text-align:left;vertical-align:top;padding:3px 8px;border-bottom:1px solid #ccc"
PROSE_STYLE = "line-height:1.5;max-width:60em"
"""Tables left-aligned and wrapping; prose at body-text line height."""


def icon(name: str) -> str:
    """An inline SVG icon (decorative: ``aria-hidden``); the words beside it carry meaning."""
    if name not in _ICON_PATHS:
        raise ValueError(f"icon must be one of {', '.join(_ICON_PATHS)}, got {name!r}")
    return ('<svg class="course-icon" aria-hidden="true" focusable="false" width="1em" '
            'height="1em" viewBox="0 0 16 16" style="vertical-align:-0.125em;'
            f'margin-right:0.3em">{_ICON_PATHS[name]}</svg>')


def callout(title: str, body_html: str = "", *, kind: str = "warning", role: str = "status",
            css_class: str = "course-callout") -> str:
    """A prominent box: icon + bold title, then the body; named by its title for AT.

    ``role`` is ``"status"`` for a result, ``"alert"`` for an urgent one, ``"note"`` for
    advice. ``title`` is plain text (escaped); ``body_html`` is trusted HTML.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if role not in ("status", "alert", "note"):
        raise ValueError(f"role must be status, alert or note, got {role!r}")
    colour, icon_name = KINDS[kind]
    return (
        f'<div class="{escape(css_class, quote=True)} course-callout-{kind}" role="{role}" '
        f'aria-label="{escape(title, quote=True)}" '
        f'style="border-left:6px solid {colour};padding:6px 12px;margin:6px 0;'
        f'background:rgba(127,127,127,0.08);{PROSE_STYLE}">'
        f'<p style="margin:0.2em 0;font-size:1.05em"><strong>'
        f"{icon(icon_name)}{escape(title)}</strong></p>{body_html}</div>"
    )


def limit_bar(share: float, limit_name: str) -> str:
    """The dose as a bar against its limit, with the percentage in words (not colour alone).

    The track runs from 0 to the larger of the limit and the dose; a marked line shows the
    limit. ``share`` is dose ÷ limit (1.0 = at the limit).
    """
    if share < 0:
        raise ValueError(f"share must be 0 or more, got {share!r}")
    over = share > 1 + 1e-9
    scale = max(1.0, share)
    fill = 100 * share / scale
    mark = 100 / scale
    colour = KINDS["danger"][0] if over else KINDS["ok"][0]
    words = (f"{share:.0%} of the {limit_name} limit — "
             f"{'above the limit' if over else 'within the limit'}")
    return (
        f'<div class="course-limit-bar" role="img" aria-label="{escape(words, quote=True)}" '
        f'style="margin:0.4em 0;max-width:32em">'
        f'<div style="position:relative;height:1.1em;border:1px solid #666;'
        f'background:rgba(127,127,127,0.12)">'
        f'<div style="width:{fill:.1f}%;height:100%;background:{colour}"></div>'
        f'<div title="limit" style="position:absolute;top:-3px;bottom:-3px;left:{mark:.1f}%;'
        f'border-left:3px solid currentColor"></div></div>'
        f'<div aria-hidden="true" style="font-size:0.95em"><strong>{escape(words)}</strong>'
        f"</div></div>"
    )


def paragraphs(text: str) -> str:
    """Plain text as escaped HTML paragraphs (blank lines) and line breaks."""
    blocks = [b.strip() for b in text.strip().split("\n\n") if b.strip()]
    return "".join(
        f"<p>{'<br>'.join(escape(line) for line in block.splitlines())}</p>" for block in blocks
    )


def text_description(text: str, summary: str = "Text description") -> str:
    """A text equivalent in a collapsed ``<details>`` (screen readers still reach it).

    The body's text content is the text itself: paragraphs are separated by a blank line
    and lines by a line break, so what a script or a copy reads equals the plain text.
    """
    blocks = [b.strip() for b in text.strip().split("\n\n") if b.strip()]
    body = "\n\n".join(
        "<p>" + "<br>\n".join(escape(line) for line in block.splitlines()) + "</p>"
        for block in blocks)
    return (f'<details class="course-text-description" style="{PROSE_STYLE}">'
            f'<summary>{escape(summary)}</summary>'
            f'<div class="course-text-description-body">{body}</div></details>')


def table(headers: list[str], rows: list[list[str]], caption: str = "", *,
          html_cells: bool = False) -> str:
    """A left-aligned, wrapping table; cells are escaped unless ``html_cells``."""
    def cell(value: str) -> str:
        return value if html_cells else escape(str(value))

    head = "".join(f'<th scope="col" style="{CELL_STYLE}">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL_STYLE}">{cell(v)}</td>' for v in row) + "</tr>"
        for row in rows
    )
    cap = (f'<caption style="text-align:left;font-weight:bold">{escape(caption)}</caption>'
           if caption else "")
    return (f'<div class="course-table" style="overflow-x:auto;max-width:100%">'
            f'<table style="{TABLE_STYLE}">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


@dataclass(frozen=True)
class Shown:
    """HTML for JupyterLab with its plain-text equivalent for every other front end."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def stack(*items: Shown) -> Shown:
    """Several results shown one after another in one cell (HTML and text)."""
    return Shown("".join(item.html for item in items), "\n\n".join(item.text for item in items))
