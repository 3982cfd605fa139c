"""Helpers for the real-browser tests: a JupyterLab server of our own, and the few things a
student does in it (open a notebook, Run All, move a slider, press Validate).

Kept apart from ``test_browser.py`` so the test file reads as a list of claims.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import http.cookiejar
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# What a fresh copy of the kit needs; the environment, caches and run artefacts stay behind.
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", "*.egg-info", ".pytest_cache",
    ".ipynb_checkpoints", "artifacts", "build", "dist",
)

# The instructor-only parts of nbgrader, switched off as binder/postBuild does on Binder.
INSTRUCTOR_LAB_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]

# Environment variables of the test process that must not reach the server or its kernels:
# MPLBACKEND=Agg (set by the test suite) would stop matplotlib from drawing inline.
LEAKY_VARIABLES = ["MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "PYTHONPATH"]


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (
            f"Chromium is not installed ({CHROMIUM} is missing); "
            "install it with: apt-get install -y chromium"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing; install requirements-dev.txt"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    env.update(extra)
    return env


def copy_kit(root: Path, destination: Path) -> Path:
    """A copy of the kit's files, so notebooks saved by the tests never touch the repository."""
    shutil.copytree(root, destination, ignore=COPY_IGNORE)
    return destination


class LabServer:
    """``jupyter lab`` on 127.0.0.1 with no token, in a copy of the kit, set up as on Binder."""

    def __init__(self, root: Path, python: str = sys.executable):
        self.home = Path(tempfile.mkdtemp(prefix="minigrad-lab-"))
        self.root = copy_kit(root, self.home / "kit")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.python = python
        self.process: subprocess.Popen | None = None
        self.log_path = self.home / "server.log"
        # The server wants its _xsrf cookie echoed back on requests that change things.
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _write_settings(self) -> dict[str, str]:
        config = self.home / "config"
        settings = self.home / "lab-settings"
        (config / "labconfig").mkdir(parents=True)
        (config / "labconfig" / "page_config.json").write_text(json.dumps({
            "disabledExtensions": {name: True for name in INSTRUCTOR_LAB_PLUGINS},
        }))
        # The student set-up's server config (binder/jupyter_config), instructor tools off.
        server = json.loads((self.root / "binder" / "jupyter_config" /
                             "jupyter_server_config.json").read_text())
        server["ServerApp"]["jpserver_extensions"].update(
            {n: False for n in INSTRUCTOR_SERVER_EXTENSIONS})
        (config / "jupyter_server_config.json").write_text(json.dumps(server))
        # No news or update popups (binder/postBuild sets the same through overrides.json),
        # and every cell kept in the page, so the tests can see all of a notebook's outputs.
        notification = settings / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        return {
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
        }

    def start(self, timeout: float = 90) -> "LabServer":
        env = clean_environment(**self._write_settings())
        command = [
            self.python, "-m", "jupyter", "lab",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", "--IdentityProvider.token=",
            "--ServerApp.password=", "--allow-root", "--no-browser",
            f"--ServerApp.root_dir={self.root}",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log()}")
            try:
                self.api("GET", "status")
                self.opener.open(f"{self.url}/lab", timeout=10).read()
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log()}")

    def stop(self, keep_log: Path | None = None) -> None:
        """Stop the server (it shuts its kernels down), keep its log if asked, clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if keep_log is not None and self.log_path.exists():
            keep_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log_path, keep_log)
        shutil.rmtree(self.home, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method)
        xsrf = [c.value for c in self.cookies if c.name == "_xsrf"]
        if xsrf:
            request.add_header("X-XSRFToken", xsrf[0])
        with self.opener.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def saved_notebook(self, relpath: str) -> dict:
        return self.api("GET", f"contents/{relpath}?content=1")["content"]

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")
        for kernel in self.api("GET", "kernels"):
            self.api("DELETE", f"kernels/{kernel['id']}")


# ---------------------------------------------------------------------------------------
# What a student does in the page
# ---------------------------------------------------------------------------------------

PROMPTS = "() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'), e => e.innerText.trim())"
# The toolbar's execution indicator says 'idle' before any kernel exists; a kernel name in
# the toolbar shows the session is real, and from then on the indicator tells the truth.
KERNEL_STATUS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const name = panel?.querySelector('.jp-Toolbar-kernelName')?.innerText.trim();
  if (!name || name === 'No Kernel') return 'no kernel';
  return panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
}"""

