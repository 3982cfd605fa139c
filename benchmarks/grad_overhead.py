"""How much dearer is the gradient than the function?  time(grad f) / time(f), MLP loss.

Reverse mode promises the whole gradient for a small constant times the cost of ``f``:
the backward pass of a matrix product costs one product of the same size for each
operand that needs a gradient. Here the big product ``X @ W1`` needs one (``X`` is data,
not a parameter), so the floor is about 2, and at most 3 in general. The hand-written
numpy backprop (forward and backward) is timed beside it as that floor; what minigrad
adds on top is its bookkeeping (boxes, nodes, the backward walk).

``f`` is the same function minigrad differentiates, called on plain arrays (no tracing).

    python benchmarks/grad_overhead.py [--repeats N]
"""
import _timing   # first: when run as a script, it must set the BLAS threads before numpy loads

if __name__ == "__main__":
    _timing.single_thread_blas()


import minigrad as mg

from mlp_step import loss_and_grads_numpy, loss_minigrad, make_problem

GOAL = 3.0           # time(grad f) / time(f)


def run(repeats=40, clock=None, **sizes):
    params, X, Y = make_problem(**sizes)
    grad_f = mg.grad(loss_minigrad, argnums=(0, 1, 2, 3))
    contestants = {
        "f": lambda: loss_minigrad(*params, X, Y),
        "grad f": lambda: grad_f(*params, X, Y),
        "numpy backprop": lambda: loss_and_grads_numpy(*params, X, Y),
    }
    times = _timing.interleaved(contestants, repeats=repeats, clock=clock)
    return {
        "times": {name: _timing.median(ts) for name, ts in times.items()},
        "grad/f": _timing.paired_ratio(times, "grad f", "f"),
        "numpy backprop/f": _timing.paired_ratio(times, "numpy backprop", "f"),
        "goal": GOAL,
    }


def report(result):
    lines = ["Gradient overhead on the MLP loss (float64, batch 256, 784-256-10)"]
    for name, seconds in result["times"].items():
        lines.append(f"  {name:<15} {_timing.format_seconds(seconds):>10}")
    ratio = result["grad/f"]
    lines.append(f"  grad f / f            {ratio:.2f}   goal <= {GOAL:.1f}   "
                 f"{_timing.verdict(ratio, GOAL)}")
    lines.append(f"  numpy backprop / f    {result['numpy backprop/f']:.2f}   (the floor)")
    return "\n".join(lines)


def main(argv=None):
    _timing.command_line(run, report, __doc__, argv, repeats=40)


if __name__ == "__main__":
    main()
