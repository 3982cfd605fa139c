"""Checks of problem set 5: the automatic differentiation engine itself.

Students write, on top of a small graph API given in the notebook (nodes with parents and
one VJP closure per parent), a topological order, the backward pass, ``grad``, forward mode
with dual numbers, and gradient checkpointing of a chain. The checks below build their own
graphs with this module's copy of that API, at grading time, and compare with minigrad's
reverse mode (or, for dual numbers, with complex-step derivatives) computed here. They hold
no answers: nothing below orders a graph or accumulates cotangents.

Every case on every run (seed=None). Graphs: a lone input, a chain, a diamond, the same
parent twice (x * x) and one node used three times, a ladder where every node uses the two
before it (a search that does not mark visited nodes walks 2^n paths), the slides' program
t0 ... t5, c with its constants, and random graphs with nodes the output does not depend
on, each in the three shapes (), (3,) and (2, 3), with scalar constants broadcast against
arrays. Deep graphs: a chain of 100,000 nodes and a graph where one input is used 100,000
times. ``grad``: one and several inputs, an int and a tuple of argnums, an input the
output does not use (its gradient is zeros), a function that returns its input, heavy
fan-out. Dual numbers: each operator with a dual on the left, on the right and on both
sides, powers with integer, negative, fractional and dual exponents, each elementary
function, and composite programs. Checkpointing: chains whose length the segment divides,
does not divide, equals, and segments of 1.

Graded on more than values. ``node.parents`` of the checks' nodes counts its reads: a
topological order that reads it more than 20 times per node is walking paths, not nodes,
and is stopped with that message (before it could run for 2^40 steps). While the
student's order runs, Python's recursion limit is a few thousand frames, so a recursive
search fails on the 100,000-node chain; changing the limit is reported. Checkpointing is
graded on how many layer outputs and VJP closures are alive at once (weak references
count them) and on how many times the layers run. Those two counts are taken in the
student's kernel; everything else is decided by the grader's replay (channel.py).
"""

import builtins as _builtins_module

__builtins__ = dict(vars(_builtins_module))

import cmath as _cmath  # noqa: E402
import math as _math  # noqa: E402
import sys as _sys  # noqa: E402
import weakref as _weakref  # noqa: E402

import numpy as _np  # noqa: E402

from ._core import (  # noqa: E402
    _ATOL, _RTOL, GradingError, _Rng, _all_finite, _as_array, _call_student, _close,
    _copy, _explain_values, _floats, _norm, _seed, _shape_str, _unbroadcast,
)

__all__ = [
    "check_backward",
    "check_checkpointed_vjp",
    "check_dual",
    "check_grad",
    "check_topological_order",
    "check_topological_order_deep",
]

_array = _np.array
_asarray = _np.asarray
_float64 = _np.float64
_zeros = _np.zeros
_add_reduce = _np.add.reduce
_getrecursionlimit = _sys.getrecursionlimit
_setrecursionlimit = _sys.setrecursionlimit
_getframe = _sys._getframe

_misfinite = _math.isfinite

_READS_PER_NODE = 20
_RECURSION_HEADROOM = 3000


# ---------------------------------------------------------------------------------------
# The graph API, as the notebook gives it, with two additions for grading: every node knows
# its graph's read counter, and its value must be real.
# ---------------------------------------------------------------------------------------

class _Reads:
    """How often `parents` was read, and the most a search may read it."""

    def __init__(self):
        self.count = 0
        self.limit = None
        self.nodes = 0
        self.who = "your code"


def _real(value):
    arr = _asarray(value)
    if arr.dtype.kind == "c":
        raise TypeError("the graph's values are real numbers; complex values are not accepted")
    return _array(arr, dtype=_float64)


class _Node:
    """A value of the computation: its parents, and one VJP per parent (see the notebook)."""

    def __init__(self, value, parents=(), vjps=(), op="input", reads=None):
        self.value = _real(value)
        self._parents = tuple(parents)
        self.vjps = tuple(vjps)
        self.op = op
        self._reads = reads if reads is not None else _Reads()

    @property
    def parents(self):
        reads = self._reads
        reads.count += 1
        if reads.limit is not None and reads.count > reads.limit:
            raise GradingError(
                f"{reads.who} read node.parents {reads.limit:,} times on a graph of "
                f"{reads.nodes:,} nodes: it walks every path through a node again instead of "
                f"visiting each node once. Keep a set of the nodes already visited, and skip "
                f"them.")
        return self._parents

    def __repr__(self):
        return f"Node({self.op}, shape {_shape_str(self.value.shape)})"

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __truediv__(self, other):
        return div(self, other)

    def __rtruediv__(self, other):
        return div(other, self)

    def __neg__(self):
        return neg(self)

    def __pow__(self, k):
        return power(self, k)


def _reads_of(*nodes):
    for n in nodes:
        reads = getattr(n, "_reads", None)
        if isinstance(reads, _Reads):
            return reads
    return _Reads()


def _lift(x, reads):
    if hasattr(x, "value") and hasattr(x, "parents"):
        return x
    return _Node(x, op="const", reads=reads)


def _binary(name, a, b, forward, vjp_a, vjp_b):
    reads = _reads_of(a, b)
    a, b = _lift(a, reads), _lift(b, reads)
    av, bv = _real(a.value), _real(b.value)
    return _Node(forward(av, bv), (a, b),
                 (lambda g: _unbroadcast(vjp_a(g, av, bv), av.shape),
                  lambda g: _unbroadcast(vjp_b(g, av, bv), bv.shape)), name, reads)


