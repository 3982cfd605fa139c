"""Local derivatives, written once and used by both modes.

For an elementwise function the Jacobian is diagonal, so both modes multiply by the same
local derivative: reverse mode multiplies the cotangent (`vjps.py`), forward mode the
tangent (`jvps.py`). The same holds for the reductions below. Each entry receives values
that may themselves be traced, so they are written with minigrad.numpy functions.
"""
import numpy as np

from ..tracer import shape_of, value_of
from . import primitives as p

# d f(x) / dx, given ans = f(x) and x
UNARY = {
    p.negative: lambda ans, x: -1.0,
    p.exp: lambda ans, x: ans,
    p.log: lambda ans, x: 1.0 / x,
    p.log1p: lambda ans, x: 1.0 / (1.0 + x),
    p.expm1: lambda ans, x: ans + 1.0,
    p.log2: lambda ans, x: 1.0 / (x * np.log(2.0)),
    p.log10: lambda ans, x: 1.0 / (x * np.log(10.0)),
    p.sqrt: lambda ans, x: 0.5 / ans,
    p.square: lambda ans, x: 2.0 * x,
    p.abs: lambda ans, x: p.sign(x),
    p.sin: lambda ans, x: p.cos(x),
    p.cos: lambda ans, x: -p.sin(x),
    p.tan: lambda ans, x: 1.0 + ans * ans,
    p.arcsin: lambda ans, x: 1.0 / p.sqrt(1.0 - x * x),
    p.arccos: lambda ans, x: -1.0 / p.sqrt(1.0 - x * x),
    p.arctan: lambda ans, x: 1.0 / (1.0 + x * x),
    p.sinh: lambda ans, x: p.cosh(x),
    p.cosh: lambda ans, x: p.sinh(x),
    p.tanh: lambda ans, x: 1.0 - ans * ans,
    p.arcsinh: lambda ans, x: 1.0 / p.sqrt(x * x + 1.0),
    p.arccosh: lambda ans, x: 1.0 / p.sqrt(x * x - 1.0),
    p.arctanh: lambda ans, x: 1.0 / (1.0 - x * x),
}

# (d f / dx, d f / dy), given ans = f(x, y); broadcasting is handled by each mode.
# Where maximum or minimum tie, each argument gets half: the mean of the one-sided slopes.
BINARY = {
    p.multiply: (lambda ans, x, y: y, lambda ans, x, y: x),
    p.divide: (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y),
    p.power: (lambda ans, x, y: y * x ** (y - 1.0),
              lambda ans, x, y: ans * p.log(p.where(x == 0, 1.0, x))),
    p.maximum: (lambda ans, x, y: (x > y) + 0.5 * (x == y),
                lambda ans, x, y: (y > x) + 0.5 * (x == y)),
    p.minimum: (lambda ans, x, y: (x < y) + 0.5 * (x == y),
                lambda ans, x, y: (y < x) + 0.5 * (x == y)),
}


def inside_clip(x, lo=None, hi=None):
    """1 where clip passes x through, 0 where it holds x at a bound."""
    x = value_of(x)
    inside = np.ones(np.shape(x))
    if lo is not None:
        inside = inside * (x >= value_of(lo))
    if hi is not None:
        inside = inside * (x <= value_of(hi))
    return inside


def repeat_to_match(g, shape, axis, keepdims):
    """Broadcast a reduction's result (or cotangent) back over the axes it reduced."""
    if axis is not None and not keepdims:
        axes = [a % len(shape) for a in ((axis,) if np.isscalar(axis) else axis)]
        g = p.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return p.broadcast_to(g, shape)


def count(shape, axis):
    """How many elements each result of a reduction over `axis` summarises."""
    axes = range(len(shape)) if axis is None else ((axis,) if np.isscalar(axis) else axis)
    return int(np.prod([shape[a] for a in axes]))


def _extremum(ans_rep, x, axis, ddof):
    """Only the elements equal to the max (or min) move it; ties share equally."""
    hits = value_of(x) == value_of(ans_rep)
    return hits / np.sum(hits, axis=axis, keepdims=True)


def _centered(x, axis):
    return x - p.mean(x, axis=axis, keepdims=True)


# d ans / d x elementwise, given ans repeated to x's shape: local(ans_rep, x, axis, ddof)
REDUCTIONS = {
    p.prod: lambda ans_rep, x, axis, ddof: ans_rep / x,      # assumes no zero in x
    p.max: _extremum,
    p.min: _extremum,
    p.var: lambda ans_rep, x, axis, ddof:
        2.0 * _centered(x, axis) / (count(shape_of(x), axis) - ddof),
    p.std: lambda ans_rep, x, axis, ddof:
        _centered(x, axis) / ((count(shape_of(x), axis) - ddof) * ans_rep),
}


def reduction_local(prim, ans, x, axis, keepdims, ddof):
    return REDUCTIONS[prim](repeat_to_match(ans, shape_of(x), axis, keepdims), x, axis, ddof)
