"""Grading at class scale: a generated class of 100, serially and in parallel, on SQLite and
PostgreSQL; hostile submissions that must not stall the batch; Ctrl-C; the class report.

The 100-submission batch is graded twice (``--jobs 1`` and ``--jobs 2``), which is most of
this module's time; PostgreSQL grades a 20-submission slice of the same class, compared
with SQLite's gradebook for those students. Timings are printed (``pytest -s``).
"""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import course_utils as cu
from course_utils import make_course, solved, submit, untouched
from test_problem_sets import SUBMISSIONS, build

PS = "ps2_vjp_rules"
ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
CELL_TIMEOUT = 5            # seconds per cell in the test course; the slowest honest one takes 0.5 s
SUBMISSION_TIMEOUT = 25     # seconds per submission: "hangs" below needs 8 x CELL_TIMEOUT and more
ANSWERS = ["linear_vjp", "sigmoid_vjp", "softmax_vjp", "logsumexp_forward", "logsumexp_vjp",
           "hypot_vjp", "norm_vjp", "train_classifier"]
LOOP = "while True:\n    pass"

pytestmark = [pytest.mark.timeout(2400),
              pytest.mark.filterwarnings("ignore:Object of type <Submitted")]


def test_class_report_counts_honest_and_blank(tmp_path):
    course = make_course(tmp_path / "course")
    submit(course, "honest", PS, solved(PS))
    submit(course, "blank", PS, untouched(PS))
    env = dict(os.environ, PYTHONPATH=str(os.path.dirname(os.path.dirname(__file__))),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    graded = subprocess.run([sys.executable, "-m", "course_tools.grade", PS], cwd=course,
                            env=env, check=True, capture_output=True, text=True, timeout=600)
    assert "Class report" in graded.stdout, graded.stdout + graded.stderr
    out = subprocess.run([sys.executable, "-m", "course_tools.report", PS], cwd=course, env=env,
                         check=True, capture_output=True, text=True, timeout=300).stdout
    assert "passed" in out
    stem = course / "feedback" / f"{PS}_class_report"
    for ext in (".csv", ".png", ".html"):
        assert (stem.parent / (stem.name + ext)).exists()
    rows = list(csv.DictReader(open(f"{stem}.csv")))
    assert rows
    for row in rows:
        assert int(row["passed"]) == 1, row       # the honest submission
        failed = {k: int(v) for k, v in row.items() if k not in ("test cell", "passed")}
        assert sum(failed.values()) == 1, row     # the blank one
        assert failed["not written"] == 1, row


# ------------------------------------------------------------------ the generated class

def _answer(nb, answer_id):
    return [c for c in nb.cells if cu.grade_id(c) == answer_id][0].source


def partly_right(blanked):
    """The solution with the answer cells ``blanked`` left as the student version has them."""
    nb, blank = solved(PS), untouched(PS)
    for answer_id in blanked:
        nb = cu.with_answer(nb, answer_id, _answer(blank, answer_id))
    return nb


def one_mistake(student, mistake):
    return build(PS, {mistake: SUBMISSIONS[PS][student][mistake]})


def hangs():
    """A loop in front of every answer: each cell times out, and all of them together take
    far longer than one submission may."""
    nb = solved(PS)
    for answer_id in ANSWERS:
        nb = cu.with_answer(nb, answer_id, LOOP + "\n" + _answer(nb, answer_id))
    return nb


def generated_class(size=100):
    """student -> notebook (or raw bytes): honest, blank, partly right, each typical mistake,
    several mistakes at once, and a few hostile ones."""
    subs = {}
    for i in range(10):
        subs[f"blank_{i:02d}"] = untouched(PS)
    for i in range(24):
        # Every answer left out once, then pairs and triples of them.
        k = 1 + i // 8
        subs[f"partly_{i:02d}"] = partly_right([ANSWERS[(i + j) % 8] for j in range(k)])
    mistakes = [(s, m) for s in ("wrong_a", "wrong_b") for m in SUBMISSIONS[PS][s]]
    for i in range(27):
        student, mistake = mistakes[i % len(mistakes)]
        subs[f"mistake_{mistake}_{i // len(mistakes)}"] = one_mistake(student, mistake)
    for student in ("wrong_a", "wrong_b", "hostile_fake", "hostile_honest"):
        for i in range(2):
            subs[f"{student}_{i}"] = build(PS, SUBMISSIONS[PS][student])
    subs["hostile_loops"] = cu.with_answer(solved(PS), "hypot_vjp",
                                           LOOP + "\n" + _answer(solved(PS), "hypot_vjp"))
    subs["hostile_dies"] = cu.with_answer(solved(PS), "softmax_vjp",
                                          "import os\nos._exit(1)\n" + _answer(solved(PS), "softmax_vjp"))
    subs["hostile_floods"] = cu.insert_cell_after(solved(PS), "sigmoid_vjp",
                                                  "for _ in range(5000):\n    print('x' * 999)")
    subs["hostile_hangs"] = hangs()
    subs["hostile_not_json"] = b'{"cells": [{"cell_type": "code", "source": "x = 1"\n  "metadata": {}}]'
    i = 0
    while len(subs) < size:
        subs[f"honest_{i:02d}"] = solved(PS)
        i += 1
    return subs


def write_course(path, subs):
    course = make_course(path)
    (course / "short.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.Execute.timeout = {CELL_TIMEOUT}\nc.ExecutePreprocessor.timeout = {CELL_TIMEOUT}\n")
    for student, content in subs.items():
        if isinstance(content, bytes):
            folder = course / "submitted" / student / PS
            folder.mkdir(parents=True)
            (folder / f"{PS}.ipynb").write_bytes(content)
        else:
            submit(course, student, PS, content)
    return course


def grade(course, *args, timeout=2000):
    """Run the grading command on ``course``; (completed process, seconds, summary JSON)."""
    summary = course / "summary.json"
    if summary.exists():
        summary.unlink()
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "course_tools.grade", PS, "--config", "short.py",
                          "--submission-timeout", str(SUBMISSION_TIMEOUT), "--json", str(summary),
                          *args], cwd=course, env=ENV, capture_output=True, text=True,
                         timeout=timeout)
    seconds = time.monotonic() - start
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    return run, seconds, json.loads(summary.read_text())