def _unary(name, a, forward, vjp):
    reads = _reads_of(a)
    a = _lift(a, reads)
    av = _real(a.value)
    return _Node(forward(av), (a,), (lambda g: vjp(g, av),), name, reads)


def add(a, b):
    return _binary("add", a, b, lambda x, y: x + y, lambda g, x, y: g, lambda g, x, y: g)


def sub(a, b):
    return _binary("sub", a, b, lambda x, y: x - y, lambda g, x, y: g, lambda g, x, y: -g)


def mul(a, b):
    return _binary("mul", a, b, lambda x, y: x * y, lambda g, x, y: g * y, lambda g, x, y: g * x)


def div(a, b):
    return _binary("div", a, b, lambda x, y: x / y, lambda g, x, y: g / y,
                   lambda g, x, y: -g * x / (y * y))


def neg(a):
    return _unary("neg", a, lambda x: -x, lambda g, x: -g)


def power(a, k):
    k = float(k)
    return _unary(f"power {k:g}", a, lambda x: x ** k, lambda g, x: g * k * x ** (k - 1))


def sin(a):
    return _unary("sin", a, _np.sin, lambda g, x: g * _np.cos(x))


def cos(a):
    return _unary("cos", a, _np.cos, lambda g, x: -g * _np.sin(x))


def tanh(a):
    return _unary("tanh", a, _np.tanh, lambda g, x: g * (1.0 - _np.tanh(x) ** 2))


def exp(a):
    return _unary("exp", a, _np.exp, lambda g, x: g * _np.exp(x))


def log(a):
    return _unary("log", a, _np.log, lambda g, x: g / x)


def total(a):
    return _unary("total", a, lambda x: _add_reduce(x, axis=None),
                  lambda g, x: _np.broadcast_to(g, x.shape).copy())


# ---------------------------------------------------------------------------------------
# Programs: a list of steps, run on nodes (for the student) or on minigrad (the reference)
# ---------------------------------------------------------------------------------------

_UNARY = ("neg", "sin", "cos", "tanh", "exp", "log", "square", "total")
_BINARY = ("add", "sub", "mul", "div")


class _Program:
    """Steps (op, parent indices, constant value or None); step i makes node i."""

    def __init__(self, title, shape=()):
        self.title = title
        self.shape = shape
        self.steps = []
        self.inputs = []         # indices of the input nodes

    def input(self, value):
        self.steps.append(("input", (), _copy(value)))
        self.inputs.append(len(self.steps) - 1)
        return len(self.steps) - 1

    def const(self, value):
        self.steps.append(("const", (), _copy(value)))
        return len(self.steps) - 1

    def op(self, name, *parents):
        self.steps.append((name, tuple(parents), None))
        return len(self.steps) - 1

    @property
    def output(self):
        return len(self.steps) - 1

    def label(self, i):
        name, parents, _ = self.steps[i]
        if name in ("input", "const"):
            return f"n{i} ({name})"
        return f"n{i} = {name}(" + ", ".join(f"n{p}" for p in parents) + ")"

    def depends(self):
        """Which nodes the output depends on (itself included)."""
        seen = [False] * len(self.steps)
        seen[self.output] = True
        for i in range(self.output, -1, -1):
            if seen[i]:
                for p in self.steps[i][1]:
                    seen[p] = True
        return seen


_NODE_OPS = {"add": add, "sub": sub, "mul": mul, "div": div, "neg": neg, "sin": sin,
             "cos": cos, "tanh": tanh, "exp": exp, "log": log,
             "square": lambda a: power(a, 2), "total": total}


def _build(program, leaves=None, reads=None):
    """The program's nodes, made with this module's graph API."""
    reads = reads if reads is not None else _Reads()
    nodes = []
    for i, (name, parents, value) in enumerate(program.steps):
        if name == "input":
            node = leaves[program.inputs.index(i)] if leaves is not None else \
                _Node(value, op="input", reads=reads)
        elif name == "const":
            node = _Node(value, op="const", reads=reads)
        else:
            node = _NODE_OPS[name](*[nodes[p] for p in parents])
        nodes.append(node)
    reads.nodes = len(nodes)
    return nodes, reads


def _mnp_ops():
    import minigrad.numpy as mnp
    return {"add": mnp.add, "sub": mnp.subtract, "mul": mnp.multiply,
            "div": mnp.true_divide, "neg": mnp.negative, "sin": mnp.sin, "cos": mnp.cos,
            "tanh": mnp.tanh, "exp": mnp.exp, "log": mnp.log,
            "square": lambda a: mnp.power(a, 2.0), "total": mnp.sum}


def _reference_adjoints(program, g):
    """Every node's adjoint <g, d output / d node>, by minigrad's reverse mode.

    Node i's value is made op(parents) + e_i; the adjoints are the gradients with respect
    to the e_i at 0, all from one reverse pass.
    """
    import minigrad as mg
    ops = _mnp_ops()
    shapes = [_asarray(v).shape for v in _values(program)]

    def run(*e):
        values = []
        for i, (name, parents, value) in enumerate(program.steps):
            v = value if name in ("input", "const") else ops[name](*[values[p] for p in parents])
            values.append(v + e[i])
        return values[-1]

    _, pullback = mg.vjp(run, *[_zeros(s) for s in shapes])
    return [_as_array(a, "minigrad's reference") for a in pullback(g)]


