"""The feedback page a student opens: formulas drawn without network, nothing runs off the
right edge, every graded cell named with its score, none of the grader's file paths."""

import os
import re
import sys

import pytest

import browser_utils as bu
import course_utils as cu

PS = "ps2_vjp_rules"


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    root = cu.make_course(tmp_path_factory.mktemp("course"))
    course = cu.Course(root)
    course.generate_assignment(PS)
    nb = cu.replace_in_answer(cu.solved(PS), "sigmoid_vjp", "return lambda g: g * ans * (1.0 - ans)",
                              "return lambda g: g * ans")
    cu.submit(root, "student", PS, nb)
    course.autograde(PS, "student")
    course.generate_feedback(PS, "student")
    return cu.notebook_path(root / "feedback" / "student", PS).with_suffix(".html")


def test_the_page_holds_no_script_and_no_grader_path(feedback):
    page = feedback.read_text()
    assert "<script" not in page.lower()
    assert "mathjax" not in page.lower()
    for path in {sys.prefix, str(cu.REPO), os.path.expanduser("~"), str(feedback.parents[3])}:
        assert path not in page, path
    # the formulas became MathML; none is left as raw LaTeX
    assert page.count("<math") > 20
    assert not re.search(r"\$[^$<>\n]{1,80}\$", re.sub(r"<pre.*?</pre>|<code>.*?</code>", "", page, flags=re.S))


def test_the_summary_names_every_test_cell(feedback):
    page = feedback.read_text()
    for name in cu.grade_cells(PS):
        assert f"<code>{name}</code>" in page, name
    assert "Test cell</a>" not in page


def test_in_chromium_offline_formulas_render_and_nothing_overflows(feedback):
    problem = bu.chromium_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(bu.CHROMIUM), args=bu.CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1000, "height": 800})

        def block(route):
            requested.append(route.request.url)
            route.abort()
        page.route(re.compile(r"^(?!file:).*"), block)     # no network at all
        page.goto(feedback.as_uri())
        sizes = page.evaluate("""() => Array.from(document.querySelectorAll('math')).map(m => {
            const r = m.getBoundingClientRect(); return [r.width, r.height]; })""")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        text = page.inner_text("body")
        artifacts = cu.REPO / "tests" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / "feedback_page.png"))
        browser.close()
    assert requested == []
    assert len(sizes) > 20 and all(w > 0 and h > 0 for w, h in sizes), sizes[:5]
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    assert "returns g times the output" in text      # the verdict is there, whole
