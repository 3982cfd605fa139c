"""Shape primitives and indexing: the cotangent goes back into the argument's layout."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

SHAPE_OPS = {
    "reshape": lambda a: mnp.reshape(a, (4, 3)),
    "reshape_method": lambda a: a.reshape(2, 6),
    "transpose": lambda a: mnp.transpose(a),
    "T": lambda a: a.T,
    "transpose_axes": lambda a: mnp.transpose(mnp.reshape(a, (2, 3, 2)), (2, 0, 1)),
    "swapaxes": lambda a: mnp.swapaxes(a, 0, 1),
    "expand_dims": lambda a: mnp.expand_dims(a, 1),
    "squeeze": lambda a: mnp.squeeze(mnp.reshape(a, (3, 1, 4))),
    "ravel": lambda a: mnp.ravel(a),
    "broadcast_to": lambda a: mnp.broadcast_to(a[:1], (5, 4)),
    "flip": lambda a: mnp.flip(a, 1),
    "concatenate": lambda a: mnp.concatenate([a, 2.0 * a[:1]], axis=0),
    "concatenate_axis1": lambda a: mnp.concatenate([a, a ** 2], axis=1),
    "stack": lambda a: mnp.stack([a, mnp.sin(a)], axis=1),
    "int_index": lambda a: a[1],
    "slice": lambda a: a[1:, ::2],
    "negative_step": lambda a: a[::-1, 1],
    "int_array_repeats": lambda a: a[np.array([0, 2, 0, 0])],
    "mask": lambda a: a[np.array([[True, False, True, False]] * 3)],
    "newaxis": lambda a: a[:, None, 1:3],
    "iterate": lambda a: mnp.stack([row * k for k, row in enumerate(a)]),
    "array_of_scalars": lambda a: mnp.array([[a[0, 0], a[1, 2]], [a[2, 3] ** 2, 1.0]]),
    "diag_extract": lambda a: mnp.diag(a, 1),
    "diag_build": lambda a: mnp.diag(a[0], -1),
    "trace": lambda a: mnp.trace(a[:, :3]),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(name, rng):
    mg.check_grads(SHAPE_OPS[name], (rng.standard_normal((3, 4)),), order=2, seed=9)


def test_repeated_index_accumulates():
    g = mg.grad(lambda a: mnp.sum(a[np.array([0, 0, 0, 2])] * np.array([1.0, 2.0, 3.0, 4.0])))
    np.testing.assert_allclose(g(np.zeros(3)), [6.0, 0.0, 4.0])


def test_in_place_assignment_is_a_clear_error():
    def f(a):
        a[0] = 1.0
        return mnp.sum(a)
    with pytest.raises(TypeError, match="in-place assignment"):
        mg.grad(f)(np.ones(3))
