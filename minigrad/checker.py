"""check_grads: test derivative rules against finite differences, in both modes, to order 2.

Why random directions?  Comparing a whole Jacobian costs one finite difference per input
entry. Pushing one random direction ``u`` through both sides costs two evaluations of
``f`` whatever its size, and a wrong rule would have to be wrong in a way exactly
orthogonal to a random Gaussian vector to slip through. The cotangent ``v`` is random too,
never all ones: with ``v = 1`` a rule that transposes a matrix or sums over the wrong
axis can still give the right total.

What is compared, for each argument ``x`` of ``f``:

* fwd: the JVP tangent ``J u`` against the central difference of ``f`` along ``u``,
  entry by entry;
* rev: the VJP cotangent ``J^T v`` paired with ``u``, ``<J^T v, u>``, against
  ``<v, J u>`` from finite differences; then again with ``u = J^T v`` itself, a direction
  along which nothing can cancel; and, when both modes are asked for, against ``<v, J u>``
  from the JVP -- the transpose identity, which holds to round-off because both sides are
  exact, so it catches a small error that finite differences alone might blur;
* the shape and dtype of every tangent (the output's) and cotangent (the input's).

Order 2 repeats all of this on the derivative functions ``(x, u) -> jvp(f)(x, u)`` and
``(x, v) -> vjp(f)(x, v)``, as functions of both of their arguments: differentiating them
runs the rules' own derivatives (the second-order rules), which is what ``grad`` of
``grad``, ``hessian`` and ``jacfwd`` of ``jacrev`` need.

Scores are relative to the size of what is compared (the largest entry, or the sum of
the absolute terms of a dot product) rather than entry by entry: an entry that happens
to be near zero would otherwise turn harmless round-off into a false alarm.
"""

import numpy as np

from . import numerical
from .tracer import shape_hint
from .transforms import argnums_tuple, check_float, is_float, partial_in

__all__ = ["check_grads"]

# Diagnostics compute a full numerical gradient (two evaluations of f per entry); past
# this many entries they settle for what the directional checks already know.
_DIAGNOSE_MAX_SIZE = 400

_ARG_ROLES = {"jvp": ("the point x", "the tangent u"), "vjp": ("the point x", "the cotangent v")}


def check_grads(f, args, order=2, modes=("fwd", "rev"), argnums=None, eps=1e-6,
                rtol=1e-5, atol=1e-8, seed=None):
    """Check minigrad's derivatives of ``f`` at ``args`` against finite differences.

    ``args`` is the tuple of arguments (a single array or number is taken as the only
    argument). Every float argument is checked unless ``argnums`` picks some; other
    arguments (ints, strings, ...) are held fixed. Arguments must be float64: finite
    differences in lower precision cannot separate a right rule from a slightly wrong one.

    ``order`` is how many times to differentiate (1: the rules; 2: also the rules of the
    rules). ``modes`` is any of ``"fwd"`` (JVP rules) and ``"rev"`` (VJP rules). ``eps``
    is the finite-difference step; a check fails when the difference exceeds
    ``atol + rtol * size`` (see the module docstring). ``seed`` fixes the random
    directions; without one a seed is drawn and printed in any failure message so the
    failure can be reproduced.

    Returns ``None`` when everything agrees; raises ``AssertionError`` naming the
    function, mode, order and argument, with the analytic and numeric values, the
    relative error and a hint at the likely mistake.
    """
    import minigrad as mg   # the operators live in the package, which imports this module

    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    bad = [m for m in modes if m not in ("fwd", "rev")]
    if bad or not modes:
        raise ValueError(f"modes must be a non-empty selection of 'fwd' and 'rev', got {modes!r}")
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    argnums = _checked_argnums(args, argnums)
    if seed is None:
        seed = int(np.random.default_rng().integers(2 ** 31))
    settings = _Settings(mg, np.random.default_rng(seed), seed, eps, rtol, atol,
                         getattr(f, "__name__", None) or repr(f))
    for i in argnums:
        _check_argument(partial_in(f, args, (i,)), args[i], order, modes, settings,
                        _Where(i, ()))


# ---------------------------------------------------------------- bookkeeping

class _Settings:
    def __init__(self, mg, rng, seed, eps, rtol, atol, name):
        self.mg, self.rng, self.seed = mg, rng, seed
        self.eps, self.rtol, self.atol = eps, rtol, atol
        self.name = name

    def random_like(self, shape):
        return self.rng.standard_normal(shape)


