"""Forward-mode rules: one `defjvp` per primitive.

`rule(t, ans, *args, **kwargs)` is the output tangent caused by tangent `t` of one
argument. Linear functions (sums, reshapes, indexing, products in one argument) have the
simplest rule of all: apply the same function to the tangent. Broadcasting needs nothing:
a contribution of a smaller shape is broadcast to the output's by the forward trace.
"""
import numpy as np

from ..forward import defjvp
from ..tracer import shape_of
from . import primitives as p
from .derivatives import (BINARY, REDUCTIONS, UNARY, clip_slopes, index_order, reduction_local,
                          reduction_options)


def _same_function(prim):
    """For a function linear in its first argument: the tangent goes through it too."""
    defjvp(prim, lambda t, ans, x, *args, **kw: prim(t, *args, **kw))


def _unary_rule(derivative):
    return lambda t, ans, x: t * derivative(ans, x)


def _binary_rule(derivative):
    return lambda t, ans, x, y: t * derivative(ans, x, y)


for _prim, _derivative in UNARY.items():
    defjvp(_prim, _unary_rule(_derivative))
for _prim, (_dx, _dy) in BINARY.items():
    defjvp(_prim, _binary_rule(_dx), _binary_rule(_dy))
defjvp(p.add, lambda t, ans, x, y: t, lambda t, ans, x, y: t)
defjvp(p.subtract, lambda t, ans, x, y: t, lambda t, ans, x, y: -t)
defjvp(p.where, None, lambda t, ans, c, x, y: p.where(c, t, 0.0),
       lambda t, ans, c, x, y: p.where(c, 0.0, t))


def _clip_rule(which):
    return lambda t, ans, x, lo, hi: p.where(clip_slopes(x, lo, hi)[which], t, 0.0)


defjvp(p.clip_bounds, _clip_rule(0), _clip_rule(1), _clip_rule(2))

defjvp(p.reshape, lambda t, ans, x, shape=None, order="C", **kw:
       p.reshape(t, shape_of(ans), order=index_order(x, order)))
defjvp(p.ravel, lambda t, ans, x, order="C": p.ravel(t, order=index_order(x, order)))
defjvp(p.astype, lambda t, ans, x, dtype: p.astype(t, dtype))
for _prim in (p.squeeze, p.expand_dims, p.broadcast_to, p.swapaxes,
              p.transpose, p.flip, p.getitem, p.untake, p.trace, p.diag):
    _same_function(_prim)


def _linear_reduction_rule(prim):
    def rule(t, ans, x, axis=None, *args, keepdims=False, **kwargs):
        reduction_options(prim, args, kwargs)
        return prim(t, axis) if prim is p.cumsum else prim(t, axis, keepdims=keepdims)
    return rule


for _prim in (p.sum, p.mean, p.cumsum):
    defjvp(_prim, _linear_reduction_rule(_prim))

defjvp(p.concatenate_args, rule_for=lambda i: None if i == 0 else _concatenate_rule(i))


def _concatenate_rule(position):
    """The tangent of one piece, with zeros where the other pieces go."""
    def rule(t, ans, axis, *arrays):
        pieces = [t if i == position - 1 else np.zeros(p.shape(a))
                  for i, a in enumerate(arrays)]
        return p.concatenate_args(axis, *pieces)
    return rule


def _reduction_rule(prim):
    """The tangent times d ans / d x, summed over the reduced axes."""
    def rule(t, ans, x, axis=None, *args, keepdims=False, ddof=0, **kwargs):
        reduction_options(prim, args, kwargs)
        d = reduction_local(prim, ans, x, axis, keepdims, ddof)
        return p.sum(t * d, axis=axis, keepdims=keepdims)
    return rule


for _prim in REDUCTIONS:
    defjvp(_prim, _reduction_rule(_prim))

# Products are linear in each factor: put the tangent in that factor's place.
defjvp(p.matmul, lambda t, ans, a, b: p.matmul(t, b), lambda t, ans, a, b: p.matmul(a, t))
defjvp(p.tensordot, lambda t, ans, a, b, axes=2: p.tensordot(t, b, axes=axes),
       lambda t, ans, a, b, axes=2: p.tensordot(a, t, axes=axes))
defjvp(p.einsum_args, rule_for=lambda i: None if i == 0 else _einsum_rule(i))


def _einsum_rule(position):
    def rule(t, ans, subscripts, *operands):
        operands = list(operands)
        operands[position - 1] = t
        return p.einsum_args(subscripts, *operands)
    return rule
