"""Chapter 14: L1 and L2 regularization. The book's final program (Ch14_Final.py).

The spiral classifier with an L2 penalty of 5e-4 on the first layer's weights and biases,
trained with Adam(learning_rate=0.02, decay=5e-7), then tested on a new spiral data set.
`fit` runs the book's loop: forward, data loss + `nn.regularization_loss(model)` (the book's
regularization_loss of each layer, summed), backward, update; it prints the book's line
`epoch: N, acc: A, loss: L (data_loss: D, reg_loss: R), lr: LR` every 100 epochs (and the
last epoch). `evaluate` is the book's validation pass: forward, data loss and accuracy.

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch14.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, nn, nnfs_init, optim
from tinygrad_nnfs.train import evaluate, fit


def main(*, epochs: int = 10001, samples: int = 100, dtype: str = "float32"):
    """Train and test the book's network; return (history, model, validation)."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    X, y = datasets.spiral_data(samples=samples, classes=3)

    model = nn.Sequential(
        nn.Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dense(64, 3),
    )
    loss_activation = nn.SoftmaxCrossEntropy()  # softmax and cross-entropy, fused
    optimizer = optim.Adam(model.parameters(), learning_rate=0.02, decay=5e-7)

    history = fit(model, loss_activation, optimizer, X, y, epochs=epochs, progress=False)

    # Validate the model on a test data set drawn after training
    X_test, y_test = datasets.spiral_data(samples=samples, classes=3)
    loss, accuracy = evaluate(model, loss_activation, X_test, y_test)
    print(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")

    return history, model, {"acc": accuracy, "loss": loss}


if __name__ == "__main__":
    main()
