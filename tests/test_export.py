"""Grades out (course_tools.export): a small class graded by course_tools.grade, exported as
nbgrader's CSV and Canvas's Gradebook import, every cell checked against scores known
independently (the solution's full marks, the blank's 0, the points a known mistake loses)
and against the gradebook as nbgrader's API reads it."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils as cu
from course_tools.export import number, short
from test_problem_sets import SUBMISSIONS, build

PS = "ps1_finite_differences"
ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
MISTAKE = "central_is_forward"
PENALTY = 1.5        # a late penalty written into the gradebook for "partly"
ODD = 'zoë, "q"'     # a student id with a comma, quotes and a non-ASCII letter

pytestmark = [pytest.mark.timeout(1200),
              pytest.mark.filterwarnings("ignore:Object of type <Submitted")]


def run(course, *args, check=True):
    return subprocess.run([sys.executable, "-m", *args], cwd=course, env=ENV, check=check,
                          capture_output=True, text=True, timeout=900)


def gradebook(course):
    from nbgrader.api import Gradebook
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}", "minigrad-kit")


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def adjust(gb):
    """What the tests change by hand after grading: names, a student who handed in
    nothing, a late penalty."""
    gb.update_or_create_student("right", first_name="Ada", last_name="Lovelace",
                                email="ada@example.org", lms_user_id="101")
    gb.update_or_create_student("absent", first_name="Ab", last_name="Sent")
    nb = gb.find_submission(PS, "partly").notebooks[0]
    nb.late_submission_penalty = PENALTY
    gb.db.commit()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = cu.make_course(tmp_path_factory.mktemp("export") / "course")
    cu.submit(course, "right", PS, cu.solved(PS))
    cu.submit(course, "partly", PS, build(PS, {MISTAKE: SUBMISSIONS[PS]["wrong"][MISTAKE]}))
    cu.submit(course, "blank", PS, cu.untouched(PS))
    graded = run(course, "course_tools.grade", PS, "--no-report")
    assert "3 submissions graded" in graded.stdout, graded.stdout + graded.stderr
    with gradebook(course) as gb:
        adjust(gb)
    run(course, "nbgrader", "export", "--to", "nbgrader_export.csv")
    out = run(course, "course_tools.export", "--wide")
    assert "Written" in out.stdout, out.stdout + out.stderr
    return course


def expected():
    """Each student's score on PS after the penalty, from known points alone (None: missing)."""
    points = cu.grade_cells(PS)
    full = sum(points.values())
    lost = sum(points[c] for c in SUBMISSIONS[PS]["wrong"][MISTAKE]["lost"])
    return {"right": full, "partly": full - lost - PENALTY, "blank": 0.0, "absent": None}, full


def test_nbgrader_csv_is_what_nbgrader_export_writes(course):
    """The same lines as nbgrader's export; the order is nbgrader's (due date, last name,
    first name, a missing one first as on SQLite) with students of the same name by id,
    where nbgrader leaves their order to the database."""
    ours = (course / "grades" / "nbgrader_grades.csv").read_text(encoding="utf-8").splitlines()
    theirs = (course / "nbgrader_export.csv").read_text().splitlines()
    assert ours[0] == theirs[0] and sorted(ours) == sorted(theirs)
    ids = [line.split(",")[3] for line in ours[1:]]
    assert ids == ["blank", "partly", "right", "absent"]   # no name (by id), Lovelace, Sent


def test_nbgrader_csv_scores(course):
    scores, full = expected()
    table = {r["student_id"]: r for r in csv.DictReader(open(course / "grades" / "nbgrader_grades.csv"))}
    assert set(table) == set(scores)
    for student, score in scores.items():
        assert float(table[student]["score"]) == (score or 0.0), student
        assert float(table[student]["max_score"]) == full
    assert float(table["partly"]["late_submission_penalty"]) == PENALTY
    assert float(table["partly"]["raw_score"]) == scores["partly"] + PENALTY


def test_canvas_csv_every_cell(course):
    scores, full = expected()
    table = rows(course / "grades" / "canvas_grades.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", PS]
    assert table[1] == ["Points Possible", "", "", "", "", short(full)]
    body = {r[3]: r for r in table[2:]}
    assert set(body) == set(scores)
    with gradebook(course) as gb:
        for student, score in scores.items():
            cell = body[student][5]
            if score is None:
                assert cell == "", student            # not submitted: no grade in Canvas
                continue
            sub = gb.find_submission(PS, student)
            from_api = max(0.0, sub.score - sub.late_submission_penalty)
            assert float(cell) == pytest.approx(score) == pytest.approx(from_api), student
            assert cell == short(score)
    assert body["right"][:3] == ["Lovelace, Ada", "101", ""]
    assert body["absent"][0] == "Sent, Ab"
    assert body["blank"][0] == "blank"            # no name in the gradebook: its id


