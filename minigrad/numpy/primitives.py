"""The numpy functions minigrad can differentiate, listed one by one.

Each is a `Primitive` around the numpy function of the same name; its rules live in
`vjps.py` (reverse mode) and `jvps.py` (forward mode). The list is explicit on purpose:
wrapping numpy by reflection breaks when numpy changes, and a function missing from this
list should fail loudly rather than be differentiated wrongly.
"""
import numpy as np

from ..tracer import Box, Primitive, value_of

_ELEMENTWISE_UNARY = """negative exp log log1p expm1 log2 log10 sqrt square abs sin cos tan
    arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh""".split()
_ELEMENTWISE_BINARY = "add subtract multiply divide power maximum minimum".split()
_SHAPE = "reshape transpose swapaxes expand_dims squeeze ravel broadcast_to flip".split()
_REDUCTIONS = "sum mean prod max min var std cumsum".split()
_LINEAR_ALGEBRA = "matmul tensordot trace diag".split()
_OTHERS = "where clip".split()

for _name in (_ELEMENTWISE_UNARY + _ELEMENTWISE_BINARY + _SHAPE + _REDUCTIONS
              + _LINEAR_ALGEBRA + _OTHERS):
    globals()[_name] = Primitive(getattr(np, _name), name=_name)


@Primitive
def getitem(x, index):
    """x[index]: ints, slices, integer arrays and boolean masks."""
    return x[index]


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
def concatenate_args(axis, *arrays):
    """concatenate with the arrays as positional arguments, so each can be traced."""
    return np.concatenate(arrays, axis=axis)


def concatenate(arrays, axis=0):
    return concatenate_args(axis, *arrays)


def stack(arrays, axis=0):
    """Stacking is concatenating arrays that each got a new axis of length one."""
    arrays = list(arrays)
    axis = axis % (np.ndim(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)  # noqa: F821


@Primitive
def einsum_args(subscripts, *operands):
    return np.einsum(subscripts, *operands)


def einsum(subscripts, *operands):
    """einsum with explicit or implicit output; no '...' and no index repeated in one operand."""
    return einsum_args(_explicit_subscripts(subscripts), *operands)


def _explicit_subscripts(subscripts):
    subscripts = subscripts.replace(" ", "")
    if "." in subscripts:
        raise NotImplementedError("minigrad's einsum does not support '...'; name every axis.")
    inputs, _, output = subscripts.partition("->")
    if not _:
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for spec in inputs.split(","):
        if len(set(spec)) != len(spec):
            raise NotImplementedError(
                f"minigrad's einsum does not differentiate a repeated index inside one "
                f"operand ('{spec}'); use mnp.trace or mnp.diag for diagonals.")
    return f"{inputs}->{output}"


def dot(a, b):
    """numpy's dot: a sum over the last axis of `a` and the second-to-last of `b`."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(a, b)  # noqa: F821
    return tensordot(a, b, axes=([np.ndim(a) - 1], [max(np.ndim(b) - 2, 0)]))  # noqa: F821


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
    logical_not""".split()
for _name in NO_DERIVATIVE:
    globals()[_name] = _no_derivative(getattr(np, _name))
