"""The problem sets through nbgrader, in a temporary copy of the course.

One module-level fixture generates every problem set, submits the solutions, the untouched
student versions and a set of deliberately wrong or hostile submissions, autogrades each
problem set in one batch and generates feedback; the tests then read the gradebook.
"""

import json
import time

import pytest

import course_utils as cu

# nbgrader's own gradebook code warns when a submission is graded again with force=True.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted")

# -------------------------------------------------------------------------------------
# Submissions: (answer cell, text in the solution, replacement) edits of the solved
# notebook; `lost` test cells must score zero, `maybe` ones may go either way, every other
# test cell must earn its full points.
# -------------------------------------------------------------------------------------

HOSTILE_CELL = """
# Make every comparison and checker say yes, before the tests run.
import builtins
import numpy as np
import minigrad as mg
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
np.abs = np.absolute = lambda x: 0.0 * x
mg.check_grads = lambda *args, **kwargs: None
mg.rel_error = lambda *args, **kwargs: 0.0
builtins.abs = lambda x: 0.0
""".strip()

FAKE_PS2_ANSWERS = {
    # Right shapes, no mathematics.
    "linear_vjp": """
def linear_vjp_W(ans, W, x, b): return lambda g: np.zeros_like(W)
def linear_vjp_x(ans, W, x, b): return lambda g: np.zeros_like(x)
def linear_vjp_b(ans, W, x, b): return lambda g: np.zeros_like(b)
mg.defvjp(linear, linear_vjp_W, linear_vjp_x, linear_vjp_b)""",
    "sigmoid_vjp": "def sigmoid_vjp(ans, x): return lambda g: g\nmg.defvjp(sigmoid, sigmoid_vjp)",
    "softmax_vjp": "def softmax_vjp(ans, x): return lambda g: g\nmg.defvjp(softmax, softmax_vjp)",
    "logsumexp_forward": """
@mg.primitive
def logsumexp(x, axis=-1, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))""",
    "logsumexp_vjp": """
def logsumexp_vjp(ans, x, axis=-1, keepdims=False): return lambda g: np.ones_like(x)
mg.defvjp(logsumexp, logsumexp_vjp)""",
    "hypot_vjp": """
def hypot_vjp_x(ans, x, y): return lambda g: mg.unbroadcast(x, g)
def hypot_vjp_y(ans, x, y): return lambda g: mg.unbroadcast(y, g)
mg.defvjp(hypot, hypot_vjp_x, hypot_vjp_y)""",
    "norm_vjp": """
def norm_vjp(ans, x, axis=None, keepdims=False): return lambda g: x
mg.defvjp(norm, norm_vjp)""",
    "train_classifier": """
def train_classifier(X, labels, classes, **kwargs):
    return np.zeros((4, 2)), np.zeros(4), np.zeros((classes, 4)), np.zeros(classes)""",
}

