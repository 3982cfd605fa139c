"""Problem set 1: difference quotients, numerical gradients and Jacobians, orders."""

import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package (see __init__).
__builtins__ = dict(vars(_builtins_module))

from ._core import (  # noqa: E402
    GradingError, _Rng, _array, _as_array, _as_ref, _call_student,
    _close, _copy, _cos, _explain_shape, _explain_values, _floats,
    _fsum, _math, _matmul, _misfinite, _mlog, _seed,
    _shape_str, _sin, _tanh, _zeros,
)
from .ops import (  # noqa: E402
    _random_shape,
)

# ---------------------------------------------------------------------------------------
# Problem set 1: finite differences
# ---------------------------------------------------------------------------------------

def _random_scalar_function(rng):
    """f(x) = a sin(b x) + c exp(d x) + e x^3, with its first three derivatives."""
    a, b, c, d, e = rng.uniform(0.5, 2.0, size=5) * rng.choice([-1.0, 1.0], size=5)

    def f(x):
        return a * _math.sin(b * x) + c * _math.exp(d * x) + e * x ** 3

    def df(x):
        return a * b * _math.cos(b * x) + c * d * _math.exp(d * x) + 3 * e * x ** 2

    def d2f(x):
        return -a * b * b * _math.sin(b * x) + c * d * d * _math.exp(d * x) + 6 * e * x

    def d3f(x):
        return -a * b ** 3 * _math.cos(b * x) + c * d ** 3 * _math.exp(d * x) + 6 * e

    return f, df, d2f, d3f


def _typical_point(rng, d2f, d3f):
    """A point where the second and third derivatives are far from zero, so that the
    leading error term of each difference quotient is the one that shows."""
    for _ in range(1000):
        x = float(rng.uniform(-1, 1))
        if abs(d3f(x)) > 0.5 and abs(d2f(x)) > max(0.5, 0.2 * abs(d3f(x))):
            return x
    return x


def check_difference_quotients(forward, backward, central, seed=None):
    """Each quotient returns exactly its formula, on random functions, points and steps."""
    rng = _Rng(_seed(seed))
    formulas = {
        "forward_difference": lambda f, x, h: (f(x + h) - f(x)) / h,
        "backward_difference": lambda f, x, h: (f(x) - f(x - h)) / h,
        "central_difference": lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h),
    }
    students = {"forward_difference": forward, "backward_difference": backward,
                "central_difference": central}
    for _ in range(1 if seed is not None else 3):
        f, _df, _d2f, _d3f = _random_scalar_function(rng)
        x = float(rng.uniform(-1, 1))
        h = float(rng.choice([0.1, 0.05, 0.2]))
        for name, fn in students.items():
            where = f"{name}(f, x={x:.4g}, h={h:g})"
            got = _as_array(_call_student(where, fn, f, x, h), where)
            if got.size != 1:
                raise GradingError(f"{where} should return one number, got shape {got.shape}.")
            got = _floats(got)[0]
            want = formulas[name](f, x, h)
            if abs(got - want) > 1e-9 * (1 + abs(want)):
                others = [o for o, formula in formulas.items()
                          if o != name and abs(got - formula(f, x, h)) <= 1e-9 * (1 + abs(want))]
                hint = f" That is the value of {others[0]}." if others else ""
                if not others and want != 0 and abs(got / want - 2) < 1e-6:
                    hint = " That is twice the formula: check the denominator (h or 2h)."
                elif not others and want != 0 and abs(got / want - 0.5) < 1e-6:
                    hint = " That is half the formula: check the denominator (h or 2h)."
                raise GradingError(f"{where} returned {got:.10g}; the formula gives "
                                   f"{want:.10g}.{hint}")


def _random_array_function(rng, shape):
    """f(x) = sum(A sin x) + sum(C x^2) / 2 + (B . x)^2 / 4 and its gradient
    A cos x + C x + B (B . x) / 2.

    |A| <= 1, 2 <= |C| <= 3 and 1/2 <= |B| <= 1, so every second derivative
    C - A sin x + B^2 / 2 is at least 1/2 in size: a forward difference with step h is then
    off by at least h/4 in every entry, while a central difference is off by at most h^2/6.
    The last term couples the entries (each mixed second derivative is B_i B_j / 2, at least
    1/8 in size), so a gradient that leaves an entry moved while it steps the next one is
    measured at the wrong point and is off by about h / 8."""
    A = rng.uniform(-1.0, 1.0, size=shape)
    C = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(2.0, 3.0, size=shape)
    B = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.0, size=shape)

    def f(x):
        coupling = _fsum(_floats(B * x))
        return _fsum(_floats(A * _sin(x) + 0.5 * C * x * x)) + 0.25 * coupling * coupling

    def grad(x):
        return A * _cos(x) + C * x + 0.5 * B * _fsum(_floats(B * x))

    return f, grad


