"""Tracing: how minigrad sees the operations a function performs.

A differentiable function is called with its inputs wrapped in a `Box`. Every numpy
operation in `minigrad.numpy` is a `Primitive`: called on a box, it unwraps the value,
computes the plain numpy result, and wraps that result in a new box whose node remembers
how to propagate derivatives back (reverse mode) or forward (forward mode).

Why trace levels?  Derivatives nest: `grad(grad(f))`, `jacfwd(jacrev(f))`, or a `grad`
taken inside a function that closes over a value an outer `grad` is tracing. Each call to
a differential operator starts a new `Trace` with a higher level than any before it, so a
box of an inner trace may hold a box of an outer trace as its value. A primitive always
handles the innermost (highest) level first and leaves the outer boxes in its arguments
alone; those are handled when the primitive is called again on the unwrapped values.
"""
import gc
import itertools
import types

import numpy as np

_next_level = itertools.count(1)


class Box:
    """A value being traced, with the node that records how it was computed.

    Boxes are made by `trace.box_type`, minigrad.numpy's ArrayBox, which owns the
    primitives and gives a box numpy's operators and methods; this class holds what needs
    no primitive.
    """

    __slots__ = ("_value", "_trace", "_node")
    __array_priority__ = 100.0

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node

    shape = property(lambda self: np.shape(self._value))
    ndim = property(lambda self: np.ndim(self._value))
    size = property(lambda self: np.size(self._value))
    dtype = property(lambda self: np.result_type(self._value))

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(self._value)

    def __repr__(self):
        kind = type(self._trace).__name__.replace("Trace", "").lower()
        return f"Box({value_of(self)!r}, {kind} level {self._trace.level})"

    def __float__(self):
        raise TypeError(
            "float() of a traced value would cut it out of the derivative. Keep it an "
            "array (use mnp functions on it), or, to look at it, print it: the Box shows "
            "its value.")

    def __setitem__(self, index, value):
        raise TypeError(
            "minigrad cannot differentiate through in-place assignment (x[i] = v) into a "
            "traced array. Build a new array instead: mnp.where(mask, v, x), "
            "mnp.concatenate([...]) or mnp.array([...]).")


class Trace:
    """One run of a differential operator. Subclasses say what a new box's node holds."""

    # The class of the boxes it makes: minigrad.numpy sets its ArrayBox, a Box with
    # numpy's operators and methods (the core itself knows no primitive).
    box_type = Box

    def __init__(self):
        self.level = next(_next_level)

    def lift(self, prim, ans, args, kwargs, argnums, boxes):
        """Wrap `ans = prim(*args)` whose arguments `argnums` were `boxes` of this trace."""
        raise NotImplementedError


class paused_gc:
    """Python's cyclic garbage collector off while a graph is built or walked.

    A trace creates millions of small objects (boxes, nodes, closures) and frees none of
    them until it ends, so the collector, which runs every few hundred allocations and
    re-scans the survivors each time, would make the cost per node grow with the size of
    the graph. The graph has no reference cycles (nodes point only at their parents), so
    reference counting frees it all anyway; the collector is switched back on after."""

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
        return False


def call_traced(fun, boxes):
    """`fun(*boxes)`, translating numpy's error for a traced value written into a plain
    array (`buf[0] = x`), which numpy reports as if x were a list, and refusing an output
    that holds traced values in a tuple, list or dict, which numpy would report the same
    way when it takes the output's shape."""
    try:
        with paused_gc():
            ans = fun(*boxes)
    except ValueError as err:
        if "setting an array element with a sequence" not in str(err):
            raise
        raise TypeError(
            "A traced value was written into a plain numpy array (buf[i] = x): numpy keeps "
            "only numbers, so the derivative would be lost. Build the array from traced "
            "values instead: mnp.stack([...]), mnp.concatenate([...]), mnp.array([...]) or "
            "mnp.where(mask, x, buf). (numpy said: setting an array element with a "
            "sequence.)") from err
    if isinstance(ans, (tuple, list, dict)) and _holds_box(ans):
        raise TypeError(
            f"The function returned a {type(ans).__name__} of traced values; minigrad "
            f"differentiates functions that return one array. Return mnp.stack([...]) (or "
            f"mnp.concatenate), or differentiate each output in a function of its own.")
    return ans


def _holds_box(x):
    if isinstance(x, dict):
        x = list(x.values())
    return isinstance(x, Box) or isinstance(x, (tuple, list)) and any(map(_holds_box, x))


