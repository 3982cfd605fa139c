"""course_tools.grading: right rules pass, wrong rules fail with a message that says why,
and the checks cannot be fooled by replacing numpy's or minigrad's functions."""

import builtins
import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from course_tools import grading as G


# ----------------------------------------------------------------------- right rules

def _expand(a, x, axis, keepdims):
    if keepdims:
        return a
    return np.expand_dims(a, tuple(range(x.ndim)) if axis is None else axis)


VJPS = {
    ("linear", 0): lambda ans, W, x, b: (lambda g: g.T @ x),
    ("linear", 1): lambda ans, W, x, b: (lambda g: g @ W),
    ("linear", 2): lambda ans, W, x, b: (lambda g: g.sum(axis=0)),
    ("sigmoid", 0): lambda ans, x: (lambda g: g * ans * (1 - ans)),
    ("softmax", 0): lambda ans, x: (lambda g: ans * (g - (g * ans).sum(-1, keepdims=True))),
    ("logsumexp", 0): lambda ans, x, axis=-1, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * np.exp(x - _expand(ans, x, axis, keepdims))),
    ("hypot", 0): lambda ans, x, y: (lambda g: mg.unbroadcast(x, g * x / ans)),
    ("hypot", 1): lambda ans, x, y: (lambda g: mg.unbroadcast(y, g * y / ans)),
    ("norm", 0): lambda ans, x, axis=None, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * x / _expand(ans, x, axis, keepdims)),
}

JVPS = {
    ("linear", 0): lambda t, ans, W, x, b: x @ t.T,
    ("linear", 1): lambda t, ans, W, x, b: t @ W.T,
    ("linear", 2): lambda t, ans, W, x, b: t,
    ("sigmoid", 0): lambda t, ans, x: t * ans * (1 - ans),
    ("softmax", 0): lambda t, ans, x: ans * (t - (t * ans).sum(-1, keepdims=True)),
    ("logsumexp", 0): lambda t, ans, x, axis=-1, keepdims=False: np.sum(
        t * np.exp(x - _expand(ans, x, axis, keepdims)), axis=axis, keepdims=keepdims),
    ("hypot", 0): lambda t, ans, x, y: t * x / ans,
    ("hypot", 1): lambda t, ans, x, y: t * y / ans,
    ("norm", 0): lambda t, ans, x, axis=None, keepdims=False: np.sum(
        t * x, axis=axis, keepdims=keepdims) / ans,
}


@pytest.mark.parametrize("op,argnum", sorted(VJPS))
def test_right_vjp_makers_pass_visible_and_many_hidden_draws(op, argnum):
    G.check_vjp_maker(op, VJPS[op, argnum], argnum, seed=0)
    for _ in range(20):
        G.check_vjp_maker(op, VJPS[op, argnum], argnum, seed=None)


@pytest.mark.parametrize("op,argnum", sorted(JVPS))
def test_right_jvp_rules_pass_visible_and_many_hidden_draws(op, argnum):
    G.check_jvp_rule(op, JVPS[op, argnum], argnum, seed=0)
    for _ in range(20):
        G.check_jvp_rule(op, JVPS[op, argnum], argnum, seed=None)


def test_hidden_cases_cover_broadcasting_and_every_kind_of_reduction():
    rng = np.random.default_rng(0)
    pairs = [tuple(a.shape for a in args) for _ in range(30)
             for args, _ in G.OPS["hypot"].cases(rng, False)]
    assert any(x != y for x, y in pairs)
    assert any(len(x) < len(y) or len(y) < len(x) for x, y in pairs)
    kinds = {(kw["axis"], kw["keepdims"]) for args, kw in G.OPS["norm"].cases(rng, False)}
    assert (-1, False) in kinds and (None, False) in kinds and (0, True) in kinds


def test_hidden_draws_are_fresh_and_visible_ones_fixed():
    shapes = {tuple(a.shape for a in G.OPS["linear"].cases(
        np.random.default_rng(G._seed(None)), False)[0][0]) for _ in range(10)}
    assert len(shapes) > 1
    first = G.OPS["linear"].cases(np.random.default_rng(G._seed(0)), True)[0][0][0]
    again = G.OPS["linear"].cases(np.random.default_rng(G._seed(0)), True)[0][0][0]
    assert np.array_equal(first, again)


# ----------------------------------------------------------------------- wrong rules

