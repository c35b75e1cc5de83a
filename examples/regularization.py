"""Chapter 14: L1 and L2 regularization narrow the gap between training and test figures.

Trains the book's 2-64-3 spiral network (Adam(learning_rate=0.02, decay=5e-7)) three times
from the same seed: without a penalty, with L2 5e-4 on the hidden layer's weights and biases
(the book's setting) and with L1 5e-4 instead. Prints, per run, the final regularization
loss, accuracy and data loss on the training set and on a fresh test set, and the loss gap.
Run `python examples/regularization.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import evaluate, fit

# Strengths for the hidden layer, as Dense keyword arguments.
PENALTIES = {
    "none": {},
    "L2 5e-4": {"weight_regularizer_l2": 5e-4, "bias_regularizer_l2": 5e-4},
    "L1 5e-4": {"weight_regularizer_l1": 5e-4, "bias_regularizer_l1": 5e-4},
}


def main(*, epochs: int = 10001, samples: int = 100, seed: int = 0) -> None:
    """Train with each penalty and print training vs test accuracy and loss."""
    print(f"spiral_data({samples}, 3), Dense(2, 64) ReLU Dense(64, 3), {epochs} epochs")
    header = f"{'penalty':<10}{'reg_loss':>9}{'train acc':>10}{'loss':>7}"
    print(header + f"{'test acc':>10}{'loss':>7}{'loss gap':>10}")
    for name, strengths in PENALTIES.items():
        manual_seed(seed)  # same data, same initial weights, same test set for every run
        X, y = datasets.spiral_data(samples, 3)
        model = nn.Sequential(nn.Dense(2, 64, **strengths), nn.ReLU(), nn.Dense(64, 3))
        loss_fn = nn.SoftmaxCrossEntropy()
        optimizer = optim.Adam(model.parameters(), learning_rate=0.02, decay=5e-7)
        fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=0, progress=False)
        X_test, y_test = datasets.spiral_data(samples, 3)  # drawn after training, as in the book
        train_loss, train_acc = evaluate(model, loss_fn, X, y)
        test_loss, test_acc = evaluate(model, loss_fn, X_test, y_test)
        reg_loss = nn.regularization_loss(model).item()
        print(
            f"{name:<10}{reg_loss:>9.3f}{train_acc:>10.3f}{train_loss:>7.3f}"
            f"{test_acc:>10.3f}{test_loss:>7.3f}{test_loss - train_loss:>10.3f}"
        )
    print("loss gap = test loss - train loss: the smaller it is, the less the network overfits")


if __name__ == "__main__":
    main()
