"""Grade every submission of one problem set, whatever state the notebooks are in.

Run from the repository root (where nbgrader_config.py is)::

    python -m course_tools.grade ps2_vjp_rules

Submissions are read from ``submitted/<student>/<problem set>/``, as ``nbgrader collect``
leaves them. Each one is first read and checked here (a file that is not a notebook scores
0 and the batch goes on), then autograded by nbgrader with the preprocessors of
:mod:`course_tools.preprocessors` in its pipeline. One line per student is printed as it
finishes; each submission that needed attention gets one WARNING line saying why; a table
of every student's score ends the run. See docs/grading_a_class.md.

``--jobs N`` grades N submissions at once: the command starts N grading processes (this
module with ``--worker``, run by :mod:`course_tools.workers`), each autograding into a
scratch gradebook of its own, and copies every finished submission into the course's
gradebook itself (:mod:`course_tools.gradebooks`), so that it is the only writer there.
Students whose submission is graded already are skipped unless ``--force``.
"""

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

from .incidents import _human

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


def _cores():
    """The cores this process may run on (fewer than the machine's in a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


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
    p.add_argument("-j", "--jobs", type=int, default=_cores(), metavar="N",
                   help="grade N submissions at once, each in its own process and sandbox "
                        "(default: the number of cores, here %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="grade again the submissions the gradebook already holds grades for "
                        "(default: grade only the missing ones)")
    p.add_argument("--submission-timeout", type=float, default=600, metavar="SECONDS",
                   help="seconds one whole submission may take; it is then stopped and "
                        "scores 0 (default: 600)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print nbgrader's own log for every submission")
    # A grading process started by the command itself (course_tools.workers).
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-db", help=argparse.SUPPRESS)
    p.add_argument("--worker-fds", help=argparse.SUPPRESS)
    p.add_argument("--worker-slot", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    return args


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

def course_config(root, extra_files=(), db_url=None):
    """The course's nbgrader configuration, as nbgrader run in `root` reads it: its
    nbgrader_config.py, then each extra file; the course root, and `db_url` if given."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    for path in [root / "nbgrader_config.py"] + [Path(p) for p in extra_files]:
        if path.exists():
            config.merge(PyFileConfigLoader(path.name, path=str(path.parent.resolve())).load_config())
        elif path != root / "nbgrader_config.py":
            raise SystemExit(f"config file not found: {path}")
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    return config


def load_config(root, extra_files, args):
    from .pipeline import configure

    config = course_config(root, extra_files, getattr(args, "db_url", None))
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

    def remove_graded(self, student, notebooks):
        """Delete this student's graded notebooks (a submission that could not be graded)."""
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


# ------------------------------------------------------------------------------ the batch

def print_table(rows, out):
    width = max([len("student")] + [len(r["student"]) for r in rows])
    out.write(f"\n{'student':<{width}}  {'score':>7}  {'max':>6}  note\n")
    out.write(f"{'-' * width}  {'-' * 7}  {'-' * 6}  {'-' * 30}\n")
    for r in rows:
        note = r.get("note") or ("; ".join(r["reasons"]) if r["reasons"] else "ok")
        out.write(f"{r['student']:<{width}}  {r['score']:>7.2f}  {r['max_score']:>6.2f}  {note}\n")


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """The progress line on stderr: submissions done / total, rate per minute, time left.

    On a terminal it is one line redrawn in place; in a log, one line per submission.
    """

    def __init__(self, total, stream=sys.stderr):
        self.total, self.stream, self.start = total, stream, time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.shown = False

    def clear(self):
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def update(self, done):
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = done / elapsed
        text = f"progress: {done}/{self.total} graded, {rate * 60:.1f} per minute, "
        text += (f"about {_duration((self.total - done) / rate)} left" if done < self.total
                 else f"all done in {_duration(elapsed)}")
        self.stream.write(("\r" + text + "\033[K") if self.tty else text + "\n")
        self.stream.flush()
        self.shown = self.tty
        if self.tty and done == self.total:
            self.stream.write("\n")
            self.shown = False


