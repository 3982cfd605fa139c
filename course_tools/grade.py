"""Grade every submission of one problem set, whatever state the notebooks are in.

Run from the repository root (where nbgrader_config.py is)::

    python -m course_tools.grade ps2_vjp_rules

Submissions are read from ``submitted/<student>/<problem set>/``, as ``nbgrader collect``
leaves them. Each one is first read and checked here (a file that is not a notebook scores
0 and the batch goes on), then autograded by nbgrader with the preprocessors of
:mod:`course_tools.preprocessors` in its pipeline. One line per student is printed as it
finishes; each submission that needed attention gets one WARNING line saying why; a table
of every student's score ends the run. See docs/grading_a_class.md.
"""

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

from .preprocessors import _human

LOG = logging.getLogger("course_tools.grade")

# Names in a student's cell that reach past the grading guard (the interpreter's internals,
# IPython's hooks). Honest answers never need them; a person should read a cell that does.
SUSPICIOUS = {
    "sys.modules": r"\bsys\s*\.\s*modules\b",
    "__code__": r"\b__code__\b",
    "__globals__": r"\b__globals__\b",
    "__closure__": r"\b__closure__\b",
    "__builtins__": r"\b__builtins__\b",
    "builtins": r"\bbuiltins\b",
    "ctypes": r"\bctypes\b",
    "gc": r"\bgc\s*\.\s*get_",
    "get_ipython": r"\bget_ipython\b",
    "importlib": r"\bimportlib\b",
    "__import__": r"\b__import__\b",
    "sys._getframe": r"\b_getframe\b",
    "sys.settrace": r"\bset(trace|profile)\b",
    "signal": r"\bsignal\s*\.\s*signal\b",
    "threading": r"\b(_thread|threading)\b",
    "sys.addaudithook": r"\baddaudithook\b",
}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m course_tools.grade",
        description="Autograde every submission of one problem set with nbgrader, surviving "
                    "broken and hostile notebooks, and print a per-student summary.")
    p.add_argument("assignment", help="problem set to grade, e.g. ps2_vjp_rules")
    p.add_argument("--student", action="append", default=[], metavar="ID",
                   help="grade only this student (repeat for several); default: everyone "
                        "in submitted/")
    p.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                   help="seconds one cell may run before it is interrupted "
                        "(default: Execute.timeout in nbgrader_config.py)")
    p.add_argument("--max-output", type=int, default=100_000, metavar="CHARS",
                   help="characters of output kept per cell in the graded notebook and its "
                        "feedback (default: 100000)")
    p.add_argument("--max-notebook-size", type=float, default=100.0, metavar="MB",
                   help="a submitted notebook larger than this is not graded (default: 100)")
    p.add_argument("--config", action="append", default=[], metavar="FILE",
                   help="extra nbgrader config file, loaded after nbgrader_config.py")
    p.add_argument("--root", default=".", help="course directory (default: current directory)")
    p.add_argument("--no-guard", action="store_true",
                   help="run kernels without the grading guard (not recommended)")
    p.add_argument("--db-url", default=None, metavar="URL",
                   help="gradebook database URL (CourseDirectory.db_url), e.g. "
                        "postgresql+psycopg://user@127.0.0.1/course; default: the config's")
    p.add_argument("--no-report", action="store_true",
                   help="do not print and write the class report after the batch")
    p.add_argument("--json", metavar="FILE", help="also write the summary to FILE as JSON")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print nbgrader's own log for every submission")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------ reading

