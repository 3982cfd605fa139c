"""Problem set 5's checks (course_tools/grading/engine.py) against right and wrong engines.

Every wrong engine below is a mistake students make; each must fail its check on every
run, with a message that names the mistake. The hidden checks (seed=None) are run under
several grading seeds.
"""

import math
import sys

import numpy as np
import pytest

import course_tools.grading as G
from course_tools.grading import channel

SEEDS = (None, None, None)


@pytest.fixture(params=[11, 22, 33], ids=lambda s: f"grader-seed-{s}")
def graded(request, monkeypatch):
    """Hidden checks draw from a grading seed, as under the grader."""
    monkeypatch.setattr(channel.STATE, "grader_seed", request.param)
    return request.param


# ------------------------------------------------------------------------------ right

def topological_order(output):
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if id(p) not in visited)
    return order


def kahn_order(output):
    """A different valid order: Kahn's algorithm on the reversed graph, then reversed."""
    nodes, stack, seen = [], [output], {id(output)}
    while stack:
        n = stack.pop()
        nodes.append(n)
        for p in n.parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    users = {id(n): 0 for n in nodes}
    for n in nodes:
        for p in n.parents:
            users[id(p)] += 1
    ready, out = [output], []
    while ready:
        n = ready.pop()
        out.append(n)
        for p in n.parents:
            users[id(p)] -= 1
            if users[id(p)] == 0:
                ready.append(p)
    return out[::-1]


def make_backward(order):
    def backward(output, g):
        cot = {output: g}
        for node in reversed(order(output)):
            for parent, vjp in zip(node.parents, node.vjps):
                share = vjp(cot[node])
                cot[parent] = cot[parent] + share if parent in cot else share
        return cot
    return backward


backward = make_backward(topological_order)


class Node:
    def __init__(self, value, parents=(), vjps=(), op="input"):
        self.value = np.asarray(value, dtype=float)
        self.parents, self.vjps, self.op = tuple(parents), tuple(vjps), op


def make_grad(backward, missing="zeros"):
    def grad(f, argnums=0):
        def df(*args):
            nodes = [Node(a) for a in args]
            out = f(*nodes)
            cot = backward(out, np.ones_like(out.value))
            pick = argnums if isinstance(argnums, tuple) else (argnums,)
            if missing == "zeros":
                grads = tuple(cot.get(nodes[i], np.zeros_like(nodes[i].value)) for i in pick)
            else:
                grads = tuple(cot.get(nodes[i]) for i in pick)
            return grads if isinstance(argnums, tuple) else grads[0]
        return df
    return grad


grad = make_grad(backward)


class Dual:
    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    @staticmethod
    def lift(x):
        return x if isinstance(x, Dual) else Dual(x, 0.0)

    def __add__(a, b):
        b = Dual.lift(b)
        return Dual(a.value + b.value, a.tangent + b.tangent)

    __radd__ = __add__

    def __sub__(a, b):
        b = Dual.lift(b)
        return Dual(a.value - b.value, a.tangent - b.tangent)

    def __rsub__(a, b):
        return Dual.lift(b) - a

    def __mul__(a, b):
        b = Dual.lift(b)
        return Dual(a.value * b.value, a.tangent * b.value + a.value * b.tangent)

    __rmul__ = __mul__

    def __truediv__(a, b):
        b = Dual.lift(b)
        return Dual(a.value / b.value, (a.tangent * b.value - a.value * b.tangent) / b.value ** 2)

    def __rtruediv__(a, b):
        return Dual.lift(b) / a

    def __neg__(a):
        return Dual(-a.value, -a.tangent)

    def __pow__(a, b):
        if isinstance(b, Dual):
            v = a.value ** b.value
            return Dual(v, v * (b.tangent * math.log(a.value) + b.value * a.tangent / a.value))
        return Dual(a.value ** b, b * a.value ** (b - 1) * a.tangent)

    def __rpow__(a, b):
        return Dual.lift(b) ** a

    def sin(a):
        return Dual(math.sin(a.value), math.cos(a.value) * a.tangent)

    def cos(a):
        return Dual(math.cos(a.value), -math.sin(a.value) * a.tangent)

    def exp(a):
        return Dual(math.exp(a.value), math.exp(a.value) * a.tangent)

    def log(a):
        return Dual(math.log(a.value), a.tangent / a.value)


