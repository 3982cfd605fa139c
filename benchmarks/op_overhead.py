"""Per-operation overhead: a chain of scalar operations under grad, minigrad vs autograd.

On scalars numpy's arithmetic costs next to nothing, so the time is almost all the
library's own work per operation: wrapping the value, finding the rule, recording the
node, and on the way back calling one closure per node. The chain
``x = sin(x) * 1.0001``, repeated, makes two primitives per link and a graph as deep as
it is long, which also shows that neither library recurses.

    python benchmarks/op_overhead.py [--links N] [--repeats N]
"""
import _timing   # first: when run as a script, it must set the BLAS threads before numpy loads

if __name__ == "__main__":
    _timing.single_thread_blas()


import autograd
import autograd.numpy as anp

import minigrad as mg
import minigrad.numpy as mnp

GOAL = 0.8           # minigrad time / autograd time
LINKS = 5_000        # two primitives per link: 10,000 operations


def chain_minigrad(x, links):
    for _ in range(links):
        x = mnp.sin(x) * 1.0001
    return x


def chain_autograd(x, links):
    for _ in range(links):
        x = anp.sin(x) * 1.0001
    return x


def run(links=LINKS, repeats=7, clock=None):
    grad_minigrad = mg.grad(chain_minigrad)
    grad_autograd = autograd.grad(chain_autograd)
    x = 0.3
    disagreement = mg.rel_error(grad_minigrad(x, links), grad_autograd(x, links))
    contestants = {
        "minigrad": lambda: grad_minigrad(x, links),
        "autograd": lambda: grad_autograd(x, links),
    }
    times = _timing.interleaved(contestants, repeats=repeats, clock=clock)
    medians = {name: _timing.median(ts) for name, ts in times.items()}
    return {
        "times": medians,
        "per op": {name: t / (2 * links) for name, t in medians.items()},
        "minigrad/autograd": _timing.paired_ratio(times, "minigrad", "autograd"),
        "ops": 2 * links,
        "goal": GOAL,
        "disagreement": disagreement,
    }


def report(result):
    lines = [f"Per-op overhead: grad of a chain of {result['ops']:,} scalar operations"]
    for name, seconds in result["times"].items():
        per_op = _timing.format_seconds(result["per op"][name])
        lines.append(f"  {name:<9} {_timing.format_seconds(seconds):>10} "
                     f"({per_op} per op, forward and backward)")
    ratio = result["minigrad/autograd"]
    lines.append(f"  minigrad / autograd {ratio:.2f}   goal <= {GOAL:.1f}   "
                 f"{_timing.verdict(ratio, GOAL)}")
    lines.append(f"  gradients agree to  {result['disagreement']:.1e} (relative)")
    return "\n".join(lines)


def main(argv=None):
    _timing.command_line(run, report, __doc__, argv, links=LINKS, repeats=7)


if __name__ == "__main__":
    main()
