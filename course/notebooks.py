"""Notebook anatomy, hygiene and leak checks (pure functions over nbformat nodes).

Used by the test suite, by ``course release`` (leak scan) and by later tooling that
reads activity cards (minutes of study).
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.syllabus import StudyLoad, learner_link, next_notebook, position_label

GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")
MEASURABLE_VERBS = {
    "identify", "explain", "calculate", "compare", "decide", "justify", "describe",
    "list", "recognise", "distinguish", "apply", "appraise", "interpret", "state",
    "use", "locate", "summarise", "classify", "plan", "select", "outline", "name",
    "define", "check", "read", "find", "evaluate", "choose", "recall", "document",
}
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME", "END MARK SCHEME")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", *HIDDEN_MARKERS)


class NotebookError(ValueError):
    """A notebook file cannot be read as a valid Jupyter notebook."""


def read_notebook(path: Path) -> NotebookNode:
    """Read and validate a notebook, with a clear message when it is malformed."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such notebook") from None
    except Exception as error:  # nbformat raises several unrelated types
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NotebookError(f"{path}: not a valid Jupyter notebook ({reason})") from None
    return nb


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# ---------------------------------------------------------------- anatomy


@dataclass(frozen=True)
class ActivityCard:
    objectives: tuple[str, ...]
    minutes: int
    prerequisites: str
    reviewed: date


def headings(nb: NotebookNode) -> list[tuple[int, str]]:
    """Markdown headings (level, text) in order, ignoring fenced code."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and (match := re.match(r"^(#{1,6})\s+(.*\S)", line)):
                found.append((len(match.group(1)), match.group(2)))
    return found


def heading_problems(nb: NotebookNode) -> list[str]:
    """One H1 in the first cell, and no level skipped on the way down."""
    found = headings(nb)
    problems = []
    if not nb.cells or not re.match(r"^#\s", nb.cells[0].source):
        problems.append("the first cell must open with the H1 title")
    h1s = [text for level, text in found if level == 1]
    if len(h1s) != 1:
        problems.append(f"expected exactly one H1, found {len(h1s)}")
    for (before, _), (after, text) in itertools.pairwise(found):
        if after > before + 1:
            problems.append(f"heading {text!r} jumps from H{before} to H{after}")
    return problems


def activity_card(nb: NotebookNode) -> ActivityCard:
    """Parse the activity card from the notebook's opening markdown cells."""
    opening = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    if "Activity card" not in opening:
        raise ValueError("no activity card in the first markdown cells")

    def field(pattern: str, what: str) -> str:
        match = re.search(pattern, opening)
        if not match:
            raise ValueError(f"activity card: missing {what}")
        return match.group(1).strip()

    minutes = int(field(r"\*\*Estimated time:\*\*\s*(\d+)\s*minutes", "estimated time"))
    prerequisites = field(r"\*\*Prerequisites:\*\*\s*([^·\n]+)", "prerequisites")
    reviewed = date.fromisoformat(
        field(r"\*\*Last reviewed:\*\*\s*(\d{4}-\d{2}-\d{2})", "last reviewed date")
    )
    objectives_block = opening.split("Learning objectives", 1)[-1].split("Estimated time", 1)[0]
    objectives = tuple(re.findall(r"^>?\s*\d+\.\s+(.+)$", objectives_block, re.MULTILINE))
    if not objectives:
        raise ValueError("activity card: no numbered learning objectives")
    for objective in objectives:
        verb = objective.split()[0].lower().strip(",.;:")
        if verb not in MEASURABLE_VERBS:
            raise ValueError(f"activity card: objective {objective!r} does not open with a "
                             f"measurable verb")
    return ActivityCard(objectives, minutes, prerequisites, reviewed)


# ---------------------------------------------------------------- hygiene


def hygiene_problems(nb: NotebookNode) -> list[str]:
    """What is wrong with how a source notebook is stored or marked up for nbgrader."""
    problems = []
    grade_ids: list[str] = []
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: outputs or an execution count are committed")
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader schema_version must be 3")
        grade_id = meta.get("grade_id", "")
        if not GRADE_ID.match(grade_id):
            problems.append(f"{where}: invalid grade_id {grade_id!r}")
        grade_ids.append(grade_id)
        if meta.get("grade") and not (isinstance(meta.get("points"), int | float)
                                      and meta["points"] > 0):
            problems.append(f"{where}: a graded cell needs positive points")
        if meta.get("grade") and not meta.get("solution") and not meta.get("locked"):
            problems.append(f"{where}: test cell {grade_id!r} must be locked")
        if meta.get("solution") and meta.get("locked"):
            problems.append(f"{where}: answer cell {grade_id!r} must not be locked")
    duplicates = sorted({g for g in grade_ids if grade_ids.count(g) > 1})
    if duplicates:
        problems.append(f"duplicate grade ids: {', '.join(duplicates)}")
    extra_meta = set(nb.metadata) - {"kernelspec", "language_info"}
    if extra_meta:
        problems.append(f"volatile notebook metadata committed: {', '.join(sorted(extra_meta))}")
    return problems


