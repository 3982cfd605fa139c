"""check_grads: silent on right rules, loud and specific on wrong ones.

The wrong rules below are written the way a student would write them, with
``@mg.primitive`` and ``mg.defvjp`` / ``mg.defjvp``: each is right except for one
mistake, and the checker has to catch that mistake for every random seed.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

SEEDS = range(25)


def _softmax_cross_entropy(logits, labels):
    shifted = logits - mnp.max(logits, axis=1, keepdims=True)
    log_probs = shifted - mnp.log(mnp.sum(mnp.exp(shifted), axis=1, keepdims=True))
    return -mnp.mean(mnp.sum(labels * log_probs, axis=1))


def _softmax(x):
    e = mnp.exp(x - mnp.max(x, axis=-1, keepdims=True))
    return e / mnp.sum(e, axis=-1, keepdims=True)


# name -> (function, argument maker); arguments are drawn from the seed's generator and
# kept away from kinks and domain edges.
RIGHT = {
    "tanh": (lambda x: mnp.tanh(x), lambda r: (r.standard_normal((3, 4)),)),
    "exp_sum": (lambda x: mnp.sum(mnp.exp(x) * x), lambda r: (r.standard_normal(5),)),
    "log_positive": (lambda x: mnp.log(x), lambda r: (r.uniform(0.5, 2.0, (4,)),)),
    "scalar_input": (lambda x: mnp.sin(x) * x ** 2, lambda r: (float(r.standard_normal()),)),
    "matmul_square": (lambda a, b: a @ b,
                      lambda r: (r.standard_normal((3, 3)), r.standard_normal((3, 3)))),
    "matmul_rect": (lambda a, b: mnp.tanh(a @ b),
                    lambda r: (r.standard_normal((2, 3)), r.standard_normal((3, 4)))),
    "broadcast_add": (lambda x, b: mnp.tanh(x + b),
                      lambda r: (r.standard_normal((3, 4)), r.standard_normal((1, 4)))),
    "broadcast_mul": (lambda x, w: x * w,
                      lambda r: (r.standard_normal((3, 4)), r.standard_normal(4))),
    "scalar_times_array": (lambda s, x: mnp.exp(s * x),
                           lambda r: (float(r.uniform(0.5, 1.0)), r.standard_normal((2, 3)))),
    "sum_axis": (lambda x: mnp.sum(x ** 2, axis=0), lambda r: (r.standard_normal((3, 4)),)),
    "sum_keepdims": (lambda x: x / mnp.sum(mnp.exp(x), axis=1, keepdims=True),
                     lambda r: (r.standard_normal((3, 4)),)),
    "softmax": (_softmax, lambda r: (r.standard_normal((2, 5)),)),
    "softmax_cross_entropy": (_softmax_cross_entropy,
                              lambda r: (r.standard_normal((4, 3)),
                                         np.eye(3)[r.integers(0, 3, 4)])),
    "mlp_layer": (lambda W, x, b: mnp.sum(mnp.tanh(x @ W + b) ** 2),
                  lambda r: (r.standard_normal((3, 2)), r.standard_normal((4, 3)),
                             r.standard_normal(2))),
}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_right_rules_never_fail(name):
    fun, make_args = RIGHT[name]
    for seed in SEEDS:
        args = make_args(np.random.default_rng(1000 + seed))
        mg.check_grads(fun, args, seed=seed)


def test_returns_none_and_accepts_a_bare_array():
    assert mg.check_grads(mnp.tanh, np.array([0.3, -0.2]), seed=0) is None


# ---------------------------------------------------------------- deliberately wrong rules

@mg.primitive
def tanh_vjp_factor(x):
    return np.tanh(x)


mg.defvjp(tanh_vjp_factor, lambda ans, x: lambda g: 1.001 * g * (1 - ans ** 2))
mg.defjvp(tanh_vjp_factor, lambda t, ans, x: t * (1 - ans ** 2))


@mg.primitive
def tanh_jvp_factor(x):
    return np.tanh(x)


mg.defvjp(tanh_jvp_factor, lambda ans, x: lambda g: g * (1 - ans ** 2))
mg.defjvp(tanh_jvp_factor, lambda t, ans, x: 1.001 * t * (1 - ans ** 2))


@mg.primitive
def matmul_vjp_transposed(a, b):
    return a @ b


mg.defvjp(matmul_vjp_transposed,
          lambda ans, a, b: lambda g: g @ b,          # should be g @ b.T
          lambda ans, a, b: lambda g: a.T @ g)
mg.defjvp(matmul_vjp_transposed,
          lambda t, ans, a, b: t @ b,
          lambda t, ans, a, b: a @ t)


@mg.primitive
def matmul_jvp_transposed(a, b):
    return a @ b


mg.defvjp(matmul_jvp_transposed,
          lambda ans, a, b: lambda g: g @ b.T,
          lambda ans, a, b: lambda g: a.T @ g)
mg.defjvp(matmul_jvp_transposed,
          lambda t, ans, a, b: t @ b,
          lambda t, ans, a, b: a.T @ t)                # should be a @ t


@mg.primitive
def sin_wrong_sign(x):
    return np.sin(x)


mg.defvjp(sin_wrong_sign, lambda ans, x: lambda g: -g * mnp.cos(x))
mg.defjvp(sin_wrong_sign, lambda t, ans, x: t * mnp.cos(x))


@mg.primitive
def add_no_unbroadcast(x, y):
    return x + y


mg.defvjp(add_no_unbroadcast, lambda ans, x, y: lambda g: g,
          lambda ans, x, y: lambda g: g)               # y was broadcast: should sum
mg.defjvp(add_no_unbroadcast, lambda t, ans, x, y: t, lambda t, ans, x, y: t)


@mg.primitive
def relu_mask_only(x):
    return np.maximum(x, 0.0)


mg.defvjp(relu_mask_only, lambda ans, x: lambda g: x > 0)   # forgot "* g"
mg.defjvp(relu_mask_only, lambda t, ans, x: t * (x > 0))


# A first-order rule that is right, built on a primitive whose own rule is wrong: only
# an order-2 check can see it.
@mg.primitive
def cos_bad_rule(x):
    return np.cos(x)


mg.defvjp(cos_bad_rule, lambda ans, x: lambda g: g * mnp.sin(x))   # should be -sin
mg.defjvp(cos_bad_rule, lambda t, ans, x: t * mnp.sin(x))


@mg.primitive
def sin_good_first_order(x):
    return np.sin(x)


mg.defvjp(sin_good_first_order, lambda ans, x: lambda g: g * cos_bad_rule(x))
mg.defjvp(sin_good_first_order, lambda t, ans, x: t * cos_bad_rule(x))


def _failure(fun, args, **kw):
    with pytest.raises(AssertionError) as info:
        mg.check_grads(fun, args, **kw)
    return str(info.value)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("modes", [("fwd", "rev"), ("rev",)])
def test_vjp_off_by_1_001_is_caught(seed, modes):
    x = np.random.default_rng(seed).standard_normal((3, 4))
    msg = _failure(tanh_vjp_factor, (x,), modes=modes, seed=seed)
    assert "mode 'rev'" in msg and "order 1" in msg and "argument 0 of tanh_vjp_factor" in msg
    assert "off by a constant factor: analytic = 1.001 x numeric" in msg


@pytest.mark.parametrize("seed", range(5))
def test_vjp_off_by_1_001_is_caught_on_a_large_input(seed):
    # Too large for a full numeric gradient in the message: the factor is still found.
    x = np.random.default_rng(seed).standard_normal((30, 20))
    msg = _failure(tanh_vjp_factor, (x,), modes=("rev",), order=1, seed=seed)
    assert "1.001 x numeric (the same along 3 random directions)" in msg


@pytest.mark.parametrize("seed", SEEDS)
def test_jvp_off_by_1_001_is_caught(seed):
    x = np.random.default_rng(seed).standard_normal(6)
    msg = _failure(tanh_jvp_factor, (x,), modes=("fwd",), seed=seed)
    assert "mode 'fwd'" in msg and "1.001 x numeric" in msg
    # Checked together, forward mode is checked first and takes the blame.
    assert "mode 'fwd'" in _failure(tanh_jvp_factor, (x,), seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_transposed_matmul_vjp_is_caught(seed):
    r = np.random.default_rng(seed)
    a, b = r.standard_normal((3, 3)), r.standard_normal((3, 3))
    msg = _failure(matmul_vjp_transposed, (a, b), seed=seed)
    assert "mode 'rev'" in msg and "argument 0 of matmul_vjp_transposed" in msg
    assert "looks transposed" in msg and "g @ B.T" in msg
    # Only argument 1's rule is right: checking it alone passes.
    mg.check_grads(matmul_vjp_transposed, (a, b), argnums=1, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_transposed_matmul_jvp_is_caught(seed):
    r = np.random.default_rng(seed)
    a, b = r.standard_normal((3, 3)), r.standard_normal((3, 2))
    msg = _failure(matmul_jvp_transposed, (a, b), modes=("fwd",), seed=seed)
    assert "mode 'fwd'" in msg and "argument 1 of matmul_jvp_transposed" in msg


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_sign_is_named(seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 5)
    msg = _failure(sin_wrong_sign, (x,), seed=seed)
    assert "wrong sign" in msg


def test_missing_unbroadcast_is_named():
    x, y = np.ones((3, 4)) * 0.5, np.arange(4.0).reshape(1, 4)
    msg = _failure(add_no_unbroadcast, (x, y), modes=("rev",), seed=0)
    assert "mode 'rev'" in msg and "unbroadcast" in msg
    assert "(3, 4)" in msg and "(1, 4)" in msg


def test_boolean_cotangent_is_named():
    x = np.array([0.5, -1.0, 2.0])
    msg = _failure(relu_mask_only, (x,), modes=("rev",), seed=0)
    assert "dtype bool" in msg and "float64" in msg and "mask" in msg


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_second_order_rule_is_caught_at_order_2_only(seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 4)
    mg.check_grads(sin_good_first_order, (x,), order=1, seed=seed)
    msg = _failure(sin_good_first_order, (x,), order=2, seed=seed)
    assert "order 2" in msg
    assert "jvp(sin_good_first_order)" in msg or "vjp(sin_good_first_order)" in msg
    assert "with respect to the point x" in msg


def test_message_shows_values_error_tolerance_and_seed():
    x = np.array([[0.1, -0.4], [0.9, 0.3]])
    msg = _failure(tanh_vjp_factor, (x,), modes=("rev",), seed=7)
    assert "analytic" in msg and "numeric" in msg
    assert "relative error" in msg and "rtol=1e-05" in msg
    assert "seed=7" in msg
    # Failing again with the same seed gives the same message.
    assert _failure(tanh_vjp_factor, (x,), modes=("rev",), seed=7) == msg



@mg.primitive
def log_nan_rule(x):
    return np.log(x)


mg.defvjp(log_nan_rule, lambda ans, x: lambda g: g / (x - x))    # 0/0
mg.defjvp(log_nan_rule, lambda t, ans, x: t / x)


def test_nan_in_a_rule_is_reported_not_passed():
    with np.errstate(invalid="ignore", divide="ignore"):
        msg = _failure(log_nan_rule, (np.array([0.5, 2.0]),), seed=0)
    assert "mode 'rev'" in msg and "NaN" in msg and "debug_nans" in msg


def test_points_outside_the_domain_are_refused():
    with np.errstate(invalid="ignore"):
        with pytest.raises(ValueError, match="not finite"):
            mg.check_grads(mnp.log, (np.array([-1.0, 2.0]),))


# ---------------------------------------------------------------- arguments

def test_integer_arguments_are_held_fixed():
    def f(x, n):
        return mnp.sum(x ** n)
    mg.check_grads(f, (np.array([0.5, 1.5]), 3), seed=0)


def test_argument_errors():
    with pytest.raises(ValueError, match="modes"):
        mg.check_grads(mnp.tanh, (np.ones(2),), modes=("backward",))
    with pytest.raises(ValueError, match="order"):
        mg.check_grads(mnp.tanh, (np.ones(2),), order=0)
    with pytest.raises(TypeError, match="float64"):
        mg.check_grads(mnp.tanh, (np.ones(2, dtype=np.float32),))
    with pytest.raises(TypeError, match="only float"):
        mg.check_grads(lambda n: n * 2.0, (np.arange(3),), argnums=0)
    with pytest.raises(ValueError, match="no float argument"):
        mg.check_grads(lambda n: n * 2.0, (3,))
    with pytest.raises(ValueError, match="out of range"):
        mg.check_grads(mnp.tanh, (np.ones(2),), argnums=2)


# ---------------------------------------------------------------- pinned numbers
# In case the checker ever lets everything pass, a few derivatives against exact values.

def test_pinned_tanh_gradient():
    g = mg.grad(lambda x: mnp.sum(mnp.tanh(x)))(np.array([0.0, 0.5, -1.0]))
    np.testing.assert_allclose(g, [1.0, 0.7864477329659274, 0.41997434161402614], rtol=1e-14)


def test_pinned_matmul_vjp():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    B = np.array([[0.0, 1.0], [-1.0, 2.0]])
    G = np.array([[1.0, 0.0], [2.0, -1.0]])
    _, f_vjp = mg.vjp(lambda a, b: a @ b, A, B)
    gA, gB = f_vjp(G)
    np.testing.assert_array_equal(gA, [[0.0, -1.0], [-1.0, -4.0]])    # G @ B.T
    np.testing.assert_array_equal(gB, [[7.0, -3.0], [10.0, -4.0]])    # A.T @ G


def test_pinned_second_derivative():
    # d2/dx2 of x**3 exp(x) is (x**3 + 6 x**2 + 6 x) exp(x): 13e at x = 1.
    d2 = mg.grad(mg.grad(lambda x: x ** 3 * mnp.exp(x)))(1.0)
    assert d2 == pytest.approx(13 * np.e, rel=1e-14)