# Each wrong submission holds several independent mistakes, one per answer cell, so that a
# single autograde batch shows each of them losing its own points (and only those).
# student -> {mistake: dict(edits=[(answer cell, text in the solution, replacement)],
#                           lost={test cells that must score 0}, maybe={may go either way})}
SUBMISSIONS = {
    "ps1_finite_differences": {
        "wrong": {
            "central_is_forward": dict(
                edits=[("difference_quotients", "return (f(x + h) - f(x - h)) / (2 * h)",
                        "return (f(x + h) - f(x)) / h")],
                lost={"test_difference_quotients", "test_observed_orders"}),
            "asks_minigrad": dict(
                edits=[("numerical_gradient", "x = np.array(x, dtype=float)\n",
                        "return mg.numerical_gradient(f, x, h)\n")],
                lost={"test_numerical_gradient"}),
            "norms_not_entries": dict(
                edits=[("rel_error",
                        "np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0)",
                        "np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b))")],
                lost={"test_rel_error"}),
        },
    },
    "ps2_vjp_rules": {
        "wrong_a": {
            "transposed": dict(
                edits=[("linear_vjp", "return lambda g: g.T @ x", "return lambda g: x.T @ g")],
                lost={"test_linear_vjp_W"}, maybe={"test_train_classifier"}),
            "missing_unbroadcast": dict(
                edits=[("hypot_vjp", "return lambda g: mg.unbroadcast(x, g * x / ans)",
                        "return lambda g: g * x / ans")],
                lost={"test_hypot_vjp_x"}),
            "factor_error": dict(
                edits=[("sigmoid_vjp", "return lambda g: g * ans * (1.0 - ans)",
                        "return lambda g: 2.0 * g * ans * (1.0 - ans)")],
                lost={"test_sigmoid_vjp"}, maybe={"test_train_classifier"}),
            "sign_error": dict(
                edits=[("softmax_vjp", "ans * (g - np.sum(g * ans, axis=-1, keepdims=True))",
                        "ans * (np.sum(g * ans, axis=-1, keepdims=True) - g)")],
                lost={"test_softmax_vjp"}),
            "ignores_cotangent": dict(
                edits=[("norm_vjp", "return g * unit", "return unit")],
                lost={"test_norm_vjp"}),
        },
        "wrong_b": {
            "shape_only": dict(
                edits=[("linear_vjp", "return lambda g: g @ W", "return lambda g: np.zeros_like(x)")],
                lost={"test_linear_vjp_x"}, maybe={"test_train_classifier"}),
            "asks_minigrad": dict(
                edits=[("linear_vjp", "return lambda g: np.sum(g, axis=0)",
                        "return lambda g: mg.vjp(lambda b: x @ W.T + b, b)[1](g)[0]")],
                lost={"test_linear_vjp_b"}),
            "visible_cases_only": dict(
                edits=[("norm_vjp",
                        "if not keepdims:\n        axes = tuple(range(x.ndim)) if axis is None else axis",
                        "if True:\n        axes = -1")],
                lost={"test_norm_vjp"}),
            "unstable_logsumexp": dict(
                edits=[("logsumexp_vjp", "weights = np.exp(x - ans)", "weights = np.exp(x) / np.exp(ans)")],
                lost={"test_logsumexp_vjp_stable"}),
        },
        "hostile_fake": {"hostile_fake": dict(fake=FAKE_PS2_ANSWERS, hostile=True, lost="all")},
        "hostile_honest": {"hostile_honest": dict(hostile=True, lost=set())},
    },
    "ps3_jvp_rules": {
        "wrong": {
            "transposed": dict(
                edits=[("linear_jvp", "return dx @ W.T", "return dx @ W")],
                lost={"test_linear_jvp_x"}),
            "asks_jacfwd": dict(
                edits=[("jacobians", "columns = [mg.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)]\n"
                        "    return np.stack(columns, axis=1)", "return mg.jacfwd(f)(x)")],
                lost={"test_jacobian_by_columns"}),
            "sign_error": dict(
                edits=[("reduction_jvp", "return np.sum(dx * x, axis=axis, keepdims=keepdims) / ans",
                        "return -np.sum(dx * x, axis=axis, keepdims=keepdims) / ans")],
                lost={"test_norm_jvp"}),
        },
    },
    "ps4_backprop_by_hand": {
        "wrong_a": {
            "transposed": dict(
                edits=[("mlp_gradients", "dz_dW = np.outer(dz_dy, x)", "dz_dW = np.outer(x, dz_dy)")],
                lost={"test_mlp_gradients"}),
            "factor_error": dict(
                edits=[("loss_and_grads", "dz = (sigmoid(z) - t) / len(t)", "dz = sigmoid(z) - t")],
                lost={"test_loss_and_grads"}, maybe={"test_train_mlp"}),
        },
        "wrong_b": {
            "asks_minigrad": dict(
                edits=[("mlp_gradients", "y = W @ x\n",
                        "return mg.grad(lambda W, v, x: v @ (0.5 * (mnp.tanh(0.5 * (W @ x)) + 1.0)),"
                        " argnums=(0, 1, 2))(W, v, x)\n")],
                lost={"test_mlp_gradients"}),
        },
    },
    "ps5_autodiff_engine": {
        "wrong_a": {
            "recursive_search": dict(
                fake={"topological_order": """
def topological_order(output):
    order, visited = [], set()
    def visit(node):
        if node not in visited:
            visited.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(output)
    return order"""},
                lost={"test_topological_order_deep"}),
            "rsub_is_sub": dict(
                edits=[("dual", "return Dual.lift(other) - self", "return self - other")],
                lost={"test_dual"}),
            "stores_every_vjp": dict(
                fake={"checkpointed_vjp": """
def checkpointed_vjp(layers, x, g, segment):
    vjps = []
    for layer in layers:
        x, vjp = layer(x)
        vjps.append(vjp)
    for vjp in reversed(vjps):
        g = vjp(g)
    return g"""},
                lost={"test_checkpointed_vjp"}),
        },
        "wrong_b": {
            "overwrites_fan_out": dict(
                edits=[("backward", "cotangent[parent] = cotangent[parent] + share if parent in "
                        "cotangent else share", "cotangent[parent] = share")],
                lost={"test_backward", "test_grad"}),
            "preorder": dict(
                fake={"topological_order": """
def topological_order(output):
    order, visited, stack = [], set(), [output]
    while stack:
        node = stack.pop()
        if node not in visited:
            visited.add(node)
            order.append(node)
            stack.extend(node.parents)
    return order[::-1]"""},
                lost={"test_topological_order", "test_topological_order_deep"},
                maybe={"test_backward", "test_grad"}),
        },
    },
}
MISTAKES = [(ps, student, mistake) for ps in SUBMISSIONS for student in SUBMISSIONS[ps]
            for mistake in SUBMISSIONS[ps][student]]