@contextlib.contextmanager
def interrupts_held():
    """Ctrl-C (or SIGTERM) during the block takes effect when it ends, not in the middle."""
    held = []
    previous = {sig: signal.signal(sig, lambda number, frame: held.append(number))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held:
            raise KeyboardInterrupt


def _terminate(number, frame):
    raise KeyboardInterrupt


def worker_command(root, args):
    """The command line of one grading process, with this run's grading settings."""
    command = [sys.executable, "-m", "course_tools.grade", args.assignment, "--root", str(root),
               "--max-output", str(args.max_output),
               "--max-notebook-size", str(args.max_notebook_size)]
    if args.timeout is not None:
        command += ["--timeout", str(args.timeout)]
    for path in args.config:
        command += ["--config", path]
    if args.no_guard:
        command.append("--no-guard")
    if args.verbose:
        command.append("--verbose")
    return command + ["--worker"]


def worker_main(root, args):
    """One grading process: grade the students the parent sends, into a scratch gradebook.

    Reads one JSON job per line from the parent's pipe, answers one JSON line per job on the
    other, and never opens the course's gradebook.
    """
    from .gradebooks import set_extension, submission_record

    jobs_fd, results_fd = (int(fd) for fd in args.worker_fds.split(","))
    args.db_url = args.worker_db
    config = load_config(root, args.config, args)
    if os.geteuid() == 0 and args.worker_slot:
        # The sandbox's process limit counts every process of its uid: one uid per slot, so
        # that a fork bomb in one submission cannot starve the one graded beside it.
        base = config.SandboxKernelManager.get("sandbox_uid", 65534)
        config.SandboxKernelManager.sandbox_uid = base - args.worker_slot
    grader = Grader(root, config, args.assignment)
    notebooks = grader.ensure_assignment()
    results = os.fdopen(results_fd, "w", encoding="utf-8")

    def say(message):
        results.write(json.dumps(message) + "\n")
        results.flush()

    say({"ready": os.getpid()})
    with os.fdopen(jobs_fd, encoding="utf-8") as jobs:
        for line in jobs:
            job = json.loads(line)
            student, extension = job["student"], job.get("extension")
            begin = time.monotonic()
            try:
                if extension:
                    with grader.gradebook() as gb:
                        set_extension(gb, args.assignment, student, extension)
                score, max_score, reasons, log = grade_student(grader, student, notebooks, args)
                with grader.gradebook() as gb:
                    record = submission_record(gb, args.assignment, student)
                result = {"score": score, "max_score": max_score, "reasons": reasons,
                          "record": record, "log": log if args.verbose else ""}
            except Exception as exc:  # one submission's failure is reported, not the batch's
                LOG.exception("grading %s failed", student)
                result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            result.update(student=student, seconds=time.monotonic() - begin)
            say({"result": result})
    return 0


def grade_batch(root, grader, notebooks, students, args):
    """Grade ``students`` on ``args.jobs`` worker processes; the rows of the summary.

    The parent is the only writer to the course's gradebook: each finished submission is
    copied into it whole (:func:`course_tools.gradebooks.store_submission`), with Ctrl-C
    held off while it is written.
    """
    import itertools
    import shutil

    from .gradebooks import extension_seconds, make_scratch, store_submission, zero_record
    from .workers import Pool, Worker

    # Scratch gradebooks are thrown away after the batch: in memory when the machine has a
    # tmpfs there, so that nbgrader's many small commits do not wait for the disk.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    scratch = Path(tempfile.mkdtemp(prefix="minigrad-grade-", dir=shm))
    rows, progress = {}, Progress(len(students))
    width = len(str(len(students)))
    try:
        template = scratch / "assignment.db"
        make_scratch(grader.db_url, grader.api.coursedir.course_id, args.assignment, template)
        command, generation = worker_command(root, args), itertools.count()

        def spawn(slot):
            path = scratch / f"worker{slot}-{next(generation)}.db"
            shutil.copy(template, path)
            return Worker(slot, command + ["--worker-db", f"sqlite:///{path}"], cwd=str(root),
                          env=dict(os.environ))

        def done(job, result, failure, seconds):
            student = job["student"]
            if failure is None and result.get("error"):
                failure = f"the grader failed on it ({result['error']})"
            with interrupts_held(), grader.gradebook() as gb:
                if failure is None:
                    store_submission(gb, args.assignment, student, result["record"])
                    reasons, seconds = result["reasons"], result["seconds"]
                else:
                    store_submission(gb, args.assignment, student, zero_record(gb, args.assignment))
                    grader.remove_graded(student, notebooks)
                    reasons = [f"{failure}; scored 0"]
            score, max_score = grader.score(student)
            rows[student] = {"student": student, "score": score, "max_score": max_score,
                             "flagged": bool(reasons), "reasons": reasons,
                             "seconds": round(seconds, 2)}
            progress.clear()
            print(f"[{len(rows):>{width}}/{len(students)}] {student}: "
                  f"{score:g} / {max_score:g} ({seconds:.1f} s)", flush=True)
            if reasons:
                LOG.warning("%s: %s", student, "; ".join(reasons))
            if args.verbose and result and result.get("log"):
                sys.stderr.write(result["log"])
            progress.update(len(rows))

        with grader.gradebook() as gb:
            jobs = [{"student": s, "extension": extension_seconds(gb, args.assignment, s)}
                    for s in students]
        pool = Pool(spawn, min(args.jobs, len(students)), args.submission_timeout,
                    echo=sys.stderr if args.verbose else None)
        pool.run(jobs, done)
    except KeyboardInterrupt:
        progress.clear()
        raise Interrupted(len(rows))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [rows[s] for s in students]


class Interrupted(Exception):
    """The batch was interrupted; ``args[0]`` submissions were graded and stored."""


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
    if args.worker:
        return worker_main(root, args)
    signal.signal(signal.SIGTERM, _terminate)

    from .gradebooks import autograded_students
    config = load_config(root, args.config, args)
    grader = Grader(root, config, args.assignment)
    notebooks = grader.ensure_assignment()
    students = grader.students(args.student)
    if not students:
        raise SystemExit(f"no submissions of {args.assignment} in "
                         f"{root / grader.api.coursedir.submitted_directory}")
    with grader.gradebook() as gb:
        before = set() if args.force else autograded_students(gb, args.assignment)
    todo = [s for s in students if s not in before]
    kept = [s for s in students if s in before]
    from .preprocessors import GuardedExecute
    timeout = GuardedExecute(config=config).timeout
    jobs = min(args.jobs, len(todo)) or 1
    print(f"Grading {args.assignment}: {len(todo)} submissions, {jobs} at a time, {timeout} s "
          f"per cell, {args.max_output} characters of output kept per cell", flush=True)
    if kept:
        print(f"{len(kept)} submission{'' if len(kept) == 1 else 's'} already graded in the "
              f"gradebook, kept as they are (--force grades them again): {_some(kept, 10)}",
              flush=True)

    started = time.monotonic()
    try:
        rows = grade_batch(root, grader, notebooks, todo, args) if todo else []
    except Interrupted as stop:
        print(f"\nInterrupted: {stop.args[0]} of {len(todo)} submissions were graded and are in "
              f"the gradebook; the others were not written. Run the same command again to "
              f"grade the rest.", file=sys.stderr, flush=True)
        return 130
    except KeyboardInterrupt:
        print("\nInterrupted before any submission was graded.", file=sys.stderr, flush=True)
        return 130
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
    graded = {r["student"]: r for r in rows}
    for student in kept:
        score, max_score = grader.score(student)
        graded[student] = {"student": student, "score": score, "max_score": max_score,
                           "flagged": False, "reasons": [], "seconds": None, "kept": True,
                           "note": "graded before; kept (--force grades it again)"}
    table = [graded[s] for s in students]
    print_table(table, sys.stdout)
    flagged = sum(r["flagged"] for r in rows)
    print(f"\n{len(rows)} submission{'' if len(rows) == 1 else 's'} graded in {total:.0f} s; "
          f"{flagged} flagged."
          + (f" {len(kept)} graded before were kept." if kept else "")
          + f" Scores are in {grader.db_url}.")
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
            {"assignment": args.assignment, "seconds": round(total, 2), "jobs": jobs,
             "students": table}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
