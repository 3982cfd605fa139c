"""Reductions over every axis choice, with and without keepdims."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

CASES = [((4,), None), ((4,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), 1),
         ((3, 4), -1), ((2, 3, 4), (0, 2)), ((1, 4), 0)]


FUNCTIONS = [mnp.sum, mnp.mean, mnp.prod, mnp.max, mnp.min, mnp.var, mnp.std]
# The spread (var, std) of a single element is constant, and std's derivative there 0/0.
REDUCTIONS = [(f, shape, axis) for f in FUNCTIONS for shape, axis in CASES
              if not (f in (mnp.var, mnp.std) and shape == (1, 4) and axis == 0)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("fun,shape,axis", REDUCTIONS,
                         ids=lambda v: getattr(v, "name", str(v)))
def test_reduction(fun, shape, axis, keepdims, rng):
    x = rng.standard_normal(shape)
    if fun is mnp.prod:
        x = np.sign(x) * (np.abs(x) + 0.5)
    mg.check_grads(lambda a: fun(a, axis=axis, keepdims=keepdims), (x,), order=2, seed=5)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumsum(axis, rng):
    mg.check_grads(lambda a: mnp.cumsum(a, axis=axis), (rng.standard_normal((3, 4)),), seed=6)


def test_var_with_ddof(rng):
    x = rng.standard_normal((5, 3))
    mg.check_grads(lambda a: mnp.var(a, axis=0, ddof=1), (x,), seed=7)
    mg.check_grads(lambda a: mnp.std(a, ddof=1), (x,), seed=7)


def test_methods(rng):
    x = rng.standard_normal((3, 4))
    mg.check_grads(lambda a: a.sum(axis=0) * a.mean() + a.max(axis=1, keepdims=True), (x,),
                   seed=8)
