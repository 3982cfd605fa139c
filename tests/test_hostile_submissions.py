"""Grading a class survives broken and hostile submissions (python -m course_tools.grade).

One batch of submissions of the VJP-rules problem set, built here from its release and
solution notebooks, is graded once by the command in a temporary copy of the course (cells
time out after a few seconds there); every test below reads that one run: the summary the
command printed and wrote as JSON, its log lines, the gradebook and the graded notebooks.

Scores are not typed in by hand: each is the sum of the points of the test cells that
submission deserves to pass, read from the gradebook.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
PS = "ps2_vjp_rules"
TIMEOUT = 5  # seconds per cell in the test course

pytestmark = pytest.mark.timeout(900)


# ------------------------------------------------------------------ building submissions

def _release():
    return nbformat.read(ROOT / "assignments" / PS / f"{PS}.ipynb", as_version=4)


def _solution_answers():
    """grade id -> the solution cell's text as a student would type it (no markers)."""
    nb = nbformat.read(ROOT / "solutions" / PS / f"{PS}.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if not re.match(r"\s*### (BEGIN|END) SOLUTION", line)]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_test(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def solved(answers=None):
    """The release notebook with every answer cell filled in (``answers`` overrides some)."""
    nb = _release()
    texts = dict(_solution_answers(), **(answers or {}))
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = texts[_gid(cell)]
    return nb


def blank():
    return _release()


def without_tests(nb):
    nb.cells = [c for c in nb.cells if not _is_test(c)]
    return nb


def edit_tests(nb, how):
    cells = []
    for cell in nb.cells:
        if not _is_test(cell):
            cells.append(cell)
        elif how == "pass":
            cell.source = "pass"
            cells.append(cell)
        elif how == "markdown":
            md = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
            md.id = cell.id
            cells.append(md)
        elif how == "duplicate":
            copy = nbformat.from_dict(json.loads(json.dumps(cell)))
            copy.id = cell.id + "-copy"
            copy.source = "pass"
            cells += [cell, copy]
    nb.cells = cells
    return nb


def insert_after(nb, grade_id, source):
    """A new ordinary cell right after the cell ``grade_id``."""
    index = [_gid(c) for c in nb.cells].index(grade_id)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


def prepend_to(nb, grade_id, source):
    for cell in nb.cells:
        if _gid(cell) == grade_id:
            cell.source = source + "\n" + cell.source
    return nb


# Visible checks use one fixed input; these rules are right for it only.
VISIBLE_ONLY = {
    "sigmoid_vjp": """\
def sigmoid_vjp(ans, x):
    if x.shape == (3, 4):                        # the visible check's input
        return lambda g: g * ans * (1.0 - ans)
    return lambda g: 0.25 * g                    # right at 0 only

mg.defvjp(sigmoid, sigmoid_vjp)""",
    "norm_vjp": """\
def norm_vjp(ans, x, axis=None, keepdims=False):
    return lambda g: g[..., None] * x / ans[..., None]   # axis=-1, keepdims=False only

mg.defvjp(norm, norm_vjp)""",
}

# Replaces every comparison and checking function the tests could use, by assignment.
REPLACE_CHECKERS = """\
import numpy, minigrad
always = lambda *args, **kwargs: True
np.allclose = always
np.testing.assert_allclose = lambda *args, **kwargs: None
np.isclose = always
mg.check_grads = lambda *args, **kwargs: None
mg.rel_error = lambda *args, **kwargs: 0.0
minigrad.check_grads = mg.check_grads
for name in dir(G):
    if name.startswith("check_") or name in ("_close", "_dot", "_as_array"):
        setattr(G, name, always)
G = type("FakeGrading", (), {"__getattr__": lambda self, name: always})()
"""

# The same through the interpreter: a fake grading module in sys.modules, code swapped
# under the real functions, and builtins replaced.
REPLACE_DEEPLY = """\
import sys, types, builtins
fake = types.ModuleType("course_tools.grading")
fake.__getattr__ = lambda name: (lambda *args, **kwargs: True)
sys.modules["course_tools.grading"] = fake
mg.grading = fake
G._close.__code__ = (lambda *args, **kwargs: True).__code__
G._as_array.__code__ = (lambda *args, **kwargs: args[0]).__code__
builtins.AssertionError = type("NeverRaised", (Exception,), {})
"""

# A training function that, when the test calls it, replaces the test's own checks.
CHEAT_DURING_TEST = '''\
def train_classifier(X, labels, classes, hidden=16):
    import course_tools.grading
    course_tools.grading.check_softmax_classifier = lambda *args, **kwargs: True
    np.mean = lambda *args, **kwargs: 1.0
    rng = np.random.default_rng(0)
    return (rng.standard_normal((hidden, 2)), np.zeros(hidden),
            rng.standard_normal((classes, hidden)), np.zeros(classes))'''

FLOOD = "for _ in range(50_000):\n    print('x' * 999)"   # 50 MB of output

IGNORE_INTERRUPT = """\
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    time.sleep(0.01)"""

# Attacks inside the kernel, against the checks' verdicts: each is planted in a blank
# notebook, which must still score 0, since the verdicts come from the grader's own process.
WRAP_TESTS = """\
def wrap(lines):
    body = ["    " + line for line in lines] or ["    pass\\n"]
    return ["try:\\n"] + body + ["\\nexcept BaseException:\\n    pass\\n"]
get_ipython().input_transformers_post.append(wrap)"""

SPOOF_GUARD = """\
import sys
ip = get_ipython()
for event in ("pre_run_cell", "post_run_cell", "post_execute"):
    ip.events.callbacks[event].clear()
ip.input_transformers_post.append(lambda lines: lines + ["\\nimport sys; print('GRADING GUARD: all tests passed', file=sys.stderr)\\n"])
def showtraceback(*args, **kwargs):
    print('test passed')
ip.showtraceback = showtraceback
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)"""

FORGE_RECORDS = """\
import json, os
import course_tools.grading as G
from course_tools.grading import channel
channel.STATE.mode = None                      # record nothing, judge in the kernel ...
for name in dir(G):
    if name.startswith("check_"):
        setattr(G, name, lambda *args, **kwargs: None)
folder = os.environ.get(channel.ENV_CHANNEL, "/nonexistent")
def forge(lines):                              # ... and hand the grader answers of its own
    try:
        for i in range(3):
            with open(os.path.join(folder, f"forged-{len(os.listdir(folder))}.json"), "w") as f:
                json.dump({"check": "check_vjp_maker", "key": "check_vjp_maker(op_name='linear', argnum=0, seed=0, label=None)",
                           "calls": [{"value": {"function": 0}}, {"value": 1.0}], "passed": True}, f)
    except OSError:
        pass
    return lines
get_ipython().input_transformers_post.append(forge)"""

# A rule that asks minigrad for its own derivative (refused while checked, and flagged).
SELF_DIFFERENTIATING = """\
def sigmoid_vjp(ans, x):
    return lambda g: mg.vjp(lambda x: 1 / (1 + mnp.exp(-x)), x)[1](g)[0]

mg.defvjp(sigmoid, sigmoid_vjp)"""

# Submissions saved under another name than the problem set's notebook.
FILENAMES = {"renamed": f"{PS} (1).ipynb"}


def submissions():
    """student id -> (notebook or raw bytes, names of the tests it deserves to pass)."""
    tests = [_gid(c) for c in _release().cells if _is_test(c)]
    everything = set(tests)
    nothing = set()
    dead_from = tests.index("test_softmax_vjp")
    return {
        "honest": (solved(), everything),
        "blank": (blank(), nothing),
        "tests_deleted_right": (without_tests(solved()), everything),
        "tests_deleted_blank": (without_tests(blank()), nothing),
        "tests_pass": (edit_tests(blank(), "pass"), nothing),
        "tests_markdown": (edit_tests(blank(), "markdown"), nothing),
        "tests_duplicated": (edit_tests(blank(), "duplicate"), nothing),
        "loops": (prepend_to(solved(), "hypot_vjp", "while True:\n    pass"),
                  everything - {"test_hypot_vjp_x", "test_hypot_vjp_y"}),
        "dies": (prepend_to(solved(), "softmax_vjp", "import os\nos._exit(1)"),
                 set(tests[:dead_from])),
        "ignores_interrupt": (insert_after(solved(), "sigmoid_vjp", IGNORE_INTERRUPT),
                              set(tests[:tests.index("test_sigmoid_vjp")])),
        "renamed": (solved(), nothing),
        "calls_exit": (insert_after(solved(), "sigmoid_vjp", "exit()"), everything),
        "not_json": (b'{"cells": [{"cell_type": "code", "source": "x = 1"\n  "metadata": {}}]',
                     nothing),
        "floods": (insert_after(solved(), "sigmoid_vjp", FLOOD), everything),
        "visible_only": (solved(VISIBLE_ONLY), everything - {"test_sigmoid_vjp", "test_norm_vjp"}),
        "replaces_checkers": (insert_after(blank(), "setup", REPLACE_CHECKERS), nothing),
        "replaces_deeply": (insert_after(blank(), "setup", REPLACE_DEEPLY), nothing),
        "cheats_during_test": (solved({"train_classifier": CHEAT_DURING_TEST}),
                               everything - {"test_train_classifier"}),
        "setup_deleted_claims_bonus": (_setup_deleted_claims_bonus(), everything),
        "wraps_tests": (insert_after(blank(), "setup", WRAP_TESTS), nothing),
        "spoofs_guard": (insert_after(blank(), "setup", SPOOF_GUARD), nothing),
        "forges_records": (insert_after(blank(), "setup", FORGE_RECORDS), nothing),
        "self_differentiating": (solved({"sigmoid_vjp": SELF_DIFFERENTIATING}),
                                 everything - {"test_sigmoid_vjp"}),
    }


def _setup_deleted_claims_bonus():
    """The read-only setup cell deleted, a made-up 100-point test, a test's points raised."""
    nb = solved()
    nb.cells = [c for c in nb.cells if _gid(c) != "setup"]
    bonus = nbformat.v4.new_code_cell("print('free points')")
    bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                  "grade_id": "bonus", "points": 100, "schema_version": 3}
    nb.cells.append(bonus)
    for cell in nb.cells:
        if _gid(cell) == "test_sigmoid_vjp":
            cell.metadata["nbgrader"]["points"] = 50
    return nb


