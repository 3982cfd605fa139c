"""Grading helpers for the kit's problem sets.

Every problem set imports this module in its first, read-only cell, before any student
code runs; its visible and hidden tests then call the ``check_*`` functions below.

They grade against mathematics, never against stored answers: inputs, cotangents and
tangents are drawn when the check runs, and a rule is compared with an exact derivative of
this module's own numpy definition of the operation. Reading this file, or a test that calls
it, therefore gives no answer away.

Every case on every run. A hidden check (seed=None) enumerates each shape class it grades,
each time: for the reductions every axis of 1-d to 3-d arrays (negative, non-negative and
None) with and without keepdims, each also with the reduced axis of length 1 and with
another axis of length 1; for broadcasting a scalar, missing leading axes and a length-1
axis in every position of either operand, and both operands broadcast at once; for the
elementwise ops scalars and length-1 axes; for matrix shapes every size that can be 1
being 1, and a square case. Only the sizes of the axes that are not meant to be 1, and
the values, are drawn (see `_cases_*`). A visible check (a fixed seed) runs one small case.

Exact references. The derivative a rule is compared with is computed by complex step,
Im f(a + i h u) / h with h = 1e-30 (`_directional`): there is no subtraction, so it is J u to
rounding for an analytic f, and the tolerance is 1e-12 relative (`_RTOL`). A rule that takes
finite differences of the forward function is off by 1e-10 or more at any step and fails;
only for the affine `linear`, whose central differences are exact, can such a rule not be
told apart. The forward definitions are written to accept complex input: the shift by the
maximum in softmax and logsumexp uses the real part (a constant that cancels exactly), and
the stable sigmoid and softplus branch on the real part. Where a function is not analytic
the inputs are kept away from the points where it is not: hypot and norm get entries with
|v| >= 0.4 (their kink is at 0), and the max in logsumexp is only a shift. Problem set 1
grades finite differences themselves, against analytic derivatives and against the formula
at a given step (a numerical gradient is asked for with h = 1e-3 and must be the central
difference with that step to 1e-8: a forward difference is off by h/2 or more there).

Which method produced a number. The transpose identity gets a function with one primitive
that forward and reverse mode differentiate by different factors on purpose
(`_mode_tagged`), so <v, J u> must carry the JVP's factor and <J^T v, u> the VJP's. The
classifiers are trained and tested on fresh data laid out unlike the notebook's (4 blob
classes instead of 3; the ring, not the disc, labelled 1), so a trainer that reads the
notebook's global data instead of its arguments fails.

A student cell runs in the same Python process as the tests, so it may replace
``np.allclose``, ``np.testing.*``, ``mg.check_grads`` or even ``builtins.abs`` before the
tests run. This module does not use any of them while grading:

- references to the functions it needs are taken once, at import time, and built-in names
  resolve through a private copy of the builtins made at import time;
- whatever a rule returns is copied into a plain float64 ``ndarray`` with the C function
  ``np.array`` (so an ndarray subclass or an object with tricks in ``__array__`` loses
  them), and compared with Python floats from ``ndarray.tolist()``;
- while a hand-written rule runs, minigrad's differentiation entry points
  (``minigrad.reverse.make_vjp`` and ``minigrad.forward.make_jvp``, through which every
  differential operator goes) and its finite-difference tools refuse to work, so a rule
  that asks minigrad for the derivative raises instead of earning points. The refusal
  swaps the functions' code, so it also catches aliases a student took earlier.

What this module cannot do is protect itself from a cell that deliberately rewrites
``course_tools.grading`` (or the interpreter) before the tests run: nothing in one Python
process can. Such a cell has to name this module, ``sys.modules``, ``builtins`` or a
``__code__`` attribute; :func:`audit_source` lists those names so that graders can look.
"""

import builtins as _builtins_module

# A private copy of the builtins: every function below is created after this line, so its
# built-in names (len, abs, isinstance, AssertionError, ...) resolve here, not in the
# builtins module a student cell can modify.
__builtins__ = dict(vars(_builtins_module))

import contextlib as _contextlib  # noqa: E402
import math as _math  # noqa: E402
import os as _os  # noqa: E402
import types as _types  # noqa: E402

import numpy as _np  # noqa: E402

__all__ = [
    "OPS",
    "audit_source",
    "autodiff_refused",
    "check_choose_mode",
    "check_convergence_order",
    "check_difference_quotients",
    "check_jacobian_builder",
    "check_jvp_stability",
    "check_jvp_rule",
    "check_logsumexp_forward",
    "check_mlp_classifier",
    "check_mlp_gradients",
    "check_mlp_loss_and_grads",
    "check_numerical_gradient",
    "check_numerical_jacobian",
    "check_observed_orders",
    "check_rel_error",
    "check_registered_jvp",
    "check_registered_vjp",
    "check_softmax_classifier",
    "check_transpose_identity",
    "check_vjp_maker",
    "check_vjp_stability",
    "make_blobs",
    "make_rings",
]

# ---------------------------------------------------------------------------------------
# References taken at import time. Only C-level callables (ufuncs and their bound methods,
# array constructors, the random Generator) are used on arrays; a student cell can rebind
# the names in numpy's namespace but not change these objects.
# ---------------------------------------------------------------------------------------
_array = _np.array
_asarray = _np.asarray
_empty = _np.empty
_zeros = _np.zeros
_ndarray = _np.ndarray
_float64 = _np.float64
_exp = _np.exp
_log = _np.log
_log1p = _np.log1p
_sqrt = _np.sqrt
_tanh = _np.tanh
_sin = _np.sin
_cos = _np.cos
_absolute = _np.absolute
_maximum = _np.maximum
_matmul = _np.matmul
_add_reduce = _np.add.reduce
_max_reduce = _np.maximum.reduce
_default_rng = _np.random.default_rng
_unravel_index = _np.unravel_index
_urandom = _os.urandom
_fsum = _math.fsum
_msqrt = _math.sqrt
_misfinite = _math.isfinite
_mlog = _math.log


