"""Figures are shown with their text equivalent in every front end."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from course.views.figures import figure_bundle, figure_display_data, show_figure


def _figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def test_bundle_has_html_image_with_alt_png_and_text() -> None:
    shown = show_figure(_figure(), 'Line rising "steadily" <from> 0 to 1.\nSecond line.')
    bundle = shown._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert 'alt="Line rising &quot;steadily&quot; &lt;from&gt; 0 to 1.' in bundle["text/html"]
    assert "<figcaption><small>Line rising" in bundle["text/html"]
    assert bundle["text/plain"].endswith("Second line.")
    assert repr(shown).startswith("Line rising")


def test_figure_is_closed_after_rendering() -> None:
    fig = _figure()
    figure_display_data(fig, "A line.")
    assert fig.number not in plt.get_fignums()


def test_a_figure_without_alt_text_is_refused() -> None:
    with pytest.raises(ValueError, match="alt_text"):
        figure_bundle("abc", "  ")
