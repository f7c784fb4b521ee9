"""Where the course's folders are, whatever the current working directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def course_root() -> Path:
    """Return the course root: the folder that holds ``nbgrader_config.py``.

    ``COURSE_ROOT`` wins when set; otherwise the current folder or one of its parents;
    otherwise the folder the package was installed from (an editable install).
    """
    if env := os.environ.get("COURSE_ROOT"):
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
            return folder
    return PACKAGE_DIR.parent


def source_dir(root: Path | None = None) -> Path:
    return (root or course_root()) / "source"


def release_dir(root: Path | None = None) -> Path:
    return (root or course_root()) / "release"


def assignments_dir(root: Path | None = None) -> Path:
    return (root or course_root()) / "assignments"
