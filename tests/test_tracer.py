"""The tracing machinery: deep graphs, cost, boxes that behave like arrays."""
import pytest
import numpy as np

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import reverse
from minigrad.tracer import Box


def chain(n):
    def f(x):
        for _ in range(n):
            x = mnp.sin(x) * 1.0001
        return x
    return f


def test_graph_of_100000_nodes_needs_no_recursion():
    g = mg.grad(chain(50_000))(0.1)          # 100,000 nodes: sin and multiply
    assert np.isfinite(g)


def test_backward_pass_does_linear_work():
    """Each node is visited once and each edge's VJP runs once, however the graph fans
    out: the work is linear in the graph's size. (Time per node: benchmarks/.)"""
    n, vjp_calls, visits = 20_000, [0], [0]

    @mg.primitive
    def step(x):
        return np.sin(x)

    def counting_maker(ans, x):
        def vjp(g):
            vjp_calls[0] += 1
            return g * np.cos(x)
        return vjp
    mg.defvjp(step, counting_maker)

    def f(x):
        for _ in range(n):
            y = step(x)
            x = y * y            # fan-out: y reaches x along two edges
        return x
    trace = reverse.ReverseTrace()
    start = reverse.VJPNode((), (), (), None, ())
    out = f(Box(0.3, trace, start))
    grads = reverse.backward_pass(1.0, out._node,
                                  on_visit=lambda node, g: visits.__setitem__(0, visits[0] + 1))
    assert vjp_calls[0] == n            # one VJP per step node
    assert visits[0] == 2 * n + 1       # every node once: n steps, n products, the input
    assert grads[start] == mg.grad(f)(0.3)


def test_wide_fan_out():
    def f(x):
        return mnp.sum(mnp.stack([x * k for k in range(1, 2001)]))
    assert mg.grad(f)(1.0) == sum(range(1, 2001))


def test_box_looks_like_an_array():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, size=x.size, len=len(x),
                    dtype=x.dtype, T=x.T.shape, np_shape=np.shape(x), repr=repr(x))
        return mnp.sum(x)
    mg.grad(f)(np.ones((2, 3)))
    assert seen["shape"] == (2, 3) and seen["ndim"] == 2 and seen["size"] == 6
    assert seen["len"] == 2 and seen["T"] == (3, 2) and seen["np_shape"] == (2, 3)
    assert seen["dtype"] == np.float64 and "Box" in seen["repr"]


def test_comparisons_give_plain_arrays():
    def f(x):
        mask = x > 0
        assert type(mask) is np.ndarray
        return mnp.sum(mnp.where(mask, x, 0.0))
    np.testing.assert_array_equal(mg.grad(f)(np.array([-1.0, 2.0])), [0.0, 1.0])


def test_primitives_run_plain_numpy_outside_traces():
    x = np.arange(3.0)
    np.testing.assert_array_equal(mnp.exp(x), np.exp(x))
    assert type(mnp.sum(x)) is np.float64


def test_rules_for_any_number_of_arguments():
    @mg.primitive
    def total(*xs):
        return sum(xs)
    mg.defvjp(total, rule_for=lambda i: lambda ans, *xs: lambda g: g * (i + 1.0))
    mg.defjvp(total, rule_for=lambda i: None if i == 0 else (lambda t, ans, *xs: 2.0 * t))
    assert mg.grad(lambda a, b, c: total(a, b, c), argnums=(0, 1, 2))(1.0, 2.0, 3.0) == (
        1.0, 2.0, 3.0)
    assert mg.jvp(lambda a, b: total(a, b), (1.0, 2.0), (1.0, 1.0))[1] == 2.0
    with pytest.raises(TypeError, match="rule_for"):
        mg.defvjp(total, lambda ans, *xs: None, rule_for=lambda i: None)


def test_the_core_imports_no_primitive():
    """tracer, reverse and forward know no primitive: only minigrad.numpy imports them,
    never the other way round (no import cycle)."""
    import ast
    import pathlib
    root = pathlib.Path(mg.__file__).parent
    for name in ("tracer", "reverse", "forward"):
        tree = ast.parse((root / f"{name}.py").read_text())
        modules = {node.module for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and node.level > 0}
        assert modules <= {"tracer"}, (name, modules)


def test_grad_frees_what_a_rule_kept_once_the_rule_has_run():
    """grad walks its graph once, so each VJP closure (and the forward values it keeps)
    is let go as soon as it has run, as in a hand-written backward pass."""
    import weakref

    class Kept:
        pass
    seen = {}

    @mg.primitive
    def late(x):
        return 2.0 * x

    @mg.primitive
    def early(x):
        return 3.0 * x

    def late_maker(ans, x):
        kept = Kept()
        seen["kept"] = weakref.ref(kept)
        return lambda g: 2.0 * g + 0.0 * len([kept])
    mg.defvjp(late, late_maker)

    def early_vjp(g):
        seen["alive when early ran"] = seen["kept"]() is not None
        return 3.0 * g
    mg.defvjp(early, lambda ans, x: early_vjp)
    assert mg.grad(lambda x: late(early(x)))(1.0) == 6.0
    assert seen["alive when early ran"] is False
    assert mg.vjp(lambda x: late(early(x)), 1.0)[1](1.0) == (6.0,)   # vjp keeps its graph
    assert seen["alive when early ran"] is True
    _, f_vjp = reverse.make_vjp(lambda x: late(early(x)), [1.0], once=True)
    assert f_vjp(1.0) == (6.0,)
    with pytest.raises(RuntimeError, match="one call"):
        f_vjp(1.0)
