"""Convolutions against PyTorch: forward + backward of a small CNN on a Fashion-MNIST batch.

    python benchmarks/conv.py            # BLAS and PyTorch pinned to one thread each

A (64, 1, 28, 28) float32 batch through Conv2d(1, 16, 3) -> ReLU -> MaxPool2d(2) ->
Conv2d(16, 32, 3), summed as the loss, then backward to both layers' weights and biases:
ours and PyTorch CPU eager with the same weights, timed side by side in one run (the median
of REPEATS rounds, each the best of STEPS alternating steps), with the ratio.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinygrad_nnfs import Tensor, nn  # noqa: E402

BATCH, REPEATS, STEPS = 64, 7, 10


def contenders(torch) -> dict[str, Callable[[], list[np.ndarray]]]:
    """name -> one forward + backward step, returning the loss and the four gradients."""
    rng = np.random.RandomState(0)
    images = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    conv1, conv2 = nn.Conv2d(1, 16, 3, rng=1), nn.Conv2d(16, 32, 3, rng=2)
    ours = nn.Sequential(conv1, nn.ReLU(), nn.MaxPool2d(2), conv2)
    params = ours.parameters()

    def step_ours() -> list[np.ndarray]:
        ours.zero_grad()
        loss = ours(Tensor(images)).sum()
        loss.backward()
        return [loss.data, *(p.grad.data for p in params)]

    torch.set_num_threads(1)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3),
    )
    with torch.no_grad():
        for layer, conv in ((theirs[0], conv1), (theirs[3], conv2)):
            layer.weight.copy_(torch.from_numpy(conv.weights.data))
            layer.bias.copy_(torch.from_numpy(conv.biases.data))
    tensors = [theirs[0].weight, theirs[0].bias, theirs[3].weight, theirs[3].bias]
    batch = torch.from_numpy(images)

    def step_theirs() -> list[np.ndarray]:
        theirs.zero_grad()
        loss = theirs(batch).sum()
        loss.backward()
        return [loss.detach().numpy(), *(t.grad.numpy() for t in tensors)]

    return {"ours": step_ours, "pytorch": step_theirs}


def timings(steps: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median over REPEATS of the best of STEPS runs of each step, interleaved, in ms."""
    best: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm up caches and allocators
        step()
    for _ in range(REPEATS):
        round_best = dict.fromkeys(steps, float("inf"))
        for _ in range(STEPS):
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                round_best[name] = min(round_best[name], time.perf_counter() - start)
        for name, seconds in round_best.items():
            best[name].append(seconds * 1e3)
    return {name: float(np.median(values)) for name, values in best.items()}


def main() -> None:
    import torch

    steps = contenders(torch)
    times = timings(steps)
    print(
        f"conv benchmark: ({BATCH}, 1, 28, 28) float32, Conv2d(1, 16, 3) -> ReLU -> "
        f"MaxPool2d(2) -> Conv2d(16, 32, 3), forward + backward, one thread"
    )
    for name, ms in times.items():
        print(f"  {name:<8}{ms:8.2f} ms")
    print(f"  ratio   {times['ours'] / times['pytorch']:8.2f}x PyTorch CPU eager")


if __name__ == "__main__":
    main()
