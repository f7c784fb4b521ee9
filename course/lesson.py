"""Short functions that notebook cells call to show course content.

Each returns a small display object: JupyterLab renders its HTML, and every other
front end (a screen reader's text view, nbval, a terminal) gets the same content as
plain text.
"""

from __future__ import annotations

from html import escape

from course import LIMITS_STATEMENT
from course.callouts import Shown
from course.content import content
from course.display import OmittedWhileGrading, grading_run
from course.evidence import badge, evidence_key_rows
from course.questions import check_answer
from course.questions import question as find_question
from course.syllabus import course_map as load_map

Rich = Shown
"""Content with an HTML view and an equal plain-text view (course.callouts.Shown)."""


def _table(headers: list[str], rows: list[list[str]], caption: str) -> Rich:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    html = f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>" \
           f"<tbody>{body}</tbody></table>"
    lines = [caption, " | ".join(headers)] + [" | ".join(map(str, row)) for row in rows]
    return Rich(html, "\n".join(lines))


def evidence(*claim_ids: str) -> Rich:
    """Evidence badges for one or more claims of the registry."""
    badges = [badge(claim_id) for claim_id in claim_ids]
    return Rich("".join(b.html() for b in badges), "\n".join(b.text() for b in badges))


def cite(*ref_ids: str) -> Rich:
    """Full citations for reference ids, with links where known."""
    refs = content().references
    missing = [r for r in ref_ids if r not in refs]
    if missing:
        raise KeyError(f"unknown reference ids {missing} (see course/data/references.toml)")
    items, lines = [], []
    for ref_id in ref_ids:
        ref = refs[ref_id]
        # Underlined: JupyterLab's theme shows links by colour alone (WCAG 1.4.1).
        link = (f' <a href="{escape(ref.link, quote=True)}" '
                f'style="text-decoration:underline">{escape(ref.link)}</a>') if ref.link else ""
        items.append(f"<li><strong>{escape(ref_id)}</strong> {escape(ref.citation)}{link}</li>")
        lines.append(f"{ref_id}  {ref.citation}" + (f"  {ref.link}" if ref.link else ""))
    return Rich(f"<ul>{''.join(items)}</ul>", "\n".join(lines))


def glossary(*term_ids: str) -> Rich:
    """Glossary definitions for the given term ids."""
    terms = content().glossary
    chosen = [terms[t] for t in term_ids]
    html = "<dl>" + "".join(
        f"<dt><strong>{escape(t.term)}</strong></dt><dd>{escape(t.definition)}</dd>"
        for t in chosen
    ) + "</dl>"
    return Rich(html, "\n".join(f"{t.term}: {t.definition}" for t in chosen))


OPTIONS_CLASS = "course-question-options"
"""The class of a practice question's printed option list."""


def options_hidden_by_form(answer_name: str) -> str:
    """A style rule: hide the printed options of ``answer_name`` where its form shows them.

    The course's JupyterLab extension draws an answer form (``.course-AnswerForm`` with
    ``data-answer``) in the answer cell below the question and lists every option
    there, with its letter. Where that form is on the page, the printed list above it is
    hidden, so the options appear once; everywhere else (nbgrader's HTML, feedback, a
    front end without the extension) the printed list stays.
    """
    name = escape(answer_name, quote=True)
    return (f'.jp-Cell:has(~ .jp-Cell .course-AnswerForm[data-answer="{name}"]) '
            f'.{OPTIONS_CLASS}[data-answer="{name}"]{{display:none}}')


def question(qid: str) -> Rich:
    """Show a formative question with its options.

    The options are listed once on the page: when the answer form of ``answer_<qid>`` is
    drawn in the cell below, the form lists them and the printed list is hidden
    (:func:`options_hidden_by_form`).
    """
    q = find_question(qid)
    answer = f"answer_{q.id}"
    options = "".join(f"<li><strong>({o.letter})</strong> {escape(o.text)}</li>"
                      for o in q.options)
    html = (
        f"<style>{options_hidden_by_form(answer)}</style>"
        f"<div role='group' aria-label='Practice question {escape(q.number)}'>"
        f"<p><strong>Question {escape(q.number)}</strong> (practice)</p>"
        f"<p>{escape(q.stem)}</p><p><strong>{escape(q.lead_in)}</strong></p>"
        f"<ul class='{OPTIONS_CLASS}' data-answer='{escape(answer, quote=True)}' "
        f"style='list-style:none'>{options}</ul></div>"
    )
    return Rich(html, q.text())


