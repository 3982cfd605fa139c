"""Mutation tests of the graders: answers a class hands in, right and wrong, run through the
checks the hidden tests call, as the grader runs them (recorded in the kernel, replayed by
the judge) under several grading seeds.

Every wrong answer must fail on every seed, with a message that names its mistake where
the mistake is a common one; every right answer, however it is written, must pass on every
seed. The answers are written here the way students write them: the table is the point.
"""

import glob
import json
import math
import os
import re
import tempfile

import numpy as np
import pytest

import minigrad as mg
import course_tools.grading as G
from course_tools.grading import channel

SEEDS = (3, 141, 2718)       # grading seeds: each check's hidden draws follow from one

# wrong answers overflow and divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def graded(check, *args, grader_seed, **kwargs):
    """The verdict on check(*args, seed=None, **kwargs) under the grader: the check runs as
    in the kernel (recording the answers), then the judge replays it. None when it passes,
    else the message. The kernel's verdict must be the judge's."""
    state = channel.STATE
    saved = (state.mode, state.channel, state.grader_seed, state.active)
    kwargs = dict(kwargs, seed=None)
    with tempfile.TemporaryDirectory() as folder:
        state.mode, state.channel, state.grader_seed, state.active = (
            "record", folder, grader_seed, None)
        try:
            check(*args, **kwargs)
            in_kernel = None
        except G.GradingError as exc:
            in_kernel = str(exc)
        finally:
            state.mode, state.channel, state.grader_seed, state.active = saved
        [path] = glob.glob(os.path.join(folder, "*.json"))
        with open(path) as f:
            record = json.load(f)
    try:
        channel.replay(check, args, kwargs, record, grader_seed)
        verdict = None
    except G.GradingError as exc:
        verdict = str(exc)
    finally:
        state.mode, state.channel, state.grader_seed, state.active = saved
    assert (in_kernel is None) == (verdict is None), (in_kernel, verdict)
    return verdict


# ====================================================================== problem set 1

def forward_difference(f, x, h):
    return (f(x + h) - f(x)) / h


def backward_difference(f, x, h):
    return (f(x) - f(x - h)) / h


def central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def quotients(forward=forward_difference, backward=backward_difference,
              central=central_difference):
    return (forward, backward, central)


def numerical_gradient(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(x.size):
        old = flat_x[i]
        flat_x[i] = old + h
        f_plus = f(x)
        flat_x[i] = old - h
        f_minus = f(x)
        flat_x[i] = old
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_nditer(f, x, h=1e-6):
    grad = np.zeros(np.shape(x))
    for index in np.ndindex(*np.shape(x)):
        e = np.zeros(np.shape(x))
        e[index] = h
        grad[index] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def gradient_of_rows(f, x, h=1e-6):
    """Steps each row (x[i] += h moves a whole row of a matrix)."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in range(len(x) if x.ndim else 1):
        xp, xm = x.copy(), x.copy()
        if x.ndim:
            xp[i] += h
            xm[i] -= h
        else:
            xp, xm = x + h, x - h
        grad[i if x.ndim else ()] = (f(xp) - f(xm)) / (2 * h)
    return grad


def gradient_forward(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    fx = f(x)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        grad.reshape(-1)[i] = (f(x + e.reshape(x.shape)) - fx) / h
    return grad


def gradient_fixed_step(f, x, h=1e-6):
    return numerical_gradient(f, x, 1e-6)


def gradient_not_restored(f, x, h=1e-6):
    """Moves the caller's x and never puts the entry back."""
    flat = x.reshape(-1)
    grad = np.zeros(x.shape)
    for i in range(x.size):
        flat[i] += h
        f_plus = f(x)
        flat[i] -= 2 * h
        f_minus = f(x)
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_drifting(f, x, h=1e-6):
    """Works on a copy, but never puts an entry back: each partial derivative is taken at a
    point that has drifted by -h in every entry before it."""
    x = np.array(x, dtype=float)
    flat = x.reshape(-1)
    grad = np.zeros(x.shape)
    for i in range(x.size):
        flat[i] += h
        f_plus = f(x)
        flat[i] -= 2 * h
        grad.reshape(-1)[i] = (f_plus - f(x)) / (2 * h)
    return grad


def gradient_in_place(f, x, h=1e-6):
    """Right values, but it works on the caller's x (restored only at the end)."""
    flat = x.reshape(-1)
    saved = flat.copy()
    grad = np.zeros(x.shape)
    for i in range(x.size):
        flat[i] = saved[i] + h
        f_plus = f(x)
        flat[i] = saved[i] - h
        f_minus = f(x)
        flat[i] = saved[i]
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_restored_by_arithmetic(f, x, h=1e-6):
    """Steps the caller's x and steps it back: x + h - h is x only to rounding."""
    flat = x.reshape(-1)
    grad = np.zeros(x.shape)
    for i in range(x.size):
        flat[i] += h
        f_plus = f(x)
        flat[i] -= 2 * h
        f_minus = f(x)
        flat[i] += h
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_aliased(f, x, h=1e-6):
    """x_plus = x is not a copy: both sides step the same array."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in range(x.size):
        x_plus = x.reshape(-1)
        x_plus[i] += h
        f_plus = f(x)
        x_minus = x.reshape(-1)
        x_minus[i] -= h
        f_minus = f(x)
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_half_steps(f, x, h=1e-6):
    """(f(x + h/2) - f(x - h/2)) / h: a central difference, but not with the step h."""
    return numerical_gradient(f, x, h / 2)


def numerical_jacobian(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    out_shape = np.shape(f(x))
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        diff = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h)
        columns.append(diff.reshape(-1))
    return np.stack(columns, axis=1).reshape(out_shape + x.shape)


def jacobian_loops(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    fx = np.asarray(f(x))
    J = np.zeros(fx.shape + x.shape)
    for j in np.ndindex(*x.shape):
        e = np.zeros(x.shape)
        e[j] = h
        J[(Ellipsis,) + j] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return J


def jacobian_transposed(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    rows = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        rows.append(((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)).reshape(-1))
    return np.stack(rows).reshape(x.shape + np.shape(f(x)))


def jacobian_flat(f, x, h=1e-6):
    J = numerical_jacobian(f, x, h)
    return J.reshape(np.size(f(x)), np.size(x))


def jacobian_forward(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    fx = np.asarray(f(x))
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        columns.append(((np.asarray(f(x + e.reshape(x.shape))) - fx) / h).reshape(-1))
    return np.stack(columns, axis=1).reshape(fx.shape + x.shape)


def jacobian_fixed_step(f, x, h=1e-6):
    return numerical_jacobian(f, x, 1e-6)


def rel_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def rel_error_loop(a, b):
    worst = 0.0
    for p, q in zip(np.ravel(a), np.ravel(b)):
        worst = max(worst, abs(p - q) / max(1e-8, abs(p) + abs(q)))
    return worst


def rel_error_norms(a, b):
    return np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b))


def rel_error_no_floor(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))


def rel_error_signed(a, b):
    return np.max((a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def rel_error_mean(a, b):
    return np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def rel_error_one_sided(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(b)))


def rel_error_tiny_floor(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.finfo(float).eps, np.abs(a) + np.abs(b)))


def rel_error_floor_added(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + 1e-8))


def convergence_order(hs, errors):
    slope, _ = np.polyfit(np.log(hs), np.log(errors), 1)
    return float(slope)


def order_lstsq(hs, errors):
    A = np.stack([np.log(hs), np.ones(len(hs))], axis=1)
    return np.linalg.lstsq(A, np.log(errors), rcond=None)[0][0]


def order_by_hand(hs, errors):
    x, y = np.log2(hs), np.log2(errors)
    return np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)


def order_endpoints(hs, errors):
    return np.log(errors[-1] / errors[0]) / np.log(hs[-1] / hs[0])


def order_swapped(hs, errors):
    return np.polyfit(np.log(errors), np.log(hs), 1)[0]


def order_mixed_logs(hs, errors):
    return np.polyfit(np.log(hs), np.log10(errors), 1)[0]


def order_intercept(hs, errors):
    return np.polyfit(np.log(hs), np.log(errors), 1)[1]


def make_observed_orders(hs=np.logspace(-1, -3, 7), absolute=True,
                         order=convergence_order):
    def observed_orders(f, df, x, steps=None):
        steps = hs if steps is None else steps
        exact = df(x)
        out = {}
        for name, q in (("forward", forward_difference), ("backward", backward_difference),
                        ("central", central_difference)):
            errors = [q(f, x, h) - exact for h in steps]
            out[name] = order(steps, np.abs(errors) if absolute else np.array(errors))
        return out
    return observed_orders


def observed_orders_written_down(f, df, x, hs=None):
    return {"forward": 1.0, "backward": 1.0, "central": 2.0}


PS1_RIGHT = [
    ("check_difference_quotients", quotients(), "the solution"),
    ("check_difference_quotients", quotients(
        central=lambda f, x, h: 0.5 * (forward_difference(f, x, h) + backward_difference(f, x, h))),
     "central as the mean of forward and backward"),
    ("check_difference_quotients", quotients(
        forward=lambda f, x, h: np.float64((f(x + h) - f(x)) * (1 / h)),
        backward=lambda f, x, h: np.array([(f(x) - f(x - h)) / h])),
     "numpy scalars and one-entry arrays"),
    ("check_numerical_gradient", (numerical_gradient,), "the solution"),
    ("check_numerical_gradient", (gradient_nditer,), "np.ndindex and a fresh step"),
    ("check_numerical_gradient", (gradient_in_place,), "x restored in place"),
    ("check_numerical_gradient", (gradient_restored_by_arithmetic,), "x stepped back by -h"),
    ("check_numerical_jacobian", (numerical_jacobian,), "the solution"),
    ("check_numerical_jacobian", (jacobian_loops,), "np.ndindex into J[..., j]"),
    ("check_rel_error", (rel_error,), "the solution"),
    ("check_rel_error", (rel_error_loop,), "a loop over entries"),
    ("check_convergence_order", (convergence_order,), "np.polyfit"),
    ("check_convergence_order", (order_lstsq,), "np.linalg.lstsq"),
    ("check_convergence_order", (order_by_hand,), "by hand, in log2"),
    ("check_observed_orders", (make_observed_orders(),), "logspace(-1, -3)"),
    ("check_observed_orders", (make_observed_orders(hs=0.1 / 2.0 ** np.arange(6)),),
     "halving steps"),
    ("check_observed_orders", (make_observed_orders(hs=np.logspace(-2, -4, 5)),),
     "steps 1e-2 to 1e-4"),
]

PS1_WRONG = [
    ("check_difference_quotients", quotients(central=lambda f, x, h: (f(x + h) - f(x - h)) / h),
     "twice the formula"),
    ("check_difference_quotients", quotients(central=lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h),
     "returned"),
    ("check_difference_quotients", quotients(forward=central_difference), "central_difference"),
    ("check_difference_quotients", quotients(backward=forward_difference), "forward_difference"),
    ("check_difference_quotients", quotients(
        backward=lambda f, x, h: (f(x - h) - f(x)) / h), "returned"),
    ("check_difference_quotients", quotients(
        forward=lambda f, x, h: (f(x + 1e-6) - f(x)) / 1e-6), "returned"),
    ("check_difference_quotients", quotients(
        central=lambda f, x, h: (f(x + h / 2) - f(x - h / 2)) / h), "returned"),
    ("check_numerical_gradient", (gradient_of_rows,), "shape"),
    ("check_numerical_gradient", (gradient_forward,), "not the central difference"),
    ("check_numerical_gradient", (gradient_fixed_step,), "use the step h"),
    ("check_numerical_gradient", (gradient_not_restored,), "caller's x"),
    ("check_numerical_gradient", (gradient_drifting,), "not the central difference"),
    ("check_numerical_gradient", (gradient_aliased,), "numerical_gradient"),
    ("check_numerical_gradient", (gradient_half_steps,), "step"),
    ("check_numerical_gradient", (lambda f, x, h=1e-6: -numerical_gradient(f, x, h),),
     "wrong sign"),
    ("check_numerical_gradient", (lambda f, x, h=1e-6: mg.numerical_gradient(f, x),),
     "switched off"),
    ("check_numerical_jacobian", (jacobian_transposed,), "transposed|f\\(x\\).shape \\+ x.shape"),
    ("check_numerical_jacobian", (jacobian_flat,), "f\\(x\\).shape \\+ x.shape"),
    ("check_numerical_jacobian", (jacobian_forward,), "not the central difference"),
    ("check_numerical_jacobian", (jacobian_fixed_step,), "use the step h"),
    ("check_numerical_jacobian", (lambda f, x, h=1e-6: 2 * numerical_jacobian(f, x, h),),
     "constant factor"),
    ("check_rel_error", (rel_error_norms,), "entry by entry"),
    ("check_rel_error", (rel_error_no_floor,), "max\\(1e-8"),
    ("check_rel_error", (rel_error_signed,), "entry by entry"),
    ("check_rel_error", (rel_error_mean,), "largest ratio"),
    ("check_rel_error", (rel_error_one_sided,), "entry by entry"),
    ("check_rel_error", (rel_error_floor_added,), "max\\(1e-8"),
    ("check_rel_error", (rel_error_tiny_floor,), "max\\(1e-8"),
    ("check_convergence_order", (order_endpoints,), "least-squares slope"),
    ("check_convergence_order", (order_swapped,), "axes are swapped"),
    ("check_convergence_order", (order_mixed_logs,), "least-squares slope"),
    ("check_convergence_order", (order_intercept,), "That is the intercept"),
    ("check_observed_orders", (observed_orders_written_down,), "do not write them down"),
    ("check_observed_orders", (make_observed_orders(hs=np.logspace(-9, -12, 4)),),
     "rounding"),
    ("check_observed_orders", (make_observed_orders(absolute=False),), "abs\\(quotient"),
]


# ====================================================================== problem set 2

def _expand(a, x, axis, keepdims):
    if keepdims:
        return a
    return np.expand_dims(a, tuple(range(x.ndim)) if axis is None else axis)


def sum_to(g, shape):
    """Unbroadcast by hand: leading axes, then the axes of length 1."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def sum_leading_only(g, shape):
    while np.ndim(g) > len(shape):
        g = np.sum(g, axis=0)
    return g


def sum_without_keepdims(g, shape):
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes)


