"""Random programs of minigrad.numpy functions, differentiated by minigrad and by HIPS
autograd (or central differences where autograd has no rule, or is itself wrong), in every
mode: grad, vjp, jvp, jacrev, jacfwd, several argnums, float32, and to second order.
The generator is `random_programs.py`; then one regression test per bug it found."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import random_programs as rp

pytestmark = pytest.mark.filterwarnings("ignore")    # autograd's and numpy's, on purpose

PROGRAMS = {mode: 1000 for mode in rp.MODES}


@pytest.mark.parametrize("mode", rp.MODES)
def test_random_programs(mode):
    checked = 0
    for seed in range(PROGRAMS[mode]):
        prog, rng = rp.draw(seed, mode)
        if not prog.steps:
            continue
        try:
            rp.check(prog, mode, rng)
        except rp.Mismatch:
            raise
        except Exception as err:
            raise AssertionError(f"seed {seed}, {mode}: minigrad raised "
                                 f"{type(err).__name__}: {err}\n{prog}") from err
        checked += 1
    assert checked > 0.9 * PROGRAMS[mode]


def test_the_checker_sees_a_wrong_rule(monkeypatch):
    """A rule off by 0.1% (tanh's) is caught: the tolerance is tight enough."""
    from minigrad.numpy import derivatives, primitives as p, vjps
    monkeypatch.setitem(derivatives.UNARY, p.tanh, lambda ans, x: 1.0 - 1.001 * ans * ans)
    mg.defvjp(p.tanh, vjps._unary_maker(derivatives.UNARY[p.tanh]))
    try:
        prog = rp.Program([np.array([1.1, -0.9])], [("tanh", lambda L, x: L.m.tanh(x), (0,))], 1)
        with pytest.raises(rp.Mismatch):
            rp.check(prog, "grad", np.random.default_rng(0))
    finally:
        monkeypatch.undo()
        mg.defvjp(p.tanh, vjps._unary_maker(derivatives.UNARY[p.tanh]))


# -- regressions: each of these once failed -------------------------------------------
X32 = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]], dtype=np.float32)


@pytest.mark.parametrize("fun", [
    lambda x: mnp.concatenate([x, x]), lambda x: mnp.stack([x, x]), lambda x: mnp.max(x),
    lambda x: mnp.maximum(x, 0.5), lambda x: mnp.log2(x * x), lambda x: mnp.exp2(x)],
    ids=["concatenate", "stack", "max", "maximum", "log2", "exp2"])
def test_jvp_tangent_has_the_outputs_dtype(fun):
    out, tangent = mg.jvp(fun, (X32,), (np.ones_like(X32),))
    assert out.dtype == np.float32 and tangent.dtype == np.float32


def test_transpose_method_with_one_int_axis():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(mg.grad(lambda x: mnp.sum(x.transpose(-1) * x))(x), 2 * x)


def test_rollaxis_with_a_negative_start_is_numpys():
    x = np.arange(24.0).reshape(2, 3, 4)
    for start in (-3, -2, -1):
        np.testing.assert_array_equal(mnp.rollaxis(x, 2, start), np.rollaxis(x, 2, start))


@pytest.mark.parametrize("call", [
    lambda x: mnp.sum(x, initial=1.0), lambda x: mnp.max(x, initial=5.0),
    lambda x: mnp.sum(x, where=np.array([True, False, True])),
    lambda x: mnp.mean(x, 0, np.float64)], ids=["sum-initial", "max-initial", "where",
                                                "positional-dtype"])
@pytest.mark.parametrize("op", [mg.jacrev, mg.jacfwd])
def test_reduction_options_without_rules_are_refused(call, op):
    """jacfwd of sum(x, initial=1.0) was 2 where it is 1; the others crashed in a rule."""
    with pytest.raises(NotImplementedError, match="axis=, keepdims="):
        op(call)(np.array([0.3, -1.2, 2.0]))


def test_the_same_argnum_twice_is_refused():
    """grad(f, (0, 0)) returned zeros for the first copy."""
    with pytest.raises(ValueError, match="twice"):
        mg.grad(lambda x, y: mnp.sum(x * y), (0, 0))(np.ones(3), np.ones(3))


def test_numpy_integer_argnums_is_one_argument():
    x, y = np.array([0.3, -1.2]), np.array([2.0, 1.0])
    for op in (mg.grad, mg.jacrev, mg.jacfwd):
        got = op(lambda x, y: mnp.sum(x * y), np.int64(1))(x, y)
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, x)


@pytest.mark.parametrize("name", ["sum", "max", "prod", "cumsum"])
def test_reductions_of_a_0d_array_over_axis_0(name):
    """numpy takes axis=0 (or -1) for a 0-d array; the rules divided by ndim 0."""
    f = getattr(mnp, name)
    got = mg.jacrev(lambda x: f(x, axis=-1) * 3.0)(np.array(0.7))
    np.testing.assert_allclose(np.ravel(got), [3.0])
    np.testing.assert_allclose(np.ravel(mg.jacfwd(lambda x: f(x, axis=0))(np.array(0.7))), 1.0)


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_tril_and_triu_of_a_vector(name):
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_array_equal(getattr(mnp, name)(x), getattr(np, name)(x))
    got = mg.jacrev(lambda x: getattr(mnp, name)(x, -1))(x)
    want = rp.numeric_jacobian(lambda x: getattr(np, name)(x, -1), [x], 0)
    np.testing.assert_allclose(got, want, atol=1e-8)