def test_wide_csv(course):
    scores, _ = expected()
    table = rows(course / "grades" / "wide_grades.csv")
    assert table[0] == ["student_id", PS, "total"]
    for sid, cell, total in table[1:]:
        score = scores[sid]
        assert cell == ("" if score is None else short(score))
        assert float(total) == pytest.approx(score or 0.0)


def test_no_test_or_answer_text_in_the_export(course):
    source = cu.read(cu.notebook_path(ROOT / "solutions", PS))
    secret = [line.strip() for c in source.cells
              for block in cu.hidden_blocks(c.source) + cu.solution_regions(c.source)
              for line in block.splitlines() if len(line.strip()) > 12]
    assert secret
    for path in (course / "grades").glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not [s for s in secret if s in text], path


def test_odd_ids_roster_and_zero_for_missing(course, tmp_path):
    with gradebook(course) as gb:
        gb.update_or_create_student(ODD, first_name="Zoë", last_name='O"Neil, Jr.',
                                    email="zoe@example.org")
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{PS} (4242)"])
        w.writerow(["    Points Possible", "", "", "", "", "10"])
        w.writerow(["Lovelace, Ada", "101", "S-1", "ada", "Tue lab", ""])
        w.writerow(['O"Neil, Jr., Zoë', "102", "S-2", ODD, "Wed lab", ""])
    try:
        out = run(course, "course_tools.export", "--out", str(tmp_path / "g"), "--roster",
                  str(roster), "--missing", "zero", "--assignment", PS)
        table = rows(tmp_path / "g" / "canvas_grades.csv")
        assert table[0][5] == f"{PS} (4242)"
        body = {r[3]: r for r in table[2:]}
        assert body["ada"] == ["Lovelace, Ada", "101", "S-1", "ada", "Tue lab", "10"]
        assert body[ODD] == ['O"Neil, Jr., Zoë', "102", "S-2", ODD, "Wed lab", "0"]
        assert body["absent"][5] == "0"
        assert "not in the roster" in out.stderr and "partly" in out.stderr
        ours = {r["student_id"]: r for r in csv.DictReader(
            open(tmp_path / "g" / "nbgrader_grades.csv", encoding="utf-8"))}
        assert ours[ODD]["last_name"] == 'O"Neil, Jr.' and ours[ODD]["score"] == "0.0"
    finally:
        with gradebook(course) as gb:
            gb.remove_student(ODD)


def test_clear_errors(course, tmp_path, monkeypatch):
    # nbgrader makes a new gradebook by running `alembic`, found on PATH: the venv's.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    empty = cu.make_course(tmp_path / "empty")
    failed = run(empty, "course_tools.export", check=False)
    assert failed.returncode != 0
    assert failed.stderr.strip().splitlines() == [failed.stderr.strip()]
    assert "no gradebook" in failed.stderr and "course_tools.grade" in failed.stderr
    failed = run(course, "course_tools.export", "--assignment", "ps9_nothing", check=False)
    assert failed.returncode != 0 and "not in the gradebook: ps9_nothing" in failed.stderr
    # a gradebook with the problem set but no graded submission
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{empty / 'gradebook.db'}", "minigrad-kit") as gb:
        gb.update_or_create_assignment(PS)
    failed = run(empty, "course_tools.export", check=False)
    assert failed.returncode != 0 and "no grades" in failed.stderr
    assert "course_tools.grade" in failed.stderr


def test_a_postgresql_gradebook_exports_the_same_files(course, postgres, tmp_path):
    """The same class graded into PostgreSQL (--db-url, as a hub's course would) and
    exported from there: the same three files, byte for byte, as from SQLite."""
    import shutil
    from nbgrader.api import Gradebook
    copy = tmp_path / "course"
    shutil.copytree(course, copy, ignore=shutil.ignore_patterns(
        "gradebook.db", "grades", "autograded", "feedback", "nbgrader_export.csv"))
    url = postgres.database("export")
    graded = run(copy, "course_tools.grade", PS, "--no-report", "--db-url", url)
    assert "3 submissions graded" in graded.stdout, graded.stdout + graded.stderr
    assert not (copy / "gradebook.db").exists()
    with Gradebook(url, "minigrad-kit") as gb:
        adjust(gb)
    out = run(copy, "course_tools.export", "--wide", "--db-url", url)
    assert "Written" in out.stdout, out.stdout + out.stderr
    names = sorted(p.name for p in (course / "grades").glob("*.csv"))
    assert names == ["canvas_grades.csv", "nbgrader_grades.csv", "wide_grades.csv"]
    for name in names:
        assert (copy / "grades" / name).read_bytes() == (course / "grades" / name).read_bytes(), name


def test_numbers_without_float_noise():
    assert short(7.499999999999) == "7.5" and number(7.499999999999) == "7.5"
    assert short(0.1 + 0.2) == "0.3" and short(10.0) == "10" and short(-0.0) == "0"
    assert number(10) == "10.0"