def sum_ones_only(g, shape):
    """Sums the axes of length 1 but never the leading axes numpy added."""
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    for axis, size in enumerate(shape):
        if size == 1:
            g = g.sum(axis=extra + axis, keepdims=True)
    return g


def sum_left_aligned(g, shape):
    """Lines the shapes up from the left, as numpy does not."""
    g = np.asarray(g)
    axes = tuple(i for i in range(g.ndim) if i >= len(shape) or shape[i] == 1)
    return g.sum(axis=axes).reshape(shape) if np.size(g.sum(axis=axes)) == math.prod(shape) \
        else g.sum(axis=axes)


def logsumexp(x, axis=-1, keepdims=False):
    c = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - c), axis=axis, keepdims=True)) + c
    return out if keepdims else np.squeeze(out, axis=axis)


def logsumexp_vjp(ans, x, axis=-1, keepdims=False):
    weights = np.exp(x - _expand(ans, x, axis, keepdims))
    return lambda g: _expand(g, x, axis, keepdims) * weights


def logsumexp_vjp_softmax(ans, x, axis=-1, keepdims=False):
    """Recomputes the softmax along the axis (stably), never uses ans."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    return lambda g: s * (g if keepdims else np.expand_dims(
        g, axis if axis is not None else tuple(range(x.ndim))))


def logsumexp_vjp_reshape(ans, x, axis=-1, keepdims=False):
    """Puts the axis back with reshape to the keepdims shape."""
    kept = [1 if axis is None or i == axis % x.ndim else d for i, d in enumerate(x.shape)]
    return lambda g: np.reshape(g, kept) * np.exp(x - np.reshape(ans, kept))


def norm_vjp(ans, x, axis=None, keepdims=False):
    unit = x / _expand(ans, x, axis, keepdims)
    return lambda g: _expand(g, x, axis, keepdims) * unit


def norm_vjp_divide(ans, x, axis=None, keepdims=False):
    kept = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    return lambda g: _expand(g, x, axis, keepdims) * x / kept


def only_last_axis(rule):
    """The rule written for axis=-1, keepdims=False (the visible case) only."""
    return lambda ans, x, axis=-1, keepdims=False: rule(ans, x)


def softmax_jacobian_vjp(ans, x):
    def vjp(g):
        J = ans[..., :, None] * (np.eye(ans.shape[-1]) - ans[..., None, :])
        return np.einsum("...i,...ij->...j", g, J)
    return vjp


def linear_vjp_W_loop(ans, W, x, b):
    def vjp(g):
        out = np.zeros_like(W)
        for i in range(len(x)):
            out += np.outer(g[i], x[i])
        return out
    return vjp


def stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def vjp_returning_view(ans, x):
    slope = ans * (1.0 - ans)
    return lambda g: (g * slope).reshape(-1).reshape(np.shape(g))


def hypot_vjp_x(ans, x, y):
    return lambda g: mg.unbroadcast(x, g * x / ans)


def hypot_vjp_y(ans, x, y):
    return lambda g: mg.unbroadcast(y, g * y / ans)


def vjp_by_differences(forward):
    """A VJP by its own central differences of the forward pass: close, never exact."""
    def maker(ans, x, **kwargs):
        def vjp(g):
            out = np.zeros(np.shape(x))
            for i in np.ndindex(*np.shape(x)):
                e = np.zeros(np.shape(x))
                e[i] = 1e-6
                out[i] = np.sum(g * (forward(x + e, **kwargs) - forward(x - e, **kwargs))) / 2e-6
            return out
        return vjp
    return maker


VJP_RIGHT = [
    ("linear", 0, lambda ans, W, x, b: (lambda g: g.T @ x), "g.T @ x"),
    ("linear", 0, lambda ans, W, x, b: (lambda g: np.einsum("bm,bn->mn", g, x)), "einsum"),
    ("linear", 0, linear_vjp_W_loop, "a sum of outer products"),
    ("linear", 0, lambda ans, W, x, b: (lambda g: (x.T @ g).T), "(x.T @ g).T"),
    ("linear", 1, lambda ans, W, x, b: (lambda g: g @ W), "g @ W"),
    ("linear", 1, lambda ans, W, x, b: (lambda g: (W.T @ g.T).T), "(W.T @ g.T).T"),
    ("linear", 1, lambda ans, W, x, b: (lambda g: np.dot(g, W)), "np.dot"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: np.sum(g, axis=0)), "np.sum(g, axis=0)"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: mg.unbroadcast(b, g)), "mg.unbroadcast"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: np.ones(len(g)) @ g), "ones @ g"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * ans * (1.0 - ans)), "g ans (1 - ans)"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * stable_sigmoid(x) * stable_sigmoid(-x)),
     "sigmoid(x) sigmoid(-x)"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g / (2 + 2 * np.cosh(x))), "1 / (2 + 2 cosh x)"),
    ("sigmoid", 0, vjp_returning_view, "returns a view"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * (ans - ans ** 2)), "ans - ans**2"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.sum(g * ans, axis=-1, keepdims=True))),
     "the solution"),
    ("softmax", 0, softmax_jacobian_vjp, "the Jacobian, by einsum"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * g - ans * (g * ans).sum(-1)[..., None]),
     "[..., None]"),
    ("logsumexp", 0, logsumexp_vjp, "the solution"),
    ("logsumexp", 0, logsumexp_vjp_softmax, "its own stable softmax"),
    ("logsumexp", 0, logsumexp_vjp_reshape, "reshape to the keepdims shape"),
    ("hypot", 0, hypot_vjp_x, "mg.unbroadcast"),
    ("hypot", 0, lambda ans, x, y: (lambda g: sum_to(g * x / ans, np.shape(x))), "by hand"),
    ("hypot", 0, lambda ans, x, y: (lambda g: mg.unbroadcast(x, g * x / np.hypot(x, y))),
     "np.hypot"),
    ("hypot", 1, hypot_vjp_y, "mg.unbroadcast"),
    ("hypot", 1, lambda ans, x, y: (lambda g: sum_to(g * y / np.sqrt(x * x + y * y),
                                                      np.shape(y))), "by hand"),
    ("norm", 0, norm_vjp, "the solution"),
    ("norm", 0, norm_vjp_divide, "keepdims=True norm recomputed"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * x / np.linalg.norm(x, axis=axis, keepdims=True)
        if axis is not None else g * x / np.linalg.norm(x)), "np.linalg.norm"),
]

VJP_WRONG = [
    ("linear", 0, lambda ans, W, x, b: (lambda g: x.T @ g), "transposed"),
    ("linear", 0, lambda ans, W, x, b: (lambda g: np.outer(g, x)), "shape"),
    ("linear", 0, lambda ans, W, x, b: (lambda g: g.T @ x / len(x)), "factor|wrong"),
    ("linear", 0, lambda ans, W, x, b: (lambda g: W), "ignores g"),
    ("linear", 1, lambda ans, W, x, b: (lambda g: g @ W.T), "wrong|raised"),
    ("linear", 1, lambda ans, W, x, b: (lambda g: -g @ W), "wrong sign"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: g), "shape"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: np.mean(g, axis=0)), "factor|wrong"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: np.sum(g, axis=0, keepdims=True)), "shape"),
    ("linear", 2, lambda ans, W, x, b: (lambda g: np.sum(g, axis=1)), "shape|wrong"),
    ("sigmoid", 0, vjp_by_differences(stable_sigmoid), "not exact"),
    ("logsumexp", 0, vjp_by_differences(logsumexp), "not exact"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * ans), "times the output"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g), "unchanged"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * x * (1 - x)), "wrong"),
    ("sigmoid", 0, lambda ans, x: (lambda g: ans * (1 - ans)), "ignores g"),
    ("sigmoid", 0, lambda ans, x: (lambda g: -g * ans * (1 - ans)), "wrong sign"),
    ("sigmoid", 0, lambda ans, x: (lambda g: 2 * g * ans * (1 - ans)), "factor"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * stable_sigmoid(ans) * (1 - stable_sigmoid(ans))),
     "at the output"),
    ("sigmoid", 0, lambda ans, x: (lambda g: g * np.exp(-x) / (1 + np.exp(-x)) ** 3), "wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.sum(g * ans, axis=-1))), "raised|wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.sum(g * ans))), "wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.sum(g * ans, axis=0, keepdims=True))),
     "wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: g * ans * (1 - ans)), "wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.sum(g * ans, axis=1, keepdims=True))),
     "raised|wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.dot(g, ans))), "raised|wrong"),
    ("softmax", 0, lambda ans, x: (lambda g: ans * (g - np.sum(g, axis=-1, keepdims=True))),
     "wrong"),
    ("logsumexp", 0, only_last_axis(
        lambda ans, x: (lambda g: g[..., None] * np.exp(x - ans[..., None]))),
     "raised|wrong|shape"),
    ("logsumexp", 0, lambda ans, x, axis=-1, keepdims=False: (lambda g: g * np.exp(x - ans)),
     "raised|wrong|shape"),
    ("logsumexp", 0, lambda ans, x, axis=-1, keepdims=False: (
        lambda g: np.expand_dims(g, axis) * np.exp(x - np.expand_dims(ans, axis))), "raised"),
    ("logsumexp", 0, lambda ans, x, axis=-1, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * np.exp(x)), "factor|wrong"),
    ("logsumexp", 0, lambda ans, x, axis=-1, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * np.exp(_expand(ans, x, axis, keepdims) - x)),
     "wrong"),
    ("logsumexp", 0, lambda ans, x, axis=-1, keepdims=False: (
        lambda g: np.expand_dims(g, -1 if axis is None else axis) * np.exp(
            x - np.expand_dims(ans, -1 if axis is None else axis))), "raised|wrong|shape"),
    ("logsumexp", 0, lambda ans, x, axis=-1, keepdims=False: (
        lambda g: np.sum(_expand(g, x, axis, keepdims)
                         * np.exp(x - _expand(ans, x, axis, keepdims)),
                         axis=axis, keepdims=keepdims)), "shape"),
    ("hypot", 0, lambda ans, x, y: (lambda g: g * x / ans), "unbroadcast"),
    ("hypot", 0, lambda ans, x, y: (lambda g: sum_leading_only(g * x / ans, np.shape(x))),
     "shape"),
    ("hypot", 0, lambda ans, x, y: (lambda g: sum_without_keepdims(g * x / ans, np.shape(x))),
     "shape|raised"),
    ("hypot", 0, lambda ans, x, y: (lambda g: sum_ones_only(g * x / ans, np.shape(x))), "shape"),
    ("hypot", 1, lambda ans, x, y: (lambda g: sum_left_aligned(g * y / ans, np.shape(y))),
     "shape|wrong"),
    ("hypot", 0, lambda ans, x, y: (lambda g: mg.unbroadcast(x, g * y / ans)), "wrong"),
    ("hypot", 0, lambda ans, x, y: (lambda g: mg.unbroadcast(x, g * x / ans ** 2)), "wrong"),
    ("hypot", 0, lambda ans, x, y: (lambda g: mg.unbroadcast(y, g * x / ans)), "shape|wrong"),
    ("hypot", 0, lambda ans, x, y: (lambda g: np.sum(g * x / ans)), "shape"),
    ("hypot", 1, lambda ans, x, y: (lambda g: mg.unbroadcast(y, g * x / ans)), "wrong"),
    ("hypot", 1, lambda ans, x, y: (lambda g: mg.unbroadcast(y, 2 * g * y)), "wrong"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (lambda g: g * x / ans),
     "raised|wrong|shape"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (
        lambda g: 2 * _expand(g, x, axis, keepdims) * x), "factor|wrong"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * x / _expand(ans, x, axis, keepdims) ** 2),
     "factor|wrong"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (
        lambda g: x / _expand(ans, x, axis, keepdims)), "ignores g"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * _expand(ans, x, axis, keepdims) / x), "wrong"),
    ("norm", 0, lambda ans, x, axis=None, keepdims=False: (
        lambda g: mg.grad(lambda x: mg.numpy.sum(mg.numpy.sqrt(mg.numpy.sum(x ** 2))))(x)),
     "switched off"),
]

LOGSUMEXP_RIGHT = [
    (logsumexp, "the solution"),
    (lambda x, axis=-1, keepdims=False: (lambda c: np.log(np.sum(np.exp(x - c), axis=axis,
                                                                   keepdims=keepdims))
                                         + (c if keepdims else np.squeeze(c, axis=axis)))(
        np.max(x, axis=axis, keepdims=True)), "the max added back after"),
    (lambda x, axis=-1, keepdims=False: np.logaddexp.reduce(x, axis=axis, keepdims=keepdims)
     if axis is not None else np.logaddexp.reduce(x.reshape(-1), keepdims=False).reshape(
         (1,) * x.ndim if keepdims else ()), "np.logaddexp.reduce"),
    (lambda x, axis=-1, keepdims=False: __import__("scipy.special").special.logsumexp(
        x, axis=axis, keepdims=keepdims), "scipy.special.logsumexp"),
]

LOGSUMEXP_WRONG = [
    (lambda x, axis=-1, keepdims=False: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
     "subtract the maximum"),
    (lambda x, axis=-1, keepdims=False: np.squeeze(
        np.log(np.sum(np.exp(x - np.max(x, axis=axis, keepdims=True)), axis=axis, keepdims=True))
        + np.max(x, axis=axis, keepdims=True)), "axis and keepdims"),
    (lambda x, axis=-1, keepdims=False: np.log(np.sum(np.exp(x - np.max(x)), axis=axis))
     + np.max(x), "axis and keepdims"),
    (lambda x, axis=-1, keepdims=False: np.log(np.sum(
        np.exp(x - np.max(x, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)),
     "add it back"),
    (lambda x, axis=-1, keepdims=False: np.max(x, axis=axis, keepdims=keepdims), "wrong"),
]

STABILITY_WRONG = [
    (lambda ans, x, axis=-1, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * np.exp(x)
        / np.exp(_expand(ans, x, axis, keepdims))),
     "exp\\(x - ans\\)"),
    (lambda ans, x, axis=-1, keepdims=False: (
        lambda g: _expand(g, x, axis, keepdims) * np.exp(x) / np.sum(np.exp(x), axis=axis,
                                                                      keepdims=True)),
     "exp\\(x - ans\\)"),
]


# ====================================================================== problem set 3

def linear_jvp_b(db, ans, W, x, b):
    return np.broadcast_to(db, ans.shape)


def logsumexp_jvp(dx, ans, x, axis=-1, keepdims=False):
    full = ans if keepdims else np.expand_dims(ans, tuple(range(x.ndim)) if axis is None else axis)
    return np.sum(dx * np.exp(x - full), axis=axis, keepdims=keepdims)


def logsumexp_jvp_softmax(dx, ans, x, axis=-1, keepdims=False):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return np.sum(dx * e, axis=axis, keepdims=keepdims) / np.sum(e, axis=axis, keepdims=keepdims)


def norm_jvp(dx, ans, x, axis=None, keepdims=False):
    return np.sum(dx * x, axis=axis, keepdims=keepdims) / ans


JVP_RIGHT = [
    ("linear", 0, lambda dW, ans, W, x, b: x @ dW.T, "the solution"),
    ("linear", 0, lambda dW, ans, W, x, b: np.einsum("bn,mn->bm", x, dW), "einsum"),
    ("linear", 0, lambda dW, ans, W, x, b: (dW @ x.T).T, "(dW @ x.T).T"),
    ("linear", 1, lambda dx, ans, W, x, b: dx @ W.T, "the solution"),
    ("linear", 1, lambda dx, ans, W, x, b: np.array([W @ row for row in dx]), "row by row"),
    ("linear", 2, linear_jvp_b, "np.broadcast_to"),
    ("linear", 2, lambda db, ans, W, x, b: db, "db, broadcast by minigrad"),
    ("linear", 2, lambda db, ans, W, x, b: np.tile(db, (len(x), 1)), "np.tile"),
    ("linear", 2, lambda db, ans, W, x, b: np.ones_like(ans) * db, "ones_like(ans) * db"),
    ("sigmoid", 0, lambda dx, ans, x: dx * ans * (1.0 - ans), "the solution"),
    ("sigmoid", 0, lambda dx, ans, x: dx * stable_sigmoid(x) * stable_sigmoid(-x), "from x"),
    ("softmax", 0, lambda dx, ans, x: ans * (dx - np.sum(dx * ans, axis=-1, keepdims=True)),
     "the solution"),
    ("softmax", 0, lambda dx, ans, x: np.einsum(
        "...ij,...j->...i", ans[..., :, None] * (np.eye(ans.shape[-1]) - ans[..., None, :]), dx),
     "the Jacobian, by einsum"),
    ("logsumexp", 0, logsumexp_jvp, "the solution"),
    ("logsumexp", 0, logsumexp_jvp_softmax, "its own stable softmax"),
    ("hypot", 0, lambda dx, ans, x, y: dx * x / ans, "the solution"),
    ("hypot", 0, lambda dx, ans, x, y: dx * x / np.hypot(x, y), "np.hypot"),
    ("hypot", 1, lambda dy, ans, x, y: dy * y / ans, "the solution"),
    ("norm", 0, norm_jvp, "the solution"),
    ("norm", 0, lambda dx, ans, x, axis=None, keepdims=False: np.tensordot(
        dx, x, axes=x.ndim) / ans if axis is None else norm_jvp(dx, ans, x, axis, keepdims),
     "np.tensordot for axis=None"),
]

JVP_WRONG = [
    ("linear", 0, lambda dW, ans, W, x, b: dW @ x.T, "transposed"),
    ("linear", 0, lambda dW, ans, W, x, b: x @ dW, "raised|transposed|wrong"),
    ("linear", 0, lambda dW, ans, W, x, b: x @ W.T, "ignores the tangent"),
    ("linear", 1, lambda dx, ans, W, x, b: dx @ W, "raised|transposed|wrong"),
    ("linear", 1, lambda dx, ans, W, x, b: W @ dx.T, "transposed|tangent"),
    ("linear", 1, lambda dx, ans, W, x, b: dx, "shape|unchanged|wrong"),
    ("linear", 2, lambda db, ans, W, x, b: np.zeros_like(ans), "ignores the tangent"),
    ("linear", 2, lambda db, ans, W, x, b: db * len(x), "factor|wrong|was it unbroadcast"),
    ("linear", 2, lambda db, ans, W, x, b: np.sum(db), "wrong"),
    ("hypot", 0, lambda dx, ans, x, y: (np.hypot(x + 1e-6 * dx, y) - np.hypot(x - 1e-6 * dx, y))
     / 2e-6, "not exact"),
    ("hypot", 0, lambda dx, ans, x, y: mg.unbroadcast(x, dx * x / ans), "was it unbroadcast"),
    ("hypot", 1, lambda dy, ans, x, y: mg.unbroadcast(y, dy * y / ans), "was it unbroadcast"),
    ("sigmoid", 0, lambda dx, ans, x: dx * ans, "times the output"),
    ("sigmoid", 0, lambda dx, ans, x: dx * x * (1 - x), "wrong"),
    ("sigmoid", 0, lambda dx, ans, x: dx, "unchanged"),
    ("sigmoid", 0, lambda dx, ans, x: dx * ans * (1 - ans) / 2, "factor"),
    ("softmax", 0, lambda dx, ans, x: ans * (dx - np.sum(dx * ans)), "wrong"),
    ("softmax", 0, lambda dx, ans, x: dx * ans * (1 - ans), "wrong"),
    ("softmax", 0, lambda dx, ans, x: ans * (dx - np.sum(dx, axis=-1, keepdims=True)), "wrong"),
    ("softmax", 0, lambda dx, ans, x: ans * (dx - np.sum(dx * ans, axis=0, keepdims=True)),
     "wrong"),
    ("logsumexp", 0, lambda dx, ans, x, axis=-1, keepdims=False: dx * np.exp(
        x - _expand(ans, x, axis, keepdims)), "more axes|shape|raised"),
    ("logsumexp", 0, lambda dx, ans, x, axis=-1, keepdims=False: np.sum(
        dx * np.exp(x - _expand(ans, x, axis, keepdims)), axis=axis, keepdims=True), "shape"),
    ("logsumexp", 0, lambda dx, ans, x, axis=-1, keepdims=False: np.sum(
        dx * np.exp(x - _expand(ans, x, axis, keepdims)), axis=axis), "shape|wrong"),
    ("logsumexp", 0, lambda dx, ans, x, axis=-1, keepdims=False: np.sum(
        dx * np.exp(x - _expand(ans, x, axis, keepdims))), "wrong|shape"),
    ("logsumexp", 0, lambda dx, ans, x, axis=-1, keepdims=False: np.sum(
        dx * np.exp(x), axis=axis, keepdims=keepdims), "wrong"),
    ("logsumexp", 0, lambda dx, ans, x, axis=-1, keepdims=False: np.sum(
        dx, axis=axis, keepdims=keepdims), "wrong"),
    ("hypot", 0, lambda dx, ans, x, y: dx * y / ans, "wrong"),
    ("hypot", 0, lambda dx, ans, x, y: mg.unbroadcast(x, dx * x / ans), "shape|wrong"),
    ("hypot", 0, lambda dx, ans, x, y: dx * x / ans ** 2, "wrong"),
    ("hypot", 1, lambda dy, ans, x, y: dy * x / ans, "wrong"),
    ("hypot", 1, lambda dy, ans, x, y: dy * ans / y, "wrong"),
    ("norm", 0, lambda dx, ans, x, axis=None, keepdims=False: np.sum(dx * x) / ans,
     "wrong|shape"),
    ("norm", 0, lambda dx, ans, x, axis=None, keepdims=False: np.sum(
        dx * x, axis=axis, keepdims=keepdims), "wrong"),
    ("norm", 0, lambda dx, ans, x, axis=None, keepdims=False: dx * x / _expand(
        ans, x, axis, keepdims), "more axes|shape|raised"),
    ("norm", 0, lambda dx, ans, x, axis=None, keepdims=False: 2 * np.sum(
        dx * x, axis=axis, keepdims=keepdims), "wrong"),
    ("norm", 0, lambda dx, ans, x, axis=None, keepdims=False: mg.jvp(
        lambda x: mg.numpy.sqrt(mg.numpy.sum(x ** 2, axis=axis, keepdims=keepdims)), (x,),
        (dx,))[1], "switched off"),
]

JVP_STABILITY_WRONG = [
    (lambda dx, ans, x, axis=-1, keepdims=False: np.sum(
        dx * np.exp(x), axis=axis, keepdims=keepdims) / np.exp(ans), "exp\\(x - ans\\)"),
]


def jacobian_by_columns(f, x):
    return np.stack([mg.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)], axis=1)


def jacobian_by_rows(f, x):
    out, f_vjp = mg.vjp(f, x)
    return np.stack([f_vjp(e)[0] for e in np.eye(np.size(out))], axis=0)


def columns_by_loop(f, x):
    m = np.size(f(x))
    J = np.zeros((m, x.size))
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = 1.0
        J[:, j] = mg.jvp(f, (x,), (e,))[1]
    return J


def rows_by_grad(f, x):
    m = np.size(f(x))
    return np.array([mg.grad(lambda x, i=i: f(x)[i])(x) for i in range(m)])


def columns_stacked_as_rows(f, x):
    return np.stack([mg.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)], axis=0)


def rows_stacked_as_columns(f, x):
    out, f_vjp = mg.vjp(f, x)
    return np.stack([f_vjp(e)[0] for e in np.eye(np.size(out))], axis=1)


def columns_by_differences(f, x):
    h = 1e-6
    return np.stack([(np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h)
                     for e in np.eye(x.size)], axis=1)


def transpose_identity(f, x, u, v):
    _, Ju = mg.jvp(f, (x,), (u,))
    _, f_vjp = mg.vjp(f, x)
    return float(np.sum(v * Ju)), float(np.sum(f_vjp(v)[0] * u))


def identity_both_fwd(f, x, u, v):
    _, Ju = mg.jvp(f, (x,), (u,))
    return float(v @ Ju), float(v @ Ju)


def identity_both_rev(f, x, u, v):
    _, f_vjp = mg.vjp(f, x)
    return float(f_vjp(v)[0] @ u), float(f_vjp(v)[0] @ u)


def identity_swapped(f, x, u, v):
    a, b = transpose_identity(f, x, u, v)
    return b, a


def identity_by_differences(f, x, u, v):
    h = 1e-6
    Ju = (np.asarray(f(x + h * u)) - np.asarray(f(x - h * u))) / (2 * h)
    _, f_vjp = mg.vjp(f, x)
    return float(v @ Ju), float(f_vjp(v)[0] @ u)


def identity_arrays(f, x, u, v):
    _, Ju = mg.jvp(f, (x,), (u,))
    _, f_vjp = mg.vjp(f, x)
    return v * Ju, f_vjp(v)[0] * u


def identity_vdot(f, x, u, v):
    Ju = mg.jvp(f, (x,), (u,))[1]
    vJ = mg.vjp(f, x)[1](v)[0]
    return np.vdot(v, Ju), np.dot(vJ, u)


PS3_MODES_RIGHT = [
    ("fwd", jacobian_by_columns, "the solution"),
    ("fwd", columns_by_loop, "a loop over columns"),
    ("rev", jacobian_by_rows, "the solution"),
    ("rev", rows_by_grad, "mg.grad of each output"),
]

PS3_MODES_WRONG = [
    ("fwd", columns_stacked_as_rows, "transposed"),
    ("rev", rows_stacked_as_columns, "transposed"),
    ("fwd", jacobian_by_rows, "mg.jvp only"),
    ("rev", jacobian_by_columns, "mg.vjp only"),
    ("fwd", lambda f, x: mg.jacfwd(f)(x), "mg.jvp only"),
    ("rev", lambda f, x: mg.jacrev(f)(x), "mg.vjp only"),
    ("fwd", columns_by_differences, "not exact"),
]

def identity_by_grad(f, x, u, v):
    Ju = mg.jvp(f, (x,), (u,))[1]
    return float(np.dot(v, Ju)), float(mg.grad(lambda x: mg.numpy.sum(v * f(x)))(x) @ u)


IDENTITY_RIGHT = [(transpose_identity, "the solution"), (identity_vdot, "np.vdot, np.dot"),
                  (identity_by_grad, "mg.grad of <v, f(x)>")]
IDENTITY_WRONG = [
    (identity_both_fwd, "computed with mg.jvp"),
    (identity_both_rev, "computed with mg.vjp"),
    (identity_swapped, "computed with"),
    (identity_by_differences, "finite differences"),
    (identity_arrays, "one number"),
]

CHOOSE_RIGHT = [
    (lambda n_in, n_out: "fwd" if n_in < n_out else "rev", "the solution"),
    (lambda n_in, n_out: "rev" if n_out < n_in else "fwd", "the other comparison"),
]
CHOOSE_WRONG = [
    (lambda n_in, n_out: "rev" if n_in < n_out else "fwd", "costs"),
    (lambda n_in, n_out: "rev", "costs"),
    (lambda n_in, n_out: "forward" if n_in < n_out else "reverse", "costs"),
]


# ====================================================================== problem set 4

def sigmoid(y):
    return 0.5 * (np.tanh(0.5 * y) + 1.0)


def mlp_gradients(W, v, x):
    y_hat = sigmoid(W @ x)
    dz_dy = v * y_hat * (1.0 - y_hat)
    return np.outer(dz_dy, x), y_hat, W.T @ dz_dy


def mlp_gradients_einsum(W, v, x):
    s = 1 / (1 + np.exp(-np.einsum("mn,n->m", W, x)))
    d = v * s * (1 - s)
    return np.einsum("m,n->mn", d, x), s, np.einsum("mn,m->n", W, d)


def mlp_gradients_loops(W, v, x):
    m, n = W.shape
    dW, dv, dx = np.zeros((m, n)), np.zeros(m), np.zeros(n)
    for i in range(m):
        s = sigmoid(sum(W[i, j] * x[j] for j in range(n)))
        dv[i] = s
        for j in range(n):
            dW[i, j] = v[i] * s * (1 - s) * x[j]
            dx[j] += v[i] * s * (1 - s) * W[i, j]
    return dW, dv, dx


def mlp_mutant(dW=None, dv=None, dx=None, order=None):
    def mlp(W, v, x):
        y_hat = sigmoid(W @ x)
        dz_dy = v * y_hat * (1.0 - y_hat)
        out = {"dW": np.outer(dz_dy, x), "dv": y_hat, "dx": W.T @ dz_dy}
        env = dict(W=W, v=v, x=x, y_hat=y_hat, dz_dy=dz_dy)
        for key, fn in (("dW", dW), ("dv", dv), ("dx", dx)):
            if fn is not None:
                out[key] = fn(**env)
        return tuple(out[k] for k in (order or ("dW", "dv", "dx")))
    return mlp


def loss_and_grads(W, v, X, t):
    H = sigmoid(X @ W.T)
    z = H @ v
    loss = np.mean(np.logaddexp(0.0, z) - t * z)
    dz = (sigmoid(z) - t) / len(t)
    dY = np.outer(dz, v) * H * (1.0 - H)
    return loss, dY.T @ X, H.T @ dz


def loss_cross_entropy(W, v, X, t):
    """The loss written as binary cross-entropy, the gradients by einsum."""
    H = 1 / (1 + np.exp(-np.einsum("bn,mn->bm", X, W)))
    z = H @ v
    p = 1 / (1 + np.exp(-z))
    loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    dz = (p - t) / X.shape[0]
    return loss, np.einsum("b,m,bm,bn->mn", dz, v, H * (1 - H), X), np.einsum("b,bm->m", dz, H)


def loss_mutant(loss=None, scale=1.0, sign=1.0, transpose=False, swap=False):
    def lag(W, v, X, t):
        L, dW, dv = loss_and_grads(W, v, X, t)
        if loss is not None:
            L = loss(W, v, X, t)
        factor = sign * (scale(t) if callable(scale) else scale)
        dW, dv = factor * dW, factor * dv
        if transpose:
            dW = dW.T
        return (L, dv, dW) if swap else (L, dW, dv)
    return lag


def train_mlp(X, t, hidden=16, steps=2000, lr=2.0, seed=0):
    rng = np.random.default_rng(seed)
    W, v = rng.standard_normal((hidden, X.shape[1])), rng.standard_normal(hidden)
    for _ in range(steps):
        _, dW, dv = loss_and_grads(W, v, X, t)
        W, v = W - lr * dW, v - lr * dv
    return W, v


NOTEBOOK_RINGS = G.make_rings(200, 0, disc_label=1.0)


def train_mlp_on_notebook_data(X, t, **kwargs):
    return train_mlp(*NOTEBOOK_RINGS, **kwargs)


PS4_RIGHT = [
    ("check_mlp_gradients", mlp_gradients, "the solution"),
    ("check_mlp_gradients", mlp_gradients_einsum, "einsum and its own sigmoid"),
    ("check_mlp_gradients", mlp_gradients_loops, "loops"),
    ("check_mlp_loss_and_grads", loss_and_grads, "the solution"),
    ("check_mlp_loss_and_grads", loss_cross_entropy, "cross-entropy, einsum"),
]

PS4_WRONG = [
    ("check_mlp_gradients", mlp_mutant(dW=lambda dz_dy, x, **_: np.outer(x, dz_dy)), "transposed"),
    ("check_mlp_gradients", mlp_mutant(dx=lambda W, dz_dy, **_: W @ dz_dy  # square W only
                                       if W.shape[0] == W.shape[1] else W.T @ dz_dy[::-1]),
     "dz/dx"),
    ("check_mlp_gradients", mlp_mutant(dW=lambda y_hat, x, **_: np.outer(y_hat * (1 - y_hat), x)),
     "dz/dW"),
    ("check_mlp_gradients", mlp_mutant(dx=lambda W, v, **_: W.T @ v), "dz/dx"),
    ("check_mlp_gradients", mlp_mutant(dv=lambda y_hat, **_: y_hat * (1 - y_hat)), "dz/dv"),
    ("check_mlp_gradients", mlp_mutant(order=("dv", "dW", "dx")), "order|dz/dW"),
    ("check_mlp_gradients", mlp_mutant(dW=lambda W, v, x, **_: numerical_gradient(
        lambda W: v @ sigmoid(W @ x), W)), "not exact"),
    ("check_mlp_gradients", mlp_mutant(dx=lambda W, dz_dy, **_: -W.T @ dz_dy), "wrong sign"),
    ("check_mlp_loss_and_grads", loss_mutant(
        loss=lambda W, v, X, t: np.sum(np.logaddexp(0, sigmoid(X @ W.T) @ v)
                                       - t * (sigmoid(X @ W.T) @ v))),
     "the loss is [0-9.]+; .* Did you average"),
    ("check_mlp_loss_and_grads", loss_mutant(scale=len), "dL/dW"),
    ("check_mlp_loss_and_grads", loss_mutant(sign=-1.0), "wrong sign"),
    ("check_mlp_loss_and_grads", loss_mutant(transpose=True), "dL/dW"),
    ("check_mlp_loss_and_grads", loss_mutant(swap=True), "dL/dW"),
    ("check_mlp_loss_and_grads", loss_mutant(
        loss=lambda W, v, X, t: np.mean((sigmoid(sigmoid(X @ W.T) @ v) - t) ** 2)), "loss"),
]


# ====================================================================== problem set 5

def topological_order(output):
    order, visited = [], set()
    stack = [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            for parent in node.parents:
                if parent not in visited:
                    stack.append((parent, False))
    return order


def order_with_iterators(output):
    """Post-order with a stack of (node, iterator over its parents); a dict as ordered set."""
    done, on_stack = {}, {output}
    stack = [(output, iter(output.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in done and parent not in on_stack:
                on_stack.add(parent)
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            done[node] = True
    return list(done)


def order_by_depth(output):
    """Longest distance from the inputs first: a valid order, unlike BFS from the output."""
    nodes, stack = {output: None}, [output]
    while stack:
        for p in stack.pop().parents:
            if p not in nodes:
                nodes[p] = None
                stack.append(p)
    depth = {}
    for node in topological_order(output):
        depth[node] = 1 + max((depth[p] for p in node.parents), default=-1)
    return sorted(nodes, key=lambda n: depth[n])


def order_list_membership(output):
    """A list instead of a set for the visited nodes (slow, but right on small graphs)."""
    order, visited, stack = [], [], [(output, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif not any(node is v for v in visited):
            visited.append(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def recursive_order(output):
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(output)
    return order


def backward(output, g):
    cotangent = {output: g}
    for node in reversed(topological_order(output)):
        for parent, vjp in zip(node.parents, node.vjps):
            share = vjp(cotangent[node])
            cotangent[parent] = cotangent[parent] + share if parent in cotangent else share
    return cotangent


def backward_defaultdict(output, g):
    from collections import defaultdict
    cot = defaultdict(lambda: 0.0)
    cot[output] = g
    for node in topological_order(output)[::-1]:
        for i in range(len(node.parents)):
            cot[node.parents[i]] = cot[node.parents[i]] + node.vjps[i](cot[node])
    return {node: np.broadcast_to(c, node.value.shape) for node, c in cot.items()}


def backward_copying_in_place(output, g):
    cot = {output: np.array(g, dtype=float)}
    for node in reversed(topological_order(output)):
        for parent, vjp in zip(node.parents, node.vjps):
            share = vjp(cot[node])
            if parent in cot:
                cot[parent] += share
            else:
                cot[parent] = np.array(share, dtype=float)
    return cot


def backward_aliased_in_place(output, g):
    """+= on the first share itself: a VJP that returns its g (add) makes two nodes share
    one array, and the later += changes both."""
    cot = {output: g}
    for node in reversed(topological_order(output)):
        for parent, vjp in zip(node.parents, node.vjps):
            share = vjp(cot[node])
            if parent in cot:
                cot[parent] += share
            else:
                cot[parent] = share
    return cot


def backward_walks_forward(output, g):
    """The order not reversed: each node passes on what it has so far (nothing, mostly)."""
    cot = {output: g}
    for node in topological_order(output):
        if node not in cot:
            continue
        for parent, vjp in zip(node.parents, node.vjps):
            share = vjp(cot[node])
            cot[parent] = cot[parent] + share if parent in cot else share
    return cot


def backward_ones(output, g):
    return backward(output, np.ones_like(output.value))


def backward_every_path(output, g):
    """Pushes each share on at once, recursively: right numbers, one walk per path."""
    cot = {}

    def push(node, g):
        cot[node] = cot[node] + g if node in cot else g
        for parent, vjp in zip(node.parents, node.vjps):
            push(parent, vjp(g))
    push(output, g)
    return cot


def backward_forgets_constants(output, g):
    return {n: c for n, c in backward(output, g).items() if n.parents or n.op != "const"}


def make_grad(backward=backward, one_tuple=False, ones=True):
    def grad(f, argnums=0):
        def gradient(*args):
            from tests.test_engine_checks import Node
            inputs = [Node(a) for a in args]
            output = f(*inputs)
            seed = np.ones_like(output.value) if ones else np.array(2.0)
            cot = backward(output, seed)
            which = argnums if isinstance(argnums, tuple) else (argnums,)
            grads = tuple(cot.get(inputs[i], np.zeros_like(inputs[i].value)) for i in which)
            return grads if isinstance(argnums, tuple) or one_tuple else grads[0]
        return gradient
    return grad


def grad_as_list(f, argnums=0):
    inner = make_grad()(f, argnums)
    return lambda *args: list(inner(*args)) if isinstance(argnums, tuple) else inner(*args)


class Dual:
    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    @staticmethod
    def lift(x):
        return x if isinstance(x, Dual) else Dual(x, 0.0)

    def __add__(self, other):
        other = Dual.lift(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        other = Dual.lift(other)
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __rsub__(self, other):
        return Dual.lift(other) - self

    def __mul__(self, other):
        other = Dual.lift(other)
        return Dual(self.value * other.value,
                    self.tangent * other.value + self.value * other.tangent)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = Dual.lift(other)
        return Dual(self.value / other.value,
                    (self.tangent * other.value - self.value * other.tangent) / other.value ** 2)

    def __rtruediv__(self, other):
        return Dual.lift(other) / self

    def __neg__(self):
        return Dual(-self.value, -self.tangent)

    def __pow__(self, other):
        if isinstance(other, Dual):
            value = self.value ** other.value
            return Dual(value, value * (other.tangent * np.log(self.value)
                                        + other.value * self.tangent / self.value))
        return Dual(self.value ** other, other * self.value ** (other - 1) * self.tangent)

    def __rpow__(self, other):
        return Dual.lift(other) ** self

    def sin(self):
        return Dual(np.sin(self.value), np.cos(self.value) * self.tangent)

    def cos(self):
        return Dual(np.cos(self.value), -np.sin(self.value) * self.tangent)

    def exp(self):
        return Dual(np.exp(self.value), np.exp(self.value) * self.tangent)

    def log(self):
        return Dual(np.log(self.value), self.tangent / self.value)


class SlotsDual(Dual):
    """__slots__, math instead of numpy, the reflected operators written out, and every
    power through exp and log."""
    __slots__ = ()

    def __rsub__(self, other):
        return -(self - other)

    def __rtruediv__(self, other):
        return Dual(other / self.value, -other * self.tangent / self.value ** 2)

    def __pow__(self, other):
        return (Dual.lift(other) * self.log()).exp() if isinstance(other, Dual) else \
            Dual(self.value ** other, other * self.value ** (other - 1) * self.tangent)

    def sin(self):
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)

    def exp(self):
        e = math.exp(self.value)
        return Dual(e, e * self.tangent)


class ReflectedDual(Dual):
    """The reflected operators written out, without lifting the number."""

    def __rsub__(self, other):
        return Dual(other - self.value, -self.tangent)

    def __rtruediv__(self, other):
        return Dual(other / self.value, -other * self.tangent / self.value ** 2)

    def __rpow__(self, other):
        power = other ** self.value
        return Dual(power, power * math.log(other) * self.tangent)


class QuotientSignDual(Dual):
    def __truediv__(self, other):
        other = Dual.lift(other)
        return Dual(self.value / other.value,
                    (self.tangent * other.value + self.value * other.tangent) / other.value ** 2)


class LogDual(Dual):
    def log(self):
        return Dual(np.log(self.value), 1 / self.value)


class SinDual(Dual):
    def sin(self):
        return Dual(np.sin(self.value), np.cos(self.tangent))


class ExponentOnlyDual(Dual):
    def __pow__(self, other):
        if isinstance(other, Dual):
            value = self.value ** other.value
            return Dual(value, value * other.tangent * np.log(self.value))
        return Dual(self.value ** other, other * self.value ** (other - 1) * self.tangent)


class DivTangentDual(Dual):
    def __truediv__(self, other):
        other = Dual.lift(other)
        return Dual(self.value / other.value, self.tangent / other.tangent
                    if other.tangent else self.tangent / other.value)


class RecursiveRaddDual(Dual):
    def __radd__(self, other):
        return other + self


class NoLiftDual(Dual):
    """Numbers are not lifted: Dual + 3 adds 3 to the tangent as well."""
    def __add__(self, other):
        if isinstance(other, Dual):
            return Dual(self.value + other.value, self.tangent + other.tangent)
        return Dual(self.value + other, self.tangent + other)


# The solution's checkpointed VJP is the one tests/test_engine_checks.py checks.
from tests.test_engine_checks import checkpointed_vjp  # noqa: E402


def checkpointed_by_segments(layers, x, g, segment):
    """The chain cut into a list of segments first; each segment's VJP is a function."""
    pieces = [layers[i:i + segment] for i in range(0, len(layers), segment)]
    inputs = {}
    for k, piece in enumerate(pieces):
        inputs[k] = x
        for layer in piece:
            x = layer(x)[0]
    x = None
    for k in range(len(pieces) - 1, -1, -1):
        y, stack = inputs.pop(k), []
        for layer in pieces[k]:
            y, vjp = layer(y)
            stack.append(vjp)
        y = vjp = None
        for vjp in reversed(stack):
            g = vjp(g)
        stack = vjp = None
    return g


