"""Chapter 11: testing with out-of-sample data shows the spiral classifier overfits.

Trains the book's 2-64-3 network with Adam(learning_rate=0.05, decay=5e-7), then scores it
on a fresh spiral data set drawn from the same distribution, prints the book's
`validation, acc: ..., loss: ...` line and the gap between training and test figures.
Run `python examples/out_of_sample.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import evaluate, fit


def main(
    *, epochs: int = 10001, samples: int = 100, print_every: int = 1000, seed: int = 0
) -> None:
    """Train on one spiral set, test on a new one, print both and the gap."""
    manual_seed(seed)
    X, y = datasets.spiral_data(samples, 3)
    model = nn.Sequential(nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3))
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
    fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=print_every, progress=False)

    X_test, y_test = datasets.spiral_data(samples, 3)  # new points, never seen in training
    train_loss, train_acc = evaluate(model, loss_fn, X, y)
    test_loss, test_acc = evaluate(model, loss_fn, X_test, y_test)
    print(f"validation, acc: {test_acc:.3f}, loss: {test_loss:.3f}")
    print(f"{'data':<10}{'acc':>7}{'loss':>8}")
    print(f"{'train':<10}{train_acc:>7.3f}{train_loss:>8.3f}")
    print(f"{'test':<10}{test_acc:>7.3f}{test_loss:>8.3f}")
    print(f"{'gap':<10}{train_acc - test_acc:>7.3f}{test_loss - train_loss:>8.3f}")
    print("the train-test gap measures overfitting: what the network memorised, not learned")


if __name__ == "__main__":
    main()
