"""'Check my answers' inside the notebook (self-study): a Jupyter server endpoint.

``POST /course/check`` with ``{"path": "assignments/<assignment>/<notebook>.ipynb"}``
(relative to the server's root) grades that notebook as ``course check`` does -- nbgrader's
autograde in a throwaway course directory, the course's trusted tests and sandbox -- and
answers ``{"score", "max_score", "items": [{"title", "score", "max_score", "html"}]}`` in
question order. ``html`` is what the item's test printed (its rationale) as wrapped,
escaped paragraphs; hidden test source never leaves the server, and an answer that would
show hidden material is withheld, as in ``course check``.

For assessed cohorts ``nbgrader_config.py`` switches it off
(``c.InNotebookCheck.enabled = False``): the endpoint then answers 403 with one sentence,
and results arrive only in nbgrader's feedback. The JupyterLab extension's toolbar button
calls this endpoint. Enabled as a server extension: ``course.check_service``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from traitlets import Bool
from traitlets.config import Configurable

from course.errors import GradingError

OFF_MESSAGE = ("Checking in the notebook is switched off for this course: your results "
               "come in the feedback after grading.")


class InNotebookCheck(Configurable):
    """Set in nbgrader_config.py: ``c.InNotebookCheck.enabled = False`` for a cohort."""

    enabled = Bool(True, help="Let learners check a notebook from JupyterLab (self-study)."
                   ).tag(config=True)


@dataclass(frozen=True)
class CheckedItem:
    title: str
    score: float
    max_score: float
    html: str


def check_enabled(root: Path) -> bool:
    from course.grading.config import load_config

    try:
        config = load_config(root)
    except Exception:  # no or broken config: the safe default for a cohort is off
        return False
    return InNotebookCheck(config=config).enabled


def course_relative(root: Path, server_root: Path, path: str) -> str:
    """A path the browser sent (relative to the server's root) made relative to the course
    root: ``make lab`` and Binder root the learner's server at assignments/."""
    return os.path.relpath(Path(server_root, path), root)


def _locate(root: Path, path: str) -> tuple[str, str, Path]:
    from course.paths import assignments_dir, source_dir

    notebook = (root / path).resolve()
    learner = assignments_dir(root).resolve()
    if notebook.suffix != ".ipynb" or learner not in notebook.parents or \
            notebook.parent.parent != learner:
        raise GradingError("Only a notebook in assignments/<assignment>/ can be checked.")
    assignment, name = notebook.parent.name, notebook.stem
    if not (source_dir(root) / assignment / f"{name}.ipynb").is_file():
        raise GradingError(f"{name} has no graded questions to check.")
    if not notebook.is_file():
        raise GradingError(f"{path} was not found.")
    return assignment, name, notebook


_LOCK = threading.Lock()  # one check at a time: they share the generated course
_GENERATED: dict[tuple[str, str], tuple[str, Path, Any, tempfile.TemporaryDirectory]] = {}


def _fingerprint(root: Path, assignment: str) -> str:
    from course.paths import source_dir

    files = [root / "nbgrader_config.py", *sorted((source_dir(root) / assignment).glob("*"))]
    return ";".join(f"{p.name}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in files
                    if p.is_file())


def _generated(root: Path, assignment: str, prepare: Any) -> tuple[Path, Any]:
    """A throwaway course with the assignment generated, kept while source/ is unchanged
    (generating is most of a check's time)."""
    key, fingerprint = (str(root), assignment), _fingerprint(root, assignment)
    cached = _GENERATED.get(key)
    if cached is None or cached[0] != fingerprint:
        if cached is not None:
            cached[3].cleanup()
        folder = tempfile.TemporaryDirectory(prefix="course-nbcheck-")
        api = prepare(Path(folder.name), root, assignment)
        _GENERATED[key] = cached = (fingerprint, Path(folder.name), api, folder)
    return cached[1], cached[2]


def check_notebook(root: Path, path: str) -> dict[str, Any]:
    """Grade one learner notebook; the score and each item's result and rationale."""
    from course.forms.feedback import item_titles, plain_outputs
    from course.grading.assignments import autograde_notebooks, prepare_course
    from course.grading.trusted_tests import is_test_cell
    from course.notebooks import (
        HIDDEN_MARKERS,
        find_leaks,
        html_to_text,
        read_notebook,
        secret_lines,
    )
    from course.paths import source_dir

    assignment, name, notebook = _locate(root, path)
    learner_nb = read_notebook(notebook)
    source_nb = read_notebook(source_dir(root) / assignment / f"{name}.ipynb")
    titles = item_titles(source_nb)
    secrets = secret_lines(source_nb, include_solutions=False)
    with _LOCK:
        tmp, api = _generated(root, assignment, prepare_course)
        result = autograde_notebooks(api, assignment, "self-study", {name: learner_nb})
        graded = read_notebook(tmp / "autograded" / "self-study" / assignment /
                               f"{name}.ipynb")
    scores = {i.grade_id: i for i in result.items if i.notebook == name}
    items = []
    for cell in graded.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not is_test_cell(cell) or grade_id not in scores:
            continue
        html = "".join(o["data"]["text/html"] for o in plain_outputs(cell.get("outputs", []))
                       if "text/html" in o.get("data", {}))
        if find_leaks(secrets, html_to_text(html), HIDDEN_MARKERS):
            html = "<p>This item's feedback was withheld.</p>"
        score = scores[grade_id]
        items.append((titles.get(grade_id, (10**6, grade_id)),
                      CheckedItem(titles.get(grade_id, (0, grade_id))[1], score.score,
                                  score.max_score, html)))
    ordered = [item for _, item in sorted(items, key=lambda pair: pair[0][0])]
    from course.certainty_feedback import certainty_block

    block = certainty_block(learner_nb, {k: s.score for k, s in scores.items()},
                            {k: s.max_score for k, s in scores.items()})
    return {"notebook": name, "score": sum(i.score for i in ordered),
            "max_score": sum(i.max_score for i in ordered),
            "items": [asdict(i) for i in ordered],
            # certainty-based marking (the final): accuracy, CBM score, calibration, review
            "certainty": None if block is None else {"html": block[0], "text": block[1]}}


# ---------------------------------------------------------------- the server extension


def _handler_class() -> type:
    from jupyter_server.base.handlers import APIHandler
    from tornado import web

    class CheckHandler(APIHandler):
        @web.authenticated
        async def post(self) -> None:
            from anyio import to_thread

            from course.paths import course_root

            root = course_root()
            if not check_enabled(root):
                self.set_status(403)
                self.finish(json.dumps({"message": OFF_MESSAGE}))
                return
            body = self.get_json_body() or {}
            path = course_relative(root, Path(self.contents_manager.root_dir).expanduser(),
                                   str(body.get("path")))
            try:
                result = await to_thread.run_sync(check_notebook, root, path)
            except GradingError as error:
                self.set_status(400)
                self.finish(json.dumps({"message": str(error).splitlines()[0]}))
                return
            self.finish(json.dumps(result))

    return CheckHandler


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "course.check_service"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from jupyter_server.utils import url_path_join

    web_app = server_app.web_app
    route = url_path_join(web_app.settings["base_url"], "course", "check")
    web_app.add_handlers(".*$", [(route, _handler_class())])
