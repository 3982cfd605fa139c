"""Reverse-mode rules: one `defvjp` per primitive.

A maker runs once in the forward pass, `maker(ans, *args, **kwargs)`, and returns the
closure `g -> cotangent`. Every rule is written with minigrad.numpy functions, so that the
backward pass can itself be traced: that is all higher derivatives need.
"""
import numpy as np

from ..reverse import defvjp
from ..tracer import shape_of, value_of
from . import primitives as p
from .derivatives import (BINARY, REDUCTIONS, UNARY, clip_slopes, count, index_order,
                          reduction_local, reduction_options, repeat_to_match)
from .primitives import (broadcast_to, expand_dims, flip, getitem, matmul, reshape,
                         swapaxes, tensordot, transpose, untake)


def unbroadcast(x, g):
    """Sum cotangent `g` down to the shape of `x`.

    If `x` was broadcast in the forward pass (a (4,) row added to every row of a (3, 4)
    array), each of its elements was used several times, and its cotangent is the sum of
    the cotangents of all those uses: over the leading axes numpy added, and over the axes
    where `x` had length 1.
    """
    return sum_to_shape(g, shape_of(x))


def sum_to_shape(g, shape):
    """`unbroadcast` given only the shape. Rules keep shapes rather than arrays in their
    closures, so the forward pass's intermediate arrays are freed as soon as possible."""
    g_shape = shape_of(g)
    if g_shape == shape:
        return g
    extra = len(g_shape) - len(shape)
    if extra > 0:
        g = p.sum(g, axis=tuple(range(extra)))
        g_shape = g_shape[extra:]
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g_shape[i] != 1)
    if stretched:
        g = p.sum(g, axis=stretched, keepdims=True)
    return g


# -- elementwise: the Jacobian is diagonal, so the VJP is the cotangent times the local
#    derivative, elementwise; for two arguments, then summed back over broadcasting.
def _unary_maker(derivative):
    def maker(ans, x):
        d = derivative(ans, x)
        return lambda g: g * d
    return maker


def _binary_maker(derivative, which):
    def maker(ans, x, y):
        d = derivative(ans, x, y)
        shape = shape_of((x, y)[which])
        return lambda g: sum_to_shape(g * d, shape)
    return maker


def _pass_back(which, negate=False):
    """add and subtract pass the cotangent back unchanged (or negated)."""
    def maker(ans, x, y):
        shape = shape_of((x, y)[which])
        return (lambda g: sum_to_shape(-g, shape)) if negate else (
            lambda g: sum_to_shape(g, shape))
    return maker


def _where_maker(which):
    """Each branch gets the cotangent where it was chosen, zero elsewhere."""
    def maker(ans, c, x, y):
        shape = shape_of((x, y)[which])
        if which == 0:
            return lambda g: sum_to_shape(p.where(c, g, 0.0), shape)
        return lambda g: sum_to_shape(p.where(c, 0.0, g), shape)
    return maker


for _prim, _derivative in UNARY.items():
    defvjp(_prim, _unary_maker(_derivative))
for _prim, (_dx, _dy) in BINARY.items():
    defvjp(_prim, _binary_maker(_dx, 0), _binary_maker(_dy, 1))
defvjp(p.add, _pass_back(0), _pass_back(1))
defvjp(p.subtract, _pass_back(0), _pass_back(1, negate=True))
defvjp(p.where, None, _where_maker(0), _where_maker(1))


def _clip_maker(which):
    def maker(ans, x, lo, hi):
        slope, shape = clip_slopes(x, lo, hi)[which], shape_of((x, lo, hi)[which])
        return lambda g: sum_to_shape(p.where(slope, g, 0.0), shape)
    return maker


defvjp(p.clip_bounds, _clip_maker(0), _clip_maker(1), _clip_maker(2))


# -- shapes: the cotangent is rearranged back into the argument's layout.
def _reshape_back(ans, x, *args, **kwargs):
    shape = shape_of(x)
    return lambda g: reshape(g, shape)


def _reshape_maker(ans, x, shape=None, order="C", **kwargs):
    """Reading x in one order and writing it in the same order is undone the same way."""
    order, shape = index_order(x, order), shape_of(x)
    return lambda g: reshape(g, shape, order=order)


def _ravel_maker(ans, x, order="C"):
    order, shape = index_order(x, order), shape_of(x)
    return lambda g: reshape(g, shape, order=order)


def _sum_back(ans, x, *args, **kwargs):
    shape = shape_of(x)
    return lambda g: sum_to_shape(g, shape)