def shape_of(x):
    """`x.shape` without numpy's dispatch machinery (this runs once per operation)."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def value_of(x):
    """The plain numpy value under any number of boxes."""
    while isinstance(x, Box):
        x = x._value
    return x


class Primitive:
    """A function minigrad differentiates with rules rather than by looking inside.

    Its body receives plain numpy values. Rules are registered with `defvjp` / `defjvp`.
    """

    def __init__(self, fun, name=None):
        self.fun = fun
        self.name = name or fun.__name__
        self.vjp_rule_for = None     # argnum -> VJP maker or None, set by defvjp
        self.jvp_rule_for = None     # argnum -> JVP rule or None, set by defjvp
        self.__name__ = self.name
        self.__doc__ = fun.__doc__
        self.__wrapped__ = fun

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __get__(self, obj, objtype=None):
        """Used as a method of `Box` (x.sum(), x + y), it binds like a function."""
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        # The innermost trace among the arguments handles this call: its boxes are
        # unwrapped, the primitive runs again on the values (where any outer trace gets
        # its turn), and the innermost trace wraps the result with its node.
        # (This runs once per operation, traced or not, so it is written as plain loops.)
        for value in kwargs.values():
            if isinstance(value, Box):
                args, kwargs = self._positional(args, kwargs)
                break
        top = None
        for arg in args:
            if isinstance(arg, Box) and (top is None or arg._trace.level > top.level):
                top = arg._trace
        if top is None:
            ans = self.fun(*args, **kwargs)
            if debug.nans:
                debug.check_forward(self, ans, args)
            return ans
        argnums, boxes, raw, nested = [], [], list(args), False
        for i, arg in enumerate(args):
            if isinstance(arg, Box):
                if arg._trace is top:
                    argnums.append(i)
                    boxes.append(arg)
                    raw[i] = value = arg._value
                    nested = nested or isinstance(value, Box)
                else:
                    nested = True
        if nested or debug.nans:
            ans = self(*raw, **kwargs)
        else:                       # no outer trace left: the plain function, directly
            ans = self.fun(*raw, **kwargs)
        return top.lift(self, ans, raw, kwargs, argnums, boxes)

    def _positional(self, args, kwargs):
        """Traced values passed by keyword (`mnp.sum(a=x)`) move to their positions: rules
        are registered per positional argument."""
        import inspect
        try:
            bound = inspect.signature(self.fun).bind(*args, **kwargs)
        except (TypeError, ValueError):
            bound = None
        if bound is not None:
            args, kwargs = bound.args, bound.kwargs
        for name, value in kwargs.items():
            if isinstance(value, Box):
                raise TypeError(
                    f"{self.name}(..., {name}=<traced value>): minigrad differentiates "
                    f"positional arguments only; pass {name} by position.")
        return args, kwargs


# -- derivatives: their dtype, a scalar's, and a wrong shape explained --------------------
def zeros_like_value(x):
    return as_primal(np.zeros_like(value_of(x), dtype=float), x)


def derivative_dtype(x):
    """The one dtype rule, for every operator: a derivative with respect to x has x's
    floating dtype (float32 in, float32 out), as in JAX and autograd."""
    x = value_of(x)
    dtype = np.result_type(np.asarray(x) if isinstance(x, (list, tuple)) else x)
    return dtype if dtype.kind == "f" else np.dtype(float)


def cast_like_primal(g, x):
    """A computed derivative in x's dtype. Traced ones are left alone, and so is a
    derivative that is not floating point at all: that is a rule's mistake (a mask
    returned without multiplying it by g) for check_grads to name, not to paper over."""
    if isinstance(g, Box):
        return g
    g_dtype = np.result_type(g)
    if g_dtype.kind != "f":
        return g
    dtype = derivative_dtype(x)
    return g if g_dtype == dtype else np.asarray(g).astype(dtype)


def as_primal(g, x):
    """g as the derivative for x: x's dtype, and a numpy scalar (not a 0-d array) for a
    scalar x. Traced derivatives (inside another operator) are left as they are."""
    g = cast_like_primal(g, x)
    if isinstance(g, np.ndarray) and shape_of(x) == ():
        return g[()]
    return g


def shape_hint(shape, want, other, mode):
    """Why a rule's derivative of `shape` may not have the `want`ed one: the likely
    mistake, for a VJP's cotangent (mode 'rev', `other` the output's shape) or a JVP's
    tangent (mode 'fwd', `other` the input's shape)."""
    if mode == "rev":
        try:
            broadcast = np.broadcast_shapes(shape, want) == shape
        except ValueError:
            broadcast = False
        if broadcast and np.prod(shape, dtype=int) > np.prod(want, dtype=int):
            return ("it is the broadcast shape: did you unbroadcast? Sum the cotangent "
                    "down to the input's shape with mg.unbroadcast(x, g)")
        if shape == other:
            return "it has the output's shape: a VJP returns one cotangent shaped like each input"
    else:
        if shape == other:
            return ("it has the input's shape: a JVP rule returns the tangent of the output; "
                    "broadcast or combine the input's tangent as the function does")
    if len(shape) >= 2 and shape == want[:-2] + want[-1:] + want[-2:-1]:
        return "the last two axes are swapped: looks transposed"
    if np.prod(shape, dtype=int) == np.prod(want, dtype=int):
        return "same number of entries: a missing reshape, or a reshape to the wrong shape?"
    return "check which axes the rule sums over (axis, keepdims) and what it broadcasts"


def missing_rule(prim, definer, operators):
    """The error for a primitive without rules for the mode being traced."""
    return NotImplementedError(
        f"minigrad has no {definer[-3:].upper()} rule for the primitive '{prim.name}', so "
        f"{operators} cannot go through it. Register one: "
        f"mg.{definer}({prim.name}, rule_for_arg0, rule_for_arg1, ...).")


def check_options(prim, kwargs):
    """numpy's ufunc options (out=, where=, dtype=, casting=) change what an elementwise
    function computes in ways its rules do not follow: they are refused, by name."""
    if isinstance(prim.fun, np.ufunc):
        names = ", ".join(f"{k}=" for k in kwargs)
        raise TypeError(
            f"minigrad differentiates {prim.name} of its array arguments only, without "
            f"numpy's options ({names}). Leave them out: mnp.where(mask, mnp.{prim.name}(...), "
            f"other) for where=, and convert dtypes outside the differentiated function.")


def rule_lookup(prim, rules, definer, rule_for=None):
    """`rule_for(argnum) -> rule or None` (None: a zero derivative) for the rules given to
    `definer`, one per positional argument, or as a `rule_for` function already (for a
    primitive with any number of arguments: concatenate, einsum). Both modes look rules up
    through it. What students get wrong when registering rules is caught here."""
    if not isinstance(prim, Primitive):
        raise TypeError(
            f"{definer} needs a primitive, but got {prim!r}. Decorate the function with "
            f"@mg.primitive first: a plain function is traced through, never by its rules.")
    if rule_for is not None:
        if rules or not callable(rule_for):
            raise TypeError(f"{definer}({prim.name}, rule_for=...) takes one function "
                            f"argnum -> rule, and no rules besides.")
        return rule_for
    for i, rule in enumerate(rules):
        if rule is not None and not callable(rule):
            raise TypeError(f"{definer}({prim.name}, ...): the rule for argument {i} is "
                            f"{rule!r}; give a function, or None for a zero derivative.")
    n = len(rules)

    def rule_for(argnum):
        return rules[argnum] if argnum < n else None
    return rule_for


def primitive(fun):
    """Decorator: make `fun` a primitive. Its body sees plain numpy values; give it rules
    with `defvjp` (reverse mode) and `defjvp` (forward mode)."""
    return Primitive(fun)


class debug:
    """`with mg.debug_nans():` checks every primitive's output and every propagated
    derivative, and names the primitive where a NaN first appears."""

    nans = False

    @staticmethod
    def check_forward(prim, ans, args):
        if _has_nan(ans) and not any(_has_nan(a) for a in args):
            raise FloatingPointError(
                f"NaN first appeared in the forward pass, in the output of '{prim.name}' "
                f"(its inputs had no NaN). Look at the values reaching {prim.name}: "
                "log or sqrt of a negative number, 0/0, inf - inf?")

    @staticmethod
    def check_derivative(prim, mode, argnum, value):
        if _has_nan(value):
            raise FloatingPointError(
                f"NaN first appeared in the {mode} pass, in the derivative that "
                f"'{prim.name}' propagates for its argument {argnum}. Check its rule "
                "and the values it divides by or takes the log / sqrt of.")


def _has_nan(x):
    x = value_of(x)
    try:
        return bool(np.isnan(x).any())
    except TypeError:
        return False


class debug_nans:
    """Context manager turning on `debug.nans` (see `debug`)."""

    def __enter__(self):
        self._was, debug.nans = debug.nans, True
        return self

    def __exit__(self, *exc):
        debug.nans = self._was
        return False
