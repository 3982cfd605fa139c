"""One training step of an MLP: minigrad vs hand-written numpy backprop vs HIPS autograd.

The network is the one of the lectures at full size: float64, a batch of 256 inputs of
784 features, a tanh hidden layer of 256 units, 10 linear outputs, squared error. A step
is: loss and all four gradients, then a gradient-descent update. The hand-written
version is the floor -- the same matrix products with no tracing at all -- so the ratio
minigrad / numpy is the price of not writing the backward pass by hand.

    python benchmarks/mlp_step.py [--repeats N]
"""
import _timing   # first: when run as a script, it must set the BLAS threads before numpy loads

if __name__ == "__main__":
    _timing.single_thread_blas()


import autograd
import autograd.numpy as anp
import numpy as np

import minigrad as mg
import minigrad.numpy as mnp

GOAL = 1.10          # minigrad step time / hand-written numpy step time
LEARNING_RATE = 0.1


def make_problem(batch=256, n_in=784, n_hidden=256, n_out=10, seed=0):
    """Random data and Xavier-scaled weights: params (W1, b1, W2, b2), X, Y."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, n_in))
    Y = rng.standard_normal((batch, n_out))
    params = (rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in),
              np.zeros(n_hidden),
              rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden),
              np.zeros(n_out))
    return params, X, Y


def loss_minigrad(W1, b1, W2, b2, X, Y):
    hidden = mnp.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return 0.5 * mnp.sum((out - Y) ** 2) / X.shape[0]


def loss_autograd(W1, b1, W2, b2, X, Y):
    hidden = anp.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return 0.5 * anp.sum((out - Y) ** 2) / X.shape[0]


def loss_and_grads_numpy(W1, b1, W2, b2, X, Y):
    """Forward and backward pass written out by hand."""
    hidden = np.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    diff = out - Y
    loss = 0.5 * np.sum(diff ** 2) / X.shape[0]
    d_out = diff / X.shape[0]
    d_pre = (d_out @ W2.T) * (1.0 - hidden * hidden)
    return loss, (X.T @ d_pre, d_pre.sum(axis=0), hidden.T @ d_out, d_out.sum(axis=0))


_minigrad_vg = mg.value_and_grad(loss_minigrad, argnums=(0, 1, 2, 3))
_autograd_vg = autograd.value_and_grad(loss_autograd, argnum=(0, 1, 2, 3))

LOSS_AND_GRADS = {
    "minigrad": lambda params, X, Y: _minigrad_vg(*params, X, Y),
    "numpy": lambda params, X, Y: loss_and_grads_numpy(*params, X, Y),
    "autograd": lambda params, X, Y: _autograd_vg(*params, X, Y),
}


def step(loss_and_grads, params, X, Y):
    """One gradient-descent step; returns the loss and the new parameters."""
    loss, grads = loss_and_grads(params, X, Y)
    return loss, tuple(p - LEARNING_RATE * g for p, g in zip(params, grads))


def check_agreement(params, X, Y):
    """The three contestants must compute the same loss and gradients (else timing them
    means nothing). Returns the largest relative difference from the numpy version."""
    ref_loss, ref_grads = LOSS_AND_GRADS["numpy"](params, X, Y)
    worst = 0.0
    for name in ("minigrad", "autograd"):
        loss, grads = LOSS_AND_GRADS[name](params, X, Y)
        worst = max(worst, mg.rel_error(loss, ref_loss),
                    *(mg.rel_error(g, r) for g, r in zip(grads, ref_grads)))
    return worst


def run(repeats=40, clock=None, **sizes):
    params, X, Y = make_problem(**sizes)
    disagreement = check_agreement(params, X, Y)
    contestants = {name: (lambda f=f: step(f, params, X, Y))
                   for name, f in LOSS_AND_GRADS.items()}
    times = _timing.interleaved(contestants, repeats=repeats, clock=clock)
    return {
        "times": {name: _timing.median(ts) for name, ts in times.items()},
        "minigrad/numpy": _timing.paired_ratio(times, "minigrad", "numpy"),
        "minigrad/autograd": _timing.paired_ratio(times, "minigrad", "autograd"),
        "goal": GOAL,
        "disagreement": disagreement,
    }


def report(result):
    lines = ["MLP training step (float64, batch 256, 784-256-10, tanh, squared error)"]
    for name, seconds in result["times"].items():
        lines.append(f"  {name:<9} {_timing.format_seconds(seconds):>10} per step")
    ratio = result["minigrad/numpy"]
    lines.append(f"  minigrad / numpy    {ratio:.3f}   goal <= {GOAL:.2f}   "
                 f"{_timing.verdict(ratio, GOAL)}")
    lines.append(f"  minigrad / autograd {result['minigrad/autograd']:.3f}")
    lines.append(f"  gradients agree to  {result['disagreement']:.1e} (relative)")
    return "\n".join(lines)


def main(argv=None):
    _timing.command_line(run, report, __doc__, argv, repeats=40)


if __name__ == "__main__":
    main()
