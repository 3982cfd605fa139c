"""Shared test settings: a non-interactive matplotlib backend, a seeded generator, the
grading checks' fresh draws made reproducible, and a throwaway PostgreSQL server for the
gradebook tests."""
import os
import zlib

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

SHAPES = [(), (4,), (3, 4)]


def gaussian(x, m, s):
    """The slides' computational graph, written as they write it (plain np.log on traced
    values dispatches to minigrad): c = -log N(x | m, s^2)."""
    t0 = x - m
    t1 = t0 / s
    t2 = np.log(s)
    t3 = t1 ** 2
    t4 = t2 + np.log(2 * np.pi) / 2
    t5 = t3 / 2
    return t4 + t5


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def reproducible_hidden_draws(request, monkeypatch):
    """A hidden check run in this process (not under the grader) seeds its generator from
    os.urandom, so each run would draw other inputs and a failure could not be repeated.
    Here those bytes come from a generator seeded by the test's name and MINIGRAD_TEST_SEED
    (default 0): every test still draws fresh inputs call after call, the same ones on
    every run; set MINIGRAD_TEST_SEED to another number to try other draws."""
    import random

    from course_tools.grading import _core
    seed = zlib.crc32(request.node.nodeid.encode()) ^ int(os.environ.get("MINIGRAD_TEST_SEED", "0"))
    draws = random.Random(seed)       # not numpy's: some tests replace numpy's functions
    monkeypatch.setattr(_core, "_urandom", draws.randbytes)


# ------------------------------------------------------------------ a PostgreSQL server

def _postgres_problem():
    """Why no throwaway PostgreSQL server can be started here, or None."""
    import glob
    import importlib.util
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "PostgreSQL is not installed (Debian: apt-get install -y postgresql)"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install -r requirements-dev.txt)"
    return None


class PostgresServer:
    """A PostgreSQL server of its own, in a temporary folder, on 127.0.0.1 and a free port."""

    def __init__(self):
        import glob
        import pwd
        import shutil
        import socket
        import subprocess
        import tempfile
        from pathlib import Path

        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        # Not under pytest's tmp folder: its parents are private to root, and the server
        # runs as the `postgres` user when the tests run as root (initdb refuses root).
        self.base = Path(tempfile.mkdtemp(prefix="minigrad-postgres-"))
        self.data, self.sockets = self.base / "data", self.base / "sockets"
        self.sockets.mkdir()
        self.as_user = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.base, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._run = lambda *cmd: subprocess.run(self.as_user + [str(c) for c in cmd], check=True,
                                               capture_output=True, text=True, timeout=120)
        self._shutil = shutil
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.base / "server.log", "-w",
                  "-t", "60", "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} "
                                    f"-k {self.sockets} -c fsync=off", "start")

    def database(self, name):
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self):
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            self._shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the session; missing PostgreSQL fails under CI=true."""
    problem = _postgres_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL for the gradebook tests: {problem}")
        pytest.skip(problem)
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