WRONG_VJPS = [
    # (name, op, argnum, maker, phrase the message must contain)
    ("transposed", "linear", 0, lambda ans, W, x, b: (lambda g: x.T @ g), "transposed"),
    ("transposed square", "linear", 0, lambda ans, W, x, b: (lambda g: (g.T @ x).T), "transposed"),
    ("no unbroadcast", "hypot", 0, lambda ans, x, y: (lambda g: g * x / ans), "unbroadcast"),
    ("bias not summed", "linear", 2, lambda ans, W, x, b: (lambda g: g), "unbroadcast"),
    ("factor", "sigmoid", 0, lambda ans, x: (lambda g: 2 * g * ans * (1 - ans)), "constant factor"),
    ("sign", "softmax", 0, lambda ans, x: (lambda g: ans * ((g * ans).sum(-1, keepdims=True) - g)),
     "wrong sign"),
    ("ignores g", "sigmoid", 0, lambda ans, x: (lambda g: ans * (1 - ans)), "ignores g"),
    ("zeros of the right shape", "linear", 1, lambda ans, W, x, b: (lambda g: np.zeros_like(x)),
     "returns zeros"),
    ("NaN", "sigmoid", 0, lambda ans, x: (lambda g: g * np.nan), "NaN"),
    ("returns None", "sigmoid", 0, lambda ans, x: (lambda g: None), "None"),
    ("maker returns an array", "sigmoid", 0, lambda ans, x: ans * (1 - ans), "function of the cotangent"),
    ("asks mg.vjp", "linear", 0,
     lambda ans, W, x, b: (lambda g: mg.vjp(lambda W: x @ W.T + b, W)[1](g)[0]), "switched off"),
    ("asks mg.grad", "sigmoid", 0,
     lambda ans, x: (lambda g: mg.grad(lambda x: mnp.sum(g * mnp.tanh(x / 2) / 2))(x)), "switched off"),
    ("asks mg.jacrev", "sigmoid", 0,
     lambda ans, x: (lambda g: np.tensordot(g, mg.jacrev(lambda x: mnp.tanh(x / 2) / 2)(x), g.ndim)),
     "switched off"),
    ("asks the numerical tools", "sigmoid", 0,
     lambda ans, x: (lambda g: mg.numerical_gradient(lambda x: np.sum(g / (1 + np.exp(-x))), x)),
     "switched off"),
    ("not written", "sigmoid", 0, lambda ans, x: (_ for _ in ()).throw(NotImplementedError()),
     "not written yet"),
    ("derivative forgotten", "sigmoid", 0, lambda ans, x: (lambda g: g), "local derivative is forgotten"),
]


@pytest.mark.parametrize("name,op,argnum,maker,phrase", WRONG_VJPS, ids=[w[0] for w in WRONG_VJPS])
def test_wrong_vjp_makers_fail_and_say_why(name, op, argnum, maker, phrase):
    for seed in (0, None):
        with pytest.raises(AssertionError, match=phrase):
            G.check_vjp_maker(op, maker, argnum, seed=seed)


def test_rule_for_the_visible_case_only_fails_the_hidden_check():
    only_last_axis = lambda ans, x, axis=None, keepdims=False: (  # noqa: E731
        lambda g: g[..., None] * x / ans[..., None])
    G.check_vjp_maker("norm", only_last_axis, seed=0)
    with pytest.raises(AssertionError):
        G.check_vjp_maker("norm", only_last_axis, seed=None)


def test_naive_logsumexp_fails_the_stability_checks():
    naive = lambda x, axis=-1, keepdims=False: np.log(  # noqa: E731
        np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        with pytest.raises(AssertionError, match="overflow"):
            G.check_logsumexp_forward(naive, seed=0)
        naive_vjp = lambda ans, x, axis=-1, keepdims=False: (  # noqa: E731
            lambda g: _expand(g, x, axis, keepdims) * np.exp(x) / np.exp(_expand(ans, x, axis, keepdims)))
        with pytest.raises(AssertionError, match="exp\\(x - ans\\)"):
            G.check_vjp_stability(naive_vjp, seed=0)
    G.check_vjp_stability(VJPS["logsumexp", 0], seed=None)


WRONG_JVPS = [
    ("transposed", "linear", 1, lambda t, ans, W, x, b: t @ W, "transpose|wrong values"),
    ("sign", "norm", 0, lambda t, ans, x, axis=None, keepdims=False: -np.sum(
        t * x, axis=axis, keepdims=keepdims) / ans, "wrong sign"),
    ("ignores t", "sigmoid", 0, lambda t, ans, x: ans * (1 - ans), "ignores the tangent"),
    ("factor", "hypot", 1, lambda t, ans, x, y: 0.5 * t * y / ans, "constant factor"),
    ("asks mg.jvp", "sigmoid", 0,
     lambda t, ans, x: mg.jvp(lambda x: mnp.tanh(x / 2) / 2, (x,), (t,))[1], "switched off"),
]


@pytest.mark.parametrize("name,op,argnum,rule,phrase", WRONG_JVPS, ids=[w[0] for w in WRONG_JVPS])
def test_wrong_jvp_rules_fail_and_say_why(name, op, argnum, rule, phrase):
    for seed in (0, None):
        with pytest.raises(AssertionError, match=phrase):
            G.check_jvp_rule(op, rule, argnum, seed=seed)


# ----------------------------------------------------------------------- hostile code

@pytest.fixture
def hostile(monkeypatch):
    """Everything a student cell might replace to make comparisons say yes."""
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool))
    monkeypatch.setattr(np, "array_equal", lambda *a, **k: True)
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *a, **k: None)
    monkeypatch.setattr(np, "abs", lambda x: 0 * x)
    monkeypatch.setattr(np, "max", lambda *a, **k: 0.0)
    monkeypatch.setattr(np, "sum", lambda *a, **k: 0.0)
    monkeypatch.setattr(np, "asarray", lambda x, *a, **k: np.zeros(np.shape(x)))
    monkeypatch.setattr(mg, "check_grads", lambda *a, **k: None)
    monkeypatch.setattr(mg, "rel_error", lambda *a, **k: 0.0)
    monkeypatch.setattr(builtins, "abs", lambda x: 0.0)


