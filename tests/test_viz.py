"""Unit tests of minigrad.viz: the figures are built from the right data, and moving a
slider changes what is drawn."""
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from minigrad import viz

A = np.array([1.0, 10.0])          # an elongated quadratic bowl: L(w) = (w1^2 + 10 w2^2) / 2


def bowl(w):
    return 0.5 * (A[0] * w[0] ** 2 + A[1] * w[1] ** 2)


def bowl_grad(w):
    return A * np.asarray(w)


W0 = np.array([-2.5, 1.5])
PNG = b"\x89PNG"


# --- time_call -----------------------------------------------------------------------------

def test_time_call_measures_the_call():
    t = viz.time_call(time.sleep, 0.02, repeat=2)
    assert 0.02 <= t < 0.2


def test_time_call_keeps_the_best_run():
    calls = []

    def slow_first():
        calls.append(None)
        time.sleep(0.1 if len(calls) == 1 else 0.001)

    t = viz.time_call(slow_first, repeat=3)
    assert len(calls) == 3
    assert t < 0.05


def test_time_call_divides_by_number():
    t = viz.time_call(time.sleep, 0.005, repeat=1, number=4)
    assert 0.005 <= t < 0.05


def test_time_call_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeat"):
        viz.time_call(len, [], repeat=0)


# --- plot_cost -----------------------------------------------------------------------------

def test_plot_cost_draws_one_line_per_series():
    sizes = [10, 100, 1000]
    fig = viz.plot_cost(sizes, {"fast": [1e-5, 1e-4, 1e-3], "slow": [1e-4, 1e-2, 1.0]},
                        xlabel="n", title="cost")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["fast", "slow"]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), sizes)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [1e-4, 1e-2, 1.0])
    assert all(line.get_marker() == "o" for line in ax.lines)
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlabel() == "n" and ax.get_ylabel() == "time [s]" and ax.get_title() == "cost"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fast", "slow"]


def test_plot_cost_linear_axes_and_given_axes():
    fig0 = viz.plot_cost([1, 2], {"a": [1, 2]}, xlabel="n")
    ax = fig0.axes[0]
    fig = viz.plot_cost([1, 2, 3], {"b": [3, 2, 1]}, xlabel="m", ylabel="bytes",
                        loglog=False, ax=ax)
    assert fig is fig0
    assert ax.get_xscale() == "linear"
    assert ax.get_ylabel() == "bytes"


def test_plot_cost_says_when_a_series_has_the_wrong_length():
    with pytest.raises(ValueError, match="one value per size"):
        viz.plot_cost([1, 2, 3], {"a": [1, 2]}, xlabel="n")


# --- gradient descent ----------------------------------------------------------------------

def test_descent_path_follows_the_update_rule():
    lr, steps = 0.05, 12
    path = viz.descent_path(bowl_grad, W0, lr, steps)
    assert path.shape == (steps + 1, 2)
    k = np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(path, W0 * (1 - lr * A) ** k)


def test_descent_path_stops_when_it_diverges():
    path = viz.descent_path(bowl_grad, W0, 0.5, 1000)   # 1 - 0.5 * 10 = -4: diverges
    assert len(path) < 30
    assert np.linalg.norm(path[-1]) > 1e6


def test_plot_descent_draws_a_path_per_learning_rate():
    lrs = [0.02, 0.1, 0.19]
    fig = viz.plot_descent(bowl, bowl_grad, W0, lrs, steps=20)
    ax = fig.axes[0]
    paths = ax.lines[-len(lrs):]
    for lr, line in zip(lrs, paths):
        expected = viz.descent_path(bowl_grad, W0, lr, 20)
        np.testing.assert_allclose(line.get_xdata(), expected[:, 0])
        np.testing.assert_allclose(line.get_ydata(), expected[:, 1])
    assert ax.collections, "the loss contours are missing"


