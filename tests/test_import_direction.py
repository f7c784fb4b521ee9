"""The layers of ``course/`` import in one direction: content ← logic ← views (issue #21).

- **Content** (:data:`CONTENT`) reads ``course/data`` and imports no logic module.
- **Logic** (every other module outside ``course/views/``) never imports ``course.views``,
  ipywidgets or matplotlib at module level, so importing it (a grading kernel, the kernel
  fork server, a command) never pulls in display code.
- **Topics and grading** (:data:`STRICT`) import none of them anywhere, not even inside a
  function: their views live in ``course/views/``.
- **Views** (``course/views/``) may import anything below them.

A few logic modules build a view on request and import it inside that function; they are
listed in :data:`LAZY_VIEWS` with the reason, and the list may not go stale.

The checker is pure (:func:`violations`) and is itself tested on a tiny package planted in
``tmp_path``, so the suite fails when a forbidden import is added.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import course

PACKAGE_DIR = Path(course.__file__).parent

CONTENT = frozenset({"course", "course.paths", "course.content", "course.catalogue",
                     "course.startup", "course.errors"})
"""The content layer (and the package root): reads course/data, imports no logic."""

TOPICS = ("course.skin", "course.schedules", "course.dose", "course.substances",
          "course.complications", "course.screening", "course.review")
GRADING = ("course.grading", "course.cohort", "course.cohort_run", "course.intake",
           "course.sandbox", "course.kernel_forkserver", "course.nbgrader_plugins",
           "course.trusted_tests", "course.duplicate_cells", "course.distribution",
           "course.answers", "course.cases")
"""Modules (or packages) that grade: grading never imports views."""
STRICT = TOPICS + GRADING

LAZY_VIEWS = {
    "course.lesson": "the notebook glue: practice() builds a practice widget on request",
    "course.evaluation": "the course-evaluation summary figure, drawn on request",
    "course.report_figures": "the instructor report's figures, drawn on request",
}
"""Logic modules that import display code inside a function, and why."""

SKIP_PARTS = frozenset({"labextension", "__pycache__"})


@dataclass(frozen=True)
class Import:
    """One imported module name, where it is, and whether it runs when the module loads."""

    name: str
    line: int
    module_level: bool


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _names(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        parent = module.split(".")[: -node.level]
        base = ".".join([*parent, base] if base else parent)
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names)  # may be submodules


class _Finder(ast.NodeVisitor):
    """Collects imports; ``depth`` counts the functions around the current node."""

    def __init__(self, module: str) -> None:
        self.module, self.depth, self.found = module, 0, []

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):  # typing only: never runs
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.found.extend(Import(name, node.lineno, self.depth == 0)
                          for name in _names(node, self.module))

    visit_ImportFrom = visit_Import


def imports(source: str, module: str) -> list[Import]:
    """Every import in a module's source, skipping ``if TYPE_CHECKING:`` blocks."""
    finder = _Finder(module)
    finder.visit(ast.parse(source))
    return finder.found


def under(name: str, prefix: str) -> bool:
    """True when ``name`` is ``prefix`` or a module inside it."""
    return name == prefix or name.startswith(prefix + ".")


def modules(package_dir: Path, package: str) -> dict[str, Path]:
    """Every module of a package, by dotted name (``__init__`` is the package itself)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if SKIP_PARTS & set(parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((package, *parts))] = path
    return found


def violations(package_dir: Path, package: str = "course", *,
               content: Iterable[str] = CONTENT, strict: Iterable[str] = STRICT,
               lazy: Iterable[str] = LAZY_VIEWS) -> list[str]:
    """One sentence per import that breaks the direction content ← logic ← views."""
    views = f"{package}.views"
    display = ("ipywidgets", "matplotlib", views)
    content, strict, lazy = set(content), tuple(strict), set(lazy)
    problems = []
    for module, path in modules(package_dir, package).items():
        if under(module, views):
            continue
        where = f"{path.relative_to(package_dir.parent)}"
        is_strict = any(under(module, s) for s in strict)
        reported: set[int] = set()  # one sentence per import statement
        for imp in imports(path.read_text(encoding="utf-8"), module):
            problem = _problem(imp, module, display, is_strict=is_strict,
                               is_lazy=module in lazy)
            if module in content and not _content_may_import(imp.name, package, content,
                                                             package_dir):
                problem = f"content module {module} imports {imp.name}; content imports no logic"
            if problem and imp.line not in reported:
                reported.add(imp.line)
                problems.append(f"{where}:{imp.line}: {problem}")
    return problems


def _problem(imp: Import, module: str, display: tuple[str, ...], *, is_strict: bool,
             is_lazy: bool) -> str | None:
    """Why a logic module may not make this import, or None when it may."""
    if not any(under(imp.name, d) for d in display):
        return None
    if imp.module_level:
        return (f"logic imports {imp.name} at module level; move the display code to "
                "course/views/")
    if is_strict:
        return f"{module} imports {imp.name}; topic and grading modules never import display code"
    if not is_lazy:
        return (f"{module} imports {imp.name} inside a function; add it to LAZY_VIEWS with a "
                "reason, or move it to course/views/")
    return None


def _content_may_import(name: str, package: str, content: set[str],
                        package_dir: Path) -> bool:
    """Content may import outside the package, other content, and the root's constants."""
    if name == package or not under(name, package):
        return True
    if any(under(name, c) for c in content if c != package):
        return True
    rest = name.removeprefix(package + ".")  # `from course import X`: X a root constant
    return "." not in rest and not (package_dir / f"{rest}.py").exists() \
        and not (package_dir / rest).is_dir()


