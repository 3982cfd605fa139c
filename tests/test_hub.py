"""The whole course loop on JupyterHub, with real Unix accounts, on 127.0.0.1.

``course_tools.hub.prepare`` makes a grader, one instructor and three students, the shared
environment, the course and the exchange; the hub of ``deploy/jupyterhub/jupyterhub_config.py``
starts; then every step goes through the server of the user who takes it, as in a course:

- the instructor, in the Formgrader (the grader's hub service), generates and releases ps1;
- each student, in their own server: fetches it from the Assignment List's API, saves their
  work through the contents API (one right, one partly, one not at all), submits;
- the instructor collects, autogrades (in the kit's sandbox), generates and releases feedback;
- each student fetches their feedback and sees their own score only;
- the grader exports the grades (nbgrader's CSV and Canvas's import file).

Scores are checked cell by cell against what each notebook earns: a test cell's points
when its answer is the solution's, 0 when the answer is left as released. The isolation
test then tries, as a student, to reach another's submission, the course and the hub's
secrets. Times are printed (``pytest -s``).
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

import browser_utils as bu
import course_utils as cu
from course_tools import hub

PS = "ps1_finite_differences"
COURSE_ID = "minigrad-kit"
INSTRUCTOR = "mkt-instructor"
STUDENTS = {"mkt-ana": "right", "mkt-ben": "partly", "mkt-cem": "blank"}
GRADER = "mkt-grader"
BROWSER_STUDENT = "mkt-dee"       # does it all in Chromium
BASE = Path("/srv/minigrad-kit-test")
PARTLY = ["difference_quotients", "rel_error", "convergence_order"]   # the answers ben writes

pytestmark = pytest.mark.timeout(1800)


def _problem():
    if os.geteuid() != 0:
        return "the hub test creates Unix accounts: it needs root"
    for tool in ("configurable-http-proxy", "bwrap", "useradd", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (bash .ci/debian-packages installs it)"
    return None


class Hub:
    """The running hub: its address, the admin token, and a token per user."""

    def __init__(self, course, token, process, log):
        self.course, self.admin, self.process, self.log = course, token, process, log
        self.url = f"http://127.0.0.1:{course.port}"
        self.tokens = {}

    def request(self, method, path, token, body=None, form=None, timeout=300):
        data, headers = None, {"Authorization": f"token {token}"}
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text.strip() else None)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def ok(self, method, path, token, **kw):
        status, payload = self.request(method, path, token, **kw)
        assert status < 300, f"{method} {path}: {status} {payload}\n{self.log_tail()}"
        return payload

    def log_tail(self, n=60):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def user_token(self, name, scopes):
        if name not in self.tokens:
            made = self.ok("POST", f"/hub/api/users/{name}/tokens", self.admin,
                           body={"scopes": scopes, "note": "tests/test_hub.py"})
            self.tokens[name] = made["token"]
        return self.tokens[name]

    def start_servers(self, names):
        """Start these users' servers, all at once, and wait until each one is ready."""
        for name in names:
            status, payload = self.request("POST", f"/hub/api/users/{name}/server", self.admin)
            assert status in (201, 202, 400), (status, payload)     # 400: already running
        waiting, deadline = list(names), time.monotonic() + 180
        while waiting and time.monotonic() < deadline:
            for name in list(waiting):
                user = self.ok("GET", f"/hub/api/users/{name}", self.admin)
                server = user.get("servers", {}).get("")
                if server and server.get("ready"):
                    waiting.remove(name)
            if waiting:
                time.sleep(0.5)
        assert not waiting, f"servers that did not start: {waiting}\n{self.log_tail()}"

    # -- a student's own server
    def student(self, name, method, action, **kw):
        token = self.user_token(name, [f"access:servers!user={name}"])
        return self.ok(method, f"/user/{name}/{action}", token, **kw)

    # -- the instructor in the Formgrader
    def formgrader(self, method, action, **kw):
        token = self.user_token(INSTRUCTOR, [f"access:services!service={COURSE_ID}"])
        return self.ok(method, f"/services/{COURSE_ID}/formgrader/api/{action}", token, **kw)