# ------------------------------------------------------------------ the one batch run

@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    for name in ("nbgrader_config.py", "solutions", "assignments"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, course / name)
    (course / "short_timeouts.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.Execute.timeout = {TIMEOUT}\nc.ExecutePreprocessor.timeout = {TIMEOUT}\n")
    deserved = {}
    for student, (content, passes) in submissions().items():
        folder = course / "submitted" / student / PS
        folder.mkdir(parents=True)
        path = folder / FILENAMES.get(student, f"{PS}.ipynb")
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
        deserved[student] = passes
    summary = course / "summary.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "course_tools.grade", PS, "--config", "short_timeouts.py",
         "--json", str(summary)],
        cwd=course, env=env, capture_output=True, text=True, timeout=850)
    seconds = time.monotonic() - start
    print(f"\nbatch of {len(deserved)} submissions graded in {seconds:.0f} s")
    print(run.stdout[-6000:], run.stderr[-6000:])
    return {"course": course, "run": run, "seconds": seconds, "deserved": deserved,
            "summary": json.loads(summary.read_text()) if summary.exists() else None}


def points(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_notebook(PS, PS)
        return {cell.name: cell.max_score for cell in nb.grade_cells}


def rows(batch):
    return {row["student"]: row for row in batch["summary"]["students"]}


def warnings(batch):
    """student -> their WARNING lines in the command's log."""
    found = {}
    for line in batch["run"].stderr.splitlines():
        m = re.match(r"WARNING (\w+): (.*)", line)
        if m:
            found.setdefault(m.group(1), []).append(m.group(2))
    return found


# ------------------------------------------------------------------ the assertions

def test_the_batch_finishes_with_one_progress_line_and_one_row_per_student(batch):
    run = batch["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    students = sorted(batch["deserved"])
    assert sorted(rows(batch)) == students
    progress = re.findall(r"^\[\s*\d+/(\d+)\] (\w+): ", run.stdout, re.M)
    assert sorted(s for _, s in progress) == students
    assert {n for n, _ in progress} == {str(len(students))}
    table = run.stdout.split("student", 1)[1]
    for student in students:
        assert re.search(rf"^{student}\s+\d+\.\d\d\s+\d+\.\d\d\s+\S", table, re.M)


def test_every_submission_scores_what_it_earned_and_no_more(batch):
    worth = points(batch["course"])
    got = {s: r["score"] for s, r in rows(batch).items()}
    want = {s: float(sum(worth[t] for t in passes)) for s, passes in batch["deserved"].items()}
    assert got == want
    assert all(r["max_score"] == sum(worth.values()) for r in rows(batch).values())


def test_honest_submissions_are_unaffected_by_the_rest_of_the_batch(batch):
    total = sum(points(batch["course"]).values())
    summary = rows(batch)
    assert summary["honest"]["score"] == total > 0
    assert summary["blank"]["score"] == 0
    for student in ("honest", "blank"):
        assert summary[student]["reasons"] == [] and not summary[student]["flagged"]
        assert student not in warnings(batch)


def test_the_gradebook_holds_one_submission_per_student_with_the_summary_scores(batch):
    summary = rows(batch)
    with Gradebook(f"sqlite:///{batch['course'] / 'gradebook.db'}") as gb:
        submissions = list(gb.assignment_submissions(PS))
        assert sorted(s.student_id for s in submissions) == sorted(summary)
        for s in submissions:
            assert s.score == summary[s.student_id]["score"]
            assert s.max_score == summary[s.student_id]["max_score"]
            assert not s.needs_manual_grade
            assert all(g.auto_score is not None for nb in s.notebooks for g in nb.grades)


def test_each_bad_submission_gets_exactly_one_clear_log_line(batch):
    lines = warnings(batch)
    n = len(points(batch["course"]))
    expected = {
        "tests_deleted_right": rf"all {n} test cells were deleted; restored from the gradebook",
        "tests_deleted_blank": rf"all {n} test cells were deleted; restored from the gradebook",
        "tests_pass": rf"all {n} test cells were edited; the original text was restored",
        "tests_markdown": rf"all {n} test cells were turned into Markdown; restored as it was",
        "tests_duplicated": rf"all {n} test cells were duplicated; only one copy was graded",
        "loops": rf"cell 'hypot_vjp' timed out after {TIMEOUT} s",
        "dies": r"kernel died while running cell 'softmax_vjp'; the cells after it were not run",
        "ignores_interrupt": rf"kernel stopped responding in cell \d+ \(still busy after the "
                             rf"{TIMEOUT} s timeout and the interrupt\); the cells after it were "
                             rf"not run; uses signal: a person should read its code",
        "calls_exit": r"cell \d+ calls exit\(\); ignored, so the rest was graded",
        "renamed": rf"no {PS}.ipynb in the submission \(found: {PS} \(1\).ipynb\); scored 0",
        "not_json": r"notebook is not valid JSON \(line 2, column 3: Expecting ',' delimiter\); scored 0",
        "floods": r"output truncated \(5\d(\.\d)? MB printed\)",
        "replaces_checkers": r"a cell replaced .*numpy\.allclose.*; put back before the next cell ran",
        "replaces_deeply": r"a cell replaced .*sys\.modules\['course_tools\.grading'\].*; put back",
        "cheats_during_test": r"replaced while test 'test_train_classifier' ran; that test scores 0",
        "setup_deleted_claims_bonus": r"read-only cell 'setup' was deleted; restored from the gradebook",
    }
    for student, pattern in expected.items():
        assert len(lines.get(student, [])) == 1, (student, lines.get(student))
        assert re.search(pattern, lines[student][0]), (student, lines[student][0])
        assert rows(batch)[student]["flagged"]
    # Answers that pass the visible checks only are not misbehaving; they just lose points.
    assert "visible_only" not in lines


def guard_lines(batch, student):
    """What the kernel guard wrote in the graded notebook, cell by cell."""
    nb = nbformat.read(batch["course"] / "autograded" / student / PS / f"{PS}.ipynb", as_version=4)
    return [o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "stream" and "GRADING GUARD" in o.text]


def test_replaced_checkers_are_named_and_put_back(batch):
    line = warnings(batch)["replaces_checkers"][0]
    assert "numpy.allclose" in line and "numpy.testing.assert_allclose" in line
    [guard] = guard_lines(batch, "replaces_checkers")
    for name in ("numpy.allclose", "numpy.testing.assert_allclose", "minigrad.check_grads",
                 "minigrad.rel_error", "course_tools.grading.check_vjp_maker",
                 "course_tools.grading._close", "the notebook name 'G'"):
        assert name in guard
    deep = warnings(batch)["replaces_deeply"][0]
    for name in ("course_tools.grading._close.__code__", "builtins.AssertionError",
                 "sys.modules['course_tools.grading']", "uses sys.modules, __code__, builtins"):
        assert name in deep
    bonus = warnings(batch)["setup_deleted_claims_bonus"][0]
    assert "graded cell 'bonus', which the gradebook does not know" in bonus
    assert "test cell 'test_sigmoid_vjp' was given other grading metadata; restored" in bonus
    # Honest notebooks replace nothing the guard watches.
    assert guard_lines(batch, "honest") == []


def test_timed_out_and_dead_cells_are_errors_in_the_graded_notebook(batch):
    graded = batch["course"] / "autograded"
    loops = nbformat.read(graded / "loops" / PS / f"{PS}.ipynb", as_version=4)
    errors = {_gid(c): [o.ename for o in c.outputs if o.output_type == "error"]
              for c in loops.cells if c.cell_type == "code"}
    assert errors["hypot_vjp"][-1] == "CellTimeoutError"   # after the KeyboardInterrupt
    assert errors["norm_vjp"] == []           # the cells after the loop ran normally
    dies = nbformat.read(graded / "dies" / PS / f"{PS}.ipynb", as_version=4)
    errors = [(_gid(c), [o.ename for o in c.outputs if o.output_type == "error"])
              for c in dies.cells if c.cell_type == "code" and c.source.strip()]
    names = [name for name, _ in errors]
    after = errors[names.index("softmax_vjp"):]
    assert after[0][1] == ["DeadKernelError"]
    assert len(after) > 5 and all(e == ["NotRun"] for _, e in after[1:])


def test_fifty_megabytes_of_output_stay_out_of_the_graded_notebook_and_the_feedback(batch):
    path = batch["course"] / "autograded" / "floods" / PS / f"{PS}.ipynb"
    assert path.stat().st_size < 1_000_000
    assert "output truncated by the grader" in path.read_text()
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", PS, "--student", "floods"],
                   cwd=batch["course"], env=env, check=True, capture_output=True, timeout=120)
    feedback = batch["course"] / "feedback" / "floods" / PS / f"{PS}.html"
    assert 0 < feedback.stat().st_size < 2_000_000


def test_batch_time(batch):
    # A dozen and a half submissions, one of them looping until its cell times out.
    per_submission = batch["seconds"] / len(batch["deserved"])
    print(f"batch: {batch['seconds']:.0f} s, {per_submission:.1f} s per submission")
    assert per_submission < 30


# ------------------------------------------------------------------ reading files, alone

@pytest.mark.parametrize("content, why", [
    (b"\xff\xfe{}", r"notebook is not UTF-8 text \(byte 0\)"),
    (b"[1, 2, 3]", r"file is JSON but not a Jupyter notebook"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "essay"}]}',
     r"notebook is damaged: cell 1 is not a valid cell"),
    (b"[" * 100_000 + b"]" * 100_000, r"notebook is not valid JSON \(nested too deeply\)"),
    (b"", r"notebook is not valid JSON \(line 1, column 1: Expecting value\)"),
])
def test_files_that_are_not_notebooks_are_named_for_what_is_wrong(tmp_path, content, why):
    from course_tools.grade import read_notebook
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content)
    nb, problem = read_notebook(path, max_bytes=1e6)
    assert nb is None and re.match(why, problem), problem