def build(ps, mistakes):
    nb = cu.solved(ps)
    for spec in mistakes.values():
        for answer_id, old, new in spec.get("edits", []):
            nb = cu.replace_in_answer(nb, answer_id, old, new)
        for answer_id, source in spec.get("fake", {}).items():
            nb = cu.with_answer(nb, answer_id, source.strip())
        if spec.get("hostile"):
            nb = cu.insert_cell_after(nb, "setup", HOSTILE_CELL)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course, generated, with every submission autograded and given feedback.

    Driven through nbgrader's Python API in one process (the CLI would pay its start-up
    once per command); the seconds each autograde takes are kept in timings.json.
    """
    root = cu.make_course(tmp_path_factory.mktemp("course"))
    course = cu.Course(root)
    timings = []
    for ps in cu.PROBLEM_SETS:
        course.generate_assignment(ps)
        submissions = {"solution": cu.solved(ps), "untouched": cu.untouched(ps)}
        for student, mistakes in SUBMISSIONS[ps].items():
            submissions[student] = build(ps, mistakes)
        for student, nb in submissions.items():
            cu.submit(root, student, ps, nb)
            start = time.perf_counter()
            course.autograde(ps, student)
            timings.append((ps, student, time.perf_counter() - start))
        course.generate_feedback(ps)          # every student's, in one run
    (root / "timings.json").write_text(json.dumps(timings))
    return root


def test_assignments_are_what_nbgrader_generates(course):
    # The fixture ran generate_assignment in the course copy, overwriting its assignments/.
    for ps in cu.PROBLEM_SETS:
        generated = cu.read(cu.notebook_path(course / "assignments", ps))
        committed = cu.untouched(ps)
        assert committed.metadata == generated.metadata, ps
        assert len(committed.cells) == len(generated.cells), ps
        for mine, theirs in zip(committed.cells, generated.cells):
            assert mine == theirs, (
                f"assignments/{ps} differs from what nbgrader generates at cell {mine.get('id')}:"
                f" run `nbgrader generate_assignment {ps} --force` from the repository root")


@pytest.mark.parametrize("ps", cu.PROBLEM_SETS)
def test_release_hides_tests_and_solutions(ps):
    cells = cu.untouched(ps).cells
    text = "\n".join(c.source for c in cells)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    release = {cu.grade_id(c): c.source for c in cells}
    hidden_lines = 0
    for cell in cu.read(cu.notebook_path(cu.REPO / "solutions", ps)).cells:
        for block in cu.hidden_blocks(cell.source):
            for line in filter(None, (line.strip() for line in block.splitlines())):
                hidden_lines += 1
                assert line not in text, f"hidden test line of {ps} in the release: {line}"
        for region in cu.solution_regions(cell.source):
            released = release[cu.grade_id(cell)]
            assert "raise NotImplementedError()" in released
            for line in filter(None, (line.strip() for line in region.splitlines())):
                assert line not in released, f"solution line of {ps} in the release: {line}"
    assert hidden_lines >= 3


def test_every_test_cell_has_a_hidden_part_and_points():
    for ps in cu.PROBLEM_SETS:
        cells = [c for c in cu.read(cu.notebook_path(cu.REPO / "solutions", ps)).cells
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        assert len(cells) >= 3
        for cell in cells:
            assert cell.metadata.nbgrader["points"] > 0
            assert cu.hidden_blocks(cell.source), f"{ps}: {cu.grade_id(cell)} has no hidden tests"


def test_every_test_cell_is_judged_by_the_grader_including_its_hidden_part():
    """Each test cell's checks are in the form the host-side judge replays, and its hidden
    part holds at least one of them, so no test cell is left to the kernel's word."""
    from course_tools.grading.judge import expected_checks
    for ps in cu.PROBLEM_SETS:
        for cell in cu.read(cu.notebook_path(cu.REPO / "solutions", ps)).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("grade") or meta.get("solution"):
                continue
            assert expected_checks(cell.source), f"{ps}: {meta['grade_id']} has no check"
            hidden = "\n".join(cu.hidden_blocks(cell.source))
            assert expected_checks(hidden), f"{ps}: {meta['grade_id']}'s hidden part has no check"