class LyingArray(np.ndarray):
    """An ndarray subclass whose comparisons and conversions all say 'equal'."""

    def tolist(self):
        return [0.0] * self.size

    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__


class FakeArrayLike:
    """An object that pretends to be an array of the right shape."""

    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)


def test_fake_rules_fail_when_numpy_minigrad_and_builtins_are_patched(hostile):
    fakes = [
        lambda ans, W, x, b: (lambda g: np.ones_like(W)),
        lambda ans, W, x, b: (lambda g: np.zeros(W.shape).view(LyingArray)),
        lambda ans, W, x, b: (lambda g: FakeArrayLike(W.shape)),
    ]
    for fake in fakes:
        with pytest.raises(AssertionError):
            G.check_vjp_maker("linear", fake, 0, seed=None)


def test_right_rules_still_pass_when_numpy_minigrad_and_builtins_are_patched(hostile):
    G.check_vjp_maker("linear", VJPS["linear", 0], 0, seed=None)
    G.check_jvp_rule("sigmoid", JVPS["sigmoid", 0], 0, seed=None)


def test_aliases_of_make_vjp_taken_earlier_are_refused_too():
    from minigrad.reverse import make_vjp as early_alias

    def sneaky(ans, x):
        return lambda g: early_alias(lambda x: mnp.tanh(x / 2) / 2, [x])[1](g)[0]
    with pytest.raises(AssertionError, match="switched off"):
        G.check_vjp_maker("sigmoid", sneaky, seed=0)


def test_minigrad_works_again_after_a_refusal():
    with pytest.raises(AssertionError):
        G.check_vjp_maker("linear", WRONG_VJPS[11][3], 0, seed=0)
    x = np.array([0.3, -1.0])
    assert np.allclose(mg.grad(lambda x: mnp.sum(x ** 3))(x), 3 * x ** 2)
    assert np.allclose(mg.jvp(lambda x: x ** 3, (x,), (np.ones(2),))[1], 3 * x ** 2)
    assert mg.numerical_gradient(lambda x: float(np.sum(x ** 2)), x).shape == (2,)


def test_refusal_is_restored_even_when_nested():
    with G.autodiff_refused():
        with G.autodiff_refused():
            pass
        with pytest.raises(RuntimeError, match="switched off"):
            mg.grad(lambda x: x * x)(1.0)
    assert mg.grad(lambda x: x * x)(3.0) == 6.0


def test_audit_source_points_at_tampering():
    assert G.audit_source("import course_tools.grading as G; G.check_vjp_maker = print") != []
    assert "__code__" in G.audit_source("f.__code__ = g.__code__")
    assert G.audit_source("def sigmoid_vjp(ans, x):\n    return lambda g: g * ans * (1 - ans)") == []


# ----------------------------------------------------------------------- problem sets 1, 3, 4