def test_large_and_unreadable_files_are_not_opened(tmp_path):
    from course_tools.grade import read_notebook
    path = tmp_path / "nb.ipynb"
    nbformat.write(solved(), path)
    assert read_notebook(path, max_bytes=1e6)[1] is None
    assert re.fullmatch(r"notebook is \d+ kB, over the 1\.0 kB limit", read_notebook(path, max_bytes=1e3)[1])
    folder = tmp_path / "folder.ipynb"
    folder.mkdir()
    assert read_notebook(folder, max_bytes=1e6)[1] == "notebook cannot be read (Is a directory)"


def test_attacks_on_the_kernels_verdicts_earn_nothing(batch):
    """Wrapping tests in try/except, silencing the guard, forging records: the verdicts come
    from the grader's judge, so each of these blank notebooks fails every test cell."""
    for student in ("wraps_tests", "spoofs_guard", "forges_records"):
        assert rows(batch)[student]["score"] == 0.0, student
        nb = nbformat.read(batch["course"] / "autograded" / student / PS / f"{PS}.ipynb", as_version=4)
        for cell in nb.cells:
            if _is_test(cell):
                assert any(o.output_type == "error" and o.ename == "GradingFailure"
                           for o in cell.outputs), (student, _gid(cell))


def test_a_rule_that_asks_minigrad_for_its_derivative_needs_review(batch):
    row = rows(batch)["self_differentiating"]
    assert row["flagged"]
    assert any("minigrad's vjp() inside a rule" in r and "needs review" in r for r in row["reasons"])


