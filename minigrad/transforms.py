"""Differential operators: functions in, derivative functions out, under JAX's names.

All of them are built from two entry points: `make_vjp` (reverse mode) and `make_jvp`
(forward mode). A Jacobian is a stack of VJPs (one per output element: `jacrev`) or of
JVPs (one per input element: `jacfwd`); which is cheaper depends on which side is smaller.
"""
import functools

import numpy as np

from . import forward, reverse
from . import numpy as mnp
from .tracer import Box, cast_like_primal, derivative_dtype, value_of


def is_float(x):
    """Whether x can be differentiated: a floating-point number or array."""
    if isinstance(x, (bool, int, str)) or x is None:
        return False
    try:
        return np.result_type(value_of(x)).kind == "f"
    except TypeError:
        return False


def check_float(x, argnum, operator):
    """The one check that argument `argnum` of a function can be differentiated."""
    if not is_float(x):
        try:
            dtype = np.result_type(value_of(x))
        except TypeError:
            dtype = type(x).__name__
        raise TypeError(
            f"{operator} differentiates with respect to argument {argnum}, which has dtype "
            f"{dtype}; only floating-point arguments can be differentiated. Pass a float: "
            f"2.0 instead of 2, or np.asarray(x, dtype=float).")


def argnums_tuple(argnums, n_args, operator):
    """`argnums` (an int or a sequence) as a tuple of non-negative argument positions."""
    nums = (int(argnums),) if is_int(argnums) else tuple(argnums)
    for i in nums:
        if not -n_args <= i < n_args:
            raise ValueError(f"{operator}: argnums={argnums} is out of range for a function "
                             f"of {n_args} positional argument(s).")
    nums = tuple(i % n_args for i in nums)
    if len(set(nums)) < len(nums):
        raise ValueError(f"{operator}: argnums={argnums} names an argument twice; name each "
                         f"once.")
    return nums


def is_int(argnums):
    """One argument (a single derivative), rather than a sequence (a tuple of them)."""
    return isinstance(argnums, (int, np.integer))


def partial_in(fun, args, argnums):
    """`fun` as a function of the arguments `argnums` only, the others held fixed."""
    def partial(*chosen):
        full = list(args)
        for i, x in zip(argnums, chosen):
            full[i] = x
        return fun(*full)
    return partial


def vjp(fun, *primals):
    """`out, f_vjp = vjp(f, *primals)`; `f_vjp(v)` is v^T J, one cotangent per primal."""
    for i, x in enumerate(primals):
        check_float(x, i, "vjp")
    return reverse.make_vjp(fun, primals)