# ---------------------------------------------------------------- leaks


def _regions(source: str, begin: str, end: str) -> list[str]:
    lines, inside, found = source.splitlines(), False, []
    for line in lines:
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            found.append(line)
    return found


def secret_lines(nb: NotebookNode, *, include_solutions: bool = True) -> set[str]:
    """Distinctive lines of solutions, hidden tests and mark schemes in a source notebook."""
    lines: list[str] = []
    for cell in nb.cells:
        if include_solutions:
            lines += _regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        lines += _regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        lines += _regions(cell.source, "BEGIN MARK SCHEME", "END MARK SCHEME")
    return {s for line in lines if len(s := line.strip()) >= 8 and not s.startswith("#")}


def notebook_text(nb: NotebookNode) -> str:
    """Everything a learner can read in a notebook: cell sources and text outputs."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(v) for v in output.get("data", {}).values()]
            parts += output.get("traceback", [])
    return "\n".join(parts)


def html_to_text(html: str) -> str:
    """Strip tags and entities, so highlighted code reads as its source again."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def find_leaks(secrets: set[str], text: str, markers: tuple[str, ...] = MARKERS) -> list[str]:
    """Markers and secret lines that appear in a student-facing text.

    Feedback is scanned with ``HIDDEN_MARKERS`` only: a learner's own answer may
    legitimately contain anything, including a copied solution marker.
    """
    found = [marker for marker in markers if marker in text]
    found += sorted(line for line in secrets if line in text)
    return found


# ---------------------------------------------------------------- display-only cells

# Calls that only show something: a badge, definition, question, figure, widget,
# callout or card. A cell made of nothing else gets its input hidden
# (``metadata.jupyter.source_hidden``): the learner sees the output, and JupyterLab's
# "show code" still reveals the call. Worked examples (calls with data a learner reads
# or changes), answer cells and check cells stay visible.
DISPLAY_CALLS = frozenset({
    "evidence", "glossary", "question", "practice", "cite", "limits", "follow_up",
    "evidence_key", "course_map", "disclosure_page", "show_figure", "text_description",
    "skin_explorer", "session_planner", "substance_explorer", "dose_calculator",
    "Rich", "display", "print", "monograph_text",
    "compare_text", "rules_table", "card_html", "card_text", "vo_drill_html",
    "vo_drill_text", "ntm_onset_text", "show_drawing", "drawing", "monograph", "comparison",
    "evidence_map", "onset_timeline", "ntm_onset", "rules_view", "lidocaine_labels",
    "teaching_aid_note", "consent_elements_view", "review_session", "your_numbers",
})
DISPLAY_SUFFIXES = ("_figure", "_alt_text")


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _shows_only(node: ast.AST) -> bool:
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    return bool(calls) and all(
        (name := _call_name(c)) in DISPLAY_CALLS or name.endswith(DISPLAY_SUFFIXES)
        for c in calls)


def display_only(cell: NotebookNode) -> bool:
    """Whether a code cell only shows course content (see ``DISPLAY_CALLS``)."""
    if cell.cell_type != "code" or nbgrader_meta(cell) or "answer" in \
            cell.get("metadata", {}).get("course", {}):
        return False
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        return False
    if not body:
        return False
    assigned: set[str] = set()
    for statement in body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Name):
            if statement.value.id not in assigned:
                return False
        elif isinstance(statement, ast.Assign):
            if not (_shows_only(statement.value)
                    and all(isinstance(t, ast.Name) for t in statement.targets)):
                return False
            assigned |= {t.id for t in statement.targets}
        elif isinstance(statement, ast.For):
            if not all(isinstance(s, ast.Expr) and _shows_only(s) for s in statement.body):
                return False
        elif not (isinstance(statement, ast.Expr) and _shows_only(statement)):
            return False
    return True


def source_hidden(cell: NotebookNode) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def hide_helpers(nb: NotebookNode) -> int:
    """Hide the input of every display-only cell, show every other; return the changes."""
    changed = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or display_only(cell) == source_hidden(cell):
            continue
        changed += 1
        if display_only(cell):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        else:
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if "jupyter" in cell.metadata and not cell.metadata["jupyter"]:
                del cell.metadata["jupyter"]
    return changed


# ---------------------------------------------------------------- study time

WIDGET_CALLS = frozenset({"skin_explorer", "session_planner", "substance_explorer",
                          "dose_calculator", "screening_form", "vo_drill_check",
                          "review_session"})
