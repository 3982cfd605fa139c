"""numpy functions that need no derivative rules of their own.

Each is written with minigrad's primitives (indexing, reshape, transpose, concatenate,
products), so both modes and every higher order differentiate it through the rules of
those primitives: a sort is indexing with the order the values give, a split is slicing,
a Kronecker product is a broadcast multiply. Nothing here can disagree with the
primitives' rules, and the index work (argsort, where the pieces start) is done on the
plain values, where it has derivative zero.
"""
import builtins

import numpy as np

from ..tracer import value_of
from . import primitives as p


def _axis(axis, ndim):
    """axis as a non-negative position; a 0-d array counts as having axis 0, as numpy's
    take and repeat let it."""
    if not -builtins.max(ndim, 1) <= axis < builtins.max(ndim, 1):
        raise np.exceptions.AxisError(axis, ndim)
    return axis % builtins.max(ndim, 1)


def _along_axis(a, axis):
    """The axis sort, partition and take_along_axis work along: numpy gives a 0-d array none."""
    if np.ndim(a) == 0:
        raise np.exceptions.AxisError(axis, 0)
    return _axis(axis, np.ndim(a))


# -- axes and dimensions --------------------------------------------------------------
def moveaxis(a, source, destination):
    ndim = np.ndim(a)
    source = [source] if np.isscalar(source) else list(source)
    destination = [destination] if np.isscalar(destination) else list(destination)
    source = [_axis(s, ndim) for s in source]
    destination = [_axis(d, ndim) for d in destination]
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number "
                         "of elements")
    if len(set(source)) < len(source) or len(set(destination)) < len(destination):
        raise ValueError("repeated axis in `source` or `destination` argument")
    order = [i for i in range(ndim) if i not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return p.transpose(a, tuple(order))


def rollaxis(a, axis, start=0):
    ndim = np.ndim(a)
    axis, start = _axis(axis, ndim), start + ndim if start < 0 else start
    if not 0 <= start <= ndim:
        raise np.exceptions.AxisError(f"rollaxis: start must be in [{-ndim}, {ndim}]")
    return moveaxis(a, axis, start - 1 if start > axis else start)


def atleast_1d(*arys):
    out = [a if np.ndim(a) >= 1 else p.reshape(a, (1,)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = []
    for a in arys:
        shape = np.shape(a)
        out.append(a if len(shape) >= 2 else p.reshape(a, (1,) * (2 - len(shape)) + shape))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """numpy's rule: (n,) becomes (1, n, 1) and (m, n) becomes (m, n, 1)."""
    out = []
    for a in arys:
        shape = np.shape(a)
        new = {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}.get(len(shape), shape)
        out.append(a if new == shape else p.reshape(a, new))
    return out[0] if len(out) == 1 else out


# -- selecting and reordering entries ---------------------------------------------------
def take(a, indices, axis=None):
    axis = None if axis is None else _axis(axis, np.ndim(a))
    if axis is None or np.ndim(a) == 0:         # numpy reads a 0-d array as shape (1,)
        return p.getitem(p.ravel(a), np.asarray(indices))
    return p.getitem(a, (slice(None),) * axis + (np.asarray(indices),))


def take_along_axis(arr, indices, axis):
    """arr[..., indices[..., i, ...], ...]: an integer index on `axis`, open ranges on
    the others, all broadcast together."""
    if axis is None:
        return p.getitem(p.ravel(arr), np.asarray(indices))
    indices = np.asarray(indices)
    ndim = np.ndim(arr)
    axis = _along_axis(arr, axis)
    index = []
    for i in range(ndim):
        if i == axis:
            index.append(indices)
        else:
            shape = [1] * ndim
            shape[i] = np.shape(arr)[i]
            index.append(np.arange(np.shape(arr)[i]).reshape(shape))
    return p.getitem(arr, tuple(index))


def sort(a, axis=-1, kind=None, order=None):
    """The entries in sorted order: indexing by the permutation that sorts the values.
    Each entry's derivative travels with it (ties are ordered as numpy orders them)."""
    if axis is None:
        a, axis = p.ravel(a), 0
    axis = _along_axis(a, axis)
    order_ = np.argsort(value_of(a), axis=axis, kind=kind or "stable")
    return take_along_axis(a, order_, axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        a, axis = p.ravel(a), 0
    axis = _along_axis(a, axis)
    return take_along_axis(a, np.argpartition(value_of(a), kth, axis=axis), axis)


def repeat(a, repeats, axis=None):
    axis = None if axis is None else _axis(axis, np.ndim(a))
    if axis is None or np.ndim(a) == 0:
        a, axis = p.ravel(a), 0
    return take(a, np.repeat(np.arange(np.shape(a)[axis]), repeats), axis=axis)


def roll(a, shift, axis=None):
    if axis is None:
        return p.reshape(roll(p.ravel(a), shift, 0), np.shape(a))
    shifts = [shift] if np.isscalar(shift) else list(shift)
    axes = [axis] if np.isscalar(axis) else list(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    for s, ax in zip(shifts, axes):
        n = np.shape(a)[ax]
        a = take(a, (np.arange(n) - s) % n, axis=ax)
    return a


def tile(A, reps):
    """Copies of A side by side: A with a length-1 axis before each of its axes, broadcast
    to `reps` along those new axes, then merged in pairs."""
    reps = (reps,) if np.isscalar(reps) else tuple(reps)
    ndim = builtins.max(len(reps), np.ndim(A))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - np.ndim(A)) + np.shape(A)
    interleaved = p.reshape(A, tuple(x for n in shape for x in (1, n)))
    big = p.broadcast_to(interleaved, tuple(x for r, n in zip(reps, shape) for x in (r, n)))
    return p.reshape(big, tuple(r * n for r, n in zip(reps, shape)))


def tril(m, k=0):
    mask = np.tri(*np.shape(m)[-2:], k=k, dtype=bool)     # a vector: numpy's (n, n)
    return p.where(mask, m, 0.0)


def triu(m, k=0):
    mask = ~np.tri(*np.shape(m)[-2:], k=k - 1, dtype=bool)
    return p.where(mask, m, 0.0)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    axis = _axis(axis, np.ndim(a))
    if prepend is not None or append is not None:
        pieces = []
        for extra in (prepend, None, append):
            if extra is None:
                continue
            shape = list(np.shape(a))
            shape[axis] = 1
            pieces.append(p.broadcast_to(extra, tuple(shape)) if np.ndim(extra) == 0
                          else extra)
        pieces = ([pieces.pop(0)] if prepend is not None else []) + [a] + pieces
        a = p.concatenate(pieces, axis=axis)
    before = (slice(None),) * axis
    for _ in range(n):
        a = p.getitem(a, before + (slice(1, None),)) - p.getitem(a, before + (slice(None, -1),))
    return a


# -- splitting and joining ----------------------------------------------------------------
def array_split(ary, indices_or_sections, axis=0):
    length = np.shape(ary)[axis]
    if np.isscalar(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        size, extra = divmod(length, sections)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (sections - extra))
    else:
        bounds = [0] + list(indices_or_sections) + [length]
    before = (slice(None),) * _axis(axis, np.ndim(ary))
    return [p.getitem(ary, before + (slice(int(lo), int(hi)),))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    if np.isscalar(indices_or_sections) and np.shape(ary)[axis] % indices_or_sections:
        raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=1 if np.ndim(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    if np.ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


def dsplit(ary, indices_or_sections):
    if np.ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


def hstack(tup):
    arrays = [atleast_1d(a) for a in tup]
    return p.concatenate(arrays, axis=0 if np.ndim(arrays[0]) == 1 else 1)


def vstack(tup):
    return p.concatenate([atleast_2d(a) for a in tup], axis=0)


row_stack = vstack


def dstack(tup):
    return p.concatenate([atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    return p.concatenate([p.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in tup],
                         axis=1)


# -- products -------------------------------------------------------------------------------
def inner(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return p.multiply(a, b)
    return p.tensordot(a, b, axes=([np.ndim(a) - 1], [np.ndim(b) - 1]))


def kron(a, b):
    """Every entry of a times the whole of b: a with a length-1 axis after each of its
    axes, times b with a length-1 axis before each of its axes, merged in pairs."""
    ndim = builtins.max(np.ndim(a), np.ndim(b))
    sa = (1,) * (ndim - np.ndim(a)) + np.shape(a)
    sb = (1,) * (ndim - np.ndim(b)) + np.shape(b)
    wide_a = p.reshape(a, tuple(x for n in sa for x in (n, 1)))
    wide_b = p.reshape(b, tuple(x for n in sb for x in (1, n)))
    return p.reshape(p.multiply(wide_a, wide_b), tuple(m * n for m, n in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or the z component for 2-vectors) along an axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = np.shape(a)[-1], np.shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")

    def part(v, i, n):
        return p.getitem(v, (Ellipsis, i)) if i < n else 0.0
    a0, a1, a2 = (part(a, i, na) for i in range(3))
    b0, b1, b2 = (part(b, i, nb) for i in range(3))
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    out = p.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(out, -1, axisc)


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    if weights is None:
        result, total = p.mean(a, axis=axis, keepdims=keepdims), None
        if returned:
            total = np.broadcast_to(float(np.size(value_of(a)) / np.size(value_of(result))),
                                    np.shape(result))
    else:
        if np.shape(weights) != np.shape(a):
            shape = [1] * np.ndim(a)
            shape[_axis(axis, np.ndim(a))] = np.shape(a)[axis]
            weights = p.reshape(weights, tuple(shape))
        total = p.sum(p.broadcast_to(weights, np.shape(a)), axis=axis, keepdims=keepdims)
        result = p.sum(a * weights, axis=axis, keepdims=keepdims) / total
    return (result, total) if returned else result
