"""Command-line wiring of the grade exports and the completion statuses.

``course export [--format nbgrader|canvas|moodle] [--assignment A ...] [--output DIR]``
writes one export (default: ``exports/grades.csv``, nbgrader's columns; use it instead of
``nbgrader export``). ``course report ASSIGNMENT --export canvas|moodle|nbgrader`` adds
that assignment's export to its report folder. Kept apart from :mod:`course.cli`, which
only calls :func:`add_export_command` and :func:`add_report_options`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

Command = Callable[[argparse.Namespace, Path], int]


def _folder(value: str | None, default: Path) -> Path:
    from course.cli import UsageError

    output = Path(value) if value else default
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} is a file; give a folder")
    return output


def cmd_export(args: argparse.Namespace, root: Path) -> int:
    from course.grade_export import build_sheet, export_summary, write_export

    output = _folder(args.output, root / "exports")
    sheet, notes = build_sheet(root, args.assignment or ())
    written = write_export(sheet, args.format, output)
    written.append(write_completion(sheet, output))
    print("\n".join([*notes, export_summary(sheet)]))
    print(f"\n{args.format} export written to {output}: "
          f"{', '.join(path.name for path in written)}")
    return 0


def write_completion(sheet: Any, output: Path) -> Path:
    """completion.csv: each learner's status on every assessed module (CPD records)."""
    from course.completion import completion_table, statuses_from_cells
    from course.grade_export import write_table

    maxima = {a: m for a, m, _ in sheet.assignments}
    statuses = statuses_from_cells(sheet.cells, [learner.id for learner in sheet.learners],
                                   maxima)
    return write_table(completion_table(statuses), output / "completion.csv")


def add_export_command(commands: argparse._SubParsersAction) -> None:
    from course.grade_export import FORMATS

    export = commands.add_parser(
        "export", help="grade CSV for nbgrader, Canvas or Moodle (a failure is never a 0)",
        description="Write the gradebook's scores as CSV. Only graded submissions have a "
                    "score; failed, missing and unfinished ones are empty cells, listed "
                    "with their reason in the .status.csv file beside the export. Use "
                    "this instead of `nbgrader export`. completion.csv beside it gives "
                    "each learner's status on every assessed module (not started, in "
                    "progress, completed, passed).",
        epilog="example: course export --format canvas --assignment 05-final-assessment")
    export.add_argument("--format", choices=FORMATS, default="nbgrader",
                        help="nbgrader (grades.csv, default), canvas or moodle")
    export.add_argument("--assignment", action="append", metavar="ASSIGNMENT",
                        help="export only this assignment (repeat for more; default: "
                             "every graded assignment)")
    export.add_argument("--output", metavar="DIR",
                        help="folder to write (default: exports/, git-ignored)")
    export.set_defaults(run=cmd_export)


def add_report_options(report: argparse.ArgumentParser, cmd_report: Command) -> None:
    """``--export FORMAT`` on ``course report``: the assignment's grades for an LMS too."""
    from course.grade_export import FORMATS

    report.add_argument("--export", choices=FORMATS, metavar="FORMAT",
                        help="also write the grades for an LMS: canvas, moodle or nbgrader")

    def run(args: argparse.Namespace, root: Path) -> int:
        from course.evaluation import ASSIGNMENT as EVALUATION

        if args.assignment == EVALUATION:  # anonymous answers, not grades
            return cmd_evaluation(args, root)
        code = cmd_report(args, root)
        if code == 0 and args.export:
            from course.grade_export import export_summary, write_export

            sheet, _ = _one_assignment_sheet(root, args.assignment)
            output = _folder(args.output, root / "reports" / args.assignment)
            written = write_export(sheet, args.export, output)
            print(export_summary(sheet))
            print(f"{args.export} export written to {output}: "
                  f"{', '.join(path.name for path in written)}")
        return code

    report.set_defaults(run=run)


def cmd_evaluation(args: argparse.Namespace, root: Path) -> int:
    """``course report 06-evaluation``: the anonymous evaluation export."""
    from course.cli import UsageError
    from course.evaluation import ASSIGNMENT, report_evaluation

    if args.export:
        raise UsageError(f"{ASSIGNMENT} is ungraded: there are no grades to --export")
    output = _folder(args.output, root / "reports" / ASSIGNMENT)
    written, summary = report_evaluation(root, output)
    print(summary)
    print(f"\nEvaluation written to {output}: {', '.join(path.name for path in written)}")
    return 0


def _one_assignment_sheet(root: Path, assignment: str) -> tuple[Any, list[str]]:
    from course.grade_export import build_sheet

    return build_sheet(root, [assignment])
