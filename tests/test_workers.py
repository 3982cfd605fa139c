"""The machinery of parallel grading, without nbgrader: the worker pool and the gradebook copies."""

import os
import shutil
import sys
import time
from datetime import timedelta

import pytest

from course_tools.workers import Pool, Worker, WorkerError

# nbgrader's own gradebook code warns when it makes a submission.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted")

# A stand-in grading process that speaks the workers' protocol; what it does depends on the
# student's name.
FAKE_WORKER = r'''
import json, os, subprocess, sys, time
jobs_fd, results_fd = map(int, sys.argv[sys.argv.index("--worker-fds") + 1].split(","))
if "--broken" in sys.argv:
    print("ImportError: no module named nbgrader", file=sys.stderr)
    sys.exit(1)
out = os.fdopen(results_fd, "w")
out.write(json.dumps({"ready": os.getpid()}) + "\n"); out.flush()
for line in os.fdopen(jobs_fd):
    student = json.loads(line)["student"]
    if student == "dies":
        print("Segmentation fault (pretend)", file=sys.stderr, flush=True)
        os._exit(3)
    if student == "hangs":
        # Like a sandboxed kernel: a child in a session of its own, that must die too.
        child = subprocess.Popen(["sleep", "600"], start_new_session=True)
        open(sys.argv[sys.argv.index("--pids") + 1], "a").write(f"{child.pid}\n")
        time.sleep(600)
    if student == "floods":
        for _ in range(40):
            sys.stdout.write("x" * 1_000_000)
            sys.stdout.flush()
    time.sleep(0.3)
    out.write(json.dumps({"result": {"student": student, "slot": sys.argv[-1]}}) + "\n")
    out.flush()
'''


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    return script


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_that_dies_hangs_or_floods_does_not_stall_the_others(fake, tmp_path):
    pids = tmp_path / "pids.txt"
    command = [sys.executable, str(fake), "--pids", str(pids)]
    pool = Pool(lambda slot: Worker(slot, command, str(tmp_path), dict(os.environ)), jobs=2,
                submission_timeout=4, flood_limit=10_000_000)
    students = ["a", "dies", "b", "hangs", "c", "floods", "d", "e", "f", "g"]
    finished = []
    start = time.monotonic()
    pool.run([{"student": s} for s in students],
             lambda job, result, failure, seconds: finished.append(
                 (job["student"], result, failure, seconds, time.monotonic() - start)))
    took = time.monotonic() - start
    assert sorted(s for s, *_ in finished) == sorted(students)
    by = {s: (result, failure, seconds, at) for s, result, failure, seconds, at in finished}
    for s in "abcdefg":
        assert by[s][1] is None and by[s][0]["student"] == s
    assert by["dies"][1] == "its grading process died (exit status 3: Segmentation fault (pretend))"
    assert by["hangs"][1] == "grading it took longer than the 4 s limit for one submission; stopped"
    assert 4 <= by["hangs"][2] < 8
    assert by["floods"][1] == "its grading process printed more than 10 MB outside the notebook; stopped"
    # The others went on while "hangs" ran out its time, and everything it started is gone.
    assert by["hangs"][3] > max(by[s][3] for s in "cdefg" if s != "hangs") - 1 or took < 10
    assert took < 12
    for pid in map(int, pids.read_text().split()):
        for _ in range(50):              # SIGKILL takes effect soon, not at once
            if not _alive(pid):
                break
            time.sleep(0.1)
        assert not _alive(pid)
    assert pool.workers == []


def test_a_worker_that_cannot_start_stops_the_batch(fake, tmp_path):
    command = [sys.executable, str(fake), "--broken"]
    pool = Pool(lambda slot: Worker(slot, command, str(tmp_path), dict(os.environ)), jobs=2)
    with pytest.raises(WorkerError, match="could not start .*no module named nbgrader"):
        pool.run([{"student": "a"}], lambda *args: None)


# ------------------------------------------------------------------ gradebook copies

@pytest.fixture(scope="module")
def empty_book(tmp_path_factory):
    """A small gradebook: one problem set, one notebook, two tests and an answer cell."""
    path = tmp_path_factory.mktemp("book") / "course.db"
    with pytest.MonkeyPatch.context() as mp:
        # nbgrader runs `alembic` from PATH when it creates a gradebook.
        mp.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
        _fill(f"sqlite:///{path}")
    return path


@pytest.fixture
def course_book(empty_book, tmp_path, monkeypatch):
    """A fresh copy of that gradebook for one test; its URL."""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    shutil.copy(empty_book, tmp_path / "course.db")
    return f"sqlite:///{tmp_path / 'course.db'}"


def _fill(url):
    from nbgrader.api import Gradebook
    with Gradebook(url, "course") as gb:
        gb.update_or_create_assignment("ps", duedate="2026-01-01 12:00:00")
        gb.update_or_create_notebook("ps", "ps")
        for name, points in (("test_a", 2.0), ("test_b", 3.0)):
            gb.update_or_create_grade_cell(name, "ps", "ps", max_score=points, cell_type="code")
            gb.update_or_create_source_cell(name, "ps", "ps", cell_type="code", locked=True,
                                            source=f"assert {name}", checksum=name)
        gb.update_or_create_solution_cell("answer", "ps", "ps")
        gb.update_or_create_source_cell("answer", "ps", "ps", cell_type="code", locked=False,
                                        source="x = ...", checksum="answer")