def test_loss_on_grid_falls_back_to_point_by_point():
    def scalar_only(w):
        return float(w[0]) ** 2 + float(w[1])   # float() refuses a grid

    X, Y, Z = viz._loss_on_grid(scalar_only, np.array([0.0, 1.0, 2.0]), np.array([5.0, 7.0]))
    np.testing.assert_allclose(Z, X ** 2 + Y)


def test_descent_widget_slider_redraws_the_path():
    box = viz.descent_widget(bowl, bowl_grad, W0, lr=0.02, steps=15)
    line = box.figure.axes[0].lines[-1]
    before = np.array(line.get_xydata())
    image_before = bytes(box.image.value)
    assert image_before.startswith(PNG)
    np.testing.assert_allclose(box.path, viz.descent_path(bowl_grad, W0, 0.02, 15))

    box.slider.value = 0.19
    after = np.array(line.get_xydata())
    expected = viz.descent_path(bowl_grad, W0, 0.19, 15)
    np.testing.assert_allclose(after, expected)
    np.testing.assert_allclose(box.path, expected)
    assert not np.allclose(before, after)
    assert "0.19" in line.get_label()
    assert bytes(box.image.value).startswith(PNG) and bytes(box.image.value) != image_before


# --- finite differences --------------------------------------------------------------------

def _reference_slopes(ax):
    slopes = {}
    for line in ax.lines:
        if line.get_label().startswith("slope"):
            x, y = np.log10(line.get_xdata()), np.log10(line.get_ydata())
            slopes[line.get_label()] = (y[-1] - y[0]) / (x[-1] - x[0])
    return slopes


def test_step_size_error_plot_shows_the_errors_and_the_guides():
    from minigrad.numerical import step_size_errors

    hs = np.logspace(-14, 0, 43)
    fig = viz.plot_step_size_errors(np.sin, np.cos, 1.0, hs)
    ax = fig.axes[0]
    expected = step_size_errors(np.sin, np.cos, 1.0, hs)
    for kind in ("forward", "backward", "central"):
        (line,) = [ln for ln in ax.lines if ln.get_label() == kind]
        np.testing.assert_allclose(line.get_ydata(), expected[kind])
    slopes = _reference_slopes(ax)
    assert slopes == pytest.approx({"slope 1": 1.0, "slope 2": 2.0})
    verticals = sorted(ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == ":")
    eps = np.finfo(float).eps
    assert verticals == pytest.approx([eps ** 0.5, eps ** (1 / 3)])
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")


def test_best_steps_sit_near_the_marked_ones():
    hs = np.logspace(-15, 0, 121)
    errors = viz.plot_step_size_errors(np.exp, np.exp, 0.5, hs).errors
    eps = np.finfo(float).eps
    best_forward = hs[np.argmin(errors["forward"])]
    best_central = hs[np.argmin(errors["central"])]
    assert abs(np.log10(best_forward / eps ** 0.5)) < 1.5
    assert abs(np.log10(best_central / eps ** (1 / 3))) < 1.5


def test_step_size_widget_slider_moves_the_cursor_and_the_secants():
    box = viz.step_size_widget(np.sin, np.cos, 1.0, log10_h=-1)
    left, right = box.figure.axes
    cursor = [ln for ln in right.lines if ln.get_color() == "crimson"][0]
    assert cursor.get_xdata()[0] == pytest.approx(0.1)
    central = [ln for ln in left.lines if ln.get_label() == "central"][0]
    slope_before = np.polyfit(central.get_xdata(), central.get_ydata(), 1)[0]
    image_before = bytes(box.image.value)
    assert slope_before == pytest.approx((np.sin(1.1) - np.sin(0.9)) / 0.2)

    box.slider.value = -3
    assert cursor.get_xdata()[0] == pytest.approx(1e-3)
    h = 1e-3
    assert box.estimates["forward"] == pytest.approx((np.sin(1 + h) - np.sin(1)) / h, rel=1e-12)
    assert box.estimates["central"] == pytest.approx((np.sin(1 + h) - np.sin(1 - h)) / (2 * h),
                                                     rel=1e-12)
    slope_after = np.polyfit(central.get_xdata(), central.get_ydata(), 1)[0]
    assert slope_after != pytest.approx(slope_before, rel=1e-9)
    assert "1.0e-03" in left.texts[-1].get_text()
    assert bytes(box.image.value).startswith(PNG) and bytes(box.image.value) != image_before


