"""The numpy a student reaches for, differentiated like HIPS autograd differentiates it.

Every case is run on random inputs: minigrad's reverse-mode gradient of a random linear
read-out of the function is compared with autograd's (an independent implementation),
or with central differences where autograd cannot differentiate the call; then
`check_grads` checks both modes to second order against finite differences.
"""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from conftest import SHAPES

POSITIVE = "positive"


def _draw(rng, shape, domain):
    z = rng.standard_normal(shape)
    if domain == POSITIVE:
        return np.abs(z) + 0.5
    if domain == "unit":
        return 0.8 * np.tanh(z)
    if domain == "away":                     # away from 0 and from kinks at integers
        return np.sign(z) * (np.abs(z) % 0.6 + 0.2) + 3.0 * np.round(z)
    return z


def _oracle(name, call, args, w, argnum):
    """d sum(f(args) * w) / d args[argnum] by central differences, and by autograd where
    autograd can differentiate the call and agrees with the differences (on some calls,
    such as tile over more axes than the array has, cross of broadcast operands or
    repeat with a negative axis, autograd 1.9 itself returns a wrong gradient)."""
    fn = getattr(np, name)

    def scalar(z):
        full = list(args)
        full[argnum] = z
        return np.sum(call(fn, *full) * w)
    numeric = mg.numerical_gradient(scalar, args[argnum], 1e-6)
    fa = getattr(anp, name, None)
    if fa is not None:
        try:
            exact = autograd.grad(lambda *a: anp.sum(call(fa, *a) * w), argnum)(*args)
        except Exception:    # noqa: BLE001  (autograd lacks this form)
            return numeric, None
        if np.shape(exact) == np.shape(numeric) and np.allclose(exact, numeric, rtol=1e-5,
                                                                atol=1e-6):
            return numeric, exact
    return numeric, None


def _compare(rng, name, call, args, order=2):
    fm = getattr(mnp, name)
    out = call(getattr(np, name), *args)
    w = rng.standard_normal(np.shape(out))
    for k, x in enumerate(args):
        if not (isinstance(x, np.ndarray) or isinstance(x, float)):
            continue
        got = mg.grad(lambda *a: mnp.sum(call(fm, *a) * w), k)(*args)
        numeric, exact = _oracle(name, call, args, w, k)
        np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{name}: argument {k}, central differences")
        if exact is not None:
            np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name}: argument {k}, autograd")
    np.testing.assert_allclose(call(fm, *args), out, rtol=1e-12)
    float_args = tuple(k for k, x in enumerate(args) if isinstance(x, (np.ndarray, float)))
    mg.check_grads(lambda *a: call(fm, *a), args, order=order, argnums=float_args, seed=0)


