"""The README's first command as a student meets it: ``python -m course_tools.lab`` serves
the kit's root, opens lecture 1, and gives the student set-up of Binder (no instructor
tools, no news popup, an Assignment List without errors). Runs in Debian's Chromium."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import browser_utils as bu

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    problem = bu.chromium_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    home = tmp_path_factory.mktemp("student")
    kit = bu.copy_kit(ROOT, home / "kit")
    port = bu.free_port()
    env = bu.clean_environment(
        PYTHONPATH=str(kit), JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    log = open(home / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "course_tools.lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token="],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=5).read()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()
            time.sleep(0.3)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(bu.CHROMIUM), args=bu.CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        # The address the server prints, without a path: it must land on lecture 1.
        page.goto(f"{url}/")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        yield page, kit
        browser.close()
    server.terminate()
    server.wait(timeout=15)
    log.close()


def test_the_printed_address_opens_lecture_1(launched):
    page, _ = launched
    assert page.url.endswith("/lab/tree/lectures/01_chain_rule.ipynb"), page.url
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current").inner_text()
    assert "01_chain_rule" in tab


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