def test_finite_difference_checks_tell_right_from_wrong():
    fwd = lambda f, x, h: (f(x + h) - f(x)) / h  # noqa: E731
    bwd = lambda f, x, h: (f(x) - f(x - h)) / h  # noqa: E731
    cen = lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h)  # noqa: E731
    G.check_difference_quotients(fwd, bwd, cen, seed=None)
    with pytest.raises(AssertionError, match="forward_difference"):
        G.check_difference_quotients(fwd, bwd, fwd, seed=None)

    def numerical_gradient(f, x, h=1e-6):
        x = np.array(x, dtype=float)
        out = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            out[i] = (f(x + e) - f(x - e)) / (2 * h)
        return out
    G.check_numerical_gradient(numerical_gradient, seed=None)
    with pytest.raises(AssertionError, match="switched off"):
        G.check_numerical_gradient(lambda f, x: mg.numerical_gradient(f, x), seed=None)
    with pytest.raises(AssertionError, match="factor"):
        G.check_numerical_gradient(lambda f, x: 2 * numerical_gradient(f, x), seed=0)

    def numerical_jacobian(f, x, h=1e-6):
        cols = [(f(x + h * e.reshape(x.shape)) - f(x - h * e.reshape(x.shape))).ravel() / (2 * h)
                for e in np.eye(x.size)]
        return np.stack(cols, axis=1).reshape(np.shape(f(x)) + x.shape)
    G.check_numerical_jacobian(numerical_jacobian, seed=None)
    with pytest.raises(AssertionError, match="shape"):
        G.check_numerical_jacobian(lambda f, x: numerical_jacobian(f, x).T, seed=None)

    G.check_rel_error(lambda a, b: float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)),
                                                initial=0.0)), seed=None)
    with pytest.raises(AssertionError):
        G.check_rel_error(lambda a, b: float(np.max(np.abs(a - b))), seed=None)

    slope = lambda hs, errors: float(np.polyfit(np.log(hs), np.log(errors), 1)[0])  # noqa: E731
    G.check_convergence_order(slope, seed=None)
    with pytest.raises(AssertionError):
        G.check_convergence_order(lambda hs, errors: float(np.polyfit(hs, errors, 1)[0]), seed=None)

    def observed(f, df, x, hs=np.logspace(-1, -3, 7)):
        return {name: slope(hs, [abs(q(f, x, h) - df(x)) for h in hs])
                for name, q in [("forward", fwd), ("backward", bwd), ("central", cen)]}
    G.check_observed_orders(observed, seed=None)
    with pytest.raises(AssertionError, match="central"):
        G.check_observed_orders(lambda f, df, x: {**observed(f, df, x), "central": 1.0}, seed=None)


def test_jacobian_builders_must_use_their_own_mode():
    by_columns = lambda f, x: np.stack(  # noqa: E731
        [mg.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)], axis=1)

    def by_rows(f, x):
        out, f_vjp = mg.vjp(f, x)
        return np.stack([f_vjp(e)[0] for e in np.eye(np.size(out))])
    G.check_jacobian_builder(by_columns, "fwd", seed=None)
    G.check_jacobian_builder(by_rows, "rev", seed=None)
    for builder, mode in [(by_rows, "fwd"), (by_columns, "rev"),
                          (lambda f, x: mg.jacfwd(f)(x), "fwd"), (lambda f, x: mg.jacrev(f)(x), "rev")]:
        with pytest.raises(AssertionError, match="switched off"):
            G.check_jacobian_builder(builder, mode, seed=None)
    with pytest.raises(AssertionError, match="transposed|shape"):
        G.check_jacobian_builder(lambda f, x: by_columns(f, x).T, "fwd", seed=None)


def test_transpose_identity_and_choose_mode():
    def pair(f, x, u, v):
        _, Ju = mg.jvp(f, (x,), (u,))
        return float(np.sum(v * Ju)), float(np.sum(mg.vjp(f, x)[1](v)[0] * u))
    G.check_transpose_identity(pair, seed=None)
    with pytest.raises(AssertionError):
        G.check_transpose_identity(lambda f, x, u, v: (pair(f, x, u, v)[0], 0.0), seed=None)
    G.check_choose_mode(lambda n_in, n_out: "fwd" if n_in < n_out else "rev", seed=None)
    with pytest.raises(AssertionError, match="costs"):
        G.check_choose_mode(lambda n_in, n_out: "fwd", seed=None)


def _sigmoid(y):
    return 0.5 * (np.tanh(0.5 * y) + 1.0)


def _mlp_gradients(W, v, x):
    y_hat = _sigmoid(W @ x)
    dz_dy = v * y_hat * (1 - y_hat)
    return np.outer(dz_dy, x), y_hat, W.T @ dz_dy


def _loss_and_grads(W, v, X, t):
    H = _sigmoid(X @ W.T)
    z = H @ v
    dz = (_sigmoid(z) - t) / len(t)
    return (np.mean(np.logaddexp(0, z) - t * z), (np.outer(dz, v) * H * (1 - H)).T @ X, H.T @ dz)


