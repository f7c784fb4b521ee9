"""The package stays readable: no module over 800 lines, and grading never imports views.

Both checks read the source with ``ast`` (nothing is imported), so they hold whether or
not ``course/views/`` exists yet.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from course.paths import PACKAGE_DIR

MAX_LINES = 800
# What grading must never import, directly or through another course module: it runs
# in the grader and in worker processes, where no display is shown.
VIEW_MODULES = ("course.views", "ipywidgets", "matplotlib")


def course_modules(package: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every module of the package by dotted name (``course.grading.cohort``)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _import_nodes(tree: ast.AST, eager: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of ``tree``; with ``eager``, only those that run on import (not
    inside a function body)."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        if eager and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def imported_names(path: Path, module: str, eager: bool = False) -> set[str]:
    """Dotted names ``path`` imports (with ``eager``, only on import; otherwise also
    inside functions); relative imports resolved against ``module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _import_nodes(tree, eager):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _is_forbidden(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def reaches(start: str, modules: dict[str, Path], forbidden: tuple[str, ...]
            ) -> dict[str, list[str]]:
    """Forbidden imports of ``start``: its own (anywhere in it: its functions run while
    grading) and those of the course modules that importing it loads. For each, the
    chain of modules that leads to it."""
    found = {name: [start] for name in imported_names(modules[start], start)
             if _is_forbidden(name, forbidden)}
    seen = {start}
    todo = [[start]]
    while todo:
        chain = todo.pop()
        for name in sorted(imported_names(modules[chain[-1]], chain[-1], eager=True)):
            if _is_forbidden(name, forbidden):
                found.setdefault(name, chain)
            else:
                # "from course import lesson" names the module course.lesson
                for target in (name, name.rpartition(".")[0]):
                    if target in modules and target not in seen:
                        seen.add(target)
                        todo.append([*chain, target])
    return found


def test_no_module_is_longer_than_800_lines() -> None:
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines())
               for name, path in course_modules().items()}
    assert len(lengths) > 30  # the scan found the package
    offenders = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert not offenders, (f"modules over {MAX_LINES} lines (split them by concern): "
                           + ", ".join(f"{k} ({v})" for k, v in sorted(offenders.items())))


def test_grading_never_imports_views() -> None:
    modules = course_modules()
    grading = [name for name in modules if name.startswith("course.grading")]
    assert "course.grading.cohort" in grading and "course.grading.sandbox" in grading
    problems = [f"{name} imports {target} (via {' -> '.join(chain)})"
                for name in grading
                for target, chain in reaches(name, modules, VIEW_MODULES).items()]
    assert not problems, "grading must not import views:\n" + "\n".join(problems)


def test_importing_every_grading_module_loads_no_views() -> None:
    """The same, as Python sees it: a fresh interpreter imports every grading module."""
    names = sorted(name for name in course_modules() if name.startswith("course.grading"))
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            f"print(sorted(m for m in sys.modules if m.startswith({VIEW_MODULES!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_the_import_scan_finds_direct_lazy_and_indirect_imports(tmp_path: Path) -> None:
    package = tmp_path / "course"
    (package / "grading").mkdir(parents=True)
    (package / "views").mkdir()
    for folder in (package, package / "grading", package / "views"):
        (folder / "__init__.py").write_text("", encoding="utf-8")
    (package / "views" / "skin.py").write_text("X = 1\n", encoding="utf-8")
    (package / "logic.py").write_text("import matplotlib.pyplot\n", encoding="utf-8")
    (package / "lazy.py").write_text("def f():\n    import ipywidgets\n", encoding="utf-8")
    (package / "grading" / "a.py").write_text("from ..views import skin\n", encoding="utf-8")
    (package / "grading" / "b.py").write_text("from course import logic\n", encoding="utf-8")
    (package / "grading" / "c.py").write_text("import json\nfrom course import lazy\n",
                                              encoding="utf-8")
    (package / "grading" / "d.py").write_text("def g():\n    import matplotlib\n",
                                              encoding="utf-8")
    modules = course_modules(package)
    assert set(reaches("course.grading.a", modules, VIEW_MODULES)) == {
        "course.views", "course.views.skin"}
    assert reaches("course.grading.b", modules, VIEW_MODULES) == {
        "matplotlib.pyplot": ["course.grading.b", "course.logic"]}
    assert reaches("course.grading.c", modules, VIEW_MODULES) == {}  # lazy elsewhere: not run
    assert reaches("course.grading.d", modules, VIEW_MODULES) == {
        "matplotlib": ["course.grading.d"]}
