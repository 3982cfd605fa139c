"""Random programs of minigrad.numpy functions, to be differentiated by minigrad and by an
independent oracle (HIPS autograd, or central differences where autograd has no rule).

A program is a list of steps; each step is a function `fn(L, *values)` of earlier values
(the program's inputs first), where `L` names the library it runs on: `L.m` is
minigrad.numpy, autograd.numpy or numpy, and `L.np` is what a user calls as plain numpy
(numpy itself on minigrad's traced values, which dispatch to minigrad). Programs are
drawn step by step on plain numpy values, so that every function gets arguments in its
domain and away from its kinks, ties and poles, where a derivative exists and central
differences can see it.
"""
import numpy as np

import autograd.numpy as anp
import minigrad.numpy as mnp


class Lib:
    def __init__(self, name, m, plain):
        self.name, self.m, self.np = name, m, plain


MG, AG, NP = Lib("minigrad", mnp, np), Lib("autograd", anp, anp), Lib("numpy", np, np)

MAX_SIZE = 48
GAP = 1e-3          # how far from a kink, tie or jump every value is kept


class Program:
    def __init__(self, inputs, steps, out):
        self.inputs, self.steps, self.out = inputs, steps, out

    def run(self, L, *xs):
        vals = list(xs)
        for _, fn, idx in self.steps:
            vals.append(fn(L, *[vals[i] for i in idx]))
        return vals[self.out]

    def __repr__(self):
        shapes = [np.shape(x) for x in self.inputs]
        lines = [f"inputs {shapes} {[np.result_type(x).name for x in self.inputs]}"]
        for k, (name, _, idx) in enumerate(self.steps):
            lines.append(f"  v{len(self.inputs) + k} = {name}{tuple(f'v{i}' for i in idx)}")
        return "\n".join(lines + [f"  out v{self.out}"])


def _gap_ok(x, points):
    x = np.asarray(x, dtype=float)
    return all(np.all(np.abs(x - c) > GAP) for c in points)


