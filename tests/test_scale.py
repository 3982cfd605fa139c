"""The class report after a batch: passes from the gradebook, failure reasons from the notebooks."""

import csv
import os
import subprocess
import sys

from course_utils import make_course, solved, submit, untouched

PS = "ps2_vjp_rules"


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
