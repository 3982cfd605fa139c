"""Every grading kernel runs in a sandbox: Linux namespaces (bubblewrap) plus resource limits.

nbgrader starts a kernel per submission through a Jupyter kernel manager. The kit's
``nbgrader_config.py`` names :class:`SandboxKernelManager` as that manager (see
:func:`course_tools.pipeline.configure`), so ``python -m course_tools.grade``, plain
``nbgrader autograde`` and the Formgrader all start kernels the same way::

    timeout -s KILL <wall>  [setpriv --reuid <uid> (when the grader is root)]
      bwrap --unshare-all --die-with-parent --new-session --clearenv ...
        sh -c 'copy the submission; exec prlimit <limits> -- python -m ipykernel_launcher -f <connection file>'

Inside, the kernel sees:

- the Python environment (``sys.prefix``, ``sys.base_prefix``, ``/usr``) and the course's
  grading code (the ``course_tools`` and ``minigrad`` packages) read-only, at their own paths;
- its own copy of the submission's folder, in ``/tmp/home`` (its working directory and
  ``HOME``), on a private ``/tmp``: a tmpfs of ``disk_limit`` bytes;
- nothing else of the instructor's files: no ``solutions/``, ``submitted/``, gradebook,
  ``nbgrader_config.py``, home directory, ``/etc`` beyond the loader's cache;
- an environment with only ``PATH``, ``HOME``, ``LANG``, thread counts and every variable
  named ``MINIGRAD_GRADING_*``;
- no network (a new network namespace with only a down loopback). The kernel talks to nbgrader
  over ZeroMQ's IPC transport: unix sockets in a per-kernel directory bound read-write;
- a new PID namespace: when the kernel (PID 1's child) ends, or the grader dies
  (``--die-with-parent``), every process it started is killed; it sees no process of the
  host, so it cannot signal the grader;
- an unprivileged user: a user namespace, entered as uid ``sandbox_uid`` (65534, "nobody")
  when the grader runs as root, as the grader's own uid otherwise; process limits count the
  processes of that namespace only;
- limits: address space ``memory_limit``, ``process_limit`` processes, file size and tmpfs
  ``disk_limit``, ``cpu_limit`` seconds of CPU, ``wall_limit`` seconds in all (killed after).

The directory of the grading channel (``MINIGRAD_GRADING_CHANNEL``), when set, is bound
read-write at the same path, so records written there reach the host.
"""

import importlib.util
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, Unicode

KEEP_ENV_PREFIX = "MINIGRAD_GRADING_"
INSIDE_HOME = "/tmp/home"
INSIDE_SOURCE = "/sandbox/submission"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


def bwrap_path():
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap") else None)


def _package_dirs(names=("course_tools", "minigrad")):
    """The folders of the grading code's packages, as the grader imports them."""
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += [str(Path(p).resolve()) for p in spec.submodule_search_locations]
    return found


