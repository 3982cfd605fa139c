"""nbgrader preprocessors that make autograding survive broken and hostile submissions.

``InspectCells`` runs first when nbgrader sanitizes a submission: it compares the
submission's graded and read-only cells with the gradebook (which holds each cell's source,
type, checksum and points as the instructor wrote them) and notes every test cell that was
deleted, edited, turned into Markdown or duplicated. nbgrader itself puts those cells back
(``OverwriteCells``, ``DeduplicateIds``); this preprocessor also restores what nbgrader does
not: the cells' grading flags, and deleted read-only cells (such as the cell that imports
the grading helpers).

``GuardedExecute`` replaces nbgrader's ``Execute``. It runs the notebook in a kernel that
starts with ``kernel_guard.py`` installed, keeps at most ``max_output_bytes`` of output per
cell, and when the kernel dies (``os._exit``, out of memory) or stops answering, marks the
cells it could not run with an error, so that tests that never ran score zero instead of
nbgrader's "no error, full marks".

Both write what they found to :data:`EVENTS`, which the grading command reads after each
submission; nbgrader's own log stays as it is.
"""

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_core.utils import run_sync

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.client import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
import nbformat
from traitlets import Bool, Integer, List, Unicode

from . import incidents as I
from .incidents import _human
from .kernel_guard import MARKER

# (student, notebook) -> list of incidents (course_tools/incidents.py): filled while
# nbgrader runs, read and cleared by the grading command.
EVENTS = {}

GUARD_FILE = Path(__file__).with_name("kernel_guard.py")


def record(resources, incident):
    info = resources.get("nbgrader", {})
    EVENTS.setdefault((info.get("student"), info.get("notebook")), []).append(incident)