UNARY = [("exp2", None), ("reciprocal", POSITIVE), ("deg2rad", None), ("rad2deg", None),
         ("radians", None), ("degrees", None), ("sinc", None), ("fabs", "away"),
         ("cbrt", POSITIVE)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,domain", UNARY, ids=lambda v: str(v))
def test_new_unary_functions(name, domain, shape, rng):
    _compare(rng, name, lambda f, x: f(x), (_draw(rng, shape, domain),))


BINARY = [("remainder", "away", POSITIVE), ("mod", "away", POSITIVE),
          ("fmod", "away", POSITIVE), ("arctan2", None, None), ("hypot", None, None),
          ("logaddexp", None, None), ("logaddexp2", None, None), ("fmax", None, None),
          ("fmin", None, None)]
BINARY_SHAPES = [((), ()), ((4,), (4,)), ((3, 4), (3, 4)), ((3, 4), (1, 4)),
                 ((1, 4), (3, 1)), ((4,), (3, 4)), ((), (3, 4))]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,dx,dy", BINARY, ids=lambda v: str(v))
def test_new_binary_functions(name, dx, dy, shapes, rng):
    x, y = _draw(rng, shapes[0], dx), _draw(rng, shapes[1], dy)
    if name in ("remainder", "mod", "fmod"):
        y = y + 1.3               # keep x / y away from the integers where the jumps are
    _compare(rng, name, lambda f, a, b: f(a, b), (x, y))


def test_sinc_at_zero_to_second_order():
    """0/0 at the origin: the slope there is 0 and the curvature -pi^2/3."""
    assert mg.grad(mnp.sinc)(0.0) == 0.0
    np.testing.assert_allclose(mg.grad(mg.grad(mnp.sinc))(0.0), -np.pi ** 2 / 3, rtol=1e-12)
    xs = np.array([-2e-3, -1e-3, -5e-4, 0.0, 5e-4, 1e-3, 2e-3, 0.3])
    got = mg.jacfwd(mnp.sinc)(xs).diagonal()
    with np.errstate(all="ignore"):          # autograd's own rule is 0/0 at the origin
        want = autograd.elementwise_grad(anp.sinc)(xs)
    assert got[3] == 0.0 and np.isnan(want[3])
    np.testing.assert_allclose(np.delete(got, 3), np.delete(want, 3), rtol=1e-9)


def test_fmax_and_fmin_pass_the_other_argument_through_a_nan():
    x, y = np.array([1.0, np.nan, 3.0]), np.array([np.nan, 2.0, 1.0])
    gx, gy = mg.grad(lambda a, b: mnp.sum(mnp.fmax(a, b) * np.array([1.0, 2.0, 3.0])),
                     (0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(gy, [0.0, 2.0, 0.0])


def test_power_with_a_zero_base():
    """d/dx x ** 0 = 0 everywhere, and d/dx x ** 2 at 0 is 0 (no 0 * inf)."""
    x = np.array([0.0, 1.5, 0.0])
    for y in (0.0, 1.0, 2.0, 3.0):
        got = mg.grad(lambda a: mnp.sum(mnp.power(a, y)))(x)
        want = autograd.grad(lambda a: anp.sum(anp.power(a, y)))(x)
        np.testing.assert_array_equal(got, want)
        assert np.all(np.isfinite(mg.hessian(lambda a: mnp.sum(a ** y))(x)))


# name, call(f, *args), argument shapes, domain
SHAPED = [
    ("moveaxis", lambda f, x: f(x, 0, -1), [(2, 3, 4)]),
    ("moveaxis", lambda f, x: f(x, (0, 2), (2, 0)), [(2, 3, 4)]),
    ("rollaxis", lambda f, x: f(x, 2), [(2, 3, 4)]),
    ("rollaxis", lambda f, x: f(x, 0, 3), [(2, 3, 4)]),
    ("repeat", lambda f, x: f(x, 3), [(2, 3)]),
    ("repeat", lambda f, x: f(x, [1, 0, 2], axis=1), [(2, 3)]),
    ("repeat", lambda f, x: f(x, 2, axis=-2), [(2, 3)]),
    ("tile", lambda f, x: f(x, 2), [(3,)]),
    ("tile", lambda f, x: f(x, (2, 1, 3)), [(2, 3)]),
    ("tile", lambda f, x: f(x, (2, 2)), [(2, 3, 2)]),
    ("diff", lambda f, x: f(x), [(5,)]),
    ("diff", lambda f, x: f(x, n=2, axis=0), [(5, 3)]),
    ("diff", lambda f, x: f(x, axis=-1, prepend=0.5), [(2, 4)]),
    ("kron", lambda f, a, b: f(a, b), [(2, 3), (3, 2)]),
    ("kron", lambda f, a, b: f(a, b), [(3,), (2, 2)]),
    ("inner", lambda f, a, b: f(a, b), [(4,), (4,)]),
    ("inner", lambda f, a, b: f(a, b), [(2, 4), (3, 4)]),
    ("cross", lambda f, a, b: f(a, b), [(3,), (3,)]),
    ("cross", lambda f, a, b: f(a, b), [(4, 3), (3,)]),
    ("cross", lambda f, a, b: f(a, b, axis=0), [(3, 4), (3, 4)]),
    ("cross", lambda f, a, b: f(a, b), [(4, 2), (4, 2)]),
    ("cross", lambda f, a, b: f(a, b), [(4, 2), (4, 3)]),
    ("sort", lambda f, x: f(x), [(6,)]),
    ("sort", lambda f, x: f(x, axis=0), [(4, 3)]),
    ("sort", lambda f, x: f(x, axis=None), [(4, 3)]),
    ("partition", lambda f, x: f(x, 2), [(6,)]),
    ("partition", lambda f, x: f(x, 1, axis=0), [(4, 3)]),
    ("atleast_1d", lambda f, x: f(x), [()]),
    ("atleast_2d", lambda f, x: f(x), [(3,)]),
    ("atleast_3d", lambda f, x: f(x), [(3,)]),
    ("atleast_3d", lambda f, x: f(x), [(2, 3)]),
    ("tril", lambda f, x: f(x), [(4, 4)]),
    ("tril", lambda f, x: f(x, k=-1), [(3, 5)]),
    ("triu", lambda f, x: f(x, 1), [(4, 3)]),
    ("triu", lambda f, x: f(x), [(2, 3, 3)]),
    ("split", lambda f, x: f(x, 3)[1] * 2.0 + f(x, 3)[2], [(6, 2)]),
    ("split", lambda f, x: f(x, [1, 3], axis=1)[1], [(2, 5)]),
    ("array_split", lambda f, x: f(x, 3)[0], [(7,)]),
    ("array_split", lambda f, x: f(x, 3, axis=1)[2], [(2, 7)]),
    ("hsplit", lambda f, x: f(x, 2)[1], [(3, 4)]),
    ("vsplit", lambda f, x: f(x, 3)[2], [(3, 4)]),
    ("dsplit", lambda f, x: f(x, 2)[0], [(2, 3, 4)]),
    ("hstack", lambda f, a, b: f([a, b]), [(3,), (2,)]),
    ("hstack", lambda f, a, b: f((a, b)), [(2, 3), (2, 1)]),
    ("vstack", lambda f, a, b: f([a, b]), [(3,), (3,)]),
    ("vstack", lambda f, a, b: f([a, b]), [(2, 3), (1, 3)]),
    ("dstack", lambda f, a, b: f([a, b]), [(2, 3), (2, 3)]),
    ("column_stack", lambda f, a, b: f([a, b]), [(3,), (3, 2)]),
    ("take", lambda f, x: f(x, [0, 2, 2, 1]), [(2, 3)]),
    ("take", lambda f, x: f(x, [1, 0, 1], axis=1), [(2, 3)]),
    ("take_along_axis", lambda f, x: f(x, np.argsort(x._value if hasattr(x, "_value")
                                                     else x, axis=0), axis=0), [(4, 3)]),
    ("roll", lambda f, x: f(x, 2), [(2, 3)]),
    ("roll", lambda f, x: f(x, -1, axis=1), [(2, 3)]),
    ("roll", lambda f, x: f(x, (1, 2), axis=(0, 1)), [(2, 3)]),
    ("average", lambda f, x: f(x, axis=0), [(3, 4)]),
    ("average", lambda f, x, w: f(x, axis=1, weights=w), [(3, 4), (4,)]),
    ("concatenate", lambda f, a, b: f([a, b], axis=None), [(2, 3), (4,)]),
    ("concatenate", lambda f, a, b: f((a, b), axis=-1), [(2, 3), (2, 2)]),
]


@pytest.mark.parametrize("case", range(len(SHAPED)),
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SHAPED)])
def test_shape_and_selection_functions(case, rng):
    name, call, shapes = SHAPED[case]
    args = tuple(_draw(rng, s, POSITIVE if name == "average" else None) for s in shapes)
    _compare(rng, name, call, args)


# -- bugs that once gave a silently wrong gradient or a crash -------------------------

@pytest.mark.parametrize("order", ["F", "A", "C"])
def test_reshape_and_ravel_in_every_order(order, rng):
    """'A' reads in memory order: on this Fortran-ordered array it means 'F'. (Finite
    differences perturb C-ordered copies, so for 'A' the oracle is the 'F' form.)"""
    x = np.asfortranarray(rng.standard_normal((2, 3)))
    w = rng.standard_normal(6)
    forms = [lambda m, z, o: m.ravel(z, order=o), lambda m, z, o: z.ravel(order=o),
             lambda m, z, o: m.reshape(z, -1, order=o),
             lambda m, z, o: z.reshape(3, 2, order=o).reshape(6),
             lambda m, z, o: z.flatten(order=o)]
    for form in forms:
        got = mg.grad(lambda z: mnp.sum(form(mnp, z, order) * w))(x)
        plain = "F" if order == "A" else order
        want = autograd.grad(lambda z: anp.sum(form(anp, z, plain) * w))(x)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        t = rng.standard_normal(x.shape)
        np.testing.assert_allclose(mg.jvp(lambda z: form(mnp, z, order), (x,), (t,))[1],
                                   form(np, t, plain), rtol=1e-12)
        if order != "A":
            mg.check_grads(lambda z: form(mnp, z, order), (x,), seed=0)


def test_transpose_with_negative_axes(rng):
    for shape, axes in [((3, 3), (-1, 0)), ((2, 3, 4), (-1, 0, -2)), ((2, 3, 4), (1, -1, 0))]:
        x = rng.standard_normal(shape)
        w = rng.standard_normal(np.transpose(x, axes).shape)
        for form in (lambda m, z: m.transpose(z, axes), lambda m, z: z.transpose(*axes)):
            got = mg.grad(lambda z: mnp.sum(form(mnp, z) * w))(x)
            inverse = np.argsort(np.array(axes) % len(shape))
            np.testing.assert_allclose(got, np.transpose(w, inverse), rtol=1e-12)
            mg.check_grads(lambda z: form(mnp, z), (x,), seed=0)


def test_clip_bounds_by_keyword_traced_and_broadcast(rng):
    x = rng.standard_normal((3, 4)) * 2
    lo, hi = -0.5 + 0.1 * rng.standard_normal(4), 0.7 + 0.1 * rng.standard_normal((3, 1))
    w = rng.standard_normal((3, 4))
    forms = [lambda m, a, b, c: m.clip(a, b, c), lambda m, a, b, c: m.clip(a, a_min=b, a_max=c),
             lambda m, a, b, c: m.clip(a, min=b, max=c), lambda m, a, b, c: a.clip(b, c),
             lambda m, a, b, c: a.clip(max=c)]
    for form in forms:
        np.testing.assert_allclose(form(mnp, x, lo, hi), form(np, x, lo, hi))
        for k in range(3):
            got = mg.grad(lambda *a: mnp.sum(form(mnp, *a) * w), k)(x, lo, hi)
            want = mg.numerical_gradient(lambda z: np.sum(form(np, *[
                z if i == k else v for i, v in enumerate((x, lo, hi))]) * w),
                (x, lo, hi)[k])
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=f"arg {k}")
        mg.check_grads(lambda *a: form(mnp, *a), (x, lo, hi), seed=0)
    # a bound that broadcasts x larger
    small = rng.standard_normal(4)
    g = mg.grad(lambda a, c: mnp.sum(mnp.clip(a, -0.3, c) * w), (0, 1))(small, hi)
    assert g[0].shape == (4,) and g[1].shape == (3, 1)
    mg.check_grads(lambda a, c: mnp.clip(a, -0.3, c), (small, hi), seed=1)


