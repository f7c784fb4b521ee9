"""The ``course`` command line (see course-design.md §7).

Exit codes: 0 done; 1 the work failed (the message says why); 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from course.content import ContentError
from course.errors import GradingError, InputError
from course.paths import course_root

USAGE_ERROR = 2
FAILURE = 1


class UsageError(Exception):
    """The command line named something that does not exist."""


def _choose(requested: Sequence[str], available: Sequence[str], what: str) -> list[str]:
    unknown = [a for a in requested if a not in available]
    if unknown:
        choices = ", ".join(available) or "none"
        raise UsageError(f"unknown {what} {', '.join(unknown)} (available: {choices})")
    return list(requested) or list(available)


def cmd_release(args: argparse.Namespace, root: Path) -> int:
    from course.grading.assignments import available_assignments, generate_release

    chosen = _choose(args.assignments, available_assignments(root), "assignment")
    written = generate_release(root, chosen)
    for path in written:
        print(f"released  {path.relative_to(root)}")
    print(f"{len(chosen)} assignment(s) released; no solution, hidden test or mark scheme found.")
    return 0


def cmd_start(args: argparse.Namespace, root: Path) -> int:
    from course.grading.assignments import released_assignments, start_assignments

    chosen = _choose(args.assignments, released_assignments(root), "released assignment")
    copied, kept = start_assignments(root, chosen)
    for path in copied:
        print(f"copied    {path.relative_to(root)}")
    for path in kept:
        print(f"kept      {path.relative_to(root)} (your file is never overwritten)")
    print(f"Open the notebooks in {(root / 'assignments').relative_to(root)}/ to begin.")
    return 0


def cmd_check(args: argparse.Namespace, root: Path) -> int:
    from course.grading.assignments import (
        keep_stray_log_records,
        released_assignments,
        self_check,
    )

    keep_stray_log_records(root)  # the learner sees the course's sentences, no log output
    _choose([args.assignment], released_assignments(root), "released assignment")
    print(f"Checking your copy of {args.assignment} (self-study; this takes a few seconds)…")
    from course.grading.run_control import GradingInterrupted, StopSignals, signal_name

    stop = StopSignals()
    try:  # Ctrl-C or SIGTERM: the kernel and temporary folder go, nothing is recorded
        with stop:
            report = self_check(root, args.assignment)
    except (GradingInterrupted, GradingError):
        if stop.signum is None:  # a real failure, not a stop (nbgrader wraps the signal)
            raise
        print(f"course check: stopped by {signal_name(stop.signum)}: nothing was recorded; "
              "your notebooks are unchanged. Run it again to check them.", file=sys.stderr)
        return 128 + stop.signum
    result = report.result
    if report.sandbox:
        print(f"Your code ran in a grading kernel: {report.sandbox}.")
    print(f"{'notebook':<28} {'question':<34} score")
    from course.forms.feedback import titled_items
    from course.paths import source_dir

    for title, item in titled_items(source_dir(root) / args.assignment, list(result.items)):
        score = "tutor-graded" if item.needs_manual_grade else \
            f"{item.score:g} / {item.max_score:g}"
        print(f"{item.notebook:<28} {title:<34} {score}")
    print(f"Total (auto-graded): {result.auto_score:g} / {result.auto_max:g}")
    for path in report.feedback:
        print(f"Feedback: {path.relative_to(root)}")
    from course.certainty import ACCURACY_PASS, right_points
    from course.certificate import record_progress
    from course.paths import assignments_dir

    notes: list[str] = []
    score, top, extra = result.auto_score, result.auto_max, None
    if args.assignment in ACCURACY_PASS:  # certainty-based marking: the pass is on accuracy
        from course.certainty_feedback import learner_blocks

        score, top = right_points((i.score, i.max_score) for i in result.items)
        extra = {"cbm_score": result.auto_score, "cbm_max_score": result.auto_max}
        for _, text in learner_blocks(assignments_dir(root) / args.assignment, result.items):
            print(text)
    record_progress(assignments_dir(root), args.assignment, score, top, date.today(), notes,
                    extra)
    for note in notes:
        print(f"Note: {note}")
    return 0


def cmd_risk(args: argparse.Namespace, root: Path) -> int:
    import json

    from course.risk import assess, load_patient

    try:
        assessment = assess(load_patient(Path(args.patient)))
    except ContentError:
        raise  # the course's own data is broken: main reports it (exit 1)
    except ValueError as error:  # bad input: one clear line, exit 2
        print(f"course risk: {' '.join(str(error).split())}", file=sys.stderr)
        return USAGE_ERROR
    print(json.dumps(assessment.to_dict()))
    return 0


def cmd_dist(args: argparse.Namespace, root: Path) -> int:
    from course.grading.distribution import build_distribution

    default = root / "dist" / ("mesotherapy-course-student.zip" if args.zip
                               else "mesotherapy-course-student")
    written = build_distribution(root, Path(args.output) if args.output else default, args.zip)
    print(f"Student distribution written to {written} (no source/, no hidden tests, no keys).")
    return 0


def cmd_certificate(args: argparse.Namespace, root: Path) -> int:
    from course.certificate import (
        PROGRESS_FILE,
        SummaryRefused,
        scores_from_gradebook,
        scores_from_progress,
        summarise,
        summary_html,
        summary_text,
        without_failed_runs,
    )
    from course.paths import assignments_dir
    from course.report import ReportError

    if args.make_issuer_key:  # the verifiable certificate's key (course/credential_cli.py)
        from course.credential_cli import make_issuer_key_command

        return make_issuer_key_command(Path(args.make_issuer_key), root)
    if bool(args.student) == args.self_study:
        raise UsageError("name a STUDENT (instructor) or use --self-study, not both")
    if args.verifiable:  # a missing or unusable key stops here, before anything is written
        from course.credential_cli import issuer_key

        key = issuer_key(args, root)
    try:
        if args.self_study:
            scores = scores_from_progress(assignments_dir(root) / PROGRESS_FILE)
            learner, source = args.name or "Self-study learner", "self-study checks"
            default = assignments_dir(root) / "completion-summary.html"
        else:
            from course.grading.assignments import nbgrader_api

            api = nbgrader_api(root)
            scores = without_failed_runs(
                scores_from_gradebook(api.coursedir.db_url, api.coursedir.course_id,
                                      args.student),
                args.student, Path(os.path.normpath(api.coursedir.format_path(
                    api.coursedir.autograded_directory, ".", "."))))
            learner, source = args.student, "the course gradebook"
            default = root / "certificates" / f"{args.student}.html"
        summary = summarise(learner, scores, date.today(), source)
    except SummaryRefused as error:
        print(f"course certificate: {error}", file=sys.stderr)
        return FAILURE
    except (ValueError, ReportError) as error:  # a malformed progress.json or status
        # file, or an unknown student
        print(f"course certificate: {' '.join(str(error).split())}", file=sys.stderr)
        return USAGE_ERROR
    output = Path(args.output) if args.output else default
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(summary_html(summary), encoding="utf-8")
    print(summary_text(summary))
    print(f"\nSummary written to {output}")
    if args.verifiable:
        from course.credential_cli import write_verifiable

        write_verifiable(summary, output, key, args)
    return 0


def cmd_grade(args: argparse.Namespace, root: Path) -> int:
    from course.grading.assignments import released_assignments
    from course.grading.cohort import grade_cohort
    from course.grading.intake import CohortInputError
    from course.grading.outcome import Progress, status_table

    _choose([args.assignment], released_assignments(root), "released assignment")
    if args.timeout is not None and args.timeout < 1:
        raise UsageError(f"--timeout must be at least 1 second, not {args.timeout}")
    overrides = {"Execute": {"timeout": args.timeout}} if args.timeout else None
    try:
        report = grade_cohort(
            root, args.assignment,
            submissions=Path(args.submissions) if args.submissions else None,
            workers=args.workers, roster=Path(args.roster) if args.roster else None,
            overrides=overrides, progress=Progress(sys.stderr),
            execute_unscored=not args.skip_unscored, allow_unsandboxed=args.unsandboxed,
            regrade=args.regrade, wait=args.wait)
    except CohortInputError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt as stopped:  # run_control.GradingInterrupted: what was kept
        code = getattr(stopped, "exit_code", 130)
        detail = str(stopped) if code != 130 or str(stopped) else \
            "interrupted before grading began: nothing was graded"
        print(f"\ncourse grade: {detail}", file=sys.stderr)
        return code
    print(status_table(report))
    return report.exit_code


def cmd_report(args: argparse.Namespace, root: Path) -> int:
    from course.grading.assignments import available_assignments, released_assignments
    from course.report import build_report, summary_text, write_report

    known = sorted(set(available_assignments(root)) | set(released_assignments(root)))
    _choose([args.assignment], known, "assignment")
    output = Path(args.output) if args.output else root / "reports" / args.assignment
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} is a file; give a folder")
    report = build_report(root, args.assignment)
    written = write_report(report, output)
    print(summary_text(report))
    print(f"\nReport written to {output}: {', '.join(path.name for path in written)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="Mesotherapy practitioner course: release, start and check assignments.",
        epilog="Run `course COMMAND --help` for a command's arguments and examples.",
    )
    from course.cli_help import describe, version

    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    release = commands.add_parser(
        "release", help="generate release/ from source/ and verify nothing secret leaked")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    release.set_defaults(run=cmd_release)
    start = commands.add_parser(
        "start", help="copy released notebooks into assignments/ (never overwrites)")
    start.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    start.set_defaults(run=cmd_start)
    check = commands.add_parser(
        "check", help="grade your copy in assignments/ and write feedback (self-study)")
    check.add_argument("assignment", metavar="ASSIGNMENT")
    check.set_defaults(run=cmd_check)
    risk = commands.add_parser(
        "risk", help="screen a patient record (JSON) for risks; a teaching aid")
    risk.add_argument("patient", metavar="PATIENT.json")
    risk.set_defaults(run=cmd_risk)
    certificate = commands.add_parser(
        "certificate", help="one-page completion summary (refused until every module is "
                            "checked and the final is passed)")
    certificate.add_argument("student", nargs="?", metavar="STUDENT")
    certificate.add_argument("--self-study", action="store_true",
                             help="use your own `course check` results")
    certificate.add_argument("--name", help="your name on a self-study summary")
    certificate.add_argument("--output", metavar="FILE", help="where to write the HTML")
    certificate.set_defaults(run=cmd_certificate)
    from course.credential_cli import add_certificate_options, add_verify_command, cmd_verify

    add_certificate_options(certificate)
    add_verify_command(commands, cmd_verify)
    grade = commands.add_parser(
        "grade", help="autograde a cohort in parallel (submitted/, a folder or an LMS zip)")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("--submissions", metavar="PATH",
                       help="submitted/ tree, folder of <student>[.ipynb|/] or LMS .zip "
                            "(default: the course's submitted/)")
    grade.add_argument("--workers", type=int, metavar="N",
                       help="notebooks executed at once (default: the number of CPUs)")
    grade.add_argument("--roster", metavar="CSV",
                       help="students to add first: columns id, first_name, last_name, email")
    grade.add_argument("--timeout", type=int, metavar="SECONDS",
                       help="per-cell time limit (default: Execute.timeout in "
                            "nbgrader_config.py)")
    grade.add_argument("--skip-unscored", action="store_true",
                       help="do not run notebooks worth 0 points (same scores; their "
                            "autograded copies and feedback have no outputs)")
    grade.add_argument("--unsandboxed", action="store_true",
                       help="grade even where the sandbox cannot run (student code then runs "
                            "with your permissions)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again (default: skip students already "
                            "graded from the same files, e.g. after an interrupted run)")
    grade.add_argument("--wait", action="store_true",
                       help="if another `course grade` is using the gradebook, wait for it "
                            "(default: refuse at once)")
    grade.set_defaults(run=cmd_grade)
    report = commands.add_parser(
        "report", help="grades export with a status column, item analysis and plots")
    report.add_argument("assignment", metavar="ASSIGNMENT")
    report.add_argument("--output", metavar="DIR",
                        help="folder to write (default: reports/ASSIGNMENT/)")
    report.set_defaults(run=cmd_report)
    from course.export_cli import add_export_command, add_report_options

    add_report_options(report, cmd_report)  # --export canvas|moodle|nbgrader (#23)
    add_export_command(commands)  # course export: replaces `nbgrader export` (#20)
    from course.review_cli import add_review_command

    add_review_command(commands)  # course review: spaced review of practice questions (#22)
    dist = commands.add_parser(
        "dist", help="write the student-only distribution (no source/, no keys)")
    dist.add_argument("--output", metavar="PATH", help="folder (or .zip with --zip) to write")
    dist.add_argument("--zip", action="store_true", help="write a zip archive")
    dist.set_defaults(run=cmd_dist)
    describe(commands)  # every subcommand: its arguments described, with examples
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with usage on wrong arguments
    try:
        return args.run(args, course_root())
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"course {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except InputError as error:  # a file of the learner's or instructor's: one line
        print(f"course {args.command}: {' '.join(str(error).split())}", file=sys.stderr)
        return USAGE_ERROR
    except (GradingError, ContentError) as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return FAILURE


if __name__ == "__main__":
    sys.exit(main())