def read_notebook(path, max_bytes):
    """The notebook at ``path`` as a dict, or ``(None, why it cannot be graded)``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return None, (f"notebook is {_human(size, 'bytes')}, over the "
                          f"{_human(max_bytes, 'bytes')} limit")
        data = path.read_bytes()
    except OSError as exc:
        return None, f"notebook cannot be read ({exc.strerror or exc})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"notebook is not UTF-8 text (byte {exc.start})"
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"notebook is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    except RecursionError:
        return None, "notebook is not valid JSON (nested too deeply)"
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        return None, "file is JSON but not a Jupyter notebook (nbformat 4 with a list of cells)"
    for number, cell in enumerate(nb["cells"], 1):
        if (not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw")
                or not isinstance(cell.get("source", ""), (str, list))
                or not isinstance(cell.get("metadata", {}), dict)):
            return None, f"notebook is damaged: cell {number} is not a valid cell"
    return nb, None


# minigrad's own differentiation: a rule that calls it computes the gradient it should derive.
DIFFERENTIATION = {"grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "value_and_grad",
                   "make_vjp", "central_difference", "forward_difference", "backward_difference"}


def _differentiation_in_rules(source):
    """(name, line) of calls to minigrad's differentiation inside a function or lambda."""
    import ast
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = []
    rules = []
    for node in ast.walk(tree):
        # A rule: a function named like one (sigmoid_vjp, exp_jvp) or a lambda given to
        # mg.defvjp / mg.defjvp. Training code may call mg.grad; rules may not.
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and re.search(
                r"(vjp|jvp)", node.name):
            rules.append(node)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) in ("defvjp", "defjvp"):
            rules += [a for a in node.args[1:] if isinstance(a, ast.Lambda)]
    # Which names mean minigrad here: the problem sets' own `mg`, and whatever the cell
    # imports from it. A local function that happens to be called vjp (a layer's VJP in
    # problem set 5) is not minigrad's.
    modules, functions = {"mg", "minigrad"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name.split(".")[0] for a in node.names
                        if a.name.split(".")[0] == "minigrad"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "minigrad":
            functions |= {a.asname or a.name for a in node.names if a.name in DIFFERENTIATION}
            modules |= {a.asname or a.name for a in node.names if a.name not in DIFFERENTIATION}
    for node in rules:
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Call):
                continue
            f = inner.func
            if isinstance(f, ast.Attribute) and f.attr in DIFFERENTIATION:
                base = f.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in modules:
                    found.append((f"minigrad's {f.attr}() inside a rule", inner.lineno))
            elif isinstance(f, ast.Name) and f.id in functions:
                found.append((f"minigrad's {f.id}() inside a rule", inner.lineno))
    return list(dict.fromkeys(found))


def audit(nb, locked_ids):
    """What a person should read in the cells a student could edit: (what, cell, line)."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or (isinstance(meta, dict) and meta.get("grade_id") in locked_ids):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        label = (f"'{meta['grade_id']}'" if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str)
                 else str(index + 1))
        for name, pattern in SUSPICIOUS.items():
            for number, line in enumerate(source.splitlines(), 1):
                if re.search(pattern, line):
                    found.append((name, label, number))
                    break
        found += [(name, label, line) for name, line in _differentiation_in_rules(source)]
    return found


def review_reason(found):
    """The summary's "needs review" note for what :func:`audit` found."""
    names = list(dict.fromkeys(name for name, _, _ in found))
    where = "; ".join(f"{name} in cell {label} line {line}" for name, label, line in found[:6])
    if len(found) > 6:
        where += f"; and {len(found) - 6} more"
    return f"uses {', '.join(names)}: a person should read its code (needs review: {where})"


# ------------------------------------------------------------------------------ reasons

# The sentences of what the preprocessors noticed: each kind of incident says itself.
from .incidents import _some, describe  # noqa: E402,F401 (_some names students in the log too)

# ------------------------------------------------------------------------------ nbgrader

def load_config(root, extra_files, args):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from .pipeline import configure

    config = Config()
    for path in [root / "nbgrader_config.py"] + [Path(p) for p in extra_files]:
        if path.exists():
            config.merge(PyFileConfigLoader(path.name, path=str(path.parent.resolve())).load_config())
        elif path != root / "nbgrader_config.py":
            raise SystemExit(f"config file not found: {path}")
    config.CourseDirectory.root = str(root)
    if getattr(args, "db_url", None):
        config.CourseDirectory.db_url = args.db_url
    # The same pipeline as nbgrader_config.py sets, even if a course's config does not.
    configure(config)
    release = config.CourseDirectory.get("release_directory", "release")
    config.InspectCells.release_directory = str(root / release)
    config.GuardedExecute.max_output_bytes = args.max_output
    config.GuardedExecute.guard_kernel = not args.no_guard
    if args.timeout is not None:
        config.GuardedExecute.timeout = args.timeout
    return config