def checkpointed_last_segment_kept(layers, x, g, segment):
    """Keeps the VJPs of the last segment from the forward pass: it is not run again."""
    starts = list(range(0, len(layers), segment))
    checkpoints, vjps = [], []
    for start in starts:
        checkpoints.append(x)
        last = start == starts[-1]
        for layer in layers[start:start + segment]:
            x, vjp = layer(x)
            if last:
                vjps.append(vjp)
        vjp = None
    x = None
    checkpoints.pop()
    for start in reversed(starts):
        if not vjps:
            y = checkpoints.pop()
            for layer in layers[start:start + segment]:
                y, vjp = layer(y)
                vjps.append(vjp)
            y = vjp = None
        while vjps:
            g = vjps.pop()(g)
    return g


def checkpointed_segments_forwards(layers, x, g, segment):
    """Recomputes the segments in the forward order in the backward pass."""
    starts = list(range(0, len(layers), segment))
    checkpoints = []
    for start in starts:
        checkpoints.append(x)
        for layer in layers[start:start + segment]:
            x, _ = layer(x)
    for start, x in zip(starts, checkpoints):
        vjps = []
        for layer in layers[start:start + segment]:
            x, vjp = layer(x)
            vjps.append(vjp)
        for vjp in reversed(vjps):
            g = vjp(g)
    return g


