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

from ..tracer import Box as _Box
from ..tracer import value_of as _value_of
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
from .vjps import unbroadcast  # noqa: F401

true_divide = divide
absolute, amax, amin, mod, radians, degrees = abs, max, min, remainder, deg2rad, rad2deg
# Constants, dtypes and array constructors have no derivative to trace: numpy's own.
from numpy import (  # noqa: E402,F401
    arange, e, empty, eye, float32, float64, full, inf, int64, linspace, nan, newaxis,
    ones, pi, random, zeros)

# -- operators and methods of traced values ---------------------------------------------


def _swap(fun):
    return lambda self, other: fun(other, self)


_OPERATORS = {
    "__add__": add, "__radd__": _swap(add), "__sub__": subtract, "__rsub__": _swap(subtract),
    "__mul__": multiply, "__rmul__": _swap(multiply), "__truediv__": divide,
    "__rtruediv__": _swap(divide), "__pow__": power, "__rpow__": _swap(power),
    "__matmul__": matmul, "__rmatmul__": _swap(matmul), "__neg__": negative,
    "__pos__": lambda self: self, "__abs__": abs, "__getitem__": getitem,
    "__eq__": equal, "__ne__": not_equal, "__lt__": less, "__le__": less_equal,
    "__gt__": greater, "__ge__": greater_equal,
    "__mod__": remainder, "__rmod__": _swap(remainder), "__floordiv__": floor_divide,
    "__rfloordiv__": _swap(floor_divide),
    "T": property(lambda self: transpose(self)),
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "var": var, "std": std,
    "cumsum": cumsum, "ravel": ravel, "squeeze": squeeze, "swapaxes": swapaxes,
    "dot": dot, "clip": clip, "flatten": ravel, "repeat": repeat, "take": take,
    "round": round, "argmax": argmax, "argmin": argmin, "argsort": argsort,
    "trace": trace,
    "reshape": lambda self, *shape, **kw: reshape(
        self, shape[0] if len(shape) == 1 else shape, **kw),
    "transpose": lambda self, *axes: transpose(
        self, (axes[0] if len(axes) == 1 else axes) or None),
}
for _name, _fun in _OPERATORS.items():
    if _fun is not None:
        setattr(_Box, _name, _fun)
_Box.__hash__ = None     # like numpy arrays: == is elementwise, so not hashable


# -- plain numpy called on traced values ------------------------------------------------
_TRACED = {name: obj for name, obj in globals().items()
           if not name.startswith("_") and callable(obj)}
_TRACED.update(absolute=abs, amax=max, amin=min, true_divide=divide, mod=remainder,
               radians=deg2rad, degrees=rad2deg)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if "out" in kwargs:
        raise TypeError(
            f"np.{ufunc.__name__}(..., out=...) writes into an array in place, which "
            "minigrad cannot differentiate. Use the returned value instead.")
    fun = _TRACED.get(ufunc.__name__)
    if method != "__call__" or fun is None:
        raise TypeError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} has no "
            f"derivative rule in minigrad. Use minigrad.numpy functions, or define your own "
            f"with @mg.primitive and mg.defvjp / mg.defjvp.")
    return fun(*inputs, **kwargs)


def _array_function(self, func, types, args, kwargs):
    fun = _TRACED.get(func.__name__)
    if fun is None:
        raise TypeError(
            f"np.{func.__name__} cannot be applied to a traced value: minigrad.numpy has "
            f"no rule for it. Use the minigrad.numpy functions (import minigrad.numpy as "
            f"mnp), or define it with @mg.primitive and mg.defvjp / mg.defjvp.")
    return fun(*args, **kwargs)


def _array(self, dtype=None, copy=None):
    raise TypeError(
        "A traced value was converted to a plain numpy array, which cuts it out of the "
        "derivative. Use minigrad.numpy functions on it (mnp.exp, mnp.sum, ...) instead of "
        "np.array / np.asarray or numpy functions minigrad does not wrap.")


_Box.__array_ufunc__ = _array_ufunc
_Box.__array_function__ = _array_function
_Box.__array__ = _array