def stale_lazy_entries(package_dir: Path, package: str = "course",
                       lazy: Iterable[str] = LAZY_VIEWS) -> list[str]:
    """LAZY_VIEWS entries that no longer import display code (or no longer exist)."""
    known = modules(package_dir, package)
    display = ("ipywidgets", "matplotlib", f"{package}.views")
    stale = []
    for module in sorted(lazy):
        path = known.get(module)
        if path is None or not any(
                under(imp.name, d) for imp in imports(path.read_text(encoding="utf-8"), module)
                for d in display):
            stale.append(module)
    return stale


# ---------------------------------------------------------------- the course


def test_the_course_imports_in_one_direction() -> None:
    assert violations(PACKAGE_DIR) == []


def test_every_lazy_view_import_is_still_needed() -> None:
    assert stale_lazy_entries(PACKAGE_DIR) == []


def test_the_checker_sees_the_course_views_and_topics() -> None:
    known = modules(PACKAGE_DIR, "course")
    assert {"course.views", "course.views.skin", "course.lesson"} <= set(known)
    assert all(topic in known for topic in TOPICS)


# ---------------------------------------------------------------- the checker


def plant(root: Path, files: dict[str, str]) -> Path:
    """A tiny package ``pkg`` under ``root`` with the given modules (path → source)."""
    package = root / "pkg"
    for relative, source in {"__init__.py": "", "views/__init__.py": "", **files}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return package


CLEAN = {
    "content.py": "import tomllib\n",
    "topic.py": "from pkg.content import tomllib\n\ndef area():\n    return 1\n",
    "glue.py": "def show():\n    from pkg.views.topic import widget\n    return widget()\n",
    "views/topic.py": "from pkg.topic import area\n\ndef widget():\n"
                      "    import ipywidgets\n    return ipywidgets.Label(str(area()))\n",
}


def check(package: Path) -> list[str]:
    return violations(package, "pkg", content={"pkg", "pkg.content"},
                      strict={"pkg.topic", "pkg.grading"}, lazy={"pkg.glue"})


def test_a_clean_planted_package_passes(tmp_path: Path) -> None:
    assert check(plant(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(("relative", "source", "words"), [
    ("topic.py", "import ipywidgets\n", "at module level"),
    ("topic.py", "from matplotlib import pyplot\n", "at module level"),
    ("topic.py", "from pkg.views import topic\n", "at module level"),
    ("topic.py", "from .views.topic import widget\n", "at module level"),
    ("topic.py", "try:\n    import matplotlib\nexcept ImportError:\n    pass\n",
     "at module level"),
    ("topic.py", "def draw():\n    import matplotlib.pyplot\n", "never import display code"),
    ("grading/run.py", "def grade():\n    from pkg.views import topic\n",
     "never import display code"),
    ("other.py", "def draw():\n    import matplotlib\n", "add it to LAZY_VIEWS"),
    ("content.py", "from pkg.topic import area\n", "content imports no logic"),
])
def test_a_planted_import_is_caught(tmp_path: Path, relative: str, source: str,
                                    words: str) -> None:
    package = plant(tmp_path, {**CLEAN, relative: source})
    found = check(package)
    assert len(found) == 1 and words in found[0], found
    assert relative.removesuffix(".py") in found[0]


def test_typing_only_imports_are_allowed(tmp_path: Path) -> None:
    source = ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
              "    from matplotlib.figure import Figure\n")
    assert check(plant(tmp_path, {**CLEAN, "topic.py": source})) == []


def test_a_stale_lazy_entry_is_reported(tmp_path: Path) -> None:
    package = plant(tmp_path, {**CLEAN, "glue.py": "def show():\n    return 1\n"})
    assert stale_lazy_entries(package, "pkg", lazy={"pkg.glue", "pkg.gone"}) == [
        "pkg.glue", "pkg.gone"]
