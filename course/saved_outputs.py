"""Reopened notebooks are clean: widget views are not saved, a placeholder is.

A widget's output in a notebook file only points at a model (``model_id``) that lives in
the kernel. Reopened later, JupyterLab cannot find that model and shows "Error displaying
widget: model not found" in every widget until the cell is run again. This Jupyter server
extension registers a pre-save hook that replaces each widget-view output, in the file
written to disk only, by a short note: "Run this cell to show the figure…". The open
notebook keeps its live widgets; nothing graded is touched (nbgrader re-runs every cell).

Enabled by ``jupyter-config/jupyter_server_config.d/course.saved_outputs.json``, which
``pip install`` puts in ``<prefix>/etc/jupyter`` (pyproject's data-files).
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RERUN_NOTE = ("Run this cell to show the figure (interactive figures and forms are not "
              "saved with the notebook).")


def placeholder_output(output: dict[str, Any]) -> dict[str, Any]:
    """The output that replaces a widget view: the note as HTML and as plain text."""
    replaced = {key: value for key, value in output.items() if key != "data"}
    replaced["data"] = {
        "text/html": (f'<p class="course-rerun" role="note"><em>{escape(RERUN_NOTE)}</em>'
                      "</p>"),
        "text/plain": RERUN_NOTE,
    }
    replaced["metadata"] = {}
    return replaced


def strip_widget_views(notebook: dict[str, Any]) -> int:
    """Replace every widget-view output of a notebook (nbformat 4 as a dict), in place.

    Returns how many outputs were replaced. Outputs without a widget view are untouched.
    """
    replaced = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        outputs = cell.get("outputs") or []
        for index, output in enumerate(outputs):
            data = output.get("data") if isinstance(output, dict) else None
            if isinstance(data, dict) and WIDGET_VIEW in data:
                outputs[index] = placeholder_output(output)
                replaced += 1
    return replaced


def pre_save_hook(model: dict[str, Any], **_: Any) -> None:
    """Jupyter server pre-save hook: strip widget views from a notebook being saved."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_widget_views(model["content"])


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "course.saved_outputs"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    server_app.contents_manager.register_pre_save_hook(pre_save_hook)
    server_app.log.info("course.saved_outputs: widget views are saved as a 'run this cell' note")
