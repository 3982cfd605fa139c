"""minigrad.numpy: the numpy functions minigrad can trace, under numpy's own names.

    import minigrad.numpy as mnp
    def f(x):
        return mnp.sum(mnp.tanh(x) ** 2)

Traced values also support Python's operators (+ - * / ** @, unary minus, indexing,
comparisons) and array methods (.T, .sum(), .reshape(), ...). Calling plain numpy on a
traced value works for the functions listed here and fails with a clear message for the
others. Anything without a derivative (creating arrays, random numbers, comparisons) is
numpy's own function, re-exported.
"""

import numpy as _np

from ..forward import ForwardTrace as _ForwardTrace
from ..tracer import Box as _Box, Trace as _Trace
from . import jvps as _jvps, vjps as _vjps  # noqa: F401  (registers the rules)
from .primitives import (  # noqa: F401
    NO_DERIVATIVE, abs, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,
    argmax, argmin, argpartition, argsort, array, array_equal, allclose, asarray,
    broadcast_to, cbrt, ceil, clip, concatenate, cos, cosh, cumsum, deg2rad, diag, divide,
    dot, einsum, equal, exp, exp2, expand_dims, expm1, fabs, flip, floor, floor_divide, fmax,
    fmin, fmod, full_like, getitem, greater, greater_equal, hypot, isclose, isfinite, isinf,
    isnan, less, less_equal, log, log10, log1p, log2, logaddexp, logaddexp2, logical_and,
    logical_not, logical_or, matmul, max, maximum, mean, min, minimum, multiply, ndim,
    negative, nonzero, not_equal, ones_like, outer, power, prod, rad2deg, ravel, reciprocal,
    remainder, reshape, rint, round, shape, sign, sin, sinc, sinh, size, sqrt, square,
    squeeze, stack, std, subtract, sum, swapaxes, tan, tanh, tensordot, trace, transpose,
    trunc, untake, var, where, zeros_like)
from .composed import (  # noqa: F401
    array_split, atleast_1d, atleast_2d, atleast_3d, average, column_stack, cross, diff,
    dsplit, dstack, hsplit, hstack, inner, kron, moveaxis, partition, repeat, roll, rollaxis,
    row_stack, sort, split, take, take_along_axis, tile, tril, triu, vsplit, vstack)
from .primitives import astype as _astype
from .vjps import unbroadcast  # noqa: F401


def astype(x, dtype):
    """x in another floating precision (float32 <-> float64); its derivative comes back in
    x's. A cast to integers or booleans would cut a traced value out of the derivative,
    so it is refused."""
    dtype = _np.dtype(dtype)
    if dtype.kind != "f":
        if not isinstance(x, _Box):
            return _np.asarray(x).astype(dtype)
        raise TypeError(
            f"astype({dtype.name}) of a traced value would cut it out of the derivative "
            "(its derivative is zero wherever it has one). To round, use mnp.round / "
            "mnp.floor (derivative zero) on purpose; to change precision, cast to a "
            "floating dtype.")
    return _astype(x, dtype)



true_divide = divide
absolute, amax, amin, mod, radians, degrees = abs, max, min, remainder, deg2rad, rad2deg
# Constants, dtypes and array constructors have no derivative to trace: numpy's own.
from numpy import (  # noqa: E402,F401
    arange, e, empty, eye, float32, float64, full, inf, int64, linspace, nan, newaxis,
    ones, pi, random, zeros)

# -- plain numpy called on traced values ------------------------------------------------
_TRACED = {name: obj for name, obj in globals().items()
           if not name.startswith("_") and callable(obj)}
_TRACED.update(absolute=abs, amax=max, amin=min, true_divide=divide, mod=remainder,
               radians=deg2rad, degrees=rad2deg)


# -- operators and methods of traced values ---------------------------------------------
class ArrayBox(_Box):
    """The boxes every trace makes: a `Box` that reads like a numpy array. Operators and
    methods are the primitives above (a primitive binds like a function, so `sum = sum`
    makes `x.sum(axis=0)` call `sum(x, axis=0)`)."""

    __slots__ = ()
    __hash__ = None     # like numpy arrays: == is elementwise, so not hashable

    __add__, __sub__, __mul__, __truediv__, __pow__ = add, subtract, multiply, divide, power
    __matmul__, __mod__, __floordiv__ = matmul, remainder, floor_divide
    __neg__, __abs__, __getitem__ = negative, abs, getitem
    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = (
        equal, not_equal, less, less_equal, greater, greater_equal)

    def __radd__(self, other):
        return add(other, self)

    def __rsub__(self, other):
        return subtract(other, self)

    def __rmul__(self, other):
        return multiply(other, self)

    def __rtruediv__(self, other):
        return divide(other, self)

    def __rpow__(self, other):
        return power(other, self)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __rmod__(self, other):
        return remainder(other, self)

    def __rfloordiv__(self, other):
        return floor_divide(other, self)

    def __pos__(self):
        return self

    sum, mean, prod, max, min, var, std, cumsum = sum, mean, prod, max, min, var, std, cumsum
    ravel, flatten, squeeze, swapaxes, dot, clip = ravel, ravel, squeeze, swapaxes, dot, clip
    repeat, take, round, trace = repeat, take, round, trace
    argmax, argmin, argsort = argmax, argmin, argsort

    @property
    def T(self):
        return transpose(self)

    def astype(self, dtype):
        return astype(self, dtype)

    def copy(self):
        """A traced value is never changed in place, so a copy is the value itself."""
        return self

    def reshape(self, *shape, **kwargs):
        return reshape(self, shape[0] if len(shape) == 1 else shape, **kwargs)

    def transpose(self, *axes):
        return transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    # plain numpy called on a traced value
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            raise TypeError(
                f"np.{ufunc.__name__}(..., out=...) writes into an array in place, which "
                "minigrad cannot differentiate. Use the returned value instead.")
        fun = _TRACED.get(ufunc.__name__)
        if method != "__call__" or fun is None:
            raise TypeError(
                f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} has no "
                f"derivative rule in minigrad. Use minigrad.numpy functions, or define your "
                f"own with @mg.primitive and mg.defvjp / mg.defjvp.")
        return fun(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        # numpy's own function of that name only: np.linalg.trace is not np.trace
        own = getattr(_np, func.__name__, None) is func
        fun = _TRACED.get(func.__name__) if own else None
        if fun is None:
            name = func.__module__.replace("numpy", "np", 1) + "." + func.__name__
            raise TypeError(
                f"{name} cannot be applied to a traced value: minigrad.numpy has "
                f"no rule for it. Use the minigrad.numpy functions (import minigrad.numpy as "
                f"mnp), or define it with @mg.primitive and mg.defvjp / mg.defjvp.")
        return fun(*args, **kwargs)

    def __getattr__(self, name):
        # Only for attributes a box lacks (x.item, x.tolist, x.fill): say so plainly.
        if name.startswith("_"):
            raise AttributeError(name)
        hint = f"mnp.{name}(x, ...)" if name in _TRACED else "minigrad.numpy functions"
        raise AttributeError(
            f"A traced value has no .{name}: minigrad gives traced values the array methods "
            f"it can differentiate only. Use {hint} instead, or define your own with "
            f"@mg.primitive and mg.defvjp / mg.defjvp.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A traced value was converted to a plain numpy array, which cuts it out of the "
            "derivative. Use minigrad.numpy functions on it (mnp.exp, mnp.sum, ...) instead "
            "of np.array / np.asarray or numpy functions minigrad does not wrap.")


_Trace.box_type = ArrayBox
_ForwardTrace.broadcast_to = staticmethod(broadcast_to)