def _values(program):
    nodes, _ = _build(program)
    return [n.value for n in nodes]


def _program_function(program):
    """The program as f(*inputs) on minigrad's traced numpy."""
    ops = _mnp_ops()

    def f(*xs):
        values = []
        for i, (name, parents, value) in enumerate(program.steps):
            if name == "input":
                values.append(xs[program.inputs.index(i)])
            elif name == "const":
                values.append(value)
            else:
                values.append(ops[name](*[values[p] for p in parents]))
        return values[-1]
    return f


def _node_function(program, reads):
    """The program as f(*leaf nodes) -> output node, on this module's graph API."""
    def f(*leaves):
        if len(leaves) != len(program.inputs):
            raise TypeError(f"f takes {len(program.inputs)} arguments ({len(leaves)} given)")
        nodes, _ = _build(program, leaves=list(leaves), reads=reads)
        return nodes[-1]
    return f


# ------------------------------------------------------------------------------ graphs

def _draw(rng, shape):
    return rng.standard_normal(shape) if shape else _array(rng.standard_normal())


def _lone(rng, shape):
    p = _Program(f"a lone input of shape {_shape_str(shape)} (the output is the input)", shape)
    p.input(_draw(rng, shape))
    return p


def _chain(rng, shape, length=6):
    p = _Program(f"a chain of {length} operations on shape {_shape_str(shape)}", shape)
    i = p.input(_draw(rng, shape))
    for k in range(length):
        i = p.op(("sin", "tanh", "cos", "neg", "square", "tanh")[k % 6], i)
    return p


def _diamond(rng, shape):
    p = _Program(f"a diamond on shape {_shape_str(shape)} (one node used by two that meet "
                 f"again)", shape)
    x = p.input(_draw(rng, shape))
    a = p.op("sin", x)
    b = p.op("tanh", a)
    c = p.op("cos", a)
    d = p.op("mul", b, c)
    p.op("add", d, x)
    return p


def _shared(rng, shape):
    p = _Program(f"x * x and a node used three times, shape {_shape_str(shape)}", shape)
    x = p.input(_draw(rng, shape))
    y = p.input(_draw(rng, shape))
    sq = p.op("mul", x, x)
    s = p.op("sin", y)
    a = p.op("mul", s, sq)
    b = p.op("add", s, a)
    c = p.op("sub", b, s)
    p.op("add", c, sq)
    return p


def _ladder(rng, shape, rungs=40):
    p = _Program(f"a ladder of {rungs} nodes on shape {_shape_str(shape)}, each using the "
                 f"two before it", shape)
    a = p.input(_draw(rng, shape))
    b = p.op("sin", a)
    for _ in range(rungs):
        a, b = b, p.op("sub", b, a)
    return p


def _slides(rng):
    """The slides' program: c = log s + log(2 pi)/2 + ((x - m)/s)^2 / 2, one step per line."""
    p = _Program("the slides' program t0 = x - m, ..., c = t4 + t5")
    x = p.input(_array(rng.standard_normal()))
    m = p.input(_array(rng.standard_normal()))
    s = p.input(_array(0.5 + rng.random()))
    t0 = p.op("sub", x, m)
    t1 = p.op("div", t0, s)
    t2 = p.op("log", s)
    t3 = p.op("square", t1)
    t4 = p.op("add", t2, p.const(_array(_math.log(2 * _math.pi) / 2)))
    t5 = p.op("div", t3, p.const(_array(2.0)))
    p.op("add", t4, t5)
    return p


def _random_graph(rng, shape, size):
    """A random graph with inputs, scalar constants and some nodes the output ignores."""
    for _ in range(20):
        p = _Program(f"a random graph of {size} nodes on shape {_shape_str(shape)}", shape)
        for _ in range(1 + rng.integers(3)):
            p.input(_draw(rng, shape))
        p.const(_array(0.5 + rng.random()))
        while len(p.steps) < size:
            n = len(p.steps)
            # mostly recent nodes, so that the graph is deep as well as wide
            pick = lambda: max(0, n - 1 - int(abs(rng.standard_normal()) * 3))  # noqa: E731
            if rng.random() < 0.55:
                name = ("add", "sub", "mul", "mul")[rng.integers(4)]
                p.op(name, pick(), rng.integers(n))
            else:
                p.op(("sin", "cos", "tanh", "neg", "square")[rng.integers(5)], pick())
        # a last node from a random earlier one: what came after it is not used
        out = p.op("tanh", int(len(p.steps) * 0.7))
        if p.steps[out][1][0] in p.inputs or len(p.steps) < 4:
            continue
        values = _values(p)
        if all(_all_finite(v) and _norm(v) < 1e6 for v in values) and not all(p.depends()):
            return p
    return p


_SHAPES = ((), (3,), (2, 3))


def _graphs(rng, visible):
    if visible:
        return [_diamond(rng, ()), _shared(rng, (3,)), _slides(rng)]
    out = []
    for shape in _SHAPES:
        out += [_lone(rng, shape), _chain(rng, shape), _diamond(rng, shape),
                _shared(rng, shape), _ladder(rng, shape)]
    out.append(_slides(rng))
    for shape in _SHAPES:
        out += [_random_graph(rng, shape, 12 + rng.integers(14)) for _ in range(2)]
    return out


