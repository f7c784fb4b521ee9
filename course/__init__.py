"""An open, evidence-graded training course on mesotherapy for practitioners.

The package holds everything the notebooks use, so that it can be tested:

- :mod:`course.content`   the content model (bibliography, claims, glossary, substances)
- :mod:`course.evidence`  evidence badges (OCEBM level, GRADE certainty, references)
- :mod:`course.questions` formative questions checked against a salted hash
- :mod:`course.lesson`    the short functions notebook cells call
- :mod:`course.notebooks` notebook anatomy, hygiene and leak checks
- :mod:`course.grading`   release, self-study checks and cohort grading with nbgrader
- :mod:`course.cli`       the ``course`` command line
- :mod:`course.startup`   start-up work put off until it is needed

``import course`` stays light: nothing here imports nbgrader, matplotlib or ipywidgets.
"""

__version__ = "0.1.0"

from course.startup import defer_iri_grammar

defer_iri_grammar()  # before anything imports jsonschema: see course.startup

LIMITS_STATEMENT = (
    "This course is education, not clinical guidance. It cannot certify hands-on "
    "competence: supervised practice is required before treating patients. Local "
    "regulation and product labelling govern practice."
)

TEACHING_AID_LABEL = "Teaching aid — not a validated clinical tool"
