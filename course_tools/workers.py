"""Grading processes: N submissions at once, none of which can stall the others.

The grading command starts ``jobs`` worker processes (``python -m course_tools.grade ...
--worker``), each with its own scratch gradebook, and hands each one student at a time over
a pipe; a worker answers with one JSON line per submission. Workers stay up for the whole
batch: starting one costs about as much as grading a submission (importing nbgrader alone
takes seconds), so a process per submission would double the batch's time.

The parent never blocks on one worker: it waits on all their pipes at once (``selectors``),
reads whatever each prints (and keeps only its tail), and stops a worker whose submission
runs past ``submission_timeout`` or prints more than ``flood_limit`` bytes outside the
notebook. A stopped or dead worker's submission is reported as failed, with the reason, and a
fresh worker takes its place. Stopping a worker stops everything it started: its sandboxed
kernels (whose ``timeout`` wrapper runs in a process group of its own) and the judge.
"""

import json
import os
import selectors
import signal
import subprocess
import time
from collections import deque

TAIL_BYTES = 4000


class WorkerError(RuntimeError):
    """A worker could not start at all: the batch cannot go on."""


def _children_by_parent():
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid):
    """Every living process started, directly or not, by ``pid``."""
    tree, found, todo = _children_by_parent(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid):
    """SIGKILL ``pid`` and all its descendants, stopping them first so that none escapes by forking."""
    seen = set()
    for _ in range(5):
        new = [p for p in [pid] + descendants(pid) if p not in seen]
        if not new:
            break
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
            except OSError:
                pass
        seen.update(new)
    for p in seen:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


class Worker:
    """One grading process, and what the parent knows about it."""

    def __init__(self, slot, command, cwd, env):
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        self.slot = slot
        self.proc = subprocess.Popen(
            command + ["--worker-fds", f"{cmd_r},{res_w}", "--worker-slot", str(slot)],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=(cmd_r, res_w), start_new_session=True)
        os.close(cmd_r)
        os.close(res_w)
        for fd in (self.res_r, self.proc.stdout.fileno(), self.proc.stderr.fileno()):
            os.set_blocking(fd, False)
        self.started = time.monotonic()
        self.ready = False
        self.buffer = b""
        self.tail = bytearray()
        self.printed = 0
        self.job = None
        self.deadline = None
        self.open = 3

    def send(self, job, timeout):
        self.job, self.printed, self.timeout = job, 0, timeout
        self.sent = time.monotonic()
        self.deadline = time.monotonic() + timeout if self.ready else None
        os.write(self.cmd_w, (json.dumps(job) + "\n").encode())

    def is_ready(self):
        self.ready = True
        if self.job is not None:
            self.deadline = time.monotonic() + self.timeout

    def keep(self, data):
        self.printed += len(data)
        self.tail += data
        del self.tail[:-TAIL_BYTES]

    def last_words(self):
        lines = [line.strip() for line in self.tail.decode("utf-8", "replace").splitlines()
                 if line.strip()]
        return lines[-1][:300] if lines else ""

    def _close_pipes(self, *names):
        for name in names:
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    os.close(fd)
                except OSError:
                    pass

    def stop(self, wait=10):
        """End the worker: close its pipe (it exits when idle), kill its tree if it does not."""
        self._close_pipes("cmd_w")
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self):
        if self.proc.poll() is None:
            kill_tree(self.proc.pid)
        else:
            # Its kernels may outlive it (their `timeout` wrapper is in its own group).
            for p in descendants(self.proc.pid):
                kill_tree(p)
        self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        self._close_pipes("cmd_w", "res_r")

    def status(self):
        code = self.proc.poll()
        if code is None:
            return "still running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"


