"""JupyterHub on one machine for the mesotherapy course, with nbgrader's exchange.

This is nbgrader's "one class, multiple graders" setup (nbgrader docs, "Using nbgrader with
JupyterHub"), written for JupyterHub 5 roles and scopes:

* A shared Unix account, ``grader-mesotherapy``, owns the course folder. It runs the
  formgrader as a hub-managed service named after the course id, ``mesotherapy``.
  nbgrader's course list finds a course's formgrader by that name.
* Hub group ``formgrade-mesotherapy`` holds the instructors, who may open the service.
  Hub group ``nbgrader-mesotherapy`` holds the students. nbgrader's JupyterHubAuthPlugin
  lets only members of the course's groups fetch and submit.
* Each single-user server runs under its user's own Unix account (LocalProcessSpawner).
  The exchange's Unix permissions keep a student's work away from the other students.
* Servers carry only the student-side nbgrader extensions (assignment list, validate).
  setup-course.sh turns the instructor-side ones off in the course environment, then
  turns the formgrader back on for the formgrader service alone.

The formgrader cannot be shown inside JupyterLab: JupyterHub 4.1 and later send
``Content-Security-Policy: frame-ancestors 'none'``, so nbgrader's iframe stays blank
(nbgrader #1870). Instructors open it in its own tab at /services/mesotherapy/formgrader.
Loosening the CSP for every user is not worth it.

Settings that differ between machines come from environment variables. The defaults are
the production paths. tests/hub starts this file on loopback with throwaway accounts.

    COURSE_HUB_COURSE_ID     course id, service name, group suffix   mesotherapy
    COURSE_HUB_ENV           course environment (a venv prefix)      /opt/mesotherapy
    COURSE_HUB_EXCHANGE      nbgrader exchange root                  /srv/nbgrader/exchange
    COURSE_HUB_ROSTER        instructors.txt and students.txt        /srv/nbgrader/roster
    COURSE_HUB_STATE         hub database, cookie secret, proxy pid  /srv/jupyterhub
    COURSE_HUB_GRADER        shared grader account                   grader-<course id>
    COURSE_HUB_SERVICE_PORT  loopback port of the formgrader         9999
    COURSE_HUB_BIND_URL      public address of the hub               http://127.0.0.1:8000

The hub runs as root, because PAM and LocalProcessSpawner need root to switch users. Put
a TLS reverse proxy in front of it (see README.md).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

COURSE_ID = os.environ.get("COURSE_HUB_COURSE_ID", "mesotherapy")
COURSE_ENV = Path(os.environ.get("COURSE_HUB_ENV", "/opt/mesotherapy"))
EXCHANGE = os.environ.get("COURSE_HUB_EXCHANGE", "/srv/nbgrader/exchange")
ROSTER = Path(os.environ.get("COURSE_HUB_ROSTER", "/srv/nbgrader/roster"))
STATE = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))
GRADER = os.environ.get("COURSE_HUB_GRADER", f"grader-{COURSE_ID}")
SERVICE_PORT = int(os.environ.get("COURSE_HUB_SERVICE_PORT", "9999"))

INSTRUCTOR_GROUP = f"formgrade-{COURSE_ID}"
STUDENT_GROUP = f"nbgrader-{COURSE_ID}"
SINGLEUSER = str(COURSE_ENV / "bin" / "jupyterhub-singleuser")


def roster(name: str) -> list[str]:
    """Unix user names in ROSTER/name: one per line; blank lines and # comments ignored."""
    path = ROSTER / name
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


INSTRUCTORS = roster("instructors.txt")
STUDENTS = roster("students.txt")

# What every course process needs. nbgrader_config.py reads the first two.
COURSE_ENVIRONMENT = {
    "COURSE_HUB_COURSE_ID": COURSE_ID,
    "COURSE_HUB_EXCHANGE": EXCHANGE,
    "PATH": f"{COURSE_ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}

# --- the hub -------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# Real Unix accounts: PAM checks the password (the default authenticator).
c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS)

# --- single-user servers: one process per user, under that user's Unix account ---------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [SINGLEUSER]
c.Spawner.default_url = "/lab"
c.Spawner.environment = dict(COURSE_ENVIRONMENT)
c.Spawner.http_timeout = 60

# --- groups: nbgrader reads course membership from these names ------------------------
# The grader account is in the instructor group too (as in nbgrader's multiple-classes demo):
# the formgrader asks the hub for its own account's courses before every action, and fails
# if that account is missing from the hub (nbgrader #1872). PAM still refuses it a login:
# create it without a password.
c.JupyterHub.load_groups = {
    INSTRUCTOR_GROUP: {"users": [GRADER, *INSTRUCTORS]},
    STUDENT_GROUP: {"users": STUDENTS},
}

# --- the formgrader: a shared notebook server run by the grader account -----------------
c.JupyterHub.services = [
    {
        "name": COURSE_ID,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": [SINGLEUSER],
        "user": GRADER,
        # The course folder (made by setup-course.sh): its nbgrader_config.py is read from here.
        "cwd": str(Path("~" + GRADER).expanduser() / COURSE_ID),
        "environment": {
            **COURSE_ENVIRONMENT,
            # setup-course.sh enables the formgrader extension here, for this server only.
            "JUPYTER_CONFIG_PATH": str(COURSE_ENV / "etc" / "jupyter-formgrader"),
            # The formgrader opens in its own tab (nbgrader #1870).
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        },
        "oauth_no_confirm": True,
        "display": True,
    }
]

# --- roles (JupyterHub 4 and 5) ----------------------------------------------------------
c.JupyterHub.load_roles = [
    {
        # Instructors may use the formgrader and see it in the services list.
        "name": INSTRUCTOR_GROUP,
        "groups": [INSTRUCTOR_GROUP],
        "scopes": [
            f"access:services!service={COURSE_ID}",
            "list:services",
            f"read:services!service={COURSE_ID}",
        ],
    },
    {
        # Students may discover the course's service but not open it.
        "name": STUDENT_GROUP,
        "groups": [STUDENT_GROUP],
        "scopes": ["list:services", f"read:services!service={COURSE_ID}"],
    },
    {
        # A server's own token: nbgrader reads its owner's groups (who is in which course)
        # and the course list reads the services. The nbgrader demos use "inherit", which
        # hands every server its owner's full rights; this list is what nbgrader needs.
        "name": "server",
        "scopes": [
            "users:activity!user",
            "access:servers!server",
            "read:users:name!user",
            "read:users:groups!user",
            "list:services",
            "read:services",
        ],
    },
    {
        # The formgrader reads its own account's groups (see load_groups) and adds a
        # student it grades to the student group. It may change that group only.
        "name": f"{COURSE_ID}-formgrader",
        "services": [COURSE_ID],
        "scopes": [
            f"read:users:name!user={GRADER}",
            f"read:users:groups!user={GRADER}",
            f"list:groups!group={STUDENT_GROUP}",
            f"groups!group={STUDENT_GROUP}",
        ],
    },
]