def _central_gradient(f, x, h):
    out = _zeros(x.shape)
    flat = out.reshape(-1)
    for j in range(x.size):
        e = _zeros(x.size)
        e[j] = h
        step = e.reshape(x.shape)
        flat[j] = (f(x + step) - f(x - step)) / (2 * h)
    return out


def _numerical(where, fn, f, x, **kwargs):
    """fn(f, copy of x, **kwargs) as an array; an error if fn changed the x it was given."""
    def call():
        given = _copy(x)
        return fn(f, given, **kwargs), given

    got, given = _call_student(where, call)
    got = _as_array(got, where)
    if not _close(_as_array(given, where), x, 1e-12, 1e-15):   # x + h - h: rounding only
        raise GradingError(f"{where} changed the caller's x (it moved entries of x and did "
                           f"not put them all back). Step a copy: x = np.array(x, dtype=float), "
                           f"and set each entry back after using it.")
    return got


def _check_step(where, got, want, exact, what="gradient"):
    """`got` for the step h must be the central difference with that step (`want`)."""
    if _close(got, want, 1e-8, 1e-10):
        return
    if _close(got, exact, 1e-8, 1e-10):
        raise GradingError(f"{where} returned the exact {what}: use the step h you are given "
                           f"(the central difference with it).")
    if not (_close(got, want, 1e-2) or _close(got, exact, 1e-2)):
        raise GradingError(_explain_values(where, got, want))
    diffs = [abs(p - q) for p, q in zip(_floats(got), _floats(want))]
    worst = diffs.index(max(diffs))
    raise GradingError(
        f"{where} is close, but not the central difference with this step: one entry "
        f"is {_floats(got)[worst]:.10g}, (f(x + h e) - f(x - h e)) / (2h) gives "
        f"{_floats(want)[worst]:.10g}. A forward difference (f(x + h e) - f(x)) / h "
        f"is off by about h/2 times the second derivative; the central one by h^2/6 "
        f"times the third; a step of other than h, by another amount.")


def check_numerical_gradient(numerical_gradient, seed=None):
    """numerical_gradient(f, x) against the analytic gradient of random functions, and
    numerical_gradient(f, x, h=1e-3) against the central difference with that step (a
    forward difference is off by at least 2.5e-4 there, the check allows 1e-8 relative).
    The caller's x must come back unchanged."""
    rng = _Rng(_seed(seed))
    if seed is not None:
        shapes = [(3,)]
    else:
        a, b, c = _random_shape(rng, 3, 2, 4)
        shapes = [(), (1,), (a,), (a, b), (a, 1), (1, b), (a, b, c)]
    for shape in shapes:
        f, grad = _random_array_function(rng, shape)
        x = rng.uniform(-2.0, 2.0, size=shape)
        where = f"numerical_gradient(f, x) with x of shape {_shape_str(shape)}"
        got = _numerical(where, numerical_gradient, f, x)
        want = grad(x)
        if got.shape != want.shape:
            raise GradingError(_explain_shape(where, got.shape, want.shape, ()))
        if not _close(got, want, 1e-5, 1e-7):
            hint = ""
            if _close(got, want, 1e-2):
                hint = (" It is close but not close enough: a central difference "
                        "(f(x + h e) - f(x - h e)) / (2h) with h about 1e-6 is off by about "
                        "1e-10; a forward difference by h/2 times the second derivative.")
            raise GradingError(_explain_values(where, got, want) + hint)
        h = 1e-3
        where = f"numerical_gradient(f, x, h={h:g}) with x of shape {_shape_str(shape)}"
        got = _numerical(where, numerical_gradient, f, x, h=h)
        want = _central_gradient(f, x, h)
        if got.shape != want.shape:
            raise GradingError(_explain_shape(where, got.shape, want.shape, ()))
        _check_step(where, got, want, grad(x))