class Pool:
    """Grade jobs ``{"student": ...}`` on up to ``jobs`` workers; report each as it ends.

    ``spawn(slot)`` starts a :class:`Worker`. ``done(job, result, failure, seconds)`` is
    called once per job, with the worker's result dict, or with ``failure``: a sentence
    saying why the submission could not be graded (the worker died, ran out of time, flooded
    its output), and the seconds since the job was handed out.
    """

    def __init__(self, spawn, jobs, submission_timeout=600, flood_limit=20_000_000,
                 startup_timeout=300, echo=None):
        self.spawn, self.jobs = spawn, max(1, jobs)
        self.submission_timeout, self.flood_limit = submission_timeout, flood_limit
        self.startup_timeout, self.echo = startup_timeout, echo
        self.workers = []

    def run(self, jobs, done):
        queue = deque(jobs)
        selector = selectors.DefaultSelector()

        def start(slot):
            worker = self.spawn(slot)
            selector.register(worker.res_r, selectors.EVENT_READ, (worker, "result"))
            selector.register(worker.proc.stdout, selectors.EVENT_READ, (worker, "out"))
            selector.register(worker.proc.stderr, selectors.EVENT_READ, (worker, "out"))
            self.workers.append(worker)
            return worker

        def forget(worker):
            for f in (worker.res_r, worker.proc.stdout, worker.proc.stderr):
                try:
                    selector.unregister(f)
                except (KeyError, ValueError):
                    pass

        def retire(worker, failure=None):
            forget(worker)
            worker.kill()
            self.workers.remove(worker)
            job, worker.job = worker.job, None
            if failure and job is not None:
                done(job, None, failure, time.monotonic() - worker.sent)
            if queue and len(self.workers) < self.jobs:
                start(worker.slot)

        try:
            for slot in range(min(self.jobs, len(queue))):
                start(slot)
            while self.workers:
                for worker in list(self.workers):
                    if worker.job is None:
                        if queue:
                            try:
                                worker.send(queue.popleft(), self.submission_timeout)
                            except OSError:
                                retire(worker, f"its grading process ended ({worker.status()})")
                        else:
                            forget(worker)
                            self.workers.remove(worker)
                            worker.stop()
                if not self.workers:
                    break
                now = time.monotonic()
                waits = [w.deadline - now for w in self.workers if w.deadline is not None]
                waits += [w.started + self.startup_timeout - now for w in self.workers if not w.ready]
                for key, _ in selector.select(max(0.0, min(waits)) if waits else None):
                    worker, what = key.data
                    if worker not in self.workers:
                        continue
                    fd = key.fd
                    try:
                        data = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if what == "out":
                        if not data:
                            selector.unregister(key.fileobj)
                            continue
                        worker.keep(data)
                        if self.echo is not None:
                            self.echo.write(data.decode("utf-8", "replace"))
                        if worker.job is not None and worker.printed > self.flood_limit:
                            retire(worker, f"its grading process printed more than "
                                           f"{self.flood_limit // 1_000_000} MB outside the "
                                           f"notebook; stopped")
                        continue
                    if not data:
                        try:
                            worker.proc.wait(timeout=5)
                        except subprocess.TimeoutExpired:
                            pass
                        if not worker.ready:
                            raise WorkerError(f"a grading process could not start "
                                              f"({worker.status()}): {worker.last_words()}")
                        retire(worker, f"its grading process died ({worker.status()}"
                                       + (f": {worker.last_words()}" if worker.last_words() else "")
                                       + ")")
                        continue
                    worker.buffer += data
                    *lines, worker.buffer = worker.buffer.split(b"\n")
                    for line in lines:
                        message = json.loads(line)
                        if "ready" in message:
                            worker.is_ready()
                        elif "result" in message and worker.job is not None:
                            job, worker.job, worker.deadline = worker.job, None, None
                            done(job, message["result"], None, time.monotonic() - worker.sent)
                now = time.monotonic()
                for worker in list(self.workers):
                    if not worker.ready and now > worker.started + self.startup_timeout:
                        raise WorkerError(f"a grading process did not start within "
                                          f"{self.startup_timeout} s: {worker.last_words()}")
                    if worker.deadline is not None and now > worker.deadline:
                        retire(worker, f"grading it took longer than the "
                                       f"{worker.timeout:g} s limit for one submission; stopped")
        finally:
            for worker in list(self.workers):
                worker.kill()
            self.workers = []
            selector.close()


__all__ = ["Pool", "Worker", "WorkerError", "descendants", "kill_tree"]