for _prim in (p.squeeze, p.expand_dims):
    defvjp(_prim, _reshape_back)
defvjp(p.reshape, _reshape_maker)
defvjp(p.ravel, _ravel_maker)
defvjp(p.broadcast_to, _sum_back)
defvjp(p.swapaxes, lambda ans, x, axis1, axis2: lambda g: swapaxes(g, axis1, axis2))
defvjp(p.flip, lambda ans, x, axis=None: lambda g: flip(g, axis))
def _astype_maker(ans, x, dtype):
    back = np.result_type(value_of(x))          # the input's precision
    return lambda g: p.astype(g, back)


defvjp(p.astype, _astype_maker)
def _getitem_maker(ans, x, index):
    shape = shape_of(x)
    return lambda g: untake(g, index, shape)


defvjp(p.getitem, _getitem_maker)
defvjp(p.untake, lambda ans, g, index, shape: lambda gg: getitem(gg, index))


def _transpose_maker(ans, x, axes=None):
    inverse = None if axes is None else tuple(
        int(i) for i in np.argsort([a % np.ndim(x) for a in np.atleast_1d(axes)]))
    return lambda g: transpose(g, inverse)


defvjp(p.transpose, _transpose_maker)


def _concatenate_maker(position):
    def maker(ans, axis, *arrays):
        start = sum(shape_of(a)[axis] for a in arrays[:position - 1])
        stop = start + shape_of(arrays[position - 1])[axis]
        index = (slice(None),) * (axis % np.ndim(ans)) + (slice(start, stop),)
        return lambda g: getitem(g, index)
    return maker


defvjp(p.concatenate_args, rule_for=lambda i: None if i == 0 else _concatenate_maker(i))


# -- reductions: each element receives the cotangent of the result it went into.
def _reduction_maker(prim):
    def maker(ans, x, axis=None, *args, keepdims=False, ddof=0, **kwargs):
        reduction_options(prim, args, kwargs)
        shape = shape_of(x)
        d = reduction_local(prim, ans, x, axis, keepdims, ddof)
        return lambda g: repeat_to_match(g, shape, axis, keepdims) * d
    return maker


def _sum_maker(ans, x, axis=None, *args, keepdims=False, **kwargs):
    reduction_options(p.sum, args, kwargs)
    shape = shape_of(x)
    return lambda g: repeat_to_match(g, shape, axis, keepdims)


def _mean_maker(ans, x, axis=None, *args, keepdims=False, **kwargs):
    reduction_options(p.mean, args, kwargs)
    shape = shape_of(x)
    return lambda g: repeat_to_match(g, shape, axis, keepdims) / count(shape, axis)


defvjp(p.sum, _sum_maker)
defvjp(p.mean, _mean_maker)
for _prim in REDUCTIONS:
    defvjp(_prim, _reduction_maker(_prim))


def _cumsum_maker(ans, x, axis=None, *args, **kwargs):
    """Element i of x appears in every partial sum from i on: a reversed cumulative sum."""
    reduction_options(p.cumsum, args, kwargs)
    shape = shape_of(x)
    if axis is None or shape == ():
        return lambda g: reshape(flip(p.cumsum(flip(g))), shape)
    return lambda g: flip(p.cumsum(flip(g, axis), axis=axis), axis)


defvjp(p.cumsum, _cumsum_maker)


# -- linear algebra
def _matmul_maker(which):
    """Treat a vector as a one-row (left) or one-column (right) matrix, then the usual
    g @ B^T and A^T @ g, summed over broadcast batch axes."""
    def maker(ans, a, b):
        if np.ndim(a) == 2 and np.ndim(b) == 2:      # plain matrices: the common case
            other_t = transpose(b) if which == 0 else transpose(a)
            return (lambda g: matmul(g, other_t)) if which == 0 else (
                lambda g: matmul(other_t, g))

        def vjp(g):
            a2 = reshape(a, (1, -1)) if np.ndim(a) == 1 else a
            b2 = reshape(b, (-1, 1)) if np.ndim(b) == 1 else b
            if np.ndim(b) == 1:
                g = expand_dims(g, -1)
            if np.ndim(a) == 1:
                g = expand_dims(g, -2)
            if which == 0:
                return reshape(unbroadcast(a2, matmul(g, swapaxes(b2, -1, -2))), shape_of(a))
            return reshape(unbroadcast(b2, matmul(swapaxes(a2, -1, -2), g)), shape_of(b))
        return vjp
    return maker