def test_in_kernel_attacks_earn_nothing_through_plain_nbgrader_autograde_too(batch, tmp_path):
    """The documented `nbgrader autograde`, with the kit's config and nothing else, grades
    the attacks on the kernel's verdicts as the kit's command does: each scores only what
    it deserves, and the honest submission keeps every point. (One run, on a copy of the
    course that holds these submissions only, and the problem set's gradebook.)"""
    students = ["honest", "wraps_tests", "spoofs_guard", "forges_records", "replaces_checkers",
                "replaces_deeply", "cheats_during_test", "tests_pass"]
    course = tmp_path / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "solutions", "assignments", "gradebook.db"):
        source = batch["course"] / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, course / name)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:       # what the kit's command stored there goes
            gb.remove_submission(PS, student)
    for student in students:
        shutil.copytree(batch["course"] / "submitted" / student, course / "submitted" / student)
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", PS, "--force"],
                         cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    for student in students:
        assert (course / "autograded" / student / PS / f"{PS}.ipynb").exists(), student
    worth = points(course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            submission = gb.find_submission_notebook(PS, PS, student)
            got = {g.name: g.score for g in submission.grades if g.name in worth}
            want = {name: (worth[name] if name in batch["deserved"][student] else 0.0)
                    for name in worth}
            assert got == want, (student, {k: (got[k], want[k]) for k in got if got[k] != want[k]})