def test_backprop_by_hand_checks():
    G.check_mlp_gradients(_mlp_gradients, seed=None)
    with pytest.raises(AssertionError, match="transposed|shape"):
        G.check_mlp_gradients(lambda W, v, x: (_mlp_gradients(W, v, x)[0].T,) +
                              _mlp_gradients(W, v, x)[1:], seed=None)
    with pytest.raises(AssertionError, match="switched off"):
        G.check_mlp_gradients(lambda W, v, x: mg.grad(
            lambda W, v, x: v @ mnp.tanh(W @ x), argnums=(0, 1, 2))(W, v, x), seed=0)
    G.check_mlp_loss_and_grads(_loss_and_grads, seed=None)
    with pytest.raises(AssertionError, match="factor"):
        G.check_mlp_loss_and_grads(lambda W, v, X, t: (_loss_and_grads(W, v, X, t)[0],
                                                       *(len(t) * g for g in _loss_and_grads(W, v, X, t)[1:])),
                                   seed=0)

    G.check_mlp_classifier(_train_mlp, seed=None)
    with pytest.raises(AssertionError, match="90%"):
        G.check_mlp_classifier(lambda X, t: _train_mlp(X, t, steps=0), seed=0)


def test_every_function_the_refusal_switches_off_exists():
    # A rename in minigrad would otherwise silently let rules call minigrad again.
    targets = [fn for fns in G._AUTODIFF.values() for fn in fns]
    targets += G._JACOBIAN_OPERATORS + G._NUMERICAL_TOOLS
    assert len(targets) == 5 + 3 + 9
    assert all(callable(fn) for fn in targets), targets


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_recognisable_wrong_values_get_a_hint(seed):
    cases = [
        (lambda ans, x: (lambda g: g * ans), "g times the output"),
        (lambda ans, x: (lambda g: g), "local derivative is forgotten"),
        (lambda ans, x: (lambda g: g * G._sigmoid(ans) * (1 - G._sigmoid(ans))),
         "at the output ans"),
    ]
    for maker, phrase in cases:
        with pytest.raises(G.GradingError, match=phrase):
            G.check_vjp_maker("sigmoid", maker, seed=seed)



# ----------------------------------------------------------------------- every case, every run

HIDDEN_SEEDS = list(range(10))


@pytest.fixture
def hidden_seed(monkeypatch):
    """Run the hidden checks (seed=None) from a chosen seed: fix the bytes _seed draws."""
    def use(seed):
        monkeypatch.setattr(G, "_urandom", lambda n: seed.to_bytes(n, "little"))
    return use


def _each_hidden_seed(hidden_seed):
    for seed in HIDDEN_SEEDS:
        hidden_seed(seed)
        yield seed


def _classes_of_reductions(cases):
    out = set()
    for (x,), kw in cases:
        axis = kw["axis"]
        axes = range(x.ndim) if axis is None else [axis % x.ndim]
        reduced_one = any(x.shape[i] == 1 for i in axes)
        other_one = any(d == 1 for i, d in enumerate(x.shape) if i not in axes)
        out.add((x.ndim, axis, kw["keepdims"], reduced_one, other_one))
    return out


def test_hidden_cases_are_the_same_classes_on_every_run():
    first = None
    for seed in HIDDEN_SEEDS:
        rng = G._Rng(seed)
        classes = _classes_of_reductions(G.OPS["logsumexp"].cases(rng, False))
        for nd in (1, 2, 3):
            for axis in [None, *range(-nd, nd)]:
                for keepdims in (False, True):
                    assert (nd, axis, keepdims, False, False) in classes
                    assert any(c[:3] == (nd, axis, keepdims) and c[3] for c in classes)
                    if nd > 1 and axis is not None:
                        assert any(c[:3] == (nd, axis, keepdims) and c[4] for c in classes)
        pairs = [tuple(a.shape for a in args) for args, _ in G.OPS["hypot"].cases(rng, False)]
        for i in range(3):
            assert any(len(x) == len(y) == 3 and x[i] == 1 and y[i] > 1 for x, y in pairs)
            assert any(len(x) == len(y) == 3 and y[i] == 1 and x[i] > 1 for x, y in pairs)
        assert any(len(x) < len(y) for x, y in pairs) and any(len(y) < len(x) for x, y in pairs)
        assert ((), ()) in pairs and any(x == () and y for x, y in pairs)
        linear = {tuple(d == 1 for d in (W.shape[0], W.shape[1], x.shape[0]))
                  for (W, x, b), _ in G.OPS["linear"].cases(rng, False)}
        assert len(linear) == 8
        shapes = [x.shape for (x,), _ in G.OPS["sigmoid"].cases(rng, False)]
        assert () in shapes and (1,) in shapes and any(1 in s and len(s) == 3 for s in shapes)
        summary = (sorted(classes, key=str), [tuple(len(s) for s in p) for p in pairs])
        assert first is None or summary == first
        first = summary