def checkpointed_vjp(layers, x, g, segment):
    starts = list(range(0, len(layers), segment))
    checkpoints = []
    for s in starts:
        checkpoints.append(x)
        for layer in layers[s:s + segment]:
            x, _ = layer(x)
    del x, _
    for s in reversed(starts):
        x, vjps = checkpoints.pop(), []
        for layer in layers[s:s + segment]:
            x, vjp = layer(x)
            vjps.append(vjp)
        del x, vjp
        while vjps:
            g = vjps.pop()(g)
    return g


RIGHT = [
    ("check_topological_order", topological_order),
    ("check_topological_order", kahn_order),
    ("check_topological_order_deep", topological_order),
    ("check_backward", backward),
    ("check_backward", make_backward(kahn_order)),
    ("check_grad", grad),
    ("check_dual", Dual),
    ("check_checkpointed_vjp", checkpointed_vjp),
]


@pytest.mark.parametrize("check, answer", RIGHT, ids=[f"{c}-{a.__name__}" for c, a in RIGHT])
def test_right_engines_pass(check, answer, graded):
    getattr(G, check)(answer, seed=0)
    getattr(G, check)(answer, seed=None)


# ------------------------------------------------------------------------------ wrong

def recursive_order(output):
    order, visited = [], set()

    def visit(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        for p in node.parents:
            visit(p)
        order.append(node)
    visit(output)
    return order


def deep_recursive_order(output):
    sys.setrecursionlimit(1_000_000)
    return recursive_order(output)


def unmarked_order(output):
    """Depth-first, but nothing marks a node as visited: a node is listed once per path."""
    order = []
    stack = [(output, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def preorder(output):
    """Appends a node when it is first reached: children before their parents."""
    order, visited, stack = [], set(), [output]
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        order.append(node)
        stack.extend(node.parents)
    return order[::-1]


def output_first(output):
    return topological_order(output)[::-1]


def bfs_levels(output):
    """Breadth-first from the output, reversed: wrong when paths to a node differ in length."""
    order, seen, queue = [], {id(output)}, [output]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for p in node.parents:
            if id(p) not in seen:
                seen.add(id(p))
                queue.append(p)
    return order[::-1]


def returns_values(output):
    return [n.value for n in topological_order(output)]


def overwriting_backward(output, g):
    cot = {output: g}
    for node in reversed(topological_order(output)):
        for parent, vjp in zip(node.parents, node.vjps):
            cot[parent] = vjp(cot[node])
    return cot


def forward_order_backward(output, g):
    """Visits nodes from the inputs: each passes on a cotangent that is not complete yet."""
    from collections import defaultdict
    cot = defaultdict(float)
    cot[output] = g
    for node in topological_order(output):
        for parent, vjp in zip(node.parents, node.vjps):
            cot[parent] = cot[parent] + vjp(cot[node])
    return dict(cot)


def dict_of_parents_backward(output, g):
    """dict(zip(parents, vjps)) keeps one VJP per parent: x * x loses a share."""
    cot = {output: g}
    for node in reversed(topological_order(output)):
        for parent, vjp in dict(zip(node.parents, node.vjps)).items():
            share = vjp(cot[node])
            cot[parent] = cot[parent] + share if parent in cot else share
    return cot


def inputs_only_backward(output, g):
    cot = backward(output, g)
    return {n: v for n, v in cot.items() if not n.parents}


def minigrad_backward(output, g):
    """Asks minigrad for the answer: switched off while student code runs."""
    import minigrad as mg
    mg.grad(lambda x: x * x)(1.0)
    return backward(output, g)


def numerical_grad(f, argnums=0):
    """Central differences of f: right to 1e-8 or so, not to rounding."""
    def df(*args):
        pick = argnums if isinstance(argnums, tuple) else (argnums,)
        out = []
        for i in pick:
            x = np.asarray(args[i], dtype=float)
            d = np.zeros_like(x)
            for j in np.ndindex(x.shape):
                e = np.zeros_like(x)
                e[j] = 1e-6
                hi = [Node(a) for a in args]
                lo = [Node(a) for a in args]
                hi[i], lo[i] = Node(x + e), Node(x - e)
                d[j] = (f(*hi).value - f(*lo).value) / 2e-6
            out.append(d)
        return tuple(out) if isinstance(argnums, tuple) else out[0]
    return df


class RsubDual(Dual):
    def __rsub__(a, b):
        return a - b


class RdivDual(Dual):
    def __rtruediv__(a, b):
        return a / b


class PowDual(Dual):
    def __pow__(a, b):
        b = b.value if isinstance(b, Dual) else b     # drops the exponent's tangent
        return Dual(a.value ** b, b * a.value ** (b - 1) * a.tangent)


class CosDual(Dual):
    def cos(a):
        return Dual(math.cos(a.value), math.sin(a.value) * a.tangent)


class ProductDual(Dual):
    def __mul__(a, b):
        b = Dual.lift(b)
        return Dual(a.value * b.value, a.tangent * b.value)

    __rmul__ = __mul__


class NoRaddDual(Dual):
    __radd__ = None


def storing_vjp(layers, x, g, segment):
    """Ignores segment: keeps every layer's VJP, as plain backpropagation does."""
    vjps = []
    for layer in layers:
        x, vjp = layer(x)
        vjps.append(vjp)
    for vjp in reversed(vjps):
        g = vjp(g)
    return g


def keeping_forward_vjps(layers, x, g, segment):
    """Checkpoints, but also keeps the forward pass's VJPs and uses them."""
    kept = []
    for layer in layers:
        x, vjp = layer(x)
        kept.append((x, vjp))
    for _, vjp in reversed(kept):
        g = vjp(g)
    return g


def from_the_start(layers, x, g, segment):
    """Stores nothing, recomputes every segment from the chain's input: quadratic time."""
    n = len(layers)
    for end in range(n, 0, -segment):
        start = max(0, end - segment)
        y = x
        for layer in layers[:start]:
            y, _ = layer(y)
        vjps = []
        for layer in layers[start:end]:
            y, vjp = layer(y)
            vjps.append(vjp)
        for vjp in reversed(vjps):
            g = vjp(g)
    return g


def off_by_one(layers, x, g, segment):
    """Recomputes each segment from the checkpoint after its own."""
    starts = list(range(0, len(layers), segment))
    checkpoints = []
    for s in starts:
        for layer in layers[s:s + segment]:
            x, _ = layer(x)
        checkpoints.append(x)
    for s in reversed(starts):
        x, vjps = checkpoints.pop(), []
        for layer in layers[s:s + segment]:
            x, vjp = layer(x)
            vjps.append(vjp)
        while vjps:
            g = vjps.pop()(g)
    return g


def even_segments_only(layers, x, g, segment):
    """Forgets the last, shorter segment when segment does not divide the length."""
    starts = list(range(0, len(layers) - segment + 1, segment))
    return checkpointed_vjp(layers[:len(starts) * segment], x, g, segment)


WRONG = [
    ("check_topological_order_deep", recursive_order, "recursed deeper"),
    ("check_topological_order_deep", deep_recursive_order, "recursion limit"),
    ("check_topological_order", unmarked_order, "appears twice|visiting each node once"),
    ("check_topological_order", preorder, "comes before its parent"),
    ("check_topological_order", output_first, "output comes first"),
    ("check_topological_order", bfs_levels, "comes before its parent"),
    ("check_topological_order", returns_values, "not nodes of the graph"),
    ("check_backward", overwriting_backward, "only the share"),
    ("check_backward", forward_order_backward, "missing the share|wrong values|before all"),
    ("check_backward", dict_of_parents_backward, "only the share"),
    ("check_backward", inputs_only_backward, "no cotangent"),
    ("check_backward", minigrad_backward, "Work the derivative out"),
    ("check_grad", make_grad(backward, missing="none"), "returned None|not use this argument"),
    ("check_grad", make_grad(overwriting_backward), "fix them first"),
    ("check_grad", numerical_grad, "wrong values|factor"),
    ("check_dual", RsubDual, "reflected method"),
    ("check_dual", RdivDual, "reflected method"),
    ("check_dual", PowDual, "power rule"),
    ("check_dual", CosDual, "cos' = -sin"),
    ("check_dual", ProductDual, "product rule"),
    ("check_dual", NoRaddDual, "raised TypeError"),
    ("check_checkpointed_vjp", storing_vjp, "alive at once"),
    ("check_checkpointed_vjp", keeping_forward_vjps, "alive at once"),
    ("check_checkpointed_vjp", from_the_start, "layers ran"),
    ("check_checkpointed_vjp", off_by_one, "own checkpoint"),
    ("check_checkpointed_vjp", even_segments_only, "own checkpoint"),
]


@pytest.mark.parametrize("check, answer, says", WRONG,
                         ids=[f"{c}-{getattr(a, '__name__', 'answer')}" for c, a, _ in WRONG])
def test_wrong_engines_fail_every_run(check, answer, says, graded):
    import re
    with pytest.raises(G.GradingError) as failure:
        getattr(G, check)(answer, seed=None)
    assert re.search(says, str(failure.value)), str(failure.value)
    assert "Traceback" not in str(failure.value)
