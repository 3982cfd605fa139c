"""The differential operators: what they return, and how they nest."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp


def loss(W, x):
    return mnp.sum(mnp.tanh(W @ x) ** 2)


def test_grad_argnums_int_and_tuple(rng):
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    gW = mg.grad(loss)(W, x)
    gx = mg.grad(loss, argnums=1)(W, x)
    both = mg.grad(loss, argnums=(0, 1))(W, x)
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[0], gW)
    np.testing.assert_allclose(both[1], gx)
    np.testing.assert_allclose(gW, mg.numerical_gradient(lambda w: loss(w, x), W), rtol=1e-6)


def test_value_and_grad(rng):
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    value, g = mg.value_and_grad(loss)(W, x)
    assert value == pytest.approx(loss(W, x))
    np.testing.assert_allclose(g, mg.grad(loss)(W, x))


def test_vjp_returns_tuple_per_primal(rng):
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    out, f_vjp = mg.vjp(lambda W, x: mnp.tanh(W @ x), W, x)
    v = rng.standard_normal(3)
    gW, gx = f_vjp(v)
    d = v * (1 - np.tanh(W @ x) ** 2)
    np.testing.assert_allclose(out, np.tanh(W @ x))
    np.testing.assert_allclose(gW, np.outer(d, x))
    np.testing.assert_allclose(gx, W.T @ d)


def test_jvp_and_transpose_identity(rng):
    f = lambda a: mnp.sin(a) * mnp.sum(a ** 2)
    x, u, v = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    out, Ju = mg.jvp(f, (x,), (u,))
    _, f_vjp = mg.vjp(f, x)
    assert np.dot(v, Ju) == pytest.approx(np.dot(f_vjp(v)[0], u))


@pytest.mark.parametrize("in_shape,out_fn", [
    ((3,), lambda a: mnp.sin(a)), ((2, 3), lambda a: a @ np.ones((3, 4))),
    ((3,), lambda a: mnp.sum(a ** 3)), ((), lambda a: mnp.stack([a, a ** 2, mnp.exp(a)]))])
def test_jacobians_agree_with_numerical(in_shape, out_fn, rng):
    x = rng.standard_normal(in_shape)
    J_num = mg.numerical_jacobian(out_fn, x)
    for jac in (mg.jacrev, mg.jacfwd):
        J = jac(out_fn)(x)
        assert np.shape(J) == np.shape(out_fn(x)) + in_shape
        np.testing.assert_allclose(J, J_num, rtol=1e-6, atol=1e-8)


def test_jacobian_argnums_tuple(rng):
    f = lambda a, b: a * b
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    Ja, Jb = mg.jacrev(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(Ja, np.diag(b))
    np.testing.assert_allclose(mg.jacfwd(f, argnums=(0, 1))(a, b)[1], np.diag(a))


def test_hessian_of_quadratic_is_exact(rng):
    A = rng.standard_normal((4, 4))
    H = mg.hessian(lambda x: x @ A @ x)(rng.standard_normal(4))
    np.testing.assert_allclose(H, A + A.T, atol=1e-12)


def test_every_nesting_of_modes_agrees(rng):
    f = lambda x: mnp.sum(mnp.sin(x) * mnp.exp(x[::-1]))
    x = rng.standard_normal(3)
    H = [mg.jacfwd(mg.jacrev(f))(x), mg.jacrev(mg.jacrev(f))(x),
         mg.jacfwd(mg.jacfwd(f))(x), mg.jacrev(mg.jacfwd(f))(x), mg.hessian(f)(x),
         mg.jacfwd(mg.grad(f))(x)]
    for other in H[1:]:
        np.testing.assert_allclose(other, H[0], atol=1e-12)
    np.testing.assert_allclose(H[0], mg.numerical_jacobian(mg.grad(f), x), atol=1e-6)


def test_third_derivative():
    d3 = mg.grad(mg.grad(mg.grad(lambda x: x ** 4)))
    assert d3(2.0) == pytest.approx(24 * 2.0)


def test_grad_inside_function_closing_over_outer_traced_value():
    # d/dx [ d/dy (x * y) at y = 1 ] = d/dx x = 1: the inner grad must not confuse the two
    assert mg.grad(lambda x: mg.grad(lambda y: x * y)(1.0))(3.0) == 1.0
    # d/dx [ x * d/dy (x + y) ] = 1, not 2
    assert mg.grad(lambda x: x * mg.grad(lambda y: x + y)(x))(3.0) == 1.0


def test_grad_of_jvp(rng):
    f = lambda x: mnp.sum(mnp.tanh(x) ** 2)
    x, u = rng.standard_normal(4), rng.standard_normal(4)
    directional = lambda a: mg.jvp(f, (a,), (u,))[1]
    np.testing.assert_allclose(mg.grad(directional)(x), mg.hessian(f)(x) @ u, atol=1e-12)


def test_output_independent_of_input_gives_zeros():
    assert mg.grad(lambda x: 3.0)(1.0) == 0.0
    np.testing.assert_array_equal(mg.jacrev(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))
    assert mg.jvp(lambda x: 2.0, (1.0,), (1.0,))[1] == 0.0


def test_fan_out_accumulates():
    assert mg.grad(lambda x: x * x + x)(3.0) == pytest.approx(7.0)


def test_scalar_gradient_is_a_scalar():
    g = mg.grad(lambda x: x ** 2)(3.0)
    assert np.ndim(g) == 0 and g == 6.0
