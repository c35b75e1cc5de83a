"""Chapter 15: dropout. The book's final program (Ch15_Final.py).

The spiral classifier on 1,000 samples per class, with an L2 penalty of 5e-4 on the first
layer and a Dropout(0.1) layer after its ReLU (in training it zeroes a tenth of the
outputs, drawn anew each epoch, and scales the rest by 1 / 0.9), trained with
Adam(learning_rate=0.05, decay=5e-5); then tested on a new spiral data set of 100 samples
per class. `fit` prints the book's line every 100 epochs (and the last epoch); `evaluate`
runs the model in eval mode, where Dropout passes its inputs through, as the book's
validation pass leaves the dropout layer out.

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch15.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, nn, nnfs_init, optim
from tinygrad_nnfs.train import evaluate, fit


def main(
    *, epochs: int = 10001, samples: int = 1000, test_samples: int = 100, dtype: str = "float32"
):
    """Train and test the book's network; return (history, model, validation)."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    X, y = datasets.spiral_data(samples=samples, classes=3)

    model = nn.Sequential(
        nn.Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Dense(64, 3),
    )
    loss_activation = nn.SoftmaxCrossEntropy()  # softmax and cross-entropy, fused
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-5)

    history = fit(model, loss_activation, optimizer, X, y, epochs=epochs, progress=False)

    # Validate the model on a test data set drawn after training
    X_test, y_test = datasets.spiral_data(samples=test_samples, classes=3)
    loss, accuracy = evaluate(model, loss_activation, X_test, y_test)
    print(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")

    return history, model, {"acc": accuracy, "loss": loss}


if __name__ == "__main__":
    main()
