"""Where the time goes: B1's epoch by phase, B2's step by op (README "Performance").

    python benchmarks/where_time_goes.py     # BLAS pinned to one thread, as in run.py's table

B1: `time.perf_counter` around each phase of the book's spiral epoch, medians over epochs.
B2: timers around every op's forward and backward and the optimizer's step (and its update
rule), totals per step (Affine's include the bias adds and the bias gradients' sums); the
rest is the engine's backward loop, the layers' and losses' checks and Python.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import cases  # noqa: E402

from tinygrad_nnfs import nn, ops  # noqa: E402
from tinygrad_nnfs._tuning import tuned  # noqa: E402
from tinygrad_nnfs.engine import Function  # noqa: E402
from tinygrad_nnfs.optim.optimizer import Optimizer  # noqa: E402

EPOCHS, STEPS, WARMUP = 3000, 200, 20
PHASES = ("model forward", "loss", "regularization_loss", "accuracy", "zero_grad", "backward")


def main() -> None:
    with tuned():  # the process settings fit makes for its runs
        report()


def report() -> None:
    for dtype in ("float32", "float64"):
        print(f"\nB1 spiral epoch, {dtype}, median microseconds per phase:")
        for phase, micros in spiral_phases(dtype).items():
            print(f"  {phase:<22}{micros:>8.1f}")
    print("\nB2 MLP step, float32, microseconds per step:")
    for part, micros in mlp_parts().items():
        print(f"  {part:<32}{micros:>9.1f}")


def spiral_phases(dtype: str) -> dict[str, float]:
    """Median time of each phase of the B1 epoch, in microseconds, and their sum."""
    X, y, rng = cases.spiral_setup(np, dtype)
    model, loss_fn, optimizer = cases.spiral_model(np, dtype, rng)
    samples: dict[str, list[float]] = {phase: [] for phase in (*PHASES, "optimizer step")}
    for epoch in range(EPOCHS + WARMUP):
        stamps = [time.perf_counter()]
        outputs = model(X)
        stamps.append(time.perf_counter())
        loss = loss_fn(outputs, y)
        stamps.append(time.perf_counter())
        penalty = nn.regularization_loss(model)
        if penalty.requires_grad:
            loss = loss + penalty
        stamps.append(time.perf_counter())
        np.mean(np.argmax(outputs.data, axis=1) == y)
        stamps.append(time.perf_counter())
        optimizer.zero_grad()
        stamps.append(time.perf_counter())
        loss.backward()
        stamps.append(time.perf_counter())
        optimizer.step()
        stamps.append(time.perf_counter())
        if epoch >= WARMUP:
            for phase, (start, stop) in zip(samples, itertools.pairwise(stamps), strict=True):
                samples[phase].append(stop - start)
    medians = {phase: float(np.median(times)) * 1e6 for phase, times in samples.items()}
    return {**medians, "sum": sum(medians.values())}


def mlp_parts() -> dict[str, float]:
    """Time per B2 step inside each op's forward/backward and the optimizer's step."""
    X, y = cases.mlp_batches(np)
    step = cases.ours_mlp_step(np, X, y, cases.MLP_SIZES)
    totals: Counter[str] = Counter()
    with _timed(totals):
        for _ in range(WARMUP):
            step()
        totals.clear()
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        whole = time.perf_counter() - start
    rule = sum(seconds for name, seconds in totals.items() if name.endswith("._increment"))
    parts: dict[str, float] = {}
    for name, seconds in totals.most_common():
        if not name.endswith("._increment"):
            parts[name] = seconds / STEPS * 1e6
        if name == "Optimizer.step":
            parts["  of which the update rule"] = rule / STEPS * 1e6
    rest = whole / STEPS * 1e6 - sum(parts.values()) + rule / STEPS * 1e6
    return {**parts, "rest: engine, layers, Python": rest, "whole step": whole / STEPS * 1e6}


@contextmanager
def _timed(totals: Counter[str]) -> Iterator[None]:
    """Accumulate into `totals` the time spent in every op and in the optimizer."""
    targets = [
        (cls, method)
        for cls in vars(ops).values()
        if isinstance(cls, type) and issubclass(cls, Function) and cls is not Function
        for method in ("forward", "backward")
        if method in vars(cls)
    ]
    targets += [(Optimizer, "step")]
    targets += [(cls, "_increment") for cls in _subclasses(Optimizer) if "_increment" in vars(cls)]
    originals = [(cls, method, vars(cls)[method]) for cls, method in targets]
    for cls, method, original in originals:
        setattr(cls, method, _timer(original, f"{cls.__name__}.{method}", totals))
    try:
        yield
    finally:
        for cls, method, original in originals:
            setattr(cls, method, original)


def _timer(fn: Callable[..., Any], name: str, totals: Counter[str]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - start

    return timed


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


if __name__ == "__main__":
    main()
