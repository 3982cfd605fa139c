"""Timing shared by the benchmarks: contestants interleaved within one run, medians.

Why interleave?  On a shared machine the speed drifts (other jobs, CPU frequency,
caches). Timing contestant A for a minute and then B for a minute lets that drift land
on one of them. Alternating them repetition by repetition, and rotating who goes first,
exposes both to the same conditions; the ratio of each repetition's pair is then taken,
and the median of those ratios ignores the odd repetition that was interrupted.

Why an untimed call before each timed one?  A call's time depends on what ran just
before it: the caches, the allocator's free lists and the garbage collector's counts are
left as the previous call left them. With a fixed rotation every contestant always
follows the same other one (in a rotation of A, B, C, D, B runs right after A in three
repetitions of four), so one of them is always timed on a neighbour's warm caches and
another always pays a neighbour's debts. Each timed call is therefore preceded by an
untimed call of the same contestant: every contestant is timed in the state it leaves
itself in, as in a training loop that calls it again and again.

Why one BLAS thread?  The MLP step is mostly matrix products. With several threads its
time depends on how many cores happen to be free, and the ratios would measure the
machine rather than the library's overhead. This module must be imported, and
`single_thread_blas()` called, before numpy is imported: BLAS reads the variables once,
when it loads.
"""
import os
import statistics
import time

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_thread_blas():
    """Ask every BLAS numpy may use for one thread (call before importing numpy)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"


def interleaved(contestants, repeats=15, number=1, warmup=1, clock=None):
    """Time each zero-argument callable in `contestants` (name -> callable).

    Every repetition runs each contestant once untimed and then `number` times timed, in
    an order rotated by one each repetition. Returns name -> list of seconds per call,
    one per repetition.
    `clock` is wall time by default; `time.process_time` (CPU time of this process)
    leaves out the time other jobs hold the core, on a busy machine.
    """
    clock = clock or time.perf_counter
    names = list(contestants)
    for fun in contestants.values():
        for _ in range(warmup):
            fun()
    times = {name: [] for name in names}
    for rep in range(repeats):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            fun = contestants[name]
            fun()                       # untimed: the timed call follows one of its own
            start = clock()
            for _ in range(number):
                fun()
            times[name].append((clock() - start) / number)
    return times


def median(times):
    return statistics.median(times)


def paired_ratio(times, numerator, denominator):
    """Median over repetitions of time[numerator] / time[denominator] in the same repetition."""
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


def verdict(value, goal):
    return "ok" if value <= goal else "MISSED"


def format_seconds(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def command_line(run, report, doc, argv=None, **int_options):
    """The `main` of a benchmark script: its integer options (with defaults) become
    `--name` flags passed to `run`; the report is printed."""
    import argparse
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in int_options.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    print(report(run(**vars(parser.parse_args(argv)))))
