"""The README's first command as a newcomer meets it, word for word, on a fresh clone: as
root and as a normal user, it makes its venv, installs, and ``python -m course_tools.lab``
serves the kit's root, opens lecture 1, and gives the student set-up of Binder (no
instructor tools, no news popup, an Assignment List without errors). Runs in Debian's
Chromium. The clone is of the repository's last commit."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import browser_utils as bu
from test_repo import readme_commands

ROOT = Path(__file__).resolve().parents[1]
STUDENT = "minigrad-student"
INSTALL_SECONDS = 900      # a fresh venv and requirements.txt, from the package index


def _student_account():
    """The uid, gid and home of a normal account, made if missing (the test runs as root)."""
    try:
        entry = pwd.getpwnam(STUDENT)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", STUDENT], check=True)
        entry = pwd.getpwnam(STUDENT)
    return entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)


@pytest.fixture(scope="module", params=["root", "normal user"])
def launched(request, tmp_path_factory):
    problem = bu.chromium_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: the test makes a normal account for the second run")
        if request.param == "normal user":
            pytest.skip("needs root to make a normal account")
    if not (ROOT / ".git").exists():
        pytest.fail("the first command is run on a fresh clone: this checkout has no .git")
    if request.param == "root":
        home, run_as, env = tmp_path_factory.mktemp("root-home"), [], dict(
            bu.clean_environment(), HOME="")
        env["HOME"] = str(home)
    else:
        uid, gid, home = _student_account()
        run_as = ["runuser", "-u", STUDENT, "--"]
        # a newcomer's environment: no variables of the grader's (its PATH, pip's settings)
        env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "USER": STUDENT}
    kit = Path(home) / "minigrad-kit"
    shutil.rmtree(kit, ignore_errors=True)
    # A newcomer has no JupyterLab state: the account outlives a run, and a workspace saved
    # by the last one (ps1 left open) would be restored beside lecture 1.
    for state in (".jupyter", ".local/share/jupyter"):
        shutil.rmtree(Path(home) / state, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(kit)], check=True)
    if request.param == "normal user":
        subprocess.run(["chown", "-R", f"{uid}:{gid}", str(kit)], check=True)
    port = bu.free_port()
    first = readme_commands()[0]
    line = (f"{first} --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            f"--ServerApp.port_retries=0 --IdentityProvider.token=")
    log_path = tmp_path_factory.mktemp("log") / "first-command.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(run_as + ["env", "-i"] + [f"{k}={v}" for k, v in env.items()]
                              + ["bash", "-c", line], cwd=kit, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=5).read()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() - started < INSTALL_SECONDS, \
                log_path.read_text()[-4000:]
            time.sleep(1)
    print(f"\nfirst command as {request.param}: serving after {time.monotonic() - started:.0f} s")
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(bu.CHROMIUM), args=bu.CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # The address the server prints, without a path: it must land on lecture 1.
            page.goto(f"{url}/")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            yield page, kit
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        log.close()


def test_the_printed_address_opens_lecture_1(launched):
    page, _ = launched
    # JupyterLab may leave an empty query ("...ipynb?") once it has read the address.
    assert urllib.parse.urlsplit(page.url).path.endswith("/lab/tree/lectures/01_chain_rule.ipynb"), page.url
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current").inner_text()
    assert "01_chain_rule" in tab


def test_lecture_1_opens_without_unsaved_changes(launched):
    """Starting the kernel changes nothing in the notebook: no unsaved-changes dot."""
    page, _ = launched
    page.wait_for_function(
        "() => document.body.innerText.includes('Python 3 (ipykernel) | Idle')", timeout=90_000)
    page.wait_for_timeout(2000)
    assert page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty").count() == 0


def test_no_news_popup_and_no_instructor_menus(launched):
    page, _ = launched
    page.wait_for_timeout(3000)
    assert page.get_by_text("official Jupyter news").count() == 0
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" in menus
    page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
    items = " | ".join(page.locator(".lm-Menu-itemLabel").all_inner_texts())
    page.keyboard.press("Escape")
    for instructor in ("Formgrader", "Create assignment", "Course List"):
        assert instructor.lower() not in items.lower(), items


def test_the_assignment_list_shows_no_error(launched):
    page, _ = launched
    page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
    page.click(".lm-Menu-itemLabel:text-is('Assignment List')")
    page.wait_for_timeout(5000)
    body = page.locator("body").inner_text()
    assert "Error fetching courses" not in body
    assert "exchange directory does not exist" not in body


def test_the_file_browser_reaches_a_problem_set(launched):
    page, kit = launched
    page.goto(page.url.split("/lab")[0] + "/lab/tree/assignments/ps1_finite_differences")
    page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    names = page.locator(".jp-DirListing-itemText").all_inner_texts()
    assert "ps1_finite_differences.ipynb" in names, names
    assert (kit / "assignments" / "ps1_finite_differences" / "ps1_finite_differences.ipynb").is_file()


def test_validate_opens_with_the_summary(launched):
    page, _ = launched
    base = page.url.split("/lab")[0]
    page.goto(base + "/lab/tree/assignments/ps1_finite_differences/ps1_finite_differences.ipynb")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button", timeout=60_000)
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=120_000)
    text = dialog.locator("#validation-message").inner_text()
    assert text.lstrip().startswith("Summary: 0 of 6 tests pass"), text[:500]
    assert "test_difference_quotients (2 points)" in text, text[:1000]
