"""Shared test settings: a non-interactive matplotlib backend and a seeded generator."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

SHAPES = [(), (4,), (3, 4)]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
