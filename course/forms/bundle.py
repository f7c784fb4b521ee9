"""The prebuilt JupyterLab extension in ``course/labextension`` and its freshness stamp.

Learners never need Node: the bundle is built from ``labextension/`` (TypeScript, with
JupyterLab's builder) and committed. The build writes :data:`STAMP`, a hash of the
sources it was built from; ``tests/test_labextension_bundle.py`` fails when the sources
have changed since (a stale bundle), as the release drift test does for notebooks.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from course.paths import PACKAGE_DIR

NAME = "mesotherapy-course-forms"
SOURCE_DIR = PACKAGE_DIR.parent / "labextension"
BUNDLE_DIR = PACKAGE_DIR / "labextension"
STAMP = BUNDLE_DIR / "sources.sha256"
SOURCES = ("package.json", "tsconfig.json", "src", "style")


def source_files(folder: Path = SOURCE_DIR) -> list[Path]:
    files = []
    for name in SOURCES:
        path = folder / name
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def source_hash(folder: Path = SOURCE_DIR) -> str:
    """One hash over the extension's sources: file names and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in source_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def write_stamp(folder: Path = SOURCE_DIR, stamp: Path = STAMP) -> str:
    value = source_hash(folder)
    stamp.write_text(value + "\n", encoding="utf-8")
    return value


def stamped_hash(stamp: Path = STAMP) -> str | None:
    return stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else None
