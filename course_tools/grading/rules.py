"""Problem sets 2 and 3: VJP makers and JVP rules, on their own and registered."""

import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package (see __init__).
__builtins__ = dict(vars(_builtins_module))

from ._core import (  # noqa: E402
    GradingError, _ATOL, _RTOL, _Rng, _all_finite, _as_array, _max_reduce,
    _as_ref, _broadcastable, _call_student, _channel, _close, _copy,
    _directional, _dot, _explain_shape, _explain_values, _norm, _numeric_vjp,
    _seed, _shape_str, _student_value, _unbroadcast, _zeros,
)
from .ops import (  # noqa: E402
    _logsumexp, _op,
)

# ---------------------------------------------------------------------------------------
# VJP makers and JVP rules of the problem sets' operations
# ---------------------------------------------------------------------------------------

def _kw_str(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _case_str(op, args, kwargs):
    shapes = ", ".join(f"{n}: {_shape_str(a.shape)}" for n, a in zip(op.argnames, args))
    return f"{op.name} with {shapes}" + (f", {_kw_str(kwargs)}" if kwargs else "")


def check_vjp_maker(op_name, maker, argnum=0, seed=None, label=None):
    """Check a VJP maker `maker(ans, *args, **kw) -> (g -> cotangent of args[argnum])`.

    seed=0 (visible tests): one small fixed case. seed=None (hidden tests): fresh random
    inputs and shapes, broadcasting shapes and every axis/keepdims combination.
    """
    op = _op(op_name)
    rng = _Rng(_seed(seed))
    argname = op.argnames[argnum]
    what = label or f"your VJP maker for {op.name}'s argument {argname}"
    for args, kwargs in op.cases(rng, seed is not None):
        _check_vjp_case(op, maker, argnum, args, kwargs, rng, what)


def _check_vjp_case(op, maker, argnum, args, kwargs, rng, what):
    where = f"{what} ({_case_str(op, args, kwargs)})"
    ans = _as_ref(op.forward(*args, **kwargs))
    arg = args[argnum]
    g = rng.standard_normal(ans.shape)
    vjp_fn = _call_student(where, maker, _copy(ans), *[_copy(a) for a in args], **kwargs)
    if not callable(vjp_fn):
        raise GradingError(f"{where} returned {type(vjp_fn).__name__}, but a VJP maker returns "
                           f"a function of the cotangent g (e.g. `return lambda g: ...`).")
    got = _as_array(_call_student(where, vjp_fn, _copy(g)), where)
    if got.shape != arg.shape:
        raise GradingError(_explain_shape(where, got.shape, arg.shape, ans.shape,
                                          argname=op.argnames[argnum]))
    if not _all_finite(got):
        raise GradingError(_explain_values(where, got, got))
    for _ in range(3):
        u = rng.standard_normal(arg.shape)
        lhs = _dot(got, u)
        jvp = _directional(op.forward, args, kwargs, argnum, u)
        rhs = _dot(g, jvp)
        tol = _RTOL * (_norm(got) * _norm(u) + _norm(g) * _norm(jvp)) + _ATOL
        if abs(lhs - rhs) > tol:
            _explain_vjp_failure(op, vjp_fn, argnum, args, kwargs, g, got, rng, where)


def _explain_vjp_failure(op, vjp_fn, argnum, args, kwargs, g, got, rng, where):
    g2 = 0.5 + rng.standard_normal(g.shape)
    got2 = _as_array(_call_student(where, vjp_fn, _copy(g2)), where)
    if _norm(got) == 0.0 and _norm(got2) == 0.0:
        raise GradingError(f"{where} returns zeros whatever g is, but this derivative is not "
                           f"zero: a result of the right shape is not enough.")
    if got2.shape == got.shape and _close(got, got2, 1e-12, 0.0):
        raise GradingError(f"{where} gives the same result for two different cotangents g: "
                           f"it ignores g. A VJP computes g^T J, so g must appear in it.")
    expected = _numeric_vjp(op.forward, args, kwargs, argnum, g)
    hint = _recognised_mistake(op, args, kwargs, argnum, g, got)
    raise GradingError(hint.format(where=where) if hint else _explain_values(where, got, expected))


def _recognised_mistake(op, args, kwargs, argnum, g, got, mode="vjp"):
    """A hint for a wrong VJP (or, with mode="jvp", JVP) whose mistake is a common one, or None.

    `g` is the cotangent the VJP was given (the tangent, for a JVP).
    """
    x = args[argnum]
    ans = _as_ref(op.forward(*args, **kwargs))
    if g.shape != x.shape or got.shape != (x.shape if mode == "vjp" else ans.shape):
        return None
    name, product = ("g", "VJP multiplies g") if mode == "vjp" else ("t", "JVP multiplies t")
    if got.shape == g.shape and _close(got, g, 1e-6):
        return (f"{{where}} returns {name} unchanged: the local derivative is forgotten. A "
                f"{product} by the derivative of the output with respect to this input.")
    if ans.shape == x.shape:
        if _close(got, g * ans, 1e-6):
            return (f"{{where}} returns {name} times the output ({name} * ans): the output is "
                    f"not the local derivative. Multiply {name} by the derivative of the "
                    f"operation.")
        moved = list(args)
        moved[argnum] = _copy(ans)
        try:
            if mode == "vjp":
                at_ans = _numeric_vjp(op.forward, tuple(moved), kwargs, argnum, g)
            else:
                at_ans = _directional(op.forward, tuple(moved), kwargs, argnum, g)
        except Exception:  # noqa: BLE001 - no hint then
            return None
        if _all_finite(at_ans) and _close(got, at_ans, 1e-5):
            return ("{where} evaluates the derivative at the output ans where the input "
                    "belongs: the derivative formula is right, its argument is not.")
    return None


def check_jvp_rule(op_name, rule, argnum=0, seed=None, label=None):
    """Check a JVP rule `rule(t, ans, *args, **kw)` -> that argument's output tangent."""
    op = _op(op_name)
    rng = _Rng(_seed(seed))
    argname = op.argnames[argnum]
    what = label or f"your JVP rule for {op.name}'s argument {argname}"
    for args, kwargs in op.cases(rng, seed is not None):
        where = f"{what} ({_case_str(op, args, kwargs)})"
        ans = _as_ref(op.forward(*args, **kwargs))
        arg = args[argnum]
        t = rng.standard_normal(arg.shape)
        got = _as_array(_call_student(where, rule, _copy(t), _copy(ans),
                                      *[_copy(a) for a in args], **kwargs), where)
        returned_shape = got.shape
        if got.shape != ans.shape:
            if _broadcastable(got.shape, ans.shape):
                got = got + _zeros(ans.shape)
            else:
                raise GradingError(_explain_shape(where, got.shape, ans.shape, ans.shape, "tangent"))
        expected = _directional(op.forward, args, kwargs, argnum, t)
        if _close(got, expected, _RTOL, _ATOL):
            continue
        t2 = 0.5 + rng.standard_normal(t.shape)
        got2 = _as_array(_call_student(where, rule, _copy(t2), _copy(ans),
                                       *[_copy(a) for a in args], **kwargs), where)
        if got2.size == got.size and _close(got, got2 + _zeros(got.shape), 1e-12, 0.0):
            raise GradingError(f"{where} gives the same result for two different tangents: it "
                               f"ignores the tangent. A JVP computes J t, so t must appear in it.")
        hint = _recognised_mistake(op, args, kwargs, argnum, t, got, mode="jvp")
        if (not hint and returned_shape == arg.shape != ans.shape
                and _close(got, _unbroadcast(expected, arg.shape) + _zeros(ans.shape),
                           _RTOL, _ATOL)):
            hint = ("{where} returned a tangent of " + argname + "'s shape, "
                    + _shape_str(arg.shape) + ", where the output's is "
                    + _shape_str(ans.shape) + ": was it unbroadcast? In forward mode the "
                    "tangent follows the input forward, so it is broadcast the way the "
                    "function broadcasts " + argname + ", never summed down.")
        raise GradingError(hint.format(where=where) if hint else _explain_values(where, got, expected))


def check_logsumexp_forward(logsumexp, seed=None):
    """The forward pass: right values, and no overflow for inputs in the thousands."""
    op = _op("logsumexp")
    rng = _Rng(_seed(seed))
    what = "your logsumexp"
    for args, kwargs in op.cases(rng, seed is not None):
        for shift in (0.0, 1000.0, -1000.0):
            x = args[0] + shift
            where = f"{what}(x, {_kw_str(kwargs)}) with x of shape {_shape_str(x.shape)}"
            if shift:
                where += f" and entries near {shift:g}"
            got = _as_array(_call_student(where, logsumexp, _copy(x), **kwargs), where)
            want = _logsumexp(x, **kwargs)
            if got.shape != want.shape:
                raise GradingError(f"{where} has shape {_shape_str(got.shape)}, expected "
                                   f"{_shape_str(want.shape)}: check axis and keepdims.")
            if not _all_finite(got):
                raise GradingError(f"{where} overflowed to inf or NaN: subtract the maximum "
                                   f"before taking exp.")
            if not _close(got, want, 1e-10):
                hint = ""
                m = _max_reduce(x, axis=kwargs["axis"], keepdims=kwargs["keepdims"])
                if _close(got + m, want, 1e-10):
                    hint = (" It is the value less the maximum: subtract the maximum before "
                            "exp, and add it back after the log.")
                raise GradingError(_explain_values(where, got, want, right="the right value")
                                   + hint)


def check_vjp_stability(maker, seed=None):
    """logsumexp's VJP at x + 1000 must equal its VJP at x (softmax is shift invariant)."""
    op = _op("logsumexp")
    rng = _Rng(_seed(seed))
    for args, kwargs in op.cases(rng, seed is not None):
        x = args[0]
        ans = _logsumexp(x, **kwargs)
        g = rng.standard_normal(ans.shape)
        expected = _numeric_vjp(op.forward, (x,), kwargs, 0, g)
        for shift in (1000.0, -1000.0):
            where = (f"your VJP maker for logsumexp at entries near {shift:g} "
                     f"(x of shape {_shape_str(x.shape)}, {_kw_str(kwargs)})")
            xs = x + shift
            vjp_fn = _call_student(where, maker, _logsumexp(xs, **kwargs), _copy(xs), **kwargs)
            got = _as_array(_call_student(where, vjp_fn, _copy(g)), where)
            if got.shape != x.shape:
                raise GradingError(_explain_shape(where, got.shape, x.shape, ans.shape))
            if not _all_finite(got) or not _close(got, expected, 1e-5):
                raise GradingError(
                    _explain_values(where, got, expected)
                    + " Compute exp(x - ans) rather than exp(x) / exp(ans): ans is the log "
                      "of the sum, so exp(x - ans) is the softmax and never overflows.")


def check_jvp_stability(rule, seed=None):
    """logsumexp's JVP at x + 1000 and x - 1000 must equal its JVP at x (the weights
    exp(x - ans) are the softmax, which a shift does not change)."""
    op = _op("logsumexp")
    rng = _Rng(_seed(seed))
    for args, kwargs in op.cases(rng, seed is not None):
        x = args[0]
        t = rng.standard_normal(x.shape)
        expected = _directional(op.forward, (x,), kwargs, 0, t)
        for shift in (1000.0, -1000.0):
            where = (f"your JVP rule for logsumexp at entries near {shift:g} "
                     f"(x of shape {_shape_str(x.shape)}, {_kw_str(kwargs)})")
            xs = x + shift
            got = _as_array(_call_student(where, rule, _copy(t), _logsumexp(xs, **kwargs),
                                          _copy(xs), **kwargs), where)
            if got.shape != expected.shape:
                if _broadcastable(got.shape, expected.shape):
                    got = got + _zeros(expected.shape)
                else:
                    raise GradingError(_explain_shape(where, got.shape, expected.shape,
                                                      expected.shape, "tangent"))
            if not _all_finite(got) or not _close(got, expected, 1e-8, _ATOL):
                raise GradingError(
                    _explain_values(where, got, expected)
                    + " Compute exp(x - ans) rather than exp(x) / exp(ans): ans is the log "
                      "of the sum, so exp(x - ans) is the softmax and never overflows.")


def _only(primitive, args, argnum, kwargs):
    """`primitive` as a function of its argument `argnum` alone, the others held fixed."""
    def f(a):
        full = list(args)
        full[argnum] = a
        return primitive(*full, **kwargs)
    return f


def _through_registered(where, through_minigrad, registration, hint=""):
    """What minigrad computes through a student's registered rule, as an array; an error
    it raises is explained, with the registration the student should check."""
    try:
        return _as_array(_student_value(through_minigrad), where)
    except _channel.StudentRaised as exc:
        raise GradingError(f"{where} raised {exc.type_name}: {exc.text.rstrip('.')}. Did you "
                           f"run the cell with {registration}?{hint}") from None


def check_registered_vjp(primitive, op_name, argnum=0, seed=0):
    """The maker registered with mg.defvjp for argument `argnum` of `primitive`: minigrad's
    vjp through it matches the maths (only that argument is traced, so a wrong rule for
    another argument does not count here)."""
    import minigrad as mg

    op = _op(op_name)
    rng = _Rng(_seed(seed))
    argname = op.argnames[argnum]
    for args, kwargs in op.cases(rng, seed is not None):
        ans = _as_ref(op.forward(*args, **kwargs))
        g = rng.standard_normal(ans.shape)
        where = (f"mg.vjp through your registered {op.name}, argument {argname} "
                 f"({_case_str(op, args, kwargs)})")
        def through_minigrad(args=args, g=g):
            _, f_vjp = mg.vjp(_only(primitive, [_copy(a) for a in args], argnum, kwargs),
                              _copy(args[argnum]))
            return f_vjp(_copy(g))[0]
        got = _through_registered(where, through_minigrad, f"mg.defvjp({op.name}, ...)",
                                  f" If the message is about the output's shape, check that "
                                  f"the forward pass of {op.name} returns the shape numpy "
                                  f"would (axis, keepdims).")
        expected = _numeric_vjp(op.forward, args, kwargs, argnum, g)
        if got.shape != expected.shape or not _close(got, expected, 1e-5):
            raise GradingError(
                f"{where}: the cotangent of {argname} is wrong, although your maker may be "
                f"right. mg.defvjp takes one maker per argument, in the order of the "
                f"arguments {op.argnames}: check your mg.defvjp call.")


def check_registered_jvp(primitive, op_name, argnum=0, seed=0):
    """The rule registered with mg.defjvp for argument `argnum`: minigrad's jvp through it
    matches the maths (only that argument moves)."""
    import minigrad as mg

    op = _op(op_name)
    rng = _Rng(_seed(seed))
    argname = op.argnames[argnum]
    for args, kwargs in op.cases(rng, seed is not None):
        t = rng.standard_normal(args[argnum].shape)
        where = (f"mg.jvp through your registered {op.name}, argument {argname} "
                 f"({_case_str(op, args, kwargs)})")
        def through_minigrad(args=args, t=t):
            return mg.jvp(_only(primitive, [_copy(a) for a in args], argnum, kwargs),
                          (_copy(args[argnum]),), (_copy(t),))[1]
        got = _through_registered(where, through_minigrad, f"mg.defjvp({op.name}, ...)")
        expected = _directional(op.forward, args, kwargs, argnum, t)
        if got.shape != expected.shape or not _close(got, expected, 1e-5):
            raise GradingError(
                f"{where}: the output tangent is wrong, although your rule may be right. "
                f"mg.defjvp takes one rule per argument, in the order of the arguments "
                f"{op.argnames}: check your mg.defjvp call.")