# ------------------------------------------------------------------------------ running

class _Depth:
    """While the student's order runs: recursion allowed to a few thousand frames only."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        depth, frame = 0, _getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        self.saved = _getrecursionlimit()
        self.limit = max(depth + _RECURSION_HEADROOM, 1000)
        _setrecursionlimit(self.limit)
        return self

    def __exit__(self, *exc):
        changed = _getrecursionlimit() != self.limit
        _setrecursionlimit(self.saved)
        if changed and exc[0] is None:
            raise GradingError(
                f"{self.what} changed Python's recursion limit. The search must not recurse: "
                f"write it with a loop and a stack of your own (a list you append to and pop "
                f"from), and leave sys.setrecursionlimit alone.")
        return False


def _run_student(where, reads, budget_nodes, call):
    """call() -> plain data, in the student's kernel, with parents reads and recursion limited."""
    def run():
        reads.count, reads.limit = 0, _READS_PER_NODE * budget_nodes + 100
        reads.who = where
        try:
            with _Depth(where):
                return call()
        finally:
            reads.limit = None
    return _call_student(where, run)


def _positions(order, index):
    """The student's order as indices of our nodes (-1: not one of them), in the kernel."""
    if order is None:
        raise GradingError("topological_order returned None; it should return a list of nodes.")
    try:
        items = list(order)
    except TypeError:
        raise GradingError(f"topological_order returned {type(order).__name__}, not a list "
                           f"of nodes.") from None
    return _array([index.get(id(n), -1) for n in items], dtype=_np.int64)


def _order_verdict(where, program, got):
    """Why `got` (indices) is not a topological order of the program's output, or None."""
    steps = program.steps
    need = program.depends()
    wanted = sum(need)
    got = [int(i) for i in _asarray(got, dtype=_np.int64).reshape(-1).tolist()]
    strangers = sum(1 for i in got if not 0 <= i < len(steps))
    if strangers:
        return (f"{where}: {strangers} of the {len(got)} items returned are not nodes of the "
                f"graph. Return the Node objects themselves, not their values or names.")
    first = {}
    for position, i in enumerate(got):
        if i in first:
            return (f"{where}: {program.label(i)} appears twice (at positions {first[i]} and "
                    f"{position}). Mark a node as visited the first time you reach it, and "
                    f"skip it after that: a node used by several others is still one node.")
        first[i] = position
    extra = [i for i in got if not need[i]]
    if extra:
        return (f"{where}: {program.label(extra[0])} is in the order, but the output does not "
                f"depend on it. Start from the output and follow parents only.")
    missing = [i for i in range(len(steps)) if need[i] and i not in first]
    if missing:
        names = ", ".join(program.label(i) for i in missing[:3])
        return (f"{where}: the order has {len(got)} of the {wanted} nodes the output depends "
                f"on (the output and the inputs included); missing: {names}"
                f"{', ...' if len(missing) > 3 else ''}.")
    if len(got) > 1 and got[-1] != program.output and got[0] == program.output:
        return (f"{where}: the output comes first. A topological order puts every node after "
                f"its parents (the inputs first, the output last): reverse your list.")
    for position, i in enumerate(got):
        late = [p for p in steps[i][1] if first[p] > position]
        if late:
            return (f"{where}: {program.label(i)} comes before its parent n{late[0]} (positions "
                    f"{position} and {first[late[0]]}). Every node must come after all its "
                    f"parents: add a node to the order only once all of its parents are in it "
                    f"(in a depth-first search, when you leave it, not when you reach it).")
    return None


def check_topological_order(topological_order, seed=None):
    """topological_order(output) -> every node output depends on, parents before children."""
    rng = _Rng(_seed(seed))
    for program in _graphs(rng, seed is not None):
        _check_order(topological_order, program)


def _check_order(topological_order, program):
    where = f"topological_order on {program.title}"

    reads = _Reads()

    def call():
        nodes, _ = _build(program, reads=reads)
        index = {id(n): i for i, n in enumerate(nodes)}
        return _positions(topological_order(nodes[-1]), index)

    got = _run_student(where, reads, len(program.steps), call)
    problem = _order_verdict(where, program, got)
    if problem:
        raise GradingError(problem)


class _Deep:
    """A large graph made directly (no values computed), for the order alone."""

    def __init__(self, title, parents_of, size):
        self.title, self.parents_of, self.size = title, parents_of, size
        self.steps = [("input" if not parents_of(i) else "op", parents_of(i), None)
                      for i in range(size)]
        self.output = size - 1
        self.inputs = [i for i in range(size) if not self.steps[i][1]]

    def label(self, i):
        parents = self.steps[i][1]
        return f"n{i}" + (" = f(" + ", ".join(f"n{p}" for p in parents) + ")" if parents else
                          " (input)")

    def depends(self):
        return _Program.depends(self)


