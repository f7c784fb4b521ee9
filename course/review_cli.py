"""``course review``: which practice questions are due for spaced review (course/review.py)."""

from __future__ import annotations

import argparse
import ast
from datetime import UTC, datetime
from pathlib import Path

from course.paths import assignments_dir, release_dir

REVIEW_NOTEBOOK = Path("00-review") / "01-spaced-review.ipynb"
PRACTICE_CALLS = ("practice", "question")  # course.lesson's calls that show a practice question


def practice_locations(release: Path) -> dict[str, str]:
    """Where each practice question is taught: question id → "assignment/notebook"."""
    import nbformat

    found: dict[str, str] = {}
    for path in sorted(release.glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code" or not any(f"{name}(" in cell.source
                                                     for name in PRACTICE_CALLS):
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in PRACTICE_CALLS
                        and node.args and isinstance(node.args[0], ast.Constant)):
                    found.setdefault(str(node.args[0].value), f"{path.parent.name}/{path.stem}")
    return found


def review_lines(folder: Path, release: Path, now: datetime, show_all: bool = False
                 ) -> list[str]:
    """The command's output: the due questions, where they are taught, what to open."""
    from course.questions import questions
    from course.review import due_items, load_schedule, next_due, review_summary

    schedule = load_schedule(folder)
    lines = [review_summary(folder, now)]
    chosen = (sorted(schedule) if show_all else [item.qid for item in due_items(schedule, now)])
    if not chosen:
        return lines
    known, where = questions(), practice_locations(release)
    for qid in chosen:
        title = f"Question {known[qid].number}" if qid in known else qid
        due = next_due({qid: schedule[qid]})
        when = f", due {due:%d %b %Y %H:%M} UTC" if show_all and due else ""
        lines.append(f"  {title} (taught in {where.get(qid, 'a retired lesson')}{when})")
    lines.append(f"Answer them in assignments/{REVIEW_NOTEBOOK.as_posix()} "
                 "(JupyterLab: open it from the file browser).")
    return lines


def cmd_review(args: argparse.Namespace, root: Path) -> int:
    from course.errors import InputError

    folder = Path(args.folder) if args.folder else assignments_dir(root)
    if not folder.is_dir():
        raise InputError(f"--folder {folder} is not a folder: give the folder that holds "
                         "your progress.json (your assignments/)")
    try:
        lines = review_lines(folder, release_dir(root), datetime.now(UTC), args.all)
    except ValueError as error:  # a damaged progress.json: one plain line, nothing changed
        raise InputError(str(error)) from None
    print("\n".join(lines))
    return 0


def add_review_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "review", help="which practice questions are due for spaced review (self-study)")
    parser.add_argument("--all", action="store_true",
                        help="list every scheduled question with its due date")
    parser.add_argument("--folder", metavar="DIR",
                        help="the folder holding your progress.json (default: assignments/)")
    parser.set_defaults(run=cmd_review)
