"""Accreditation metadata: complete for every notebook, reviewed in time, shown before lesson 1."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from course.activity import (
    Activity,
    Dates,
    DisclosurePage,
    activity,
    activity_problems,
    add_years,
    disclosure_html,
    disclosure_markdown,
    load_activity,
    notebook_activities,
)
from course.content import ContentError
from course.paths import DATA_DIR

from .conftest import ROOT

TODAY = date.today()
ACTIVITY_TOML = (DATA_DIR / "activity.toml").read_text(encoding="utf-8")


def test_every_notebook_in_source_has_complete_metadata_in_review() -> None:
    notebooks = notebook_activities(activity(), ROOT / "source")
    on_disk = {f"{p.parent.name}/{p.stem}" for p in (ROOT / "source").glob("*/*.ipynb")}
    assert {f"{nb.assignment}/{nb.id}" for nb in notebooks} == on_disk
    assert activity_problems(activity(), notebooks, TODAY) == []
    faculty = {f.id for f in activity().faculty}
    for nb in notebooks:
        assert nb.objectives and nb.minutes > 0 and set(nb.faculty) <= faculty
        assert nb.dates.next_review <= add_years(nb.dates.last_review, 3)


def test_course_level_metadata_is_all_there() -> None:
    a = activity()
    assert a.audience and a.objectives and a.needs and a.certificate_criteria
    assert all(f.name and f.roles and f.disclosure for f in a.faculty)
    assert "no commercial support" in a.disclosures["commercial_support"].lower()
    assert {"levels", "certainty", "badges"} <= set(a.evidence_policy)
    assert "OCEBM" in a.evidence_policy["levels"] and "GRADE" in a.evidence_policy["certainty"]
    assert a.minutes == sum(m.minutes for m in a.modules) > 0
    # placeholders for the open project's team, never an invented person
    assert all("(open project)" in f.name for f in a.faculty)


def _with_dates(a: Activity, **dates: date) -> Activity:
    return dataclasses.replace(a, dates=dataclasses.replace(a.dates, **dates))


def test_an_expired_review_fails() -> None:
    a = _with_dates(activity(), last_review=date(2020, 1, 1), next_review=date(2021, 1, 1))
    problems = activity_problems(a, (), TODAY)
    assert problems == ["course: review overdue (next review was 2021-01-01)"]


def test_an_expired_notebook_review_fails() -> None:
    notebooks = notebook_activities(activity(), ROOT / "source")
    stale = dataclasses.replace(notebooks[0], dates=Dates(date(2019, 1, 1), date(2019, 1, 1),
                                                           date(2020, 6, 1)))
    problems = activity_problems(activity(), (stale, *notebooks[1:]), TODAY)
    assert problems == [f"notebook {stale.assignment}/{stale.id}: review overdue "
                        "(next review was 2020-06-01)"]


def test_an_expired_module_review_fails() -> None:
    a = activity()
    stale = dataclasses.replace(a.modules[2], dates=Dates(date(2019, 1, 1), date(2019, 1, 1),
                                                          date(2021, 3, 1)))
    modules = (*a.modules[:2], stale, *a.modules[3:])
    problems = activity_problems(dataclasses.replace(a, modules=modules), (), TODAY)
    assert problems == [f"module {stale.id}: review overdue (next review was 2021-03-01)"]


def test_a_course_or_module_without_audience_objectives_or_roles_fails() -> None:
    a = activity()
    bare = dataclasses.replace(
        a, audience=(), objectives=(),
        faculty=(dataclasses.replace(a.faculty[0], roles=()),),
        modules=(dataclasses.replace(a.modules[0], objectives=()), *a.modules[1:]))
    assert activity_problems(bare, (), TODAY) == [
        "course: no target audience", "course: no learning objectives",
        f"faculty {a.faculty[0].id}: no roles",
        f"module {a.modules[0].id}: no learning objectives"]


def test_a_notebook_without_objectives_minutes_or_faculty_fails() -> None:
    notebooks = notebook_activities(activity(), ROOT / "source")
    bare = dataclasses.replace(notebooks[-1], objectives=(), minutes=0, faculty=())
    where = f"notebook {bare.assignment}/{bare.id}"
    assert activity_problems(activity(), (*notebooks[:-1], bare), TODAY) == [
        f"{where}: no learning objectives", f"{where}: no estimated minutes",
        f"{where}: no faculty"]


@pytest.mark.parametrize(("dates", "message"), [
    ({"last_review": date(2026, 1, 1), "next_review": date(2029, 1, 2)},
     "more than 3 years after the last review"),
    ({"last_review": date(2026, 1, 1), "next_review": date(2026, 1, 1)},
     "is not after the last review"),
    ({"release": date(2999, 1, 1)}, "release date 2999-01-01 is in the future"),
    ({"last_review": date(2999, 1, 1), "next_review": date(2999, 6, 1)},
     "last review 2999-01-01 is in the future"),
])
def test_bad_review_dates_fail(dates: dict, message: str) -> None:
    problems = activity_problems(_with_dates(activity(), **dates), (), date(2026, 6, 1))
    assert any(message in p for p in problems), problems


def test_exactly_three_years_is_allowed_and_leap_days_are_handled() -> None:
    a = _with_dates(activity(), release=date(2024, 2, 29), last_review=date(2024, 2, 29),
                    next_review=date(2027, 2, 28))
    a = dataclasses.replace(a, modules=())  # the course's own dates only
    assert activity_problems(a, (), date(2025, 1, 1)) == []
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)


def test_commercial_support_must_be_stated() -> None:
    a = activity()
    silent = dataclasses.replace(a, disclosures={**a.disclosures, "commercial_support": "n/a"})
    assert any("no commercial support" in p for p in activity_problems(silent, (), TODAY))


def _load(tmp_path: Path, text: str) -> Activity:
    path = tmp_path / "activity.toml"
    path.write_text(text, encoding="utf-8")
    return load_activity(path)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('commercial_support = "No commercial', 'commercial = "No commercial',
     r"\[disclosures\]: unknown field 'commercial'"),
    ("audience = [", "public = [", r"\[course\]: unknown field 'public'"),
    ('next_review = 2027-12-02\nfaculty = ["course-team"]\n\n[[module]]\nid = "01-principles"',
     'faculty = ["course-team"]\n\n[[module]]\nid = "01-principles"',
     "module 00-review: missing required field 'next_review'"),
    ('id = "04-case-studies"', 'id = "04-cases"', "ids must be the course map's"),
    ('faculty = ["course-team"]\n\n[[module]]\nid = "01-principles"',
     'faculty = ["nobody"]\n\n[[module]]\nid = "01-principles"',
     "module 00-review: unknown faculty ids nobody"),
    ("release = 2026-12-02\nlast_review", 'release = "soon"\nlast_review',
     "release.*a date"),
])
def test_missing_or_malformed_metadata_is_named(tmp_path: Path, old: str, new: str,
                                                 message: str) -> None:
    assert old in ACTIVITY_TOML
    with pytest.raises(ContentError, match=message):
        _load(tmp_path, ACTIVITY_TOML.replace(old, new, 1))


def test_a_notebook_without_an_activity_card_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"00-orientation/00-start-here: .*no such notebook"):
        notebook_activities(activity(), tmp_path)


def test_the_disclosure_page_shows_everything_before_lesson_one() -> None:
    a = activity()
    markdown = disclosure_markdown(a)
    html = disclosure_html(a)
    for page in (markdown, html):
        assert "No commercial support" in page
        assert "Course team (open project)" in page
        assert str(a.dates.next_review) in page and str(a.dates.release) in page
        assert all(m.title in page for m in a.modules)
        assert "OCEBM" in page and "GRADE" in page
        assert a.objectives[0] in page
    assert markdown.startswith("### ") and "\n## " not in markdown  # nests under an H2
    assert '<th scope="col">Module</th>' in html
    page = DisclosurePage(a)
    assert page._repr_markdown_() == markdown and page._repr_html_() == html


@pytest.mark.parametrize("folder", ["source", "release"])
def test_start_here_shows_the_disclosure_page_before_lesson_one(folder: str) -> None:
    """The page is a cell of start-here (00-orientation), which precedes every lesson."""
    from course.notebooks import read_notebook
    from course.syllabus import course_map

    modules = [a.id for a in course_map()]
    first_lesson = modules.index("01-principles")
    assert modules.index("00-orientation") < first_lesson
    assert course_map()[0].notebooks[0].id == "00-start-here"
    nb = read_notebook(ROOT / folder / "00-orientation" / "00-start-here.ipynb")
    sources = [c.source.strip() for c in nb.cells]
    shown = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and c.source.strip() == "disclosure_page()"]
    assert len(shown) == 1, "start-here must show disclosure_page() once"
    assert sources[shown[0] - 1].startswith("## Accreditation and disclosures")
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert "from course.activity import disclosure_page" in setup


def test_the_disclosure_page_escapes_html() -> None:
    a = dataclasses.replace(activity(), title="A <b> & C")
    assert "A &lt;b&gt; &amp; C" in disclosure_html(a)