class Grader:
    """nbgrader's API for one problem set, with its log kept out of the terminal."""

    def __init__(self, root, config, assignment):
        from nbgrader.apps import NbGraderAPI

        self.root, self.assignment = root, assignment
        self.nb_log = logging.getLogger("course_tools.nbgrader")
        self.nb_log.propagate = False
        self.nb_log.addHandler(logging.NullHandler())
        self.nb_log.setLevel(logging.INFO)
        self.api = NbGraderAPI(config=config, log=self.nb_log)
        self.db_url = self.api.coursedir.db_url

    def gradebook(self):
        from nbgrader.api import Gradebook
        return Gradebook(self.db_url, self.api.coursedir.course_id)

    def ensure_assignment(self):
        """The problem set's notebooks as the gradebook knows them; generate it if needed."""
        from nbgrader.api import MissingEntry
        with self.gradebook() as gb:
            try:
                notebooks = [nb.name for nb in gb.find_assignment(self.assignment).notebooks]
            except MissingEntry:
                notebooks = []
        if notebooks:
            return notebooks
        source = self.root / self.api.coursedir.source_directory / self.assignment
        if not source.is_dir():
            raise SystemExit(f"{self.assignment} is not in the gradebook and {source} does not exist")
        LOG.info("%s is not in the gradebook yet: running nbgrader generate_assignment on %s",
                 self.assignment, source)
        coursedir = self.api.coursedir
        release = coursedir.release_directory
        with tempfile.TemporaryDirectory() as scratch:
            # Fill the gradebook without rewriting the committed release notebooks.
            coursedir.release_directory = scratch
            try:
                result = self.api.generate_assignment(self.assignment, force=True, create=True)
            finally:
                coursedir.release_directory = release
        if not result["success"]:
            raise SystemExit(f"nbgrader generate_assignment failed:\n{result.get('log', '')}"
                             f"{result.get('error', '')}")
        return self.ensure_assignment()

    def students(self, only):
        submitted = self.root / self.api.coursedir.submitted_directory
        found = sorted(p.parent.name for p in submitted.glob(f"*/{self.assignment}") if p.is_dir())
        if only:
            missing = [s for s in only if s not in found]
            if missing:
                raise SystemExit(f"no submission of {self.assignment} from: {', '.join(missing)}")
            found = [s for s in found if s in only]
        return found

    def locked_ids(self, notebook):
        with self.gradebook() as gb:
            nb = gb.find_notebook(notebook, self.assignment)
            return {c.name for c in nb.source_cells if c.locked}

    def autograde(self, student, notebook=None):
        """nbgrader autograde for one student (one notebook, or all); success, log."""
        coursedir = self.api.coursedir
        previous = coursedir.notebook_id
        coursedir.notebook_id = notebook or "*"
        try:
            result = self.api.autograde(self.assignment, student, force=True, create=True)
        finally:
            coursedir.notebook_id = previous
        return result

    def zero(self, student, notebooks):
        """Score these notebooks 0 in the gradebook, as nbgrader does for missing ones."""
        with self.gradebook() as gb:
            gb.update_or_create_student(student)
            submission = gb.update_or_create_submission(self.assignment, student)
            for nb in submission.notebooks:
                if nb.name in notebooks:
                    for grade in nb.grades:
                        grade.auto_score = 0.0
                        grade.needs_manual_grade = False
            gb.db.commit()
        for name in notebooks:
            stale = (self.root / self.api.coursedir.autograded_directory / student
                     / self.assignment / f"{name}.ipynb")
            if stale.exists():
                stale.unlink()

    def score(self, student):
        with self.gradebook() as gb:
            submission = gb.find_submission(self.assignment, student)
            return float(submission.score), float(submission.max_score)


def grade_student(grader, student, notebooks, args):
    from .preprocessors import EVENTS

    folder = grader.root / grader.api.coursedir.submitted_directory / student / grader.assignment
    reasons, broken, readable, suspicious = [], [], [], []
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            others = sorted(p.name for p in folder.glob("*.ipynb"))
            found = f" (found: {', '.join(others)})" if others else ""
            reasons.append(f"no {name}.ipynb in the submission{found}; scored 0")
            broken.append(name)
            continue
        nb, problem = read_notebook(path, args.max_notebook_size * 1e6)
        if problem:
            reasons.append(f"{problem}; scored 0")
            broken.append(name)
        else:
            readable.append(name)
            suspicious += [s for s in audit(nb, grader.locked_ids(name)) if s not in suspicious]

    logs, failed = [], None
    for key in [k for k in EVENTS if k[0] == student]:
        del EVENTS[key]
    if readable:
        runs = [None] if not broken else readable
        for notebook in runs:
            result = grader.autograde(student, notebook)
            logs.append(result.get("log", ""))
            if not result["success"]:
                failed = result
        for name in readable:
            reasons += describe(EVENTS.pop((student, name), []))
    if failed is not None:
        text = (failed.get("log") or "") + "\n" + (failed.get("error") or "")
        errors = [m.group(1) for m in re.finditer(r"^\s*(\w[\w.]*(?:Error|Exception|Exit)\b.*)$",
                                                  text, re.M) if "NbGraderException" not in m.group(1)]
        reasons.append(f"nbgrader could not grade it ({errors[-1] if errors else 'see --verbose'}); "
                       f"scored 0")
        broken = list(notebooks)
    if broken:
        grader.zero(student, broken)
    if suspicious:
        reasons.append(review_reason(suspicious))
    score, max_score = grader.score(student)
    return score, max_score, reasons, "\n".join(logs)


