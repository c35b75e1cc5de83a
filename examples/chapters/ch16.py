"""Chapter 16: binary logistic regression. The book's final program (Ch16_Final.py).

Two spiral classes, the labels reshaped to a column of 0/1 targets (one sigmoid output per
sample: "is it class 1?"). Dense(2, 64) with an L2 penalty of 5e-4, ReLU, Dense(64, 1),
Sigmoid, binary cross-entropy and Adam(decay=5e-7); accuracy counts outputs on the right
side of 0.5. `fit` prints the book's line every 100 epochs (and the last epoch); then the
book's validation line on a new data set of the two classes.

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch16.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, nn, nnfs_init, optim
from tinygrad_nnfs.train import evaluate, fit


def main(*, epochs: int = 10001, samples: int = 100, dtype: str = "float32"):
    """Train and test the book's binary classifier; return (history, model, validation)."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    X, y = datasets.spiral_data(samples=samples, classes=2)
    y = y.reshape(-1, 1)  # a list of lists: one output (class 1 or not) per sample

    model = nn.Sequential(
        nn.Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dense(64, 1),
        nn.Sigmoid(),
    )
    loss_function = nn.BinaryCrossentropy()
    optimizer = optim.Adam(model.parameters(), decay=5e-7)

    history = fit(model, loss_function, optimizer, X, y, epochs=epochs, progress=False)

    # Validate the model on a test data set drawn after training
    X_test, y_test = datasets.spiral_data(samples=samples, classes=2)
    y_test = y_test.reshape(-1, 1)
    loss, accuracy = evaluate(model, loss_function, X_test, y_test)
    print(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")

    return history, model, {"acc": accuracy, "loss": loss}


if __name__ == "__main__":
    main()