from . import channel as _channel  # noqa: E402
from .channel import GradingError  # noqa: E402


# ---------------------------------------------------------------------------------------
# Plain-float arithmetic on arrays
# ---------------------------------------------------------------------------------------

def _floats(a):
    """The entries of a plain float64 array as a flat list of Python floats."""
    return a.ravel().tolist()


def _dot(a, b):
    return _fsum([x * y for x, y in zip(_floats(a), _floats(b))])


def _norm(a):
    return _msqrt(_fsum([x * x for x in _floats(a)]))


def _all_finite(a):
    return all(_misfinite(x) for x in _floats(a))


def _close(a, b, rtol, atol=1e-9):
    """True when the arrays agree entrywise, relative to the size of the larger one."""
    fa, fb = _floats(a), _floats(b)
    if len(fa) != len(fb):
        return False
    scale = max([abs(x) for x in fa + fb] + [0.0])
    return all(abs(x - y) <= atol + rtol * scale for x, y in zip(fa, fb))


def _as_array(value, what):
    """Copy whatever a student function returned into a plain float64 ndarray."""
    if value is None:
        raise GradingError(f"{what} returned None; it should return a numpy array.")
    try:
        out = _array(value, dtype=_float64, copy=True, subok=False)
    except Exception as exc:  # noqa: BLE001 - anything a student returns
        raise GradingError(
            f"{what} returned {type(value).__name__}, which is not a numeric array "
            f"({type(exc).__name__}: {exc})."
        ) from None
    if type(out) is not _ndarray:
        raise GradingError(f"{what} did not return a numeric array.")
    return out


class _Rng:
    """Random draws built on Generator.random and .standard_normal alone.

    Generator.integers, .choice and .uniform call back into numpy's Python namespace, which
    a student cell can rebind; these two do not.
    """

    def __init__(self, seed):
        self._g = _default_rng(seed)

    def random(self, size=None):
        return self._g.random(size)

    def standard_normal(self, size=None):
        return self._g.standard_normal(size)

    def uniform(self, low=0.0, high=1.0, size=None):
        return low + (high - low) * self._g.random(size)

    def integers(self, low, high=None, size=None):
        """Integers in [low, high), like Generator.integers."""
        if high is None:
            low, high = 0, low
        if size is None:
            return low + min(int(self._g.random() * (high - low)), high - low - 1)
        return low + (self._g.random(size) * (high - low)).astype(int)

    def choice(self, items, size=None, replace=True):
        items = list(range(items)) if isinstance(items, int) else list(items)
        if not replace:
            keys = self._g.random(len(items)).tolist()
            order = sorted(range(len(items)), key=lambda i: keys[i])
            return [items[i] for i in order[:size]]
        if size is None:
            return items[self.integers(len(items))]
        return _array(items)[self.integers(0, len(items), size)]


def _seed(seed):
    """A seed for a random generator: fixed for visible tests, fresh for hidden ones.

    Under grading, a hidden test's seed comes from the grader (see channel.py), so that the
    kernel and the grader's replay draw the same inputs.
    """
    if seed is None:
        active = _channel.STATE.active
        graded = _channel.grading_seed(active.key) if active is not None else None
        return graded if graded is not None else int.from_bytes(_urandom(8), "little")
    return seed


def _copy(a):
    return _array(a, dtype=_float64, copy=True)


def _shape_str(shape):
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _broadcastable(small, big):
    """True when an array of shape `small` broadcasts to shape `big`."""
    if len(small) > len(big):
        return False
    for s, b in zip(small[::-1], big[::-1]):
        if s != 1 and s != b:
            return False
    return True


# ---------------------------------------------------------------------------------------
# Refusing minigrad's own differentiation while a hand-written rule runs
# ---------------------------------------------------------------------------------------

_REFUSAL = (
    "minigrad's differentiation and finite-difference tools are switched off while your "
    "code is checked: it must compute the derivative itself, not ask minigrad for it."
)


def _refusing_code(fn, message):
    """A code object that raises `message`, with the same free variables as `fn`."""
    freevars = fn.__code__.co_freevars
    lines = ["def _outer():"]
    lines += [f"    {name} = None" for name in freevars]
    lines.append("    def _refuse(*args, **kwargs):")
    if freevars:
        lines.append("        (" + ", ".join(freevars) + ",)")
    lines.append(f"        raise RuntimeError({message!r})")
    lines.append("    return _refuse")
    namespace = {}
    exec("\n".join(lines), namespace)  # noqa: S102 - fixed text built above
    return namespace["_outer"]().__code__


def _find(module_name, attribute):
    """The function `module.attribute` (dots allowed in `attribute`), or None."""
    try:
        obj = __import__(module_name, fromlist=["_"])
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except Exception:  # noqa: BLE001 - minigrad may be partly installed
        return None
    return obj if isinstance(obj, _types.FunctionType) else None