FIGURE_CALLS = frozenset({"show_figure", "show_drawing", "drawing", "evidence_map",
                          "onset_timeline"})
CHECK_CALLS = frozenset({"check", "recorded"})  # they echo an answer already counted
SHOWN_TEXT_CALLS = ("evidence", "glossary")


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][\w'’.,/%-]*", html_to_text(text)))


def _shown_text(cell: NotebookNode) -> str:
    """Text that the badges and glossary entries of a cell show (no kernel needed)."""
    from course import lesson

    parts = []
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, ast.Call) and _call_name(node) in SHOWN_TEXT_CALLS \
                and all(isinstance(a, ast.Constant) for a in node.args):
            try:
                parts.append(repr(getattr(lesson, _call_name(node))(
                    *[a.value for a in node.args])))
            except (KeyError, ValueError):
                continue
    return "\n".join(parts)


def study_load(nb: NotebookNode) -> StudyLoad:
    """Count what a notebook asks of a learner (the model is in course.syllabus)."""
    words = items = cases = widgets = figures = examples = written = 0
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        course_meta = cell.get("metadata", {}).get("course", {})
        answer = course_meta.get("answer")
        if cell.cell_type == "markdown":
            if meta.get("solution") or "evaluation" in course_meta:
                written += 1
            # An item's or a case's allowance covers reading its stem and scheme.
            elif not meta.get("grade_id", "").endswith(("_stem", "_scheme")):
                words += _words(cell.source)
            continue
        if answer:
            kind = answer.get("kind")
            cases += kind == "case"
            items += kind in ("choice", "number")
            continue
        if meta or not cell.source.strip():
            continue
        try:
            names = {_call_name(n) for n in ast.walk(ast.parse(cell.source))
                     if isinstance(n, ast.Call)}
        except SyntaxError:
            continue
        words += _words(_shown_text(cell))
        if names & WIDGET_CALLS:
            widgets += 1
        elif names & FIGURE_CALLS:
            figures += 1
        elif not display_only(cell) and not names & CHECK_CALLS:
            examples += 1
    return StudyLoad(words, items, cases, widgets, figures, examples, written)


# ---------------------------------------------------------------- navigation

NEXT_PREFIX = "**Next notebook:**"
START_HERE = ("00-orientation", "00-start-here")


def header_line(assignment_id: str, notebook_id: str) -> str:
    """The line under a notebook's title: where it sits, and a link to the course map."""
    here = (assignment_id, notebook_id)
    link = "#The-course-map" if here == START_HERE else \
        learner_link(assignment_id, *START_HERE) + "#The-course-map"
    return f"*{position_label(assignment_id, notebook_id)}* · [Course map]({link})"


def next_line(assignment_id: str, notebook_id: str) -> str | None:
    """The "What comes next" link to the following notebook (None for the last one)."""
    following = next_notebook(assignment_id, notebook_id)
    if following is None:
        return None
    assignment, nb = following
    return (f"{NEXT_PREFIX} [{nb.title}]"
            f"({learner_link(assignment_id, assignment.id, nb.id)}) "
            f"({position_label(assignment.id, nb.id)})")


def _is_header(line: str) -> bool:
    return line.startswith(("*Module ", "*Orientation ", "*Spaced review ", "*After the course ")) \
        and "[Course map](" in line


def navigation(nb: NotebookNode, assignment_id: str, notebook_id: str) -> int:
    """Write the header line and the next-notebook link; return the cells changed."""
    changed = 0
    lines = nb.cells[0].source.split("\n")
    rest = [line for line in lines[1:] if not _is_header(line)]
    while rest and not rest[0].strip():
        rest.pop(0)
    opening = "\n".join([lines[0], "", header_line(assignment_id, notebook_id), "", *rest])
    if opening != nb.cells[0].source:
        nb.cells[0].source, changed = opening, changed + 1
    wanted = next_line(assignment_id, notebook_id)
    for cell in nb.cells:
        if cell.cell_type != "markdown" or "## What comes next" not in cell.source:
            continue
        kept = [line for line in cell.source.rstrip("\n").split("\n")
                if not line.startswith(NEXT_PREFIX)]
        while kept and not kept[-1].strip():
            kept.pop()
        source = "\n".join(kept + (["", wanted] if wanted else []))
        if source != cell.source:
            cell.source, changed = source, changed + 1
    return changed