def checkpointed_vjps_in_forward_order(layers, x, g, segment):
    """Pulls g back through a segment's layers first to last."""
    starts = list(range(0, len(layers), segment))
    checkpoints = []
    for start in starts:
        checkpoints.append(x)
        for layer in layers[start:start + segment]:
            x, _ = layer(x)
    for start in reversed(starts):
        x, vjps = checkpoints.pop(), []
        for layer in layers[start:start + segment]:
            x, vjp = layer(x)
            vjps.append(vjp)
        for vjp in vjps:
            g = vjp(g)
    return g


PS5_RIGHT = [
    ("check_topological_order", topological_order, "the solution"),
    ("check_topological_order", order_with_iterators, "a stack of iterators"),
    ("check_topological_order", order_by_depth, "sorted by depth"),
    ("check_topological_order", order_list_membership, "a list of visited nodes"),
    ("check_backward", backward, "the solution"),
    ("check_backward", backward_defaultdict, "defaultdict, by index"),
    ("check_backward", backward_copying_in_place, "+= on copies"),
    ("check_grad", make_grad(), "the solution"),
    ("check_grad", grad_as_list, "a list for a tuple of argnums"),
    ("check_dual", Dual, "the solution"),
    ("check_dual", SlotsDual, "__slots__, math, powers by exp and log"),
    ("check_dual", ReflectedDual, "reflected operators written out"),
    ("check_checkpointed_vjp", checkpointed_vjp, "the solution"),
    ("check_checkpointed_vjp", checkpointed_by_segments, "a list of segments"),
    ("check_checkpointed_vjp", checkpointed_last_segment_kept, "the last segment not rerun"),
]