def jvp(fun, primals, tangents):
    """`out, t_out = jvp(f, primals, tangents)`: f(*primals) and J @ tangents."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents.")
    for i, (x, t) in enumerate(zip(primals, tangents)):
        check_float(x, i, "jvp")
        if np.shape(t) != np.shape(x):
            raise ValueError(f"jvp: tangent {i} has shape {np.shape(t)} but its primal has "
                             f"shape {np.shape(x)}; they must match.")
    # a tangent given as a list or in ints is an array in its primal's dtype
    tangents = tuple(t if isinstance(t, Box) else np.asarray(t, dtype=derivative_dtype(x))
                     for x, t in zip(primals, tangents))
    return forward.make_jvp(fun, primals, tangents)


def value_and_grad(fun, argnums=0):
    """Like `grad`, but returns `(f(*args), gradient)` from the same forward pass."""
    @functools.wraps(fun)
    def value_and_grad_fun(*args):
        nums = argnums_tuple(argnums, len(args), "grad")
        for i in nums:
            check_float(args[i], i, "grad")
        ans, f_vjp = reverse.make_vjp(partial_in(fun, args, nums), [args[i] for i in nums],
                                      once=True)
        if np.ndim(ans) != 0:
            raise TypeError(
                f"grad needs a function with a scalar output, but {_name(fun)} returned an "
                f"array of shape {np.shape(ans)}. For the derivatives of every output use "
                f"mg.jacrev(f) (the Jacobian), or mg.vjp(f, x) for one vector-Jacobian "
                f"product.")
        grads = f_vjp(derivative_dtype(ans).type(1))   # the seed: d ans / d ans = 1
        return ans, (grads[0] if is_int(argnums) else grads)
    return value_and_grad_fun


def grad(fun, argnums=0):
    """The gradient of a scalar-valued `fun` with respect to argument(s) `argnums`."""
    value_and_grad_fun = value_and_grad(fun, argnums)

    @functools.wraps(fun)
    def grad_fun(*args):
        return value_and_grad_fun(*args)[1]
    return grad_fun


def _basis(shape, dtype=float):
    """The unit arrays e_0, e_1, ... of the given shape, one per element."""
    size = int(np.prod(shape))
    for k in range(size):
        e = np.zeros(size, dtype=dtype)
        e[k] = 1.0
        yield e.reshape(shape)


def _stack(rows, out_shape, x):
    rows, in_shape = list(rows), np.shape(x)
    if not rows:
        return np.zeros(out_shape + in_shape, dtype=derivative_dtype(x))
    return cast_like_primal(mnp.reshape(mnp.stack(rows), out_shape + in_shape), x)


def _jacobian_operator(build):
    """Make `build(partial, x)` (the Jacobian of a one-argument function at x) an operator
    `op(fun, argnums)`: an int gives one Jacobian, a tuple one per argument."""
    def operator(fun, argnums=0):
        @functools.wraps(fun)
        def jacobians(*args):
            result = []
            for i in argnums_tuple(argnums, len(args), build.__name__):
                check_float(args[i], i, build.__name__)
                result.append(build(partial_in(fun, args, (i,)), args[i]))
            return result[0] if is_int(argnums) else tuple(result)
        return jacobians
    operator.__name__, operator.__doc__ = build.__name__, build.__doc__
    return operator


@_jacobian_operator
def jacrev(fun, x):
    """The Jacobian, shape out.shape + in.shape, one VJP per output element."""
    ans, f_vjp = reverse.make_vjp(fun, [x])
    rows = (f_vjp(e)[0] for e in _basis(np.shape(ans), derivative_dtype(ans)))
    return _stack(rows, np.shape(ans), x)


@_jacobian_operator
def jacfwd(fun, x):
    """The Jacobian, shape out.shape + in.shape, one JVP per input element."""
    basis = _basis(np.shape(x), derivative_dtype(x))
    columns = [forward.make_jvp(fun, [x], [e])[1] for e in basis]
    if not columns:                     # an input with no elements
        return np.zeros(np.shape(fun(x)) + np.shape(x), dtype=derivative_dtype(x))
    # Column k is d out / d x_k: stack them, then move the input axes last.
    out_shape, n_in = np.shape(columns[0]), np.ndim(x)
    stacked = mnp.reshape(mnp.stack(columns), np.shape(x) + out_shape)
    return cast_like_primal(mnp.transpose(
        stacked, tuple(range(n_in, n_in + len(out_shape))) + tuple(range(n_in))), x)


def hessian(fun, argnums=0):
    """Second derivatives: forward mode over reverse mode, the cheap way round for a
    scalar function (one reverse pass inside, one forward pass per input element).

    With a tuple of argnums, as in JAX, the result is a tuple of tuples of blocks:
    `H[i][j]` is d^2 f / d x_i d x_j, of shape x_i.shape + x_j.shape."""
    if is_int(argnums):
        return jacfwd(jacrev(fun, argnums), argnums)
    argnums = tuple(argnums)

    @functools.wraps(fun)
    def blocks(*args):
        nums = argnums_tuple(argnums, len(args), "hessian")
        return tuple(tuple(jacfwd(jacrev(fun, i), j)(*args) for j in nums) for i in nums)
    return blocks


def _name(fun):
    return getattr(fun, "__name__", "the function")