def scores(summary):
    return {r["student"]: r["score"] for r in summary["students"]}


def gradebook(db_url, students=None):
    """student -> {grade: (auto_score, needs_manual_grade)}, {comment: auto_comment}, and the score."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(db_url, "minigrad-kit") as gb:
        for s in gb.assignment_submissions(PS):
            if students is not None and s.student_id not in students:
                continue
            nb = s.notebooks[0]
            out[s.student_id] = {
                "score": s.score,
                "grades": {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments}}
    return out


def sqlite(course):
    return f"sqlite:///{course / 'gradebook.db'}"


def cell_outcomes(course, student):
    """(grade id, error names) of each code cell of the graded notebook: what the run did,
    without the values drawn at grading time."""
    path = course / "autograded" / student / PS / f"{PS}.ipynb"
    if not path.exists():
        return None
    nb = nbformat.read(path, as_version=4)
    return [(cu.grade_id(c), [o.ename for o in c.outputs if o.output_type == "error"])
            for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The class of 100, graded serially and in parallel, each in its own copy of the course."""
    subs = generated_class(100)
    runs = {}
    for jobs in (1, 2):
        course = write_course(tmp_path_factory.mktemp(f"jobs{jobs}"), subs)
        run, seconds, summary = grade(course, "--jobs", str(jobs))
        runs[jobs] = {"course": course, "run": run, "seconds": seconds, "summary": summary}
        print(f"\n{len(subs)} submissions, --jobs {jobs}: {seconds:.0f} s "
              f"({seconds / len(subs):.1f} s per submission)")
    ratio = runs[2]["seconds"] / runs[1]["seconds"]
    print(f"parallel / serial: {ratio:.2f}")
    print(runs[2]["run"].stdout.split("\nstudent", 1)[1][-6000:])
    return {"subs": subs, "runs": runs, "ratio": ratio}