# Every differential operator of minigrad goes through make_vjp / make_jvp; the traces'
# `lift` methods and the backward pass are switched off too, so that rebuilding make_vjp
# from minigrad's parts does not work either.
_AUTODIFF = {
    "rev": [_find("minigrad.reverse", name)
            for name in ("make_vjp", "backward_pass", "ReverseTrace.lift")],
    "fwd": [_find("minigrad.forward", name) for name in ("make_jvp", "ForwardTrace.lift")],
}
_JACOBIAN_OPERATORS = [_find("minigrad.transforms", name) for name in ("jacfwd", "jacrev", "hessian")]
# Problem set 1 asks for what minigrad.numerical ships: those are switched off as well
# (and a rule that differentiates numerically through them gets nowhere).
_NUMERICAL_TOOLS = [
    _find("minigrad.numerical", name)
    for name in ("forward_difference", "backward_difference", "central_difference",
                 "directional_derivative", "numerical_gradient", "numerical_jacobian",
                 "rel_error", "step_size_errors", "convergence_order")
]
_REFUSED_CODE = {}


def _refusing(fn):
    if fn not in _REFUSED_CODE:
        _REFUSED_CODE[fn] = (fn.__code__, _refusing_code(fn, _REFUSAL))
    return _REFUSED_CODE[fn]


@_contextlib.contextmanager
def autodiff_refused(modes=("rev", "fwd"), extra=(), numerical=True):
    """Inside this block, minigrad's differentiation in `modes` raises RuntimeError.

    With `numerical`, minigrad's finite-difference tools refuse as well. `extra` lists
    further functions to switch off (the Jacobian operators when a student builds a
    Jacobian by hand). The functions' code is swapped and restored, so every alias of
    them refuses too.
    """
    targets = [fn for m in modes for fn in _AUTODIFF[m]]
    if numerical:
        targets += _NUMERICAL_TOOLS
    targets = [fn for fn in targets + list(extra) if fn is not None]
    swapped = []
    try:
        for fn in targets:
            original, refusing = _refusing(fn)
            if fn.__code__ is original:
                fn.__code__ = refusing
                swapped.append((fn, original))
        yield
    finally:
        for fn, original in swapped:
            fn.__code__ = original


def _student_value(fn, *args, guard=_contextlib.nullcontext, **kwargs):
    """fn(*args, **kwargs), recorded in the kernel and replayed by the judge under grading."""
    return _channel.student_outcome(fn, args, kwargs, guard)


def _call_student(what, fn, *args, refuse=("rev", "fwd"), extra=(), numerical=True, **kwargs):
    """Call student code with minigrad's differentiation refused; explain any error."""
    try:
        return _student_value(fn, *args, guard=lambda: autodiff_refused(refuse, extra, numerical),
                              **kwargs)
    except _channel.StudentRaised as raised:
        if raised.not_implemented:
            raise GradingError(f"{what} is not written yet (it raises NotImplementedError).") from None
        if raised.type_name == "GradingError":
            raise GradingError(raised.text) from None
        text = raised.text
        hint = ""
        if "mismatch in its core dimension" in text:
            hint = (" The inner sizes of a matrix product do not match: check the shapes of "
                    "its factors, and whether one of them needs a transpose (.T). For two "
                    "1-D arrays .T changes nothing: their outer product is np.outer(a, b).")
        elif _REFUSAL in text:
            hint = " Work the derivative out on paper and write it with numpy."
        elif "could not be broadcast" in text:
            hint = (" The shapes do not line up: if an axis was reduced (by the operation, or "
                    "by a sum in your own code), put it back where it was "
                    "(np.expand_dims(g, axis), or keepdims=True) before combining the result "
                    "with an array that still has that axis.")
        elif raised.type_name == "RecursionError":
            hint = (" The code recursed deeper than Python allows (a few thousand nested "
                    "calls): on a long chain, write the search as a loop with a stack of your "
                    "own (a list you append to and pop from).")
        elif "NoneType" in text and "integer" in text:
            hint = (" Was it axis=None? Then every axis was reduced: the output and g are "
                    "single numbers that broadcast as they are, and np.expand_dims(g, None) "
                    "is an error.")
        raise GradingError(f"{what} raised {raised.type_name}: {text.rstrip('. ')}.{hint}") from None


# ---------------------------------------------------------------------------------------
# The problem sets' operations, defined here with numpy alone
# ---------------------------------------------------------------------------------------

def _reduced_shape(shape, axis, keepdims):
    if axis is None:
        axes = tuple(range(len(shape)))
    else:
        axes = (axis % len(shape),)
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _linear(W, x, b):
    return _matmul(x, W.T) + b


def _sigmoid(x):
    # exp of a number with non-positive real part only: no overflow for large |x|, and
    # the same formula for complex x (the complex step below)
    pos = x.real >= 0
    e = _exp(x * (1.0 - 2.0 * pos))
    return pos * (1.0 / (1.0 + e)) + (1 - pos) * (e / (1.0 + e))


def _softmax(x, axis=-1):
    # the shift is a constant (the real part's maximum): it cancels exactly
    e = _exp(x - _max_reduce(x.real, axis=axis, keepdims=True))
    return e / _add_reduce(e, axis=axis, keepdims=True)


def _logsumexp(x, axis=-1, keepdims=False):
    m = _max_reduce(x.real, axis=axis, keepdims=True)
    out = _log(_add_reduce(_exp(x - m), axis=axis, keepdims=True)) + m
    return out.reshape(_reduced_shape(x.shape, axis, keepdims))


def _hypot(x, y):
    return _sqrt(x * x + y * y)


def _norm_op(x, axis=None, keepdims=False):
    s = _add_reduce(x * x, axis=axis, keepdims=True)
    return _sqrt(s).reshape(_reduced_shape(x.shape, axis, keepdims))


def _random_shape(rng, ndim, low=1, high=5):
    return tuple(int(d) for d in rng.integers(low, high + 1, size=ndim))


def _away_from_zero(rng, shape, low=0.4, high=2.0):
    """Values with |v| in [low, high]: keeps hypot and norm away from their kink at 0."""
    sign = rng.choice([-1.0, 1.0], size=shape)
    return sign * rng.uniform(low, high, size=shape)


