"""Global nbgrader settings for every account on the course's JupyterHub.

Install as ``<course environment>/etc/jupyter/nbgrader_config.py`` (setup-course.sh does
this; ``/etc/jupyter/nbgrader_config.py`` works too). Students fetch and submit through the
shared exchange, and nbgrader asks JupyterHub which courses a user belongs to: hub groups
``nbgrader-<course id>`` (students) and ``formgrade-<course id>`` (instructors).

The grader's course folder has its own nbgrader_config.py (the repository's, with the
course id appended by setup-course.sh); nbgrader reads it after this file, so it wins there.
The two environment variables are set by jupyterhub_config.py for every server it starts;
the defaults are the production paths.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

course_id = os.environ.get("COURSE_HUB_COURSE_ID", "mesotherapy")

c.CourseDirectory.course_id = course_id
c.NbGrader.course_titles = {course_id: "Mesotherapy for practitioners"}

# One exchange shared by all users; one folder per course inside it.
c.Exchange.root = os.environ.get("COURSE_HUB_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True

# Who may fetch and submit is decided by the hub's groups, not by a local list.
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