def test_prod_with_zeros(rng):
    for x, axis in [(np.array([2.0, 0.0, 3.0, 5.0]), None),
                    (np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 2.0], [1.0, 2.0, 3.0]]), 1),
                    (np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 2.0], [1.0, 2.0, 3.0]]), 0),
                    (np.array([[0.0, 2.0], [1.5, -1.0]]), None),
                    (rng.standard_normal((2, 3, 2)) * (rng.random((2, 3, 2)) > 0.3), (0, 2))]:
        f = lambda z: mnp.prod(z, axis=axis)   # noqa: E731
        w = rng.standard_normal(np.shape(np.prod(x, axis=axis)))
        got = mg.grad(lambda z: mnp.sum(f(z) * w))(x)
        want = _gradient_of_weighted_prod(x, axis, w)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        t = rng.standard_normal(x.shape)
        np.testing.assert_allclose(mg.jvp(f, (x,), (t,))[1],
                                   mg.numerical.directional_derivative(f, x, t, 1e-6),
                                   rtol=1e-6, atol=1e-9)
        # second order: the Jacobian of that gradient, by central differences (it is
        # polynomial, so they are exact up to round-off)
        H = mg.hessian(lambda z: mnp.sum(f(z) * w))(x)
        Hn = mg.numerical_jacobian(lambda z: _gradient_of_weighted_prod(z, axis, w), x)
        np.testing.assert_allclose(H, Hn, rtol=1e-6, atol=1e-8)


