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
    p.exp2: lambda ans, x: ans * np.log(2.0),
    p.cbrt: lambda ans, x: 1.0 / (3.0 * ans * ans),
    p.reciprocal: lambda ans, x: -ans * ans,
    p.fabs: lambda ans, x: p.sign(x),
    p.deg2rad: lambda ans, x: np.pi / 180.0,
    p.rad2deg: lambda ans, x: 180.0 / np.pi,
    p.sinc: lambda ans, x: _sinc_slope(ans, x),
}


def _sinc_slope(ans, x):
    """sinc(x) = sin(pi x) / (pi x) has slope (cos(pi x) - sinc(x)) / x. Near 0 that is 0/0,
    so there its Taylor series is used: -(pi^2/3) x + (pi^4/30) x^3, right to rounding for
    |x| < 1e-3 and with the right derivatives at 0 for the rules of higher order."""
    near = np.abs(value_of(x)) < 1e-3
    safe = p.where(near, 1.0, x)
    series = x * (-np.pi ** 2 / 3.0 + (np.pi ** 4 / 30.0) * x * x)
    return p.where(near, series, (p.cos(np.pi * x) - ans) / safe)


def _power_slope(x, y):
    """d x**y / dx = y x**(y-1). x ** 0 is constant: its slope is 0, also at x = 0 (where
    0 * 0 ** -1 would be NaN). A constant exponent written as a Python number (the common
    `x ** 2`) is settled here once: no mask, and x ** 1 is not computed at all."""
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        if y == 0:
            return 0.0
        return 2.0 * x if y == 2 else y * x ** (y - 1)
    return y * x ** p.where(y == 0, 1.0, y - 1.0)


def _fmax_slopes(first):
    """fmax / fmin ignore a NaN argument: the other one passes through with slope 1."""
    pick = (lambda x, y: x > y) if first else (lambda x, y: x < y)

    def dx(ans, x, y):
        xv, yv = value_of(x), value_of(y)
        return np.where(np.isnan(yv), 1.0, pick(xv, yv) + 0.5 * (xv == yv))

    def dy(ans, x, y):
        xv, yv = value_of(x), value_of(y)
        return np.where(np.isnan(xv) & ~np.isnan(yv), 1.0, pick(yv, xv) + 0.5 * (xv == yv))
    return dx, dy

# (d f / dx, d f / dy), given ans = f(x, y); broadcasting is handled by each mode.
# Where maximum or minimum tie, each argument gets half: the mean of the one-sided slopes.
BINARY = {
    p.multiply: (lambda ans, x, y: y, lambda ans, x, y: x),
    p.divide: (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y),
    p.power: (lambda ans, x, y: _power_slope(x, y),
              lambda ans, x, y: ans * p.log(p.where(x == 0, 1.0, x))),
    p.maximum: (lambda ans, x, y: (x > y) + 0.5 * (x == y),
                lambda ans, x, y: (y > x) + 0.5 * (x == y)),
    p.minimum: (lambda ans, x, y: (x < y) + 0.5 * (x == y),
                lambda ans, x, y: (y < x) + 0.5 * (x == y)),
    p.fmax: _fmax_slopes(True),
    p.fmin: _fmax_slopes(False),
    # The quotient rounded down (toward zero for fmod) is constant between its jumps.
    p.remainder: (lambda ans, x, y: 1.0,
                  lambda ans, x, y: -np.floor(value_of(x) / value_of(y))),
    p.fmod: (lambda ans, x, y: 1.0, lambda ans, x, y: -np.trunc(value_of(x) / value_of(y))),
    p.arctan2: (lambda ans, x, y: y / (x * x + y * y), lambda ans, x, y: -x / (x * x + y * y)),
    p.hypot: (lambda ans, x, y: x / ans, lambda ans, x, y: y / ans),
    p.logaddexp: (lambda ans, x, y: p.exp(x - ans), lambda ans, x, y: p.exp(y - ans)),
    p.logaddexp2: (lambda ans, x, y: p.exp2(x - ans), lambda ans, x, y: p.exp2(y - ans)),
}


