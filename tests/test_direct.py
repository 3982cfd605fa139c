"""A few exact numbers, in case a checker ever lets everything pass."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from conftest import gaussian


def test_deck_simple_example():
    # f(x, y, z) = (x + y) z at (-2, 5, -4): df/dx = df/dy = z = -4, df/dz = x + y = 3
    f = lambda x, y, z: (x + y) * z
    assert mg.grad(f, argnums=(0, 1, 2))(-2.0, 5.0, -4.0) == (-4.0, -4.0, 3.0)


def test_deck_sigmoid_example():
    # w = (2, -3, -3), x = (-1, -2): the neuron's input is 1, sigmoid(1) = 0.7311,
    # and d sigma / d input = sigma (1 - sigma) = 0.1966
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    f = lambda w: 1.0 / (1.0 + mnp.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
    g = mg.grad(f)(w)
    np.testing.assert_allclose(g, [-0.19661193, -0.39322387, 0.19661193], rtol=1e-7)


def test_exact_values():
    assert mg.grad(mnp.sin)(0.0) == 1.0
    assert mg.grad(mnp.exp)(0.0) == 1.0
    assert mg.grad(mnp.log)(2.0) == 0.5
    assert mg.grad(lambda x: x ** 3)(2.0) == 12.0
    assert mg.grad(mnp.tanh)(0.0) == 1.0
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sum(x * np.arange(3.0)))(np.ones(3)),
                                  [0.0, 1.0, 2.0])
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(mg.jacrev(lambda x: A @ x)(np.ones(2)), A)
    np.testing.assert_array_equal(mg.jacfwd(lambda x: A @ x)(np.ones(2)), A)
    assert mg.jvp(lambda x: x ** 2, (3.0,), (1.0,)) == (9.0, 6.0)


def test_gaussian_log_density_program():
    # The slides' program: c = log s + log(2 pi)/2 + ((x - m)/s)^2 / 2
    dx, dm, ds = mg.grad(gaussian, argnums=(0, 1, 2))(3.0, 1.0, 2.0)
    assert dx == pytest.approx(0.5) and dm == pytest.approx(-0.5)
    assert ds == pytest.approx(1 / 2 - 4 / 8)