@pytest.mark.parametrize("ct", [[1.0, 2.0, 3.0], np.array([1, 2, 3])], ids=["list", "int"])
def test_vjp_with_a_list_or_integer_cotangent(ct):
    """A list cotangent was repeated by `g * 2` (list times int), an int one gave ints."""
    x = np.array([0.3, -1.2, 2.0])
    (got,) = mg.vjp(lambda x: x * 2, x)[1](ct)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [2.0, 4.0, 6.0])


def test_a_missing_array_method_is_named():
    with pytest.raises(AttributeError, match=r"traced value has no \.item"):
        mg.grad(lambda x: mnp.sum(x.item()))(np.ones(1))
    with pytest.raises(AttributeError, match=r"no \.sort: .* Use mnp\.sort\(x, \.\.\.\)"):
        mg.grad(lambda x: mnp.sum(x.sort()))(np.ones(2))


def test_moveaxis_and_rollaxis_refuse_what_numpy_refuses():
    """A repeated axis, unequal source and destination, a start out of range: numpy
    raises; minigrad returned some transpose."""
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="repeated axis"):
        mnp.moveaxis(x, (0, -3), (1, 2))
    with pytest.raises(ValueError, match="same number"):
        mnp.moveaxis(x, (0, 1), (2,))
    with pytest.raises(np.exceptions.AxisError):
        mnp.rollaxis(x, 0, -4)


@pytest.mark.parametrize("call", [lambda m, x: m.take(x, [0, 0, -1], axis=-1),
                                  lambda m, x: m.repeat(x, 3, axis=0)], ids=["take", "repeat"])
def test_take_and_repeat_of_a_0d_array_along_axis_0(call):
    x = np.array(0.7)
    np.testing.assert_array_equal(call(mnp, x), call(np, x))
    np.testing.assert_array_equal(mg.jacrev(lambda x: call(mnp, x))(x), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("op", [mg.grad, mg.jacrev, mg.jacfwd])
def test_an_output_of_several_traced_values_is_named(op):
    """numpy's message for it spoke of a traced value converted to a plain array."""
    with pytest.raises(TypeError, match="returned a tuple of traced values"):
        op(lambda x: (mnp.sum(x), mnp.sum(x * x)))(np.ones(3))


@pytest.mark.parametrize("op", [mg.jacrev, mg.jacfwd])
def test_a_constant_tuple_output_has_a_zero_jacobian(op):
    np.testing.assert_array_equal(op(lambda x: (1.0, 2.0))(np.ones(3)), np.zeros((2, 3)))


def test_trace_over_any_two_axes_in_reverse_mode():
    """Reverse mode refused axes other than (0, 1), which forward mode took."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for args in [(1, 0, 2), (-1, 2, 0), (0, -1, -2)]:
        want = rp.numeric_jacobian(lambda z: np.trace(z, *args), [x], 0)
        np.testing.assert_allclose(mg.jacrev(lambda z: mnp.trace(z, *args))(x), want,
                                   atol=1e-8)


@pytest.mark.parametrize("fun", [lambda x: x + x, lambda x: x, lambda x: x * 2.0],
                         ids=["add", "identity", "multiply"])
def test_jvp_with_a_list_or_integer_tangent(fun):
    """A list tangent was added to itself by `t + t` (list concatenation) or reached
    numpy's dtype parser; an integer one came back in integers."""
    x = np.array([0.3, -1.2, 2.0])
    for t in ([1.0, 2.0, 3.0], np.array([1, 2, 3])):
        out, tangent = mg.jvp(fun, (x,), (t,))
        assert tangent.dtype == np.float64
        np.testing.assert_allclose(tangent, fun(np.array([1.0, 2.0, 3.0])))


@pytest.mark.parametrize("call", [
    lambda x: mnp.exp(x, out=np.zeros(3)), lambda x: np.exp(x, where=x > 0),
    lambda x: mnp.add(x, x, where=x > 0), lambda x: mnp.power(x, 2.0, dtype=np.float64)],
    ids=["out", "np-where", "where", "dtype"])
@pytest.mark.parametrize("op", [mg.jacrev, mg.jacfwd])
def test_ufunc_options_are_refused_by_name(call, op):
    """They reached the rules, which failed with 'maker() got an unexpected keyword'."""
    with pytest.raises(TypeError, match=r"without numpy's options \((out|where|dtype)=\)"):
        op(call)(np.array([0.3, -1.2, 2.0]))


def test_einsum_takes_optimize():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(mg.grad(lambda x: mnp.einsum("i,i", x, x, optimize=True))(x),
                               2 * x)


def test_numpy_functions_of_another_module_are_not_taken_for_numpys():
    """np.linalg.trace (over the last two axes) ran as np.trace (over the first two): a
    silently wrong value. Functions that are not numpy's own are refused."""
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    for op in (mg.jacrev, mg.jacfwd):
        with pytest.raises(TypeError, match=r"np\.linalg\.trace cannot be applied"):
            op(np.linalg.trace)(x)
    np.testing.assert_allclose(mg.grad(lambda x: np.sum(np.trace(x)))(x),
                               np.broadcast_to(np.eye(3)[:, :, None][:2], x.shape))