def _reset(course):
    """No account, home, exchange or hub state left from an earlier run."""
    for name in [GRADER, INSTRUCTOR, *STUDENTS, BROWSER_STUDENT]:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
    shutil.rmtree(BASE, ignore_errors=True)


@pytest.fixture(scope="module")
def running_hub(tmp_path_factory):
    problem = _problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the hub test: {problem}")
        pytest.skip(problem)
    course = hub.Course(instructors=[INSTRUCTOR], students=[*STUDENTS, BROWSER_STUDENT], grader=GRADER,
                        state=BASE / "hub", exchange=BASE / "exchange",
                        port=bu.free_port(), formgrader_port=bu.free_port(),
                        internal_port=bu.free_port(), proxy_api_port=bu.free_port())
    _reset(course)
    began = time.monotonic()
    passwords = hub.prepare(course, log=lambda line: print("  hub:", line))
    prepared = time.monotonic() - began
    token = secrets.token_hex(20)     # JupyterHub refuses a token of 64 characters or more
    log = tmp_path_factory.mktemp("hub") / "jupyterhub.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON", "MPL"))}
    env.update(hub.hub_environment(course, api_token=token))
    began = time.monotonic()
    with open(log, "w") as out:
        process = subprocess.Popen(hub.hub_command(course), cwd=course.state / "private", env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    running = Hub(course, token, process, log)
    running.passwords = passwords
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"the hub exited\n{running.log_tail()}"
            try:
                with urllib.request.urlopen(running.url + "/hub/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the hub did not answer\n{running.log_tail()}"
            time.sleep(0.3)
        running.startup = time.monotonic() - began
        print(f"\n  hub: prepared in {prepared:.1f} s, started in {running.startup:.1f} s")
        yield running
    finally:
        stopping = time.monotonic()
        os.killpg(process.pid, 15)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        print(f"\n  hub: stopped in {time.monotonic() - stopping:.1f} s")
        hub.stop_proxy(course)
        for name in [INSTRUCTOR, *STUDENTS, BROWSER_STUDENT, GRADER]:
            subprocess.run(["pkill", "-KILL", "-u", name], check=False)


def _work(fetched, kind):
    """The fetched notebook as the student leaves it: every answer, some, or none written."""
    nb = nbformat.from_dict(fetched)
    if kind == "blank":
        return nb
    answers = {cu.grade_id(c): c.source for c in cu.solved(PS).cells if cu.is_answer(c)}
    for cell in nb.cells:
        if cu.is_answer(cell) and (kind == "right" or cu.grade_id(cell) in PARTLY):
            cell.source = answers[cu.grade_id(cell)]
    if kind == "partly":        # and a cell of his own, asking where it runs
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    return nb


PROBE = """import os
print("where:", os.getcwd(), "user:", os.getuid(), "sees the course:", os.path.exists("/home/mkt-grader"))"""


def _expected(kind):
    """{test cell: points} a notebook of this kind earns."""
    points = cu.grade_cells(PS)
    if kind == "right":
        return points
    if kind == "blank":
        return {cell: 0 for cell in points}
    return {cell: (p if cell.removeprefix("test_") in PARTLY else 0) for cell, p in points.items()}


@pytest.fixture(scope="module")
def course_loop(running_hub):
    """Release, fetch, work, submit, collect, autograde, feedback, fetch feedback, export."""
    h, timings = running_hub, {}
    began = time.monotonic()
    h.start_servers([INSTRUCTOR, *STUDENTS])
    timings["servers"] = time.monotonic() - began

    t = time.monotonic()
    h.formgrader("POST", f"assignment/{PS}/assign")
    released = h.formgrader("POST", f"assignment/{PS}/release")
    assert released.get("success"), released
    timings["release"] = time.monotonic() - t

    t = time.monotonic()
    for name, kind in STUDENTS.items():
        listed = h.student(name, "GET", f"assignments?course_id={COURSE_ID}")
        assert any(a["assignment_id"] == PS and a["status"] == "released" for a in listed["value"]), listed
        h.student(name, "POST", "assignments/fetch", form={"course_id": COURSE_ID, "assignment_id": PS})
        path = f"api/contents/{PS}/{PS}.ipynb"
        fetched = h.student(name, "GET", path)["content"]
        h.student(name, "PUT", path, body={"type": "notebook", "format": "json",
                                           "content": _work(fetched, kind)})
        submitted = h.student(name, "POST", "assignments/submit",
                              form={"course_id": COURSE_ID, "assignment_id": PS})
        assert submitted.get("success", True) is not False, submitted
    timings["fetch, work, submit"] = time.monotonic() - t

    t = time.monotonic()
    collected = h.formgrader("POST", f"assignment/{PS}/collect")
    assert collected.get("success"), collected
    for name in STUDENTS:
        graded = h.formgrader("POST", f"submission/{PS}/{name}/autograde", timeout=900)
        assert graded.get("success"), graded
    timings["collect, autograde"] = time.monotonic() - t

    t = time.monotonic()
    for action in ("generate_feedback", "release_feedback"):
        done = h.formgrader("POST", f"assignment/{PS}/{action}", timeout=600)
        assert done.get("success"), done
    feedback = {}
    for name in STUDENTS:
        h.student(name, "POST", "assignments/fetch_feedback",
                  form={"course_id": COURSE_ID, "assignment_id": PS})
        folder = h.student(name, "GET", f"api/contents/{PS}/feedback")
        feedback[name] = {}
        for stamp in folder["content"]:
            listing = h.student(name, "GET", f"api/contents/{urllib.parse.quote(stamp['path'])}")
            for item in listing["content"]:
                page = h.student(name, "GET",
                                 f"api/contents/{urllib.parse.quote(item['path'])}?format=text")
                feedback[name][item["name"]] = page["content"]
    timings["feedback"] = time.monotonic() - t

    t = time.monotonic()
    course_root = h.course.course_root
    exported = hub.as_user(GRADER, [str(h.course.env / "bin" / "python"), "-m", "course_tools.export"],
                           cwd=course_root, path=f"{h.course.env}/bin:/usr/bin:/bin",
                           capture_output=True, text=True)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    timings["export"] = time.monotonic() - t
    timings["whole loop"] = time.monotonic() - began
    print("\n  hub loop, three students:",
          ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return {"feedback": feedback, "grades_csv": course_root / "grades" / "nbgrader_grades.csv",
            "canvas_csv": course_root / "grades" / "canvas_grades.csv", "timings": timings}


def _gradebook_scores(h):
    """{student: {test cell: score}} from the Formgrader's API."""
    out = {}
    for name in STUDENTS:
        notebooks = h.formgrader("GET", f"student_notebook_submissions/{name}/{PS}")
        assert notebooks, name
        submission_id = notebooks[0]["id"]
        out[name] = {g["name"]: g["auto_score"] for g in h.formgrader("GET", f"grades?submission_id={submission_id}")}
    return out


def test_every_score_is_what_the_notebook_earns(running_hub, course_loop):
    scores = _gradebook_scores(running_hub)
    for name, kind in STUDENTS.items():
        assert {cell: scores[name][cell] for cell in _expected(kind)} == pytest.approx(_expected(kind)), (name, scores[name])


def test_exported_grades_have_each_student_once_with_their_score(course_loop):
    rows = list(csv.DictReader(open(course_loop["grades_csv"])))
    by_student = {r["student_id"]: r for r in rows if r["assignment"] == PS and r["student_id"] != BROWSER_STUDENT}
    assert set(by_student) == set(STUDENTS)
    for name, kind in STUDENTS.items():
        assert float(by_student[name]["score"]) == pytest.approx(sum(_expected(kind).values())), by_student[name]
        assert float(by_student[name]["max_score"]) == pytest.approx(sum(cu.grade_cells(PS).values()))


def test_the_canvas_file_has_each_student_once_with_their_score(course_loop):
    rows = list(csv.reader(open(course_loop["canvas_csv"], encoding="utf-8")))
    header, points, students = rows[0], rows[1], rows[2:]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], header
    column = header.index(PS)
    assert points[0].strip() == "Points Possible"
    assert float(points[column]) == sum(cu.grade_cells(PS).values())
    by_login = {row[3]: row for row in students}
    assert set(by_login) == set(STUDENTS), by_login
    for name, kind in STUDENTS.items():
        assert float(by_login[name][column]) == pytest.approx(sum(_expected(kind).values())), by_login[name]


def test_each_student_fetches_their_own_feedback_only(course_loop):
    total = sum(cu.grade_cells(PS).values())
    for name, kind in STUDENTS.items():
        pages = course_loop["feedback"][name]
        assert list(pages) == [f"{PS}.html"], (name, list(pages))
        page = pages[f"{PS}.html"]
        earned = sum(_expected(kind).values())
        assert f"{earned:g}" in page and f"{total:g}" in page, name
        for other in STUDENTS:
            if other != name:
                assert other not in page, (name, other)


def _as(name, *cmd):
    return hub.as_user(name, list(cmd), capture_output=True, text=True)


def test_autograding_ran_in_the_sandbox(running_hub, course_loop):
    graded = cu.read(running_hub.course.course_root / "autograded" / "mkt-ben" / PS / f"{PS}.ipynb")
    probe = [c for c in graded.cells if c.source == PROBE]
    assert probe, "ben's own cell is gone"
    text = "".join(o.get("text", "") for o in probe[0].outputs)
    grader_uid = pwd.getpwnam(GRADER).pw_uid
    assert f"where: /tmp/home user: {grader_uid} sees the course: False" in text, text


def test_a_student_cannot_reach_another_submission_or_the_course(running_hub, course_loop):
    h = running_hub
    inbound = h.course.exchange / COURSE_ID / "inbound"
    anas = [p for p in inbound.iterdir() if p.name.startswith("mkt-ana+")]
    assert anas, list(inbound.iterdir())
    theirs = anas[0] / f"{PS}.ipynb"
    assert theirs.exists()
    # ben cannot list the inbound folder, read ana's notebook, or write into her submission
    assert _as("mkt-ben", "ls", str(inbound)).returncode != 0
    attempt = _as("mkt-ben", "cat", str(theirs))
    assert attempt.returncode != 0 and "Permission denied" in attempt.stderr, attempt
    assert _as("mkt-ben", "sh", "-c", f"echo x > '{anas[0]}/extra.txt'").returncode != 0
    assert _as("mkt-ben", "sh", "-c", f"echo x >> '{theirs}'").returncode != 0
    # ... or rename it to a submission of his own (collect would file it under his name)
    stolen = inbound / f"mkt-ben+{PS}+2030-01-01 00:00:00.000000 UTC+stolen"
    assert _as("mkt-ben", "mv", str(anas[0]), str(stolen)).returncode != 0
    assert anas[0].exists() and not stolen.exists()
    assert _as("mkt-ben", "rm", "-rf", str(anas[0])).returncode != 0 and theirs.exists()
    # ... nor her home, the course (sources, gradebook), or the hub's database and secrets
    for target in [pwd.getpwnam("mkt-ana").pw_dir, h.course.course_root / "gradebook.db",
                   h.course.course_root / "solutions" / PS / f"{PS}.ipynb",
                   h.course.state / "private" / "jupyterhub.sqlite"]:
        assert _as("mkt-ben", "cat", str(target)).returncode != 0, target
    # while the grader still reads it (collect worked) and ana herself does
    assert _as(GRADER, "cat", str(theirs)).returncode == 0
    assert _as("mkt-ana", "cat", str(theirs)).returncode == 0


def test_a_submission_made_under_another_name_is_not_collected(running_hub, course_loop):
    """ben hands in his own notebook as ana's (nbgrader submit --student); collect keeps hers."""
    h = running_hub
    hers = h.course.course_root / "submitted" / "mkt-ana" / PS / f"{PS}.ipynb"
    before = hers.read_bytes()
    forged = hub.as_user("mkt-ben", [str(h.course.env / "bin" / "nbgrader"), "submit", PS,
                                     "--student=mkt-ana"],
                         cwd=pwd.getpwnam("mkt-ben").pw_dir, path=f"{h.course.env}/bin:/usr/bin:/bin",
                         env={"JUPYTER_CONFIG_PATH": str(h.course.state / "jupyter_config"),
                              "MINIGRAD_EXCHANGE": str(h.course.exchange)},
                         capture_output=True, text=True)
    assert forged.returncode == 0, forged.stdout + forged.stderr    # the exchange takes it ...
    inbound = h.course.exchange / COURSE_ID / "inbound"
    assert len([p for p in inbound.iterdir() if p.name.startswith("mkt-ana+")]) == 2
    collected = h.formgrader("POST", f"assignment/{PS}/collect")
    assert collected.get("success"), collected
    assert "Not collected" in collected["log"] and "made by mkt-ben" in collected["log"], collected["log"]
    assert hers.read_bytes() == before                              # ... collect does not


def test_students_have_no_instructor_tools(running_hub, course_loop):
    h = running_hub
    token = h.user_token("mkt-ben", ["access:servers!user=mkt-ben"])
    status, _ = h.request("GET", f"/services/{COURSE_ID}/formgrader/api/assignments", token)
    assert status in (302, 403, 404), status
    status, _ = h.request("GET", "/user/mkt-ben/formgrader/api/assignments", token)
    assert status == 404, status


# ------------------------------------------------------------------------- in Chromium

REL_ERROR = (
    "def rel_error(a, b):\n"
    "    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\n"
    "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))")


def _log_in(page, h, name, next_path=""):
    page.goto(h.url + "/hub/login" + (f"?next={urllib.parse.quote(next_path)}" if next_path else ""))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", h.passwords[name])
    page.click("button[type=submit], input[type=submit]")


def _assignment_list(page):
    page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=120_000)
    page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
    page.click(".lm-Menu-itemLabel:text-is('Assignment List')")


@pytest.fixture(scope="module")
def browser():
    problem = bu.chromium_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the browser tests: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(bu.CHROMIUM), args=bu.CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_in_chromium_a_student_logs_in_fetches_works_validates_submits_and_the_instructor_grades_it(
        running_hub, course_loop, browser):
    """dee writes one answer (rel_error, 1 of ps1's 10 points) and leaves the rest."""
    h, name = running_hub, BROWSER_STUDENT
    page = browser.new_page()
    _log_in(page, h, name)
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    _assignment_list(page)
    page.click("#released_assignments_list button:text-is('Fetch')", timeout=60_000)
    page.wait_for_selector(f"#fetched_assignments_list :text('{PS}')", timeout=60_000)

    base = page.url.split("/lab")[0]
    page.goto(f"{base}/lab/tree/{PS}/{PS}.ipynb?reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    bu.wait_for_kernel_idle(page, 120)
    page.locator(".jp-CodeCell", has_text="def rel_error(a, b):").first.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(REL_ERROR)
    page.keyboard.press("Escape")
    bu.run_all(page)
    page.wait_for_timeout(2000)
    bu.wait_for_kernel_idle(page, 300)
    page.keyboard.press("Control+s")
    page.wait_for_selector(bu.DIRTY_TAB, state="detached", timeout=20_000)

    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=120_000)
    summary = dialog.locator("#validation-message").inner_text()
    assert summary.lstrip().startswith("Summary: 1 of 6 tests pass"), summary[:400]
    page.keyboard.press("Escape")

    page.goto(f"{base}/lab?reset")
    _assignment_list(page)
    page.click("#fetched_assignments_list button:text-is('Submit')", timeout=60_000)
    page.wait_for_selector(f"#submitted_assignments_list :text('{PS}')", timeout=60_000)
    page.close()

    # The instructor, in another browser session, collects and autogrades in the Formgrader.
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, h, INSTRUCTOR, f"/services/{COURSE_ID}/formgrader/")
    page.wait_for_url("**/formgrader/manage_assignments", timeout=120_000)
    page.click(f"tr:has-text('{PS}') td.collect a")
    page.wait_for_selector(".modal-dialog:has-text('Successfully collected')", timeout=120_000)
    page.goto(page.url.split("/formgrader")[0] + f"/formgrader/manage_submissions/{PS}")
    row = f"tr:has-text('{name}')"
    page.wait_for_selector(f"{row} td.autograde a", timeout=60_000)
    page.click(f"{row} td.autograde a")
    page.wait_for_selector(".modal-dialog:has-text('Successfully autograded')", timeout=600_000)
    page.click(".modal-dialog button:text-is('OK')")
    from playwright.sync_api import expect
    expect(page.locator(row)).to_contain_text(re.compile(r"graded\s*1 / 10"), timeout=60_000)
    context.close()


