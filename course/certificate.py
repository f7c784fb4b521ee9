"""The completion summary: a one-page record of study, never a certificate of competence.

Results come from the instructor's gradebook (``course certificate STUDENT``) or from the
learner's own ``course check`` runs (``course certificate --self-study``), which
``course check`` records in ``assignments/progress.json``. It lists every module with its
status (the ungraded modules as "not assessed"), and is refused while an assessed module
has no result or the final assessment is missing or below the pass mark. In the
gradebook, a submission that was never autograded, has an auto-graded cell without a
score, or still awaits a tutor has no result yet.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from course import LIMITS_STATEMENT
from course.syllabus import course_map

FINAL_ASSESSMENT = "05-final-assessment"
PASS_MARK = 0.70
PROGRESS_FILE = "progress.json"
REVIEW_KEY = "review"  # the spaced-review schedule (course/review.py), not an assignment


class SummaryRefused(ValueError):
    """No completion summary: the final assessment is missing or not passed."""


@dataclass(frozen=True)
class ModuleResult:
    assignment: str
    title: str
    score: float
    max_score: float
    minutes: int

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0


@dataclass(frozen=True)
class CompletionSummary:
    learner: str
    modules: tuple[ModuleResult, ...]
    final_percent: float
    issued: date
    source: str

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.modules)


def summarise(learner: str, scores: dict[str, tuple[float, float]], issued: date,
              source: str) -> CompletionSummary:
    """Build the summary from (score, max score) per assignment; refuse without a pass."""
    if not learner.strip():
        raise ValueError("learner: a name or student id is needed")
    known = {a.id: a for a in course_map()}
    unknown = sorted(set(scores) - set(known))
    if unknown:
        raise ValueError(f"assignment: unknown ids {', '.join(unknown)}")
    if FINAL_ASSESSMENT not in scores:
        raise SummaryRefused(f"no completion summary for {learner}: the final assessment "
                             f"({FINAL_ASSESSMENT}) has no result yet")
    score, max_score = scores[FINAL_ASSESSMENT]
    final = score / max_score if max_score else 0.0
    if final < PASS_MARK:
        raise SummaryRefused(
            f"no completion summary for {learner}: the final assessment scored "
            f"{100 * final:.0f}%, below the pass mark of {100 * PASS_MARK:.0f}%; "
            "review the feedback and try again")
    from course.completion import assessed_modules

    unchecked = [a.id for a in assessed_modules() if a.id not in scores]
    if unchecked:
        raise SummaryRefused(
            f"no completion summary for {learner}: every assessed module needs a result, "
            f"and these have none yet: {', '.join(unchecked)} (check each with "
            "`course check ASSIGNMENT` or Check my answers)")
    modules = tuple(
        ModuleResult(a.id, a.title, *scores[a.id], a.minutes)
        for a in course_map() if a.id in scores
    )
    return CompletionSummary(learner, modules, 100 * final, issued, source)


NOT_ASSESSED = "not assessed"


def not_assessed() -> tuple[tuple[str, str], ...]:
    """(id, title) of the course map's ungraded modules, listed as "not assessed"."""
    from course.completion import assessed_modules

    assessed = {a.id for a in assessed_modules()}
    return tuple((a.id, a.title) for a in course_map() if a.id not in assessed)


def every_module(summary: CompletionSummary
                 ) -> tuple[tuple[str, str, ModuleResult | None], ...]:
    """(id, title, result) of every module in course-map order; None: not assessed."""
    results = {m.assignment: m for m in summary.modules}
    ungraded = dict(not_assessed())
    return tuple((a.id, a.title, results.get(a.id)) for a in course_map()
                 if a.id in results or a.id in ungraded)


def not_assessed_line() -> str:
    """One sentence naming the ungraded modules (empty when there are none)."""
    modules = "; ".join(f"{i} ({t})" for i, t in not_assessed())
    return (f"Not assessed (ungraded, not required for completion): {modules}."
            if modules else "")


def module_status(module: ModuleResult) -> str:
    """"passed" where the module has a pass mark and it is met, else "completed"."""
    from course.completion import scored_status

    if not module.max_score:
        return "completed"
    return scored_status(module.assignment, module.score, module.max_score)[0]


def summary_text(summary: CompletionSummary) -> str:
    lines = [f"Completion summary — {summary.learner}", f"Date: {summary.issued.isoformat()}",
             f"Results from: {summary.source}", ""]
    lines += [f"{m.assignment:<22} {m.title:<34} {m.score:g}/{m.max_score:g} "
              f"({m.percent:.0f}%)  {module_status(m)}  {m.minutes} min"
              for m in summary.modules]
    if line := not_assessed_line():
        lines.append(line)
    lines += ["", f"Final assessment: {summary.final_percent:.0f}% — passed "
                  f"(pass mark {100 * PASS_MARK:.0f}%)",
              f"Estimated study time: {summary.minutes // 60} h {summary.minutes % 60} min", "",
              LIMITS_STATEMENT]
    return "\n".join(lines)


