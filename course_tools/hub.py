"""The kit's course on JupyterHub, on one machine: accounts, environment, course, exchange.

Run as root, on a machine you can give to the course (it creates Unix accounts)::

    python -m course_tools.hub demo                # prepare, then start the hub on 127.0.0.1:8000
    python -m course_tools.hub demo --students 30  # instructor1, student1 ... student30
    python -m course_tools.hub --help              # names, paths and ports
    python -m course_tools.hub prepare             # the same without starting it

What ``prepare`` does, each step safe to repeat:

1. **Accounts**: the grader ``grader-minigrad-kit`` (owns the course, runs the Formgrader),
   the instructors and the students, each with a private home (0700) and a password
   (printed, and kept in ``STATE/private/passwords.txt``, readable by root only).
2. **One Python environment for every account** (``/opt/minigrad-kit/env``): a virtual
   environment of a Python every account may run, with binder/requirements.txt, JupyterHub
   and the kit installed as a package. It is rebuilt only when those change.
3. **The course directory** of the grader: the problem sets' sources (``solutions/``) and the
   kit's ``nbgrader_config.py``, which grades in the sandbox, pointed at the hub's exchange.
4. **The exchange** (``/srv/nbgraderexchange``, mode 1777; the course's folders in it, owned by
   the grader, with a sticky ``inbound``: see :data:`EXCHANGE_FOLDERS`) and the users' Jupyter
   configuration: the student set-up of ``binder/jupyter_config`` and
   ``deploy/jupyterhub/nbgrader_config.py``; the grader's adds the Formgrader.

``demo`` then runs ``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py`` with the
settings of :func:`hub_environment`. See docs/jupyterhub.md for a real course.
"""

import argparse
import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
COURSE = "minigrad-kit"
HUB_CONFIG = KIT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
USERS_NBGRADER_CONFIG = KIT / "deploy" / "jupyterhub" / "nbgrader_config.py"
JUPYTERHUB_PIN = "jupyterhub==6.1.0"


@dataclass
class Course:
    """Where one hub course lives and who is in it."""
    instructors: list = field(default_factory=lambda: ["instructor1"])
    students: list = field(default_factory=lambda: ["student1", "student2", "student3"])
    grader: str = f"grader-{COURSE}"
    env: Path = Path("/opt/minigrad-kit/env")
    state: Path = Path("/srv/minigrad-kit/hub")
    exchange: Path = Path("/srv/nbgraderexchange")
    ip: str = "127.0.0.1"
    port: int = 8000
    formgrader_port: int = 9999
    internal_port: int = 8081       # the hub itself, behind its proxy
    proxy_api_port: int = 8001

    @property
    def course_root(self):
        return Path(pwd.getpwnam(self.grader).pw_dir) / COURSE


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ------------------------------------------------------------------------------ accounts

def ensure_account(name, password=None):
    """A Unix account ``name`` with a private home; sets ``password`` when given."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/bash", name])
    home = pwd.getpwnam(name).pw_dir
    os.chmod(home, 0o700)
    if password is not None:
        _run(["chpasswd"], input=f"{name}:{password}\n", text=True)
    return home


def as_user(name, cmd, **kw):
    """Run ``cmd`` as the account ``name`` (a login-less runuser: its own HOME, no root)."""
    home = pwd.getpwnam(name).pw_dir
    env = {"HOME": home, "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
           "PATH": kw.pop("path", "/usr/bin:/bin"), **kw.pop("env", {})}
    return subprocess.run(["runuser", "-u", name, "--", "env", "-i",
                           *(f"{k}={v}" for k, v in env.items()), *cmd], **kw)


# --------------------------------------------------------------------------- environment

def _python_for_everyone():
    """A Python >= 3.11 that an unprivileged account can run: this one when it can, else the
    system's. (A Python under /root, such as pyenv's, is out of every other account's reach.)"""
    nobody = "nobody"
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        real = os.path.realpath(candidate)
        if not os.path.exists(real):
            continue
        probe = as_user(nobody, [real, "-c", "import sys, venv; assert sys.version_info >= (3, 11)"],
                        capture_output=True)
        if probe.returncode == 0:
            return real
    raise SystemExit("No Python >= 3.11 (with venv) that every account can run: "
                     "apt-get install -y python3-venv")


