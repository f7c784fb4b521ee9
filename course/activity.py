"""Accreditation metadata of the activity (CPD/CME), and the disclosure page.

``course/data/activity.toml`` holds what accreditors ask for and nothing else holds:
audience, course- and module-level objectives, faculty with roles, disclosures (including
"no commercial support"), release and review dates, and the evidence policy. Titles and
minutes come from ``course_map.toml``; a notebook's objectives and last review come from
its activity card. :func:`activity_problems` lists what is missing or out of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from course.catalogue import DataFile
from course.content import TEXT, TEXT_LIST, ContentError, Rule, validated
from course.paths import DATA_DIR
from course.syllabus import AssignmentEntry, course_map

MAX_REVIEW_YEARS = 3
DATE = Rule(lambda v: type(v) is date, "a date (YYYY-MM-DD, unquoted)")
IDS = Rule(lambda v: isinstance(v, list) and bool(v) and all(isinstance(i, str) for i in v),
           "a non-empty list of faculty ids")
NO_COMMERCIAL_SUPPORT = "no commercial support"


@dataclass(frozen=True)
class Faculty:
    id: str
    name: str
    roles: tuple[str, ...]
    disclosure: str


@dataclass(frozen=True)
class Dates:
    release: date
    last_review: date
    next_review: date


@dataclass(frozen=True)
class NotebookActivity:
    """One notebook: its course-map entry, its activity card, its module's faculty and dates."""

    assignment: str
    id: str
    title: str
    minutes: int
    objectives: tuple[str, ...]
    faculty: tuple[str, ...]
    dates: Dates


@dataclass(frozen=True)
class ModuleActivity:
    id: str
    title: str
    assessment: str
    minutes: int
    objectives: tuple[str, ...]
    faculty: tuple[str, ...]
    dates: Dates


@dataclass(frozen=True)
class Activity:
    title: str
    version: str
    language: str
    audience: tuple[str, ...]
    needs: str
    objectives: tuple[str, ...]
    faculty: tuple[Faculty, ...]
    dates: Dates
    certificate_criteria: str
    evidence_policy: dict[str, str]
    disclosures: dict[str, str]
    modules: tuple[ModuleActivity, ...]

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.modules)

    def module(self, module_id: str) -> ModuleActivity:
        return next(m for m in self.modules if m.id == module_id)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _dates(record: dict) -> Dates:
    return Dates(record["release"], record["last_review"], record["next_review"])


def _activity(data: dict[str, Any], path: Path,
              assignments: tuple[AssignmentEntry, ...]) -> Activity:
    name = path.name
    dated = {"release": DATE, "last_review": DATE, "next_review": DATE}
    course = validated(data.get("course"), f"{name}: [course]", {
        "title": TEXT, "version": TEXT, "language": TEXT, "audience": TEXT_LIST, "needs": TEXT,
        "objectives": TEXT_LIST, "faculty": IDS, "certificate_criteria": TEXT, **dated})
    policy = validated(data.get("evidence_policy"), f"{name}: [evidence_policy]", {
        "levels": TEXT, "certainty": TEXT, "badges": TEXT, "new_and_evolving": TEXT})
    disclosures = validated(data.get("disclosures"), f"{name}: [disclosures]", {
        "commercial_support": TEXT, "conflicts": TEXT, "products": TEXT, "mitigation": TEXT})
    faculty = []
    for i, record in enumerate(data.get("faculty") or [None]):  # none listed: an error
        f = validated(record, f"{name}: faculty #{i + 1}",
                      {"id": TEXT, "name": TEXT, "roles": TEXT_LIST, "disclosure": TEXT})
        faculty.append(Faculty(f["id"], f["name"], tuple(f["roles"]), f["disclosure"]))
    known = {f.id for f in faculty}
    records = data.get("module")
    if not isinstance(records, list):
        raise ContentError(f"{name}: expected one [[module]] table per assignment")
    ids = [r.get("id") if isinstance(r, dict) else None for r in records]
    expected = [a.id for a in assignments]
    if ids != expected:
        raise ContentError(f"{name}: [[module]] ids must be the course map's, in order: "
                           f"expected {expected}, got {ids}")
    modules = []
    for entry, record in zip(assignments, records, strict=True):
        fields = validated(record, f"{name}: module {entry.id}", {
            "id": TEXT, "objectives": TEXT_LIST, "faculty": IDS, **dated})
        modules.append(ModuleActivity(entry.id, entry.title, entry.assessment, entry.minutes,
                                      tuple(fields["objectives"]), tuple(fields["faculty"]),
                                      _dates(fields)))
    for where, ids_used in [("[course]", course["faculty"]),
                            *((f"module {m.id}", m.faculty) for m in modules)]:
        if unknown := sorted(set(ids_used) - known):
            raise ContentError(f"{name}: {where}: unknown faculty ids {', '.join(unknown)}")
    return Activity(course["title"], course["version"], course["language"],
                    tuple(course["audience"]), course["needs"], tuple(course["objectives"]),
                    tuple(faculty), _dates(course), course["certificate_criteria"], policy,
                    disclosures, tuple(modules))