def test_serial_and_parallel_give_identical_scores(batch):
    serial, parallel = (batch["runs"][j]["summary"] for j in (1, 2))
    assert sorted(scores(serial)) == sorted(batch["subs"])
    assert scores(serial) == scores(parallel)
    assert parallel["jobs"] == 2 and serial["jobs"] == 1
    # The gradebooks agree grade by grade, and the graded notebooks cell by cell.
    courses = [batch["runs"][j]["course"] for j in (1, 2)]
    books = [gradebook(sqlite(c)) for c in courses]
    assert books[0] == books[1]
    for student in batch["subs"]:
        assert cell_outcomes(courses[0], student) == cell_outcomes(courses[1], student), student


def test_each_kind_of_submission_scores_what_it_earned(batch):
    got = scores(batch["runs"][2]["summary"])
    full = 20.0
    for student, score in got.items():
        if student.startswith(("honest_", "hostile_floods", "hostile_honest")):
            assert score == full, student
        elif student.startswith(("blank_", "hostile_fake", "hostile_not_json", "hostile_hangs")):
            assert score == 0, student
        else:
            assert 0 < score < full, (student, score)
    assert got["hostile_loops"] == full - 2         # the two hypot tests
    rows = {r["student"]: r for r in batch["runs"][2]["summary"]["students"]}
    assert "not valid JSON" in rows["hostile_not_json"]["reasons"][0]
    assert "output truncated" in "; ".join(rows["hostile_floods"]["reasons"])
    assert "kernel died" in "; ".join(rows["hostile_dies"]["reasons"])


def test_a_hanging_submission_is_stopped_without_stalling_the_batch(batch):
    for jobs in (1, 2):
        run = batch["runs"][jobs]
        row = {r["student"]: r for r in run["summary"]["students"]}["hostile_hangs"]
        assert row["reasons"] == [f"grading it took longer than the {SUBMISSION_TIMEOUT} s limit "
                                  f"for one submission; stopped; scored 0"]
        assert SUBMISSION_TIMEOUT <= row["seconds"] < SUBMISSION_TIMEOUT + 30
        assert not (run["course"] / "autograded" / "hostile_hangs" / PS / f"{PS}.ipynb").exists()
    # In parallel, the other slot went on grading while the hanging one ran out its time.
    lines = re.findall(r"^\[\s*(\d+)/100\] (\w+): ", batch["runs"][2]["run"].stdout, re.M)
    order = [s for _, s in lines]
    assert sorted(order) == sorted(batch["subs"])
    alphabetical = sorted(batch["subs"])
    assert order.index("hostile_hangs") > alphabetical.index("hostile_hangs") + 3


def test_per_student_lines_table_and_progress_are_those_of_a_serial_run(batch):
    for jobs in (1, 2):
        run = batch["runs"][jobs]["run"]
        assert re.search(r"^Grading ps2_vjp_rules: 100 submissions, %d at a time" % jobs,
                         run.stdout, re.M)
        table = run.stdout.split("\nstudent", 1)[1].split("\n\n")[0].splitlines()[2:]
        assert [line.split()[0] for line in table] == sorted(batch["subs"])
        progress = re.findall(r"^progress: (\d+)/100 graded, [\d.]+ per minute, (about .* left|all done in .*)$",
                              run.stderr, re.M)
        assert [int(n) for n, _ in progress] == list(range(1, 101))


def test_parallel_grading_is_faster(batch):
    serial, parallel = (batch["runs"][j]["seconds"] for j in (1, 2))
    print(f"serial {serial:.0f} s, --jobs 2 {parallel:.0f} s: {batch['ratio']:.2f} x; "
          f"{serial / 100:.1f} s and {parallel / 100:.1f} s per submission")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: nothing to run in parallel")
    assert batch["ratio"] < 0.8


def test_the_class_report_counts_every_submission(batch):
    course = batch["runs"][2]["course"]
    rows = list(csv.DictReader(open(course / "feedback" / f"{PS}_class_report.csv")))
    assert len(rows) == 12
    for row in rows:
        assert sum(int(v) for k, v in row.items() if k != "test cell") == 100, row
    by_cell = {row["test cell"]: row for row in rows}
    assert int(by_cell["test_linear_vjp_W"]["transposed"]) >= 3
    assert int(by_cell["test_sigmoid_vjp"]["constant factor"]) >= 3
    assert "Class report" in batch["runs"][2]["run"].stdout


