"""The benchmarks are run by hand; this runs each at a tiny size so that they never rot."""

import pathlib
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
TINY = {"batch": 4, "n_in": 6, "n_hidden": 5, "n_out": 3}


@pytest.fixture(scope="module", autouse=True)
def benchmarks_on_path():
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


def test_mlp_step_contestants_agree_and_are_timed():
    import mlp_step
    result = mlp_step.run(repeats=2, **TINY)
    assert {"minigrad", "numpy", "autograd"} <= set(result["times"])
    assert ("pytorch" in result["times"]) == result["pytorch"]
    assert all(t > 0 for t in result["times"].values())
    assert result["disagreement"] < 1e-10
    assert result["minigrad/numpy"] > 0 and result["minigrad/autograd"] > 0
    assert set(result["step times"]) == {"minigrad", "numpy", "autograd"}
    text = mlp_step.report(result)
    assert "minigrad / numpy" in text and "with the update" in text
    assert ("minigrad / pytorch" in text) == result["pytorch"]
    assert set(result["product times"]) == ({"numpy", "pytorch"} if result["pytorch"]
                                            else {"numpy"})
    assert ("numpy / pytorch" in text) == result["pytorch"]


def test_matrix_products_are_the_networks():
    """The BLAS floor times the products the loss and its gradients need, with the
    network's own arrays: the same results as the four gradients' products."""
    import mlp_step
    params, X, Y = mlp_step.make_problem(**TINY)
    _, (gW1, _, gW2, _) = mlp_step.loss_and_grads_numpy(*params, X, Y)
    for name, call in mlp_step.matrix_products(params, X, Y).items():
        out = [mlp_step._as_numpy(t) for t in call()]
        assert [o.shape for o in out] == [(4, 5), (4, 3), (4, 5), (6, 5), (5, 3)], name
        assert abs(out[3] - gW1).max() < 1e-12 and abs(out[4] - gW2).max() < 1e-12, name


def test_headline_times_loss_and_gradients_only(monkeypatch):
    """The timed call returns the loss and gradients; the update is timed separately."""
    import mlp_step
    params, X, Y = mlp_step.make_problem(**TINY)
    calls = mlp_step.contestants(params, X, Y)
    loss, grads = calls["minigrad"]()
    assert len(grads) == 4 and [g.shape for g in grads] == [p.shape for p in params]
    stepped = []
    monkeypatch.setattr(mlp_step, "step", lambda *a: stepped.append(a))
    for call in calls.values():
        call()
    assert not stepped


def test_graph_size_runs():
    import graph_size
    result = graph_size.run(repeats=2, sizes=(100, 1000))
    assert set(result["per node"]) == {100, 1000}
    assert "per node" in graph_size.report(result)


def test_mlp_step_full_size_gradients_agree():
    # Timing is by hand, but the three contestants must compute the same thing at the
    # size that is timed.
    import mlp_step
    params, X, Y = mlp_step.make_problem(batch=16)
    assert [p.shape for p in params] == [(784, 256), (256,), (256, 10), (10,)]
    assert mlp_step.check_agreement(params, X, Y) < 1e-10


def test_grad_overhead_runs():
    import grad_overhead
    result = grad_overhead.run(repeats=2, **TINY)
    assert result["grad/f"] > 1.0      # a gradient cannot be cheaper than the function
    assert "grad f / f" in grad_overhead.report(result)


def test_op_overhead_runs_and_agrees():
    import op_overhead
    result = op_overhead.run(links=30, repeats=2)
    assert result["ops"] == 60
    assert result["disagreement"] < 1e-12
    assert "minigrad / autograd" in op_overhead.report(result)


def test_deep_chain_does_not_recurse():
    # The chain benchmark's full size must not hit Python's recursion limit.
    import autograd
    import op_overhead

    import minigrad as mg
    links = sys.getrecursionlimit() * 2
    assert mg.grad(op_overhead.chain_minigrad)(0.3, links) == pytest.approx(
        autograd.grad(op_overhead.chain_autograd)(0.3, links), rel=1e-12)


def test_run_all_prints_the_table(capsys):
    import run_all
    run_all.main(["--quick"])
    out = capsys.readouterr().out
    for row in ("MLP loss and gradients: minigrad / hand-written numpy",
                "time(grad f) / time(f)", "per-op overhead", "time per node"):
        assert row in out
    assert "ratios mean nothing" in out


def test_each_timed_call_follows_a_call_of_its_own():
    # A call's time depends on what ran just before it (caches, allocator, collector).
    # With a bare rotation each contestant always followed the same other one; now every
    # timed call is preceded by an untimed call of the same contestant.
    import _timing
    log, ticks = [], iter(range(10_000))
    calls = {name: (lambda name=name: log.append(name)) for name in "abc"}
    clock = lambda: (log.append("clock"), next(ticks))[1]
    times = _timing.interleaved(calls, repeats=6, warmup=0, clock=clock)
    assert all(len(ts) == 6 for ts in times.values())
    # per contestant: an untimed call, the clock, the timed call of the same, the clock
    assert len(log) == 4 * 18
    quads = [log[i:i + 4] for i in range(0, len(log), 4)]
    assert all(q[0] == q[2] != "clock" and q[1] == q[3] == "clock" for q in quads)
    firsts = [quads[3 * r][0] for r in range(6)]
    assert set(firsts) == set("abc")              # who goes first still rotates