def _kit_fingerprint():
    """What the shared environment is built from: the pins and the kit's package files."""
    digest = hashlib.sha256(JUPYTERHUB_PIN.encode())
    files = [KIT / "binder" / "requirements.txt", KIT / "pyproject.toml"]
    for package in ("minigrad", "course_tools"):
        files += sorted(p for p in (KIT / package).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(KIT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment(env, log=print):
    """The environment every account runs; built (or rebuilt) only when the kit changed."""
    env = Path(env)
    stamp = env / "minigrad-kit.fingerprint"
    fingerprint = _kit_fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint and (env / "bin" / "jupyterhub-singleuser").exists():
        log(f"environment: {env} is up to date")
        return env
    python = _python_for_everyone()
    log(f"environment: building {env} from {python} (a few minutes the first time)")
    if env.exists():
        shutil.rmtree(env)
    env.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(env.parent, 0o755)
    _run([python, "-m", "venv", str(env)])
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "-r", str(KIT / "binder" / "requirements.txt"), JUPYTERHUB_PIN])
    # The kit as a package (not editable: the clone may be where other accounts cannot read).
    build = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(KIT, build / "kit", ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "__pycache__", "*.egg-info", "build", "exchange", "tests"))
        _run([*pip, "--no-deps", str(build / "kit")])
    finally:
        shutil.rmtree(build, ignore_errors=True)
    _run(["chmod", "-R", "a+rX", str(env)])
    stamp.write_text(fingerprint)
    return env


# ----------------------------------------------------------------- course, exchange, config

HUB_BLOCK = '''
# ---- On the course's JupyterHub (written by python -m course_tools.hub) -------------------
# The exchange every account reaches, instead of exchange/ beside this file.
c.Exchange.root = os.environ.get("MINIGRAD_EXCHANGE", "{exchange}")
# Submissions only from the account each is named after (course_tools/exchange.py).
c.ExchangeFactory.collect = "course_tools.exchange.OwnedCollect"
'''


def ensure_course(course, log=print):
    """The grader's course directory: the sources of the problem sets and the kit's config."""
    root = course.course_root
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(KIT / "solutions", root / "solutions", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    config = (KIT / "nbgrader_config.py").read_text() + HUB_BLOCK.format(exchange=course.exchange)
    (root / "nbgrader_config.py").write_text(config)
    user = pwd.getpwnam(course.grader)
    _run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(root)])
    log(f"course: {root} (owned by {course.grader})")
    return root


# The course's folders in the exchange, made before nbgrader would make them, owned by the
# grader, so that inbound/ can have the sticky bit nbgrader does not give it: without it, a
# student who learns the name of another's submission can rename it to a name of their own
# (a rename needs write access to inbound/ only), and collect then files it as theirs.
EXCHANGE_FOLDERS = {
    "": 0o755,
    "outbound": 0o755,          # released problem sets: everyone reads
    "inbound": 0o3733,          # submissions: everyone adds, nobody lists, only the owner renames
    "feedback": 0o711,          # feedback pages: reachable only by a name hashed from the submission
}


def ensure_exchange(course):
    course.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(course.exchange, 0o1777)
    user = pwd.getpwnam(course.grader)
    for name, mode in EXCHANGE_FOLDERS.items():
        folder = course.exchange / COURSE / name
        folder.mkdir(exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chmod(folder, mode)


def write_user_config(course):
    """STATE/jupyter_config for every user, STATE/grader_config for the Formgrader, and the
    private folder of the hub's database and secrets."""
    state = course.state
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)
    (state / "private").mkdir(exist_ok=True)
    os.chmod(state / "private", 0o700)
    users = state / "jupyter_config"
    if users.exists():
        shutil.rmtree(users)
    shutil.copytree(KIT / "binder" / "jupyter_config", users)
    shutil.copy(USERS_NBGRADER_CONFIG, users / "nbgrader_config.py")
    grader = state / "grader_config"
    if grader.exists():
        shutil.rmtree(grader)
    grader.mkdir()
    shutil.copy(USERS_NBGRADER_CONFIG, grader / "nbgrader_config.py")
    (grader / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
        "jpserver_extensions": {"nbgrader.server_extensions.formgrader": True,
                                "nbgrader.server_extensions.course_list": False}}}, indent=2))
    _run(["chmod", "-R", "a+rX", str(users), str(grader)])


def hub_environment(course, api_token=None):
    """The variables deploy/jupyterhub/jupyterhub_config.py reads."""
    env = {
        "MINIGRAD_HUB_ENV": str(course.env),
        "MINIGRAD_HUB_STATE": str(course.state),
        "MINIGRAD_GRADER": course.grader,
        "MINIGRAD_COURSE_ROOT": str(course.course_root),
        "MINIGRAD_EXCHANGE": str(course.exchange),
        "MINIGRAD_INSTRUCTORS": ",".join(course.instructors),
        "MINIGRAD_STUDENTS": ",".join(course.students),
        "MINIGRAD_HUB_IP": course.ip,
        "MINIGRAD_HUB_PORT": str(course.port),
        "MINIGRAD_FORMGRADER_PORT": str(course.formgrader_port),
        "MINIGRAD_HUB_INTERNAL_PORT": str(course.internal_port),
        "MINIGRAD_PROXY_API_PORT": str(course.proxy_api_port),
    }
    if api_token:
        env["MINIGRAD_HUB_API_TOKEN"] = api_token
    return env


