"""Showing matplotlib figures accessibly: every image carries its text equivalent.

JupyterLab renders the HTML view, an ``<img>`` with ``alt`` text and a visible caption;
front ends without HTML get the PNG, and text-only ones get the alt text. Use
:func:`show_figure` in notebooks and :func:`figure_display_data` inside widgets.
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


def figure_bundle(png: str, alt_text: str) -> dict[str, str]:
    """A MIME bundle: HTML image with alt text and caption, the PNG, and the plain text."""
    if not alt_text.strip():
        raise ValueError("alt_text: a figure needs a text equivalent")
    first_line = alt_text.strip().splitlines()[0]
    html = (
        f'<figure style="margin:0"><img src="data:image/png;base64,{png}" '
        f'alt="{escape(alt_text, quote=True)}" style="max-width:100%">'
        f"<figcaption><small>{escape(first_line)}</small></figcaption></figure>"
    )
    return {"text/html": html, "image/png": png, "text/plain": alt_text}


def figure_display_data(fig: Figure, alt_text: str) -> dict[str, Any]:
    """A display-data output (for ``Output.outputs``) holding the figure and its alt text."""
    return {"output_type": "display_data", "data": figure_bundle(png_base64(fig), alt_text),
            "metadata": {}}


@dataclass(frozen=True)
class AccessibleFigure:
    """A rendered figure with its text equivalent, displayable in any front end."""

    png: str
    alt_text: str

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return figure_bundle(self.png, self.alt_text)

    def __repr__(self) -> str:
        return self.alt_text


def show_figure(fig: Figure | OmittedWhileGrading,
                alt_text: str) -> AccessibleFigure | OmittedWhileGrading:
    """Return the figure for display with its alt text (the figure is closed).

    A figure omitted while nbgrader runs the notebook (course.display) shows its alt text.
    """
    if isinstance(fig, OmittedWhileGrading):
        return OmittedWhileGrading(fig.what, alt_text)
    return AccessibleFigure(png_base64(fig), alt_text)
