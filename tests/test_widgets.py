"""The backward-pass stepper: buttons and slider move the step, and the picture follows."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.widgets import BackwardStepper, step_explanation

from conftest import gaussian
from test_drawing import deep_chain


@pytest.fixture(scope="module")
def graph():
    return mg.trace_graph(gaussian, 1.5, 0.5, 2.0, argnames=["x", "m", "s"])


def shown_adjoints(stepper):
    return {int(t.get_gid().split("-")[1]) for t in stepper.figure.axes[0].texts
            if (t.get_gid() or "").startswith("adjoint-")}


def highlighted(stepper):
    boxes = [p for p in stepper.figure.axes[0].patches if (p.get_gid() or "").startswith("node-")]
    widest = max(p.get_linewidth() for p in boxes)
    marked = [p.get_gid() for p in boxes if p.get_linewidth() == widest]
    return marked if len(marked) == 1 else []


def test_starts_after_the_forward_pass(graph):
    st = BackwardStepper(graph)
    assert st.step == 0 and st.current is None
    assert shown_adjoints(st) == set()
    assert highlighted(st) == []
    assert st.prev_button.disabled and not st.next_button.disabled
    assert "Forward pass done" in st.text.value


def test_next_button_click_visits_the_output_first(graph):
    st = BackwardStepper(graph, names={graph.output: "c"})
    before = st.image.value
    st.next_button.click()
    assert st.step == 1
    assert st.current == graph.backward_order[0] == graph.output
    assert shown_adjoints(st) == {graph.output}
    assert highlighted(st) == [f"node-{graph.output}"]
    assert st.image.value != before
    assert st.slider.value == 1
    assert "∂c/∂c = 1" in st.text.value


def test_each_step_reveals_one_more_adjoint_in_backward_order(graph):
    st = BackwardStepper(graph)
    for k in range(1, len(graph.backward_order)):
        st.next()
        assert st.step == k
        assert shown_adjoints(st) == set(graph.backward_order[:k]) - {
            n.id for n in graph.nodes if n.op == "const"}
        assert highlighted(st) == [f"node-{graph.backward_order[k - 1]}"]


def test_prev_and_slider_go_back(graph):
    st = BackwardStepper(graph)
    st.slider.value = 3
    assert st.step == 3 and st.current == graph.backward_order[2]
    image_at_3 = st.image.value
    st.prev_button.click()
    assert st.step == 2 and st.slider.value == 2
    assert st.image.value != image_at_3
    st.next_button.click()
    assert st.image.value == image_at_3  # same state, same picture


def test_steps_stop_at_both_ends(graph):
    st = BackwardStepper(graph)
    st.prev()
    assert st.step == 0
    for _ in range(len(graph.backward_order) + 3):
        st.next_button.click()
    assert st.step == st.n_steps == len(graph.backward_order)
    assert st.next_button.disabled
    non_const = {n.id for n in graph.nodes if n.op != "const"}
    assert shown_adjoints(st) == non_const


def test_explanation_names_the_rule_and_its_number(graph):
    names = {graph.output: "c"}
    divide = next(n for n in graph.nodes if n.op == "divide" and
                  any(graph.nodes[p].label == "s" for p in n.parents))
    text = step_explanation(graph, divide.id, names)
    # t1 = t0 / s with t0 = 1, s = 2: adjoint(t1) = t1 = 0.5, so t0 receives 0.5 / 2.
    assert "/ s" in text
    assert "adjoint(s) += " in text and "1/s = 0.25" in text
    x_id = next(n.id for n in graph.nodes if n.label == "x")
    assert "∂c/∂x = 0.25" in step_explanation(graph, x_id, names)


def test_widget_is_displayable(graph):
    st = BackwardStepper(graph)
    bundle = st._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_explanation_of_a_matrix_op_shows_what_the_pass_sent():
    def layer(W, x):
        return mnp.sum(W @ x)

    g = mg.trace_graph(layer, np.ones((2, 3)), np.arange(3.0))
    matmul = next(n for n in g.nodes if n.op == "matmul")
    text = step_explanation(g, matmul.id)
    assert "adjoint(W) += adjoint(t0) @ xᵀ = " in text
    assert "adjoint(x) += Wᵀ @ adjoint(t0) = [2, 2, 2]" in text


def test_broadcast_shares_are_the_summed_values():
    def scaled(x, b):
        return mnp.sum((x * b) ** 2)

    x, b = np.array([1.0, 2.0, 3.0]), 2.0
    g = mg.trace_graph(scaled, x, b)
    multiply = next(n for n in g.nodes if n.op == "multiply")
    lines = step_explanation(g, multiply.id).splitlines()
    to_x = next(line for line in lines if "adjoint(x) +=" in line)
    to_b = next(line for line in lines if "adjoint(b) +=" in line)
    # x has the product's shape: its share is adjoint(t0) * b = 2 (x b) * b, elementwise
    assert to_x.endswith("= [8, 16, 24]")
    # b was broadcast: its share is summed down, sum(2 (x b) * x) = 4 * 14 = 56
    assert to_b.strip() == "adjoint(b) += adjoint(t0) * x = 56 (summed down to b's shape ())"


def test_stepper_numbers_are_the_backward_pass_numbers(rng):
    """Every number the stepper states is a contribution the real pass sent, including
    at a point where a rule needs its special case (x ** y at x = 0, whose slope in y
    is 0, not 0 * log 0)."""
    def f(x, y, z):
        return mnp.sum(mnp.tanh(x * y) / (z + 2.0) + x ** y)

    args = (np.array([0.0, 0.5, 1.5]), np.array([2.0, 1.0, 3.0]), rng.standard_normal(3))
    g = mg.trace_graph(f, *args)
    power = next(n for n in g.nodes if n.op == "power")
    assert all(np.all(np.isfinite(v)) for v in power.pushes)
    text = step_explanation(g, power.id)
    assert "nan" not in text and "inf" not in text
    # The adjoints of the inputs equal minigrad's gradient, and every node's adjoint is the
    # sum of what its children pushed to it.
    grads = mg.grad(f, argnums=(0, 1, 2))(*args)
    inputs = [n for n in g.nodes if n.op == "input"]
    for node, want in zip(inputs, grads):
        np.testing.assert_allclose(node.adjoint, want, rtol=1e-12)
    received = {n.id: 0.0 for n in g.nodes}
    for n in g.nodes:
        traced = [p for p in n.parents if g.nodes[p].op != "const"]
        assert len(traced) == len(n.pushes)
        for p, value in zip(traced, n.pushes):
            received[p] = received[p] + value
    for n in g.nodes:
        if n.op != "const" and n.id != g.output:
            np.testing.assert_allclose(received[n.id], n.adjoint, rtol=1e-12)


def test_a_deep_graph_steps_top_to_bottom():
    st = BackwardStepper(mg.trace_graph(deep_chain, 0.3))
    assert st.figure.direction == "down"
    first = st.image.value
    st.next()
    st.next()
    assert st.figure.direction == "down"           # the redraw keeps the layout
    assert st.image.value != first
    assert st.figure.get_figwidth() < st.figure.get_figheight()
