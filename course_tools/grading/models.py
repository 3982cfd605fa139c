"""Problem sets 2 and 4: gradients of whole models, and training on fresh data."""

import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package (see __init__).
__builtins__ = dict(vars(_builtins_module))

from ._core import (  # noqa: E402
    GradingError, _ATOL, _RTOL, _Rng, _add_reduce, _all_finite,
    _array, _as_array, _as_ref, _call_student, _copy, _cos,
    _directional, _dot, _empty, _exp, _explain_shape, _explain_values,
    _floats, _fsum, _log1p, _math, _matmul, _norm,
    _seed, _shape_str, _sin, _zeros,
)
from .ops import (  # noqa: E402
    _linear, _sigmoid,
)

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
            raise GradingError(f"{where}: the loss is {loss[0] if len(loss) == 1 else loss}; "
                               f"the mean logistic loss is "
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