class _Where:
    """Which derivative is being checked: argument ``argnum`` of f, reached through
    ``chain``, a tuple of ``(operator, argument of that operator's function)`` steps."""

    def __init__(self, argnum, chain):
        self.argnum, self.chain = argnum, chain

    def nested(self, op, which):
        return _Where(self.argnum, self.chain + ((op, which),))

    @property
    def order(self):
        return len(self.chain) + 1

    def function(self, name):
        for op, _ in self.chain:
            name = f"{op}({name})"
        return name

    def describe(self, name):
        if not self.chain:
            return f"argument {self.argnum} of {name}"
        text = f"argument {self.argnum} of {name}"
        inner = name
        for op, which in self.chain:
            inner = f"{op}({inner})"
            text = (f"{inner} (the {'forward' if op == 'jvp' else 'reverse'}-mode derivative "
                    f"for {text}) with respect to {_ARG_ROLES[op][which]}")
        return text


def _checked_argnums(args, argnums):
    if argnums is None:
        argnums = tuple(i for i, a in enumerate(args) if is_float(a))
        if not argnums:
            raise ValueError("check_grads found no float argument to differentiate; "
                             "pass float64 arrays or numbers (ints are held fixed)")
    argnums = argnums_tuple(argnums, len(args), "check_grads")
    for i in argnums:
        check_float(args[i], i, "check_grads")
        if np.asarray(args[i]).dtype != np.float64:
            raise TypeError(f"argument {i} is {np.asarray(args[i]).dtype}; check_grads needs "
                            "float64 (finite differences in lower precision are too coarse)")
    return argnums


# ---------------------------------------------------------------- the checks

def _check_argument(g, x, order, modes, s, where):
    """Check the derivatives of the one-argument function ``g`` at ``x``, then recurse."""
    mg = s.mg
    x_shape = np.shape(x)
    out = g(x)
    out_shape = np.shape(out)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{where.function(s.name)} is not finite (NaN or inf) at the "
                         "arguments given: check derivatives at points inside its domain")
    u = s.random_like(x_shape)
    Ju = numerical.directional_derivative(g, x, u, s.eps)
    t = None

    if "fwd" in modes:
        _, t = _call(lambda: mg.jvp(g, (x,), (u,)), "fwd", s, where)
        _check_structure(t, out, "fwd", "tangent", "the output", s, where, x_shape)
        err = _vector_error(t, Ju, s)
        if err > 0:
            _fail(s, where, "fwd",
                  what="the JVP tangent J u along a random direction u",
                  analytic=("J u (mg.jvp)", t), numeric=("J u (central differences)", Ju),
                  rel=err,
                  hint=_hint_fwd(g, x, u, t, Ju, s))

    if "rev" in modes:
        _, pullback = _call(lambda: mg.vjp(g, x), "rev", s, where)
        v = s.random_like(out_shape)
        ct = _call(lambda: pullback(v), "rev", s, where)[0]
        _check_structure(ct, x, "rev", "cotangent", "the input", s, where, out_shape)
        checks = [("<v, J u> by central differences", u, Ju)]
        Jct = numerical.directional_derivative(g, x, ct, s.eps)
        checks.append(("<v, J u> by central differences, with u = J^T v", ct, Jct))
        for label, direction, J_dir in checks:
            lhs, rhs = np.vdot(ct, direction), np.vdot(v, J_dir)
            err = _dot_error(lhs, rhs, ct * direction, v * J_dir, s.rtol, s)
            if err > 0:
                _fail_rev(s, where, g, x, v, ct, lhs, rhs, err,
                          what=f"the VJP cotangent J^T v for a random v, paired with u: "
                               f"<J^T v, u> against {label}",
                          numeric_label="<v, J u>")
        if t is not None:
            # Both sides exact: they agree to round-off, so the tolerance is much tighter.
            lhs, rhs = np.vdot(ct, u), np.vdot(v, t)
            err = _dot_error(lhs, rhs, ct * u, v * t, s.rtol * 1e-3, s)
            if err > 0:
                _fail_rev(s, where, g, x, v, ct, lhs, rhs, err,
                          what="the transpose identity <J^T v, u> (from vjp) = <v, J u> "
                               "(from jvp); the JVP passed its own check, so the VJP is off",
                          numeric_label="<v, J u> (mg.jvp)")

    if order > 1:
        if "fwd" in modes:
            def jvp_g(x, u):
                return mg.jvp(g, (x,), (u,))[1]
            _check_derivative_function(jvp_g, (x, s.random_like(x_shape)), order - 1,
                                       modes, s, where, "jvp")
        if "rev" in modes:
            def vjp_g(x, v):
                return mg.vjp(g, x)[1](v)[0]
            _check_derivative_function(vjp_g, (x, s.random_like(out_shape)), order - 1,
                                       modes, s, where, "vjp")


def _check_derivative_function(fun, args, order, modes, s, where, op):
    for which in (0, 1):
        _check_argument(partial_in(fun, args, (which,)), args[which], order, modes, s,
                        where.nested(op, which))


