"""Elementwise primitives: every rule, both modes, to second order, over shapes."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from conftest import SHAPES

# function, a map from a standard normal sample into the function's smooth domain
UNARY = [
    (mnp.negative, None), (mnp.exp, None), (mnp.log, "positive"), (mnp.log1p, "positive"),
    (mnp.expm1, None), (mnp.log2, "positive"), (mnp.log10, "positive"),
    (mnp.sqrt, "positive"), (mnp.square, None), (mnp.abs, "away_from_zero"),
    (mnp.sin, None), (mnp.cos, None), (mnp.tan, "small"), (mnp.arcsin, "small"),
    (mnp.arccos, "small"), (mnp.arctan, None), (mnp.sinh, None), (mnp.cosh, None),
    (mnp.tanh, None), (mnp.arcsinh, None), (mnp.arccosh, "above_one"),
    (mnp.arctanh, "small"),
]
DOMAINS = {
    None: lambda z: z,
    "positive": lambda z: np.abs(z) + 0.5,
    "away_from_zero": lambda z: np.sign(z) * (np.abs(z) + 0.3) + (z == 0),
    "small": lambda z: 0.8 * np.tanh(z),
    "above_one": lambda z: np.abs(z) + 1.5,
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("fun,domain", UNARY, ids=lambda v: getattr(v, "name", str(v)))
def test_unary(fun, domain, shape, rng):
    x = DOMAINS[domain](rng.standard_normal(shape))
    mg.check_grads(fun, (x,), order=2, seed=1)


BINARY_SHAPES = [((), ()), ((4,), (4,)), ((3, 4), (3, 4)), ((3, 4), (1, 4)),
                 ((1, 4), (3, 1)), ((4,), (3, 4)), ((), (3, 4))]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("fun", [mnp.add, mnp.subtract, mnp.multiply, mnp.divide,
                                 mnp.power, mnp.maximum, mnp.minimum], ids=lambda f: f.name)
def test_binary_with_broadcasting(fun, shapes, rng):
    x = rng.standard_normal(shapes[0])
    y = rng.standard_normal(shapes[1])
    if fun in (mnp.divide, mnp.power):
        x, y = np.abs(x) + 0.5, np.abs(y) + 0.5
    mg.check_grads(fun, (x, y), order=2, seed=2)


def test_operators_match_functions(rng):
    x, y = rng.standard_normal((3, 4)), np.abs(rng.standard_normal(4)) + 0.5
    for op in [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
               lambda a, b: a / b, lambda a, b: b ** a, lambda a, b: -a + 2.0 * b,
               lambda a, b: 1.0 / b - a, lambda a, b: 2.0 ** a - b ** 2]:
        mg.check_grads(op, (x, y), order=2, seed=3)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_where_and_clip(shape, rng):
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    mask = rng.standard_normal(shape) > 0
    mg.check_grads(lambda a, b: mnp.where(mask, a, b), (x, y), seed=4)
    away = np.where(np.abs(x) < 0.2, 0.5, x)     # keep off the clip's kinks at +-0.1
    mg.check_grads(lambda a: mnp.clip(a, -0.1, 0.1) * a, (away,), seed=4)


def test_maximum_splits_ties_evenly():
    x = np.array([1.0, 2.0])
    gx, gy = mg.grad(lambda a, b: mnp.sum(mnp.maximum(a, b)), argnums=(0, 1))(x, x.copy())
    np.testing.assert_allclose(gx, [0.5, 0.5])
    np.testing.assert_allclose(gy, [0.5, 0.5])


def test_plain_numpy_calls_dispatch_to_minigrad(rng):
    x = rng.standard_normal((3, 4))
    g = mg.grad(lambda a: np.sum(np.exp(a) * np.tanh(a)))(x)
    np.testing.assert_allclose(g, np.exp(x) * (np.tanh(x) + 1 - np.tanh(x) ** 2))


def test_sign_floor_round_have_zero_derivative(rng):
    x = rng.standard_normal(5)
    for fun in (mnp.sign, mnp.floor, mnp.round):
        assert np.all(mg.grad(lambda a: mnp.sum(fun(a) * a))(x) == fun(x))


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, 0.5, 2.0, -2.5, np.float64(3.0)],
                         ids=repr)
def test_power_with_a_constant_exponent(exponent, rng):
    # x ** c with c a plain number takes its own path in the rule (no mask, x ** 1 not
    # computed): both modes, to third order, and x ** 0 has slope 0 also at x = 0.
    x = np.abs(rng.standard_normal((3, 4))) + 0.5
    mg.check_grads(lambda x: x ** exponent, (x,), order=3, seed=4)
    expected = exponent * x ** (exponent - 1) if exponent != 0 else np.zeros_like(x)
    np.testing.assert_allclose(mg.grad(lambda x: mnp.sum(x ** exponent))(x), expected)
    zero = np.zeros(3)
    if exponent == 0 or exponent >= 1:
        slope = mg.grad(lambda x: mnp.sum(x ** exponent))(zero)
        assert np.all(np.isfinite(slope)) and np.all(slope == (1.0 if exponent == 1 else 0.0))


def test_power_with_a_constant_exponent_keeps_float32(rng):
    x = (np.abs(rng.standard_normal(5)) + 0.5).astype(np.float32)
    for c in (2, 3, 0.5):
        g = mg.grad(lambda x: mnp.sum(x ** c))(x)
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, c * x.astype(float) ** (c - 1), rtol=1e-5)
        assert mg.jvp(lambda x: x ** c, (x,), (np.ones_like(x),))[1].dtype == np.float32