def _distinct(x, axis):
    """No two entries along `axis` (all, for None) closer than GAP."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0 or x.size <= 1:
        return True
    s = np.sort(x.ravel() if axis is None else x, axis=0 if axis is None else axis)
    return bool(np.all(np.abs(np.diff(s, axis=0 if axis is None else axis)) > GAP))


# -- domains: a check on the values, and a map that puts any value inside ----------------
DOMAINS = {
    "any": (lambda x: True, None),
    "pos": (lambda x: np.all(x > 0.1), lambda L, x: x * x + 0.5),
    "unit": (lambda x: np.all(np.abs(x) < 0.9), lambda L, x: 0.8 * L.m.tanh(x)),
    "gt1": (lambda x: np.all(x > 1.1), lambda L, x: x * x + 1.2),
    "nonzero": (lambda x: np.all(np.abs(x) > 0.2), lambda L, x: x * x + 0.3),
    "small": (lambda x: np.all(np.abs(x) < 4), lambda L, x: 3.0 * L.m.tanh(x)),
    "tan": (lambda x: np.all(np.abs(np.cos(x)) > 0.3), lambda L, x: L.m.tanh(x)),
    "kink0": (lambda x: _gap_ok(x, [0.0]), lambda L, x: x * x + 0.3),
}

UNARY = dict(
    negative="any", exp="small", exp2="small", expm1="small", log="pos", log1p="pos",
    log2="pos", log10="pos", sqrt="pos", cbrt="nonzero", square="any", reciprocal="nonzero",
    abs="kink0", absolute="kink0", fabs="kink0", sin="any", cos="any", tan="tan",
    arcsin="unit", arccos="unit", arctan="any", sinh="small", cosh="small", tanh="any",
    arcsinh="any", arccosh="gt1", arctanh="unit", deg2rad="any", rad2deg="any",
    radians="any", degrees="any", sinc="any")
# operators and methods, like the unary functions: (name, domain, fn)
UNARY_FORMS = [
    ("-x", "any", lambda L, x: -x), ("+x", "any", lambda L, x: +x),
    ("abs(x)", "kink0", lambda L, x: abs(x)), ("x ** 2", "any", lambda L, x: x ** 2),
    ("x ** 3", "any", lambda L, x: x ** 3), ("x ** 0.5", "pos", lambda L, x: x ** 0.5),
    ("x ** -1", "nonzero", lambda L, x: x ** -1), ("2.0 ** x", "small", lambda L, x: 2.0 ** x),
    ("x ** 1", "any", lambda L, x: x ** 1), ("x ** 0", "any", lambda L, x: x ** 0 + x),
    ("1.5 / x", "nonzero", lambda L, x: 1.5 / x), ("x / 4.0", "any", lambda L, x: x / 4.0),
    ("0.5 - x", "any", lambda L, x: 0.5 - x), ("x * 3.0", "any", lambda L, x: x * 3.0),
    ("2.0 + x", "any", lambda L, x: 2.0 + x), ("x - 1", "any", lambda L, x: x - 1),
    ("np.exp(x)", "small", lambda L, x: L.np.exp(x)),
    ("np.tanh(x)", "any", lambda L, x: L.np.tanh(x)),
    ("np.sqrt(x)", "pos", lambda L, x: L.np.sqrt(x)),
    ("x * sign(x)", "kink0", lambda L, x: x * L.m.sign(x)),
    ("x + floor(x)", "any", lambda L, x: x + L.m.floor(x)),
]
# name: (domain check on (x, y) broadcast, fn); None: any
BINARY = dict(
    add=None, subtract=None, multiply=None,
    divide=lambda x, y: np.all(np.abs(y) > 0.2),
    true_divide=lambda x, y: np.all(np.abs(y) > 0.2),
    power=lambda x, y: np.all(x > 0.1) and np.all(np.abs(y) < 3),
    maximum=lambda x, y: _gap_ok(x - y, [0.0]), minimum=lambda x, y: _gap_ok(x - y, [0.0]),
    fmax=lambda x, y: _gap_ok(x - y, [0.0]), fmin=lambda x, y: _gap_ok(x - y, [0.0]),
    remainder=lambda x, y: _mod_ok(x, y), mod=lambda x, y: _mod_ok(x, y),
    fmod=lambda x, y: _mod_ok(x, y),
    arctan2=lambda x, y: np.all(x * x + y * y > 0.05),
    hypot=lambda x, y: np.all(x * x + y * y > 0.05),
    logaddexp=None, logaddexp2=None)
BINARY_FORMS = [
    ("x + y", None, lambda L, x, y: x + y), ("x - y", None, lambda L, x, y: x - y),
    ("x * y", None, lambda L, x, y: x * y),
    ("x / y", BINARY["divide"], lambda L, x, y: x / y),
    ("x ** y", BINARY["power"], lambda L, x, y: x ** y),
    ("x % y", BINARY["mod"], lambda L, x, y: x % y),
    ("np.add(x, y)", None, lambda L, x, y: L.np.add(x, y)),
    ("np.maximum(x, y)", BINARY["maximum"], lambda L, x, y: L.np.maximum(x, y)),
]


def _mod_ok(x, y):
    if not np.all(np.abs(y) > 0.3):
        return False
    q = np.asarray(x / y, dtype=float)
    return bool(np.all(np.abs(q - np.round(q)) > 0.02))


class Gen:
    """Draws one program: `n_steps` steps on `n_inputs` inputs of broadcastable shapes."""

    def __init__(self, rng, n_inputs=2, n_steps=4, dtype=np.float64, second_order=False):
        self.rng, self.dtype = rng, np.dtype(dtype)
        self.second_order = second_order
        base = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 4)))
        self.vals, self.steps = [], []
        for _ in range(n_inputs):
            shape = self.sub_shape(base)
            x = rng.standard_normal(shape).astype(self.dtype)
            if shape == () and rng.random() < 0.5:
                x = self.dtype.type(x)                  # a numpy scalar, not a 0-d array
            self.vals.append(x)
        self.inputs = list(self.vals)
        self.families = [self.unary, self.binary, self.reduction, self.shape_op,
                         self.index, self.product, self.select, self.join_split]
        tries = 0
        while len(self.steps) < n_steps and tries < 40 * n_steps:
            tries += 1
            family = self.families[rng.integers(len(self.families))]
            try:
                family()
            except _Reject:
                pass

    def program(self):
        return Program(self.inputs, self.steps, len(self.vals) - 1)

    # -- helpers -----------------------------------------------------------------
    def sub_shape(self, shape):
        """A shape that broadcasts against `shape`: leading axes dropped, some set to 1."""
        shape = list(shape[self.rng.integers(0, len(shape) + 1):]) if self.rng.random() < 0.4 \
            else list(shape)
        return tuple(1 if self.rng.random() < 0.25 else n for n in shape)

    def pick(self, pred=lambda v: True):
        """Index of an existing value, favouring recent ones."""
        ok = [i for i, v in enumerate(self.vals) if pred(v)]
        if not ok:
            raise _Reject
        if ok[-1] == len(self.vals) - 1 and self.rng.random() < 0.6:
            return ok[-1]                           # mostly a chain, sometimes a graph
        weights = np.array([1.0 + i for i in ok])
        return int(self.rng.choice(ok, p=weights / weights.sum()))

    def add(self, name, fn, idx, check=None):
        """Run the step on the numpy values; keep it if its result is usable."""
        args = [self.vals[i] for i in idx]
        with np.errstate(all="ignore"):
            try:
                out = fn(NP, *args)
            except (ValueError, IndexError, TypeError, np.exceptions.AxisError):
                raise _Reject from None
        if isinstance(out, (list, tuple)) or not np.all(np.isfinite(out)):
            raise _Reject
        if np.size(out) > MAX_SIZE or np.size(out) == 0 or np.max(np.abs(out)) > 1e3:
            raise _Reject
        if np.result_type(out).kind != "f":
            raise _Reject
        if self.dtype == np.float32 and np.result_type(out) != np.float32:
            raise _Reject
        self.steps.append((name, fn, tuple(idx)))
        self.vals.append(np.asarray(out) if not np.isscalar(out) else out)
        return len(self.vals) - 1

    def small_shape(self, longest):
        """Up to `longest - 1` axes of length 1 or 2."""
        return tuple(int(n) for n in self.rng.integers(1, 3, size=self.rng.integers(0, longest)))

    def plain(self):
        """Whether to call numpy's own function on the traced values, as users do."""
        return bool(self.rng.random() < 0.2)

    def const(self, shape):
        return self.rng.standard_normal(shape).astype(self.dtype)

    def operand(self, shape, domain=None):
        """An index of a value of exactly `shape`: an existing one, or one made from an
        existing value by indexing its raveled entries (repeats allowed)."""
        same = [i for i, v in enumerate(self.vals) if np.shape(v) == shape
                and (domain is None or domain(v))]
        if same and self.rng.random() < 0.5:
            return int(self.rng.choice(same))
        src = self.pick()
        size = int(np.prod(shape))
        idx = self.rng.integers(0, np.size(self.vals[src]), size=size)
        if self.rng.random() < 0.3:
            c = self.const(shape)
            return self.add(f"adapt{shape}+c", lambda L, v: L.m.reshape(
                L.m.ravel(v)[idx], shape) * 0.5 + c, [src])
        return self.add(f"adapt{shape}", lambda L, v: L.m.reshape(L.m.ravel(v)[idx], shape),
                        [src])

    def axis(self, ndim, allow_none=True, allow_tuple=True):
        r = self.rng.random()
        if ndim == 0 or (allow_none and r < 0.2):
            return None
        if allow_tuple and ndim >= 2 and r < 0.45:
            k = int(self.rng.integers(1, ndim + 1))
            axes = self.rng.choice(ndim, size=k, replace=False)
            return tuple(int(a) - ndim * int(self.rng.random() < 0.5) for a in axes)
        a = int(self.rng.integers(ndim))
        return a - ndim if self.rng.random() < 0.4 else a

    # -- families -----------------------------------------------------------------
    def unary(self):
        i = self.pick()
        x = self.vals[i]
        if self.rng.random() < 0.6:
            name = str(self.rng.choice(sorted(UNARY)))
            dom = UNARY[name]
            fn = _named(name, self.plain())
        else:
            name, dom, fn = UNARY_FORMS[self.rng.integers(len(UNARY_FORMS))]
        if name == "x + floor(x)" and not _gap_ok(x - np.floor(x), [0.0, 1.0]):
            raise _Reject
        check, fix = DOMAINS[dom]
        if not check(x):
            inner = fix
            self.add(f"{name}[{dom}]", lambda L, x: fn(L, inner(L, x)), [i])
        else:
            self.add(name, fn, [i])

    def binary(self):
        i = self.pick()
        x = self.vals[i]
        r = self.rng.random()
        if r < 0.6:
            name = str(self.rng.choice(sorted(BINARY)))
            check = BINARY[name]
            fn = _named(name, self.plain())
        else:
            name, check, fn = BINARY_FORMS[self.rng.integers(len(BINARY_FORMS))]
        swap = self.rng.random() < 0.3
        kind = self.rng.random()
        if kind < 0.15:                         # a Python number on one side
            y = float(np.round(self.rng.uniform(0.5, 2.5), 2))
            a, b = (y, x) if swap else (x, y)
            if check is not None and not check(a, b):
                raise _Reject
            self.add(f"{name}[{'c, x' if swap else 'x, c'}]",
                     (lambda L, v: fn(L, y, v)) if swap else (lambda L, v: fn(L, v, y)), [i])
            return
        shape = self.sub_shape(np.shape(x)) if self.rng.random() < 0.6 else \
            tuple(int(n) for n in self.rng.integers(1, 4, size=self.rng.integers(0, 3))) \
            + self.sub_shape(np.shape(x))
        try:
            np.broadcast_shapes(shape, np.shape(x))
        except ValueError:
            raise _Reject from None
        if kind < 0.3:                          # a constant array
            c = self.const(shape)
            a, b = (c, x) if swap else (x, c)
            if check is not None and not check(a, b):
                raise _Reject
            self.add(f"{name}[{'C, x' if swap else 'x, C'}]",
                     (lambda L, v: fn(L, c, v)) if swap else (lambda L, v: fn(L, v, c)), [i])
            return
        j = self.operand(shape)
        a, b = (self.vals[j], x) if swap else (x, self.vals[j])
        if check is not None and not check(a, b):
            raise _Reject
        self.add(name, fn, [j, i] if swap else [i, j])

    def reduction(self):
        i = self.pick(lambda v: np.ndim(v) >= 1 or self.rng.random() < 0.2)
        x = self.vals[i]
        nd = np.ndim(x)
        name = str(self.rng.choice(["sum", "mean", "prod", "max", "min", "var", "std",
                                    "amax", "amin", "cumsum", "average"]))
        axis = self.axis(nd, allow_tuple=name not in ("cumsum", "average"))
        keep = bool(self.rng.random() < 0.3)
        kw = {} if name in ("cumsum", "average") else {"keepdims": keep}
        if axis is not None or self.rng.random() < 0.5:
            kw["axis"] = axis
        if name in ("var", "std") and self.rng.random() < 0.5:
            kw["ddof"] = 1
            n = np.size(x) if axis is None else int(np.prod(
                [np.shape(x)[a] for a in np.atleast_1d(axis)]))
            if n < 2:
                raise _Reject
        if name in ("max", "min", "amax", "amin") and not _distinct(
                x, axis if axis is None or isinstance(axis, int) else -1) or (
                isinstance(axis, tuple) and name in ("max", "min", "amax", "amin")
                and not _distinct(x, None)):
            raise _Reject
        if name == "std" and np.min(np.var(x, axis=kw.get("axis"))) < 1e-3:
            raise _Reject
        if name == "prod" and np.size(x) > 12:
            raise _Reject
        if name == "average" and self.rng.random() < 0.5 and nd >= 1:
            ax = axis if axis is not None else None
            w = np.abs(self.const(np.shape(x) if ax is None else (np.shape(x)[ax],))) + 0.5
            kw["weights"] = w
        method = name in ("sum", "mean", "prod", "max", "min", "var", "std", "cumsum") \
            and self.rng.random() < 0.4
        label = f"{'x.' if method else ''}{name}({kw})"
        if method:
            self.add(label, lambda L, v: getattr(v, name)(**kw) if hasattr(v, name)
                     else getattr(L.m, name)(v, **kw), [i])
        else:
            plain = self.plain()
            self.add(("np." if plain else "") + label, lambda L, v: getattr(
                L.np if plain else L.m, name)(v, **kw), [i])

    def shape_op(self):
        i = self.pick()
        x = self.vals[i]
        shape, nd, rng = np.shape(x), np.ndim(x), self.rng
        op = str(rng.choice(["reshape", "x.reshape", "ravel", "transpose", "x.T", "swapaxes",
                             "moveaxis", "rollaxis", "expand_dims", "squeeze", "flip",
                             "broadcast_to", "tile", "repeat", "atleast", "roll",
                             "x.flatten", "x.transpose"]))
        if op in ("reshape", "x.reshape"):
            size = int(np.prod(shape))
            dims = _factor(size, rng)
            if dims and rng.random() < 0.3:
                dims[rng.integers(len(dims))] = -1
            order = str(rng.choice(["C", "F"]))
            target = tuple(dims)
            if op == "reshape":
                self.add(f"reshape({target}, order={order})",
                         lambda L, v: L.m.reshape(v, target, order=order), [i])
            else:
                self.add(f"x.reshape(*{target})", lambda L, v: _as_array(L, v).reshape(*target)
                         if len(target) else _as_array(L, v).reshape(()), [i])
        elif op == "ravel":
            order = str(rng.choice(["C", "F"]))
            self.add(f"ravel(order={order})", lambda L, v: L.m.ravel(v, order=order), [i])
        elif op == "x.flatten":
            self.add("x.flatten()", lambda L, v: _as_array(L, v).flatten(), [i])
        elif op in ("transpose", "x.transpose"):
            axes = None if rng.random() < 0.3 else tuple(
                int(a) - nd * int(rng.random() < 0.4) for a in rng.permutation(nd))
            if op == "transpose":
                self.add(f"transpose({axes})", lambda L, v: L.m.transpose(v, axes), [i])
            else:
                self.add(f"x.transpose(*{axes})", lambda L, v: _as_array(L, v).transpose(
                    *(axes or ())), [i])
        elif op == "x.T":
            self.add("x.T", lambda L, v: _as_array(L, v).T, [i])
        elif op == "swapaxes" and nd >= 1:
            a, b = (int(k) - nd * int(rng.random() < 0.4) for k in rng.integers(nd, size=2))
            self.add(f"swapaxes({a}, {b})", lambda L, v: L.m.swapaxes(v, a, b), [i])
        elif op in ("moveaxis", "rollaxis") and nd >= 1:
            a, b = (int(k) - nd * int(rng.random() < 0.4) for k in rng.integers(nd, size=2))
            if op == "moveaxis":
                if nd >= 2 and rng.random() < 0.4:
                    src = tuple(int(s) for s in rng.choice(nd, 2, replace=False))
                    dst = tuple(int(s) - nd for s in rng.choice(nd, 2, replace=False))
                    a, b = src, dst
                self.add(f"moveaxis({a}, {b})", lambda L, v: L.m.moveaxis(v, a, b), [i])
            else:
                start = int(rng.integers(0, nd + 1))
                self.add(f"rollaxis({a}, {start})", lambda L, v: L.m.rollaxis(v, a, start), [i])
        elif op == "expand_dims":
            ax = int(rng.integers(-nd - 1, nd + 1))
            self.add(f"expand_dims({ax})", lambda L, v: L.m.expand_dims(v, ax), [i])
        elif op == "squeeze":
            ones = [k for k, n in enumerate(shape) if n == 1]
            if ones and rng.random() < 0.6:
                ax = int(rng.choice(ones)) - nd * int(rng.random() < 0.5)
                self.add(f"squeeze({ax})", lambda L, v: L.m.squeeze(v, ax), [i])
            else:
                self.add("x.squeeze()" if nd else "squeeze()", lambda L, v: L.m.squeeze(v), [i])
        elif op == "flip":
            ax = self.axis(nd)
            self.add(f"flip({ax})", lambda L, v: L.m.flip(v, ax), [i])
        elif op == "broadcast_to":
            target = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 2))) + \
                tuple(int(rng.integers(2, 4)) if n == 1 and rng.random() < 0.6 else n
                      for n in shape)
            self.add(f"broadcast_to({target})", lambda L, v: L.m.broadcast_to(v, target), [i])
        elif op == "tile":
            reps = int(rng.integers(1, 3)) if rng.random() < 0.3 else tuple(
                int(r) for r in rng.integers(1, 3, size=rng.integers(1, nd + 2)))
            self.add(f"tile({reps})", lambda L, v: L.m.tile(v, reps), [i])
        elif op == "repeat":
            axis = None if nd == 0 or rng.random() < 0.3 else int(rng.integers(-nd, nd))
            n = np.size(x) if axis is None else shape[axis]
            reps = int(rng.integers(1, 3)) if rng.random() < 0.5 else [
                int(r) for r in rng.integers(0, 3, size=n)]
            method = rng.random() < 0.3
            self.add(f"{'x.' if method else ''}repeat({reps}, axis={axis})",
                     (lambda L, v: _as_array(L, v).repeat(reps, axis=axis)) if method else
                     (lambda L, v: L.m.repeat(v, reps, axis=axis)), [i])
        elif op == "atleast":
            k = int(rng.integers(1, 4))
            self.add(f"atleast_{k}d", lambda L, v: getattr(L.m, f"atleast_{k}d")(v), [i])
        elif op == "roll" and nd >= 1:
            shift = int(rng.integers(-3, 4))
            axis = None if rng.random() < 0.3 else int(rng.integers(-nd, nd))
            self.add(f"roll({shift}, {axis})", lambda L, v: L.m.roll(v, shift, axis), [i])
        else:
            raise _Reject

    def index(self):
        i = self.pick(lambda v: np.ndim(v) >= 1)
        x = self.vals[i]
        shape, nd, rng = np.shape(x), np.ndim(x), self.rng
        kind = str(rng.choice(["int", "slice", "tuple", "intarray", "mask", "maskaxis",
                               "arrays", "newaxis", "take", "take_along"]))
        if kind == "int":
            k = int(rng.integers(-shape[0], shape[0]))
            index = k
        elif kind == "slice":
            index = _slice(rng, shape[0])
        elif kind == "tuple":
            index = tuple(int(rng.integers(-n, n)) if rng.random() < 0.3 else _slice(rng, n)
                          for n in shape[:rng.integers(1, nd + 1)])
            if rng.random() < 0.3:
                index = (Ellipsis,) + index[1:] if len(index) > 1 else (Ellipsis, index[0])
        elif kind == "intarray":
            size = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(1, 3)))
            index = rng.integers(-shape[0], shape[0], size=size)
            if rng.random() < 0.3 and nd >= 2:
                index = (slice(None), rng.integers(0, shape[1], size=size[-1:]))
        elif kind == "mask":
            index = rng.random(shape) < 0.6
        elif kind == "maskaxis":
            index = rng.random(shape[0]) < 0.6
        elif kind == "arrays" and nd >= 2:
            n = int(rng.integers(1, 4))
            index = (rng.integers(0, shape[0], size=n), rng.integers(0, shape[1], size=(1, n)))
        elif kind == "newaxis":
            index = (Ellipsis, None) if rng.random() < 0.5 else (None, slice(None, None, -1))
        elif kind == "take":
            ind = [int(k) for k in rng.integers(0, shape[0], size=rng.integers(1, 5))]
            axis = None if rng.random() < 0.4 else int(rng.integers(-nd, nd))
            if axis is None:
                ind = [int(k) for k in rng.integers(0, np.size(x), size=len(ind))]
            else:
                ind = [int(k) for k in rng.integers(0, shape[axis], size=len(ind))]
            method = rng.random() < 0.3
            self.add(f"{'x.' if method else ''}take({ind}, axis={axis})",
                     (lambda L, v: _as_array(L, v).take(ind, axis=axis)) if method else
                     (lambda L, v: L.m.take(v, ind, axis=axis)), [i])
            return
        elif kind == "take_along":
            axis = int(rng.integers(-nd, nd))
            ind = rng.integers(0, shape[axis], size=tuple(
                int(rng.integers(1, 3)) if k == axis % nd else n for k, n in enumerate(shape)))
            self.add(f"take_along_axis({axis})",
                     lambda L, v: L.m.take_along_axis(v, ind, axis), [i])
            return
        else:
            raise _Reject
        self.add(f"x[{_show(index)}]", lambda L, v: v[index], [i])

    def product(self):
        i = self.pick()
        x = self.vals[i]
        shape, nd, rng = np.shape(x), np.ndim(x), self.rng
        op = str(rng.choice(["matmul", "@", "dot", "x.dot", "tensordot", "inner", "outer",
                             "kron", "einsum1", "einsum2", "cross", "trace", "diag"]))
        if op in ("matmul", "@") and nd >= 1:
            n = shape[-1]
            k = int(rng.integers(1, 4))
            other = (n,) if rng.random() < 0.3 else (
                self.sub_shape(shape[:-2]) if nd > 2 and rng.random() < 0.5 else ()) + (n, k)
            right = rng.random() < 0.5
            if right:           # x on the right: other @ x, other's last axis = x's first
                m = shape[-2] if nd >= 2 else shape[0]
                other = (m,) if rng.random() < 0.3 else (int(rng.integers(1, 4)), m)
            j = self.operand(other)
            idx = [j, i] if right else [i, j]
            self.add(op, (lambda L, a, b: L.m.matmul(a, b)) if op == "matmul" else
                     (lambda L, a, b: a @ b), idx)
        elif op in ("dot", "x.dot"):
            if nd == 0:
                other = self.sub_shape((2, 3))
            else:
                other = (shape[-1],) if rng.random() < 0.4 else \
                    tuple(int(n) for n in rng.integers(1, 3, size=rng.integers(0, 2))) + \
                    (shape[-1], int(rng.integers(1, 4)))
            j = self.operand(other)
            self.add(op, (lambda L, a, b: L.m.dot(a, b)) if op == "dot" else
                     (lambda L, a, b: a.dot(b) if L is MG and isinstance(a, mnp.ArrayBox)
                      else L.m.dot(a, b)), [i, j])
        elif op == "tensordot":
            k = int(rng.integers(0, nd + 1))
            if rng.random() < 0.5:
                other = shape[nd - k:] + self.small_shape(2)
                axes = k
            else:
                a_axes = [int(a) for a in rng.choice(nd, size=k, replace=False)] if nd else []
                extra = [int(n) for n in rng.integers(1, 3, size=rng.integers(0, 2))]
                b_nd = k + len(extra)
                b_axes = [int(a) for a in rng.permutation(b_nd)[:k]]
                other = [0] * b_nd
                for a, b in zip(a_axes, b_axes):
                    other[b] = shape[a]
                free = iter(extra)
                other = tuple(n if b in b_axes else next(free) for b, n in enumerate(other))
                axes = ([a - nd * int(rng.random() < 0.3) for a in a_axes], b_axes)
            j = self.operand(tuple(other))
            self.add(f"tensordot(axes={axes})", lambda L, a, b: L.m.tensordot(a, b, axes), [i, j])
        elif op == "inner":
            other = () if nd == 0 else tuple(
                int(n) for n in rng.integers(1, 3, size=rng.integers(0, 2))) + (shape[-1],)
            j = self.operand(other)
            self.add("inner", lambda L, a, b: L.m.inner(a, b), [i, j])
        elif op == "outer":
            j = self.operand(tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3))))
            self.add("outer", lambda L, a, b: L.m.outer(a, b), [i, j])
        elif op == "kron" and np.size(x) <= 8:
            j = self.operand(tuple(int(n) for n in rng.integers(1, 3, size=rng.integers(0, 3))))
            self.add("kron", lambda L, a, b: L.m.kron(a, b), [i, j])
        elif op == "einsum1" and nd >= 1:
            spec = self.einsum_spec([shape])
            self.add(f"einsum({spec!r})", lambda L, a: L.m.einsum(spec, a), [i])
        elif op == "einsum2":
            other = tuple(int(rng.choice([n, int(rng.integers(1, 4))])) for n in shape[
                rng.integers(0, nd + 1):]) + self.small_shape(2)
            j = self.operand(other)
            spec = self.einsum_spec([shape, other])
            self.add(f"einsum({spec!r})", lambda L, a, b: L.m.einsum(spec, a, b), [i, j])
        elif op == "cross" and nd >= 1 and shape[-1] in (2, 3):
            other = self.sub_shape(shape[:-1]) + (int(rng.choice([2, 3])),)
            j = self.operand(other)
            self.add("cross", lambda L, a, b: L.m.cross(a, b), [i, j])
        elif op == "trace" and nd >= 2:
            off = int(rng.integers(-1, 2))
            a1, a2 = (int(a) - nd * int(rng.random() < 0.4)
                      for a in rng.choice(nd, 2, replace=False))
            method = rng.random() < 0.3
            self.add(f"{'x.' if method else ''}trace({off}, {a1}, {a2})",
                     (lambda L, v: _as_array(L, v).trace(off, a1, a2)) if method else
                     (lambda L, v: L.m.trace(v, off, a1, a2)), [i])
        elif op == "diag" and nd in (1, 2):
            k = int(rng.integers(-1, 2))
            self.add(f"diag({k})", lambda L, v: L.m.diag(v, k), [i])
        else:
            raise _Reject

    def einsum_spec(self, shapes):
        """Subscripts for operands of these shapes: letters shared where lengths agree,
        repeated within an operand sometimes, an explicit output or numpy's implicit one,
        and '...' for leading axes now and then."""
        rng, letters, spec = self.rng, {}, []
        pool = iter("abcdefgh")
        for shape in shapes:
            s = ""
            for n in shape:
                same = [c for c, m in letters.items()
                        if m == n and (c not in s or rng.random() < 0.2)]
                if same and rng.random() < 0.5:
                    c = str(rng.choice(same))
                else:
                    c = next(pool)
                    letters[c] = n
                s += c
            spec.append(s)
        used = sorted(set("".join(spec)))
        if rng.random() < 0.3:
            return ",".join(spec)
        out = [str(c) for c in rng.permutation(used)[:rng.integers(0, len(used) + 1)]]
        if rng.random() < 0.3 and all(s[:1] == spec[0][:1] for s in spec) and spec[0] and \
                spec[0][0] in out and spec[0].count(spec[0][0]) == 1 and \
                all(s.count(s[0]) == 1 for s in spec):
            lead = spec[0][0]           # that shared first axis written as '...'
            spec = ["..." + s[1:] for s in spec]
            out.remove(lead)
            return ",".join(spec) + "->..." + "".join(out)
        return ",".join(spec) + "->" + "".join(out)

    def select(self):
        i = self.pick()
        x = self.vals[i]
        rng = self.rng
        op = str(rng.choice(["where", "clip", "x.clip", "clip_traced", "sort", "partition",
                             "tril", "triu", "diff"]))
        nd = np.ndim(x)
        if op == "where":
            t = float(np.round(rng.uniform(-1, 1), 2))
            if not _gap_ok(x, [t]):
                raise _Reject
            j = self.operand(self.sub_shape(np.shape(x)))
            self.add(f"where(x > {t}, x, y)", lambda L, a, b: L.m.where(a > t, a, b), [i, j])
        elif op in ("clip", "x.clip"):
            lo, hi = sorted(np.round(rng.uniform(-1.5, 1.5, size=2), 2))
            lo = None if rng.random() < 0.2 else float(lo)
            hi = None if (lo is not None and rng.random() < 0.2) else float(hi)
            if not _gap_ok(x, [c for c in (lo, hi) if c is not None]):
                raise _Reject
            self.add(f"{op}({lo}, {hi})", (lambda L, v: L.m.clip(v, lo, hi)) if op == "clip"
                     else (lambda L, v: _as_array(L, v).clip(lo, hi)), [i])
        elif op == "clip_traced":
            j = self.operand(self.sub_shape(np.shape(x)))
            if not _gap_ok(x - self.vals[j], [0.0]) or not _gap_ok(x, [1.0]) or \
                    np.any(np.asarray(self.vals[j]) >= 1.0 - GAP):
                raise _Reject
            self.add("clip(x, lo=y, 1.0)", lambda L, a, b: L.m.clip(a, b, 1.0), [i, j])
        elif op in ("sort", "partition") and nd >= 1:
            axis = None if rng.random() < 0.3 else int(rng.integers(-nd, nd))
            if not _distinct(x, axis):
                raise _Reject
            if op == "sort":
                self.add(f"sort({axis})", lambda L, v: L.m.sort(v, axis=axis), [i])
            else:
                n = np.size(x) if axis is None else np.shape(x)[axis]
                kth = int(rng.integers(0, n))
                self.add(f"partition({kth}, {axis})",
                         lambda L, v: L.m.partition(v, kth, axis=axis), [i])
        elif op in ("tril", "triu") and nd >= 2:
            k = int(rng.integers(-1, 2))
            self.add(f"{op}({k})", lambda L, v: getattr(L.m, op)(v, k), [i])
        elif op == "diff" and nd >= 1:
            axis = int(rng.integers(-nd, nd))
            n = int(rng.integers(1, 3))
            if np.shape(x)[axis] <= n:
                raise _Reject
            self.add(f"diff(n={n}, axis={axis})", lambda L, v: L.m.diff(v, n=n, axis=axis), [i])
        else:
            raise _Reject

    def join_split(self):
        i = self.pick()
        x = self.vals[i]
        shape, nd, rng = np.shape(x), np.ndim(x), self.rng
        op = str(rng.choice(["concatenate", "stack", "hstack", "vstack", "dstack",
                             "column_stack", "split", "array_split", "array"]))
        if op == "concatenate" and nd >= 1:
            axis = None if rng.random() < 0.2 else int(rng.integers(-nd, nd))
            other = list(shape)
            if axis is not None:
                other[axis] = int(rng.integers(1, 3))
            else:
                other = [int(rng.integers(1, 4))]
            j = self.operand(tuple(other))
            self.add(f"concatenate(axis={axis})",
                     lambda L, a, b: L.m.concatenate([a, b, a], axis=axis), [i, j])
        elif op == "stack":
            axis = int(rng.integers(-nd - 1, nd + 1))
            j = self.operand(shape)
            self.add(f"stack(axis={axis})", lambda L, a, b: L.m.stack([a, b], axis=axis), [i, j])
        elif op in ("hstack", "vstack", "dstack", "column_stack") and nd <= 2:
            j = self.operand(shape)
            self.add(op, lambda L, a, b: getattr(L.m, op)((b, a)), [i, j])
        elif op in ("split", "array_split") and nd >= 1:
            axis = int(rng.integers(-nd, nd))
            n = shape[axis]
            if op == "split":
                sections = int(rng.choice([d for d in range(1, n + 1) if n % d == 0]))
            else:
                sections = int(rng.integers(1, n + 1)) if rng.random() < 0.6 else sorted(
                    int(k) for k in rng.integers(0, n + 1, size=2))
            self.add(f"{op}({sections}, {axis}) reversed",
                     lambda L, v: L.m.concatenate(getattr(L.m, op)(v, sections, axis=axis)[::-1],
                                                  axis=axis), [i])
        elif op == "array" and nd == 0:
            j = self.operand(())
            self.add("array([[x, y], [y, x]])",
                     lambda L, a, b: L.m.array([[a, b], [b * 2.0, a]]), [i, j])
        else:
            raise _Reject