def check_topological_order_deep(topological_order, seed=None):
    """topological_order on a chain of 100,000 nodes and an input used 100,000 times."""
    rng = _Rng(_seed(seed))
    size = 100_000 + (0 if seed is not None else int(rng.integers(1000)))
    graphs = [_Deep(f"a chain of {size:,} nodes", lambda i: (i - 1,) if i else (), size),
              _Deep(f"{size:,} nodes that each use the one before and the input n0",
                    lambda i: (i - 1, 0) if i > 1 else ((0,) if i else ()), size)]
    for graph in graphs:
        where = f"topological_order on {graph.title}"

        reads = _Reads()

        def call(graph=graph, reads=reads):
            nodes = []
            for name, parents, _ in graph.steps:
                nodes.append(_Node(0.0, [nodes[p] for p in parents],
                                   [lambda g: g] * len(parents), "input" if not parents else "f",
                                   reads))
            index = {id(n): i for i, n in enumerate(nodes)}
            return _positions(topological_order(nodes[-1]), index)

        got = _run_student(where, reads, size, call)
        problem = _order_verdict(where, graph, got)
        if problem:
            raise GradingError(problem)


# ------------------------------------------------------------------------------ backward

def check_backward(backward, seed=None):
    """backward(output, g) -> {node: its cotangent} for every node the output depends on."""
    rng = _Rng(_seed(seed))
    for program in _graphs(rng, seed is not None):
        _check_backward_on(backward, program, rng)


def _check_backward_on(backward, program, rng):
    values = _values(program)
    out_shape = values[-1].shape
    g = _draw(rng, out_shape)
    where = f"backward(output, g) on {program.title}"

    reads = _Reads()

    def call():
        nodes, _ = _build(program, reads=reads)
        result = backward(nodes[-1], _copy(g))
        if result is None:
            raise GradingError("backward returned None; it should return a dict {node: cotangent}.")
        if not isinstance(result, dict):
            raise GradingError(f"backward returned {type(result).__name__}; it should return a "
                               f"dict {{node: cotangent}}.")
        found = {id(k): v for k, v in result.items()}
        return [found.get(id(n)) for n in nodes], [id(n) in found for n in nodes]

    got, present = _run_student(where, reads, len(program.steps), call)
    expected = _reference_adjoints(program, g)
    need = program.depends()
    for i in range(len(program.steps) - 1, -1, -1):   # from the output back
        if not need[i]:
            continue
        label = program.label(i) + (" (the output)" if i == program.output else "")
        if not present[i]:
            raise GradingError(f"{where}: there is no cotangent for {label}. Every node the "
                               f"output depends on gets one, the inputs and constants too. "
                               f"If backward walks your topological_order and its tests "
                               f"fail, fix it first: visited in the wrong order, a node "
                               f"passes its cotangent on before it has them all.")
        arr = _as_array(got[i], f"{where}: the cotangent of {label}")
        want = expected[i]
        if arr.shape != want.shape:
            raise GradingError(
                f"{where}: the cotangent of {label} has shape {_shape_str(arr.shape)}, but a "
                f"cotangent has its node's shape, {_shape_str(want.shape)}.")
        if not _close(arr, want, _RTOL * 100, _ATOL):
            raise GradingError(_explain_cotangent(where, program, i, label, arr, want, expected,
                                                  g))


def _shares(program, i, adjoints):
    """What each use of node i sends back to it, from the exact adjoints of its users."""
    nodes, _ = _build(program)
    need = program.depends()
    out = []
    for j in range(i + 1, len(program.steps)):
        if need[j]:
            for k, p in enumerate(program.steps[j][1]):
                if p == i:
                    share = _as_array(_unbroadcast(nodes[j].vjps[k](adjoints[j]),
                                                   nodes[i].value.shape), "share")
                    out.append((j, share))
    return out


def _explain_cotangent(where, program, i, label, got, want, expected, g):
    what = f"{where}: the cotangent of {label}"
    if i == program.output:
        return (f"{what} must be g itself, the cotangent backward was called with "
                f"(d output / d output is the identity).")
    shares = _shares(program, i, expected)
    users = ", ".join(f"n{j}" for j, _ in shares)
    if len(shares) > 1:
        for j, share in shares:
            if _close(got, share, 1e-9):
                return (f"{what} is only the share sent back by n{j}, but the node has "
                        f"{len(shares)} uses ({users}). Add the shares from every use (fan-out); "
                        f"do not overwrite what an earlier use sent.")
    for leave in range(len(shares)):
        partial = sum((s for k, (_, s) in enumerate(shares) if k != leave), _zeros(got.shape))
        if _close(got, partial, 1e-9):
            return (f"{what} is missing the share sent back by n{shares[leave][0]} (its uses: "
                    f"{users}): was a node's cotangent passed on before all of its uses had "
                    f"sent theirs? Visit the nodes in reversed topological order, the output "
                    f"first.")
    ee = sum(x * x for x in _floats(want))
    if ee > 0:
        c = sum(x * y for x, y in zip(_floats(got), _floats(want))) / ee
        if _close(got, c * want, 1e-9) and abs(c - round(c)) < 1e-9 and round(c) >= 2:
            return (f"{what} is {round(c)} times too large: a share was added more than once. "
                    f"Is a node visited twice, or its cotangent passed on twice?")
    return (f"{_explain_values(what, got, want)} The cotangent of a node is the sum, over "
            f"its uses, of what each use's VJP sends back; its uses here: {users or 'none'}.")


# ------------------------------------------------------------------------------ grad