def _only_leading_unbroadcast(target, g):
    # sums the leading axes only: wrong where target has a length-1 axis
    return g.sum(axis=tuple(range(g.ndim - np.ndim(target)))) if g.ndim > np.ndim(target) else g


def test_an_unbroadcast_that_sums_only_leading_axes_fails_every_run(hidden_seed):
    wrong_x = lambda ans, x, y: (lambda g: _only_leading_unbroadcast(x, g * x / ans))  # noqa: E731
    wrong_y = lambda ans, x, y: (lambda g: _only_leading_unbroadcast(y, g * y / ans))  # noqa: E731
    for _ in _each_hidden_seed(hidden_seed):
        for argnum, wrong in ((0, wrong_x), (1, wrong_y)):
            with pytest.raises(AssertionError):
                G.check_vjp_maker("hypot", wrong, argnum, seed=None)
            G.check_vjp_maker("hypot", VJPS["hypot", argnum], argnum, seed=None)


def _stable_logsumexp(x, axis=-1, keepdims=False):
    c = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - c), axis=axis, keepdims=True)) + c


def test_a_logsumexp_that_squeezes_every_axis_fails_every_run(hidden_seed):
    squeezes = lambda x, axis=-1, keepdims=False: (  # noqa: E731
        _stable_logsumexp(x, axis) if keepdims else np.squeeze(_stable_logsumexp(x, axis)))
    right = lambda x, axis=-1, keepdims=False: (  # noqa: E731
        _stable_logsumexp(x, axis) if keepdims else np.squeeze(_stable_logsumexp(x, axis), axis))
    for _ in _each_hidden_seed(hidden_seed):
        with pytest.raises(AssertionError, match="shape"):
            G.check_logsumexp_forward(squeezes, seed=None)
        G.check_logsumexp_forward(right, seed=None)


def test_a_logsumexp_jvp_that_drops_keepdims_fails_every_run(hidden_seed):
    def drops_keepdims(t, ans, x, axis=-1, keepdims=False):
        full = ans if keepdims else np.expand_dims(ans, tuple(range(x.ndim)) if axis is None else axis)
        return np.sum(t * np.exp(x - full), axis=axis)
    for _ in _each_hidden_seed(hidden_seed):
        with pytest.raises(AssertionError):
            G.check_jvp_rule("logsumexp", drops_keepdims, seed=None)


def test_an_unstable_logsumexp_jvp_fails_the_stability_check_every_run(hidden_seed):
    def unstable(t, ans, x, axis=-1, keepdims=False):
        full = ans if keepdims else np.expand_dims(ans, tuple(range(x.ndim)) if axis is None else axis)
        return np.sum(t * np.exp(x) / np.exp(full), axis=axis, keepdims=keepdims)
    G.check_jvp_rule("logsumexp", unstable, seed=0)
    for _ in _each_hidden_seed(hidden_seed):
        with np.errstate(all="ignore"), pytest.raises(AssertionError, match="exp\\(x - ans\\)"):
            G.check_jvp_stability(unstable, seed=None)
        G.check_jvp_stability(JVPS["logsumexp", 0], seed=None)
    with np.errstate(all="ignore"), pytest.raises(AssertionError):
        G.check_jvp_stability(unstable, seed=0)


def _central_fd_vjp(op, argnum, h):
    forward = G.OPS[op].forward

    def maker(ans, *args, **kw):
        def vjp(g):
            a = np.array(args[argnum], dtype=float)
            out = np.zeros_like(a)
            for i in np.ndindex(a.shape):
                e = np.zeros_like(a)
                e[i] = h
                plus, minus = list(args), list(args)
                plus[argnum], minus[argnum] = a + e, a - e
                out[i] = np.sum(g * (forward(*plus, **kw) - forward(*minus, **kw))) / (2 * h)
            return out
        return vjp
    return maker


def _central_fd_jvp(op, argnum, h):
    forward = G.OPS[op].forward

    def rule(t, ans, *args, **kw):
        plus, minus = list(args), list(args)
        plus[argnum], minus[argnum] = args[argnum] + h * t, args[argnum] - h * t
        return (forward(*plus, **kw) - forward(*minus, **kw)) / (2 * h)
    return rule


NONLINEAR = [("sigmoid", 0), ("softmax", 0), ("logsumexp", 0), ("hypot", 0), ("hypot", 1), ("norm", 0)]