def _python_dirs():
    """Folders the kernel's Python needs: its prefixes and the folders of installed packages.

    Other ``sys.path`` entries (the course folder, the current directory) are not bound: the
    grading packages in them are bound on their own by :func:`_package_dirs`.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    dirs = set(prefixes)
    for entry in sys.path:
        path = os.path.realpath(entry or ".")
        if not os.path.isdir(path) or any((path + "/").startswith(p + "/") for p in prefixes):
            continue
        if "site-packages" in path or "dist-packages" in path:
            dirs.add(path)
    return sorted(dirs)


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts each kernel inside the grading sandbox."""

    sandbox = Bool(True, help="Run kernels inside the sandbox (bubblewrap). Turning it off "
                              "runs student code with the grader's rights.").tag(config=True)
    memory_limit = Integer(2 * 1024 ** 3, help="Bytes of address space the kernel and each "
                                               "process it starts may use.").tag(config=True)
    process_limit = Integer(256, help="Processes (and threads) alive at once in one sandbox."
                            ).tag(config=True)
    disk_limit = Integer(200 * 1000 ** 2, help="Bytes of the sandbox's scratch (its copy of "
                                              "the submission, HOME and /tmp), and of any one "
                                              "file.").tag(config=True)
    cpu_limit = Integer(900, help="Seconds of CPU time of each process in the sandbox."
                        ).tag(config=True)
    wall_limit = Integer(1800, help="Seconds a kernel may live in all; then it is killed."
                         ).tag(config=True)
    sandbox_uid = Integer(65534, help="The unprivileged uid kernels run as when the grader "
                                      "runs as root.").tag(config=True)
    bwrap = Unicode("", help="Path of bubblewrap (default: bwrap on PATH).").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.sandbox:
            self._rundir = tempfile.mkdtemp(prefix="minigrad-kernel-")
            self._own(self._rundir)
            self.transport = "ipc"
            self.ip = os.path.join(self._rundir, "kernel")
            self.connection_file = os.path.join(self._rundir, "connection.json")

    def _own(self, path):
        os.chmod(path, 0o700)
        if os.geteuid() == 0:
            os.chown(path, self.sandbox_uid, self.sandbox_uid)

    # jupyter_client builds the kernel's command here; wrap it.
    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if not self.sandbox:
            return cmd
        # The grader interrupts a cell over the control channel: a signal to bubblewrap
        # would not reach the kernel inside.
        self.kernel_spec.interrupt_mode = "message"
        if os.geteuid() == 0 and os.path.exists(self.connection_file):
            os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)
        return self.sandbox_command(cmd, self._launch_args.get("cwd") or os.getcwd())

    def sandbox_command(self, cmd, cwd):
        bwrap = self.bwrap or bwrap_path()
        if not bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed: grading kernels cannot be sandboxed. "
                "Install Debian's bubblewrap package, or set "
                "SandboxKernelManager.sandbox = False to grade without a sandbox.")
        root = os.geteuid() == 0
        if root:
            # Real root sets up the mounts, then the kernel becomes an unprivileged uid of
            # the host (a uid mapped to root in a user namespace would not be bound by the
            # process limit).
            args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                    "--unshare-cgroup-try", "--cap-drop", "ALL",
                    "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns"]
        args += ["--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox"]
        for top in ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for name in ("ld.so.cache", "localtime", "alternatives"):
            if os.path.exists(f"/etc/{name}"):
                args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(self.disk_limit), "--tmpfs", "/tmp",
                 "--perms", "0777", "--dir", INSIDE_HOME]
        packages = _package_dirs()
        channel = os.environ.get("MINIGRAD_GRADING_CHANNEL")
        channel = channel if channel and os.path.isdir(channel) else None
        binds = [("--ro-bind", p) for p in _python_dirs() + packages] + [("--bind", self._rundir)]
        if channel:
            binds.append(("--bind", channel))
        made = {"/", "/tmp"}
        for _, path in binds:
            # The folders above a bound path, readable by the sandbox's user.
            parents = list(Path(path).parents)[::-1]
            for parent in map(str, parents):
                if parent not in made:
                    made.add(parent)
                    args += ["--perms", "0755", "--dir", parent]
        for how, path in binds:
            args += [how, path, path]
        if os.path.isdir(cwd):
            args += ["--perms", "0755", "--dir", os.path.dirname(INSIDE_SOURCE), "--ro-bind", os.path.realpath(cwd), INSIDE_SOURCE]
        env = {"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
               "HOME": INSIDE_HOME, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
               "PYTHONPATH": os.pathsep.join(sorted({os.path.dirname(p) for p in packages})),
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        env.update({k: v for k, v in os.environ.items() if k.startswith(KEEP_ENV_PREFIX)})
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--chdir", INSIDE_HOME]
        limits = [f"--as={self.memory_limit}", f"--nproc={self.process_limit}",
                  f"--fsize={self.disk_limit}", f"--cpu={self.cpu_limit}", "--core=0"]
        # Process limits bind inside the user namespace only once it exists: set them there.
        run = (f"cp -R {INSIDE_SOURCE}/. {INSIDE_HOME}/ 2>/dev/null; "
               f"exec prlimit {' '.join(limits)} -- {shlex.join(cmd)}")
        if root:
            run = shlex.join(["setpriv", f"--reuid={self.sandbox_uid}",
                              f"--regid={self.sandbox_uid}", "--clear-groups",
                              "--inh-caps=-all", "--bounding-set=-all", "/bin/sh", "-c", run])
            args += ["/bin/sh", "-c", "exec " + run]
        else:
            args += ["/bin/sh", "-c", run]
        return ["timeout", "-s", "KILL", str(self.wall_limit)] + args

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_rundir", None):
            shutil.rmtree(self._rundir, ignore_errors=True)


def check_available():
    """Raise SandboxUnavailable unless a sandbox can be made on this machine."""
    import subprocess
    bwrap = bwrap_path()
    if not bwrap:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    cmd = SandboxKernelManager(sandbox=True).sandbox_command(["/bin/true"], "/nonexistent")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise SandboxUnavailable(f"bubblewrap cannot create a sandbox here: {run.stderr.strip()}")


__all__ = ["SandboxKernelManager", "SandboxUnavailable", "check_available", "bwrap_path"]