def _central_jacobian(f, x, h):
    columns = []
    for j in range(x.size):
        e = _zeros(x.size)
        e[j] = h
        step = e.reshape(x.shape)
        columns.append(((f(x + step) - f(x - step)) / (2 * h)).reshape(-1))
    out = _zeros((len(columns[0]) if columns else 0, x.size))
    for j, column in enumerate(columns):
        out[:, j] = column
    return out


def check_numerical_jacobian(numerical_jacobian, seed=None):
    """numerical_jacobian(f, x) has shape f(x).shape + x.shape and the right entries;
    numerical_jacobian(f, x, h=1e-3) is the central difference with that step."""
    rng = _Rng(_seed(seed))
    cases = [((3,), (2,))] if seed is not None else [
        (_random_shape(rng, 1, 2, 4), _random_shape(rng, 1, 2, 4)),
        (_random_shape(rng, 2, 2, 3), _random_shape(rng, 2, 2, 3)),
        (_random_shape(rng, 1, 2, 4), ()),
    ]
    for in_shape, out_shape in cases:
        n = _math.prod(in_shape)
        m = _math.prod(out_shape)
        M = rng.standard_normal((m, n))

        def f(x, M=M, out_shape=out_shape):
            return _tanh(_matmul(M, _as_ref(x).reshape(-1))).reshape(out_shape)

        x = rng.standard_normal(in_shape)
        y = _matmul(M, x.reshape(-1))
        want = ((1 - _tanh(y) ** 2)[:, None] * M).reshape(out_shape + in_shape)
        shapes = f"with x of shape {_shape_str(in_shape)} and f(x) of shape {_shape_str(out_shape)}"
        for h in (None, 1e-3):
            where = (f"numerical_jacobian(f, x{'' if h is None else f', h={h:g}'}) {shapes}")
            got = _numerical(where, numerical_jacobian, f, x, **({} if h is None else {"h": h}))
            if got.shape != want.shape:
                raise GradingError(f"{where} has shape {_shape_str(got.shape)}; a Jacobian has "
                                   f"shape f(x).shape + x.shape = {_shape_str(want.shape)}.")
            if h is None and not _close(got, want, 1e-5, 1e-7):
                raise GradingError(_explain_values(where, got, want))
            if h is not None:
                _check_step(where, got, _central_jacobian(f, x, h).reshape(want.shape), want,
                            "Jacobian")


def _rel_error_formula(a, b):
    return max([abs(x - y) / max(1e-8, abs(x) + abs(y))
                for x, y in zip(_floats(a), _floats(b))] + [0.0])


def check_rel_error(rel_error, seed=None):
    """rel_error(a, b) = max over entries of |a - b| / max(1e-8, |a| + |b|); the last pair
    has entries of about 1e-9, where the floor decides."""
    rng = _Rng(_seed(seed))
    shape = (4,) if seed is not None else _random_shape(rng, 2, 2, 5)  # several entries
    a = rng.standard_normal(shape)
    pairs = [(a, a), (a, a + 1e-7 * rng.standard_normal(shape)), (a, -a),
             (a, 3.0 * a), (_zeros(shape), _zeros(shape)), (100.0 * a, 100.0 * a + 1.0),
             (1e-9 * a, -1e-9 * a)]
    for x, y in pairs:
        where = f"rel_error(a, b) with arrays of shape {_shape_str(shape)}"
        got = _as_array(_call_student(where, rel_error, _copy(x), _copy(y)), where)
        if got.size != 1:
            raise GradingError(f"{where} should return one number, got shape {got.shape}.")
        got = _floats(got)[0]
        want = _rel_error_formula(x, y)
        if not _misfinite(got) or abs(got - want) > 1e-9 * (1 + abs(want)):
            raise GradingError(f"{where} returned {got:.10g}, the definition gives {want:.10g}. "
                               f"Divide entry by entry, by max(1e-8, |a| + |b|), then take "
                               f"the largest ratio.")


def _slope(hs, errors):
    xs = [_mlog(h) for h in hs]
    ys = [_mlog(e) for e in errors]
    mx = _fsum(xs) / len(xs)
    my = _fsum(ys) / len(ys)
    return _fsum([(x - mx) * (y - my) for x, y in zip(xs, ys)]) / _fsum([(x - mx) ** 2 for x in xs])


