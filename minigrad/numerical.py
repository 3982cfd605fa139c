"""Finite differences: derivatives from function values alone.

These tools know nothing about tracing. They only evaluate ``f`` at nearby points,
which is why they are the reference every analytic rule is checked against, and why
they are slow (one or two evaluations of ``f`` per input entry) and inexact.

Two errors compete in every finite difference, and the lectures plot both:

* **truncation error** -- the Taylor terms the formula drops. The forward difference
  ``(f(x+h) - f(x)) / h`` equals ``f'(x) + h f''(x)/2 + ...``, so its error shrinks like
  ``h`` (first order). In the central difference ``(f(x+h) - f(x-h)) / 2h`` the even
  terms of the two Taylor series cancel, leaving ``f'(x) + h**2 f'''(x)/6 + ...``:
  second order, so halving ``h`` quarters the error.
* **round-off error** -- ``f(x+h)`` and ``f(x)`` are each known only to about
  ``eps * |f|`` (``eps`` ~ 2.2e-16 in float64). Their difference keeps that absolute
  error while the division by ``h`` magnifies it: about ``eps * |f| / h``, which *grows*
  as ``h`` shrinks.

The best step balances the two. For a one-sided difference ``h |f''| / 2 = eps |f| / h``
gives ``h ~ sqrt(eps)`` ~ 1e-8 and an error ~ 1e-8; for the central difference
``h**2 |f'''| / 6 = eps |f| / h`` gives ``h ~ eps**(1/3)`` ~ 6e-6 and an error ~ 1e-11.
That is why the default step here is ``1e-6`` and why gradient checkers use central
differences.

Everything is computed in float64: in float32 (``eps`` ~ 1e-7) the best central error
is only ~ 1e-5, too coarse to tell a right rule from one off by 0.1%.
"""

import numpy as np

__all__ = [
    "forward_difference",
    "backward_difference",
    "central_difference",
    "directional_derivative",
    "numerical_gradient",
    "numerical_jacobian",
    "rel_error",
    "step_size_errors",
    "convergence_order",
]

KINDS = ("forward", "backward", "central")


# ---------------------------------------------------------------- input checks