# Hidden cases: every shape class on every run. Only the sizes (2 to 4 where an axis is
# not meant to be 1) and the values are drawn; the list of classes is fixed.

def _cases_linear(rng, visible):
    if visible:
        shapes = [(3, 4, 2)]  # m, n, batch
    else:
        # each of m, n and the batch either 1 or more, and a square case (k, k, k) where a
        # transposed product still has the right shape
        shapes = [tuple(1 if one else int(rng.integers(2, 6)) for one in ones)
                  for ones in [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]]
        k = int(rng.integers(2, 6))
        shapes.append((k, k, k))
    cases = []
    for m, n, batch in shapes:
        W = rng.standard_normal((m, n))
        x = rng.standard_normal((batch, n))
        b = rng.standard_normal((m,))
        cases.append(((W, x, b), {}))
    return cases


def _elementwise_shapes(rng):
    """Scalar, 1-d, 2-d, 3-d, and length-1 axes in every position."""
    a, b, c = _random_shape(rng, 3, 2, 4)
    return [(), (a,), (1,), (a, b), (1, b), (a, 1), (a, b, c), (1, b, c), (a, 1, c), (a, b, 1)]


def _cases_sigmoid(rng, visible):
    if visible:
        return [((2.0 * rng.standard_normal((3, 4)),), {})]
    cases = [((3.0 * rng.standard_normal(s),), {}) for s in _elementwise_shapes(rng)]
    # large inputs of both signs, where exp(-x) or exp(x) overflows
    cases.append(((_away_from_zero(rng, (2, 3), 20.0, 40.0),), {}))
    return cases


def _cases_softmax(rng, visible):
    if visible:
        return [((rng.standard_normal((2, 5)),), {})]
    return [((2.0 * rng.standard_normal(s),), {}) for s in _elementwise_shapes(rng) if s]


def _reduction_kinds():
    """(shape pattern, axis, keepdims): every axis of 1-d to 3-d arrays, negative and
    non-negative and None, with and without keepdims, each with all sizes above 1, with
    the reduced axis of length 1, and with another axis of length 1."""
    kinds = []
    for nd in (1, 2, 3):
        for axis in [None] + list(range(-nd, nd)):
            for keepdims in (False, True):
                kinds.append((nd, axis, keepdims, None))
                if axis is None:
                    kinds.append((nd, axis, keepdims, 0))
                    if nd > 1:
                        kinds.append((nd, axis, keepdims, nd - 1))
                else:
                    kinds.append((nd, axis, keepdims, axis % nd))
                    if nd > 1:
                        kinds.append((nd, axis, keepdims, (axis + 1) % nd))
    return kinds


def _cases_reduction(rng, visible, values):
    if visible:
        return [((values(rng, (3, 4)),), {"axis": -1, "keepdims": False})]
    cases = []
    for nd, axis, keepdims, one in _reduction_kinds():
        shape = list(_random_shape(rng, nd, 2, 4))
        if one is not None:
            shape[one] = 1
        cases.append(((values(rng, tuple(shape)),), {"axis": axis, "keepdims": keepdims}))
    return cases


def _cases_logsumexp(rng, visible):
    return _cases_reduction(rng, visible, lambda r, s: 2.0 * r.standard_normal(s))


def _cases_norm(rng, visible):
    return _cases_reduction(rng, visible, _away_from_zero)


def _broadcasting_pairs(rng):
    """Every way two shapes broadcast: the same shape; a scalar on either side; leading
    axes missing in either operand; a length-1 axis in each position of either operand;
    both operands broadcast; leading axes missing and a length-1 axis together."""
    out = _random_shape(rng, 3, 2, 4)
    a, b, c = out
    n = int(rng.integers(2, 5))
    pairs = [((n,), (n,)), ((), ()), (out, out), ((), out), (out, ()),
             (out[1:], out), (out[2:], out), (out, out[1:]), (out, out[2:])]
    for i in range(3):
        with_one = tuple(1 if j == i else d for j, d in enumerate(out))
        pairs += [(with_one, out), (out, with_one)]
    pairs += [((a, 1), (b,)), ((b,), (a, 1)), ((1, b), (a, 1)), ((a, 1, c), (b, 1)),
              ((1, c), out), (out, (1, c)), ((a, 1), (a, b)), ((a, b), (1, b))]
    return pairs


def _cases_hypot(rng, visible):
    if visible:
        pairs = [((3, 1), (4,))]
    else:
        pairs = _broadcasting_pairs(rng)
    return [((_away_from_zero(rng, a), _away_from_zero(rng, b)), {}) for a, b in pairs]


class _Op:
    def __init__(self, name, forward, argnames, cases, signature):
        self.name = name
        self.forward = forward
        self.argnames = argnames
        self.cases = cases
        self.signature = signature


OPS = {
    op.name: op
    for op in [
        _Op("linear", _linear, ("W", "x", "b"), _cases_linear, "linear(W, x, b) = x @ W.T + b"),
        _Op("sigmoid", _sigmoid, ("x",), _cases_sigmoid, "sigmoid(x) = 1 / (1 + exp(-x))"),
        _Op("softmax", _softmax, ("x",), _cases_softmax, "softmax(x) along the last axis"),
        _Op("logsumexp", _logsumexp, ("x",), _cases_logsumexp,
            "logsumexp(x, axis=-1, keepdims=False)"),
        _Op("hypot", _hypot, ("x", "y"), _cases_hypot, "hypot(x, y) = sqrt(x**2 + y**2), broadcasting"),
        _Op("norm", _norm_op, ("x",), _cases_norm, "norm(x, axis=None, keepdims=False)"),
    ]
}