# Rendered widget views at the top level of a cell's outputs (widgets nested inside an
# Output widget belong to the view around them).
WIDGET_VIEWS = """() => Array.from(document.querySelectorAll('.jp-Cell-outputArea .jp-OutputArea-output'))
  .filter(o => !o.parentElement.closest('.jupyter-widgets'))
  .map(o => o.querySelector(':scope > .jupyter-widgets'))
  .filter(v => v !== null)
  .map(v => ({classes: v.className, width: v.getBoundingClientRect().width,
              height: v.getBoundingClientRect().height, text: v.innerText.slice(0, 200)}))"""

# What a cell shows apart from its sliders: used to tell whether moving a slider changed it.
OUTPUT_WITHOUT_SLIDERS = """cell => {
  const area = cell.querySelector('.jp-Cell-outputArea').cloneNode(true);
  area.querySelectorAll('.widget-slider').forEach(e => e.remove());
  return area.innerHTML;
}"""


def open_notebook(page, server: LabServer, relpath: str) -> None:
    page.goto(f"{server.url}/lab/tree/{relpath}?reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    wait_for_kernel_idle(page, timeout=60)


def wait_for_kernel_idle(page, timeout: float) -> None:
    page.wait_for_function(f"({KERNEL_STATUS})() === 'idle'", timeout=timeout * 1000)


def run_all(page) -> None:
    """Run > Run All Cells, as a student would; returns once the first cell has started."""
    started = "() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))" \
              ".some(e => /\\[(\\*|\\d+)\\]/.test(e.innerText))"
    for attempt in range(2):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        try:
            page.wait_for_function(started, timeout=15_000)
            return
        except Exception:
            if attempt:
                raise


def code_cells_to_run(notebook: dict) -> int:
    """JupyterLab does not send empty code cells to the kernel, so they keep a blank prompt."""
    return sum(1 for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip())


def wait_until_run(page, expected: int, timeout: float) -> list[str]:
    """Wait until `expected` cells show an execution count, or the queue stops early (an
    error aborts the cells after it); returns the prompts as they are then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prompts = page.evaluate(PROMPTS)
        numbered = sum(1 for p in prompts if p[1:-2].isdigit())
        running = any(p == "[*]:" for p in prompts)
        if numbered >= expected and not running and page.evaluate(KERNEL_STATUS) == "idle":
            return prompts
        if not running and numbered and page.evaluate(KERNEL_STATUS) == "idle":
            time.sleep(1)  # an aborted queue: check once more that nothing is pending
            if not any(p == "[*]:" for p in page.evaluate(PROMPTS)):
                return page.evaluate(PROMPTS)
        time.sleep(0.25)
    return page.evaluate(PROMPTS)


DIRTY_TAB = ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty"


def save(page, server: LabServer, relpath: str, executed: int, timeout: float = 20) -> dict:
    """Save with Ctrl+S and return the notebook as the server has it on disk.

    The file is read only after the tab has lost its unsaved-changes mark: a read while the
    server is still writing it can make the server take the half-written file for a crashed
    save and restore the old one."""
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_selector(DIRTY_TAB, state="detached", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while True:
        notebook = server.saved_notebook(relpath)
        ran = sum(1 for c in notebook["cells"] if c["cell_type"] == "code" and c.get("execution_count"))
        if ran >= executed or time.monotonic() > deadline:
            return notebook
        time.sleep(0.5)


def error_outputs(notebook: dict) -> list[str]:
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                found.append(f"cell {index}: {output['ename']}: {output['evalue']}")
    return found


def widget_outputs(notebook: dict) -> int:
    return sum(
        1
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    )


def drag_slider(page, slider, fraction: float) -> None:
    """Drag the slider's handle with the mouse to `fraction` of the way along its track."""
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-target").first
    handle.scroll_into_view_if_needed()
    h, t = handle.bounding_box(), track.bounding_box()
    y = h["y"] + h["height"] / 2
    page.mouse.move(h["x"] + h["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(t["x"] + t["width"] * fraction, y, steps=10)
    page.mouse.up()


def cell_of(locator):
    return locator.locator(
        "xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' jp-Cell ')][1]")
