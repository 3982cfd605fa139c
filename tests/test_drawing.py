"""The graph drawing: one box per node, adjoints where asked, a highlighted node, no overlaps."""
import matplotlib

matplotlib.use("Agg")

from dataclasses import dataclass, field

import numpy as np
import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from conftest import gaussian
import minigrad as mg
import minigrad.numpy as mnp
from minigrad.drawing import (MAX_WIDTH, draw_function, draw_graph, format_array, node_expression,
                              node_names)


@dataclass
class Node:
    id: int
    op: str
    label: str
    parents: list
    value: np.ndarray
    adjoint: np.ndarray


@dataclass
class Graph:
    nodes: list
    output: int
    backward_order: list = field(default_factory=list)


def diamond_graph():
    """u = x * y; v = sin(x); out = u + v, at x=2, y=3, built by hand."""
    x, y = 2.0, 3.0
    u, v = x * y, np.sin(x)
    nodes = [
        Node(0, "input", "x", [], np.array(x), np.array(y + np.cos(x))),
        Node(1, "input", "y", [], np.array(y), np.array(x)),
        Node(2, "multiply", "multiply", [0, 1], np.array(u), np.array(1.0)),
        Node(3, "sin", "sin", [0], np.array(v), np.array(1.0)),
        Node(4, "add", "add", [2, 3], np.array(u + v), np.array(1.0)),
    ]
    return Graph(nodes, 4, [4, 3, 2, 1, 0])


def node_boxes(fig):
    ax = fig.axes[0]
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)
            and (p.get_gid() or "").startswith("node-")]


def adjoint_texts(fig):
    return {int(t.get_gid().split("-")[1]): t.get_text() for t in fig.axes[0].texts
            if (t.get_gid() or "").startswith("adjoint-")}


def test_format_array_is_compact():
    assert format_array(np.float64(0.123456)) == "0.123"
    assert format_array(np.array([1.0, -2.5])) == "[1, -2.5]"
    assert format_array(np.zeros((3, 4))) == "array(3, 4)"
    assert format_array(np.zeros(7)) == "array(7)"


def test_names_and_expressions_follow_the_program():
    g = diamond_graph()
    names = node_names(g)
    assert [names[i] for i in range(5)] == ["x", "y", "t0", "t1", "t2"]
    assert node_expression(g, 2, names) == "t0 = x * y"
    assert node_expression(g, 3, names) == "t1 = sin(x)"
    assert node_expression(g, 4, node_names(g, {4: "out"})) == "out = t0 + t1"


def test_one_box_per_node_and_one_arrow_per_edge():
    g = diamond_graph()
    fig = draw_graph(g)
    assert len(node_boxes(fig)) == len(g.nodes)
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == sum(len(n.parents) for n in g.nodes)


def test_adjoints_shown_only_where_asked():
    g = diamond_graph()
    assert set(adjoint_texts(draw_graph(g))) == {0, 1, 2, 3, 4}
    assert adjoint_texts(draw_graph(g, show_adjoints=False)) == {}
    shown = adjoint_texts(draw_graph(g, show_adjoints=[4, 3]))
    assert set(shown) == {3, 4}
    assert shown[4].endswith("= 1")


def test_adjoint_text_carries_the_value():
    g = diamond_graph()
    texts = adjoint_texts(draw_graph(g, names={4: "f"}))
    assert texts[0] == "∂f/∂x = " + format_array(g.nodes[0].adjoint)
    assert texts[1] == "∂f/∂y = 2"


def test_highlight_changes_exactly_one_box():
    g = diamond_graph()
    plain = {p.get_gid(): (p.get_linewidth(), p.get_edgecolor()) for p in node_boxes(draw_graph(g))}
    marked = {p.get_gid(): (p.get_linewidth(), p.get_edgecolor())
              for p in node_boxes(draw_graph(g, highlight=3))}
    changed = [gid for gid in plain if plain[gid] != marked[gid]]
    assert changed == ["node-3"]
    assert marked["node-3"][0] > plain["node-3"][0]


def test_draws_into_a_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert draw_graph(diamond_graph(), ax=ax) is fig
        assert len(node_boxes(fig)) == 5
    finally:
        plt.close(fig)


