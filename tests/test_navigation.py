"""Navigation: headers say where a notebook sits, and links lead to real notebooks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course import lesson
from course.notebooks import header_line, links, navigation, next_line, read_notebook
from course.syllabus import course_map, learner_link, next_notebook, position_label

from .conftest import ROOT

SOURCE_NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))
IDS = [f"{p.parent.name}/{p.stem}" for p in SOURCE_NOTEBOOKS]


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_header_shows_where_the_notebook_sits_in_the_map(path: Path) -> None:
    opening = read_notebook(path).cells[0].source.splitlines()
    assert opening[0].startswith("# ")
    assert opening[2] == header_line(path.parent.name, path.stem)


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_what_comes_next_links_to_the_next_notebook(path: Path) -> None:
    cells = [c.source for c in read_notebook(path).cells if "## What comes next" in c.source]
    assert len(cells) == 1, "one 'What comes next' section"
    wanted = next_line(path.parent.name, path.stem)
    if wanted is None:
        assert "**Next notebook:**" not in cells[0]
    else:
        assert wanted in cells[0]


@pytest.mark.parametrize("root", ["source", "release"])
@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_every_notebook_link_resolves(path: Path, root: str) -> None:
    """Links are relative to the notebook, in a copy laid out one folder per assignment."""
    nb_path = ROOT / root / path.parent.name / path.name
    found = links(read_notebook(nb_path))
    assert found, "the header links to the course map"
    missing = [link for link in found if not (nb_path.parent / link).resolve().is_file()]
    assert missing == []


def test_course_map_links_every_notebook_from_start_here() -> None:
    html = lesson.course_map().html
    hrefs = re.findall(r'href="([^"]+)"', html)
    here = ROOT / "release" / "00-orientation"
    assert len(hrefs) == sum(len(a.notebooks) for a in course_map())
    assert all((here / href).resolve().is_file() for href in hrefs)


def test_positions_follow_the_map() -> None:
    assert position_label("02-substances", "03-dose-and-volume") == \
        "Module 2 of 5 · notebook 3 of 4"
    assert position_label("00-orientation", "00-start-here") == "Orientation · notebook 1 of 1"
    last = course_map()[-1]
    assert next_notebook(last.id, last.notebooks[-1].id) is None
    a, nb = next_notebook("01-principles", "03-quiz")
    assert (a.id, nb.id) == ("02-substances", "01-substance-classes")
    assert learner_link("01-principles", "02-substances", "01-substance-classes") == \
        "../02-substances/01-substance-classes.ipynb"
    assert learner_link("02-substances", "02-substances", "04-quiz") == "04-quiz.ipynb"
    with pytest.raises(KeyError, match=r"course_map\.toml"):
        position_label("02-substances", "no-such-notebook")


def test_navigation_rewrites_a_stale_header_and_link_once(tmp_path: Path) -> None:
    nb = read_notebook(ROOT / "source" / "01-principles" / "03-quiz.ipynb")
    nb.cells[0].source = nb.cells[0].source.replace("Module 1 of 5", "Module 9 of 9")
    nb.cells[-1].source += "\n\n**Next notebook:** [Somewhere](nowhere.ipynb)"
    assert navigation(nb, "01-principles", "03-quiz") == 2
    assert navigation(nb, "01-principles", "03-quiz") == 0
    assert header_line("01-principles", "03-quiz") in nb.cells[0].source
    assert "nowhere.ipynb" not in nb.cells[-1].source


PLANNED = re.compile(r"\*planned\*|\bplanned (notebook|module|assignment)s?\b|"
                     r"\b(notebook|module|assignment)s? (is|are|marked) \*?planned|"
                     r"being written|later releases?", re.IGNORECASE)


def test_the_planned_scan_finds_a_notebook_called_planned() -> None:
    old = ("Notebooks marked *planned* are being written and will appear in later releases.")
    assert PLANNED.search(old)
    assert not PLANNED.search("`proceed`: give the requested treatment as planned today;")
    assert not PLANNED.search("the session's total local anaesthetic dose planned.")


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=IDS)
def test_no_notebook_calls_a_notebook_planned(path: Path) -> None:
    """Every notebook in the course map exists (issue #18): none is announced as to come."""
    found = [f"cell {i}: {m.group(0)!r}" for i, cell in enumerate(read_notebook(path).cells)
             if cell.cell_type == "markdown" for m in PLANNED.finditer(cell.source)]
    assert found == []


def test_the_course_map_shows_every_notebook_available() -> None:
    text = repr(lesson.course_map())
    assert "planned" not in text
    assert text.count("| available |") == sum(len(a.notebooks) for a in course_map())
