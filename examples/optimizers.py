"""Chapter 10: the book's optimizers side by side on the spiral data.

Trains the same 2-64-3 network (same seed, so the same data and initial weights) with SGD,
SGD with momentum, Adagrad, RMSprop and Adam at the book's settings, and prints one row per
optimizer with the final training accuracy and loss (the book's epoch-10000 log line).
Run `python examples/optimizers.py`.
"""

from __future__ import annotations

import time

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import fit

# The book's settings for each run in chapter 10 (learning_rate defaults are the book's too).
OPTIMIZERS = {
    "SGD": (optim.SGD, {"decay": 1e-3}),
    "SGD+momentum": (optim.SGD, {"decay": 1e-3, "momentum": 0.9}),
    "Adagrad": (optim.Adagrad, {"decay": 1e-4}),
    "RMSprop": (optim.RMSprop, {"learning_rate": 0.02, "decay": 1e-5, "rho": 0.999}),
    "Adam": (optim.Adam, {"learning_rate": 0.05, "decay": 5e-7}),
}


def main(*, epochs: int = 10001, samples: int = 100, seed: int = 0) -> None:
    """Train one spiral classifier per optimizer and print a table of the final figures."""
    print(f"spiral_data({samples}, 3), Dense(2, 64) ReLU Dense(64, 3), {epochs} epochs")
    print(f"{'optimizer':<14}{'settings':<46}{'acc':>7}{'loss':>8}{'time':>8}")
    loss_fn = nn.SoftmaxCrossEntropy()
    for name, (optimizer_class, settings) in OPTIMIZERS.items():
        manual_seed(seed)  # every optimizer starts from the same data and weights
        X, y = datasets.spiral_data(samples, 3)
        model = nn.Sequential(nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3))
        optimizer = optimizer_class(model.parameters(), **settings)
        start = time.perf_counter()
        history = fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=0, progress=False)
        seconds = time.perf_counter() - start
        options = ", ".join(f"{key}={value}" for key, value in settings.items())
        print(
            f"{name:<14}{options:<46}{history['acc'][-1]:>7.3f}{history['loss'][-1]:>8.3f}"
            f"{seconds:>7.1f}s"
        )


if __name__ == "__main__":
    main()
