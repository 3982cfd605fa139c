# JupyterHub configuration for one course of the minigrad kit (course id `minigrad-kit`),
# after nbgrader's "Using nbgrader with JupyterHub" (one course, instructors grading through
# a Formgrader that a grader account runs as a hub service). JupyterHub 6.1, with the proxy
# configurable-http-proxy (Debian's node-configurable-http-proxy or npm's).
#
# `python -m course_tools.hub demo` prepares a machine for it and starts it; docs/jupyterhub.md
# says what each piece is and how a real course changes it. Every setting below can be given
# by an environment variable, so the same file serves the demo, the tests and a course:
#
#   MINIGRAD_HUB_ENV          the Python environment every account runs (the kit installed)
#   MINIGRAD_HUB_STATE        the hub's own folder: its database, secrets, the users' config
#   MINIGRAD_GRADER           the account that owns the course and runs the Formgrader
#   MINIGRAD_COURSE_ROOT      the course directory (solutions/, gradebook.db, nbgrader_config.py)
#   MINIGRAD_EXCHANGE         nbgrader's exchange, a folder every account reaches
#   MINIGRAD_INSTRUCTORS      comma-separated accounts who reach the Formgrader (hub admins)
#   MINIGRAD_STUDENTS         comma-separated accounts allowed to log in as students
#   MINIGRAD_HUB_IP, MINIGRAD_HUB_PORT      where users reach the hub (its proxy)
#   MINIGRAD_HUB_INTERNAL_PORT, MINIGRAD_PROXY_API_PORT, MINIGRAD_FORMGRADER_PORT
#                             ports on 127.0.0.1 for the hub, the proxy's API, the Formgrader
#   MINIGRAD_HUB_API_TOKEN    optional: a token for scripts (roster sync, the kit's tests),
#                             given the hub's admin role
import os

c = get_config()  # noqa: F821

COURSE = "minigrad-kit"
ENV = os.environ.get("MINIGRAD_HUB_ENV", "/opt/minigrad-kit/env")
STATE = os.environ.get("MINIGRAD_HUB_STATE", "/srv/minigrad-kit/hub")
GRADER = os.environ.get("MINIGRAD_GRADER", f"grader-{COURSE}")
COURSE_ROOT = os.environ.get("MINIGRAD_COURSE_ROOT", f"/home/{GRADER}/{COURSE}")
INSTRUCTORS = [u for u in os.environ.get("MINIGRAD_INSTRUCTORS", "instructor1").split(",") if u]
STUDENTS = [u for u in os.environ.get("MINIGRAD_STUDENTS", "").split(",") if u]
EXCHANGE = os.environ.get("MINIGRAD_EXCHANGE", "/srv/nbgraderexchange")
SERVICE_PORT = int(os.environ.get("MINIGRAD_FORMGRADER_PORT", "9999"))
PATH = f"{ENV}/bin:/usr/local/bin:/usr/bin:/bin"

# ---- The hub and its proxy: on this machine only, behind your HTTPS front end -------------
c.JupyterHub.ip = os.environ.get("MINIGRAD_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("MINIGRAD_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("MINIGRAD_HUB_INTERNAL_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('MINIGRAD_PROXY_API_PORT', '8001')}"
# The database, cookie secret and proxy token stay in a folder only root can enter.
c.JupyterHub.db_url = f"sqlite:///{STATE}/private/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{STATE}/private/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = f"{STATE}/private/jupyterhub.pid"
c.ConfigurableHTTPProxy.command = ["configurable-http-proxy"]
# Debian's package keeps its node modules in /usr/share/nodejs, where Debian's nodejs looks and
# a nodejs from elsewhere (NodeSource's, say) does not; the proxy inherits this variable.
if os.path.isdir("/usr/share/nodejs"):
    os.environ["NODE_PATH"] = os.pathsep.join(
        filter(None, [os.environ.get("NODE_PATH"), "/usr/share/nodejs"]))
c.ConfigurableHTTPProxy.pid_file = f"{STATE}/private/proxy.pid"

# ---- Who may log in: Unix accounts through PAM (a real course: see docs/jupyterhub.md) ----
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS)
c.Authenticator.admin_users = set(INSTRUCTORS)    # hub admins: they start and stop servers

# ---- Every user's own server: the kit's environment, the student set-up ------------------
# The set-up is the one Binder gets (binder/jupyter_config: the Assignment List and Validate,
# no instructor tools), plus nbgrader_config.py naming the course and its exchange; the
# demo copies both into STATE/jupyter_config. Students grade nothing on the hub: the
# Formgrader below is the only place grading happens.
c.Spawner.cmd = [f"{ENV}/bin/jupyterhub-singleuser"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {"PATH": PATH, "JUPYTER_CONFIG_PATH": f"{STATE}/jupyter_config",
                         "MINIGRAD_EXCHANGE": EXCHANGE}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# ---- The course: instructors reach the grader's Formgrader; students are in the course ----
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": INSTRUCTORS},
    f"nbgrader-{COURSE}": {"users": STUDENTS},
}
c.JupyterHub.load_roles = [
    {"name": f"formgrade-{COURSE}", "groups": [f"formgrade-{COURSE}"],
     "scopes": [f"access:services!service={COURSE}"]},
]

# The Formgrader: a Jupyter server of the grader account, in the course directory, whose
# nbgrader_config.py grades every submission in the kit's sandbox (course_tools/sandbox.py).
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": [f"{ENV}/bin/jupyterhub-singleuser", f"--ServerApp.root_dir={COURSE_ROOT}"],
        "user": GRADER,
        "cwd": COURSE_ROOT,
        "environment": {"PATH": PATH, "JUPYTER_CONFIG_PATH": f"{STATE}/grader_config",
                        "MINIGRAD_EXCHANGE": EXCHANGE,
                        "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
        "oauth_no_confirm": True,
    },
]

API_TOKEN = os.environ.get("MINIGRAD_HUB_API_TOKEN")
if API_TOKEN:
    c.JupyterHub.services.append({"name": f"{COURSE}-api", "api_token": API_TOKEN})
    c.JupyterHub.load_roles.append({"name": "admin", "services": [f"{COURSE}-api"]})