def _op(name):
    if name not in OPS:
        raise GradingError(f"unknown operation {name!r}; known: {sorted(OPS)}")
    return OPS[name]


# ---------------------------------------------------------------------------------------
# The exact reference: complex-step differentiation
# ---------------------------------------------------------------------------------------

# Im f(a + i h u) / h = J u + O(h^2) with no subtraction, so no cancellation: with this h
# the result is J u to rounding for any analytic f. (A rule that takes its own finite
# differences is off by about 1e-6 to 1e-10 relative at its best step: _RTOL tells them apart.)
_H = 1e-30
_RTOL = 1e-12
_ATOL = 1e-13


def _directional(forward, args, kwargs, argnum, direction, h=_H):
    """Im f(.., a + i h u, ..) / h: the JVP along u by complex step, exact to rounding."""
    moved = list(args)
    moved[argnum] = args[argnum] + (1j * h) * direction
    return _as_ref(_asarray(forward(*moved, **kwargs)).imag / h)


def _as_ref(value):
    return _asarray(value, dtype=_float64)


def _numeric_vjp(forward, args, kwargs, argnum, cotangent):
    """g^T J by complex steps along every coordinate of the argument (small inputs)."""
    arg = args[argnum]
    out = _zeros(arg.shape)
    flat = out.reshape(-1)
    for j in range(arg.size):
        e = _zeros(arg.size)
        e[j] = 1.0
        flat[j] = _dot(cotangent, _directional(forward, args, kwargs, argnum, e.reshape(arg.shape)))
    return out


# ---------------------------------------------------------------------------------------
# Explaining a wrong gradient
# ---------------------------------------------------------------------------------------

def _explain_shape(what, got, want, out_shape, kind="gradient", argname="x"):
    msg = (f"{what} returned a {kind} of shape {_shape_str(got)}, but it must have shape "
           f"{_shape_str(want)}")
    if kind == "gradient":
        msg += " (the shape of the input it belongs to)."
        if len(got) == 2 and got == tuple(want)[::-1]:
            msg += " It looks transposed."
        elif got == tuple(out_shape) and got != tuple(want):
            if _broadcastable(tuple(want), tuple(out_shape)):
                msg += (" It has the output's shape: the input was broadcast, so sum the "
                        f"cotangent over the broadcast axes. Did you unbroadcast "
                        f"(mg.unbroadcast({argname}, g) sums g down to {argname}'s shape)?")
            else:
                msg += " It has the output's shape: which input does this gradient belong to?"
        elif len(got) < len(want) or (len(got) == len(want) and sum(got) < sum(want)):
            msg += (" It is smaller than the input: if the operation reduced over an axis, "
                    "put the axis back (keepdims / np.expand_dims) and let g broadcast.")
    else:
        msg += " (the output's shape): a JVP maps an input tangent to an output tangent."
        if len(got) == 2 and got == tuple(want)[::-1]:
            msg += " It looks transposed."
        elif len(got) > len(want):
            msg += (" It has more axes than the output: did you sum over the reduced axis "
                    "(with the forward pass's axis and keepdims)? With keepdims=True that "
                    "axis is already in ans: do not add it back.")
    return msg


def _explain_values(what, got, expected, transposable=True):
    """Describe how `got` differs from `expected` (same shape): sign, factor, transpose."""
    ee = _dot(expected, expected)
    if not _all_finite(got):
        return (f"{what} returned NaN or inf. Look for exp of a large number (use the "
                f"numerically stable form), a division by zero, or log of zero.")
    if ee > 0:
        if _close(got, -expected, 1e-5):
            return f"{what} has the wrong sign: it is minus the right value."
        c = _dot(got, expected) / ee
        # one number is always some multiple of another: say so only when it tells something
        telling = got.size > 1 or any(abs(k - round(k)) < 1e-6 for k in (c, 1 / c) if abs(c) > 1e-12)
        if telling and _close(got, c * expected, 1e-5) and abs(c) > 1e-12 and abs(c - 1) > 1e-3:
            return (f"{what} is off by a constant factor: it is about {c:.4g} times the "
                    f"right value. Look for a missing or extra factor (a 2, a 1/n, ...).")
    if (transposable and got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1
            and _close(got, expected.T, 1e-5)):
        return f"{what} looks transposed: swap the order of a matrix product or add a .T."
    if _norm(got) == 0.0 and ee > 0:
        return f"{what} is all zeros, but the derivative is not."
    diffs = [abs(a - b) for a, b in zip(_floats(got), _floats(expected))]
    worst = diffs.index(max(diffs))
    index = tuple(int(i) for i in _unravel_index(worst, got.shape)) if got.ndim else ()
    return (f"{what} has wrong values: at index {index} it gives "
            f"{_floats(got)[worst]:.12g}, the exact derivative is "
            f"{_floats(expected)[worst]:.12g}.")


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


