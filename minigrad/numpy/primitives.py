"""The numpy functions minigrad can differentiate, listed one by one.

Each is a `Primitive` around the numpy function of the same name; its rules live in
`vjps.py` (reverse mode) and `jvps.py` (forward mode). The list is explicit on purpose:
wrapping numpy by reflection breaks when numpy changes, and a function missing from this
list should fail loudly rather than be differentiated wrongly.
"""
import builtins

import numpy as np

from ..tracer import Box, Primitive, value_of

_ELEMENTWISE_UNARY = """negative exp exp2 log log1p expm1 log2 log10 sqrt cbrt square
    reciprocal abs fabs sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh
    arctanh deg2rad rad2deg sinc""".split()
_ELEMENTWISE_BINARY = """add subtract multiply divide power maximum minimum fmax fmin
    remainder fmod arctan2 hypot logaddexp logaddexp2""".split()
_SHAPE = "reshape transpose swapaxes expand_dims squeeze ravel broadcast_to flip".split()
_REDUCTIONS = "sum mean prod max min var std cumsum".split()
_LINEAR_ALGEBRA = "matmul tensordot trace diag".split()
_OTHERS = ["where"]

for _name in (_ELEMENTWISE_UNARY + _ELEMENTWISE_BINARY + _SHAPE + _REDUCTIONS
              + _LINEAR_ALGEBRA + _OTHERS):
    globals()[_name] = Primitive(getattr(np, _name), name=_name)


@Primitive
def getitem(x, index):
    """x[index]: ints, slices, integer arrays and boolean masks."""
    return x[index]


@Primitive
def astype(x, dtype):
    """x.astype(dtype) for a floating dtype: the same numbers, another precision."""
    return np.asarray(x).astype(dtype)


@Primitive
def untake(g, index, shape):
    """The adjoint of indexing: an array of `shape`, zero except g added at `index`.

    `np.add.at` rather than assignment, because an integer index may repeat an element,
    and each repetition must add its own share of the cotangent.
    """
    out = np.zeros(shape, dtype=np.result_type(g, float))
    np.add.at(out, index, g)
    return out


@Primitive
def clip_bounds(x, lo, hi):
    """np.clip with its bounds as arguments, so that traced bounds are differentiated."""
    return np.clip(x, lo, hi)


clip_bounds.name = clip_bounds.__name__ = "clip"
_NOT_GIVEN = object()


def clip(a, a_min=_NOT_GIVEN, a_max=_NOT_GIVEN, *, min=_NOT_GIVEN, max=_NOT_GIVEN):
    """np.clip: the bounds by position, as a_min= / a_max=, or as min= / max=."""
    lo = a_min if a_min is not _NOT_GIVEN else (None if min is _NOT_GIVEN else min)
    hi = a_max if a_max is not _NOT_GIVEN else (None if max is _NOT_GIVEN else max)
    return clip_bounds(a, lo, hi)


@Primitive
def concatenate_args(axis, *arrays):
    """concatenate with the arrays as positional arguments, so each can be traced."""
    return np.concatenate(arrays, axis=axis)


def concatenate(arrays, axis=0):
    arrays = list(arrays)
    if axis is None:                    # numpy flattens every array first
        return concatenate_args(0, *[ravel(a) for a in arrays])  # noqa: F821
    return concatenate_args(axis, *arrays)


def stack(arrays, axis=0):
    """Stacking is concatenating arrays that each got a new axis of length one."""
    arrays = list(arrays)
    axis = axis % (np.ndim(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)  # noqa: F821


@Primitive
def einsum_args(subscripts, *operands):
    return np.einsum(subscripts, *operands)


def einsum(subscripts, *operands, optimize=False):
    """np.einsum with subscripts: implicit or explicit output, '...', repeated indices.
    `optimize` is accepted and left out: the order of contraction changes no value."""
    if not isinstance(subscripts, str):
        raise NotImplementedError(
            "minigrad's einsum takes its subscripts as a string ('ij,jk->ik'), not in "
            "numpy's interleaved form.")
    return einsum_args(_explicit_subscripts(subscripts, [np.ndim(o) for o in operands]),
                       *operands)


def _explicit_subscripts(subscripts, ndims):
    """The same contraction with '...' spelled out as letters and the output explicit,
    so that each rule can read off every axis."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    specs = inputs.split(",")
    if len(specs) != len(ndims):
        raise ValueError(f"einsum: '{subscripts}' names {len(specs)} operand(s) but "
                         f"{len(ndims)} were given.")
    unused = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
              if c not in subscripts]
    widths = [ndim - len(spec.replace("...", "")) if "..." in spec else 0
              for spec, ndim in zip(specs, ndims)]
    if builtins.min(widths, default=0) < 0:
        raise ValueError(f"einsum: '{subscripts}' names more axes than an operand has.")
    ellipsis = "".join(unused[:builtins.max(widths, default=0)])
    specs = [spec.replace("...", ellipsis[len(ellipsis) - w:] if w else "")
             for spec, w in zip(specs, widths)]
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(specs)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                           and c not in ellipsis))
    return ",".join(specs) + "->" + output


def dot(a, b):
    """numpy's dot: a sum over the last axis of `a` and the second-to-last of `b`."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(a, b)  # noqa: F821
    return tensordot(a, b, axes=([np.ndim(a) - 1], [builtins.max(np.ndim(b) - 2, 0)]))  # noqa: F821


def outer(a, b):
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))  # noqa: F821


def array(obj, dtype=None):
    """np.array that also assembles a (nested) list of traced scalars into a traced array."""
    if isinstance(obj, Box):
        return obj
    if isinstance(obj, (list, tuple)) and _contains_box(obj):
        return stack([array(item) for item in obj])
    return np.array(obj, dtype=dtype)


def asarray(obj, dtype=None):
    return obj if isinstance(obj, Box) else array(obj, dtype=dtype)


def _contains_box(obj):
    if isinstance(obj, Box):
        return True
    return isinstance(obj, (list, tuple)) and any(_contains_box(item) for item in obj)


def _no_derivative(np_fun):
    """Piecewise-constant functions (sign, floor, round, comparisons) have derivative zero
    wherever they have one, so they simply work on the plain values: the result is a
    constant as far as every trace is concerned."""
    def fun(*args, **kwargs):
        return np_fun(*[value_of(a) for a in args], **kwargs)
    fun.__name__ = np_fun.__name__
    fun.__doc__ = f"numpy.{np_fun.__name__} on plain values (derivative zero)."
    return fun


NO_DERIVATIVE = """sign floor ceil round rint trunc argmax argmin argsort greater greater_equal
    less less_equal equal not_equal isnan isinf isfinite allclose isclose array_equal
    zeros_like ones_like full_like shape ndim size nonzero logical_and logical_or
    logical_not floor_divide argpartition""".split()
for _name in NO_DERIVATIVE:
    globals()[_name] = _no_derivative(getattr(np, _name))
