"""Jupyter settings shared by the learner's and the instructor's JupyterLab.

`make lab`, `make instructor` and Binder (binder/start) put this folder on
JUPYTER_CONFIG_PATH (`make lab` and Binder put learner/ before it). With it:

- "Check my answers" is on (jupyter_server_config.d/course.check_service.json, which an
  install of the package also copies into the environment);
- "Check my answers" and the `course` command in JupyterLab's terminal find the course
  through COURSE_ROOT, whatever folder they run in;
- JupyterLab's terminal runs the shell the server was started with, not a login shell:
  started without a terminal of its own (Binder, a service, a test), Jupyter would run a
  login shell, and Debian's /etc/profile would reset PATH, losing the venv's `course`.
"""

import os
import shutil
from pathlib import Path

course = Path(__file__).resolve().parent.parent  # jupyter-config/ -> the course root
os.environ.setdefault("COURSE_ROOT", str(course))

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file
c.ServerApp.terminado_settings = {
    "shell_command": [os.environ.get("SHELL") or shutil.which("sh") or "/bin/sh"],
}
