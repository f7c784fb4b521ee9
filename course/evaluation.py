"""The post-course evaluation: its questions, the learner's acknowledgement, the export.

The evaluation (``source/06-evaluation/01-evaluation.ipynb``) is ungraded and anonymous.
It asks four choice questions through answer forms (relevance, whether the objectives
were met, perceived commercial bias, commitment to change) and has four free-text
Markdown cells (where the bias was, what the learner will change, what was missing,
anything else), each marked ``metadata.course.evaluation = "<field>"``. No learner id is
asked for or stored in the notebook.

``course report 06-evaluation`` reads the submitted copies (``submitted/*/06-evaluation/``;
answers parsed with :mod:`ast`, never run) and writes, with **no learner id and rows
sorted by their content** (so the order reveals nobody): ``evaluation.csv`` (formula-
neutralised), ``evaluation-summary.png`` and ``evaluation.md`` (the summary, the figure's
text equivalent and the free-text answers).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from course.errors import GradingError
from course.escaping import csv_cell, markdown_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from nbformat import NotebookNode

ASSIGNMENT = "06-evaluation"
NOTEBOOK = "01-evaluation"
META_FIELD = "evaluation"
PLACEHOLDER = "Type your answer here"
NO_ANSWER = "(no answer)"
MIN_RESPONSES = 3
FILES = ("evaluation.csv", "evaluation-summary.png", "evaluation.md")


class EvaluationError(GradingError):
    """No evaluation to report (no submitted copy); exit code 1."""


@dataclass(frozen=True)
class ChoiceQuestion:
    name: str  # the answer variable
    column: str  # evaluation.csv column
    text: str
    options: tuple[tuple[str, str], ...]  # (letter, label)

    def label(self, letter: str | None) -> str:
        return dict(self.options).get(letter or "", NO_ANSWER)


QUESTIONS = (
    ChoiceQuestion("answer_eval_relevance", "relevance",
                   "How relevant was the course to your practice?",
                   (("a", "Very relevant"), ("b", "Mostly relevant"),
                    ("c", "Partly relevant"), ("d", "Not relevant"))),
    ChoiceQuestion("answer_eval_objectives", "objectives_met",
                   "How well did the course meet its stated learning objectives?",
                   (("a", "Fully"), ("b", "Mostly"), ("c", "Partly"), ("d", "Not at all"))),
    ChoiceQuestion("answer_eval_bias", "commercial_bias",
                   "Did you perceive any commercial bias (promotion of a product, brand or "
                   "company)?",
                   (("a", "No bias perceived"), ("b", "Some bias"), ("c", "Clear bias"),
                    ("d", "Unsure"))),
    ChoiceQuestion("answer_eval_change", "commitment_to_change",
                   "Will you change anything in your practice because of this course?",
                   (("a", "Yes, I will change something"),
                    ("b", "No, my practice already matches"),
                    ("c", "No, it does not apply to my practice"), ("d", "Unsure"))),
)
TEXT_FIELDS = (("bias_where", "Where did you see commercial bias?"),
               ("what_will_change", "What will you change in your practice?"),
               ("what_was_missing", "What was missing from the course?"),
               ("comments", "Anything else?"))
COLUMNS = (*(q.column for q in QUESTIONS), *(f for f, _ in TEXT_FIELDS))


# ---------------------------------------------------------------- in the learner's notebook


def recorded(name: str, value: object) -> str:
    """What the learner sees after choosing: the choice, and that it is anonymous."""
    question = next((q for q in QUESTIONS if q.name == name), None)
    if question is None:
        raise ValueError(f"name: one of {', '.join(q.name for q in QUESTIONS)}, not {name!r}")
    letter = _letter(value, question)
    if letter is None:
        text = "Not answered yet: choose an option in the form above (or skip it)."
    else:
        text = (f"Recorded: ({letter}) {question.label(letter)}. Save the notebook; "
                "nothing identifies you in your answers.")
    print(text)
    return text


def _letter(value: object, question: ChoiceQuestion) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower().strip("()")
    return text if text in dict(question.options) else None


# ---------------------------------------------------------------- reading the answers


def free_text(source: str) -> str:
    """A free-text cell's answer: its text without the heading and the placeholder."""
    lines = [line for line in source.splitlines()
             if not line.lstrip().startswith("#") and PLACEHOLDER not in line]
    return " ".join(" ".join(lines).split())


def read_response(nb: NotebookNode) -> dict[str, str]:
    """One learner's answers as ``COLUMNS`` -> text (choices as their labels)."""
    from course.report import notebook_answers

    answers = notebook_answers(nb)
    response = {q.column: q.label(_letter(answers.get(q.name), q)) for q in QUESTIONS}
    fields = {f for f, _ in TEXT_FIELDS}
    for cell in nb.cells:
        field = cell.get("metadata", {}).get("course", {}).get(META_FIELD)
        if cell.cell_type == "markdown" and field in fields:
            response[field] = free_text(cell.source)
    for field in fields:
        response.setdefault(field, "")
    return response