@pytest.mark.parametrize("ps", cu.PROBLEM_SETS)
def test_solutions_earn_full_marks(course, ps):
    entry = cu.scores(course, ps)["solution"]
    assert entry["max"] == sum(cu.grade_cells(ps).values())
    assert entry["total"] == entry["max"], entry


@pytest.mark.parametrize("ps", cu.PROBLEM_SETS)
def test_untouched_student_versions_earn_zero(course, ps):
    entry = cu.scores(course, ps)["untouched"]
    assert entry["total"] == 0, entry


@pytest.mark.parametrize("ps,student,mistake", MISTAKES, ids=[m[2] for m in MISTAKES])
def test_each_wrong_rule_loses_its_points(course, ps, student, mistake):
    spec = SUBMISSIONS[ps][student][mistake]
    entry = cu.scores(course, ps)[student]
    points = cu.grade_cells(ps)
    lost = set(points) if spec["lost"] == "all" else spec["lost"]
    for cell in lost:
        assert entry[cell] == 0, f"{student} ({mistake}) should score 0 on {cell}: {entry}"
    if lost:
        assert entry["total"] < entry["max"]


@pytest.mark.parametrize("ps,student", [(ps, s) for ps in SUBMISSIONS for s in SUBMISSIONS[ps]])
def test_wrong_submissions_keep_every_other_point(course, ps, student):
    entry = cu.scores(course, ps)[student]
    mistakes = SUBMISSIONS[ps][student].values()
    points = cu.grade_cells(ps)
    untouched = set(points)
    for spec in mistakes:
        untouched -= set(points) if spec["lost"] == "all" else spec["lost"]
        untouched -= spec.get("maybe", set())
    for cell in untouched:
        assert entry[cell] == points[cell], f"{student} should keep the points of {cell}: {entry}"


@pytest.mark.parametrize("ps,student,phrases", [
    ("ps2_vjp_rules", "wrong_a", ["Did you unbroadcast", "looks transposed", "constant factor",
                                  "wrong sign", "ignores g"]),
    ("ps2_vjp_rules", "wrong_b", ["returns zeros", "switched off", "exp(x - ans)"]),
    ("ps3_jvp_rules", "wrong", ["switched off", "transpose", "wrong sign"]),
    ("ps4_backprop_by_hand", "wrong_a", ["looks transposed", "constant factor"]),
    ("ps4_backprop_by_hand", "wrong_b", ["switched off"]),
    ("ps5_autodiff_engine", "wrong_a", ["recursed deeper", "reflected method", "alive at once"]),
    ("ps5_autodiff_engine", "wrong_b", ["comes before its parent"]),
])
def test_feedback_says_what_is_wrong(course, ps, student, phrases):
    html = cu.notebook_path(course / "feedback" / student, ps).with_suffix(".html").read_text()
    for phrase in phrases:
        assert phrase in html, f"the feedback of {student} does not say {phrase!r}"


def test_feedback_is_generated_for_everyone(course):
    for ps in cu.PROBLEM_SETS:
        students = ["solution", "untouched", *SUBMISSIONS[ps]]
        for student in students:
            path = cu.notebook_path(course / "feedback" / student, ps).with_suffix(".html")
            assert path.stat().st_size > 10_000, path


def test_autograding_takes_at_most_ten_seconds_per_submission(course):
    timings = json.loads((course / "timings.json").read_text())
    seconds = [t for _, _, t in timings]
    assert len(seconds) == sum(2 + len(SUBMISSIONS[ps]) for ps in cu.PROBLEM_SETS)
    assert sum(seconds) / len(seconds) <= 10.0, timings
    assert max(seconds) <= 30.0, timings


def test_validate_passes_solutions_and_fails_student_versions(tmp_path):
    from nbgrader.validator import Validator

    root = cu.make_course(tmp_path)
    config = cu.load_config(root)
    for ps in cu.PROBLEM_SETS:
        points = cu.grade_cells(ps)
        result = Validator(config=config).validate(str(cu.notebook_path(root / "solutions", ps)))
        assert result == {}, f"{ps} solution does not validate: {result}"
        result = Validator(config=config).validate(str(cu.notebook_path(root / "assignments", ps)))
        assert len(result.get("failed", [])) == len(points), f"{ps}: {list(result)}"