def _recognised_mistake(op, args, kwargs, argnum, g, got):
    """A hint for a wrong VJP whose mistake is a common one, or None."""
    x = args[argnum]
    if got.shape != x.shape or g.shape != x.shape:
        return None
    if _close(got, g, 1e-6):
        return ("{where} returns g unchanged: the local derivative is forgotten. A VJP "
                "multiplies g by the derivative of the output with respect to this input.")
    ans = _as_ref(op.forward(*args, **kwargs))
    if ans.shape == x.shape:
        if _close(got, g * ans, 1e-6):
            return ("{where} returns g times the output (g * ans): the output is not the "
                    "local derivative. Multiply g by the derivative of the operation.")
        moved = list(args)
        moved[argnum] = _copy(ans)
        try:
            at_ans = _numeric_vjp(op.forward, tuple(moved), kwargs, argnum, g)
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
        raise GradingError(_explain_values(where, got, expected))


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
                raise GradingError(_explain_values(where, got, want))


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
    """f(x) = sum(A sin x) + sum(C x^2) / 2 and its gradient A cos x + C x.

    |A| <= 1 and 2 <= |C| <= 3, so every second derivative C - A sin x is at least 1 in
    size: a forward difference with step h is then off by at least h/2 in every entry,
    while a central difference is off by at most h^2/6."""
    A = rng.uniform(-1.0, 1.0, size=shape)
    C = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(2.0, 3.0, size=shape)

    def f(x):
        return _fsum(_floats(A * _sin(x) + 0.5 * C * x * x))

    def grad(x):
        return A * _cos(x) + C * x

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


def check_numerical_gradient(numerical_gradient, seed=None):
    """numerical_gradient(f, x) against the analytic gradient of random functions, and
    numerical_gradient(f, x, h=1e-3) against the central difference with that step (a
    forward difference is off by at least 5e-4 there, the check allows 1e-8 relative)."""
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
        got = _as_array(_call_student(where, numerical_gradient, f, _copy(x)), where)
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
        got = _as_array(_call_student(where, numerical_gradient, f, _copy(x), h=h), where)
        want = _central_gradient(f, x, h)
        if got.shape != want.shape:
            raise GradingError(_explain_shape(where, got.shape, want.shape, ()))
        if not _close(got, want, 1e-8, 1e-10):
            if _close(got, grad(x), 1e-8, 1e-10):
                raise GradingError(f"{where} returned the exact gradient: use the step h "
                                   f"you are given (the central difference with it).")
            if not (_close(got, want, 1e-2) or _close(got, grad(x), 1e-2)):
                raise GradingError(_explain_values(where, got, want))
            diffs = [abs(p - q) for p, q in zip(_floats(got), _floats(want))]
            worst = diffs.index(max(diffs))
            raise GradingError(
                f"{where} is close, but not the central difference with this step: one entry "
                f"is {_floats(got)[worst]:.10g}, (f(x + h e) - f(x - h e)) / (2h) gives "
                f"{_floats(want)[worst]:.10g}. A forward difference (f(x + h e) - f(x)) / h "
                f"is off by about h/2 times the second derivative; the central one by h^2/6 "
                f"times the third.")


def check_numerical_jacobian(numerical_jacobian, seed=None):
    """numerical_jacobian(f, x) has shape f(x).shape + x.shape and the right entries."""
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
        where = (f"numerical_jacobian(f, x) with x of shape {_shape_str(in_shape)} and "
                 f"f(x) of shape {_shape_str(out_shape)}")
        got = _as_array(_call_student(where, numerical_jacobian, f, _copy(x)), where)
        if got.shape != want.shape:
            raise GradingError(f"{where} has shape {_shape_str(got.shape)}; a Jacobian has "
                               f"shape f(x).shape + x.shape = {_shape_str(want.shape)}.")
        if not _close(got, want, 1e-5, 1e-7):
            raise GradingError(_explain_values(where, got, want))


def _rel_error_formula(a, b):
    return max([abs(x - y) / max(1e-8, abs(x) + abs(y))
                for x, y in zip(_floats(a), _floats(b))] + [0.0])


def check_rel_error(rel_error, seed=None):
    """rel_error(a, b) = max over entries of |a - b| / max(1e-8, |a| + |b|)."""
    rng = _Rng(_seed(seed))
    shape = (4,) if seed is not None else _random_shape(rng, 2)
    a = rng.standard_normal(shape)
    pairs = [(a, a), (a, a + 1e-7 * rng.standard_normal(shape)), (a, -a),
             (a, 3.0 * a), (_zeros(shape), _zeros(shape)), (100.0 * a, 100.0 * a + 1.0)]
    for x, y in pairs:
        where = f"rel_error(a, b) with arrays of shape {_shape_str(shape)}"
        got = _as_array(_call_student(where, rel_error, _copy(x), _copy(y)), where)
        if got.size != 1:
            raise GradingError(f"{where} should return one number, got shape {got.shape}.")
        got = _floats(got)[0]
        want = _rel_error_formula(x, y)
        if not _misfinite(got) or abs(got - want) > 1e-9 * (1 + abs(want)):
            raise GradingError(f"{where} returned {got:.6g}, the definition gives {want:.6g}. "
                               f"Divide entry by entry, by max(1e-8, |a| + |b|), then take "
                               f"the largest ratio.")


def _slope(hs, errors):
    xs = [_mlog(h) for h in hs]
    ys = [_mlog(e) for e in errors]
    mx = _fsum(xs) / len(xs)
    my = _fsum(ys) / len(ys)
    return _fsum([(x - mx) * (y - my) for x, y in zip(xs, ys)]) / _fsum([(x - mx) ** 2 for x in xs])


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
                               f"log(error) against log(h) is {want:.6g}.")


def check_observed_orders(observed_orders, seed=None):
    """Measured orders of accuracy: forward and backward about 1, central about 2."""
    rng = _Rng(_seed(seed))
    expected = {"forward": 1.0, "backward": 1.0, "central": 2.0}
    for _ in range(1 if seed is not None else 2):
        f, df, d2f, d3f = _random_scalar_function(rng)
        x = _typical_point(rng, d2f, d3f)
        where = f"observed_orders(f, df, x={x:.4g})"
        got = _call_student(where, observed_orders, f, df, x)
        if not isinstance(got, dict):
            raise GradingError(f"{where} should return a dict with keys "
                               f"'forward', 'backward', 'central'.")
        for name, order in expected.items():
            if name not in got:
                raise GradingError(f"{where} has no entry {name!r}.")
            value = _floats(_as_array(got[name], where))
            if len(value) != 1 or not abs(value[0] - order) <= 0.3:
                raise GradingError(
                    f"{where}[{name!r}] = {value[0] if len(value) == 1 else value}; the "
                    f"{name} difference has order {order:g}. Use steps where the truncation "
                    f"error dominates (about 1e-1 to 1e-3): for much smaller h, rounding "
                    f"error takes over.")


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


