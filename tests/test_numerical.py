"""Finite differences: orders of accuracy, shapes and values, error messages."""

import numpy as np
import pytest

from minigrad.numerical import (
    backward_difference,
    central_difference,
    convergence_order,
    directional_derivative,
    forward_difference,
    numerical_gradient,
    numerical_jacobian,
    rel_error,
    step_size_errors,
)

# Steps where truncation dominates round-off for sin/exp near x = 1 (errors >= 1e-9).
TRUNCATION_HS = np.logspace(-4, -2, 9)


# ---------------------------------------------------------------- orders of accuracy

@pytest.mark.parametrize("f, df, x", [(np.sin, np.cos, 1.0), (np.exp, np.exp, 0.3),
                                       (np.log, lambda x: 1 / x, 2.0)])
def test_order_of_accuracy(f, df, x):
    errors = step_size_errors(f, df, x, TRUNCATION_HS)
    assert convergence_order(TRUNCATION_HS, errors["forward"]) == pytest.approx(1, abs=0.1)
    assert convergence_order(TRUNCATION_HS, errors["backward"]) == pytest.approx(1, abs=0.1)
    assert convergence_order(TRUNCATION_HS, errors["central"]) == pytest.approx(2, abs=0.1)


def test_truncation_error_constants_match_taylor():
    # forward error ~ h |f''| / 2, central error ~ h**2 |f'''| / 6, at x = 1 for sin.
    h = 1e-3
    fwd_err = abs(forward_difference(np.sin, 1.0, h) - np.cos(1.0))
    cen_err = abs(central_difference(np.sin, 1.0, h) - np.cos(1.0))
    assert fwd_err == pytest.approx(h * np.sin(1.0) / 2, rel=1e-2)
    assert cen_err == pytest.approx(h ** 2 * np.cos(1.0) / 6, rel=1e-2)


def test_forward_and_backward_errors_have_opposite_signs():
    h = 1e-3
    fwd = forward_difference(np.exp, 0.0, h) - 1.0
    bwd = backward_difference(np.exp, 0.0, h) - 1.0
    assert fwd > 0 > bwd
    assert (forward_difference(np.exp, 0.0, h) + backward_difference(np.exp, 0.0, h)) / 2 == \
        pytest.approx(central_difference(np.exp, 0.0, h), rel=1e-12)


def test_round_off_takes_over_at_tiny_steps():
    hs = np.logspace(-14, -1, 53)
    errors = step_size_errors(np.sin, np.cos, 1.0, hs)
    central = errors["central"]
    best_h = hs[np.argmin(central)]
    eps = np.finfo(float).eps
    # The best central step is near eps**(1/3) ~ 6e-6, not at the smallest step.
    assert 1e-7 <= best_h <= 1e-3
    assert eps ** (1 / 3) / 100 < best_h < eps ** (1 / 3) * 100
    assert central[0] > 100 * central.min()
    # ... and the best one-sided step is near sqrt(eps) ~ 1.5e-8.
    best_fwd = hs[np.argmin(errors["forward"])]
    assert 1e-10 <= best_fwd <= 1e-6
    # Central at its best beats forward at its best by orders of magnitude.
    assert central.min() < errors["forward"].min() / 100


def test_step_size_errors_returns_requested_kinds_only():
    hs = [1e-2, 1e-3]
    errors = step_size_errors(np.sin, np.cos(1.0), 1.0, hs, kinds=("central",))
    assert list(errors) == ["central"]
    assert errors["central"].shape == (2,)
    assert np.all(errors["central"] > 0)


# ---------------------------------------------------------------- scalar derivatives

def test_scalar_differences_values():
    for diff in (forward_difference, backward_difference, central_difference):
        assert diff(lambda x: x ** 2, 3.0, h=1e-7) == pytest.approx(6.0, rel=1e-6)
    # A quadratic has no third derivative: central differences are exact up to round-off.
    assert central_difference(lambda x: 5 * x ** 2 - x, 2.0, h=1e-3) == pytest.approx(19.0, abs=1e-9)


def test_array_valued_f_gives_elementwise_derivative():
    d = central_difference(lambda t: np.array([t ** 2, np.sin(t), 3 * t]), 0.5)
    assert d.shape == (3,)
    np.testing.assert_allclose(d, [1.0, np.cos(0.5), 3.0], rtol=1e-8)


def test_elementwise_f_on_a_grid():
    xs = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(central_difference(np.tanh, xs), 1 - np.tanh(xs) ** 2, rtol=1e-8)


def test_integer_input_is_converted_to_float():
    # Stepping an int array would truncate x + h back to x and give 0.
    assert central_difference(lambda x: x ** 3, 2) == pytest.approx(12.0, rel=1e-8)
    g = numerical_gradient(lambda x: np.sum(x ** 2), np.array([1, 2, 3]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0], rtol=1e-8)


