"""nbgrader configuration for the mesotherapy course.

Paths are relative to this file, so the course works from any working directory and
in a clone anywhere. Read by every nbgrader command and by the `course` command line.
"""

from pathlib import Path

from course.grading.alembic_head import use_in_process_alembic_head

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

# A new gradebook's schema revision is read in process, not by a 3 s `alembic heads`
# subprocess (course/grading/alembic_head.py).
use_in_process_alembic_head()

c.CourseDirectory.course_id = "mesotherapy-practitioner"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# What a learner sees where an answer goes.
# BEGIN answer-forms code stub (python -m course.forms migrate rewrites this block)
# Answer cells start `answer_… = None` above the solution region (course.forms), so the
# stub that replaces the solution is a comment: Run All never stops at an answer cell.
c.ClearSolutions.code_stub = {
    "python": "# YOUR ANSWER HERE: replace None above with your answer, then run the "
              "check cell below."
}
# END answer-forms code stub
c.ClearSolutions.text_stub = "YOUR ANSWER HERE: write your justification in this cell."

# Grading: a cell may run for 30 s; deleted grade cells are put back before grading.
c.Execute.timeout = 30
c.OverwriteCells.add_missing_cells = True
# A duplicated answer cell is graded on the copy the learner answered
# (course/grading/duplicate_cells.py); nbgrader alone fails that submission with
# KeyError: 'grade_id'.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "course.grading.duplicate_cells.MergeDuplicateCells",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Test cells run outside the learner's kernel, on the answers it publishes as JSON
# (course/grading/trusted_tests.py): a learner's code cannot redefine what decides a grade.
c.Autograde.autograde_preprocessors = [
    "course.grading.nbgrader_plugins.ExecuteWithTrustedTests",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "course.grading.nbgrader_plugins.LimitOutputBytes",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Student code runs in a bubblewrap sandbox (course/grading/sandbox.py; the Execute step above
# inherits course.grading.sandbox.SandboxedKernels): its kernel sees no course files (source/,
# hidden tests, gradebook), writes only in a private copy of its folder and in /tmp, has no
# network and runs as nobody with CPU, memory, process and file-size limits. Where bubblewrap
# cannot run, grading logs "grading UNSANDBOXED" and goes on (self-study says so);
# `course grade` refuses unless given --unsandboxed; COURSE_REQUIRE_SANDBOX=1 (CI) or
# sandbox = "require" makes it an error everywhere. Defaults shown.
c.SandboxedKernels.sandbox = "auto"
c.SandboxedKernelManager.cpu_seconds = 300
c.SandboxedKernelManager.memory_bytes = 2 * 1024**3
c.SandboxedKernelManager.processes = 64
c.SandboxedKernelManager.file_bytes = 256 * 1024**2
c.SandboxedKernelManager.tmp_bytes = 256 * 1024**2
# Output is bounded in bytes (course.grading.nbgrader_plugins.LimitOutputBytes, in the chain above):
# a cell keeps at most 1 MiB of output and a notebook 8 MiB, and a cut cell ends with a
# note that says so; graded (test) cells are never changed. The Execute step above also
# cuts a cell's output as it arrives. -1 means no limit. Defaults shown.
c.LimitOutputBytes.max_cell_bytes = 1024**2
c.LimitOutputBytes.max_notebook_bytes = 8 * 1024**2
# A big output can take seconds to arrive from a sandboxed kernel on a busy machine; with
# nbclient's 4 s wait a 60 MB print failed the whole notebook instead of being cut.
c.Execute.iopub_timeout = 30
# nbgrader's LimitOutput (in the chain above) keeps 1000 output lines and 100 traceback lines.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# Feedback shows scores, answers and rationales, never a hidden test or its traceback.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "course.grading.nbgrader_plugins.ShortenTestTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# "Check my answers" in JupyterLab (course/check_service.py, the answer-forms extension's
# toolbar button): a self-study learner grades a notebook where they work. For an assessed
# cohort set this to False: results then come only in nbgrader's feedback.
c.InNotebookCheck.enabled = True

# BEGIN answer-forms feedback (added by python -m course.forms migrate)
# Feedback reads as sentences: question titles instead of "Test cell", rationales as
# wrapped paragraphs, errors without exception names (course/forms/feedback.py and its
# copy of nbgrader's feedback template, found first).
from course.forms.feedback import template_dirs  # noqa: E402

c.GenerateFeedback.preprocessors.insert(
    c.GenerateFeedback.preprocessors.index(
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"),
    "course.forms.feedback.PlainFeedback")
c.HTMLExporter.extra_template_basedirs = template_dirs()
# END answer-forms feedback

# BEGIN peer answer distributions
# Under each graded single-best-answer item, the feedback shows how the cohort answered it
# (shares per option, no names), once at least PeerAnswers.min_cohort learners were graded
# (default 10, never below 5) and only to a learner whose own submission was graded
# (course/peer_answers.py).
c.GenerateFeedback.preprocessors.insert(
    c.GenerateFeedback.preprocessors.index(
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"),
    "course.peer_answers.PeerAnswers")
# c.PeerAnswers.min_cohort = 10
# END peer answer distributions

# BEGIN certainty-based marking
# At the top of the final's feedback: accuracy (which decides the pass, 70%), the
# certainty-based score beside it, a calibration chart with its text equivalent, and
# confident errors on safety questions to review before practice
# (course/certainty_feedback.py; only notebooks whose forms ask "How sure are you?").
c.GenerateFeedback.preprocessors.insert(
    c.GenerateFeedback.preprocessors.index(
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"),
    "course.certainty_feedback.CertaintyFeedback")
# END certainty-based marking
