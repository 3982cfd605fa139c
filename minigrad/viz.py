"""Plots and sliders the lectures share.

Every function here builds its figure with the object-oriented matplotlib API
(``Figure``/``Axes``) and returns it, so a test can inspect what was drawn, and a
notebook shows it by leaving it as the last expression of a cell. Widgets are
returned too, already wired, so a test can move a slider and look at the state
it changed.
"""
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
    if loglog:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