class _Reject(Exception):
    pass


def _named(name, plain):
    """The function `name` of minigrad.numpy (or, `plain`, of numpy itself)."""
    return lambda L, *args: getattr(L.np if plain else L.m, name)(*args)


def _as_array(L, v):
    """A value that has array methods (an input may be a numpy scalar)."""
    return v if hasattr(v, "T") and not np.isscalar(v) else L.m.asarray(v) if L is not AG \
        else anp.array(v)


def _factor(size, rng):
    dims = []
    while size > 1:
        d = int(rng.choice([k for k in range(2, size + 1) if size % k == 0]))
        dims.append(d)
        size //= d
    dims = [int(d) for d in rng.permutation(dims)] if dims else []
    for _ in range(int(rng.integers(0, 2))):
        dims.insert(int(rng.integers(0, len(dims) + 1)), 1)
    return dims


def _slice(rng, n):
    step = int(rng.choice([1, 1, 2, -1, -2]))
    start = int(rng.integers(-n, n)) if rng.random() < 0.5 else None
    stop = int(rng.integers(-n - 1, n + 1)) if rng.random() < 0.5 else None
    s = slice(start, stop, step)
    if len(range(*s.indices(n))) == 0:
        return slice(None, None, step)
    return s


def _show(index):
    if isinstance(index, tuple):
        return ", ".join(_show(k) for k in index)
    if isinstance(index, np.ndarray):
        return f"array({index.tolist()})"
    if isinstance(index, slice):
        return ":".join("" if v is None else str(v) for v in (index.start, index.stop, index.step))
    return "..." if index is Ellipsis else repr(index)


