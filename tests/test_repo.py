"""The repository's promises: the README's two commands, CI running the second, clean
notebooks, pinned requirements."""
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup, flags=re.S)


def test_readme_gives_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith(".venv/bin/python -m course_tools.lab") and "requirements.txt" in commands[0]
    assert "pytest" in commands[1] and "requirements-dev.txt" in commands[1]


def test_ci_runs_the_readme_test_command_word_for_word():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt", "binder/requirements.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith(("-r", "-e")):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), (name, line)
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines()


def test_every_notebook_is_stored_without_outputs():
    notebooks = [p for p in ROOT.glob("*/**/*.ipynb")
                 if not set(p.relative_to(ROOT).parts) & {".venv", ".ipynb_checkpoints"}]
    assert notebooks
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path


def test_gitignore_keeps_grading_state_out_and_the_kit_in():
    import subprocess

    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0
    for path in ("gradebook.db", "submitted/x/ps1/a.ipynb", "autograded/x/a.ipynb",
                 "feedback/x/ps1/a.html", "exchange/minigrad-kit/inbound/x", ".venv/bin/python",
                 "grades.csv"):
        assert ignored(path), path
    for path in ("course_tools/templates/feedback/index.html.j2", "course_tools/feedback.py",
                 "solutions/ps1_finite_differences/ps1_finite_differences.ipynb"):
        assert not ignored(path), path


def test_the_launcher_serves_the_kit_root_opens_lecture_1_and_allows_root_only_as_root():
    from course_tools import lab

    as_user = lab.command(["--no-browser"], euid=1000)
    as_root = lab.command(["--no-browser"], euid=0)
    assert "--allow-root" not in as_user and "--allow-root" in as_root
    assert f"--ServerApp.root_dir={ROOT}" in as_user
    assert "--LabApp.default_url=/lab/tree/lectures/01_chain_rule.ipynb" in as_user
    assert (ROOT / lab.FIRST_LECTURE).is_file()
    assert as_user[-1] == "--no-browser"
    env = lab.environment({"JUPYTER_CONFIG_PATH": "/elsewhere"})
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(ROOT / "binder" / "jupyter_config"), "/elsewhere"]


def test_the_nbgrader_config_puts_the_exchange_in_the_clone():
    from traitlets.config import Config

    namespace = {"get_config": Config, "__file__": str(ROOT / "nbgrader_config.py")}
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), namespace)
    root = pathlib.Path(namespace["c"].Exchange.root)
    assert root == ROOT / "exchange" and root.is_dir()
    assert "/exchange/" in (ROOT / ".gitignore").read_text().split()


def test_readme_lists_every_lecture_and_counts_them():
    readme = (ROOT / "README.md").read_text()
    lectures = sorted(p.stem for p in (ROOT / "lectures").glob("*.ipynb"))
    listed = re.findall(r"^\d+\. `(\d\d_\w+)`", readme, flags=re.M)
    assert listed == lectures
    words = {7: "seven", 8: "eight", 9: "nine", 10: "ten"}
    assert f"| `lectures/` | {words[len(lectures)]} notebooks" in readme
