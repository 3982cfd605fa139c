"""Plots, sliders and exercise self-checks the lectures share.

Every function here builds its figure with the object-oriented matplotlib API
(``Figure``/``Axes``) and returns it, so a test can inspect what was drawn, and a
notebook shows it by leaving it as the last expression of a cell. Widgets are
returned too, already wired, so a test can move a slider and look at the state
it changed.
"""
import io
import timeit

import numpy as np
import matplotlib.pyplot as plt


def time_call(fn, *args, repeat=5, number=1):
    """Best wall time in seconds of one ``fn(*args)`` call.

    The best of several runs is the least disturbed by other processes; the
    mean is not, on a shared machine.
    """
    if repeat < 1 or number < 1:
        raise ValueError(f"repeat and number must be >= 1, got repeat={repeat}, number={number}")
    timer = timeit.Timer(lambda: fn(*args))
    return min(timer.repeat(repeat=repeat, number=number)) / number


def _new_axes(ax, figsize=(5.5, 3.8)):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    plt.close(fig)  # the caller displays it; keep pyplot from showing it twice
    return fig, ax


def plot_cost(sizes, series, *, xlabel, ylabel="time [s]", title=None, loglog=True, ax=None):
    """Cost against problem size, one line with markers per entry of ``series``.

    ``series`` maps a label to a list of values, one per entry of ``sizes``.
    Returns the matplotlib Figure.
    """
    sizes = np.asarray(sizes)
    fig, ax = _new_axes(ax)
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if values.shape != sizes.shape:
            raise ValueError(
                f"series {label!r} has {values.size} values but there are {sizes.size} sizes; "
                "give one value per size")
        ax.plot(sizes, values, marker="o", label=label)
    scale = "log" if loglog else "linear"
    ax.set_xscale(scale)
    ax.set_yscale(scale)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title, fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


# --- gradient descent on a 2-D loss -------------------------------------------------------

def descent_path(grad, w0, lr, steps, *, blowup=1e6):
    """The iterates of ``w := w - lr * grad(w)``, starting at ``w0``, as a (k, 2) array.

    Stops early once the iterate leaves the ball of radius ``blowup`` (a learning rate
    that is too large makes the iterates grow geometrically; there is nothing more to
    see after that, only overflow warnings).
    """
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for _ in range(steps):
        w = w - lr * np.asarray(grad(w), dtype=float)
        path.append(w.copy())
        if not np.all(np.isfinite(w)) or np.linalg.norm(w) > blowup:
            break
    return np.array(path)


def _loss_on_grid(loss, xs, ys):
    """``loss`` at every point of the grid ``xs`` x ``ys``.

    A loss written with ``w[0]`` and ``w[1]`` and numpy operations evaluates the whole
    grid in one call; any other loss is called point by point.
    """
    X, Y = np.meshgrid(xs, ys)
    try:
        Z = np.asarray(loss(np.stack([X, Y])), dtype=float)
        if Z.shape == X.shape:
            return X, Y, Z
    except Exception:
        pass
    Z = np.array([[float(loss(np.array([x, y]))) for x in xs] for y in ys])
    return X, Y, Z


def plot_descent(loss, grad, w0, lrs, *, steps=30, xlim=(-3, 3), ylim=(-3, 3), ax=None,
                 title="gradient descent on the contours of L"):
    """Contours of a 2-D ``loss`` and one gradient-descent path per learning rate in ``lrs``.

    Returns the Figure; the lines of the paths are ``fig.axes[0].lines``, in the order
    of ``lrs``.
    """
    fig, ax = _new_axes(ax, figsize=(5.0, 4.2))
    xs = np.linspace(*xlim, 121)
    ys = np.linspace(*ylim, 121)
    X, Y, Z = _loss_on_grid(loss, xs, ys)
    levels = np.quantile(Z, np.linspace(0.0, 0.9, 14) ** 2)
    ax.contour(X, Y, Z, levels=np.unique(levels), cmap="viridis", linewidths=0.8)
    ax.plot(*np.asarray(w0, dtype=float), marker="s", color="k", linestyle="none", zorder=3)
    for lr in np.atleast_1d(lrs):
        path = descent_path(grad, w0, lr, steps)
        ax.plot(path[:, 0], path[:, 1], marker="o", markersize=3, linewidth=1.2,
                label=f"$\\alpha$ = {lr:g}: L = {_final_loss(loss, path):.3g}")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    return fig