# ------------------------------------------------------------------- the demo command

_DEMO_PORT = []
DEMO = {"instructor": "mkt-demo-teacher", "grader": "mkt-demo-grader", "prefix": "mkt-demo-s"}


def test_the_demo_command_starts_a_hub_its_printed_log_ins_open(running_hub, tmp_path):
    """``python -m course_tools.hub demo`` as an instructor trying the kit runs it (with its
    own names and ports, beside the hub above); a printed student log-in gets into the hub."""
    names = [DEMO["instructor"], DEMO["grader"], DEMO["prefix"] + "1"]
    for name in names:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False, capture_output=True)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
    port = bu.free_port()
    _DEMO_PORT[:] = [port]
    command = [sys.executable, "-m", "course_tools.hub", "demo", "--students", "1",
               "--student-prefix", DEMO["prefix"], "--instructor", DEMO["instructor"],
               "--grader", DEMO["grader"], "--port", str(port),
               "--internal-port", str(bu.free_port()), "--proxy-api-port", str(bu.free_port()),
               "--formgrader-port", str(bu.free_port()),
               "--state", str(BASE / "demo-hub"), "--exchange", str(BASE / "demo-exchange")]
    out = tmp_path / "demo.log"
    began = time.monotonic()
    with open(out, "w") as log:
        demo = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")})
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            assert demo.poll() is None, out.read_text()
            try:
                with urllib.request.urlopen(url + "/hub/health", timeout=5):
                    break
            except OSError:
                pass
            assert time.monotonic() - began < 600, out.read_text()
            time.sleep(0.5)
        printed = out.read_text()
        student = DEMO["prefix"] + "1"
        password = re.search(rf"^\s+{re.escape(student)}\s+(\S+)$", printed, re.M).group(1)
        assert f"{url}/services/minigrad-kit/formgrader" in printed
        # a wrong password is refused; the printed one logs in (a cookie and a redirect)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(),
                                             _NoRedirect())
        login = opener.open(url + "/hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', login.read().decode()).group(1)
        for attempt, expected in ((password + "x", 403), (password, 302)):
            form = urllib.parse.urlencode({"username": student, "password": attempt,
                                           "_xsrf": xsrf}).encode()
            try:
                status = opener.open(url + "/hub/login", data=form).status
            except urllib.error.HTTPError as error:
                status = error.code
            assert status == expected, (attempt == password, status)
        print(f"\n  demo: hub answering {time.monotonic() - began:.1f} s after the command")
    finally:
        stopping = time.monotonic()
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
        hub.stop_proxy(hub.Course(state=BASE / "demo-hub"))
        for name in names:
            subprocess.run(["pkill", "-KILL", "-u", name], check=False, capture_output=True)
            subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        print(f"  demo: stopped and its accounts removed in {time.monotonic() - stopping:.1f} s")


def test_no_proxy_is_left_running_after_a_hub_stops(running_hub):
    """Run last (it stops nothing itself): the demo's hub, stopped above, left no proxy."""
    demo_pid = BASE / "demo-hub" / "private" / "proxy.pid"
    assert not demo_pid.exists(), demo_pid.read_text()
    leftover = subprocess.run(["pgrep", "-f", f"configurable-http-proxy.*--port {_DEMO_PORT[0]}"],
                              capture_output=True, text=True) if _DEMO_PORT else None
    assert leftover is None or leftover.stdout.strip() == "", leftover.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
