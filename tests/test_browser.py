"""JupyterLab in headless Chromium, used as a student uses the kit: every lecture runs with
Run > Run All Cells and draws its widgets, a slider redraws what it drives, and Validate
answers on a problem set.

Needs Debian's Chromium (``apt-get install -y chromium``) and the ``playwright`` package;
Playwright's own browser downloads are never used. Without Chromium these tests skip, except
under ``CI=true``, where they fail. Screenshots go to ``tests/artifacts/``.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import browser_utils as bu

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"


def _notebooks(pattern: str) -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern))


LECTURES = _notebooks("lectures/*.ipynb")
# One problem set is enough to show the button works in the page; every problem set is
# validated headless by the grading tests.
STUDENT_NOTEBOOKS = _notebooks("assignments/*/*.ipynb")[:1]

# Generous per-notebook limits; the whole file takes well under three minutes.
LECTURE_SECONDS = 90
VALIDATE_SECONDS = 90


def _or_missing(paths: list[str], what: str) -> list:
    return paths or [pytest.param(None, id=f"no-{what}")]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright; None when it is missing under CI=true, so that
    every browser test fails (see ``_require``) instead of being skipped."""
    problem = bu.chromium_problem()
    if problem:
        if os.environ.get("CI") == "true":
            yield None
            return
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(bu.CHROMIUM), args=bu.CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab(chromium):
    if chromium is None:
        yield None
        return
    for old in ARTIFACTS.glob("failed_*.png"):  # from an earlier run
        old.unlink()
    start = time.monotonic()
    server = bu.LabServer(ROOT).start()
    yield server
    server.stop(keep_log=ARTIFACTS / "jupyterlab.log")
    (ARTIFACTS / "browser_run.json").write_text(json.dumps({
        "seconds": round(time.monotonic() - start, 1),
        "lectures": LECTURES,
        "slider_moved_in": sorted(SLIDER_MOVED),
        "validated": STUDENT_NOTEBOOKS,
    }, indent=2) + "\n")


@pytest.fixture
def page(chromium, lab):
    if chromium is None:
        yield None
        return
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
    lab.shut_down_kernels()


def _require(page) -> None:
    if page is None:
        pytest.fail(f"{bu.chromium_problem()}. Under CI=true the browser tests must run.",
                    pytrace=False)


def _stored(relpath: str) -> dict:
    return json.loads((ROOT / relpath).read_text())


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def _run_lecture(page, lab, lecture: str) -> dict:
    """Open the lecture, Run All, wait for the kernel; returns the notebook as saved."""
    try:
        bu.open_notebook(page, lab, lecture)
        bu.run_all(page)
        expected = bu.code_cells_to_run(_stored(lecture))
        prompts = bu.wait_until_run(page, expected, timeout=LECTURE_SECONDS)
        ran = sum(1 for p in prompts if p[1:-2].isdigit())
        saved = bu.save(page, lab, lecture, executed=ran)
        errors = bu.error_outputs(saved)
        assert not errors, f"{lecture} shows error outputs after Run All:\n" + "\n".join(errors)
        assert ran == expected, (
            f"{lecture}: {ran} of {expected} code cells ran after Run All (prompts: {prompts}); "
            f"the server log ends with:\n{lab.log()}")
        return saved
    except Exception:
        _screenshot(page, "failed_" + Path(lecture).stem + ".png")
        raise


# The slider test needs a lecture that has been run; the first lecture test that meets a
# slider moves it and records the lecture here, so that no lecture has to run twice.
SLIDER_MOVED: dict[str, Path] = {}


@pytest.mark.timeout(LECTURE_SECONDS + 60)
@pytest.mark.parametrize("lecture", _or_missing(LECTURES, "lectures"))
def test_lecture_runs_in_jupyterlab_and_draws_its_widgets(page, lab, lecture):
    _require(page)
    assert lecture, "no lecture notebooks found in lectures/"
    saved = _run_lecture(page, lab, lecture)

    views = page.evaluate(bu.WIDGET_VIEWS)
    assert len(views) == bu.widget_outputs(saved), (
        f"{lecture}: the kernel sent {bu.widget_outputs(saved)} widget outputs "
        f"but the page shows {len(views)} widget views")
    for view in views:
        assert view["width"] > 0 and view["height"] > 0, f"{lecture}: an empty widget view {view}"
        assert "Error displaying widget" not in view["text"], f"{lecture}: {view['text']}"
        assert "Loading widget" not in view["text"], f"{lecture}: a widget never loaded"

    if not SLIDER_MOVED and _has_slider(page):
        assert _move_a_slider(page, lecture), f"{lecture}: no slider changed the output of its cell"
        SLIDER_MOVED[lecture] = _screenshot(page, "lecture_slider.png")