def _gradient_of_weighted_prod(x, axis, w):
    """d sum(prod(x, axis) * w) / dx by its definition: entry i gets the weight of its
    slice times the product of the slice with x_i replaced by 1 (no division, so zeros
    are no special case). autograd 1.9 returns NaN here."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        y = x.copy()
        y[i] = 1.0
        e = np.zeros_like(x)
        e[i] = 1.0
        # prod(y) is the product of the others in i's slice; pick out i's slice's weight
        slice_weight = np.sum(np.broadcast_to(np.reshape(w, np.shape(np.prod(x, axis=axis,
                                                                         keepdims=True))),
                                              x.shape) * e)
        out[i] = slice_weight * np.sum(np.prod(y, axis=axis, keepdims=True)
                                       * np.any(e, axis=axis, keepdims=True))
    return out


def test_einsum_broadcasting_ellipsis_and_repeated_indices(rng):
    cases = [("ij,ij->i", (3, 1), (3, 4)), ("ij,kj->ikj", (2, 1), (1, 3)),
             ("ii->i", (3, 3)), ("ii", (3, 3)), ("iij,j->i", (2, 2, 3), (1,)),
             ("...ij,...jk->...ik", (5, 2, 3), (3, 4)), ("...i,...i->...", (2, 3), (3,)),
             ("i...,i...", (2, 3), (2, 1)), ("bij,bjk", (2, 2, 3), (2, 3, 4))]
    for spec, *shapes in cases:
        xs = [rng.standard_normal(s) for s in shapes]
        w = rng.standard_normal(np.shape(np.einsum(spec, *xs)))
        for k in range(len(xs)):
            got = mg.grad(lambda *a: mnp.sum(mnp.einsum(spec, *a) * w), k)(*xs)

            def read_out(z):
                a = list(xs)
                a[k] = z
                return np.sum(np.einsum(spec, *a) * w)
            np.testing.assert_allclose(got, mg.numerical_gradient(read_out, xs[k], 1e-6),
                                       rtol=1e-6, atol=1e-8, err_msg=f"{spec} operand {k}")
        mg.check_grads(lambda *a: mnp.einsum(spec, *a), tuple(xs), seed=0)


def test_hessian_with_several_argnums_gives_blocks_like_jax(rng):
    def f(x, y):
        return mnp.sum(x ** 2 * y[0]) + mnp.sum(mnp.sin(y)) * x[1]

    def fa(x, y):
        return anp.sum(x ** 2 * y[0]) + anp.sum(anp.sin(y)) * x[1]
    x, y = rng.standard_normal(2), rng.standard_normal(3)
    H = mg.hessian(f, argnums=(0, 1))(x, y)
    assert [[b.shape for b in row] for row in H] == [[(2, 2), (2, 3)], [(3, 2), (3, 3)]]
    for i in range(2):
        for j in range(2):
            want = autograd.jacobian(autograd.grad(fa, i), j)(x, y)
            np.testing.assert_allclose(H[i][j], want, rtol=1e-12, atol=1e-14)


def test_keyword_arrays_and_writes_into_plain_arrays(rng):
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(mg.grad(lambda z: mnp.sum(a=z ** 2))(x), 2 * x)
    np.testing.assert_allclose(mg.grad(lambda z: np.sum(a=z ** 2, axis=0).sum())(x), 2 * x)

    def written(z):
        buf = np.zeros(3)
        buf[0] = z[0, 0]
        return mnp.sum(buf)
    with pytest.raises(TypeError, match="written into a plain numpy array"):
        mg.grad(written)(x)
    with pytest.raises(TypeError, match="written into a plain numpy array"):
        mg.jvp(written, (x,), (x,))


@pytest.mark.parametrize("op", ["grad", "jacrev", "jacfwd", "hessian", "vjp", "jvp",
                                "value_and_grad"])
def test_float32_in_float32_out(op, rng):
    x = rng.standard_normal(3).astype(np.float32)
    f = lambda z: mnp.sum(mnp.tanh(z) ** 2)   # noqa: E731
    results = {
        "grad": lambda: mg.grad(f)(x),
        "value_and_grad": lambda: mg.value_and_grad(f)(x)[1],
        "jacrev": lambda: mg.jacrev(mnp.tanh)(x),
        "jacfwd": lambda: mg.jacfwd(mnp.tanh)(x),
        "hessian": lambda: mg.hessian(f)(x),
        "vjp": lambda: mg.vjp(mnp.tanh, x)[1](np.ones(3))[0],
        "jvp": lambda: mg.jvp(mnp.tanh, (x,), (np.ones(3, np.float32),))[1],
    }
    assert results[op]().dtype == np.float32
    assert mg.grad(lambda z: z * 2.0)(np.float32(1.5)).dtype == np.float32
    assert mg.grad(lambda z: z * 2.0)(np.float64(1.5)).dtype == np.float64


def test_check_grads_names_a_constant_factor_only_when_entries_share_it():
    @mg.primitive
    def softsign(x):
        return x / (1.0 + np.abs(x))

    mg.defvjp(softsign, lambda ans, x: lambda g: 3.0 * g / (1.0 + mnp.abs(x)) ** 2)
    mg.defjvp(softsign, lambda t, ans, x: 3.0 * t / (1.0 + mnp.abs(x)) ** 2)
    with pytest.raises(AssertionError) as scalar:
        mg.check_grads(softsign, (0.7,), order=1, seed=0)
    assert "off by a constant factor" not in str(scalar.value)
    assert "one number shows no pattern" in str(scalar.value)
    with pytest.raises(AssertionError) as vector:
        mg.check_grads(softsign, (np.array([0.3, -1.2, 2.0]),), order=1, seed=0)
    assert "off by a constant factor: analytic = 3 x numeric" in str(vector.value)
    # a wrong rule that is not a multiple: no factor is claimed for a vector either
    mg.defvjp(softsign, lambda ans, x: lambda g: g / (1.0 + mnp.abs(x)))
    with pytest.raises(AssertionError) as other:
        mg.check_grads(softsign, (np.array([0.3, -1.2, 2.0]),), order=1, modes="rev", seed=0)
    assert "constant factor:" not in str(other.value)


@pytest.mark.parametrize("call", [
    lambda m: m.sort(np.array(1.0), axis=-1),
    lambda m: m.partition(np.array(1.0), 0, axis=-1),
    lambda m: m.take_along_axis(np.array(1.0), np.array(0), -1),
    lambda m: m.vsplit(np.arange(4.0), 2),
    lambda m: m.dsplit(np.ones((2, 2)), 2),
], ids=["sort 0-d", "partition 0-d", "take_along_axis 0-d", "vsplit 1-d", "dsplit 2-d"])
def test_what_numpy_refuses_minigrad_refuses_too(call):
    with pytest.raises(Exception) as theirs:
        call(np)
    with pytest.raises(type(theirs.value)) as ours:
        call(mnp)
    assert str(ours.value) == str(theirs.value)


def test_astype_changes_precision_and_the_derivative_comes_back_in_the_inputs():
    x = np.array([1.0, -2.0, 3.0])
    g = mg.grad(lambda x: mnp.sum(x.astype(np.float32) ** 2))(x)
    assert g.dtype == np.float64 and np.allclose(g, 2 * x)
    g32 = mg.grad(lambda x: mnp.sum(mnp.sin(x.astype(np.float64))))(x.astype(np.float32))
    assert g32.dtype == np.float32 and np.allclose(g32, np.cos(x), atol=1e-6)
    out, t = mg.jvp(lambda x: x.astype(np.float32) * 3.0, (x,), (np.ones(3),))
    assert out.dtype == np.float32 and np.allclose(t, 3.0)
    assert np.allclose(mg.hessian(lambda x: mnp.sum(x.astype(np.float32) ** 3))(x),
                       np.diag(6 * x))
    assert np.allclose(mg.jacfwd(lambda x: x.astype(np.float32))(x), np.eye(3))
    assert np.allclose(mg.grad(lambda x: mnp.sum(np.astype(x, np.float32) ** 2))(x), 2 * x)


def test_astype_to_integers_is_refused_and_copy_is_the_value():
    x = np.array([1.5, 2.5])
    with pytest.raises(TypeError, match="cut it out of the derivative"):
        mg.grad(lambda x: mnp.sum(x.astype(int)))(x)
    assert np.allclose(mg.grad(lambda x: mnp.sum(x.copy() * x))(x), 2 * x)