def test_a_scratch_gradebook_holds_the_problem_set_and_its_grades_come_back_whole(course_book, tmp_path):
    from nbgrader.api import Gradebook

    from course_tools.gradebooks import (autograded_students, make_scratch, store_submission,
                                         submission_record)
    scratch = make_scratch(course_book, "course", "ps", tmp_path / "scratch.db")
    with Gradebook(scratch, "course") as gb:
        nb = gb.find_notebook("ps", "ps")
        assert {c.name: c.max_score for c in nb.grade_cells} == {"test_a": 2.0, "test_b": 3.0}
        assert {c.name: (c.locked, c.source) for c in nb.source_cells} == {
            "test_a": (True, "assert test_a"), "test_b": (True, "assert test_b"),
            "answer": (False, "x = ...")}
        assert gb.find_assignment("ps").duedate is not None
        # What autograding would write there.
        gb.update_or_create_student("ann")
        gb.update_or_create_submission("ps", "ann", timestamp="2026-01-02 12:00:00")
        gb.find_grade("test_a", "ps", "ps", "ann").auto_score = 2.0
        gb.find_grade("test_b", "ps", "ps", "ann").auto_score = 0.0
        gb.find_comment("answer", "ps", "ps", "ann").auto_comment = "No response."
        gb.db.commit()
        record = submission_record(gb, "ps", "ann")
    with Gradebook(course_book, "course") as gb:
        assert autograded_students(gb, "ps") == set()
        store_submission(gb, "ps", "ann", record)
        submission = gb.find_submission("ps", "ann")
        assert submission.score == 2.0 and submission.timestamp.day == 2
        assert gb.find_comment("answer", "ps", "ps", "ann").auto_comment == "No response."
        assert not submission.needs_manual_grade
        assert autograded_students(gb, "ps") == {"ann"}
        # A manual score stays, and the grade is marked for a person to look at again.
        gb.find_grade("test_b", "ps", "ps", "ann").manual_score = 1.0
        gb.db.commit()
        store_submission(gb, "ps", "ann", record)
        grade = gb.find_grade("test_b", "ps", "ps", "ann")
        assert grade.manual_score == 1.0 and grade.auto_score == 0.0 and grade.needs_manual_grade


def test_a_scratch_gradebook_is_made_without_running_alembic(course_book, tmp_path, monkeypatch):
    """nbgrader stamps a new gradebook with what `alembic heads` prints, in a process of its
    own (seconds); the scratch gradebook takes the course gradebook's version instead."""
    import nbgrader.api
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, inspect, text

    from course_tools.gradebooks import make_scratch

    def no_alembic():
        raise AssertionError("alembic was run for the scratch gradebook")
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_alembic)
    scratch = make_scratch(course_book, "course", "ps", tmp_path / "scratch.db")
    schemas = []
    for url in (course_book, scratch):
        engine = create_engine(url)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        schemas.append((version, sorted(inspect(engine).get_table_names())))
        engine.dispose()
    assert schemas[0] == schemas[1] and schemas[0][0]
    with Gradebook(scratch, "course") as gb:
        assert [c.name for c in gb.find_notebook("ps", "ps").grade_cells] == ["test_a", "test_b"]


def test_a_submission_that_fails_to_store_leaves_nothing_behind(course_book):
    from nbgrader.api import Gradebook, MissingEntry

    from course_tools.gradebooks import store_submission
    record = {"timestamp": "not a date", "notebooks": {"ps": {"grades": {"test_a": 2.0},
                                                              "comments": {}}}}
    with Gradebook(course_book, "course") as gb:
        with pytest.raises(Exception):
            store_submission(gb, "ps", "bob", record)
    with Gradebook(course_book, "course") as gb:
        with pytest.raises(MissingEntry):
            gb.find_submission("ps", "bob")


def test_extensions_reach_the_scratch_gradebook(course_book, tmp_path):
    from nbgrader.api import Gradebook

    from course_tools.gradebooks import extension_seconds, make_scratch, set_extension
    with Gradebook(course_book, "course") as gb:
        assert extension_seconds(gb, "ps", "cem") is None
        gb.update_or_create_student("cem")
        gb.update_or_create_submission("ps", "cem")      # as the formgrader makes one
        gb.grant_extension("ps", "cem", days=2)
        seconds = extension_seconds(gb, "ps", "cem")
    assert seconds == 2 * 86400
    scratch = make_scratch(course_book, "course", "ps", tmp_path / "scratch.db")
    with Gradebook(scratch, "course") as gb:
        set_extension(gb, "ps", "cem", seconds)
        assert gb.find_submission("ps", "cem").extension == timedelta(days=2)
