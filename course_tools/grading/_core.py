"""The pipeline every check shares: references taken at import time, plain-float
arithmetic, seeded draws, calling student code (with minigrad's differentiation refused),
the complex-step reference, and the sentences that explain a wrong result."""

import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package (see __init__).
__builtins__ = dict(vars(_builtins_module))


import contextlib as _contextlib  # noqa: E402
import math as _math  # noqa: E402
import os as _os  # noqa: E402
import types as _types  # noqa: E402

import numpy as _np  # noqa: E402


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


def _unbroadcast(g, shape):
    """g summed down to `shape` over the axes broadcasting added or stretched."""
    g = _asarray(g, dtype=_float64)
    while g.ndim > len(shape):
        g = _add_reduce(g, axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = _add_reduce(g, axis=axis, keepdims=True)
    return g


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
        elif raised.type_name == "LinAlgError" and "did not converge" in text:
            hint = (" A least-squares fit (np.polyfit) got a NaN or an infinity: the log of "
                    "a negative number or of zero? An error is a distance, "
                    "abs(quotient - exact), and each step h must be positive.")
        elif raised.type_name == "RecursionError":
            hint = (" The code recursed deeper than Python allows (a few thousand nested "
                    "calls): a function that calls itself without end (an operator written "
                    "with itself, a rule that calls the primitive it defines), or, on a long "
                    "chain, a recursive search: write it as a loop with a stack of your own "
                    "(a list you append to and pop from).")
        elif "NoneType" in text and "integer" in text:
            hint = (" Was it axis=None? Then every axis was reduced: the output and g are "
                    "single numbers that broadcast as they are, and np.expand_dims(g, None) "
                    "is an error.")
        raise GradingError(f"{what} raised {raised.type_name}: {text.rstrip('. ')}.{hint}") from None


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


def _explain_values(what, got, expected, transposable=True, right="the exact derivative"):
    """Describe how `got` differs from `expected` (same shape): sign, factor, transpose;
    `right` names what `expected` is."""
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
    scale = max([abs(x) for x in _floats(expected)] + [0.0])
    close = ""
    if scale > 0 and diffs[worst] <= 1e-6 * scale:
        close = (f" That is within {diffs[worst] / scale:.0e} of it, but not exact: finite "
                 f"differences are never exact, while a derivative written out (or a JVP or "
                 f"VJP) is exact to rounding, and that is what is graded here.")
    return (f"{what} has wrong values: at index {index} it gives "
            f"{_floats(got)[worst]:.12g}, {right} is "
            f"{_floats(expected)[worst]:.12g}.{close}")


# ---------------------------------------------------------------------------------------
# Looking for tampering
# ---------------------------------------------------------------------------------------

_SUSPICIOUS = ("course_tools.grading", "grading", "sys.modules", "builtins", "__code__",
               "__builtins__", "__globals__", "importlib", "ctypes", "gc.get_referents",
               "make_vjp", "make_jvp")


def audit_source(text):
    """Names in a student's code that could be used to tamper with grading, for a human to read."""
    return [name for name in _SUSPICIOUS if name in text]
