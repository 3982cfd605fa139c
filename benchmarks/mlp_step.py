"""Loss and gradients of an MLP: minigrad vs hand-written numpy vs PyTorch vs HIPS autograd.

The network is the one of the lectures at full size: float64, a batch of 256 inputs of
784 features, a tanh hidden layer of 256 units, 10 linear outputs, squared error.

The headline times exactly one thing: the loss and its four gradients, each contestant
returning them in its own array type. The hand-written version is the floor -- the same
matrix products with no tracing at all -- so minigrad / numpy is the price of not writing
the backward pass by hand. PyTorch (eager, CPU, float64, one thread) and HIPS autograd are
what a user would pick instead; PyTorch is timed when it is installed
(`pip install torch==2.13.0`, the CPU wheel) and left out otherwise.

A training step adds the update `p - lr * g`. It is reported separately, never as the
headline: the update costs each contestant a different amount (its gradients come back
in different memory layouts), which would blur the ratio of the derivative computations.

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


def torch_contestant():
    """PyTorch's loss and gradients, or None when PyTorch is not installed. Its inputs
    are converted to tensors once, outside the timed region."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)

    def prepare(params, X, Y):
        tensors = tuple(torch.tensor(p, dtype=torch.float64, requires_grad=True)
                        for p in params)
        return tensors, torch.tensor(X), torch.tensor(Y)

    def loss_and_grads(tensors, X, Y):
        W1, b1, W2, b2 = tensors
        hidden = torch.tanh(X @ W1 + b1)
        out = hidden @ W2 + b2
        loss = 0.5 * torch.sum((out - Y) ** 2) / X.shape[0]
        return loss, torch.autograd.grad(loss, tensors)
    return prepare, loss_and_grads


def matrix_products(params, X, Y):
    """The five matrix products of the loss and its gradients alone, as zero-argument
    calls: name -> call, for numpy and (when installed) PyTorch. They are most of every
    contestant's time, and no Python-level library can beat the BLAS underneath it: where
    PyTorch's products are faster than numpy's, minigrad / PyTorch cannot drop below
    numpy's products / PyTorch's."""
    W1, b1, W2, b2 = params
    hidden = np.tanh(X @ W1 + b1)
    d_out = (hidden @ W2 + b2 - Y) / X.shape[0]
    d_pre = (d_out @ W2.T) * (1.0 - hidden * hidden)
    arrays = (X, W1, hidden, W2, d_out, d_pre)

    def products(X, W1, hidden, W2, d_out, d_pre):
        return X @ W1, hidden @ W2, d_out @ W2.T, X.T @ d_pre, hidden.T @ d_out
    calls = {"numpy": lambda: products(*arrays)}
    if torch_contestant() is not None:
        import torch
        tensors = tuple(torch.tensor(a) for a in arrays)
        calls["pytorch"] = lambda: products(*tensors)
    return calls


_minigrad_vg = mg.value_and_grad(loss_minigrad, argnums=(0, 1, 2, 3))
_autograd_vg = autograd.value_and_grad(loss_autograd, argnum=(0, 1, 2, 3))

LOSS_AND_GRADS = {
    "minigrad": lambda params, X, Y: _minigrad_vg(*params, X, Y),
    "numpy": lambda params, X, Y: loss_and_grads_numpy(*params, X, Y),
    "autograd": lambda params, X, Y: _autograd_vg(*params, X, Y),
}


def contestants(params, X, Y):
    """name -> (zero-argument loss-and-grads call, its inputs as it takes them)."""
    out = {name: (lambda f=f: f(params, X, Y)) for name, f in LOSS_AND_GRADS.items()}
    torch = torch_contestant()
    if torch is not None:
        prepare, loss_and_grads = torch
        inputs = prepare(params, X, Y)
        out["pytorch"] = lambda: loss_and_grads(*inputs)
    return out


def step(loss_and_grads, params, X, Y):
    """One gradient-descent step; returns the loss and the new parameters."""
    loss, grads = loss_and_grads(params, X, Y)
    return loss, tuple(p - LEARNING_RATE * g for p, g in zip(params, grads))


def _as_numpy(value):
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def check_agreement(params, X, Y):
    """Every contestant must compute the same loss and gradients (else timing them
    means nothing). Returns the largest relative difference from the numpy version."""
    ref_loss, ref_grads = LOSS_AND_GRADS["numpy"](params, X, Y)
    worst = 0.0
    for name, call in contestants(params, X, Y).items():
        loss, grads = call()
        worst = max(worst, mg.rel_error(_as_numpy(loss), ref_loss),
                    *(mg.rel_error(_as_numpy(g), r) for g, r in zip(grads, ref_grads)))
    return worst


def _ratios(times, names):
    return {f"minigrad/{n}": _timing.paired_ratio(times, "minigrad", n)
            for n in names if n != "minigrad"}


def run(repeats=40, clock=None, **sizes):
    params, X, Y = make_problem(**sizes)
    disagreement = check_agreement(params, X, Y)
    calls = contestants(params, X, Y)
    times = _timing.interleaved(calls, repeats=repeats, clock=clock)
    # The variant with the update, for reference (numpy-array contestants only).
    steps = {name: (lambda f=f: step(f, params, X, Y)) for name, f in LOSS_AND_GRADS.items()}
    step_times = _timing.interleaved(steps, repeats=repeats, clock=clock)
    products = matrix_products(params, X, Y)
    product_times = _timing.interleaved(products, repeats=repeats, clock=clock)
    return {
        "times": {name: _timing.median(ts) for name, ts in times.items()},
        **_ratios(times, calls),
        "step times": {name: _timing.median(ts) for name, ts in step_times.items()},
        "step minigrad/numpy": _timing.paired_ratio(step_times, "minigrad", "numpy"),
        "product times": {name: _timing.median(ts) for name, ts in product_times.items()},
        "products numpy/pytorch": (_timing.paired_ratio(product_times, "numpy", "pytorch")
                                   if "pytorch" in products else None),
        "goal": GOAL,
        "disagreement": disagreement,
        "pytorch": "pytorch" in calls,
    }


def report(result):
    lines = ["MLP loss and gradients (float64, batch 256, 784-256-10, tanh, squared error)"]
    for name, seconds in result["times"].items():
        lines.append(f"  {name:<9} {_timing.format_seconds(seconds):>10} per call")
    ratio = result["minigrad/numpy"]
    lines.append(f"  minigrad / numpy    {ratio:.3f}   goal <= {GOAL:.2f}   "
                 f"{_timing.verdict(ratio, GOAL)}")
    if result["pytorch"]:
        lines.append(f"  minigrad / pytorch  {result['minigrad/pytorch']:.3f}")
    else:
        lines.append("  pytorch: not installed (pip install torch==2.13.0), not timed")
    lines.append(f"  minigrad / autograd {result['minigrad/autograd']:.3f}")
    lines.append(f"  gradients agree to  {result['disagreement']:.1e} (relative)")
    lines.append("The same with the update p - lr * g (a training step), for reference:")
    lines.append(f"  minigrad / numpy    {result['step minigrad/numpy']:.3f}")
    lines.append("The five matrix products alone (the BLAS underneath), for reference:")
    for name, seconds in result["product times"].items():
        lines.append(f"  {name:<9} {_timing.format_seconds(seconds):>10} per call")
    if result["products numpy/pytorch"] is not None:
        lines.append(f"  numpy / pytorch     {result['products numpy/pytorch']:.3f}")
    return "\n".join(lines)


def main(argv=None):
    _timing.command_line(run, report, __doc__, argv, repeats=40)


if __name__ == "__main__":
    main()
