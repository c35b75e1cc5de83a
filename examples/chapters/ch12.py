"""Chapter 12: validation data. The book prints no program for this chapter.

The chapter's idea, on chapter 11's spiral classifier: tune hyper-parameters on validation
data, never on the test data. Here (1) a fifth of the training data is held out
(datasets.train_val_split) and fit reports validation accuracy and loss on it in its log;
(2) with little data, k-fold cross-validation (datasets.kfold): k networks, each trained on
k - 1 folds and scored on the fold it did not see, their mean the estimate; (3) only then
the test data, drawn fresh, scores the model trained on all the training data, once.
Run `python examples/chapters/ch12.py`.
"""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs import datasets, nn, nnfs_init, optim
from tinygrad_nnfs.train import evaluate, fit

LOSS = nn.SoftmaxCrossEntropy()


def train(X: np.ndarray, y: np.ndarray, epochs: int, **options) -> nn.Module:
    """Chapter 11's network and optimizer, trained on (X, y) by fit with `options`."""
    model = nn.Sequential(nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
    fit(model, LOSS, optimizer, X, y, epochs=epochs, progress=False, **options)
    return model


def main(*, epochs: int = 2001, samples: int = 100, k: int = 5, print_every: int = 500):
    """Hold-out validation, k-fold cross-validation, one test; return the k fold scores."""
    nnfs_init()
    X, y = datasets.spiral_data(samples=samples, classes=3)

    # (1) Hold out a validation set: fit appends its figures to the log line
    X_train, y_train, X_val, y_val = datasets.train_val_split(X, y, val_fraction=0.2)
    train(X_train, y_train, epochs, validation_data=(X_val, y_val), print_every=print_every)

    # (2) k-fold cross-validation on all the training data
    scores = []
    for fold, (train_idx, val_idx) in enumerate(datasets.kfold(len(X), k=k)):
        model = train(X[train_idx], y[train_idx], epochs, print_every=0)
        loss, accuracy = evaluate(model, LOSS, X[val_idx], y[val_idx])
        print(f"fold {fold + 1}/{k}: validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
        scores.append((accuracy, loss))
    accuracies, losses = np.array(scores).T
    print(f"{k}-fold mean: acc: {accuracies.mean():.3f} (std {accuracies.std():.3f})")
    print(f"{k}-fold mean: loss: {losses.mean():.3f}")

    # (3) The test data, drawn now, once, for the model trained on all the training data
    model = train(X, y, epochs, print_every=0)
    X_test, y_test = datasets.spiral_data(samples=samples, classes=3)
    loss, accuracy = evaluate(model, LOSS, X_test, y_test)
    print(f"test, acc: {accuracy:.3f}, loss: {loss:.3f}")
    return scores


if __name__ == "__main__":
    main()