def _as_float(x, what="x"):
    """Return ``x`` as a float64 array (a copy, so ``f`` can never modify the caller's).

    Integer and boolean inputs are converted rather than refused: stepping an integer
    array in place would silently truncate ``x + h`` back to ``x``, the classic bug of
    hand-written gradient checks. Complex and non-numeric inputs are refused.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what} must be a real number or array of real numbers, "
                        f"got {type(x).__name__} with dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what} is complex ({arr.dtype}); finite differences here are "
                        "for real inputs only")
    arr = np.array(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} contains NaN or inf; a derivative there is undefined")
    return arr


def _check_step(h):
    if not np.isscalar(h) or not np.isreal(h) or not np.isfinite(h) or h <= 0:
        raise ValueError(f"step h must be a positive finite number, got {h!r}")
    return float(h)


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"unknown difference kind {kind!r}; choose one of {KINDS}")
    return kind


def _eval(f, x):
    """Evaluate ``f`` at ``x`` and return a float64 array."""
    out = np.asarray(f(x))
    if np.issubdtype(out.dtype, np.complexfloating):
        raise TypeError(f"f returned a complex value ({out.dtype}); expected real output")
    return out.astype(np.float64, copy=False)


def _difference(f, x, step, h, kind):
    """The three difference quotients of ``f`` at array ``x`` along ``step`` (= h * direction)."""
    if kind == "forward":
        return (_eval(f, x + step) - _eval(f, x)) / h
    if kind == "backward":
        return (_eval(f, x) - _eval(f, x - step)) / h
    return (_eval(f, x + step) - _eval(f, x - step)) / (2.0 * h)


# ---------------------------------------------------------------- scalar derivatives

def forward_difference(f, x, h=1e-6):
    """``(f(x + h) - f(x)) / h``: first-order accurate, error ~ ``h |f''| / 2``.

    ``x`` is a number. ``f`` may return an array; the result is then the derivative of
    each entry. ``x`` may also be an array when ``f`` acts entry by entry (``np.sin`` on
    a grid of points): every point is stepped at once, which is only the derivative at
    each point because no output entry depends on another input entry. For functions
    that mix entries use :func:`numerical_gradient` or :func:`numerical_jacobian`.
    """
    h = _check_step(h)
    return _difference(f, _as_float(x), h, h, "forward")


def backward_difference(f, x, h=1e-6):
    """``(f(x) - f(x - h)) / h``: the mirror image of the forward difference.

    Also first order, with the truncation error of the opposite sign
    (``-h f''(x)/2``); averaging the two gives the central difference. Same conventions
    for ``x`` and ``f`` as :func:`forward_difference`.
    """
    h = _check_step(h)
    return _difference(f, _as_float(x), h, h, "backward")


def central_difference(f, x, h=1e-6):
    """``(f(x + h) - f(x - h)) / 2h``: second-order accurate, error ~ ``h**2 |f'''| / 6``.

    Symmetric steps cancel the ``h f''`` term, so for the same two evaluations of ``f``
    this is far more accurate than a one-sided difference; its best step is near
    ``eps**(1/3)`` ~ 6e-6. Same conventions for ``x`` and ``f`` as
    :func:`forward_difference`.
    """
    h = _check_step(h)
    return _difference(f, _as_float(x), h, h, "central")


# ---------------------------------------------------------------- array derivatives

def directional_derivative(f, x, v, h=1e-6, kind="central"):
    """``J v``: how ``f(x)`` changes as ``x`` moves along ``v``, from two evaluations of ``f``.

    This is what a JVP computes analytically, so it is the cheap way to check one: the
    cost does not depend on the size of ``x``. The result has the shape of ``f(x)``.

    The step taken is ``x +- t * v`` with ``t = h / max|v|``, so that no entry of ``x``
    moves by more than ``h``: the difference then has the accuracy of a one-entry
    difference with step ``h`` whatever the scale of ``v``. The quotient is divided by
    ``t``, so the result is linear in ``v`` (doubling ``v`` doubles it).
    """
    _check_kind(kind)
    h = _check_step(h)
    x = _as_float(x)
    v = _as_float(v, "direction v")
    if v.shape != x.shape:
        raise ValueError(f"direction v has shape {v.shape} but x has shape {x.shape}; "
                         "they must match")
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    if scale == 0.0:
        return np.zeros_like(_eval(f, x))
    t = h / scale
    return _difference(f, x, t * v, t, kind)


def numerical_jacobian(f, x, h=1e-6, kind="central"):
    """All partial derivatives ``d f(x)[i] / d x[j]``, shaped ``f(x).shape + x.shape``.

    One difference per entry of ``x`` (two evaluations of ``f`` each for the central
    kind): fine for the small arrays of a lecture or a test, hopeless for a network's
    weights -- which is the point of reverse mode. Entry ``[i..., j...]`` is the slope of
    output entry ``i`` along input entry ``j``, the layout ``mg.jacfwd`` and
    ``mg.jacrev`` use.
    """
    _check_kind(kind)
    h = _check_step(h)
    x = _as_float(x)
    out_shape = _eval(f, x).shape
    columns = np.empty((x.size,) + out_shape)
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = h
        columns[j] = _difference(f, x, step.reshape(x.shape), h, kind)
    # columns is indexed [input, output...]; move the input axis last, then unflatten it.
    jac = np.moveaxis(columns, 0, -1)
    return jac.reshape(out_shape + x.shape)


def numerical_gradient(f, x, h=1e-6, kind="central"):
    """The gradient of a scalar-valued ``f``, shaped like ``x``.

    A gradient is only defined for a scalar output: for a vector output ask for the
    Jacobian (:func:`numerical_jacobian`) or for a vector-Jacobian product by taking the
    gradient of ``np.vdot(v, f(x))``.
    """
    _check_kind(kind)
    h = _check_step(h)
    x = _as_float(x)
    out = _eval(f, x)
    if out.shape != ():
        raise ValueError(f"numerical_gradient needs f to return a scalar, but it returned "
                         f"shape {out.shape}; use numerical_jacobian for a vector output")
    return numerical_jacobian(f, x, h, kind)


# ---------------------------------------------------------------- comparing results

def rel_error(a, b):
    """``max |a - b| / max(1e-8, |a| + |b|)``, entry by entry: the usual gradient-check score.

    Dividing by ``|a| + |b|`` makes the score scale free (1e-7 means "seven digits
    agree" whether the gradient is 1e3 or 1e-3); the floor of 1e-8 keeps entries where
    both are zero from dividing by zero. Rough reading in float64 with central
    differences: below 1e-7 right, above 1e-4 almost surely wrong. Shapes must match
    exactly: broadcasting here would hide a gradient of the wrong shape.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {a.shape} and "
                         f"{b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def step_size_errors(f, dfdx, x, hs, kinds=("forward", "backward", "central")):
    """Absolute error of each difference formula at each step size in ``hs``.

    ``dfdx`` is the exact derivative, either a function (called at ``x``) or its value.
    Returns ``{kind: errors}`` with ``errors[k]`` the largest absolute error (over the
    output entries) for step ``hs[k]``. On a log-log plot the forward and backward
    errors fall with slope 1 and the central one with slope 2 as ``h`` shrinks, until
    round-off takes over and every curve turns up with slope -1.
    """
    for kind in kinds:
        _check_kind(kind)
    hs = np.asarray(hs, dtype=np.float64)
    if hs.ndim != 1 or hs.size == 0:
        raise ValueError("hs must be a non-empty 1-D sequence of step sizes")
    x = _as_float(x)
    exact = np.asarray(dfdx(x) if callable(dfdx) else dfdx, dtype=np.float64)
    errors = {}
    for kind in kinds:
        errs = [np.max(np.abs(_difference(f, x, _check_step(h), h, kind) - exact))
                for h in hs]
        errors[kind] = np.array(errs)
    return errors


def convergence_order(hs, errors):
    """Slope of ``log(error)`` against ``log(h)``: the observed order of accuracy.

    Fit it over step sizes where truncation dominates (not so small that round-off
    shows): about 1 for forward and backward differences, about 2 for central ones.
    """
    hs = np.asarray(hs, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    if hs.shape != errors.shape or hs.ndim != 1 or hs.size < 2:
        raise ValueError("hs and errors must be 1-D sequences of the same length (>= 2)")
    if np.any(hs <= 0) or np.any(errors <= 0):
        raise ValueError("step sizes and errors must be positive to take logarithms")
    slope, _ = np.polyfit(np.log(hs), np.log(errors), 1)
    return float(slope)
