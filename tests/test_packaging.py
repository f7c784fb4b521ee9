"""The environment files agree with each other, so every install gets the same versions."""

from __future__ import annotations

import re
import tomllib

from .conftest import ROOT


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)$", line.strip()):
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def test_binder_requirements_match_the_constraints() -> None:
    constraints = _pins((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    binder = _pins((ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8"))
    assert binder == constraints


def test_direct_dependencies_are_pinned_to_the_constrained_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    constraints = _pins((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    extras = project["optional-dependencies"]
    direct = project["dependencies"] + [r for group in extras.values() for r in group]
    for requirement in direct:
        name, version = requirement.split("==")
        name = name.split("[")[0]  # psycopg[binary] is pinned as psycopg
        assert constraints[re.sub(r"[-_.]+", "-", name).lower()] == version, requirement


def test_readme_shows_the_two_commands_first() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("\n## ", 2)[1]
    assert "make lab" in first_block and "make test" in first_block


def test_readme_course_map_marks_exactly_the_released_assignments_available() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\d\d-[a-z-]+)` \|[^\n]*\| (available|planned) \|$", readme, re.M)
    available = sorted(name for name, status in rows if status == "available")
    released = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())
    assert rows and available == released