PS5_WRONG = [
    ("check_backward", backward_aliased_in_place, "must be g itself|cotangent of"),
    ("check_backward", backward_ones, "must be g itself"),
    ("check_backward", backward_every_path, "node.parents|recursed"),
    ("check_backward", backward_forgets_constants, "the inputs and constants too"),
    ("check_backward", backward_walks_forward, "topological_order and its tests fail"),
    ("check_grad", make_grad(one_tuple=True), "shape"),
    ("check_grad", make_grad(ones=False), "factor"),
    ("check_grad", make_grad(backward_aliased_in_place), "fix them first|gradient"),
    ("check_dual", QuotientSignDual, "quotient rule"),
    ("check_dual", LogDual, "log' a = 1 / a"),
    ("check_dual", SinDual, "sin' = cos"),
    ("check_dual", ExponentOnlyDual, "power rule"),
    ("check_dual", DivTangentDual, "quotient rule"),
    ("check_dual", NoLiftDual, "sum rule"),
    ("check_dual", RecursiveRaddDual, "other \\+ self, calls itself"),
    ("check_checkpointed_vjp", checkpointed_segments_forwards, "own checkpoint"),
    ("check_checkpointed_vjp", checkpointed_vjps_in_forward_order, "own checkpoint"),
]


# ====================================================================== the tests