def check(qid: str, answer: object) -> None:
    """Check a formative answer and print the rationale of the chosen option.

    In the learner's own copy, a missed question is also scheduled for spaced review
    (course/review.py); nothing is recorded while grading or outside ``assignments/``.
    """
    feedback = check_answer(find_question(qid), answer)
    print(feedback.text())
    if feedback.valid and not grading_run():
        note = _schedule_for_review(qid, feedback.correct)
        if note:
            print(note)


def _schedule_for_review(qid: str, correct: bool) -> str:
    """Record a practice answer for spaced review; a sentence for the learner, or ""."""
    from course.review import learner_folder, save_answer

    folder = learner_folder()
    if folder is None:
        return ""
    try:  # a practice check must never fail because of the review schedule
        schedule = save_answer(folder, qid, correct, "medium")
    except (ValueError, OSError):
        return ("(This answer could not be saved for spaced review: your progress.json "
                "cannot be read.)")
    if qid in schedule and not correct:
        return ("This question will come back for review: see "
                "00-review/01-spaced-review.ipynb.")
    return ""


def practice(qid: str):
    """The same formative question as a clickable widget (practice only, never graded).

    While nbgrader runs the notebook the widget is not built (course.display).
    """
    if grading_run():
        return OmittedWhileGrading(
            f"Practice question {find_question(qid).number}",
            "The practice widget asks the question above again; it is never graded.")
    from course.views.widgets import practice_widget

    return practice_widget(find_question(qid))


def text_description(text: str, summary: str = "Text description") -> Rich:
    """The text equivalent of a figure or widget, collapsed under a summary.

    A ``<details>`` element stays in the page, so screen readers reach it, but it does
    not repeat the figure for sighted readers unless they open it.
    """
    html = (f"<details class='course-text-description'><summary>{escape(summary)}</summary>"
            f"<div style='white-space:pre-wrap'>{escape(text)}</div></details>")
    return Rich(html, f"{summary}:\n{text}")


def evidence_key() -> Rich:
    """How to read an evidence badge."""
    rows = [list(row) for row in evidence_key_rows()]
    return _table(["Badge reads", "Meaning", "Course wording"], rows, "Evidence key")


def course_map(here: str = "00-orientation") -> Rich:
    """The course map with minutes and a link to each notebook.

    Links are relative to a notebook of assignment ``here`` in the learner's copy, where
    each assignment is a folder (course.syllabus.learner_link). Every notebook of the map
    is available: the map is package data, checked against ``source/`` by the tests, so
    it reads the same on a hub where the package is installed without ``release/``.
    """
    from course.syllabus import learner_link

    rows, total, links = [], 0, []
    for assignment in load_map():
        for nb in assignment.notebooks:
            rows.append([assignment.id, nb.title, str(nb.minutes), "available",
                         assignment.assessment])
            links.append(learner_link(here, assignment.id, nb.id))
            total += nb.minutes
    table = _table(["Assignment", "Notebook", "Minutes", "Status", "Assessment"], rows,
                   f"Course map — about {total // 60} h {total % 60} min of study in all")
    html = table.html
    for row, link in zip(rows, links, strict=True):
        title = escape(row[1])
        html = html.replace(
            f"<td>{title}</td>",
            f'<td><a href="{escape(link, quote=True)}" style="text-decoration:underline">'
            f"{title}</a></td>", 1)
    return Rich(html, table.text)


def limits() -> Rich:
    """The course's limits statement as a caution callout."""
    return Rich(
        f"<blockquote role='note'><strong>Caution — limits of this course.</strong> "
        f"{escape(LIMITS_STATEMENT)}</blockquote>",
        f"Caution — limits of this course. {LIMITS_STATEMENT}",
    )
