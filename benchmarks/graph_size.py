"""Time per node as the graph grows: 10,000 against 100,000 nodes, garbage collector on.

Reverse mode is linear in the size of the program: the forward pass records one node per
operation and the backward pass visits each node once. Python's cyclic garbage collector
can break that: a trace allocates many small objects and frees none of them until it
ends, and the collector re-scans the survivors every few hundred allocations, so the
cost per node would grow with the graph. minigrad pauses the collector while it records
and walks a graph (its graphs have no reference cycles, so reference counting frees
them). This benchmark keeps the collector on, as a user's session has it, and reports
the time per node at both sizes; linear means a ratio near 1.

    python benchmarks/graph_size.py [--repeats N]
"""
import _timing   # first: when run as a script, it must set the BLAS threads before numpy loads

if __name__ == "__main__":
    _timing.single_thread_blas()

import gc

import minigrad as mg
from op_overhead import chain_minigrad

GOAL = 1.25          # time per node at 100k nodes / time per node at 10k nodes
SIZES = (10_000, 100_000)


def run(repeats=5, clock=None, sizes=SIZES):
    gc.enable()
    grad = mg.grad(chain_minigrad)
    # Two primitives per link: `links` = nodes / 2.
    contestants = {n: (lambda n=n: grad(0.3, n // 2)) for n in sizes}
    times = _timing.interleaved(contestants, repeats=repeats, clock=clock)
    per_node = {n: _timing.median(ts) / n for n, ts in times.items()}
    small, large = sizes
    return {"per node": per_node, "large/small": per_node[large] / per_node[small],
            "goal": GOAL, "sizes": sizes}


def report(result):
    small, large = result["sizes"]
    lines = ["Time per node of grad on a chain of scalar operations (collector on)"]
    for n, t in result["per node"].items():
        lines.append(f"  {n:>7,} nodes  {_timing.format_seconds(t):>10} per node")
    ratio = result["large/small"]
    lines.append(f"  {large:,} / {small:,} per node  {ratio:.3f}   goal <= {GOAL:.2f}   "
                 f"{_timing.verdict(ratio, GOAL)}")
    return "\n".join(lines)


def main(argv=None):
    _timing.command_line(run, report, __doc__, argv, repeats=5)


if __name__ == "__main__":
    main()