# ---------------------------------------------------------------------------------------
# Problem sets 2 and 4: gradients of whole models, and training
# ---------------------------------------------------------------------------------------

def _mlp_z(W, v, x):
    return _add_reduce(v * _sigmoid(_matmul(W, x)))


def _check_gradient_list(where, got, names, f, args, rng):
    """Each got[i] must be the gradient of scalar f(*args) with respect to args[i]."""
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        raise GradingError(f"{where} should return a tuple of {len(names)} arrays: "
                           f"{', '.join(names)}.")
    for i, name in enumerate(names):
        what = f"{where}: {name}"
        arr = _as_array(got[i], what)
        if arr.shape != args[i].shape:
            others = [names[k] for k in range(len(names))
                      if k != i and args[k].shape == arr.shape]
            if others:
                raise GradingError(
                    f"{what} has shape {_shape_str(arr.shape)}, but it must have shape "
                    f"{_shape_str(args[i].shape)}. That is the shape of {others[0]}: return "
                    f"the gradients in the order {', '.join(names)}.")
            raise GradingError(_explain_shape(what, arr.shape, args[i].shape, ()))
        if not _all_finite(arr):
            raise GradingError(_explain_values(what, arr, arr))
        for _ in range(3):
            u = rng.standard_normal(args[i].shape)
            numeric = _floats(_directional(f, args, {}, i, u))[0]
            if abs(_dot(arr, u) - numeric) > _RTOL * (_norm(arr) * _norm(u) + abs(numeric)) + _ATOL:
                full = _empty(args[i].shape)
                flat = full.reshape(-1)
                for j in range(args[i].size):
                    e = _zeros(args[i].size)
                    e[j] = 1.0
                    flat[j] = _floats(_directional(f, args, {}, i, e.reshape(args[i].shape)))[0]
                raise GradingError(_explain_values(what, arr, full))


def check_mlp_gradients(mlp_gradients, seed=None):
    """mlp_gradients(W, v, x) -> (dz/dW, dz/dv, dz/dx) for z = v^T sigmoid(W x), by hand."""
    rng = _Rng(_seed(seed))
    sizes = [(3, 2)] if seed is not None else [
        tuple(int(s) for s in rng.integers(1, 7, size=2)), (4, 4)]
    for m, n in sizes:
        W, v, x = rng.standard_normal((m, n)), rng.standard_normal(m), rng.standard_normal(n)
        where = f"mlp_gradients(W, v, x) with W: {_shape_str(W.shape)}"
        got = _call_student(where, mlp_gradients, _copy(W), _copy(v), _copy(x))
        _check_gradient_list(where, got, ("dz/dW", "dz/dv", "dz/dx"),
                             lambda W, v, x: _array(_mlp_z(W, v, x)), (W, v, x), rng)


def _softplus(z):
    # log(1 + exp(z)) = z + log(1 + exp(-z)): exp of a number with non-positive real part
    pos = z.real >= 0
    return pos * z + _log1p(_exp(z * (1.0 - 2.0 * pos)))


def _mlp_loss(W, v, X, t):
    z = _matmul(_sigmoid(_matmul(X, W.T)), v)
    # the mean of log(1 + exp(z)) - t z
    return _add_reduce(_softplus(z) - t * z) / len(t)


def check_mlp_loss_and_grads(loss_and_grads, seed=None):
    """loss_and_grads(W, v, X, t) -> (loss, dL/dW, dL/dv) for the mean logistic loss."""
    rng = _Rng(_seed(seed))
    sizes = [(4, 3, 5)] if seed is not None else [
        tuple(int(s) for s in rng.integers(2, 7, size=3)), (1, 3, 1)]
    for m, n, batch in sizes:
        W, v = rng.standard_normal((m, n)), rng.standard_normal(m)
        X = rng.standard_normal((batch, n))
        t = (rng.random(batch) < 0.5).astype(float)
        where = f"loss_and_grads(W, v, X, t) with W: {_shape_str(W.shape)}, X: {_shape_str(X.shape)}"
        got = _call_student(where, loss_and_grads, _copy(W), _copy(v), _copy(X), _copy(t))
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise GradingError(f"{where} should return (loss, dL/dW, dL/dv).")
        loss = _floats(_as_array(got[0], where))
        want = _floats(_as_ref(_mlp_loss(W, v, X, t)))[0]
        if len(loss) != 1 or not abs(loss[0] - want) <= 1e-8 * (1 + abs(want)):
            raise GradingError(f"{where}: the loss is {loss}; the mean logistic loss is "
                               f"{want:.8g}. Did you average over the batch?")
        _check_gradient_list(where, got[1:], ("dL/dW", "dL/dv"),
                             lambda W, v: _array(_mlp_loss(W, v, X, t)), (W, v), rng)


def make_rings(n, seed, disc_label=1.0):
    """Two classes in the plane: a disc (label `disc_label`) inside a ring (the other label);
    features [x1, x2, 1]."""
    rng = _Rng(seed)
    inside = (rng.random(n) < 0.5).astype(float)
    radius = inside * rng.uniform(0.0, 1.0, n) + (1 - inside) * rng.uniform(1.5, 2.5, n)
    label = inside if disc_label == 1.0 else 1.0 - inside
    angle = rng.uniform(0.0, 2 * _math.pi, n)
    X = _empty((n, 3))
    X[:, 0] = radius * _cos(angle)
    X[:, 1] = radius * _sin(angle)
    X[:, 2] = 1.0
    return X, label