def _label(cell, index):
    """How a log line names a cell: its nbgrader id, else its position as students see it."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"'{grade_id}'" if grade_id else f"{index + 1}"


def _normalise(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


class InspectCells(NbGraderPreprocessor):
    """Compare graded and read-only cells with the gradebook; note and repair changes."""

    release_directory = Unicode(
        "", help="Where the released notebooks are: a test cell that matches the version "
                 "students were given is not reported as edited, even if the instructor has "
                 "changed it since."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            cells = [(c.name, c.cell_type, c.locked, c.source, c.checksum)
                     for c in source_nb.source_cells]
            points = {c.name: float(c.max_score) for c in source_nb.grade_cells}
            solutions = {c.name for c in source_nb.solution_cells}
        self._released = self._release_sources(info["assignment"], info["notebook"])
        self._inspect(nb, resources, cells, points, solutions)
        return nb, resources

    def _release_sources(self, assignment, notebook):
        path = Path(self.release_directory) / assignment / f"{notebook}.ipynb"
        if not self.release_directory or not path.exists():
            return {}
        try:
            released = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - without it, the gradebook's text is the reference
            return {}
        return {c.metadata.nbgrader["grade_id"]: c.source for c in released.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}

    def _visible_source(self, source):
        """The cell as students receive it: hidden tests removed."""
        cell = new_code_cell(source)
        ClearHiddenTests(parent=self)._remove_hidden_test_region(cell)
        return cell.source

    def _inspect(self, nb, resources, cells, points, solutions):
        known = {name: (cell_type, locked, source, checksum)
                 for name, cell_type, locked, source, checksum in cells}

        def kind_of(name):
            if name in points and name not in solutions:
                return "test"
            return "answer" if name in solutions else "read-only"

        totals = {}
        for name in known:
            totals[kind_of(name)] = totals.get(kind_of(name), 0) + 1
        record(resources, I.CellTotals(totals))

        where = {}
        for index, cell in enumerate(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id not in known:
                # A cell claiming a grade id the gradebook does not know (or none): nbgrader
                # would refuse the whole notebook. Grade it as an ordinary cell instead.
                del cell.metadata["nbgrader"]
                if grade_id:
                    record(resources, I.UnknownCell(grade_id))
                continue
            where.setdefault(grade_id, []).append(index)

        for name, (cell_type, locked, source, checksum) in known.items():
            kind = kind_of(name)
            found = where.get(name, [])
            if not found:
                record(resources, I.CellChanged("deleted", kind, name))
                continue
            if len(found) > 1:
                # nbgrader grades the last copy; the others become ordinary cells. (Doing it
                # here: nbgrader's own DeduplicateIds leaves metadata that OverwriteCells
                # then trips over.)
                record(resources, I.CellChanged("duplicated", kind, name, len(found)))
                for index in found[:-1]:
                    del nb.cells[index].metadata["nbgrader"]
            cell = nb.cells[found[-1]]
            if cell.cell_type != cell_type:
                record(resources, I.CellChanged("retyped", kind, name, cell.cell_type))
            elif locked and len(found) == 1 and _normalise(cell.source) not in (
                    _normalise(source), _normalise(self._visible_source(source)),
                    _normalise(self._released.get(name, source))):
                record(resources, I.CellChanged("edited", kind, name))
            elif locked and len(found) == 1:
                # As released (hidden tests removed): put the gradebook's text back here, so
                # that nbgrader's OverwriteCells finds its checksum and does not warn that
                # every test cell with hidden tests "has changed".
                cell.source = source
            meta = cell.metadata.nbgrader
            want = {"grade": name in points, "solution": name in solutions, "locked": locked}
            if name in points:
                want["points"] = points[name]
            changed = any(bool(meta.get(k)) != v for k in ("grade", "solution", "locked")
                          for v in [want[k]])
            if name in points:
                try:
                    changed = changed or float(meta.get("points")) != points[name]
                except (TypeError, ValueError):
                    changed = True
            if changed and cell.cell_type == cell_type:
                record(resources, I.CellChanged("metadata", kind, name))
            meta.update(want)
            if not want["grade"]:
                meta.pop("points", None)

        self._restore_read_only(nb, resources, cells, points, where)

    def _restore_read_only(self, nb, resources, cells, points, where):
        """Put deleted read-only cells back; nbgrader restores only graded ones."""
        previous = None
        for name, cell_type, locked, source, checksum in cells:
            if locked and name not in points and not where.get(name):
                make = new_code_cell if cell_type == "code" else new_markdown_cell
                cell = make(source, metadata={
                    "editable": False, "deletable": False, "nbgrader": {
                        "grade": False, "solution": False, "locked": True, "grade_id": name,
                        "checksum": checksum, "schema_version": 3}})
                position = 0
                if previous is not None:
                    for index, other in enumerate(nb.cells):
                        if other.get("metadata", {}).get("nbgrader", {}).get("grade_id") == previous:
                            position = index + 1
                nb.cells.insert(position, cell)
                where[name] = [position]
            previous = name


# What an error says when the sandbox's limits stopped it.
LIMIT_SIGNS = {
    "memory": ("MemoryError", "Cannot allocate memory", "Unable to allocate"),
    "process": ("Resource temporarily unavailable", "can't start new thread"),
    "disk": ("No space left on device", "File too large"),
}

JUDGE_MODULE = "course_tools.grading.judge"
RECORD_CAP = 10_000_000   # bytes of records read back per grade cell


def judge_installed():
    try:
        return importlib.util.find_spec(JUDGE_MODULE) is not None
    except ImportError:
        return False


class GradingChannel(NbGraderPreprocessor):
    """Before the kernel starts: a fresh channel directory and a seed, in the environment.

    Checks in the kernel then record answers there instead of judging them (see
    ``GuardedExecute.judge_command``). Without a judge installed nothing is set, and the
    tests judge in the kernel as before.
    """

    enabled = Bool(True, help="Record answers in a channel and judge them on the host, "
                              "when the judge is installed.").tag(config=True)

    def preprocess(self, nb, resources):
        for key in ("MINIGRAD_GRADING_CHANNEL", "MINIGRAD_GRADING_SEED"):
            os.environ.pop(key, None)
        if self.enabled and judge_installed():
            # The channel belongs to the uid the sandboxed kernel runs as, which the grading
            # command sets per parallel slot.
            start_channel(resources, self.config.SandboxKernelManager.get("sandbox_uid", 65534))
        return nb, resources


def start_channel(resources, uid=65534):
    channel = tempfile.mkdtemp(prefix="minigrad-channel-")
    os.chmod(channel, 0o700)
    if os.geteuid() == 0:
        os.chown(channel, uid, uid)
    seed = secrets.randbits(62)
    os.environ["MINIGRAD_GRADING_CHANNEL"] = channel
    os.environ["MINIGRAD_GRADING_SEED"] = str(seed)
    resources["minigrad_grading"] = {"channel": channel, "seed": seed}
    return channel, seed


def _listing(channel):
    try:
        return {e.name: e.stat(follow_symlinks=False).st_mtime_ns
                for e in os.scandir(channel) if e.is_file(follow_symlinks=False)}
    except OSError:
        return {}


def read_records(channel, names):
    """The new record files, oldest first, as JSON values; no pickle, at most RECORD_CAP bytes."""
    records, used = [], 0
    for name in names:
        path = os.path.join(channel, name)
        try:
            size = os.lstat(path).st_size
            if used + size > RECORD_CAP:
                records.append({"error": f"record {name} not read: over {_human(RECORD_CAP)}"})
                break
            used += size
            with open(path, "rb") as f:
                records.append(json.loads(f.read(RECORD_CAP).decode("utf-8")))
        except (OSError, ValueError, RecursionError) as exc:
            records.append({"error": f"record {name} unreadable: {type(exc).__name__}"})
    return records


def _size(msg):
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        return len(content.get("text", ""))
    if msg["msg_type"] == "error":
        return len(content.get("evalue", "")) + sum(len(line) for line in content.get("traceback", []))
    return sum(len(str(value)) for value in content.get("data", {}).values())


class GuardedExecute(Execute):
    """nbgrader's Execute, with the kernel guard, an output cap, and dead kernels handled."""

    max_output_bytes = Integer(
        100_000, help="Characters of output kept per cell; the rest is dropped and counted."
    ).tag(config=True)

    guard_kernel = Bool(
        True, help="Start every kernel with kernel_guard.py installed."
    ).tag(config=True)

    judge_command = List(
        [], help="Command of the judge (JSON requests on stdin, one verdict per line on "
                 "stdout); default: this Python with -m course_tools.grading.judge."
    ).tag(config=True)

    judge_timeout = Integer(300, help="Seconds the judge may take for one notebook."
                            ).tag(config=True)

    async def async_start_new_kernel(self, **kwargs):
        # What the kernel process writes to its own stdout/stderr (bypassing the notebook)
        # must not reach the grader's terminal: a submission could write gigabytes there.
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def preprocess(self, nb, resources=None, km=None):
        # nbconvert's ExecutePreprocessor.preprocess, plus the guard and per-cell bookkeeping.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._stopped = None
        self._channel = (resources or {}).get("minigrad_grading")
        self._pending = []         # (cell, records) of grade cells to judge on the host
        self._printed = 0          # characters of output the submission produced ...
        self._dropped = 0          # ... and how many of them were not kept
        with self.setup_kernel():
            info_msg = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
            if self.guard_kernel:
                self._install_guard()
            for index, cell in enumerate(self.nb.cells):
                self.preprocess_cell(cell, resources, index)
            # Every cell has run and its outputs (and records) are in: the kernel is killed,
            # not asked to shut down. A graceful shutdown only waits for the kernel to exit
            # (a fifth of a second per submission) and runs the submission's atexit code.
            self.shutdown_kernel = "immediate"
        if self._channel:
            self._judge()
            shutil.rmtree(self._channel["channel"], ignore_errors=True)
            for key in ("MINIGRAD_GRADING_CHANNEL", "MINIGRAD_GRADING_SEED"):
                os.environ.pop(key, None)
        self.set_widgets_metadata()
        if self._dropped:
            record(self.resources, I.OutputTruncated(self._printed))
        return self.nb, self.resources

    def _install_guard(self):
        line = (f"__import__('runpy').run_path({str(GUARD_FILE)!r}, "
                f"run_name='course_tools_kernel_guard')['install']()")
        reply = self.wait_for_reply(self.kc.execute(line, silent=True, store_history=False))
        if reply is None or reply["content"]["status"] != "ok":
            content = (reply or {}).get("content", {})
            raise RuntimeError(f"the grading guard did not start in the kernel: "
                               f"{content.get('ename')}: {content.get('evalue')}")

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        if self._stopped:
            self._fail(cell, "NotRun", f"This cell was not run: {self._stopped}.")
            return cell, self.resources
        self._cell_kept = 0
        self._cell_dropped = 0
        judged = self._channel and utils.is_grade(cell) and not utils.is_solution(cell)
        before = _listing(self._channel["channel"]) if judged else None
        try:
            cell = self.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            self._stopped = f"the kernel died while running cell {_label(cell, index)}"
            record(self.resources, I.KernelDied(_label(cell, index)))
            self._fail(cell, "DeadKernelError", "The kernel died while running this cell.")
        except CellTimeoutError:
            self._stopped = (f"the kernel stopped responding in cell {_label(cell, index)} and "
                             f"could not be interrupted")
            record(self.resources, I.KernelUnresponsive(_label(cell, index), self.timeout))
            self._fail(cell, "CellTimeoutError",
                       f"No reply from the kernel after {self.timeout} s, and it ignored the "
                       f"interrupt.")
        else:
            self._note_outputs(cell, index)
        if judged:
            after = _listing(self._channel["channel"])
            new = sorted((n for n in after if after[n] != before.get(n)), key=lambda n: (after[n], n))
            self._pending.append((cell, read_records(self._channel["channel"], new)))
        return cell, self.resources

    def _judge(self):
        """Ask the judge, in a fresh process, for each grade cell's verdict; write it in."""
        if not self._pending:
            return
        command = list(self.judge_command) or [sys.executable, "-m", JUDGE_MODULE]
        seed = self._channel["seed"]
        requests = "".join(json.dumps({"source": cell.source, "records": records, "seed": seed}) + "\n"
                           for cell, records in self._pending)
        package_root = str(Path(__file__).resolve().parents[1])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": package_root,
               "HOME": tempfile.gettempdir(), "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"}
        try:
            run = subprocess.run(command, input=requests, capture_output=True, text=True,
                                 env=env, timeout=self.judge_timeout, cwd=tempfile.gettempdir())
            lines = [line for line in run.stdout.splitlines() if line.strip()]
            verdicts = [json.loads(line) for line in lines]
            if len(verdicts) != len(self._pending):
                raise ValueError(f"{len(verdicts)} verdicts for {len(self._pending)} cells"
                                 f" ({run.stderr.strip()[-300:]})")
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            verdicts = [{"passed": False, "message": f"the grader's judge failed: {exc}"}
                        ] * len(self._pending)
            record(self.resources, I.JudgeFailed(str(exc)))
        for (cell, _), verdict in zip(self._pending, verdicts):
            if not isinstance(verdict, dict):
                verdict = {"passed": False, "message": "the grader's judge gave no verdict"}
            passed, message = verdict.get("passed"), str(verdict.get("message", ""))
            if passed is None:
                continue    # nothing the judge could replay: the kernel's result stands
            # What the kernel printed stays, as text; nothing it produced may decide the
            # score (nbgrader reads an execute_result as partial credit, and an error or
            # stderr as a failure), except a failure it reports against itself.
            kept, errors = [], []
            for o in cell.get("outputs", []):
                kind = o.get("output_type")
                if kind == "error" or (kind == "stream" and o.get("name") == "stderr"):
                    errors.append(o)
                elif kind == "execute_result":
                    text = o.get("data", {}).get("text/plain", "")
                    kept.append(new_output("stream", name="stdout", text=str(text) + "\n"))
                elif kind in ("stream", "display_data"):
                    kept.append(o)
            if passed is True:
                # A visible assert that failed in the kernel still fails the cell; an error
                # the kernel hid cannot make it pass, since the checks are judged here.
                cell.outputs = kept + errors + [new_output("stream", name="stdout",
                                                           text=message + "\n")]
            else:
                stopped = [o for o in errors if o.get("output_type") == "error"]
                if stopped and "did not run in the notebook" in message:
                    first = stopped[0]
                    message += (f" The test stopped at {first.get('ename')}: "
                                f"{str(first.get('evalue', ''))[:300]}")
                    if first.get("ename") == "NotImplementedError":
                        message += " (that function is not written yet)."
                cell.outputs = kept + [new_output("error", ename="GradingFailure",
                                                  evalue=message,
                                                  traceback=[f"GradingFailure: {message}"])]

    def _note_outputs(self, cell, index):
        replaced = []
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                text = f"{output.get('ename')}: {output.get('evalue')}"
                for limit, signs in LIMIT_SIGNS.items():
                    if any(sign in text for sign in signs):
                        record(self.resources, I.LimitHit(_label(cell, index), limit))
            if output.output_type == "error" and output.get("ename") == "CellTimeoutError":
                record(self.resources, I.CellTimedOut(_label(cell, index), self.timeout))
            if output.output_type == "stream" and output.name == "stderr":
                for line in output.text.splitlines():
                    if line.startswith(MARKER + " exit()"):
                        record(self.resources, I.ExitCalled(_label(cell, index)))
                    elif line.startswith(MARKER):
                        text = line[len(MARKER):].strip().split(" (put back")[0]
                        replaced += text.removeprefix("replaced ").split(", ")
        if replaced:
            is_test = utils.is_grade(cell) and not utils.is_solution(cell)
            record(self.resources, I.Tampered(_label(cell, index), is_test, tuple(replaced)))
            if is_test:
                # First, so that nbgrader sees it before any result the cell displayed.
                cell.outputs.insert(0, new_output(
                    "error", ename="GradingTampered",
                    evalue=f"{', '.join(replaced)} replaced while this test ran",
                    traceback=[f"GradingTampered: {', '.join(replaced)} were replaced while "
                               f"this test ran, so it cannot count."]))
        if self._cell_dropped:
            cell.outputs.append(new_output(
                "stream", name="stdout",
                text=f"\n[output truncated by the grader: {_human(self._cell_dropped)} not kept]\n"))

    def _fail(self, cell, ename, evalue):
        cell.outputs = list(cell.get("outputs", [])) + [new_output(
            "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])]

    def output(self, outs, msg, display_id, cell_index):
        size = _size(msg)
        self._printed += size
        room = self.max_output_bytes - self._cell_kept
        kind = msg["msg_type"]
        if size <= room:
            self._cell_kept += size
            return super().output(outs, msg, display_id, cell_index)
        content = msg["content"]
        # Errors, results and a test's stderr decide its score: keep them, shortened.
        keep = max(room, 2_000)
        if kind == "error":
            content["evalue"] = content.get("evalue", "")[:keep]
            content["traceback"] = [line[:keep] for line in content.get("traceback", [])][:200]
        elif kind == "stream" and content.get("name") == "stderr" and not any(
                o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outs):
            content["text"] = content.get("text", "")[:keep]
        elif kind == "stream" and room > 0:
            content["text"] = content.get("text", "")[:room]
        elif kind == "execute_result":
            content["data"] = {k: (v[:keep] if isinstance(v, str) else v)
                               for k, v in content.get("data", {}).items() if k == "text/plain"}
        else:
            content = None
        if content is None:
            self._cell_dropped += size
            self._dropped += size
            return None
        kept = _size(msg)
        self._cell_kept += kept
        self._cell_dropped += size - kept
        self._dropped += size - kept
        return super().output(outs, msg, display_id, cell_index)


__all__ = ["EVENTS", "GradingChannel", "GuardedExecute", "InspectCells", "record"]