def anonymous_rows(responses: Sequence[Mapping[str, str]]) -> list[list[str]]:
    """Rows without any id, sorted by content (the order says nothing about who)."""
    return sorted([[r.get(c, "") for c in COLUMNS] for r in responses])


def submitted_copies(root: Path) -> list[Path]:
    """Every submitted copy of the evaluation notebook in the course's submitted/."""
    return sorted((root / "submitted").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.ipynb"))


def read_responses(paths: Sequence[Path]) -> tuple[list[dict[str, str]], list[str]]:
    """Responses, and a note per unreadable copy (named by its position, not its owner)."""
    from course.notebooks import NotebookError, read_notebook

    responses, notes = [], []
    for path in paths:
        try:
            responses.append(read_response(read_notebook(path)))
        except NotebookError:
            notes.append("one submitted copy is not a readable notebook and was skipped")
    return responses, notes


# ---------------------------------------------------------------- summary and figure


def counts(responses: Sequence[Mapping[str, str]]) -> dict[str, list[tuple[str, int]]]:
    """Per choice question: (label, count) for every option, then (no answer)."""
    found = {}
    for q in QUESTIONS:
        tally = Counter(r.get(q.column, NO_ANSWER) for r in responses)
        found[q.column] = [(label, tally[label]) for _, label in q.options] + \
            [(NO_ANSWER, tally[NO_ANSWER])]
    return found


def summary_text(responses: Sequence[Mapping[str, str]]) -> str:
    """The text equivalent of the summary figure: every count, question by question."""
    n = len(responses)
    lines = [f"Post-course evaluation: {n} anonymous response(s)."]
    if n < MIN_RESPONSES:
        lines.append(f"Fewer than {MIN_RESPONSES} responses: answers, the free text above "
                     "all, may identify who gave them; share them with care.")
    by_question = counts(responses)
    for q in QUESTIONS:
        parts = "; ".join(f"{label}: {count}" for label, count in by_question[q.column])
        lines.append(f"- {q.text} {parts}.")
    for field, title in TEXT_FIELDS:
        given = sum(bool(r.get(field)) for r in responses)
        lines.append(f"- {title} {given} written answer(s).")
    return "\n".join(lines)


def summary_figure(responses: Sequence[Mapping[str, str]]) -> Figure:
    """One horizontal bar chart per choice question, each bar labelled with its count."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 2.2 * len(QUESTIONS) + 0.6))
    by_question = counts(responses)
    axes = fig.subplots(len(QUESTIONS), 1)
    for ax, q in zip(axes, QUESTIONS, strict=True):
        labels = [label for label, _ in by_question[q.column]]
        values = [count for _, count in by_question[q.column]]
        bars = ax.barh(range(len(values)), values, color="#0072B2", edgecolor="#000000")
        for bar, value in zip(bars, values, strict=True):
            ax.text(bar.get_width() + 0.05, bar.get_y() + bar.get_height() / 2, str(value),
                    va="center", fontsize=9)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, max([*values, 1]) * 1.2)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(q.text, fontsize=10, loc="left")
    fig.suptitle(f"Post-course evaluation (n = {len(responses)} anonymous responses)",
                 fontsize=12, fontweight="bold", x=0.02, ha="left")
    fig.tight_layout()
    return fig


def evaluation_markdown(responses: Sequence[Mapping[str, str]], notes: Sequence[str]) -> str:
    lines = ["# Post-course evaluation", "", *[f"> **Note.** {n}" for n in notes], "",
             "![Counts of the answers to each choice question](evaluation-summary.png)", "",
             "Text equivalent:", "", summary_text(responses), ""]
    for field, title in TEXT_FIELDS:
        written = sorted(r[field] for r in responses if r.get(field))
        lines += [f"## {title}", ""]
        lines += [f"- {markdown_text(text)}" for text in written] or ["None written."]
        lines.append("")
    lines += ["Rows of `evaluation.csv` carry no learner id and are sorted by their content.",
              ""]
    return "\n".join(lines)


def write_evaluation(responses: Sequence[Mapping[str, str]], notes: Sequence[str],
                     output: Path) -> list[Path]:
    """Write evaluation.csv, evaluation-summary.png and evaluation.md into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    table = output / "evaluation.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)  # no cell runs as a spreadsheet formula
        writer.writerow(COLUMNS)
        writer.writerows([[csv_cell(c) for c in row] for row in anonymous_rows(responses)])
    figure = output / "evaluation-summary.png"
    summary_figure(responses).savefig(figure, format="png", dpi=100, bbox_inches="tight")
    text = output / "evaluation.md"
    text.write_text(evaluation_markdown(responses, notes), encoding="utf-8")
    return [table, figure, text]


def report_evaluation(root: Path, output: Path) -> tuple[list[Path], str]:
    """Read the submitted copies and write the export; (paths, summary text)."""
    paths = submitted_copies(root)
    if not paths:
        raise EvaluationError(f"no submitted evaluation in submitted/*/{ASSIGNMENT}/: "
                              "collect the learners' copies first (nbgrader collect, or "
                              "copy them there)")
    responses, notes = read_responses(paths)
    return write_evaluation(responses, notes, output), summary_text(responses)
