"""Problem set 3: Jacobians from JVPs and VJPs, the transpose identity, choosing a mode."""

import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package (see __init__).
__builtins__ = dict(vars(_builtins_module))

from ._core import (  # noqa: E402
    GradingError, _ATOL, _JACOBIAN_OPERATORS, _REFUSAL, _RTOL, _Rng,
    _add_reduce, _as_array, _call_student, _close, _copy, _directional,
    _dot, _empty, _explain_values, _floats, _matmul, _seed,
    _shape_str, _sin, _tanh, _zeros,
)

# ---------------------------------------------------------------------------------------
# Problem set 3: Jacobians from JVPs and VJPs
# ---------------------------------------------------------------------------------------

def _traced_test_function(rng, n, m):
    """A function R^n -> R^m built from minigrad's shipped operations, and its numpy twin."""
    import minigrad.numpy as mnp

    A = rng.standard_normal((m, n))
    c = rng.standard_normal(m)

    def traced(x):
        return mnp.tanh(A @ x) * mnp.sum(x * x) + c * mnp.sin(x[0])

    def plain(x):
        return _tanh(_matmul(A, x)) * _add_reduce(x * x) + c * _sin(x[0])

    return traced, plain


def check_jacobian_builder(builder, mode, seed=None):
    """builder(f, x) -> Jacobian (m, n), using only JVPs (mode 'fwd') or only VJPs ('rev')."""
    rng = _Rng(_seed(seed))
    sizes = [(3, 2)] if seed is not None else [
        tuple(int(s) for s in rng.integers(2, 6, size=2)), (1, int(rng.integers(2, 5))),
        (int(rng.integers(2, 5)), 1)]
    other = {"fwd": ("rev",), "rev": ("fwd",)}[mode]
    uses = {"fwd": "mg.jvp", "rev": "mg.vjp"}[mode]
    for n, m in sizes:
        traced, plain = _traced_test_function(rng, n, m)
        x = rng.standard_normal(n)
        want = _empty((m, n))
        for j in range(n):
            e = _zeros(n)
            e[j] = 1.0
            want[:, j] = _directional(plain, (x,), {}, 0, e)
        where = f"your Jacobian builder ({mode}) for f: R^{n} -> R^{m}"
        try:
            got = _as_array(_call_student(where, builder, traced, _copy(x), refuse=other,
                                          extra=_JACOBIAN_OPERATORS), where)
        except GradingError as exc:
            if _REFUSAL in str(exc):
                raise GradingError(f"{exc} This builder may use {uses} only (not mg.jacfwd, "
                                   f"mg.jacrev, nor the other mode).") from None
            raise
        if got.shape != want.shape:
            raise GradingError(f"{where} has shape {_shape_str(got.shape)}; the Jacobian of "
                               f"f: R^{n} -> R^{m} has shape {_shape_str(want.shape)} "
                               f"(outputs first)."
                               + (" It looks transposed: a JVP gives a column, a VJP a row."
                                  if got.shape == want.shape[::-1] else ""))
        if not _close(got, want, _RTOL, _ATOL):
            raise GradingError(_explain_values(where, got, want))


def _mode_tagged(traced, rng, m):
    """`traced` followed by a primitive that forward mode and reverse mode differentiate
    differently, on purpose: its JVP rule scales the tangent by `fwd`, its VJP maker scales
    the cotangent by `rev` (both drawn, fwd in [1.5, 2.5], rev in [0.3, 0.7]). Its value is
    unchanged, so finite differences see neither factor. A number computed with mg.jvp then
    carries `fwd`, one computed with mg.vjp (or mg.grad) carries `rev`: the check can tell
    which mode produced each half of the transpose identity."""
    import minigrad as mg

    fwd, rev = rng.uniform(1.5, 2.5, size=m), rng.uniform(0.3, 0.7, size=m)

    @mg.primitive
    def tag(y):
        return y + 0.0

    mg.defjvp(tag, lambda t, ans, y: t * fwd)
    mg.defvjp(tag, lambda ans, y: (lambda g: g * rev))
    return (lambda x: tag(traced(x))), fwd, rev


def check_transpose_identity(transpose_identity, seed=None):
    """transpose_identity(f, x, u, v) -> (<v, J u> by mg.jvp, <J^T v, u> by mg.vjp).

    The f passed in is tagged (see _mode_tagged): the first number must come from forward
    mode and the second from reverse mode, so computing both with one mode, or either by
    finite differences, fails. Both must be exact (relative 1e-10)."""
    rng = _Rng(_seed(seed))
    sizes = [(3, 2)] if seed is not None else [
        tuple(int(s) for s in rng.integers(2, 7, size=2)), (1, int(rng.integers(2, 5))),
        (int(rng.integers(2, 5)), 1)]
    for n, m in sizes:
        traced, plain = _traced_test_function(rng, n, m)
        tagged, fwd, rev = _mode_tagged(traced, rng, m)
        x, u, v = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(m)
        Ju = _directional(plain, (x,), {}, 0, u)
        by_jvp, by_vjp, by_values = _dot(v * fwd, Ju), _dot(v * rev, Ju), _dot(v, Ju)
        where = f"transpose_identity(f, x, u, v) for f: R^{n} -> R^{m}"
        got = _call_student(where, transpose_identity, tagged, _copy(x), _copy(u), _copy(v),
                            extra=_JACOBIAN_OPERATORS, refuse=())
        try:
            lhs, rhs = got
        except Exception:  # noqa: BLE001
            raise GradingError(f"{where} should return a pair (<v, J u>, <J^T v, u>).") from None
        for name, value, want, mode, other, other_mode in (
                ("<v, J u>", lhs, by_jvp, "mg.jvp (forward mode)", by_vjp, "mg.vjp"),
                ("<J^T v, u>", rhs, by_vjp, "mg.vjp (reverse mode)", by_jvp, "mg.jvp")):
            value = _floats(_as_array(value, where))
            if len(value) != 1:
                raise GradingError(f"{where}: {name} should be one number, got {len(value)}: "
                                   f"an inner product multiplies entry by entry and sums "
                                   f"(np.dot, or np.sum(a * b)).")
            value = value[0]
            if abs(value - want) <= _RTOL * 100 * (1 + abs(want)):
                continue
            hint = ""
            if abs(value - other) <= 1e-8 * (1 + abs(other)):
                hint = (f" It was computed with {other_mode}: this number must come from "
                        f"{mode}, so that the two sides check each other.")
            elif abs(value - by_values) <= 1e-4 * (1 + abs(by_values)):
                hint = (f" It looks computed from values of f (finite differences?): use "
                        f"{mode}.")
            raise GradingError(f"{where}: {name} is {value:.12g}; {mode} gives "
                               f"{want:.12g}.{hint}")


def check_choose_mode(choose_mode, seed=None):
    """'fwd' when the inputs are fewer than the outputs, 'rev' when they are more."""
    rng = _Rng(_seed(seed))
    for _ in range(3 if seed is not None else 10):
        n_in, n_out = (int(s) for s in rng.integers(1, 10_000, size=2))
        if n_in == n_out:
            continue
        want = "fwd" if n_in < n_out else "rev"
        got = _call_student("choose_mode", choose_mode, n_in, n_out)
        if got != want:
            raise GradingError(
                f"choose_mode({n_in}, {n_out}) returned {got!r}. A Jacobian of f: R^{n_in} -> "
                f"R^{n_out} costs {n_in} JVPs (one per input) or {n_out} VJPs (one per output).")
