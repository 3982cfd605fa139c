"""Products: matmul with every vector/matrix/batch combination, dot, outer, tensordot,
einsum (explicit, implicit, summed-out axes)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)),
                 ((3,), (5, 3, 4))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    mg.check_grads(mnp.matmul, (a, b), order=2, seed=10)
    mg.check_grads(lambda x, y: x @ y, (a, b), order=1, seed=10)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                                    ((2, 2, 3), (4, 3, 2)), ((), (3,))], ids=str)
def test_dot(shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    mg.check_grads(mnp.dot, (a, b), seed=11)


def test_outer(rng):
    mg.check_grads(mnp.outer, (rng.standard_normal(3), rng.standard_normal((2, 2))), seed=12)


@pytest.mark.parametrize("axes,shapes", [
    (0, [(2, 3), (4,)]), (1, [(3, 4), (4, 5)]), (2, [(2, 3, 4), (3, 4, 5)]),
    (([0], [1]), [(3, 4), (2, 3)]), (([1, 0], [0, 2]), [(3, 4, 2), (4, 5, 3)]),
    (([2, 0], [1, 0]), [(3, 4, 2), (3, 2, 5)])], ids=str)
def test_tensordot(axes, shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    mg.check_grads(lambda x, y: mnp.tensordot(x, y, axes=axes), (a, b), order=2, seed=13)


@pytest.mark.parametrize("spec,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),                 # implicit output
    ("ij->", [(2, 3)]),                          # everything summed
    ("ij,j->i", [(2, 3), (3,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,kl->ik", [(2, 3), (4, 5)]),             # axes summed in one operand only
    ("mn,m->n", [(3, 4), (3,)]),
], ids=str)
def test_einsum(spec, shapes, rng):
    ops = [rng.standard_normal(s) for s in shapes]
    mg.check_grads(lambda *a: mnp.einsum(spec, *a), tuple(ops), order=2, seed=14)


def test_einsum_repeated_index_is_the_trace(rng):
    x = rng.standard_normal((3, 3))
    np.testing.assert_allclose(mg.grad(lambda a: mnp.einsum("ii->", a))(x), np.eye(3))
    with pytest.raises(NotImplementedError, match="subscripts as a string"):
        mnp.einsum(x, [0, 0])