def test_boxes_do_not_overlap_and_inputs_are_leftmost():
    g = mg.trace_graph(gaussian, 1.5, 0.5, 2.0, argnames=["x", "m", "s"])
    boxes = node_boxes(draw_graph(g))
    assert len(boxes) == len(g.nodes)
    extents = {int(b.get_gid().split("-")[1]): (b.get_x(), b.get_y(), b.get_x() + b.get_width(),
                                                 b.get_y() + b.get_height()) for b in boxes}
    ids = sorted(extents)
    for i in ids:
        for j in ids:
            if i < j:
                a, b = extents[i], extents[j]
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, f"boxes of nodes {i} and {j} overlap"
    left = min(e[0] for e in extents.values())
    for node in g.nodes:
        if node.op == "input":
            assert extents[node.id][0] == left
        # every arrow goes left to right: a node sits right of its parents
        for p in node.parents:
            assert extents[p][0] < extents[node.id][0]


def test_traced_gaussian_shows_the_true_gradients():
    x, m, s = 1.5, 0.5, 2.0
    g = mg.trace_graph(gaussian, x, m, s, argnames=["x", "m", "s"])
    fig = draw_graph(g, names={g.output: "c"})
    texts = adjoint_texts(fig)
    dx, dm, ds = mg.grad(gaussian, argnums=(0, 1, 2))(x, m, s)
    by_label = {n.label: n.id for n in g.nodes if n.op == "input"}
    assert texts[by_label["x"]] == "∂c/∂x = " + format_array(dx)
    assert texts[by_label["m"]] == "∂c/∂m = " + format_array(dm)
    assert texts[by_label["s"]] == "∂c/∂s = " + format_array(ds)
    assert float(ds) == pytest.approx(1 / s - (x - m) ** 2 / s**3)


def test_draw_function_traces_then_draws():
    def layer(W, x, b):
        return mnp.sum(mnp.tanh(W @ x + b) ** 2)

    args = (np.ones((3, 4)) / 4, np.arange(4.0), np.zeros(3))
    fig = draw_function(layer, *args, argnames=["W", "x", "b"])
    graph = mg.trace_graph(layer, *args, argnames=["W", "x", "b"])
    assert len(node_boxes(fig)) == len(graph.nodes)
    headers = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    assert headers[:3] == ["W", "x", "b"]
    assert "t0 = W @ x" in headers and "t2 = tanh(t1)" in headers
    texts = adjoint_texts(fig)
    assert texts[0] == "∂t4/∂W = array(3, 4)"   # too big to print: the shape instead


def test_highlight_emphasises_the_arrows_into_the_node():
    g = diamond_graph()
    patches = draw_graph(g, highlight=2).axes[0].patches
    arrows = [p for p in patches if isinstance(p, FancyArrowPatch)]
    widths = sorted(p.get_linewidth() for p in arrows)
    # multiply (node 2) has two arguments: exactly its two incoming arrows stand out
    assert widths[-1] == widths[-2] > widths[-3] == widths[0]


def deep_chain(x):
    for _ in range(12):
        x = mnp.sin(x) * 1.1
    return x


def box_extents(fig):
    return {int(b.get_gid().split("-")[1]): (b.get_x(), b.get_y(), b.get_x() + b.get_width(),
                                             b.get_y() + b.get_height()) for b in node_boxes(fig)}


def test_a_deep_graph_is_drawn_downwards_within_the_notebook_width():
    g = mg.trace_graph(deep_chain, 0.3)
    fig = draw_graph(g)
    try:
        assert fig.direction == "down"
        assert fig.get_figwidth() <= MAX_WIDTH
        assert fig.get_figheight() > fig.get_figwidth()
        extents = box_extents(fig)
        assert len(extents) == len(g.nodes)
        for node in g.nodes:
            for p in node.parents:   # every arrow goes downwards: a node sits below its parents
                assert extents[p][1] > extents[node.id][3] - 1e-9
        ids = sorted(extents)
        for i in ids:
            for j in ids:
                if i < j:
                    a, b = extents[i], extents[j]
                    assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (i, j)
    finally:
        plt.close(fig)


def test_the_same_deep_graph_left_to_right_would_be_too_wide():
    fig = draw_graph(mg.trace_graph(deep_chain, 0.3), direction="right")
    try:
        assert fig.direction == "right"
        assert fig.get_figwidth() > 2 * MAX_WIDTH
    finally:
        plt.close(fig)


def test_a_small_graph_stays_left_to_right():
    fig = draw_graph(mg.trace_graph(gaussian, 1.5, 0.5, 2.0, argnames=["x", "m", "s"]))
    try:
        assert fig.direction == "right" and fig.get_figwidth() <= MAX_WIDTH
    finally:
        plt.close(fig)


def test_direction_must_be_known():
    with pytest.raises(ValueError, match="direction"):
        draw_graph(mg.trace_graph(gaussian, 1.5, 0.5, 2.0), direction="up")
