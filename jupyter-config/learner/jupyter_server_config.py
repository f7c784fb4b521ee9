"""JupyterLab for a learner: `make lab` and Binder (binder/start) put this folder first on
JUPYTER_CONFIG_PATH. `make instructor` does not, and opens everything.

- The file browser is rooted at assignments/, the learner's own copies: source/ (with
  every solution and hidden test) and release/ cannot be reached from it.
- nbgrader's instructor tools are off: the formgrader, the course list and, as a
  self-study learner has no nbgrader exchange, the assignment list. Validate stays.
  labconfig/page_config.json hides and locks the matching JupyterLab plugins, and
  turns off JupyterLab's "Jupyter news" prompt, which is noise to a learner, and its
  build check (the course's extension is prebuilt: the check only ran `yarn config` in
  a node process at every page load).
- "Check my answers", COURSE_ROOT and the terminal are set by ../jupyter_server_config.py
  (the next folder on the path), as for the instructor.

This is a tidy workspace, not a security boundary: a terminal still reaches the whole
repository. For assessed cohorts ship the student distribution (`course dist`).
"""

from pathlib import Path

course = Path(__file__).resolve().parents[2]  # jupyter-config/learner/ -> the course root

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file
c.ServerApp.root_dir = str(course / "assignments")
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": False,
}
