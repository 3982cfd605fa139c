"""Shared test settings: a non-interactive matplotlib backend and a seeded generator."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

SHAPES = [(), (4,), (3, 4)]


def gaussian(x, m, s):
    """The slides' computational graph, written as they write it (plain np.log on traced
    values dispatches to minigrad): c = -log N(x | m, s^2)."""
    t0 = x - m
    t1 = t0 / s
    t2 = np.log(s)
    t3 = t1 ** 2
    t4 = t2 + np.log(2 * np.pi) / 2
    t5 = t3 / 2
    return t4 + t5


@pytest.fixture
def rng():
    return np.random.default_rng(0)
