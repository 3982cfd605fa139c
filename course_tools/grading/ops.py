"""The operations problem sets 2 and 3 ask rules for, defined with numpy alone, and the
shape classes their hidden checks enumerate on every run."""

import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package (see __init__).
__builtins__ = dict(vars(_builtins_module))

from ._core import (  # noqa: E402
    GradingError, _add_reduce, _exp, _log, _matmul, _max_reduce,
    _sqrt,
)

# ---------------------------------------------------------------------------------------
# The problem sets' operations, defined here with numpy alone
# ---------------------------------------------------------------------------------------

def _reduced_shape(shape, axis, keepdims):
    if axis is None:
        axes = tuple(range(len(shape)))
    else:
        axes = (axis % len(shape),)
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _linear(W, x, b):
    return _matmul(x, W.T) + b


def _sigmoid(x):
    # exp of a number with non-positive real part only: no overflow for large |x|, and
    # the same formula for complex x (the complex step below)
    pos = x.real >= 0
    e = _exp(x * (1.0 - 2.0 * pos))
    return pos * (1.0 / (1.0 + e)) + (1 - pos) * (e / (1.0 + e))


def _softmax(x, axis=-1):
    # the shift is a constant (the real part's maximum): it cancels exactly
    e = _exp(x - _max_reduce(x.real, axis=axis, keepdims=True))
    return e / _add_reduce(e, axis=axis, keepdims=True)


def _logsumexp(x, axis=-1, keepdims=False):
    m = _max_reduce(x.real, axis=axis, keepdims=True)
    out = _log(_add_reduce(_exp(x - m), axis=axis, keepdims=True)) + m
    return out.reshape(_reduced_shape(x.shape, axis, keepdims))


def _hypot(x, y):
    return _sqrt(x * x + y * y)


def _norm_op(x, axis=None, keepdims=False):
    s = _add_reduce(x * x, axis=axis, keepdims=True)
    return _sqrt(s).reshape(_reduced_shape(x.shape, axis, keepdims))


def _random_shape(rng, ndim, low=1, high=5):
    return tuple(int(d) for d in rng.integers(low, high + 1, size=ndim))


def _away_from_zero(rng, shape, low=0.4, high=2.0):
    """Values with |v| in [low, high]: keeps hypot and norm away from their kink at 0."""
    sign = rng.choice([-1.0, 1.0], size=shape)
    return sign * rng.uniform(low, high, size=shape)


# Hidden cases: every shape class on every run. Only the sizes (2 to 4 where an axis is
# not meant to be 1) and the values are drawn; the list of classes is fixed.

def _cases_linear(rng, visible):
    if visible:
        shapes = [(3, 4, 2)]  # m, n, batch
    else:
        # each of m, n and the batch either 1 or more, and a square case (k, k, k) where a
        # transposed product still has the right shape
        shapes = [tuple(1 if one else int(rng.integers(2, 6)) for one in ones)
                  for ones in [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]]
        k = int(rng.integers(2, 6))
        shapes.append((k, k, k))
    cases = []
    for m, n, batch in shapes:
        W = rng.standard_normal((m, n))
        x = rng.standard_normal((batch, n))
        b = rng.standard_normal((m,))
        cases.append(((W, x, b), {}))
    return cases


def _elementwise_shapes(rng):
    """Scalar, 1-d, 2-d, 3-d, and length-1 axes in every position."""
    a, b, c = _random_shape(rng, 3, 2, 4)
    return [(), (a,), (1,), (a, b), (1, b), (a, 1), (a, b, c), (1, b, c), (a, 1, c), (a, b, 1)]


def _cases_sigmoid(rng, visible):
    if visible:
        return [((2.0 * rng.standard_normal((3, 4)),), {})]
    cases = [((3.0 * rng.standard_normal(s),), {}) for s in _elementwise_shapes(rng)]
    # large inputs of both signs, where exp(-x) or exp(x) overflows
    cases.append(((_away_from_zero(rng, (2, 3), 20.0, 40.0),), {}))
    return cases