def _grad_cases(rng, visible):
    cases = []
    p = _slides(rng)
    cases.append((p, (0, 1, 2)))
    if visible:
        return cases + [(_with_inputs(rng, ((3,),), "sin(x) * x, summed"), 0)]
    cases.append((_with_inputs(rng, ((),), "a function of one number"), 0))
    cases.append((_with_inputs(rng, ((3,), (2, 3)), "f(x, y), x a vector and y a matrix"),
                  (0, 1)))
    cases.append((_with_inputs(rng, ((2,), (3,), ()), "f(x, y, z), the gradient in y"), 1))
    cases.append((_unused(rng), (0, 1)))
    cases.append((_identity(rng), 0))
    cases.append((_fan_out(rng), 0))
    cases.append((_shared_share(rng), 0))
    return cases


def _with_inputs(rng, shapes, title):
    p = _Program(title)
    leaves = [p.input(_draw(rng, s)) for s in shapes]
    terms = []
    for k, x in enumerate(leaves):
        a = p.op(("sin", "tanh", "cos")[k % 3], x)
        b = p.op("mul", a, x)
        terms.append(p.op("total", b))
    acc = terms[0]
    for t in terms[1:]:
        acc = p.op("mul", acc, t) if rng.random() < 0.5 else p.op("add", acc, t)
    p.op("sin", acc)
    return p


def _unused(rng):
    p = _Program("f(x, y) that does not use y (its gradient is zeros)")
    x = p.input(_draw(rng, (3,)))
    p.input(_draw(rng, (2,)))
    p.op("total", p.op("tanh", x))
    return p


def _identity(rng):
    p = _Program("f(x) = x, which returns its input")
    p.input(_draw(rng, ()))
    return p


def _fan_out(rng):
    p = _Program("f(x) that uses x twenty times")
    x = p.input(_draw(rng, ()))
    acc = p.op("sin", x)
    for k in range(19):
        acc = p.op(("mul", "add", "sub")[k % 3], acc, x)
        acc = p.op("tanh", acc)
    return p


def _shared_share(rng):
    """add's VJPs hand both parents the very same array: a backward that adds later shares
    into it in place (+=) changes both cotangents, and here the input's gradient too."""
    p = _Program("f(x) = total(sin(x) + sin(x) * x)")
    x = p.input(_draw(rng, (3,)))
    a = p.op("sin", x)
    p.op("total", p.op("add", a, p.op("mul", a, x)))
    return p


def check_grad(grad, seed=None):
    """grad(f, argnums)(*args): the gradient of scalar f with respect to args[argnums]."""
    import minigrad as mg
    rng = _Rng(_seed(seed))
    for program, argnums in _grad_cases(rng, seed is not None):
        args = [program.steps[i][2] for i in program.inputs]
        where = f"grad(f, argnums={argnums!r}) for {program.title}"
        reads = _Reads()
        f = _node_function(program, reads)

        def call(f=f, argnums=argnums, args=args):
            return grad(f, argnums=argnums)(*[_copy(a) for a in args])

        got = _run_student(where, reads, 10 * len(program.steps), call)
        want = mg.grad(_program_function(program), argnums=argnums)(*args)
        if isinstance(argnums, tuple):
            if not isinstance(got, (tuple, list)) or len(got) != len(argnums):
                raise GradingError(f"{where} should return a tuple of {len(argnums)} "
                                   f"gradients, one per argnum.")
            pairs = [(got[k], want[k], argnums[k]) for k in range(len(argnums))]
        else:
            pairs = [(got, want, argnums)]
        for value, expected, k in pairs:
            what = f"{where}: the gradient in argument {k}"
            arr = _as_array(value, what)
            expected = _as_array(expected, "minigrad's reference")
            if arr.shape != expected.shape:
                raise GradingError(f"{what} has shape {_shape_str(arr.shape)}; a gradient has "
                                   f"its argument's shape, {_shape_str(expected.shape)}.")
            if not _close(arr, expected, _RTOL * 100, _ATOL):
                hint = ""
                if _norm(expected) == 0.0:
                    hint = (" f does not use this argument, so its gradient is zeros: an input "
                            "that backward never reached gets np.zeros_like(its value).")
                raise GradingError(_explain_values(what, arr, expected) + hint + (
                    " grad runs your backward and topological_order: if their tests fail, "
                    "fix them first."))


# ------------------------------------------------------------------------------ dual numbers

_RULES = {
    "+": "the sum rule: (a + b)' = a' + b'",
    "-": "the difference rule: (a - b)' = a' - b'",
    "*": "the product rule: (a b)' = a' b + a b'",
    "/": "the quotient rule: (a / b)' = (a' b - a b') / b^2",
    "**": "the power rule: (a^k)' = k a^(k-1) a' for a number k; for a dual exponent, "
          "(a^b)' = a^b (b' log a + b a' / a)",
    "neg": "(-a)' = -a'",
    "sin": "sin' = cos", "cos": "cos' = -sin", "exp": "exp' = exp", "log": "log' a = 1 / a",
}


