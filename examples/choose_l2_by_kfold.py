"""Chapter 12: choose the L2 strength by 5-fold cross-validation, then test once.

The book's chapter 12 warns against tuning hyper-parameters on the test data: tune them on
validation data carved out of the training set, and with little data, cross-validate. Here
the training set is cut into k folds (datasets.kfold); for each L2 strength on the hidden
layer, k networks each train on k - 1 folds and are scored on the fold they did not see.
The strength with the best mean validation accuracy then trains on the whole training set,
and only that model meets the test set, drawn once up front and left untouched until then.
Run `python examples/choose_l2_by_kfold.py`.
"""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import evaluate, fit

STRENGTHS = (0.0, 1e-4, 5e-4, 1e-3, 5e-3)
LOSS_FN = nn.SoftmaxCrossEntropy()


def train(X: np.ndarray, y: np.ndarray, strength: float, epochs: int, seed: int) -> nn.Module:
    """The spiral network with L2 `strength` on the hidden layer, trained on (X, y)."""
    rng = np.random.RandomState(seed)  # same initial weights for every strength
    model = nn.Sequential(
        nn.Dense(2, 64, weight_regularizer_l2=strength, bias_regularizer_l2=strength, rng=rng),
        nn.ReLU(),
        nn.Dense(64, 3, rng=rng),
    )
    optimizer = optim.Adam(model.parameters(), learning_rate=0.02, decay=5e-7)
    fit(model, LOSS_FN, optimizer, X, y, epochs=epochs, print_every=0, progress=False)
    return model


def main(*, epochs: int = 2001, samples: int = 100, k: int = 5, seed: int = 0) -> None:
    """Print mean +- std validation accuracy per strength, then the chosen model's test score."""
    manual_seed(seed)
    X, y = datasets.spiral_data(samples, 3)
    X_test, y_test = datasets.spiral_data(samples, 3)  # set aside until the very end
    folds = list(datasets.kfold(len(X), k))
    print(f"{k}-fold cross-validation on spiral_data({samples}, 3), {epochs} epochs per fit")
    print(f"{'L2 strength':<12}{'val acc':>9}{'std':>8}{'val loss':>10}")
    mean_accuracy = {}
    for strength in STRENGTHS:
        scores = []  # (loss, accuracy) on each held-out fold
        for fold, (fit_idx, val_idx) in enumerate(folds):
            model = train(X[fit_idx], y[fit_idx], strength, epochs, seed + fold)
            scores.append(evaluate(model, LOSS_FN, X[val_idx], y[val_idx]))
        losses, accuracies = np.array(scores).T
        mean_accuracy[strength] = accuracies.mean()
        print(
            f"{strength:<12g}{accuracies.mean():>9.3f}{accuracies.std():>8.3f}{losses.mean():>10.3f}"
        )
    best = max(mean_accuracy, key=mean_accuracy.get)  # first (weakest) wins a tie
    model = train(X, y, best, epochs, seed)
    test_loss, test_acc = evaluate(model, LOSS_FN, X_test, y_test)
    print(f"best L2 strength {best:g}: trained on all {len(X)} training samples,")
    print(f"out-of-sample test acc: {test_acc:.3f}, loss: {test_loss:.3f}")


if __name__ == "__main__":
    main()