def _convergence_hint(got, hs, errors, want):
    """The recognisable mistakes of a log-log fit: the intercept, the axes swapped."""
    def near(value):
        return abs(got - value) <= 1e-6 * (1 + abs(value))
    for log in (_mlog, lambda v: _mlog(v) / _mlog(10.0)):
        xs, ys = [log(h) for h in hs], [log(e) for e in errors]
        if near(_fsum(ys) / len(ys) - want * _fsum(xs) / len(xs)):
            return (" That is the intercept: np.polyfit(x, y, 1) returns the slope first, "
                    "then the intercept.")
    if near(_slope(errors, hs)):
        return (" That is the slope of log(h) against log(error): the axes are swapped "
                "(np.polyfit takes x, then y).")
    return ""


def check_convergence_order(convergence_order, seed=None):
    """The least-squares slope of log(error) against log(h), on errors made as C h^p."""
    rng = _Rng(_seed(seed))
    for _ in range(1 if seed is not None else 3):
        p = float(rng.uniform(0.5, 4.0))
        C = float(rng.uniform(0.1, 10.0))
        hs = [float(h) for h in 10.0 ** -rng.uniform(1, 4, size=int(rng.integers(4, 8)))]
        noise = rng.uniform(0.8, 1.25, size=len(hs))
        errors = [C * h ** p * float(nz) for h, nz in zip(hs, noise)]
        want = _slope(hs, errors)
        where = f"convergence_order(hs, errors) on errors that fall like h**{p:.3g}"
        got = _as_array(_call_student(where, convergence_order, _array(hs), _array(errors)), where)
        if got.size != 1:
            raise GradingError(f"{where} should return one number, got shape {got.shape}.")
        got = _floats(got)[0]
        if not _misfinite(got) or abs(got - want) > 1e-6 * (1 + abs(want)):
            raise GradingError(f"{where} returned {got:.6g}; the least-squares slope of "
                               f"log(error) against log(h) is {want:.6g}."
                               + _convergence_hint(got, hs, errors, want))


def _odd_function(rng):
    """f(x) = a sin(b x) + e x^3 and f', with |f'''(0)| >= 1. f is odd, so at x = 0 the
    forward and backward quotients equal the central one: each has order 2 there."""
    while True:
        a, b, e = rng.uniform(0.5, 2.0, size=3) * rng.choice([-1.0, 1.0], size=3)
        if abs(6 * e - a * b ** 3) >= 1.0:
            break

    def f(x):
        return a * _math.sin(b * x) + e * x ** 3

    def df(x):
        return a * b * _math.cos(b * x) + 3 * e * x ** 2

    return f, df


def check_observed_orders(observed_orders, seed=None):
    """Measured orders of accuracy: forward and backward about 1, central about 2, at
    typical points; the hidden check also asks at x = 0 for an odd f, where f'' = 0 and all
    three are of order 2 (so orders written down rather than measured fail)."""
    rng = _Rng(_seed(seed))
    typical = {"forward": 1.0, "backward": 1.0, "central": 2.0}
    cases = []
    for _ in range(1 if seed is not None else 2):
        f, df, d2f, d3f = _random_scalar_function(rng)
        cases.append((f, df, _typical_point(rng, d2f, d3f), typical, ""))
    if seed is None:
        f, df = _odd_function(rng)
        cases.append((f, df, 0.0, {"forward": 2.0, "backward": 2.0, "central": 2.0},
                      " Here f''(x) = 0 (f is odd and x = 0), so the h/2 f''(x) term of "
                      "the forward and backward errors vanishes and they fall like h^2: "
                      "measure the orders from the errors, do not write them down."))
    for f, df, x, expected, note in cases:
        where = f"observed_orders(f, df, x={x:.4g})"
        got = _call_student(where, observed_orders, f, df, x)
        if not isinstance(got, dict):
            raise GradingError(f"{where} should return a dict with keys "
                               f"'forward', 'backward', 'central'.")
        for name, order in expected.items():
            if name not in got:
                raise GradingError(f"{where} has no entry {name!r}.")
            value = _floats(_as_array(got[name], where))
            if len(value) == 1 and not _misfinite(value[0]):
                raise GradingError(
                    f"{where}[{name!r}] = {value[0]}: the log of an error that is negative "
                    f"or zero? The error of a quotient is its distance from the exact "
                    f"derivative, abs(quotient - df(x)).")
            if len(value) != 1 or not abs(value[0] - order) <= 0.3:
                raise GradingError(
                    f"{where}[{name!r}] = {value[0] if len(value) == 1 else value}; the "
                    f"{name} difference has order {order:g} here.{note} Use steps where the "
                    f"truncation error dominates (about 1e-1 to 1e-3): for much smaller h, "
                    f"rounding error takes over.")