def print_table(rows, out):
    width = max([len("student")] + [len(r["student"]) for r in rows])
    out.write(f"\n{'student':<{width}}  {'score':>7}  {'max':>6}  note\n")
    out.write(f"{'-' * width}  {'-' * 7}  {'-' * 6}  {'-' * 30}\n")
    for r in rows:
        note = "; ".join(r["reasons"]) if r["reasons"] else "ok"
        out.write(f"{r['student']:<{width}}  {r['score']:>7.2f}  {r['max_score']:>6.2f}  {note}\n")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    # nbgrader's gradebook code trips SQLAlchemy warnings that say nothing about the grades.
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    warnings.filterwarnings("ignore", message="Cell is missing an id field")
    root = Path(args.root).resolve()
    json_path = Path(args.json).resolve() if args.json else None
    args.config = [str(Path(p).resolve()) for p in args.config]
    if not (root / "nbgrader_config.py").exists():
        raise SystemExit(f"no nbgrader_config.py in {root}: run from the course's root or pass --root")
    os.chdir(root)
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use the one installed
    # beside this Python, so the command works without activating the environment.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

    config = load_config(root, args.config, args)
    grader = Grader(root, config, args.assignment)
    notebooks = grader.ensure_assignment()
    students = grader.students(args.student)
    if not students:
        raise SystemExit(f"no submissions of {args.assignment} in "
                         f"{root / grader.api.coursedir.submitted_directory}")
    from .preprocessors import GuardedExecute
    timeout = GuardedExecute(config=config).timeout
    print(f"Grading {args.assignment}: {len(students)} submissions, {timeout} s per cell, "
          f"{args.max_output} characters of output kept per cell", flush=True)

    rows, started = [], time.monotonic()
    for number, student in enumerate(students, 1):
        begin = time.monotonic()
        score, max_score, reasons, log = grade_student(grader, student, notebooks, args)
        seconds = time.monotonic() - begin
        rows.append({"student": student, "score": score, "max_score": max_score,
                     "flagged": bool(reasons), "reasons": reasons, "seconds": round(seconds, 2)})
        print(f"[{number:>{len(str(len(students)))}}/{len(students)}] {student}: "
              f"{score:g} / {max_score:g} ({seconds:.1f} s)", flush=True)
        if reasons:
            LOG.warning("%s: %s", student, "; ".join(reasons))
        if args.verbose and log:
            sys.stderr.write(log)
    total = time.monotonic() - started

    # Read every score back from the gradebook once the whole batch is done, so that the
    # table shows what is stored now, not what was true right after each student.
    for r in rows:
        stored = grader.score(r["student"])
        if (r["score"], r["max_score"]) != stored:
            LOG.warning("%s: the gradebook now holds %g / %g, not the %g / %g just graded",
                        r["student"], stored[0], stored[1], r["score"], r["max_score"])
            r["reasons"].append("score changed in the gradebook after grading (needs review)")
            r["flagged"] = True
        r["score"], r["max_score"] = stored
    print_table(rows, sys.stdout)
    flagged = sum(r["flagged"] for r in rows)
    print(f"\n{len(rows)} submission{'' if len(rows) == 1 else 's'} graded in {total:.0f} s; {flagged} flagged. "
          f"Scores are in {grader.db_url}.")
    if not args.no_report:
        from .report import collect, render
        try:
            out_dir = root / grader.api.coursedir.feedback_directory
            print("\nClass report (test cells passed, and failed by reason):")
            print(render(collect(root, args.assignment, grader.db_url), args.assignment, out_dir))
            print(f"Written to {out_dir / (args.assignment + '_class_report')}.csv, .png, .html")
        except Exception as exc:  # the grades are stored; a report failure must not hide them
            LOG.warning("class report not written: %s", exc)
    if json_path:
        json_path.write_text(json.dumps(
            {"assignment": args.assignment, "seconds": round(total, 2), "students": rows},
            indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