def test_callers_array_is_not_modified():
    x = np.array([1.0, 2.0])
    before = x.copy()
    numerical_gradient(lambda z: np.sum(z ** 2), x)
    numerical_jacobian(lambda z: z * 2, x, kind="forward")
    np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------- gradients and Jacobians

@pytest.mark.parametrize("kind, tol", [("central", 1e-8), ("forward", 1e-5), ("backward", 1e-5)])
def test_gradient_of_quadratic_form(kind, tol):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    g = numerical_gradient(lambda z: z @ A @ z, x, kind=kind)
    assert g.shape == (4,)
    np.testing.assert_allclose(g, (A + A.T) @ x, rtol=tol, atol=tol)


def test_gradient_of_matrix_input_has_its_shape():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 4))
    g = numerical_gradient(lambda w: np.sum(np.tanh(w) ** 2), W)
    assert g.shape == (3, 4)
    t = np.tanh(W)
    np.testing.assert_allclose(g, 2 * t * (1 - t ** 2), rtol=1e-7, atol=1e-9)


def test_gradient_of_scalar_input():
    g = numerical_gradient(lambda z: z ** 3, 2.0)
    assert np.shape(g) == ()
    assert g == pytest.approx(12.0, rel=1e-8)


def test_jacobian_of_matrix_product_shape_and_values():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((2, 3))
    B = rng.standard_normal((3, 5))
    J = numerical_jacobian(lambda a: a @ B, A)
    assert J.shape == (2, 5, 2, 3)
    # d(AB)[i, k] / dA[j, l] = [i == j] B[l, k]
    expected = np.einsum("ij,lk->ikjl", np.eye(2), B)
    np.testing.assert_allclose(J, expected, atol=1e-8)


def test_jacobian_of_elementwise_map_is_diagonal():
    x = np.array([0.1, -0.7, 1.3])
    J = numerical_jacobian(np.exp, x)
    np.testing.assert_allclose(J, np.diag(np.exp(x)), atol=1e-8)


def test_jacobian_of_scalar_function_is_gradient():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    f = lambda z: np.sum(np.sin(z))
    np.testing.assert_allclose(numerical_jacobian(f, x), numerical_gradient(f, x))


def test_directional_derivative_matches_jacobian_vector_product():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2))
    v = rng.standard_normal((3, 2))
    f = lambda z: np.cumsum(np.sin(z) * z, axis=0)
    J = numerical_jacobian(f, x)
    jv = directional_derivative(f, x, v)
    assert jv.shape == (3, 2)
    np.testing.assert_allclose(jv, np.tensordot(J, v, axes=2), rtol=1e-7, atol=1e-8)
    # Linear in the direction, whatever its scale.
    np.testing.assert_allclose(directional_derivative(f, x, 1e3 * v), 1e3 * jv, rtol=1e-7)
    np.testing.assert_allclose(directional_derivative(f, x, 0 * v), np.zeros((3, 2)))


# ---------------------------------------------------------------- rel_error

def test_rel_error_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(1.0, 1.001) == pytest.approx(0.001 / 2.001)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    # The 1e-8 floor: tiny absolute differences near zero are not blown up.
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-4)
    assert rel_error([1.0, -1.0], [1.0, 1.0]) == pytest.approx(1.0)


# ---------------------------------------------------------------- error messages

def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match=r"unknown difference kind 'centre'.*forward.*central"):
        numerical_gradient(lambda z: np.sum(z), np.ones(2), kind="centre")
    with pytest.raises(ValueError, match="unknown difference kind"):
        step_size_errors(np.sin, np.cos, 1.0, [1e-3], kinds=("left",))


def test_gradient_of_vector_output_points_to_jacobian():
    with pytest.raises(ValueError, match=r"scalar.*shape \(3,\).*numerical_jacobian"):
        numerical_gradient(lambda z: z * 2, np.ones(3))


def test_rel_error_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape.*\(3, 1\) and \(3,\)"):
        rel_error(np.ones((3, 1)), np.ones(3))


@pytest.mark.parametrize("h", [0.0, -1e-3, np.inf, np.nan, "1e-6"])
def test_bad_step_is_refused(h):
    with pytest.raises(ValueError, match="positive finite"):
        central_difference(np.sin, 1.0, h=h)


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="complex"):
        numerical_gradient(lambda z: np.sum(z), np.array([1 + 1j]))
    with pytest.raises(TypeError, match="real number"):
        forward_difference(np.sin, "1.0")
    with pytest.raises(ValueError, match="NaN or inf"):
        central_difference(np.sin, np.nan)
    with pytest.raises(ValueError, match=r"direction v has shape \(2,\) but x has shape \(3,\)"):
        directional_derivative(np.sin, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="same length"):
        convergence_order([1e-3, 1e-2], [1.0])