def _cases(table):
    return [pytest.param(*row, id=f"{row[0]}-{row[-1]}") for row in table]


def _assert_fails(message, says, what):
    assert message is not None, f"a wrong answer passed: {what}"
    assert re.search(says, message), f"{what}: the message does not say {says!r}: {message}"


@pytest.mark.parametrize("check, args, what", _cases(PS1_RIGHT))
def test_ps1_right_answers_pass(check, args, what):
    for seed in SEEDS:
        assert graded(getattr(G, check), *args, grader_seed=seed) is None


@pytest.mark.parametrize("check, args, says", _cases(PS1_WRONG))
def test_ps1_wrong_answers_fail(check, args, says):
    for seed in SEEDS:
        _assert_fails(graded(getattr(G, check), *args, grader_seed=seed), says, check)


def test_a_relative_error_that_is_not_the_largest_entrywise_ratio_fails_on_every_shape():
    # grading seeds that draw arrays of one entry, where the norm, the mean and the
    # largest ratio of the entries are all one number
    for seed in (1020, 1025, 1048, 1135):
        for answer in (rel_error_norms, rel_error_mean):
            assert graded(G.check_rel_error, answer, grader_seed=seed) is not None


def test_a_wrong_relative_error_is_shown_with_the_digits_that_differ():
    for answer in (rel_error_floor_added, rel_error_no_floor, rel_error_norms):
        for seed in SEEDS:
            message = graded(G.check_rel_error, answer, grader_seed=seed)
            got, want = re.search(r"returned (\S+), the definition gives (\S+)\.", message).groups()
            assert got != want, message


