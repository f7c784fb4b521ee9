"""A new gradebook's schema revision, found in process instead of in a subprocess.

nbgrader writes the alembic revision of its database schema into every gradebook it
creates (``nbgrader.api.Gradebook``), and finds that revision with
``nbgrader.api.get_alembic_version()``, which runs ``alembic heads`` as a subprocess: a new
Python that imports nbgrader, nbformat and jsonschema before it reads nbgrader's migration
scripts. Measured on the course's machine: 3.3 s of CPU per new gradebook (every generated
course, every first ``course check`` or ``course grade``, 43 times in one run of the test
suite), against 3 ms for reading the same scripts in process with alembic's own API.

:func:`use_in_process_alembic_head` makes nbgrader ask :func:`alembic_head` instead.
nbgrader_config.py calls it, so every nbgrader command and the course's own code get it.
The revision is the same one (tested against the subprocess); where nbgrader's scripts do
not have exactly one head, nbgrader's own function answers as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.lru_cache(maxsize=1)
def _heads() -> tuple[str, ...]:
    """The heads of nbgrader's migration scripts, read with alembic's Python API."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return tuple(ScriptDirectory.from_config(config).get_heads())


def alembic_head(fallback: Callable[[], str] | None = None) -> str:
    """The revision ``alembic heads`` would print first for nbgrader's scripts.

    With other than one head (never so in a released nbgrader), ``fallback`` answers:
    by default nbgrader's own subprocess.
    """
    heads = _heads()
    if len(heads) == 1:
        return heads[0]
    if fallback is None:
        from nbgrader import api

        fallback = getattr(api.get_alembic_version, "nbgrader_original",
                           api.get_alembic_version)
    return fallback()


def use_in_process_alembic_head() -> None:
    """Make ``nbgrader.api.get_alembic_version`` read the revision in process. Idempotent."""
    from nbgrader import api

    if getattr(api.get_alembic_version, "nbgrader_original", None) is not None:
        return
    original = api.get_alembic_version

    def get_alembic_version() -> str:
        return alembic_head(original)

    get_alembic_version.nbgrader_original = original  # type: ignore[attr-defined]
    api.get_alembic_version = get_alembic_version
