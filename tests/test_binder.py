"""The Binder launch: the files in ``binder/`` as repo2docker reads them, and a fresh
environment built from nothing but those files, as Binder builds it (without Docker).

The fresh environment takes about a minute to build with a warm pip cache; its size and
build time are written to ``tests/artifacts/binder_env.json``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
ARTIFACTS = ROOT / "tests" / "artifacts"

# repo2docker reads config from binder/ (or .binder/) and ignores the root once one exists;
# any of these files in it would change how the image is built.
OTHER_BUILD_FILES = [
    "Dockerfile", "environment.yml", "Pipfile", "Pipfile.lock", "setup.py", "pyproject.toml",
    "requirements3.txt", "install.R", "DESCRIPTION", "Project.toml", "REQUIRE", "apt.txt",
    "default.nix", "start",
]
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.!+_-]+$")

STUDENT_LAB_PLUGINS = ["@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"]
INSTRUCTOR_LAB_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
STUDENT_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
]
INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------
# The files, as repo2docker reads them
# ---------------------------------------------------------------------------------------

def test_one_binder_folder_with_the_three_files_and_no_dockerfile():
    assert BINDER.is_dir()
    assert not (ROOT / ".binder").exists(), "repo2docker refuses a repository with both binder/ and .binder/"
    assert not (ROOT / "Dockerfile").exists() and not (BINDER / "Dockerfile").exists()
    present = sorted(p.name for p in BINDER.iterdir())
    # jupyter_config/ is the student set-up (read by postBuild and course_tools.lab), not a
    # file repo2docker looks at.
    assert present == ["jupyter_config", "postBuild", "requirements.txt", "runtime.txt"], (
        f"binder/ holds {present}; other build files change the image ({OTHER_BUILD_FILES})")


def test_binder_requirements_are_the_kits_pins_without_the_local_package():
    binder = requirement_lines(BINDER / "requirements.txt")
    assert binder, "binder/requirements.txt is empty"
    for line in binder:
        assert PIN.match(line), f"binder/requirements.txt: {line!r} is not pinned with =="
    # A local path here would make repo2docker rebuild this layer on every commit.
    root = [line for line in requirement_lines(ROOT / "requirements.txt")
            if not line.startswith(("-e", "--editable"))]
    assert sorted(binder) == sorted(root), (
        "binder/requirements.txt and requirements.txt must pin the same packages:\n"
        f"only in binder/: {sorted(set(binder) - set(root))}\n"
        f"only in requirements.txt: {sorted(set(root) - set(binder))}")


def test_runtime_is_the_python_the_kit_is_tested_on():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    assert (sys.version_info.major, sys.version_info.minor) == (3, 11), (
        f"binder/runtime.txt says {runtime} but the tests run on {sys.version.split()[0]}")


def test_postbuild_is_an_executable_script_that_stops_on_errors_and_installs_the_kit():
    post_build = BINDER / "postBuild"
    text = post_build.read_text()
    assert text.startswith("#!"), "postBuild needs a shebang line"
    assert post_build.stat().st_mode & stat.S_IXUSR, "postBuild must be executable (chmod +x)"
    assert re.search(r"^set -[a-z]*e", text, re.MULTILINE), "postBuild must `set -e`"
    assert re.search(r"^\s*(python -m )?pip install .*(-e|--editable) \.\s*$", text, re.MULTILINE), (
        "postBuild must install the kit with `pip install -e .`")
    mode = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT,
                          capture_output=True, text=True).stdout.split()
    if mode:  # tracked: the executable bit must be in the commit, not only on this disk
        assert mode[0] == "100755", f"git stores binder/postBuild with mode {mode[0]}"


BINDER_LINK = re.compile(
    r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/([\w.-]+)/?\?urlpath=lab/tree/([^)\s\"'>]+)")
BADGE = re.compile(r"\[!\[[^\]]*\]\(https://mybinder\.org/badge_logo\.svg\)\]\((https://mybinder[^)]+)\)")


def test_readme_opens_the_first_lecture_and_every_problem_set_on_binder():
    readme = (ROOT / "README.md").read_text()
    badge = BADGE.search(readme)
    assert badge, "README.md needs a Binder badge (see docs/binder.md for the text)"
    links = BINDER_LINK.findall(readme)
    assert len({(repo, ref) for repo, ref, _ in links}) == 1, (
        f"the Binder links point at different repositories or refs: {links}")
    targets = [urllib.parse.unquote(path) for _, _, path in links]
    for target in targets:
        assert (ROOT / target).is_file(), f"README.md links to {target} on Binder, which does not exist"

    first_lecture = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "lectures").glob("*.ipynb"))[0]
    badge_target = urllib.parse.unquote(BINDER_LINK.search(badge.group(1)).group(3))
    assert badge_target == first_lecture, f"the badge opens {badge_target}, not {first_lecture}"
    problem_sets = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "assignments").glob("*/*.ipynb"))
    assert problem_sets, "no student notebooks found in assignments/<ps>/"
    missing = [ps for ps in problem_sets if ps not in targets]
    assert not missing, f"README.md has no Binder link for {missing}"


def test_every_binder_link_points_at_the_repository_named_in_pyproject():
    import tomllib

    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["minigrad-kit"]["repository"]
    found = {}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for repo, _, _ in BINDER_LINK.findall(path.read_text()):
            found.setdefault(repo, set()).add(path.relative_to(ROOT).as_posix())
    assert found, "no Binder links found"
    assert set(found) == {repository}, (
        f"pyproject.toml names {repository!r}, the Binder links use {found}")
    if os.environ.get("MINIGRAD_RELEASE") == "1":
        assert not repository.startswith("OWNER/"), (
            "a release needs the real GitHub repository in pyproject.toml [tool.minigrad-kit] "
            "and in every Binder link, not the placeholder OWNER")


# ---------------------------------------------------------------------------------------
# A fresh environment from binder/ alone
# ---------------------------------------------------------------------------------------

def _clean_env(venv: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MPLBACKEND", "PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "PYTHONHOME")}
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pip"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}",
        VIRTUAL_ENV=str(venv),
        # A home of its own, as the Binder user has, but the machine's pip cache.
        HOME=str(home),
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(cache)),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
    )
    return env


def _run(command, cwd, env, timeout=600) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return ANSI.sub("", result.stdout + result.stderr)


def _size_mb(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if not p.is_symlink() and p.is_file())
    return total / 1e6


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    """A copy of the kit and a venv made only from binder/requirements.txt and binder/postBuild."""
    base = tmp_path_factory.mktemp("binder")
    kit = base / "kit"
    shutil.copytree(ROOT, kit, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "__pycache__", "*.egg-info", ".pytest_cache",
        ".ipynb_checkpoints", "artifacts", "build", "dist"))
    venv = base / "venv"
    env = _clean_env(venv, base / "home")
    python3 = shutil.which("python3") or sys.executable

    start = time.monotonic()
    _run([python3, "-m", "venv", str(venv)], cwd=kit, env=env)
    _run([venv / "bin" / "pip", "install", "-q", "-r", "binder/requirements.txt"], cwd=kit, env=env, timeout=900)
    post_build = _run([kit / "binder" / "postBuild"], cwd=kit, env=env)
    seconds = time.monotonic() - start

    figures = {"build_seconds": round(seconds, 1), "venv_megabytes": round(_size_mb(venv))}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "binder_env.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfresh Binder environment: {figures}")
    return {"kit": kit, "venv": venv, "env": env, "post_build": post_build, **figures}


@pytest.mark.timeout(1200)
def test_fresh_environment_imports_minigrad_from_the_kit(binder_env):
    out = _run([binder_env["venv"] / "bin" / "python", "-c",
                "import minigrad, minigrad.numpy; print(minigrad.__file__)"],
               cwd=binder_env["kit"].parent, env=binder_env["env"])
    assert Path(out.strip().splitlines()[-1]).is_relative_to(binder_env["kit"]), (
        f"minigrad was imported from {out.strip()}, not from the kit")


@pytest.mark.timeout(1200)
def test_fresh_environment_imports_nbformat_without_building_grammars(binder_env):
    """jsonschema's rfc3987-syntax builds Lark grammars on import (1.5 s in every process that
    reads a notebook); the pinned jsonschema does not bring it."""
    out = _run([binder_env["venv"] / "bin" / "python", "-c",
                "import sys, nbformat; print(sorted(m for m in sys.modules"
                " if m.split('.')[0] in ('rfc3987_syntax', 'lark')))"],
               cwd=binder_env["kit"].parent, env=binder_env["env"])
    assert out.strip().splitlines()[-1] == "[]", out


@pytest.mark.timeout(1200)
def test_fresh_environment_runs_a_lecture(binder_env):
    lectures = sorted((binder_env["kit"] / "lectures").glob("*.ipynb"))
    assert lectures, "no lecture notebooks found in lectures/"
    out_dir = binder_env["kit"].parent / "executed"
    _run([binder_env["venv"] / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
          "--ExecutePreprocessor.timeout=300", "--output-dir", str(out_dir), str(lectures[0])],
         cwd=binder_env["kit"], env=binder_env["env"])
    executed = json.loads((out_dir / lectures[0].name).read_text())
    code = [c for c in executed["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert code and all(c["execution_count"] for c in code)
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, errors


def _labextensions(binder_env) -> tuple[dict[str, str], list[str]]:
    """`jupyter labextension list` as {extension: its line} and the disabled plugins."""
    out = _run([binder_env["venv"] / "bin" / "jupyter", "labextension", "list"],
               cwd=binder_env["kit"], env=binder_env["env"])
    extensions, disabled, in_disabled = {}, [], False
    for line in out.splitlines():
        words = line.split()
        if line.strip().startswith("Disabled extensions"):
            in_disabled = True
        elif in_disabled and words:
            if line.startswith("    "):
                disabled.append(words[0])
            else:
                in_disabled = False
        elif len(words) >= 3 and words[1].startswith("v"):
            extensions[words[0]] = line
    return extensions, disabled


@pytest.mark.timeout(1200)
def test_fresh_environment_has_widgets_and_the_student_side_of_nbgrader(binder_env):
    extensions, disabled = _labextensions(binder_env)
    for name in ("@jupyter-widgets/jupyterlab-manager", "@jupyter/nbgrader"):
        assert name in extensions, f"{name} missing from `jupyter labextension list`: {extensions}"
        assert re.search(r"\benabled\s+OK\b", extensions[name]), extensions[name]
    for plugin in STUDENT_LAB_PLUGINS:
        assert plugin not in disabled, f"{plugin} is disabled, students need it"
    locked = re.search(r"\(plugins: ([^)]*) locked\)", extensions["@jupyter/nbgrader"])
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        assert plugin in disabled, f"{plugin} is still enabled on Binder (disabled: {disabled})"
        # Locked, so that JupyterLab's plugin manager cannot turn it back on.
        assert locked and plugin in locked.group(1), extensions["@jupyter/nbgrader"]


@pytest.mark.timeout(1200)
def test_fresh_environment_serves_validate_but_not_the_formgrader(binder_env):
    out = _run([binder_env["venv"] / "bin" / "jupyter", "server", "extension", "list"],
               cwd=binder_env["kit"], env=binder_env["env"])
    state = dict(re.findall(r"^\s+(nbgrader\.server_extensions\.\w+) (enabled|disabled)", out, re.MULTILINE))
    for name in STUDENT_SERVER_EXTENSIONS:
        assert state.get(name) == "enabled", f"{name}: {state.get(name)}\n{out}"
    for name in INSTRUCTOR_SERVER_EXTENSIONS:
        assert state.get(name) == "disabled", f"{name}: {state.get(name)}\n{out}"


@pytest.mark.timeout(1200)
def test_fresh_environment_has_no_news_or_update_popups(binder_env):
    # The announcements plugin asks about news and checks for updates: switched off.
    out = _run([binder_env["venv"] / "bin" / "python", "-c",
                "import json; from jupyterlab_server.config import get_static_page_config;"
                "print(json.dumps(get_static_page_config(level='all')))"],
               cwd=binder_env["kit"], env=binder_env["env"])
    page_config = json.loads(out.strip().splitlines()[-1])
    for key in ("disabledExtensions", "lockedExtensions"):
        assert page_config[key].get("@jupyterlab/apputils-extension:announcements") is True, page_config


@pytest.mark.timeout(1200)
def test_fresh_environment_has_the_student_setup_a_local_launch_reads(binder_env):
    # One set-up for Binder and for `python -m course_tools.lab`: postBuild installs the
    # files of binder/jupyter_config/ unchanged.
    prefix_config = binder_env["venv"] / "etc" / "jupyter"
    source = ROOT / "binder" / "jupyter_config"
    files = [p.relative_to(source) for p in source.rglob("*") if p.is_file()]
    assert files
    for relative in files:
        assert (prefix_config / relative).read_text() == (source / relative).read_text(), relative


@pytest.mark.timeout(1200)
def test_fresh_environment_gives_students_an_exchange_they_can_write(binder_env):
    # Without one, nbgrader's Assignment List panel shows an error about a system folder.
    code = ("from nbgrader.apps import NbGrader\n"
            "app = NbGrader(); app.initialize([]); print(app.config.Exchange.root)")
    out = _run([binder_env["venv"] / "bin" / "python", "-c", code],
               cwd=binder_env["kit"], env=binder_env["env"])
    root = Path(out.strip().splitlines()[-1])
    assert root == binder_env["kit"] / "exchange", f"the exchange is {root}"
    assert root.is_dir() and os.access(root, os.W_OK), root
    _run([binder_env["venv"] / "bin" / "nbgrader", "list"], cwd=binder_env["kit"], env=binder_env["env"])


@pytest.mark.timeout(1200)
def test_the_exchange_carries_a_problem_set_from_release_to_collect(binder_env, tmp_path):
    """release_assignment, fetch_assignment, submit and collect, in a copy of the course."""
    course = tmp_path / "course"
    shutil.copytree(binder_env["kit"], course, ignore=shutil.ignore_patterns("exchange", "gradebook.db"))
    nbgrader = str(binder_env["venv"] / "bin" / "nbgrader")
    ps = "ps1_finite_differences"
    _run([nbgrader, "db", "assignment", "add", ps], cwd=course, env=binder_env["env"])
    _run([nbgrader, "release_assignment", ps, "--force"], cwd=course, env=binder_env["env"])
    student = tmp_path / "student"
    student.mkdir()
    exchange = f"--Exchange.root={course / 'exchange'}"
    course_id = "--CourseDirectory.course_id=minigrad-kit"
    _run([nbgrader, "fetch_assignment", ps, exchange, course_id], cwd=student, env=binder_env["env"])
    assert (student / ps / f"{ps}.ipynb").is_file()
    _run([nbgrader, "submit", ps, exchange, course_id], cwd=student, env=binder_env["env"])
    _run([nbgrader, "collect", ps], cwd=course, env=binder_env["env"])
    collected = list((course / "submitted").glob(f"*/{ps}/{ps}.ipynb"))
    assert len(collected) == 1, collected


def test_fresh_environment_figures_are_reasonable(binder_env):
    # Loose bounds that catch a runaway dependency or a build that stopped using wheels.
    assert binder_env["venv_megabytes"] < 1500, binder_env
    assert binder_env["build_seconds"] < 900, binder_env
