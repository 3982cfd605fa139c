"""Every mistake a student makes often gets a message that names the fix."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp


def test_grad_of_vector_output_points_to_jacrev_and_vjp():
    with pytest.raises(TypeError, match=r"jacrev.*vjp"):
        mg.grad(mnp.sin)(np.ones(3))


@mg.primitive
def cube(x):
    return x ** 3


def test_missing_rules_name_the_primitive_and_the_fix():
    with pytest.raises(NotImplementedError, match=r"'cube'.*mg\.defvjp\(cube"):
        mg.grad(cube)(2.0)
    with pytest.raises(NotImplementedError, match=r"'cube'.*mg\.defjvp\(cube"):
        mg.jvp(cube, (2.0,), (1.0,))


def test_student_primitive_with_rules():
    @mg.primitive
    def cube2(x):
        return x ** 3
    mg.defvjp(cube2, lambda ans, x: lambda g: g * 3 * x ** 2)
    mg.defjvp(cube2, lambda t, ans, x: t * 3 * x ** 2)
    mg.check_grads(cube2, (np.array([0.5, -1.2, 2.0]),), order=2, seed=0)


def test_wrong_shape_from_a_rule_suggests_unbroadcast():
    @mg.primitive
    def add_row(x, row):
        return x + row
    mg.defvjp(add_row, lambda ans, x, row: lambda g: g, lambda ans, x, row: lambda g: g)
    with pytest.raises(ValueError, match=r"'add_row'.*argument 1.*unbroadcast"):
        mg.grad(lambda x, r: mnp.sum(add_row(x, r)), argnums=1)(np.ones((3, 4)), np.ones(4))


def test_transposed_shape_from_a_rule_is_named():
    @mg.primitive
    def scale(x):
        return 2.0 * x
    mg.defvjp(scale, lambda ans, x: lambda g: 2.0 * g.T)
    with pytest.raises(ValueError, match="transposed"):
        mg.grad(lambda x: mnp.sum(scale(x)))(np.ones((2, 3)))


@pytest.mark.parametrize("x", [3, np.arange(3), True])
def test_integer_inputs(x):
    with pytest.raises(TypeError, match="float"):
        mg.grad(lambda a: mnp.sum(a * 1.0))(x)


def test_debug_nans_names_the_primitive():
    f = lambda x: mnp.sum(mnp.sqrt(x - 2.0))
    with np.errstate(invalid="ignore"):
        assert np.isnan(f(np.ones(2)))
        with mg.debug_nans(), pytest.raises(FloatingPointError, match="'sqrt'"):
            mg.grad(f)(np.ones(2))


def test_debug_nans_in_the_backward_pass():
    @mg.primitive
    def bad(x):
        return x * 1.0
    mg.defvjp(bad, lambda ans, x: lambda g: g * np.nan)
    with mg.debug_nans(), pytest.raises(FloatingPointError, match="backward.*'bad'"):
        mg.grad(lambda x: mnp.sum(bad(x)))(np.ones(2))


def test_unknown_numpy_function_on_traced_value():
    with pytest.raises(TypeError, match=r"np\.linalg|minigrad"):
        mg.grad(lambda x: np.linalg.norm(x))(np.ones(3))


def test_numpy_array_of_traced_values_says_use_mnp():
    with pytest.raises(TypeError, match="minigrad.numpy"):
        mg.grad(lambda x: np.sum(np.asarray([x, x])))(1.0)


def test_bad_cotangent_and_tangent_shapes():
    _, f_vjp = mg.vjp(mnp.sin, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        f_vjp(np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        mg.jvp(mnp.sin, (np.ones(3),), (np.ones(2),))


def test_bad_argnums():
    with pytest.raises(ValueError, match="argnums"):
        mg.grad(lambda x: x, argnums=2)(1.0)


def test_rules_for_a_plain_function_are_refused():
    def cube3(x):
        return x ** 3
    with pytest.raises(TypeError, match=r"@mg\.primitive"):
        mg.defvjp(cube3, lambda ans, x: lambda g: g * 3 * x ** 2)
    with pytest.raises(TypeError, match=r"@mg\.primitive"):
        mg.defjvp(cube3, lambda t, ans, x: t * 3 * x ** 2)
    with pytest.raises(TypeError, match="argument 0"):
        mg.defvjp(cube, 3.0)