# -- checking: minigrad against the oracle ------------------------------------------------
import autograd  # noqa: E402

import minigrad as mg  # noqa: E402

MODES = ["grad", "vjp", "jvp", "jacrev", "jacfwd", "argnums", "hessian", "gradgrad",
         "fwdrev", "float32"]


class Mismatch(AssertionError):
    pass


def numeric_jacobian(fun, xs, argnum, eps=1e-6):
    """d fun / d xs[argnum] by central differences in float64: out.shape + in.shape."""
    xs = [np.asarray(x, dtype=np.float64) for x in xs]
    x0 = xs[argnum]
    cols = []
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = eps
        e = e.reshape(x0.shape)
        hi, lo = list(xs), list(xs)
        hi[argnum], lo[argnum] = x0 + e, x0 - e
        cols.append((np.asarray(fun(*hi), float) - np.asarray(fun(*lo), float)) / (2 * eps))
    out_shape = np.shape(fun(*xs))
    if not cols:
        return np.zeros(out_shape + x0.shape)
    return np.moveaxis(np.array(cols), 0, -1).reshape(out_shape + x0.shape)


def close(got, want, rtol=1e-6):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False
    scale = max(1e-2, float(np.max(np.abs(want), initial=0.0)))
    return bool(np.allclose(got, want, rtol=rtol, atol=rtol * scale))


