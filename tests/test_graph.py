"""trace_graph: the structure drawn by the lectures."""
import numpy as np
import pytest

import minigrad as mg
from conftest import gaussian


def test_nodes_values_and_adjoints():
    g = mg.trace_graph(gaussian, 3.0, 1.0, 2.0)
    ops = [n.op for n in g.nodes if n.op not in ("input", "const")]
    assert ops == ["subtract", "divide", "log", "power", "add", "divide", "add"]
    inputs = {n.label: n for n in g.nodes if n.op == "input"}
    assert set(inputs) == {"x", "m", "s"}
    dx, dm, ds = mg.grad(gaussian, argnums=(0, 1, 2))(3.0, 1.0, 2.0)
    assert inputs["x"].adjoint == pytest.approx(dx)
    assert inputs["m"].adjoint == pytest.approx(dm)
    assert inputs["s"].adjoint == pytest.approx(ds)
    out = g.nodes[g.output]
    assert out.value == pytest.approx(gaussian(3.0, 1.0, 2.0)) and out.adjoint == 1.0


def test_order_and_parents_are_consistent():
    g = mg.trace_graph(gaussian, 3.0, 1.0, 2.0)
    for n in g.nodes:
        assert all(p < n.id for p in n.parents)          # forward order is topological
    assert g.backward_order[0] == g.output
    position = {i: k for k, i in enumerate(g.backward_order)}
    for n in g.nodes:
        for p in n.parents:
            if n.id in position and p in position:
                assert position[p] > position[n.id]      # children before parents
    assert "subtract" in repr(g)


def test_rejects_vector_output():
    with pytest.raises(ValueError, match="scalar"):
        mg.trace_graph(lambda x: x * 2.0, np.ones(3))