def summary_html(summary: CompletionSummary) -> str:
    """A printable one-page HTML summary (print to PDF from the browser)."""
    rows = "".join(
        f"<tr><td>{escape(i)}</td><td>{escape(t)}</td><td>—</td><td>—</td>"
        f"<td>{NOT_ASSESSED}</td><td>—</td></tr>" if m is None else
        f"<tr><td>{escape(i)}</td><td>{escape(t)}</td>"
        f"<td>{m.score:g} / {m.max_score:g}</td><td>{m.percent:.0f}%</td>"
        f"<td>{escape(module_status(m))}</td><td>{m.minutes}</td></tr>"
        for i, t, m in every_module(summary))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Completion summary — {escape(summary.learner)}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;color:#111}}
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #666;padding:4px 8px;
text-align:left}}.limits{{border-left:6px solid #D55E00;padding:8px 12px;margin-top:1.5em}}
@media print{{body{{margin:0}}}}</style></head>
<body>
<h1>Mesotherapy for practitioners — completion summary</h1>
<p><strong>Learner:</strong> {escape(summary.learner)}<br>
<strong>Date:</strong> {summary.issued.isoformat()}<br>
<strong>Results from:</strong> {escape(summary.source)}</p>
<table><caption>Scores per module</caption>
<thead><tr><th scope="col">Assignment</th><th scope="col">Module</th><th scope="col">Score</th>
<th scope="col">Percent</th><th scope="col">Status</th><th scope="col">Minutes</th></tr>
</thead><tbody>{rows}</tbody></table>
<p><strong>Final assessment:</strong> {summary.final_percent:.0f}% — passed
(pass mark {100 * PASS_MARK:.0f}%).<br>
<strong>Estimated study time:</strong> {summary.minutes // 60} h {summary.minutes % 60} min
(from the activity cards of the modules completed).</p>
<p class="limits" role="note"><strong>This is not a certificate of competence.</strong>
{escape(LIMITS_STATEMENT)}</p>
</body></html>
"""


# ---------------------------------------------------------------- where results come from


def record_progress(assignments_folder: Path, assignment: str, score: float, max_score: float,
                    checked: date, notes: list[str] | None = None,
                    extra: dict[str, object] | None = None) -> Path:
    """Record a self-study check result (the latest check of each assignment counts).

    The file is replaced atomically (a crash never leaves half a file). A file that
    cannot be read is kept aside as ``progress.json.unreadable-<time>`` (never deleted)
    and a new one started; a line saying so is appended to ``notes``. ``extra`` is kept
    beside the score (the final's certainty-based points: its score is its accuracy).
    """
    path = assignments_folder / PROGRESS_FILE
    try:
        progress = read_progress(path) if path.exists() else {}
    except ValueError as error:
        kept = path.with_name(f"{path.name}.unreadable-{datetime.now():%Y%m%d-%H%M%S-%f}")
        os.replace(path, kept)
        progress = {}
        if notes is not None:
            notes.append(f"{error.args[0].split(';')[0]}: kept aside as {kept.name}; "
                         f"a new {path.name} was started (check your other assignments "
                         "again to record them)")
    progress[assignment] = {"score": score, "max_score": max_score, "checked": checked.isoformat(),
                            **(extra or {})}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(progress, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def _score(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


def read_progress(path: Path) -> dict[str, dict]:
    try:
        progress = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SummaryRefused(f"{path} does not exist: run `course check ASSIGNMENT` first") \
            from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot be read ({error}); delete it and run "
                         "`course check` again for each assignment") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg}); delete it and run "
                         "`course check` again for each assignment") from None
    if not isinstance(progress, dict) or not all(
        isinstance(v, dict) and {"score", "max_score"} <= set(v)
        and _score(v["score"]) and _score(v["max_score"]) and v["score"] <= v["max_score"]
        for k, v in progress.items() if k != REVIEW_KEY
    ):
        raise ValueError(f"{path}: unexpected content (each assignment needs a score and a "
                         "max_score, numbers with score <= max_score); delete it and run "
                         "`course check` again")
    return progress


def scores_from_progress(path: Path) -> dict[str, tuple[float, float]]:
    return {a: (float(v["score"]), float(v["max_score"]))
            for a, v in read_progress(path).items() if a != REVIEW_KEY}


def scores_from_gradebook(db_url: str, course_id: str, student: str
                          ) -> dict[str, tuple[float, float]]:
    """Total (auto + manual) scores of a student's submissions in the nbgrader gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    from course.certainty import ACCURACY_PASS, right_points

    scores = {}
    with Gradebook(db_url, course_id) as gradebook:
        try:
            gradebook.find_student(student)
        except MissingEntry:
            raise ValueError(f"student: {student!r} is not in the gradebook") from None
        for assignment in gradebook.assignments:
            try:
                submission = gradebook.find_submission(assignment.name, student)
            except MissingEntry:
                continue
            if has_result(submission):
                scores[assignment.name] = (float(submission.score),
                                           float(submission.max_score))
                if assignment.name in ACCURACY_PASS:  # certainty-based marking: the pass
                    scores[assignment.name] = right_points(  # is on the items right
                        (g.score, float(g.max_score)) for nb in submission.notebooks
                        for g in nb.grades)
    return scores


def without_failed_runs(scores: dict[str, tuple[float, float]], student: str,
                        autograded: Path) -> dict[str, tuple[float, float]]:
    """``scores`` less every assignment whose last ``course grade`` run failed for
    ``student`` (its status file, as ``course report`` reads it): an older score left in
    the gradebook is then not this submission's result."""
    from course.report import FAILED, STATUS_FILE, read_status_file

    failed = {assignment for assignment in scores
              if (read_status_file(autograded / STATUS_FILE.format(assignment=assignment))
                  .get(student, {}).get("status") or "").strip() == FAILED}
    return {a: score for a, score in scores.items() if a not in failed}


def has_result(submission: Any) -> bool:
    """A gradebook submission with a complete score: every grade auto- or hand-scored,
    none awaiting a tutor (a failed or never-run autograde is no result, not a 0)."""
    grades = [g for nb in submission.notebooks for g in nb.grades]
    return bool(grades) and not submission.needs_manual_grade and all(
        g.auto_score is not None or g.manual_score is not None for g in grades)