def links(nb: NotebookNode) -> list[str]:
    """Relative links to notebooks in the markdown cells (anchors dropped)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += re.findall(r"\]\(([^)\s:]+\.ipynb)(?:#[^)]*)?\)", cell.source)
    return found


# ---------------------------------------------------------------- key leakage
#
# An assessed page must not state its keys (issue #18): no wording that only the key
# option has may appear anywhere else a learner can read in the graded notebook, and no
# table may pair findings with the five decisions of a case.

SHINGLE = 4
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "he",
    "her", "his", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the",
    "their", "them", "they", "this", "to", "was", "were", "which", "who", "with", "you",
    "your", "not", "no"))
DECISIONS = ("proceed", "proceed_with_precautions", "defer", "refer", "decline")


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", html_to_text(text).lower())


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    """Runs of ``size`` words with at least two that carry meaning."""
    words = _tokens(text)
    runs = (tuple(words[i:i + size]) for i in range(len(words) - size + 1))
    return {run for run in runs if sum(w not in STOPWORDS for w in run) >= 2}


def distinctive(key: str, others: list[str]) -> set[tuple[str, ...]]:
    """The key's word runs that no other option shares."""
    shared = set().union(*(shingles(o) for o in others)) if others else set()
    return shingles(key) - shared


def visible_cells(nb: NotebookNode) -> list[tuple[str, str]]:
    """(grade id or "", text a learner can read) for every cell, outputs excluded.

    Text is the cell source with solution regions removed, plus what the cell's badges
    and glossary calls show (computed without a kernel).
    """
    found = []
    for cell in nb.cells:
        source = cell.source
        if "BEGIN SOLUTION" in source or "BEGIN HIDDEN TESTS" in source:
            secret = set(_regions(source, "BEGIN SOLUTION", "END SOLUTION")) | set(
                _regions(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
            source = "\n".join(line for line in source.splitlines() if line not in secret)
        if nbgrader_meta(cell).get("solution") and cell.cell_type == "markdown":
            source = ""  # a written answer: the release shows an empty answer box
        shown = _shown_text(cell) if cell.cell_type == "code" else ""
        found.append((nbgrader_meta(cell).get("grade_id", ""), source + "\n" + shown))
    return found


def decision_table_rows(text: str) -> list[str]:
    """Markdown or HTML table rows with a cell that is one of the five decisions."""
    rows = [line for line in text.splitlines() if line.lstrip().startswith("|")]
    rows += re.findall(r"<tr\b.*?</tr>", text, flags=re.DOTALL | re.IGNORECASE)
    hits = []
    for row in rows:
        cells = re.split(r"\||</?t[dh][^>]*>", row)
        values = {html_to_text(c).strip(" `*_").lower().replace(" ", "_") for c in cells}
        if values & set(DECISIONS):
            hits.append(row.strip())
    return hits


def key_leaks(nb: NotebookNode, keys: dict[str, tuple[str, list[str]]]) -> list[str]:
    """Where a graded notebook states a key.

    ``keys`` maps an item's grade id prefix (``q5_1_1_who_may_practise``, ``q4_1_1``) to
    (key wording, other options' wording). Scanned: the page around the items, that is
    every cell without a grade id from the first graded cell on (key points, summaries,
    tables, callouts). Teaching that comes before the first item is not scanned, nor are
    the items' own cells (one item cueing another is an item-writing fault, checked in
    course.item_rules).
    """
    cells = visible_cells(nb)
    graded = [i for i, (grade_id, _) in enumerate(cells)
              if grade_id and nbgrader_meta(nb.cells[i]).get("grade")]
    scanned = [(i, text) for i, (grade_id, text) in enumerate(cells)
               if graded and i > graded[0] and not grade_id]
    leaks = []
    for prefix, (key, others) in keys.items():
        runs = distinctive(key, others)
        for index, text in scanned:
            found = runs & shingles(text)
            if found:
                leaks.append(f"cell {index}: states the key of {prefix} "
                             f"({' '.join(sorted(found)[0])!r})")
    for index, text in scanned:
        leaks += [f"cell {index}: a table decides a case: {row[:80]!r}"
                  for row in decision_table_rows(text)]
    return leaks


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """``python -m course.notebooks hide-helpers|navigation [NOTEBOOK...]``.

    Rewrites source notebooks in place (idempotent); then run ``course release <A>``.
    """
    import sys

    from course.paths import source_dir

    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"hide-helpers", "navigation"}
    if not args or args[0] not in commands:
        print(f"usage: python -m course.notebooks {{{'|'.join(sorted(commands))}}} "
              "[NOTEBOOK...]", file=sys.stderr)
        return 2
    command, paths = args[0], [Path(p) for p in args[1:]]
    for path in paths or sorted(source_dir().glob("*/*.ipynb")):
        nb = read_notebook(path)
        changed = hide_helpers(nb) if command == "hide-helpers" else \
            navigation(nb, path.parent.name, path.stem)
        if changed:
            nbformat.write(nb, path)
        print(f"{path.parent.name}/{path.name}: {changed} cell(s) changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