def clip_slopes(x, lo, hi):
    """clip(x, lo, hi) = minimum(maximum(x, lo), hi), as numpy computes it: the slope is 1
    for whichever of x, lo, hi the result is (x where it lies within the bounds, bounds
    included), 0 for the others."""
    x, lo, hi = value_of(x), value_of(lo), value_of(hi)
    above_lo = np.ones(np.shape(x), bool) if lo is None else x >= lo
    m = x if lo is None else np.maximum(x, lo)
    below_hi = np.ones(np.shape(m), bool) if hi is None else m <= hi
    return {0: above_lo & below_hi,
            1: None if lo is None else ~above_lo & below_hi,
            2: None if hi is None else ~below_hi}


def index_order(x, order):
    """The order ('C' or 'F') in which reshape / ravel read x: 'A' and 'K' depend on how x
    lies in memory, so the rules fix it once from the forward value."""
    if order in (None, "C", "F"):
        return order or "C"
    x = value_of(x)
    if order == "A":
        return "F" if np.isfortran(x) else "C"
    if order == "K" and (np.ndim(x) < 2 or x.flags.c_contiguous or x.flags.f_contiguous):
        return "C" if np.ndim(x) < 2 or x.flags.c_contiguous else "F"
    raise NotImplementedError(
        f"minigrad differentiates reshape / ravel with order 'C', 'F' or 'A' (and 'K' on "
        f"a contiguous array), not order={order!r} here.")


def reduction_options(prim, args, kwargs):
    """A reduction's options beyond axis, keepdims and ddof (initial=, where=, out=, or
    dtype given by position) change what it computes in ways the rules do not follow:
    they are refused rather than differentiated wrongly."""
    extra = ([f"{k}={v!r}" for k, v in kwargs.items() if v is not None]
             + [repr(a) for a in args if a is not None])
    if extra:
        raise NotImplementedError(
            f"minigrad differentiates {prim.name} with axis=, keepdims= (and ddof= for var "
            f"and std) only, not with {', '.join(extra)}: write the rest with mnp "
            f"functions (mnp.where for where=, + for initial=).")


def repeat_to_match(g, shape, axis, keepdims):
    """Broadcast a reduction's result (or cotangent) back over the axes it reduced."""
    if axis is not None and not keepdims and shape:     # numpy takes axis=0 for a 0-d x
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


def _product_of_others(ans_rep, x, axis, ddof):
    """d prod / d x_i is the product of the other entries: ans / x_i when no entry is zero.
    With zeros it is computed as it reads: for each i, the product of its slice with x_i
    replaced by 1 (n^2 work for slices of length n, paid only when a zero is there)."""
    if not np.any(value_of(x) == 0):
        return ans_rep / x
    shape = shape_of(x)
    axes = range(len(shape)) if axis is None else ((axis,) if np.isscalar(axis) else axis)
    axes = sorted(a % len(shape) for a in axes)
    kept = [a for a in range(len(shape)) if a not in axes]
    n = count(shape, axes)
    moved = p.transpose(x, kept + axes)
    rows = p.reshape(moved, tuple(shape[a] for a in kept) + (1, n))
    others = p.where(np.eye(n, dtype=bool), 1.0, rows)          # (..., n, n)
    local = p.reshape(p.prod(others, axis=-1), shape_of(moved))
    return p.transpose(local, tuple(int(i) for i in np.argsort(kept + axes)))


# d ans / d x elementwise, given ans repeated to x's shape: local(ans_rep, x, axis, ddof)
REDUCTIONS = {
    p.prod: _product_of_others,
    p.max: _extremum,
    p.min: _extremum,
    p.var: lambda ans_rep, x, axis, ddof:
        2.0 * _centered(x, axis) / (count(shape_of(x), axis) - ddof),
    p.std: lambda ans_rep, x, axis, ddof:
        _centered(x, axis) / ((count(shape_of(x), axis) - ddof) * ans_rep),
}


def reduction_local(prim, ans, x, axis, keepdims, ddof):
    return REDUCTIONS[prim](repeat_to_match(ans, shape_of(x), axis, keepdims), x, axis, ddof)
