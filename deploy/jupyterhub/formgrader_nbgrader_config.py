"""nbgrader settings for the grader's server on Kubernetes (see z2jh-values.yaml).

The Dockerfile installs this file as ``/opt/conda/etc/jupyter-formgrader/nbgrader_config.py``.
That folder is on the grader's JUPYTER_CONFIG_PATH only. The course folder is
``~/mesotherapy`` in the grader's home volume, made as README.md describes, and its own
nbgrader_config.py is loaded from there. On one machine the formgrader service starts in
the course folder instead, and this file is not used.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

course_id = os.environ.get("COURSE_HUB_COURSE_ID", "mesotherapy")
load_subconfig(os.path.expanduser(f"~/{course_id}/nbgrader_config.py"))  # noqa: F821

# Student UIDs have no name inside the grader's pod, so nbgrader cannot compare the owner
# of a submission with the name on it. The per-user UIDs still keep submissions apart.
c.ExchangeCollect.check_owner = False