class Checker:
    """Runs one mode on one program; raises Mismatch with a readable report."""

    def __init__(self, prog, rng):
        self.prog, self.rng = prog, rng
        self.xs = list(prog.inputs)
        self.n = len(self.xs)
        out = prog.run(NP, *self.xs)
        self.out_shape = np.shape(out)
        self.w = rng.standard_normal(self.out_shape)

    def f_mg(self, *xs):
        return self.prog.run(MG, *xs)

    def f_ag(self, *xs):
        return self.prog.run(AG, *xs)

    def f_np(self, *xs):
        return self.prog.run(NP, *xs)

    def scalar(self, L):
        w = self.w
        return lambda *xs: L.m.sum(self.prog.run(L, *xs) * w)

    def oracle_jacobian(self, fun_ag, fun_np, xs, argnum):
        """autograd's Jacobian, checked against central differences when they disagree
        with minigrad (autograd has wrong rules for a few calls), or the differences
        alone where autograd cannot differentiate the program."""
        try:
            with np.errstate(all="ignore"):
                return np.asarray(autograd.jacobian(fun_ag, argnum)(*xs), float), "autograd"
        except Exception:                        # noqa: BLE001  (no rule in autograd)
            return numeric_jacobian(fun_np, xs, argnum), "differences"

    def fail(self, mode, what, got, want, source):
        raise Mismatch(f"{mode}: {what} differs from {source}\n{self.prog}\n"
                       f"minigrad:\n{np.asarray(got)!r}\noracle:\n{np.asarray(want)!r}")

    def compare(self, mode, what, got, want, source, fun_np=None, argnum=None, rtol=1e-6,
                got_jac=None):
        if close(got, want, rtol):
            return
        if source == "autograd" and fun_np is not None:
            # autograd 1.9 itself is wrong on a few calls: let central differences decide
            numeric = numeric_jacobian(fun_np, self.xs, argnum)
            if got_jac is not None and close(got_jac, numeric, 1e-4):
                return
            if got_jac is None and close(got, numeric, 1e-4):
                return
            source = "autograd and central differences"
        self.fail(mode, what, got, want, source)

    def argnums(self):
        if self.n == 1 or self.rng.random() < 0.5:
            return int(self.rng.integers(-self.n, self.n))
        k = int(self.rng.integers(1, self.n + 1))
        return tuple(int(a) for a in self.rng.choice(self.n, size=k, replace=False))

    # -- first order ------------------------------------------------------------
    def grad(self, argnums=None):
        argnums = self.argnums() if argnums is None else argnums
        got = mg.grad(self.scalar(MG), argnums)(*self.xs)
        nums = (argnums,) if isinstance(argnums, int) else argnums
        gots = (got,) if isinstance(argnums, int) else got
        if not isinstance(gots, tuple) or len(gots) != len(nums):
            raise Mismatch(f"grad(argnums={argnums}) returned {type(got)}\n{self.prog}")
        for a, g in zip(nums, gots):
            want, src = self.oracle_jacobian(self.scalar(AG), self.scalar(NP), self.xs, a)
            self.check_dtype("grad", g, self.xs[a])
            self.compare("grad", f"argument {a}", g, want, src, self.scalar(NP), a)

    def vjp(self):
        ct = self.rng.standard_normal(self.out_shape)
        out, f_vjp = mg.vjp(self.f_mg, *self.xs)
        if not close(out, self.f_np(*self.xs), 1e-12):
            self.fail("vjp", "the value", out, self.f_np(*self.xs), "numpy")
        got = f_vjp(ct)
        for a in range(self.n):
            jac, src = self.oracle_jacobian(self.f_ag, self.f_np, self.xs, a)
            want = np.tensordot(ct, jac, axes=len(self.out_shape))
            self.check_dtype("vjp", got[a], self.xs[a])
            if not close(got[a], want):
                numeric = numeric_jacobian(self.f_np, self.xs, a)
                if src == "autograd" and close(got[a], np.tensordot(
                        ct, numeric, axes=len(self.out_shape)), 1e-4):
                    continue
                self.fail("vjp", f"argument {a}", got[a], want, src)

    def jvp(self):
        ts = [np.asarray(self.rng.standard_normal(np.shape(x)), dtype=np.result_type(x))
              for x in self.xs]
        out, t_out = mg.jvp(self.f_mg, self.xs, ts)
        if not close(out, self.f_np(*self.xs), 1e-12):
            self.fail("jvp", "the value", out, self.f_np(*self.xs), "numpy")
        want, numeric = 0.0, 0.0
        for a in range(self.n):
            jac, src = self.oracle_jacobian(self.f_ag, self.f_np, self.xs, a)
            nd = np.ndim(self.xs[a])
            want = want + np.tensordot(jac, ts[a], axes=nd)
        want = np.broadcast_to(want, self.out_shape)
        if np.shape(t_out) != self.out_shape:
            self.fail("jvp", "the tangent's shape", np.shape(t_out), self.out_shape, "value")
        self.check_dtype("jvp", t_out, out)
        if not close(t_out, want):
            numeric = sum(np.tensordot(numeric_jacobian(self.f_np, self.xs, a), ts[a],
                                       axes=np.ndim(self.xs[a])) for a in range(self.n))
            if not close(t_out, numeric, 1e-4):
                self.fail("jvp", "the tangent", t_out, want, src)

    def jacobian(self, op, mode):
        argnums = self.argnums()
        got = op(self.f_mg, argnums)(*self.xs)
        nums = (argnums,) if isinstance(argnums, int) else argnums
        gots = (got,) if isinstance(argnums, int) else got
        for a, g in zip(nums, gots):
            want, src = self.oracle_jacobian(self.f_ag, self.f_np, self.xs, a)
            self.check_dtype(mode, g, self.xs[a])
            self.compare(mode, f"argument {a}", g, want, src, self.f_np, a)

    def jacrev(self):
        self.jacobian(mg.jacrev, "jacrev")

    def jacfwd(self):
        self.jacobian(mg.jacfwd, "jacfwd")

    def check_dtype(self, mode, g, x):
        want = np.result_type(x) if np.result_type(x).kind == "f" else np.float64
        if np.result_type(g) != want:
            raise Mismatch(f"{mode}: dtype {np.result_type(g)} for an input of dtype "
                           f"{np.result_type(x)}\n{self.prog}")

    # -- second order -------------------------------------------------------------
    def hessian(self):
        a = int(self.rng.integers(self.n))
        got = mg.hessian(self.scalar(MG), a)(*self.xs)
        try:
            want = autograd.hessian(self.scalar(AG), a)(*self.xs)
        except Exception:                           # noqa: BLE001
            want = None              # no rule in autograd
        self.second("hessian", got, want, lambda *xs: mg.grad(self.scalar(MG), a)(*xs), a)

    def gradgrad(self):
        a = int(self.rng.integers(self.n))
        b = int(self.rng.integers(self.n))
        v = self.rng.standard_normal(np.shape(self.xs[a]))

        def inner(L, grad):
            return lambda *xs: L.m.sum(grad(self.scalar(L), a)(*xs) * v)
        got = mg.grad(inner(MG, mg.grad), b)(*self.xs)
        try:
            want = autograd.grad(inner(AG, autograd.grad), b)(*self.xs)
        except Exception:                           # noqa: BLE001
            want = None              # no rule in autograd
        self.second("grad of grad", got, want, inner(MG, mg.grad), b)

    def fwdrev(self):
        a = int(self.rng.integers(self.n))
        got = mg.jacfwd(mg.jacrev(self.f_mg, a), a)(*self.xs)
        try:
            want = autograd.jacobian(autograd.jacobian(self.f_ag, a), a)(*self.xs)
        except Exception:                           # noqa: BLE001
            want = None              # no rule in autograd
        self.second("jacfwd(jacrev)", got, want, mg.jacrev(self.f_mg, a), a)

    def second(self, mode, got, want, first_mg, argnum):
        """A second derivative: autograd's, or central differences of minigrad's own
        first derivative (which the first-order modes check) where autograd is wrong."""
        if want is not None and close(got, want, 1e-6):
            return
        numeric = numeric_jacobian(lambda *xs: np.asarray(first_mg(*xs)), self.xs, argnum)
        if close(got, numeric, 1e-4):
            return
        self.fail(mode, f"argument {argnum}", got, numeric if want is None else want,
                  "differences of minigrad's first derivative" if want is None
                  else "autograd and differences")