ACTIVITY = DataFile(DATA_DIR / "activity.toml", _activity, {"assignments": course_map})


def load_activity(path: Path = ACTIVITY.path,
                  assignments: tuple[AssignmentEntry, ...] | None = None) -> Activity:
    """Load and validate activity.toml against the course map; raise ContentError."""
    return ACTIVITY.load(path, assignments=assignments)


def activity() -> Activity:
    """The course's own activity, loaded once per process."""
    return ACTIVITY.cached()


def notebook_activities(activity: Activity, source: Path) -> tuple[NotebookActivity, ...]:
    """Every notebook of the course map, with the objectives and review of its activity card.

    A notebook that is missing, or whose card cannot be read, raises ContentError.
    """
    from course.notebooks import NotebookError, activity_card, read_notebook

    found = []
    for module, entry in zip(activity.modules, course_map(), strict=True):
        for nb in entry.notebooks:
            path = source / module.id / f"{nb.id}.ipynb"
            try:
                card = activity_card(read_notebook(path))
            except (NotebookError, ValueError) as error:
                raise ContentError(f"{module.id}/{nb.id}: {error}") from None
            found.append(NotebookActivity(
                module.id, nb.id, nb.title, nb.minutes, card.objectives, module.faculty,
                Dates(module.dates.release, card.reviewed, module.dates.next_review)))
    return tuple(found)


def date_problems(where: str, dates: Dates, today: date) -> list[str]:
    """Review dates: released and reviewed by today, next review not passed, ≤ 3 years."""
    problems = []
    if dates.release > today:
        problems.append(f"{where}: release date {dates.release} is in the future")
    if dates.last_review > today:
        problems.append(f"{where}: last review {dates.last_review} is in the future")
    if dates.next_review < today:
        problems.append(f"{where}: review overdue (next review was {dates.next_review})")
    if dates.next_review <= dates.last_review:
        problems.append(f"{where}: next review {dates.next_review} is not after the last "
                        f"review {dates.last_review}")
    if dates.next_review > add_years(dates.last_review, MAX_REVIEW_YEARS):
        problems.append(f"{where}: next review {dates.next_review} is more than "
                        f"{MAX_REVIEW_YEARS} years after the last review {dates.last_review}")
    return problems


def activity_problems(activity: Activity, notebooks: tuple[NotebookActivity, ...],
                      today: date) -> list[str]:
    """What an accreditor would find missing or out of date (empty when complete)."""
    problems = date_problems("course", activity.dates, today)
    if not activity.audience:
        problems.append("course: no target audience")
    if not activity.objectives:
        problems.append("course: no learning objectives")
    if NO_COMMERCIAL_SUPPORT not in activity.disclosures["commercial_support"].lower():
        problems.append("disclosures: commercial_support must state \"no commercial support\"")
    for faculty in activity.faculty:
        if not faculty.roles:
            problems.append(f"faculty {faculty.id}: no roles")
    for module in activity.modules:
        problems += date_problems(f"module {module.id}", module.dates, today)
        if not module.objectives:
            problems.append(f"module {module.id}: no learning objectives")
    for nb in notebooks:
        where = f"notebook {nb.assignment}/{nb.id}"
        problems += date_problems(where, nb.dates, today)
        if not nb.objectives:
            problems.append(f"{where}: no learning objectives")
        if nb.minutes < 1:
            problems.append(f"{where}: no estimated minutes")
        if not nb.faculty:
            problems.append(f"{where}: no faculty")
    return problems


# ---------------------------------------------------------------- the disclosure page


