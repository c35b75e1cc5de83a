"""Chapter 15: dropout, with Dropout(0.1) after the hidden layer vs without.

The book's chapter-15 network (L2 5e-4 on the hidden layer, Adam(learning_rate=0.05,
decay=5e-5)), smaller so it runs in seconds: spiral_data(100, 3) and 64 hidden neurons
by default. Both runs start from the same seed and are scored on the same fresh test set,
drawn from its own stream (dropout masks use the library stream). Training figures are
measured in eval mode (dropout off), as the test figures are, so they compare like with like.
Run `python examples/dropout.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import evaluate, fit


def main(
    *, epochs: int = 10001, samples: int = 100, hidden: int = 64, rate: float = 0.1, seed: int = 0
) -> None:
    """Train with and without dropout and print training vs test accuracy and loss."""
    print(
        f"spiral_data({samples}, 3), Dense(2, {hidden}, l2=5e-4) ReLU [Dropout] Dense({hidden}, 3)"
    )
    print(f"{'model':<16}{'train acc':>10}{'loss':>7}{'test acc':>10}{'loss':>7}{'loss gap':>10}")
    X_test, y_test = datasets.spiral_data(samples, 3, rng=seed + 1)
    gaps = []
    for dropout in (0.0, rate):
        manual_seed(seed)
        X, y = datasets.spiral_data(samples, 3)
        dense1 = nn.Dense(2, hidden, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)
        dropout_layers = [nn.Dropout(dropout)] if dropout else []
        model = nn.Sequential(dense1, nn.ReLU(), *dropout_layers, nn.Dense(hidden, 3))
        loss_fn = nn.SoftmaxCrossEntropy()
        optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-5)
        fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=0, progress=False)
        train_loss, train_acc = evaluate(model, loss_fn, X, y)
        test_loss, test_acc = evaluate(model, loss_fn, X_test, y_test)
        gaps.append(test_loss - train_loss)
        name = f"Dropout({dropout:g})" if dropout else "no dropout"
        print(
            f"{name:<16}{train_acc:>10.3f}{train_loss:>7.3f}"
            f"{test_acc:>10.3f}{test_loss:>7.3f}{gaps[-1]:>10.3f}"
        )
    print(
        f"after {epochs} epochs the test-train loss gap is {gaps[1]:.3f} with dropout and "
        f"{gaps[0]:.3f} without (smaller = less overfitting)"
    )


if __name__ == "__main__":
    main()
