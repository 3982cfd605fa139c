"""Grades out: the gradebook as CSV files an LMS imports.

Run from the course directory (where nbgrader_config.py and gradebook.db are), after
``python -m course_tools.grade``::

    python -m course_tools.export [--out grades] [--assignment ps1_finite_differences]
                                  [--roster canvas_export.csv] [--wide] [--missing blank|zero]

It writes, in ``--out`` (default ``grades/``):

- ``nbgrader_grades.csv``: the rows and columns of ``nbgrader export`` (one row per student
  and problem set; a missing submission scores 0, as nbgrader has it), the same lines for
  ordinary ids, but written with the csv module, so that an id or name with a comma or a
  quote stays one field, and in UTF-8, and in an order that does not depend on the
  database (students without a name first, as nbgrader has it on SQLite; then by id);
- ``canvas_grades.csv``: Canvas's Gradebook import: ``Student, ID, SIS User ID, SIS Login ID,
  Section``, one column per problem set (its score after nbgrader's late penalty), and a
  ``Points Possible`` row;
- ``wide_grades.csv`` with ``--wide``: student id, one column per problem set, total.

Only scores and the Student table's names leave the gradebook: no cell's text is read.
"""

import argparse
import csv
import os
import sys
import warnings
from pathlib import Path

CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def number(x):
    """``x`` without float noise (7.499999999 -> 7.5), as Python writes a float (10.0)."""
    return str(round(float(x), 6) + 0.0)


def short(x):
    """``x`` as a person writes it: 7.5, 10, 0."""
    text = number(x)
    return text[:-2] if text.endswith(".0") else text


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m course_tools.export",
        description="Write the gradebook's grades as nbgrader's CSV export and as a CSV that "
                    "Canvas's Gradebook import reads.")
    p.add_argument("--out", default="grades", metavar="DIR",
                   help="folder for the CSV files (default: grades/ in the course)")
    p.add_argument("--assignment", action="append", default=[], metavar="NAME",
                   help="export only this problem set (repeat for several); default: all")
    p.add_argument("--roster", metavar="CSV",
                   help="a Canvas gradebook export of the class: maps students to Canvas's "
                        "ID, SIS and Section columns and problem sets to Canvas assignment ids")
    p.add_argument("--missing", choices=("blank", "zero"), default="blank",
                   help="a missing submission in the Canvas and wide files: an empty cell "
                        "(Canvas: not graded; default) or 0")
    p.add_argument("--wide", action="store_true",
                   help="also write wide_grades.csv: student id, one column per problem set, total")
    p.add_argument("--db-url", default=None, metavar="URL",
                   help="gradebook database URL (CourseDirectory.db_url); default: the config's")
    p.add_argument("--root", default=".", help="course directory (default: current directory)")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------ reading

def course_settings(root, db_url=None):
    """(db_url, course_id) as nbgrader_config.py sets them."""
    from nbgrader.coursedir import CourseDirectory

    from .grade import course_config
    coursedir = CourseDirectory(config=course_config(root, db_url=db_url))
    return coursedir.db_url, coursedir.course_id


def _nulls_first(value):
    """A sort key that puts None first, as SQLite does. nbgrader's gradebook orders by
    names and due dates in the database, where PostgreSQL puts NULL last: sorting here
    keeps the files the same whichever database holds the gradebook."""
    return (value is not None, value if value is not None else "")


def read_grades(gb, only=()):
    """The gradebook's grades: (assignments, students, scores).

    ``assignments``: [(name, duedate, max_score)] in nbgrader's order (due date, then
    name); ``students``: the Student rows in nbgrader's order (last name, first name; then
    id), with a missing name or due date first whatever the database; ``scores``: {(assignment, student): {"timestamp",
    "raw_score", "late_submission_penalty", "score"}} for the submissions there are.
    """
    assignments = sorted(((a.name, a.duedate, float(a.max_score)) for a in gb.assignments
                          if not only or a.name in only),
                         key=lambda a: (_nulls_first(a[1]), a[0]))
    students = sorted((dict(id=s.id, first_name=s.first_name, last_name=s.last_name,
                            email=s.email, lms_user_id=s.lms_user_id) for s in gb.students),
                      key=lambda s: (_nulls_first(s["last_name"]),
                                     _nulls_first(s["first_name"]), s["id"]))
    scores = {}
    for name, _, _ in assignments:
        for sub in gb.find_assignment(name).submissions:
            raw, penalty = float(sub.score), float(sub.late_submission_penalty or 0.0)
            scores[name, sub.student_id] = {
                "timestamp": sub.timestamp, "raw_score": raw,
                "late_submission_penalty": sub.late_submission_penalty,
                "score": max(0.0, raw - penalty)}
    return assignments, students, scores


def read_roster(path):
    """A Canvas gradebook export: (student rows, {assignment title: Canvas id})."""
    import re
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows or len(rows[0]) < 2 or "Student" not in rows[0][0] or "ID" not in rows[0][1]:
        raise SystemExit(f"{path} is not a Canvas gradebook export (its first columns are not "
                         f"Student, ID, ...)")
    header = rows[0]
    ids = {}
    for title in header:
        m = re.fullmatch(r"(.*\S)\s*\((\d+)\)", title.strip())
        if m:
            ids[m.group(1)] = m.group(2)
    students = []
    for row in rows[1:]:
        entry = dict(zip(header, row))
        name = entry.get("Student", "").strip()
        if not name or "Points Possible" in name or not (entry.get("ID") or "").strip():
            continue
        students.append({k: (entry.get(k) or "").strip() for k in CANVAS_STUDENT_COLUMNS})
    return students, ids