@pytest.mark.parametrize("op,argnum", NONLINEAR)
def test_rules_that_take_finite_differences_fail_every_run(hidden_seed, op, argnum):
    for _ in _each_hidden_seed(hidden_seed):
        for h in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
            with pytest.raises(AssertionError):
                G.check_vjp_maker(op, _central_fd_vjp(op, argnum, h), argnum, seed=None)
            with pytest.raises(AssertionError):
                G.check_jvp_rule(op, _central_fd_jvp(op, argnum, h), argnum, seed=None)
        G.check_vjp_maker(op, VJPS[op, argnum], argnum, seed=None)
        G.check_jvp_rule(op, JVPS[op, argnum], argnum, seed=None)


def test_right_rules_pass_every_hidden_seed(hidden_seed):
    for _ in _each_hidden_seed(hidden_seed):
        for (op, argnum), maker in VJPS.items():
            G.check_vjp_maker(op, maker, argnum, seed=None)
        for (op, argnum), rule in JVPS.items():
            G.check_jvp_rule(op, rule, argnum, seed=None)
        G.check_vjp_stability(VJPS["logsumexp", 0], seed=None)


def _pair(f, x, u, v):
    _, Ju = mg.jvp(f, (x,), (u,))
    return float(np.sum(v * Ju)), float(np.sum(mg.vjp(f, x)[1](v)[0] * u))


def test_a_transpose_identity_from_one_mode_fails_every_run(hidden_seed):
    def both_by_jvp(f, x, u, v):
        _, Ju = mg.jvp(f, (x,), (u,))
        return float(np.sum(v * Ju)), float(np.sum(v * Ju))

    def both_by_vjp(f, x, u, v):
        JTv = mg.vjp(f, x)[1](v)[0]
        return float(np.sum(JTv * u)), float(np.sum(JTv * u))

    def swapped(f, x, u, v):
        return _pair(f, x, u, v)[::-1]

    def by_differences(f, x, u, v, h=1e-6):
        d = float(np.sum(v * (np.asarray(f(x + h * u)) - np.asarray(f(x - h * u))) / (2 * h)))
        return d, d

    by_grad = lambda f, x, u, v: (_pair(f, x, u, v)[0], float(np.sum(  # noqa: E731
        mg.grad(lambda x: mnp.sum(f(x) * v))(x) * u)))
    for _ in _each_hidden_seed(hidden_seed):
        G.check_transpose_identity(_pair, seed=None)
        G.check_transpose_identity(by_grad, seed=None)
        with pytest.raises(AssertionError, match="computed with mg.jvp"):
            G.check_transpose_identity(both_by_jvp, seed=None)
        with pytest.raises(AssertionError, match="computed with mg.vjp"):
            G.check_transpose_identity(both_by_vjp, seed=None)
        for wrong in (swapped, by_differences):
            with pytest.raises(AssertionError):
                G.check_transpose_identity(wrong, seed=None)
    G.check_transpose_identity(_pair, seed=0)
    with pytest.raises(AssertionError):
        G.check_transpose_identity(both_by_jvp, seed=0)


def _gradient_by(f, x, h=1e-6, forward=False):
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x)) / h if forward else (f(x + e) - f(x - e)) / (2 * h)
    return out


def test_a_forward_difference_gradient_fails_every_run(hidden_seed):
    forward = lambda f, x, h=1e-6: _gradient_by(f, x, h, forward=True)  # noqa: E731
    for _ in _each_hidden_seed(hidden_seed):
        G.check_numerical_gradient(_gradient_by, seed=None)
        with pytest.raises(AssertionError, match="central difference"):
            G.check_numerical_gradient(forward, seed=None)
    with pytest.raises(AssertionError, match="central difference"):
        G.check_numerical_gradient(forward, seed=0)


def _train_softmax(X, labels, classes, hidden=16, steps=300, lr=0.5, seed=0):
    rng = np.random.default_rng(seed)
    W1, b1 = 0.5 * rng.standard_normal((hidden, X.shape[1])), np.zeros(hidden)
    W2, b2 = 0.5 * rng.standard_normal((classes, hidden)), np.zeros(classes)
    onehot = np.eye(classes)[labels]
    for _ in range(steps):
        H = _sigmoid(X @ W1.T + b1)
        logits = H @ W2.T + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        d = (p / p.sum(axis=1, keepdims=True) - onehot) / len(X)
        dY = (d @ W2) * H * (1 - H)
        W1, b1, W2, b2 = W1 - lr * dY.T @ X, b1 - lr * dY.sum(0), W2 - lr * d.T @ H, b2 - lr * d.sum(0)
    return W1, b1, W2, b2


