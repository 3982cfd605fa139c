# JupyterHub configuration for one course of the minigrad kit (course id `minigrad-kit`),
# following nbgrader's "Using nbgrader with JupyterHub" multi-user set-up.
#
# Accounts (Unix users, PAM login by default; see docs/jupyterhub.md for OAuth):
#   grader-minigrad-kit   owns the course directory and runs the Formgrader service
#   instructors           members of the hub group `formgrade-minigrad-kit`
#   students              everyone else in the `nbgrader-minigrad-kit` group
#
# The exchange (default /srv/nbgraderexchange) must exist with mode 0777 (nbgrader's
# documented permissions); students' inbound submissions are then made unreadable to other
# students by nbgrader itself (files 0600-ish, directory names carry the student id).
#
# Untested here: this file has not been started by the kit's tests yet (see docs/jupyterhub.md).
import os

c = get_config()  # noqa: F821

COURSE = "minigrad-kit"
GRADER = os.environ.get("MINIGRAD_GRADER", f"grader-{COURSE}")
COURSE_ROOT = os.environ.get("MINIGRAD_COURSE_ROOT", f"/home/{GRADER}/{COURSE}")
INSTRUCTORS = os.environ.get("MINIGRAD_INSTRUCTORS", "instructor1").split(",")
STUDENTS = [s for s in os.environ.get("MINIGRAD_STUDENTS", "").split(",") if s]
SERVICE_PORT = int(os.environ.get("MINIGRAD_FORMGRADER_PORT", "9999"))

c.JupyterHub.ip = os.environ.get("MINIGRAD_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("MINIGRAD_HUB_PORT", "8000"))
c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS + [GRADER])
c.Authenticator.admin_users = set(INSTRUCTORS)

c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": INSTRUCTORS + [GRADER]},
    f"nbgrader-{COURSE}": {"users": STUDENTS},
}

c.JupyterHub.load_roles = [
    {   # instructors reach the Formgrader service
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [f"access:services!service={COURSE}"],
    },
    {   # the course list of nbgrader asks the hub who is in which course
        "name": "server",
        "scopes": ["inherit"],
    },
]

# The Formgrader: a single-user server run by the grader account in the course directory.
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": ["jupyter-server", f"--ServerApp.port={SERVICE_PORT}",
                    "--ServerApp.ip=127.0.0.1", "--SingleUserNotebookApp.default_url=/formgrader",
                    f"--ServerApp.root_dir={COURSE_ROOT}"],
        "user": GRADER,
        "cwd": COURSE_ROOT,
        "environment": {"JUPYTERHUB_SERVICE_PREFIX": f"/services/{COURSE}/"},
        "oauth_no_confirm": True,
    },
]

c.Spawner.default_url = "/lab"
