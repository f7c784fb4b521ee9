"""Answer forms: cell metadata that describes each answer, and the migration to it.

:mod:`course.forms.spec` builds and checks the ``course.answer`` metadata the JupyterLab
extension renders; :mod:`course.forms.migrate` rewrites notebooks to the answer-form
pattern (``python -m course.forms migrate``); :mod:`course.forms.feedback` makes the
feedback read as plain sentences. The learner-side helpers are in :mod:`course.answers`.
"""
