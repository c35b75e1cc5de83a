"""Sweep speed: 8 spiral experiments, sequential vs joblib's loky pool of 2 workers.

    python benchmarks/sweep.py               # the book's 10,001 epochs per experiment
    python benchmarks/sweep.py --epochs 2001 --repeats 1

The 8 experiments are chapter 10's four optimizers at the book's settings, each without and
with L2 5e-4 on the hidden layer (sweep.book_experiment, 3 x 100 spiral points). A time is
one end-to-end sweep.run, the loky pool's start included (idle workers stop after 10 s, less
than a sequential run of the book's epochs takes); the backends take turns, the medians are
reported, and the records of every run are checked to be identical. The goal on a 2-core
machine: loky <= 0.6x sequential. A machine busy with other work slows the medians more
than the fastest runs, which are printed too. Never collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from tinygrad_nnfs import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10001, help="epochs per experiment")
    parser.add_argument("--n-jobs", type=int, default=2, help="loky workers")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each backend")
    args = parser.parse_args()
    configs = sweep.grid(
        optimizer=list(sweep.OPTIMIZERS), l2=[0.0, 5e-4], epochs=[args.epochs], samples=[100]
    )
    print(
        f"{len(configs)} spiral experiments of {args.epochs} epochs on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()})"
    )
    runs = (("sequential", 1), ("loky", args.n_jobs))
    seconds: dict[str, list[float]] = {backend: [] for backend, _ in runs}
    reference = None
    for _ in range(args.repeats):
        for backend, n_jobs in runs:
            start = time.perf_counter()
            result = sweep.run(
                sweep.book_experiment, configs, backend=backend, n_jobs=n_jobs, progress=False
            )
            seconds[backend].append(time.perf_counter() - start)
            reference = reference or result.records
            assert result.records == reference, f"{backend} disagrees with the first run"
    medians = {backend: statistics.median(times) for backend, times in seconds.items()}
    for backend, n_jobs in runs:
        times = ", ".join(f"{value:.2f}" for value in seconds[backend])
        print(f"{backend:<10} n_jobs={n_jobs}: median {medians[backend]:6.2f} s ({times})")
    ratio = medians["loky"] / medians["sequential"]
    fastest = min(seconds["loky"]) / min(seconds["sequential"])
    print(f"loky / sequential: {ratio:.2f}x of the medians, {fastest:.2f}x of the fastest runs")
    print(result.table("val_acc"))


if __name__ == "__main__":
    main()
