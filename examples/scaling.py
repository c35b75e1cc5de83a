"""Chapter 13: scale the features before training, with a scaler fitted on training data only.

The spiral data again, but as if measured in other units: feature 0 is multiplied by 1000
and shifted by 5000, so it spans thousands while feature 1 stays within [-1, 1]. The same
2-64-3 network, with Adam(learning_rate=0.05, decay=5e-7), trains on the raw features and
on features scaled to [-1, 1] by datasets.Scaler. The scaler learns each feature's min and
max from the training set only and is applied unchanged to the test set, so nothing about
the test data leaks into training. The table also counts the hidden ReLUs that output 0 for
every training sample ("dead"): they pass no gradient, so they can never learn again.
Run `python examples/scaling.py`.
"""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import evaluate, fit


def distorted_spiral(samples: int) -> tuple[np.ndarray, np.ndarray]:
    """spiral_data(samples, 3) with feature 0 in the thousands: x0 * 1000 + 5000."""
    X, y = datasets.spiral_data(samples, 3)
    X[:, 0] = X[:, 0] * 1000 + 5000
    return X, y


def value_range(column: np.ndarray) -> str:
    """One feature's minimum and maximum as "[min, max]", to 4 significant digits."""
    return f"[{column.min():.4g}, {column.max():.4g}]"


def main(*, epochs: int = 10001, samples: int = 100, seed: int = 0) -> None:
    """Train on raw and on scaled features; print ranges and train/test accuracy and loss."""
    print(f"spiral_data({samples}, 3) with x0 -> 1000 * x0 + 5000, 2-64-3 network, {epochs} epochs")
    header = f"{'inputs':<8}{'feature 0 range':>18}{'feature 1 range':>18}{'dead ReLUs':>11}"
    print(header + f"{'train acc':>10}{'loss':>7}{'test acc':>9}{'loss':>7}")
    for scale in (False, True):
        manual_seed(seed)  # same data and initial weights for both runs
        X, y = distorted_spiral(samples)
        X_test, y_test = distorted_spiral(samples)
        if scale:
            scaler = datasets.Scaler(feature_range=(-1, 1)).fit(X)  # training data only
            X, X_test = scaler.transform(X), scaler.transform(X_test)
        dense1 = nn.Dense(2, 64)
        model = nn.Sequential(dense1, nn.ReLU(), nn.Dense(64, 3))
        loss_fn = nn.SoftmaxCrossEntropy()
        optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
        fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=0, progress=False)
        train_loss, train_acc = evaluate(model, loss_fn, X, y)
        test_loss, test_acc = evaluate(model, loss_fn, X_test, y_test)
        dead = int(np.sum(~(dense1(X).data > 0).any(axis=0)))
        print(
            f"{'scaled' if scale else 'raw':<8}{value_range(X[:, 0]):>18}{value_range(X[:, 1]):>18}"
            f"{f'{dead}/64':>11}{train_acc:>10.3f}{train_loss:>7.3f}{test_acc:>9.3f}{test_loss:>7.3f}"
        )


if __name__ == "__main__":
    main()