def _call(thunk, mode, s, where):
    """Run a minigrad operator; a shape error raised by a rule becomes a check failure."""
    try:
        return thunk()
    except ValueError as err:
        raise AssertionError(
            _header(s, where, mode) +
            f"\n  computing the {'JVP' if mode == 'fwd' else 'VJP'} raised ValueError: {err}"
            f"\n  {_seed_note(s)}") from err


def _check_structure(value, like, mode, noun, like_name, s, where, other_shape):
    """The tangent must look like the output, the cotangent like the input."""
    want_shape, want_dtype = np.shape(like), np.result_type(like)
    if value is None:
        _raise(s, where, mode, f"the {noun} is None; expected an array shaped like "
                               f"{like_name}, {want_shape}",
               "a rule returned None where it should return zeros, or forgot `return`")
    shape, dtype = np.shape(value), np.result_type(value)
    if shape != want_shape:
        _raise(s, where, mode,
               f"the {noun} has shape {shape} but {like_name} has shape {want_shape}",
               shape_hint(shape, want_shape, other_shape, mode))
    if dtype != want_dtype:
        _raise(s, where, mode,
               f"the {noun} has dtype {dtype} but {like_name} has dtype {want_dtype}",
               _dtype_hint(dtype))
    if not np.all(np.isfinite(value)):
        _raise(s, where, mode, f"the {noun} contains NaN or inf",
               "a rule divides by zero or takes the log or sqrt of a value outside its "
               "domain; `with mg.debug_nans():` names the primitive where it starts")


# ---------------------------------------------------------------- scores