def _notebook_blobs(n=150, seed=0, classes=3):
    # the data ps2's notebook makes for its visible test
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(classes) / classes
    centres = 3.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = rng.integers(0, classes, size=n)
    return centres[labels] + 0.7 * rng.standard_normal((n, 2)), labels


def _notebook_rings(n=200, seed=0):
    # the data ps4's notebook makes for its visible test
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.5).astype(float)
    radius = np.where(t == 1, rng.uniform(0.0, 1.0, n), rng.uniform(1.5, 2.5, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle), np.ones(n)], axis=1), t


def _train_mlp(X, t, steps=2000, lr=2.0):
    rng = np.random.default_rng(0)
    W, v = rng.standard_normal((16, 3)), rng.standard_normal(16)
    for _ in range(steps):
        _, dW, dv = _loss_and_grads(W, v, X, t)
        W, v = W - lr * dW, v - lr * dv
    return W, v


def test_classifiers_trained_on_the_notebooks_data_fail_every_run(hidden_seed):
    X_blobs, labels = _notebook_blobs()
    X_rings, t = _notebook_rings()
    assert _train_softmax(X_blobs, labels, 3) is not None
    for _ in _each_hidden_seed(hidden_seed):
        G.check_softmax_classifier(_train_softmax, seed=None)
        with pytest.raises(AssertionError, match="90%|notebook"):
            G.check_softmax_classifier(lambda X, y, classes: _train_softmax(X_blobs, labels, 3),
                                       seed=None)
        with pytest.raises(AssertionError, match="90%"):
            G.check_softmax_classifier(lambda X, y, classes: _train_softmax(X_blobs, labels, classes),
                                       seed=None)
        G.check_mlp_classifier(_train_mlp, seed=None)
        with pytest.raises(AssertionError, match="90%"):
            G.check_mlp_classifier(lambda X, t_: _train_mlp(X_rings, t), seed=None)


@pytest.mark.parametrize("seed", [0, None])
def test_g_times_the_output_as_sigmoids_vjp_is_named(seed):
    with pytest.raises(G.GradingError, match=r"g times the output \(g \* ans\)"):
        G.check_vjp_maker("sigmoid", lambda ans, x: (lambda g: g * ans), seed=seed)


def test_a_failing_check_shows_the_student_the_line_and_the_message_not_the_graders_frames():
    """In a notebook, a GradingError is shown as the test cell's line and the message."""
    import nbclient
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell("import course_tools.grading as G"),
        new_code_cell("def sigmoid_vjp(ans, x):\n    return lambda g: g * ans\n\n"
                      "G.check_vjp_maker('sigmoid', sigmoid_vjp, seed=0)")])
    nbclient.NotebookClient(nb, timeout=120, allow_errors=True).execute()
    (error,) = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "GradingError" and "g * ans" in error.evalue
    text = "\n".join(error.traceback)
    assert len(error.traceback) == 2, text
    assert "line 4" in text and "G.check_vjp_maker('sigmoid', sigmoid_vjp, seed=0)" in text
    assert "course_tools" not in text and "Traceback" not in text and ".py" not in text
    # any other exception keeps IPython's full traceback
    nb2 = new_notebook(cells=[new_code_cell("def f():\n    raise ValueError('mine')\nf()")])
    nbclient.NotebookClient(nb2, timeout=60, allow_errors=True).execute()
    assert len(nb2.cells[0].outputs[0].traceback) > 2
    nbformat.validate(nb)


@pytest.mark.parametrize("rule, says", [
    (lambda t, ans, x: t, "returns t unchanged: the local derivative is forgotten"),
    (lambda t, ans, x: t * ans, "returns t times the output (t * ans)"),
    (lambda t, ans, x: t * G._sigmoid(ans) * (1 - G._sigmoid(ans)),
     "evaluates the derivative at the output ans"),
])
def test_recognisable_jvp_mistakes_are_named(rule, says):
    for seed in (0, None):
        with pytest.raises(G.GradingError, match=re.escape(says)):
            G.check_jvp_rule("sigmoid", rule, seed=seed)


def test_a_least_squares_fit_that_did_not_converge_is_explained():
    """np.polyfit raises LinAlgError on an infinite log (a zero error or a zero step)."""
    def observed_orders(f, df, x):
        hs = np.array([1e-1, 1e-2, 0.0])
        return {"forward": np.polyfit(np.log(hs), np.log(hs + 1.0), 1)[0]}
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as failed:
        G.check_observed_orders(observed_orders, seed=0)
    assert "LinAlgError" in str(failed.value)
    assert "abs(quotient - exact)" in str(failed.value) and "positive" in str(failed.value)