@pytest.mark.parametrize("op, argnum, maker, what", _cases(VJP_RIGHT))
def test_right_vjp_makers_pass(op, argnum, maker, what):
    for seed in SEEDS:
        assert graded(G.check_vjp_maker, op, maker, argnum=argnum, grader_seed=seed) is None


@pytest.mark.parametrize("op, argnum, maker, says", _cases(VJP_WRONG))
def test_wrong_vjp_makers_fail(op, argnum, maker, says):
    for seed in SEEDS:
        _assert_fails(graded(G.check_vjp_maker, op, maker, argnum=argnum, grader_seed=seed),
                      says, f"{op} {argnum}")


@pytest.mark.parametrize("forward, what", LOGSUMEXP_RIGHT, ids=[w for _, w in LOGSUMEXP_RIGHT])
def test_right_logsumexp_passes(forward, what):
    for seed in SEEDS:
        assert graded(G.check_logsumexp_forward, forward, grader_seed=seed) is None


@pytest.mark.parametrize("forward, says", LOGSUMEXP_WRONG)
def test_wrong_logsumexp_fails(forward, says):
    for seed in SEEDS:
        _assert_fails(graded(G.check_logsumexp_forward, forward, grader_seed=seed), says,
                      "logsumexp")


@pytest.mark.parametrize("maker", [logsumexp_vjp, logsumexp_vjp_softmax, logsumexp_vjp_reshape])
def test_stable_logsumexp_vjps_pass(maker):
    for seed in SEEDS:
        assert graded(G.check_vjp_stability, maker, grader_seed=seed) is None