def check_mlp_classifier(train_mlp, seed=None):
    """train_mlp(X, t) -> (W, v) separating rings drawn now: accuracy >= 0.9 on fresh points.

    The notebook's rings have the disc labelled 1; the fresh rings have the ring labelled 1,
    so a model trained on the notebook's data instead of its arguments gets them wrong."""
    s = _seed(seed)
    X_all, t_all = make_rings(700, s, disc_label=0.0)
    X, t, X_test, t_test = X_all[:200], t_all[:200], X_all[200:], t_all[200:]
    where = "train_mlp(X, t) on 200 freshly drawn ring points"
    got = _call_student(where, train_mlp, _copy(X), _copy(t))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise GradingError(f"{where} should return the trained (W, v).")
    W, v = _as_array(got[0], where), _as_array(got[1], where)
    if W.ndim != 2 or W.shape[1] != 3 or v.shape != (W.shape[0],):
        raise GradingError(f"{where} returned W: {_shape_str(W.shape)}, v: {_shape_str(v.shape)}; "
                           f"expected W: (hidden, 3) and v: (hidden,).")
    z = _matmul(_sigmoid(_matmul(X_test, W.T)), v)
    accuracy = _fsum(_floats((z > 0) == (t_test > 0.5))) / len(t_test)
    if not accuracy >= 0.9:
        raise GradingError(f"{where}: the trained model classifies {accuracy:.1%} of new points "
                           f"correctly; at least 90% is needed. Train on the arguments X and t "
                           f"(not the notebook's X, t); check the gradients first, then the "
                           f"learning rate and the number of steps.")


def make_blobs(n, seed, classes=3):
    """Points in the plane around `classes` well separated centres, with integer labels."""
    rng = _Rng(seed)
    start = float(rng.uniform(0, 2 * _math.pi))
    centres = _empty((classes, 2))
    for k in range(classes):
        centres[k] = (3.0 * _math.cos(start + 2 * _math.pi * k / classes),
                      3.0 * _math.sin(start + 2 * _math.pi * k / classes))
    labels = rng.integers(0, classes, size=n)
    X = centres[labels] + 0.7 * rng.standard_normal((n, 2))
    return X, labels


def check_softmax_classifier(train_classifier, seed=None):
    """train_classifier(X, labels, classes) -> (W1, b1, W2, b2): >= 90% on fresh points.

    The notebook's own data has 3 classes; the fresh data has 4 (around centres at a drawn
    angle), so a classifier trained on the notebook's data instead of its arguments cannot
    reach 90% (it never predicts the fourth class)."""
    s = _seed(seed)
    classes = 4
    X_all, labels_all = make_blobs(550, s, classes)  # one draw: the same centres for both parts
    X, labels, X_test, labels_test = X_all[:150], labels_all[:150], X_all[150:], labels_all[150:]
    where = f"train_classifier(X, labels, {classes}) on 150 freshly drawn points"
    got = _call_student(where, train_classifier, _copy(X), labels.copy(), classes, refuse=(),
                        numerical=False)
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        raise GradingError(f"{where} should return the trained (W1, b1, W2, b2).")
    W1, b1, W2, b2 = (_as_array(p, where) for p in got)
    try:
        logits = _linear(W2, _sigmoid(_linear(W1, X_test, b1)), b2)
    except Exception:  # noqa: BLE001
        raise GradingError(f"{where}: the returned parameters' shapes do not fit together: "
                           f"W1 {_shape_str(W1.shape)}, b1 {_shape_str(b1.shape)}, "
                           f"W2 {_shape_str(W2.shape)}, b2 {_shape_str(b2.shape)}.") from None
    if logits.shape != (len(labels_test), classes):
        raise GradingError(f"{where}: the model gives logits of shape {logits.shape}, "
                           f"expected (n, {classes}): use the arguments X, labels and "
                           f"classes, not the notebook's data.")
    predicted = logits.argmax(axis=1)
    accuracy = _fsum(_floats(predicted == labels_test)) / len(labels_test)
    if not accuracy >= 0.9:
        raise GradingError(f"{where}: the trained model classifies {accuracy:.1%} of new points "
                           f"correctly; at least 90% is needed. Train on the arguments X and "
                           f"labels (not the notebook's X), then check lr and steps.")


# ---------------------------------------------------------------------------------------
# Looking for tampering
# ---------------------------------------------------------------------------------------

_SUSPICIOUS = ("course_tools.grading", "grading", "sys.modules", "builtins", "__code__",
               "__builtins__", "__globals__", "importlib", "ctypes", "gc.get_referents",
               "make_vjp", "make_jvp")


def audit_source(text):
    """Names in a student's code that could be used to tamper with grading, for a human to read."""
    return [name for name in _SUSPICIOUS if name in text]


# Problem set 5's checks (the engine itself) live in their own module.
from .engine import (  # noqa: E402
    check_backward, check_checkpointed_vjp, check_dual, check_grad, check_topological_order,
    check_topological_order_deep,
)
from . import engine as _engine  # noqa: E402

__all__ += _engine.__all__

# ---------------------------------------------------------------------------------------
# Under grading: every check records in the kernel and is replayed by the judge
# ---------------------------------------------------------------------------------------

for _name in [n for n in __all__ if n.startswith("check_")]:
    globals()[_name] = _channel.judged(globals()[_name])
_channel.start_recording_from_environment()
