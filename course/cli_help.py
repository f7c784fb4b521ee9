"""What ``course COMMAND --help`` says: each argument described, and worked examples.

Kept apart from the parser's wiring in :mod:`course.cli`, so that a new subcommand only
needs an entry here (``tests/test_cli.py`` fails on a subcommand without an example).
"""

from __future__ import annotations

import argparse
from importlib import metadata

DISTRIBUTION = "mesotherapy-course"

ARGUMENTS: dict[str, dict[str, str]] = {
    "release": {"assignments": "assignment folder(s) in source/, e.g. 01-principles "
                               "(default: every assignment)"},
    "start": {"assignments": "released assignment(s) to copy (default: every one)"},
    "check": {"assignment": "the assignment of your copy in assignments/, "
                            "e.g. 00-orientation"},
    "risk": {"patient": "a patient record: a JSON object of screening answers (fields as "
                        "in course/data/risk_rules.toml)"},
    "certificate": {"student": "the student's id in the gradebook (instructors; leave out "
                               "with --self-study)"},
    "grade": {"assignment": "the released assignment to grade, e.g. 01-principles"},
    "report": {"assignment": "the graded assignment, e.g. 05-final-assessment"},
}

EXAMPLES: dict[str, str] = {
    "release": """\
examples:
  course release                     every assignment in source/
  course release 01-principles       one assignment
Run it after any change in source/; commit release/ with it.""",
    "start": """\
examples:
  course start                       copy every released notebook into assignments/
  course start 02-substances         one assignment
Your own files are never overwritten: to start a notebook afresh, rename your copy and
run it again.""",
    "check": """\
example:
  course check 00-orientation        grade your copies in assignments/00-orientation/
Writes <notebook>.feedback.html beside each notebook and keeps the result in
assignments/progress.json. In JupyterLab, "Check my answers" does the same.""",
    "risk": """\
example:
  course risk patient.json           prints the screening result as JSON
where patient.json holds, for example:
  {"age": 52, "indication": "musculoskeletal_pain", "substance": "ketoprofen",
   "product_source": "licensed", "anticoagulant": true, "pregnant": false}
Teaching aid — not a validated clinical tool.""",
    "certificate": """\
examples:
  course certificate --self-study --name "Ana Silva"
  course certificate ana                              from the gradebook (instructors)
  course certificate ana --verifiable --issuer-key ~/.config/mesotherapy-course/issuer-key.pem
  course certificate --make-issuer-key ~/.config/mesotherapy-course/issuer-key.pem
Refused until every assessed module has a result and the final is passed (70%).""",
    "verify": """\
examples:
  course verify ana.credential.json
  course verify ana.credential.json --issuer did:key:z6Mk...
Exit status: 0 valid, 1 invalid (changed, or another key), 2 not a signed credential.""",
    "grade": """\
examples:
  course grade 01-principles                             from submitted/
  course grade 01-principles --submissions download.zip  an LMS download
  course grade 01-principles --submissions folder/ --roster roster.csv --workers 2
Ends with a status per student, also in autograded/ASSIGNMENT.grading-status.csv.""",
    "report": """\
examples:
  course report 05-final-assessment
  course report 05-final-assessment --output /tmp/final-report
Writes grades.csv, items.csv, options.csv, two figures and report.md.""",
    "review": """\
examples:
  course review                      the practice questions due for review now
  course review --all                every scheduled question with its due date
Questions you miss, or answer while guessing, are scheduled (FSRS) in
assignments/progress.json; answer them in 00-review/01-spaced-review.ipynb.""",
    "dist": """\
examples:
  course dist                        dist/mesotherapy-course-student/
  course dist --zip --output cohort.zip
Withheld (nothing written) if any solution, hidden test or key would leak.""",
}


def version() -> str:
    """The installed package's version (the source tree's when it is not installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from course import __version__

        return __version__


def describe(commands: argparse._SubParsersAction) -> None:
    """Give every subcommand its argument descriptions and examples (kept if it has some)."""
    for name, parser in commands.choices.items():
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        if not parser.epilog and name in EXAMPLES:
            parser.epilog = EXAMPLES[name]
        for action in parser._actions:
            described = ARGUMENTS.get(name, {}).get(action.dest)
            if described and not action.help:
                action.help = described