@pytest.mark.parametrize("maker, says", STABILITY_WRONG)
def test_unstable_logsumexp_vjps_fail(maker, says):
    for seed in SEEDS:
        _assert_fails(graded(G.check_vjp_stability, maker, grader_seed=seed), says, "stability")


@pytest.mark.parametrize("op, argnum, rule, what", _cases(JVP_RIGHT))
def test_right_jvp_rules_pass(op, argnum, rule, what):
    for seed in SEEDS:
        assert graded(G.check_jvp_rule, op, rule, argnum=argnum, grader_seed=seed) is None


@pytest.mark.parametrize("op, argnum, rule, says", _cases(JVP_WRONG))
def test_wrong_jvp_rules_fail(op, argnum, rule, says):
    for seed in SEEDS:
        _assert_fails(graded(G.check_jvp_rule, op, rule, argnum=argnum, grader_seed=seed),
                      says, f"{op} {argnum}")


def test_logsumexp_jvp_stability():
    for seed in SEEDS:
        for rule in (logsumexp_jvp, logsumexp_jvp_softmax):
            assert graded(G.check_jvp_stability, rule, grader_seed=seed) is None
        for rule, says in JVP_STABILITY_WRONG:
            _assert_fails(graded(G.check_jvp_stability, rule, grader_seed=seed), says, "stability")


@pytest.mark.parametrize("mode, builder, what", _cases(PS3_MODES_RIGHT))
def test_right_jacobian_builders_pass(mode, builder, what):
    for seed in SEEDS:
        assert graded(G.check_jacobian_builder, builder, mode, grader_seed=seed) is None


@pytest.mark.parametrize("mode, builder, says", _cases(PS3_MODES_WRONG))
def test_wrong_jacobian_builders_fail(mode, builder, says):
    for seed in SEEDS:
        _assert_fails(graded(G.check_jacobian_builder, builder, mode, grader_seed=seed), says, mode)


def test_transpose_identity_and_choose_mode():
    for seed in SEEDS:
        for answer, what in IDENTITY_RIGHT:
            assert graded(G.check_transpose_identity, answer, grader_seed=seed) is None, what
        for answer, says in IDENTITY_WRONG:
            _assert_fails(graded(G.check_transpose_identity, answer, grader_seed=seed), says,
                          answer.__name__)
        for answer, what in CHOOSE_RIGHT:
            assert graded(G.check_choose_mode, answer, grader_seed=seed) is None, what
        for answer, says in CHOOSE_WRONG:
            _assert_fails(graded(G.check_choose_mode, answer, grader_seed=seed), says, "choose")


@pytest.mark.parametrize("check, answer, what", _cases(PS4_RIGHT))
def test_ps4_right_answers_pass(check, answer, what):
    for seed in SEEDS:
        assert graded(getattr(G, check), answer, grader_seed=seed) is None


@pytest.mark.parametrize("check, answer, says", _cases(PS4_WRONG))
def test_ps4_wrong_answers_fail(check, answer, says):
    for seed in SEEDS:
        _assert_fails(graded(getattr(G, check), answer, grader_seed=seed), says, check)


def train_softmax_by_hand(X, labels, classes, hidden=16, steps=300, lr=0.5, seed=0):
    """Problem set 2's classifier with the gradients written out in numpy."""
    rng = np.random.default_rng(seed)
    W1, b1 = 0.5 * rng.standard_normal((hidden, X.shape[1])), np.zeros(hidden)
    W2, b2 = 0.5 * rng.standard_normal((classes, hidden)), np.zeros(classes)
    onehot = np.eye(classes)[labels]
    for _ in range(steps):
        H = sigmoid(X @ W1.T + b1)
        logits = H @ W2.T + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        d_logits = (p - onehot) / len(X)
        d_hidden = d_logits @ W2 * H * (1 - H)
        W2, b2 = W2 - lr * d_logits.T @ H, b2 - lr * d_logits.sum(axis=0)
        W1, b1 = W1 - lr * d_hidden.T @ X, b1 - lr * d_hidden.sum(axis=0)
    return W1, b1, W2, b2


NOTEBOOK_BLOBS = G.make_blobs(150, 0)


def test_classifiers_trained_on_their_arguments_pass_and_on_the_notebooks_data_fail():
    seed = SEEDS[0]
    assert graded(G.check_softmax_classifier, train_softmax_by_hand, grader_seed=seed) is None
    _assert_fails(graded(G.check_softmax_classifier,
                         lambda X, labels, classes: train_softmax_by_hand(*NOTEBOOK_BLOBS, 3),
                         grader_seed=seed), "not the notebook's data", "train_classifier")
    _assert_fails(graded(G.check_softmax_classifier,
                         lambda X, labels, classes: train_softmax_by_hand(X, labels, 3),
                         grader_seed=seed), "IndexError|use the arguments X, labels and classes",
                  "train_classifier")


def test_trainer_on_its_arguments_passes_and_on_the_notebooks_data_fails():
    seed = SEEDS[0]
    assert graded(G.check_mlp_classifier, train_mlp, grader_seed=seed) is None
    _assert_fails(graded(G.check_mlp_classifier, train_mlp_on_notebook_data, grader_seed=seed),
                  "not the notebook's", "train_mlp")


@pytest.mark.parametrize("check, answer, what", _cases(PS5_RIGHT))
def test_ps5_right_answers_pass(check, answer, what):
    for seed in SEEDS:
        assert graded(getattr(G, check), answer, grader_seed=seed) is None


@pytest.mark.parametrize("check, answer, says", _cases(PS5_WRONG))
def test_ps5_wrong_answers_fail(check, answer, says):
    for seed in SEEDS:
        _assert_fails(graded(getattr(G, check), answer, grader_seed=seed), says, check)


def test_deep_graphs_take_an_order_kept_on_a_stack_and_refuse_a_recursive_one():
    seed = SEEDS[0]    # 100,000 nodes: one seed
    assert graded(G.check_topological_order_deep, order_with_iterators, grader_seed=seed) is None
    _assert_fails(graded(G.check_topological_order_deep, recursive_order, grader_seed=seed),
                  "RecursionError.*a stack of your own", "recursive_order")