def _binary_cases(rng):
    a, b = 0.5 + 1.5 * rng.random(), 0.5 + 1.5 * rng.random()
    u, w = rng.standard_normal(), rng.standard_normal()
    c = float(int(rng.integers(2, 9))) / 4 + 0.1
    cases = []
    for op in ("+", "-", "*", "/"):
        cases.append((f"Dual({a:.3g}, {u:.3g}) {op} Dual({b:.3g}, {w:.3g})", op,
                      (op, "x", "y"), (a, u, b, w)))
        cases.append((f"Dual({a:.3g}, {u:.3g}) {op} {c:g}", op, (op, "x", c), (a, u, b, w)))
        cases.append((f"{c:g} {op} Dual({a:.3g}, {u:.3g})", op, (op, c, "x"), (a, u, b, w)))
    for k in (2, 3, -1, 0.5):
        cases.append((f"Dual({a:.3g}, {u:.3g}) ** {k:g}", "**", ("**", "x", k), (a, u, b, w)))
    cases.append((f"Dual({a:.3g}, {u:.3g}) ** Dual({b:.3g}, {w:.3g})", "**", ("**", "x", "y"),
                  (a, u, b, w)))
    cases.append((f"{c:g} ** Dual({a:.3g}, {u:.3g})", "**", ("**", c, "x"), (a, u, b, w)))
    cases.append((f"-Dual({a:.3g}, {u:.3g})", "neg", ("neg", "x"), (a, u, b, w)))
    for fn in ("sin", "cos", "exp", "log"):
        cases.append((f"Dual({a:.3g}, {u:.3g}).{fn}()", fn, (fn, "x"), (a, u, b, w)))
    return cases


def _composite(rng, depth):
    """A random expression tree over x, y and numbers, with positive bases and denominators."""
    def node(d):
        if d == 0:
            return ("x", "y")[rng.integers(2)]
        kind = rng.integers(6)
        if kind == 0:
            return (("sin", "cos", "exp")[rng.integers(3)], node(d - 1))
        if kind == 1:
            t = node(d - 1)
            return ("log", ("+", ("*", t, t), 0.5))
        if kind == 2:
            return ("/", node(d - 1), ("+", ("exp", node(d - 1)), 0.5))
        if kind == 3:
            return ("**", ("+", ("exp", node(d - 1)), 0.1), ("sin", node(d - 1)))
        return (("+", "-", "*")[rng.integers(3)], node(d - 1),
                node(d - 1) if rng.random() < 0.7 else float(rng.integers(1, 5)))
    return node(depth)


def _show(expr):
    if isinstance(expr, str):
        return expr
    if not isinstance(expr, tuple):
        return f"{expr:g}"
    if len(expr) == 2:
        return f"-{_show(expr[1])}" if expr[0] == "neg" else f"{_show(expr[1])}.{expr[0]}()"
    return f"({_show(expr[1])} {expr[0]} {_show(expr[2])})"


def _evaluate(expr, env, fns):
    if isinstance(expr, str):
        return env[expr]
    if not isinstance(expr, tuple):
        return expr
    if len(expr) == 2:
        a = _evaluate(expr[1], env, fns)
        return -a if expr[0] == "neg" else fns(expr[0], a)
    a, b = _evaluate(expr[1], env, fns), _evaluate(expr[2], env, fns)
    op = expr[0]
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a ** b


def _complex_fn(name, z):
    return getattr(_cmath, name)(z)


def _dual_method(name, d):
    method = getattr(d, name, None)
    if method is None:
        raise GradingError(f"{type(d).__name__} has no method {name}(): write Dual.{name}.")
    return method()


def check_dual(Dual, seed=None):
    """Dual(value, tangent): arithmetic with numbers and duals, and .sin() .cos() .exp() .log()."""
    rng = _Rng(_seed(seed))
    cases = _binary_cases(rng)
    while len(cases) < len(_binary_cases(_Rng(0))) + (2 if seed is not None else 6):
        expr = _composite(rng, 3 if seed is not None else 4)
        a, b = 0.5 + rng.random(), 0.5 + rng.random()
        try:
            z = _evaluate(expr, {"x": complex(a, 1e-30), "y": complex(b, 0.5e-30)}, _complex_fn)
        except (OverflowError, ZeroDivisionError, ValueError):
            continue
        if not (abs(z.real) < 1e8 and abs(z.imag) < 1e-22):
            continue
        cases.append((f"{_show(expr)} at x = Dual({a:.3g}, 1), y = Dual({b:.3g}, 0.5)",
                      None, expr, (a, 1.0, b, 0.5)))
    for title, rule, expr, (a, u, b, w) in cases:
        _check_dual_case(Dual, title, rule, expr, a, u, b, w)