defvjp(p.matmul, _matmul_maker(0), _matmul_maker(1))


def normalize_tensordot_axes(a_ndim, b_ndim, axes):
    if np.isscalar(axes):
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if np.isscalar(a_axes) else list(a_axes)
    b_axes = [b_axes] if np.isscalar(b_axes) else list(b_axes)
    return [i % a_ndim for i in a_axes], [i % b_ndim for i in b_axes]


def _tensordot_maker(which):
    """Contract the cotangent with the *other* operand over that operand's free axes,
    then put the result's axes back in this operand's order."""
    def maker(ans, a, b, axes=2):
        a_axes, b_axes = normalize_tensordot_axes(np.ndim(a), np.ndim(b), axes)
        a_free = [i for i in range(np.ndim(a)) if i not in a_axes]
        b_free = [i for i in range(np.ndim(b)) if i not in b_axes]
        n_a = len(a_free)
        if which == 0:
            order = a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
            return lambda g: transpose(
                tensordot(g, b, axes=(list(range(n_a, n_a + len(b_free))), b_free)),
                tuple(np.argsort(order)))
        order = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free
        return lambda g: transpose(
            tensordot(a, g, axes=(a_free, list(range(n_a)))), tuple(np.argsort(order)))
    return maker


defvjp(p.tensordot, _tensordot_maker(0), _tensordot_maker(1))


def _einsum_maker(position):
    """The cotangent of operand i: the same product with operand i swapped for g and the
    output's subscripts swapped for operand i's. Three details make that exact:
    an axis only operand i has was summed, so g is broadcast along it; an index repeated
    in operand i (a diagonal) receives g on that diagonal only; and an axis of length 1
    that numpy broadcast against a longer one is summed back down."""
    def maker(ans, subscripts, *operands):
        inputs, output = subscripts.split("->")
        specs = inputs.split(",")
        mine = specs[position - 1]
        others = specs[:position - 1] + specs[position:]
        ops_others = operands[:position - 1] + operands[position:]
        shape = shape_of(operands[position - 1])
        present = set("".join(others) + output)
        # Each repeated letter gets a fresh name and an identity matrix tying it to the
        # first; each letter summed only here gets a vector of ones to broadcast along.
        spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     if c not in subscripts)
        renamed, extra_specs, extra_ops, seen = "", [], [], set()
        for c, n in zip(mine, shape):
            if c in seen:
                fresh = next(spare)
                extra_specs.append(c + fresh)
                extra_ops.append(np.eye(n))
                renamed += fresh
                continue
            seen.add(c)
            renamed += c
            if c not in present:
                extra_specs.append(c)
                extra_ops.append(np.ones(n))
        spec = ",".join([output] + others + extra_specs) + "->" + renamed
        simple = not extra_specs

        def vjp(g):
            ct = p.einsum_args(spec, g, *ops_others, *extra_ops)
            if simple and shape_of(ct) == shape:
                return ct
            ct = sum_to_shape(ct, shape)              # length 1 here, longer elsewhere
            return ct if shape_of(ct) == shape else broadcast_to(ct, shape)   # the reverse
        return vjp
    return maker


defvjp(p.einsum_args, rule_for=lambda i: None if i == 0 else _einsum_maker(i))


def _trace_maker(ans, x, offset=0, axis1=0, axis2=1):
    """g on the diagonal of axes axis1 and axis2 (built as the first two, then moved back
    to their places), zero elsewhere."""
    shape = shape_of(x)
    axes = [axis1 % len(shape), axis2 % len(shape)]
    rest = [i for i in range(len(shape)) if i not in axes]
    eye = np.eye(shape[axes[0]], shape[axes[1]], k=offset).reshape(
        (shape[axes[0]], shape[axes[1]]) + (1,) * len(rest))
    back = tuple(int(i) for i in np.argsort(axes + rest))
    return lambda g: transpose(eye * expand_dims(expand_dims(g, 0), 0), back)


defvjp(p.trace, _trace_maker)


def _diag_maker(ans, x, k=0):
    if np.ndim(x) == 1:
        return lambda g: p.diag(g, k)          # built a matrix: read its diagonal back
    n, m = shape_of(x)
    rows = np.arange(max(0, -k), min(n, m - k))
    index = (rows, rows + k)
    return lambda g: untake(g, index, (n, m))  # read a diagonal: put g back on it


defvjp(p.diag, _diag_maker)
