"""Open the kit in JupyterLab as students get it on Binder.

    .venv/bin/python -m course_tools.lab [more jupyter lab options, e.g. --no-browser]

JupyterLab serves the kit's root (so that lectures/ and assignments/ are both in the file
browser) and opens the first lecture. It reads the student set-up that binder/postBuild
installs on Binder, binder/jupyter_config/: no instructor tools, no news or update popups.
Instructors who want the Formgrader run plain ``.venv/bin/jupyter lab`` instead.

As root (a container, a fresh cloud machine) it adds ``--allow-root``, which JupyterLab
demands there and refuses to start without.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
STUDENT_CONFIG = KIT / "binder" / "jupyter_config"
FIRST_LECTURE = "lectures/01_chain_rule.ipynb"


def command(args: list[str], euid: int) -> list[str]:
    """The ``jupyter lab`` command line for these extra arguments and this user id."""
    line = [
        sys.executable, "-m", "jupyter", "lab",
        f"--ServerApp.root_dir={KIT}",
        # The page a browser lands on, from the printed URL too, is the first lecture.
        f"--LabApp.default_url=/lab/tree/{FIRST_LECTURE}",
    ]
    if euid == 0 and "--allow-root" not in args:
        line.append("--allow-root")
    return line + list(args)


def environment(base: dict[str, str]) -> dict[str, str]:
    """``base`` with the student set-up first on Jupyter's configuration path."""
    env = dict(base)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(STUDENT_CONFIG)] + ([rest] if rest else []))
    return env


def main(args: list[str] | None = None) -> None:
    line = command(sys.argv[1:] if args is None else args, os.geteuid())
    os.chdir(KIT)
    os.execve(line[0], line, environment(dict(os.environ)))


if __name__ == "__main__":
    main()