def disclosure_markdown(activity: Activity) -> str:
    """The disclosure page shown before lesson 1 (Markdown, H3 headings)."""
    d, policy, dates = activity.disclosures, activity.evidence_policy, activity.dates
    faculty = "\n".join(f"- **{f.name}**: {', '.join(f.roles)}. Disclosure: {f.disclosure}"
                        for f in activity.faculty)
    modules = "\n".join(f"| {m.title} | {m.minutes} | {m.dates.last_review} | "
                        f"{m.dates.next_review} |" for m in activity.modules)
    return "\n".join([
        "### Accreditation information and disclosures", "",
        f"**Activity:** {activity.title} (version {activity.version})  ",
        f"**Released:** {dates.release} · **Last reviewed:** {dates.last_review} · "
        f"**Next review due:** {dates.next_review}  ",
        f"**Estimated time:** {activity.minutes // 60} h {activity.minutes % 60} min", "",
        "**Who it is for.** " + " ".join(activity.audience), "",
        "**Learning objectives.** By the end of the course you will be able to:",
        *(f"{i}. {o}" for i, o in enumerate(activity.objectives, 1)), "",
        "### Faculty and conflicts of interest", "", faculty, "",
        f"- **Commercial support:** {d['commercial_support']}",
        f"- **Conflicts of interest:** {d['conflicts']}",
        f"- **Products:** {d['products']}",
        f"- **How independence is kept:** {d['mitigation']}", "",
        "### Evidence policy", "",
        f"- {policy['levels']}.", f"- {policy['certainty']}.", f"- {policy['badges']}",
        f"- {policy['new_and_evolving']}", "",
        "### Modules and review dates", "",
        "| Module | Minutes | Last reviewed | Next review |", "|---|---|---|---|", modules, "",
        f"**Certificate.** {activity.certificate_criteria}",
    ]) + "\n"


def disclosure_html(activity: Activity) -> str:
    """The same page as HTML (for JupyterLab's rich display and for printing)."""
    def items(values: list[str]) -> str:
        return "".join(f"<li>{escape(v)}</li>" for v in values)

    d, policy, dates = activity.disclosures, activity.evidence_policy, activity.dates
    rows = "".join(f"<tr><td>{escape(m.title)}</td><td>{m.minutes}</td>"
                   f"<td>{m.dates.last_review}</td><td>{m.dates.next_review}</td></tr>"
                   for m in activity.modules)
    faculty = items([f"{f.name}: {', '.join(f.roles)}. Disclosure: {f.disclosure}"
                     for f in activity.faculty])
    return (
        '<section aria-label="Accreditation information and disclosures">'
        "<h3>Accreditation information and disclosures</h3>"
        f"<p><strong>Activity:</strong> {escape(activity.title)} (version "
        f"{escape(activity.version)})<br><strong>Released:</strong> {dates.release} · "
        f"<strong>Last reviewed:</strong> {dates.last_review} · <strong>Next review due:"
        f"</strong> {dates.next_review}<br><strong>Estimated time:</strong> "
        f"{activity.minutes // 60} h {activity.minutes % 60} min</p>"
        f"<p><strong>Who it is for.</strong> {escape(' '.join(activity.audience))}</p>"
        "<p><strong>Learning objectives.</strong> By the end of the course you will be able "
        f"to:</p><ol>{items(list(activity.objectives))}</ol>"
        f"<h3>Faculty and conflicts of interest</h3><ul>{faculty}</ul>"
        f"<ul>{items([d['commercial_support'], d['conflicts'], d['products'], d['mitigation']])}"
        f"</ul><h3>Evidence policy</h3><ul>{items(list(policy.values()))}</ul>"
        "<h3>Modules and review dates</h3><table><thead><tr><th scope=\"col\">Module</th>"
        "<th scope=\"col\">Minutes</th><th scope=\"col\">Last reviewed</th>"
        f"<th scope=\"col\">Next review</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p><strong>Certificate.</strong> {escape(activity.certificate_criteria)}</p>"
        "</section>"
    )


class DisclosurePage:
    """Displays as HTML in JupyterLab, as Markdown elsewhere, as text when printed."""

    def __init__(self, activity: Activity) -> None:
        self.activity = activity

    def _repr_html_(self) -> str:
        return disclosure_html(self.activity)

    def _repr_markdown_(self) -> str:
        return disclosure_markdown(self.activity)

    def __str__(self) -> str:
        return disclosure_markdown(self.activity)


def disclosure_page() -> DisclosurePage:
    """For a notebook cell: ``disclosure_page()`` shows the page before lesson 1."""
    return DisclosurePage(activity())
