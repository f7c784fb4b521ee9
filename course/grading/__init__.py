"""Grading: nbgrader with the course's safeguards, for one learner or a whole cohort.

Read in this order:

- :mod:`~course.grading.assignments`  release, learner copies, ``course check`` (self-study)
- :mod:`~course.grading.config`       nbgrader's configuration, loaded in one place
- :mod:`~course.grading.alembic_head` a new gradebook's schema revision, read in process
- :mod:`~course.grading.cohort`       ``course grade``: the run from start to end
- :mod:`~course.grading.intake`       submissions in: folders and LMS zips, names, limits
- :mod:`~course.grading.roster`       ``--roster CSV``: students in, bad rows reported
- :mod:`~course.grading.phases`       nbgrader's autograde pass by pass; the only gradebook writer
- :mod:`~course.grading.workers`      worker processes that execute notebooks
- :mod:`~course.grading.outcome`      per-student outcomes, status table and file, progress bar
- :mod:`~course.grading.run_control`  signals, the per-gradebook lock, the resume ledger
- :mod:`~course.grading.sandbox`      sandboxed kernels for jupyter_client and nbgrader
- :mod:`~course.grading.bwrap`        the bubblewrap sandbox: what a kernel sees, limits
- :mod:`~course.grading.zygote`       one sandbox per submission, its kernels forked by a zygote
- :mod:`~course.grading.kernel_forkserver`  the zygote itself (runs in the sandbox)
- :mod:`~course.grading.nbgrader_plugins`   preprocessors named in ``nbgrader_config.py``
- :mod:`~course.grading.trusted_tests`      test cells run outside the learner's kernel
- :mod:`~course.grading.duplicate_cells`    a duplicated answer cell graded once
- :mod:`~course.grading.distribution`       the student-only distribution; release checks

Nothing here imports the course's views (widgets, figures). Importing this package
imports none of its modules.
"""
