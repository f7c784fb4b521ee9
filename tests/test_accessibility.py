"""Executed notebooks are accessible: every figure has alt text, every widget a text twin.

The outputs inspected are the session's one executed copy of each source notebook
(fixture ``executed_notebook``, shared with the execution check in test_notebooks.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nbformat import NotebookNode

from .conftest import ROOT, ExecutedNotebooks

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
DEFAULT_WIDGET_REPR = re.compile(r"^\w+\((children|value|options)=")


def outputs(nb: NotebookNode) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_every_figure_has_alt_text(executed_notebook: ExecutedNotebooks,
                                   path: Path) -> None:
    for output in outputs(executed_notebook(path)):
        data = output.get("data", {})
        if "image/png" in data:
            html = data.get("text/html", "")
            alt = re.search(r'<img [^>]*alt="([^"]+)"', html)
            assert alt and len(alt.group(1).strip()) > 20, \
                "show figures with course.views.figures.show_figure(fig, alt_text)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_every_widget_has_a_plain_text_equivalent(executed_notebook: ExecutedNotebooks,
                                                  path: Path) -> None:
    for output in outputs(executed_notebook(path)):
        data = output.get("data", {})
        if WIDGET in data:
            text = str(data.get("text/plain", ""))
            assert text.strip() and not DEFAULT_WIDGET_REPR.match(text), \
                f"widget without a text equivalent: {text[:80]!r}"


def test_the_checks_catch_a_bare_figure_and_a_bare_widget() -> None:
    nb = NotebookNode(cells=[NotebookNode(cell_type="code", outputs=[
        {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}},
        {"output_type": "display_data", "data": {WIDGET: {}, "text/plain": "VBox(children=()"}},
    ])])
    figure, widget = outputs(nb)
    assert not re.search(r'<img [^>]*alt="', figure["data"].get("text/html", ""))
    assert DEFAULT_WIDGET_REPR.match(widget["data"]["text/plain"])