def _vector_error(a, b, s):
    """0 if ``a`` and ``b`` agree within ``atol + rtol * size``, else the relative error."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    size = max(float(np.max(np.abs(a))), float(np.max(np.abs(b)))) if a.size else 0.0
    if diff <= s.atol + s.rtol * size:
        return 0.0
    return diff / size if size and np.isfinite(diff) else np.inf


def _dot_error(lhs, rhs, terms_lhs, terms_rhs, rtol, s):
    """Compare two dot products relative to the size of their terms, not of the sums:
    a sum of random-signed terms may nearly cancel, leaving only round-off to compare."""
    size = max(float(np.sum(np.abs(terms_lhs))), float(np.sum(np.abs(terms_rhs))))
    diff = abs(float(lhs) - float(rhs))
    if diff <= s.atol + rtol * size:
        return 0.0
    return diff / size if size and np.isfinite(diff) else np.inf


# ---------------------------------------------------------------- messages

def _header(s, where, mode):
    return (f"check_grads failed for {s.name}: mode {mode!r}, order {where.order}, "
            f"{where.describe(s.name)}.")


def _seed_note(s):
    return f"(random directions from seed={s.seed}; pass it to check_grads to reproduce)"


def _raise(s, where, mode, problem, hint):
    raise AssertionError(f"{_header(s, where, mode)}\n  {problem}\n  hint: {hint}\n  "
                         f"{_seed_note(s)}")


def _fail(s, where, mode, what, analytic, numeric, rel, hint, arrays=None):
    width = max(len(analytic[0]), len(numeric[0]))
    lines = [_header(s, where, mode),
             f"  compared: {what}",
             f"  analytic {analytic[0]:<{width}} = {_compact(analytic[1])}",
             f"  numeric  {numeric[0]:<{width}} = {_compact(numeric[1])}",
             f"  relative error {rel:.3g} (allowed: atol={s.atol:g} + rtol={s.rtol:g} x size; "
             f"finite-difference step eps={s.eps:g})"]
    if arrays is not None:
        lines += [f"  analytic J^T v (mg.vjp)               = {_compact(arrays[0])}",
                  f"  numeric  J^T v (central differences)  = {_compact(arrays[1])}"]
    lines += [f"  hint: {hint}", f"  {_seed_note(s)}"]
    raise AssertionError("\n".join(lines))


def _compact(a):
    a = np.asarray(a, dtype=float)
    text = np.array2string(a, precision=6, threshold=12, edgeitems=2, max_line_width=10 ** 6,
                           separator=", ")
    return " ".join(text.split())


def _dtype_hint(dtype):
    if dtype == bool or np.issubdtype(dtype, np.integer):
        return ("an integer or boolean result: did the rule return a mask (x > 0) without "
                "multiplying it by the incoming derivative?")
    if np.issubdtype(dtype, np.complexfloating):
        return "a complex result: a real function's derivative is real"
    return "keep derivatives in float64, the dtype of the values they belong to"


def _pattern(a, n, tol=1e-4):
    """Name a simple relation between analytic ``a`` and numeric ``n`` (same shape), or None."""
    a, n = np.asarray(a, float), np.asarray(n, float)
    na, nn = np.linalg.norm(a), np.linalg.norm(n)
    if nn == 0:
        return ("the numeric derivative is zero here but the rule's is not: f does not "
                "move with this argument at this point") if na > 0 else None
    if na <= 1e-3 * nn:
        return ("the rule gives (almost) zero where the numeric derivative does not: a "
                "missing contribution, a rule set to None, or a forgotten term?")
    c = float(np.vdot(a, n) / np.vdot(n, n))
    if np.linalg.norm(a - c * n) <= tol * na:
        if abs(c + 1) <= 1e-3:
            return "wrong sign: the analytic value is minus the numeric one"
        if np.count_nonzero(np.abs(n) > 1e-3 * np.max(np.abs(n))) < 2:
            # Any two numbers have a ratio: one entry says nothing about a factor.
            return _ONE_NUMBER
        if c < 0:
            return f"wrong sign and off by a constant factor: analytic = {c:.6g} x numeric"
        return (f"off by a constant factor: analytic = {c:.6g} x numeric -- a constant "
                "missing or extra in the rule?")
    if a.ndim >= 2 and a.shape[-1] == a.shape[-2] and \
            np.linalg.norm(a - np.swapaxes(n, -1, -2)) <= tol * na:
        return "looks transposed: the analytic value is the numeric one with its last two axes swapped"
    return None


def _close(a, b, tol=1e-4):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.linalg.norm(a - b) <= tol * max(np.linalg.norm(a), 1e-300)


_NO_PATTERN = ("no simple pattern (constant factor, sign, transpose): work the derivative "
               "out by hand on a 2x2 example and compare with the rule term by term -- which "
               "inputs it uses, where it transposes, which axes it sums. If f has a kink "
               "(abs, max, clip) near this point, move the inputs away from it.")

_ONE_NUMBER = ("only one non-zero number is compared here, and one number shows no "
               "pattern: check the rule on a vector input (several entries), where a "
               "constant factor, a sign or a transpose can be told apart")

_TRANSPOSED = ("looks transposed: the rule computes J applied to the incoming derivative "
               "where J^T is needed (or the other way round), e.g. g @ B where g @ B.T is "
               "needed")


def _hint_fwd(g, x, u, t, Ju, s):
    found = _pattern(t, Ju)
    if found:
        return found
    if np.size(t) == np.size(x) and np.size(x) <= _DIAGNOSE_MAX_SIZE:
        # Would the tangent be right for the transposed Jacobian?  J^T u, numerically.
        u_out = np.reshape(u, np.shape(t))
        JTu = numerical.numerical_gradient(lambda z: np.vdot(u_out, g(z)), x, s.eps)
        if _close(np.reshape(t, -1), np.reshape(JTu, -1)):
            return _TRANSPOSED
    return _NO_PATTERN


def _fail_rev(s, where, g, x, v, ct, lhs, rhs, err, what, numeric_label):
    """Fail a reverse-mode check, showing the full numeric J^T v when it is affordable."""
    JTv = None
    if np.size(x) <= _DIAGNOSE_MAX_SIZE:
        JTv = numerical.numerical_gradient(lambda z: np.vdot(v, g(z)), x, s.eps)
    _fail(s, where, "rev", what=what, analytic=("<J^T v, u> (mg.vjp)", lhs),
          numeric=(numeric_label, rhs), rel=err, hint=_hint_rev(g, x, v, ct, JTv, s),
          arrays=None if JTv is None else (ct, JTv))


def _hint_rev(g, x, v, ct, JTv, s):
    if JTv is not None:
        found = _pattern(ct, JTv)
        if found:
            return found
    if np.size(v) == np.size(x):
        # Would the cotangent be right if the rule applied J instead of J^T?
        Jv = numerical.directional_derivative(g, x, np.reshape(v, np.shape(x)), s.eps)
        if _close(np.reshape(ct, -1), np.reshape(Jv, -1)):
            return _TRANSPOSED
    if JTv is None and np.size(x) > 1:
        # Too big for a full numeric J^T v: the same ratio along several random
        # directions is the mark of a constant factor.
        ratios = []
        for _ in range(3):
            u = s.random_like(np.shape(x))
            rhs = np.vdot(v, numerical.directional_derivative(g, x, u, s.eps))
            ratios.append(np.vdot(ct, u) / rhs if rhs else np.nan)
        c = ratios[0]
        if np.all(np.isfinite(ratios)) and np.ptp(ratios) <= 1e-4 * abs(c):
            if abs(c + 1) <= 1e-3:
                return "wrong sign: the analytic value is minus the numeric one"
            return (f"off by a constant factor: analytic = {c:.6g} x numeric (the same "
                    "along 3 random directions) -- a constant missing or extra in the rule?")
    return _NO_PATTERN