def _final_loss(loss, path):
    value = float(loss(path[-1]))
    return value if np.isfinite(value) else np.inf


def _png(fig, dpi=90):
    """The figure as PNG bytes, for an ``ipywidgets.Image``.

    Widgets show their figure as an image rather than through an ``Output`` widget:
    an image is plain widget state, so it redraws the same way in JupyterLab, in a
    headless run (where capturing display calls into an ``Output`` widget can stall
    the executor) and in a test.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _figure_image(fig):
    import ipywidgets as widgets
    return widgets.Image(format="png",
                         layout=widgets.Layout(width=f"{fig.get_figwidth() * 90:.0f}px"))


def _wired(box, slider, fig, image, update):
    """Attach ``.slider``, ``.figure`` and ``.image`` to a widget's ``box``, redraw on every
    move of the slider, and draw once now."""
    box.slider, box.figure, box.image = slider, fig, image
    slider.observe(update, names="value")
    update()
    return box


def descent_widget(loss, grad, w0, *, lr=0.05, lr_range=(0.01, 0.3, 0.01), steps=30,
                   xlim=(-3, 3), ylim=(-3, 3)):
    """A learning-rate slider above the descent plot of :func:`plot_descent`.

    Returns an ipywidgets ``VBox``; besides its children it carries ``.slider``,
    ``.figure``, ``.image`` (the figure as shown) and ``.path`` (the iterates for the
    slider's current value), all of which a moved slider updates.
    """
    import ipywidgets as widgets

    lo, hi, step = lr_range
    slider = widgets.FloatSlider(value=lr, min=lo, max=hi, step=step, readout_format=".3f",
                                 description="learning rate", continuous_update=False,
                                 style={"description_width": "initial"})
    fig = plot_descent(loss, grad, w0, [lr], steps=steps, xlim=xlim, ylim=ylim)
    line = fig.axes[0].lines[-1]
    image = _figure_image(fig)
    box = widgets.VBox([slider, image])

    def update(change=None):
        path = descent_path(grad, w0, slider.value, steps)
        line.set_data(path[:, 0], path[:, 1])
        line.set_label(f"$\\alpha$ = {slider.value:g}: L = {_final_loss(loss, path):.3g}")
        fig.axes[0].legend(loc="upper right", fontsize="small")
        box.path = path
        image.value = _png(fig)

    return _wired(box, slider, fig, image, update)


def plot_gradient_field(f, grad, *, xlim=(-2, 2), ylim=(-2, 2), n=13, ax=None,
                        title="contours of f and its gradient (arrows)"):
    """Contours of a scalar ``f`` of two variables with its gradient drawn as arrows.

    ``grad(w)`` is called at each of the ``n`` x ``n`` arrow positions. The arrows cross
    the level sets at right angles and point uphill. Returns the Figure; the arrows are
    ``fig.axes[0].collections[-1]`` (a matplotlib Quiver, with ``.U``/``.V``).
    """
    fig, ax = _new_axes(ax, figsize=(5.0, 4.2))
    X, Y, Z = _loss_on_grid(f, np.linspace(*xlim, 101), np.linspace(*ylim, 101))
    contours = ax.contour(X, Y, Z, levels=15, cmap="viridis", linewidths=0.8)
    ax.clabel(contours, fontsize="x-small")
    px, py = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    g = np.array([np.asarray(grad(np.array([a, b])), dtype=float)
                  for a, b in zip(px.ravel(), py.ravel())])
    ax.quiver(px, py, g[:, 0].reshape(px.shape), g[:, 1].reshape(px.shape), color="crimson",
              angles="xy", width=0.004)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    return fig


# --- finite differences: error against step size ----------------------------------------

EPS = np.finfo(float).eps

_KIND_ORDER = {"forward": 1, "backward": 1, "central": 2}


def plot_step_size_errors(f, dfdx, x, hs=None, *, kinds=("forward", "backward", "central"),
                          ax=None, title="error of finite differences against the step h"):
    """Log-log plot of the error of finite differences of ``f`` at ``x`` against the step h.

    Right of the minimum the truncation error falls like h (one-sided) or h**2 (central);
    left of it, round-off grows like eps/h. Dashed reference lines have slopes 1 and 2,
    dotted verticals mark h = eps**(1/2) and eps**(1/3), the best steps for one-sided and
    central differences. Returns the Figure; ``fig.errors`` holds the plotted errors.
    """
    from .numerical import step_size_errors

    hs = np.logspace(-15, 0, 61) if hs is None else np.asarray(hs, dtype=float)
    errors = step_size_errors(f, dfdx, x, hs, kinds=kinds)
    fig, ax = _new_axes(ax, figsize=(5.5, 4.0))
    for kind in kinds:
        err = np.asarray(errors[kind], dtype=float)
        ax.loglog(hs, np.where(err > 0, err, np.nan), marker=".", label=kind)

    finite = np.concatenate([np.asarray(e, dtype=float) for e in errors.values()])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    ymin, ymax = (finite.min(), finite.max()) if finite.size else (EPS, 1.0)
    h_ref = hs[hs >= 1e-4]
    for order in sorted({_KIND_ORDER.get(k, 1) for k in kinds}):
        # anchor each reference line on the largest-h error of a method of that order
        kind = next(k for k in kinds if _KIND_ORDER.get(k, 1) == order)
        anchor = float(np.asarray(errors[kind])[-1]) / hs[-1] ** order
        if np.isfinite(anchor) and anchor > 0:
            ax.loglog(h_ref, 0.3 * anchor * h_ref ** order, color="gray", linestyle="--",
                      linewidth=1, label=f"slope {order}")
    for power, name in ((1 / 2, "$\\epsilon^{1/2}$"), (1 / 3, "$\\epsilon^{1/3}$")):
        ax.axvline(EPS ** power, color="gray", linestyle=":", linewidth=1)
        ax.annotate(name, (EPS ** power, ymax), xytext=(3, -12), textcoords="offset points",
                    fontsize="small")
    ax.set_ylim(max(ymin / 3, 1e-17), ymax * 3)
    ax.set_xlabel("step size h")
    ax.set_ylabel("|estimate - exact derivative|")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    if title:
        ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    fig.errors = errors
    return fig


def _secant_estimates(f, x, h):
    fx, fp, fm = f(x), f(x + h), f(x - h)
    return {"forward": (fp - fx) / h, "backward": (fx - fm) / h, "central": (fp - fm) / (2 * h)}


def step_size_widget(f, dfdx, x, *, log10_h=-1.0, window=1.5,
                     kinds=("forward", "backward", "central")):
    """A slider over log10(h): the secants of ``f`` at ``x`` on the left, the error plot
    of :func:`plot_step_size_errors` with the current h marked on the right.

    Returns an ipywidgets ``VBox`` carrying ``.slider``, ``.figure``, ``.image`` and
    ``.estimates`` (kind -> finite-difference estimate at the current h); the figure's
    left axes show the estimates and their errors as text.
    """
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=log10_h, min=-15, max=0, step=0.25,
                                 description="log10(h)", continuous_update=False)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    plt.close(fig)
    plot_step_size_errors(f, dfdx, x, kinds=kinds, ax=right, title=None)
    right.set_title("error against the step h; red line: the current h", fontsize="small")
    cursor = right.axvline(10 ** log10_h, color="crimson", linewidth=1.5)

    xs = np.linspace(x - window, x + window, 200)
    left.plot(xs, f(xs), color="k", linewidth=1.5, label="f")
    slope = dfdx(x)
    left.plot(xs, f(x) + slope * (xs - x), color="gray", linestyle="--", label="tangent")
    secants = {kind: left.plot([], [], linewidth=1.2, label=kind)[0] for kind in kinds}
    left.plot([x], [f(x)], "ko")
    left.set_xlim(xs[0], xs[-1])
    left.set_ylim(*_padded(f(xs)))
    left.set_xlabel("x")
    left.set_title("lines through (x, f(x)) with the estimated slopes", fontsize="small")
    left.legend(fontsize="small", loc="upper left")
    info = left.text(0.98, 0.03, "", transform=left.transAxes, ha="right", va="bottom",
                     family="monospace", fontsize="x-small",
                     bbox=dict(facecolor="white", alpha=0.85, edgecolor="0.8"))
    fig.tight_layout()
    image = _figure_image(fig)
    box = widgets.VBox([slider, image])

    def update(change=None):
        h = 10 ** slider.value
        estimates = _secant_estimates(f, x, h)
        for kind, line in secants.items():
            line.set_data(xs, f(x) + estimates[kind] * (xs - x))
        cursor.set_xdata([h, h])
        rows = [f"{k:>8}: {estimates[k]: .10f}  err {abs(estimates[k] - slope):.1e}"
                for k in kinds]
        info.set_text("\n".join([f"h = {h:.1e}", f"   exact: {slope: .10f}"] + rows))
        box.estimates = {k: estimates[k] for k in kinds}
        image.value = _png(fig)

    return _wired(box, slider, fig, image, update)


def _padded(values, pad=0.1):
    lo, hi = float(np.min(values)), float(np.max(values))
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


# --- the Jacobian of a linear layer, matricized ------------------------------------------

def plot_matricized_jacobian(J, *, ax=None, title=None):
    """Heat map of a three-index Jacobian ``J`` of shape (m, m, n) laid out as the
    m x mn matrix of the slides: row i is output y_i, column (j, k) is weight W_jk.

    Zeros are white, other entries coloured by value (red positive, blue negative), and
    the labels count from 1 like the formulas. Returns the Figure; ``fig.matrix`` is the
    m x mn matrix that was drawn.
    """
    J = np.asarray(J, dtype=float)
    if J.ndim != 3 or J.shape[0] != J.shape[1]:
        raise ValueError(f"expected a Jacobian dy/dW of shape (m, m, n), got shape {J.shape}")
    m, _, n = J.shape
    matrix = J.reshape(m, m * n)
    fig, ax = _new_axes(ax, figsize=(min(10.0, 1.2 + 0.42 * m * n), 0.9 + 0.42 * m))
    top = float(np.abs(matrix).max()) or 1.0
    shown = np.ma.masked_equal(matrix, 0.0)
    cmap = plt.get_cmap("coolwarm").with_extremes(bad="white")
    ax.imshow(shown, cmap=cmap, vmin=-top, vmax=top, aspect="equal")
    ax.set_xticks(np.arange(m * n))
    ax.set_xticklabels([f"$W_{{{j + 1}{k + 1}}}$" for j in range(m) for k in range(n)],
                       fontsize="small", rotation=90 if m * n > 16 else 0)
    ax.set_yticks(range(m))
    ax.set_yticklabels([f"$y_{{{i + 1}}}$" for i in range(m)])
    ax.set_xticks(np.arange(-0.5, m * n), minor=True)
    ax.set_yticks(np.arange(-0.5, m), minor=True)
    ax.grid(which="minor", color="0.8", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    for j in range(1, m):                       # one block of columns per row of W
        ax.axvline(j * n - 0.5, color="0.35", linewidth=1.2)
    if title is None:
        title = (f"reshape(dy/dW): {m} x {m * n}, "
                 f"{np.count_nonzero(matrix)} of {matrix.size} entries non-zero (white = 0)")
    ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    fig.matrix = matrix
    return fig


# --- self-checks of the lectures' exercises -----------------------------------------------

def check_answer(mine, reference, *, name="your answer", tol=1e-10, hint=None,
                 shape_hint=None):
    """Compare an exercise's answer with a reference value and print what to do next.

    ``mine`` is None (or holds a None) until the student has written something: the
    message then says so. A wrong shape is reported before any numbers, because it is the
    more useful clue (``shape_hint`` says where to look). Otherwise the relative error (``minigrad.rel_error``) decides,
    against ``tol``; ``hint`` is added to a wrong answer's message. Prints its verdict
    and returns nothing, so that a self-check cell shows the message alone.
    """
    from .numerical import rel_error

    if mine is None or (isinstance(mine, (tuple, list)) and any(m is None for m in mine)):
        print(f"Not done yet: fill in {name} above, then run this cell again.")
        return
    mine_arr = np.asarray(mine, dtype=float)
    ref_arr = np.asarray(reference, dtype=float)
    if mine_arr.shape != ref_arr.shape:
        print(f"{name} has shape {mine_arr.shape}, expected {ref_arr.shape}"
              + (f": {shape_hint}" if shape_hint else "."))
        return
    err = float(rel_error(mine_arr, ref_arr))
    verdict = "correct" if err < tol else "not yet" + (f": {hint}" if hint else "")
    print(f"relative error {err:.1e}: {verdict}")