def test_a_rerun_without_force_grades_nothing_new(batch):
    course = batch["runs"][2]["course"]
    before = gradebook(sqlite(course))
    run, seconds, summary = grade(course, "--jobs", "2", "--no-report")
    assert "Grading ps2_vjp_rules: 0 submissions" in run.stdout
    assert "100 submissions already graded in the gradebook" in run.stdout
    assert not re.search(r"^\[\s*\d+/", run.stdout, re.M)
    assert scores(summary) == scores(batch["runs"][2]["summary"])
    assert gradebook(sqlite(course)) == before
    assert seconds < 60
    # With --force, one student is graded again.
    run, _, summary = grade(course, "--jobs", "2", "--no-report", "--force",
                            "--student", "honest_00")
    assert re.search(r"^\[1/1\] honest_00: 20 / 20 ", run.stdout, re.M)


# ------------------------------------------------------------------ PostgreSQL

def test_postgresql_gradebook_matches_sqlite(batch, postgres, tmp_path):
    """A slice of the class, graded in parallel into PostgreSQL: the same gradebook as SQLite's."""
    kinds = {}
    for student in sorted(batch["subs"]):
        kinds.setdefault(re.sub(r"_\d+$", "", student), student)
    students = sorted(kinds.values())[:20]
    assert {"hostile_hangs", "hostile_not_json", "honest_00", "blank_00"} <= set(students)
    course = write_course(tmp_path / "course", {s: batch["subs"][s] for s in students})
    url = postgres.database("gradebook")
    run, seconds, summary = grade(course, "--jobs", "2", "--db-url", url)
    print(f"\n{len(students)} submissions into PostgreSQL, --jobs 2: {seconds:.0f} s")
    assert url in run.stdout
    assert not (course / "gradebook.db").exists()
    sqlite_run = batch["runs"][2]
    assert scores(summary) == {s: scores(sqlite_run["summary"])[s] for s in students}
    assert gradebook(url) == gradebook(sqlite(sqlite_run["course"]), set(students))
    # Grading again without --force finds every submission there.
    run, _, _ = grade(course, "--jobs", "2", "--db-url", url, "--no-report")
    assert f"{len(students)} submissions already graded" in run.stdout


# ------------------------------------------------------------------ Ctrl-C

def _processes_mentioning(text):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = open(f"/proc/{entry}/cmdline", "rb").read().decode("utf-8", "replace")
            except OSError:
                continue
            if text in cmdline:
                found.append((int(entry), cmdline.replace("\0", " ")[:200]))
    return found


def test_ctrl_c_leaves_whole_submissions_and_a_rerun_grades_the_rest(tmp_path):
    subs = {f"honest_{i}": solved(PS) for i in range(2)}
    subs.update({f"blank_{i}": untouched(PS) for i in range(2)})
    course = write_course(tmp_path / "course", subs)
    proc = subprocess.Popen([sys.executable, "-m", "course_tools.grade", PS, "--config", "short.py",
                             "--jobs", "2", "--no-report"], cwd=course, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed = []
    for line in proc.stdout:
        printed.append(line)
        if re.match(r"\[1/4\] ", line):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    printed.append(out)
    assert proc.returncode == 130, "".join(printed) + err
    assert "Interrupted: " in err and "Run the same command again" in err
    time.sleep(1)
    assert _processes_mentioning(str(course)) == []
    from course_tools.gradebooks import autograded_students
    from nbgrader.api import Gradebook
    with Gradebook(sqlite(course), "minigrad-kit") as gb:
        stored = {s.student_id for s in gb.assignment_submissions(PS)}
        assert stored == autograded_students(gb, PS)      # no half-written submission
    done = re.findall(r"^\[\d/4\] (\w+): ", "".join(printed), re.M)
    assert set(done) <= stored and 1 <= len(stored) < 4
    run, _, summary = grade(course, "--jobs", "2", "--no-report")
    assert f"Grading ps2_vjp_rules: {4 - len(stored)} submissions" in run.stdout
    assert scores(summary) == {s: (20.0 if s.startswith("honest") else 0.0) for s in subs}