def test_gradient_field_arrows_are_the_gradient():
    fig = viz.plot_gradient_field(bowl, bowl_grad, xlim=(-1, 1), ylim=(-2, 2), n=5)
    quiver = fig.axes[0].collections[-1]
    positions = quiver.get_offsets()
    assert len(positions) == 25
    expected = np.array([bowl_grad(p) for p in positions])
    np.testing.assert_allclose(quiver.U.ravel(), expected[:, 0])
    np.testing.assert_allclose(quiver.V.ravel(), expected[:, 1])


# --- plot_matricized_jacobian ---------------------------------------------------------------

def test_matricized_jacobian_is_block_diagonal_with_one_based_labels():
    m, n = 3, 4
    x = np.array([1.0, -2.0, 0.5, 3.0])
    J = np.einsum("ik,l->ikl", np.eye(m), x)          # dy_i/dW_kl for y = W x
    fig = viz.plot_matricized_jacobian(J)
    assert isinstance(fig, Figure)
    assert fig.matrix.shape == (m, m * n)
    np.testing.assert_array_equal(fig.matrix[1, n:2 * n], x)
    assert np.count_nonzero(fig.matrix) == m * n
    ax = fig.axes[0]
    image = ax.images[0].get_array()
    assert image.mask.sum() == m * m * n - m * n       # zeros are masked (drawn white)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "$W_{11}$" and labels[-1] == "$W_{34}$"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["$y_{1}$", "$y_{2}$", "$y_{3}$"]
    assert "12 of 36" in ax.get_title()


def test_matricized_jacobian_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\(m, m, n\)"):
        viz.plot_matricized_jacobian(np.zeros((3, 4)))


def test_plots_carry_titles():
    assert viz.plot_descent(bowl, bowl_grad, W0, [0.1], steps=3).axes[0].get_title()
    assert viz.plot_gradient_field(bowl, bowl_grad, n=3).axes[0].get_title()
    assert viz.plot_descent(bowl, bowl_grad, W0, [0.1], steps=3,
                            title=None).axes[0].get_title() == ""


# --- check_answer ---------------------------------------------------------------------------

def verdict(capsys, *args, **kw):
    assert viz.check_answer(*args, **kw) is None    # a self-check cell shows only the message
    return capsys.readouterr().out


def test_check_answer_says_what_is_missing(capsys):
    assert "Not done yet: fill in my_grad above" in verdict(capsys, None, [1.0], name="my_grad")
    assert "Not done yet" in verdict(capsys, (1.0, None), [1.0, 2.0])


def test_check_answer_reports_the_shape_before_the_numbers(capsys):
    out = verdict(capsys, np.zeros((3, 2)), np.zeros((2, 3)), name="dW", shape_hint="shaped like W")
    assert "dW has shape (3, 2), expected (2, 3): shaped like W" in out
    assert "relative error" not in out


def test_check_answer_judges_by_relative_error(capsys):
    ref = np.array([1.0, -2.0, 3.0])
    assert verdict(capsys, ref * (1 + 1e-13), ref).strip().endswith("correct")
    out = verdict(capsys, 2 * ref, ref, hint="off by a factor?")
    assert "not yet: off by a factor?" in out and "3.3e-01" in out
    assert verdict(capsys, ref * (1 + 1e-6), ref, tol=1e-5).strip().endswith("correct")
    assert "not yet" in verdict(capsys, ref * (1 + 1e-6), ref)