def check(prog, mode, rng):
    """Check one program in one mode; returns 'no oracle' when that was impossible."""
    c = Checker(prog, rng)
    with np.errstate(all="ignore"):
        if mode == "argnums":
            return c.grad(tuple(range(c.n))[::-1]) if c.n > 1 else c.grad((0,))
        if mode == "float32":
            return check_float32(prog, rng)
        return getattr(c, mode)()


def check_float32(prog, rng):
    """float32 in, float32 derivatives out, and the same numbers to float32 precision
    as the float64 oracle (autograd, or central differences where they disagree)."""
    c = Checker(prog, rng)
    xs64 = [np.asarray(x, dtype=np.float64) for x in prog.inputs]

    def expect(mode, what, got, x, fun_ag, fun_np, a, reduce=lambda jac: jac):
        c.check_dtype(f"float32 {mode}", got, x)
        want = reduce(numeric_or_ag(fun_ag, fun_np, xs64, a))
        if not close(got, want, 2e-3) and not close(
                got, reduce(numeric_jacobian(fun_np, xs64, a)), 2e-3):
            c.fail(f"float32 {mode}", what, got, want, "the float64 oracle")

    for a in range(c.n):
        expect("grad", f"argument {a}", mg.grad(c.scalar(MG), a)(*c.xs), c.xs[a],
               c.scalar(AG), c.scalar(NP), a)
        for op in ("jacrev", "jacfwd"):
            expect(op, f"argument {a}", getattr(mg, op)(c.f_mg, a)(*c.xs), c.xs[a],
                   c.f_ag, c.f_np, a)
    out, f_vjp = mg.vjp(c.f_mg, *c.xs)
    ct = np.ones(np.shape(out), dtype=np.result_type(out))
    for a, g in enumerate(f_vjp(ct)):
        expect("vjp", f"argument {a}", g, c.xs[a], c.f_ag, c.f_np, a,
               lambda jac: np.tensordot(ct, jac, axes=np.ndim(out)))
    for a in range(c.n):
        ts = [np.zeros(np.shape(x), dtype=np.result_type(x)) for x in c.xs]
        ts[a] = np.ones(np.shape(c.xs[a]), dtype=np.result_type(c.xs[a]))
        out, t_out = mg.jvp(c.f_mg, c.xs, ts)
        expect("jvp", f"the tangent of argument {a}", t_out, out, c.f_ag, c.f_np, a,
               lambda jac: np.broadcast_to(np.tensordot(jac, ts[a], axes=np.ndim(c.xs[a])),
                                           np.shape(out)))


def numeric_or_ag(fun_ag, fun_np, xs, a):
    try:
        return np.asarray(autograd.jacobian(fun_ag, a)(*xs), float)
    except Exception:                               # noqa: BLE001
        return numeric_jacobian(fun_np, xs, a)


def draw(seed, mode):
    """The program that `seed` gives for `mode` (second order: smaller programs)."""
    rng = np.random.default_rng(seed)
    second = mode in ("hessian", "gradgrad", "fwdrev")
    dtype = np.float32 if mode == "float32" else np.float64
    n_inputs = int(rng.integers(1, 4))
    n_steps = int(rng.integers(1, 4 if second else 7))
    gen = Gen(rng, n_inputs=n_inputs, n_steps=n_steps, dtype=dtype, second_order=second)
    return gen.program(), rng
