"""Run every benchmark in one process and print the ratios beside their goals.

    python benchmarks/run_all.py            # full sizes, about a minute
    python benchmarks/run_all.py --quick    # tiny sizes: checks that everything runs

The table is also written to benchmarks/results/latest.txt (not committed).
"""
import _timing   # first: when run as a script, it must set the BLAS threads before numpy loads

if __name__ == "__main__":
    _timing.single_thread_blas()

import argparse
import datetime
import os
import pathlib
import platform
import time

import numpy as np

import grad_overhead
import graph_size
import mlp_step
import op_overhead

QUICK = {"batch": 8, "n_in": 12, "n_hidden": 6, "n_out": 3}


def run(quick=False, repeats=None, clock=None):
    sizes = QUICK if quick else {}
    mlp = mlp_step.run(repeats=repeats or (3 if quick else 40), clock=clock, **sizes)
    grad = grad_overhead.run(repeats=repeats or (3 if quick else 40), clock=clock, **sizes)
    ops = op_overhead.run(links=50 if quick else op_overhead.LINKS,
                          repeats=repeats or (3 if quick else 7), clock=clock)
    size = graph_size.run(repeats=repeats or (2 if quick else 5), clock=clock,
                          sizes=(100, 1000) if quick else graph_size.SIZES)
    return mlp, grad, ops, size


def table(mlp, grad, ops, size, quick=False, clock="wall time"):
    pytorch = (mlp["minigrad/pytorch"] if mlp["pytorch"] else None)
    rows = [
        ("MLP loss and gradients: minigrad / hand-written numpy", mlp["minigrad/numpy"],
         mlp_step.GOAL),
        ("MLP loss and gradients: minigrad / PyTorch eager", pytorch, None),
        ("MLP loss and gradients: minigrad / HIPS autograd", mlp["minigrad/autograd"], None),
        ("MLP step with the update: minigrad / numpy", mlp["step minigrad/numpy"], None),
        ("MLP's five matrix products alone: numpy / PyTorch", mlp["products numpy/pytorch"],
         None),
        ("MLP loss: time(grad f) / time(f)", grad["grad/f"], grad_overhead.GOAL),
        (f"per-op overhead ({ops['ops']:,} scalar ops): minigrad / autograd",
         ops["minigrad/autograd"], op_overhead.GOAL),
        (f"time per node, {size['sizes'][1]:,} / {size['sizes'][0]:,} nodes (gc on)",
         size["large/small"], graph_size.GOAL),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'benchmark':<{width}}  measured  goal     ",
             f"{'-' * width}  --------  ---------"]
    for name, value, goal in rows:
        if value is None:
            lines.append(f"{name:<{width}}  {'-':>8}  (PyTorch not installed: "
                         "pip install torch==2.13.0)")
        elif goal is None:
            lines.append(f"{name:<{width}}  {value:8.3f}  (for reference)")
        else:
            verdict = "-" if quick else _timing.verdict(value, goal)
            lines.append(f"{name:<{width}}  {value:8.3f}  <= {goal:<5.2f}  {verdict}")
    if quick:
        lines.append("(--quick: tiny sizes, where overhead dominates; the ratios mean nothing)")
    threads = ", ".join(f"{v}={os.environ.get(v)}" for v in _timing.THREAD_VARIABLES)
    lines += ["",
              "MLP loss and gradients per call: " + ", ".join(
                  f"{k} {_timing.format_seconds(t)}" for k, t in mlp["times"].items()),
              "its five matrix products alone: " + ", ".join(
                  f"{k} {_timing.format_seconds(t)}" for k, t in mlp["product times"].items()),
              "per scalar op (forward + backward): " + ", ".join(
                  f"{k} {_timing.format_seconds(t)}" for k, t in ops["per op"].items()),
              "per node (collector on): " + ", ".join(
                  f"{n:,} nodes {_timing.format_seconds(t)}"
                  for n, t in size["per node"].items()),
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
              f"Python {platform.python_version()}, numpy {np.__version__}, "
              f"{platform.machine()}; {threads}; {clock}"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this process's CPU time instead of wall time "
                             "(steadier on a busy machine)")
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu_time else None
    text = table(*run(quick=args.quick, repeats=args.repeats, clock=clock), quick=args.quick,
                 clock="CPU time" if args.cpu_time else "wall time")
    print(text)
    if not args.quick:
        out = pathlib.Path(__file__).resolve().parent / "results" / "latest.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text + "\n")


if __name__ == "__main__":
    main()