def hub_command(course):
    """The command that starts the hub (run it in course.state/private, as root)."""
    return [str(course.env / "bin" / "jupyterhub"), "-f", str(HUB_CONFIG)]


def stop_proxy(course):
    """Stop the hub's proxy if it outlived the hub (JupyterHub starts it in a session of its
    own, and a hub that is killed, not stopped, leaves it running)."""
    pid_file = course.state / "private" / "proxy.pid"
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"configurable-http-proxy" in command:
        os.kill(pid, 15)
    pid_file.unlink(missing_ok=True)


def prepare(course, passwords=None, log=print):
    """Everything but starting the hub. Returns {account: password} of the new passwords."""
    if os.geteuid() != 0:
        raise SystemExit("python -m course_tools.hub needs root: it creates Unix accounts and "
                         "starts single-user servers as them")
    if shutil.which("configurable-http-proxy") is None:
        raise SystemExit("configurable-http-proxy is missing: apt-get install -y "
                         "node-configurable-http-proxy (or npm install -g configurable-http-proxy)")
    passwords = dict(passwords or {})
    for name in [*course.instructors, *course.students]:
        passwords.setdefault(name, secrets.token_urlsafe(9))
    ensure_account(course.grader)
    for name in [*course.instructors, *course.students]:
        ensure_account(name, passwords[name])
    log(f"accounts: grader {course.grader}; instructors {', '.join(course.instructors)}; "
        f"students {', '.join(course.students)}")
    ensure_environment(course.env, log=log)
    ensure_course(course, log=log)
    ensure_exchange(course)
    write_user_config(course)
    saved = course.state / "private" / "passwords.txt"
    saved.write_text("".join(f"{n} {p}\n" for n, p in passwords.items()))
    os.chmod(saved, 0o600)
    log(f"exchange: {course.exchange}; hub state: {course.state}")
    return passwords


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_tools.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["demo", "prepare"])
    defaults = Course()
    parser.add_argument("--students", type=int, default=3, help="how many students (default 3)")
    parser.add_argument("--student-prefix", default="student",
                        help="students are PREFIX1, PREFIX2, ... (default: student)")
    parser.add_argument("--instructor", default="instructor1")
    parser.add_argument("--grader", default=defaults.grader)
    parser.add_argument("--ip", default=defaults.ip,
                        help="where the hub listens (keep 127.0.0.1 behind an HTTPS proxy)")
    parser.add_argument("--port", type=int, default=defaults.port)
    for name in ("internal_port", "proxy_api_port", "formgrader_port"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    parser.add_argument("--env", type=Path, default=defaults.env)
    parser.add_argument("--state", type=Path, default=defaults.state)
    parser.add_argument("--exchange", type=Path, default=defaults.exchange)
    args = parser.parse_args(argv)
    course = Course(instructors=[args.instructor],
                    students=[f"{args.student_prefix}{i}" for i in range(1, args.students + 1)],
                    grader=args.grader, env=args.env, state=args.state, exchange=args.exchange,
                    ip=args.ip, port=args.port, internal_port=args.internal_port,
                    proxy_api_port=args.proxy_api_port, formgrader_port=args.formgrader_port)
    passwords = prepare(course)
    print(f"\nlog-ins (also in {course.state / 'private' / 'passwords.txt'}):")
    for name, password in passwords.items():
        print(f"  {name:<16} {password}")
    env_vars = hub_environment(course)
    if args.action == "prepare":
        print("\nstart it, as root, with:\n  cd", course.state / "private", "&&",
              " ".join(f"{k}={v}" for k, v in env_vars.items()), " ".join(hub_command(course)))
        return 0
    url = f"http://{course.ip}:{course.port}"
    print(f"\nJupyterHub: {url}/  (students log in there and find ps1 ... ps5 in the Assignment "
          f"List once released)\nFormgrader: {url}/services/{COURSE}/formgrader  (the instructor: "
          "Generate, then Release a problem set)\nCtrl-C stops the hub.\n", flush=True)
    try:
        return subprocess.call(hub_command(course), cwd=course.state / "private",
                               env=dict(os.environ, **env_vars))
    except KeyboardInterrupt:
        return 0
    finally:
        stop_proxy(course)


if __name__ == "__main__":
    sys.exit(main())
