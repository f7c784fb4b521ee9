"""Start-up work that the course's processes put off until it is needed.

``import course`` calls :func:`defer_iri_grammar`, so every process that imports the
package (the ``course`` command, grading workers, kernels, the test suite) gets it
before anything imports jsonschema. Processes that import jsonschema before the course
(``jupyter lab``, ``nbgrader``, JupyterHub) get it from a start-up hook:
:func:`install_startup_hook` writes a ``.pth`` file into the environment's
site-packages that imports ``course`` when Python starts (``make`` and Binder's
postBuild call it).
"""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

IRI_GRAMMAR_MODULE = "rfc3987_syntax"
STARTUP_HOOK = "mesotherapy_course_startup.pth"
STARTUP_HOOK_LINE = ('import sys; exec("try:\\n    import course\\n'
                     'except Exception:\\n    pass")\n')
"""The hook's one line. Python runs a ``.pth`` line only if it starts with ``import``
(hence ``import sys``); a course that cannot be imported (a broken checkout) must not
stop Python, so an error is ignored here and met again where the course is used."""


def defer_iri_grammar() -> bool:
    """Build rfc3987-syntax's IRI grammar at its first use instead of at import.

    jsonschema imports ``rfc3987_syntax`` when it is imported itself (through nbformat,
    nbclient and nbgrader), to register its "iri" format checks. That import builds
    Lark Earley parsers: about 0.9 s of CPU in every process, though no notebook or
    nbgrader schema uses those formats (jsonschema issue #1428). This puts a stand-in
    module in its place that runs the real package the first time any of its names is
    used or called, so every check behaves as before. Returns whether it did.
    """
    if IRI_GRAMMAR_MODULE in sys.modules:
        return False
    spec = importlib.util.find_spec(IRI_GRAMMAR_MODULE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    module = importlib.util.module_from_spec(spec)
    lock = threading.Lock()

    def load() -> None:
        with lock:
            if "__getattr__" not in vars(module):
                return  # loaded already
            del module.__getattr__, module.is_valid_syntax
            spec.loader.exec_module(module)

    def module_getattr(name: str) -> Any:
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        load()
        return getattr(module, name)

    def deferred(real_name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            load()
            return getattr(module, real_name)(*args, **kwargs)
        call.__name__ = call.__qualname__ = real_name
        return call

    module.__getattr__ = module_getattr  # type: ignore[method-assign]
    module.is_valid_syntax = deferred("is_valid_syntax")  # what jsonschema imports
    sys.modules[IRI_GRAMMAR_MODULE] = module
    return True


def install_startup_hook(site_packages: Path | None = None) -> Path:
    """Write the start-up hook into ``site_packages`` (this environment's by default).

    ``jupyter lab`` and ``nbgrader`` import jsonschema before anything of the course, so
    they built the IRI grammar at every start (about 1.7 CPU-s each). Returns the file.
    """
    folder = Path(site_packages or sysconfig.get_paths()["purelib"])
    hook = folder / STARTUP_HOOK
    hook.write_text(STARTUP_HOOK_LINE, encoding="utf-8")
    return hook