def match_roster(student, roster):
    """The roster row of an nbgrader student, or None: by Canvas ID (lms_user_id), then SIS
    User ID, then SIS Login ID (the nbgrader id, or the email)."""
    tries = [("ID", student["lms_user_id"]), ("SIS User ID", student["id"]),
             ("SIS Login ID", student["id"]), ("SIS Login ID", student["email"])]
    for column, value in tries:
        if not value:
            continue
        found = [r for r in roster if r[column] and r[column].lower() == str(value).lower()]
        if len(found) == 1:
            return found[0]
    return None


# ------------------------------------------------------------------------------ writing

def _text(value):
    return "" if value is None else str(value)


def write_nbgrader(path, assignments, students, scores):
    """The rows of ``nbgrader export``, quoted where a field needs it."""
    keys = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
            "email", "raw_score", "late_submission_penalty", "score", "max_score"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(keys)
        for name, duedate, max_score in assignments:
            for s in students:
                got = scores.get((name, s["id"]))
                if got is None:   # nbgrader: no submission scores 0
                    got = {"timestamp": None, "raw_score": 0.0, "late_submission_penalty": 0.0,
                           "score": 0.0}
                penalty = got["late_submission_penalty"]
                out.writerow([name, _text(duedate), _text(got["timestamp"]), s["id"],
                              _text(s["last_name"]), _text(s["first_name"]), _text(s["email"]),
                              number(got["raw_score"]),
                              "" if penalty is None else number(penalty),
                              number(got["score"]), number(max_score)])


def _cell(scores, name, student, missing):
    got = scores.get((name, student))
    if got is None:
        return "0" if missing == "zero" else ""
    return short(got["score"])


def canvas_name(student):
    """Canvas's sortable name, "Last, First", or the nbgrader id when there is no name."""
    last, first = (student["last_name"] or "").strip(), (student["first_name"] or "").strip()
    if last and first:
        return f"{last}, {first}"
    return last or first or student["id"]


def write_canvas(path, assignments, students, scores, missing, roster=None, canvas_ids=None):
    """Canvas's Gradebook import; returns the students the roster does not list."""
    canvas_ids = canvas_ids or {}
    titles = [f"{name} ({canvas_ids[name]})" if name in canvas_ids else name
              for name, _, _ in assignments]
    unmatched = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(CANVAS_STUDENT_COLUMNS + titles)
        out.writerow(["Points Possible", "", "", "", ""]
                     + [short(m) for _, _, m in assignments])
        for s in students:
            row = match_roster(s, roster) if roster else None
            if row is None:
                if roster:
                    unmatched.append(s["id"])
                row = {"Student": canvas_name(s), "ID": _text(s["lms_user_id"]),
                       "SIS User ID": "", "SIS Login ID": s["id"], "Section": ""}
            out.writerow([row[k] for k in CANVAS_STUDENT_COLUMNS]
                         + [_cell(scores, name, s["id"], missing) for name, _, _ in assignments])
    return unmatched


def write_wide(path, assignments, students, scores, missing):
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["student_id"] + [name for name, _, _ in assignments] + ["total"])
        for s in students:
            total = sum(scores[name, s["id"]]["score"] for name, _, _ in assignments
                        if (name, s["id"]) in scores)
            out.writerow([s["id"]] + [_cell(scores, name, s["id"], missing)
                                      for name, _, _ in assignments] + [short(total)])


# ------------------------------------------------------------------------------ the command

def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    warnings.filterwarnings("ignore", module="nbgrader")
    root = Path(args.root).resolve()
    if not (root / "nbgrader_config.py").exists():
        raise SystemExit(f"no nbgrader_config.py in {root}: run from the course's root or pass --root")
    out_dir = (root / args.out) if not os.path.isabs(args.out) else Path(args.out)
    db_url, course_id = course_settings(root, args.db_url)
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).exists():
        raise SystemExit(f"no gradebook at {db_url[len('sqlite:///'):]}: grade first, e.g. "
                         f"python -m course_tools.grade ps1_finite_differences")
    roster = canvas_ids = None
    if args.roster:
        roster, canvas_ids = read_roster(Path(args.roster))

    from nbgrader.api import Gradebook
    with Gradebook(db_url, course_id) as gb:
        known = {a.name for a in gb.assignments}
        unknown = [a for a in args.assignment if a not in known]
        if unknown:
            raise SystemExit(f"not in the gradebook: {', '.join(unknown)} (it has: "
                             f"{', '.join(sorted(known)) or 'no problem sets'})")
        assignments, students, scores = read_grades(gb, set(args.assignment))
    if not scores:
        what = ", ".join(args.assignment) or "any problem set"
        raise SystemExit(f"no grades for {what} in {db_url}: grade first, e.g. "
                         f"python -m course_tools.grade {args.assignment[0] if args.assignment else 'ps1_finite_differences'}")

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "nbgrader_grades.csv", out_dir / "canvas_grades.csv"]
    write_nbgrader(written[0], assignments, students, scores)
    unmatched = write_canvas(written[1], assignments, students, scores, args.missing,
                             roster, canvas_ids)
    if args.wide:
        written.append(out_dir / "wide_grades.csv")
        write_wide(written[-1], assignments, students, scores, args.missing)
    missing = sum((a, s["id"]) not in scores for a, _, _ in assignments for s in students)
    print(f"{len(students)} students, {len(assignments)} problem set"
          f"{'' if len(assignments) == 1 else 's'} ({', '.join(a for a, _, _ in assignments)}), "
          f"{len(scores)} graded submissions, {missing} missing "
          f"({'empty cells' if args.missing == 'blank' else '0'} in the Canvas file).")
    if unmatched:
        print(f"WARNING not in the roster, so Canvas matches them by SIS Login ID or name: "
              f"{', '.join(unmatched)}", file=sys.stderr)
    for path in written:
        print(f"Written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