def _check_dual_case(Dual, title, rule, expr, a, u, b, w):
    h = 1e-30
    z = _evaluate(expr, {"x": complex(a, h * u), "y": complex(b, h * w)}, _complex_fn)
    value, tangent = z.real, z.imag / h
    if not (_misfinite(value) and _misfinite(tangent)):
        return    # a case that left the domain: nothing to grade

    def call():
        out = _evaluate(expr, {"x": Dual(a, u), "y": Dual(b, w)}, _dual_method)
        if not (hasattr(out, "value") and hasattr(out, "tangent")):
            return {"not dual": type(out).__name__}
        return [float(out.value), float(out.tangent)]

    where = f"{title}"
    try:
        got = _call_student(where, call)
    except GradingError as exc:
        if "raised RecursionError" not in str(exc):
            raise
        raise GradingError(
            f"{where} raised RecursionError: an operator calls itself without end. A "
            f"reflected method that uses the operator it implements, such as __radd__ "
            f"returning other + self, calls itself again (the number on the left still does "
            f"not know Duals): write self + other there, or build the Dual(value, tangent) "
            f"directly.") from None
    if isinstance(got, dict):
        raise GradingError(f"{where} gave a {got.get('not dual')}, not a Dual: every operation "
                           f"with a Dual returns a new Dual(value, tangent)"
                           f"{' (' + _RULES[rule] + ')' if rule else ''}.")
    got_value, got_tangent = got
    reflected = (" With the number on the left, Python calls the Dual's reflected method "
                 "(__radd__, __rsub__, __rmul__, __rtruediv__, __rpow__): there, self is on the "
                 "right of the operator and other on the left.") if title[0].isdigit() else ""
    if not abs(got_value - value) <= 1e-12 * (1 + abs(value)):
        raise GradingError(f"{where} has value {got_value:.12g}; it should be {value:.12g}. The "
                           f"value of a dual number is computed as with ordinary numbers."
                           f"{reflected}")
    if not abs(got_tangent - tangent) <= 1e-10 * (1 + abs(tangent)):
        hint = f" Use {_RULES[rule]}." if rule else (
            " Test each operation on its own to find the rule that is wrong.")
        if rule and abs(got_tangent + tangent) <= 1e-10 * (1 + abs(tangent)) and tangent:
            hint = f" The sign is wrong.{hint}"
        hint += reflected
        raise GradingError(f"{where} has tangent {got_tangent:.12g}; it should be "
                           f"{tangent:.12g}.{hint}")


# ------------------------------------------------------------------------------ checkpointing

class _Alive:
    """How many layer outputs and VJPs are alive at once, and how often layers ran."""

    def __init__(self):
        self.alive = 0
        self.peak = 0
        self.calls = 0
        self.refs = {}

    def track(self, obj):
        self.alive += 1
        ref = _weakref.ref(obj, self._gone)
        self.refs[id(ref)] = ref      # the weak reference must live for its callback to run

    def _gone(self, ref):
        self.alive -= 1
        self.refs.pop(id(ref), None)


def _layer(W, b, alive):
    def layer(x):
        alive.calls += 1
        y = _np.tanh(W @ _asarray(x, dtype=_float64) + b)
        residual = 1.0 - y * y            # a copy: the VJP does not keep y alive

        def vjp(g):
            return W.T @ (_asarray(g, dtype=_float64) * residual)
        alive.track(y)
        alive.track(vjp)
        alive.peak = max(alive.peak, alive.alive)
        return y, vjp
    return layer


def _chain_reference(Ws, bs, x, g):
    import minigrad as mg
    import minigrad.numpy as mnp

    def f(x):
        for W, b in zip(Ws, bs):
            x = mnp.tanh(W @ x + b)
        return x
    _, pullback = mg.vjp(f, x)
    return _as_array(pullback(g)[0], "minigrad's reference")


def check_checkpointed_vjp(checkpointed_vjp, seed=None):
    """checkpointed_vjp(layers, x, g, segment): the chain's VJP, storing O(n/segment + segment)."""
    rng = _Rng(_seed(seed))
    cases = [(12, 4), (13, 5)] if seed is not None else [
        (1, 1), (6, 1), (6, 6), (12, 4), (13, 4), (13, 5), (40, 6), (64, 8)]
    for n, segment in cases:
        d = 1 + int(rng.integers(3))
        Ws = [rng.standard_normal((d, d)) * (1.5 / _math.sqrt(d)) for _ in range(n)]
        bs = [0.3 * rng.standard_normal(d) for _ in range(n)]
        x, g = rng.standard_normal(d), rng.standard_normal(d)
        where = f"checkpointed_vjp on a chain of {n} layers in segments of {segment} (x: ({d},))"

        def call(Ws=Ws, bs=bs, x=x, g=g, segment=segment):
            alive = _Alive()
            layers = [_layer(W, b, alive) for W, b in zip(Ws, bs)]
            out = checkpointed_vjp(layers, _copy(x), _copy(g), segment)
            return out, alive.peak, alive.calls

        got, peak, calls = _call_student(where, call)
        want = _chain_reference(Ws, bs, x, g)
        arr = _as_array(got, where)
        if arr.shape != want.shape:
            raise GradingError(f"{where} returned shape {_shape_str(arr.shape)}; the cotangent "
                               f"of x has x's shape {_shape_str(want.shape)}.")
        if not _close(arr, want, _RTOL * 100, _ATOL):
            raise GradingError(
                f"{_explain_values(where, arr, want)} Each segment must start again from its "
                f"own checkpoint (the input of its first layer) and pull the cotangent back "
                f"through its layers from last to first.")
        checkpoints = -(-n // segment)
        budget = checkpoints + segment + 3
        if int(peak) > budget:
            raise GradingError(
                f"{where}: the gradient is right, but {int(peak)} layer outputs and VJPs were "
                f"alive at once. Checkpointing keeps about {checkpoints} checkpoints and the "
                f"{segment} VJPs of one segment (at most {budget} here): in the forward pass "
                f"keep only each segment's input and drop the layers' VJPs; recompute one "
                f"segment at a time in the backward pass, and let its VJPs go when it is done.")
        if int(calls) > 2 * n:
            raise GradingError(
                f"{where}: the gradient is right and the memory small, but the layers ran "
                f"{int(calls)} times. Checkpointing runs each layer twice at most (once in the "
                f"forward pass, once when its segment is recomputed): {2 * n} calls here. "
                f"Recompute a segment from its checkpoint, not from the chain's input.")
