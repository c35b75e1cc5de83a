"""Chapter 16: binary logistic regression, a sigmoid output with binary cross-entropy.

The book's program: two spiral classes with labels reshaped to a column (one output neuron
per sample, answering "is it class 1?"), Dense(2, 64) with L2 5e-4, ReLU, Dense(64, 1),
Sigmoid, BinaryCrossentropy and Adam(decay=5e-7). Prints the book's log lines, then the
book's validation line on a fresh data set. Run `python examples/binary_logistic.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import evaluate, fit


def main(
    *, epochs: int = 10001, samples: int = 100, print_every: int = 1000, seed: int = 0
) -> None:
    """Train the book's binary classifier, then report training and test accuracy."""
    manual_seed(seed)
    X, y = datasets.spiral_data(samples, 2)
    y = y.reshape(-1, 1)  # a column of 0/1 targets: one sigmoid output per sample
    model = nn.Sequential(
        nn.Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dense(64, 1),
        nn.Sigmoid(),
    )
    loss_fn = nn.BinaryCrossentropy()
    optimizer = optim.Adam(model.parameters(), decay=5e-7)
    fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=print_every, progress=False)

    X_test, y_test = datasets.spiral_data(samples, 2)
    y_test = y_test.reshape(-1, 1)
    train_loss, train_acc = evaluate(model, loss_fn, X, y)
    test_loss, test_acc = evaluate(model, loss_fn, X_test, y_test)
    print(f"validation, acc: {test_acc:.3f}, loss: {test_loss:.3f}")
    print(f"{'data':<8}{'acc':>7}{'loss':>8}   (accuracy reads outputs > 0.5 as class 1)")
    print(f"{'train':<8}{train_acc:>7.3f}{train_loss:>8.3f}")
    print(f"{'test':<8}{test_acc:>7.3f}{test_loss:>8.3f}")


if __name__ == "__main__":
    main()