def _lectures_most_likely_with_sliders() -> list[str]:
    def guess(lecture: str) -> bool:
        code = " ".join("".join(c["source"]) for c in _stored(lecture)["cells"]
                        if c["cell_type"] == "code")
        return any(word in code for word in ("Slider", "interact", "widget", "stepper"))
    return sorted(LECTURES, key=lambda lecture: not guess(lecture))


def _has_slider(page) -> bool:
    return page.locator(".jp-Cell-outputArea .widget-slider").count() > 0


def _move_a_slider(page, lecture: str) -> bool:
    """Drag each slider in turn until one changes the output of its cell."""
    sliders = page.locator(".jp-Cell-outputArea .widget-slider")
    for index in range(sliders.count()):
        slider = sliders.nth(index)
        cell = bu.cell_of(slider)
        before = cell.evaluate(bu.OUTPUT_WITHOUT_SLIDERS)
        readout = slider.locator(".widget-readout").inner_text()
        bu.drag_slider(page, slider, fraction=0.85)
        if slider.locator(".widget-readout").inner_text() == readout:
            bu.drag_slider(page, slider, fraction=0.1)
        assert slider.locator(".widget-readout").inner_text() != readout, (
            f"{lecture}: dragging slider {index} did not change its value ({readout})")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            bu.wait_for_kernel_idle(page, timeout=30)
            if cell.evaluate(bu.OUTPUT_WITHOUT_SLIDERS) != before:
                return True
            time.sleep(0.25)
    return False


@pytest.mark.timeout(240)
def test_moving_a_lecture_slider_changes_its_output(page, lab):
    _require(page)
    if SLIDER_MOVED:  # done already, on the way through the lectures
        assert all(path.exists() for path in SLIDER_MOVED.values())
        return
    assert LECTURES, "no lecture notebooks found in lectures/"
    for lecture in _lectures_most_likely_with_sliders():
        _run_lecture(page, lab, lecture)
        if _has_slider(page):
            assert _move_a_slider(page, lecture), (
                f"{lecture}: no slider changed the output of its cell")
            SLIDER_MOVED[lecture] = _screenshot(page, "lecture_slider.png")
            return
        lab.shut_down_kernels()
    pytest.fail("no lecture shows a slider after Run All")


@pytest.mark.timeout(VALIDATE_SECONDS + 60)
@pytest.mark.parametrize("notebook", _or_missing(STUDENT_NOTEBOOKS, "problem-sets"))
def test_validate_button_reports_on_an_untouched_problem_set(page, lab, notebook):
    _require(page)
    assert notebook, "no student notebooks found in assignments/<ps>/"
    bu.open_notebook(page, lab, notebook)
    # The student view: nbgrader's instructor panel is not there, its Validate button is.
    assert page.locator(".lm-TabBar-tab", has_text="Create Assignment").count() == 0

    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=VALIDATE_SECONDS * 1000)
    message = dialog.locator("#validation-message")
    text = message.inner_text()
    assert "error running the validate command" not in text, text
    # Nothing is filled in yet, so the tests in the notebook must fail.
    assert "validation-failed" in message.get_attribute("class"), text
    assert "failed" in text, text
    # The summary comes first: the count, then each failing test by name with its reason.
    tests = [c["metadata"]["nbgrader"]["grade_id"] for c in _stored(notebook)["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")
             and not c["metadata"]["nbgrader"].get("solution")]
    assert text.lstrip().startswith(f"Summary: 0 of {len(tests)} tests pass"), text[:500]
    for name in tests:
        assert f"{name} (" in text, (name, text[:2000])
    assert text.count("not written yet") >= len(tests), text[:2000]
    assert text.count("The following cell failed:") == len(tests), text[:2000]
    # Short: each failing test is its code and one line, not the grader's traceback.
    assert "course_tools/grading" not in text and len(text) < 1500 * len(tests), len(text)
    _screenshot(page, "validate_dialog.png")


@pytest.mark.timeout(VALIDATE_SECONDS + 60)
def test_validate_on_a_lecture_says_it_has_no_tests(page, lab):
    _require(page)
    bu.open_notebook(page, lab, LECTURES[0])
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=VALIDATE_SECONDS * 1000)
    text = dialog.locator("#validation-message").inner_text()
    assert "has no graded tests" in text, text
    assert "Success" not in text and "The following cell failed" not in text, text
