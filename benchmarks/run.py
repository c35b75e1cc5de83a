"""Benchmarks: tinygrad_nnfs against the book's hand-written NumPy (and PyTorch when installed).

    python benchmarks/run.py               # two tables: BLAS pinned to 1 thread, then default
    python benchmarks/run.py --threads 1   # one table

Each benchmark times its contenders side by side in one process, interleaved, and reports
the median of several repeats, with the ratio to the hand-written NumPy baseline measured
in the same run (lower is better). Never collected by pytest.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    parser = argparse.ArgumentParser(description="tinygrad_nnfs benchmarks")
    parser.add_argument("--threads", choices=["1", "default"], help="run one table only")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per contender")
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)  # one B2 contender, alone
    args = parser.parse_args()
    if args.rss_of:
        sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
        import cases

        print(cases.mlp_peak_rss(args.rss_of))
        return
    if args.threads is None:  # thread counts are fixed at BLAS load: one process per table
        for threads in ("1", "default"):
            env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
            if threads == "1":
                env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
            script = [
                sys.executable,
                __file__,
                "--threads",
                threads,
                "--repeats",
                str(args.repeats),
            ]
            subprocess.run(script, env=env, check=True)
        return
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from tinygrad_nnfs._tuning import tuned

    with tuned():  # the process settings fit makes for its runs, for every contender alike
        run_table(args.threads, args.repeats)


def run_table(threads: str, repeats: int) -> None:
    import numpy as np

    torch = _import_torch()
    if torch is not None and threads == "1":
        torch.set_num_threads(1)
    versions = f"NumPy {np.__version__}" + (f", torch {torch.__version__}" if torch else "")
    print(
        f"\n## BLAS threads: {threads} ({os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, {versions})\n"
    )
    print(f"{'benchmark':<34}{'contender':<12}{'time':>14}{'vs numpy':>10}")
    import cases

    for title, contenders, unit, number in cases.all_cases(np, torch):
        times = median_times(contenders, number, repeats)
        for name, seconds in times.items():
            ratio = seconds / times["numpy"]
            print(f"{title:<34}{name:<12}{seconds / unit[0]:>11.3f} {unit[1]:<3}{ratio:>9.2f}x")
            title = ""
    for line in cases.deep_chain_report(np, torch):
        print(line)
    peaks = []
    for name in ("numpy", "ours", *(["torch"] if torch else [])):
        script = [sys.executable, __file__, "--rss-of", name]
        peak = subprocess.run(script, capture_output=True, text=True, check=True).stdout
        peaks.append(f"{name} {float(peak) / 2**20:.0f} MiB")
    print(
        "B2 peak RSS added by 50 steps (data included), each alone in a fresh process: "
        + ", ".join(peaks)
    )


def median_times(
    contenders: dict[str, Callable[[], object]], number: int, repeats: int
) -> dict[str, float]:
    """Median seconds per call of each contender, timed round-robin so drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():
        fn()  # warm up caches, lazy state and allocations
    for _ in range(repeats):
        for name, fn in contenders.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(times) for name, times in samples.items()}


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


if __name__ == "__main__":
    main()