def _cases_softmax(rng, visible):
    if visible:
        return [((rng.standard_normal((2, 5)),), {})]
    return [((2.0 * rng.standard_normal(s),), {}) for s in _elementwise_shapes(rng) if s]


def _reduction_kinds():
    """(shape pattern, axis, keepdims): every axis of 1-d to 3-d arrays, negative and
    non-negative and None, with and without keepdims, each with all sizes above 1, with
    the reduced axis of length 1, and with another axis of length 1."""
    kinds = []
    for nd in (1, 2, 3):
        for axis in [None] + list(range(-nd, nd)):
            for keepdims in (False, True):
                kinds.append((nd, axis, keepdims, None))
                if axis is None:
                    kinds.append((nd, axis, keepdims, 0))
                    if nd > 1:
                        kinds.append((nd, axis, keepdims, nd - 1))
                else:
                    kinds.append((nd, axis, keepdims, axis % nd))
                    if nd > 1:
                        kinds.append((nd, axis, keepdims, (axis + 1) % nd))
    return kinds


def _cases_reduction(rng, visible, values):
    if visible:
        return [((values(rng, (3, 4)),), {"axis": -1, "keepdims": False})]
    cases = []
    for nd, axis, keepdims, one in _reduction_kinds():
        shape = list(_random_shape(rng, nd, 2, 4))
        if one is not None:
            shape[one] = 1
        cases.append(((values(rng, tuple(shape)),), {"axis": axis, "keepdims": keepdims}))
    return cases


def _cases_logsumexp(rng, visible):
    return _cases_reduction(rng, visible, lambda r, s: 2.0 * r.standard_normal(s))


def _cases_norm(rng, visible):
    return _cases_reduction(rng, visible, _away_from_zero)


def _broadcasting_pairs(rng):
    """Every way two shapes broadcast: the same shape; a scalar on either side; leading
    axes missing in either operand; a length-1 axis in each position of either operand;
    both operands broadcast; leading axes missing and a length-1 axis together."""
    out = _random_shape(rng, 3, 2, 4)
    a, b, c = out
    n = int(rng.integers(2, 5))
    pairs = [((n,), (n,)), ((), ()), (out, out), ((), out), (out, ()),
             (out[1:], out), (out[2:], out), (out, out[1:]), (out, out[2:])]
    for i in range(3):
        with_one = tuple(1 if j == i else d for j, d in enumerate(out))
        pairs += [(with_one, out), (out, with_one)]
    pairs += [((a, 1), (b,)), ((b,), (a, 1)), ((1, b), (a, 1)), ((a, 1, c), (b, 1)),
              ((1, c), out), (out, (1, c)), ((a, 1), (a, b)), ((a, b), (1, b))]
    return pairs


def _cases_hypot(rng, visible):
    if visible:
        pairs = [((3, 1), (4,))]
    else:
        pairs = _broadcasting_pairs(rng)
    return [((_away_from_zero(rng, a), _away_from_zero(rng, b)), {}) for a, b in pairs]


class _Op:
    def __init__(self, name, forward, argnames, cases, signature):
        self.name = name
        self.forward = forward
        self.argnames = argnames
        self.cases = cases
        self.signature = signature


OPS = {
    op.name: op
    for op in [
        _Op("linear", _linear, ("W", "x", "b"), _cases_linear, "linear(W, x, b) = x @ W.T + b"),
        _Op("sigmoid", _sigmoid, ("x",), _cases_sigmoid, "sigmoid(x) = 1 / (1 + exp(-x))"),
        _Op("softmax", _softmax, ("x",), _cases_softmax, "softmax(x) along the last axis"),
        _Op("logsumexp", _logsumexp, ("x",), _cases_logsumexp,
            "logsumexp(x, axis=-1, keepdims=False)"),
        _Op("hypot", _hypot, ("x", "y"), _cases_hypot, "hypot(x, y) = sqrt(x**2 + y**2), broadcasting"),
        _Op("norm", _norm_op, ("x",), _cases_norm, "norm(x, axis=None, keepdims=False)"),
    ]
}


def _op(name):
    if name not in OPS:
        raise GradingError(f"unknown operation {name!r}; known: {sorted(OPS)}")
    return OPS[name]
