"""Showing matplotlib figures accessibly: every image carries its text equivalent.

JupyterLab renders the HTML view, an ``<img>`` with ``alt`` text and a visible caption;
front ends without HTML get the PNG, and text-only ones get the alt text. Use
:func:`show_figure` in notebooks and :func:`figure_display_data` inside widgets.

Images shrink to the width of the notebook (``max-width:100%; height:auto``), so a figure
never overflows at 800 px; ``fmt="svg"`` keeps lines and text sharp at any size (the SVG
is shown through ``<img>``, so its text is not selectable and the alt text carries it).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from course.display import OmittedWhileGrading

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def png_base64(fig: Figure, dpi: int = 80) -> str:
    """The figure as a base64-encoded PNG; the figure is closed afterwards."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def svg_base64(fig: Figure) -> str:
    """The figure as a base64-encoded SVG (text as paths: no font needed); it is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


IMAGE_STYLE = "max-width:100%;height:auto"
"""Images shrink with the notebook's width and keep their aspect ratio."""


def figure_bundle(png: str, alt_text: str, *, svg: str | None = None) -> dict[str, str]:
    """A MIME bundle: HTML image with alt text and caption, the PNG (or the SVG), and the
    plain text."""
    if not alt_text.strip():
        raise ValueError("alt_text: a figure needs a text equivalent")
    first_line = alt_text.strip().splitlines()[0]
    source = f"data:image/svg+xml;base64,{svg}" if svg else f"data:image/png;base64,{png}"
    html = (
        f'<figure class="course-figure" style="margin:0"><img src="{source}" '
        f'alt="{escape(alt_text, quote=True)}" style="{IMAGE_STYLE}">'
        f"<figcaption><small>{escape(first_line)}</small></figcaption></figure>"
    )
    bundle = {"text/html": html, "text/plain": alt_text}
    if svg:
        bundle["image/svg+xml"] = base64.b64decode(svg).decode("utf-8")
    else:
        bundle["image/png"] = png
    return bundle


def figure_display_data(fig: Figure, alt_text: str) -> dict[str, Any]:
    """A display-data output (for ``Output.outputs``) holding the figure and its alt text."""
    return {"output_type": "display_data", "data": figure_bundle(png_base64(fig), alt_text),
            "metadata": {}}


@dataclass(frozen=True)
class AccessibleFigure:
    """A rendered figure with its text equivalent, displayable in any front end."""

    png: str
    alt_text: str
    svg: str | None = None

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return figure_bundle(self.png, self.alt_text, svg=self.svg)

    def __repr__(self) -> str:
        return self.alt_text


def show_figure(fig: Figure | OmittedWhileGrading, alt_text: str,
                fmt: str = "png") -> AccessibleFigure | OmittedWhileGrading:
    """Return the figure for display with its alt text (the figure is closed).

    ``fmt`` is ``"png"`` or ``"svg"`` (sharper at any width). A figure omitted while
    nbgrader runs the notebook (course.display) shows its alt text.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg', got {fmt!r}")
    if isinstance(fig, OmittedWhileGrading):
        return OmittedWhileGrading(fig.what, alt_text)
    if fmt == "svg":
        return AccessibleFigure("", alt_text, svg_base64(fig))
    return AccessibleFigure(png_base64(fig), alt_text)
